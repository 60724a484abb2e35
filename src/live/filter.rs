//! Deciding whether a change concerns a subscriber, as cheaply as possible: the site first,
//! then the filter's plain fields in memory on the loaded ticket, and only then, for what needs
//! SQL (a tag, keywords, a view), one query per distinct filter per change in this process.

use sea_orm::DatabaseConnection;

use super::Change;
use crate::Result;
use crate::domain::Principal;
use crate::domain::listing::{self, TicketFilter};
use crate::entity::tickets;

/// Whether `ticket` passes the plain fields of `filter` (everything but tag, keywords, view),
/// exactly as [`listing::filtered`] would decide them in SQL.
pub fn plain_fields_match(filter: &TicketFilter, t: &tickets::Model) -> bool {
    t.is_in_recycle_bin == filter.in_recycle_bin.unwrap_or(false)
        && (filter.include_merged || t.merged_to_target_id.is_none())
        && filter
            .updated_since
            .is_none_or(|s| t.last_updated_time >= s)
        && filter
            .last_replied_since
            .is_none_or(|s| t.last_replied_time.is_some_and(|r| r >= s))
        && filter
            .contact_or_visitor_id
            .is_none_or(|id| t.contact_or_visitor_id == Some(id))
        && filter
            .contact_or_visitor_type
            .is_none_or(|k| t.contact_or_visitor_type == Some(k))
        && (filter.statuses.is_empty() || filter.statuses.contains(&t.status))
        && (filter.priorities.is_empty() || filter.priorities.contains(&t.priority))
        && filter
            .assignee_id
            .is_none_or(|id| t.assignee_id == Some(id))
        && filter
            .department_assignee_id
            .is_none_or(|id| t.department_assignee_id == Some(id))
        && filter
            .channel_id
            .as_deref()
            .is_none_or(|c| t.channel_id == c)
}

fn needs_sql(filter: &TicketFilter) -> bool {
    filter.tag_id.is_some()
        || filter.view_id.is_some()
        || filter
            .keywords
            .as_deref()
            .is_some_and(|k| !k.trim().is_empty())
}

/// Whether `change` concerns a subscriber acting as `actor` with `filter`. Another site's
/// change never does. A deletion concerns every subscriber of the site: the ticket is gone,
/// so there is nothing left to filter on, and a console showing it must drop it.
pub async fn concerns(
    db: &DatabaseConnection,
    actor: &Principal,
    filter: &TicketFilter,
    change: &Change,
) -> Result<bool> {
    if change.event.site_id != actor.site_id {
        return Ok(false);
    }
    let Some(ticket) = &change.ticket else {
        return Ok(true);
    };
    if !plain_fields_match(filter, ticket) || !needs_sql(filter) {
        return Ok(plain_fields_match(filter, ticket));
    }
    // Private views answer per agent, so the agent is part of the key when a view is used.
    let key = match filter.view_id {
        Some(_) => format!("{}|{filter:?}", actor.agent_id),
        None => format!("{filter:?}"),
    };
    change
        .verdict(key, || async {
            // SQL sees the ticket as it is now; if it changed since this change's snapshot,
            // the verdict would be about a later state, which has its own change to come.
            listing::passes(db, actor, filter, ticket.id, ticket.last_updated_time).await
        })
        .await
}
