//! One row is a site: a tenant of the helpdesk that owns all other site-scoped rows.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub created_time: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
