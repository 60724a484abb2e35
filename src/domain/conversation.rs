//! A ticket's conversation: messages and notes with their attachments, the one draft, note
//! mentions. Every write locks its ticket first and keeps the ticket's derived fields (last
//! message, reply statistics, `ifHasDraft`) true in the same transaction, so no reader ever sees
//! a message that its ticket does not account for.

use std::collections::HashSet;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set, TryIntoModel,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::tickets::{apply_message, event_row, last_message_key, lock, log_event, save};
use super::{Principal, now, optional_text};
use crate::entity::*;
use crate::{Error, Result};

pub use super::limits::{
    ATTACHMENT_TEXT_MAX, BODY_MAX_BYTES, MAX_ATTACHMENTS, MAX_MENTIONS, METADATA_MAX_BYTES,
    SHORT_TEXT_MAX, URL_MAX,
};

/// A file attached to a message or a draft. The file itself lives in the caller's storage;
/// deskgraph keeps its reference.
#[derive(Debug, Clone, Default)]
pub struct NewAttachment {
    pub file_key: String,
    pub name: String,
    pub size: i64,
    /// `file` when omitted.
    pub r#type: Option<String>,
    pub url: Option<String>,
}

/// What the channel reported about delivering a message.
#[derive(Debug, Clone, Default)]
pub struct NewDelivery {
    pub status: String,
    pub fail_reason: Option<String>,
    pub time: Option<DateTime<Utc>>,
    pub group_id: Option<Uuid>,
    pub order_num: Option<i32>,
}

/// A message as the spec's message JSON carries it. `parent_id` and `sent_by_id` are kept as
/// given, unchecked: they may name records of the original channel that deskgraph never held.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub translated_body: Option<String>,
    pub parent_id: Option<Uuid>,
    /// With no sender at all, or an agent sender without id, the message is the caller's.
    pub sent_by_id: Option<Uuid>,
    pub sent_by_type: Option<ParticipantType>,
    /// Now when omitted.
    pub time: Option<DateTime<Utc>>,
    /// `text` when omitted.
    pub r#type: Option<String>,
    pub metadata: Option<Value>,
    pub original_id: Option<String>,
    pub channel_id: Option<String>,
    /// Stored exactly as given, `data:text/plain;base64,...` URIs included.
    pub body: String,
    /// True when omitted.
    pub if_display_in_ticket_correspondences: Option<bool>,
    pub is_original_sent_to_contact: Option<bool>,
    pub show_inline_image: Option<bool>,
    pub is_read: Option<bool>,
    /// A note: seen by agents only, not a reply.
    pub is_internal: Option<bool>,
    pub message_delivery: Option<NewDelivery>,
    pub attachments: Vec<NewAttachment>,
}

/// An internal note by the calling agent.
#[derive(Debug, Clone, Default)]
pub struct NewNote {
    pub body: String,
    /// Agents of the caller's site to notify; repeats count once.
    pub mentioned_agent_ids: Vec<Uuid>,
    pub attachments: Vec<NewAttachment>,
}

/// The reply an agent is still writing.
#[derive(Debug, Clone, Default)]
pub struct NewDraft {
    /// May be empty: a draft is work in progress.
    pub body: String,
    /// `html` when omitted.
    pub r#type: Option<String>,
    pub metadata: Option<Value>,
    pub attachments: Vec<NewAttachment>,
}

/// Messages worked out against a ticket in memory ([`converse`]) and not yet written: the
/// ticket as they leave it and the rows that go with them. The caller writes the ticket row
/// itself, in the one statement it needs anyway (the INSERT of a new ticket, or an UPDATE
/// along with its other changes), and the rest with [`Conversation::write`].
pub(crate) struct Conversation {
    pub ticket: tickets::Model,
    rows: Vec<messages::Model>,
    attachments: Vec<message_attachments::ActiveModel>,
    logs: Vec<ticket_event_logs::ActiveModel>,
}

/// How a ticket's search document is written with its messages.
pub(crate) enum Document {
    /// A new ticket: its document is written whole.
    New,
    /// A ticket that has one: the bodies are appended to it.
    Append,
}

