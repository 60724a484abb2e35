//! A ticket's life, walked end to end through the API, checking every field the service keeps.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{TestApp, fixtures};

const FIELDS: &str = "id status isReadByAgent totalReplies responseCount replyingAgent
    firstResponseTimeSpan responseTimeSpan resolvedTimeSpan createdTime lastUpdatedTime
    lastRepliedTime lastRepliedById lastRepliedByType lastStatusChangedTime resolvedTime
    resolvedById resolvedByType reopenedTime lastMessageId lastMessageChannelId mergedToTargetId
    ifHasDraft";

async fn ticket(app: &TestApp, id: i64) -> Value {
    app.graphql(
        &format!("query($id: Int!) {{ ticket(id: $id) {{ {FIELDS} }} }}"),
        json!({ "id": id }),
    )
    .await["ticket"]
        .clone()
}

async fn message(app: &TestApp, id: i64, body: &str, by: Option<(&str, String)>) -> String {
    let mut input = json!({ "body": body, "channelId": "chat" });
    if let Some((kind, who)) = by {
        input["sentByType"] = json!(kind);
        input["sentById"] = json!(who);
    }
    app.graphql(
        "mutation($id: Int!, $m: MessageInput!) { addMessage(ticketId: $id, input: $m) { id } }",
        json!({ "id": id, "m": input }),
    )
    .await["addMessage"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn set_status(app: &TestApp, id: i64, status: &str) -> Value {
    app.graphql(
        &format!("mutation($id: Int!, $s: TicketStatus!) {{ updateTicket(id: $id, input: {{ status: $s }}) {{ {FIELDS} }} }}"),
        json!({ "id": id, "s": status }),
    )
    .await["updateTicket"]
        .clone()
}

#[tokio::test]
async fn a_ticket_keeps_its_fields_true_through_a_whole_life() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let visitor = fixtures::visitor(&app.db, site, "Guest").await.to_string();
    let bot = fixtures::chatbot(&app.db, site, "Helper").await.to_string();
    let agent = app.site.admin.id.to_string();

    // 1. A visitor opens it with a message.
    let created = app
        .graphql(
            &format!("mutation($i: CreateTicketInput!) {{ createTicket(input: $i) {{ {FIELDS} }} }}"),
            json!({ "i": {
                "subject": "Cannot log in", "channelId": "chat", "contactOrVisitorId": visitor,
                "contactOrVisitorType": "VISITOR", "createdById": visitor, "createdByType": "VISITOR",
                "messages": [{ "body": "data:text/plain;base64,SGVscA==", "sentById": visitor, "sentByType": "VISITOR", "channelId": "chat" }],
            }}),
        )
        .await["createTicket"]
        .clone();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        created["status"], "PENDING_INTERNAL",
        "the customer spoke: the agents' turn"
    );
    assert_eq!(created["totalReplies"], 1);
    assert_eq!(created["responseCount"], 0);
    assert_eq!(created["replyingAgent"], "NO_REPLY");
    assert_eq!(created["lastRepliedByType"], "VISITOR");
    assert_eq!(created["lastRepliedById"], visitor);
    assert_eq!(created["lastMessageChannelId"], "chat");
    assert_eq!(created["isReadByAgent"], false);
    assert!(created["firstResponseTimeSpan"].is_null());
    assert!(!created["lastMessageId"].is_null());

    // Time passes while it waits on the agents.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // 2. An agent replies.
    let reply = message(&app, id, "We are on it", None).await;
    let t = ticket(&app, id).await;
    assert_eq!(t["status"], "PENDING_EXTERNAL");
    assert_eq!(t["totalReplies"], 2);
    assert_eq!(t["responseCount"], 1);
    assert_eq!(t["replyingAgent"], "AGENT_ONLY");
    assert_eq!(t["lastRepliedById"], agent);
    assert_eq!(t["lastRepliedByType"], "AGENT");
    assert_eq!(t["lastMessageId"], reply);
    assert!(t["firstResponseTimeSpan"].as_i64().unwrap() >= 1, "{t}");
    assert!(
        t["responseTimeSpan"].as_i64().unwrap() >= 1,
        "time in pendingInternal counts: {t}"
    );
    let waited = t["responseTimeSpan"].as_i64().unwrap();
    let replied_at = t["lastRepliedTime"].clone();

    // 3. A note changes nobody's turn.
    app.graphql(
        "mutation($id: Int!) { markTicketRead(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    let note = app
        .graphql(
            "mutation($id: Int!) { addNote(ticketId: $id, input: { body: \"check the logs\" }) { id isInternal } }",
            json!({ "id": id }),
        )
        .await["addNote"]
        .clone();
    assert_eq!(note["isInternal"], true);
    let t = ticket(&app, id).await;
    assert_eq!(t["status"], "PENDING_EXTERNAL");
    assert_eq!(t["totalReplies"], 2);
    assert_eq!(t["lastMessageId"], note["id"]);
    assert_eq!(t["lastRepliedTime"], replied_at);
    assert_eq!(t["isReadByAgent"], true);

    // 4. The visitor answers: the agents' turn again, and unread.
    message(&app, id, "Still broken", Some(("VISITOR", visitor.clone()))).await;
    let t = ticket(&app, id).await;
    assert_eq!(t["status"], "PENDING_INTERNAL");
    assert_eq!(t["isReadByAgent"], false);
    assert_eq!(t["totalReplies"], 3);
    assert_eq!(
        t["responseTimeSpan"], waited,
        "the clock only adds when the ticket leaves pendingInternal"
    );

    // 5. A bot answers too.
    message(
        &app,
        id,
        "Have you tried turning it off and on?",
        Some(("CHATBOT", bot.clone())),
    )
    .await;
    let t = ticket(&app, id).await;
    assert_eq!(t["status"], "PENDING_EXTERNAL");
    assert_eq!(t["replyingAgent"], "AGENT_AND_BOT");
    assert_eq!(t["responseCount"], 2);
    assert_eq!(t["lastRepliedByType"], "CHATBOT");

    // 6. On hold, then resolved.
    let held = set_status(&app, id, "ON_HOLD").await;
    assert_eq!(held["status"], "ON_HOLD");
    assert!(held["lastStatusChangedTime"].as_str() >= t["lastStatusChangedTime"].as_str());
    let resolved = set_status(&app, id, "RESOLVED").await;
    assert_eq!(resolved["resolvedTime"], resolved["lastStatusChangedTime"]);
    assert_eq!(resolved["resolvedById"], agent);
    assert_eq!(resolved["resolvedByType"], "AGENT");
    assert!(resolved["resolvedTimeSpan"].as_i64().unwrap() >= 1);
    assert!(resolved["reopenedTime"].is_null());

    // 7. The visitor writes again: reopened.
    message(
        &app,
        id,
        "It broke again",
        Some(("VISITOR", visitor.clone())),
    )
    .await;
    let t = ticket(&app, id).await;
    assert_eq!(t["status"], "PENDING_INTERNAL");
    assert_eq!(t["reopenedTime"], t["lastStatusChangedTime"]);
    assert_eq!(
        t["resolvedTime"], resolved["resolvedTime"],
        "the last resolution is still on record"
    );

    // 8. A duplicate ticket of the same visitor is merged in.
    let duplicate = app
        .graphql(
            "mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }",
            json!({ "i": {
                "subject": "Login again", "channelId": "email", "contactOrVisitorId": visitor, "contactOrVisitorType": "VISITOR",
                "messages": [
                    { "body": "Me again", "sentById": visitor, "sentByType": "VISITOR", "channelId": "email" },
                    { "body": "Noted", "sentById": agent, "sentByType": "AGENT", "channelId": "email" },
                ],
            }}),
        )
        .await["createTicket"]["id"]
        .as_i64()
        .unwrap();
    app.graphql(
        "mutation($t: Int!, $s: Int!) { mergeTicket(targetId: $t, sourceId: $s) { id } }",
        json!({ "t": id, "s": duplicate }),
    )
    .await;
    let t = ticket(&app, id).await;
    assert_eq!(
        t["totalReplies"], 7,
        "5 of its own public messages and the 2 merged in"
    );
    let messages = app
        .graphql(
            "query($id: Int!) { ticket(id: $id) { messages(first: 100) { totalCount } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        messages["ticket"]["messages"]["totalCount"], 8,
        "7 messages and the note"
    );
    let source = ticket(&app, duplicate).await;
    assert_eq!(source["status"], "RESOLVED");
    assert_eq!(source["mergedToTargetId"], id);

    let log = app
        .graphql(
            "query($id: Int!) { ticket(id: $id) { eventLogs { type } } }",
            json!({ "id": id }),
        )
        .await["ticket"]["eventLogs"]
        .clone();
    let types: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    for expected in ["created", "replied", "noteAdded", "statusChanged", "merged"] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
}

#[tokio::test]
async fn an_imported_message_with_a_past_time_counts_but_does_not_become_the_last() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann")
        .await
        .to_string();
    let id = crate::ticket_list::create(
        &app,
        json!({ "subject": "s", "channelId": "email", "contactOrVisitorId": contact }),
    )
    .await;
    let reply = message(&app, id, "Latest answer", None).await;
    let before = ticket(&app, id).await;
    app.graphql(
        "mutation($id: Int!, $m: MessageInput!) { addMessage(ticketId: $id, input: $m) { id } }",
        json!({ "id": id, "m": { "body": "old question", "sentById": contact, "sentByType": "CONTACT", "time": "2020-01-01T00:00:00.000Z" } }),
    )
    .await;
    let after = ticket(&app, id).await;
    assert_eq!(after["lastMessageId"], reply);
    assert_eq!(after["lastRepliedTime"], before["lastRepliedTime"]);
    assert_eq!(
        after["status"], "PENDING_EXTERNAL",
        "an old customer message does not make it their turn again"
    );
    assert_eq!(after["totalReplies"], 2);
}

