//! Random JSON and random GraphQL documents thrown at `/graphql` and the REST routes: whatever
//! arrives, the server answers with a status below 500 (503 only for the translation service
//! it is not configured with) and keeps answering.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::harness::TestApp;

/// Cases per property: enough to hit every path several times, few enough to keep the suite
/// fast.
const CASES: u32 = 96;

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("query".to_owned()),
        Just("variables".to_owned()),
        Just("operationName".to_owned()),
        Just("extensions".to_owned()),
        Just("subject".to_owned()),
        Just("messages".to_owned()),
        Just("sourceId".to_owned()),
        Just("tagIds".to_owned()),
        Just("status".to_owned()),
        Just("viewIds".to_owned()),
        "[a-zA-Z]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        Just(json!("{ tickets { totalCount } }")),
        Just(json!("01a20afa-b99f-7158-8902-5ce1c3e4d876")),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Documents from GraphQL's own tokens and the schema's names, so many are nearly valid and
/// reach validation and execution, not just the parser.
fn document() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{"),
        Just("}"),
        Just("{"),
        Just("}"),
        Just("("),
        Just(")"),
        Just(":"),
        Just("..."),
        Just("on"),
        Just("fragment"),
        Just("F"),
        Just("query"),
        Just("mutation"),
        Just("$x"),
        Just("Int"),
        Just("!"),
        Just("="),
        Just("@include(if: true)"),
        Just("@skip(if: $x)"),
        Just("tickets"),
        Just("ticket"),
        Just("edges"),
        Just("node"),
        Just("id"),
        Just("subject"),
        Just("messages"),
        Just("first:"),
        Just("100"),
        Just("-1"),
        Just("2147483648"),
        Just("id: 1"),
        Just("a:"),
        Just("__typename"),
        Just("__schema"),
        Just("types"),
        Just("name"),
        Just("totalCount"),
        Just("tags"),
        Just("createTicket"),
        Just("input:"),
        Just("\"x\""),
        Just("[1, 2]"),
        Just("null"),
        Just("Ticket"),
        Just("Query"),
        Just("mergeTicket(targetId: 1, sourceId: 1)"),
        Just("unreadCount"),
        Just(","),
    ];
    prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.join(" "))
}

fn rest_call() -> impl Strategy<Value = (Method, String, Option<Value>)> {
    let method = prop_oneof![
        Just(Method::GET),
        Just(Method::POST),
        Just(Method::PUT),
        Just(Method::DELETE)
    ];
    let segment = prop_oneof![
        Just("tickets".to_owned()),
        Just("tickets:unreadCount".to_owned()),
        Just("1".to_owned()),
        Just("1:merge".to_owned()),
        Just("1:read".to_owned()),
        Just("1:recycle".to_owned()),
        Just("1:previewmessagetranslation".to_owned()),
        Just("1:detectVisitorLanguage".to_owned()),
        Just("99999999999999999999".to_owned()),
        "[a-zA-Z0-9:%._-]{0,12}",
    ];
    let query = prop_oneof![
        Just(String::new()),
        Just("?include=ticketingTag,lastMessage".to_owned()),
        Just("?pageSize=0&pageIndex=-1".to_owned()),
        Just("?pageSize=1000".to_owned()),
        Just("?time=yesterday&contactOrVisitorType=robot".to_owned()),
        "\\?[a-zA-Z=&%]{0,16}",
    ];
    (
        method,
        prop::collection::vec(segment, 1..3),
        query,
        prop::option::of(json_value()),
    )
        .prop_map(|(m, segments, query, body)| {
            (
                m,
                format!("/v4/ticketing/{}{query}", segments.join("/")),
                body,
            )
        })
}

fn acceptable(status: StatusCode, body: &str) -> Result<(), TestCaseError> {
    let unconfigured =
        status == StatusCode::SERVICE_UNAVAILABLE && body.contains("SERVICE_UNAVAILABLE");
    prop_assert!(
        !status.is_server_error() || unconfigured,
        "{status}: {body}"
    );
    Ok(())
}

/// Runs a property against one server, on a runtime the server keeps running on between cases.
fn check<S: Strategy>(
    strategy: S,
    case: impl Fn(
        &TestApp,
        S::Value,
    )
        -> std::pin::Pin<Box<dyn std::future::Future<Output = (StatusCode, String)> + '_>>,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = rt.block_on(TestApp::spawn());
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |value| {
        let (status, body) = rt.block_on(case(&app, value));
        acceptable(status, &body)
    });
    // The server still answers after all of it.
    let alive = rt.block_on(app.client.get(format!("{}/healthz", app.base)).send());
    drop(app);
    rt.shutdown_background();
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        alive.is_ok_and(|r| r.status().is_success()),
        "the server stopped answering"
    );
}

async fn answer(res: reqwest::Result<reqwest::Response>) -> (StatusCode, String) {
    let res = res.expect("the server answers");
    (res.status(), res.text().await.unwrap_or_default())
}

#[test]
fn random_json_bodies_never_get_a_500_from_graphql() {
    check(json_value(), |app, value| {
        Box::pin(async move {
            answer(
                app.client
                    .post(format!("{}/graphql", app.base))
                    .bearer_auth(&app.token)
                    .json(&value)
                    .send()
                    .await,
            )
            .await
        })
    });
}

#[test]
fn random_graphql_documents_never_get_a_500() {
    check(
        (document(), json_value(), any::<bool>()),
        |app, (doc, vars, get)| {
            Box::pin(async move {
                let url = format!("{}/graphql", app.base);
                let req = if get {
                    app.client
                        .get(url)
                        .query(&[("query", doc.as_str()), ("variables", &vars.to_string())])
                } else {
                    app.client
                        .post(url)
                        .json(&json!({ "query": doc, "variables": vars }))
                };
                answer(req.bearer_auth(&app.token).send().await).await
            })
        },
    );
}

#[test]
fn random_rest_calls_never_get_a_500() {
    check(rest_call(), |app, (method, path, body)| {
        Box::pin(async move {
            let mut req = app
                .client
                .request(method, format!("{}{path}", app.base))
                .bearer_auth(&app.token);
            if let Some(body) = body {
                req = req.json(&body);
            }
            answer(req.send().await).await
        })
    });
}
