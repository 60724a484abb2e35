//! Settings, read once from flags and the environment into typed values and passed down.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser};

/// The SQLite file used when `DATABASE_URL` is unset: in the working directory, created on
/// first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://deskgraph.db?mode=rwc";

#[derive(Debug, Clone, Args)]
pub struct DatabaseConfig {
    /// `sqlite://FILE` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
    /// Most connections the pool opens.
    #[arg(
        long,
        env = "DESKGRAPH_DB_MAX_CONNECTIONS",
        default_value_t = 10,
        global = true
    )]
    pub db_max_connections: u32,
    /// How long a request waits for a pooled connection (or a new one) before it fails with
    /// 503: short, so requests fail fast while the database is away.
    #[arg(long, env = "DESKGRAPH_DB_ACQUIRE_TIMEOUT", default_value = "3s",
          value_parser = parse_duration, global = true)]
    pub db_acquire_timeout: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct AuthConfig {
    /// Key that signs bearer tokens. Unset: one is generated once and kept in the database,
    /// so tokens survive restarts and every replica shares it.
    #[arg(
        long,
        env = "DESKGRAPH_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "DESKGRAPH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Base URL of a LibreTranslate-compatible service for translation previews.
    #[arg(long, env = "DESKGRAPH_TRANSLATE_URL")]
    pub translate_url: Option<String>,
    /// Do not create the demo site on an empty database.
    #[arg(long, env = "DESKGRAPH_NO_DEMO")]
    pub no_demo: bool,
    #[command(flatten)]
    pub graphql: crate::graphql::limits::GraphqlLimits,
    #[command(flatten)]
    pub http: crate::http_layers::HttpConfig,
    /// On SIGTERM or Ctrl-C: how long in-flight requests and open subscriptions get to finish
    /// before the process exits anyway.
    #[arg(long, env = "DESKGRAPH_SHUTDOWN_GRACE", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Subscriptions: how long a WebSocket may stay open without `connection_init`.
    #[arg(long, env = "DESKGRAPH_WS_INIT_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub ws_init_timeout: Duration,
    /// Subscriptions: how often the server pings an idle WebSocket.
    #[arg(long, env = "DESKGRAPH_WS_KEEPALIVE", default_value = "15s", value_parser = parse_duration)]
    pub ws_keepalive: Duration,
    /// Subscriptions: how many changes a subscriber may fall behind before it is disconnected.
    #[arg(long, env = "DESKGRAPH_LIVE_BUFFER", default_value_t = 256)]
    pub live_buffer: usize,
}

impl Default for ServeConfig {
    /// The settings `deskgraph` serves with when nothing is given: every flag at its default
    /// (environment variables still apply).
    fn default() -> Self {
        #[derive(Parser)]
        struct ServeOnly {
            #[command(flatten)]
            serve: ServeConfig,
        }
        ServeOnly::parse_from(["deskgraph"]).serve
    }
}

/// Parses durations written like `90s`, `15m`, `24h` or `7d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 90s, 15m, 24h or 7d"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("unknown unit `{unit}` in `{s}`: use s, m, h or d")),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
