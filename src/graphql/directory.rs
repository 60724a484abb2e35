//! The site's directory: agents, departments, chatbots, contacts, visitors, tags and views;
//! their lookups and mutations, and the ticket relations that point at them.

use std::marker::PhantomData;

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{
    Context, Enum, InputObject, MaybeUndefined, Object, Request, SimpleObject, Union,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::Order;
use uuid::Uuid;

use super::enums::ParticipantType;
use super::fast::{FastUnion, Objects, union_variants};
use super::loaders::{self, Found, Loader, Scope, loader};
use super::{DateTime, GqlError, GqlResult, session};
use crate::Error;
use crate::domain::directory::{self as domain, Record};
use crate::entity::rows::{Cell, Columns, FromRow, Reader};
use crate::entity::{self, *};

// ---- enums ----

/// What an agent may do in the site.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::AgentRole")]
pub enum AgentRole {
    /// Manages the site as well as working tickets.
    Admin,
    /// Works tickets.
    Agent,
}

/// Whether a view matches tickets meeting all of its conditions or any of them.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ConditionMetType")]
pub enum ConditionMetType {
    /// Every condition must hold.
    All,
    /// One condition holding is enough.
    Any,
}

/// How a view condition compares a ticket field with its value.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::ConditionOperator")]
pub enum ConditionOperator {
    /// Equal to the value.
    Is,
    /// Not equal to the value.
    IsNot,
    /// The value is a comma-separated list the field must be in.
    IsOneOf,
    /// The value is a comma-separated list the field must not be in.
    IsNotIn,
    /// For text: contains the value; for `tagIds`: carries the tag.
    Contains,
    /// For text: does not contain the value; for `tagIds`: does not carry the tag.
    NotContains,
    /// For times: earlier than the value.
    Before,
    /// For times: later than the value.
    After,
    /// For numbers: greater than the value.
    IsMoreThan,
    /// For numbers: less than the value.
    IsLessThan,
}

// ---- types ----

/// A person who works tickets in the site.
pub struct Agent(pub agents::Model);

/// A person who works tickets in the site.
#[Object]
impl Agent {
    /// Id of the agent.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Name shown to colleagues and customers.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Address the agent signs in and is notified with; unique in the site.
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// What the agent may do in the site.
    async fn role(&self) -> AgentRole {
        self.0.role.into()
    }
    /// Whether the agent may sign in; a deactivated agent keeps their history.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    /// Language the agent works in (a language tag such as `en`), empty when unknown.
    async fn language(&self) -> &str {
        &self.0.language
    }
    /// Time when the agent was added.
    async fn created_time(&self) -> DateTime {
        self.0.created_time.into()
    }
}

/// A group of agents that tickets can be assigned to.
pub struct Department(pub departments::Model);

/// A group of agents that tickets can be assigned to.
#[Object]
impl Department {
    /// Id of the department.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Name of the department.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the department handles, for agents choosing where to send a ticket.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Time when the department was added.
    async fn created_time(&self) -> DateTime {
        self.0.created_time.into()
    }
}

/// A bot that can be assigned tickets and reply to them.
pub struct Chatbot(pub chatbots::Model);

/// A bot that can be assigned tickets and reply to them.
#[Object]
impl Chatbot {
    /// Id of the chatbot.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Name shown to customers.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Whether the chatbot answers; an inactive one keeps its history.
    async fn is_active(&self) -> bool {
        self.0.is_active
    }
    /// Time when the chatbot was added.
    async fn created_time(&self) -> DateTime {
        self.0.created_time.into()
    }
}

/// A known customer a ticket can be about.
pub struct Contact(pub contacts::Model);

/// A known customer a ticket can be about.
#[Object]
impl Contact {
    /// Id of the contact.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Name of the contact.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Address of the contact, when known.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Phone number of the contact, when known.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Language the contact writes in, empty when unknown; translations start from it.
    async fn language(&self) -> &str {
        &self.0.language
    }
    /// Time when the contact was added.
    async fn created_time(&self) -> DateTime {
        self.0.created_time.into()
    }
}

/// An anonymous customer (from live chat, say) a ticket can be about.
pub struct Visitor(pub visitors::Model);

/// An anonymous customer (from live chat, say) a ticket can be about.
#[Object]
impl Visitor {
    /// Id of the visitor.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Name of the visitor, often made up by the chat widget.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Address the visitor left, when they left one.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// Language the visitor writes in, empty when unknown.
    async fn language(&self) -> &str {
        &self.0.language
    }
    /// Time when the visitor was first seen.
    async fn created_time(&self) -> DateTime {
        self.0.created_time.into()
    }
}

/// A label of the site's vocabulary, put on tickets to sort them.
pub struct Tag(pub tags::Model);

/// A label of the site's vocabulary, put on tickets to sort them.
#[Object]
impl Tag {
    /// Id of the tag.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Name of the tag; unique in the site whatever its case.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Time when the tag was added.
    async fn created_time(&self) -> DateTime {
        self.0.created_time.into()
    }
}

/// A saved ticket filter, shared with the site or private to the agent who made it.
pub struct View(pub views::Model);

/// A saved ticket filter, shared with the site or private to the agent who made it.
#[Object]
impl View {
    /// Id of the view.
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// Name of the view.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Whether only its creator sees the view.
    async fn is_private(&self) -> bool {
        self.0.is_private
    }
    /// Id of the agent who made the view; null once that agent is deleted.
    async fn created_by_id(&self) -> Option<Uuid> {
        self.0.created_by_id
    }
    /// Whether a ticket must meet all conditions or any of them.
    async fn condition_met_type(&self) -> ConditionMetType {
        self.0.condition_met_type.into()
    }
    /// The conditions, in the order they were given.
    async fn conditions(&self, ctx: &Context<'_>) -> GqlResult<Vec<ViewCondition>> {
        let rows = loaders::get::<ConditionsByView, _>(ctx)?
            .load_one(self.0.id)
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(ViewCondition).collect())
    }
    /// Time when the view was made.
    async fn created_time(&self) -> DateTime {
        self.0.created_time.into()
    }
    /// Time when the view last changed.
    async fn last_updated_time(&self) -> DateTime {
        self.0.last_updated_time.into()
    }
}