/// Works out in memory what `messages` do to `ticket` (every write of messages or notes comes
/// here): each is checked (errors name fields as `messages[i].body`), turned into its row and
/// its log row (naming the agents in `mentioned`, a note's), and applied to the ticket by
/// [`apply_message`]. `last` is the time and id of the ticket's last message; `logs` go first
/// in the log (a new ticket's `created` event).
pub(crate) fn converse(
    actor: &Principal,
    ticket: tickets::Model,
    mut last: Option<(DateTime<Utc>, Uuid)>,
    messages: Vec<NewMessage>,
    mentioned: &[Uuid],
    mut logs: Vec<ticket_event_logs::ActiveModel>,
) -> Result<Conversation> {
    for (i, m) in messages.iter().enumerate() {
        m.validate(&format!("messages[{i}]."))?;
    }
    let at = now();
    let mut current = ticket;
    let mut rows = Vec::with_capacity(messages.len());
    let mut attachments = Vec::new();
    for m in messages {
        let (message, files) = message_row(actor, current.id, m);
        let newest = last.is_none_or(|l| (message.time, message.id) >= l);
        if newest {
            last = Some((message.time, message.id));
        }
        current = apply_message(&current, &message, newest, at).try_into_model()?;
        logs.push(message_log(actor, &message, mentioned));
        attachments.extend(files);
        rows.push(message);
    }
    Ok(Conversation {
        ticket: current,
        rows,
        attachments,
        logs,
    })
}

impl Conversation {
    /// Whether there is a message: without one the ticket is as it was.
    pub fn has_messages(&self) -> bool {
        !self.rows.is_empty()
    }

    /// Writes the messages, their attachments, the log rows and the search document of the
    /// ticket `ticket_id` (the one worked out, which may have been inserted only now), one
    /// statement per table. The messages come back in the order given.
    pub async fn write(
        self,
        txn: &DatabaseTransaction,
        ticket_id: i64,
        document: Document,
    ) -> Result<Vec<messages::Model>> {
        let Conversation {
            ticket,
            mut rows,
            attachments,
            mut logs,
        } = self;
        for row in &mut rows {
            row.ticket_id = ticket_id;
        }
        for log in &mut logs {
            log.ticket_id = Set(ticket_id);
        }
        // No statement when empty (a ticket created without messages).
        let returned =
            messages::Entity::insert_many(rows.iter().cloned().map(messages::ActiveModel::from))
                .exec_with_returning(txn)
                .await?;
        if !attachments.is_empty() {
            message_attachments::Entity::insert_many(attachments)
                .exec_without_returning(txn)
                .await?;
        }
        if !logs.is_empty() {
            ticket_event_logs::Entity::insert_many(logs)
                .exec_without_returning(txn)
                .await?;
        }
        let bodies = rows.iter().map(|m| m.body.as_str());
        match document {
            Document::New => {
                let document = super::search::document(&ticket.subject, bodies);
                super::search::write_document(txn, ticket.site_id, ticket_id, &document).await?;
            }
            Document::Append => {
                super::search::append(txn, ticket.site_id, ticket_id, bodies).await?
            }
        }
        // In the order given, whatever order the database returned them in.
        let mut by_id: std::collections::HashMap<Uuid, messages::Model> =
            returned.into_iter().map(|m| (m.id, m)).collect();
        Ok(rows.iter().filter_map(|m| by_id.remove(&m.id)).collect())
    }
}

/// Adds messages to a ticket already locked in `txn` and saves it as they leave it.
async fn insert_messages(
    txn: &DatabaseTransaction,
    actor: &Principal,
    ticket: tickets::Model,
    messages: Vec<NewMessage>,
    mentioned: &[Uuid],
) -> Result<Vec<messages::Model>> {
    let last = last_message_key(txn, &ticket).await?;
    let id = ticket.id;
    let conversation = converse(actor, ticket, last, messages, mentioned, Vec::new())?;
    tickets::ActiveModel::from(conversation.ticket.clone())
        .reset_all()
        .update(txn)
        .await?;
    conversation.write(txn, id, Document::Append).await
}

