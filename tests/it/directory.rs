//! The site directory: agents, departments, chatbots, contacts, visitors, tags and views, and
//! the ticket relations that point at them.

use std::time::Duration;

use deskgraph::domain::Principal;
use deskgraph::entity::*;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, fixtures};

/// The fields each kind of record is read back with.
fn fields(kind: &str) -> &'static str {
    match kind {
        "Agent" => "id name email role isActive language createdTime",
        "Department" => "id name description createdTime",
        "Chatbot" => "id name isActive createdTime",
        "Contact" => "id name email phone language createdTime",
        "Visitor" => "id name email language createdTime",
        "Tag" => "id name createdTime",
        "View" => {
            "id name isPrivate createdById conditionMetType
             conditions { fieldName operator value } createdTime lastUpdatedTime"
        }
        other => panic!("no such kind {other}"),
    }
}

fn lower_first(kind: &str) -> String {
    let mut chars = kind.chars();
    let first = chars.next().unwrap().to_ascii_lowercase();
    format!("{first}{}", chars.as_str())
}

fn create_doc(kind: &str) -> String {
    format!(
        "mutation($input: Create{kind}Input!) {{ create{kind}(input: $input) {{ {} }} }}",
        fields(kind)
    )
}

fn update_doc(kind: &str) -> String {
    format!(
        "mutation($id: UUID!, $input: Update{kind}Input!) {{ update{kind}(id: $id, input: $input) {{ {} }} }}",
        fields(kind)
    )
}

fn delete_doc(kind: &str) -> String {
    format!(
        "mutation($id: UUID!) {{ delete{kind}(id: $id) {{ {} }} }}",
        fields(kind)
    )
}

fn get_doc(kind: &str) -> String {
    format!(
        "query($id: UUID!) {{ {}(id: $id) {{ {} }} }}",
        lower_first(kind),
        fields(kind)
    )
}

async fn create(app: &TestApp, kind: &str, input: Value) -> Value {
    app.graphql(&create_doc(kind), json!({ "input": input }))
        .await[format!("create{kind}")]
    .clone()
}

async fn update(app: &TestApp, kind: &str, id: &Value, input: Value) -> Value {
    app.graphql(&update_doc(kind), json!({ "id": id, "input": input }))
        .await[format!("update{kind}")]
    .clone()
}

async fn delete(app: &TestApp, kind: &str, id: &Value) -> Value {
    app.graphql(&delete_doc(kind), json!({ "id": id })).await[format!("delete{kind}")].clone()
}

async fn get(app: &TestApp, kind: &str, id: &Value) -> Value {
    app.graphql(&get_doc(kind), json!({ "id": id })).await[lower_first(kind)].clone()
}

/// Asserts the error's code and, when given, the input field it names.
fn assert_error(error: &Value, code: &str, field: Option<&str>) {
    assert_eq!(error["extensions"]["code"], code, "{error}");
    match field {
        Some(f) => assert_eq!(error["extensions"]["field"], f, "{error}"),
        None => assert!(error["extensions"]["field"].is_null(), "{error}"),
    }
}

async fn count<E: EntityTrait>(app: &TestApp) -> u64
where
    E::Model: Sync,
{
    E::find().count(&app.db).await.unwrap()
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect()
}

async fn create_ticket(app: &TestApp, input: Value) -> i64 {
    let mut input = input;
    input["subject"] = json!("Help");
    input["channelId"] = json!("email");
    app.graphql(
        "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }",
        json!({ "input": input }),
    )
    .await["createTicket"]["id"]
        .as_i64()
        .unwrap()
}

async fn ticket(app: &TestApp, id: i64, selection: &str) -> Value {
    app.graphql(
        &format!("query($id: Int!) {{ ticket(id: $id) {{ {selection} }} }}"),
        json!({ "id": id }),
    )
    .await["ticket"]
        .clone()
}

/// A token for another agent of the test site.
fn token_for(app: &TestApp, agent: &Value) -> String {
    let principal = Principal {
        site_id: app.site.site.id,
        agent_id: agent["id"].as_str().unwrap().parse().unwrap(),
    };
    app.auth
        .issue(&principal, Duration::from_secs(3600))
        .unwrap()
}

// ---- agents ----

#[tokio::test]
async fn agents_can_be_created_read_listed_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let created = create(
        &app,
        "Agent",
        json!({ "name": "  Zoe Park ", "email": "zoe@example.com", "role": "ADMIN", "isActive": true, "language": "ko" }),
    )
    .await;
    assert_eq!(created["name"], "Zoe Park", "names are kept trimmed");
    assert_eq!(created["email"], "zoe@example.com");
    assert_eq!(created["role"], "ADMIN");
    assert_eq!(created["language"], "ko");
    assert!(created["id"].as_str().unwrap().parse::<Uuid>().is_ok());
    assert_eq!(get(&app, "Agent", &created["id"]).await, created);

    create(
        &app,
        "Agent",
        json!({ "name": "Bob", "email": "bob@example.com" }),
    )
    .await;
    let list = app.graphql("{ agents { name } }", json!({})).await["agents"].clone();
    assert_eq!(names(&list), ["Administrator", "Bob", "Zoe Park"]);

    let updated = update(
        &app,
        "Agent",
        &created["id"],
        json!({ "name": "Zoe Kim", "role": "AGENT" }),
    )
    .await;
    assert_eq!(updated["name"], "Zoe Kim");
    assert_eq!(updated["role"], "AGENT");
    assert_eq!(updated["email"], "zoe@example.com", "untouched fields stay");
    assert_eq!(updated["language"], "ko");
    assert_eq!(updated["createdTime"], created["createdTime"]);

    let deleted = delete(&app, "Agent", &created["id"]).await;
    assert_eq!(deleted, updated, "delete answers with the record as it was");
    let (_, error) = app
        .graphql_error(&get_doc("Agent"), json!({ "id": created["id"] }))
        .await;
    assert_error(&error, "NOT_FOUND", None);
    assert_eq!(count::<agents::Entity>(&app).await, 2);
}

