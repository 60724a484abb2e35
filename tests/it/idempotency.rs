//! Safe retries and safe concurrent edits: `Idempotency-Key` on ticket creation (REST and
//! GraphQL), ETag / If-Match on REST updates, and `expectedVersion` on GraphQL updates.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::harness::{TestApp, fixtures};
use deskgraph::entity::{idempotency_keys, tickets};

async fn ticket_count(app: &TestApp) -> u64 {
    tickets::Entity::find().count(&app.db).await.unwrap()
}

fn body(contact: uuid::Uuid, subject: &str) -> Value {
    json!({ "subject": subject, "channelId": "email", "contactOrVisitorId": contact, "contactOrVisitorType": "contact" })
}

/// POST /v4/ticketing/tickets with an optional key and token; returns status and body.
async fn post(app: &TestApp, token: &str, key: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(format!("{}/v4/ticketing/tickets", app.base))
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_rest_retry_with_the_same_key_answers_with_the_first_ticket() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let request = body(contact, "Printer on fire");
    let (status, first) = post(&app, &app.token, Some("retry-1"), &request).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let (status, again) = post(&app, &app.token, Some("retry-1"), &request).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(ticket_count(&app).await, 1);

    // Without a key, or with another key, the same body opens another ticket.
    post(&app, &app.token, None, &request).await;
    let (_, other) = post(&app, &app.token, Some("retry-2"), &request).await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(ticket_count(&app).await, 3);

    // Once its ticket is deleted, a retry says so rather than opening a new one.
    let deleted = app
        .client
        .delete(format!("{}/v4/ticketing/tickets/{}", app.base, first["id"]))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (status, error) = post(&app, &app.token, Some("retry-1"), &request).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("deleted"),
        "{error}"
    );
    assert_eq!(ticket_count(&app).await, 2);
}

#[tokio::test]
async fn a_key_reused_for_a_different_request_is_a_conflict_naming_it() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    post(&app, &app.token, Some("k"), &body(contact, "one")).await;
    let (status, error) = post(&app, &app.token, Some("k"), &body(contact, "two")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(error["code"], "CONFLICT");
    assert_eq!(error["field"], "Idempotency-Key");
    assert!(
        error["message"].as_str().unwrap().contains("`k`"),
        "{error}"
    );
    assert_eq!(ticket_count(&app).await, 1);
}

