//! Bearer tokens: every bad token gets 401 and nothing runs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TEST_SECRET, TestApp};

async fn status_with(app: &TestApp, authorization: Option<&str>) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(format!("{}/graphql", app.base))
        .json(&json!({ "query": "{ __typename }" }));
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

fn claims(app: &TestApp) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": app.site.admin.id, "site": app.site.site.id,
        "iss": "deskgraph", "aud": "deskgraph-api", "iat": now, "exp": now + 600,
    })
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn assert_refused(app: &TestApp, authorization: Option<&str>, why: &str) {
    let (status, body) = status_with(app, authorization).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{why}"
    );
    assert!(body.get("data").is_none(), "{why}: nothing runs");
}

#[tokio::test]
async fn a_valid_token_is_accepted() {
    let app = TestApp::spawn().await;
    let (status, body) = status_with(&app, Some(&format!("Bearer {}", app.token))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["__typename"], "Query");
    let crafted = sign(&claims(&app), TEST_SECRET);
    assert_eq!(
        status_with(&app, Some(&format!("Bearer {crafted}")))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_bad_token_gets_401() {
    let app = TestApp::spawn().await;
    assert_refused(&app, None, "no header").await;
    assert_refused(&app, Some(&app.token), "no Bearer scheme").await;
    assert_refused(&app, Some("Bearer "), "empty token").await;
    assert_refused(&app, Some("Bearer not.a.jwt"), "malformed").await;

    let wrong_key = sign(&claims(&app), "another-secret-that-is-long-enough-too");
    assert_refused(
        &app,
        Some(&format!("Bearer {wrong_key}")),
        "wrong signature",
    )
    .await;

    let mut expired = claims(&app);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    assert_refused(
        &app,
        Some(&format!("Bearer {}", sign(&expired, TEST_SECRET))),
        "expired",
    )
    .await;

    let mut no_exp = claims(&app);
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_refused(
        &app,
        Some(&format!("Bearer {}", sign(&no_exp, TEST_SECRET))),
        "no exp",
    )
    .await;

    let mut wrong_aud = claims(&app);
    wrong_aud["aud"] = json!("someone-else");
    assert_refused(
        &app,
        Some(&format!("Bearer {}", sign(&wrong_aud, TEST_SECRET))),
        "wrong audience",
    )
    .await;

    let mut wrong_iss = claims(&app);
    wrong_iss["iss"] = json!("someone-else");
    assert_refused(
        &app,
        Some(&format!("Bearer {}", sign(&wrong_iss, TEST_SECRET))),
        "wrong issuer",
    )
    .await;

    // alg: none, unsigned.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&app).to_string());
    assert_refused(
        &app,
        Some(&format!("Bearer {header}.{payload}.")),
        "alg none",
    )
    .await;

    // HS512 with the right key: only the pinned algorithm is accepted.
    let hs512 = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS512),
        &claims(&app),
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap();
    assert_refused(&app, Some(&format!("Bearer {hs512}")), "other algorithm").await;
}

#[tokio::test]
async fn a_token_naming_an_unknown_or_inactive_agent_gets_401() {
    let app = TestApp::spawn().await;
    let mut unknown = claims(&app);
    unknown["sub"] = json!(uuid::Uuid::new_v4());
    assert_refused(
        &app,
        Some(&format!("Bearer {}", sign(&unknown, TEST_SECRET))),
        "unknown agent",
    )
    .await;

    // The agent exists, but in another site than the token claims.
    let (other, _) = app.other_site().await;
    let mut crossed = claims(&app);
    crossed["sub"] = json!(other.admin.id);
    assert_refused(
        &app,
        Some(&format!("Bearer {}", sign(&crossed, TEST_SECRET))),
        "agent of another site",
    )
    .await;

    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let mut agent = app.site.admin.clone().into_active_model();
    agent.is_active = Set(false);
    agent.update(&app.db).await.unwrap();
    assert_refused(
        &app,
        Some(&format!("Bearer {}", app.token)),
        "inactive agent",
    )
    .await;
}

/// Every kind of bad `Authorization` value, with why it is bad.
fn bad_authorizations(app: &TestApp) -> Vec<(Option<String>, &'static str)> {
    let signed = |c: &Value| format!("Bearer {}", sign(c, TEST_SECRET));
    let with = |key: &str, value: Value| {
        let mut c = claims(app);
        c[key] = value;
        c
    };
    let without = |key: &str| {
        let mut c = claims(app);
        c.as_object_mut().unwrap().remove(key);
        c
    };
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(app).to_string());
    let hs512 = jsonwebtoken::encode(
        &Header::new(jsonwebtoken::Algorithm::HS512),
        &claims(app),
        &EncodingKey::from_secret(TEST_SECRET.as_bytes()),
    )
    .unwrap();
    vec![
        (None, "no header"),
        (Some(app.token.clone()), "no Bearer scheme"),
        (Some("Bearer ".into()), "empty token"),
        (Some("Bearer not.a.jwt".into()), "malformed"),
        (
            Some(format!(
                "Bearer {}",
                sign(&claims(app), "another-secret-that-is-long-enough-too")
            )),
            "wrong signature",
        ),
        (
            Some(signed(&with(
                "exp",
                json!(chrono::Utc::now().timestamp() - 3600),
            ))),
            "expired",
        ),
        (Some(signed(&without("exp"))), "no exp"),
        (Some(signed(&without("site"))), "no site"),
        (
            Some(signed(&with("aud", json!("someone-else")))),
            "wrong audience",
        ),
        (
            Some(signed(&with("iss", json!("someone-else")))),
            "wrong issuer",
        ),
        (Some(format!("Bearer {header}.{payload}.")), "alg none"),
        (Some(format!("Bearer {hs512}")), "other algorithm"),
        (
            Some(signed(&with("sub", json!(uuid::Uuid::new_v4())))),
            "unknown agent",
        ),
    ]
}

