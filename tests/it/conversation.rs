//! A ticket's conversation: messages and notes, the draft, note mentions and the event log,
//! through the mutations that write them and the ticket relations that read them.

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, fixtures};
use deskgraph::entity::*;

const ATTACHMENT_FIELDS: &str = "id fileKey name size type url";

fn message_fields() -> String {
    format!(
        "id ticketId parentId originalId sentById sentByType time type metadata channelId
        channelAccountId body translatedBody ifDisplayInTicketCorrespondences
        isOriginalSentToContact showInlineImage isRead isInternal
        messageDelivery {{ status failReason time groupId orderNum }}
        attachments {{ {ATTACHMENT_FIELDS} }}"
    )
}

fn add_message() -> String {
    format!(
        "mutation($id: Int!, $input: MessageInput!) {{ addMessage(ticketId: $id, input: $input) {{ {} }} }}",
        message_fields()
    )
}

const ADD_NOTE: &str = "mutation($id: Int!, $input: NoteInput!) {
    addNote(ticketId: $id, input: $input) { id isInternal sentById sentByType body attachments { name } } }";

const SAVE_DRAFT: &str = "mutation($id: Int!, $input: DraftInput!) {
    saveDraft(ticketId: $id, input: $input) {
        ticketId body type metadata lastUpdatedById lastUpdatedTime
        attachments { id ticketId fileKey name size type url } } }";

const DISCARD_DRAFT: &str =
    "mutation($id: Int!) { discardDraft(ticketId: $id) { id ifHasDraft lastUpdatedTime } }";

/// The message of the spec's `POST ticketing/tickets` sample, enums in GraphQL spelling.
fn spec_message() -> Value {
    json!({
        "translatedBody": "",
        "parentId": "ef50cc68-5b88-4405-88f0-84334581246d",
        "sentById": "31cb8d70-b5a6-4faa-b021-62335d6dcf6c",
        "sentByType": "VISITOR",
        "time": "2021-04-26T10:52:24.336Z",
        "type": "text",
        "metadata": {
            "channel": { "channelAccount": "b293de41-e8a5-46b5-98dc-f8db9e5e6518", "isFromChannelToPlatform": true },
            "source": { "contactIdentityId": "b293de41-e8a5-46b5-98dc-f8db9e5e6518", "conversationId": "1848" },
            "decoration": { "chat": { "title": "Chat Transcript with 1" }, "offlineMessage": { "title": "Chat Transcript with 1" } }
        },
        "originalId": "96e7964a-29cb-40d6-8251-4f334b5748bd",
        "channelId": "Email",
        "body": "data:text/plain;base64,PHA+MTExPC9wPg==",
        "ifDisplayInTicketCorrespondences": true,
        "isOriginalSentToContact": true,
        "showInlineImage": true,
        "isRead": true,
        "isInternal": true,
        "messageDelivery": {
            "status": "failed",
            "failReason": "something is wrong.",
            "time": "2021-04-26T10:52:24.336Z",
            "groupId": "8c0136f3-9dd3-47f3-be12-81b232c84408",
            "orderNum": 0
        },
        "attachments": [{
            "fileKey": "isqo-ngLG1Vw7Uh0ieeIGXSjVoAX2DhmQKeWmi7",
            "name": "my file",
            "size": 10,
            "type": "file",
            "url": "http://myfile/url"
        }]
    })
}

/// The draft metadata of the spec's ticket sample.
fn spec_draft_metadata() -> Value {
    json!({
        "channel": null, "source": null,
        "decoration": {
            "files": null, "location": null, "buttons": null, "quickReplies": null,
            "email": { "from": null, "to": null, "cc": "test@163.com;", "bcc": null, "subject": "111", "quote": "", "ifHasAttachmentNotReceived": false }
        },
        "context": null
    })
}

fn attachment(name: &str) -> Value {
    json!({ "fileKey": format!("key-{name}"), "name": name, "size": 10, "url": format!("http://files/{name}") })
}

