//! One row is an agent mentioned in a note (an internal message) of a ticket, with whether
//! that agent has read the mention.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "note_mentions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub site_id: Uuid,
    pub note_id: Uuid,
    pub agent_id: Uuid,
    pub ticket_id: i64,
    pub is_read_by_agent: bool,
    pub created_time: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
