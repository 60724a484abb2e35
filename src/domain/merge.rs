//! Merging one ticket into another: the source's conversation, mentions and tags move to the
//! target, the target's derived fields are recomputed from what it now holds, and the source
//! is resolved and points at the target. All of it or none of it, in one transaction.

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use serde_json::json;

use super::tickets::{apply_status, as_resolver, lock, log_event};
use super::{Principal, now, search};
use crate::entity::*;
use crate::{Error, Result};

/// Merges `source_id` into `target_id`; returns the target as it is afterwards.
pub async fn merge(
    db: &DatabaseConnection,
    actor: &Principal,
    target_id: i64,
    source_id: i64,
) -> Result<tickets::Model> {
    if target_id == source_id {
        return Err(Error::bad_input(
            "sourceId",
            "a ticket cannot be merged into itself",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    // Lock in id order, so two merges of the same pair cannot deadlock.
    let (first, second) = (
        Ord::min(target_id, source_id),
        Ord::max(target_id, source_id),
    );
    let a = lock(&txn, actor, first)
        .await
        .map_err(|e| name(e, first == source_id))?;
    let b = lock(&txn, actor, second)
        .await
        .map_err(|e| name(e, second == source_id))?;
    let (target, source) = if a.id == target_id { (a, b) } else { (b, a) };
    for (ticket, role) in [(&target, "target"), (&source, "source")] {
        if ticket.merged_to_target_id.is_some() {
            return Err(Error::conflict(format!(
                "the {role} ticket {} is already merged into ticket {}",
                ticket.id,
                ticket.merged_to_target_id.unwrap_or_default()
            )));
        }
        if ticket.is_in_recycle_bin {
            return Err(Error::conflict(format!(
                "the {role} ticket {} is in the recycle bin",
                ticket.id
            )));
        }
    }

    move_children(&txn, actor, source.id, target.id).await?;
    let target = recompute(&txn, actor, target).await?;

    let at = now();
    let mut s: tickets::ActiveModel = source.clone().into();
    if source.status != TicketStatus::Resolved {
        apply_status(
            &mut s,
            &source,
            TicketStatus::Resolved,
            as_resolver(actor),
            at,
        );
    }
    s.merged_to_target_id = Set(Some(target.id));
    s.if_has_draft = Set(false);
    s.last_message_id = Set(None);
    s.last_updated_time = Set(at);
    let source = s.update(&txn).await?;
    search::reindex(&txn, actor, &target).await?;
    search::reindex(&txn, actor, &source).await?;

    log_event(
        &txn,
        actor,
        target.id,
        "merged",
        json!({ "sourceId": source.id }),
    )
    .await?;
    log_event(
        &txn,
        actor,
        source.id,
        "mergedInto",
        json!({ "targetId": target.id }),
    )
    .await?;
    let events = [target.id, source.id].map(|id| {
        crate::live::TicketEvent::new(actor.site_id, id, crate::live::ChangeKind::Merged)
    });
    crate::live::commit(db, txn, &events).await?;
    Ok(target)
}

/// NOT_FOUND says which side of the merge is missing.
fn name(e: Error, is_source: bool) -> Error {
    match e {
        Error::NotFound(msg) if is_source => Error::NotFound(format!("source {msg}")),
        Error::NotFound(msg) => Error::NotFound(format!("target {msg}")),
        other => other,
    }
}

async fn move_children(
    txn: &DatabaseTransaction,
    actor: &Principal,
    from: i64,
    to: i64,
) -> Result<()> {
    messages::Entity::update_many()
        .col_expr(messages::Column::TicketId, Expr::value(to))
        .filter(messages::Column::SiteId.eq(actor.site_id))
        .filter(messages::Column::TicketId.eq(from))
        .exec(txn)
        .await?;
    note_mentions::Entity::update_many()
        .col_expr(note_mentions::Column::TicketId, Expr::value(to))
        .filter(note_mentions::Column::SiteId.eq(actor.site_id))
        .filter(note_mentions::Column::TicketId.eq(from))
        .exec(txn)
        .await?;
    // Tags the target lacks move over; the source keeps none.
    ticket_tags::Entity::update_many()
        .col_expr(ticket_tags::Column::TicketId, Expr::value(to))
        .filter(ticket_tags::Column::SiteId.eq(actor.site_id))
        .filter(ticket_tags::Column::TicketId.eq(from))
        .filter(
            ticket_tags::Column::TagId.not_in_subquery(
                Query::select()
                    .column(ticket_tags::Column::TagId)
                    .from(ticket_tags::Entity)
                    .and_where(ticket_tags::Column::SiteId.eq(actor.site_id))
                    .and_where(ticket_tags::Column::TicketId.eq(to))
                    .to_owned(),
            ),
        )
        .exec(txn)
        .await?;
    ticket_tags::Entity::delete_many()
        .filter(ticket_tags::Column::SiteId.eq(actor.site_id))
        .filter(ticket_tags::Column::TicketId.eq(from))
        .exec(txn)
        .await?;
    // The source's unsent draft has nothing to answer any more.
    drafts::Entity::delete_many()
        .filter(drafts::Column::SiteId.eq(actor.site_id))
        .filter(drafts::Column::TicketId.eq(from))
        .exec(txn)
        .await?;
    Ok(())
}

/// Recomputes what a ticket derives from its messages, after messages moved in.
async fn recompute(
    txn: &DatabaseTransaction,
    actor: &Principal,
    ticket: tickets::Model,
) -> Result<tickets::Model> {
    let all = actor
        .find::<messages::Entity>()
        .filter(messages::Column::TicketId.eq(ticket.id))
        .order_by_asc(messages::Column::Time)
        .order_by_asc(messages::Column::Id)
        .all(txn)
        .await?;
    let mut t: tickets::ActiveModel = ticket.clone().into();
    let last = all.last();
    t.last_message_id = Set(last.map(|m| m.id));
    t.last_message_channel_id = Set(last.and_then(|m| m.channel_id.clone()));
    t.last_message_channel_account_id = Set(last.and_then(|m| m.channel_account_id));
    let public: Vec<_> = all.iter().filter(|m| !m.is_internal).collect();
    t.total_replies = Set(public.len() as i32);
    let last_reply = public.last();
    t.last_replied_by_id = Set(last_reply.and_then(|m| m.sent_by_id));
    t.last_replied_by_type = Set(last_reply.and_then(|m| m.sent_by_type));
    t.last_replied_time = Set(last_reply.map(|m| m.time));
    t.last_updated_time = Set(now());
    Ok(t.update(txn).await?)
}
