//! Operations endpoints and per-request observation: `/healthz`, `/readyz`, `/metrics`, the
//! request id, one log line and the HTTP metrics per request.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::json;

use crate::app::AppState;
use crate::db::Db;

pub const REQUEST_ID: &str = "x-request-id";

/// How long `/readyz` waits for the database before calling it unreachable.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The process-wide Prometheus recorder. A process has one global recorder, and tests start
/// many servers in one process, so it is installed once and shared by every server.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let latency = [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let sizes = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0];
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &latency)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_size".into()), &sizes))
            .expect("bucket lists are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Another recorder can only be there if an embedding program installed its own; the
        // handle then still renders what this one would have recorded (nothing), never panics.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        handle
    })
}

/// Liveness: the process is up and serving.
pub async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers a trivial query in time.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match database_reachable(&state.db).await {
        Ok(()) => axum::Json(json!({ "status": "ready", "database": "ok" })).into_response(),
        Err(reason) => {
            tracing::warn!(reason = %reason, "not ready: database unreachable");
            let body = json!({ "status": "unavailable", "database": "unreachable" });
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
        }
    }
}

async fn database_reachable(db: &DatabaseConnection) -> Result<(), String> {
    match tokio::time::timeout(READY_TIMEOUT, db.execute_unprepared("SELECT 1")).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {READY_TIMEOUT:?}")),
    }
}

/// Prometheus text format. Pool gauges are sampled now, at scrape time.
pub async fn metrics(State(state): State<AppState>) -> Response {
    sample_pool(&state.db);
    let handle = metrics_handle();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// `deskgraph_db_pool_connections`: the writers' pool (sqlx's, through which sea-orm runs)
/// and, on PostgreSQL, the direct reads' (`db::reads`).
fn sample_pool(db: &Db) {
    let conn = db.connection();
    let writes = match conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => usage(conn.get_postgres_connection_pool()),
        _ => usage(conn.get_sqlite_connection_pool()),
    };
    for (pool, sampled) in [("writes", Some(writes)), ("reads", db.reads_usage())] {
        let Some((in_use, idle, max)) = sampled else {
            continue;
        };
        for (state, v) in [("idle", idle), ("in_use", in_use), ("max", max)] {
            metrics::gauge!("deskgraph_db_pool_connections", "pool" => pool, "state" => state)
                .set(v as f64);
        }
    }
}

/// A sqlx pool's connections in use, idle, and the most there can be.
fn usage<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> (u32, u32, u32) {
    let idle = pool.num_idle() as u32;
    (
        pool.size().saturating_sub(idle),
        idle,
        pool.options().get_max_connections(),
    )
}

/// What is learnt about a request while it is served, for its log line and metrics.
#[derive(Default)]
struct RequestInfo {
    route: Option<String>,
    operation: Option<String>,
}

tokio::task_local! {
    static REQUEST: Arc<Mutex<RequestInfo>>;
}

fn with_request(f: impl FnOnce(&mut RequestInfo)) {
    let _ = REQUEST.try_with(|info| f(&mut info.lock().unwrap_or_else(|e| e.into_inner())));
}

/// Names the GraphQL operation of the current request for its log line (no-op outside one).
pub fn note_operation(name: &str) {
    with_request(|info| info.operation = Some(name.to_owned()));
}

/// A route layer: routing has happened by now, so the matched pattern is known.
pub async fn note_route(req: Request, next: Next) -> Response {
    if let Some(path) = req.extensions().get::<MatchedPath>() {
        let route = path.as_str().to_owned();
        with_request(|info| info.route = Some(route));
    }
    next.run(req).await
}

/// A client's request id is kept when it is a plain token (so it can be traced across
/// services); anything else is replaced, so logs never carry arbitrary client text.
fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Wraps every request: request id in and out, HTTP metrics by matched route, one log line.
/// Only the method, the route pattern, the status, the duration, the request id and the
/// operation name are logged: never headers (tokens) or bodies.
pub async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().as_str().to_owned();
    let info = Arc::new(Mutex::new(RequestInfo::default()));
    let mut response = REQUEST.scope(info.clone(), next.run(req)).await;
    let RequestInfo { route, operation } =
        std::mem::take(&mut *info.lock().unwrap_or_else(|e| e.into_inner()));
    // The pattern, never the raw path: ids in paths would make every ticket its own series.
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    metrics::counter!("deskgraph_http_requests_total",
        "route" => route.clone(), "method" => method.clone(), "status" => status.to_string())
    .increment(1);
    metrics::histogram!("deskgraph_http_request_duration_seconds", "route" => route.clone())
        .record(elapsed.as_secs_f64());
    tracing::info!(
        target: "deskgraph::request",
        request_id = %id,
        method = %method,
        route = %route,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        operation = operation.as_deref(),
        "request"
    );
    response
}
