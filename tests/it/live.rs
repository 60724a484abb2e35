//! Live updates over `/graphql/ws` (graphql-transport-ws), spoken to with a real WebSocket
//! client: events for changes made through GraphQL and REST, site isolation, filters, unread
//! counts, the protocol's close codes, slow subscribers, and replicas sharing one database.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::harness::{TestApp, fixtures, vocabulary};
use deskgraph::entity::ConditionMetType;

const WAIT: Duration = Duration::from_secs(10);

const CHANGED: &str = "subscription($f: TicketFilter) { ticketChanged(filter: $f) { kind ticketId ticket { id subject status } } }";

/// A graphql-transport-ws client, as small as the tests need.
pub struct Ws {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Ws {
    pub async fn connect(base: &str) -> Ws {
        let url = format!("{}/graphql/ws", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket handshake");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        Ws { socket }
    }

    /// Connected, initialised with `payload` and acknowledged.
    pub async fn open_with(base: &str, payload: Value) -> Ws {
        let mut ws = Ws::connect(base).await;
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let ack = ws.recv().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        ws
    }

    pub async fn open(base: &str, token: &str) -> Ws {
        Ws::open_with(base, json!({ "Authorization": format!("Bearer {token}") })).await
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// The next protocol message (server pings are answered and skipped).
    pub async fn recv(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message in time")
                .expect("the socket open")
                .expect("a readable message");
            match message {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if value["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return value;
                }
                Message::Close(frame) => panic!("closed unexpectedly: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Reads until the server closes; returns the close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        loop {
            let message = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("the server closes in time");
            match message {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (frame.code.into(), frame.reason.to_string());
                }
                Some(Ok(Message::Close(None))) => return (1005, String::new()),
                Some(Ok(_)) => continue,
                other => panic!("connection ended without a close frame: {other:?}"),
            }
        }
    }

    /// Subscribes, then waits for a ping/pong round trip: once it is back, the subscription
    /// is in place on the server.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "type": "subscribe", "id": id,
            "payload": { "query": query, "variables": variables } }))
            .await;
        self.send(json!({ "type": "ping" })).await;
        let pong = self.recv().await;
        assert_eq!(pong["type"], "pong", "{pong}");
    }

    /// The payload `data` of the next `next` message for `id`.
    pub async fn next(&mut self, id: &str) -> Value {
        let message = self.recv().await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], id, "{message}");
        assert!(message["payload"].get("errors").is_none(), "{message}");
        message["payload"]["data"].clone()
    }
}

async fn create_ticket(app: &TestApp, subject: &str) -> i64 {
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann Lee").await;
    let data = app
        .graphql(
            "mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }",
            json!({ "i": { "subject": subject, "channelId": "email", "contactOrVisitorId": contact } }),
        )
        .await;
    data["createTicket"]["id"].as_i64().unwrap()
}

