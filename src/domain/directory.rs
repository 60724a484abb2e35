//! The site's directory: the agents, departments, chatbots, contacts, visitors, tags and views
//! that tickets point at. Every read goes through [`Principal::find`]; every write is one
//! transaction, so a refused request leaves nothing behind.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use super::{Principal, SiteScoped, now, optional_text, required_text};
use crate::entity::*;
use crate::live::{ChangeKind, TicketEvent};
use crate::{Error, Result};

pub use super::limits::{
    CONDITION_VALUE_MAX, CONDITIONS_MAX, DESCRIPTION_MAX, EMAIL_MAX, LANGUAGE_MAX, NAME_MAX,
    PHONE_MAX,
};
pub const PAGE_DEFAULT: u64 = 20;
pub const PAGE_MAX: u64 = 100;

/// The ticket fields a view condition may test: the ones a ticket filter can evaluate.
pub const VIEW_FIELDS: &[&str] = &[
    "status",
    "priority",
    "assigneeId",
    "assigneeType",
    "departmentAssigneeId",
    "channelId",
    "contactOrVisitorId",
    "contactOrVisitorType",
    "tagIds",
    "subject",
    "isReadByAgent",
    "isInRecycleBin",
    "createdTime",
    "lastUpdatedTime",
    "lastRepliedTime",
    "replyingAgent",
    "totalReplies",
];

/// How a view condition compares a ticket field with its value. Stored as the spec's spelling
/// (`isNotIn`), which `view_conditions.operator` holds as plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionOperator {
    Is,
    IsNot,
    IsOneOf,
    IsNotIn,
    Contains,
    NotContains,
    Before,
    After,
    IsMoreThan,
    IsLessThan,
}

impl ConditionOperator {
    const ALL: [ConditionOperator; 10] = [
        Self::Is,
        Self::IsNot,
        Self::IsOneOf,
        Self::IsNotIn,
        Self::Contains,
        Self::NotContains,
        Self::Before,
        Self::After,
        Self::IsMoreThan,
        Self::IsLessThan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Is => "is",
            Self::IsNot => "isNot",
            Self::IsOneOf => "isOneOf",
            Self::IsNotIn => "isNotIn",
            Self::Contains => "contains",
            Self::NotContains => "notContains",
            Self::Before => "before",
            Self::After => "after",
            Self::IsMoreThan => "isMoreThan",
            Self::IsLessThan => "isLessThan",
        }
    }

    /// The operator a stored spelling names; an unknown spelling is a corrupt row, our fault.
    pub fn parse(stored: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str() == stored)
            .ok_or_else(|| {
                Error::Internal(anyhow::anyhow!(
                    "unknown view condition operator {stored:?}"
                ))
            })
    }
}

/// A directory table whose rows are looked up by a UUID `id` and listed by `name`.
/// Views are not one: whether a view exists depends on who asks (see [`view`]).
pub trait Record: SiteScoped {
    /// What error messages call a row ("agent 0192... not found").
    const KIND: &'static str;
    fn id_column() -> Self::Column;
    fn name_column() -> Self::Column;
    fn id_of(model: &Self::Model) -> Uuid;
}

macro_rules! record {
    ($($module:ident => $kind:literal),* $(,)?) => {
        $(impl Record for $module::Entity {
            const KIND: &'static str = $kind;
            fn id_column() -> Self::Column {
                $module::Column::Id
            }
            fn name_column() -> Self::Column {
                $module::Column::Name
            }
            fn id_of(model: &Self::Model) -> Uuid {
                model.id
            }
        })*
    };
}

record!(
    agents => "agent",
    departments => "department",
    chatbots => "chatbot",
    contacts => "contact",
    visitors => "visitor",
    tags => "tag",
);

/// One record of the caller's site.
pub async fn get<E: Record>(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<E::Model>
where
    E::Model: Sync,
{
    find::<E>(db, actor, id, false).await
}

/// Every record of the caller's site, by name.
pub async fn list<E: Record>(db: &DatabaseConnection, actor: &Principal) -> Result<Vec<E::Model>>
where
    E::Model: Sync,
{
    Ok(actor
        .find::<E>()
        .order_by(E::name_column(), Order::Asc)
        .order_by(E::id_column(), Order::Asc)
        .all(db)
        .await?)
}

/// Reads one record; `lock` holds it until the transaction ends, for read-modify-write.
async fn find<E: Record>(
    db: &impl ConnectionTrait,
    actor: &Principal,
    id: Uuid,
    lock: bool,
) -> Result<E::Model>
where
    E::Model: Sync,
{
    let mut query = actor.find::<E>().filter(E::id_column().eq(id));
    if lock {
        query = query.lock_exclusive();
    }
    query
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found(format_args!("{} {id}", E::KIND)))
}

