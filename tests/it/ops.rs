//! Operations: health and readiness, Prometheus metrics, request ids, the request log, the
//! OpenAPI document and the self-hosted GraphiQL assets.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, TestDb, fixtures};
use crate::process::{deskgraph, start_with_stderr};

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
}

async fn new_ticket(app: &TestApp) -> i64 {
    let contact = fixtures::contact(&app.db, app.site.site.id, "Olga Ops").await;
    app.graphql(
        "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }",
        json!({ "input": { "subject": "ops", "channelId": "email", "contactOrVisitorId": contact } }),
    )
    .await["createTicket"]["id"]
        .as_i64()
        .unwrap()
}

/// The value of the sample `name{labels}` in a Prometheus text page, when it is there.
fn sample(page: &str, name_and_labels: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn health_says_up_and_readiness_says_the_database_answers() {
    let app = TestApp::spawn().await;
    let res = get(&app, "/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "ok");

    let res = get(&app, "/readyz").await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({ "status": "ready", "database": "ok" }));
}

#[tokio::test]
async fn metrics_count_requests_by_route_operations_batches_statements_and_pool_use() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app).await;
    // An operation name no other test uses, so the counter is this test's alone.
    let (status, _) = app
        .graphql_with(
            Some(&app.token),
            "query MetricsProbeInbox { tickets(first: 5) { edges { node { id tags { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app
        .graphql_with(
            Some(&app.token),
            "query MetricsProbeMissing { ticket(id: 987654) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let res = app
        .client
        .get(format!("{}/v4/ticketing/tickets/{id}", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let res = get(&app, "/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let page = res.text().await.unwrap();

    assert_eq!(
        sample(
            &page,
            r#"deskgraph_graphql_operations_total{operation="MetricsProbeInbox",outcome="ok"}"#
        ),
        Some(1.0),
        "{page}"
    );
    assert_eq!(
        sample(
            &page,
            r#"deskgraph_graphql_operations_total{operation="MetricsProbeMissing",outcome="NOT_FOUND"}"#
        ),
        Some(1.0)
    );
    // By the route pattern, never the raw path with the ticket id.
    let rest = r#"deskgraph_http_requests_total{route="/v4/ticketing/tickets/{segment}",method="GET",status="200"}"#;
    assert!(sample(&page, rest).unwrap() >= 1.0, "{page}");
    assert!(
        !page.contains(&format!("tickets/{id}\"")),
        "a raw path became a label"
    );
    let graphql = r#"deskgraph_http_requests_total{route="/graphql",method="POST",status="200"}"#;
    assert!(sample(&page, graphql).unwrap() >= 3.0);
    assert!(
        page.contains(
            r#"deskgraph_http_request_duration_seconds_bucket{route="/graphql",le="0.005"}"#
        ),
        "latency histogram by route"
    );
    assert!(page.contains(r#"deskgraph_dataloader_batch_size_bucket{loader=""#));
    assert!(sample(&page, "deskgraph_db_statements_total").unwrap() > 0.0);
    let mut pools = vec!["writes"];
    if app.test_db.is_postgres() {
        // PostgreSQL's direct reads have connections of their own (`db::reads`).
        pools.push("reads");
    }
    for pool in pools {
        for state in ["idle", "in_use", "max"] {
            let line = format!(r#"deskgraph_db_pool_connections{{pool="{pool}",state="{state}"}}"#);
            assert!(sample(&page, &line).is_some(), "{line} missing");
        }
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_clean_incoming_one_is_kept() {
    let app = TestApp::spawn().await;
    let res = get(&app, "/healthz").await;
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    let res = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "lb-7f3a.42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "lb-7f3a.42");

    let res = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "evil id\"with{junk}")
        .send()
        .await
        .unwrap();
    let replaced = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(replaced).is_ok(), "{replaced}");
}

#[tokio::test]
async fn the_json_request_log_has_one_line_per_request_with_its_fields_and_no_token_or_body() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut cmd = deskgraph(&db, dir.path());
    cmd.env("DESKGRAPH_LOG_FORMAT", "json")
        .env("DESKGRAPH_LOG", "info");
    let server = start_with_stderr(cmd, true, Stdio::from(log));
    let token = server.token.clone().unwrap();

    let secret_subject = "SecretSubjectThatMustNotBeLogged";
    let res = reqwest::Client::new()
        .post(format!("{}/graphql", server.base))
        .bearer_auth(&token)
        .header("x-request-id", "log-test-1")
        .json(&json!({ "query": format!("query LoggedOp {{ tickets(first: 1, filter: {{ keywords: \"{secret_subject}\" }}) {{ totalCount }} }}") }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-request-id"], "log-test-1");

    // The line is written after the response; give the writer a moment.
    let mut line = None;
    for _ in 0..50 {
        let text = std::fs::read_to_string(&log_path).unwrap();
        line = text
            .lines()
            .find(|l| l.contains("log-test-1"))
            .map(str::to_owned);
        if line.is_some() {
            assert!(!text.contains(&token), "the token reached the log");
            assert!(!text.contains(secret_subject), "the body reached the log");
            assert!(
                !text.to_lowercase().contains("bearer"),
                "auth header logged"
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let line = line.expect("a log line for the request");
    let entry: Value = serde_json::from_str(&line).expect("one JSON object per line");
    let fields = &entry["fields"];
    assert_eq!(fields["request_id"], "log-test-1", "{entry}");
    assert_eq!(fields["method"], "POST");
    assert_eq!(fields["route"], "/graphql");
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["operation"], "LoggedOp");
    assert!(fields["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(entry["level"], "INFO");
    let text = std::fs::read_to_string(&log_path).unwrap();
    let count = text.lines().filter(|l| l.contains("log-test-1")).count();
    assert_eq!(count, 1, "one line per request");
}

/// What `/v4/openapi.json` lists, as (METHOD, path) with `{id}` as in the document.
async fn documented(app: &TestApp) -> BTreeSet<(String, String)> {
    let doc: Value = get(app, "/v4/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// Whether the router has a route for this method and concrete path: anything but axum's
/// 404/405 for a missing route, and the shim's own "no route" 404.
async fn answers(app: &TestApp, method: &str, path: &str) -> bool {
    let res = app
        .client
        .request(method.parse().unwrap(), format!("{}{path}", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = res.text().await.unwrap();
    !(status == StatusCode::METHOD_NOT_ALLOWED
        || status == StatusCode::NOT_FOUND && (body.is_empty() || body.contains("no route")))
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_rest_routes_that_answer() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app).await;
    let ops = documented(&app).await;
    assert!(ops.len() >= 16, "{ops:?}");
    // Every documented operation answers.
    for (method, path) in &ops {
        let concrete = path.replace("{id}", &id.to_string());
        assert!(
            answers(&app, method, &concrete).await,
            "{method} {path} is documented but has no route"
        );
    }
    // Every route that answers is documented: each method on each shape of URL, and verbs
    // that exist next to ones that do not.
    let mut shapes = vec![
        "/v4/ticketing/tickets".to_owned(),
        "/v4/ticketing/tickets/{id}".to_owned(),
        "/v4/ticketing/tickets:nosuchverb".to_owned(),
        "/v4/ticketing/tickets/{id}:nosuchverb".to_owned(),
    ];
    shapes.extend(ops.iter().map(|(_, p)| p.clone()));
    for shape in shapes {
        let concrete = shape.replace("{id}", &id.to_string());
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if answers(&app, method, &concrete).await {
                assert!(
                    ops.contains(&(method.to_owned(), shape.clone())),
                    "{method} {shape} answers but is not in the OpenAPI document"
                );
            }
        }
    }
}

#[tokio::test]
async fn graphiql_is_served_from_this_server_with_no_external_host() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    // Nothing absolute but the websocket schemes the page puts before its own host.
    let own = page.replace(r#""wss://""#, "").replace(r#""ws://""#, "");
    assert!(!own.contains("://") && !own.contains("\"//"), "{page}");
    assert!(page.contains(r#"{"Authorization": "Bearer "}"#));
    assert!(page.contains("/graphql/ws"));
    let assets: Vec<&str> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/graphiql/assets/"))
        .collect();
    assert_eq!(assets.len(), 5, "{assets:?}");
    for asset in assets {
        let res = get(&app, asset).await;
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        assert!(
            res.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );
        let len = res.bytes().await.unwrap().len();
        assert!(len > 1000, "{asset} is {len} bytes");
    }
    let missing = get(&app, "/graphiql/assets/nope.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