/// Adds a message to a ticket; public unless it says `is_internal`, in which case it is a note
/// like [`add_note`]'s, without mentions.
pub async fn add_message(
    db: &DatabaseConnection,
    actor: &Principal,
    ticket_id: i64,
    message: NewMessage,
) -> Result<messages::Model> {
    // Checked here first so errors name the input's own fields (`body`, not `messages[0].body`).
    message.validate("")?;
    let txn = crate::db::begin_write(db).await?;
    let ticket = lock(&txn, actor, ticket_id).await?;
    let inserted = insert_messages(&txn, actor, ticket, vec![message], &[]).await?;
    let event =
        crate::live::TicketEvent::new(actor.site_id, ticket_id, crate::live::ChangeKind::Replied);
    crate::live::commit(db, txn, &[event]).await?;
    inserted
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a message was inserted but not returned")))
}

/// Adds an internal note by the caller and one unread mention per distinct mentioned agent.
pub async fn add_note(
    db: &DatabaseConnection,
    actor: &Principal,
    ticket_id: i64,
    note: NewNote,
) -> Result<messages::Model> {
    let message = NewMessage {
        body: note.body,
        is_internal: Some(true),
        sent_by_id: Some(actor.agent_id),
        sent_by_type: Some(ParticipantType::Agent),
        attachments: note.attachments,
        ..Default::default()
    };
    message.validate("")?;
    let mut seen = HashSet::new();
    let mut agent_ids = note.mentioned_agent_ids;
    agent_ids.retain(|id| seen.insert(*id));
    if agent_ids.len() > MAX_MENTIONS {
        return Err(Error::bad_input(
            "mentionedAgentIds",
            format!("mentionedAgentIds may name at most {MAX_MENTIONS} agents"),
        ));
    }

    let txn = crate::db::begin_write(db).await?;
    let ticket = lock(&txn, actor, ticket_id).await?;
    check_agents(&txn, actor, &agent_ids).await?;
    let inserted = insert_messages(&txn, actor, ticket, vec![message], &agent_ids).await?;
    let message = inserted
        .into_iter()
        .next()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("a note was inserted but not returned")))?;
    let at = now();
    let mentions = agent_ids.iter().map(|agent_id| note_mentions::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        note_id: Set(message.id),
        agent_id: Set(*agent_id),
        ticket_id: Set(ticket_id),
        is_read_by_agent: Set(false),
        created_time: Set(at),
    });
    note_mentions::Entity::insert_many(mentions)
        .exec_without_returning(&txn)
        .await?;
    let event =
        crate::live::TicketEvent::new(actor.site_id, ticket_id, crate::live::ChangeKind::Updated);
    crate::live::commit(db, txn, &[event]).await?;
    Ok(message)
}

/// Saves the ticket's one draft, replacing its body and all of its attachments.
pub async fn save_draft(
    db: &DatabaseConnection,
    actor: &Principal,
    ticket_id: i64,
    draft: NewDraft,
) -> Result<drafts::Model> {
    check_body("body", &draft.body, false)?;
    let draft_type = kind_or("type", draft.r#type.as_deref(), "html")?;
    check_metadata("metadata", draft.metadata.as_ref())?;
    check_attachments("", &draft.attachments)?;

    let txn = crate::db::begin_write(db).await?;
    let ticket = lock(&txn, actor, ticket_id).await?;
    let existing = actor
        .find::<drafts::Entity>()
        .filter(drafts::Column::TicketId.eq(ticket_id))
        .one(&txn)
        .await?;
    let mut row = drafts::ActiveModel {
        ticket_id: Set(ticket_id),
        site_id: Set(actor.site_id),
        body: Set(draft.body),
        r#type: Set(draft_type),
        metadata: Set(draft.metadata.filter(|m| !m.is_null())),
        last_updated_by_id: Set(Some(actor.agent_id)),
        last_updated_time: Set(now()),
    };
    let saved = match existing {
        Some(_) => {
            // The key is not a change: leave it out of the UPDATE's SET list.
            row.ticket_id = sea_orm::ActiveValue::Unchanged(ticket_id);
            row.update(&txn).await?
        }
        None => row.insert(&txn).await?,
    };
    draft_attachments::Entity::delete_many()
        .filter(draft_attachments::Column::SiteId.eq(actor.site_id))
        .filter(draft_attachments::Column::TicketId.eq(ticket_id))
        .exec(&txn)
        .await?;
    let count = draft.attachments.len();
    let rows = draft
        .attachments
        .into_iter()
        .enumerate()
        .map(|(position, a)| draft_attachments::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(actor.site_id),
            ticket_id: Set(ticket_id),
            position: Set(position as i32),
            file_key: Set(a.file_key),
            name: Set(a.name),
            size: Set(a.size),
            r#type: Set(a.r#type.unwrap_or_else(|| "file".into())),
            url: Set(a.url.unwrap_or_default()),
        });
    draft_attachments::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    // Saving again changes nothing about the ticket itself: leave its update time alone, so
    // an autosaving editor does not keep moving the ticket up the inbox.
    // Likewise subscribers hear of the draft's arrival (`ifHasDraft`), not of every save.
    let mut events = Vec::new();
    if !ticket.if_has_draft {
        let mut t: tickets::ActiveModel = ticket.into();
        t.if_has_draft = Set(true);
        save(&txn, t).await?;
        events.push(crate::live::TicketEvent::new(
            actor.site_id,
            ticket_id,
            crate::live::ChangeKind::Updated,
        ));
    }
    log_event(
        &txn,
        actor,
        ticket_id,
        "draftSaved",
        json!({ "attachments": count }),
    )
    .await?;
    crate::live::commit(db, txn, &events).await?;
    Ok(saved)
}

