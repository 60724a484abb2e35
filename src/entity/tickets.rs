//! One row is a ticket: a customer conversation with its assignment, status and reply
//! statistics. Polymorphic references carry their kind in the matching `*_type` column.

use super::enums::{AssigneeType, ParticipantType, Priority, ReplyingAgent, TicketStatus};
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub site_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub original_conversation_id: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub assignee_type: Option<AssigneeType>,
    pub department_assignee_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub channel_id: String,
    pub channel_account_id: Option<Uuid>,
    pub last_message_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_message_channel_id: Option<String>,
    pub last_message_channel_account_id: Option<Uuid>,
    pub contact_or_visitor_id: Option<Uuid>,
    pub contact_or_visitor_type: Option<ParticipantType>,
    pub created_by_id: Option<Uuid>,
    pub created_by_type: Option<ParticipantType>,
    pub last_replied_by_id: Option<Uuid>,
    pub last_replied_by_type: Option<ParticipantType>,
    pub resolved_by_id: Option<Uuid>,
    pub resolved_by_type: Option<ParticipantType>,
    pub status: TicketStatus,
    pub priority: Priority,
    pub is_read_by_agent: bool,
    pub is_read_by_contact: bool,
    pub if_has_draft: bool,
    pub merged_to_target_id: Option<i64>,
    pub total_replies: i32,
    pub created_time: DateTimeUtc,
    pub last_updated_time: DateTimeUtc,
    pub last_replied_time: Option<DateTimeUtc>,
    pub last_status_changed_time: Option<DateTimeUtc>,
    pub resolved_time: Option<DateTimeUtc>,
    pub is_in_recycle_bin: bool,
    pub reopened_time: Option<DateTimeUtc>,
    pub contact_language: String,
    pub agent_language: String,
    pub auto_translation_status: bool,
    pub response_time_span: i64,
    pub replying_agent: ReplyingAgent,
    pub response_count: i64,
    pub resolved_time_span: Option<i64>,
    pub first_response_time_span: Option<i64>,
    /// Bumped by every change to the row (see `before_save`); the REST ETag.
    pub version: i64,
}

#[async_trait::async_trait]
impl ActiveModelBehavior for ActiveModel {
    /// Every update of a ticket through its model counts as a new version, so no write path
    /// can forget to bump it. The row is read under the write lock first, so the count is exact.
    async fn before_save<C>(mut self, _db: &C, insert: bool) -> Result<Self, DbErr>
    where
        C: ConnectionTrait,
    {
        if !insert && let Some(v) = self.version.try_as_ref().copied() {
            self.version = sea_orm::ActiveValue::Set(v + 1);
        }
        Ok(self)
    }
}
