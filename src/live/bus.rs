//! The per-process event bus: raw [`TicketEvent`]s in (from `LISTEN` on PostgreSQL, from the
//! committing write on SQLite), [`Change`]s out (the event with its ticket loaded once for all
//! subscribers of this process).
//!
//! Both stages are tokio broadcast channels: a sender never waits for a receiver, so writers
//! are never slowed by subscribers, and a receiver that falls more than the channel's capacity
//! behind is told so (`Lagged`) instead of buffering without bound.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use sea_orm::sqlx::postgres::{PgListener, PgPool};
use sea_orm::{ColumnTrait, DatabaseConnection, DbBackend, QueryFilter};
use tokio::sync::{OnceCell, broadcast, watch};
use uuid::Uuid;

use super::{CHANNEL, ChangeKind, TicketEvent};
use crate::domain::Principal;
use crate::entity::tickets;

/// Raw events a process may hold before its dispatcher has loaded them; only a stalled
/// database could make the dispatcher fall this far behind.
const RAW_CAPACITY: usize = 4096;
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

type RawSender = broadcast::Sender<TicketEvent>;

/// A change as subscribers see it: the event, the ticket as committed (loaded once per process),
/// and the verdicts of filters that need SQL, shared by every subscriber with the same filter.
pub struct Change {
    pub event: TicketEvent,
    /// `None` when the ticket was deleted.
    pub ticket: Option<tickets::Model>,
    verdicts: Mutex<HashMap<String, Arc<OnceCell<bool>>>>,
}

impl Change {
    /// Whether the filter named `key` matches this change's ticket, computed by `compute` once
    /// per change for all subscribers asking with the same key.
    pub async fn verdict<F, Fut>(&self, key: String, compute: F) -> crate::Result<bool>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = crate::Result<bool>>,
    {
        let cell = self
            .verdicts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        cell.get_or_try_init(compute).await.copied()
    }
}

/// One process's view of the live updates of one database.
#[derive(Clone)]
pub struct Bus {
    /// Keeps the raw channel (and so the dispatcher and listener) alive while the bus lives.
    _raw: Arc<RawSender>,
    changes: broadcast::Sender<Arc<Change>>,
    ready: watch::Receiver<bool>,
}

/// SQLite: the raw sender of each database file open in this process, so the write that
/// commits finds the bus of its database (several servers in one process, as in the tests,
/// each get their own; two on one file share one).
static LOCAL: LazyLock<Mutex<HashMap<PathBuf, Weak<RawSender>>>> = LazyLock::new(Default::default);

fn sqlite_file(db: &DatabaseConnection) -> Option<PathBuf> {
    match db.get_database_backend() {
        DbBackend::Sqlite => Some(
            db.get_sqlite_connection_pool()
                .connect_options()
                .get_filename()
                .to_owned(),
        ),
        _ => None,
    }
}

/// After an SQLite commit: hands the events to this process's subscribers of that database.
pub(super) fn publish_local(db: &DatabaseConnection, events: &[TicketEvent]) {
    let Some(file) = sqlite_file(db) else { return };
    let sender = LOCAL
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&file)
        .and_then(Weak::upgrade);
    if let Some(sender) = sender {
        for event in events {
            // No receiver is not an error: nobody is subscribed.
            let _ = sender.send(*event);
        }
    }
}

impl Bus {
    /// Starts the bus of a database: its dispatcher and, on PostgreSQL, its `LISTEN`
    /// connection. `buffer` is how many changes a subscriber may fall behind.
    pub fn start(db: &DatabaseConnection, buffer: usize) -> Bus {
        let (ready_tx, ready) = watch::channel(false);
        let raw = match sqlite_file(db) {
            Some(file) => {
                let mut local = LOCAL.lock().unwrap_or_else(|e| e.into_inner());
                local.retain(|_, w| w.strong_count() > 0);
                let raw = local
                    .get(&file)
                    .and_then(Weak::upgrade)
                    .unwrap_or_else(|| Arc::new(broadcast::channel(RAW_CAPACITY).0));
                local.insert(file, Arc::downgrade(&raw));
                ready_tx.send_replace(true);
                raw
            }
            None => {
                let raw = Arc::new(broadcast::channel(RAW_CAPACITY).0);
                let pool = db.get_postgres_connection_pool().clone();
                tokio::spawn(listen(pool, Arc::downgrade(&raw), ready_tx));
                raw
            }
        };
        let (changes, _) = broadcast::channel(buffer.max(1));
        tokio::spawn(dispatch(db.clone(), raw.subscribe(), changes.clone()));
        Bus {
            _raw: raw,
            changes,
            ready,
        }
    }

    /// The changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.changes.subscribe()
    }

    /// Resolves once the bus hears every committed change (on PostgreSQL, once `LISTEN` is
    /// in place), or after `wait` at the latest; says which.
    pub async fn ready(&self, wait: Duration) -> bool {
        let mut ready = self.ready.clone();
        tokio::time::timeout(wait, ready.wait_for(|r| *r))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// Loads the ticket of each event once and hands the change to every subscriber.
async fn dispatch(
    db: DatabaseConnection,
    mut raw: broadcast::Receiver<TicketEvent>,
    changes: broadcast::Sender<Arc<Change>>,
) {
    loop {
        let event = match raw.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::error!(lost = n, "live updates: the dispatcher fell behind");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if changes.receiver_count() == 0 {
            continue;
        }
        let ticket = if event.kind == ChangeKind::Deleted {
            None
        } else {
            // Site scoping holds here too: the event's site is the only one read.
            let scope = Principal {
                site_id: event.site_id,
                agent_id: Uuid::nil(),
            };
            match scope
                .find::<tickets::Entity>()
                .filter(tickets::Column::Id.eq(event.ticket_id))
                .one(&db)
                .await
            {
                Ok(Some(t)) => Some(t),
                // Deleted since; its own event follows.
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(error = %e, ticket = event.ticket_id, "live updates: loading a changed ticket failed");
                    continue;
                }
            }
        };
        let _ = changes.send(Arc::new(Change {
            event,
            ticket,
            verdicts: Mutex::new(HashMap::new()),
        }));
    }
}

/// PostgreSQL: one `LISTEN` connection per process, forwarding every notification to the
/// local bus, reconnecting when the connection drops (`PgListener` re-subscribes by itself
/// on a lost connection; anything else starts a fresh listener after a pause).
async fn listen(pool: PgPool, raw: Weak<RawSender>, ready: watch::Sender<bool>) {
    loop {
        if raw.strong_count() == 0 || pool.is_closed() {
            return;
        }
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "live updates: LISTEN connection failed; retrying");
                tokio::time::sleep(RECONNECT_DELAY).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "live updates: LISTEN failed; retrying");
            tokio::time::sleep(RECONNECT_DELAY).await;
            continue;
        }
        ready.send_replace(true);
        loop {
            match listener.recv().await {
                Ok(n) => {
                    let Some(sender) = raw.upgrade() else { return };
                    match serde_json::from_str::<TicketEvent>(n.payload()) {
                        Ok(event) => {
                            let _ = sender.send(event);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "live updates: unreadable notification")
                        }
                    }
                }
                Err(sea_orm::sqlx::Error::PoolClosed) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "live updates: LISTEN connection lost; reconnecting");
                    break;
                }
            }
        }
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}