async fn new_ticket(app: &TestApp, subject: &str) -> i64 {
    let contact = fixtures::contact(&app.db, app.site.site.id, "Michael Chen").await;
    app.graphql(
        "mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }",
        json!({ "input": { "subject": subject, "channelId": "email", "contactOrVisitorId": contact } }),
    )
    .await["createTicket"]["id"]
        .as_i64()
        .unwrap()
}

async fn say(app: &TestApp, ticket: i64, body: &str) -> Value {
    app.graphql(
        &add_message(),
        json!({ "id": ticket, "input": { "body": body } }),
    )
    .await["addMessage"]
        .clone()
}

async fn ticket(app: &TestApp, id: i64, fields: &str) -> Value {
    app.graphql(
        &format!("query($id: Int!) {{ ticket(id: $id) {{ {fields} }} }}"),
        json!({ "id": id }),
    )
    .await["ticket"]
        .clone()
}

/// Row counts of every conversation table, to show that a refused request wrote nothing.
async fn conversation_rows(app: &TestApp) -> [u64; 6] {
    [
        messages::Entity::find().count(&app.db).await.unwrap(),
        message_attachments::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        drafts::Entity::find().count(&app.db).await.unwrap(),
        draft_attachments::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        note_mentions::Entity::find().count(&app.db).await.unwrap(),
        ticket_event_logs::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
    ]
}

fn assert_bad_input(error: &Value, field: &str) {
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert_eq!(error["extensions"]["field"], field, "{error}");
}

#[tokio::test]
async fn the_spec_sample_message_round_trips_through_add_message_and_messages() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app, "Chat Transcript with Michael").await;
    let sample = spec_message();

    let added = app
        .graphql(&add_message(), json!({ "id": id, "input": sample }))
        .await["addMessage"]
        .clone();
    for (key, value) in sample.as_object().unwrap() {
        if key == "attachments" {
            continue;
        }
        assert_eq!(&added[key], value, "{key} reads back as given");
    }
    let attachments = added["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    let mut given = sample["attachments"][0].clone();
    given["id"] = attachments[0]["id"].clone();
    assert_eq!(attachments[0], given);
    assert!(Uuid::parse_str(attachments[0]["id"].as_str().unwrap()).is_ok());
    assert_eq!(added["ticketId"], id);
    assert_eq!(
        added["channelAccountId"], "b293de41-e8a5-46b5-98dc-f8db9e5e6518",
        "the channel account comes from metadata.channel.channelAccount"
    );
    assert_eq!(
        added["body"], "data:text/plain;base64,PHA+MTExPC9wPg==",
        "a data URI body is kept as given"
    );

    let read = ticket(
        &app,
        id,
        &format!(
            "messages {{ totalCount edges {{ node {{ {} }} }} }}",
            message_fields()
        ),
    )
    .await;
    assert_eq!(read["messages"]["totalCount"], 1);
    assert_eq!(read["messages"]["edges"][0]["node"], added);
}

#[tokio::test]
async fn defaults_fill_what_a_message_leaves_out() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app, "Defaults").await;
    let before = chrono::Utc::now() - chrono::TimeDelta::seconds(5);
    let m = say(&app, id, "Hello").await;
    assert_eq!(
        m["sentById"],
        app.site.admin.id.to_string(),
        "the caller sent it"
    );
    assert_eq!(m["sentByType"], "AGENT");
    assert_eq!(m["type"], "text");
    assert_eq!(m["isInternal"], false);
    assert_eq!(m["ifDisplayInTicketCorrespondences"], true);
    assert_eq!(m["translatedBody"], "");
    assert!(m["metadata"].is_null());
    assert!(m["messageDelivery"].is_null());
    assert!(m["channelAccountId"].is_null());
    assert_eq!(m["attachments"], json!([]));
    let time = chrono::DateTime::parse_from_rfc3339(m["time"].as_str().unwrap()).unwrap();
    assert!(time > before, "time defaults to now: {time}");

    // A sender type alone names no one in particular.
    let m = app
        .graphql(
            &add_message(),
            json!({ "id": id, "input": { "body": "Automatic reply", "sentByType": "SYSTEM" } }),
        )
        .await["addMessage"]
        .clone();
    assert!(m["sentById"].is_null());
    assert_eq!(m["sentByType"], "SYSTEM");
}

