//! A ticket's conversation: messages and notes with their attachments, the draft, note
//! mentions and the event log; the mutations that add to it and the ticket relations that
//! read it. Relations load through per-request DataLoaders, one query per relation for all
//! the tickets of a request.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Json, Object, Request, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::Order;
use serde_json::Value;
use uuid::Uuid;

use super::connection::{Connection, Edge};
use super::enums::ParticipantType;
use super::fast::Fast;
use super::loaders::{self, Found, Loader, Scope};
use super::tickets::Ticket;
use super::{DateTime, GqlError, GqlResult, session};
use crate::domain::conversation as domain;
use crate::entity::rows::Columns;
use crate::entity::{
    draft_attachments, drafts, message_attachments, messages, note_mentions, ticket_event_logs,
    tickets,
};

/// Page size when the caller names none.
pub const DEFAULT_PAGE: usize = 20;
/// Largest page; asking for more is an error rather than a silent clamp, so a client never
/// mistakes a short page for the end of the conversation.
pub const MAX_PAGE: usize = 100;

pub fn attach_loaders(request: Request, scope: &Scope) -> Request {
    request
        .data(loaders::loader(MessagesByTicket(scope.clone())))
        .data(loaders::loader(MessageById(scope.clone())))
        .data(loaders::loader(AttachmentsByMessage(scope.clone())))
        .data(loaders::loader(DraftByTicket(scope.clone())))
        .data(loaders::loader(DraftAttachmentsByTicket(scope.clone())))
        .data(loaders::loader(MentionsByTicket(scope.clone())))
        .data(loaders::loader(EventLogsByTicket(scope.clone())))
}

// ---- Types ----

pub struct Message(pub messages::Model);

/// A message of a ticket: a reply in its correspondence with the contact, or a note
/// (`isInternal`) that only agents see.
#[Object]
impl Message {
    /// Id of the message.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Id of the ticket that the message belongs to.
    async fn ticket_id(&self) -> i64 {
        self.0.ticket_id
    }
    /// Id of the message that this one answers.
    async fn parent_id(&self) -> Option<Uuid> {
        self.0.parent_id
    }
    /// Id of the message in its original channel.
    async fn original_id(&self) -> Option<&str> {
        self.0.original_id.as_deref()
    }
    /// Id of the party who sent the message.
    async fn sent_by_id(&self) -> Option<Uuid> {
        self.0.sent_by_id
    }
    /// Who sent the message.
    async fn sent_by_type(&self) -> Option<ParticipantType> {
        self.0.sent_by_type.map(Into::into)
    }
    /// Time when the message was sent; the conversation is ordered by it.
    async fn time(&self) -> DateTime {
        self.0.time.into()
    }
    /// Format of the body, such as `text` or `html`.
    async fn r#type(&self) -> &str {
        &self.0.r#type
    }
    /// What the channel knows about the message (channel account, source, decoration), as it
    /// gave it.
    async fn metadata(&self) -> Option<Json<Value>> {
        self.0.metadata.clone().map(Json)
    }
    /// Id of the channel of the message.
    async fn channel_id(&self) -> Option<&str> {
        self.0.channel_id.as_deref()
    }
    /// Id of the channel account of the message, taken from `metadata.channel.channelAccount`.
    async fn channel_account_id(&self) -> Option<Uuid> {
        self.0.channel_account_id
    }
    /// Body of the message exactly as sent: text, HTML or a `data:` URI.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Body of the message translated for the other side.
    async fn translated_body(&self) -> &str {
        &self.0.translated_body
    }
    /// Whether the message is shown in the ticket's correspondence.
    async fn if_display_in_ticket_correspondences(&self) -> bool {
        self.0.if_display_in_ticket_correspondences
    }
    /// Whether the original message was sent to the contact.
    async fn is_original_sent_to_contact(&self) -> bool {
        self.0.is_original_sent_to_contact
    }
    /// Whether images in the body are shown inline.
    async fn show_inline_image(&self) -> bool {
        self.0.show_inline_image
    }
    /// Whether the message has been read.
    async fn is_read(&self) -> bool {
        self.0.is_read
    }
    /// Whether the message is a note: internal to agents, not a reply.
    async fn is_internal(&self) -> bool {
        self.0.is_internal
    }
    /// How delivery through the channel went; null when the channel reported nothing.
    async fn message_delivery(&self) -> Option<MessageDelivery> {
        let m = &self.0;
        m.delivery_status.clone().map(|status| MessageDelivery {
            status,
            fail_reason: m.delivery_fail_reason.clone(),
            time: m.delivery_time.map(Into::into),
            group_id: m.delivery_group_id,
            order_num: m.delivery_order_num,
        })
    }
    /// Files attached to the message, in the order they were given.
    async fn attachments(&self, ctx: &Context<'_>) -> GqlResult<Vec<Attachment>> {
        let rows = loaders::get::<AttachmentsByMessage, _>(ctx)?
            .load_one(self.0.id)
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(Attachment)
            .collect())
    }
}