async fn rest(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> StatusCode {
    let mut request = app
        .client
        .request(method, format!("{}/v4/ticketing/{path}", app.base))
        .bearer_auth(&app.token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    assert!(
        status.is_success(),
        "{path}: {status} {}",
        response.text().await.unwrap()
    );
    status
}

async fn mark_read(app: &TestApp, id: i64, read: bool) {
    let field = if read {
        "markTicketRead"
    } else {
        "markTicketUnread"
    };
    app.graphql(
        &format!("mutation($id: Int!) {{ {field}(id: $id) {{ id }} }}"),
        json!({ "id": id }),
    )
    .await;
}

fn change(data: &Value) -> (String, i64) {
    let c = &data["ticketChanged"];
    (
        c["kind"].as_str().unwrap().to_owned(),
        c["ticketId"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn a_subscriber_hears_changes_made_through_graphql_and_through_rest() {
    let app = TestApp::spawn().await;
    let mut ws = Ws::open(&app.base, &app.token).await;
    // Merged tickets are left out by default, as in `tickets`: ask for them.
    ws.subscribe("1", CHANGED, json!({ "f": { "includeMerged": true } }))
        .await;

    let id = create_ticket(&app, "Printer on fire").await;
    let data = ws.next("1").await;
    assert_eq!(change(&data), ("CREATED".into(), id));
    assert_eq!(
        data["ticketChanged"]["ticket"]["subject"],
        "Printer on fire"
    );

    rest(
        &app,
        Method::PUT,
        &format!("tickets/{id}"),
        Some(json!({ "subject": "Printer still on fire" })),
    )
    .await;
    let data = ws.next("1").await;
    assert_eq!(change(&data), ("UPDATED".into(), id));
    assert_eq!(
        data["ticketChanged"]["ticket"]["subject"],
        "Printer still on fire"
    );

    let message = json!({ "body": "It smokes", "channelId": "email" });
    app.graphql(
        "mutation($id: Int!, $m: MessageInput!) { addMessage(ticketId: $id, input: $m) { id } }",
        json!({ "id": id, "m": message }),
    )
    .await;
    assert_eq!(change(&ws.next("1").await), ("REPLIED".into(), id));

    let other = create_ticket(&app, "Toner").await;
    assert_eq!(change(&ws.next("1").await), ("CREATED".into(), other));
    rest(
        &app,
        Method::POST,
        &format!("tickets/{id}:merge"),
        Some(json!({ "sourceId": other })),
    )
    .await;
    let mut merged = vec![change(&ws.next("1").await), change(&ws.next("1").await)];
    merged.sort();
    assert_eq!(
        merged,
        vec![("MERGED".into(), id), ("MERGED".into(), other)]
    );

    rest(&app, Method::POST, &format!("tickets/{id}:recycle"), None).await;
    // Recycled tickets leave the default filter, as in `tickets`; this subscription's
    // filter is the default, so the recycling itself is not heard. Deletion is, always.
    rest(&app, Method::DELETE, &format!("tickets/{id}"), None).await;
    let data = ws.next("1").await;
    assert_eq!(change(&data), ("DELETED".into(), id));
    assert_eq!(data["ticketChanged"]["ticket"], Value::Null);
}

#[tokio::test]
async fn recycling_and_restoring_reach_a_subscriber_of_the_recycle_bin() {
    let app = TestApp::spawn().await;
    let mut ws = Ws::open(&app.base, &app.token).await;
    ws.subscribe("all", CHANGED, Value::Null).await;
    ws.subscribe("bin", CHANGED, json!({ "f": { "inRecycleBin": true } }))
        .await;
    let id = create_ticket(&app, "Old").await;
    assert_eq!(ws.heard(1).await, heard(&[("all", "CREATED", id)]));
    rest(&app, Method::POST, &format!("tickets/{id}:recycle"), None).await;
    assert_eq!(
        ws.heard(1).await,
        heard(&[("bin", "RECYCLED", id)]),
        "the default filter leaves recycled tickets out"
    );
    app.graphql(
        "mutation($id: Int!) { restoreTicket(id: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(ws.heard(1).await, heard(&[("all", "RESTORED", id)]));
}

type Heard = std::collections::BTreeMap<String, Vec<(String, i64)>>;

/// Expected events, grouped by subscription id (events of different subscriptions may
/// interleave in any order; those of one arrive in commit order).
fn heard(events: &[(&str, &str, i64)]) -> Heard {
    let mut out = Heard::new();
    for (sub, kind, id) in events {
        out.entry(sub.to_string())
            .or_default()
            .push((kind.to_string(), *id));
    }
    out
}

impl Ws {
    /// The next `n` events, grouped by subscription id.
    async fn heard(&mut self, n: usize) -> Heard {
        let mut out = Heard::new();
        for _ in 0..n {
            let message = self.recv().await;
            assert_eq!(message["type"], "next", "{message}");
            out.entry(message["id"].as_str().unwrap().to_owned())
                .or_default()
                .push(change(&message["payload"]["data"]));
        }
        out
    }
}

#[tokio::test]
async fn another_sites_subscriber_hears_nothing_of_this_site() {
    let app = TestApp::spawn().await;
    let (other_site, other_token) = app.other_site().await;
    let mut theirs = Ws::open(&app.base, &other_token).await;
    theirs.subscribe("x", CHANGED, Value::Null).await;
    let mut ours = Ws::open(&app.base, &app.token).await;
    ours.subscribe("x", CHANGED, Value::Null).await;

    let id = create_ticket(&app, "Ours").await;
    mark_read(&app, id, true).await;
    assert_eq!(change(&ours.next("x").await), ("CREATED".into(), id));
    assert_eq!(change(&ours.next("x").await), ("UPDATED".into(), id));

    // Then a change in the other site: the first (and only) thing its subscriber hears.
    let contact = fixtures::contact(&app.db, other_site.site.id, "Bo").await;
    let (status, body) = app
        .graphql_with(
            Some(&other_token),
            "mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }",
            json!({ "i": { "subject": "Theirs", "channelId": "email", "contactOrVisitorId": contact } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let theirs_id = body["data"]["createTicket"]["id"].as_i64().unwrap();
    let data = theirs.next("x").await;
    assert_eq!(change(&data), ("CREATED".into(), theirs_id));
    assert_eq!(data["ticketChanged"]["ticket"]["subject"], "Theirs");
}

#[tokio::test]
async fn ticket_changed_applies_the_filter_of_tickets_views_included() {
    let app = TestApp::spawn().await;
    let urgent_view = vocabulary::view(
        &app.db,
        app.site.site.id,
        ConditionMetType::All,
        &[("priority", "is", "urgent")],
    )
    .await;
    let mut ws = Ws::open(&app.base, &app.token).await;
    ws.subscribe("all", CHANGED, Value::Null).await;
    ws.subscribe("view", CHANGED, json!({ "f": { "viewId": urgent_view } }))
        .await;
    ws.subscribe(
        "status",
        CHANGED,
        json!({ "f": { "status": ["RESOLVED"] } }),
    )
    .await;
    let a = create_ticket(&app, "A").await;
    let b = create_ticket(&app, "B").await;
    assert_eq!(
        ws.heard(2).await,
        heard(&[("all", "CREATED", a), ("all", "CREATED", b)])
    );

    let set = |id: i64, input: Value| {
        let app = &app;
        async move {
            app.graphql(
                "mutation($id: Int!, $i: UpdateTicketInput!) { updateTicket(id: $id, input: $i) { id } }",
                json!({ "id": id, "i": input }),
            )
            .await;
        }
    };
    // One change at a time, each heard before the next is made: a filter that needs SQL sees
    // the ticket as it is when the change is dispatched.
    set(a, json!({ "priority": "LOW" })).await; // neither
    assert_eq!(ws.heard(1).await, heard(&[("all", "UPDATED", a)]));
    set(b, json!({ "priority": "URGENT" })).await; // the view
    assert_eq!(
        ws.heard(2).await,
        heard(&[("all", "UPDATED", b), ("view", "UPDATED", b)])
    );
    set(a, json!({ "status": "RESOLVED" })).await; // the status filter
    assert_eq!(
        ws.heard(2).await,
        heard(&[("all", "UPDATED", a), ("status", "UPDATED", a)])
    );
    set(b, json!({ "status": "RESOLVED" })).await; // both
    assert_eq!(
        ws.heard(3).await,
        heard(&[
            ("all", "UPDATED", b),
            ("status", "UPDATED", b),
            ("view", "UPDATED", b)
        ])
    );
}

#[tokio::test]
async fn ticket_changed_with_keywords_hears_a_ticket_once_its_words_match() {
    let app = TestApp::spawn().await;
    let mut ws = Ws::open(&app.base, &app.token).await;
    ws.subscribe("all", CHANGED, Value::Null).await;
    ws.subscribe("words", CHANGED, json!({ "f": { "keywords": "parc" } }))
        .await;
    let invoice = create_ticket(&app, "Invoice copy").await;
    assert_eq!(ws.heard(1).await, heard(&[("all", "CREATED", invoice)]));
    let parcel = create_ticket(&app, "Parcel missing").await;
    assert_eq!(
        ws.heard(2).await,
        heard(&[("all", "CREATED", parcel), ("words", "CREATED", parcel)])
    );
    // A reply that mentions a parcel brings the invoice ticket into the filter.
    app.graphql(
        "mutation($id: Int!, $m: MessageInput!) { addMessage(ticketId: $id, input: $m) { id } }",
        json!({ "id": invoice, "m": { "body": "<p>and the parcel too</p>" } }),
    )
    .await;
    assert_eq!(
        ws.heard(2).await,
        heard(&[("all", "REPLIED", invoice), ("words", "REPLIED", invoice)])
    );
}

#[tokio::test]
async fn an_unknown_view_is_an_error_message_and_the_connection_stays_open() {
    let app = TestApp::spawn().await;
    let mut ws = Ws::open(&app.base, &app.token).await;
    ws.send(json!({ "type": "subscribe", "id": "v", "payload": {
        "query": CHANGED, "variables": { "f": { "viewId": uuid::Uuid::now_v7() } } } }))
        .await;
    let error = ws.recv().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["id"], "v");
    assert_eq!(
        error["payload"][0]["extensions"]["code"], "NOT_FOUND",
        "{error}"
    );
    ws.subscribe("v", CHANGED, Value::Null).await;
    let id = create_ticket(&app, "Still here").await;
    assert_eq!(change(&ws.next("v").await), ("CREATED".into(), id));
}

#[tokio::test]
async fn a_write_that_fails_announces_nothing() {
    let app = TestApp::spawn().await;
    let mut ws = Ws::open(&app.base, &app.token).await;
    ws.subscribe("1", CHANGED, Value::Null).await;
    let id = create_ticket(&app, "Stale").await;
    assert_eq!(change(&ws.next("1").await), ("CREATED".into(), id));
    let (_, error) = app
        .graphql_error(
            "mutation($id: Int!) { updateTicket(id: $id, input: { subject: \"x\", expectedLastUpdatedTime: \"2000-01-01T00:00:00.000Z\" }) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "CONFLICT");
    mark_read(&app, id, true).await;
    let data = ws.next("1").await;
    assert_eq!(change(&data), ("UPDATED".into(), id));
    assert_eq!(data["ticketChanged"]["ticket"]["subject"], "Stale");
}

#[tokio::test]
async fn unread_count_changed_sends_the_counts_then_each_new_count() {
    let app = TestApp::spawn().await;
    let id = create_ticket(&app, "Unread").await;
    let mut ws = Ws::open(&app.base, &app.token).await;
    let query = "subscription { unreadCountChanged { allCount } }";
    ws.send(json!({ "type": "subscribe", "id": "u", "payload": { "query": query } }))
        .await;
    let first = ws.next("u").await["unreadCountChanged"]["allCount"].clone();
    mark_read(&app, id, true).await;
    let second = ws.next("u").await["unreadCountChanged"]["allCount"].clone();
    assert_eq!(second.as_i64().unwrap(), first.as_i64().unwrap() - 1);
    mark_read(&app, id, false).await;
    assert_eq!(ws.next("u").await["unreadCountChanged"]["allCount"], first);
}

#[tokio::test]
async fn the_token_is_taken_in_each_documented_spelling_and_a_bad_one_is_forbidden() {
    let app = TestApp::spawn().await;
    let bearer = format!("Bearer {}", app.token);
    for payload in [
        json!({ "Authorization": bearer }),
        json!({ "authorization": bearer }),
        json!({ "token": app.token }),
    ] {
        Ws::open_with(&app.base, payload).await;
    }
    for payload in [
        json!({ "Authorization": "Bearer nope" }),
        json!({}),
        Value::Null,
    ] {
        let mut ws = Ws::connect(&app.base).await;
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        assert_eq!(ws.closed().await, (4403, "Forbidden".into()));
    }
}

#[tokio::test]
async fn the_protocol_close_codes_are_sent_for_each_violation() {
    let app = TestApp::spawn_with(|c| c.ws_init_timeout = Duration::from_millis(300)).await;

    let mut ws = Ws::connect(&app.base).await;
    ws.subscribe_raw("1").await;
    assert_eq!(ws.closed().await, (4401, "Unauthorized".into()));

    let mut ws = Ws::connect(&app.base).await;
    assert_eq!(
        ws.closed().await,
        (4408, "Connection initialisation timeout".into())
    );

    let mut ws = Ws::open(&app.base, &app.token).await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(
        ws.closed().await,
        (4429, "Too many initialisation requests".into())
    );

    let mut ws = Ws::open(&app.base, &app.token).await;
    ws.subscribe("same", CHANGED, Value::Null).await;
    ws.subscribe_raw("same").await;
    assert_eq!(
        ws.closed().await,
        (4409, "Subscriber for same already exists".into())
    );

    for bad in ["not json", r#"{"type":"shout"}"#, r#"{"type":"subscribe"}"#] {
        let mut ws = Ws::open(&app.base, &app.token).await;
        ws.socket
            .send(Message::Text(bad.to_owned().into()))
            .await
            .unwrap();
        let (code, reason) = ws.closed().await;
        assert_eq!(code, 4400, "{bad}: {reason}");
        assert!(reason.starts_with("Invalid message received"), "{reason}");
    }
}

impl Ws {
    async fn subscribe_raw(&mut self, id: &str) {
        self.send(json!({ "type": "subscribe", "id": id, "payload": { "query": CHANGED } }))
            .await;
    }
}

#[tokio::test]
async fn the_server_pings_an_idle_connection_and_answers_pings() {
    let app = TestApp::spawn_with(|c| c.ws_keepalive = Duration::from_millis(200)).await;
    let mut ws = Ws::open(&app.base, &app.token).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.recv().await["type"], "pong");
    // The test client's recv answers pings itself; read raw here to see one.
    let raw = tokio::time::timeout(WAIT, ws.socket.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let value: Value = serde_json::from_str(raw.to_text().unwrap()).unwrap();
    assert_eq!(value["type"], "ping");
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_is_told_and_disconnected_while_others_keep_up() {
    let app = TestApp::spawn_with(|c| c.live_buffer = 4).await;
    let heavy = "subscription { ticketChanged { ticketId ticket { messages(first: 10) { nodes { body } } } } }";
    let mut slow = Ws::open(&app.base, &app.token).await;
    slow.subscribe("slow", heavy, Value::Null).await;
    let mut quick = Ws::open(&app.base, &app.token).await;
    quick.subscribe("quick", CHANGED, Value::Null).await;
    let id = create_ticket(&app, "Big").await;
    // Each event carries this body: a few of them fill the socket of a client not reading.
    let body = "x".repeat(800 * 1024);
    app.graphql(
        "mutation($id: Int!, $m: MessageInput!) { addMessage(ticketId: $id, input: $m) { id } }",
        json!({ "id": id, "m": { "body": body, "channelId": "email" } }),
    )
    .await;
    assert_eq!(change(&quick.next("quick").await), ("CREATED".into(), id));
    assert_eq!(change(&quick.next("quick").await), ("REPLIED".into(), id));

    // The slow client reads nothing while the changes are made; writers do not wait for it.
    let rounds = 40;
    let started = Instant::now();
    for i in 0..rounds {
        mark_read(&app, id, i % 2 == 0).await;
    }
    let writing = started.elapsed();
    for _ in 0..rounds {
        assert_eq!(change(&quick.next("quick").await), ("UPDATED".into(), id));
    }

    let mut delivered = 0;
    loop {
        let message = slow.recv().await;
        match message["type"].as_str() {
            Some("next") => delivered += 1,
            Some("error") => {
                assert_eq!(message["id"], "slow");
                assert_eq!(
                    message["payload"][0]["extensions"]["code"], "SUBSCRIPTION_LAGGED",
                    "{message}"
                );
                break;
            }
            _ => panic!("unexpected {message}"),
        }
    }
    assert!(
        delivered < rounds,
        "all {delivered} delivered: it never fell behind"
    );
    assert_eq!(slow.closed().await, (1013, "Subscriber fell behind".into()));
    assert!(
        writing < Duration::from_secs(20),
        "{rounds} writes took {writing:?}"
    );
}

/// Two server processes on one database: a change made through one reaches a subscriber of
/// the other (PostgreSQL LISTEN/NOTIFY). SQLite is one process by design (the file is owned by
/// one server), so there the same test runs with both roles on one process: the subscriber
/// and the writer are still different connections, and the event must still arrive.
#[tokio::test]
async fn a_change_made_through_one_server_reaches_a_subscriber_of_another() {
    use crate::harness::TestDb;
    use crate::process::{deskgraph, start};

    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let first = start(deskgraph(&db, dir.path()), true);
    let token = first.token.clone().unwrap();
    let second = if db.is_postgres() {
        // It prints the demo site's token too: read it all, or its prints hit a closed pipe.
        Some(start(deskgraph(&db, dir.path()), true))
    } else {
        None
    };
    let writer_base = second.as_ref().map_or(&first.base, |s| &s.base);

    let mut ws = Ws::open(&first.base, &token).await;
    ws.subscribe("r", CHANGED, Value::Null).await;
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{writer_base}/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "mutation { markTicketRead(id: 1) { id } }" }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body.contains("errors"), "{body}");
    assert_eq!(change(&ws.next("r").await), ("UPDATED".into(), 1));
}

/// The server reads a socket a few KiB at a time; a message larger than that still arrives
/// whole.
#[tokio::test]
async fn a_message_larger_than_the_read_buffer_arrives_whole() {
    let app = TestApp::spawn().await;
    let mut ws = Ws::open(&app.base, &app.token).await;
    let query = format!("# {}\n{CHANGED}", "padding ".repeat(4_000));
    ws.subscribe("big", &query, Value::Null).await;
    let id = create_ticket(&app, "Big").await;
    assert_eq!(change(&ws.next("big").await), ("CREATED".into(), id));
}

/// Deleting an agent, a department or a tag changes the tickets that named it (unassigned,
/// no department, one tag fewer): each of those tickets is announced and gets a new version.
#[tokio::test]
async fn deleting_an_agent_a_department_or_a_tag_announces_each_ticket_it_changed() {
    let app = TestApp::spawn().await;
    let contact = fixtures::contact(&app.db, app.site.site.id, "Ann Lee").await;
    let agent = fixtures::agent(&app.db, app.site.site.id, "Cy").await;
    let department = fixtures::department(&app.db, app.site.site.id, "Billing").await;
    let tag = vocabulary::tag(&app.db, app.site.site.id, "vip").await;
    // Subscribed first: on PostgreSQL the creation's own event may still be on its way.
    let mut ws = Ws::open(&app.base, &app.token).await;
    ws.subscribe(
        "b",
        "subscription { ticketChanged { kind ticketId ticket { assigneeId departmentAssigneeId tagIds } } }",
        Value::Null,
    )
    .await;
    let id = app
        .graphql(
            "mutation($i: CreateTicketInput!) { createTicket(input: $i) { id } }",
            json!({ "i": { "subject": "Bulk", "channelId": "email", "contactOrVisitorId": contact,
                "assigneeId": agent, "departmentAssigneeId": department, "tagIds": [tag] } }),
        )
        .await["createTicket"]["id"]
        .as_i64()
        .unwrap();
    let read = || async {
        app.graphql(
            "query($id: Int!) { ticket(id: $id) { version assigneeId departmentAssigneeId tagIds } }",
            json!({ "id": id }),
        )
        .await["ticket"]
            .clone()
    };

    assert_eq!(change(&ws.next("b").await), ("CREATED".into(), id));
    let mut last = read().await["version"].as_i64().unwrap();
    for (mutation, target, field) in [
        ("deleteAgent", json!(agent), "assigneeId"),
        (
            "deleteDepartment",
            json!(department),
            "departmentAssigneeId",
        ),
        ("deleteTag", json!(tag), "tagIds"),
    ] {
        app.graphql(
            &format!("mutation($id: UUID!) {{ {mutation}(id: $id) {{ id }} }}"),
            json!({ "id": target }),
        )
        .await;
        let data = ws.next("b").await;
        assert_eq!(change(&data), ("UPDATED".into(), id), "{mutation}");
        let seen = &data["ticketChanged"]["ticket"][field];
        assert!(
            seen.is_null() || seen == &json!([]),
            "{mutation}: the event carries the ticket without it: {data}"
        );
        let now = read().await;
        let v = now["version"].as_i64().unwrap();
        assert!(v > last, "{mutation}: version {v} after {last}");
        last = v;
    }
}

/// Two servers of one process on one database share one `LISTEN` connection: a subscriber of
/// either hears each change once, not once per server.
#[tokio::test]
async fn two_servers_in_one_process_on_one_database_deliver_each_event_once() {
    use deskgraph::app::{self, AppState};
    use deskgraph::config::ServeConfig;

    let app = TestApp::spawn().await;
    let mut config = ServeConfig::default();
    config.translate_url = None;
    let state = AppState::new(app.db.clone().into(), app.auth.clone(), &config).unwrap();
    assert!(state.live.ready(WAIT).await, "live updates listening");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app::router(state)).await.unwrap() });

    let mut ws = Ws::open(&base, &app.token).await;
    ws.subscribe("once", CHANGED, Value::Null).await;
    let first = create_ticket(&app, "First").await;
    let second = create_ticket(&app, "Second").await;
    assert_eq!(change(&ws.next("once").await), ("CREATED".into(), first));
    assert_eq!(
        change(&ws.next("once").await),
        ("CREATED".into(), second),
        "each change once, in order"
    );
}