/// Deletes one record of the caller's site, already read in the same transaction.
async fn remove<E: Record>(txn: &DatabaseTransaction, actor: &Principal, id: Uuid) -> Result<()> {
    E::delete_many()
        .filter(E::site_column().eq(actor.site_id))
        .filter(E::id_column().eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

// ---- validation ----

fn name(value: &str) -> Result<String> {
    required_text("name", value, NAME_MAX)
}

/// An address with one `@` and text on both sides. Deliverability is the mail system's
/// business; this only keeps out what cannot be an address at all.
fn email(field: &str, value: &str) -> Result<String> {
    let v = required_text(field, value, EMAIL_MAX)?;
    let valid = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !v.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !valid {
        return Err(Error::bad_input(
            field,
            format!("{field} must be an address like name@example.com"),
        ));
    }
    Ok(v)
}

/// An optional address; blank means none, as a cleared form field sends it.
fn optional_email(field: &str, value: Option<&str>) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => email(field, v).map(Some),
    }
}

/// Optional free text that is kept trimmed; blank means none.
fn optional_trimmed(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => optional_text(field, v, max).map(|v| Some(v.to_owned())),
    }
}

/// A language tag (`en`, `pt-BR`); empty means not known.
fn language(value: Option<&str>) -> Result<Option<String>> {
    value
        .map(|v| optional_text("language", v.trim(), LANGUAGE_MAX).map(str::to_owned))
        .transpose()
}

/// A unique index (case ignored) caught what the check before the write could not see: a
/// concurrent transaction that took the same name. The caller's conflict, naming the field.
fn taken(field: &'static str, message: &'static str) -> impl FnOnce(sea_orm::DbErr) -> Error {
    move |e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::conflict_on(field, message),
        _ => e.into(),
    }
}

/// `LOWER(column) = LOWER(value)`: names and addresses clash whatever their case.
fn same_text_ignoring_case(column: impl ColumnTrait, value: &str) -> Expr {
    Expr::expr(Func::lower(column.into_expr())).eq(value.to_lowercase())
}

// ---- agents ----

#[derive(Debug, Clone, Default)]
pub struct NewAgent {
    pub name: String,
    pub email: String,
    pub role: Option<AgentRole>,
    pub is_active: Option<bool>,
    pub language: Option<String>,
}

/// Changes to an agent; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgentChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: Option<AgentRole>,
    pub is_active: Option<bool>,
    pub language: Option<String>,
}

pub async fn create_agent(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewAgent,
) -> Result<agents::Model> {
    let name = name(&input.name)?;
    let email = email("email", &input.email)?;
    let language = language(input.language.as_deref())?.unwrap_or_default();

    let txn = crate::db::begin_write(db).await?;
    ensure_agent_email_free(&txn, actor, &email, None).await?;
    let agent = agents::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        name: Set(name),
        email: Set(email),
        role: Set(input.role.unwrap_or(AgentRole::Agent)),
        is_active: Set(input.is_active.unwrap_or(true)),
        language: Set(language),
        created_time: Set(now()),
    }
    .insert(&txn)
    .await
    .map_err(taken(
        "email",
        "another agent of this site already has that email",
    ))?;
    txn.commit().await?;
    Ok(agent)
}

pub async fn update_agent(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
    changes: AgentChanges,
) -> Result<agents::Model> {
    let name = changes.name.as_deref().map(name).transpose()?;
    let email = changes
        .email
        .as_deref()
        .map(|e| email("email", e))
        .transpose()?;
    let language = language(changes.language.as_deref())?;

    let txn = crate::db::begin_write(db).await?;
    let agent = find::<agents::Entity>(&txn, actor, id, true).await?;
    // An agent who switches themselves off could not switch themselves back on.
    if changes.is_active == Some(false) && id == actor.agent_id {
        return Err(Error::conflict("you cannot deactivate yourself"));
    }
    if let Some(email) = &email {
        ensure_agent_email_free(&txn, actor, email, Some(id)).await?;
    }
    let mut model: agents::ActiveModel = agent.into();
    if let Some(v) = name {
        model.name = Set(v);
    }
    if let Some(v) = email {
        model.email = Set(v);
    }
    if let Some(v) = changes.role {
        model.role = Set(v);
    }
    if let Some(v) = changes.is_active {
        model.is_active = Set(v);
    }
    if let Some(v) = language {
        model.language = Set(v);
    }
    let agent = model.update(&txn).await.map_err(taken(
        "email",
        "another agent of this site already has that email",
    ))?;
    txn.commit().await?;
    Ok(agent)
}

