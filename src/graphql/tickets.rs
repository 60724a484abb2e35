//! Tickets: the `Ticket` type, its queries and mutations.

use async_graphql::{Context, InputObject, Object};
use uuid::Uuid;

use super::enums::{AssigneeType, ParticipantType, Priority, ReplyingAgent, TicketStatus};
use super::{DateTime, GqlResult, session};
use crate::domain::tickets as domain;
use crate::entity::tickets;

/// A helpdesk ticket: one conversation with a contact or visitor, worked by agents.
pub struct Ticket(pub tickets::Model);

#[Object]
impl Ticket {
    /// Id of the ticket.
    async fn id(&self) -> i64 {
        self.0.id
    }
    /// Subject of the ticket.
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    /// Conversation id in the original channel.
    async fn original_conversation_id(&self) -> Option<&str> {
        self.0.original_conversation_id.as_deref()
    }
    /// Id of the agent or chatbot that the ticket is assigned to.
    async fn assignee_id(&self) -> Option<Uuid> {
        self.0.assignee_id
    }
    /// Type of the ticket assignee.
    async fn assignee_type(&self) -> Option<AssigneeType> {
        self.0.assignee_type.map(Into::into)
    }
    /// Id of the department that the ticket is assigned to.
    async fn department_assignee_id(&self) -> Option<Uuid> {
        self.0.department_assignee_id
    }
    /// Id of the channel of the first message of the ticket.
    async fn channel_id(&self) -> &str {
        &self.0.channel_id
    }
    /// Id of the channel account of the first message of the ticket.
    async fn channel_account_id(&self) -> Option<Uuid> {
        self.0.channel_account_id
    }
    /// Id of the last message of the ticket.
    async fn last_message_id(&self) -> Option<Uuid> {
        self.0.last_message_id
    }
    /// Id of the channel of the last message of the ticket.
    async fn last_message_channel_id(&self) -> Option<&str> {
        self.0.last_message_channel_id.as_deref()
    }
    /// Id of the channel account of the last message of the ticket.
    async fn last_message_channel_account_id(&self) -> Option<Uuid> {
        self.0.last_message_channel_account_id
    }
    /// Id of the contact or visitor that the ticket relates to.
    async fn contact_or_visitor_id(&self) -> Option<Uuid> {
        self.0.contact_or_visitor_id
    }
    /// Type of the ticket's contact.
    async fn contact_or_visitor_type(&self) -> Option<ParticipantType> {
        self.0.contact_or_visitor_type.map(Into::into)
    }
    /// Id of the party (contact, visitor, chatbot, channel account, system, agent) who created the ticket.
    async fn created_by_id(&self) -> Option<Uuid> {
        self.0.created_by_id
    }
    /// Who created the ticket.
    async fn created_by_type(&self) -> Option<ParticipantType> {
        self.0.created_by_type.map(Into::into)
    }
    /// Id of the party who last replied to the ticket.
    async fn last_replied_by_id(&self) -> Option<Uuid> {
        self.0.last_replied_by_id
    }
    /// Who replied to the ticket most recently.
    async fn last_replied_by_type(&self) -> Option<ParticipantType> {
        self.0.last_replied_by_type.map(Into::into)
    }
    /// Id of the party who resolved the ticket.
    async fn resolved_by_id(&self) -> Option<Uuid> {
        self.0.resolved_by_id
    }
    /// Who resolved the ticket.
    async fn resolved_by_type(&self) -> Option<ParticipantType> {
        self.0.resolved_by_type.map(Into::into)
    }
    /// Status of the ticket.
    async fn status(&self) -> TicketStatus {
        self.0.status.into()
    }
    /// Priority of the ticket.
    async fn priority(&self) -> Priority {
        self.0.priority.into()
    }
    /// Whether the ticket is read by any agent or not.
    async fn is_read_by_agent(&self) -> bool {
        self.0.is_read_by_agent
    }
    /// Whether the ticket is read by the contact or not.
    async fn is_read_by_contact(&self) -> bool {
        self.0.is_read_by_contact
    }
    /// Whether the ticket has a draft or not.
    async fn if_has_draft(&self) -> bool {
        self.0.if_has_draft
    }
    /// Id of the ticket that this one was merged into.
    async fn merged_to_target_id(&self) -> Option<i64> {
        self.0.merged_to_target_id
    }
    /// Total number of messages replied by agents, contacts or visitors.
    async fn total_replies(&self) -> i32 {
        self.0.total_replies
    }
    /// Time when the ticket was created.
    async fn created_time(&self) -> DateTime {
        self.0.created_time.into()
    }
    /// Last updated time of the ticket.
    async fn last_updated_time(&self) -> DateTime {
        self.0.last_updated_time.into()
    }
    /// Last replied time of the ticket.
    async fn last_replied_time(&self) -> Option<DateTime> {
        self.0.last_replied_time.map(Into::into)
    }
    /// Last time the status of the ticket changed.
    async fn last_status_changed_time(&self) -> Option<DateTime> {
        self.0.last_status_changed_time.map(Into::into)
    }
    /// Time when the ticket was resolved.
    async fn resolved_time(&self) -> Option<DateTime> {
        self.0.resolved_time.map(Into::into)
    }
    /// Whether the ticket is in the recycle bin or not.
    async fn is_in_recycle_bin(&self) -> bool {
        self.0.is_in_recycle_bin
    }
    /// Time when the resolved ticket was reopened.
    async fn reopened_time(&self) -> Option<DateTime> {
        self.0.reopened_time.map(Into::into)
    }
    /// Language of the contact or visitor.
    async fn contact_language(&self) -> &str {
        &self.0.contact_language
    }
    /// Language of the agent side.
    async fn agent_language(&self) -> &str {
        &self.0.agent_language
    }
    /// Whether messages are translated automatically.
    async fn auto_translation_status(&self) -> bool {
        self.0.auto_translation_status
    }
    /// Total time, in seconds, that the ticket spent pending internal.
    async fn response_time_span(&self) -> i64 {
        self.0.response_time_span
    }
    /// Who has replied to the ticket so far.
    async fn replying_agent(&self) -> ReplyingAgent {
        self.0.replying_agent.into()
    }
    /// Number of replies.
    async fn response_count(&self) -> i64 {
        self.0.response_count
    }
    /// Time, in seconds, from creation to the latest resolution.
    async fn resolved_time_span(&self) -> Option<i64> {
        self.0.resolved_time_span
    }
    /// Time, in seconds, from creation to the first public agent or bot reply.
    async fn first_response_time_span(&self) -> Option<i64> {
        self.0.first_response_time_span
    }

