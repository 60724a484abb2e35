//! Operation limits of `/graphql`: each refuses an abusive operation with a message naming the
//! limit, and lets the console's normal queries through at its default.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, fixtures};
use crate::ticket_list::create_about;

/// The console's inbox: 50 tickets with what a row shows.
const INBOX: &str = "query($n: Int!) {
  tickets(first: $n) {
    totalCount
    edges { cursor node {
      id subject status priority createdTime lastUpdatedTime lastRepliedTime isReadByAgent
      tags { id name }
      assignee { __typename ... on Agent { id name } ... on Chatbot { id name } }
      contactOrVisitor { __typename ... on Contact { id name } ... on Visitor { id name } }
      lastMessage { id body time sentByType }
      draft { body lastUpdatedTime }
    } }
    pageInfo { hasNextPage endCursor }
  }
}";

/// GraphiQL's introspection query (graphql-js `getIntrospectionQuery` with every option on):
/// the deepest query a console sends.
const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    description
    queryType { name kind } mutationType { name kind } subscriptionType { name kind }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) {
    name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
}
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}";

/// Posts a query as the site admin; returns the status and the whole body.
async fn post(app: &TestApp, query: &str) -> (StatusCode, Value) {
    app.graphql_with(Some(&app.token), query, json!({})).await
}

/// Asserts the operation was refused before it ran, with a message containing `naming`.
fn assert_refused(status: StatusCode, body: &Value, naming: &str) {
    assert_eq!(
        status,
        StatusCode::OK,
        "application/json answers 200: {body}"
    );
    assert!(body.get("data").is_none(), "nothing ran: {body}");
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(naming),
        "message should name `{naming}`: {body}"
    );
}

/// `n` aliased fields, below the root so that only the alias limit applies.
fn aliases(n: usize) -> String {
    let fields: String = (0..n).map(|i| format!("a{i}: __typename ")).collect();
    format!("{{ tickets {{ {fields} }} }}")
}

#[tokio::test]
async fn the_inbox_and_graphiqls_introspection_pass_the_default_limits() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    for i in 0..3 {
        create_about(&app, contact, &format!("t{i}")).await;
    }
    let data = app.graphql(INBOX, json!({ "n": 50 })).await;
    assert_eq!(data["tickets"]["totalCount"], 3);
    assert_eq!(
        data["tickets"]["edges"][0]["node"]["contactOrVisitor"]["name"],
        "Ann"
    );

    let data = app.graphql(INTROSPECTION, json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn a_query_nested_deeper_than_the_limit_is_refused_even_behind_fragments() {
    // Depth 7 (tickets > edges > node > messages > edges > node > id), hidden in two fragments.
    let deep = "{ tickets { ...Page } }
        fragment Page on TicketConnection { edges { node { ...Row } } }
        fragment Row on Ticket { messages { edges { node { id } } } }";
    let app = TestApp::spawn().await;
    let (status, body) = post(&app, deep).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.get("errors").is_none(),
        "depth 7 passes the default: {body}"
    );

    let app = TestApp::spawn_with(|c| c.graphql.graphql_max_depth = 6).await;
    let (status, body) = post(&app, deep).await;
    assert_refused(
        status,
        &body,
        "7 levels of nested fields, over the limit of 6",
    );
}

