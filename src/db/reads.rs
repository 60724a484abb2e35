//! The connections [`Db`](super::Db) reads through on PostgreSQL.
//!
//! sqlx's pool pings every connection as it comes back (`return_to_pool`: a `Sync` and a wait
//! for `ReadyForQuery`, in a task spawned for it). A page and its relations are one statement
//! per connection use, so that was one more round trip, one more wakeup of a PostgreSQL
//! backend and one more task for each of them (the inbox: 7 statements, 14 round trips). This
//! pool hands a connection back as it was left by a statement that ran to its end, and drops
//! one whose statement failed or was cancelled midway, which is what the ping guarded against.
//! A connection idle for over a second is pinged before it is used, as the writers' pool does
//! (`db::connect`), and one idle for ten minutes is closed.
//!
//! It has the writers' pool's settings (connections, acquire timeout) and connects as it does,
//! so a server opens at most twice `DESKGRAPH_DB_MAX_CONNECTIONS` connections.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sea_orm::sqlx::{self, Connection};
use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Pinged before use when idle for longer (see `db::connect`).
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);
/// Closed instead of used when idle for longer, as sqlx's pool does by default.
const CLOSE_IF_IDLE_FOR: Duration = Duration::from_secs(600);
/// The reads' connections' `application_name`.
pub const APPLICATION_NAME: &str = "deskgraph reads";

pub(super) struct ReadPool {
    options: PgConnectOptions,
    idle: Mutex<Vec<Idle>>,
    slots: Semaphore,
    max: u32,
    acquire_timeout: Duration,
}

struct Idle {
    conn: PgConnection,
    since: Instant,
}

/// A connection taken from the pool. [`Lease::release`] hands it back; dropped without that
/// (its statement failed or was cancelled), the connection is closed.
pub(super) struct Lease<'a> {
    pub conn: PgConnection,
    pool: &'a ReadPool,
    _slot: SemaphorePermit<'a>,
}

impl ReadPool {
    /// A pool with `writers`' settings and none of its connections.
    pub fn like(writers: &PgPool) -> Self {
        let settings = writers.options();
        let max = settings.get_max_connections();
        // Named in `pg_stat_activity` apart from the writers, unless the URL names both.
        let mut options = (*writers.connect_options()).clone();
        if options.get_application_name().is_none() {
            options = options.application_name(APPLICATION_NAME);
        }
        ReadPool {
            options,
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(max as usize),
            max,
            acquire_timeout: settings.get_acquire_timeout(),
        }
    }

    /// A connection: the one used last, or a new one. Errors as sea-orm's driver reports them:
    /// no connection in time is `ConnectionAcquire(Timeout)`, failing to connect is `Conn`.
    pub async fn acquire(&self) -> Result<Lease<'_>, DbErr> {
        let acquire = async {
            let slot = self
                .slots
                .acquire()
                .await
                .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed))?;
            let conn = self
                .connection()
                .await
                .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e))))?;
            Ok(Lease {
                conn,
                pool: self,
                _slot: slot,
            })
        };
        tokio::time::timeout(self.acquire_timeout, acquire)
            .await
            .map_err(|_| DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))?
    }

    /// Connections in use, idle, and the most there can be.
    pub fn usage(&self) -> (u32, u32, u32) {
        let in_use = self.max - self.slots.available_permits() as u32;
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).len() as u32;
        (in_use, idle, self.max)
    }

    async fn connection(&self) -> Result<PgConnection, sqlx::Error> {
        loop {
            let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(Idle { mut conn, since }) = idle else {
                return PgConnection::connect_with(&self.options).await;
            };
            let idle_for = since.elapsed();
            // One that fails its ping, or has been idle too long, is dropped (closed).
            if idle_for > CLOSE_IF_IDLE_FOR
                || (idle_for > PING_IF_IDLE_FOR && conn.ping().await.is_err())
            {
                continue;
            }
            return Ok(conn);
        }
    }
}

impl Lease<'_> {
    /// Hands the connection back for the next statement, as its last statement left it.
    pub fn release(self) {
        let idle = Idle {
            conn: self.conn,
            since: Instant::now(),
        };
        self.pool
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(idle);
    }
}
