//! Listing tickets: one filter shape for every caller (GraphQL `tickets`, the REST list, views,
//! unread counts), turned into SQL, and keyset pages that stay stable while tickets are added.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Asterisk, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbBackend, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};
use uuid::Uuid;

use super::Principal;
use crate::db::Db;
use crate::entity::rows::{Columns, Rows};
use crate::entity::*;
use crate::{Error, Result};

/// Most tickets one page may hold.
pub const MAX_PAGE: u64 = 100;
pub const DEFAULT_PAGE: u64 = 20;

/// Which tickets to list. Empty means no restriction on that field. Recycled tickets and
/// tickets merged into another are left out unless asked for.
#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub tag_id: Option<Uuid>,
    pub updated_since: Option<DateTime<Utc>>,
    pub last_replied_since: Option<DateTime<Utc>>,
    pub keywords: Option<String>,
    pub view_id: Option<Uuid>,
    pub contact_or_visitor_id: Option<Uuid>,
    pub contact_or_visitor_type: Option<ParticipantType>,
    pub statuses: Vec<TicketStatus>,
    pub priorities: Vec<Priority>,
    pub assignee_id: Option<Uuid>,
    pub department_assignee_id: Option<Uuid>,
    pub channel_id: Option<String>,
    /// `Some(true)`: only the recycle bin; `Some(false)` or `None`: only tickets outside it.
    pub in_recycle_bin: Option<bool>,
    /// Include tickets merged into another one.
    pub include_merged: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    #[default]
    LastUpdatedTime,
    CreatedTime,
    Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Default for Sort {
    /// The inbox order: most recently changed first.
    fn default() -> Self {
        Sort {
            field: SortField::LastUpdatedTime,
            descending: true,
        }
    }
}

/// A position in a listing: the sort key of a ticket and its id, which breaks ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub field: SortField,
    /// Milliseconds since the epoch for time fields; the id again for `Id`.
    pub key: i64,
    pub id: i64,
}

impl Cursor {
    pub fn of(ticket: &tickets::Model, field: SortField) -> Cursor {
        let key = match field {
            SortField::LastUpdatedTime => ticket.last_updated_time.timestamp_millis(),
            SortField::CreatedTime => ticket.created_time.timestamp_millis(),
            SortField::Id => ticket.id,
        };
        Cursor {
            field,
            key,
            id: ticket.id,
        }
    }
}

/// Which page: the first `n` after a cursor, or the last `n` before one.
#[derive(Debug, Clone, Copy)]
pub enum Page {
    First { n: u64, after: Option<Cursor> },
    Last { n: u64, before: Option<Cursor> },
}

#[derive(Debug)]
pub struct TicketPage {
    pub tickets: Vec<tickets::Model>,
    pub has_previous: bool,
    pub has_next: bool,
}

/// One page of the caller's tickets, in `sort` order, read as far as `columns` say (the id
/// and the sort's column always, for the page's cursors; a keyword search reads them all).
pub async fn list(
    db: &Db,
    actor: &Principal,
    filter: &TicketFilter,
    sort: Sort,
    page: Page,
    columns: Columns,
) -> Result<TicketPage> {
    let (n, cursor, forward) = match page {
        Page::First { n, after } => (n, after, true),
        Page::Last { n, before } => (n, before, false),
    };
    if n > MAX_PAGE {
        let arg = if forward { "first" } else { "last" };
        return Err(Error::bad_input(
            arg,
            format!("{arg} must be at most {MAX_PAGE}"),
        ));
    }
    if let Some(c) = cursor
        && c.field != sort.field
    {
        return Err(Error::bad_input(
            if forward { "after" } else { "before" },
            "the cursor belongs to another ordering",
        ));
    }
    // Walking backwards is walking forwards in the opposite order, then flipping the page.
    let descending = sort.descending == forward;
    let order = if descending { Order::Desc } else { Order::Asc };
    let ordered = |query: Select<tickets::Entity>| {
        let query = match cursor {
            Some(c) => query.filter(past_cursor(sort.field, c, descending)),
            None => query,
        };
        query
            .order_by(sort_column(sort.field), order.clone())
            .order_by(tickets::Column::Id, order.clone())
    };
    let page_of = |query: Select<tickets::Entity>, limit: u64| ordered(query).limit(limit);
    let mut rows = match keyword_walk(db, actor, filter, sort.field, &order, n, &page_of).await? {
        Some(rows) => rows,
        None => {
            let columns = columns
                .with::<tickets::Entity>(tickets::Column::Id)
                .with::<tickets::Entity>(sort_column(sort.field));
            ordered(filtered(db, actor, filter).await?)
                .rows_page(db, n + 1, 0, columns)
                .await?
        }
    };
    let more = rows.len() as u64 > n;
    rows.truncate(n as usize);
    if !forward {
        rows.reverse();
    }
    let (has_previous, has_next) = if forward {
        (cursor.is_some(), more)
    } else {
        (more, cursor.is_some())
    };
    Ok(TicketPage {
        tickets: rows,
        has_previous,
        has_next,
    })
}

