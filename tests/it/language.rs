//! Language detection (offline) and translation previews through a LibreTranslate-compatible
//! service, which these tests stand up locally.

use std::sync::{Arc, Mutex};

use axum::{Json, Router, routing::post};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, fixtures};
use crate::ticket_list::create;
use deskgraph::domain::now;
use deskgraph::entity::{ParticipantType, drafts, messages};

/// A translation service on a free port that answers `[source->target] text` and remembers
/// what it was asked; `fail` makes it answer 500.
async fn translation_service(fail: bool) -> (String, Arc<Mutex<Vec<Value>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let app = Router::new().route(
        "/translate",
        post(move |Json(body): Json<Value>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(body.clone());
                if fail {
                    return Err(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
                }
                let text = format!(
                    "[{}->{}] {}",
                    body["source"].as_str().unwrap(),
                    body["target"].as_str().unwrap(),
                    body["q"].as_str().unwrap()
                );
                Ok(Json(json!({ "translatedText": text })))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

async fn message(app: &TestApp, ticket: i64, body: &str, by: ParticipantType) {
    messages::ActiveModel {
        id: Set(Uuid::now_v7()),
        site_id: Set(app.site.site.id),
        ticket_id: Set(ticket),
        parent_id: Set(None),
        original_id: Set(None),
        sent_by_id: Set(None),
        sent_by_type: Set(Some(by)),
        time: Set(now()),
        r#type: Set("text".into()),
        metadata: Set(None),
        channel_id: Set(None),
        channel_account_id: Set(None),
        body: Set(body.into()),
        translated_body: Set(String::new()),
        if_display_in_ticket_correspondences: Set(true),
        is_original_sent_to_contact: Set(false),
        show_inline_image: Set(false),
        is_read: Set(false),
        is_internal: Set(false),
        delivery_status: Set(None),
        delivery_fail_reason: Set(None),
        delivery_time: Set(None),
        delivery_group_id: Set(None),
        delivery_order_num: Set(None),
        created_time: Set(now()),
    }
    .insert(&app.db)
    .await
    .unwrap();
}

async fn ticket_with_languages(app: &TestApp, agent: &str, contact: &str) -> i64 {
    let visitor = fixtures::visitor(&app.db, app.site.site.id, "Guest").await;
    create(
        app,
        json!({ "subject": "s", "channelId": "chat", "contactOrVisitorId": visitor, "contactOrVisitorType": "VISITOR", "agentLanguage": agent, "contactLanguage": contact }),
    )
    .await
}

const DETECT: &str = "mutation($id: Int!) { detectVisitorLanguage(id: $id) { visitorLanguage ticket { id contactLanguage } } }";
const PREVIEW: &str = "mutation($id: Int!, $text: String) { previewMessageTranslation(id: $id, text: $text) { translatedText ticket { id } } }";

#[tokio::test]
async fn the_visitors_language_is_detected_from_their_own_messages_and_stored() {
    let app = TestApp::spawn().await;
    let id = ticket_with_languages(&app, "en", "").await;
    let french = "Bonjour, je n'arrive plus à me connecter à mon compte depuis hier soir, pouvez-vous m'aider ?";
    let encoded = format!(
        "data:text/plain;base64,{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, french)
    );
    message(&app, id, &encoded, ParticipantType::Visitor).await;
    // The agent's English reply does not count.
    message(
        &app,
        id,
        "Hello, thank you for reaching out, we are looking into your account right now.",
        ParticipantType::Agent,
    )
    .await;

    let data = app.graphql(DETECT, json!({ "id": id })).await["detectVisitorLanguage"].clone();
    assert_eq!(data["visitorLanguage"], "fr");
    assert_eq!(data["ticket"]["contactLanguage"], "fr");
    let stored = app
        .graphql(
            "query($id: Int!) { ticket(id: $id) { contactLanguage } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(stored["ticket"]["contactLanguage"], "fr");
}

#[tokio::test]
async fn detection_without_a_customer_message_is_a_clear_error() {
    let app = TestApp::spawn().await;
    let id = ticket_with_languages(&app, "en", "").await;
    message(
        &app,
        id,
        "Agents only here, writing in plain English for a while.",
        ParticipantType::Agent,
    )
    .await;
    let (_, error) = app.graphql_error(DETECT, json!({ "id": id })).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let (_, error) = app.graphql_error(DETECT, json!({ "id": 99_999 })).await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_preview_translates_from_the_agents_language_into_the_customers() {
    let (url, calls) = translation_service(false).await;
    let app = TestApp::spawn_with_translator(Some(&url)).await;
    let id = ticket_with_languages(&app, "en", "fr").await;
    let data = app
        .graphql(PREVIEW, json!({ "id": id, "text": "Hello" }))
        .await["previewMessageTranslation"]
        .clone();
    assert_eq!(data["translatedText"], "[en->fr] Hello");
    assert_eq!(data["ticket"]["id"], id);
    assert_eq!(
        calls.lock().unwrap()[0],
        json!({ "q": "Hello", "source": "en", "target": "fr", "format": "text" })
    );

    // Without text, the draft is what gets translated, decoded from its data URI.
    drafts::ActiveModel {
        ticket_id: Set(id),
        site_id: Set(app.site.site.id),
        body: Set("data:text/plain;base64,PHA+MTExPC9wPg==".into()),
        r#type: Set("html".into()),
        metadata: Set(None),
        last_updated_by_id: Set(Some(app.site.admin.id)),
        last_updated_time: Set(now()),
    }
    .insert(&app.db)
    .await
    .unwrap();
    let data = app.graphql(PREVIEW, json!({ "id": id })).await["previewMessageTranslation"].clone();
    assert_eq!(data["translatedText"], "[en->fr] 111");
}

#[tokio::test]
async fn the_same_language_on_both_sides_returns_the_text_unchanged_without_a_call() {
    let (url, calls) = translation_service(false).await;
    let app = TestApp::spawn_with_translator(Some(&url)).await;
    let id = ticket_with_languages(&app, "fr", "fr").await;
    let data = app
        .graphql(PREVIEW, json!({ "id": id, "text": "Salut" }))
        .await;
    assert_eq!(data["previewMessageTranslation"]["translatedText"], "Salut");
    assert!(calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn without_a_translation_service_a_preview_says_so() {
    let app = TestApp::spawn().await;
    let id = ticket_with_languages(&app, "en", "fr").await;
    let (status, error) = app
        .graphql_error(PREVIEW, json!({ "id": id, "text": "Hello" }))
        .await;
    assert_eq!(error["extensions"]["code"], "SERVICE_UNAVAILABLE");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("DESKGRAPH_TRANSLATE_URL"),
        "{error}"
    );
    assert_eq!(status, 503);
}

#[tokio::test]
async fn a_failing_translation_service_is_reported_without_its_details() {
    let (url, _) = translation_service(true).await;
    let app = TestApp::spawn_with_translator(Some(&url)).await;
    let id = ticket_with_languages(&app, "en", "fr").await;
    let (_, error) = app
        .graphql_error(PREVIEW, json!({ "id": id, "text": "Hello" }))
        .await;
    assert_eq!(error["extensions"]["code"], "SERVICE_UNAVAILABLE");
    assert!(
        !error["message"].as_str().unwrap().contains("500"),
        "{error}"
    );
}

#[tokio::test]
async fn a_preview_for_a_new_ticket_detects_the_source_language_when_not_given() {
    let (url, calls) = translation_service(false).await;
    let app = TestApp::spawn_with_translator(Some(&url)).await;
    let data = app
        .graphql(
            "mutation($t: String!) { previewMessageTranslationForNewTickets(text: $t, targetLanguage: \"de\") { translatedText ticket { id } } }",
            json!({ "t": "Hello, I would like to change the delivery address of my last order please." }),
        )
        .await["previewMessageTranslationForNewTickets"]
        .clone();
    assert!(
        data["translatedText"]
            .as_str()
            .unwrap()
            .starts_with("[en->de] Hello"),
        "{data}"
    );
    assert!(data["ticket"].is_null());
    assert_eq!(calls.lock().unwrap().len(), 1);
    let (_, error) = app
        .graphql_error("mutation { previewMessageTranslationForNewTickets(text: \"Hello there\") { translatedText } }", json!({}))
        .await;
    assert_eq!(error["extensions"]["field"], "targetLanguage");
}