#[tokio::test]
async fn a_public_message_is_a_reply_and_a_note_is_not() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let contact = fixtures::contact(&app.db, site, "Ann").await;
    let id = new_ticket(&app, "Printer on fire").await;
    const STATS: &str = "lastMessageId lastMessageChannelId lastMessageChannelAccountId
        lastRepliedById lastRepliedByType lastRepliedTime totalReplies lastUpdatedTime
        lastMessage { id body isInternal }";

    let created = ticket(&app, id, STATS).await;
    assert!(created["lastMessageId"].is_null());
    assert!(created["lastMessage"].is_null());
    assert_eq!(created["totalReplies"], 0);

    let from_contact = app
        .graphql(
            &add_message(),
            json!({ "id": id, "input": {
                "body": "It is still burning",
                "sentById": contact,
                "sentByType": "CONTACT",
                "channelId": "Email",
                "metadata": { "channel": { "channelAccount": "b293de41-e8a5-46b5-98dc-f8db9e5e6518" } },
            }}),
        )
        .await["addMessage"]
        .clone();
    let t = ticket(&app, id, STATS).await;
    assert_eq!(t["lastMessageId"], from_contact["id"]);
    assert_eq!(t["lastMessage"]["id"], from_contact["id"]);
    assert_eq!(t["lastMessage"]["body"], "It is still burning");
    assert_eq!(t["lastMessageChannelId"], "Email");
    assert_eq!(
        t["lastMessageChannelAccountId"],
        "b293de41-e8a5-46b5-98dc-f8db9e5e6518"
    );
    assert_eq!(t["lastRepliedById"], contact.to_string());
    assert_eq!(t["lastRepliedByType"], "CONTACT");
    assert_eq!(t["lastRepliedTime"], from_contact["time"]);
    assert_eq!(t["totalReplies"], 1);
    assert!(t["lastUpdatedTime"].as_str() >= created["lastUpdatedTime"].as_str());

    let reply = say(&app, id, "Use the extinguisher").await;
    let t = ticket(&app, id, STATS).await;
    assert_eq!(t["lastMessage"]["id"], reply["id"]);
    assert_eq!(t["lastRepliedById"], app.site.admin.id.to_string());
    assert_eq!(t["lastRepliedByType"], "AGENT");
    assert_eq!(t["lastRepliedTime"], reply["time"]);
    assert_eq!(t["totalReplies"], 2);

    let note = app
        .graphql(
            ADD_NOTE,
            json!({ "id": id, "input": { "body": "Call the fire brigade?" } }),
        )
        .await["addNote"]
        .clone();
    assert_eq!(note["isInternal"], true);
    let after_note = ticket(&app, id, STATS).await;
    assert_eq!(
        after_note["lastMessageId"], note["id"],
        "a note is the last message"
    );
    assert_eq!(after_note["lastMessage"]["isInternal"], true);
    assert_eq!(after_note["totalReplies"], 2, "a note is not a reply");
    assert_eq!(after_note["lastRepliedTime"], t["lastRepliedTime"]);
    assert_eq!(after_note["lastRepliedById"], t["lastRepliedById"]);

    // addMessage with isInternal is a note too.
    let internal = app
        .graphql(
            &add_message(),
            json!({ "id": id, "input": { "body": "Internal", "isInternal": true } }),
        )
        .await["addMessage"]
        .clone();
    let t = ticket(&app, id, STATS).await;
    assert_eq!(t["lastMessageId"], internal["id"]);
    assert_eq!(t["totalReplies"], 2);
}

