//! GraphiQL in a real browser: headless Chromium (Debian's `chromium`), driven over the
//! DevTools protocol, opens the page deskgraph serves, puts the bearer token in the headers
//! pane, runs a query and shows its result. The machine has no internet access, so this also
//! proves the page needs nothing from outside.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::TestDb;
use crate::process::{deskgraph, start};

const INSTALL: &str = "install it with `apt-get install -y --no-install-recommends chromium` \
                       (or point DESKGRAPH_CHROMIUM at a Chromium binary)";

fn chromium() -> Option<String> {
    if let Ok(path) = std::env::var("DESKGRAPH_CHROMIUM") {
        return Some(path);
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(str::to_owned)
}

struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    ws_url: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch(binary: &str) -> Browser {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("DevTools listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let ws_url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("chromium printed its DevTools address");
    Browser {
        child,
        _profile: profile,
        ws_url,
    }
}

/// The least of the DevTools protocol: numbered calls, answers matched by id, events skipped.
struct Cdp {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    next_id: u64,
    session: Option<String>,
}

impl Cdp {
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::text(msg.to_string())).await.unwrap();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .expect("DevTools answered in time")
                .expect("DevTools connection open")
                .unwrap();
            let Message::Text(text) = frame else { continue };
            let answer: Value = serde_json::from_str(&text).unwrap();
            if answer["id"] == id {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        assert!(
            result.get("exceptionDetails").is_none(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    async fn wait_for(&mut self, what: &str, expression: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.eval(expression).await;
            if !v.is_null() && v != json!(false) && v != json!("") {
                return v;
            }
            if Instant::now() > deadline {
                let body = self.eval("document.body.innerText").await;
                panic!("timed out waiting for {what}; page shows: {body}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_in_headless_chromium_sends_the_token_and_shows_a_query_result() {
    let Some(binary) = chromium() else {
        if std::env::var("DESKGRAPH_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("Chromium is required (DESKGRAPH_REQUIRE_BROWSER=1) but missing: {INSTALL}");
        }
        eprintln!("SKIPPED: Chromium is not installed; {INSTALL}");
        return;
    };
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(deskgraph(&db, dir.path()), true);
    let token = server.token.clone().unwrap();

    let browser = launch(&binary);
    let (ws, _) = tokio_tungstenite::connect_async(browser.ws_url.as_str())
        .await
        .expect("connect to DevTools");
    let mut cdp = Cdp {
        ws,
        next_id: 0,
        session: None,
    };
    let target = cdp
        .call(
            "Target.createTarget",
            json!({ "url": format!("{}/graphql", server.base) }),
        )
        .await["targetId"]
        .clone();
    let session = cdp
        .call(
            "Target.attachToTarget",
            json!({ "targetId": target, "flatten": true }),
        )
        .await["sessionId"]
        .as_str()
        .unwrap()
        .to_owned();
    cdp.session = Some(session);

    cdp.wait_for(
        "the GraphiQL editors",
        "document.querySelector('.graphiql-query-editor .CodeMirror') !== null",
    )
    .await;
    // The headers pane starts with the Authorization header ready for a token.
    let headers = cdp
        .wait_for(
            "the headers editor",
            "[...document.querySelectorAll('.CodeMirror')].map(e => e.CodeMirror.getValue()).find(v => v.includes('Authorization')) || null",
        )
        .await;
    assert_eq!(headers, json!(r#"{"Authorization": "Bearer "}"#));

    let fill = format!(
        r#"(() => {{
            const editors = [...document.querySelectorAll('.CodeMirror')].map(e => e.CodeMirror);
            editors.find(e => e.getValue().includes('Authorization'))
                .setValue(JSON.stringify({{ Authorization: "Bearer {token}" }}));
            document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror
                .setValue('query FromBrowser {{ ticket(id: 1) {{ id subject }} }}');
            return true;
        }})()"#
    );
    cdp.eval(&fill).await;
    cdp.eval("document.querySelector('.graphiql-execute-button').click(), true")
        .await;
    let shown = cdp
        .wait_for(
            "the query result",
            "(() => { const r = document.querySelector('.graphiql-response'); \
              return r && r.innerText.includes('Chat Transcript with Michael') ? r.innerText : null; })()",
        )
        .await;
    assert!(
        !shown.as_str().unwrap().contains("UNAUTHENTICATED"),
        "{shown}"
    );
}