/// The columns `Message.<field>` reads, or `None` for a field not listed here (which reads
/// every column). A resolver that starts reading another column must say so here:
/// `tests/it/ticket_columns.rs` asks every field alone of a last message and compares it
/// with the same message read whole.
fn message_read_by(field: &str) -> Option<Columns> {
    use messages::Column as C;
    let read: &[C] = match field {
        "__typename" => &[],
        "id" | "attachments" => &[C::Id],
        "ticketId" => &[C::TicketId],
        "parentId" => &[C::ParentId],
        "originalId" => &[C::OriginalId],
        "sentById" => &[C::SentById],
        "sentByType" => &[C::SentByType],
        "time" => &[C::Time],
        "type" => &[C::Type],
        "metadata" => &[C::Metadata],
        "channelId" => &[C::ChannelId],
        "channelAccountId" => &[C::ChannelAccountId],
        "body" => &[C::Body],
        "translatedBody" => &[C::TranslatedBody],
        "ifDisplayInTicketCorrespondences" => &[C::IfDisplayInTicketCorrespondences],
        "isOriginalSentToContact" => &[C::IsOriginalSentToContact],
        "showInlineImage" => &[C::ShowInlineImage],
        "isRead" => &[C::IsRead],
        "isInternal" => &[C::IsInternal],
        "messageDelivery" => &[
            C::DeliveryStatus,
            C::DeliveryFailReason,
            C::DeliveryTime,
            C::DeliveryGroupId,
            C::DeliveryOrderNum,
        ],
        _ => return None,
    };
    Some(Columns::of::<messages::Entity>(read))
}

/// How delivery of a message through its channel went.
#[derive(SimpleObject)]
pub struct MessageDelivery {
    /// Delivery status reported by the channel, such as `failed`.
    status: String,
    /// Why the delivery failed.
    fail_reason: Option<String>,
    /// Time of the delivery status.
    time: Option<DateTime>,
    /// Id of the group of messages delivered together.
    group_id: Option<Uuid>,
    /// Position of the message in its delivery group.
    order_num: Option<i32>,
}

pub struct Attachment(pub message_attachments::Model);

/// A file attached to a message. The file lives in the caller's storage; this is the
/// reference to it.
#[Object]
impl Attachment {
    /// Id of the attachment.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Key of the file in file storage.
    async fn file_key(&self) -> &str {
        &self.0.file_key
    }
    /// Name of the file.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Size of the file in bytes.
    async fn size(&self) -> i64 {
        self.0.size
    }
    /// Kind of attachment, such as `file`.
    async fn r#type(&self) -> &str {
        &self.0.r#type
    }
    /// Where the file can be downloaded.
    async fn url(&self) -> &str {
        &self.0.url
    }
}

pub struct Draft(pub drafts::Model);

/// The reply an agent is still writing on a ticket; a ticket has at most one.
#[Object]
impl Draft {
    /// Id of the ticket that the draft belongs to.
    async fn ticket_id(&self) -> i64 {
        self.0.ticket_id
    }
    /// Body of the draft.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Format of the body, such as `html`.
    async fn r#type(&self) -> &str {
        &self.0.r#type
    }
    /// What the reply will need to be sent (channel, email headers, quote), as the client
    /// gave it.
    async fn metadata(&self) -> Option<Json<Value>> {
        self.0.metadata.clone().map(Json)
    }
    /// Id of the agent who last saved the draft.
    async fn last_updated_by_id(&self) -> Option<Uuid> {
        self.0.last_updated_by_id
    }
    /// Time when the draft was last saved.
    async fn last_updated_time(&self) -> DateTime {
        self.0.last_updated_time.into()
    }
    /// Files attached to the draft, in the order they were given.
    async fn attachments(&self, ctx: &Context<'_>) -> GqlResult<Vec<DraftAttachment>> {
        let rows = loaders::get::<DraftAttachmentsByTicket, _>(ctx)?
            .load_one(self.0.ticket_id)
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(DraftAttachment)
            .collect())
    }
}

pub struct DraftAttachment(pub draft_attachments::Model);

/// A file attached to a ticket's draft.
#[Object]
impl DraftAttachment {
    /// Id of the attachment.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Id of the ticket whose draft holds the file.
    async fn ticket_id(&self) -> i64 {
        self.0.ticket_id
    }
    /// Key of the file in file storage.
    async fn file_key(&self) -> &str {
        &self.0.file_key
    }
    /// Name of the file.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Size of the file in bytes.
    async fn size(&self) -> i64 {
        self.0.size
    }
    /// Kind of attachment, such as `file`.
    async fn r#type(&self) -> &str {
        &self.0.r#type
    }
    /// Where the file can be downloaded.
    async fn url(&self) -> &str {
        &self.0.url
    }
}

