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

use super::reads::Reads;
use super::{CHANNEL, ChangeKind, Notice, SITE_CHANNEL, TicketEvent};
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
    /// Held so the raw channel (and so the dispatcher and listener) and the kept reads live
    /// as long as the bus.
    _shared: Arc<Shared>,
    changes: broadcast::Sender<Arc<Change>>,
    ready: watch::Receiver<bool>,
}

/// What the writes of this process reach directly, without going through the database: the
/// raw channel (SQLite's only transport) and the reads kept until their site changes.
struct Shared {
    raw: RawSender,
    reads: Reads,
    /// Tags this bus's own notifications ([`Notice::origin`]); never 0.
    origin: u64,
    postgres: bool,
    /// Whether every committed change is heard (on PostgreSQL, once `LISTEN` is in place).
    ready: watch::Receiver<bool>,
}

impl Shared {
    /// One per database per process, and so one `LISTEN` connection: two would hand every
    /// notification to the raw channel twice.
    fn start(db: &DatabaseConnection) -> Arc<Shared> {
        let postgres = db.get_database_backend() == DbBackend::Postgres;
        let (ready_tx, ready) = watch::channel(!postgres);
        let shared = Arc::new(Shared {
            raw: broadcast::channel(RAW_CAPACITY).0,
            // SQLite: every change is a commit of this process, heard at once.
            reads: Reads::new(!postgres),
            origin: Uuid::new_v4().as_u64_pair().0 | 1,
            postgres,
            ready,
        });
        if postgres {
            let pool = db.get_postgres_connection_pool().clone();
            tokio::spawn(listen(pool, Arc::downgrade(&shared), ready_tx));
        }
        shared
    }
}

/// The [`Shared`] state of each database open in this process, so that the write that
/// commits finds it (several servers in one process, as in the tests, each get their own;
/// two on one database share one).
static SHARED: LazyLock<Mutex<HashMap<DbKey, Weak<Shared>>>> = LazyLock::new(Default::default);

#[derive(Clone, PartialEq, Eq, Hash)]
enum DbKey {
    Sqlite(PathBuf),
    Postgres(String),
}

fn db_key(db: &DatabaseConnection) -> DbKey {
    match db.get_database_backend() {
        DbBackend::Sqlite => DbKey::Sqlite(
            db.get_sqlite_connection_pool()
                .connect_options()
                .get_filename()
                .to_owned(),
        ),
        _ => {
            let o = db.get_postgres_connection_pool().connect_options();
            DbKey::Postgres(format!(
                "{}:{}/{}",
                o.get_host(),
                o.get_port(),
                o.get_database().unwrap_or_default()
            ))
        }
    }
}

fn shared_of(db: &DatabaseConnection) -> Option<Arc<Shared>> {
    let key = db_key(db);
    SHARED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key)
        .and_then(Weak::upgrade)
}

/// A write of this process to `sites` of a database is being committed: what this process
/// keeps for them is set aside from now until the value is dropped (when the commit is over,
/// or abandoned: a commit whose outcome is unknown may have reached the database all the
/// same).
pub(super) struct Writing {
    shared: Option<Arc<Shared>>,
    sites: Vec<Uuid>,
}

pub(super) fn writing(db: &DatabaseConnection, mut sites: Vec<Uuid>) -> Writing {
    sites.sort_unstable();
    sites.dedup();
    let shared = shared_of(db);
    if let Some(shared) = &shared {
        sites.iter().for_each(|site| shared.reads.writing(*site));
    }
    Writing { shared, sites }
}

impl Writing {
    /// What this bus tags its notifications with ([`Notice::origin`]); 0 without a bus.
    pub fn origin(&self) -> u64 {
        self.shared.as_ref().map_or(0, |s| s.origin)
    }

    /// The commit succeeded: on SQLite, `events` go to this process's subscribers of the
    /// database (on PostgreSQL they arrive through `LISTEN`). They hear of them only now, after
    /// the write is marked done, so they never read what was kept before it.
    pub fn committed(self, events: &[TicketEvent]) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        drop(self);
        if shared.postgres {
            return;
        }
        for event in events {
            // No receiver is not an error: nobody is subscribed.
            let _ = shared.raw.send(*event);
        }
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            self.sites
                .iter()
                .for_each(|site| shared.reads.written(*site));
        }
    }
}

/// The value kept for `key` in `site` of this database, or `compute`d (and kept) if the site
/// changed since; computed every time when the database has no bus in this process.
pub async fn cached<T, F, Fut>(
    db: &DatabaseConnection,
    site: Uuid,
    key: String,
    compute: F,
) -> crate::Result<T>
where
    T: Clone + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = crate::Result<T>>,
{
    match shared_of(db) {
        Some(shared) => shared.reads.get_or(site, key, compute).await,
        None => compute().await,
    }
}

