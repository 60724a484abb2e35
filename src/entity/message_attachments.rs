//! One row is a file attached to a message, at its position in the message's attachment list.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "message_attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub site_id: Uuid,
    pub message_id: Uuid,
    pub position: i32,
    #[sea_orm(column_type = "Text")]
    pub file_key: String,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub size: i64,
    pub r#type: String,
    #[sea_orm(column_type = "Text")]
    pub url: String,
}

impl ActiveModelBehavior for ActiveModel {}