    // ---- Relations to the directory: resolvers live in graphql/directory.rs. ----

    /// Ids of the ticket's tags.
    async fn tag_ids(&self, ctx: &Context<'_>) -> GqlResult<Vec<Uuid>> {
        super::directory::ticket_tag_ids(ctx, &self.0).await
    }

    // ---- end of directory relations ----

    // ---- Relations to the conversation: resolvers live in graphql/conversation.rs. ----

    /// The ticket's messages and notes, oldest first: a Relay connection paged with `first`
    /// and `after` or `last` and `before` (20 when neither size is given, at most 100).
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> GqlResult<super::conversation::MessageConnection> {
        super::conversation::ticket_messages(ctx, &self.0, first, after, last, before).await
    }
    /// The last message of the ticket.
    async fn last_message(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<Option<super::conversation::Message>> {
        super::conversation::ticket_last_message(ctx, &self.0).await
    }
    /// The reply draft of the ticket.
    async fn draft(&self, ctx: &Context<'_>) -> GqlResult<Option<super::conversation::Draft>> {
        super::conversation::ticket_draft(ctx, &self.0).await
    }
    /// Agents mentioned in the ticket's notes.
    async fn note_mentions(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<Vec<super::conversation::NoteMention>> {
        super::conversation::ticket_note_mentions(ctx, &self.0).await
    }
    /// What happened to the ticket, oldest first.
    async fn event_logs(&self, ctx: &Context<'_>) -> GqlResult<Vec<super::conversation::EventLog>> {
        super::conversation::ticket_event_logs(ctx, &self.0).await
    }

    // ---- end of conversation relations ----
}

/// The ticket loaders (by id).
pub fn attach_loaders(
    request: async_graphql::Request,
    _scope: &super::loaders::Scope,
) -> async_graphql::Request {
    request
}

#[derive(Default)]
pub struct TicketQuery;

#[Object]
impl TicketQuery {
    /// One ticket of the caller's site, by id.
    async fn ticket(&self, ctx: &Context<'_>, id: i64) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(domain::get(db, actor, id).await?))
    }
}

/// A new ticket.
#[derive(InputObject)]
pub struct CreateTicketInput {
    /// Subject of the ticket.
    pub subject: String,
    /// Id of the channel of the first message of the ticket.
    pub channel_id: String,
    /// Id of the contact or visitor that the ticket relates to.
    pub contact_or_visitor_id: Uuid,
    /// Type of the ticket's contact; `CONTACT` when omitted.
    pub contact_or_visitor_type: Option<ParticipantType>,
    /// Conversation id in the original channel.
    pub original_conversation_id: Option<String>,
    /// Id of the agent or chatbot that the ticket is assigned to.
    pub assignee_id: Option<Uuid>,
    /// Type of the assignee; `AGENT` when omitted.
    pub assignee_type: Option<AssigneeType>,
    /// Id of the department that the ticket is assigned to.
    pub department_assignee_id: Option<Uuid>,
    /// Id of the channel account of the first message of the ticket.
    pub channel_account_id: Option<Uuid>,
    /// Id of the party who created the ticket; the calling agent when omitted.
    pub created_by_id: Option<Uuid>,
    /// Who created the ticket; `AGENT` when omitted.
    pub created_by_type: Option<ParticipantType>,
    /// Status of the ticket; `NEW` when omitted.
    pub status: Option<TicketStatus>,
    /// Priority of the ticket; `NORMAL` when omitted.
    pub priority: Option<Priority>,
    pub contact_language: Option<String>,
    pub agent_language: Option<String>,
    pub auto_translation_status: Option<bool>,
}

impl From<CreateTicketInput> for domain::NewTicket {
    fn from(i: CreateTicketInput) -> Self {
        domain::NewTicket {
            subject: i.subject,
            channel_id: i.channel_id,
            contact_or_visitor_id: i.contact_or_visitor_id,
            contact_or_visitor_type: i.contact_or_visitor_type.map(Into::into),
            original_conversation_id: i.original_conversation_id,
            assignee_id: i.assignee_id,
            assignee_type: i.assignee_type.map(Into::into),
            department_assignee_id: i.department_assignee_id,
            channel_account_id: i.channel_account_id,
            created_by_id: i.created_by_id,
            created_by_type: i.created_by_type.map(Into::into),
            status: i.status.map(Into::into),
            priority: i.priority.map(Into::into),
            contact_language: i.contact_language,
            agent_language: i.agent_language,
            auto_translation_status: i.auto_translation_status,
        }
    }
}

#[derive(Default)]
pub struct TicketMutation;

#[Object]
impl TicketMutation {
    /// Opens a ticket in the caller's site.
    async fn create_ticket(
        &self,
        ctx: &Context<'_>,
        input: CreateTicketInput,
    ) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(domain::create(db, actor, input.into()).await?))
    }
}