/// One test a ticket must pass to show in a view.
pub struct ViewCondition(pub view_conditions::Model);

/// One test a ticket must pass to show in a view.
#[Object]
impl ViewCondition {
    /// The ticket field tested, by its API name (`status`, `assigneeId`, ...).
    async fn field_name(&self) -> &str {
        &self.0.field_name
    }
    /// How the field is compared with the value.
    async fn operator(&self) -> GqlResult<ConditionOperator> {
        Ok(domain::ConditionOperator::parse(&self.0.operator)?.into())
    }
    /// What the field is compared with, as text (`pendingInternal`, a UUID, a time).
    async fn value(&self) -> &str {
        &self.0.value
    }
}

/// A party with no record in deskgraph (a channel account, the system, an outreach
/// campaign): all that is known of it is its id and kind.
pub struct ExternalParticipant {
    pub id: Uuid,
    pub kind: entity::ParticipantType,
}

/// A party with no record in deskgraph (a channel account, the system, an outreach
/// campaign): all that is known of it is its id and kind.
#[Object]
impl ExternalParticipant {
    /// Id of the party in the system it comes from.
    async fn id(&self) -> Uuid {
        self.id
    }
    /// Which kind of party it is.
    #[graphql(name = "type")]
    async fn kind(&self) -> ParticipantType {
        self.kind.into()
    }
}

/// Who a ticket is assigned to.
#[derive(Union)]
pub enum Assignee {
    Agent(Agent),
    Chatbot(Chatbot),
}

union_variants!(Assignee { Agent, Chatbot });

/// A party in a ticket: its customer, its creator, who replied last.
#[derive(Union)]
pub enum Participant {
    Contact(Contact),
    Visitor(Visitor),
    Agent(Agent),
    Chatbot(Chatbot),
    ExternalParticipant(ExternalParticipant),
}

union_variants!(Participant {
    Contact,
    Visitor,
    Agent,
    Chatbot,
    ExternalParticipant
});

/// Fields of a list connection beside its edges.
#[derive(SimpleObject)]
pub struct ListTotals {
    /// Rows matching the query on all pages together.
    pub total_count: u64,
}

pub type ContactConnection = Connection<NameCursor, Contact, ListTotals>;
pub type VisitorConnection = Connection<NameCursor, Visitor, ListTotals>;

/// Where a page of a list ordered by name starts: the name and id of the row before it,
/// opaque to clients.
pub struct NameCursor(domain::NameKey);

impl CursorType for NameCursor {
    type Error = String;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string())?;
        let (name, id): (String, Uuid) =
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        Ok(NameCursor(domain::NameKey { name, id }))
    }

    fn encode_cursor(&self) -> String {
        let json = serde_json::json!([self.0.name, self.0.id]).to_string();
        URL_SAFE_NO_PAD.encode(json)
    }
}

fn page_request(
    first: Option<i32>,
    after: Option<String>,
    search: Option<String>,
) -> crate::Result<domain::PageRequest> {
    let after = after
        .map(|a| NameCursor::decode_cursor(&a))
        .transpose()
        .map_err(|_| Error::bad_input("after", "after is not a cursor this list handed out"))?;
    Ok(domain::PageRequest {
        first,
        after: after.map(|c| c.0),
        search,
    })
}

