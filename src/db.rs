//! Connecting to the database, the per-backend settings that make it behave, and migrations.

use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseConnectionType,
    DatabaseTransaction, DbBackend, DbErr, QueryResult, RuntimeErr, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait, Values,
};
use sea_query_sqlx::SqlxValues;

use crate::config::DatabaseConfig;
use crate::entity::rows::{Reader, RowsFuture};

mod reads;

pub use reads::APPLICATION_NAME as READS_APPLICATION_NAME;

pub async fn connect(config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(config.database_url.clone());
    opts.max_connections(config.db_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(config.db_acquire_timeout)
        .sqlx_logging(false)
        // sqlx pings every connection it hands out by default: one more round trip per
        // statement (scenario 1 runs 7 statements, so 14 round trips). A connection used
        // within the last second is alive as far as a ping could tell; only one idle longer
        // (which a server restart, a proxy or a firewall may have cut) is pinged first.
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
        // SQLite: WAL lets readers run beside the one writer; the busy timeout makes writers
        // queue instead of failing; foreign keys are off in SQLite unless asked for.
        // synchronous=NORMAL in WAL mode keeps every commit through a process crash.
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    let mut db = Database::connect(opts).await?;
    db.set_metric_callback(|_| counted());
    Ok(db)
}

/// The database as the server holds it: sea-orm's connection, through which everything is
/// written, and a direct way to PostgreSQL for the reads of a request's pages and relations
/// ([`Reader`]).
///
/// Through sea-orm's driver, each statement's future (some 15 KB: sqlx's, inside sea-orm's
/// metric and tracing wrappers) was moved whole twice, a sixth of scenario 3's instructions
/// (callgrind); sqlx's own `fetch_all` on the pool skips both copies. sea-orm's metric
/// callback cannot be reached from outside it, so the statement watcher lives here too and
/// the direct reads report to it, as sea-orm reports the rest.
#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    watch: Watch,
    /// PostgreSQL only: the connections the direct reads use ([`reads`]).
    reads: Option<Arc<reads::ReadPool>>,
}

type Watch = Arc<dyn Fn(&str) + Send + Sync>;

impl Db {
    fn new(conn: DatabaseConnection, watch: Watch) -> Self {
        let reads = match &conn.inner {
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => Some(Arc::new(
                reads::ReadPool::like(conn.get_postgres_connection_pool()),
            )),
            _ => None,
        };
        Db { conn, watch, reads }
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// The direct reads' connections on PostgreSQL: in use, idle, and the most there can be.
    pub fn reads_usage(&self) -> Option<(u32, u32, u32)> {
        self.reads.as_ref().map(|pool| pool.usage())
    }
}

/// A connection from [`connect`], whose statements are only counted.
impl From<DatabaseConnection> for Db {
    fn from(conn: DatabaseConnection) -> Self {
        Db::new(conn, Arc::new(|_| {}))
    }
}

impl std::ops::Deref for Db {
    type Target = DatabaseConnection;

    fn deref(&self) -> &DatabaseConnection {
        &self.conn
    }
}

impl Reader for Db {
    fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    fn query_all(&self, stmt: Statement) -> RowsFuture<'_> {
        let Some(pool) = &self.reads else {
            return Reader::query_all(&self.conn, stmt);
        };
        Box::pin(async move {
            // Errors as sea-orm's driver reports them: taking a connection is `ConnectionAcquire`
            // or `Conn` (the database unreachable, a 503), running the statement is `Query`.
            let mut lease = pool.acquire().await?;
            let values = SqlxValues(stmt.values.unwrap_or(Values(Vec::new())));
            let rows = sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql.as_str()), values)
                .fetch_all(&mut lease.conn)
                .await;
            counted();
            (self.watch)(&stmt.sql);
            let rows = rows.map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))?;
            // Only a connection whose statement ran to its end goes back (see `reads`).
            lease.release();
            Ok(rows.into_iter().map(QueryResult::from).collect())
        })
    }
}

/// `deskgraph_db_statements_total`, one more.
fn counted() {
    metrics::counter!("deskgraph_db_statements_total").increment(1);
}

/// `db`, with every statement run through it counted (`deskgraph_db_statements_total`) and
/// its SQL handed to `also` (the test harness's SQL log): the statements sea-orm runs through
/// its metric callback, one per connection handle, and the reads [`Db`] runs itself.
pub fn observe_statements(
    mut db: DatabaseConnection,
    also: impl Fn(&str) + Send + Sync + 'static,
) -> Db {
    let watch: Watch = Arc::new(also);
    let sea_orm_watch = watch.clone();
    db.set_metric_callback(move |info| {
        counted();
        sea_orm_watch(&info.statement.sql);
    });
    Db::new(db, watch)
}

/// Applies pending migrations. On PostgreSQL, where several replicas may start at once, it
/// runs in one transaction holding an advisory lock: the first replica migrates, the others
/// wait and then find nothing pending (sea-orm's migrator alone would race: both see the
/// same migration pending and the second fails on `CREATE TABLE`). PostgreSQL DDL is
/// transactional, so a failed migration leaves nothing half-applied either.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let txn = db.begin().await?;
    txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        .await?;
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// The advisory lock key that serialises migrations ("deskgrph" in ASCII, as an i64).
const MIGRATION_LOCK: i64 = 0x6465_736b_6772_7068;

/// Starts a transaction meant to write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes can fail at once
/// with "database is locked" when another writer got there first, while an immediate one
/// waits its turn under the busy timeout.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let mode = match db.get_database_backend() {
        DbBackend::Sqlite => Some(SqliteTransactionMode::Immediate),
        _ => None,
    };
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: mode,
        ..Default::default()
    })
    .await
}
