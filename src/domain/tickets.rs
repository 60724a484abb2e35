//! Tickets: opening, reading, changing and removing them, and the internal steps every
//! ticket write shares (locking, derived fields, the event log).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, NotSet, PaginatorTrait, QueryFilter, QuerySelect, Set, TryIntoModel,
};
use serde_json::json;
use uuid::Uuid;

use super::conversation::{self, NewMessage};
use super::idempotency::{self, Claim};
use super::{Principal, now, optional_text, required_text, search};
use crate::entity::rows::{Reader, Rows};
use crate::entity::*;
use crate::live::{self, ChangeKind, TicketEvent};
use crate::{Error, Result};

pub use super::limits::{SHORT_TEXT_MAX, SUBJECT_MAX, TAG_IDS_MAX};

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
    pub tag_ids: Vec<Uuid>,
    /// The ticket's first messages, oldest first.
    pub messages: Vec<NewMessage>,
}

/// A change to a ticket. `None` leaves a field as it is; for the clearable references,
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TicketChanges {
    pub subject: Option<String>,
    pub original_conversation_id: Option<Option<String>>,
    pub assignee_id: Option<Option<Uuid>>,
    pub assignee_type: Option<AssigneeType>,
    pub department_assignee_id: Option<Option<Uuid>>,
    pub channel_id: Option<String>,
    pub channel_account_id: Option<Option<Uuid>>,
    pub contact_or_visitor_id: Option<Uuid>,
    pub contact_or_visitor_type: Option<ParticipantType>,
    pub created_by_id: Option<Uuid>,
    pub created_by_type: Option<ParticipantType>,
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub is_read_by_agent: Option<bool>,
    pub is_in_recycle_bin: Option<bool>,
    pub contact_language: Option<String>,
    pub agent_language: Option<String>,
    pub auto_translation_status: Option<bool>,
    /// Replaces the ticket's tags.
    pub tag_ids: Option<Vec<Uuid>>,
    /// Optimistic concurrency: refuse the change if the ticket changed since this time.
    pub expected_last_updated_time: Option<DateTime<Utc>>,
    /// Optimistic concurrency by version (the REST `If-Match`): refuse the change with
    /// `PRECONDITION_FAILED` if the ticket's version is not this one.
    pub expected_version: Option<i64>,
    /// Messages to add, oldest first.
    pub messages: Vec<NewMessage>,
}

pub async fn get(db: &impl Reader, actor: &Principal, id: i64) -> Result<tickets::Model> {
    actor
        .find::<tickets::Entity>()
        .filter(tickets::Column::Id.eq(id))
        .row(db)
        .await?
        .ok_or_else(|| Error::not_found(format_args!("ticket {id}")))
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewTicket,
) -> Result<tickets::Model> {
    create_once(db, actor, input, None).await
}