impl Bus {
    /// Starts the bus of a database: its dispatcher and, on PostgreSQL, its `LISTEN`
    /// connection. `buffer` is how many changes a subscriber may fall behind.
    pub fn start(db: &DatabaseConnection, buffer: usize) -> Bus {
        let shared = {
            let key = db_key(db);
            let mut all = SHARED.lock().unwrap_or_else(|e| e.into_inner());
            all.retain(|_, w| w.strong_count() > 0);
            let shared = all
                .get(&key)
                .and_then(Weak::upgrade)
                .unwrap_or_else(|| Shared::start(db));
            all.insert(key, Arc::downgrade(&shared));
            shared
        };
        let (changes, _) = broadcast::channel(buffer.max(1));
        tokio::spawn(dispatch(
            db.clone(),
            shared.raw.subscribe(),
            changes.clone(),
        ));
        Bus {
            ready: shared.ready.clone(),
            _shared: shared,
            changes,
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
/// local bus and marking its site changed for the kept reads. `try_recv`, not `recv`: `recv`
/// reconnects silently and notifications sent meanwhile are lost unseen; here a lost
/// connection stops the kept reads from being served until a fresh listener is in place.
async fn listen(pool: PgPool, shared: Weak<Shared>, ready: watch::Sender<bool>) {
    let deaf = |shared: &Weak<Shared>| {
        if let Some(s) = shared.upgrade() {
            s.reads.set_hearing(false);
        }
    };
    loop {
        if shared.strong_count() == 0 || pool.is_closed() {
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
        if let Err(e) = listener.listen_all([CHANNEL, SITE_CHANNEL]).await {
            tracing::warn!(error = %e, "live updates: LISTEN failed; retrying");
            tokio::time::sleep(RECONNECT_DELAY).await;
            continue;
        }
        match shared.upgrade() {
            Some(s) => s.reads.set_hearing(true),
            None => return,
        }
        ready.send_replace(true);
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    let Some(shared) = shared.upgrade() else {
                        return;
                    };
                    heard(&shared, n.channel(), n.payload());
                }
                Ok(None) => {
                    deaf(&shared);
                    tracing::warn!("live updates: LISTEN connection lost; reconnecting");
                    break;
                }
                Err(sea_orm::sqlx::Error::PoolClosed) => return,
                Err(e) => {
                    deaf(&shared);
                    tracing::warn!(error = %e, "live updates: LISTEN connection lost; reconnecting");
                    break;
                }
            }
        }
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// One notification: a ticket event (to the subscribers) or a bulk load into a site (only the
/// kept reads care).
fn heard(shared: &Shared, channel: &str, payload: &str) {
    if channel == SITE_CHANNEL {
        match payload.parse::<Uuid>() {
            Ok(site) => shared.reads.changed(site),
            Err(e) => tracing::warn!(error = %e, "live updates: unreadable site notification"),
        }
        return;
    }
    match serde_json::from_str::<Notice>(payload) {
        Ok(Notice { origin, event }) => {
            // This bus marked its own commits' sites changed when they were done.
            if origin != shared.origin {
                shared.reads.changed(event.site_id);
            }
            let _ = shared.raw.send(event);
        }
        Err(e) => tracing::warn!(error = %e, "live updates: unreadable notification"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Shared {
        Shared {
            raw: broadcast::channel(8).0,
            reads: Reads::new(true),
            origin: 7,
            postgres: true,
            ready: watch::channel(true).1,
        }
    }

    async fn read(shared: &Shared, site: Uuid, value: u64) -> u64 {
        shared
            .reads
            .get_or(site, "k".into(), || async { Ok::<_, ()>(value) })
            .await
            .unwrap()
    }

    fn notice(origin: u64, site: Uuid) -> String {
        let event = TicketEvent::new(site, 1, ChangeKind::Updated);
        serde_json::to_string(&Notice { origin, event }).unwrap()
    }

    #[tokio::test]
    async fn a_bus_hearing_its_own_notification_keeps_what_it_read_since_its_commit() {
        let shared = shared();
        let site = Uuid::new_v4();
        let mut raw = shared.raw.subscribe();
        assert_eq!(read(&shared, site, 1).await, 1);
        heard(&shared, CHANNEL, &notice(7, site));
        assert_eq!(
            read(&shared, site, 2).await,
            1,
            "its own commit marked it already"
        );
        assert_eq!(
            raw.try_recv().unwrap().site_id,
            site,
            "subscribers still hear it"
        );
        heard(&shared, CHANNEL, &notice(8, site));
        assert_eq!(
            read(&shared, site, 3).await,
            3,
            "another writer's change is news"
        );
        heard(&shared, SITE_CHANNEL, &site.to_string());
        assert_eq!(read(&shared, site, 4).await, 4, "so is a bulk load");
    }
}
