//! Live updates: what changed (a [`TicketEvent`]: site, ticket id, kind), how a write announces
//! it, and how every process hears it.
//!
//! A write announces its changes with [`commit`], which replaces `txn.commit()`:
//! - PostgreSQL: `pg_notify` inside the transaction, so the database delivers the event to
//!   every process listening on it exactly when the write commits, and never for a write that
//!   rolls back. Each process runs one `LISTEN` connection ([`bus`]) that forwards to its local
//!   broadcast. Several replicas on one database thus share events with nothing else to run.
//! - SQLite: one process owns the file; the event goes to the in-process broadcast right after
//!   the commit succeeds.
//!
//! Events carry ids, never documents (NOTIFY payloads are limited to 8000 bytes): each process
//! loads the changed ticket once per event and shares it with all its subscribers.
//!
//! The same events tell each process which sites changed, so that counts kept for a site
//! ([`reads`]) are recomputed after any change to it, made by this process or another.

pub mod bus;
pub mod filter;
pub mod reads;
pub mod shutdown;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use bus::{Bus, Change, cached};
pub use shutdown::Shutdown;

use crate::Result;

/// The PostgreSQL channel every process listens on.
pub const CHANNEL: &str = "deskgraph_ticket";
/// The channel of bulk loads into a site (`deskgraph seed`): no subscriber event, but every
/// process's kept reads of that site are stale.
pub const SITE_CHANNEL: &str = "deskgraph_site";

/// What happened to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    Created,
    /// Fields, tags, read state, notes, drafts or the detected language changed.
    Updated,
    /// A message was added.
    Replied,
    /// Merged into another ticket (the source), or received another's conversation (the
    /// target).
    Merged,
    Recycled,
    Restored,
    Deleted,
}

/// One change to one ticket of one site. Small on purpose: it travels in a NOTIFY payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketEvent {
    #[serde(rename = "s")]
    pub site_id: Uuid,
    #[serde(rename = "t")]
    pub ticket_id: i64,
    #[serde(rename = "k")]
    pub kind: ChangeKind,
}

/// A [`TicketEvent`] as it travels through NOTIFY, with the bus (one per database per process)
/// of the writer: that bus marked the change at commit time, and marking it again when the
/// notification comes back would throw away every count read in between (one needless recount
/// per write).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Notice {
    #[serde(rename = "o")]
    pub origin: u64,
    #[serde(rename = "e")]
    pub event: TicketEvent,
}

impl TicketEvent {
    pub fn new(site_id: Uuid, ticket_id: i64, kind: ChangeKind) -> Self {
        TicketEvent {
            site_id,
            ticket_id,
            kind,
        }
    }
}

/// Commits a write transaction and announces `events`, so that subscribers hear of a change
/// exactly when it is committed and never of one rolled back.
pub async fn commit(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    events: &[TicketEvent],
) -> Result<()> {
    let writing = bus::writing(db, events.iter().map(|e| e.site_id).collect());
    if txn.get_database_backend() == DbBackend::Postgres {
        let origin = writing.origin();
        let payloads = events
            .iter()
            .map(|&event| serde_json::to_string(&Notice { origin, event }))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(anyhow::Error::from)?;
        notify(&txn, CHANNEL, &payloads).await?;
    }
    txn.commit().await?;
    writing.committed(events);
    Ok(())
}

/// Commits a write that changed tickets of `site` in bulk with no ticket events
/// (`deskgraph seed`), so that every process's kept counts of the site are recomputed.
pub async fn commit_site_change(
    db: &DatabaseConnection,
    txn: DatabaseTransaction,
    site: Uuid,
) -> Result<()> {
    let writing = bus::writing(db, vec![site]);
    if txn.get_database_backend() == DbBackend::Postgres {
        notify(&txn, SITE_CHANNEL, &[site.to_string()]).await?;
    }
    txn.commit().await?;
    writing.committed(&[]);
    Ok(())
}

/// Notifications sent when (and only if) `txn` commits, one statement per few hundred:
/// deleting a tag may change thousands of tickets.
async fn notify(txn: &DatabaseTransaction, channel: &str, payloads: &[String]) -> Result<()> {
    for chunk in payloads.chunks(NOTIFY_BATCH) {
        let mut values = vec![channel.into()];
        values.extend(chunk.iter().map(|p| p.as_str().into()));
        let rows: Vec<String> = (2..=chunk.len() + 1).map(|i| format!("(${i})")).collect();
        let sql = format!(
            "SELECT pg_notify($1, v.p) FROM (VALUES {}) AS v(p)",
            rows.join(", ")
        );
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
    }
    Ok(())
}

/// Notifications per `pg_notify` statement.
const NOTIFY_BATCH: usize = 500;