pub struct NoteMention(pub note_mentions::Model);

/// An agent mentioned in a note, who should look at the ticket.
#[Object]
impl NoteMention {
    /// Id of the mention.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Id of the note which the mention belongs to.
    async fn note_id(&self) -> Uuid {
        self.0.note_id
    }
    /// Id of the mentioned agent.
    async fn agent_id(&self) -> Uuid {
        self.0.agent_id
    }
    /// Id of the ticket which the note belongs to.
    async fn ticket_id(&self) -> i64 {
        self.0.ticket_id
    }
    /// Whether the mention has been read by the agent or not.
    async fn is_read_by_agent(&self) -> bool {
        self.0.is_read_by_agent
    }
}

pub struct EventLog(pub ticket_event_logs::Model);

/// An entry of a ticket's history: what happened, who did it and when.
#[Object]
impl EventLog {
    /// Id of the entry.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Id of the ticket the entry is about.
    async fn ticket_id(&self) -> i64 {
        self.0.ticket_id
    }
    /// What happened, such as `created`, `replied`, `noteAdded`, `draftSaved`.
    async fn r#type(&self) -> &str {
        &self.0.r#type
    }
    /// Id of the party who did it.
    async fn created_by_id(&self) -> Option<Uuid> {
        self.0.created_by_id
    }
    /// Who did it.
    async fn created_by_type(&self) -> Option<ParticipantType> {
        self.0.created_by_type.map(Into::into)
    }
    /// The particulars of the event, which vary with its type (the message id of a reply, the
    /// agents mentioned in a note).
    async fn detail(&self) -> Option<Json<Value>> {
        self.0.detail.clone().map(Json)
    }
    /// Time when it happened.
    async fn time(&self) -> DateTime {
        self.0.time.into()
    }
}

/// Fields of a ticket's conversation beyond its page.
#[derive(SimpleObject)]
pub struct MessageConnectionFields {
    /// How many messages and notes the ticket has, on all pages.
    total_count: u64,
}

pub type MessageConnection = Connection<Message, MessageConnectionFields>;

// ---- Ticket relations ----

