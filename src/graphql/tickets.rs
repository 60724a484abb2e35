//! Tickets: the `Ticket` type, its queries and mutations.

use async_graphql::{Context, Enum, InputObject, MaybeUndefined, Object, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::connection::{Connection, Edge};
use super::conversation::MessageInput;
use super::enums::{AssigneeType, ParticipantType, Priority, ReplyingAgent, TicketStatus};
use super::fast::{Fast, FastUnion, Objects};
use super::loaders::columns_for;
use super::{DateTime, GqlResult, session};
use crate::domain::listing::{self, Cursor, Page, Sort, SortField};
use crate::domain::tickets as domain;
use crate::domain::{merge, unread};
use crate::entity::rows::Columns;
use crate::entity::tickets;

/// A helpdesk ticket: one conversation with a contact or visitor, worked by agents.
pub struct Ticket(pub tickets::Model);

/// A helpdesk ticket: one conversation with a contact or visitor, worked by agents.
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
    /// Counts the changes to the ticket: any change makes it larger. Send it back as
    /// `expectedVersion` to change the ticket only if nobody changed it since (the REST API's
    /// `ETag`).
    async fn version(&self) -> i64 {
        self.0.version
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
    /// The ticket's tags, by name.
    async fn tags(&self, ctx: &Context<'_>) -> GqlResult<Objects<super::directory::Tag>> {
        super::directory::ticket_tags(ctx, &self.0).await
    }
    /// The agent or chatbot the ticket is assigned to; null when unassigned.
    async fn assignee(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<Option<FastUnion<super::directory::Assignee>>> {
        super::directory::ticket_assignee(ctx, &self.0).await
    }
    /// The department the ticket is assigned to.
    async fn department_assignee(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<Option<super::directory::Department>> {
        super::directory::ticket_department_assignee(ctx, &self.0).await
    }
    /// The contact or visitor the ticket is about.
    async fn contact_or_visitor(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<Option<FastUnion<super::directory::Participant>>> {
        super::directory::ticket_contact_or_visitor(ctx, &self.0).await
    }
    /// Who created the ticket.
    async fn created_by(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<Option<FastUnion<super::directory::Participant>>> {
        super::directory::ticket_created_by(ctx, &self.0).await
    }
    /// Who replied to the ticket most recently.
    async fn last_replied_by(
        &self,
        ctx: &Context<'_>,
    ) -> GqlResult<Option<FastUnion<super::directory::Participant>>> {
        super::directory::ticket_last_replied_by(ctx, &self.0).await
    }

    // ---- end of directory relations ----

    // ---- Relations to the conversation: resolvers live in graphql/conversation.rs. ----

    /// The ticket's messages and notes, oldest first: a Relay connection paged with `first`
    /// and `after` or `last` and `before` (20 when neither size is given, at most 100).
    #[graphql(complexity = "super::limits::list_cost(first.or(last), child_complexity)")]
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
    ) -> GqlResult<Option<Fast<super::conversation::Message>>> {
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

/// The columns `Ticket.<field>` reads, or `None` for a field not listed here (which makes a
/// list read every column). A resolver that starts reading another column must say so here:
/// `tests/it/ticket_columns.rs` asks every field alone of a list and compares it with the
/// same field of a ticket read whole.
fn read_by(field: &str) -> Option<Columns> {
    use tickets::Column as C;
    let read: &[C] = match field {
        "__typename" => &[],
        "id" | "tagIds" | "tags" | "messages" | "draft" | "noteMentions" | "eventLogs" => &[C::Id],
        "subject" => &[C::Subject],
        "originalConversationId" => &[C::OriginalConversationId],
        "assigneeId" => &[C::AssigneeId],
        "assigneeType" => &[C::AssigneeType],
        "assignee" => &[C::AssigneeId, C::AssigneeType],
        "departmentAssigneeId" | "departmentAssignee" => &[C::DepartmentAssigneeId],
        "channelId" => &[C::ChannelId],
        "channelAccountId" => &[C::ChannelAccountId],
        "lastMessageId" | "lastMessage" => &[C::LastMessageId],
        "lastMessageChannelId" => &[C::LastMessageChannelId],
        "lastMessageChannelAccountId" => &[C::LastMessageChannelAccountId],
        "contactOrVisitorId" => &[C::ContactOrVisitorId],
        "contactOrVisitorType" => &[C::ContactOrVisitorType],
        "contactOrVisitor" => &[C::ContactOrVisitorId, C::ContactOrVisitorType],
        "createdById" => &[C::CreatedById],
        "createdByType" => &[C::CreatedByType],
        "createdBy" => &[C::CreatedById, C::CreatedByType],
        "lastRepliedById" => &[C::LastRepliedById],
        "lastRepliedByType" => &[C::LastRepliedByType],
        "lastRepliedBy" => &[C::LastRepliedById, C::LastRepliedByType],
        "resolvedById" => &[C::ResolvedById],
        "resolvedByType" => &[C::ResolvedByType],
        "status" => &[C::Status],
        "priority" => &[C::Priority],
        "isReadByAgent" => &[C::IsReadByAgent],
        "isReadByContact" => &[C::IsReadByContact],
        "ifHasDraft" => &[C::IfHasDraft],
        "mergedToTargetId" => &[C::MergedToTargetId],
        "totalReplies" => &[C::TotalReplies],
        "createdTime" => &[C::CreatedTime],
        "lastUpdatedTime" => &[C::LastUpdatedTime],
        "lastRepliedTime" => &[C::LastRepliedTime],
        "lastStatusChangedTime" => &[C::LastStatusChangedTime],
        "resolvedTime" => &[C::ResolvedTime],
        "isInRecycleBin" => &[C::IsInRecycleBin],
        "reopenedTime" => &[C::ReopenedTime],
        "contactLanguage" => &[C::ContactLanguage],
        "agentLanguage" => &[C::AgentLanguage],
        "autoTranslationStatus" => &[C::AutoTranslationStatus],
        "responseTimeSpan" => &[C::ResponseTimeSpan],
        "replyingAgent" => &[C::ReplyingAgent],
        "responseCount" => &[C::ResponseCount],
        "resolvedTimeSpan" => &[C::ResolvedTimeSpan],
        "version" => &[C::Version],
        "firstResponseTimeSpan" => &[C::FirstResponseTimeSpan],
        _ => return None,
    };
    Some(Columns::of::<tickets::Entity>(read))
}

/// The ticket loaders (by id).
pub fn attach_loaders(
    request: async_graphql::Request,
    _scope: &super::loaders::Scope,
) -> async_graphql::Request {
    request
}

/// Which tickets to list. Every field narrows the list; recycled and merged tickets are left
/// out unless asked for.
#[derive(InputObject, Default)]
pub struct TicketFilter {
    /// Only tickets carrying this tag.
    pub tag_id: Option<Uuid>,
    /// Only tickets updated at or after this time.
    pub updated_since: Option<DateTime>,
    /// Only tickets last replied at or after this time.
    pub last_replied_since: Option<DateTime>,
    /// Words to find in the subject or the messages.
    pub keywords: Option<String>,
    /// Only tickets the view matches.
    pub view_id: Option<Uuid>,
    /// Only tickets of this contact or visitor.
    pub contact_or_visitor_id: Option<Uuid>,
    /// Only tickets whose contact is of this kind.
    pub contact_or_visitor_type: Option<ParticipantType>,
    /// Only tickets in one of these statuses.
    pub status: Option<Vec<TicketStatus>>,
    /// Only tickets of one of these priorities.
    pub priority: Option<Vec<Priority>>,
    /// Only tickets assigned to this agent or chatbot.
    pub assignee_id: Option<Uuid>,
    /// Only tickets assigned to this department.
    pub department_assignee_id: Option<Uuid>,
    /// Only tickets whose first message came through this channel.
    pub channel_id: Option<String>,
    /// `true`: only the recycle bin. `false` or omitted: only tickets outside it.
    pub in_recycle_bin: Option<bool>,
    /// Also list tickets merged into another one.
    #[graphql(default)]
    pub include_merged: bool,
}

impl From<TicketFilter> for listing::TicketFilter {
    fn from(f: TicketFilter) -> Self {
        listing::TicketFilter {
            tag_id: f.tag_id,
            updated_since: f.updated_since.map(|t| t.0),
            last_replied_since: f.last_replied_since.map(|t| t.0),
            keywords: f.keywords,
            view_id: f.view_id,
            contact_or_visitor_id: f.contact_or_visitor_id,
            contact_or_visitor_type: f.contact_or_visitor_type.map(Into::into),
            statuses: f
                .status
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            priorities: f
                .priority
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            assignee_id: f.assignee_id,
            department_assignee_id: f.department_assignee_id,
            channel_id: f.channel_id,
            in_recycle_bin: f.in_recycle_bin,
            include_merged: f.include_merged,
        }
    }
}

/// What tickets can be ordered by; the id breaks ties.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum TicketOrderField {
    /// Last change to the ticket (the inbox order).
    #[default]
    LastUpdatedTime,
    /// When the ticket was created.
    CreatedTime,
    /// The ticket id, which grows with each new ticket.
    Id,
}

/// Which way an order runs.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    /// Smallest (oldest) first.
    Asc,
    /// Largest (newest) first.
    #[default]
    Desc,
}

/// The order of a ticket list; by default the most recently updated first.
#[derive(InputObject, Default)]
pub struct TicketOrder {
    /// What to order by.
    #[graphql(default)]
    pub field: TicketOrderField,
    /// Which way.
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl From<TicketOrder> for Sort {
    fn from(o: TicketOrder) -> Self {
        let field = match o.field {
            TicketOrderField::LastUpdatedTime => SortField::LastUpdatedTime,
            TicketOrderField::CreatedTime => SortField::CreatedTime,
            TicketOrderField::Id => SortField::Id,
        };
        Sort {
            field,
            descending: o.direction == OrderDirection::Desc,
        }
    }
}

/// Fields of a ticket list beyond its page.
pub struct TicketConnectionFields {
    filter: listing::TicketFilter,
}

/// Fields of a ticket list beyond its page.
#[Object]
impl TicketConnectionFields {
    /// How many tickets match the filter, on all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> GqlResult<u64> {
        let (db, actor) = session(ctx)?;
        Ok(listing::count(db, actor, &self.filter).await?)
    }
}

pub type TicketConnection = Connection<Ticket, TicketConnectionFields>;

/// One numbered page of tickets and how many match in all.
#[derive(SimpleObject)]
pub struct TicketPage {
    /// The tickets of the page.
    pub tickets: Objects<Ticket>,
    /// How many tickets match the filter, on all pages.
    pub total: u64,
}

/// Unread tickets of one view.
#[derive(SimpleObject)]
#[graphql(rename_fields = "camelCase")]
pub struct ViewUnreadCount {
    /// Id of the view.
    pub view_id: Uuid,
    /// Ids of the view's unread tickets, most recently updated first, at most 100 of them:
    /// `unreadCount` is the whole count.
    pub unread_ticket_ids: Vec<i64>,
    /// Unread count for the view.
    pub unread_count: usize,
    /// Ids of the view's tickets where the caller has an unread mention, most recently
    /// updated first, at most 100 of them.
    #[graphql(name = "mentionedUnReadTicketIds")]
    pub mentioned_unread_ticket_ids: Vec<i64>,
    /// Count of the view's tickets where the caller has an unread mention.
    #[graphql(name = "mentionedUnReadCount")]
    pub mentioned_unread_count: usize,
}

/// Unread tickets, over all tickets and per view.
#[derive(SimpleObject)]
pub struct UnreadCount {
    /// All unread tickets of the site (outside the recycle bin, not merged).
    pub all_count: u64,
    /// Unread counts for each view asked for.
    pub unread_counts: Vec<ViewUnreadCount>,
}

impl From<unread::UnreadCounts> for UnreadCount {
    fn from(c: unread::UnreadCounts) -> Self {
        UnreadCount {
            all_count: c.all_count,
            unread_counts: c
                .views
                .into_iter()
                .map(|v| ViewUnreadCount {
                    view_id: v.view_id,
                    unread_count: v.unread_count as usize,
                    unread_ticket_ids: v.unread_ticket_ids,
                    mentioned_unread_count: v.mentioned_unread_count as usize,
                    mentioned_unread_ticket_ids: v.mentioned_unread_ticket_ids,
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct TicketQuery;

#[Object]
impl TicketQuery {
    /// One ticket of the caller's site, by id.
    async fn ticket(&self, ctx: &Context<'_>, id: i64) -> GqlResult<Fast<Ticket>> {
        let (db, actor) = session(ctx)?;
        Ok(Fast(Ticket(domain::get(db, actor, id).await?)))
    }

    /// The caller's tickets, a page at a time. Cursors are positions in the order, so pages
    /// stay stable while tickets are added. Page with `first`/`after` forwards or
    /// `last`/`before` backwards (not both); a page holds 20 tickets unless asked, at most 100.
    #[graphql(complexity = "super::limits::list_cost(first.or(last), child_complexity)")]
    async fn tickets(
        &self,
        ctx: &Context<'_>,
        filter: Option<TicketFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<TicketOrder>,
    ) -> GqlResult<TicketConnection> {
        let (db, actor) = session(ctx)?;
        let sort: Sort = order_by.unwrap_or_default().into();
        let page = page_args(first, after, last, before)?;
        let filter: listing::TicketFilter = filter.unwrap_or_default().into();
        let nodes = super::loaders::connection_nodes(ctx.look_ahead());
        let columns = columns_for(nodes, read_by);
        let found = listing::list(db, actor, &filter, sort, page, columns).await?;
        let mut connection = Connection::new(
            found.has_previous,
            found.has_next,
            TicketConnectionFields { filter },
        );
        connection.edges.extend(
            found
                .tickets
                .into_iter()
                .map(|t| Edge::new(encode_cursor(Cursor::of(&t, sort.field)), Ticket(t))),
        );
        Ok(connection)
    }

    /// The caller's tickets by page number, as the REST list pages them: `pageIndex` counts
    /// from 1, `pageSize` is 50 unless asked, at most 100.
    #[graphql(
        complexity = "super::limits::list_cost(page_size.or(Some(listing::DEFAULT_OFFSET_PAGE as i64)), child_complexity)"
    )]
    async fn ticket_page(
        &self,
        ctx: &Context<'_>,
        filter: Option<TicketFilter>,
        page_index: Option<i64>,
        page_size: Option<i64>,
        order_by: Option<TicketOrder>,
    ) -> GqlResult<TicketPage> {
        let (db, actor) = session(ctx)?;
        let number = |name: &str, n: Option<i64>, default: u64| -> Result<u64, crate::Error> {
            n.map(|n| {
                u64::try_from(n).map_err(|_| {
                    crate::Error::bad_input(name, format!("{name} must not be negative"))
                })
            })
            .transpose()
            .map(|n| n.unwrap_or(default))
        };
        let index = number("pageIndex", page_index, 1)?;
        let size = number("pageSize", page_size, listing::DEFAULT_OFFSET_PAGE)?;
        let filter: listing::TicketFilter = filter.unwrap_or_default().into();
        let sort: Sort = order_by.unwrap_or_default().into();
        let tickets = ctx.look_ahead().field("tickets").selection_fields();
        let columns = columns_for(tickets, read_by);
        let (rows, total) =
            listing::offset_page(db, actor, &filter, sort, index, size, columns).await?;
        Ok(TicketPage {
            tickets: Objects(rows.into_iter().map(Ticket).collect()),
            total,
        })
    }

    /// Unread tickets: over all of the caller's tickets and for each view in `viewIds`.
    async fn unread_count(
        &self,
        ctx: &Context<'_>,
        view_ids: Option<Vec<Uuid>>,
    ) -> GqlResult<UnreadCount> {
        let (db, actor) = session(ctx)?;
        Ok(
            unread::unread_counts(db, actor, &view_ids.unwrap_or_default())
                .await?
                .into(),
        )
    }
}

/// Relay paging arguments to a page: forwards or backwards, never both.
fn page_args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> GqlResult<Page> {
    let count = |name: &str, n: i32| -> Result<u64, crate::Error> {
        u64::try_from(n)
            .map_err(|_| crate::Error::bad_input(name, format!("{name} must not be negative")))
    };
    let decode = |name: &str, c: Option<String>| c.map(|c| decode_cursor(name, &c)).transpose();
    Ok(match (first, last) {
        (Some(_), Some(_)) => {
            return Err(
                crate::Error::bad_input("last", "pass either first or last, not both").into(),
            );
        }
        (_, Some(n)) => {
            if after.is_some() {
                return Err(crate::Error::bad_input(
                    "after",
                    "after pages forwards; use it with first",
                )
                .into());
            }
            Page::Last {
                n: count("last", n)?,
                before: decode("before", before)?,
            }
        }
        (n, None) => {
            if before.is_some() {
                return Err(crate::Error::bad_input(
                    "before",
                    "before pages backwards; use it with last",
                )
                .into());
            }
            let n = n
                .map(|n| count("first", n))
                .transpose()?
                .unwrap_or(listing::DEFAULT_PAGE);
            Page::First {
                n,
                after: decode("after", after)?,
            }
        }
    })
}

fn encode_cursor(c: Cursor) -> String {
    let tag = match c.field {
        SortField::LastUpdatedTime => 'u',
        SortField::CreatedTime => 'c',
        SortField::Id => 'i',
    };
    URL_SAFE_NO_PAD.encode(format!("{tag}:{}:{}", c.key, c.id))
}

fn decode_cursor(name: &str, s: &str) -> Result<Cursor, crate::Error> {
    let bad = || crate::Error::bad_input(name, format!("`{s}` is not a cursor of this list"));
    let raw = URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let mut parts = raw.split(':');
    let field = match parts.next() {
        Some("u") => SortField::LastUpdatedTime,
        Some("c") => SortField::CreatedTime,
        Some("i") => SortField::Id,
        _ => return Err(bad()),
    };
    let key = parts.next().and_then(|k| k.parse().ok()).ok_or_else(bad)?;
    let id = parts.next().and_then(|k| k.parse().ok()).ok_or_else(bad)?;
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Cursor { field, key, id })
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
    /// Language of the contact or visitor.
    pub contact_language: Option<String>,
    /// Language of the agent side.
    pub agent_language: Option<String>,
    /// Whether messages are translated automatically.
    pub auto_translation_status: Option<bool>,
    /// Tags of the ticket.
    pub tag_ids: Option<Vec<Uuid>>,
    /// The ticket's first messages, oldest first.
    pub messages: Option<Vec<MessageInput>>,
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
            tag_ids: i.tag_ids.unwrap_or_default(),
            messages: i
                .messages
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
}

/// A change to a ticket: only the fields given change. `null` clears the clearable ones
/// (assignee, department, original conversation, channel account).
#[derive(InputObject, Default)]
pub struct UpdateTicketInput {
    /// Subject of the ticket.
    pub subject: Option<String>,
    /// Conversation id in the original channel; null clears it.
    pub original_conversation_id: MaybeUndefined<String>,
    /// Id of the agent or chatbot to assign the ticket to; null unassigns it.
    pub assignee_id: MaybeUndefined<Uuid>,
    /// Type of the assignee; `AGENT` when an assignee is given without one.
    pub assignee_type: Option<AssigneeType>,
    /// Id of the department to assign the ticket to; null clears it.
    pub department_assignee_id: MaybeUndefined<Uuid>,
    /// Id of the channel of the first message of the ticket.
    pub channel_id: Option<String>,
    /// Id of the channel account of the first message of the ticket; null clears it.
    pub channel_account_id: MaybeUndefined<Uuid>,
    /// Id of the contact or visitor that the ticket relates to.
    pub contact_or_visitor_id: Option<Uuid>,
    /// Type of the ticket's contact.
    pub contact_or_visitor_type: Option<ParticipantType>,
    /// Id of the party who created the ticket.
    pub created_by_id: Option<Uuid>,
    /// Who created the ticket.
    pub created_by_type: Option<ParticipantType>,
    /// Status of the ticket: an explicit status wins over what messages would make it.
    pub status: Option<TicketStatus>,
    /// Priority of the ticket.
    pub priority: Option<Priority>,
    /// Whether the ticket is read by any agent or not.
    pub is_read_by_agent: Option<bool>,
    /// Whether the ticket is in the recycle bin or not.
    pub is_in_recycle_bin: Option<bool>,
    /// Language of the contact or visitor.
    pub contact_language: Option<String>,
    /// Language of the agent side.
    pub agent_language: Option<String>,
    /// Whether messages are translated automatically.
    pub auto_translation_status: Option<bool>,
    /// Replaces the ticket's tags.
    pub tag_ids: Option<Vec<Uuid>>,
    /// The ticket's `lastUpdatedTime` as the caller last read it: if the ticket changed
    /// since, nothing changes and the answer is a CONFLICT.
    pub expected_last_updated_time: Option<DateTime>,
    /// The ticket's `version` as the caller last read it: if the ticket changed since, nothing
    /// changes and the answer is a PRECONDITION_FAILED.
    pub expected_version: Option<i64>,
    /// Messages to add, oldest first.
    pub messages: Option<Vec<MessageInput>>,
}

impl From<UpdateTicketInput> for domain::TicketChanges {
    fn from(i: UpdateTicketInput) -> Self {
        domain::TicketChanges {
            subject: i.subject,
            original_conversation_id: i.original_conversation_id.into(),
            assignee_id: i.assignee_id.into(),
            assignee_type: i.assignee_type.map(Into::into),
            department_assignee_id: i.department_assignee_id.into(),
            channel_id: i.channel_id,
            channel_account_id: i.channel_account_id.into(),
            contact_or_visitor_id: i.contact_or_visitor_id,
            contact_or_visitor_type: i.contact_or_visitor_type.map(Into::into),
            created_by_id: i.created_by_id,
            created_by_type: i.created_by_type.map(Into::into),
            status: i.status.map(Into::into),
            priority: i.priority.map(Into::into),
            is_read_by_agent: i.is_read_by_agent,
            is_in_recycle_bin: i.is_in_recycle_bin,
            contact_language: i.contact_language,
            agent_language: i.agent_language,
            auto_translation_status: i.auto_translation_status,
            tag_ids: i.tag_ids,
            expected_last_updated_time: i.expected_last_updated_time.map(|t| t.0),
            expected_version: i.expected_version,
            messages: i
                .messages
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
}

/// The `Idempotency-Key` header of a GraphQL HTTP request, attached as request data.
pub struct IdempotencyHeader(pub String);

impl IdempotencyHeader {
    /// Attaches the request's `Idempotency-Key` header, when it has one, for `createTicket`.
    pub fn attach(
        request: async_graphql::Request,
        headers: &axum::http::HeaderMap,
    ) -> async_graphql::Request {
        match headers.get("idempotency-key") {
            Some(v) => {
                let key = String::from_utf8_lossy(v.as_bytes()).into_owned();
                request.data(IdempotencyHeader(key))
            }
            None => request,
        }
    }

    /// The key of a `createTicket`: the argument or the header; both must then agree.
    fn key(ctx: &Context<'_>, argument: Option<String>) -> crate::Result<Option<String>> {
        let header = ctx.data_opt::<IdempotencyHeader>().map(|h| h.0.clone());
        match (argument, header) {
            (Some(a), Some(h)) if a != h => Err(crate::Error::bad_input(
                "idempotencyKey",
                "idempotencyKey and the Idempotency-Key header differ; send one",
            )),
            (a, h) => Ok(a.or(h)),
        }
    }
}

#[derive(Default)]
pub struct TicketMutation;

#[Object]
impl TicketMutation {
    /// Opens a ticket in the caller's site. With an `idempotencyKey` (or an `Idempotency-Key`
    /// HTTP header), a retry of the same request by the same agent within 24 hours answers with
    /// the ticket the first one created instead of opening another; the same key with a
    /// different input is a CONFLICT.
    async fn create_ticket(
        &self,
        ctx: &Context<'_>,
        input: CreateTicketInput,
        idempotency_key: Option<String>,
    ) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        let key = IdempotencyHeader::key(ctx, idempotency_key)?;
        Ok(Ticket(
            domain::create_once(db, actor, input.into(), key.as_deref()).await?,
        ))
    }

    /// Changes a ticket; only the fields given change.
    async fn update_ticket(
        &self,
        ctx: &Context<'_>,
        id: i64,
        input: UpdateTicketInput,
    ) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(domain::update(db, actor, id, input.into()).await?))
    }

    /// Removes a ticket and everything that hangs off it; returns it as it was.
    async fn delete_ticket(&self, ctx: &Context<'_>, id: i64) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(domain::delete(db, actor, id).await?))
    }

    /// Moves a ticket to the recycle bin: it leaves the default lists and unread counts.
    async fn recycle_ticket(&self, ctx: &Context<'_>, id: i64) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(domain::set_recycled(db, actor, id, true).await?))
    }

    /// Brings a ticket back from the recycle bin.
    async fn restore_ticket(&self, ctx: &Context<'_>, id: i64) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(domain::set_recycled(db, actor, id, false).await?))
    }

    /// Merges the source ticket into the target: its messages, notes, mentions and tags move
    /// to the target, and the source is resolved, pointing at the target. Returns the target.
    async fn merge_ticket(
        &self,
        ctx: &Context<'_>,
        target_id: i64,
        source_id: i64,
    ) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(merge::merge(db, actor, target_id, source_id).await?))
    }

    /// Marks a ticket read by agents; the caller's mentions on it are read too.
    async fn mark_ticket_read(&self, ctx: &Context<'_>, id: i64) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(domain::set_read(db, actor, id, true).await?))
    }

    /// Marks a ticket unread by agents.
    async fn mark_ticket_unread(&self, ctx: &Context<'_>, id: i64) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(domain::set_read(db, actor, id, false).await?))
    }

    /// Adds tags to a ticket; tags it already has stay.
    async fn add_ticket_tags(
        &self,
        ctx: &Context<'_>,
        id: i64,
        tag_ids: Vec<Uuid>,
    ) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(domain::add_tags(db, actor, id, &tag_ids).await?))
    }

    /// Removes tags from a ticket; tags it does not have are ignored.
    async fn remove_ticket_tags(
        &self,
        ctx: &Context<'_>,
        id: i64,
        tag_ids: Vec<Uuid>,
    ) -> GqlResult<Ticket> {
        let (db, actor) = session(ctx)?;
        Ok(Ticket(domain::remove_tags(db, actor, id, &tag_ids).await?))
    }
}
