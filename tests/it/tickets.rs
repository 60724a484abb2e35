//! The walking skeleton: createTicket and ticket(id), end to end through the real database.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{TestApp, fixtures, vocabulary};
use crate::ticket_list::create;

const TICKET_FIELDS: &str =
    "id subject originalConversationId assigneeId assigneeType departmentAssigneeId
    channelId channelAccountId lastMessageId lastMessageChannelId lastMessageChannelAccountId
    contactOrVisitorId contactOrVisitorType createdById createdByType lastRepliedById
    lastRepliedByType resolvedById resolvedByType status priority isReadByAgent isReadByContact
    ifHasDraft mergedToTargetId totalReplies createdTime lastUpdatedTime lastRepliedTime
    lastStatusChangedTime resolvedTime isInRecycleBin reopenedTime contactLanguage agentLanguage
    autoTranslationStatus responseTimeSpan replyingAgent responseCount resolvedTimeSpan
    firstResponseTimeSpan";

fn create_mutation() -> String {
    format!(
        "mutation($input: CreateTicketInput!) {{ createTicket(input: $input) {{ {TICKET_FIELDS} }} }}"
    )
}

fn get_query() -> String {
    format!("query($id: Int!) {{ ticket(id: $id) {{ {TICKET_FIELDS} }} }}")
}

#[tokio::test]
async fn a_created_ticket_reads_back_with_every_field() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let contact = fixtures::contact(&app.db, site, "Michael Chen").await;
    let department = fixtures::department(&app.db, site, "Support").await;
    let agent = app.site.admin.id;

    let created = app
        .graphql(
            &create_mutation(),
            json!({ "input": {
                "subject": "Chat Transcript with Michael",
                "originalConversationId": "110778970771178_202317311617343",
                "channelId": "F9B07E54-0D35-4F53-BA63-1194E4297291",
                "channelAccountId": "1487fc9d-92e6-4487-a2e8-92e68d6892e6",
                "contactOrVisitorId": contact,
                "contactOrVisitorType": "CONTACT",
                "assigneeId": agent,
                "assigneeType": "AGENT",
                "departmentAssigneeId": department,
                "createdById": contact,
                "createdByType": "CONTACT",
                "status": "PENDING_INTERNAL",
                "priority": "HIGH",
                "contactLanguage": "en",
                "agentLanguage": "fr",
                "autoTranslationStatus": true,
            }}),
        )
        .await["createTicket"]
        .clone();

    let id = created["id"].as_i64().expect("integer id");
    assert!(id > 0);
    assert_eq!(created["subject"], "Chat Transcript with Michael");
    assert_eq!(
        created["originalConversationId"],
        "110778970771178_202317311617343"
    );
    assert_eq!(created["channelId"], "F9B07E54-0D35-4F53-BA63-1194E4297291");
    assert_eq!(
        created["channelAccountId"],
        "1487fc9d-92e6-4487-a2e8-92e68d6892e6"
    );
    assert_eq!(created["contactOrVisitorId"], contact.to_string());
    assert_eq!(created["contactOrVisitorType"], "CONTACT");
    assert_eq!(created["assigneeId"], agent.to_string());
    assert_eq!(created["assigneeType"], "AGENT");
    assert_eq!(created["departmentAssigneeId"], department.to_string());
    assert_eq!(created["createdById"], contact.to_string());
    assert_eq!(created["createdByType"], "CONTACT");
    assert_eq!(created["status"], "PENDING_INTERNAL");
    assert_eq!(created["priority"], "HIGH");
    assert_eq!(created["contactLanguage"], "en");
    assert_eq!(created["agentLanguage"], "fr");
    assert_eq!(created["autoTranslationStatus"], true);
    // What the service keeps for itself starts out empty.
    assert_eq!(created["isReadByAgent"], false);
    assert_eq!(created["isInRecycleBin"], false);
    assert_eq!(created["ifHasDraft"], false);
    assert_eq!(created["totalReplies"], 0);
    assert_eq!(created["responseCount"], 0);
    assert_eq!(created["responseTimeSpan"], 0);
    assert_eq!(created["replyingAgent"], "NO_REPLY");
    for unset in [
        "lastMessageId",
        "lastRepliedTime",
        "resolvedTime",
        "reopenedTime",
        "mergedToTargetId",
        "resolvedById",
        "firstResponseTimeSpan",
        "resolvedTimeSpan",
    ] {
        assert!(
            created[unset].is_null(),
            "{unset} should be null: {created}"
        );
    }
    // Times are RFC 3339 UTC with milliseconds, as the spec writes them.
    let created_time = created["createdTime"].as_str().unwrap();
    assert_eq!(
        created_time.len(),
        "2021-05-12T08:10:53.480Z".len(),
        "{created_time}"
    );
    assert!(created_time.ends_with('Z'));
    assert_eq!(created["lastUpdatedTime"], created["createdTime"]);
    assert_eq!(created["lastStatusChangedTime"], created["createdTime"]);

    let read = app.graphql(&get_query(), json!({ "id": id })).await["ticket"].clone();
    assert_eq!(
        read, created,
        "a ticket reads back exactly as it was created"
    );
}