#[tokio::test]
async fn keys_belong_to_one_agent_and_a_graphql_retry_finds_the_rest_ticket() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let (_, first) = post(&app, &app.token, Some("shared"), &body(contact, "Printer")).await;

    // The same request through GraphQL, with the header or the argument, is the same retry.
    let create = "mutation($in: CreateTicketInput!, $key: String) { createTicket(input: $in, idempotencyKey: $key) { id } }";
    let input = json!({ "subject": "Printer", "channelId": "email", "contactOrVisitorId": contact, "contactOrVisitorType": "CONTACT" });
    let by_argument = app
        .graphql(create, json!({ "in": input, "key": "shared" }))
        .await;
    assert_eq!(by_argument["createTicket"]["id"], first["id"]);
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .header("Idempotency-Key", "shared")
        .json(&json!({ "query": create, "variables": { "in": input } }))
        .send()
        .await
        .unwrap();
    let by_header: Value = response.json().await.unwrap();
    assert_eq!(
        by_header["data"]["createTicket"]["id"], first["id"],
        "{by_header}"
    );

    // Header and argument that disagree are refused.
    let response = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .header("Idempotency-Key", "one")
        .json(&json!({ "query": create, "variables": { "in": input, "key": "two" } }))
        .send()
        .await
        .unwrap();
    let mixed: Value = response.json().await.unwrap();
    assert_eq!(mixed["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(mixed["errors"][0]["extensions"]["field"], "idempotencyKey");

    // Another agent of the same site with the same key opens their own ticket.
    let agent = app
        .graphql(
            "mutation { createAgent(input: { name: \"Bo\", email: \"bo@example.com\" }) { id } }",
            json!({}),
        )
        .await["createAgent"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let principal = deskgraph::domain::Principal {
        site_id: app.site.site.id,
        agent_id: agent,
    };
    let token = app
        .auth
        .issue(&principal, std::time::Duration::from_secs(600))
        .unwrap();
    let (status, theirs) = post(&app, &token, Some("shared"), &body(contact, "Printer")).await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(ticket_count(&app).await, 2);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_one_ticket() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let request = body(contact, "Burst");
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let send = app
                .client
                .post(format!("{}/v4/ticketing/tickets", app.base))
                .bearer_auth(&app.token)
                .header("Idempotency-Key", "burst")
                .json(&request)
                .send();
            tokio::spawn(async move {
                let response = send.await.unwrap();
                (response.status(), response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut ids = Vec::new();
    for attempt in attempts {
        let (status, body) = attempt.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].clone());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(ticket_count(&app).await, 1);
}

#[tokio::test]
async fn an_expired_key_opens_a_new_ticket_and_a_bad_key_is_refused() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let request = body(contact, "Old");
    let (_, first) = post(&app, &app.token, Some("old-key"), &request).await;
    // A day and a bit later.
    let stmt = sea_orm::sea_query::Query::update()
        .table(idempotency_keys::Entity)
        .value(
            idempotency_keys::Column::CreatedTime,
            deskgraph::domain::now() - chrono::TimeDelta::hours(25),
        )
        .to_owned();
    app.db.execute(&stmt).await.unwrap();
    let (status, second) = post(&app, &app.token, Some("old-key"), &request).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_ne!(second["id"], first["id"]);
    assert_eq!(
        idempotency_keys::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );

    for bad in ["a".repeat(256), "has space".to_string()] {
        let (status, error) = post(&app, &app.token, Some(&bad), &request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
        assert_eq!(error["field"], "Idempotency-Key");
    }
    assert_eq!(ticket_count(&app).await, 2);
}

// ---- ETag / If-Match ----

async fn get(app: &TestApp, id: &Value) -> (String, Value) {
    let response = app
        .client
        .get(format!("{}/v4/ticketing/tickets/{id}", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    (etag, response.json().await.unwrap())
}

async fn put(app: &TestApp, id: &Value, if_match: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = app
        .client
        .put(format!("{}/v4/ticketing/tickets/{id}", app.base))
        .bearer_auth(&app.token)
        .json(&body);
    if let Some(tag) = if_match {
        request = request.header("If-Match", tag);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_put_with_a_stale_if_match_gets_412_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let (_, created) = post(&app, &app.token, None, &body(contact, "Printer")).await;
    let id = created["id"].clone();
    let (etag, ticket) = get(&app, &id).await;
    assert!(
        ticket.get("version").is_none(),
        "the ETag stays a header: {ticket}"
    );

    // Someone else changes it first.
    let response = put(&app, &id, Some(&etag), json!({ "priority": "high" })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let newer = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(newer, etag);
    assert_eq!(
        get(&app, &id).await.0,
        newer,
        "GET agrees with the PUT's ETag"
    );

    // The stale tag is refused, whatever it asks for.
    let response = put(&app, &id, Some(&etag), json!({ "subject": "lost update" })).await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "PRECONDITION_FAILED");
    let (after, ticket) = get(&app, &id).await;
    assert_eq!(ticket["subject"], "Printer");
    assert_eq!(after, newer);

    // Weak, foreign or garbled tags never match.
    for tag in [format!("W/{newer}"), "\"999.1\"".into(), "nonsense".into()] {
        let response = put(&app, &id, Some(&tag), json!({ "subject": "no" })).await;
        assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED, "{tag}");
    }
    // `*` and no If-Match at all go through.
    assert_eq!(
        put(&app, &id, Some("*"), json!({ "subject": "star" }))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        put(&app, &id, None, json!({ "subject": "plain" }))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(get(&app, &id).await.1["subject"], "plain");
}

#[tokio::test]
async fn back_to_back_changes_never_share_an_etag() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let (_, created) = post(&app, &app.token, None, &body(contact, "Printer")).await;
    let id = created["id"].clone();
    let mut seen = std::collections::HashSet::new();
    seen.insert(get(&app, &id).await.0);
    // Read / unread flips in quick succession, often within one millisecond of each other,
    // and the same state twice: each still gets an ETag of its own.
    for verb in ["read", "unread", "read", "unread"] {
        let response = app
            .client
            .post(format!("{}/v4/ticketing/tickets/{id}:{verb}", app.base))
            .bearer_auth(&app.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        assert!(seen.insert(etag.clone()), "{etag} was given twice");
    }
}

#[tokio::test]
async fn graphql_update_with_a_stale_expected_version_fails_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let created = app
        .graphql(
            "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id version } }",
            json!({ "in": { "subject": "s", "channelId": "email", "contactOrVisitorId": contact } }),
        )
        .await["createTicket"]
        .clone();
    let update = "mutation($id: Int!, $in: UpdateTicketInput!) { updateTicket(id: $id, input: $in) { subject version } }";
    let done = app
        .graphql(
            update,
            json!({ "id": created["id"], "in": { "subject": "one", "expectedVersion": created["version"] } }),
        )
        .await;
    assert!(done["updateTicket"]["version"].as_i64() > created["version"].as_i64());
    let (status, error) = app
        .graphql_error(
            update,
            json!({ "id": created["id"], "in": { "subject": "two", "expectedVersion": created["version"] } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error["extensions"]["code"], "PRECONDITION_FAILED");
    let now = app
        .graphql(
            "query($id: Int!) { ticket(id: $id) { subject } }",
            json!({ "id": created["id"] }),
        )
        .await;
    assert_eq!(now["ticket"]["subject"], "one");
}

// ---- Validation over REST ----

#[tokio::test]
async fn rest_coercion_errors_name_the_field() {
    let app = TestApp::spawn().await;
    let get = |path: String| {
        let request = app
            .client
            .get(format!("{}/v4/ticketing/{path}", app.base))
            .bearer_auth(&app.token);
        async move {
            let r = request.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, error) = get("tickets?time=yesterday".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["field"], "time");
    let (status, error) = get("tickets?lastRepliedTime=2021-13-01".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["field"], "lastRepliedTime");
    let (status, error) = get("tickets?keywords=".to_string() + &"k".repeat(300)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["field"], "keywords");

    // A value only GraphQL's coercion catches (an unknown priority) still names its field.
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let mut request = body(contact, "x");
    request["subject"] = json!("s".repeat(1001));
    let (status, error) = post(&app, &app.token, None, &request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["field"], "subject");
    let mut request = body(contact, "x");
    request["autoTranslationStatus"] = json!("maybe");
    let (status, error) = post(&app, &app.token, None, &request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["field"], "autoTranslationStatus", "{error}");
    assert_eq!(ticket_count(&app).await, 0);
}