#[tokio::test]
async fn a_new_agent_gets_defaults_for_what_is_left_out() {
    let app = TestApp::spawn().await;
    let created = create(
        &app,
        "Agent",
        json!({ "name": "Ann", "email": "ann@example.com" }),
    )
    .await;
    assert_eq!(created["role"], "AGENT");
    assert_eq!(created["isActive"], true);
    assert_eq!(created["language"], "");
}

#[tokio::test]
async fn agent_input_is_validated_naming_the_field() {
    let app = TestApp::spawn().await;
    let doc = create_doc("Agent");
    let cases = [
        (json!({ "name": "   ", "email": "a@example.com" }), "name"),
        (
            json!({ "name": "x".repeat(201), "email": "a@example.com" }),
            "name",
        ),
        (json!({ "name": "Ann", "email": "ann" }), "email"),
        (json!({ "name": "Ann", "email": "@example.com" }), "email"),
        (json!({ "name": "Ann", "email": "ann@" }), "email"),
        (json!({ "name": "Ann", "email": "a@b@c" }), "email"),
        (json!({ "name": "Ann", "email": "" }), "email"),
        (
            json!({ "name": "Ann", "email": format!("{}@example.com", "a".repeat(310)) }),
            "email",
        ),
        (
            json!({ "name": "Ann", "email": "a@example.com", "language": "x".repeat(36) }),
            "language",
        ),
    ];
    for (input, field) in cases {
        let (status, error) = app.graphql_error(&doc, json!({ "input": input })).await;
        assert_eq!(status, StatusCode::OK);
        assert_error(&error, "BAD_USER_INPUT", Some(field));
    }
    // A 200-character name is still fine.
    create(
        &app,
        "Agent",
        json!({ "name": "x".repeat(200), "email": "long@example.com" }),
    )
    .await;
    assert_eq!(count::<agents::Entity>(&app).await, 2);

    let admin = app.site.admin.id;
    let (_, error) = app
        .graphql_error(
            &update_doc("Agent"),
            json!({ "id": admin, "input": { "name": "" } }),
        )
        .await;
    assert_error(&error, "BAD_USER_INPUT", Some("name"));
    let (_, error) = app
        .graphql_error(
            &update_doc("Agent"),
            json!({ "id": admin, "input": { "email": "nope" } }),
        )
        .await;
    assert_error(&error, "BAD_USER_INPUT", Some("email"));
    assert_eq!(
        get(&app, "Agent", &json!(admin)).await["name"],
        "Administrator"
    );
}

#[tokio::test]
async fn an_agent_email_already_used_in_the_site_is_a_conflict() {
    let app = TestApp::spawn().await;
    let ann = create(
        &app,
        "Agent",
        json!({ "name": "Ann", "email": "ann@example.com" }),
    )
    .await;
    let (_, error) = app
        .graphql_error(
            &create_doc("Agent"),
            json!({ "input": { "name": "Other Ann", "email": "ANN@example.com" } }),
        )
        .await;
    assert_error(&error, "CONFLICT", Some("email"));
    assert!(
        error["message"].as_str().unwrap().contains("email"),
        "{error}"
    );
    assert_eq!(count::<agents::Entity>(&app).await, 2);

    let bob = create(
        &app,
        "Agent",
        json!({ "name": "Bob", "email": "bob@example.com" }),
    )
    .await;
    let (_, error) = app
        .graphql_error(
            &update_doc("Agent"),
            json!({ "id": bob["id"], "input": { "email": "ann@example.com", "name": "Bobby" } }),
        )
        .await;
    assert_error(&error, "CONFLICT", Some("email"));
    assert!(error["message"].as_str().unwrap().contains("email"));
    assert_eq!(
        get(&app, "Agent", &bob["id"]).await,
        bob,
        "a refused update changes nothing"
    );
    // Keeping one's own address is no clash.
    update(
        &app,
        "Agent",
        &ann["id"],
        json!({ "email": "ann@example.com" }),
    )
    .await;
}

