//! The `deskgraph` binary as a separate process: started on a test's database, signalled and
//! killed like a real deployment's server.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::harness::TestDb;

/// `deskgraph` with the test's database: none given for SQLite, so the default file in the
/// working directory is what gets used, exactly as on a fresh machine.
pub fn deskgraph(db: &TestDb, dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deskgraph"));
    cmd.current_dir(dir)
        .env_remove("DESKGRAPH_JWT_SECRET")
        .env("DESKGRAPH_LOG", "warn")
        .env("DESKGRAPH_BIND", "127.0.0.1:0");
    if db.is_postgres() {
        cmd.env("DATABASE_URL", &db.url);
    } else {
        cmd.env_remove("DATABASE_URL");
    }
    cmd
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub token: Option<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `deskgraph` (no subcommand: serve is the default) and reads what it prints until it
/// is listening (and has printed its token, when it prints one).
pub fn start(cmd: Command, expect_token: bool) -> Server {
    start_with_stderr(cmd, expect_token, Stdio::inherit())
}

/// [`start`], with the server's stderr (its logs) sent to `stderr`.
pub fn start_with_stderr(mut cmd: Command, expect_token: bool, stderr: Stdio) -> Server {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn deskgraph");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    // Read to the end even after the test has what it wanted: a closed pipe would make the
    // server's next line to stdout fail (Rust's `println!` panics on EPIPE).
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut base, mut token) = (None, None);
    while base.is_none() || (expect_token && token.is_none()) {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("deskgraph printed its address and token");
        if let Some(url) = line.strip_prefix("deskgraph listening on ") {
            base = Some(url.trim().to_owned());
        } else if let Some(t) = line.strip_prefix("Token: ") {
            token = Some(t.trim().to_owned());
        }
    }
    Server {
        child,
        base: base.unwrap(),
        token,
    }
}

impl Server {
    /// Sends a signal (`TERM`, `KILL`, `INT`) to the server process, as an operator would.
    #[allow(dead_code)] // used by the shutdown and durability tests
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }
}