#[tokio::test]
async fn messages_page_forwards_and_backwards_across_several_pages() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app, "Long thread").await;
    for n in 1..=6 {
        say(&app, id, &format!("m{n}")).await;
    }
    app.graphql(ADD_NOTE, json!({ "id": id, "input": { "body": "m7" } }))
        .await;
    // Sent long ago, added last: the conversation is in time order, so it comes first.
    app.graphql(
        &add_message(),
        json!({ "id": id, "input": { "body": "m0", "time": "2021-04-26T10:52:24.336Z" } }),
    )
    .await;

    let page = async |args: String| -> Value {
        let args = if args.is_empty() {
            args
        } else {
            format!("({args})")
        };
        ticket(
            &app,
            id,
            &format!(
                "messages{args} {{ totalCount edges {{ cursor node {{ body }} }}
                 pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }}"
            ),
        )
        .await["messages"]
            .clone()
    };
    let bodies = |p: &Value| -> Vec<String> {
        p["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["body"].as_str().unwrap().to_owned())
            .collect()
    };
    let flags = |p: &Value| {
        (
            p["pageInfo"]["hasPreviousPage"].as_bool().unwrap(),
            p["pageInfo"]["hasNextPage"].as_bool().unwrap(),
        )
    };

    // Forwards, three at a time.
    let p1 = page("first: 3".into()).await;
    assert_eq!(bodies(&p1), ["m0", "m1", "m2"]);
    assert_eq!(flags(&p1), (false, true));
    assert_eq!(p1["totalCount"], 8);
    assert_eq!(p1["pageInfo"]["endCursor"], p1["edges"][2]["cursor"]);
    let p2 = page(format!("first: 3, after: {}", p1["pageInfo"]["endCursor"])).await;
    assert_eq!(bodies(&p2), ["m3", "m4", "m5"]);
    assert_eq!(flags(&p2), (true, true));
    assert_eq!(p2["totalCount"], 8, "the total counts every page");
    let p3 = page(format!("first: 3, after: {}", p2["pageInfo"]["endCursor"])).await;
    assert_eq!(bodies(&p3), ["m6", "m7"]);
    assert_eq!(flags(&p3), (true, false));

    // Backwards from the newest.
    let b1 = page("last: 3".into()).await;
    assert_eq!(bodies(&b1), ["m5", "m6", "m7"]);
    assert_eq!(flags(&b1), (true, false));
    let b2 = page(format!(
        "last: 3, before: {}",
        b1["pageInfo"]["startCursor"]
    ))
    .await;
    assert_eq!(bodies(&b2), ["m2", "m3", "m4"]);
    assert_eq!(flags(&b2), (true, true));
    let b3 = page(format!(
        "last: 3, before: {}",
        b2["pageInfo"]["startCursor"]
    ))
    .await;
    assert_eq!(bodies(&b3), ["m0", "m1"]);
    assert_eq!(flags(&b3), (false, true));

    // Between two cursors; and the default page holds everything here.
    let between = page(format!(
        "after: {}, before: {}",
        p1["edges"][0]["cursor"], p3["edges"][0]["cursor"]
    ))
    .await;
    assert_eq!(bodies(&between), ["m1", "m2", "m3", "m4", "m5"]);
    assert_eq!(bodies(&page(String::new()).await).len(), 8);
    let empty = page("first: 0".into()).await;
    assert_eq!(bodies(&empty), Vec::<String>::new());
    assert_eq!(empty["totalCount"], 8);
}

#[tokio::test]
async fn page_sizes_beyond_the_limit_and_foreign_cursors_are_refused() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app, "Paging").await;
    for (args, field) in [
        ("first: 101", "first"),
        ("last: -1", "last"),
        ("after: \"not-a-cursor\"", "after"),
        ("before: \"bm9wZQ\"", "before"),
    ] {
        let (status, error) = app
            .graphql_error(
                &format!(
                    "query($id: Int!) {{ ticket(id: $id) {{ messages({args}) {{ totalCount }} }} }}"
                ),
                json!({ "id": id }),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_bad_input(&error, field);
    }
}

