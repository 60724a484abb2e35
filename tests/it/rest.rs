//! The REST shim: every sample request of the spec replayed and its answer compared in shape
//! with the spec's sample; every route; includes; paging links; errors.

use axum::{Json, Router, routing::post};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, fixtures};
use deskgraph::domain::now;
use deskgraph::entity::{AgentRole, agents, contacts, departments, tags, views, visitors};

const ALL_INCLUDES: &str = "ticketingTag,ticketingEventLog,ticketingDraft,ticketingMessage,lastMessage,assignee,departmentAssignee,createdBy,lastRepliedBy,contactOrVisitor";

fn sample(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/spec/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Same keys at every level, same JSON types; null in `expected` matches anything, and a null
/// in `actual` is a value absent in this ticket; arrays compare their first elements (an empty
/// actual array matches).
fn same_shape(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Null, _) | (_, Value::Null) => Ok(()),
        (Value::Object(e), Value::Object(a)) => {
            let mut ek: Vec<_> = e.keys().collect();
            let mut ak: Vec<_> = a.keys().collect();
            ek.sort();
            ak.sort();
            if ek != ak {
                return Err(format!("{path}: keys differ: expected {ek:?}, got {ak:?}"));
            }
            e.iter()
                .try_for_each(|(k, v)| same_shape(v, &a[k], &format!("{path}.{k}")))
        }
        (Value::Array(e), Value::Array(a)) => match (e.first(), a.first()) {
            (Some(e), Some(a)) => same_shape(e, a, &format!("{path}[0]")),
            _ => Ok(()),
        },
        (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Number(_), Value::Number(_)) => Ok(()),
        (e, a) => Err(format!("{path}: expected {e}, got {a}")),
    }
}

fn assert_shape(expected: &Value, actual: &Value) {
    if let Err(e) = same_shape(expected, actual, "$") {
        panic!("{e}\nactual: {actual:#}");
    }
}