fn connection<M, N>(
    page: domain::Page<M>,
    key: impl Fn(&M) -> domain::NameKey,
    wrap: impl Fn(M) -> N,
) -> Connection<NameCursor, N, ListTotals>
where
    N: async_graphql::OutputType,
{
    let mut connection = Connection::with_additional_fields(
        false,
        page.has_next_page,
        ListTotals {
            total_count: page.total_count,
        },
    );
    connection.edges = page
        .items
        .into_iter()
        .map(|m| Edge::new(NameCursor(key(&m)), wrap(m)))
        .collect();
    connection
}

// ---- loaders ----

/// Directory records by id, one batch per kind of record.
pub struct ById<E>(Scope, PhantomData<fn() -> E>);

impl<E> ById<E> {
    fn new(scope: &Scope) -> Self {
        ById(scope.clone(), PhantomData)
    }
}

impl<E> Loader<Uuid> for ById<E>
where
    E: Record,
    E::Model: FromRow + Clone,
{
    type Value = E::Model;

    async fn load(
        &self,
        keys: &[Uuid],
        columns: Columns,
    ) -> Result<Found<Uuid, E::Model>, GqlError> {
        loaders::one_per_key::<E, Uuid>(&self.0, E::id_column(), keys, E::id_of, columns).await
    }
}

/// The tags of tickets, each ticket's by name: one join of ticket_tags and tags.
pub struct TagsByTicket(Scope);

impl Loader<i64> for TagsByTicket {
    type Value = Vec<tags::Model>;

    async fn load(
        &self,
        keys: &[i64],
        _columns: Columns,
    ) -> Result<Found<i64, Vec<tags::Model>>, GqlError> {
        use sea_orm::sea_query::{Expr, ExprTrait, Query};
        let site = self.0.actor.site_id;
        // Filtered by the caller's site on the tags' side: a ticket's tag row shares its site
        // with its tag and its ticket (both foreign keys include `site_id`), so filtering the
        // rows too would add nothing but a visit to each row for its site, where PostgreSQL
        // otherwise answers from the primary key alone (an index-only scan; `EXPLAIN ANALYZE`,
        // warm, for the inbox's 50 tickets: 0.21-0.30 ms to 0.16-0.18 ms). The tag's columns
        // come first, in its entity's order, so that it decodes by position; the ticket's id
        // follows them.
        let query = Query::select()
            .columns([
                (tags::Entity, tags::Column::Id),
                (tags::Entity, tags::Column::SiteId),
                (tags::Entity, tags::Column::Name),
                (tags::Entity, tags::Column::CreatedTime),
            ])
            .column((ticket_tags::Entity, ticket_tags::Column::TicketId))
            .from(ticket_tags::Entity)
            .inner_join(
                tags::Entity,
                Expr::col((tags::Entity, tags::Column::Id))
                    .equals((ticket_tags::Entity, ticket_tags::Column::TagId)),
            )
            .and_where(Expr::col((tags::Entity, tags::Column::SiteId)).eq(site))
            .and_where(loaders::one_of(
                &self.0.db,
                ticket_tags::Column::TicketId,
                keys,
            ))
            .order_by((tags::Entity, tags::Column::Name), Order::Asc)
            .order_by((tags::Entity, tags::Column::Id), Order::Asc)
            .to_owned();
        let statement = self.0.db.get_database_backend().build(&query);
        let rows = Reader::query_all(&self.0.db, statement)
            .await
            .map_err(Error::from)?;
        let mut grouped: Found<i64, Vec<tags::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in &rows {
            let ticket_id: i64 =
                Cell::cell(row, tags::Model::COLUMNS.len()).map_err(Error::from)?;
            let tag = tags::Model::from_row(row).map_err(Error::from)?;
            grouped.entry(ticket_id).or_default().push(tag);
        }
        Ok(grouped)
    }
}

/// The conditions of views, each view's in order.
pub struct ConditionsByView(Scope);

impl Loader<Uuid> for ConditionsByView {
    type Value = Vec<view_conditions::Model>;

    async fn load(
        &self,
        keys: &[Uuid],
        _columns: Columns,
    ) -> Result<Found<Uuid, Vec<view_conditions::Model>>, GqlError> {
        loaders::many_per_key::<view_conditions::Entity, Uuid>(
            &self.0,
            view_conditions::Column::ViewId,
            keys,
            |c| c.view_id,
            &[(view_conditions::Column::Position, Order::Asc)],
            Columns::ALL,
        )
        .await
    }
}

