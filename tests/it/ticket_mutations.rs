//! Ticket mutations: update, delete, recycle and restore, merge, read state, tags, unread counts.

use serde_json::{Value, json};

use crate::harness::{TestApp, fixtures, vocabulary};
use crate::ticket_list::{create, create_about};
use deskgraph::entity::ConditionMetType;

const FIELDS: &str =
    "id subject status priority assigneeId assigneeType departmentAssigneeId isReadByAgent
    isInRecycleBin lastUpdatedTime lastStatusChangedTime resolvedTime resolvedById resolvedByType
    resolvedTimeSpan reopenedTime mergedToTargetId contactLanguage tagIds";

async fn ticket(app: &TestApp, id: i64) -> Value {
    app.graphql(
        &format!("query($id: Int!) {{ ticket(id: $id) {{ {FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await["ticket"]
        .clone()
}

async fn update(app: &TestApp, id: i64, input: Value) -> Value {
    app.graphql(
        &format!("mutation($id: Int!, $input: UpdateTicketInput!) {{ updateTicket(id: $id, input: $input) {{ {FIELDS} }} }}"),
        json!({ "id": id, "input": input }),
    )
    .await["updateTicket"]
        .clone()
}

async fn event_types(app: &TestApp, id: i64) -> Vec<String> {
    use deskgraph::entity::ticket_event_logs;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    ticket_event_logs::Entity::find()
        .filter(ticket_event_logs::Column::TicketId.eq(id))
        .order_by_asc(ticket_event_logs::Column::Time)
        .order_by_asc(ticket_event_logs::Column::Id)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.r#type)
        .collect()
}

async fn new_ticket(app: &TestApp) -> i64 {
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    create_about(app, contact, "Printer on fire").await
}

#[tokio::test]
async fn an_update_changes_only_the_given_fields_and_logs_them() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app).await;
    let before = ticket(&app, id).await;
    let department = fixtures::department(&app.db, app.site.site.id, "Support").await;
    let after = update(
        &app,
        id,
        json!({ "subject": "Printer still on fire", "priority": "URGENT", "assigneeId": app.site.admin.id, "departmentAssigneeId": department, "contactLanguage": "de" }),
    )
    .await;
    assert_eq!(after["subject"], "Printer still on fire");
    assert_eq!(after["priority"], "URGENT");
    assert_eq!(after["assigneeId"], app.site.admin.id.to_string());
    assert_eq!(after["assigneeType"], "AGENT");
    assert_eq!(after["departmentAssigneeId"], department.to_string());
    assert_eq!(after["contactLanguage"], "de");
    assert_eq!(after["status"], before["status"], "untouched fields stay");
    assert!(after["lastUpdatedTime"].as_str() >= before["lastUpdatedTime"].as_str());
    assert_eq!(
        event_types(&app, id).await,
        vec!["created", "assigned", "edited"]
    );

    // null clears a clearable reference; omitting it leaves it.
    let cleared = update(&app, id, json!({ "assigneeId": null })).await;
    assert!(cleared["assigneeId"].is_null());
    assert!(cleared["assigneeType"].is_null());
    assert_eq!(cleared["departmentAssigneeId"], department.to_string());
}

#[tokio::test]
async fn resolving_stamps_the_resolution_and_reopening_stamps_it_too() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app).await;
    let resolved = update(&app, id, json!({ "status": "RESOLVED" })).await;
    assert_eq!(resolved["status"], "RESOLVED");
    assert_eq!(resolved["resolvedById"], app.site.admin.id.to_string());
    assert_eq!(resolved["resolvedByType"], "AGENT");
    assert_eq!(resolved["resolvedTime"], resolved["lastStatusChangedTime"]);
    assert!(resolved["resolvedTimeSpan"].as_i64().unwrap() >= 0);
    assert!(resolved["reopenedTime"].is_null());
    let reopened = update(&app, id, json!({ "status": "PENDING_INTERNAL" })).await;
    assert_eq!(reopened["reopenedTime"], reopened["lastStatusChangedTime"]);
    assert_eq!(
        event_types(&app, id).await,
        vec!["created", "statusChanged", "statusChanged"]
    );
}

