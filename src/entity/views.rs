//! One row is a view: a saved ticket filter, shared or private to the agent who created it.

use super::enums::ConditionMetType;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "views")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub site_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub is_private: bool,
    pub created_by_id: Option<Uuid>,
    pub condition_met_type: ConditionMetType,
    pub created_time: DateTimeUtc,
    pub last_updated_time: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