#[tokio::test]
async fn agents_of_different_sites_may_share_an_email() {
    let app = TestApp::spawn().await;
    let (_, other_token) = app.other_site().await;
    create(
        &app,
        "Agent",
        json!({ "name": "Ann", "email": "ann@example.com" }),
    )
    .await;
    let (_, body) = app
        .graphql_with(
            Some(&other_token),
            &create_doc("Agent"),
            json!({ "input": { "name": "Ann", "email": "ann@example.com" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn deleting_an_agent_unassigns_their_tickets() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let leaving = create(
        &app,
        "Agent",
        json!({ "name": "Leaving", "email": "leaving@example.com" }),
    )
    .await;
    let staying = app.site.admin.id;
    let theirs = create_ticket(
        &app,
        json!({ "contactOrVisitorId": contact, "assigneeId": leaving["id"] }),
    )
    .await;
    let other = create_ticket(
        &app,
        json!({ "contactOrVisitorId": contact, "assigneeId": staying }),
    )
    .await;

    delete(&app, "Agent", &leaving["id"]).await;

    let t = ticket(
        &app,
        theirs,
        "assigneeId assigneeType assignee { __typename }",
    )
    .await;
    assert!(t["assigneeId"].is_null(), "{t}");
    assert!(t["assigneeType"].is_null(), "{t}");
    assert!(t["assignee"].is_null(), "{t}");
    let t = ticket(&app, other, "assigneeId assigneeType").await;
    assert_eq!(t["assigneeId"], staying.to_string());
    assert_eq!(t["assigneeType"], "AGENT");
}

#[tokio::test]
async fn agents_cannot_delete_or_deactivate_themselves() {
    let app = TestApp::spawn().await;
    let me = json!(app.site.admin.id);
    let (_, error) = app
        .graphql_error(&delete_doc("Agent"), json!({ "id": me }))
        .await;
    assert_error(&error, "CONFLICT", None);
    let (_, error) = app
        .graphql_error(
            &update_doc("Agent"),
            json!({ "id": me, "input": { "isActive": false, "name": "Gone" } }),
        )
        .await;
    assert_error(&error, "CONFLICT", None);
    let admin = get(&app, "Agent", &me).await;
    assert_eq!(admin["isActive"], true);
    assert_eq!(admin["name"], "Administrator");
    assert_eq!(count::<agents::Entity>(&app).await, 1);
}

#[tokio::test]
async fn a_deactivated_agent_can_no_longer_call_the_api() {
    let app = TestApp::spawn().await;
    let bob = create(
        &app,
        "Agent",
        json!({ "name": "Bob", "email": "bob@example.com" }),
    )
    .await;
    let token = token_for(&app, &bob);
    let (status, _) = app
        .graphql_with(Some(&token), "{ agents { id } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let updated = update(&app, "Agent", &bob["id"], json!({ "isActive": false })).await;
    assert_eq!(updated["isActive"], false);
    assert_eq!(updated["name"], "Bob");
    let (status, _) = app
        .graphql_with(Some(&token), "{ agents { id } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    update(&app, "Agent", &bob["id"], json!({ "isActive": true })).await;
    let (status, _) = app
        .graphql_with(Some(&token), "{ agents { id } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

// ---- departments and chatbots ----

#[tokio::test]
async fn departments_can_be_created_read_listed_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let sales = create(
        &app,
        "Department",
        json!({ "name": "Sales", "description": "Quotes and orders" }),
    )
    .await;
    assert_eq!(sales["description"], "Quotes and orders");
    let billing = create(&app, "Department", json!({ "name": "Billing" })).await;
    assert_eq!(billing["description"], "");
    assert_eq!(get(&app, "Department", &sales["id"]).await, sales);
    let list = app.graphql("{ departments { name } }", json!({})).await["departments"].clone();
    assert_eq!(names(&list), ["Billing", "Sales"]);

    let updated = update(
        &app,
        "Department",
        &sales["id"],
        json!({ "description": "Quotes" }),
    )
    .await;
    assert_eq!(updated["name"], "Sales");
    assert_eq!(updated["description"], "Quotes");

    let (_, error) = app
        .graphql_error(
            &create_doc("Department"),
            json!({ "input": { "name": "" } }),
        )
        .await;
    assert_error(&error, "BAD_USER_INPUT", Some("name"));
    let (_, error) = app
        .graphql_error(
            &update_doc("Department"),
            json!({ "id": sales["id"], "input": { "description": "x".repeat(1001) } }),
        )
        .await;
    assert_error(&error, "BAD_USER_INPUT", Some("description"));

    assert_eq!(delete(&app, "Department", &sales["id"]).await, updated);
    assert_eq!(count::<departments::Entity>(&app).await, 1);
}

#[tokio::test]
async fn deleting_a_department_clears_it_from_its_tickets() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let department = create(&app, "Department", json!({ "name": "Support" })).await;
    let id = create_ticket(
        &app,
        json!({ "contactOrVisitorId": contact, "departmentAssigneeId": department["id"] }),
    )
    .await;
    assert_eq!(
        ticket(&app, id, "departmentAssignee { name }").await["departmentAssignee"]["name"],
        "Support"
    );
    delete(&app, "Department", &department["id"]).await;
    let t = ticket(&app, id, "departmentAssigneeId departmentAssignee { name }").await;
    assert!(t["departmentAssigneeId"].is_null(), "{t}");
    assert!(t["departmentAssignee"].is_null(), "{t}");
}

#[tokio::test]
async fn chatbots_can_be_created_read_listed_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let bot = create(&app, "Chatbot", json!({ "name": "Helper" })).await;
    assert_eq!(bot["isActive"], true);
    create(
        &app,
        "Chatbot",
        json!({ "name": "Answerer", "isActive": false }),
    )
    .await;
    assert_eq!(get(&app, "Chatbot", &bot["id"]).await, bot);
    let list = app
        .graphql("{ chatbots { name isActive } }", json!({}))
        .await["chatbots"]
        .clone();
    assert_eq!(names(&list), ["Answerer", "Helper"]);
    assert_eq!(list[0]["isActive"], false);

    let updated = update(&app, "Chatbot", &bot["id"], json!({ "isActive": false })).await;
    assert_eq!(updated["isActive"], false);
    assert_eq!(updated["name"], "Helper");
    let (_, error) = app
        .graphql_error(
            &update_doc("Chatbot"),
            json!({ "id": bot["id"], "input": { "name": " " } }),
        )
        .await;
    assert_error(&error, "BAD_USER_INPUT", Some("name"));

    assert_eq!(delete(&app, "Chatbot", &bot["id"]).await, updated);
    assert_eq!(count::<chatbots::Entity>(&app).await, 1);
}

#[tokio::test]
async fn deleting_a_chatbot_unassigns_its_tickets() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let bot = create(&app, "Chatbot", json!({ "name": "Helper" })).await;
    let id = create_ticket(
        &app,
        json!({ "contactOrVisitorId": contact, "assigneeId": bot["id"], "assigneeType": "CHATBOT" }),
    )
    .await;
    delete(&app, "Chatbot", &bot["id"]).await;
    let t = ticket(&app, id, "assigneeId assigneeType assignee { __typename }").await;
    assert!(t["assigneeId"].is_null(), "{t}");
    assert!(t["assigneeType"].is_null(), "{t}");
    assert!(t["assignee"].is_null(), "{t}");
}

// ---- contacts and visitors ----

#[tokio::test]
async fn contacts_can_be_created_read_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let created = create(
        &app,
        "Contact",
        json!({ "name": "Michael Chen", "email": "michael@example.com", "phone": "+1 555 0100", "language": "en" }),
    )
    .await;
    assert_eq!(created["email"], "michael@example.com");
    assert_eq!(created["phone"], "+1 555 0100");
    assert_eq!(get(&app, "Contact", &created["id"]).await, created);

    let bare = create(
        &app,
        "Contact",
        json!({ "name": "No Details", "email": "" }),
    )
    .await;
    assert!(bare["email"].is_null(), "a blank email is no email");
    assert!(bare["phone"].is_null());
    assert_eq!(bare["language"], "");

    for (input, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "A", "email": "not-an-address" }), "email"),
        (json!({ "name": "A", "phone": "1".repeat(51) }), "phone"),
    ] {
        let (_, error) = app
            .graphql_error(&create_doc("Contact"), json!({ "input": input }))
            .await;
        assert_error(&error, "BAD_USER_INPUT", Some(field));
    }
    assert_eq!(count::<contacts::Entity>(&app).await, 2);

    assert_eq!(delete(&app, "Contact", &created["id"]).await, created);
    assert_eq!(count::<contacts::Entity>(&app).await, 1);
}

