//! Logging through `tracing`: human-readable by default, JSON with `DESKGRAPH_LOG_FORMAT=json`.
//! Logs go to stderr so stdout stays for what commands print (tokens, JSON, the schema).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter =
        EnvFilter::try_from_env("DESKGRAPH_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if std::env::var("DESKGRAPH_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
