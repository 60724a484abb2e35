//! One row is an agent: a person who works tickets in a site.

use super::enums::AgentRole;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub site_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    #[sea_orm(column_type = "Text")]
    pub email: String,
    pub role: AgentRole,
    pub is_active: bool,
    pub language: String,
    pub created_time: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
