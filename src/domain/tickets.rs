//! Creating and reading tickets.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{Principal, now, optional_text, required_text};
use crate::entity::*;
use crate::{Error, Result};

pub const SUBJECT_MAX: usize = 1000;
const SHORT_TEXT_MAX: usize = 200;

/// What a caller gives to open a ticket. References are checked against the caller's site.
#[derive(Debug, Clone, Default)]
pub struct NewTicket {
    pub subject: String,
    pub channel_id: String,
    pub contact_or_visitor_id: Uuid,
    pub contact_or_visitor_type: Option<ParticipantType>,
    pub original_conversation_id: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub assignee_type: Option<AssigneeType>,
    pub department_assignee_id: Option<Uuid>,
    pub channel_account_id: Option<Uuid>,
    pub created_by_id: Option<Uuid>,
    pub created_by_type: Option<ParticipantType>,
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub contact_language: Option<String>,
    pub agent_language: Option<String>,
    pub auto_translation_status: Option<bool>,
}

pub async fn get(db: &DatabaseConnection, actor: &Principal, id: i64) -> Result<tickets::Model> {
    actor
        .find::<tickets::Entity>()
        .filter(tickets::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found(format_args!("ticket {id}")))
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewTicket,
) -> Result<tickets::Model> {
    let subject = required_text("subject", &input.subject, SUBJECT_MAX)?;
    let channel_id = required_text("channelId", &input.channel_id, SHORT_TEXT_MAX)?;
    for (field, value) in [
        ("originalConversationId", &input.original_conversation_id),
        ("contactLanguage", &input.contact_language),
        ("agentLanguage", &input.agent_language),
    ] {
        optional_text(field, value.as_deref().unwrap_or(""), SHORT_TEXT_MAX)?;
    }
    let contact_type = input
        .contact_or_visitor_type
        .unwrap_or(ParticipantType::Contact);
    // An assignee type alone, with no assignee, means nothing: keep neither.
    let assignee_type = input
        .assignee_id
        .map(|_| input.assignee_type.unwrap_or(AssigneeType::Agent));
    let (created_by_id, created_by_type) = match input.created_by_id {
        Some(id) => (id, input.created_by_type.unwrap_or(ParticipantType::Agent)),
        None => (actor.agent_id, ParticipantType::Agent),
    };
    let status = input.status.unwrap_or(TicketStatus::New);

    let txn = crate::db::begin_write(db).await?;
    check_participant(
        &txn,
        actor,
        "contactOrVisitorId",
        contact_type,
        input.contact_or_visitor_id,
    )
    .await?;
    if let (Some(id), Some(kind)) = (input.assignee_id, assignee_type) {
        let participant = match kind {
            AssigneeType::Agent => ParticipantType::Agent,
            AssigneeType::Chatbot => ParticipantType::Chatbot,
        };
        check_participant(&txn, actor, "assigneeId", participant, id).await?;
    }
    if let Some(id) = input.department_assignee_id {
        check_exists::<departments::Entity>(
            &txn,
            actor,
            "departmentAssigneeId",
            departments::Column::Id,
            id,
        )
        .await?;
    }

    let at = now();
    let ticket = tickets::ActiveModel {
        site_id: Set(actor.site_id),
        subject: Set(subject),
        original_conversation_id: Set(input.original_conversation_id),
        assignee_id: Set(input.assignee_id),
        assignee_type: Set(assignee_type),
        department_assignee_id: Set(input.department_assignee_id),
        channel_id: Set(channel_id),
        channel_account_id: Set(input.channel_account_id),
        last_message_id: Set(None),
        last_message_channel_id: Set(None),
        last_message_channel_account_id: Set(None),
        contact_or_visitor_id: Set(Some(input.contact_or_visitor_id)),
        contact_or_visitor_type: Set(Some(contact_type)),
        created_by_id: Set(Some(created_by_id)),
        created_by_type: Set(Some(created_by_type)),
        last_replied_by_id: Set(None),
        last_replied_by_type: Set(None),
        resolved_by_id: Set(None),
        resolved_by_type: Set(None),
        status: Set(status),
        priority: Set(input.priority.unwrap_or(Priority::Normal)),
        is_read_by_agent: Set(false),
        is_read_by_contact: Set(false),
        if_has_draft: Set(false),
        merged_to_target_id: Set(None),
        total_replies: Set(0),
        created_time: Set(at),
        last_updated_time: Set(at),
        last_replied_time: Set(None),
        last_status_changed_time: Set(Some(at)),
        resolved_time: Set(None),
        is_in_recycle_bin: Set(false),
        reopened_time: Set(None),
        contact_language: Set(input.contact_language.unwrap_or_default()),
        agent_language: Set(input.agent_language.unwrap_or_default()),
        auto_translation_status: Set(input.auto_translation_status.unwrap_or(false)),
        response_time_span: Set(0),
        replying_agent: Set(ReplyingAgent::NoReply),
        response_count: Set(0),
        resolved_time_span: Set(None),
        first_response_time_span: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    log_event(
        &txn,
        actor,
        ticket.id,
        "created",
        json!({ "status": status }),
    )
    .await?;
    txn.commit().await?;
    Ok(ticket)
}

/// Reads a ticket of the caller's site inside a write transaction and locks its row until the
/// transaction ends (`FOR UPDATE` on PostgreSQL; on SQLite the `BEGIN IMMEDIATE` write lock
/// already serialises writers), so read-modify-write of its counters cannot lose updates.
pub(crate) async fn lock(
    txn: &DatabaseTransaction,
    actor: &Principal,
    id: i64,
) -> Result<tickets::Model> {
    actor
        .find::<tickets::Entity>()
        .filter(tickets::Column::Id.eq(id))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| Error::not_found(format_args!("ticket {id}")))
}

