//! The ticket lists and the ticket's relations read only the columns their selection needs
//! (`read_by` in `graphql/tickets.rs`, `message_read_by` in `graphql/conversation.rs`). A field
//! that read a column left out would answer a blank value (0, "", null, the first enum
//! variant) instead of the row's own: these tests give a ticket, its last message and its
//! related records a value in every column that is not blank, then ask each field alone and
//! compare it with the same field asked with all the others. `ticket(id:)` reads the whole
//! row; a message or a related record read with every field reads the columns of all of them,
//! so every value in that answer, inside objects too, must be one no blank has: a column that
//! no field's entry names shows up as a blank there.

use chrono::{Duration, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel, PrimaryKeyTrait};
use serde_json::{Value, json};

use crate::harness::{TestApp, fixtures, vocabulary};
use crate::ticket_list::create;
use deskgraph::entity::{
    AssigneeType, ParticipantType, Priority, ReplyingAgent, TicketStatus, contacts, departments,
    messages, tickets, visitors,
};

/// A selection of each `Ticket` field; the test below checks that every field has one.
const SELECTIONS: &[(&str, &str)] = &[
    ("tags", "tags { id name }"),
    (
        "assignee",
        "assignee { __typename ... on Agent { id name } ... on Chatbot { id name } }",
    ),
    ("departmentAssignee", "departmentAssignee { id name }"),
    (
        "contactOrVisitor",
        "contactOrVisitor { __typename ... on Contact { id } ... on Visitor { id } }",
    ),
    ("createdBy", PARTICIPANT),
    ("lastRepliedBy", PARTICIPANT),
    ("messages", "messages { edges { node { id body } } }"),
    ("lastMessage", "lastMessage { id body }"),
    ("draft", "draft { body }"),
    ("noteMentions", "noteMentions { id agentId }"),
    ("eventLogs", "eventLogs { id type }"),
];

/// The same for `Message`.
const MESSAGE_SELECTIONS: &[(&str, &str)] = &[
    ("attachments", "attachments { id name }"),
    (
        "messageDelivery",
        "messageDelivery { status failReason time groupId orderNum }",
    ),
];

const PARTICIPANT: &str = "{ __typename ... on Contact { id } ... on Visitor { id } ... on Agent { id } ... on Chatbot { id } ... on ExternalParticipant { id } }";

/// Field `name`'s selection: its own from `selections`, or just its name (a scalar).
fn selection(selections: &[(&str, &str)], name: &str) -> String {
    match selections.iter().find(|(n, _)| *n == name) {
        Some((_, s)) if s.starts_with('{') => format!("{name} {s}"),
        Some((_, s)) => s.to_string(),
        None => name.to_string(),
    }
}

/// Every one of `fields`, each with its selection: a whole object asked for at once.
fn every_selection(selections: &[(&str, &str)], fields: &[(String, bool)]) -> String {
    let all: Vec<String> = fields
        .iter()
        .map(|(n, _)| selection(selections, n))
        .collect();
    all.join(" ")
}

