//! The connections that pages and relations are read through: on PostgreSQL a pool of their
//! own (`db::reads`), which hands a connection back without pinging it, so it must stay
//! within its size and notice connections that PostgreSQL has ended.

use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::harness::{TestApp, fixtures};

const INBOX: &str = "{ tickets(first: 10) { edges { node { id subject tags { id } \
    contactOrVisitor { __typename ... on Contact { name } } lastMessage { id body } } } } }";

async fn with_tickets(app: &TestApp, n: usize) {
    let contact = fixtures::contact(&app.db, app.site.site.id, "Rhea Reads").await;
    for i in 0..n {
        app.graphql(
            "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }",
            json!({ "input": {
                "subject": format!("read {i}"), "channelId": "email", "contactOrVisitorId": contact,
                "messages": [{ "body": "<p>hello</p>", "sentById": contact, "sentByType": "CONTACT" }]
            } }),
        )
        .await;
    }
}

async fn inbox(app: &TestApp) -> (StatusCode, Value) {
    app.graphql_with(Some(&app.token), INBOX, json!({})).await
}

/// `sql`'s single number, run by the test on the server's database.
async fn number(app: &TestApp, sql: &str) -> i64 {
    let row = app
        .db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap()
        .expect("a row");
    row.try_get_by_index::<i64>(0).unwrap()
}

/// The reads' connections to the test's database.
fn reads() -> String {
    format!(
        "FROM pg_stat_activity WHERE datname = current_database() AND application_name = '{}'",
        deskgraph::db::READS_APPLICATION_NAME
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_reads_is_answered_whole_within_the_configured_connections() {
    let app = TestApp::spawn().await;
    with_tickets(&app, 3).await;

    let answers = futures_util::future::join_all((0..40).map(|_| inbox(&app))).await;
    for (status, body) in answers {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        let edges = body["data"]["tickets"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), 3, "{body}");
        assert_eq!(edges[0]["node"]["lastMessage"]["body"], "<p>hello</p>");
        assert_eq!(edges[0]["node"]["contactOrVisitor"]["name"], "Rhea Reads");
    }

    if app.test_db.is_postgres() {
        // 40 requests of 5 statements each, at once: the reads waited for the test server's
        // 5 connections (`TestDb::config`) rather than open more, and kept them for the next.
        let open = number(&app, &format!("SELECT count(*) {}", reads())).await;
        assert!((1..=5).contains(&open), "{open} read connections");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_connect_again_after_postgresql_ends_their_connections() {
    let app = TestApp::spawn().await;
    if !app.test_db.is_postgres() {
        eprintln!("SQLite: no database server to end connections; this test runs on PostgreSQL");
        return;
    }
    with_tickets(&app, 2).await;
    let (status, body) = inbox(&app).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // As a server restart, an administrator or an idle timeout would: the connections the
    // reads keep are gone, and the server does not know it yet.
    let ended = number(
        &app,
        &format!(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) {}) ended",
            reads()
        ),
    )
    .await;
    assert!(ended >= 1, "the reads kept a connection");
    // A connection idle for over a second is checked before use, so no request meets a dead one.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    for _ in 0..3 {
        let (status, body) = inbox(&app).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(
            body["data"]["tickets"]["edges"].as_array().unwrap().len(),
            2
        );
    }
}