#[tokio::test]
async fn an_update_changes_only_the_fields_it_names_and_null_clears_an_optional_one() {
    let app = TestApp::spawn().await;
    let contact = create(
        &app,
        "Contact",
        json!({ "name": "Ann", "email": "ann@example.com", "phone": "123", "language": "en" }),
    )
    .await;
    let updated = update(&app, "Contact", &contact["id"], json!({ "phone": null })).await;
    assert!(updated["phone"].is_null(), "{updated}");
    assert_eq!(updated["email"], "ann@example.com");
    assert_eq!(updated["name"], "Ann");
    assert_eq!(updated["language"], "en");

    let updated = update(
        &app,
        "Contact",
        &contact["id"],
        json!({ "email": "ann.lee@example.com", "name": "Ann Lee" }),
    )
    .await;
    assert_eq!(updated["email"], "ann.lee@example.com");
    assert_eq!(updated["name"], "Ann Lee");

    let unchanged = update(&app, "Contact", &contact["id"], json!({})).await;
    assert_eq!(unchanged, updated, "an empty update changes nothing");

    let visitor = create(
        &app,
        "Visitor",
        json!({ "name": "Guest", "email": "guest@example.com", "language": "fr" }),
    )
    .await;
    let updated = update(&app, "Visitor", &visitor["id"], json!({ "email": null })).await;
    assert!(updated["email"].is_null());
    assert_eq!(updated["language"], "fr");
}

#[tokio::test]
async fn a_contact_referenced_by_tickets_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let contact = create(&app, "Contact", json!({ "name": "Ann" })).await;
    for _ in 0..2 {
        create_ticket(&app, json!({ "contactOrVisitorId": contact["id"] })).await;
    }
    let (status, error) = app
        .graphql_error(&delete_doc("Contact"), json!({ "id": contact["id"] }))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_error(&error, "CONFLICT", None);
    assert!(
        error["message"].as_str().unwrap().contains("2 tickets"),
        "{error}"
    );
    assert_eq!(count::<contacts::Entity>(&app).await, 1);
    assert_eq!(get(&app, "Contact", &contact["id"]).await, contact);
}

#[tokio::test]
async fn visitors_can_be_created_read_updated_and_deleted_unless_a_ticket_refers_to_them() {
    let app = TestApp::spawn().await;
    let visitor = create(
        &app,
        "Visitor",
        json!({ "name": "Visitor 1042", "language": "fr" }),
    )
    .await;
    assert!(visitor["email"].is_null());
    assert_eq!(get(&app, "Visitor", &visitor["id"]).await, visitor);
    let renamed = update(
        &app,
        "Visitor",
        &visitor["id"],
        json!({ "name": "Marie", "email": "marie@example.fr" }),
    )
    .await;
    assert_eq!(renamed["name"], "Marie");
    assert_eq!(renamed["email"], "marie@example.fr");
    let (_, error) = app
        .graphql_error(
            &update_doc("Visitor"),
            json!({ "id": visitor["id"], "input": { "email": "marie" } }),
        )
        .await;
    assert_error(&error, "BAD_USER_INPUT", Some("email"));

    let id = create_ticket(
        &app,
        json!({ "contactOrVisitorId": visitor["id"], "contactOrVisitorType": "VISITOR" }),
    )
    .await;
    let (_, error) = app
        .graphql_error(&delete_doc("Visitor"), json!({ "id": visitor["id"] }))
        .await;
    assert_error(&error, "CONFLICT", None);
    assert!(
        error["message"].as_str().unwrap().contains("1 ticket"),
        "{error}"
    );
    assert_eq!(count::<visitors::Entity>(&app).await, 1);
    assert_eq!(
        ticket(&app, id, "contactOrVisitor { ... on Visitor { name } }").await["contactOrVisitor"]
            ["name"],
        "Marie"
    );
}

#[tokio::test]
async fn a_visitor_no_ticket_refers_to_can_be_deleted() {
    let app = TestApp::spawn().await;
    let visitor = create(&app, "Visitor", json!({ "name": "Passer-by" })).await;
    assert_eq!(delete(&app, "Visitor", &visitor["id"]).await, visitor);
    assert_eq!(count::<visitors::Entity>(&app).await, 0);
}

const CONTACTS_PAGE: &str = "query($first: Int, $after: String, $search: String) {
    contacts(first: $first, after: $after, search: $search) {
        totalCount
        pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { id name } }
    }
}";

#[tokio::test]
async fn contacts_are_paged_by_name_with_a_total_count() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    // Two contacts share a name: the id breaks the tie, so neither is skipped or repeated.
    let mut expected = Vec::new();
    for name in ["Gus", "Ann", "Eve", "Cid", "Bea", "Dan", "Fay", "Ann"] {
        fixtures::contact(&app.db, site, name).await;
        expected.push(name);
    }
    expected.sort();
    let (other, _) = app.other_site().await;
    fixtures::contact(&app.db, other.site.id, "Abe").await;

    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let page = app
            .graphql(CONTACTS_PAGE, json!({ "first": 3, "after": after }))
            .await["contacts"]
            .clone();
        pages += 1;
        assert_eq!(page["totalCount"], 8, "{page}");
        let edges = page["edges"].as_array().unwrap();
        assert!(edges.len() <= 3);
        for edge in edges {
            seen.push(edge["node"]["name"].as_str().unwrap().to_owned());
        }
        let has_next = page["pageInfo"]["hasNextPage"].as_bool().unwrap();
        assert_eq!(has_next, pages < 3, "page {pages}: {page}");
        assert_eq!(
            page["pageInfo"]["endCursor"],
            edges.last().unwrap()["cursor"]
        );
        if !has_next {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, expected);

    let default_page = app.graphql(CONTACTS_PAGE, json!({})).await["contacts"].clone();
    assert_eq!(default_page["edges"].as_array().unwrap().len(), 8);
    assert_eq!(default_page["pageInfo"]["hasNextPage"], false);

    let empty = app.graphql(CONTACTS_PAGE, json!({ "first": 0 })).await["contacts"].clone();
    assert_eq!(empty["edges"].as_array().unwrap().len(), 0);
    assert_eq!(empty["pageInfo"]["hasNextPage"], true);
    assert_eq!(empty["totalCount"], 8);
}

