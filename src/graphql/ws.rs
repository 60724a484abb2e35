//! GraphQL over WebSocket at `/graphql/ws`: the graphql-transport-ws protocol (what the
//! `graphql-ws` client speaks), with its close codes.
//!
//! async-graphql's own implementation closes with 1002/1011 where the protocol asks for
//! 4400/4401/4403, has no initialisation timeout, and replaces a subscription whose id is
//! already in use instead of refusing it; it also knows nothing of our shutdown or of slow
//! subscribers. This layer does the protocol itself and uses the schema only to execute.

use std::collections::HashSet;
use std::time::Duration;

use async_graphql::Response;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response as HttpResponse;
use futures_util::stream::{BoxStream, SplitSink, SplitStream};
use futures_util::{FutureExt, SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_stream::StreamMap;

use crate::app::AppState;
use crate::domain::Principal;

pub const PROTOCOL: &str = "graphql-transport-ws";

/// The close codes this endpoint uses: the protocol's, and two standard ones.
pub mod close {
    /// The server is shutting down; subscriptions were completed first.
    pub const GOING_AWAY: u16 = 1001;
    /// The subscriber fell too far behind (after an `error` saying so): reconnect and resync.
    /// Standard "try again later"; the `graphql-ws` client retries on it.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    pub const INVALID_MESSAGE: u16 = 4400;
    pub const UNAUTHORIZED: u16 = 4401;
    pub const FORBIDDEN: u16 = 4403;
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    pub const INIT_TIMEOUT: u16 = 4408;
    pub const SUBSCRIBER_EXISTS: u16 = 4409;
    pub const TOO_MANY_INITS: u16 = 4429;
}

/// A send that takes longer than this means the client stopped reading: the connection is
/// dropped (no close frame can get through a full socket).
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// How long, after sending a close frame, the client gets to answer it.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long a connection may stay open without `connection_init`.
    pub init_timeout: Duration,
    /// How often the server sends `ping` to keep the connection (and proxies) alive.
    pub keepalive: Duration,
}

#[derive(Serialize)]
struct Next<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    payload: &'a Response,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    Ping {},
    Pong {},
    Subscribe {
        id: String,
        payload: async_graphql::Request,
    },
    Complete {
        id: String,
    },
}

/// Bytes read from a socket at a time.
const READ_BUFFER: usize = 4096;

pub async fn endpoint(State(state): State<AppState>, ws: WebSocketUpgrade) -> HttpResponse {
    let offered = ws.requested_protocols().next().is_some();
    // tungstenite zero-fills its whole read buffer (128 KiB by default) before every read
    // attempt, and this loop polls the socket each time a subscription has an event: with
    // 1,000 subscribers that was 128 MB of memset per event and 128 KiB resident per socket.
    // The protocol's messages are small; a larger one is simply read in more than one go.
    let ws = ws.protocols([PROTOCOL]).read_buffer_size(READ_BUFFER);
    // A client asking for another protocol gets the protocol's refusal; one asking for none
    // is assumed to speak this one.
    let acceptable = !offered || ws.selected_protocol().is_some();
    ws.on_upgrade(move |socket| async move {
        let (sink, incoming) = socket.split();
        let mut conn = Connection {
            state,
            sink,
            principal: None,
            subs: StreamMap::new(),
            delivered: HashSet::new(),
        };
        if acceptable {
            conn.run(incoming).await;
        } else {
            conn.close(
                incoming,
                Flow::Close(
                    close::SUBPROTOCOL_NOT_ACCEPTABLE,
                    "Subprotocol not acceptable",
                ),
            )
            .await;
        }
    })
}

