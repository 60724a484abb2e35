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