#[tokio::test]
async fn a_stale_expected_update_time_is_a_conflict_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app).await;
    let read = ticket(&app, id).await;
    update(&app, id, json!({ "priority": "LOW" })).await;
    let (_, error) = app
        .graphql_error(
            "mutation($id: Int!, $input: UpdateTicketInput!) { updateTicket(id: $id, input: $input) { id } }",
            json!({ "id": id, "input": { "subject": "lost update", "expectedLastUpdatedTime": read["lastUpdatedTime"] } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "CONFLICT");
    assert_eq!(ticket(&app, id).await["subject"], "Printer on fire");
    // With the current time it goes through.
    let current = ticket(&app, id).await["lastUpdatedTime"].clone();
    let done = update(
        &app,
        id,
        json!({ "subject": "fresh", "expectedLastUpdatedTime": current }),
    )
    .await;
    assert_eq!(done["subject"], "fresh");
}

#[tokio::test]
async fn invalid_updates_are_refused_naming_the_field_and_change_nothing() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app).await;
    let (other, _) = app.other_site().await;
    let foreign_department = fixtures::department(&app.db, other.site.id, "Theirs").await;
    for (input, field) in [
        (json!({ "subject": "" }), "subject"),
        (json!({ "subject": "ok", "channelId": " " }), "channelId"),
        (
            json!({ "priority": "HIGH", "assigneeId": other.admin.id }),
            "assigneeId",
        ),
        (
            json!({ "departmentAssigneeId": foreign_department }),
            "departmentAssigneeId",
        ),
        (json!({ "tagIds": [uuid::Uuid::new_v4()] }), "tagIds"),
        (
            json!({ "contactLanguage": "x".repeat(201) }),
            "contactLanguage",
        ),
    ] {
        let (_, error) = app
            .graphql_error(
                "mutation($id: Int!, $input: UpdateTicketInput!) { updateTicket(id: $id, input: $input) { id } }",
                json!({ "id": id, "input": input }),
            )
            .await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{input}");
        assert_eq!(error["extensions"]["field"], field, "{input}");
    }
    let after = ticket(&app, id).await;
    assert_eq!(after["subject"], "Printer on fire");
    assert_eq!(
        after["priority"], "NORMAL",
        "a refused update writes nothing, not even its valid part"
    );
    assert_eq!(event_types(&app, id).await, vec!["created"]);
}