#[tokio::test]
async fn a_query_whose_pages_multiply_past_the_complexity_limit_is_refused() {
    let app = TestApp::spawn().await;
    // 100 tickets times 100 messages each: tens of thousands of rows from one request.
    let (status, body) = post(
        &app,
        "{ tickets(first: 100) { edges { node { messages(first: 100) { edges { node { id body } } } } } } }",
    )
    .await;
    assert_refused(status, &body, "complexity");
    // The page size given in a variable counts too.
    let (status, body) = app
        .graphql_with(
            Some(&app.token),
            "query($n: Int) { tickets(first: 100) { edges { node { messages(first: $n) { edges { node { id body } } } } } } }",
            json!({ "n": 100 }),
        )
        .await;
    assert_refused(status, &body, "complexity");
    // Smaller pages of the same shape are fine.
    let (status, body) = post(
        &app,
        "{ tickets(first: 50) { edges { node { messages(first: 10) { edges { node { id body } } } } } } }",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn too_many_aliases_are_refused_counting_typename_and_every_fragment_spread() {
    let app = TestApp::spawn().await;
    let (status, body) = post(&app, &aliases(30)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("errors").is_none(), "30 aliases pass: {body}");

    // Parsed documents are kept: the verdict holds the second time too.
    for _ in 0..2 {
        let (status, body) = post(&app, &aliases(31)).await;
        assert_refused(status, &body, "31 aliased fields, over the limit of 30");
        let (_, body) = post(&app, &aliases(30)).await;
        assert!(body.get("errors").is_none(), "30 aliases pass: {body}");
    }

    // Ten aliases in a fragment spread four times are forty.
    let ten: String = (0..10).map(|i| format!("a{i}: __typename ")).collect();
    let spread = format!(
        "{{ tickets {{ ...A ... {{ ...A }} ... {{ ...A }} ... {{ ...A }} }} }} fragment A on TicketConnection {{ {ten} }}"
    );
    let (status, body) = post(&app, &spread).await;
    assert_refused(status, &body, "40 aliased fields");
}

#[tokio::test]
async fn too_many_root_fields_are_refused() {
    let app = TestApp::spawn().await;
    let roots = |n: usize| -> String {
        let fields: String = (0..n)
            .map(|i| format!("t{i}: tickets(first: 1) {{ totalCount }} "))
            .collect();
        format!("{{ {fields} }}")
    };
    let (status, body) = post(&app, &roots(20)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("errors").is_none(), "20 root fields pass: {body}");
    let (status, body) = post(&app, &roots(21)).await;
    assert_refused(status, &body, "21 fields at the top of one operation");
}

#[tokio::test]
async fn too_many_directives_are_refused() {
    let app = TestApp::spawn().await;
    let query = |n: usize| -> String {
        let fields: String = (0..n).map(|_| "__typename @include(if: true) ").collect();
        format!("{{ tickets {{ {fields} }} }}")
    };
    let (status, body) = post(&app, &query(30)).await;
    assert!(body.get("errors").is_none(), "30 directives pass: {body}");
    let (status2, body2) = post(&app, &query(31)).await;
    assert_eq!(status, StatusCode::OK);
    assert_refused(status2, &body2, "31 directives, over the limit of 30");
}

#[tokio::test]
async fn fragments_that_multiply_or_spread_themselves_are_refused_quickly() {
    let app = TestApp::spawn().await;
    // Each fragment spreads the next twice: 2^40 fields once expanded.
    let mut bomb = String::from("{ tickets { ...F0 } }");
    for i in 0..40 {
        bomb.push_str(&format!(
            " fragment F{i} on TicketConnection {{ ...F{} ... {{ ...F{} }} }}",
            i + 1,
            i + 1
        ));
    }
    bomb.push_str(" fragment F40 on TicketConnection { totalCount }");
    let started = Instant::now();
    let (status, body) = post(&app, &bomb).await;
    assert_refused(status, &body, "fields with its fragments expanded");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let (status, body) = post(
        &app,
        "{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }",
    )
    .await;
    assert_refused(status, &body, "spreads itself");
}

#[tokio::test]
async fn rest_routes_run_their_own_documents_beyond_the_graphql_limits() {
    // The REST list with messages asks for 100 tickets with 100 messages each: over the
    // GraphQL complexity limit, but it is the server's own fixed document.
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!(
            "{}/v4/ticketing/tickets?pageSize=100&include=ticketingMessage,ticketingEventLog",
            app.base
        ))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 0);
}

#[tokio::test]
async fn introspection_and_suggestions_can_be_switched_off() {
    let typo = "{ tickts { totalCount } }";
    let app = TestApp::spawn().await;
    let (_, body) = post(&app, typo).await;
    let message = body["errors"][0]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("Did you mean"), "{body}");

    let app = TestApp::spawn_with(|c| {
        c.graphql.graphql_introspection = false;
        c.graphql.graphql_suggestions = false;
    })
    .await;
    let (_, body) = post(&app, typo).await;
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("Did you mean"), "{body}");
    // async-graphql answers a disabled introspection with null, the schema unseen.
    let (_, body) = post(&app, "{ __schema { types { name } } }").await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    assert!(!body.to_string().contains("Ticket"), "{body}");
    // Ordinary queries still run.
    let (status, body) = post(&app, "{ tickets { totalCount } }").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["tickets"]["totalCount"], 0, "{body}");
}

async fn post_raw(app: &TestApp, body: Value) -> (StatusCode, Value) {
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn batches_are_refused_unless_enabled_and_then_capped() {
    let one = json!({ "query": "{ tickets { totalCount } }" });
    let two = json!({ "query": "query($id: Int!) { ticket(id: $id) { id } }", "variables": { "id": 999 } });

    let app = TestApp::spawn().await;
    let (status, body) = post_raw(&app, json!([one, two])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("batched requests"),
        "{body}"
    );

    let app = TestApp::spawn_with(|c| c.graphql.graphql_max_batch = 2).await;
    let (status, body) = post_raw(&app, json!([one, two])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body[0]["data"]["tickets"]["totalCount"], 0, "{body}");
    assert_eq!(
        body[1]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
    let (status, body) = post_raw(&app, json!([one, one, one])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("3 operations, over the limit of 2"),
        "{body}"
    );
}