/// Removes an agent. Their tickets go back to the unassigned queue in the same transaction;
/// their note mentions go by cascade; shared views they made stay (with no creator), while
/// their private views go, since no one else could ever see or remove them.
pub async fn delete_agent(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<agents::Model> {
    let txn = crate::db::begin_write(db).await?;
    let agent = find::<agents::Entity>(&txn, actor, id, true).await?;
    if id == actor.agent_id {
        return Err(Error::conflict("you cannot delete yourself"));
    }
    let changed = unassign_tickets(&txn, actor, AssigneeType::Agent, id).await?;
    views::Entity::delete_many()
        .filter(views::Column::SiteId.eq(actor.site_id))
        .filter(views::Column::CreatedById.eq(id))
        .filter(views::Column::IsPrivate.eq(true))
        .exec(&txn)
        .await?;
    remove::<agents::Entity>(&txn, actor, id).await?;
    commit_changing(db, txn, actor, &changed).await?;
    Ok(agent)
}

async fn ensure_agent_email_free(
    txn: &DatabaseTransaction,
    actor: &Principal,
    email: &str,
    except: Option<Uuid>,
) -> Result<()> {
    let mut query = actor
        .find::<agents::Entity>()
        .filter(same_text_ignoring_case(agents::Column::Email, email));
    if let Some(id) = except {
        query = query.filter(agents::Column::Id.ne(id));
    }
    if query.count(txn).await? > 0 {
        return Err(Error::conflict_on(
            "email",
            format!("email {email} is already used by another agent of this site"),
        ));
    }
    Ok(())
}

/// Clears the assignee of every ticket of the site assigned to this agent or chatbot; returns
/// those tickets.
async fn unassign_tickets(
    txn: &DatabaseTransaction,
    actor: &Principal,
    kind: AssigneeType,
    id: Uuid,
) -> Result<Vec<i64>> {
    let assigned = Condition::all()
        .add(tickets::Column::SiteId.eq(actor.site_id))
        .add(tickets::Column::AssigneeId.eq(id))
        .add(tickets::Column::AssigneeType.eq(kind));
    change_tickets(
        txn,
        assigned,
        [
            (
                tickets::Column::AssigneeId,
                Expr::value(Option::<Uuid>::None),
            ),
            (
                tickets::Column::AssigneeType,
                Expr::value(Option::<String>::None),
            ),
        ],
    )
    .await
}

/// Sets `columns` on the site's tickets matching `which` and gives each a new version; returns
/// their ids. They are locked first, until the transaction ends (on PostgreSQL; SQLite's write
/// transaction already excludes other writers), so the set that is changed and announced is
/// exactly the one returned.
async fn change_tickets(
    txn: &DatabaseTransaction,
    which: Condition,
    columns: impl IntoIterator<Item = (tickets::Column, Expr)>,
) -> Result<Vec<i64>> {
    let ids = tickets::Entity::find()
        .select_only()
        .column(tickets::Column::Id)
        .filter(which.clone())
        .lock_exclusive()
        .into_tuple::<i64>()
        .all(txn)
        .await?;
    let mut update = tickets::Entity::update_many()
        .col_expr(tickets::Column::Version, super::tickets::next_version());
    for (column, value) in columns {
        update = update.col_expr(column, value);
    }
    update.filter(which).exec(txn).await?;
    Ok(ids)
}

/// Commits a directory change that changed `tickets` too: each gets its `updated` event, so
/// subscribers and the counts kept for the site hear of it.
async fn commit_changing(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    actor: &Principal,
    tickets: &[i64],
) -> Result<()> {
    let events: Vec<TicketEvent> = tickets
        .iter()
        .map(|id| TicketEvent::new(actor.site_id, *id, ChangeKind::Updated))
        .collect();
    crate::live::commit(db, txn, &events).await
}

// ---- departments ----

#[derive(Debug, Clone, Default)]
pub struct NewDepartment {
    pub name: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DepartmentChanges {
    pub name: Option<String>,
    pub description: Option<String>,
}

pub async fn create_department(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewDepartment,
) -> Result<departments::Model> {
    let name = name(&input.name)?;
    let description =
        optional_trimmed("description", input.description.as_deref(), DESCRIPTION_MAX)?;

    let txn = crate::db::begin_write(db).await?;
    let department = departments::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        name: Set(name),
        description: Set(description.unwrap_or_default()),
        created_time: Set(now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(department)
}

pub async fn update_department(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
    changes: DepartmentChanges,
) -> Result<departments::Model> {
    let name = changes.name.as_deref().map(name).transpose()?;
    let description = changes
        .description
        .as_deref()
        .map(|d| optional_trimmed("description", Some(d), DESCRIPTION_MAX))
        .transpose()?;

    let txn = crate::db::begin_write(db).await?;
    let mut model: departments::ActiveModel = find::<departments::Entity>(&txn, actor, id, true)
        .await?
        .into();
    if let Some(v) = name {
        model.name = Set(v);
    }
    if let Some(v) = description {
        model.description = Set(v.unwrap_or_default());
    }
    let department = model.update(&txn).await?;
    txn.commit().await?;
    Ok(department)
}

/// Removes a department; its tickets lose their department assignment (the foreign key sets
/// it null).
pub async fn delete_department(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<departments::Model> {
    let txn = crate::db::begin_write(db).await?;
    let department = find::<departments::Entity>(&txn, actor, id, true).await?;
    // The foreign key would clear the tickets' department by itself, but silently: cleared
    // here, each ticket gets a new version (its ETag) and an event.
    let assigned = Condition::all()
        .add(tickets::Column::SiteId.eq(actor.site_id))
        .add(tickets::Column::DepartmentAssigneeId.eq(id));
    let changed = change_tickets(
        &txn,
        assigned,
        [(
            tickets::Column::DepartmentAssigneeId,
            Expr::value(Option::<Uuid>::None),
        )],
    )
    .await?;
    remove::<departments::Entity>(&txn, actor, id).await?;
    commit_changing(db, txn, actor, &changed).await?;
    Ok(department)
}

// ---- chatbots ----

#[derive(Debug, Clone, Default)]
pub struct NewChatbot {
    pub name: String,
    pub is_active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct ChatbotChanges {
    pub name: Option<String>,
    pub is_active: Option<bool>,
}

pub async fn create_chatbot(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewChatbot,
) -> Result<chatbots::Model> {
    let name = name(&input.name)?;
    let txn = crate::db::begin_write(db).await?;
    let chatbot = chatbots::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        name: Set(name),
        is_active: Set(input.is_active.unwrap_or(true)),
        created_time: Set(now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(chatbot)
}

pub async fn update_chatbot(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
    changes: ChatbotChanges,
) -> Result<chatbots::Model> {
    let name = changes.name.as_deref().map(name).transpose()?;
    let txn = crate::db::begin_write(db).await?;
    let mut model: chatbots::ActiveModel = find::<chatbots::Entity>(&txn, actor, id, true)
        .await?
        .into();
    if let Some(v) = name {
        model.name = Set(v);
    }
    if let Some(v) = changes.is_active {
        model.is_active = Set(v);
    }
    let chatbot = model.update(&txn).await?;
    txn.commit().await?;
    Ok(chatbot)
}

/// Removes a chatbot; its tickets go back to the unassigned queue in the same transaction.
pub async fn delete_chatbot(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<chatbots::Model> {
    let txn = crate::db::begin_write(db).await?;
    let chatbot = find::<chatbots::Entity>(&txn, actor, id, true).await?;
    let changed = unassign_tickets(&txn, actor, AssigneeType::Chatbot, id).await?;
    remove::<chatbots::Entity>(&txn, actor, id).await?;
    commit_changing(db, txn, actor, &changed).await?;
    Ok(chatbot)
}

// ---- contacts and visitors ----

#[derive(Debug, Clone, Default)]
pub struct NewContact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
}

/// Changes to a contact: `None` keeps a field, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct ContactChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub language: Option<String>,
}

pub async fn create_contact(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewContact,
) -> Result<contacts::Model> {
    let name = name(&input.name)?;
    let email = optional_email("email", input.email.as_deref())?;
    let phone = optional_trimmed("phone", input.phone.as_deref(), PHONE_MAX)?;
    let language = language(input.language.as_deref())?.unwrap_or_default();

    let txn = crate::db::begin_write(db).await?;
    let contact = contacts::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        name: Set(name),
        email: Set(email),
        phone: Set(phone),
        language: Set(language),
        created_time: Set(now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(contact)
}

pub async fn update_contact(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
    changes: ContactChanges,
) -> Result<contacts::Model> {
    let name = changes.name.as_deref().map(name).transpose()?;
    let email = changes
        .email
        .map(|e| optional_email("email", e.as_deref()))
        .transpose()?;
    let phone = changes
        .phone
        .map(|p| optional_trimmed("phone", p.as_deref(), PHONE_MAX))
        .transpose()?;
    let language = language(changes.language.as_deref())?;

    let txn = crate::db::begin_write(db).await?;
    let mut model: contacts::ActiveModel = find::<contacts::Entity>(&txn, actor, id, true)
        .await?
        .into();
    if let Some(v) = name {
        model.name = Set(v);
    }
    if let Some(v) = email {
        model.email = Set(v);
    }
    if let Some(v) = phone {
        model.phone = Set(v);
    }
    if let Some(v) = language {
        model.language = Set(v);
    }
    let contact = model.update(&txn).await?;
    txn.commit().await?;
    Ok(contact)
}

/// Removes a contact that no ticket refers to; a ticket without its customer would be
/// unanswerable, so a referenced contact stays.
pub async fn delete_contact(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<contacts::Model> {
    let txn = crate::db::begin_write(db).await?;
    let contact = find::<contacts::Entity>(&txn, actor, id, true).await?;
    ensure_no_ticket_refers_to(&txn, actor, ParticipantType::Contact, id).await?;
    remove::<contacts::Entity>(&txn, actor, id).await?;
    txn.commit().await?;
    Ok(contact)
}

#[derive(Debug, Clone, Default)]
pub struct NewVisitor {
    pub name: String,
    pub email: Option<String>,
    pub language: Option<String>,
}

/// Changes to a visitor: `None` keeps a field, `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct VisitorChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub language: Option<String>,
}

pub async fn create_visitor(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewVisitor,
) -> Result<visitors::Model> {
    let name = name(&input.name)?;
    let email = optional_email("email", input.email.as_deref())?;
    let language = language(input.language.as_deref())?.unwrap_or_default();

    let txn = crate::db::begin_write(db).await?;
    let visitor = visitors::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        name: Set(name),
        email: Set(email),
        language: Set(language),
        created_time: Set(now()),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(visitor)
}

pub async fn update_visitor(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
    changes: VisitorChanges,
) -> Result<visitors::Model> {
    let name = changes.name.as_deref().map(name).transpose()?;
    let email = changes
        .email
        .map(|e| optional_email("email", e.as_deref()))
        .transpose()?;
    let language = language(changes.language.as_deref())?;

    let txn = crate::db::begin_write(db).await?;
    let mut model: visitors::ActiveModel = find::<visitors::Entity>(&txn, actor, id, true)
        .await?
        .into();
    if let Some(v) = name {
        model.name = Set(v);
    }
    if let Some(v) = email {
        model.email = Set(v);
    }
    if let Some(v) = language {
        model.language = Set(v);
    }
    let visitor = model.update(&txn).await?;
    txn.commit().await?;
    Ok(visitor)
}

/// Removes a visitor that no ticket refers to, for the same reason as [`delete_contact`].
pub async fn delete_visitor(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<visitors::Model> {
    let txn = crate::db::begin_write(db).await?;
    let visitor = find::<visitors::Entity>(&txn, actor, id, true).await?;
    ensure_no_ticket_refers_to(&txn, actor, ParticipantType::Visitor, id).await?;
    remove::<visitors::Entity>(&txn, actor, id).await?;
    txn.commit().await?;
    Ok(visitor)
}

/// Refuses when a ticket is about this party, or was created, last replied to or resolved
/// by it: those tickets would point at nothing.
async fn ensure_no_ticket_refers_to(
    txn: &DatabaseTransaction,
    actor: &Principal,
    kind: ParticipantType,
    id: Uuid,
) -> Result<()> {
    use tickets::Column as T;
    let refers =
        |id_col: T, type_col: T| Condition::all().add(id_col.eq(id)).add(type_col.eq(kind));
    let count = actor
        .find::<tickets::Entity>()
        .filter(
            Condition::any()
                .add(refers(T::ContactOrVisitorId, T::ContactOrVisitorType))
                .add(refers(T::CreatedById, T::CreatedByType))
                .add(refers(T::LastRepliedById, T::LastRepliedByType))
                .add(refers(T::ResolvedById, T::ResolvedByType)),
        )
        .count(txn)
        .await?;
    if count > 0 {
        let what = if kind == ParticipantType::Visitor {
            "visitor"
        } else {
            "contact"
        };
        let tickets = if count == 1 { "ticket" } else { "tickets" };
        return Err(Error::conflict(format!(
            "{what} {id} is referenced by {count} {tickets}; delete those first"
        )));
    }
    Ok(())
}

/// Where a page of a list starts: after the row with this name and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameKey {
    pub name: String,
    pub id: Uuid,
}

/// A forward page of a list ordered by name, then id.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub first: Option<i32>,
    pub after: Option<NameKey>,
    /// Keeps rows whose name, email (or phone, for contacts) contains this text, whatever its
    /// case.
    pub search: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
    /// Rows matching the search on all pages together.
    pub total_count: u64,
}

pub async fn contacts_page(
    db: &DatabaseConnection,
    actor: &Principal,
    request: PageRequest,
) -> Result<Page<contacts::Model>> {
    use contacts::Column as C;
    page::<contacts::Entity>(db, actor, request, &[C::Name, C::Email, C::Phone]).await
}

pub async fn visitors_page(
    db: &DatabaseConnection,
    actor: &Principal,
    request: PageRequest,
) -> Result<Page<visitors::Model>> {
    use visitors::Column as C;
    page::<visitors::Entity>(db, actor, request, &[C::Name, C::Email]).await
}

/// Keyset paging on `(name, id)`: a page starts strictly after its cursor, so rows added or
/// removed meanwhile never shift a page onto rows already seen.
async fn page<E: Record>(
    db: &DatabaseConnection,
    actor: &Principal,
    request: PageRequest,
    search_columns: &[E::Column],
) -> Result<Page<E::Model>>
where
    E::Model: Sync,
{
    let first = match request.first {
        None => PAGE_DEFAULT,
        Some(n) if (0..=PAGE_MAX as i32).contains(&n) => n as u64,
        Some(_) => {
            return Err(Error::bad_input(
                "first",
                format!("first must be between 0 and {PAGE_MAX}"),
            ));
        }
    };
    let mut query = actor.find::<E>();
    if let Some(search) = request.search.as_deref().map(str::trim)
        && !search.is_empty()
    {
        let search = optional_text("search", search, NAME_MAX)?;
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let mut any = Condition::any();
        for column in search_columns {
            any = any.add(
                Expr::expr(Func::lower(column.into_expr()))
                    .like(LikeExpr::new(pattern.clone()).escape('\\')),
            );
        }
        query = query.filter(any);
    }
    let total_count = query.clone().count(db).await?;
    if let Some(after) = request.after {
        query = query.filter(
            Condition::any()
                .add(E::name_column().gt(after.name.clone()))
                .add(
                    Condition::all()
                        .add(E::name_column().eq(after.name))
                        .add(E::id_column().gt(after.id)),
                ),
        );
    }
    // One row more than asked says whether another page follows.
    let mut items = query
        .order_by(E::name_column(), Order::Asc)
        .order_by(E::id_column(), Order::Asc)
        .limit(first + 1)
        .all(db)
        .await?;
    let has_next_page = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(Page {
        items,
        has_next_page,
        total_count,
    })
}

/// Makes `%`, `_` and `\` in a search match themselves.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---- tags ----

#[derive(Debug, Clone, Default)]
pub struct NewTag {
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct TagChanges {
    pub name: Option<String>,
}

pub async fn create_tag(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewTag,
) -> Result<tags::Model> {
    let name = name(&input.name)?;
    let txn = crate::db::begin_write(db).await?;
    ensure_tag_name_free(&txn, actor, &name, None).await?;
    let tag = tags::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        name: Set(name),
        created_time: Set(now()),
    }
    .insert(&txn)
    .await
    .map_err(taken("name", "a tag of this site already has that name"))?;
    txn.commit().await?;
    Ok(tag)
}

pub async fn update_tag(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
    changes: TagChanges,
) -> Result<tags::Model> {
    let name = changes.name.as_deref().map(name).transpose()?;
    let txn = crate::db::begin_write(db).await?;
    let mut model: tags::ActiveModel = find::<tags::Entity>(&txn, actor, id, true).await?.into();
    if let Some(v) = name {
        ensure_tag_name_free(&txn, actor, &v, Some(id)).await?;
        model.name = Set(v);
    }
    let tag = model
        .update(&txn)
        .await
        .map_err(taken("name", "a tag of this site already has that name"))?;
    txn.commit().await?;
    Ok(tag)
}

/// Removes a tag; it comes off every ticket (the foreign key cascades).
pub async fn delete_tag(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<tags::Model> {
    let txn = crate::db::begin_write(db).await?;
    let tag = find::<tags::Entity>(&txn, actor, id, true).await?;
    // Removing the tag removes it from its tickets (by cascade): each gets a new version and
    // an event.
    let tagged = Condition::all()
        .add(tickets::Column::SiteId.eq(actor.site_id))
        .add(super::listing::has_tag_in(actor, vec![id]));
    let changed = change_tickets(&txn, tagged, []).await?;
    remove::<tags::Entity>(&txn, actor, id).await?;
    commit_changing(db, txn, actor, &changed).await?;
    Ok(tag)
}

/// Two tags that differ only in case would look like one in every list.
async fn ensure_tag_name_free(
    txn: &DatabaseTransaction,
    actor: &Principal,
    name: &str,
    except: Option<Uuid>,
) -> Result<()> {
    let mut query = actor
        .find::<tags::Entity>()
        .filter(same_text_ignoring_case(tags::Column::Name, name));
    if let Some(id) = except {
        query = query.filter(tags::Column::Id.ne(id));
    }
    if query.count(txn).await? > 0 {
        return Err(Error::conflict_on(
            "name",
            format!("name {name} is already used by another tag of this site"),
        ));
    }
    Ok(())
}

// ---- views ----

#[derive(Debug, Clone)]
pub struct NewCondition {
    pub field_name: String,
    pub operator: ConditionOperator,
    pub value: String,
}

#[derive(Debug, Clone, Default)]
pub struct NewView {
    pub name: String,
    pub is_private: Option<bool>,
    pub condition_met_type: Option<ConditionMetType>,
    pub conditions: Vec<NewCondition>,
}

/// Changes to a view; `conditions`, when given, replaces the whole list.
#[derive(Debug, Clone, Default)]
pub struct ViewChanges {
    pub name: Option<String>,
    pub is_private: Option<bool>,
    pub condition_met_type: Option<ConditionMetType>,
    pub conditions: Option<Vec<NewCondition>>,
}

async fn find_view(
    db: &impl ConnectionTrait,
    actor: &Principal,
    id: Uuid,
    lock: bool,
) -> Result<views::Model> {
    let mut query = super::views::visible(actor).filter(views::Column::Id.eq(id));
    if lock {
        query = query.lock_exclusive();
    }
    query
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found(format_args!("view {id}")))
}

pub async fn view(db: &DatabaseConnection, actor: &Principal, id: Uuid) -> Result<views::Model> {
    find_view(db, actor, id, false).await
}

pub async fn views(db: &DatabaseConnection, actor: &Principal) -> Result<Vec<views::Model>> {
    Ok(super::views::visible(actor)
        .order_by(views::Column::Name, Order::Asc)
        .order_by(views::Column::Id, Order::Asc)
        .all(db)
        .await?)
}

fn check_conditions(conditions: &[NewCondition]) -> Result<()> {
    if conditions.len() > CONDITIONS_MAX {
        return Err(Error::bad_input(
            "conditions",
            format!("a view has at most {CONDITIONS_MAX} conditions"),
        ));
    }
    for (i, c) in conditions.iter().enumerate() {
        if !VIEW_FIELDS.contains(&c.field_name.as_str()) {
            return Err(Error::bad_input(
                format!("conditions[{i}].fieldName"),
                format!(
                    "{:?} is not a field a view can test; use one of {}",
                    c.field_name,
                    VIEW_FIELDS.join(", ")
                ),
            ));
        }
        optional_text(
            &format!("conditions[{i}].value"),
            &c.value,
            CONDITION_VALUE_MAX,
        )?;
    }
    Ok(())
}

async fn insert_conditions(
    txn: &DatabaseTransaction,
    actor: &Principal,
    view_id: Uuid,
    conditions: Vec<NewCondition>,
) -> Result<()> {
    let rows = conditions
        .into_iter()
        .enumerate()
        .map(|(position, c)| view_conditions::ActiveModel {
            id: Set(Uuid::now_v7()),
            site_id: Set(actor.site_id),
            view_id: Set(view_id),
            position: Set(position as i32),
            field_name: Set(c.field_name),
            operator: Set(c.operator.as_str().to_owned()),
            value: Set(c.value),
        })
        .collect::<Vec<_>>();
    if !rows.is_empty() {
        view_conditions::Entity::insert_many(rows).exec(txn).await?;
    }
    Ok(())
}

pub async fn create_view(
    db: &DatabaseConnection,
    actor: &Principal,
    input: NewView,
) -> Result<views::Model> {
    let name = name(&input.name)?;
    check_conditions(&input.conditions)?;

    let txn = crate::db::begin_write(db).await?;
    let at = now();
    let view = views::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(actor.site_id),
        name: Set(name),
        is_private: Set(input.is_private.unwrap_or(false)),
        created_by_id: Set(Some(actor.agent_id)),
        condition_met_type: Set(input.condition_met_type.unwrap_or(ConditionMetType::All)),
        created_time: Set(at),
        last_updated_time: Set(at),
    }
    .insert(&txn)
    .await?;
    insert_conditions(&txn, actor, view.id, input.conditions).await?;
    txn.commit().await?;
    Ok(view)
}

pub async fn update_view(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
    changes: ViewChanges,
) -> Result<views::Model> {
    let name = changes.name.as_deref().map(name).transpose()?;
    if let Some(conditions) = &changes.conditions {
        check_conditions(conditions)?;
    }

    let txn = crate::db::begin_write(db).await?;
    let view = find_view(&txn, actor, id, true).await?;
    // Making someone else's shared view private would take it away from everyone, its
    // creator included.
    if changes.is_private == Some(true)
        && !view.is_private
        && view.created_by_id != Some(actor.agent_id)
    {
        return Err(Error::bad_input(
            "isPrivate",
            "only the agent who created a view can make it private",
        ));
    }
    let mut model: views::ActiveModel = view.into();
    if let Some(v) = name {
        model.name = Set(v);
    }
    if let Some(v) = changes.is_private {
        model.is_private = Set(v);
    }
    if let Some(v) = changes.condition_met_type {
        model.condition_met_type = Set(v);
    }
    if let Some(conditions) = changes.conditions {
        view_conditions::Entity::delete_many()
            .filter(view_conditions::Column::SiteId.eq(actor.site_id))
            .filter(view_conditions::Column::ViewId.eq(id))
            .exec(&txn)
            .await?;
        insert_conditions(&txn, actor, id, conditions).await?;
    }
    model.last_updated_time = Set(now());
    let view = model.update(&txn).await?;
    txn.commit().await?;
    Ok(view)
}

/// Removes a view and its conditions (they cascade).
pub async fn delete_view(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
) -> Result<views::Model> {
    let txn = crate::db::begin_write(db).await?;
    let view = find_view(&txn, actor, id, true).await?;
    views::Entity::delete_many()
        .filter(views::Column::SiteId.eq(actor.site_id))
        .filter(views::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_one_at_with_text_on_both_sides() {
        for good in ["a@b", "ann.lee@example.com", "  x@y.z  "] {
            assert!(email("email", good).is_ok(), "{good}");
        }
        for bad in ["", "ann", "@example.com", "ann@", "a@b@c", "a b@c"] {
            let err = email("email", bad).unwrap_err();
            assert_eq!(err.field(), Some("email"), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(EMAIL_MAX));
        assert_eq!(email("email", &long).unwrap_err().field(), Some("email"));
    }

    #[test]
    fn like_wildcards_in_a_search_match_themselves() {
        assert_eq!(escape_like(r"50%_off\"), r"50\%\_off\\");
    }

    #[test]
    fn every_operator_reads_back_from_its_stored_spelling() {
        for op in ConditionOperator::ALL {
            assert_eq!(ConditionOperator::parse(op.as_str()).unwrap(), op);
        }
        assert!(ConditionOperator::parse("IS").is_err());
    }
}
