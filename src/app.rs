//! The HTTP face of deskgraph: shared state and every route, in one place.

use std::sync::Arc;

use axum::routing::get;
use axum::{Router, middleware};

use crate::auth::Auth;
use crate::config::ServeConfig;
use crate::db::Db;
use crate::graphql::limits::GraphqlLimits;
use crate::graphql::{self, exec::Executor};
use crate::http_layers::HttpConfig;
use crate::ops;
use crate::translate::Translator;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub schema: Executor,
    pub auth: Arc<Auth>,
    pub limits: Arc<GraphqlLimits>,
    pub http: Arc<HttpConfig>,
    /// Live updates: this process's bus, WebSocket settings, and the shutdown of its sockets.
    pub live: crate::live::Bus,
    pub ws: graphql::ws::Settings,
    pub shutdown: crate::live::Shutdown,
}

impl AppState {
    /// Everything the routes share, built from the serve settings.
    pub fn new(db: Db, auth: Auth, config: &ServeConfig) -> anyhow::Result<Self> {
        let translator = config
            .translate_url
            .as_deref()
            .map(Translator::new)
            .transpose()?;
        Ok(AppState {
            schema: graphql::build_executor(
                db.clone(),
                translator,
                auth.active_agents(),
                &config.graphql,
            ),
            live: crate::live::Bus::start(&db, config.live_buffer),
            ws: graphql::ws::Settings {
                init_timeout: config.ws_init_timeout,
                keepalive: config.ws_keepalive,
            },
            shutdown: crate::live::Shutdown::default(),
            db,
            auth: Arc::new(auth),
            limits: Arc::new(config.graphql.clone()),
            http: Arc::new(config.http.clone()),
        })
    }
}

pub fn router(state: AppState) -> Router {
    // Installs the metrics recorder before the first request records anything.
    ops::metrics_handle();
    Router::new()
        .route(
            "/graphql",
            get(graphql::http::endpoint).post(graphql::http::endpoint),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/v4/openapi.json", get(crate::rest::openapi::document))
        .merge(crate::graphiql::router())
        .route("/graphql/ws", get(graphql::ws::endpoint))
        .merge(crate::rest::router())
        .route_layer(middleware::from_fn(ops::note_route))
        .layer(crate::http_layers::body_limit(&state.http))
        .layer(crate::http_layers::cors(&state.http))
        .layer(middleware::from_fn(ops::observe))
        .with_state(state)
}
