//! Graceful shutdown of the real binary: on SIGTERM it stops accepting, finishes the requests in
//! flight, completes open subscriptions and closes their sockets with 1001, and exits within
//! the grace period even when something does not finish. And a write whose client leaves while
//! it is in flight still finishes.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use sea_orm::sqlx::{self, Connection};
use serde_json::{Value, json};

use crate::harness::TestDb;
use crate::live::Ws;
use crate::process::{Server, deskgraph, start};

/// Holds the write lock on ticket 1 (the demo's), so that a write to it waits: a request the
/// test can keep in flight for as long as it likes.
enum Lock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Lock {
    async fn take(db: &TestDb, dir: &std::path::Path) -> Lock {
        if db.is_postgres() {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::raw_sql("BEGIN; SELECT id FROM tickets WHERE id = 1 FOR UPDATE")
                .execute(&mut conn)
                .await
                .unwrap();
            Lock::Postgres(conn)
        } else {
            let url = format!("sqlite://{}", dir.join("deskgraph.db").display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut conn)
                .await
                .unwrap();
            Lock::Sqlite(conn)
        }
    }

    /// Waits until the server's write is queued behind this lock, so it is truly in flight.
    /// PostgreSQL shows the waiting backend; SQLite's waiting writer is invisible from outside,
    /// so there the test gives it a generous second to get there.
    async fn wait_for_waiter(&mut self, db: &TestDb) {
        match self {
            Lock::Postgres(_) => {
                // Not on the locking connection: inside a transaction `pg_stat_activity` is a
                // snapshot taken at its first read, so a waiter arriving later is never seen.
                let mut watch = sqlx::PgConnection::connect(&db.url).await.unwrap();
                for _ in 0..500 {
                    let (waiting,): (i64,) = sqlx::query_as(
                        "SELECT count(*) FROM pg_stat_activity \
                         WHERE datname = current_database() AND wait_event_type = 'Lock'",
                    )
                    .fetch_one(&mut watch)
                    .await
                    .unwrap();
                    if waiting > 0 {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                panic!("the server's write never waited for the lock");
            }
            Lock::Sqlite(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }

    async fn release(self) {
        match self {
            Lock::Sqlite(mut c) => sqlx::raw_sql("ROLLBACK").execute(&mut c).await.map(drop),
            Lock::Postgres(mut c) => sqlx::raw_sql("ROLLBACK").execute(&mut c).await.map(drop),
        }
        .unwrap();
    }
}

/// A write to ticket 1 sent now, answered whenever the server gets to it.
fn write_in_flight(server: &Server) -> tokio::task::JoinHandle<reqwest::Result<StatusCode>> {
    let url = format!("{}/graphql", server.base);
    let token = server.token.clone().unwrap();
    tokio::spawn(async move {
        let response = reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .json(&json!({ "query": "mutation { markTicketUnread(id: 1) { id } }" }))
            .send()
            .await?;
        Ok(response.status())
    })
}

/// A subscriber to every ticket change, opened first, then a write to ticket 1 held in flight
/// behind the lock.
async fn watched_write_in_flight(
    server: &Server,
    db: &TestDb,
    dir: &std::path::Path,
) -> (
    Ws,
    Lock,
    tokio::task::JoinHandle<reqwest::Result<StatusCode>>,
) {
    let mut ws = Ws::open(&server.base, server.token.as_deref().unwrap()).await;
    ws.subscribe(
        "open",
        "subscription { ticketChanged { kind ticketId } }",
        Value::Null,
    )
    .await;
    let mut lock = Lock::take(db, dir).await;
    let request = write_in_flight(server);
    lock.wait_for_waiter(db).await;
    assert!(!request.is_finished(), "the write should wait for the lock");
    (ws, lock, request)
}

/// Waits for the process to exit; returns how long that took and whether it succeeded.
async fn exit_of(server: &mut Server, limit: Duration) -> (Duration, bool) {
    let started = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return (started.elapsed(), status.success());
        }
        assert!(started.elapsed() < limit, "still running after {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn sigterm_finishes_requests_completes_subscriptions_and_exits() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = deskgraph(&db, dir.path());
    cmd.env("DESKGRAPH_SHUTDOWN_GRACE", "10s");
    let mut server = start(cmd, true);
    let (mut ws, lock, request) = watched_write_in_flight(&server, &db, dir.path()).await;

    server.signal("TERM");
    let complete = ws.recv().await;
    assert_eq!(complete, json!({ "type": "complete", "id": "open" }));
    assert_eq!(ws.closed().await, (1001, "Server shutting down".into()));
    // No longer accepting, while the request is still in flight.
    let refused = reqwest::Client::new()
        .get(format!("{}/healthz", server.base))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a new connection was accepted: {refused:?}"
    );
    assert!(!request.is_finished());

    lock.release().await;
    assert_eq!(request.await.unwrap().unwrap(), StatusCode::OK);
    let (took, success) = exit_of(&mut server, Duration::from_secs(10)).await;
    assert!(success, "exit status not success");
    assert!(took < Duration::from_secs(5), "exit took {took:?}");
}

#[tokio::test]
async fn sigterm_exits_within_the_grace_period_when_a_request_does_not_finish() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = deskgraph(&db, dir.path());
    cmd.env("DESKGRAPH_SHUTDOWN_GRACE", "1s");
    let mut server = start(cmd, true);
    let mut lock = Lock::take(&db, dir.path()).await;
    let request = write_in_flight(&server);
    lock.wait_for_waiter(&db).await;
    assert!(!request.is_finished(), "the write should wait for the lock");

    let signalled = Instant::now();
    server.signal("TERM");
    let (_, success) = exit_of(&mut server, Duration::from_secs(8)).await;
    let took = signalled.elapsed();
    assert!(success, "exit status not success");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "exited after {took:?} with a 1s grace period"
    );
    // The request never got an answer: the process is gone.
    assert!(request.await.unwrap().is_err());
    lock.release().await;
}

#[tokio::test]
async fn a_write_whose_client_leaves_mid_flight_is_still_done_and_announced() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(deskgraph(&db, dir.path()), true);
    let (mut ws, lock, request) = watched_write_in_flight(&server, &db, dir.path()).await;
    // The client gives up: its connection closes while the write waits for the lock.
    request.abort();
    assert!(request.await.unwrap_err().is_cancelled());
    tokio::time::sleep(Duration::from_millis(200)).await;
    lock.release().await;

    let heard = ws.recv().await;
    assert_eq!(
        heard["payload"]["data"]["ticketChanged"],
        json!({ "kind": "UPDATED", "ticketId": 1 }),
        "{heard}"
    );
    server.signal("TERM");
    exit_of(&mut server, Duration::from_secs(10)).await;
}