/// A REST call with this `Authorization` (or none).
async fn rest_with(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    authorization: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .request(method, format!("{}/v4/ticketing/{path}", app.base));
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let www = res.headers().get("www-authenticate").cloned();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(www.as_ref().map(|v| v.to_str().unwrap()), Some("Bearer"));
    }
    (status, body)
}

async fn ticket_subjects(app: &TestApp) -> Vec<String> {
    use deskgraph::entity::tickets;
    use sea_orm::EntityTrait;
    tickets::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.subject)
        .collect()
}

#[tokio::test]
async fn every_bad_token_gets_401_on_graphql_and_rest_and_no_write_runs() {
    let app = TestApp::spawn().await;
    let contact = crate::harness::fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let id = app
        .graphql(
            "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }",
            json!({ "in": { "subject": "kept", "channelId": "email", "contactOrVisitorId": contact } }),
        )
        .await["createTicket"]["id"]
        .as_i64()
        .unwrap();
    let new_ticket = json!({ "subject": "intruder", "channelId": "email", "contactOrVisitorId": contact, "contactOrVisitorType": "contact" });

    for (authorization, why) in bad_authorizations(&app) {
        let authorization = authorization.as_deref();
        // GraphQL: a read and a write.
        assert_refused(&app, authorization, why).await;
        let mut req = app
            .client
            .post(format!("{}/graphql", app.base))
            .json(&json!({
                "query": "mutation($id: Int!, $in: CreateTicketInput!) {
                    createTicket(input: $in) { id }
                    updateTicket(id: $id, input: { subject: \"intruder\" }) { id } }",
                "variables": { "id": id, "in": { "subject": "intruder", "channelId": "email", "contactOrVisitorId": contact } },
            }));
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{why}");

        // REST: a read and every kind of write.
        use reqwest::Method;
        let calls = [
            (Method::GET, "tickets".to_string(), None),
            (Method::GET, format!("tickets/{id}"), None),
            (
                Method::POST,
                "tickets".to_string(),
                Some(new_ticket.clone()),
            ),
            (
                Method::PUT,
                format!("tickets/{id}"),
                Some(json!({ "subject": "intruder" })),
            ),
            (Method::POST, format!("tickets/{id}:recycle"), None),
            (Method::DELETE, format!("tickets/{id}"), None),
        ];
        for (method, path, body) in calls {
            let (status, error) = rest_with(&app, method.clone(), &path, body, authorization).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{why}: {method} {path}: {error}"
            );
            assert_eq!(error["code"], "UNAUTHENTICATED", "{why}: {method} {path}");
        }
    }
    assert_eq!(ticket_subjects(&app).await, vec!["kept".to_string()]);
    let ticket = app
        .graphql(
            "query($id: Int!) { ticket(id: $id) { isInRecycleBin } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(ticket["ticket"]["isInRecycleBin"], false);
}

#[tokio::test]
async fn a_deactivated_or_deleted_agents_token_gets_401_on_graphql_and_rest() {
    let app = TestApp::spawn().await;
    let make_agent = |email: &'static str| {
        let app = &app;
        async move {
            let id: uuid::Uuid = app
                .graphql(
                    "mutation($e: String!) { createAgent(input: { name: \"X\", email: $e }) { id } }",
                    json!({ "e": email }),
                )
                .await["createAgent"]["id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let principal = deskgraph::domain::Principal {
                site_id: app.site.site.id,
                agent_id: id,
            };
            let token = app
                .auth
                .issue(&principal, std::time::Duration::from_secs(600))
                .unwrap();
            (id, format!("Bearer {token}"))
        }
    };
    let (off, off_token) = make_agent("off@example.com").await;
    let (gone, gone_token) = make_agent("gone@example.com").await;
    // Both work before.
    for token in [&off_token, &gone_token] {
        assert_eq!(status_with(&app, Some(token)).await.0, StatusCode::OK);
        let (status, _) = rest_with(&app, reqwest::Method::GET, "tickets", None, Some(token)).await;
        assert_eq!(status, StatusCode::OK);
    }
    app.graphql(
        "mutation($a: UUID!, $b: UUID!) { updateAgent(id: $a, input: { isActive: false }) { id } deleteAgent(id: $b) { id } }",
        json!({ "a": off, "b": gone }),
    )
    .await;
    for (token, why) in [(&off_token, "deactivated"), (&gone_token, "deleted")] {
        assert_refused(&app, Some(token), why).await;
        let (status, error) =
            rest_with(&app, reqwest::Method::GET, "tickets", None, Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {error}");
        assert_eq!(error["code"], "UNAUTHENTICATED");
    }
}