/// The fields of `type_name`, and whether each has a selection of its own (an object type).
/// Every object field must have one in `selections`.
async fn fields_of(
    app: &TestApp,
    type_name: &str,
    selections: &[(&str, &str)],
) -> Vec<(String, bool)> {
    let data = app
        .graphql(
            "query($t: String!) { __type(name: $t) { fields { name type { kind ofType { kind ofType { kind ofType { kind } } } } } } }",
            json!({ "t": type_name }),
        )
        .await;
    let leaf = |t: &Value| -> bool {
        let mut t = t;
        while t["kind"] == "NON_NULL" || t["kind"] == "LIST" {
            t = &t["ofType"];
        }
        matches!(t["kind"].as_str(), Some("SCALAR" | "ENUM"))
    };
    let fields: Vec<(String, bool)> = data["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap().to_string(), !leaf(&f["type"])))
        .collect();
    for (name, object) in &fields {
        assert!(
            !object || selections.iter().any(|(n, _)| n == name),
            "{type_name}.{name} has no selection in this test"
        );
    }
    fields
}

/// Whether `value` is one that a blank column could give `field` (a blank enum is its first
/// value; `AGENT` is the first only of `AssigneeType`).
fn blank(field: &str, value: &Value) -> bool {
    matches!(value, Value::Null | Value::Bool(false))
        || *value == 0
        || *value == ""
        || ["NEW", "URGENT", "NO_REPLY", "CONTACT"].contains(&value.as_str().unwrap_or("-"))
        || (field == "assigneeType" && *value == "AGENT")
}

/// [`blank`], or for an object whether any of its values is.
fn any_blank(field: &str, value: &Value) -> bool {
    match value {
        Value::Object(fields) => fields.iter().any(|(name, v)| any_blank(name, v)),
        _ => blank(field, value),
    }
}

/// The row of `E` whose primary key is `id`, as stored.
async fn stored<E: EntityTrait>(
    app: &TestApp,
    id: impl Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
) -> E::Model {
    E::find_by_id(id)
        .one(&app.db)
        .await
        .unwrap()
        .expect("the row is stored")
}

/// The object of `list` (the node, for a list of edges) whose `id` is `id`.
fn with_id<'a>(list: &'a Value, id: &Value) -> &'a Value {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| item.get("node").unwrap_or(item))
        .find(|object| object["id"] == *id)
        .unwrap_or_else(|| panic!("nothing with id {id} in {list}"))
}