#[tokio::test]
async fn defaults_fill_what_the_caller_leaves_out() {
    let app = TestApp::spawn().await;
    let visitor = fixtures::visitor(&app.db, app.site.site.id, "Guest").await;
    let created = app
        .graphql(
            &create_mutation(),
            json!({ "input": { "subject": "Help", "channelId": "chat", "contactOrVisitorId": visitor, "contactOrVisitorType": "VISITOR" } }),
        )
        .await["createTicket"]
        .clone();
    assert_eq!(created["status"], "NEW");
    assert_eq!(created["priority"], "NORMAL");
    assert_eq!(
        created["createdById"],
        app.site.admin.id.to_string(),
        "the calling agent created it"
    );
    assert_eq!(created["createdByType"], "AGENT");
    assert!(created["assigneeId"].is_null());
    assert!(created["assigneeType"].is_null());
    assert_eq!(created["contactLanguage"], "");
    assert_eq!(created["autoTranslationStatus"], false);
}

#[tokio::test]
async fn ticket_ids_increase_with_each_ticket() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let data = app
            .graphql(
                "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }",
                json!({ "input": { "subject": format!("t{n}"), "channelId": "email", "contactOrVisitorId": contact } }),
            )
            .await;
        ids.push(data["createTicket"]["id"].as_i64().unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

#[tokio::test]
async fn an_unknown_ticket_id_is_not_found() {
    let app = TestApp::spawn().await;
    let (status, error) = app
        .graphql_error("{ ticket(id: 424242) { id } }", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
    assert_eq!(error["message"], "ticket 424242 not found");
}

#[tokio::test]
async fn another_sites_ticket_answers_as_if_it_did_not_exist() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let id = app
        .graphql(
            "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }",
            json!({ "input": { "subject": "private", "channelId": "email", "contactOrVisitorId": contact } }),
        )
        .await["createTicket"]["id"]
        .as_i64()
        .unwrap();

    let (_, other_token) = app.other_site().await;
    let (status, body) = app
        .graphql_with(
            Some(&other_token),
            "query($id: Int!) { ticket(id: $id) { id subject } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(
        body["errors"][0]["message"],
        format!("ticket {id} not found")
    );
    assert!(!body.to_string().contains("private"));
}

#[tokio::test]
async fn an_empty_subject_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let (status, error) = app
        .graphql_error(
            "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }",
            json!({ "input": { "subject": "   ", "channelId": "email", "contactOrVisitorId": contact } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "subject");
    assert_tickets_count(&app, 0).await;
}

#[tokio::test]
async fn an_oversized_subject_is_refused() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let (_, error) = app
        .graphql_error(
            "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }",
            json!({ "input": { "subject": "x".repeat(1001), "channelId": "email", "contactOrVisitorId": contact } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "subject");
}

#[tokio::test]
async fn a_missing_required_field_is_a_clear_validation_error() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .graphql_with(
            Some(&app.token),
            "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }",
            json!({ "input": { "channelId": "email", "contactOrVisitorId": uuid::Uuid::new_v4() } }),
        )
        .await;
    assert!(!status.is_server_error(), "{status}");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("subject"),
        "the error names the missing field: {message}"
    );
    assert!(body["data"].is_null());
}

#[tokio::test]
async fn a_reference_to_a_record_of_another_site_is_refused() {
    let app = TestApp::spawn().await;
    let (other, _) = app.other_site().await;
    let foreign_contact = fixtures::contact(&app.db, other.site.id, "Not yours").await;
    let foreign_department = fixtures::department(&app.db, other.site.id, "Theirs").await;
    let own_contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let create = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }";

    let (_, error) = app
        .graphql_error(create, json!({ "input": { "subject": "s", "channelId": "c", "contactOrVisitorId": foreign_contact } }))
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "contactOrVisitorId");

    let (_, error) = app
        .graphql_error(
            create,
            json!({ "input": { "subject": "s", "channelId": "c", "contactOrVisitorId": own_contact, "departmentAssigneeId": foreign_department } }),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "departmentAssigneeId");

    let (_, error) = app
        .graphql_error(
            create,
            json!({ "input": { "subject": "s", "channelId": "c", "contactOrVisitorId": own_contact, "assigneeId": other.admin.id } }),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "assigneeId");
    assert_tickets_count(&app, 0).await;
}