#[tokio::test]
async fn a_search_narrows_contacts_and_visitors_and_their_total_count() {
    let app = TestApp::spawn().await;
    create(
        &app,
        "Contact",
        json!({ "name": "Michael Chen", "email": "mc@example.com" }),
    )
    .await;
    create(
        &app,
        "Contact",
        json!({ "name": "Ann", "email": "ann@chen.org" }),
    )
    .await;
    create(
        &app,
        "Contact",
        json!({ "name": "Bob", "phone": "+44 20 7946 0000" }),
    )
    .await;
    create(&app, "Contact", json!({ "name": "100% Sure" })).await;

    let search = |term: &'static str| {
        let app = &app;
        async move { app.graphql(CONTACTS_PAGE, json!({ "search": term })).await["contacts"].clone() }
    };
    let found = search("CHEN").await;
    assert_eq!(found["totalCount"], 2);
    let found_names: Vec<_> = found["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(found_names, ["Ann", "Michael Chen"]);
    assert_eq!(search("7946").await["totalCount"], 1);
    assert_eq!(search("%").await["totalCount"], 1, "% matches itself");
    assert_eq!(search("nobody").await["totalCount"], 0);

    create(
        &app,
        "Visitor",
        json!({ "name": "Visitor 1", "email": "v1@example.com" }),
    )
    .await;
    create(&app, "Visitor", json!({ "name": "Visitor 2" })).await;
    create(&app, "Visitor", json!({ "name": "Marie" })).await;
    let visitors = app
        .graphql(
            "query($search: String) { visitors(first: 1, search: $search) {
                totalCount pageInfo { hasNextPage } nodes { name } } }",
            json!({ "search": "visitor" }),
        )
        .await["visitors"]
        .clone();
    assert_eq!(visitors["totalCount"], 2);
    assert_eq!(visitors["nodes"][0]["name"], "Visitor 1");
    assert_eq!(visitors["pageInfo"]["hasNextPage"], true);
    let all = app
        .graphql("{ visitors { totalCount nodes { name } } }", json!({}))
        .await["visitors"]
        .clone();
    assert_eq!(all["totalCount"], 3);
    assert_eq!(names(&all["nodes"]), ["Marie", "Visitor 1", "Visitor 2"]);
}

#[tokio::test]
async fn page_size_and_cursor_are_validated() {
    let app = TestApp::spawn().await;
    for (variables, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "after": "not a cursor" }), "after"),
        (json!({ "after": "W10" }), "after"),
    ] {
        let (status, error) = app.graphql_error(CONTACTS_PAGE, variables).await;
        assert_eq!(status, StatusCode::OK);
        assert_error(&error, "BAD_USER_INPUT", Some(field));
    }
    let (_, error) = app
        .graphql_error("{ visitors(first: 1000) { totalCount } }", json!({}))
        .await;
    assert_error(&error, "BAD_USER_INPUT", Some("first"));
    app.graphql(CONTACTS_PAGE, json!({ "first": 100 })).await;
}

// ---- tags ----

#[tokio::test]
async fn tags_can_be_created_read_listed_renamed_and_deleted() {
    let app = TestApp::spawn().await;
    let vip = create(&app, "Tag", json!({ "name": "vip" })).await;
    create(&app, "Tag", json!({ "name": "billing" })).await;
    assert_eq!(get(&app, "Tag", &vip["id"]).await, vip);
    let list = app.graphql("{ tags { id name } }", json!({})).await["tags"].clone();
    assert_eq!(names(&list), ["billing", "vip"]);

    let renamed = update(&app, "Tag", &vip["id"], json!({ "name": "VIP" })).await;
    assert_eq!(renamed["name"], "VIP", "a tag may change its own case");
    assert_eq!(renamed["id"], vip["id"]);
    let (_, error) = app
        .graphql_error(
            &update_doc("Tag"),
            json!({ "id": vip["id"], "input": { "name": "" } }),
        )
        .await;
    assert_error(&error, "BAD_USER_INPUT", Some("name"));

    assert_eq!(delete(&app, "Tag", &vip["id"]).await, renamed);
    assert_eq!(count::<tags::Entity>(&app).await, 1);
}

