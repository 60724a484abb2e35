//! Latency from a committed write to its subscription event, with many subscriptions open.
//!
//! ```sh
//! cargo run --release --example subscription_latency                 # SQLite, temp file
//! cargo run --release --example subscription_latency -- 1000 50      # subscriptions, writes
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb cargo run --release --example subscription_latency
//! ```
//!
//! Starts the real server in this process on port 0 (on a fresh SQLite file, or on the
//! PostgreSQL database `DATABASE_URL` names, which must exist), opens N WebSocket connections
//! with one `ticketChanged` subscription each, then makes the writes one after another through
//! the domain layer (the code path GraphQL and REST mutations take). A write's time is taken
//! when its commit has returned; an event's when its `next` message has been read off the
//! client socket. Prints p50/p99/max over every (write, subscriber) pair.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use deskgraph::app::{self, AppState};
use deskgraph::auth::Auth;
use deskgraph::config::{DatabaseConfig, ServeConfig};
use deskgraph::domain::{sites, tickets};
use deskgraph::entity::contacts;
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let subscribers: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let writes: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(50);

    let dir = tempfile::tempdir()?;
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        )
    });
    let db = deskgraph::db::connect(&DatabaseConfig {
        database_url: url.clone(),
        db_max_connections: 10,
        db_acquire_timeout: std::time::Duration::from_secs(3),
    })
    .await?;
    deskgraph::db::migrate(&db).await?;
    let auth = Auth::from_secret(b"benchmark-secret-that-is-long-enough-for-hs256");
    let mut config = ServeConfig::default();
    config.live_buffer = 1024;
    let state = AppState::new(db.clone().into(), auth.clone(), &config)?;
    anyhow::ensure!(
        state.live.ready(Duration::from_secs(10)).await,
        "live updates not listening"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app::router(state)).await });

    let site = sites::create_site(&db, "Latency").await?;
    let principal = site.principal();
    let token = auth.issue(&principal, Duration::from_secs(3600))?;
    let contact = contacts::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        site_id: Set(principal.site_id),
        name: Set("Probe".into()),
        email: Set(None),
        phone: Set(None),
        language: Set("en".into()),
        created_time: Set(deskgraph::domain::now()),
    }
    .insert(&db)
    .await?;
    let ticket = tickets::create(
        &db,
        &principal,
        tickets::NewTicket {
            subject: "Latency probe".into(),
            channel_id: "email".into(),
            contact_or_visitor_id: contact.id,
            ..Default::default()
        },
    )
    .await?;

    // arrivals[w] holds when each subscriber read the event of write w.
    let arrivals: Arc<Vec<Mutex<Vec<Instant>>>> =
        Arc::new((0..writes).map(|_| Mutex::new(Vec::new())).collect());
    let heard = Arc::new(AtomicUsize::new(0));
    let progress = Arc::new(Notify::new());
    let ready = Arc::new(AtomicUsize::new(0));
    let opened = Instant::now();
    for _ in 0..subscribers {
        let mut request = format!("ws://{addr}/graphql/ws").into_client_request()?;
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
        // The same small read buffer as the server's: tungstenite zero-fills the whole buffer
        // (128 KiB by default) before each read, which would make this client, sharing the
        // machine with the server, the larger part of what is measured.
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
        let init = json!({ "type": "connection_init", "payload": { "token": token } });
        ws.send(Message::Text(init.to_string().into())).await?;
        let subscribe = json!({ "type": "subscribe", "id": "1", "payload": {
            "query": "subscription { ticketChanged(filter: { status: [NEW, PENDING_INTERNAL] }) { kind ticketId ticket { id isReadByAgent lastUpdatedTime } } }" } });
        ws.send(Message::Text(subscribe.to_string().into())).await?;
        ws.send(Message::Text(json!({ "type": "ping" }).to_string().into()))
            .await?;
        let (arrivals, heard, progress, ready) = (
            arrivals.clone(),
            heard.clone(),
            progress.clone(),
            ready.clone(),
        );
        tokio::spawn(async move {
            let mut next_write = 0;
            while let Some(Ok(message)) = ws.next().await {
                let at = Instant::now();
                let Message::Text(text) = message else {
                    continue;
                };
                let value: Value = serde_json::from_str(&text).unwrap_or_default();
                match value["type"].as_str() {
                    Some("pong") => {
                        ready.fetch_add(1, Ordering::SeqCst);
                        progress.notify_waiters();
                    }
                    Some("next") if next_write < arrivals.len() => {
                        arrivals[next_write].lock().await.push(at);
                        next_write += 1;
                        heard.fetch_add(1, Ordering::SeqCst);
                        progress.notify_waiters();
                    }
                    Some("next" | "connection_ack" | "ping") => {}
                    _ => eprintln!("unexpected message: {value}"),
                }
            }
        });
    }
    wait_for(&progress, || ready.load(Ordering::SeqCst) >= subscribers).await?;
    eprintln!(
        "{subscribers} subscriptions open in {:.1}s on {}",
        opened.elapsed().as_secs_f64(),
        if url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );

    let mut committed = Vec::with_capacity(writes);
    for w in 0..writes {
        tickets::set_read(&db, &principal, ticket.id, w % 2 == 0).await?;
        committed.push(Instant::now());
        let want = (w + 1) * subscribers;
        wait_for(&progress, || heard.load(Ordering::SeqCst) >= want).await?;
        // A pause between writes: this measures latency, not throughput under a backlog.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut micros: Vec<i64> = Vec::with_capacity(writes * subscribers);
    for (w, at) in committed.iter().enumerate() {
        for arrived in arrivals[w].lock().await.iter() {
            // An event can be read before the write's own call has returned.
            let d = arrived.saturating_duration_since(*at);
            micros.push(d.as_micros() as i64);
        }
    }
    micros.sort_unstable();
    let pick = |q: f64| micros[((micros.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    println!(
        "subscriptions={subscribers} writes={writes} events={} p50={:.2}ms p99={:.2}ms max={:.2}ms",
        micros.len(),
        pick(0.50) as f64 / 1000.0,
        pick(0.99) as f64 / 1000.0,
        *micros.last().unwrap_or(&0) as f64 / 1000.0,
    );
    Ok(())
}

/// Waits until `done` holds, woken by `progress`; gives up after 30 s.
async fn wait_for(progress: &Notify, done: impl Fn() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        let notified = progress.notified();
        if done() {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "events did not all arrive in 30 s"
        );
        let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
    }
    Ok(())
}
