//! One row is a chatbot: a bot that can be assigned tickets and reply to them.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "chatbots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub site_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    pub is_active: bool,
    pub created_time: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
