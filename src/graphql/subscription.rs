//! Subscriptions (over WebSocket at `/graphql/ws`): ticket changes and unread counts, scoped
//! to the subscriber's site.

use std::sync::Arc;

use async_graphql::{Context, Enum, Object, Subscription as SubscriptionObject};
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::tickets::{Ticket, TicketFilter, UnreadCount};
use super::{GqlError, GqlResult, session};
use crate::domain::{Principal, listing, unread};
use crate::live::{self, Bus, Change, ChangeKind};
use crate::{Error, Result};

/// What happened to a ticket.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum TicketChangeKind {
    /// The ticket was created.
    Created,
    /// Its fields, tags, read state, notes, draft or language changed.
    Updated,
    /// A message was added.
    Replied,
    /// It was merged into another ticket, or another ticket was merged into it.
    Merged,
    /// It went to the recycle bin.
    Recycled,
    /// It came back from the recycle bin.
    Restored,
    /// It was deleted, with its conversation and event log.
    Deleted,
}

impl From<ChangeKind> for TicketChangeKind {
    fn from(k: ChangeKind) -> Self {
        match k {
            ChangeKind::Created => Self::Created,
            ChangeKind::Updated => Self::Updated,
            ChangeKind::Replied => Self::Replied,
            ChangeKind::Merged => Self::Merged,
            ChangeKind::Recycled => Self::Recycled,
            ChangeKind::Restored => Self::Restored,
            ChangeKind::Deleted => Self::Deleted,
        }
    }
}

/// One committed change to a ticket.
pub struct TicketChange(Arc<Change>);

#[Object]
impl TicketChange {
    /// What happened.
    async fn kind(&self) -> TicketChangeKind {
        self.0.event.kind.into()
    }
    /// Id of the ticket.
    async fn ticket_id(&self) -> i64 {
        self.0.event.ticket_id
    }
    /// The ticket as committed by the change; null when it was deleted.
    async fn ticket(&self) -> Option<Ticket> {
        self.0.ticket.clone().map(Ticket)
    }
}

#[derive(Default)]
pub struct Subscription;

#[SubscriptionObject]
impl Subscription {
    /// Every committed change to a ticket that passes `filter` (the filter of `tickets`,
    /// views included), made through any replica. A deletion reaches every subscriber of the
    /// site, whatever its filter: the ticket is gone, so there is nothing left to filter.
    async fn ticket_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<TicketFilter>,
    ) -> std::result::Result<impl Stream<Item = GqlResult<TicketChange>> + use<>, GqlError> {
        // On the bus before anything is awaited: no change committed after this call is missed.
        let changes = bus(ctx)?.subscribe();
        let (db, actor) = session(ctx)?;
        let filter: listing::TicketFilter = filter.unwrap_or_default().into();
        // A filter that cannot work (an unknown view, say) is refused now, not at a change.
        listing::filtered(db, actor, &filter).await?;
        let state = Watch {
            changes,
            db: db.connection().clone(),
            actor: *actor,
            _open: Open::new(),
        };
        Ok(futures_util::stream::unfold(
            Some((state, filter)),
            |state| async move {
                let (mut s, filter) = state?;
                loop {
                    let change = match s.changes.recv().await {
                        Ok(change) => change,
                        Err(RecvError::Lagged(n)) => return Some((Err(lagged(n)), None)),
                        Err(RecvError::Closed) => return None,
                    };
                    match live::filter::concerns(&s.db, &s.actor, &filter, &change).await {
                        Ok(true) => {
                            return Some((Ok(TicketChange(change)), Some((s, filter))));
                        }
                        Ok(false) => {}
                        // The filter stopped working (its view was deleted): say so and end.
                        Err(e) => return Some((Err(e.into()), None)),
                    }
                }
            },
        ))
    }

    /// The caller's unread counts (as `unreadCount(viewIds)`): the current counts at once, then
    /// new counts whenever a change in the site alters them. Changes that arrive while counts
    /// are computed are folded into the next count, so this never falls behind.
    async fn unread_count_changed(
        &self,
        ctx: &Context<'_>,
        view_ids: Option<Vec<Uuid>>,
    ) -> std::result::Result<impl Stream<Item = GqlResult<UnreadCount>> + use<>, GqlError> {
        let changes = bus(ctx)?.subscribe();
        let (db, actor) = session(ctx)?;
        let view_ids = view_ids.unwrap_or_default();
        let first = unread::unread_counts(db, actor, &view_ids).await?;
        let state = Watch {
            changes,
            db: db.connection().clone(),
            actor: *actor,
            _open: Open::new(),
        };
        Ok(futures_util::stream::unfold(
            (Some(state), view_ids, None, Some(first)),
            |(state, view_ids, last, pending)| async move {
                let mut s = state?;
                if let Some(counts) = pending {
                    let out = Ok(counts.clone().into());
                    return Some((out, (Some(s), view_ids, Some(counts), None)));
                }
                loop {
                    if !s.next_in_site().await {
                        return None;
                    }
                    match unread::unread_counts(&s.db, &s.actor, &view_ids).await {
                        Ok(counts) if Some(&counts) == last.as_ref() => {}
                        Ok(counts) => {
                            let out = Ok(counts.clone().into());
                            return Some((out, (Some(s), view_ids, Some(counts), None)));
                        }
                        Err(e) => return Some((Err(e.into()), (None, view_ids, last, None))),
                    }
                }
            },
        ))
    }
}

/// What a subscription holds while it is open.
struct Watch {
    changes: broadcast::Receiver<Arc<Change>>,
    db: DatabaseConnection,
    actor: Principal,
    _open: Open,
}

impl Watch {
    /// Waits for a change in the subscriber's site and takes every change already queued with
    /// it; false once the bus is gone.
    async fn next_in_site(&mut self) -> bool {
        loop {
            let mut in_site = match self.changes.recv().await {
                Ok(change) => change.event.site_id == self.actor.site_id,
                // Missed changes only mean a count to compute, which comes next anyway.
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => return false,
            };
            loop {
                match self.changes.try_recv() {
                    Ok(change) => in_site |= change.event.site_id == self.actor.site_id,
                    Err(broadcast::error::TryRecvError::Lagged(_)) => in_site = true,
                    Err(_) => break,
                }
            }
            if in_site {
                return true;
            }
        }
    }
}

/// Counts an open subscription in `deskgraph_subscriptions_open` while it lives.
struct Open;

impl Open {
    fn new() -> Self {
        metrics::gauge!("deskgraph_subscriptions_open").increment(1.0);
        Open
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        metrics::gauge!("deskgraph_subscriptions_open").decrement(1.0);
    }
}

fn bus<'a>(ctx: &Context<'a>) -> Result<&'a Bus> {
    ctx.data_opt::<Bus>().ok_or_else(|| Error::BadInput {
        field: None,
        message: "subscriptions are served over WebSocket at /graphql/ws".into(),
    })
}

fn lagged(missed: u64) -> GqlError {
    Error::Lagged(format!(
        "the subscriber fell behind by {missed} changes and is disconnected; subscribe again"
    ))
    .into()
}
