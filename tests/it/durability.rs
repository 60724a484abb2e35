//! Durability under faults, with the real binary: SIGKILL in the middle of a burst of writes,
//! the database going away and coming back, replicas migrating at once.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::harness::TestDb;
use crate::process::{deskgraph, start};

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(base: &str, token: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            base: base.to_owned(),
            token: token.to_owned(),
        }
    }

    /// `Some(data)` when the server acknowledged the operation; `None` when the request
    /// failed in any way (the server died under it).
    async fn try_graphql(&self, query: &str, variables: Value) -> Option<Value> {
        let res = self
            .http
            .post(format!("{}/graphql", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .ok()?;
        if res.status() != StatusCode::OK {
            return None;
        }
        let body: Value = res.json().await.ok()?;
        body.get("errors").is_none().then(|| body["data"].clone())
    }

    async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.try_graphql(query, variables)
            .await
            .unwrap_or_else(|| panic!("operation failed: {query}"))
    }
}

#[derive(Default)]
struct Acked {
    tickets: HashSet<i64>,
    /// Message id -> the ticket it was added to.
    messages: HashMap<String, i64>,
    /// (target, source), and every source a writer tried to merge (acknowledged or not).
    merges: Vec<(i64, i64)>,
    attempted_merges: Vec<(i64, i64)>,
}

const CREATE: &str = "mutation($in: CreateTicketInput!) { createTicket(input: $in) { id } }";
const REPLY: &str = "mutation($id: Int!, $b: String!) { addMessage(ticketId: $id, input: { body: $b, sentByType: CONTACT }) { id } }";
const MERGE: &str =
    "mutation($t: Int!, $s: Int!) { mergeTicket(targetId: $t, sourceId: $s) { id } }";

async fn writer(client: Arc<Client>, contact: String, acked: Arc<Mutex<Acked>>, w: usize) {
    let input = |s: String| json!({ "in": { "subject": s, "channelId": "email", "contactOrVisitorId": contact } });
    for round in 0.. {
        let mut ids = Vec::new();
        for side in ["target", "source"] {
            let Some(data) = client
                .try_graphql(CREATE, input(format!("w{w} r{round} {side}")))
                .await
            else {
                return;
            };
            let id = data["createTicket"]["id"].as_i64().unwrap();
            acked.lock().unwrap().tickets.insert(id);
            let body = json!({ "id": id, "b": format!("w{w} r{round} {side} says hi") });
            let Some(data) = client.try_graphql(REPLY, body).await else {
                return;
            };
            let message = data["addMessage"]["id"].as_str().unwrap().to_owned();
            acked.lock().unwrap().messages.insert(message, id);
            ids.push(id);
        }
        let (target, source) = (ids[0], ids[1]);
        acked
            .lock()
            .unwrap()
            .attempted_merges
            .push((target, source));
        if client
            .try_graphql(MERGE, json!({ "t": target, "s": source }))
            .await
            .is_none()
        {
            return;
        }
        acked.lock().unwrap().merges.push((target, source));
    }
}

struct TicketState {
    status: String,
    merged_to: Option<i64>,
    messages: HashSet<String>,
}

async fn ticket_state(client: &Client, id: i64) -> Option<TicketState> {
    let data = client
        .graphql(
            "query($id: Int!) { ticket(id: $id) { status mergedToTargetId messages(first: 100) { nodes { id } } } }",
            json!({ "id": id }),
        )
        .await;
    let t = data.get("ticket").filter(|t| !t.is_null())?;
    Some(TicketState {
        status: t["status"].as_str().unwrap().to_owned(),
        merged_to: t["mergedToTargetId"].as_i64(),
        messages: t["messages"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sigkill_mid_burst_loses_no_acknowledged_write_and_leaves_no_half_merge() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(deskgraph(&db, dir.path()), true);
    let token = server.token.clone().unwrap();
    let client = Arc::new(Client::new(&server.base, &token));
    let contact = client
        .graphql("{ contacts(first: 1) { nodes { id } } }", json!({}))
        .await["contacts"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let acked = Arc::new(Mutex::new(Acked::default()));
    let writers: Vec<_> = (0..6)
        .map(|w| tokio::spawn(writer(client.clone(), contact.clone(), acked.clone(), w)))
        .collect();
    // Kill once the burst is well under way (or after a bounded time on a slow machine).
    let started = Instant::now();
    while acked.lock().unwrap().merges.len() < 20 && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.signal("KILL");
    for w in writers {
        w.await.unwrap();
    }
    drop(server);
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.merges.len() >= 20,
        "the burst was too small to mean anything"
    );

    // Same database, new process: no token printed (the site exists), the old one still works.
    let server = start(deskgraph(&db, dir.path()), false);
    let client = Client::new(&server.base, &token);
    let mut states = HashMap::new();
    for &id in &acked.tickets {
        let state = ticket_state(&client, id)
            .await
            .unwrap_or_else(|| panic!("acknowledged ticket {id} is gone"));
        states.insert(id, state);
    }
    for (target, source) in &acked.merges {
        assert_eq!(
            states[source].merged_to,
            Some(*target),
            "acknowledged merge {source} -> {target} is gone"
        );
    }
    for (message, ticket) in &acked.messages {
        let holder = states[ticket].merged_to.unwrap_or(*ticket);
        assert!(
            states[&holder].messages.contains(message),
            "acknowledged message {message} of ticket {ticket} is not on ticket {holder}"
        );
    }
    // Every merge is whole or absent, acknowledged or not.
    for (target, source) in &acked.attempted_merges {
        let (Some(s), Some(t)) = (states.get(source), states.get(target)) else {
            continue;
        };
        match s.merged_to {
            Some(to) => {
                assert_eq!(to, *target);
                assert_eq!(s.status, "RESOLVED", "merged source {source} not resolved");
                assert!(
                    s.messages.is_empty(),
                    "merged source {source} kept messages"
                );
            }
            None => {
                let moved: Vec<_> = acked
                    .messages
                    .iter()
                    .filter(|(_, tk)| **tk == *source)
                    .filter(|(m, _)| t.messages.contains(*m))
                    .collect();
                assert!(
                    moved.is_empty(),
                    "{source} is not merged but its messages are on {target}"
                );
            }
        }
    }
}

/// A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones.
struct Proxy {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accepted: Arc<AtomicUsize>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let accepted = Arc::new(AtomicUsize::new(0));
        let accept = tokio::spawn({
            let (up, conns, accepted) = (up.clone(), conns.clone(), accepted.clone());
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(inbound); // refused: closed at once
                        continue;
                    }
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let upstream = upstream.clone();
                    let task = tokio::spawn(async move {
                        if let Ok(mut out) = TcpStream::connect(&upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                        }
                    });
                    conns.lock().unwrap().push(task);
                }
            }
        });
        Proxy {
            addr,
            up,
            conns,
            accepted,
            accept,
        }
    }

    /// PostgreSQL "goes away": every open connection is dropped, new ones are closed.
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for task in self.conns.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// `postgres://user@HOST:PORT/db` -> (`HOST:PORT`, the URL with `addr` in its place).
fn through(url: &str, addr: SocketAddr) -> (String, String) {
    let (scheme_user, rest) = url.split_once('@').expect("postgres URL with a user");
    let (host, db) = rest.split_once('/').expect("postgres URL with a database");
    (host.to_owned(), format!("{scheme_user}@{addr}/{db}"))
}