#[tokio::test]
async fn a_tag_name_already_used_in_the_site_is_a_conflict_whatever_its_case() {
    let app = TestApp::spawn().await;
    create(&app, "Tag", json!({ "name": "Billing" })).await;
    let bug = create(&app, "Tag", json!({ "name": "bug" })).await;
    let (_, error) = app
        .graphql_error(
            &create_doc("Tag"),
            json!({ "input": { "name": " billing " } }),
        )
        .await;
    assert_error(&error, "CONFLICT", Some("name"));
    assert!(
        error["message"].as_str().unwrap().contains("name"),
        "{error}"
    );
    let (_, error) = app
        .graphql_error(
            &update_doc("Tag"),
            json!({ "id": bug["id"], "input": { "name": "BILLING" } }),
        )
        .await;
    assert_error(&error, "CONFLICT", Some("name"));
    assert_eq!(count::<tags::Entity>(&app).await, 2);
    assert_eq!(get(&app, "Tag", &bug["id"]).await["name"], "bug");

    // Another site has a vocabulary of its own.
    let (_, other_token) = app.other_site().await;
    let (_, body) = app
        .graphql_with(
            Some(&other_token),
            &create_doc("Tag"),
            json!({ "input": { "name": "Billing" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn deleting_a_tag_takes_it_off_its_tickets() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let id = create_ticket(&app, json!({ "contactOrVisitorId": contact })).await;
    let doomed = create(&app, "Tag", json!({ "name": "doomed" })).await;
    let kept = create(&app, "Tag", json!({ "name": "kept" })).await;
    tag_ticket(&app, id, &doomed).await;
    tag_ticket(&app, id, &kept).await;

    delete(&app, "Tag", &doomed["id"]).await;
    let t = ticket(&app, id, "tagIds tags { name }").await;
    assert_eq!(t["tagIds"], json!([kept["id"]]));
    assert_eq!(names(&t["tags"]), ["kept"]);
    assert_eq!(count::<ticket_tags::Entity>(&app).await, 1);
}

async fn tag_ticket(app: &TestApp, ticket_id: i64, tag: &Value) {
    ticket_tags::Entity::insert(ticket_tags::ActiveModel {
        site_id: Set(app.site.site.id),
        ticket_id: Set(ticket_id),
        tag_id: Set(tag["id"].as_str().unwrap().parse().unwrap()),
    })
    .exec_without_returning(&app.db)
    .await
    .unwrap();
}

// ---- views ----

#[tokio::test]
async fn views_keep_their_conditions_in_order_and_an_update_replaces_them() {
    let app = TestApp::spawn().await;
    let view = create(
        &app,
        "View",
        json!({
            "name": "Urgent and open",
            "conditionMetType": "ALL",
            "conditions": [
                { "fieldName": "priority", "operator": "IS", "value": "urgent" },
                { "fieldName": "status", "operator": "IS_NOT_IN", "value": "resolved,onHold" },
                { "fieldName": "createdTime", "operator": "AFTER", "value": "2021-05-12T08:10:53.480Z" },
            ],
        }),
    )
    .await;
    assert_eq!(view["isPrivate"], false);
    assert_eq!(view["createdById"], app.site.admin.id.to_string());
    assert_eq!(view["conditionMetType"], "ALL");
    assert_eq!(
        view["conditions"],
        json!([
            { "fieldName": "priority", "operator": "IS", "value": "urgent" },
            { "fieldName": "status", "operator": "IS_NOT_IN", "value": "resolved,onHold" },
            { "fieldName": "createdTime", "operator": "AFTER", "value": "2021-05-12T08:10:53.480Z" },
        ])
    );
    assert_eq!(view["createdTime"], view["lastUpdatedTime"]);
    assert_eq!(get(&app, "View", &view["id"]).await, view);
    // Operators are stored with the spec's spellings.
    let stored: Vec<String> = view_conditions::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.operator)
        .collect();
    assert!(stored.contains(&"isNotIn".to_owned()), "{stored:?}");

    tokio::time::sleep(Duration::from_millis(5)).await;
    let renamed = update(&app, "View", &view["id"], json!({ "name": "Hot" })).await;
    assert_eq!(
        renamed["conditions"], view["conditions"],
        "conditions stay when not given"
    );
    assert_ne!(renamed["lastUpdatedTime"], view["lastUpdatedTime"]);

    let replaced = update(
        &app,
        "View",
        &view["id"],
        json!({
            "conditionMetType": "ANY",
            "conditions": [{ "fieldName": "tagIds", "operator": "CONTAINS", "value": Uuid::now_v7() }],
        }),
    )
    .await;
    assert_eq!(replaced["conditionMetType"], "ANY");
    assert_eq!(replaced["conditions"].as_array().unwrap().len(), 1);
    assert_eq!(replaced["conditions"][0]["operator"], "CONTAINS");
    assert_eq!(count::<view_conditions::Entity>(&app).await, 1);

    let cleared = update(&app, "View", &view["id"], json!({ "conditions": [] })).await;
    assert_eq!(cleared["conditions"], json!([]));

    let other = create(&app, "View", json!({ "name": "All tickets" })).await;
    assert_eq!(other["conditions"], json!([]));
    let list = app
        .graphql("{ views { name conditions { fieldName } } }", json!({}))
        .await["views"]
        .clone();
    assert_eq!(names(&list), ["All tickets", "Hot"]);

    assert_eq!(delete(&app, "View", &view["id"]).await, cleared);
    assert_eq!(count::<views::Entity>(&app).await, 1);
}

#[tokio::test]
async fn a_private_view_is_seen_only_by_its_creator() {
    let app = TestApp::spawn().await;
    let mine = create(
        &app,
        "View",
        json!({ "name": "Mine", "isPrivate": true, "conditions": [
            { "fieldName": "assigneeId", "operator": "IS", "value": app.site.admin.id },
        ] }),
    )
    .await;
    let shared = create(&app, "View", json!({ "name": "Shared" })).await;
    let bob = create(
        &app,
        "Agent",
        json!({ "name": "Bob", "email": "bob@example.com" }),
    )
    .await;
    let bob_token = token_for(&app, &bob);

    let (_, body) = app
        .graphql_with(Some(&bob_token), "{ views { name } }", json!({}))
        .await;
    assert_eq!(names(&body["data"]["views"]), ["Shared"]);
    for doc in [get_doc("View"), delete_doc("View")] {
        let (_, body) = app
            .graphql_with(Some(&bob_token), &doc, json!({ "id": mine["id"] }))
            .await;
        assert_error(&body["errors"][0], "NOT_FOUND", None);
    }
    let (_, body) = app
        .graphql_with(
            Some(&bob_token),
            &update_doc("View"),
            json!({ "id": mine["id"], "input": { "name": "Taken" } }),
        )
        .await;
    assert_error(&body["errors"][0], "NOT_FOUND", None);

    // Bob may work on a shared view, but not take it away from everyone else.
    let (_, body) = app
        .graphql_with(
            Some(&bob_token),
            &update_doc("View"),
            json!({ "id": shared["id"], "input": { "isPrivate": true } }),
        )
        .await;
    assert_error(&body["errors"][0], "BAD_USER_INPUT", Some("isPrivate"));

    let list = app.graphql("{ views { name } }", json!({})).await["views"].clone();
    assert_eq!(names(&list), ["Mine", "Shared"]);
    assert_eq!(get(&app, "View", &mine["id"]).await, mine);
}

#[tokio::test]
async fn deleting_an_agent_drops_their_private_views_and_keeps_their_shared_ones() {
    let app = TestApp::spawn().await;
    let bob = create(
        &app,
        "Agent",
        json!({ "name": "Bob", "email": "bob@example.com" }),
    )
    .await;
    let bob_token = token_for(&app, &bob);
    for (name, private) in [("Bob's own", true), ("Bob's shared", false)] {
        let (_, body) = app
            .graphql_with(
                Some(&bob_token),
                &create_doc("View"),
                json!({ "input": { "name": name, "isPrivate": private } }),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    delete(&app, "Agent", &bob["id"]).await;
    let list = app
        .graphql("{ views { name createdById } }", json!({}))
        .await["views"]
        .clone();
    assert_eq!(names(&list), ["Bob's shared"]);
    assert!(list[0]["createdById"].is_null());
    assert_eq!(count::<views::Entity>(&app).await, 1);
}

#[tokio::test]
async fn view_input_is_validated_naming_the_field() {
    let app = TestApp::spawn().await;
    let condition = |field: &str, value: String| json!({ "fieldName": field, "operator": "IS", "value": value });
    let cases = [
        (json!({ "name": " " }), "name"),
        (
            json!({ "name": "v", "conditions": [condition("status", "new".into()), condition("color", "red".into())] }),
            "conditions[1].fieldName",
        ),
        (
            json!({ "name": "v", "conditions": [condition("subject", "x".repeat(1001))] }),
            "conditions[0].value",
        ),
        (
            json!({ "name": "v", "conditions": vec![condition("status", "new".into()); 51] }),
            "conditions",
        ),
    ];
    for (input, field) in cases {
        let (_, error) = app
            .graphql_error(&create_doc("View"), json!({ "input": input }))
            .await;
        assert_error(&error, "BAD_USER_INPUT", Some(field));
    }
    assert_eq!(count::<views::Entity>(&app).await, 0);
    assert_eq!(count::<view_conditions::Entity>(&app).await, 0);

    // An unknown operator is refused by the schema itself.
    let (status, body) = app
        .graphql_with(
            Some(&app.token),
            &create_doc("View"),
            json!({ "input": { "name": "v", "conditions": [{ "fieldName": "status", "operator": "isNot", "value": "new" }] } }),
        )
        .await;
    assert!(!status.is_server_error());
    assert!(body["errors"][0]["message"].is_string(), "{body}");

    let fifty = create(
        &app,
        "View",
        json!({ "name": "v", "conditions": vec![condition("status", "x".repeat(1000)); 50] }),
    )
    .await;
    let (_, error) = app
        .graphql_error(
            &update_doc("View"),
            json!({ "id": fifty["id"], "input": { "name": "w", "conditions": [condition("nope", "".into())] } }),
        )
        .await;
    assert_error(&error, "BAD_USER_INPUT", Some("conditions[0].fieldName"));
    let kept = get(&app, "View", &fifty["id"]).await;
    assert_eq!(kept["name"], "v");
    assert_eq!(kept["conditions"].as_array().unwrap().len(), 50);
}

// ---- isolation ----

#[tokio::test]
async fn another_sites_records_answer_not_found_to_every_lookup_update_and_delete() {
    let app = TestApp::spawn().await;
    let (_, other_token) = app.other_site().await;
    let inputs = [
        (
            "Agent",
            json!({ "name": "Theirs", "email": "theirs@example.com" }),
        ),
        ("Department", json!({ "name": "Theirs" })),
        ("Chatbot", json!({ "name": "Theirs" })),
        ("Contact", json!({ "name": "Theirs" })),
        ("Visitor", json!({ "name": "Theirs" })),
        ("Tag", json!({ "name": "Theirs" })),
        ("View", json!({ "name": "Theirs" })),
    ];
    for (kind, input) in inputs {
        let (_, body) = app
            .graphql_with(
                Some(&other_token),
                &create_doc(kind),
                json!({ "input": input }),
            )
            .await;
        let theirs = body["data"][format!("create{kind}")].clone();
        let id = theirs["id"].clone();
        assert!(id.is_string(), "{body}");

        let unknown = json!(Uuid::now_v7());
        for id in [&id, &unknown] {
            let (status, error) = app.graphql_error(&get_doc(kind), json!({ "id": id })).await;
            assert_eq!(status, StatusCode::OK);
            assert_error(&error, "NOT_FOUND", None);
            assert_eq!(
                error["message"],
                format!("{} {} not found", kind.to_lowercase(), id.as_str().unwrap()),
                "another site's id answers exactly as an unknown one"
            );
            let (_, error) = app
                .graphql_error(
                    &update_doc(kind),
                    json!({ "id": id, "input": { "name": "Hijacked" } }),
                )
                .await;
            assert_error(&error, "NOT_FOUND", None);
            let (_, error) = app
                .graphql_error(&delete_doc(kind), json!({ "id": id }))
                .await;
            assert_error(&error, "NOT_FOUND", None);
        }

        let (_, body) = app
            .graphql_with(Some(&other_token), &get_doc(kind), json!({ "id": id }))
            .await;
        assert_eq!(
            body["data"][lower_first(kind)],
            theirs,
            "{kind} of the other site is untouched"
        );
    }

    // Nor do lists show them.
    let mine = app
        .graphql(
            "{ agents { name } departments { name } chatbots { name } tags { name } views { name }
               contacts { totalCount } visitors { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(names(&mine["agents"]), ["Administrator"]);
    for list in ["departments", "chatbots", "tags", "views"] {
        assert_eq!(mine[list], json!([]), "{list}");
    }
    assert_eq!(mine["contacts"]["totalCount"], 0);
    assert_eq!(mine["visitors"]["totalCount"], 0);
}

// ---- ticket relations ----

const RELATIONS: &str = "
    tagIds
    tags { id name }
    assignee { __typename ... on Agent { id name } ... on Chatbot { id name } }
    departmentAssignee { id name }
    contactOrVisitor { ...party }
    createdBy { ...party }
    lastRepliedBy { ...party }
";

const PARTY: &str = "fragment party on Participant {
    __typename
    ... on Contact { id name }
    ... on Visitor { id name }
    ... on Agent { id name }
    ... on Chatbot { id name }
    ... on ExternalParticipant { id type }
}";

#[tokio::test]
async fn a_ticket_resolves_its_directory_relations() {
    let app = TestApp::spawn().await;
    let contact = create(&app, "Contact", json!({ "name": "Michael Chen" })).await;
    let agent = create(
        &app,
        "Agent",
        json!({ "name": "Ann Agent", "email": "ann@example.com" }),
    )
    .await;
    let department = create(&app, "Department", json!({ "name": "Support" })).await;
    let vip = create(&app, "Tag", json!({ "name": "vip" })).await;
    let billing = create(&app, "Tag", json!({ "name": "billing" })).await;
    create(&app, "Tag", json!({ "name": "unused" })).await;
    let id = create_ticket(
        &app,
        json!({
            "contactOrVisitorId": contact["id"],
            "assigneeId": agent["id"],
            "departmentAssigneeId": department["id"],
        }),
    )
    .await;
    tag_ticket(&app, id, &vip).await;
    tag_ticket(&app, id, &billing).await;

    let data = app
        .graphql(
            &format!("query($id: Int!) {{ ticket(id: $id) {{ {RELATIONS} }} }} {PARTY}"),
            json!({ "id": id }),
        )
        .await;
    let t = &data["ticket"];
    assert_eq!(names(&t["tags"]), ["billing", "vip"], "tags come by name");
    assert_eq!(t["tagIds"], json!([billing["id"], vip["id"]]));
    assert_eq!(
        t["assignee"],
        json!({ "__typename": "Agent", "id": agent["id"], "name": "Ann Agent" })
    );
    assert_eq!(
        t["departmentAssignee"],
        json!({ "id": department["id"], "name": "Support" })
    );
    assert_eq!(
        t["contactOrVisitor"],
        json!({ "__typename": "Contact", "id": contact["id"], "name": "Michael Chen" })
    );
    assert_eq!(
        t["createdBy"],
        json!({ "__typename": "Agent", "id": app.site.admin.id, "name": "Administrator" })
    );
    assert!(t["lastRepliedBy"].is_null(), "no reply yet: {t}");
}

#[tokio::test]
async fn chatbots_visitors_and_parties_without_a_record_resolve_too() {
    let app = TestApp::spawn().await;
    let visitor = create(&app, "Visitor", json!({ "name": "Guest" })).await;
    let bot = create(&app, "Chatbot", json!({ "name": "Helper" })).await;
    let system = Uuid::now_v7();
    let id = create_ticket(
        &app,
        json!({
            "contactOrVisitorId": visitor["id"],
            "contactOrVisitorType": "VISITOR",
            "assigneeId": bot["id"],
            "assigneeType": "CHATBOT",
            "createdById": system,
            "createdByType": "SYSTEM",
        }),
    )
    .await;
    // Replies arrive with the conversation module; set who replied directly.
    let row = tickets::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: tickets::ActiveModel = row.into();
    row.last_replied_by_id = Set(Some(bot["id"].as_str().unwrap().parse().unwrap()));
    row.last_replied_by_type = Set(Some(ParticipantType::Chatbot));
    row.update(&app.db).await.unwrap();

    let data = app
        .graphql(
            &format!("query($id: Int!) {{ ticket(id: $id) {{ {RELATIONS} }} }} {PARTY}"),
            json!({ "id": id }),
        )
        .await;
    let t = &data["ticket"];
    assert_eq!(t["tags"], json!([]));
    assert_eq!(t["tagIds"], json!([]));
    assert_eq!(
        t["assignee"],
        json!({ "__typename": "Chatbot", "id": bot["id"], "name": "Helper" })
    );
    assert!(t["departmentAssignee"].is_null());
    assert_eq!(
        t["contactOrVisitor"],
        json!({ "__typename": "Visitor", "id": visitor["id"], "name": "Guest" })
    );
    assert_eq!(
        t["createdBy"],
        json!({ "__typename": "ExternalParticipant", "id": system, "type": "SYSTEM" })
    );
    assert_eq!(
        t["lastRepliedBy"],
        json!({ "__typename": "Chatbot", "id": bot["id"], "name": "Helper" })
    );
}

#[tokio::test]
async fn a_relation_to_a_record_that_is_gone_is_null() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let bob = create(
        &app,
        "Agent",
        json!({ "name": "Bob", "email": "bob@example.com" }),
    )
    .await;
    let id = create_ticket(
        &app,
        json!({ "contactOrVisitorId": contact, "createdById": bob["id"], "createdByType": "AGENT" }),
    )
    .await;
    delete(&app, "Agent", &bob["id"]).await;
    let t = ticket(&app, id, "createdById createdBy { __typename }").await;
    assert_eq!(t["createdById"], bob["id"], "the id stays as history");
    assert!(t["createdBy"].is_null(), "{t}");
}

#[tokio::test]
async fn relations_of_several_tickets_in_one_request_each_get_their_own() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let a = create(&app, "Tag", json!({ "name": "a" })).await;
    let b = create(&app, "Tag", json!({ "name": "b" })).await;
    let mut ids = Vec::new();
    for name in ["One", "Two", "Three"] {
        let contact = fixtures::contact(&app.db, site, name).await;
        ids.push(create_ticket(&app, json!({ "contactOrVisitorId": contact })).await);
    }
    tag_ticket(&app, ids[0], &a).await;
    tag_ticket(&app, ids[1], &a).await;
    tag_ticket(&app, ids[1], &b).await;

    let doc = "query($x: Int!, $y: Int!, $z: Int!) {
        x: ticket(id: $x) { tags { name } contactOrVisitor { ... on Contact { name } } }
        y: ticket(id: $y) { tags { name } contactOrVisitor { ... on Contact { name } } }
        z: ticket(id: $z) { tags { name } contactOrVisitor { ... on Contact { name } } }
    }";
    let data = app
        .graphql(doc, json!({ "x": ids[0], "y": ids[1], "z": ids[2] }))
        .await;
    assert_eq!(names(&data["x"]["tags"]), ["a"]);
    assert_eq!(names(&data["y"]["tags"]), ["a", "b"]);
    assert_eq!(data["z"]["tags"], json!([]));
    assert_eq!(data["x"]["contactOrVisitor"]["name"], "One");
    assert_eq!(data["y"]["contactOrVisitor"]["name"], "Two");
    assert_eq!(data["z"]["contactOrVisitor"]["name"], "Three");
}
