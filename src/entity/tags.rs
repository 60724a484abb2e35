//! One row is a tag of a site's vocabulary, attachable to tickets.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub site_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub created_time: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