pub fn attach_loaders(request: Request, scope: &Scope) -> Request {
    request
        .data(loader(ById::<agents::Entity>::new(scope)))
        .data(loader(ById::<chatbots::Entity>::new(scope)))
        .data(loader(ById::<departments::Entity>::new(scope)))
        .data(loader(ById::<contacts::Entity>::new(scope)))
        .data(loader(ById::<visitors::Entity>::new(scope)))
        .data(loader(ById::<tags::Entity>::new(scope)))
        .data(loader(TagsByTicket(scope.clone())))
        .data(loader(ConditionsByView(scope.clone())))
}

/// One record through the request's loader for its kind, for the field `ctx` resolves as
/// that record: it reads the columns the field's selection names. Every field of the
/// directory's types is the column of its name ([`Columns::named`]); a field that is not (of
/// another type of a union's selection, say) reads them all.
async fn by_id<E>(ctx: &Context<'_>, id: Uuid) -> GqlResult<Option<E::Model>>
where
    E: Record,
    E::Model: FromRow + Clone,
{
    let columns = loaders::columns_of_field::<E>(ctx, |field| match field {
        "__typename" => Some(Columns::NONE),
        _ => Columns::named::<E>(field),
    });
    loaders::get::<ById<E>, _>(ctx)?
        .load_one_reading(id, columns)
        .await
}

// ---- ticket relations ----

/// `Ticket.tagIds`: ids of the ticket's tags, in the order of `Ticket.tags`.
pub async fn ticket_tag_ids(ctx: &Context<'_>, ticket: &tickets::Model) -> GqlResult<Vec<Uuid>> {
    Ok(tags_of(ctx, ticket)
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect())
}

/// `Ticket.tags`: the ticket's tags, by name.
pub async fn ticket_tags(ctx: &Context<'_>, ticket: &tickets::Model) -> GqlResult<Objects<Tag>> {
    Ok(Objects(
        tags_of(ctx, ticket).await?.into_iter().map(Tag).collect(),
    ))
}

async fn tags_of(ctx: &Context<'_>, ticket: &tickets::Model) -> GqlResult<Vec<tags::Model>> {
    Ok(loaders::get::<TagsByTicket, _>(ctx)?
        .load_one(ticket.id)
        .await?
        .unwrap_or_default())
}

/// `Ticket.assignee`: the agent or chatbot the ticket is assigned to.
pub async fn ticket_assignee(
    ctx: &Context<'_>,
    ticket: &tickets::Model,
) -> GqlResult<Option<FastUnion<Assignee>>> {
    let (Some(id), Some(kind)) = (ticket.assignee_id, ticket.assignee_type) else {
        return Ok(None);
    };
    let found = match kind {
        AssigneeType::Agent => by_id::<agents::Entity>(ctx, id)
            .await?
            .map(|m| Assignee::Agent(Agent(m))),
        AssigneeType::Chatbot => by_id::<chatbots::Entity>(ctx, id)
            .await?
            .map(|m| Assignee::Chatbot(Chatbot(m))),
    };
    Ok(found.map(FastUnion))
}

/// `Ticket.departmentAssignee`: the department the ticket is assigned to.
pub async fn ticket_department_assignee(
    ctx: &Context<'_>,
    ticket: &tickets::Model,
) -> GqlResult<Option<Department>> {
    let Some(id) = ticket.department_assignee_id else {
        return Ok(None);
    };
    Ok(by_id::<departments::Entity>(ctx, id).await?.map(Department))
}

/// `Ticket.contactOrVisitor`: the customer the ticket is about.
pub async fn ticket_contact_or_visitor(
    ctx: &Context<'_>,
    ticket: &tickets::Model,
) -> GqlResult<Option<FastUnion<Participant>>> {
    participant(
        ctx,
        ticket.contact_or_visitor_id,
        ticket.contact_or_visitor_type,
    )
    .await
}

/// `Ticket.createdBy`: who opened the ticket.
pub async fn ticket_created_by(
    ctx: &Context<'_>,
    ticket: &tickets::Model,
) -> GqlResult<Option<FastUnion<Participant>>> {
    participant(ctx, ticket.created_by_id, ticket.created_by_type).await
}

/// `Ticket.lastRepliedBy`: who replied to the ticket most recently.
pub async fn ticket_last_replied_by(
    ctx: &Context<'_>,
    ticket: &tickets::Model,
) -> GqlResult<Option<FastUnion<Participant>>> {
    participant(ctx, ticket.last_replied_by_id, ticket.last_replied_by_type).await
}

/// The party an `(id, type)` pair of a ticket names; null when either is missing or the
/// record is gone.
async fn participant(
    ctx: &Context<'_>,
    id: Option<Uuid>,
    kind: Option<entity::ParticipantType>,
) -> GqlResult<Option<FastUnion<Participant>>> {
    use entity::ParticipantType as P;
    let (Some(id), Some(kind)) = (id, kind) else {
        return Ok(None);
    };
    let found = match kind {
        P::Contact => by_id::<contacts::Entity>(ctx, id)
            .await?
            .map(|m| Participant::Contact(Contact(m))),
        P::Visitor => by_id::<visitors::Entity>(ctx, id)
            .await?
            .map(|m| Participant::Visitor(Visitor(m))),
        P::Agent => by_id::<agents::Entity>(ctx, id)
            .await?
            .map(|m| Participant::Agent(Agent(m))),
        P::Chatbot => by_id::<chatbots::Entity>(ctx, id)
            .await?
            .map(|m| Participant::Chatbot(Chatbot(m))),
        P::ChannelAccount | P::System | P::OutreachCampaign => {
            Some(Participant::ExternalParticipant(ExternalParticipant {
                id,
                kind,
            }))
        }
    };
    Ok(found.map(FastUnion))
}

// ---- queries ----

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// The site's agents, by name.
    async fn agents(&self, ctx: &Context<'_>) -> GqlResult<Vec<Agent>> {
        let (db, actor) = session(ctx)?;
        let rows = domain::list::<agents::Entity>(db, actor).await?;
        Ok(rows.into_iter().map(Agent).collect())
    }

    /// One agent of the site.
    async fn agent(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Agent> {
        let (db, actor) = session(ctx)?;
        Ok(Agent(domain::get::<agents::Entity>(db, actor, id).await?))
    }

    /// The site's departments, by name.
    async fn departments(&self, ctx: &Context<'_>) -> GqlResult<Vec<Department>> {
        let (db, actor) = session(ctx)?;
        let rows = domain::list::<departments::Entity>(db, actor).await?;
        Ok(rows.into_iter().map(Department).collect())
    }

    /// One department of the site.
    async fn department(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Department> {
        let (db, actor) = session(ctx)?;
        Ok(Department(
            domain::get::<departments::Entity>(db, actor, id).await?,
        ))
    }

    /// The site's chatbots, by name.
    async fn chatbots(&self, ctx: &Context<'_>) -> GqlResult<Vec<Chatbot>> {
        let (db, actor) = session(ctx)?;
        let rows = domain::list::<chatbots::Entity>(db, actor).await?;
        Ok(rows.into_iter().map(Chatbot).collect())
    }

    /// One chatbot of the site.
    async fn chatbot(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Chatbot> {
        let (db, actor) = session(ctx)?;
        Ok(Chatbot(
            domain::get::<chatbots::Entity>(db, actor, id).await?,
        ))
    }

    /// The site's contacts by name, a page at a time.
    #[graphql(complexity = "super::limits::list_cost(first, child_complexity)")]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the page before.")] after: Option<String>,
        #[graphql(desc = "Keeps contacts whose name, email or phone contains this text.")]
        search: Option<String>,
    ) -> GqlResult<ContactConnection> {
        let (db, actor) = session(ctx)?;
        let page = domain::contacts_page(db, actor, page_request(first, after, search)?).await?;
        Ok(connection(page, |m| name_key(&m.name, m.id), Contact))
    }

    /// One contact of the site.
    async fn contact(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Contact> {
        let (db, actor) = session(ctx)?;
        Ok(Contact(
            domain::get::<contacts::Entity>(db, actor, id).await?,
        ))
    }

    /// The site's visitors by name, a page at a time.
    #[graphql(complexity = "super::limits::list_cost(first, child_complexity)")]
    async fn visitors(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size: 20 when omitted, at most 100.")] first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the page before.")] after: Option<String>,
        #[graphql(desc = "Keeps visitors whose name or email contains this text.")] search: Option<
            String,
        >,
    ) -> GqlResult<VisitorConnection> {
        let (db, actor) = session(ctx)?;
        let page = domain::visitors_page(db, actor, page_request(first, after, search)?).await?;
        Ok(connection(page, |m| name_key(&m.name, m.id), Visitor))
    }

    /// One visitor of the site.
    async fn visitor(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Visitor> {
        let (db, actor) = session(ctx)?;
        Ok(Visitor(
            domain::get::<visitors::Entity>(db, actor, id).await?,
        ))
    }

    /// The site's tags, by name.
    async fn tags(&self, ctx: &Context<'_>) -> GqlResult<Vec<Tag>> {
        let (db, actor) = session(ctx)?;
        let rows = domain::list::<tags::Entity>(db, actor).await?;
        Ok(rows.into_iter().map(Tag).collect())
    }

    /// One tag of the site.
    async fn tag(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Tag> {
        let (db, actor) = session(ctx)?;
        Ok(Tag(domain::get::<tags::Entity>(db, actor, id).await?))
    }

    /// The site's shared views and the caller's private ones, by name.
    async fn views(&self, ctx: &Context<'_>) -> GqlResult<Vec<View>> {
        let (db, actor) = session(ctx)?;
        Ok(domain::views(db, actor)
            .await?
            .into_iter()
            .map(View)
            .collect())
    }

    /// One view the caller can see.
    async fn view(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<View> {
        let (db, actor) = session(ctx)?;
        Ok(View(domain::view(db, actor, id).await?))
    }
}

fn name_key(name: &str, id: Uuid) -> domain::NameKey {
    domain::NameKey {
        name: name.to_owned(),
        id,
    }
}

// ---- inputs ----

/// A new agent.
#[derive(InputObject)]
pub struct CreateAgentInput {
    /// Name shown to colleagues and customers.
    pub name: String,
    /// Address of the agent; unique in the site.
    pub email: String,
    /// What the agent may do; `AGENT` when omitted.
    pub role: Option<AgentRole>,
    /// Whether the agent may sign in; `true` when omitted.
    pub is_active: Option<bool>,
    /// Language the agent works in (`en`); empty when omitted.
    pub language: Option<String>,
}

/// Changes to an agent; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateAgentInput {
    /// Name shown to colleagues and customers.
    pub name: Option<String>,
    /// Address of the agent; unique in the site.
    pub email: Option<String>,
    /// What the agent may do.
    pub role: Option<AgentRole>,
    /// `false` deactivates the agent: they keep their history but can no longer sign in.
    pub is_active: Option<bool>,
    /// Language the agent works in.
    pub language: Option<String>,
}

/// A new department.
#[derive(InputObject)]
pub struct CreateDepartmentInput {
    /// Name of the department.
    pub name: String,
    /// What the department handles; empty when omitted.
    pub description: Option<String>,
}

/// Changes to a department; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateDepartmentInput {
    /// Name of the department.
    pub name: Option<String>,
    /// What the department handles.
    pub description: Option<String>,
}

/// A new chatbot.
#[derive(InputObject)]
pub struct CreateChatbotInput {
    /// Name shown to customers.
    pub name: String,
    /// Whether the chatbot answers; `true` when omitted.
    pub is_active: Option<bool>,
}

/// Changes to a chatbot; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateChatbotInput {
    /// Name shown to customers.
    pub name: Option<String>,
    /// Whether the chatbot answers.
    pub is_active: Option<bool>,
}

/// A new contact.
#[derive(InputObject)]
pub struct CreateContactInput {
    /// Name of the contact.
    pub name: String,
    /// Address of the contact; blank means none.
    pub email: Option<String>,
    /// Phone number of the contact; blank means none.
    pub phone: Option<String>,
    /// Language the contact writes in (`en`); empty when omitted.
    pub language: Option<String>,
}

/// Changes to a contact; omitted fields stay as they are, `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateContactInput {
    /// Name of the contact.
    pub name: Option<String>,
    /// Address of the contact; `null` or blank clears it.
    pub email: MaybeUndefined<String>,
    /// Phone number of the contact; `null` or blank clears it.
    pub phone: MaybeUndefined<String>,
    /// Language the contact writes in.
    pub language: Option<String>,
}