#[tokio::test]
async fn a_draft_saved_twice_keeps_only_the_second_and_discarding_removes_it() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app, "Draft").await;
    const DRAFT: &str = "ifHasDraft lastUpdatedTime draft { ticketId body type metadata
        lastUpdatedById lastUpdatedTime attachments { id ticketId fileKey name size type url } }";

    let first = app
        .graphql(
            SAVE_DRAFT,
            json!({ "id": id, "input": {
                "body": "data:text/plain;base64,PHA+MTExPC9wPg==",
                "metadata": spec_draft_metadata(),
                "attachments": [attachment("a.pdf"), attachment("b.png")],
            }}),
        )
        .await["saveDraft"]
        .clone();
    assert_eq!(first["ticketId"], id);
    assert_eq!(
        first["type"], "html",
        "a draft is HTML unless it says otherwise"
    );
    assert_eq!(first["metadata"], spec_draft_metadata());
    assert_eq!(first["lastUpdatedById"], app.site.admin.id.to_string());
    let names: Vec<_> = first["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, ["a.pdf", "b.png"]);
    assert_eq!(first["attachments"][0]["ticketId"], id);
    assert_eq!(first["attachments"][0]["type"], "file");
    assert_eq!(first["attachments"][0]["url"], "http://files/a.pdf");
    let t = ticket(&app, id, DRAFT).await;
    assert_eq!(t["ifHasDraft"], true);
    assert_eq!(t["draft"], first);

    let second = app
        .graphql(
            SAVE_DRAFT,
            json!({ "id": id, "input": {
                "body": "Second thoughts",
                "type": "text",
                "attachments": [{ "fileKey": "k", "name": "c.txt", "size": 3, "type": "inline" }],
            }}),
        )
        .await["saveDraft"]
        .clone();
    let again = ticket(&app, id, DRAFT).await;
    assert_eq!(again["draft"], second);
    assert_eq!(again["draft"]["body"], "Second thoughts");
    assert_eq!(again["draft"]["type"], "text");
    assert!(
        again["draft"]["metadata"].is_null(),
        "the whole draft is replaced"
    );
    assert_eq!(again["draft"]["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(again["draft"]["attachments"][0]["name"], "c.txt");
    assert_eq!(again["draft"]["attachments"][0]["type"], "inline");
    assert_eq!(again["draft"]["attachments"][0]["url"], "");
    assert_eq!(
        again["lastUpdatedTime"], t["lastUpdatedTime"],
        "saving an existing draft again leaves the ticket alone"
    );
    assert_eq!(conversation_rows(&app).await[2..4], [1, 1]);

    let discarded = app.graphql(DISCARD_DRAFT, json!({ "id": id })).await["discardDraft"].clone();
    assert_eq!(discarded["id"], id);
    assert_eq!(discarded["ifHasDraft"], false);
    let gone = ticket(&app, id, DRAFT).await;
    assert!(gone["draft"].is_null());
    assert_eq!(gone["ifHasDraft"], false);
    assert_eq!(
        conversation_rows(&app).await[2..4],
        [0, 0],
        "attachments go with the draft"
    );

    let logs_before = conversation_rows(&app).await[5];
    let again = app.graphql(DISCARD_DRAFT, json!({ "id": id })).await["discardDraft"].clone();
    assert_eq!(again["ifHasDraft"], false);
    assert_eq!(
        conversation_rows(&app).await[5],
        logs_before,
        "discarding nothing logs nothing"
    );
}

#[tokio::test]
async fn writes_in_one_document_each_read_back_their_own_result() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app, "One document").await;
    // Mutations of one document share the request's loaders: what the first one read must
    // not stand in for what the second one wrote.
    let data = app
        .graphql(
            "mutation($id: Int!) {
                a: saveDraft(ticketId: $id, input: { body: \"one\", attachments: [{ fileKey: \"k\", name: \"first\" }] }) { attachments { name } }
                b: saveDraft(ticketId: $id, input: { body: \"two\", attachments: [{ fileKey: \"k\", name: \"second\" }] }) { attachments { name } }
                c: addMessage(ticketId: $id, input: { body: \"hello\" }) { id }
                d: discardDraft(ticketId: $id) { ifHasDraft draft { body } lastMessage { body }
                    messages { totalCount } eventLogs { type } }
            }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(data["a"]["attachments"], json!([{ "name": "first" }]));
    assert_eq!(data["b"]["attachments"], json!([{ "name": "second" }]));
    assert_eq!(data["d"]["ifHasDraft"], false);
    assert!(data["d"]["draft"].is_null());
    assert_eq!(data["d"]["lastMessage"]["body"], "hello");
    assert_eq!(data["d"]["messages"]["totalCount"], 1);
    let kinds: Vec<_> = data["d"]["eventLogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "draftSaved",
            "draftSaved",
            "replied",
            "draftDiscarded"
        ]
    );
}

#[tokio::test]
async fn a_note_mentions_each_agent_once() {
    let app = TestApp::spawn().await;
    let site = app.site.site.id;
    let me = app.site.admin.id;
    let colleague = fixtures::agent(&app.db, site, "Bea").await;
    let id = new_ticket(&app, "Needs a second look").await;

    let note = app
        .graphql(
            ADD_NOTE,
            json!({ "id": id, "input": {
                "body": "@Bea can you check?",
                "mentionedAgentIds": [colleague, me, colleague],
                "attachments": [attachment("log.txt")],
            }}),
        )
        .await["addNote"]
        .clone();
    assert_eq!(note["isInternal"], true);
    assert_eq!(note["sentById"], me.to_string());
    assert_eq!(note["sentByType"], "AGENT");
    assert_eq!(note["attachments"], json!([{ "name": "log.txt" }]));

    let t = ticket(
        &app,
        id,
        "noteMentions { id noteId agentId ticketId isReadByAgent }",
    )
    .await;
    let mentions = t["noteMentions"].as_array().unwrap();
    assert_eq!(mentions.len(), 2, "{mentions:?}");
    let mut agents: Vec<_> = mentions.iter().map(|m| m["agentId"].clone()).collect();
    agents.sort_by_key(|a| a.to_string());
    let mut expected = vec![json!(colleague.to_string()), json!(me.to_string())];
    expected.sort_by_key(|a| a.to_string());
    assert_eq!(agents, expected);
    for m in mentions {
        assert_eq!(m["noteId"], note["id"]);
        assert_eq!(m["ticketId"], id);
        assert_eq!(m["isReadByAgent"], false);
    }
}

#[tokio::test]
async fn mentioning_an_agent_of_another_site_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (other, _) = app.other_site().await;
    let id = new_ticket(&app, "Private").await;
    let before = conversation_rows(&app).await;

    for stranger in [other.admin.id, Uuid::now_v7()] {
        let (_, error) = app
            .graphql_error(
                ADD_NOTE,
                json!({ "id": id, "input": {
                    "body": "Look",
                    "mentionedAgentIds": [app.site.admin.id, stranger],
                }}),
            )
            .await;
        assert_bad_input(&error, "mentionedAgentIds");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains(&stranger.to_string())
        );
    }
    assert_eq!(conversation_rows(&app).await, before);
    let t = ticket(&app, id, "lastMessageId noteMentions { id }").await;
    assert!(t["lastMessageId"].is_null());
    assert_eq!(t["noteMentions"], json!([]));
}

#[tokio::test]
async fn every_write_on_another_sites_ticket_is_not_found_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app, "Mine").await;
    say(&app, id, "hello").await;
    app.graphql(SAVE_DRAFT, json!({ "id": id, "input": { "body": "wip" } }))
        .await;
    let before = conversation_rows(&app).await;
    let ticket_before = ticket(&app, id, "lastUpdatedTime totalReplies ifHasDraft").await;

    let (_, other_token) = app.other_site().await;
    let attempts = [
        (
            add_message(),
            json!({ "id": id, "input": { "body": "intrusion" } }),
        ),
        (
            ADD_NOTE.to_owned(),
            json!({ "id": id, "input": { "body": "intrusion" } }),
        ),
        (
            SAVE_DRAFT.to_owned(),
            json!({ "id": id, "input": { "body": "intrusion" } }),
        ),
        (DISCARD_DRAFT.to_owned(), json!({ "id": id })),
    ];
    for (mutation, variables) in attempts {
        let (status, body) = app
            .graphql_with(Some(&other_token), &mutation, variables)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{body}"
        );
        assert_eq!(
            body["errors"][0]["message"],
            format!("ticket {id} not found")
        );
        assert!(body["data"].is_null(), "{body}");
    }
    assert_eq!(conversation_rows(&app).await, before);
    assert_eq!(
        ticket(&app, id, "lastUpdatedTime totalReplies ifHasDraft").await,
        ticket_before
    );

    // An unknown ticket answers the same.
    let (_, error) = app
        .graphql_error(
            &add_message(),
            json!({ "id": 999_999, "input": { "body": "x" } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn validation_errors_name_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app, "Validation").await;
    let before = conversation_rows(&app).await;
    let too_many: Vec<_> = (0..21).map(|i| attachment(&format!("f{i}"))).collect();

    let message_cases = [
        (json!({ "body": "  " }), "body"),
        (json!({ "body": "x".repeat(1024 * 1024 + 1) }), "body"),
        (
            json!({ "body": "hi", "sentById": Uuid::now_v7() }),
            "sentByType",
        ),
        (
            json!({ "body": "hi", "attachments": too_many }),
            "attachments",
        ),
        (
            json!({ "body": "hi", "attachments": [attachment("ok"), { "fileKey": "k", "name": "" }] }),
            "attachments[1].name",
        ),
        (
            json!({ "body": "hi", "attachments": [{ "fileKey": "k".repeat(501), "name": "n" }] }),
            "attachments[0].fileKey",
        ),
        (
            json!({ "body": "hi", "attachments": [{ "fileKey": "k", "name": "n", "size": -1 }] }),
            "attachments[0].size",
        ),
        (
            json!({ "body": "hi", "messageDelivery": { "status": "" } }),
            "messageDelivery.status",
        ),
    ];
    for (input, field) in message_cases {
        let (status, error) = app
            .graphql_error(&add_message(), json!({ "id": id, "input": input }))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_bad_input(&error, field);
    }

    let (_, error) = app
        .graphql_error(ADD_NOTE, json!({ "id": id, "input": { "body": "" } }))
        .await;
    assert_bad_input(&error, "body");

    let (_, error) = app
        .graphql_error(
            SAVE_DRAFT,
            json!({ "id": id, "input": { "body": "", "attachments": [{ "fileKey": "k", "name": "n", "url": "u".repeat(2001) }] } }),
        )
        .await;
    assert_bad_input(&error, "attachments[0].url");

    // Not even a lookup: a malformed id is refused before anything runs.
    let (status, body) = app
        .graphql_with(
            Some(&app.token),
            ADD_NOTE,
            json!({ "id": id, "input": { "body": "x", "mentionedAgentIds": ["nope"] } }),
        )
        .await;
    assert!(!status.is_server_error());
    assert!(body["errors"][0]["message"].as_str().is_some(), "{body}");

    assert_eq!(conversation_rows(&app).await, before);
}

#[tokio::test]
async fn the_event_log_records_replies_notes_and_drafts() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app, "History").await;
    let reply = say(&app, id, "Hello").await;
    let colleague = fixtures::agent(&app.db, app.site.site.id, "Cy").await;
    let note = app
        .graphql(
            ADD_NOTE,
            json!({ "id": id, "input": { "body": "fyi", "mentionedAgentIds": [colleague] } }),
        )
        .await["addNote"]
        .clone();
    app.graphql(SAVE_DRAFT, json!({ "id": id, "input": { "body": "wip" } }))
        .await;
    app.graphql(DISCARD_DRAFT, json!({ "id": id })).await;

    let logs = ticket(
        &app,
        id,
        "eventLogs { id ticketId type createdById createdByType detail time }",
    )
    .await["eventLogs"]
        .clone();
    let kinds: Vec<_> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "replied",
            "noteAdded",
            "draftSaved",
            "draftDiscarded"
        ]
    );
    for log in logs.as_array().unwrap() {
        assert_eq!(log["ticketId"], id);
        assert_eq!(log["createdById"], app.site.admin.id.to_string());
        assert_eq!(log["createdByType"], "AGENT");
    }
    assert_eq!(logs[1]["detail"]["messageId"], reply["id"]);
    assert_eq!(logs[1]["detail"]["sentByType"], "agent");
    assert_eq!(logs[2]["detail"]["messageId"], note["id"]);
    assert_eq!(
        logs[2]["detail"]["mentionedAgentIds"],
        json!([colleague.to_string()])
    );
}