#[tokio::test]
async fn deleting_a_ticket_removes_it_and_what_hangs_off_it() {
    let app = TestApp::spawn().await;
    let vip = vocabulary::tag(&app.db, app.site.site.id, "vip").await;
    let id = new_ticket(&app).await;
    app.graphql(
        "mutation($id: Int!, $t: [UUID!]!) { addTicketTags(id: $id, tagIds: $t) { id } }",
        json!({ "id": id, "t": [vip] }),
    )
    .await;
    let deleted = app
        .graphql(
            "mutation($id: Int!) { deleteTicket(id: $id) { id subject } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(deleted["deleteTicket"]["subject"], "Printer on fire");
    let (_, error) = app
        .graphql_error(
            "query($id: Int!) { ticket(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
    assert!(event_types(&app, id).await.is_empty());
    use sea_orm::{EntityTrait, PaginatorTrait};
    assert_eq!(
        deskgraph::entity::ticket_tags::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    // Deleting again: it is gone.
    let (_, error) = app
        .graphql_error(
            "mutation($id: Int!) { deleteTicket(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn recycling_and_restoring_flip_the_recycle_bin_flag_and_log_it() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app).await;
    let recycled = app
        .graphql(
            "mutation($id: Int!) { recycleTicket(id: $id) { isInRecycleBin } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(recycled["recycleTicket"]["isInRecycleBin"], true);
    let restored = app
        .graphql(
            "mutation($id: Int!) { restoreTicket(id: $id) { isInRecycleBin } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(restored["restoreTicket"]["isInRecycleBin"], false);
    // An update that sets isInRecycleBin works the same way.
    assert_eq!(
        update(&app, id, json!({ "isInRecycleBin": true })).await["isInRecycleBin"],
        true
    );
    assert_eq!(
        event_types(&app, id).await,
        vec!["created", "recycled", "recovered", "recycled"]
    );
}

#[tokio::test]
async fn merging_moves_tags_and_resolves_the_source_into_the_target() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let (vip, bug, billing) = (
        vocabulary::tag(&app.db, site, "vip").await,
        vocabulary::tag(&app.db, site, "bug").await,
        vocabulary::tag(&app.db, site, "billing").await,
    );
    let contact = fixtures::contact(&app.db, site, "Ann").await;
    let target = create(&app, json!({ "subject": "target", "channelId": "email", "contactOrVisitorId": contact, "tagIds": [vip, bug] })).await;
    let source = create(&app, json!({ "subject": "source", "channelId": "email", "contactOrVisitorId": contact, "tagIds": [bug, billing] })).await;

    let merged = app
        .graphql("mutation($t: Int!, $s: Int!) { mergeTicket(targetId: $t, sourceId: $s) { id tagIds } }", json!({ "t": target, "s": source }))
        .await["mergeTicket"]
        .clone();
    assert_eq!(merged["id"], target);
    let mut tags: Vec<String> = merged["tagIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    tags.sort();
    let mut want = vec![vip.to_string(), bug.to_string(), billing.to_string()];
    want.sort();
    assert_eq!(tags, want);

    let src = ticket(&app, source).await;
    assert_eq!(src["mergedToTargetId"], target);
    assert_eq!(src["status"], "RESOLVED");
    assert_eq!(src["tagIds"], json!([]));
    assert!(
        event_types(&app, target)
            .await
            .contains(&"merged".to_owned())
    );
    assert!(
        event_types(&app, source)
            .await
            .contains(&"mergedInto".to_owned())
    );
    // The source leaves the default list.
    let listed = app
        .graphql(
            "{ tickets(first: 10) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed["tickets"]["edges"],
        json!([{ "node": { "id": target } }])
    );
}

#[tokio::test]
async fn merging_is_refused_for_itself_unknown_recycled_or_merged_tickets_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let mk = |s: &'static str| create_about(&app, contact, s);
    let (a, b, c, d) = (mk("a").await, mk("b").await, mk("c").await, mk("d").await);
    let merge = "mutation($t: Int!, $s: Int!) { mergeTicket(targetId: $t, sourceId: $s) { id } }";
    app.graphql(
        "mutation($id: Int!) { recycleTicket(id: $id) { id } }",
        json!({ "id": c }),
    )
    .await;
    app.graphql(merge, json!({ "t": a, "s": d })).await;
    let (other, other_token) = app.other_site().await;
    let foreign_contact = fixtures::contact(&app.db, other.site.id, "Zed").await;
    let foreign = {
        let (_, body) = app
            .graphql_with(
                Some(&other_token),
                "mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }",
                json!({ "i": { "subject": "theirs", "channelId": "x", "contactOrVisitorId": foreign_contact } }),
            )
            .await;
        body["data"]["createTicket"]["id"].as_i64().unwrap()
    };

    for (t, s, code) in [
        (a, a, "BAD_USER_INPUT"),
        (a, 999_999, "NOT_FOUND"),
        (999_999, a, "NOT_FOUND"),
        (a, foreign, "NOT_FOUND"),
        (a, c, "CONFLICT"),
        (c, b, "CONFLICT"),
        (b, d, "CONFLICT"),
        (d, b, "CONFLICT"),
    ] {
        let (_, error) = app.graphql_error(merge, json!({ "t": t, "s": s })).await;
        assert_eq!(
            error["extensions"]["code"], code,
            "merging {s} into {t}: {error}"
        );
    }
    assert_eq!(ticket(&app, b).await["status"], "NEW", "nothing changed");
    assert!(ticket(&app, b).await["mergedToTargetId"].is_null());
}

#[tokio::test]
async fn read_state_is_set_and_cleared() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app).await;
    let read = app
        .graphql(
            "mutation($id: Int!) { markTicketRead(id: $id) { isReadByAgent } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(read["markTicketRead"]["isReadByAgent"], true);
    let unread = app
        .graphql(
            "mutation($id: Int!) { markTicketUnread(id: $id) { isReadByAgent } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(unread["markTicketUnread"]["isReadByAgent"], false);
}

#[tokio::test]
async fn tags_are_added_and_removed_and_must_belong_to_the_site() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let (vip, bug) = (
        vocabulary::tag(&app.db, site, "vip").await,
        vocabulary::tag(&app.db, site, "bug").await,
    );
    let id = new_ticket(&app).await;
    let add = "mutation($id: Int!, $t: [UUID!]!) { addTicketTags(id: $id, tagIds: $t) { tagIds } }";
    let remove =
        "mutation($id: Int!, $t: [UUID!]!) { removeTicketTags(id: $id, tagIds: $t) { tagIds } }";
    let after = app
        .graphql(add, json!({ "id": id, "t": [vip, bug, vip] }))
        .await;
    assert_eq!(
        after["addTicketTags"]["tagIds"].as_array().unwrap().len(),
        2
    );
    let after = app.graphql(remove, json!({ "id": id, "t": [vip] })).await;
    assert_eq!(
        after["removeTicketTags"]["tagIds"],
        json!([bug.to_string()])
    );

    let (other, _) = app.other_site().await;
    let foreign = vocabulary::tag(&app.db, other.site.id, "theirs").await;
    let (_, error) = app
        .graphql_error(add, json!({ "id": id, "t": [foreign] }))
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "tagIds");
    assert_eq!(ticket(&app, id).await["tagIds"], json!([bug.to_string()]));
}

#[tokio::test]
async fn unread_counts_cover_all_tickets_and_each_view() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let contact = fixtures::contact(&app.db, site, "Ann").await;
    let urgent = create(&app, json!({ "subject": "u", "channelId": "email", "contactOrVisitorId": contact, "priority": "URGENT" })).await;
    let normal = create_about(&app, contact, "n").await;
    let read = create(&app, json!({ "subject": "r", "channelId": "email", "contactOrVisitorId": contact, "priority": "URGENT" })).await;
    let recycled = create(&app, json!({ "subject": "x", "channelId": "email", "contactOrVisitorId": contact, "priority": "URGENT" })).await;
    app.graphql(
        "mutation($id: Int!) { markTicketRead(id: $id) { id } }",
        json!({ "id": read }),
    )
    .await;
    app.graphql(
        "mutation($id: Int!) { recycleTicket(id: $id) { id } }",
        json!({ "id": recycled }),
    )
    .await;
    let view = vocabulary::view(
        &app.db,
        site,
        ConditionMetType::All,
        &[("priority", "is", "urgent")],
    )
    .await;

    let counts = app
        .graphql(
            "query($v: [UUID!]) { unreadCount(viewIds: $v) { allCount unreadCounts { viewId unreadTicketIds unreadCount mentionedUnReadTicketIds mentionedUnReadCount } } }",
            json!({ "v": [view] }),
        )
        .await["unreadCount"]
        .clone();
    assert_eq!(counts["allCount"], 2);
    let mut all_unread = vec![urgent, normal];
    all_unread.sort();
    assert_eq!(
        counts["unreadCounts"],
        json!([{ "viewId": view.to_string(), "unreadTicketIds": [urgent], "unreadCount": 1, "mentionedUnReadTicketIds": [], "mentionedUnReadCount": 0 }])
    );
    let (_, error) = app
        .graphql_error(
            "query($v: [UUID!]) { unreadCount(viewIds: $v) { allCount } }",
            json!({ "v": [uuid::Uuid::new_v4()] }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn every_ticket_mutation_on_another_sites_ticket_is_not_found_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app).await;
    let before = ticket(&app, id).await;
    let (other, other_token) = app.other_site().await;
    let theirs = fixtures::contact(&app.db, other.site.id, "Zed").await;
    let (_, body) = app
        .graphql_with(
            Some(&other_token),
            "mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }",
            json!({ "i": { "subject": "theirs", "channelId": "x", "contactOrVisitorId": theirs } }),
        )
        .await;
    let their_ticket = body["data"]["createTicket"]["id"].as_i64().unwrap();
    for op in [
        "mutation($id: Int!) { updateTicket(id: $id, input: { subject: \"mine now\" }) { id } }",
        "mutation($id: Int!) { deleteTicket(id: $id) { id } }",
        "mutation($id: Int!) { recycleTicket(id: $id) { id } }",
        "mutation($id: Int!) { restoreTicket(id: $id) { id } }",
        "mutation($id: Int!) { markTicketRead(id: $id) { id } }",
        "mutation($id: Int!) { markTicketUnread(id: $id) { id } }",
        "mutation($id: Int!) { addTicketTags(id: $id, tagIds: []) { id } }",
        "mutation($id: Int!) { removeTicketTags(id: $id, tagIds: []) { id } }",
        "mutation($id: Int!, $theirs: Int!) { mergeTicket(targetId: $id, sourceId: $theirs) { id } }",
        "mutation($id: Int!, $theirs: Int!) { mergeTicket(targetId: $theirs, sourceId: $id) { id } }",
    ] {
        let vars = json!({ "id": id, "theirs": their_ticket });
        let (_, body) = app.graphql_with(Some(&other_token), op, vars).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{op}: {body}"
        );
    }
    assert_eq!(ticket(&app, id).await, before);
}

#[tokio::test]
async fn a_mention_counts_as_unread_for_the_mentioned_agent_until_they_read_the_ticket() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app).await;
    let view = vocabulary::view(&app.db, app.site.site.id, ConditionMetType::All, &[]).await;
    app.graphql(
        "mutation($id: Int!) { markTicketRead(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    app.graphql(
        "mutation($id: Int!, $me: UUID!) { addNote(ticketId: $id, input: { body: \"look\", mentionedAgentIds: [$me] }) { id } }",
        json!({ "id": id, "me": app.site.admin.id }),
    )
    .await;
    let query = "query($v: [UUID!]) { unreadCount(viewIds: $v) { allCount unreadCounts { unreadCount mentionedUnReadTicketIds mentionedUnReadCount } } }";
    let counts = app.graphql(query, json!({ "v": [view] })).await["unreadCount"].clone();
    assert_eq!(counts["allCount"], 0, "the ticket itself was read");
    assert_eq!(
        counts["unreadCounts"][0]["mentionedUnReadTicketIds"],
        json!([id])
    );
    assert_eq!(counts["unreadCounts"][0]["mentionedUnReadCount"], 1);
    app.graphql(
        "mutation($id: Int!) { markTicketRead(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    let counts = app.graphql(query, json!({ "v": [view] })).await["unreadCount"].clone();
    assert_eq!(
        counts["unreadCounts"][0]["mentionedUnReadCount"], 0,
        "reading the ticket reads the mention"
    );
}

#[tokio::test]
async fn keywords_find_words_in_decoded_message_bodies_and_follow_merges() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let a = create_about(&app, contact, "Order").await;
    let b = create_about(&app, contact, "Other").await;
    // "<p>Where is my parcel?</p>" as the spec's samples send bodies: a base64 data URI.
    let body = format!(
        "data:text/html;base64,{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "<p>Where is my parcel?</p>"
        )
    );
    app.graphql(
        "mutation($id: Int!, $b: String!) { addMessage(ticketId: $id, input: { body: $b, sentByType: CONTACT }) { id } }",
        json!({ "id": b, "b": body }),
    )
    .await;
    let search = "query($k: String!) { tickets(first: 10, filter: { keywords: $k }) { edges { node { id } } } }";
    let found = app.graphql(search, json!({ "k": "parcel" })).await;
    assert_eq!(found["tickets"]["edges"], json!([{ "node": { "id": b } }]));
    assert_eq!(
        app.graphql(search, json!({ "k": "base64" })).await["tickets"]["edges"],
        json!([]),
        "the encoding is not text"
    );
    // The words move with the messages when tickets merge.
    app.graphql(
        "mutation($t: Int!, $s: Int!) { mergeTicket(targetId: $t, sourceId: $s) { id } }",
        json!({ "t": a, "s": b }),
    )
    .await;
    let found = app.graphql(search, json!({ "k": "parcel" })).await;
    assert_eq!(found["tickets"]["edges"], json!([{ "node": { "id": a } }]));
}