/// A new visitor.
#[derive(InputObject)]
pub struct CreateVisitorInput {
    /// Name of the visitor.
    pub name: String,
    /// Address the visitor left; blank means none.
    pub email: Option<String>,
    /// Language the visitor writes in; empty when omitted.
    pub language: Option<String>,
}

/// Changes to a visitor; omitted fields stay as they are, `null` clears an optional one.
#[derive(InputObject)]
pub struct UpdateVisitorInput {
    /// Name of the visitor.
    pub name: Option<String>,
    /// Address the visitor left; `null` or blank clears it.
    pub email: MaybeUndefined<String>,
    /// Language the visitor writes in.
    pub language: Option<String>,
}

/// A new tag.
#[derive(InputObject)]
pub struct CreateTagInput {
    /// Name of the tag; unique in the site whatever its case.
    pub name: String,
}

/// Changes to a tag; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateTagInput {
    /// Name of the tag; unique in the site whatever its case.
    pub name: Option<String>,
}

/// One condition of a view.
#[derive(InputObject)]
pub struct ViewConditionInput {
    /// The ticket field tested, by its API name: one of `status`, `priority`, `assigneeId`,
    /// `assigneeType`, `departmentAssigneeId`, `channelId`, `contactOrVisitorId`,
    /// `contactOrVisitorType`, `tagIds`, `subject`, `isReadByAgent`, `isInRecycleBin`,
    /// `createdTime`, `lastUpdatedTime`, `lastRepliedTime`, `replyingAgent`, `totalReplies`.
    pub field_name: String,
    /// How the field is compared with the value.
    pub operator: ConditionOperator,
    /// What the field is compared with, as text; at most 1000 characters.
    pub value: String,
}