/// `Ticket.messages`: the ticket's messages and notes, oldest first, a page at a time.
pub async fn ticket_messages(
    ctx: &Context<'_>,
    ticket: &tickets::Model,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> GqlResult<MessageConnection> {
    let page = Page::parse(first, after.as_deref(), last, before.as_deref())?;
    let columns = loaders::columns_of_objects::<messages::Entity>(
        ctx,
        loaders::connection_nodes,
        message_read_by,
    );
    let all = loaders::get::<MessagesByTicket, _>(ctx)?
        .load_one_reading(ticket.id, columns)
        .await?
        .unwrap_or_default();
    Ok(page.cut(&all))
}

/// `Ticket.lastMessage`.
pub async fn ticket_last_message(
    ctx: &Context<'_>,
    ticket: &tickets::Model,
) -> GqlResult<Option<Fast<Message>>> {
    let Some(id) = ticket.last_message_id else {
        return Ok(None);
    };
    let columns = loaders::columns_of_field::<messages::Entity>(ctx, message_read_by);
    let found = loaders::get::<MessageById, _>(ctx)?
        .load_one_reading(id, columns)
        .await?;
    Ok(found.map(|m| Fast(Message(m))))
}

/// `Ticket.draft`.
pub async fn ticket_draft(ctx: &Context<'_>, ticket: &tickets::Model) -> GqlResult<Option<Draft>> {
    let found = loaders::get::<DraftByTicket, _>(ctx)?
        .load_one(ticket.id)
        .await?;
    Ok(found.map(Draft))
}

/// `Ticket.noteMentions`: oldest first.
pub async fn ticket_note_mentions(
    ctx: &Context<'_>,
    ticket: &tickets::Model,
) -> GqlResult<Vec<NoteMention>> {
    let rows = loaders::get::<MentionsByTicket, _>(ctx)?
        .load_one(ticket.id)
        .await?;
    Ok(rows
        .unwrap_or_default()
        .into_iter()
        .map(NoteMention)
        .collect())
}

/// `Ticket.eventLogs`: oldest first.
pub async fn ticket_event_logs(
    ctx: &Context<'_>,
    ticket: &tickets::Model,
) -> GqlResult<Vec<EventLog>> {
    let rows = loaders::get::<EventLogsByTicket, _>(ctx)?
        .load_one(ticket.id)
        .await?;
    Ok(rows.unwrap_or_default().into_iter().map(EventLog).collect())
}

// ---- Mutations ----

/// A file to attach.
#[derive(InputObject)]
pub struct AttachmentInput {
    /// Key of the file in file storage.
    pub file_key: String,
    /// Name of the file.
    pub name: String,
    /// Size of the file in bytes; 0 when omitted.
    pub size: Option<i64>,
    /// Kind of attachment; `file` when omitted.
    pub r#type: Option<String>,
    /// Where the file can be downloaded.
    pub url: Option<String>,
}

impl From<AttachmentInput> for domain::NewAttachment {
    fn from(i: AttachmentInput) -> Self {
        domain::NewAttachment {
            file_key: i.file_key,
            name: i.name,
            size: i.size.unwrap_or(0),
            r#type: i.r#type,
            url: i.url,
        }
    }
}

/// How delivery of a message through its channel went.
#[derive(InputObject)]
pub struct MessageDeliveryInput {
    /// Delivery status reported by the channel, such as `failed`.
    pub status: String,
    /// Why the delivery failed.
    pub fail_reason: Option<String>,
    /// Time of the delivery status.
    pub time: Option<DateTime>,
    /// Id of the group of messages delivered together.
    pub group_id: Option<Uuid>,
    /// Position of the message in its delivery group.
    pub order_num: Option<i32>,
}

/// A message, with the keys of the spec's message JSON.
#[derive(InputObject)]
pub struct MessageInput {
    /// Body of the message, stored as given: text, HTML or a `data:` URI. At most 1 MiB.
    pub body: String,
    /// Body of the message translated for the other side.
    pub translated_body: Option<String>,
    /// Id of the message that this one answers.
    pub parent_id: Option<Uuid>,
    /// Id of the party who sent the message. Omitted, with `sentByType` omitted or `AGENT`,
    /// the message is yours; with another type, nobody in particular sent it.
    pub sent_by_id: Option<Uuid>,
    /// Who sent the message; required with `sentById`.
    pub sent_by_type: Option<ParticipantType>,
    /// Time when the message was sent; now when omitted.
    pub time: Option<DateTime>,
    /// Format of the body; `text` when omitted.
    pub r#type: Option<String>,
    /// What the channel knows about the message. A UUID at `channel.channelAccount` becomes
    /// the message's `channelAccountId`.
    pub metadata: Option<Json<Value>>,
    /// Id of the message in its original channel.
    pub original_id: Option<String>,
    /// Id of the channel of the message.
    pub channel_id: Option<String>,
    /// Whether the message is shown in the ticket's correspondence; true when omitted.
    pub if_display_in_ticket_correspondences: Option<bool>,
    /// Whether the original message was sent to the contact.
    pub is_original_sent_to_contact: Option<bool>,
    /// Whether images in the body are shown inline.
    pub show_inline_image: Option<bool>,
    /// Whether the message has been read.
    pub is_read: Option<bool>,
    /// Whether the message is a note, internal to agents; false when omitted.
    pub is_internal: Option<bool>,
    /// How delivery through the channel went.
    pub message_delivery: Option<MessageDeliveryInput>,
    /// Files to attach, at most 20.
    pub attachments: Option<Vec<AttachmentInput>>,
}

impl From<MessageInput> for domain::NewMessage {
    fn from(i: MessageInput) -> Self {
        domain::NewMessage {
            translated_body: i.translated_body,
            parent_id: i.parent_id,
            sent_by_id: i.sent_by_id,
            sent_by_type: i.sent_by_type.map(Into::into),
            time: i.time.map(|t| t.0),
            r#type: i.r#type,
            metadata: i.metadata.map(|m| m.0),
            original_id: i.original_id,
            channel_id: i.channel_id,
            body: i.body,
            if_display_in_ticket_correspondences: i.if_display_in_ticket_correspondences,
            is_original_sent_to_contact: i.is_original_sent_to_contact,
            show_inline_image: i.show_inline_image,
            is_read: i.is_read,
            is_internal: i.is_internal,
            message_delivery: i.message_delivery.map(|d| domain::NewDelivery {
                status: d.status,
                fail_reason: d.fail_reason,
                time: d.time.map(|t| t.0),
                group_id: d.group_id,
                order_num: d.order_num,
            }),
            attachments: attachments(i.attachments),
        }
    }
}

/// A note for the other agents.
#[derive(InputObject)]
pub struct NoteInput {
    /// Body of the note. At most 1 MiB.
    pub body: String,
    /// Agents of your site to notify; each gets one unread mention, however often named.
    pub mentioned_agent_ids: Option<Vec<Uuid>>,
    /// Files to attach, at most 20.
    pub attachments: Option<Vec<AttachmentInput>>,
}

impl From<NoteInput> for domain::NewNote {
    fn from(i: NoteInput) -> Self {
        domain::NewNote {
            body: i.body,
            mentioned_agent_ids: i.mentioned_agent_ids.unwrap_or_default(),
            attachments: attachments(i.attachments),
        }
    }
}

/// The whole draft: what is not given is not kept.
#[derive(InputObject)]
pub struct DraftInput {
    /// Body of the draft; may be empty. At most 1 MiB.
    pub body: String,
    /// Format of the body; `html` when omitted.
    pub r#type: Option<String>,
    /// What the reply will need to be sent (channel, email headers, quote).
    pub metadata: Option<Json<Value>>,
    /// Files to attach, at most 20; they replace the draft's previous files.
    pub attachments: Option<Vec<AttachmentInput>>,
}

impl From<DraftInput> for domain::NewDraft {
    fn from(i: DraftInput) -> Self {
        domain::NewDraft {
            body: i.body,
            r#type: i.r#type,
            metadata: i.metadata.map(|m| m.0),
            attachments: attachments(i.attachments),
        }
    }
}

fn attachments(list: Option<Vec<AttachmentInput>>) -> Vec<domain::NewAttachment> {
    list.unwrap_or_default()
        .into_iter()
        .map(Into::into)
        .collect()
}

#[derive(Default)]
pub struct ConversationMutation;

#[Object]
impl ConversationMutation {
    /// Adds a message to a ticket: a reply, or a note when `isInternal` is true. The ticket's
    /// last message, and for a reply its last replier, reply time and reply count, follow.
    async fn add_message(
        &self,
        ctx: &Context<'_>,
        ticket_id: i64,
        input: MessageInput,
    ) -> GqlResult<Message> {
        let (db, actor) = session(ctx)?;
        let message = domain::add_message(db, actor, ticket_id, input.into()).await?;
        Ok(Message(message))
    }

    /// Adds a note from you, which only agents see, mentioning agents of your site.
    async fn add_note(
        &self,
        ctx: &Context<'_>,
        ticket_id: i64,
        input: NoteInput,
    ) -> GqlResult<Message> {
        let (db, actor) = session(ctx)?;
        let note = domain::add_note(db, actor, ticket_id, input.into()).await?;
        Ok(Message(note))
    }

    /// Saves the ticket's draft, replacing the previous one with its files.
    async fn save_draft(
        &self,
        ctx: &Context<'_>,
        ticket_id: i64,
        input: DraftInput,
    ) -> GqlResult<Draft> {
        let (db, actor) = session(ctx)?;
        let draft = domain::save_draft(db, actor, ticket_id, input.into()).await?;
        Ok(Draft(draft))
    }

    /// Throws the ticket's draft away. Discarding when there is no draft does nothing.
    async fn discard_draft(&self, ctx: &Context<'_>, ticket_id: i64) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        let ticket = domain::discard_draft(db, actor, ticket_id).await?;
        Ok(Ticket(ticket))
    }
}

// ---- Paging ----

/// The position of a message in its conversation, which is ordered by time, then id.
type Key = (i64, Uuid);

fn key_of(m: &messages::Model) -> Key {
    (m.time.timestamp_millis(), m.id)
}

/// Cursors are opaque to clients but stable: they name a position, not an offset, so a page
/// stays put when messages are added before it.
fn encode_cursor((millis, id): Key) -> String {
    URL_SAFE_NO_PAD.encode(format!("{millis}:{id}"))
}

fn decode_cursor(field: &str, cursor: &str) -> crate::Result<Key> {
    let bad = || {
        crate::Error::bad_input(
            field,
            format!("{field} is not a cursor of this conversation"),
        )
    };
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (millis, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        millis.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

/// A Relay page request: `first`/`after` page forwards, `last`/`before` backwards. With
/// neither `first` nor `last`, the first [`DEFAULT_PAGE`] messages.
#[derive(Debug)]
struct Page {
    first: Option<usize>,
    after: Option<Key>,
    last: Option<usize>,
    before: Option<Key>,
}

impl Page {
    fn parse(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> crate::Result<Page> {
        let size = |field: &str, n: Option<i32>| -> crate::Result<Option<usize>> {
            match n {
                Some(n) if !(0..=MAX_PAGE as i32).contains(&n) => Err(crate::Error::bad_input(
                    field,
                    format!("{field} must be between 0 and {MAX_PAGE}"),
                )),
                n => Ok(n.map(|n| n as usize)),
            }
        };
        let (first, last) = (size("first", first)?, size("last", last)?);
        Ok(Page {
            first: if first.is_none() && last.is_none() {
                Some(DEFAULT_PAGE)
            } else {
                first
            },
            after: after.map(|c| decode_cursor("after", c)).transpose()?,
            last,
            before: before.map(|c| decode_cursor("before", c)).transpose()?,
        })
    }

    /// Cuts the page out of the whole conversation (sorted by [`key_of`]). The page flags say
    /// whether anything lies beyond the page on either side, whichever way the client pages.
    fn cut(&self, all: &[messages::Model]) -> MessageConnection {
        let mut lo = self
            .after
            .map_or(0, |a| all.partition_point(|m| key_of(m) <= a));
        let mut hi = self
            .before
            .map_or(all.len(), |b| all.partition_point(|m| key_of(m) < b))
            .max(lo);
        if let Some(first) = self.first {
            hi = hi.min(lo + first);
        }
        if let Some(last) = self.last {
            lo = lo.max(hi.saturating_sub(last));
        }
        let mut connection = Connection::new(
            lo > 0,
            hi < all.len(),
            MessageConnectionFields {
                total_count: all.len() as u64,
            },
        );
        connection.edges = all[lo..hi]
            .iter()
            .map(|m| Edge::new(encode_cursor(key_of(m)), Message(m.clone())))
            .collect();
        connection
    }
}

// ---- Loaders ----

/// A ticket's whole conversation, sorted by [`key_of`]; pages are cut from it in memory, so
/// any number of pages of any number of tickets cost one query.
pub struct MessagesByTicket(Scope);

impl Loader<i64> for MessagesByTicket {
    type Value = Arc<[messages::Model]>;

    async fn load(
        &self,
        keys: &[i64],
        columns: Columns,
    ) -> Result<Found<i64, Self::Value>, GqlError> {
        // The order and the pages' cursors read each message's time and id.
        let columns =
            Columns::of::<messages::Entity>(&[messages::Column::Time, messages::Column::Id])
                .union(columns);
        let order = [
            (messages::Column::Time, Order::Asc),
            (messages::Column::Id, Order::Asc),
        ];
        let grouped = loaders::many_per_key::<messages::Entity, _>(
            &self.0,
            messages::Column::TicketId,
            keys,
            |m| m.ticket_id,
            &order,
            columns,
        )
        .await?;
        Ok(grouped
            .into_iter()
            .map(|(ticket, mut rows)| {
                // Paging compares keys in Rust; sort by exactly that key rather than trust
                // each backend's ordering of times and UUIDs to agree with it.
                rows.sort_by_key(key_of);
                (ticket, rows.into())
            })
            .collect())
    }
}

/// Messages by id, for `Ticket.lastMessage`.
pub struct MessageById(Scope);

impl Loader<Uuid> for MessageById {
    type Value = messages::Model;

    async fn load(
        &self,
        keys: &[Uuid],
        columns: Columns,
    ) -> Result<Found<Uuid, Self::Value>, GqlError> {
        let id = messages::Column::Id;
        loaders::one_per_key::<messages::Entity, _>(&self.0, id, keys, |m| m.id, columns).await
    }
}

/// A message's attachments, in their order.
pub struct AttachmentsByMessage(Scope);

impl Loader<Uuid> for AttachmentsByMessage {
    type Value = Vec<message_attachments::Model>;

    async fn load(
        &self,
        keys: &[Uuid],
        _columns: Columns,
    ) -> Result<Found<Uuid, Self::Value>, GqlError> {
        loaders::many_per_key::<message_attachments::Entity, _>(
            &self.0,
            message_attachments::Column::MessageId,
            keys,
            |a| a.message_id,
            &[(message_attachments::Column::Position, Order::Asc)],
            Columns::ALL,
        )
        .await
    }
}

/// A ticket's draft, when it has one.
pub struct DraftByTicket(Scope);

impl Loader<i64> for DraftByTicket {
    type Value = drafts::Model;

    async fn load(
        &self,
        keys: &[i64],
        _columns: Columns,
    ) -> Result<Found<i64, Self::Value>, GqlError> {
        let ticket = drafts::Column::TicketId;
        loaders::one_per_key::<drafts::Entity, _>(
            &self.0,
            ticket,
            keys,
            |d| d.ticket_id,
            Columns::ALL,
        )
        .await
    }
}

/// The attachments of a ticket's draft, in their order.
pub struct DraftAttachmentsByTicket(Scope);

impl Loader<i64> for DraftAttachmentsByTicket {
    type Value = Vec<draft_attachments::Model>;

    async fn load(
        &self,
        keys: &[i64],
        _columns: Columns,
    ) -> Result<Found<i64, Self::Value>, GqlError> {
        loaders::many_per_key::<draft_attachments::Entity, _>(
            &self.0,
            draft_attachments::Column::TicketId,
            keys,
            |a| a.ticket_id,
            &[(draft_attachments::Column::Position, Order::Asc)],
            Columns::ALL,
        )
        .await
    }
}

/// The mentions in a ticket's notes, oldest first.
pub struct MentionsByTicket(Scope);

impl Loader<i64> for MentionsByTicket {
    type Value = Vec<note_mentions::Model>;

    async fn load(
        &self,
        keys: &[i64],
        _columns: Columns,
    ) -> Result<Found<i64, Self::Value>, GqlError> {
        loaders::many_per_key::<note_mentions::Entity, _>(
            &self.0,
            note_mentions::Column::TicketId,
            keys,
            |m| m.ticket_id,
            &[
                (note_mentions::Column::CreatedTime, Order::Asc),
                (note_mentions::Column::Id, Order::Asc),
            ],
            Columns::ALL,
        )
        .await
    }
}

/// A ticket's event log, oldest first.
pub struct EventLogsByTicket(Scope);

impl Loader<i64> for EventLogsByTicket {
    type Value = Vec<ticket_event_logs::Model>;

    async fn load(
        &self,
        keys: &[i64],
        _columns: Columns,
    ) -> Result<Found<i64, Self::Value>, GqlError> {
        loaders::many_per_key::<ticket_event_logs::Entity, _>(
            &self.0,
            ticket_event_logs::Column::TicketId,
            keys,
            |e| e.ticket_id,
            &[
                (ticket_event_logs::Column::Time, Order::Asc),
                (ticket_event_logs::Column::Id, Order::Asc),
            ],
            Columns::ALL,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(n: usize) -> Vec<messages::Model> {
        let start = chrono::DateTime::parse_from_rfc3339("2021-04-26T10:52:24.336Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        (0..n)
            .map(|i| messages::Model {
                id: Uuid::now_v7(),
                site_id: Uuid::nil(),
                ticket_id: 1,
                parent_id: None,
                original_id: None,
                sent_by_id: None,
                sent_by_type: None,
                // Pairs share a time, so the id must break ties.
                time: start + chrono::TimeDelta::seconds((i / 2) as i64),
                r#type: "text".into(),
                metadata: None,
                channel_id: None,
                channel_account_id: None,
                body: format!("m{i}"),
                translated_body: String::new(),
                if_display_in_ticket_correspondences: true,
                is_original_sent_to_contact: false,
                show_inline_image: false,
                is_read: false,
                is_internal: false,
                delivery_status: None,
                delivery_fail_reason: None,
                delivery_time: None,
                delivery_group_id: None,
                delivery_order_num: None,
                created_time: start,
            })
            .collect()
    }

    fn bodies(c: &MessageConnection) -> Vec<String> {
        c.edges.iter().map(|e| e.node.0.body.clone()).collect()
    }

    fn page(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> Page {
        Page::parse(first, after, last, before).unwrap()
    }

    #[test]
    fn forward_pages_cover_everything_once_in_order() {
        let all = conversation(7);
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let c = page(Some(3), after.as_deref(), None, None).cut(&all);
            seen.extend(bodies(&c));
            assert_eq!(c.has_previous_page, after.is_some());
            if !c.has_next_page {
                break;
            }
            after = c.edges.last().map(|e| e.cursor.clone());
        }
        assert_eq!(seen, (0..7).map(|i| format!("m{i}")).collect::<Vec<_>>());
    }

    #[test]
    fn backward_pages_end_at_the_newest() {
        let all = conversation(7);
        let c = page(None, None, Some(3), None).cut(&all);
        assert_eq!(bodies(&c), ["m4", "m5", "m6"]);
        assert!(c.has_previous_page && !c.has_next_page);
        let before = c.edges[0].cursor.clone();
        let c = page(None, None, Some(3), Some(&before)).cut(&all);
        assert_eq!(bodies(&c), ["m1", "m2", "m3"]);
        assert!(c.has_previous_page && c.has_next_page);
        let before = c.edges[0].cursor.clone();
        let c = page(None, None, Some(3), Some(&before)).cut(&all);
        assert_eq!(bodies(&c), ["m0"]);
        assert!(!c.has_previous_page && c.has_next_page);
    }

    #[test]
    fn the_default_page_is_the_oldest_twenty() {
        let all = conversation(25);
        let c = page(None, None, None, None).cut(&all);
        assert_eq!(c.edges.len(), DEFAULT_PAGE);
        assert_eq!(c.edges[0].node.0.body, "m0");
        assert!(c.has_next_page);
        assert_eq!(c.fields.total_count, 25);
    }

    #[test]
    fn sizes_out_of_range_and_foreign_cursors_are_refused() {
        for (first, last, field) in [(Some(101), None, "first"), (None, Some(-1), "last")] {
            let e = Page::parse(first, None, last, None).unwrap_err();
            assert_eq!(e.field(), Some(field));
        }
        let e = Page::parse(None, Some("bm90IGEgY3Vyc29y"), None, None).unwrap_err();
        assert_eq!(e.field(), Some("after"));
        let e = Page::parse(None, None, None, Some("%%%")).unwrap_err();
        assert_eq!(e.field(), Some("before"));
    }

    /// Relations must cost one query each for all the tickets of a request. The tickets come
    /// from one list here, as from `Query.tickets`, so their relations are asked for in the
    /// same instant and the count does not depend on timing.
    mod batching {
        use std::sync::{Arc, Mutex};

        use async_graphql::{EmptyMutation, EmptySubscription, Schema};
        use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter, Set};

        use super::super::*;
        use crate::domain::{self, conversation as conv, sites};
        use crate::entity::contacts;

        struct ListQuery;

        #[Object]
        impl ListQuery {
            async fn tickets(&self, ctx: &Context<'_>, ids: Vec<i64>) -> GqlResult<Vec<Ticket>> {
                let (db, actor) = session(ctx)?;
                let rows = actor
                    .find::<tickets::Entity>()
                    .filter(tickets::Column::Id.is_in(ids))
                    .all(db.connection())
                    .await
                    .map_err(crate::Error::from)?;
                Ok(rows.into_iter().map(Ticket).collect())
            }
        }

        fn attachment(name: &str) -> conv::NewAttachment {
            conv::NewAttachment {
                file_key: name.into(),
                name: name.into(),
                ..Default::default()
            }
        }

        #[tokio::test]
        async fn the_conversations_of_several_tickets_load_in_one_query_per_relation() {
            let dir = tempfile::tempdir().unwrap();
            let config = crate::config::DatabaseConfig {
                database_url: format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
                db_max_connections: 5,
                db_acquire_timeout: std::time::Duration::from_secs(3),
            };
            let db = crate::db::connect(&config).await.unwrap();
            crate::db::migrate(&db).await.unwrap();
            let site = sites::create_site(&db, "Batching").await.unwrap();
            let actor = site.principal();
            let contact = contacts::ActiveModel {
                id: Set(Uuid::now_v7()),
                site_id: Set(actor.site_id),
                name: Set("Ann".into()),
                email: Set(None),
                phone: Set(None),
                language: Set(String::new()),
                created_time: Set(domain::now()),
            }
            .insert(&db)
            .await
            .unwrap();
            let mut ids = Vec::new();
            for n in 0..5 {
                let new = domain::tickets::NewTicket {
                    subject: format!("t{n}"),
                    channel_id: "email".into(),
                    contact_or_visitor_id: contact.id,
                    ..Default::default()
                };
                let id = domain::tickets::create(&db, &actor, new).await.unwrap().id;
                for m in 0..2 {
                    let message = conv::NewMessage {
                        body: format!("t{n}m{m}"),
                        attachments: vec![attachment("f")],
                        ..Default::default()
                    };
                    conv::add_message(&db, &actor, id, message).await.unwrap();
                }
                let note = conv::NewNote {
                    body: "note".into(),
                    mentioned_agent_ids: vec![actor.agent_id],
                    ..Default::default()
                };
                conv::add_note(&db, &actor, id, note).await.unwrap();
                let draft = conv::NewDraft {
                    body: "wip".into(),
                    attachments: vec![attachment("d")],
                    ..Default::default()
                };
                conv::save_draft(&db, &actor, id, draft).await.unwrap();
                ids.push(id);
            }

            let sql = Arc::new(Mutex::new(Vec::<String>::new()));
            let log = sql.clone();
            let counted = crate::db::observe_statements(db.clone(), move |sql| {
                log.lock().unwrap().push(sql.to_owned());
            });
            let schema = Schema::build(ListQuery, EmptyMutation, EmptySubscription)
                .data(counted.clone())
                .finish();
            let query = format!(
                "{{ tickets(ids: {ids:?}) {{
                    messages {{ totalCount edges {{ node {{ body attachments {{ name }} }} }} }}
                    lastMessage {{ body }}
                    draft {{ body attachments {{ name }} }}
                    noteMentions {{ agentId }}
                    eventLogs {{ type }} }} }}"
            );
            let request = loaders::attach(Request::new(query).data(actor), &counted, actor);
            let response = schema.execute(request).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            let data = response.data.into_json().unwrap();
            let listed = data["tickets"].as_array().unwrap();
            assert_eq!(listed.len(), 5);
            for t in listed {
                assert_eq!(t["messages"]["totalCount"], 3);
                assert_eq!(
                    t["messages"]["edges"][0]["node"]["attachments"][0]["name"],
                    "f"
                );
                assert_eq!(t["lastMessage"]["body"], "note");
                assert_eq!(t["draft"]["attachments"][0]["name"], "d");
                assert_eq!(t["noteMentions"].as_array().unwrap().len(), 1);
                assert_eq!(t["eventLogs"].as_array().unwrap().len(), 5);
            }

            let sql = sql.lock().unwrap().clone();
            let selects = |table: &str| {
                let needle = format!("FROM \"{table}\"");
                sql.iter()
                    .filter(|s| s.starts_with("SELECT") && s.contains(&needle))
                    .count()
            };
            // `messages` twice: by ticket for the connection, by id for `lastMessage`.
            for (table, queries) in [
                ("tickets", 1),
                ("messages", 2),
                ("message_attachments", 1),
                ("drafts", 1),
                ("draft_attachments", 1),
                ("note_mentions", 1),
                ("ticket_event_logs", 1),
            ] {
                assert_eq!(selects(table), queries, "{table}: {sql:#?}");
            }
        }
    }
}