#[tokio::test]
async fn a_ticket_can_be_assigned_to_a_chatbot() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let contact = fixtures::contact(&app.db, site, "Ann").await;
    let bot = fixtures::chatbot(&app.db, site, "Helper").await;
    let create = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { assigneeId assigneeType } }";
    let data = app
        .graphql(create, json!({ "input": { "subject": "s", "channelId": "c", "contactOrVisitorId": contact, "assigneeId": bot, "assigneeType": "CHATBOT" } }))
        .await;
    assert_eq!(data["createTicket"]["assigneeId"], bot.to_string());
    assert_eq!(data["createTicket"]["assigneeType"], "CHATBOT");
    // The same id is not an agent.
    let (_, error) = app
        .graphql_error(create, json!({ "input": { "subject": "s", "channelId": "c", "contactOrVisitorId": contact, "assigneeId": bot, "assigneeType": "AGENT" } }))
        .await;
    assert_eq!(error["extensions"]["field"], "assigneeId");
}

#[tokio::test]
async fn an_invalid_enum_or_uuid_is_a_clear_error_not_a_500() {
    let app = TestApp::spawn().await;
    let create = "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }";
    for input in [
        json!({ "subject": "s", "channelId": "c", "contactOrVisitorId": "not-a-uuid" }),
        json!({ "subject": "s", "channelId": "c", "contactOrVisitorId": uuid::Uuid::new_v4(), "status": "pendingInternal" }),
        json!({ "subject": "s", "channelId": "c", "contactOrVisitorId": uuid::Uuid::new_v4(), "priority": 3 }),
    ] {
        let (status, body) = app
            .graphql_with(Some(&app.token), create, json!({ "input": input }))
            .await;
        assert!(!status.is_server_error(), "{status} for {input}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    assert_tickets_count(&app, 0).await;
}

#[tokio::test]
async fn malformed_json_gets_a_400_not_a_500() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(r#"{"query": "{ ticket(id: 1) { id } "#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("malformed"),
        "{body}"
    );
}

#[tokio::test]
async fn a_syntax_error_in_the_query_is_reported_with_its_location() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .graphql_with(Some(&app.token), "{ ticket(id: 1) { id ", json!({}))
        .await;
    assert!(!status.is_server_error());
    assert!(body["errors"][0]["locations"].is_array(), "{body}");
}

#[tokio::test]
async fn graphiql_is_served_to_a_browser() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.to_lowercase().contains("graphiql"), "{html}");
}

#[tokio::test]
async fn a_query_over_get_runs() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/graphql", app.base))
        .query(&[("query", "{ __typename }")])
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "Query");
}

async fn assert_tickets_count(app: &TestApp, expected: u64) {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let n = deskgraph::entity::tickets::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(n, expected, "no ticket may be written by a refused request");
}