async fn call_with(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .request(method, format!("{}/v4/ticketing/{path}", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call_with(app, method, path, body, Some(&app.token)).await
}

fn id(s: &str) -> Uuid {
    Uuid::parse_str(s).unwrap()
}

/// The records the spec's sample ids name, created in the test's site with those ids.
async fn sample_records(app: &TestApp) {
    let (db, site) = (&app.db, app.site.site.id);
    agents::ActiveModel {
        id: Set(id("1487fc9d-92e6-4487-a2e8-92e68d6892e6")),
        site_id: Set(site),
        name: Set("Michael".into()),
        email: Set("michael@example.com".into()),
        role: Set(AgentRole::Agent),
        is_active: Set(true),
        language: Set("en".into()),
        created_time: Set(now()),
    }
    .insert(db)
    .await
    .unwrap();
    departments::ActiveModel {
        id: Set(id("91B032D9-0D07-4798-95F7-7EA482BC592C")),
        site_id: Set(site),
        name: Set("Support".into()),
        description: Set(String::new()),
        created_time: Set(now()),
    }
    .insert(db)
    .await
    .unwrap();
    for (contact, name) in [
        ("E23B5D3C-4E7E-4131-9B3A-52B061BA7DE4", "Ann"),
        ("1487fc9d-92e6-4487-a2e8-92e68d6892e6", "Bob"),
    ] {
        contacts::ActiveModel {
            id: Set(id(contact)),
            site_id: Set(site),
            name: Set(name.into()),
            email: Set(None),
            phone: Set(None),
            language: Set("fr".into()),
            created_time: Set(now()),
        }
        .insert(db)
        .await
        .unwrap();
    }
    visitors::ActiveModel {
        id: Set(id("31cb8d70-b5a6-4faa-b021-62335d6dcf6c")),
        site_id: Set(site),
        name: Set("Visitor".into()),
        email: Set(None),
        language: Set(String::new()),
        created_time: Set(now()),
    }
    .insert(db)
    .await
    .unwrap();
    tags::ActiveModel {
        id: Set(id("bdf96bad-890f-4af5-8f4e-42d2cc29e61b")),
        site_id: Set(site),
        name: Set("my tag".into()),
        created_time: Set(now()),
    }
    .insert(db)
    .await
    .unwrap();
    views::ActiveModel {
        id: Set(id("f1ab6333-4260-eb11-aacf-06c7a219a2ac")),
        site_id: Set(site),
        name: Set("all".into()),
        is_private: Set(false),
        created_by_id: Set(None),
        condition_met_type: Set(deskgraph::entity::ConditionMetType::All),
        created_time: Set(now()),
        last_updated_time: Set(now()),
    }
    .insert(db)
    .await
    .unwrap();
}

/// A translation service that answers `[source->target] text`.
async fn translation_service() -> String {
    let app = Router::new().route(
        "/translate",
        post(|Json(body): Json<Value>| async move {
            let text = format!(
                "[{}->{}] {}",
                body["source"].as_str().unwrap_or("auto"),
                body["target"].as_str().unwrap_or("?"),
                body["q"].as_str().unwrap_or_default()
            );
            Json(json!({ "translatedText": text }))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Gives a ticket what the samples show: a tag, a draft with a file, languages, a customer
/// message in French.
async fn dress(app: &TestApp, ticket: i64) {
    let draft = sample("get_tickets_id.response")["draft"].clone();
    app.graphql(
        "mutation($t: Int!, $d: DraftInput!, $tags: [UUID!]!, $m: MessageInput!) {
           saveDraft(ticketId: $t, input: $d) { ticketId }
           addTicketTags(id: $t, tagIds: $tags) { id }
           addMessage(ticketId: $t, input: $m) { id }
           updateTicket(id: $t, input: { agentLanguage: \"en\", contactLanguage: \"fr\" }) { id }
         }",
        json!({
            "t": ticket,
            "d": { "body": draft["body"], "type": "html", "metadata": draft["metadata"],
                   "attachments": [{ "fileKey": "k", "name": "my file", "size": 10, "type": "file", "url": "http://myfile/url" }] },
            "tags": ["bdf96bad-890f-4af5-8f4e-42d2cc29e61b"],
            "m": { "body": "Bonjour, je n'arrive pas à me connecter à mon compte depuis hier soir.",
                   "sentById": "E23B5D3C-4E7E-4131-9B3A-52B061BA7DE4", "sentByType": "CONTACT" },
        }),
    )
    .await;
}

async fn create_sample(app: &TestApp) -> i64 {
    let (status, body) = call(
        app,
        Method::POST,
        "tickets",
        Some(sample("post_tickets.request")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn every_sample_request_of_the_spec_answers_in_the_samples_shape() {
    let url = translation_service().await;
    let app = TestApp::spawn_with_translator(Some(&url)).await;
    sample_records(&app).await;

    // POST tickets: a new ticket has no draft yet, so the sample's draft is left out.
    let (status, created) = call(
        &app,
        Method::POST,
        "tickets?include=ticketingTag",
        Some(sample("post_tickets.request")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let mut expected = sample("post_tickets.response");
    expected.as_object_mut().unwrap().remove("draft");
    assert_shape(&expected, &created);
    assert_eq!(created["status"], "new");
    assert_eq!(created["contactOrVisitorType"], "contact");
    assert_eq!(created["assigneeType"], "agent");
    let ticket = created["id"].as_i64().unwrap();
    dress(&app, ticket).await;

    let inc = "include=ticketingTag,ticketingDraft";
    let (status, one) = call(&app, Method::GET, &format!("tickets/{ticket}?{inc}"), None).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_shape(&sample("get_tickets_id.response"), &one);
    assert_eq!(one["draft"]["ticketId"], ticket.to_string());
    assert_eq!(one["tags"][0]["name"], "my tag");

    let (status, list) = call(&app, Method::GET, &format!("tickets?{inc}"), None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_shape(&sample("get_tickets.response"), &list);
    assert_eq!(list["total"], 1);

    let put = format!("tickets/{ticket}?{inc}");
    let (status, updated) = call(
        &app,
        Method::PUT,
        &put,
        Some(sample("put_tickets_id.request")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_shape(&sample("put_tickets_id.response"), &updated);
    dress(&app, ticket).await;

    for (verb, name) in [
        ("read", "post_tickets_id-read"),
        ("unread", "post_tickets_id-unread"),
        (
            "detectVisitorLanguage",
            "post_tickets_id-detectVisitorLanguage",
        ),
        (
            "previewMessageTranslation",
            "post_tickets_id-previewMessageTranslation",
        ),
        (
            "previewMessageTranslationForNewTickets",
            "post_tickets_id-previewMessageTranslationForNewTickets",
        ),
    ] {
        let path = format!("tickets/{ticket}:{verb}?{inc}");
        let (status, body) = call(&app, Method::POST, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{verb}: {body}");
        assert_shape(&sample(&format!("{name}.response")), &body);
    }
    let (_, read) = call(&app, Method::POST, &format!("tickets/{ticket}:read"), None).await;
    assert_eq!(read["isReadByAgent"], true);
    let (_, unread) = call(
        &app,
        Method::POST,
        &format!("tickets/{ticket}:unread"),
        None,
    )
    .await;
    assert_eq!(unread["isReadByAgent"], false);

    let (status, counts) = call(
        &app,
        Method::POST,
        "tickets:unreadCount",
        Some(sample("post_tickets-unreadCount.request")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{counts}");
    assert_shape(&sample("post_tickets-unreadCount.response"), &counts);

    let (status, lang) = call(
        &app,
        Method::POST,
        &format!("tickets/{ticket}:detectvisitorlanguage"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{lang}");
    assert_eq!(lang, json!({ "vistorLanguage": "fr" }));
    let (status, preview) = call(
        &app,
        Method::POST,
        &format!("tickets/{ticket}:previewmessagetranslation"),
        Some(json!({ "text": "Hello" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview, json!({ "translatedText": "[en->fr] Hello" }));
    let (status, preview) = call(
        &app,
        Method::POST,
        "tickets:previewmessagetranslationfornewtickets",
        Some(json!({ "text": "Hello", "sourceLanguage": "en", "targetLanguage": "de" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview, json!({ "translatedText": "[en->de] Hello" }));

    // Merge with the sample's body: sourceId as a numeric string, naming a ticket of ours.
    let source = create_sample(&app).await;
    let mut merge = sample("post_tickets_id-merge.request");
    assert!(merge["sourceId"].is_string());
    merge["sourceId"] = json!(source.to_string());
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("tickets/{ticket}:merge"),
        Some(merge),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
    let (_, merged) = call(&app, Method::GET, &format!("tickets/{source}"), None).await;
    assert_eq!(merged["mergedToTargetId"], ticket);

    let (status, body) = call(
        &app,
        Method::POST,
        &format!("tickets/{ticket}:recycle"),
        None,
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, Value::Null));
    let (_, recycled) = call(&app, Method::GET, &format!("tickets/{ticket}"), None).await;
    assert_eq!(recycled["isInRecycleBin"], true);

    let (status, body) = call(&app, Method::DELETE, &format!("tickets/{ticket}"), None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, _) = call(&app, Method::GET, &format!("tickets/{ticket}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_include_adds_its_object_and_nothing_else_is_fetched() {
    let app = TestApp::spawn().await;
    sample_records(&app).await;
    let ticket = create_sample(&app).await;
    dress(&app, ticket).await;
    let (_, plain) = call(&app, Method::GET, &format!("tickets/{ticket}"), None).await;
    let mut keys: Vec<&String> = plain.as_object().unwrap().keys().collect();
    keys.sort();
    let mut expected: Vec<String> = sample("get_tickets_id.response")
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "tags" && *k != "draft")
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(keys, expected.iter().collect::<Vec<_>>());
    assert_eq!(plain["replyingAgent"], "noReply");

    let (status, all) = call(
        &app,
        Method::GET,
        &format!("tickets/{ticket}?include={ALL_INCLUDES}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    for key in [
        "tags",
        "eventLogs",
        "draft",
        "messages",
        "lastMessage",
        "assignee",
        "departmentAssignee",
        "createdBy",
        "lastRepliedBy",
        "contactOrVisitor",
    ] {
        assert!(all.get(key).is_some(), "{key} missing: {all}");
    }
    assert!(all["messages"].as_array().unwrap().len() >= 2, "{all}");
    assert_eq!(all["messages"][0]["sentByType"], "visitor");
    assert_eq!(all["assignee"]["name"], "Michael");
    assert_eq!(all["departmentAssignee"]["name"], "Support");
    assert_eq!(all["contactOrVisitor"]["name"], "Ann");
    assert!(all["eventLogs"].as_array().is_some_and(|l| !l.is_empty()));
    let (_, list) = call(
        &app,
        Method::GET,
        &format!("tickets?include={ALL_INCLUDES}"),
        None,
    )
    .await;
    assert_eq!(list["tickets"][0]["assignee"]["name"], "Michael");
}

#[tokio::test]
async fn the_list_pages_by_index_with_links_that_keep_the_other_parameters() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    for i in 0..5 {
        let body = json!({ "subject": format!("t{i}"), "channelId": "email", "contactOrVisitorId": contact });
        let (status, _) = call(&app, Method::POST, "tickets", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let q = format!("contactOrVisitor={contact}&contactOrVisitorType=contact&pageSize=2");
    let (status, first) = call(&app, Method::GET, &format!("tickets?{q}"), None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["total"], 5);
    assert_eq!(first["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(first["previousPage"], Value::Null);
    let next = first["nextPage"].as_str().unwrap().to_string();
    assert!(
        next.starts_with(&format!("{}/v4/ticketing/tickets?", app.base)),
        "a whole URL: {next}"
    );
    assert!(
        next.contains(&format!("contactOrVisitor={contact}"))
            && next.contains("pageIndex=2")
            && next.contains("pageSize=2"),
        "{next}"
    );
    let (_, second) = call(
        &app,
        Method::GET,
        next.trim_start_matches(&format!("{}/v4/ticketing/", app.base)),
        None,
    )
    .await;
    assert_eq!(second["tickets"].as_array().unwrap().len(), 2);
    assert!(
        second["previousPage"]
            .as_str()
            .unwrap()
            .contains("pageIndex=1")
    );
    let (_, third) = call(&app, Method::GET, &format!("tickets?{q}&pageIndex=3"), None).await;
    assert_eq!(third["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(third["nextPage"], Value::Null);
    let mut seen: Vec<i64> = [&first, &second, &third]
        .iter()
        .flat_map(|p| {
            p["tickets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap())
        })
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);
    let (_, none) = call(
        &app,
        Method::GET,
        "tickets?contactOrVisitorType=visitor",
        None,
    )
    .await;
    assert_eq!(none["total"], 0);
    let (_, by_words) = call(&app, Method::GET, "tickets?keywords=t3", None).await;
    assert_eq!(by_words["total"], 1);
    let (_, default) = call(&app, Method::GET, "tickets", None).await;
    assert_eq!(default["tickets"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn bad_requests_get_the_one_error_body_with_the_right_status() {
    let app = TestApp::spawn().await;
    sample_records(&app).await;
    let ticket = create_sample(&app).await;

    let (status, body) = call_with(&app, Method::GET, "tickets", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "UNAUTHENTICATED");
    let (status, _) = call_with(&app, Method::GET, "tickets", None, Some("nope")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = call(&app, Method::GET, "tickets/999999", None).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::NOT_FOUND, json!("NOT_FOUND"))
    );
    let (_, other_token) = app.other_site().await;
    let (status, _) = call_with(
        &app,
        Method::GET,
        &format!("tickets/{ticket}"),
        None,
        Some(&other_token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call_with(
        &app,
        Method::POST,
        &format!("tickets/{ticket}:read"),
        None,
        Some(&other_token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let put = Some(sample("put_tickets_id.request"));
    let path = format!("tickets/{ticket}");
    let (status, _) = call_with(&app, Method::PUT, &path, put, Some(&other_token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call_with(&app, Method::DELETE, &path, None, Some(&other_token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, Method::GET, &path, None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another site's DELETE left the ticket alone"
    );
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("tickets/{ticket}:merge"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = call(&app, Method::POST, "tickets:bogus", None).await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::NOT_FOUND, json!("NOT_FOUND"))
    );
    let (status, body) = call(&app, Method::GET, "tickets/abc", None).await;
    assert_eq!(
        (status, body["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("id"))
    );
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("tickets/{ticket}:explode"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, Method::POST, &format!("tickets/{ticket}:READ"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = call(
        &app,
        Method::GET,
        "tickets?include=ticketingTag,bogus",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "include");
    assert!(body["message"].as_str().unwrap().contains("bogus"));
    for q in ["pageSize=101", "pageSize=0", "pageSize=x", "pageIndex=0"] {
        let (status, body) = call(&app, Method::GET, &format!("tickets?{q}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
        assert!(
            body["field"].as_str().unwrap().starts_with("page"),
            "{body}"
        );
    }
    let (status, body) = call(
        &app,
        Method::GET,
        "tickets?contactOrVisitorType=CONTACT",
        None,
    )
    .await;
    assert_eq!(
        (status, body["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("contactOrVisitorType"))
    );
    let (status, body) = call(&app, Method::GET, "tickets?time=yesterday", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let mut bad = sample("post_tickets.request");
    bad["status"] = json!("PENDING_INTERNAL");
    let (status, body) = call(&app, Method::POST, "tickets", Some(bad)).await;
    assert_eq!(
        (status, body["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("status"))
    );
    let mut bad = sample("put_tickets_id.request");
    bad["assigneeId"] = json!("not-a-guid");
    let (status, body) = call(&app, Method::PUT, &format!("tickets/{ticket}"), Some(bad)).await;
    assert_eq!(
        (status, body["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("assigneeId"))
    );
    let mut bad = sample("post_tickets.request");
    bad["messages"][0]["sentByType"] = json!("robot");
    let (status, body) = call(&app, Method::POST, "tickets", Some(bad)).await;
    assert_eq!(
        (status, body["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("messages[0].sentByType"))
    );
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("tickets/{ticket}:merge"),
        Some(json!({ "sourceId": "x" })),
    )
    .await;
    assert_eq!(
        (status, body["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("sourceId"))
    );

    let url = format!("{}/v4/ticketing/tickets", app.base);
    let send = |body: &'static str, ct: &'static str| {
        app.client
            .post(&url)
            .bearer_auth(&app.token)
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let response = send("{\"subject\": ", "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("malformed JSON"),
        "{body}"
    );
    let response = send("[1]", "application/json").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = send("subject=x", "application/x-www-form-urlencoded")
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "UNSUPPORTED_MEDIA_TYPE");
    let (status, body) = call(
        &app,
        Method::POST,
        "tickets",
        Some(json!({ "subject": "no channel" })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let huge = format!("{{\"subject\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let response = app
        .client
        .post(&url)
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");
}
