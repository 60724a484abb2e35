//! One row is an entry of a ticket's event log: what happened, who did it and when.

use super::enums::ParticipantType;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_event_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub site_id: Uuid,
    pub ticket_id: i64,
    pub r#type: String,
    pub created_by_id: Option<Uuid>,
    pub created_by_type: Option<ParticipantType>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub detail: Option<Json>,
    pub time: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