/// The keys of a JSON object, in the order the server wrote them.
fn keys(v: &serde_json::Value) -> Vec<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[tokio::test]
async fn a_ticket_answers_in_the_order_asked_with_fragments_spread_and_repeated_fields_merged() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let contact = fixtures::contact(&app.db, site, "Ana Ruiz").await;
    let bot = fixtures::chatbot(&app.db, site, "Sorter").await;
    // Two tickets, so the listed objects share one shape (graphql::fast::Shapes) and each
    // still gets its own values; their assignees, an agent and a chatbot, are one selection
    // on two types, so two shapes.
    let mut tickets = Vec::new();
    let assignees = [(app.site.admin.id, "AGENT"), (bot, "CHATBOT")];
    for ((subject, tag_name), (assignee, kind)) in
        [("Parcel missing", "refund"), ("Parcel late", "delay")]
            .into_iter()
            .zip(assignees)
    {
        let tag = vocabulary::tag(&app.db, site, tag_name).await;
        let id = create(
            &app,
            json!({
                "subject": subject,
                "channelId": "email",
                "contactOrVisitorId": contact,
                "contactOrVisitorType": "CONTACT",
                "assigneeId": assignee,
                "assigneeType": kind,
                "tagIds": [tag],
                "messages": [{ "body": format!("Where is it? {subject}"), "sentById": contact, "sentByType": "CONTACT" }],
            }),
        )
        .await;
        tickets.push((id, subject, tag_name, tag));
    }
    let (id, ..) = tickets[0];

    // Relations first, leaves after, an alias, a named fragment, an inline one, a field asked
    // twice with different selections, a union with a fragment on the union itself.
    let selection = "lastMessage { body } subject ... on Ticket { status tags { id } } \
        number: id ...More assignee { ... on Agent { name } __typename } tags { name } \
        contactOrVisitor { ... on Participant { __typename } ... on Contact { name } ... on Visitor { id } }";
    let query = format!(
        "query($id: Int!) {{ ticket(id: $id) {{ {selection} }} \
         tickets(first: 2) {{ edges {{ node {{ {selection} }} }} }} \
         brief: tickets(first: 2) {{ edges {{ node {{ subject }} }} }} }} \
         fragment More on Ticket {{ priority }}"
    );
    let data = app.graphql(&query, json!({ "id": id })).await;
    // Another selection on the same type in the same request has a shape of its own.
    for edge in data["brief"]["edges"].as_array().expect("edges") {
        assert_eq!(keys(&edge["node"]), ["subject"]);
    }
    let listed = data["tickets"]["edges"].as_array().expect("edges");
    assert_eq!(listed.len(), 2);
    let answers = std::iter::once(&data["ticket"]).chain(listed.iter().map(|e| &e["node"]));
    for ticket in answers {
        assert_eq!(
            keys(ticket),
            [
                "lastMessage",
                "subject",
                "status",
                "tags",
                "number",
                "priority",
                "assignee",
                "contactOrVisitor"
            ]
        );
        let (id, subject, tag_name, tag) = *tickets
            .iter()
            .find(|(id, ..)| ticket["number"] == *id)
            .unwrap_or_else(|| panic!("unknown ticket {ticket}"));
        assert_eq!(ticket["number"], id);
        assert_eq!(ticket["subject"], subject);
        assert_eq!(
            ticket["lastMessage"]["body"],
            format!("Where is it? {subject}")
        );
        assert_eq!(ticket["tags"], json!([{ "id": tag, "name": tag_name }]));
        if subject == "Parcel missing" {
            assert_eq!(keys(&ticket["assignee"]), ["name", "__typename"]);
            assert_eq!(ticket["assignee"]["__typename"], "Agent");
        } else {
            assert_eq!(ticket["assignee"], json!({ "__typename": "Chatbot" }));
        }
        assert_eq!(
            ticket["contactOrVisitor"],
            json!({ "__typename": "Contact", "name": "Ana Ruiz" })
        );
    }
}

/// Relations load in batches written two ways on PostgreSQL (an `IN` list for a few keys, one
/// array for ten or more): a page of 3 and a page of 12 must each give every ticket its own
/// contact, assignee, tags and last message.
#[tokio::test]
async fn every_ticket_of_a_small_and_a_large_page_gets_its_own_relations() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let mut expected = Vec::new();
    for i in 0..12 {
        let contact = fixtures::contact(&app.db, site, &format!("Contact {i}")).await;
        let agent = fixtures::agent(&app.db, site, &format!("Agent {i}")).await;
        let tag = vocabulary::tag(&app.db, site, &format!("tag {i}")).await;
        let id = create(
            &app,
            json!({
                "subject": format!("Ticket {i}"),
                "channelId": "email",
                "contactOrVisitorId": contact,
                "contactOrVisitorType": "CONTACT",
                "assigneeId": agent,
                "assigneeType": "AGENT",
                "tagIds": [tag],
                "messages": [{ "body": format!("Body {i}"), "sentById": contact, "sentByType": "CONTACT" }],
            }),
        )
        .await;
        expected.push((id, i));
    }
    let query = "query($n: Int!) { tickets(first: $n) { edges { node { id
        contactOrVisitor { ... on Contact { name } } assignee { ... on Agent { name } }
        tags { name } lastMessage { body } } } } }";
    for n in [3, 12] {
        let data = app.graphql(query, json!({ "n": n })).await;
        let edges = data["tickets"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), n);
        for edge in edges {
            let node = &edge["node"];
            let (_, i) = expected
                .iter()
                .find(|(id, _)| node["id"] == *id)
                .unwrap_or_else(|| panic!("unknown ticket {node}"));
            assert_eq!(
                node["contactOrVisitor"]["name"],
                format!("Contact {i}"),
                "{node}"
            );
            assert_eq!(node["assignee"]["name"], format!("Agent {i}"), "{node}");
            assert_eq!(
                node["tags"],
                json!([{ "name": format!("tag {i}") }]),
                "{node}"
            );
            assert_eq!(node["lastMessage"]["body"], format!("Body {i}"), "{node}");
        }
    }
}