/// What to do after handling one thing: go on, or close with a code and reason.
enum Flow {
    Continue,
    Close(u16, &'static str),
    CloseWith(u16, String),
    /// The peer is gone or cannot be written to: nothing more to send.
    Drop,
}

/// One subscription's results, then `None` once it has finished.
type Results = BoxStream<'static, Option<Response>>;

struct Connection {
    state: AppState,
    sink: SplitSink<WebSocket, Message>,
    principal: Option<Principal>,
    subs: StreamMap<String, Results>,
    /// Operations that have sent at least one `next`.
    delivered: HashSet<String>,
}

impl Connection {
    async fn run(&mut self, mut incoming: SplitStream<WebSocket>) {
        let _open = self.state.shutdown.track();
        let settings = self.state.ws;
        let stopping = self.state.shutdown.stopping();
        let init_deadline = tokio::time::sleep(settings.init_timeout);
        tokio::pin!(stopping, init_deadline);
        let start = tokio::time::Instant::now() + settings.keepalive;
        let mut keepalive = tokio::time::interval_at(start, settings.keepalive);
        let flow = loop {
            let flow = tokio::select! {
                biased;
                _ = &mut stopping => self.complete_all().await,
                _ = &mut init_deadline, if self.principal.is_none() => {
                    Flow::Close(close::INIT_TIMEOUT, "Connection initialisation timeout")
                }
                message = incoming.next() => match message {
                    Some(Ok(Message::Text(text))) => self.on_text(text.as_str()).await,
                    Some(Ok(Message::Binary(_))) => Flow::Close(
                        close::INVALID_MESSAGE,
                        "Invalid message received: binary frames are not part of the protocol",
                    ),
                    // WebSocket-level ping and pong are answered by the socket itself.
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Flow::Continue,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => Flow::Drop,
                },
                Some((id, result)) = self.subs.next(), if !self.subs.is_empty() => {
                    self.on_result(id, result).await
                }
                _ = keepalive.tick(), if self.principal.is_some() => {
                    self.send(json!({ "type": "ping" })).await
                }
            };
            if !matches!(flow, Flow::Continue) {
                break flow;
            }
        };
        self.close(incoming, flow).await;
    }

