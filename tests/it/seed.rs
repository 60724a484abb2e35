//! `deskgraph seed` on either backend (PostgreSQL streams rows with COPY under ids it reserves
//! from the tickets' sequence): seeded rows read back whole, and the service numbers its own
//! tickets after them.

use serde_json::{Value, json};

use crate::harness::TestDb;
use crate::process::{deskgraph, start};

fn seed(db: &TestDb, dir: &std::path::Path, args: &[&str]) -> Value {
    let out = deskgraph(db, dir)
        .arg("seed")
        .args(args)
        .output()
        .expect("run deskgraph seed");
    assert!(
        out.status.success(),
        "seed failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

async fn graphql(base: &str, token: &str, query: &str, variables: Value) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert!(body["errors"].is_null(), "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn a_second_seed_adds_to_the_site_and_new_tickets_are_numbered_after_the_seeded_ones() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let first = seed(&db, dir.path(), &["--tickets", "40"]);
    let site = first["siteId"].as_str().unwrap();
    seed(&db, dir.path(), &["--tickets", "25", "--site", site]);
    let token = first["token"].as_str().unwrap();

    let mut serve = deskgraph(&db, dir.path());
    serve.args(["serve", "--no-demo"]);
    let server = start(serve, false);
    let data = graphql(
        &server.base,
        token,
        "{ inbox: tickets(first: 100, filter: { inRecycleBin: false }) { totalCount edges { node {
             id ifHasDraft draft { body } noteMentions { agentId } tags { id } } } }
           bin: tickets(filter: { inRecycleBin: true }) { totalCount }
           contacts(first: 1) { edges { node { id } } } }",
        json!({}),
    )
    .await;
    let listed =
        data["inbox"]["totalCount"].as_u64().unwrap() + data["bin"]["totalCount"].as_u64().unwrap();
    assert_eq!(listed, 65);
    let edges = data["inbox"]["edges"].as_array().unwrap();
    for e in edges {
        let t = &e["node"];
        assert_eq!(
            t["ifHasDraft"].as_bool().unwrap(),
            !t["draft"].is_null(),
            "{t}"
        );
    }
    assert!(
        edges
            .iter()
            .any(|e| !e["node"]["noteMentions"].as_array().unwrap().is_empty()),
        "some seeded notes mention an agent"
    );
    let highest = edges
        .iter()
        .map(|e| e["node"]["id"].as_i64().unwrap())
        .max()
        .unwrap();

    let contact = data["contacts"]["edges"][0]["node"]["id"].clone();
    let created = graphql(
        &server.base,
        token,
        "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }",
        json!({ "in": { "subject": "After the seed", "channelId": "email", "contactOrVisitorId": contact } }),
    )
    .await;
    assert!(
        created["createTicket"]["id"].as_i64().unwrap() > highest,
        "{created}"
    );
}
