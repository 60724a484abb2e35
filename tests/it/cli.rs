//! The `deskgraph` binary itself, as a newcomer runs it.

use std::process::Command;

use serde_json::{Value, json};

use crate::harness::TestDb;
use crate::process::{deskgraph, start};

async fn graphql(base: &str, token: &str, query: &str) -> (reqwest::StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

fn run(mut cmd: Command) -> String {
    let out = cmd.output().expect("run deskgraph");
    assert!(
        out.status.success(),
        "deskgraph failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn serve_on_an_empty_database_creates_a_demo_site_and_prints_a_working_token() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(deskgraph(&db, dir.path()), true);
    let token = server.token.clone().unwrap();

    let (status, body) = graphql(
        &server.base,
        &token,
        "{ ticket(id: 1) { id subject status } }",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["ticket"]["subject"],
        "Chat Transcript with Michael"
    );
    assert_eq!(body["data"]["ticket"]["status"], "NEW");
    if !db.is_postgres() {
        assert!(
            dir.path().join("deskgraph.db").exists(),
            "SQLite file in the working directory"
        );
    }

    // GraphiQL answers at the printed URL.
    let page = reqwest::Client::new()
        .get(format!("{}/graphql", server.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn a_restart_keeps_the_data_and_the_tokens() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let first = start(deskgraph(&db, dir.path()), true);
    let token = first.token.clone().unwrap();
    let (_, created) = graphql(&first.base, &token, r#"{ ticket(id: 2) { subject } }"#).await;
    drop(first);

    let second = start(deskgraph(&db, dir.path()), true);
    let (status, again) = graphql(&second.base, &token, r#"{ ticket(id: 2) { subject } }"#).await;
    assert_eq!(
        status, 200,
        "a token from before the restart still works: {again}"
    );
    assert_eq!(again, created);
    // No second demo site: ticket 4 would be the first of a second batch.
    let (_, body) = graphql(&second.base, &token, "{ ticket(id: 4) { id } }").await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn site_create_prints_ids_and_a_token_that_works() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = deskgraph(&db, dir.path());
    cmd.args(["site", "create", "--name", "Acme Support"]);
    let printed: Value = serde_json::from_str(run(cmd).trim()).expect("JSON output");
    let token = printed["token"].as_str().expect("token");
    for key in ["siteId", "agentId"] {
        uuid::Uuid::parse_str(printed[key].as_str().unwrap()).expect("a UUID");
    }

    let mut serve = deskgraph(&db, dir.path());
    serve.arg("serve").arg("--no-demo");
    let server = start(serve, false);
    let (status, body) = graphql(&server.base, token, "{ ticket(id: 1) { id } }").await;
    assert_eq!(status, 200, "the token is accepted: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "the new site has no tickets: {body}"
    );

    // `token` mints another token for that agent.
    let mut cmd = deskgraph(&db, dir.path());
    cmd.args([
        "token",
        "--site",
        printed["siteId"].as_str().unwrap(),
        "--agent",
        printed["agentId"].as_str().unwrap(),
        "--ttl",
        "15m",
    ]);
    let minted = run(cmd);
    let (status, _) = graphql(&server.base, minted.trim(), "{ __typename }").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn token_refuses_an_agent_that_does_not_exist() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = deskgraph(&db, dir.path());
    cmd.args([
        "token",
        "--site",
        &uuid::Uuid::new_v4().to_string(),
        "--agent",
        &uuid::Uuid::new_v4().to_string(),
    ]);
    let out = cmd.output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no active agent"));
}

#[tokio::test]
async fn migrate_applies_the_migrations_and_can_run_again() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let mut cmd = deskgraph(&db, dir.path());
        cmd.arg("migrate");
        run(cmd);
    }
}

#[test]
fn schema_prints_the_sdl() {
    let out = Command::new(env!("CARGO_BIN_EXE_deskgraph"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        deskgraph::graphql::sdl()
    );
}

#[tokio::test]
async fn seed_fills_a_new_site_whose_tickets_read_back_consistently() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = deskgraph(&db, dir.path());
    cmd.args(["seed", "--tickets", "120"]);
    let printed: Value = serde_json::from_str(run(cmd).trim()).expect("JSON output");
    assert_eq!(printed["tickets"], 120);
    let token = printed["token"].as_str().unwrap();

    let mut serve = deskgraph(&db, dir.path());
    serve.arg("serve").arg("--no-demo");
    let server = start(serve, false);
    let (status, body) = graphql(
        &server.base,
        token,
        "{ inbox: tickets(first: 100) { totalCount edges { node { id lastMessageId totalReplies tags { id }
             lastMessage { id } messages(first: 10) { totalCount } } } }
           bin: tickets(filter: { inRecycleBin: true }) { totalCount }
           found: tickets(filter: { keywords: \"refund\" }) { totalCount }
           agents { id } views { id } }",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    let listed =
        data["inbox"]["totalCount"].as_u64().unwrap() + data["bin"]["totalCount"].as_u64().unwrap();
    assert_eq!(listed, 120);
    assert!(data["agents"].as_array().unwrap().len() >= 300);
    assert!(
        data["found"]["totalCount"].as_u64().unwrap() > 0,
        "seeded text is searchable: {body}"
    );
    assert_eq!(data["views"].as_array().unwrap().len(), 40);
    for edge in data["inbox"]["edges"].as_array().unwrap() {
        let t = &edge["node"];
        assert_eq!(t["lastMessage"]["id"], t["lastMessageId"], "{t}");
        assert!(
            t["messages"]["totalCount"].as_u64() >= t["totalReplies"].as_u64(),
            "{t}"
        );
    }
}
