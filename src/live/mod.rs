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

pub mod bus;
pub mod filter;
pub mod shutdown;

use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use bus::{Bus, Change};
pub use shutdown::Shutdown;

use crate::Result;

/// The PostgreSQL channel every process listens on.
pub const CHANNEL: &str = "deskgraph_ticket";

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
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            for event in events {
                let payload = serde_json::to_string(event).map_err(anyhow::Error::from)?;
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), payload.into()],
                ))
                .await?;
            }
            txn.commit().await?;
        }
        _ => {
            txn.commit().await?;
            bus::publish_local(db, events);
        }
    }
    Ok(())
}