/// A ticket with a value that is not blank in every column, and in every relation; returns its
/// id, and the id of a ticket about a contact (the first is about a visitor). Its columns are written straight to the database, so that each holds a value no
/// resolver could make up.
async fn full_ticket(app: &TestApp) -> (i64, i64) {
    let site = app.site.site.id;
    let contact = fixtures::contact(&app.db, site, "Ann").await;
    let visitor = fixtures::visitor(&app.db, site, "Vic").await;
    let agent = fixtures::agent(&app.db, site, "Bea").await;
    let bot = fixtures::chatbot(&app.db, site, "Robo").await;
    let department = fixtures::department(&app.db, site, "Billing").await;
    let tag = vocabulary::tag(&app.db, site, "refund").await;
    // The directory's columns the fixtures leave blank.
    let mut c = stored::<contacts::Entity>(app, contact)
        .await
        .into_active_model();
    c.phone = Set(Some("+44 20 7946 0000".into()));
    c.update(&app.db).await.unwrap();
    let mut v = stored::<visitors::Entity>(app, visitor)
        .await
        .into_active_model();
    v.email = Set(Some("vic@example.com".into()));
    v.language = Set("nl".into());
    v.update(&app.db).await.unwrap();
    let mut d = stored::<departments::Entity>(app, department)
        .await
        .into_active_model();
    d.description = Set("Money matters".into());
    d.update(&app.db).await.unwrap();
    let target = create(
        app,
        json!({ "subject": "target", "channelId": "email", "contactOrVisitorId": contact }),
    )
    .await;
    let id = create(
        app,
        json!({
            "subject": "Where is my parcel?", "channelId": "email", "contactOrVisitorId": contact,
            "tagIds": [tag],
            "messages": [{ "body": "<p>Hello</p>", "sentById": contact, "sentByType": "CONTACT" }],
        }),
    )
    .await;
    app.graphql(
        "mutation($id: Int!, $agent: UUID!) {
          addNote(ticketId: $id, input: { body: \"see\", mentionedAgentIds: [$agent] }) { id }
          saveDraft(ticketId: $id, input: { body: \"<p>Soon</p>\" }) { body }
        }",
        json!({ "id": id, "agent": agent }),
    )
    .await;

    let row = stored::<tickets::Entity>(app, id).await;
    let at = |minutes: i64| {
        Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap() + Duration::minutes(minutes)
    };
    let mut t = row.clone().into_active_model();
    t.original_conversation_id = Set(Some("conv-7".into()));
    t.assignee_id = Set(Some(bot));
    t.assignee_type = Set(Some(AssigneeType::Chatbot));
    t.department_assignee_id = Set(Some(department));
    t.channel_id = Set("chat".into());
    t.channel_account_id = Set(Some(department));
    t.last_message_channel_id = Set(Some("chat".into()));
    t.last_message_channel_account_id = Set(Some(agent));
    t.contact_or_visitor_id = Set(Some(visitor));
    t.contact_or_visitor_type = Set(Some(ParticipantType::Visitor));
    t.created_by_id = Set(Some(agent));
    t.created_by_type = Set(Some(ParticipantType::Agent));
    t.last_replied_by_id = Set(Some(bot));
    t.last_replied_by_type = Set(Some(ParticipantType::Chatbot));
    t.resolved_by_id = Set(Some(agent));
    t.resolved_by_type = Set(Some(ParticipantType::Agent));
    t.status = Set(TicketStatus::OnHold);
    t.priority = Set(Priority::Low);
    t.is_read_by_agent = Set(true);
    t.is_read_by_contact = Set(true);
    t.if_has_draft = Set(true);
    t.merged_to_target_id = Set(Some(target));
    t.total_replies = Set(7);
    t.created_time = Set(at(0));
    t.last_updated_time = Set(at(90));
    t.last_replied_time = Set(Some(at(80)));
    t.last_status_changed_time = Set(Some(at(70)));
    t.resolved_time = Set(Some(at(60)));
    t.is_in_recycle_bin = Set(true);
    t.reopened_time = Set(Some(at(65)));
    t.contact_language = Set("de".into());
    t.agent_language = Set("fr".into());
    t.auto_translation_status = Set(true);
    t.response_time_span = Set(11);
    t.replying_agent = Set(ReplyingAgent::AgentAndBot);
    t.response_count = Set(12);
    t.resolved_time_span = Set(Some(13));
    t.first_response_time_span = Set(Some(14));
    t.version = Set(row.version + 15);
    t.update(&app.db).await.unwrap();

    let message = stored::<messages::Entity>(app, row.last_message_id.unwrap()).await;
    let mut m = message.into_active_model();
    m.parent_id = Set(Some(agent));
    m.original_id = Set(Some("orig-1".into()));
    m.sent_by_id = Set(Some(visitor));
    m.sent_by_type = Set(Some(ParticipantType::Visitor));
    m.time = Set(at(30));
    m.r#type = Set("richText".into());
    m.metadata = Set(Some(json!({ "source": "widget" })));
    m.channel_id = Set(Some("chat".into()));
    m.channel_account_id = Set(Some(department));
    m.translated_body = Set("<p>Hallo</p>".into());
    m.if_display_in_ticket_correspondences = Set(true);
    m.is_original_sent_to_contact = Set(true);
    m.show_inline_image = Set(true);
    m.is_read = Set(true);
    m.is_internal = Set(true);
    m.delivery_status = Set(Some("failed".into()));
    m.delivery_fail_reason = Set(Some("bounced".into()));
    m.delivery_time = Set(Some(at(31)));
    m.delivery_group_id = Set(Some(bot));
    m.delivery_order_num = Set(Some(3));
    m.update(&app.db).await.unwrap();
    (id, target)
}

/// The ticket lists the full ticket is in: merged and in the recycle bin.
const FILTER: &str = "{ inRecycleBin: true, includeMerged: true }";

#[tokio::test]
async fn every_ticket_field_asked_alone_of_a_list_answers_what_the_whole_ticket_holds() {
    let app = TestApp::spawn().await;
    let (id, _) = full_ticket(&app).await;
    let fields = fields_of(&app, "Ticket", SELECTIONS).await;
    let whole = app
        .graphql(
            &format!(
                "query($id: Int!) {{ ticket(id: $id) {{ {} }} }}",
                every_selection(SELECTIONS, &fields)
            ),
            json!({ "id": id }),
        )
        .await["ticket"]
        .clone();
    // Every column holds something a blank could not be (checked on the scalars).
    for (name, object) in &fields {
        let value = &whole[name];
        assert!(
            *object || !blank(name, value),
            "Ticket.{name} is {value}: give it a value no blank has"
        );
    }

    for (name, _) in &fields {
        let sel = selection(SELECTIONS, name);
        let edges = app
            .graphql(
                &format!("{{ tickets(first: 10, filter: {FILTER}) {{ edges {{ node {{ id {sel} }} }} }} }}"),
                json!({}),
            )
            .await;
        let node = with_id(&edges["tickets"]["edges"], &json!(id));
        assert_eq!(
            node[name], whole[name],
            "tickets {{ edges {{ node {{ {name} }} }} }}"
        );

        // The field alone, without the id: `nodes` and the numbered page.
        let nodes = app
            .graphql(
                &format!("{{ tickets(first: 10, filter: {FILTER}) {{ nodes {{ {sel} }} }} }}"),
                json!({}),
            )
            .await;
        let paged = app
            .graphql(
                &format!("{{ ticketPage(filter: {FILTER}) {{ tickets {{ {sel} }} }} }}"),
                json!({}),
            )
            .await;
        // The full ticket is the newest: first in both.
        assert_eq!(
            nodes["tickets"]["nodes"][0][name], whole[name],
            "tickets {{ nodes {{ {name} }} }}"
        );
        assert_eq!(
            paged["ticketPage"]["tickets"][0][name], whole[name],
            "ticketPage {{ {name} }}"
        );
    }
}

#[tokio::test]
async fn every_message_field_asked_alone_of_a_last_message_answers_what_the_whole_message_holds() {
    let app = TestApp::spawn().await;
    let (id, _) = full_ticket(&app).await;
    let fields = fields_of(&app, "Message", MESSAGE_SELECTIONS).await;
    let data = app
        .graphql(
            &format!(
                "query($id: Int!) {{ ticket(id: $id) {{ lastMessageId messages {{ edges {{ node {{ {} }} }} }} }} }}",
                every_selection(MESSAGE_SELECTIONS, &fields)
            ),
            json!({ "id": id }),
        )
        .await;
    let last = &data["ticket"]["lastMessageId"];
    let whole = with_id(&data["ticket"]["messages"]["edges"], last).clone();
    for (name, object) in &fields {
        let value = &whole[name];
        let empty = value.as_array().is_some_and(|a| a.is_empty());
        assert!(
            (*object && name != "messageDelivery") || !(any_blank(name, value) || empty),
            "Message.{name} is {value}: give it a value no blank has"
        );
    }

    for (name, _) in &fields {
        let sel = selection(MESSAGE_SELECTIONS, name);
        let data = app
            .graphql(
                &format!("{{ tickets(first: 10, filter: {FILTER}) {{ nodes {{ lastMessage {{ {sel} }} }} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(
            data["tickets"]["nodes"][0]["lastMessage"][name], whole[name],
            "lastMessage {{ {name} }}"
        );

        // And through the ticket's messages, the field alone but for the id to find it by.
        let data = app
            .graphql(
                &format!("query($id: Int!) {{ ticket(id: $id) {{ messages {{ nodes {{ id {sel} }} }} }} }}"),
                json!({ "id": id }),
            )
            .await;
        let node = with_id(&data["ticket"]["messages"]["nodes"], last);
        assert_eq!(node[name], whole[name], "messages {{ nodes {{ {name} }} }}");
    }
}

#[tokio::test]
async fn every_field_of_a_related_record_asked_alone_answers_what_the_whole_record_holds() {
    let app = TestApp::spawn().await;
    let (id, about_contact) = full_ticket(&app).await;
    // (relation, the type it holds, the list's filter, the ticket)
    let relations = [
        ("assignee", "Chatbot", FILTER, id),
        ("contactOrVisitor", "Visitor", FILTER, id),
        ("createdBy", "Agent", FILTER, id),
        ("departmentAssignee", "Department", FILTER, id),
        ("contactOrVisitor", "Contact", "{}", about_contact),
    ];
    for (relation, type_name, filter, ticket) in relations {
        let fields = fields_of(&app, type_name, &[]).await;
        let all: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        let data = app
            .graphql(
                &format!(
                    "query($id: Int!) {{ ticket(id: $id) {{ {relation} {{ ... on {type_name} {{ {} }} }} }} }}",
                    every_selection(&[], &fields)
                ),
                json!({ "id": ticket }),
            )
            .await;
        let whole = data["ticket"][relation].clone();
        for name in &all {
            let value = &whole[*name];
            assert!(
                !blank(name, value),
                "{type_name}.{name} is {value}: give it a value no blank has"
            );
        }
        for name in &all {
            let data = app
                .graphql(
                    &format!("{{ tickets(first: 10, filter: {filter}) {{ nodes {{ id {relation} {{ ... on {type_name} {{ {name} }} }} }} }} }}"),
                    json!({}),
                )
                .await;
            let node = with_id(&data["tickets"]["nodes"], &json!(ticket));
            assert_eq!(
                node[relation][*name], whole[*name],
                "{relation} {{ ... on {type_name} {{ {name} }} }}"
            );
        }
    }
}

#[tokio::test]
async fn the_inbox_reads_the_columns_it_shows_and_not_the_rest() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    create(
        &app,
        json!({
            "subject": "Hello", "channelId": "email", "contactOrVisitorId": contact,
            "messages": [{ "body": "<p>Hello</p>" }],
        }),
    )
    .await;
    let page = |fields: &str| {
        format!("{{ tickets(first: 5) {{ edges {{ cursor node {{ {fields} }} }} }} }}")
    };
    let ticket_page = |statements: Vec<String>| {
        statements
            .into_iter()
            .find(|s| s.contains("FROM \"tickets\"") && s.contains("LIMIT"))
            .expect("the page's statement")
    };

    app.sql.start();
    let data = app.graphql(&page("subject status"), json!({})).await;
    let sql = ticket_page(app.sql.stop());
    assert_eq!(data["tickets"]["edges"][0]["node"]["subject"], "Hello");
    for read in [
        "\"subject\"",
        "\"status\"",
        "\"last_updated_time\"",
        "\"id\"",
    ] {
        assert!(sql.contains(read), "{read} is read: {sql}");
    }
    for unread in [
        "\"priority\"",
        "\"resolved_time_span\"",
        "\"channel_id\"",
        "\"version\"",
    ] {
        assert!(!sql.contains(unread), "{unread} is not read: {sql}");
    }

    // So do the contacts' batch and the last message's.
    app.sql.start();
    app.graphql(
        &page("contactOrVisitor { ... on Contact { name } }"),
        json!({}),
    )
    .await;
    let statements = app.sql.stop();
    let sql = statements
        .into_iter()
        .find(|s| s.contains("FROM \"contacts\""))
        .expect("the contacts' statement");
    assert!(
        sql.contains("\"name\"") && !sql.contains("\"phone\""),
        "{sql}"
    );
    app.sql.start();
    let data = app.graphql(&page("lastMessage { body }"), json!({})).await;
    let statements = app.sql.stop();
    assert_eq!(
        data["tickets"]["edges"][0]["node"]["lastMessage"]["body"],
        "<p>Hello</p>"
    );
    let sql = statements
        .into_iter()
        .find(|s| s.contains("FROM \"messages\""))
        .expect("the last messages' statement");
    assert!(
        sql.contains("\"body\"") && !sql.contains("\"metadata\""),
        "{sql}"
    );

    // A field the table does not know (none today but `__typename`, which reads nothing)
    // would read every column; every known one reads its own.
    app.sql.start();
    app.graphql(&page("__typename priority"), json!({})).await;
    let sql = ticket_page(app.sql.stop());
    assert!(
        sql.contains("\"priority\"") && !sql.contains("\"subject\""),
        "{sql}"
    );
}