impl From<ViewConditionInput> for domain::NewCondition {
    fn from(c: ViewConditionInput) -> Self {
        domain::NewCondition {
            field_name: c.field_name,
            operator: c.operator.into(),
            value: c.value,
        }
    }
}

/// A new view, made by the caller.
#[derive(InputObject)]
pub struct CreateViewInput {
    /// Name of the view.
    pub name: String,
    /// Whether only the caller sees the view; `false` when omitted.
    pub is_private: Option<bool>,
    /// Whether a ticket must meet all conditions or any; `ALL` when omitted.
    pub condition_met_type: Option<ConditionMetType>,
    /// The conditions, at most 50; none when omitted.
    #[graphql(default)]
    pub conditions: Vec<ViewConditionInput>,
}

/// Changes to a view; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateViewInput {
    /// Name of the view.
    pub name: Option<String>,
    /// Whether only its creator sees the view; only the creator may make a view private.
    pub is_private: Option<bool>,
    /// Whether a ticket must meet all conditions or any.
    pub condition_met_type: Option<ConditionMetType>,
    /// The new conditions, replacing all the old ones.
    pub conditions: Option<Vec<ViewConditionInput>>,
}

// ---- mutations ----

#[derive(Default)]
pub struct DirectoryMutation;

#[Object]
impl DirectoryMutation {
    /// Adds an agent to the caller's site.
    async fn create_agent(&self, ctx: &Context<'_>, input: CreateAgentInput) -> GqlResult<Agent> {
        let (db, actor) = session(ctx)?;
        let input = domain::NewAgent {
            name: input.name,
            email: input.email,
            role: input.role.map(Into::into),
            is_active: input.is_active,
            language: input.language,
        };
        Ok(Agent(domain::create_agent(db, actor, input).await?))
    }