/// Keeps a ticket's derived fields true after a message or note was added to it: the last
/// message and its channel, who replied and when, the reply count, the update time.
/// `ticket` must have been read with [`lock`] in the same transaction.
pub(crate) async fn record_message(
    txn: &DatabaseTransaction,
    ticket: tickets::Model,
    message: &messages::Model,
) -> Result<tickets::Model> {
    let mut t: tickets::ActiveModel = ticket.clone().into();
    t.last_message_id = Set(Some(message.id));
    t.last_message_channel_id = Set(message.channel_id.clone());
    t.last_message_channel_account_id = Set(message.channel_account_id);
    if !message.is_internal {
        t.total_replies = Set(ticket.total_replies + 1);
        t.last_replied_by_id = Set(message.sent_by_id);
        t.last_replied_by_type = Set(message.sent_by_type);
        t.last_replied_time = Set(Some(message.time));
    }
    t.last_updated_time = Set(now());
    Ok(t.update(txn).await?)
}

/// Stamps a ticket as changed now, with other changes already set on `t`.
pub(crate) async fn save(
    txn: &DatabaseTransaction,
    mut t: tickets::ActiveModel,
) -> Result<tickets::Model> {
    t.last_updated_time = Set(now());
    Ok(t.update(txn).await?)
}

/// Appends to a ticket's event log, as the acting agent.
pub(crate) async fn log_event(
    db: &impl ConnectionTrait,
    actor: &Principal,
    ticket_id: i64,
    kind: &str,
    detail: serde_json::Value,
) -> Result<()> {
    ticket_event_logs::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        ticket_id: Set(ticket_id),
        r#type: Set(kind.to_owned()),
        created_by_id: Set(Some(actor.agent_id)),
        created_by_type: Set(Some(ParticipantType::Agent)),
        detail: Set(Some(detail)),
        time: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A reference to a party must name a record of the caller's site. Kinds with no table of
/// their own (system, channel account, campaign) name something outside deskgraph and pass.
async fn check_participant(
    db: &impl ConnectionTrait,
    actor: &Principal,
    field: &str,
    kind: ParticipantType,
    id: Uuid,
) -> Result<()> {
    match kind {
        ParticipantType::Contact => {
            check_exists::<contacts::Entity>(db, actor, field, contacts::Column::Id, id).await
        }
        ParticipantType::Visitor => {
            check_exists::<visitors::Entity>(db, actor, field, visitors::Column::Id, id).await
        }
        ParticipantType::Agent => {
            check_exists::<agents::Entity>(db, actor, field, agents::Column::Id, id).await
        }
        ParticipantType::Chatbot => {
            check_exists::<chatbots::Entity>(db, actor, field, chatbots::Column::Id, id).await
        }
        ParticipantType::ChannelAccount
        | ParticipantType::System
        | ParticipantType::OutreachCampaign => Ok(()),
    }
}

async fn check_exists<E: super::SiteScoped>(
    db: &impl ConnectionTrait,
    actor: &Principal,
    field: &str,
    id_column: E::Column,
    id: Uuid,
) -> Result<()>
where
    E::Model: Sync,
{
    let found = actor.find::<E>().filter(id_column.eq(id)).count(db).await?;
    if found == 0 {
        return Err(Error::bad_input(
            field,
            format!("{field} {id} does not name a record of this site"),
        ));
    }
    Ok(())
}
