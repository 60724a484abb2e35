//! GraphQL over HTTP (media types, status codes, GET rules), body size, timeouts and CORS.

use std::time::{Duration, Instant};

use axum::{Router, routing::post};
use reqwest::{Method, RequestBuilder, StatusCode, header};
use serde_json::{Value, json};

use crate::harness::{TestApp, fixtures};
use crate::ticket_list::{create, create_about};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

fn to_graphql(app: &TestApp, method: Method) -> RequestBuilder {
    app.client
        .request(method, format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
}

async fn send(req: RequestBuilder) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let res = req.send().await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, headers, body)
}

fn content_type(headers: &reqwest::header::HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_answer_follows_accept_and_request_errors_are_400_only_for_graphql_response_json() {
    let app = TestApp::spawn().await;
    let valid = json!({ "query": "{ tickets { totalCount } }" });
    let invalid = json!({ "query": "{ noSuchField }" });
    let unparsable = json!({ "query": "{ tickets {" });

    for accept in [GRAPHQL_RESPONSE, "application/json", "*/*"] {
        let (status, headers, body) = send(
            to_graphql(&app, Method::POST)
                .header("accept", accept)
                .json(&valid),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{accept}: {body}");
        let expected = if accept == GRAPHQL_RESPONSE {
            GRAPHQL_RESPONSE
        } else {
            "application/json"
        };
        assert!(
            content_type(&headers).starts_with(expected),
            "{accept}: {headers:?}"
        );
        assert_eq!(body["data"]["tickets"]["totalCount"], 0);
    }

    for (doc, code) in [
        (&invalid, "GRAPHQL_VALIDATION_FAILED"),
        (&unparsable, "GRAPHQL_PARSE_FAILED"),
    ] {
        let (status, _, body) = send(
            to_graphql(&app, Method::POST)
                .header("accept", GRAPHQL_RESPONSE)
                .json(doc),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");

        let (status, _, body) = send(
            to_graphql(&app, Method::POST)
                .header("accept", "application/json")
                .json(doc),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
    }

    // A field error is not a request error: data is there, and the status is 200 either way.
    let (status, _, body) = send(
        to_graphql(&app, Method::POST)
            .header("accept", GRAPHQL_RESPONSE)
            .json(&json!({ "query": "{ ticket(id: 404) { id } }" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");

    // Preference by q, a named type before a wildcard.
    let (_, headers, _) = send(
        to_graphql(&app, Method::POST)
            .header(
                "accept",
                "application/json;q=0.5, application/graphql-response+json",
            )
            .json(&valid),
    )
    .await;
    assert!(content_type(&headers).starts_with(GRAPHQL_RESPONSE));
    let (_, headers, _) = send(
        to_graphql(&app, Method::POST)
            .header("accept", "*/*, application/graphql-response+json")
            .json(&valid),
    )
    .await;
    assert!(content_type(&headers).starts_with(GRAPHQL_RESPONSE));
}

#[tokio::test]
async fn an_accept_header_naming_no_json_type_is_406() {
    let app = TestApp::spawn().await;
    let (status, _, body) = send(
        to_graphql(&app, Method::POST)
            .header("accept", "text/csv")
            .json(&json!({ "query": "{ __typename }" })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_ACCEPTABLE");
    assert!(message(&body).contains("text/csv"), "{body}");
}

#[tokio::test]
async fn get_runs_queries_with_json_variables_and_refuses_mutations_with_405() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let id = create_about(&app, contact, "By GET").await;
    let (status, _, body) = send(to_graphql(&app, Method::GET).query(&[
        ("query", "query($id: Int!) { ticket(id: $id) { subject } }"),
        ("variables", &json!({ "id": id }).to_string()),
    ]))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["ticket"]["subject"], "By GET");

    let res = to_graphql(&app, Method::GET)
        .query(&[(
            "query",
            format!("mutation {{ recycleTicket(id: {id}) {{ id }} }}"),
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()[header::ALLOW], "POST");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "METHOD_NOT_ALLOWED"
    );
    // Nothing was recycled.
    let data = app
        .graphql(
            "query($id: Int!) { ticket(id: $id) { isInRecycleBin } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["ticket"]["isInRecycleBin"], false);

    let (status, _, body) = send(
        to_graphql(&app, Method::GET).query(&[("query", "{ __typename }"), ("variables", "{oops")]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        message(&body).contains("`variables` is not valid JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_bodies_and_wrong_content_types_get_a_4xx_naming_the_problem() {
    let app = TestApp::spawn().await;
    let cases: [(Option<&str>, &str, StatusCode, &str); 7] = [
        (
            Some("text/plain"),
            r#"{"query":"{ __typename }"}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "text/plain",
        ),
        (
            None,
            r#"{"query":"{ __typename }"}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type: application/json",
        ),
        (
            Some("application/json; charset=latin1"),
            r#"{"query":"{ __typename }"}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "latin1",
        ),
        (
            Some("application/json"),
            r#"{"query": "{ __typename }"#,
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            Some("application/json"),
            r#"{"qeury": "{ __typename }"}"#,
            StatusCode::BAD_REQUEST,
            "`query` parameter is missing",
        ),
        (
            Some("application/json"),
            r#"{"query": "{ __typename }", "variables": [1]}"#,
            StatusCode::BAD_REQUEST,
            "`variables` must be a JSON object",
        ),
        (
            Some("application/json"),
            "",
            StatusCode::BAD_REQUEST,
            "body is empty",
        ),
    ];
    for (ct, body, expected, naming) in cases {
        let mut req = to_graphql(&app, Method::POST).body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let (status, _, answer) = send(req).await;
        assert_eq!(status, expected, "{ct:?} {body}: {answer}");
        assert!(message(&answer).contains(naming), "{ct:?} {body}: {answer}");
    }
}

#[tokio::test]
async fn authentication_still_applies_and_is_a_401() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .graphql_with(None, "{ tickets { totalCount } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_in_each_routes_own_error_shape() {
    let app = TestApp::spawn_with(|c| c.http.body_limit = 4096).await;
    let big = "x".repeat(8192);
    let (status, _, body) = send(
        to_graphql(&app, Method::POST)
            .json(&json!({ "query": format!("{{ __typename }} # {big}") })),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE");

    let (status, _, body) = send(
        app.client
            .post(format!("{}/v4/ticketing/tickets", app.base))
            .bearer_auth(&app.token)
            .json(&json!({ "subject": big })),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");

    // Under the limit, the same routes work.
    let (status, _, body) =
        send(to_graphql(&app, Method::POST).json(&json!({ "query": "{ __typename }" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A translation service that takes `delay` to answer.
async fn slow_translation_service(delay: Duration) -> String {
    let app = Router::new().route(
        "/translate",
        post(move || async move {
            tokio::time::sleep(delay).await;
            axum::Json(json!({ "translatedText": "late" }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn an_operation_running_past_the_timeout_is_stopped_with_a_clear_error() {
    let url = slow_translation_service(Duration::from_secs(8)).await;
    let app = TestApp::spawn_with(|c| {
        c.translate_url = Some(url);
        c.graphql.request_timeout = Duration::from_millis(500);
    })
    .await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let id = create(
        &app,
        json!({ "subject": "s", "channelId": "email", "contactOrVisitorId": contact, "agentLanguage": "en", "contactLanguage": "fr" }),
    )
    .await;

    let started = Instant::now();
    let (status, body) = app
        .graphql_with(
            Some(&app.token),
            "mutation($id: Int!) { previewMessageTranslation(id: $id, text: \"Hello\") { translatedText } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "TIMEOUT", "{body}");
    assert!(message(&body).contains("500 ms"), "{body}");

    // The REST shim runs through the same path and answers in its own shape.
    let started = Instant::now();
    let (status, _, body) = send(
        app.client
            .post(format!(
                "{}/v4/ticketing/tickets/{id}:previewmessagetranslation",
                app.base
            ))
            .bearer_auth(&app.token)
            .json(&json!({ "text": "Hello" })),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "TIMEOUT", "{body}");
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, format!("{}/graphql", app.base))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_lets_only_the_configured_origins_in() {
    // None by default: a browser on another origin gets no permission.
    let app = TestApp::spawn().await;
    let res = preflight(&app, "https://console.example.com").await;
    assert!(
        res.headers().get("access-control-allow-origin").is_none(),
        "{:?}",
        res.headers()
    );

    let app = TestApp::spawn_with(|c| {
        c.http.cors_origins = vec![
            "https://console.example.com".into(),
            "http://localhost:5173".into(),
        ]
    })
    .await;
    let res = preflight(&app, "https://console.example.com").await;
    assert!(res.status().is_success(), "{}", res.status());
    let h = res.headers();
    assert_eq!(
        h["access-control-allow-origin"],
        "https://console.example.com"
    );
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for name in [
        "authorization",
        "content-type",
        "idempotency-key",
        "if-match",
    ] {
        assert!(allowed.contains(name), "{name} in {allowed}");
    }
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );

    let res = preflight(&app, "https://evil.example.net").await;
    assert!(res.headers().get("access-control-allow-origin").is_none());

    // The actual request carries the permission and exposes ETag.
    let res = to_graphql(&app, Method::POST)
        .header("origin", "http://localhost:5173")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert!(
        res.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("etag")
    );
}

/// A scalar async-graphql parses only as the field runs (`UUID`) answers a malformed value
/// at the field's path, with the code of any value GraphQL cannot coerce, as a literal and
/// as a variable.
#[tokio::test]
async fn a_malformed_uuid_is_refused_at_its_field_as_a_value_graphql_cannot_coerce() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            r#"{ unreadCount(viewIds: ["not a uuid"]) { allCount } }"#,
            json!({}),
        ),
        (
            "query($ids: [UUID!]!) { unreadCount(viewIds: $ids) { allCount } }",
            json!({ "ids": ["not a uuid"] }),
        ),
    ];
    for (query, variables) in cases {
        let (status, body) = app.graphql_with(Some(&app.token), query, variables).await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        let error = &body["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{query}: {body}"
        );
        assert_eq!(error["path"], json!(["unreadCount"]), "{query}: {body}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("UUID")),
            "{query}: {body}"
        );
    }
}

/// A document that passed validation once is not validated in full again while its variables
/// surely fit their types; a value that does not fit must still be refused as before: as a
/// validation error with no data, or, for a malformed UUID (which only the run parses), at
/// its field. Each case has a document of its own (an alias names it), so its first bad
/// request runs before the document was ever validated, and the one after the good ones
/// after.
#[tokio::test]
async fn a_document_run_before_still_refuses_bad_variables_as_it_did_the_first_time() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let id = create_about(&app, contact, "Kept").await;
    let by_id = |n: usize| format!("query($id: Int!) {{ c{n}: ticket(id: $id) {{ id }} }}");
    let by_ids = |n: usize| {
        format!("query($ids: [UUID!]!) {{ c{n}: unreadCount(viewIds: $ids) {{ allCount }} }}")
    };
    let by_filter = |n: usize| {
        format!(
            "query($f: TicketFilter) {{ c{n}: tickets(first: 1, filter: $f) {{ edges {{ node {{ id }} }} }} }}"
        )
    };
    let uuid = "01a20afa-b99f-7158-8902-5ce1c3e4d876";
    // (document, bad variables, good variables, whether the bad value is refused in the run)
    let cases = [
        (
            by_id(0),
            json!({ "id": "seven" }),
            json!({ "id": id }),
            false,
        ),
        (by_id(1), json!({ "id": null }), json!({ "id": id }), false),
        (by_id(2), json!({ "id": 1.5 }), json!({ "id": id }), false),
        (
            by_ids(3),
            json!({ "ids": ["not a uuid"] }),
            json!({ "ids": [] }),
            true,
        ),
        (by_ids(4), json!({ "ids": [7] }), json!({ "ids": [] }), true),
        (
            by_filter(5),
            json!({ "f": { "status": ["NOPE"] } }),
            json!({ "f": { "status": ["NEW"] } }),
            false,
        ),
        (
            by_filter(6),
            json!({ "f": { "keywords": 7 } }),
            json!({ "f": { "keywords": "x" } }),
            false,
        ),
        (
            by_filter(7),
            json!({ "f": { "nope": "x" } }),
            json!({ "f": { "status": ["NEW"], "keywords": "x" } }),
            false,
        ),
        (
            by_filter(8),
            json!({ "f": { "tagId": "not a uuid" } }),
            json!({ "f": { "tagId": uuid } }),
            true,
        ),
    ];
    for (query, bad, good, in_the_run) in cases {
        let first = app
            .graphql_with(Some(&app.token), &query, bad.clone())
            .await;
        let error = &first.1["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{query} {bad}: {}",
            first.1
        );
        if in_the_run {
            assert!(error["path"].is_array(), "{query} {bad}: {}", first.1);
        } else {
            assert!(error.get("path").is_none(), "{query} {bad}: {}", first.1);
            assert!(first.1.get("data").is_none(), "{query} {bad}: {}", first.1);
        }
        for _ in 0..2 {
            let (status, body) = app
                .graphql_with(Some(&app.token), &query, good.clone())
                .await;
            assert_eq!(status, StatusCode::OK, "{query} {good}: {body}");
            assert!(body.get("errors").is_none(), "{query} {good}: {body}");
        }
        let again = app
            .graphql_with(Some(&app.token), &query, bad.clone())
            .await;
        assert_eq!(again, first, "{query} {bad}");
    }
}