/// Opens a ticket; with an idempotency key, a repeat of the same request by the same agent
/// answers with the ticket the first one created (as it is now) instead of opening another.
/// See [`idempotency`].
pub async fn create_once(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewTicket,
    idempotency_key: Option<&str>,
) -> Result<tickets::Model> {
    let claim = idempotency_key
        .map(|key| idempotency::check_key(key).map(|k| (k, idempotency::fingerprint(&input))))
        .transpose()?;
    check_tag_count(&input.tag_ids)?;
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
    if let Some((key, hash)) = &claim
        && let Claim::Replay(id) = idempotency::claim(&txn, actor, key, hash).await?
    {
        return actor
            .find::<tickets::Entity>()
            .filter(tickets::Column::Id.eq(id))
            .one(&txn)
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "ticket {id}, created with {} `{key}`, has since been deleted",
                    idempotency::FIELD
                ))
            });
    }
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
    // Worked out whole in memory first (id 0 until the database numbers it), so that the
    // ticket row is written once, already as its messages and status leave it.
    let ticket = tickets::ActiveModel {
        id: Set(0),
        version: Set(0),
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
    }
    .try_into_model()?;
    let created = event_row(actor, 0, "created", json!({ "status": status }));
    let mut conversation =
        conversation::converse(actor, ticket, None, input.messages, &[], vec![created])?;
    // An explicit status wins over the turns the messages took.
    if let Some(explicit) = input.status
        && conversation.ticket.status != explicit
    {
        let before = conversation.ticket.clone();
        let mut t: tickets::ActiveModel = before.clone().into();
        apply_status(&mut t, &before, explicit, as_resolver(actor), at);
        conversation.ticket = t.try_into_model()?;
    }
    let mut row = tickets::ActiveModel::from(conversation.ticket.clone()).reset_all();
    row.id = NotSet;
    let ticket = row.insert(&txn).await?;
    if !input.tag_ids.is_empty() {
        set_tags(&txn, actor, ticket.id, &input.tag_ids).await?;
    }
    conversation
        .write(&txn, ticket.id, conversation::Document::New)
        .await?;
    if let Some((key, _)) = &claim {
        idempotency::record(&txn, actor, key, ticket.id).await?;
    }
    let event = TicketEvent::new(actor.site_id, ticket.id, ChangeKind::Created);
    live::commit(db, txn, &[event]).await?;
    if claim.is_some() {
        idempotency::sweep(db).await;
    }
    Ok(ticket)
}

