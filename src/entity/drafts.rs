//! One row is the reply draft of a ticket (at most one per ticket).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "drafts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_id: i64,
    pub site_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub r#type: String,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub metadata: Option<Json>,
    pub last_updated_by_id: Option<Uuid>,
    pub last_updated_time: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
