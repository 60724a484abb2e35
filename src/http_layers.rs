//! What every route shares at the HTTP level: the request body limit and CORS for browser
//! consoles served from other origins.

use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use clap::Args;
use tower_http::cors::{AllowOrigin, CorsLayer};

#[derive(Debug, Clone, Args)]
pub struct HttpConfig {
    /// Largest request body in bytes; a larger one is answered 413.
    #[arg(long, env = "DESKGRAPH_BODY_LIMIT", default_value_t = 2 * 1024 * 1024)]
    pub body_limit: usize,
    /// Origins whose browser pages may call the API (comma separated, like
    /// `https://console.example.com`; `*` for any). None by default.
    #[arg(
        long,
        env = "DESKGRAPH_CORS_ORIGINS",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub cors_origins: Vec<String>,
}

fn parse_origin(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty() || s == "*" {
        return Ok(s.to_owned());
    }
    let url = reqwest::Url::parse(s).map_err(|e| format!("`{s}` is not an origin: {e}"))?;
    let origin = url.origin();
    if !origin.is_tuple() || url.path() != "/" || s.ends_with('/') {
        return Err(format!(
            "`{s}` is not an origin: write scheme, host and port only, like https://console.example.com"
        ));
    }
    Ok(origin.ascii_serialization())
}

/// The body limit, applied to every extractor that reads a body.
pub fn body_limit(config: &HttpConfig) -> DefaultBodyLimit {
    DefaultBodyLimit::max(config.body_limit)
}

/// CORS for the configured origins. With none, preflights get no permission and browsers
/// keep other origins out.
pub fn cors(config: &HttpConfig) -> CorsLayer {
    let origins: Vec<&str> = config
        .cors_origins
        .iter()
        .map(String::as_str)
        .filter(|o| !o.is_empty())
        .collect();
    let allow_origin = if origins.contains(&"*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .into_iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::ETAG])
        .max_age(Duration::from_secs(600))
}