/// Throws the ticket's draft away, attachments and all. Without a draft there is nothing to do
/// and nothing to log, so a repeated discard is harmless.
pub async fn discard_draft(
    db: &DatabaseConnection,
    actor: &Principal,
    ticket_id: i64,
) -> Result<tickets::Model> {
    let txn = crate::db::begin_write(db).await?;
    let ticket = lock(&txn, actor, ticket_id).await?;
    let deleted = drafts::Entity::delete_many()
        .filter(drafts::Column::SiteId.eq(actor.site_id))
        .filter(drafts::Column::TicketId.eq(ticket_id))
        .exec(&txn)
        .await?
        .rows_affected;
    if deleted == 0 && !ticket.if_has_draft {
        txn.commit().await?;
        return Ok(ticket);
    }
    let mut t: tickets::ActiveModel = ticket.into();
    t.if_has_draft = Set(false);
    let ticket = save(&txn, t).await?;
    if deleted > 0 {
        log_event(&txn, actor, ticket_id, "draftDiscarded", json!({})).await?;
    }
    let event =
        crate::live::TicketEvent::new(actor.site_id, ticket_id, crate::live::ChangeKind::Updated);
    crate::live::commit(db, txn, &[event]).await?;
    Ok(ticket)
}

/// A new message of `ticket_id` as its row and its attachments' rows, sent by the caller when
/// it names no sender.
fn message_row(
    actor: &Principal,
    ticket_id: i64,
    m: NewMessage,
) -> (messages::Model, Vec<message_attachments::ActiveModel>) {
    let (sent_by_id, sent_by_type) = match (m.sent_by_id, m.sent_by_type) {
        (None, None) | (None, Some(ParticipantType::Agent)) => {
            (Some(actor.agent_id), Some(ParticipantType::Agent))
        }
        (id, kind) => (id, kind),
    };
    let metadata = m.metadata.filter(|v| !v.is_null());
    let channel_account_id = metadata
        .as_ref()
        .and_then(|v| v.pointer("/channel/channelAccount"))
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok());
    let delivery = m.message_delivery;
    let message = messages::Model {
        id: Uuid::now_v7(),
        site_id: actor.site_id,
        ticket_id,
        parent_id: m.parent_id,
        original_id: m.original_id,
        sent_by_id,
        sent_by_type,
        time: m.time.map_or_else(now, to_millis),
        r#type: m.r#type.unwrap_or_else(|| "text".into()),
        metadata,
        channel_id: m.channel_id,
        channel_account_id,
        body: m.body,
        translated_body: m.translated_body.unwrap_or_default(),
        if_display_in_ticket_correspondences: m
            .if_display_in_ticket_correspondences
            .unwrap_or(true),
        is_original_sent_to_contact: m.is_original_sent_to_contact.unwrap_or(false),
        show_inline_image: m.show_inline_image.unwrap_or(false),
        is_read: m.is_read.unwrap_or(false),
        is_internal: m.is_internal.unwrap_or(false),
        delivery_status: delivery.as_ref().map(|d| d.status.clone()),
        delivery_fail_reason: delivery.as_ref().and_then(|d| d.fail_reason.clone()),
        delivery_time: delivery.as_ref().and_then(|d| d.time).map(to_millis),
        delivery_group_id: delivery.as_ref().and_then(|d| d.group_id),
        delivery_order_num: delivery.as_ref().and_then(|d| d.order_num),
        created_time: now(),
    };
    let files = m
        .attachments
        .into_iter()
        .enumerate()
        .map(|(position, a)| message_attachments::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(actor.site_id),
            message_id: Set(message.id),
            position: Set(position as i32),
            file_key: Set(a.file_key),
            name: Set(a.name),
            size: Set(a.size),
            r#type: Set(a.r#type.unwrap_or_else(|| "file".into())),
            url: Set(a.url.unwrap_or_default()),
        })
        .collect();
    (message, files)
}