#[tokio::test]
async fn a_pages_attachments_load_in_one_query() {
    let app = TestApp::spawn().await;
    let id = new_ticket(&app, "Many files").await;
    for n in 0..10 {
        app.graphql(
            &add_message(),
            json!({ "id": id, "input": { "body": format!("m{n}"), "attachments": [attachment(&format!("f{n}"))] } }),
        )
        .await;
    }
    app.sql.start();
    let t = ticket(
        &app,
        id,
        "messages(first: 10) { edges { node { body attachments { name } } } }",
    )
    .await;
    let sql = app.sql.stop();
    let edges = t["messages"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 10);
    for (n, e) in edges.iter().enumerate() {
        assert_eq!(e["node"]["attachments"][0]["name"], format!("f{n}"));
    }
    assert_eq!(selects_from(&sql, "message_attachments"), 1, "{sql:#?}");
    assert_eq!(selects_from(&sql, "messages"), 1, "{sql:#?}");
}

#[tokio::test]
async fn several_tickets_in_one_query_each_get_their_own_conversation() {
    // How many queries this costs is checked where the tickets can arrive as one list
    // (graphql::conversation's unit tests): `ticket(id)` aliases read their tickets one by
    // one, so their relations may start a few milliseconds apart and split a batch.
    let app = TestApp::spawn().await;
    let colleague = fixtures::agent(&app.db, app.site.site.id, "Di").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let id = new_ticket(&app, &format!("t{n}")).await;
        for m in 0..2 {
            app.graphql(
                &add_message(),
                json!({ "id": id, "input": { "body": format!("t{n}m{m}"), "attachments": [attachment(&format!("t{n}f{m}"))] } }),
            )
            .await;
        }
        app.graphql(
            ADD_NOTE,
            json!({ "id": id, "input": { "body": format!("t{n} note"), "mentionedAgentIds": [colleague] } }),
        )
        .await;
        if n % 2 == 0 {
            app.graphql(
                SAVE_DRAFT,
                json!({ "id": id, "input": { "body": format!("t{n} draft"), "attachments": [attachment(&format!("t{n}d"))] } }),
            )
            .await;
        }
        ids.push(id);
    }
    let query = format!(
        "{{ {} }}",
        ids.iter()
            .map(|id| format!(
                "t{id}: ticket(id: {id}) {{
                    messages {{ totalCount edges {{ node {{ body ticketId attachments {{ name }} }} }} }}
                    lastMessage {{ body }}
                    draft {{ body attachments {{ name }} }}
                    noteMentions {{ agentId ticketId }}
                    eventLogs {{ type ticketId }} }}"
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let data = app.graphql(&query, json!({})).await;
    for (n, id) in ids.iter().enumerate() {
        let t = &data[format!("t{id}")];
        let bodies: Vec<_> = t["messages"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["node"]["ticketId"], *id);
                e["node"]["body"].as_str().unwrap().to_owned()
            })
            .collect();
        assert_eq!(
            bodies,
            [format!("t{n}m0"), format!("t{n}m1"), format!("t{n} note")]
        );
        assert_eq!(t["messages"]["totalCount"], 3);
        assert_eq!(
            t["messages"]["edges"][1]["node"]["attachments"],
            json!([{ "name": format!("t{n}f1") }])
        );
        assert_eq!(t["lastMessage"]["body"], format!("t{n} note"));
        if n % 2 == 0 {
            assert_eq!(t["draft"]["body"], format!("t{n} draft"));
            assert_eq!(
                t["draft"]["attachments"],
                json!([{ "name": format!("t{n}d") }])
            );
        } else {
            assert!(t["draft"].is_null());
        }
        assert_eq!(
            t["noteMentions"],
            json!([{ "agentId": colleague.to_string(), "ticketId": id }])
        );
        let logs = t["eventLogs"].as_array().unwrap();
        assert_eq!(logs.len(), if n % 2 == 0 { 5 } else { 4 });
        assert!(logs.iter().all(|l| l["ticketId"] == *id));
    }
}

/// How many of `sql` read from `table` (`FROM "table"`, quoted alike on both backends).
fn selects_from(sql: &[String], table: &str) -> usize {
    let needle = format!("FROM \"{table}\"");
    sql.iter()
        .filter(|s| s.starts_with("SELECT") && s.contains(&needle))
        .count()
}