    async fn on_text(&mut self, text: &str) -> Flow {
        let message = match serde_json::from_str::<ClientMessage>(text) {
            Ok(m) => m,
            Err(e) => {
                return Flow::CloseWith(
                    close::INVALID_MESSAGE,
                    format!("Invalid message received: {e}"),
                );
            }
        };
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.principal.is_some() {
                    return Flow::Close(close::TOO_MANY_INITS, "Too many initialisation requests");
                }
                let header = bearer(payload.as_ref());
                match self
                    .state
                    .auth
                    .authenticate(&self.state.db, header.as_deref())
                    .await
                {
                    Ok(principal) => {
                        self.principal = Some(principal);
                        self.send(json!({ "type": "connection_ack" })).await
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "WebSocket connection_init refused");
                        Flow::Close(close::FORBIDDEN, "Forbidden")
                    }
                }
            }
            ClientMessage::Ping {} => self.send(json!({ "type": "pong" })).await,
            ClientMessage::Pong {} => Flow::Continue,
            ClientMessage::Subscribe { id, payload } => self.subscribe(id, payload).await,
            ClientMessage::Complete { id } => {
                // The client is done with it: no `complete` goes back.
                self.subs.remove(&id);
                self.delivered.remove(&id);
                Flow::Continue
            }
        }
    }

    async fn subscribe(&mut self, id: String, request: async_graphql::Request) -> Flow {
        let Some(principal) = self.principal else {
            return Flow::Close(close::UNAUTHORIZED, "Unauthorized");
        };
        if self.subs.contains_key(&id) {
            return Flow::CloseWith(
                close::SUBSCRIBER_EXISTS,
                truncate(format!("Subscriber for {id} already exists")),
            );
        }
        let request = request.data(principal).data(self.state.live.clone());
        let request = super::loaders::attach(request, &self.state.db, principal);
        let mut results: Results = self
            .state
            .schema
            .execute_stream(request)
            .map(Some)
            .chain(futures_util::stream::once(async { None }))
            .boxed();
        // Poll once now: the subscription takes its place on the bus before the next message
        // of this client is read, so a client that subscribes and then writes (after a
        // ping/pong round trip, say) hears its own write.
        if let Some(Some(first)) = results.next().now_or_never() {
            let flow = self.on_result(id.clone(), first).await;
            if !matches!(flow, Flow::Continue) || !self.delivered.contains(&id) {
                return flow;
            }
        }
        self.subs.insert(id, results);
        Flow::Continue
    }

    /// One result of an operation: `next`, or `error` when it failed before delivering
    /// anything (or fell behind), or `complete` when it has finished.
    async fn on_result(&mut self, id: String, result: Option<Response>) -> Flow {
        let Some(response) = result else {
            self.subs.remove(&id);
            self.delivered.remove(&id);
            return self.send(json!({ "type": "complete", "id": id })).await;
        };
        let lagged = response.errors.iter().any(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from("SUBSCRIPTION_LAGGED"))
        });
        let failed_at_start = !self.delivered.contains(&id)
            && response.data == async_graphql::Value::Null
            && response.is_err();
        if lagged || failed_at_start {
            self.subs.remove(&id);
            self.delivered.remove(&id);
            let sent = self
                .send(json!({ "type": "error", "id": id, "payload": response.errors }))
                .await;
            if lagged && matches!(sent, Flow::Continue) {
                return Flow::Close(close::TRY_AGAIN_LATER, "Subscriber fell behind");
            }
            return sent;
        }
        // Serialized straight to text: with many subscribers this is the hot path.
        let next = Next {
            kind: "next",
            id: &id,
            payload: &response,
        };
        let text = match serde_json::to_string(&next) {
            Ok(text) => text,
            Err(e) => {
                tracing::error!(error = %e, "a subscription result did not serialize");
                return Flow::Close(1011, "Internal error");
            }
        };
        self.delivered.insert(id);
        self.send_text(text).await
    }

    /// Shutdown: every subscription is completed, then the socket closes with 1001.
    async fn complete_all(&mut self) -> Flow {
        let ids: Vec<String> = self.subs.keys().cloned().collect();
        for id in ids {
            self.subs.remove(&id);
            if let Flow::Drop = self.send(json!({ "type": "complete", "id": id })).await {
                return Flow::Drop;
            }
        }
        Flow::Close(close::GOING_AWAY, "Server shutting down")
    }

    async fn send(&mut self, message: Value) -> Flow {
        self.send_text(message.to_string()).await
    }

    async fn send_text(&mut self, text: String) -> Flow {
        match tokio::time::timeout(SEND_TIMEOUT, self.sink.send(Message::Text(text.into()))).await {
            Ok(Ok(())) => Flow::Continue,
            Ok(Err(_)) => Flow::Drop,
            Err(_) => {
                tracing::info!("WebSocket client stopped reading; dropping the connection");
                Flow::Drop
            }
        }
    }

    /// Sends the close frame (unless the peer is gone) and waits briefly for the peer's.
    async fn close(&mut self, mut incoming: SplitStream<WebSocket>, flow: Flow) {
        let (code, reason) = match flow {
            Flow::Close(code, reason) => (code, reason.to_owned()),
            Flow::CloseWith(code, reason) => (code, reason),
            Flow::Continue | Flow::Drop => return,
        };
        self.subs = StreamMap::new();
        let frame = CloseFrame {
            code,
            reason: truncate(reason).into(),
        };
        let sent =
            tokio::time::timeout(SEND_TIMEOUT, self.sink.send(Message::Close(Some(frame)))).await;
        if matches!(sent, Ok(Ok(()))) {
            let _ = tokio::time::timeout(CLOSE_LINGER, async {
                while let Some(Ok(m)) = incoming.next().await {
                    if let Message::Close(_) = m {
                        break;
                    }
                }
            })
            .await;
        }
    }
}

/// The `Authorization` value from `connection_init`'s payload: `{"Authorization": "Bearer
/// T"}`, `{"authorization": ...}`, or `{"token": "T"}`.
fn bearer(payload: Option<&Value>) -> Option<String> {
    let payload = payload?.as_object()?;
    if let Some(v) = payload
        .get("Authorization")
        .or_else(|| payload.get("authorization"))
    {
        return v.as_str().map(str::to_owned);
    }
    payload
        .get("token")
        .and_then(Value::as_str)
        .map(|t| format!("Bearer {t}"))
}

/// Close reasons are limited to 123 bytes by the WebSocket protocol.
fn truncate(mut reason: String) -> String {
    if reason.len() > 123 {
        let mut end = 123;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}
