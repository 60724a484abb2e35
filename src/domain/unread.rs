//! Unread counts: for the whole site and per view, the unread tickets an agent should look at,
//! and separately those where the agent has an unread mention. Counted in SQL.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::listing::{TicketFilter, filtered, kept_count, statement_key};
use super::{Principal, views};
use crate::Result;
use crate::entity::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewUnread {
    pub view_id: Uuid,
    pub unread_count: u64,
    /// The most recently updated unread tickets, at most [`UNREAD_IDS_MAX`].
    pub unread_ticket_ids: Vec<i64>,
    pub mentioned_unread_count: u64,
    /// The most recently updated tickets with an unread mention, at most [`UNREAD_IDS_MAX`].
    pub mentioned_unread_ticket_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadCounts {
    pub all_count: u64,
    pub views: Vec<ViewUnread>,
}

/// Counts over the tickets an agent works: outside the recycle bin and not merged away.
pub async fn unread_counts(
    db: &DatabaseConnection,
    actor: &Principal,
    view_ids: &[Uuid],
) -> Result<UnreadCounts> {
    let visible = filtered(db, actor, &TicketFilter::default()).await?;
    // Only a number is wanted here: count in the database instead of fetching every id.
    let unread_in_site = visible
        .clone()
        .filter(tickets::Column::IsReadByAgent.eq(false));
    let all_count = kept_count(db, actor, unread_in_site).await?;
    let mut views_out = Vec::with_capacity(view_ids.len());
    for view in views::visible_views(db, actor, view_ids, "viewIds").await? {
        let view_id = view.view.id;
        let in_view = visible.clone().filter(views::condition(actor, &view)?);
        let unread = in_view
            .clone()
            .filter(tickets::Column::IsReadByAgent.eq(false));
        let mentioned = in_view.filter(mentioned_unread(actor));
        let unread_count = kept_count(db, actor, unread.clone()).await?;
        let mentioned_unread_count = kept_count(db, actor, mentioned.clone()).await?;
        views_out.push(ViewUnread {
            view_id,
            unread_count,
            unread_ticket_ids: newest_ids(db, actor, unread, unread_count).await?,
            mentioned_unread_count,
            mentioned_unread_ticket_ids: newest_ids(db, actor, mentioned, mentioned_unread_count)
                .await?,
        });
    }
    Ok(UnreadCounts {
        all_count,
        views: views_out,
    })
}

/// Tickets where the caller has a mention not yet read.
fn mentioned_unread(actor: &Principal) -> sea_orm::sea_query::SimpleExpr {
    Expr::col((tickets::Entity, tickets::Column::Id)).in_subquery(
        Query::select()
            .column(note_mentions::Column::TicketId)
            .from(note_mentions::Entity)
            .and_where(note_mentions::Column::SiteId.eq(actor.site_id))
            .and_where(note_mentions::Column::AgentId.eq(actor.agent_id))
            .and_where(note_mentions::Column::IsReadByAgent.eq(false))
            .to_owned(),
    )
}

/// A view of a busy site holds tens of thousands of unread tickets; a console shows the newest
/// and the count, so the id lists stop at this many (the API's own sample answers 145 unread
/// with two ids).
pub const UNREAD_IDS_MAX: u64 = 100;

/// The count decides the plan: none needs no query; a few are fetched whole (a `LIMIT` would
/// make PostgreSQL walk the site's whole time index looking for them); many stop at the limit,
/// which that walk then reaches quickly.
/// Kept like the counts, until the site changes.
async fn newest_ids(
    db: &DatabaseConnection,
    actor: &Principal,
    query: sea_orm::Select<tickets::Entity>,
    count: u64,
) -> Result<Vec<i64>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let query = query
        .select_only()
        .column(tickets::Column::Id)
        .order_by_desc(tickets::Column::LastUpdatedTime)
        .order_by_desc(tickets::Column::Id);
    let query = if count > UNREAD_IDS_MAX {
        query.limit(UNREAD_IDS_MAX)
    } else {
        query
    };
    let key = statement_key(db, "ids", &query);
    crate::live::cached(db, actor.site_id, key, || async move {
        Ok(query.into_tuple::<i64>().all(db).await?)
    })
    .await
}