    /// Changes an agent; `isActive: false` deactivates them (never yourself).
    async fn update_agent(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: UpdateAgentInput,
    ) -> GqlResult<Agent> {
        let (db, actor) = session(ctx)?;
        let changes = domain::AgentChanges {
            name: input.name,
            email: input.email,
            role: input.role.map(Into::into),
            is_active: input.is_active,
            language: input.language,
        };
        let updated = domain::update_agent(db, actor, id, changes).await?;
        forget_agent(ctx, id);
        Ok(Agent(updated))
    }

    /// Removes an agent (never yourself) and unassigns their tickets; returns the agent as it
    /// was.
    async fn delete_agent(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Agent> {
        let (db, actor) = session(ctx)?;
        let deleted = domain::delete_agent(db, actor, id).await?;
        forget_agent(ctx, id);
        Ok(Agent(deleted))
    }

    /// Adds a department to the caller's site.
    async fn create_department(
        &self,
        ctx: &Context<'_>,
        input: CreateDepartmentInput,
    ) -> GqlResult<Department> {
        let (db, actor) = session(ctx)?;
        let input = domain::NewDepartment {
            name: input.name,
            description: input.description,
        };
        Ok(Department(
            domain::create_department(db, actor, input).await?,
        ))
    }

    /// Changes a department.
    async fn update_department(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: UpdateDepartmentInput,
    ) -> GqlResult<Department> {
        let (db, actor) = session(ctx)?;
        let changes = domain::DepartmentChanges {
            name: input.name,
            description: input.description,
        };
        Ok(Department(
            domain::update_department(db, actor, id, changes).await?,
        ))
    }

    /// Removes a department; its tickets lose their department. Returns it as it was.
    async fn delete_department(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Department> {
        let (db, actor) = session(ctx)?;
        Ok(Department(domain::delete_department(db, actor, id).await?))
    }

    /// Adds a chatbot to the caller's site.
    async fn create_chatbot(
        &self,
        ctx: &Context<'_>,
        input: CreateChatbotInput,
    ) -> GqlResult<Chatbot> {
        let (db, actor) = session(ctx)?;
        let input = domain::NewChatbot {
            name: input.name,
            is_active: input.is_active,
        };
        Ok(Chatbot(domain::create_chatbot(db, actor, input).await?))
    }

    /// Changes a chatbot.
    async fn update_chatbot(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: UpdateChatbotInput,
    ) -> GqlResult<Chatbot> {
        let (db, actor) = session(ctx)?;
        let changes = domain::ChatbotChanges {
            name: input.name,
            is_active: input.is_active,
        };
        Ok(Chatbot(
            domain::update_chatbot(db, actor, id, changes).await?,
        ))
    }

    /// Removes a chatbot and unassigns its tickets; returns it as it was.
    async fn delete_chatbot(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Chatbot> {
        let (db, actor) = session(ctx)?;
        Ok(Chatbot(domain::delete_chatbot(db, actor, id).await?))
    }

    /// Adds a contact to the caller's site.
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        input: CreateContactInput,
    ) -> GqlResult<Contact> {
        let (db, actor) = session(ctx)?;
        let input = domain::NewContact {
            name: input.name,
            email: input.email,
            phone: input.phone,
            language: input.language,
        };
        Ok(Contact(domain::create_contact(db, actor, input).await?))
    }

    /// Changes a contact.
    async fn update_contact(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: UpdateContactInput,
    ) -> GqlResult<Contact> {
        let (db, actor) = session(ctx)?;
        let changes = domain::ContactChanges {
            name: input.name,
            email: input.email.into(),
            phone: input.phone.into(),
            language: input.language,
        };
        Ok(Contact(
            domain::update_contact(db, actor, id, changes).await?,
        ))
    }

    /// Removes a contact no ticket refers to; returns it as it was.
    async fn delete_contact(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Contact> {
        let (db, actor) = session(ctx)?;
        Ok(Contact(domain::delete_contact(db, actor, id).await?))
    }

    /// Adds a visitor to the caller's site.
    async fn create_visitor(
        &self,
        ctx: &Context<'_>,
        input: CreateVisitorInput,
    ) -> GqlResult<Visitor> {
        let (db, actor) = session(ctx)?;
        let input = domain::NewVisitor {
            name: input.name,
            email: input.email,
            language: input.language,
        };
        Ok(Visitor(domain::create_visitor(db, actor, input).await?))
    }

    /// Changes a visitor.
    async fn update_visitor(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: UpdateVisitorInput,
    ) -> GqlResult<Visitor> {
        let (db, actor) = session(ctx)?;
        let changes = domain::VisitorChanges {
            name: input.name,
            email: input.email.into(),
            language: input.language,
        };
        Ok(Visitor(
            domain::update_visitor(db, actor, id, changes).await?,
        ))
    }

    /// Removes a visitor no ticket refers to; returns it as it was.
    async fn delete_visitor(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Visitor> {
        let (db, actor) = session(ctx)?;
        Ok(Visitor(domain::delete_visitor(db, actor, id).await?))
    }

    /// Adds a tag to the caller's site.
    async fn create_tag(&self, ctx: &Context<'_>, input: CreateTagInput) -> GqlResult<Tag> {
        let (db, actor) = session(ctx)?;
        let input = domain::NewTag { name: input.name };
        Ok(Tag(domain::create_tag(db, actor, input).await?))
    }

    /// Renames a tag; tickets carrying it show the new name.
    async fn update_tag(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: UpdateTagInput,
    ) -> GqlResult<Tag> {
        let (db, actor) = session(ctx)?;
        let changes = domain::TagChanges { name: input.name };
        Ok(Tag(domain::update_tag(db, actor, id, changes).await?))
    }

    /// Removes a tag from the site and from every ticket; returns it as it was.
    async fn delete_tag(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Tag> {
        let (db, actor) = session(ctx)?;
        Ok(Tag(domain::delete_tag(db, actor, id).await?))
    }

    /// Saves a view, made by the caller.
    async fn create_view(&self, ctx: &Context<'_>, input: CreateViewInput) -> GqlResult<View> {
        let (db, actor) = session(ctx)?;
        let input = domain::NewView {
            name: input.name,
            is_private: input.is_private,
            condition_met_type: input.condition_met_type.map(Into::into),
            conditions: input.conditions.into_iter().map(Into::into).collect(),
        };
        Ok(View(domain::create_view(db, actor, input).await?))
    }

    /// Changes a view the caller can see; `conditions` replaces the whole list.
    async fn update_view(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: UpdateViewInput,
    ) -> GqlResult<View> {
        let (db, actor) = session(ctx)?;
        let changes = domain::ViewChanges {
            name: input.name,
            is_private: input.is_private,
            condition_met_type: input.condition_met_type.map(Into::into),
            conditions: input
                .conditions
                .map(|c| c.into_iter().map(Into::into).collect()),
        };
        Ok(View(domain::update_view(db, actor, id, changes).await?))
    }

    /// Removes a view the caller can see; returns it as it was.
    async fn delete_view(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<View> {
        let (db, actor) = session(ctx)?;
        Ok(View(domain::delete_view(db, actor, id).await?))
    }
}

/// A changed or removed agent is looked up afresh on their next request, so deactivation takes
/// effect at once in this process.
fn forget_agent(ctx: &Context<'_>, id: Uuid) {
    if let Some(active) = ctx.data_opt::<crate::auth::ActiveAgents>() {
        active.forget(id);
    }
}
