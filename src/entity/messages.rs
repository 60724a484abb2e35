//! One row is a message of a ticket: a reply in its correspondence, or an internal note
//! (`is_internal`), with its delivery state.

use super::enums::ParticipantType;
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub site_id: Uuid,
    pub ticket_id: i64,
    pub parent_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub original_id: Option<String>,
    pub sent_by_id: Option<Uuid>,
    pub sent_by_type: Option<ParticipantType>,
    pub time: DateTimeUtc,
    pub r#type: String,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub metadata: Option<Json>,
    #[sea_orm(column_type = "Text", nullable)]
    pub channel_id: Option<String>,
    pub channel_account_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    #[sea_orm(column_type = "Text")]
    pub translated_body: String,
    pub if_display_in_ticket_correspondences: bool,
    pub is_original_sent_to_contact: bool,
    pub show_inline_image: bool,
    pub is_read: bool,
    pub is_internal: bool,
    pub delivery_status: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub delivery_fail_reason: Option<String>,
    pub delivery_time: Option<DateTimeUtc>,
    pub delivery_group_id: Option<Uuid>,
    pub delivery_order_num: Option<i32>,
    pub created_time: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
