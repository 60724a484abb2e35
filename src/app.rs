//! The HTTP face of deskgraph: shared state and every route, in one place.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use sea_orm::DatabaseConnection;

use crate::auth::Auth;
use crate::config::ServeConfig;
use crate::graphql::{self, AppSchema};
use crate::translate::Translator;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    pub auth: Arc<Auth>,
    /// Live updates: this process's bus, WebSocket settings, and the shutdown of its sockets.
    pub live: crate::live::Bus,
    pub ws: graphql::ws::Settings,
    pub shutdown: crate::live::Shutdown,
}

impl AppState {
    /// Everything the routes share, built from the serve settings.
    pub fn new(db: DatabaseConnection, auth: Auth, config: &ServeConfig) -> anyhow::Result<Self> {
        let translator = config
            .translate_url
            .as_deref()
            .map(Translator::new)
            .transpose()?;
        Ok(AppState {
            schema: graphql::build_schema(db.clone(), translator, auth.active_agents()),
            live: crate::live::Bus::start(&db, config.live_buffer),
            ws: graphql::ws::Settings {
                init_timeout: config.ws_init_timeout,
                keepalive: config.ws_keepalive,
            },
            shutdown: crate::live::Shutdown::default(),
            db,
            auth: Arc::new(auth),
        })
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/graphql",
            get(graphql::http::endpoint).post(graphql::http::endpoint),
        )
        .route("/graphql/ws", get(graphql::ws::endpoint))
        .route("/healthz", get(|| async { "ok" }))
        .merge(crate::rest::router())
        .with_state(state)
}