fn check_tag_count(tag_ids: &[Uuid]) -> Result<()> {
    if tag_ids.len() > TAG_IDS_MAX {
        return Err(Error::bad_input(
            "tagIds",
            format!("tagIds names more than {TAG_IDS_MAX} tags"),
        ));
    }
    Ok(())
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

/// A ticket as `message` leaves it, in memory: `newest` says whether `message` is newer than
/// the ticket's last message. Every message moves the last-message fields; a public one counts
/// as a reply and moves the conversation along: a customer's message puts the ticket in the
/// agents' court (pendingInternal, unread, reopened if it was resolved); an agent's or bot's
/// reply puts it in the customer's court (pendingExternal) and counts towards the response
/// metrics. Notes change none of that. Imported history can arrive with past times: only the
/// newest message is the last one, and only the newest reply decides whose turn it is.
pub(crate) fn apply_message(
    ticket: &tickets::Model,
    message: &messages::Model,
    newest: bool,
    at: DateTime<Utc>,
) -> tickets::ActiveModel {
    let mut t: tickets::ActiveModel = ticket.clone().into();
    t.last_updated_time = Set(at);
    if newest {
        t.last_message_id = Set(Some(message.id));
        t.last_message_channel_id = Set(message.channel_id.clone());
        t.last_message_channel_account_id = Set(message.channel_account_id);
    }
    if message.is_internal {
        return t;
    }
    t.total_replies = Set(ticket.total_replies + 1);
    let latest_reply = ticket
        .last_replied_time
        .is_none_or(|last| message.time >= last);
    if latest_reply {
        t.last_replied_by_id = Set(message.sent_by_id);
        t.last_replied_by_type = Set(message.sent_by_type);
        t.last_replied_time = Set(Some(message.time));
    }
    match message.sent_by_type {
        Some(kind) if kind.is_customer() => {
            if latest_reply {
                t.is_read_by_agent = Set(false);
                if ticket.status != TicketStatus::PendingInternal {
                    apply_status(&mut t, ticket, TicketStatus::PendingInternal, None, at);
                }
            }
        }
        Some(kind @ (ParticipantType::Agent | ParticipantType::Chatbot)) => {
            t.response_count = Set(ticket.response_count + 1);
            let span = (message.time - ticket.created_time).num_seconds().max(0);
            let first = ticket
                .first_response_time_span
                .map_or(span, |s| s.min(span));
            t.first_response_time_span = Set(Some(first));
            t.replying_agent = Set(ticket
                .replying_agent
                .with_reply_from(kind == ParticipantType::Chatbot));
            if latest_reply && ticket.status != TicketStatus::PendingExternal {
                apply_status(&mut t, ticket, TicketStatus::PendingExternal, None, at);
            }
        }
        // System, channel-account and campaign messages are part of the record, but nobody's
        // turn changes.
        _ => {}
    }
    t
}

/// `(time, id)` of the ticket's last message, the order messages are compared in; `None`
/// when it has none.
pub(crate) async fn last_message_key(
    txn: &DatabaseTransaction,
    ticket: &tickets::Model,
) -> Result<Option<(DateTime<Utc>, Uuid)>> {
    let Some(last_id) = ticket.last_message_id else {
        return Ok(None);
    };
    let last = messages::Entity::find_by_id(last_id)
        .filter(messages::Column::SiteId.eq(ticket.site_id))
        .one(txn)
        .await?;
    Ok(last.map(|last| (last.time, last.id)))
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
    event_row(actor, ticket_id, kind, detail).insert(db).await?;
    Ok(())
}

/// An event log row by the acting agent, now.
pub(crate) fn event_row(
    actor: &Principal,
    ticket_id: i64,
    kind: &str,
    detail: serde_json::Value,
) -> ticket_event_logs::ActiveModel {
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

/// Applies `changes` to a ticket in one transaction, logging what changed.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    changes: TicketChanges,
) -> Result<tickets::Model> {
    if let Some(tags) = &changes.tag_ids {
        check_tag_count(tags)?;
    }
    let kind = change_kind(&changes);
    let txn = crate::db::begin_write(db).await?;
    let ticket = lock(&txn, actor, id).await?;
    if let Some(expected) = changes.expected_version
        && expected != ticket.version
    {
        return Err(Error::PreconditionFailed(format!(
            "ticket {id} changed since the version you read: read it again and retry"
        )));
    }
    if let Some(expected) = changes.expected_last_updated_time
        && expected != ticket.last_updated_time
    {
        return Err(Error::conflict(format!(
            "ticket {id} changed since {}: read it again and retry",
            expected.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )));
    }
    // Messages first, so that an explicit status below wins over the turns they take; the
    // ticket as they leave it is saved once, with the other changes.
    let last = match changes.messages.is_empty() {
        true => None,
        false => last_message_key(&txn, &ticket).await?,
    };
    let conversation =
        conversation::converse(actor, ticket, last, changes.messages, &[], Vec::new())?;
    let ticket = conversation.ticket.clone();
    if conversation.has_messages() {
        conversation
            .write(&txn, id, conversation::Document::Append)
            .await?;
    }
    let mut t: tickets::ActiveModel = ticket.clone().into();
    let mut edited: Vec<&str> = Vec::new();
    if let Some(subject) = &changes.subject {
        t.subject = Set(required_text("subject", subject, SUBJECT_MAX)?);
        edited.push("subject");
    }
    if let Some(v) = changes.original_conversation_id {
        optional_text(
            "originalConversationId",
            v.as_deref().unwrap_or(""),
            SHORT_TEXT_MAX,
        )?;
        t.original_conversation_id = Set(v);
        edited.push("originalConversationId");
    }
    if let Some(channel) = &changes.channel_id {
        t.channel_id = Set(required_text("channelId", channel, SHORT_TEXT_MAX)?);
        edited.push("channelId");
    }
    if let Some(v) = changes.channel_account_id {
        t.channel_account_id = Set(v);
        edited.push("channelAccountId");
    }
    if changes.contact_or_visitor_id.is_some() || changes.contact_or_visitor_type.is_some() {
        let kind = changes
            .contact_or_visitor_type
            .or(ticket.contact_or_visitor_type)
            .unwrap_or(ParticipantType::Contact);
        let who = changes
            .contact_or_visitor_id
            .or(ticket.contact_or_visitor_id)
            .ok_or_else(|| {
                Error::bad_input(
                    "contactOrVisitorId",
                    "contactOrVisitorId is required with contactOrVisitorType",
                )
            })?;
        check_participant(&txn, actor, "contactOrVisitorId", kind, who).await?;
        t.contact_or_visitor_id = Set(Some(who));
        t.contact_or_visitor_type = Set(Some(kind));
        edited.push("contactOrVisitor");
    }
    if let Some(id) = changes.created_by_id {
        t.created_by_id = Set(Some(id));
        t.created_by_type = Set(Some(
            changes.created_by_type.unwrap_or(ParticipantType::Agent),
        ));
    } else if let Some(kind) = changes.created_by_type {
        t.created_by_type = Set(Some(kind));
    }
    let mut assigned = None;
    if changes.assignee_id.is_some() || changes.assignee_type.is_some() {
        let who = match changes.assignee_id {
            Some(v) => v,
            None => ticket.assignee_id,
        };
        let kind = who.map(|_| {
            changes
                .assignee_type
                .or(ticket.assignee_type)
                .unwrap_or(AssigneeType::Agent)
        });
        if let (Some(id), Some(kind)) = (who, kind) {
            check_participant(&txn, actor, "assigneeId", kind.into(), id).await?;
        }
        if who != ticket.assignee_id || kind != ticket.assignee_type {
            assigned = Some(json!({ "assigneeId": who, "assigneeType": kind }));
        }
        t.assignee_id = Set(who);
        t.assignee_type = Set(kind);
    }
    if let Some(v) = changes.department_assignee_id {
        if let Some(id) = v {
            check_exists::<departments::Entity>(
                &txn,
                actor,
                "departmentAssigneeId",
                departments::Column::Id,
                id,
            )
            .await?;
        }
        t.department_assignee_id = Set(v);
        edited.push("departmentAssigneeId");
    }
    if let Some(p) = changes.priority {
        t.priority = Set(p);
        edited.push("priority");
    }
    if let Some(read) = changes.is_read_by_agent {
        t.is_read_by_agent = Set(read);
        if read {
            mark_mentions_read(&txn, actor, id).await?;
        }
    }
    if let Some(v) = &changes.contact_language {
        t.contact_language = Set(optional_text("contactLanguage", v, SHORT_TEXT_MAX)?.to_owned());
        edited.push("contactLanguage");
    }
    if let Some(v) = &changes.agent_language {
        t.agent_language = Set(optional_text("agentLanguage", v, SHORT_TEXT_MAX)?.to_owned());
        edited.push("agentLanguage");
    }
    if let Some(v) = changes.auto_translation_status {
        t.auto_translation_status = Set(v);
        edited.push("autoTranslationStatus");
    }
    if let Some(tags) = &changes.tag_ids {
        set_tags(&txn, actor, id, tags).await?;
        edited.push("tagIds");
    }
    if let Some(status) = changes.status
        && status != ticket.status
    {
        apply_status(&mut t, &ticket, status, as_resolver(actor), now());
        log_event(
            &txn,
            actor,
            id,
            "statusChanged",
            json!({ "from": ticket.status, "to": status }),
        )
        .await?;
    }
    if let Some(recycled) = changes.is_in_recycle_bin
        && recycled != ticket.is_in_recycle_bin
    {
        t.is_in_recycle_bin = Set(recycled);
        log_event(
            &txn,
            actor,
            id,
            if recycled { "recycled" } else { "recovered" },
            json!({}),
        )
        .await?;
    }
    if let Some(detail) = assigned {
        log_event(&txn, actor, id, "assigned", detail).await?;
    }
    if !edited.is_empty() {
        log_event(&txn, actor, id, "edited", json!({ "fields": edited })).await?;
    }
    let saved = save(&txn, t).await?;
    if saved.subject != ticket.subject {
        search::reindex(&txn, actor, &saved).await?;
    }
    live::commit(db, txn, &[TicketEvent::new(actor.site_id, id, kind)]).await?;
    Ok(saved)
}

/// How an update is announced to subscribers: the most telling of what it does.
fn change_kind(changes: &TicketChanges) -> ChangeKind {
    match changes.is_in_recycle_bin {
        Some(true) => ChangeKind::Recycled,
        Some(false) => ChangeKind::Restored,
        None if !changes.messages.is_empty() => ChangeKind::Replied,
        None => ChangeKind::Updated,
    }
}

/// A status change and what it stamps: every change stamps lastStatusChangedTime; leaving
/// pendingInternal adds the time spent there to responseTimeSpan; resolving stamps who
/// resolved and when (`resolver`); leaving resolved stamps the reopening. `before` is the
/// ticket as it was.
pub(crate) fn apply_status(
    t: &mut tickets::ActiveModel,
    before: &tickets::Model,
    status: TicketStatus,
    resolver: Option<(Uuid, ParticipantType)>,
    at: DateTime<Utc>,
) {
    t.status = Set(status);
    t.last_status_changed_time = Set(Some(at));
    if before.status == TicketStatus::PendingInternal && status != TicketStatus::PendingInternal {
        let since = before
            .last_status_changed_time
            .unwrap_or(before.created_time);
        t.response_time_span = Set(before.response_time_span + (at - since).num_seconds().max(0));
    }
    if status == TicketStatus::Resolved {
        t.resolved_time = Set(Some(at));
        t.resolved_by_id = Set(resolver.map(|r| r.0));
        t.resolved_by_type = Set(resolver.map(|r| r.1));
        t.resolved_time_span = Set(Some((at - before.created_time).num_seconds().max(0)));
    } else if before.status == TicketStatus::Resolved {
        t.reopened_time = Set(Some(at));
    }
}

/// The acting agent, as the party that resolves a ticket.
pub(crate) fn as_resolver(actor: &Principal) -> Option<(Uuid, ParticipantType)> {
    Some((actor.agent_id, ParticipantType::Agent))
}

/// `version + 1`, for the bulk updates of tickets that bypass the model (and so its
/// `before_save`, which bumps the version of single-row writes).
pub(crate) fn next_version() -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::ExprTrait;
    Expr::col(tickets::Column::Version).add(1)
}