/// Tickets walked in page order, at most, looking for a keyword search's page among them
/// before asking the full-text index.
const KEYWORD_WALK: u64 = 300;

/// A keyword search's page (`n + 1` rows) found by walking the list in page order and testing
/// each ticket's search document, if the first [`KEYWORD_WALK`] tickets hold it; `None` when
/// they do not (or there are no keywords, or the backend is not PostgreSQL).
///
/// Why: PostgreSQL answers a keyword filter by reading every match from the full-text index,
/// then sorting them. A common word matches tens of thousands of tickets, and the page of the
/// 50 newest cost 100 ms or more (44,746 matches in a site of 100,000: 105 ms). Walking the
/// list in order stops after the page is full: about 3 ms. A rare word still goes to the
/// index, after a walk of at most [`KEYWORD_WALK`] rows. The planner cannot choose between
/// the two itself: it has no estimate for how many documents a prefix search matches.
async fn keyword_walk(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: &TicketFilter,
    field: SortField,
    order: &Order,
    n: u64,
    page_of: &impl Fn(Select<tickets::Entity>, u64) -> Select<tickets::Entity>,
) -> Result<Option<Vec<tickets::Model>>> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(None);
    }
    let (without, Some(words)) = split_keywords(filter)? else {
        return Ok(None);
    };
    let walk = page_of(filtered(db, actor, &without).await?, KEYWORD_WALK).into_query();
    // Selected from the walk as `tickets`, so that columns keep their names. The test runs row
    // by row in the walk's order, and the LIMIT stops the walk as soon as the page is full.
    let page = Query::select()
        .column(Asterisk)
        .from_subquery(walk, tickets::Entity)
        .and_where(super::search::row_matches(
            DbBackend::Postgres,
            actor,
            words,
        ))
        .order_by((tickets::Entity, sort_column(field)), order.clone())
        .order_by((tickets::Entity, tickets::Column::Id), order.clone())
        .limit(n + 1)
        .to_owned();
    let rows = tickets::Entity::find()
        .from_raw_sql(db.get_database_backend().build(&page))
        .all(db)
        .await?;
    Ok((rows.len() as u64 > n).then_some(rows))
}

/// A filter's keywords, if it has any, checked.
fn keywords(filter: &TicketFilter) -> Result<Option<&str>> {
    let words = filter
        .keywords
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty());
    if let Some(words) = words {
        super::optional_text("keywords", words, super::limits::KEYWORDS_MAX)?;
    }
    Ok(words)
}

/// The filter without its keywords, and the keywords ([`keywords`]), for the queries that test
/// keywords their own way.
fn split_keywords(filter: &TicketFilter) -> Result<(TicketFilter, Option<&str>)> {
    let without = TicketFilter {
        keywords: None,
        ..filter.clone()
    };
    Ok((without, keywords(filter)?))
}

/// Whether ticket `id`, as of `last_updated_time`, passes `filter`: one ticket's test, so
/// keywords look at its own search document instead of gathering every match.
pub async fn passes(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: &TicketFilter,
    id: i64,
    last_updated_time: DateTime<Utc>,
) -> Result<bool> {
    let (without, words) = split_keywords(filter)?;
    let mut query = filtered(db, actor, &without)
        .await?
        .filter(tickets::Column::Id.eq(id))
        .filter(tickets::Column::LastUpdatedTime.eq(last_updated_time));
    if let Some(words) = words {
        query = query.filter(super::search::row_matches(
            db.get_database_backend(),
            actor,
            words,
        ));
    }
    Ok(query.count(db).await? > 0)
}

/// How many of the caller's tickets match.
pub async fn count(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: &TicketFilter,
) -> Result<u64> {
    kept_count(db, actor, filtered(db, actor, filter).await?).await
}

/// How many tickets `query` selects, kept until the caller's site changes
/// ([`crate::live::reads`]): a count visits every matching row.
pub(crate) async fn kept_count(
    db: &DatabaseConnection,
    actor: &Principal,
    query: Select<tickets::Entity>,
) -> Result<u64> {
    let key = statement_key(db, "count", &query);
    crate::live::cached(db, actor.site_id, key, || async move {
        Ok(query.count(db).await?)
    })
    .await
}

/// `query` as SQL with its values: equal keys select the same rows of the site.
pub(crate) fn statement_key<Q: QueryTrait>(
    db: &DatabaseConnection,
    kind: &str,
    query: &Q,
) -> String {
    let statement = query.build(db.get_database_backend());
    format!("{kind}|{}|{:?}", statement.sql, statement.values)
}