/// createTicket works a whole conversation out in memory and writes it once; the ticket must
/// come out exactly as if each message had been added on its own, imported history included.
#[tokio::test]
async fn a_ticket_created_with_messages_matches_one_given_them_one_by_one() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann")
        .await
        .to_string();
    let conversation = [
        json!({ "body": "<p>Where is parcel 4411?</p>", "channelId": "chat", "sentById": contact, "sentByType": "CONTACT", "time": "2030-01-01T10:00:00.000Z" }),
        json!({ "body": "<p>Checking with the courier</p>", "channelId": "email", "sentByType": "AGENT", "time": "2030-01-01T10:05:00.000Z" }),
        json!({ "body": "<p>internal: courier says Tuesday</p>", "isInternal": true, "time": "2030-01-01T10:06:00.000Z" }),
        json!({ "body": "<p>older question</p>", "channelId": "chat", "sentById": contact, "sentByType": "CONTACT", "time": "2020-01-01T00:00:00.000Z" }),
    ];
    let new = |messages: Vec<Value>| json!({ "subject": "Parcel", "channelId": "email", "contactOrVisitorId": contact, "messages": messages });
    let at_once = crate::ticket_list::create(&app, new(conversation.to_vec())).await;
    let one_by_one = crate::ticket_list::create(&app, new(Vec::new())).await;
    for m in &conversation {
        app.graphql(
            "mutation($id: Int!, $m: MessageInput!) { addMessage(ticketId: $id, input: $m) { id } }",
            json!({ "id": one_by_one, "m": m }),
        )
        .await;
    }

    let read = |id: i64| {
        let app = &app;
        async move {
            let data = app
                .graphql(
                    &format!("query($id: Int!) {{ ticket(id: $id) {{ {FIELDS} lastMessage {{ body }} messages(first: 10) {{ nodes {{ body time isInternal }} }} }} }}"),
                    json!({ "id": id }),
                )
                .await;
            let mut t = data["ticket"].clone();
            // Ids, and the times the server stamps when it writes, differ between the two.
            for key in [
                "id",
                "lastMessageId",
                "createdTime",
                "lastUpdatedTime",
                "lastStatusChangedTime",
                "firstResponseTimeSpan",
                "responseTimeSpan",
            ] {
                t.as_object_mut().unwrap().remove(key);
            }
            t
        }
    };
    let (a, b) = (read(at_once).await, read(one_by_one).await);
    assert_eq!(a, b);
    assert_eq!(a["totalReplies"], 3, "{a}");
    assert_eq!(
        a["lastMessage"]["body"],
        "<p>internal: courier says Tuesday</p>"
    );
    assert_eq!(a["status"], "PENDING_EXTERNAL", "{a}");

    // Every message is in the search document, the created one's included.
    let found = app
        .graphql(
            "{ tickets(filter: { keywords: \"courier tuesday\" }) { nodes { id } } }",
            json!({}),
        )
        .await;
    let ids: Vec<i64> = found["tickets"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.contains(&at_once) && ids.contains(&one_by_one),
        "{found}"
    );
}

#[tokio::test]
async fn an_explicit_status_at_creation_wins_over_the_turn_its_messages_take() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann").await;
    let id = crate::ticket_list::create(
        &app,
        json!({
            "subject": "Parcel", "channelId": "email", "contactOrVisitorId": contact,
            "status": "RESOLVED",
            "messages": [{ "body": "<p>Found it, thanks</p>", "sentById": contact, "sentByType": "CONTACT" }],
        }),
    )
    .await;
    let data = app
        .graphql(
            "query($id: Int!) { ticket(id: $id) { status resolvedTime resolvedById totalReplies lastMessageId eventLogs { type } } }",
            json!({ "id": id }),
        )
        .await;
    let t = &data["ticket"];
    assert_eq!(t["status"], "RESOLVED", "{t}");
    assert!(t["resolvedTime"].is_string(), "{t}");
    assert_eq!(t["resolvedById"], app.site.admin.id.to_string(), "{t}");
    assert_eq!(t["totalReplies"], 1, "{t}");
    assert!(t["lastMessageId"].is_string(), "{t}");
    let kinds: Vec<&str> = t["eventLogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"created"), "{kinds:?}");
    assert!(kinds.contains(&"replied"), "{kinds:?}");
}
