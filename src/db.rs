//! Connecting to the database, the per-backend settings that make it behave, and migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::DatabaseConfig;

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
    observe_statements(&mut db, |_| {});
    Ok(db)
}

/// Counts every statement run through `db` (`deskgraph_db_statements_total`) and also hands it
/// to `also`. sea-orm keeps one callback per connection handle, so whoever wants to watch the
/// SQL (the test harness) goes through here and the count keeps working.
pub fn observe_statements(
    db: &mut DatabaseConnection,
    also: impl Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static,
) {
    db.set_metric_callback(move |info| {
        metrics::counter!("deskgraph_db_statements_total").increment(1);
        also(info);
    });
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