/// Removes a ticket and everything that hangs off it; returns it as it was.
pub async fn delete(db: &DatabaseConnection, actor: &Principal, id: i64) -> Result<tickets::Model> {
    let txn = crate::db::begin_write(db).await?;
    let ticket = lock(&txn, actor, id).await?;
    // Tickets merged into this one keep their history but no longer point at it.
    tickets::Entity::update_many()
        .col_expr(
            tickets::Column::MergedToTargetId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(tickets::Column::Version, next_version())
        .filter(tickets::Column::SiteId.eq(actor.site_id))
        .filter(tickets::Column::MergedToTargetId.eq(id))
        .exec(&txn)
        .await?;
    tickets::Entity::delete_many()
        .filter(tickets::Column::SiteId.eq(actor.site_id))
        .filter(tickets::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    search::remove(&txn, id).await?;
    // The event log cascades away with the ticket: this event is what remains of it.
    live::commit(
        db,
        txn,
        &[TicketEvent::new(actor.site_id, id, ChangeKind::Deleted)],
    )
    .await?;
    Ok(ticket)
}

/// Moves a ticket to the recycle bin (`true`) or back out of it (`false`).
pub async fn set_recycled(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    recycled: bool,
) -> Result<tickets::Model> {
    update(
        db,
        actor,
        id,
        TicketChanges {
            is_in_recycle_bin: Some(recycled),
            ..Default::default()
        },
    )
    .await
}

/// Marks a ticket read or unread by agents. Reading it also reads the caller's mentions on it.
pub async fn set_read(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    read: bool,
) -> Result<tickets::Model> {
    update(
        db,
        actor,
        id,
        TicketChanges {
            is_read_by_agent: Some(read),
            ..Default::default()
        },
    )
    .await
}

/// Adds tags to a ticket (those it has already stay).
pub async fn add_tags(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    tag_ids: &[Uuid],
) -> Result<tickets::Model> {
    check_tag_count(tag_ids)?;
    let txn = crate::db::begin_write(db).await?;
    let ticket = lock(&txn, actor, id).await?;
    let mut tags = current_tags(&txn, actor, id).await?;
    let before = tags.len();
    for tag in tag_ids {
        if !tags.contains(tag) {
            tags.push(*tag);
        }
    }
    if tags.len() == before {
        return Ok(ticket);
    }
    set_tags(&txn, actor, id, &tags).await?;
    log_event(&txn, actor, id, "tagged", json!({ "added": tag_ids })).await?;
    let saved = save(&txn, ticket.into()).await?;
    live::commit(
        db,
        txn,
        &[TicketEvent::new(actor.site_id, id, ChangeKind::Updated)],
    )
    .await?;
    Ok(saved)
}

/// Removes tags from a ticket (tags it does not have are ignored).
pub async fn remove_tags(
    db: &DatabaseConnection,
    actor: &Principal,
    id: i64,
    tag_ids: &[Uuid],
) -> Result<tickets::Model> {
    check_tag_count(tag_ids)?;
    let txn = crate::db::begin_write(db).await?;
    let ticket = lock(&txn, actor, id).await?;
    let removed = ticket_tags::Entity::delete_many()
        .filter(ticket_tags::Column::SiteId.eq(actor.site_id))
        .filter(ticket_tags::Column::TicketId.eq(id))
        .filter(ticket_tags::Column::TagId.is_in(tag_ids.iter().copied()))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Ok(ticket);
    }
    log_event(&txn, actor, id, "untagged", json!({ "removed": tag_ids })).await?;
    let saved = save(&txn, ticket.into()).await?;
    live::commit(
        db,
        txn,
        &[TicketEvent::new(actor.site_id, id, ChangeKind::Updated)],
    )
    .await?;
    Ok(saved)
}

async fn current_tags(txn: &DatabaseTransaction, actor: &Principal, id: i64) -> Result<Vec<Uuid>> {
    Ok(actor
        .find::<ticket_tags::Entity>()
        .filter(ticket_tags::Column::TicketId.eq(id))
        .all(txn)
        .await?
        .into_iter()
        .map(|t| t.tag_id)
        .collect())
}

/// Makes a ticket's tags exactly `tag_ids`; each must be a tag of the caller's site.
async fn set_tags(
    txn: &DatabaseTransaction,
    actor: &Principal,
    id: i64,
    tag_ids: &[Uuid],
) -> Result<()> {
    let mut wanted: Vec<Uuid> = tag_ids.to_vec();
    wanted.sort();
    wanted.dedup();
    if !wanted.is_empty() {
        let known = actor
            .find::<tags::Entity>()
            .filter(tags::Column::Id.is_in(wanted.iter().copied()))
            .count(txn)
            .await?;
        if known != wanted.len() as u64 {
            return Err(Error::bad_input(
                "tagIds",
                "tagIds names a tag that does not exist in this site",
            ));
        }
    }
    ticket_tags::Entity::delete_many()
        .filter(ticket_tags::Column::SiteId.eq(actor.site_id))
        .filter(ticket_tags::Column::TicketId.eq(id))
        .exec(txn)
        .await?;
    if !wanted.is_empty() {
        ticket_tags::Entity::insert_many(wanted.into_iter().map(|tag_id| {
            ticket_tags::ActiveModel {
                site_id: Set(actor.site_id),
                ticket_id: Set(id),
                tag_id: Set(tag_id),
            }
        }))
        .exec(txn)
        .await?;
    }
    Ok(())
}

/// Reading a ticket reads the caller's mentions on it.
async fn mark_mentions_read(txn: &DatabaseTransaction, actor: &Principal, id: i64) -> Result<()> {
    note_mentions::Entity::update_many()
        .col_expr(note_mentions::Column::IsReadByAgent, Expr::value(true))
        .filter(note_mentions::Column::SiteId.eq(actor.site_id))
        .filter(note_mentions::Column::TicketId.eq(id))
        .filter(note_mentions::Column::AgentId.eq(actor.agent_id))
        .exec(txn)
        .await?;
    Ok(())
}