#[tokio::test]
async fn unread_ids_stop_at_a_hundred_newest_while_the_count_covers_every_ticket() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let contact = fixtures::contact(&app.db, site, "Ann").await;
    let mut ids = Vec::new();
    for i in 0..103 {
        let input = json!({ "subject": format!("t{i}"), "channelId": "email", "contactOrVisitorId": contact, "priority": "URGENT" });
        ids.push(create(&app, input).await);
    }
    let view = vocabulary::view(
        &app.db,
        site,
        ConditionMetType::All,
        &[("priority", "is", "urgent")],
    )
    .await;
    let counts = app
        .graphql(
            "query($v: [UUID!]) { unreadCount(viewIds: $v) { allCount unreadCounts { unreadTicketIds unreadCount } } }",
            json!({ "v": [view] }),
        )
        .await["unreadCount"]
        .clone();
    assert_eq!(counts["allCount"], 103);
    assert_eq!(counts["unreadCounts"][0]["unreadCount"], 103);
    let listed: Vec<i64> =
        serde_json::from_value(counts["unreadCounts"][0]["unreadTicketIds"].clone()).unwrap();
    // Newest first: the last hundred created, in reverse.
    let newest: Vec<i64> = ids.iter().rev().take(100).copied().collect();
    assert_eq!(listed, newest);
}