/// The event log row of a new message: `replied`, or `noteAdded` with its mentions.
fn message_log(
    actor: &Principal,
    message: &messages::Model,
    mentioned: &[Uuid],
) -> ticket_event_logs::ActiveModel {
    let (kind, detail) = if message.is_internal {
        (
            "noteAdded",
            json!({ "messageId": message.id, "mentionedAgentIds": mentioned }),
        )
    } else {
        (
            "replied",
            json!({
                "messageId": message.id,
                "sentById": message.sent_by_id,
                "sentByType": message.sent_by_type,
            }),
        )
    };
    event_row(actor, message.ticket_id, kind, detail)
}

/// Every mentioned agent must be an agent of the caller's site.
async fn check_agents(txn: &DatabaseTransaction, actor: &Principal, ids: &[Uuid]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let found: HashSet<Uuid> = actor
        .find::<agents::Entity>()
        .filter(agents::Column::Id.is_in(ids.iter().copied()))
        .all(txn)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    match ids.iter().find(|id| !found.contains(id)) {
        Some(id) => Err(Error::bad_input(
            "mentionedAgentIds",
            format!("mentionedAgentIds {id} does not name an agent of this site"),
        )),
        None => Ok(()),
    }
}

impl NewMessage {
    /// Checks everything that needs no database; `at` prefixes field names (`messages[0].`).
    fn validate(&self, at: &str) -> Result<()> {
        check_body(&format!("{at}body"), &self.body, true)?;
        check_body(
            &format!("{at}translatedBody"),
            self.translated_body.as_deref().unwrap_or(""),
            false,
        )?;
        if self.sent_by_id.is_some() && self.sent_by_type.is_none() {
            let field = format!("{at}sentByType");
            return Err(Error::bad_input(
                &field,
                format!("{field} is required when sentById is given"),
            ));
        }
        kind_or(&format!("{at}type"), self.r#type.as_deref(), "text")?;
        for (name, value) in [
            ("originalId", &self.original_id),
            ("channelId", &self.channel_id),
        ] {
            optional_text(
                &format!("{at}{name}"),
                value.as_deref().unwrap_or(""),
                SHORT_TEXT_MAX,
            )?;
        }
        check_metadata(&format!("{at}metadata"), self.metadata.as_ref())?;
        if let Some(d) = &self.message_delivery {
            let field = format!("{at}messageDelivery.status");
            if d.status.trim().is_empty() {
                return Err(Error::bad_input(
                    &field,
                    format!("{field} must not be empty"),
                ));
            }
            optional_text(&field, &d.status, SHORT_TEXT_MAX)?;
            optional_text(
                &format!("{at}messageDelivery.failReason"),
                d.fail_reason.as_deref().unwrap_or(""),
                URL_MAX,
            )?;
        }
        check_attachments(at, &self.attachments)
    }
}

/// A required body must have something besides whitespace; any body is capped in bytes, since
/// that is what it costs to store and send.
fn check_body(field: &str, body: &str, required: bool) -> Result<()> {
    if required && body.trim().is_empty() {
        return Err(Error::bad_input(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if body.len() > BODY_MAX_BYTES {
        return Err(Error::bad_input(
            field,
            format!("{field} is larger than {BODY_MAX_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// A free-form kind (`text`, `html`, `file`): the default when omitted, never blank.
fn kind_or(field: &str, value: Option<&str>, default: &str) -> Result<String> {
    match value {
        None => Ok(default.to_owned()),
        Some(v) if v.trim().is_empty() => Err(Error::bad_input(
            field,
            format!("{field} must not be empty"),
        )),
        Some(v) => optional_text(field, v, SHORT_TEXT_MAX).map(str::to_owned),
    }
}

fn check_metadata(field: &str, metadata: Option<&Value>) -> Result<()> {
    let size = metadata.map_or(0, |v| v.to_string().len());
    if size > METADATA_MAX_BYTES {
        return Err(Error::bad_input(
            field,
            format!("{field} is larger than {METADATA_MAX_BYTES} bytes"),
        ));
    }
    Ok(())
}

fn check_attachments(at: &str, attachments: &[NewAttachment]) -> Result<()> {
    if attachments.len() > MAX_ATTACHMENTS {
        let field = format!("{at}attachments");
        return Err(Error::bad_input(
            &field,
            format!("{field} may hold at most {MAX_ATTACHMENTS} files"),
        ));
    }
    for (i, a) in attachments.iter().enumerate() {
        let at = format!("{at}attachments[{i}].");
        for (name, value) in [("fileKey", &a.file_key), ("name", &a.name)] {
            let field = format!("{at}{name}");
            if value.trim().is_empty() {
                return Err(Error::bad_input(
                    &field,
                    format!("{field} must not be empty"),
                ));
            }
            optional_text(&field, value, ATTACHMENT_TEXT_MAX)?;
        }
        optional_text(&format!("{at}url"), a.url.as_deref().unwrap_or(""), URL_MAX)?;
        kind_or(&format!("{at}type"), a.r#type.as_deref(), "file")?;
        if a.size < 0 {
            let field = format!("{at}size");
            return Err(Error::bad_input(
                &field,
                format!("{field} must not be negative"),
            ));
        }
    }
    Ok(())
}

/// Times are kept at the millisecond precision the API shows, so a message's time and the
/// cursors made from it read back exactly as stored.
fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body: &str) -> NewMessage {
        NewMessage {
            body: body.into(),
            ..Default::default()
        }
    }

    fn field_of(r: Result<()>) -> Option<String> {
        r.err().and_then(|e| e.field().map(str::to_owned))
    }

    #[test]
    fn a_blank_body_is_refused_with_the_field_prefixed() {
        assert_eq!(
            field_of(message("  ").validate("messages[2].")).as_deref(),
            Some("messages[2].body")
        );
    }

    #[test]
    fn a_body_is_capped_in_bytes_not_characters() {
        let at_cap = "é".repeat(BODY_MAX_BYTES / 2);
        assert!(message(&at_cap).validate("").is_ok());
        let over = format!("{at_cap}x");
        assert_eq!(
            field_of(message(&over).validate("")).as_deref(),
            Some("body")
        );
    }

    #[test]
    fn a_sender_id_needs_its_type() {
        let m = NewMessage {
            sent_by_id: Some(Uuid::now_v7()),
            ..message("hi")
        };
        assert_eq!(field_of(m.validate("")).as_deref(), Some("sentByType"));
    }

    #[test]
    fn attachments_are_checked_one_by_one() {
        let ok = NewAttachment {
            file_key: "k".into(),
            name: "n".into(),
            ..Default::default()
        };
        let cases = [
            (
                NewAttachment {
                    name: "x".repeat(501),
                    ..ok.clone()
                },
                "attachments[1].name",
            ),
            (
                NewAttachment {
                    file_key: " ".into(),
                    ..ok.clone()
                },
                "attachments[1].fileKey",
            ),
            (
                NewAttachment {
                    url: Some("u".repeat(2001)),
                    ..ok.clone()
                },
                "attachments[1].url",
            ),
            (
                NewAttachment {
                    size: -1,
                    ..ok.clone()
                },
                "attachments[1].size",
            ),
        ];
        for (bad, field) in cases {
            let m = NewMessage {
                attachments: vec![ok.clone(), bad],
                ..message("hi")
            };
            assert_eq!(field_of(m.validate("")).as_deref(), Some(field));
        }
        let m = NewMessage {
            attachments: vec![ok; MAX_ATTACHMENTS + 1],
            ..message("hi")
        };
        assert_eq!(field_of(m.validate("")).as_deref(), Some("attachments"));
    }

    #[test]
    fn times_are_cut_to_milliseconds() {
        let t = DateTime::parse_from_rfc3339("2021-04-26T10:52:24.336789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            to_millis(t).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "2021-04-26T10:52:24.336000Z"
        );
    }
}