/// The caller's tickets that pass `filter`.
pub async fn filtered(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: &TicketFilter,
) -> Result<Select<tickets::Entity>> {
    // `is_in_recycle_bin` or `NOT is_in_recycle_bin`, not a comparison with a bound value:
    // PostgreSQL reads a bound boolean as half the rows, and then plans the ticket page again
    // at every execution (its generic plan looks twice as dear as the one for `false`).
    let bin = Expr::col((tickets::Entity, tickets::Column::IsInRecycleBin));
    let mut cond = Condition::all().add(if filter.in_recycle_bin.unwrap_or(false) {
        bin
    } else {
        bin.not()
    });
    if !filter.include_merged {
        cond = cond.add(tickets::Column::MergedToTargetId.is_null());
    }
    if let Some(tag) = filter.tag_id {
        cond = cond.add(has_tag_in(actor, vec![tag]));
    }
    if let Some(t) = filter.updated_since {
        cond = cond.add(tickets::Column::LastUpdatedTime.gte(t));
    }
    if let Some(t) = filter.last_replied_since {
        cond = cond.add(tickets::Column::LastRepliedTime.gte(t));
    }
    if let Some(words) = keywords(filter)? {
        cond = cond.add(super::search::matching(
            db.get_database_backend(),
            actor,
            words,
        ));
    }
    if let Some(id) = filter.contact_or_visitor_id {
        cond = cond.add(tickets::Column::ContactOrVisitorId.eq(id));
    }
    if let Some(kind) = filter.contact_or_visitor_type {
        cond = cond.add(tickets::Column::ContactOrVisitorType.eq(kind));
    }
    if !filter.statuses.is_empty() {
        cond = cond.add(tickets::Column::Status.is_in(filter.statuses.iter().copied()));
    }
    if !filter.priorities.is_empty() {
        cond = cond.add(tickets::Column::Priority.is_in(filter.priorities.iter().copied()));
    }
    if let Some(id) = filter.assignee_id {
        cond = cond.add(tickets::Column::AssigneeId.eq(id));
    }
    if let Some(id) = filter.department_assignee_id {
        cond = cond.add(tickets::Column::DepartmentAssigneeId.eq(id));
    }
    if let Some(channel) = &filter.channel_id {
        cond = cond.add(tickets::Column::ChannelId.eq(channel.as_str()));
    }
    if let Some(view_id) = filter.view_id {
        let view = super::views::visible_view(db, actor, view_id, "viewId").await?;
        cond = cond.add(super::views::condition(actor, &view)?);
    }
    Ok(actor.find::<tickets::Entity>().filter(cond))
}

fn sort_column(field: SortField) -> tickets::Column {
    match field {
        SortField::LastUpdatedTime => tickets::Column::LastUpdatedTime,
        SortField::CreatedTime => tickets::Column::CreatedTime,
        SortField::Id => tickets::Column::Id,
    }
}

/// `(key, id)` strictly beyond the cursor in the walking direction, as one row comparison so
/// the `(site_id, key, id)` index serves it.
fn past_cursor(field: SortField, c: Cursor, descending: bool) -> SimpleExpr {
    let key_value: sea_orm::Value = match field {
        SortField::Id => c.key.into(),
        _ => DateTime::<Utc>::from_timestamp_millis(c.key)
            .unwrap_or_default()
            .into(),
    };
    let lhs = Expr::tuple([
        Expr::col((tickets::Entity, sort_column(field))),
        Expr::col((tickets::Entity, tickets::Column::Id)),
    ]);
    let rhs = Expr::tuple([Expr::value(key_value), Expr::value(c.id)]);
    if descending { lhs.lt(rhs) } else { lhs.gt(rhs) }
}

/// Tickets carrying at least one of `tags`.
pub(crate) fn has_tag_in(actor: &Principal, tags: Vec<Uuid>) -> SimpleExpr {
    Expr::col((tickets::Entity, tickets::Column::Id)).in_subquery(
        Query::select()
            .column(ticket_tags::Column::TicketId)
            .from(ticket_tags::Entity)
            .and_where(ticket_tags::Column::SiteId.eq(actor.site_id))
            .and_where(ticket_tags::Column::TagId.is_in(tags))
            .to_owned(),
    )
}

/// Default size of an offset page (the REST list's `pageSize`).
pub const DEFAULT_OFFSET_PAGE: u64 = 50;

/// One numbered page of the caller's tickets in `sort` order, and how many match in all.
/// `page_index` counts from 1; `page_size` is 1 to [`MAX_PAGE`]. Only `columns` are read.
pub async fn offset_page(
    db: &Db,
    actor: &Principal,
    filter: &TicketFilter,
    sort: Sort,
    page_index: u64,
    page_size: u64,
    columns: Columns,
) -> Result<(Vec<tickets::Model>, u64)> {
    if page_index < 1 {
        return Err(Error::bad_input(
            "pageIndex",
            "pageIndex must be at least 1",
        ));
    }
    if !(1..=MAX_PAGE).contains(&page_size) {
        return Err(Error::bad_input(
            "pageSize",
            format!("pageSize must be between 1 and {MAX_PAGE}"),
        ));
    }
    let query = filtered(db, actor, filter).await?;
    let total = kept_count(db, actor, query.clone()).await?;
    let order = if sort.descending {
        Order::Desc
    } else {
        Order::Asc
    };
    let rows = query
        .order_by(sort_column(sort.field), order.clone())
        .order_by(tickets::Column::Id, order)
        .rows_page(
            db,
            page_size,
            (page_index - 1).saturating_mul(page_size),
            columns,
        )
        .await?;
    Ok((rows, total))
}