async fn status_and_body(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = req.send().await.expect("the server answers");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgresql_is_away_requests_fail_with_503_and_succeed_again_without_a_restart() {
    let db = TestDb::create().await;
    if !db.is_postgres() {
        // SQLite has no equivalent: the database is a file opened inside the server process,
        // with no connection or server that can go away while the process lives. (A disk
        // that fails is an I/O error, which maps to the same 503 through `Error::from`.)
        eprintln!("SQLite: no database server to lose; this test runs on PostgreSQL");
        return;
    }
    let (upstream, _) = through(&db.url, "127.0.0.1:1".parse().unwrap());
    let proxy = Proxy::start(upstream).await;
    let (_, url) = through(&db.url, proxy.addr);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = deskgraph(&db, dir.path());
    cmd.env("DATABASE_URL", &url)
        .env("DESKGRAPH_DB_ACQUIRE_TIMEOUT", "1s");
    let server = start(cmd, true);
    let token = server.token.clone().unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let readyz = || http.get(format!("{}/readyz", server.base));
    let query = || {
        http.post(format!("{}/graphql", server.base))
            .bearer_auth(&token)
            .json(&json!({ "query": "{ ticket(id: 1) { id subject } }" }))
    };
    let rest = || {
        http.get(format!("{}/v4/ticketing/tickets/1", server.base))
            .bearer_auth(&token)
    };

    assert_eq!(status_and_body(readyz()).await.0, StatusCode::OK);
    let (status, body) = status_and_body(query()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["ticket"]["id"], 1);
    assert!(
        proxy.accepted.load(Ordering::SeqCst) > 0,
        "traffic went through the proxy"
    );

    proxy.cut();
    let started = Instant::now();
    let (status, body) = status_and_body(readyz()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unavailable");
    // Past the agent cache of the token check, so the outage is met there too.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (status, body) = status_and_body(query()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );
    let (status, body) = status_and_body(rest()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE", "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "requests fail fast while the database is away"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    while status_and_body(readyz()).await.0 != StatusCode::OK {
        assert!(Instant::now() < deadline, "never ready again");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = status_and_body(query()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["ticket"]["id"], 1);
    let (status, body) = status_and_body(rest()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], 1, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_migrating_one_empty_postgresql_database_at_once_all_succeed() {
    use sea_orm::sqlx::{AssertSqlSafe, Connection, PgConnection};
    let Ok(admin) = std::env::var("DESKGRAPH_TEST_DATABASE_URL") else {
        // SQLite is one file served by one process; replicas need PostgreSQL.
        eprintln!("SQLite: replicas share a PostgreSQL database; this test runs on PostgreSQL");
        return;
    };
    let name = format!("dg_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin).await.unwrap();
    sea_orm::sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    let url = format!("{base}/{name}");
    let migrate = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_deskgraph"));
        cmd.env("DATABASE_URL", &url)
            .env("DESKGRAPH_LOG", "warn")
            .arg("migrate");
        cmd.output()
    };
    let outcomes = std::thread::scope(|s| {
        let runs: Vec<_> = (0..3).map(|_| s.spawn(migrate)).collect();
        runs.into_iter()
            .map(|r| r.join().unwrap().unwrap())
            .collect::<Vec<_>>()
    });
    let drop_db = sea_orm::sqlx::raw_sql(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await;
    for out in outcomes {
        assert!(
            out.status.success(),
            "a concurrent migrate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    drop_db.unwrap();
}
