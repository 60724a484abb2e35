//! The HTTP face of deskgraph: shared state and every route, in one place.

use std::sync::Arc;

use axum::routing::get;
use axum::{Router, middleware};
use sea_orm::DatabaseConnection;

use crate::auth::Auth;
use crate::config::ServeConfig;
use crate::graphql::limits::GraphqlLimits;
use crate::graphql::{self, AppSchema};
use crate::http_layers::HttpConfig;
use crate::ops;
use crate::translate::Translator;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: AppSchema,
    pub auth: Arc<Auth>,
    pub limits: Arc<GraphqlLimits>,
    pub http: Arc<HttpConfig>,
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
            schema: graphql::build_schema(
                db.clone(),
                translator,
                auth.active_agents(),
                &config.graphql,
            ),
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
        .merge(crate::rest::router())
        .route_layer(middleware::from_fn(ops::note_route))
        .layer(crate::http_layers::body_limit(&state.http))
        .layer(crate::http_layers::cors(&state.http))
        .layer(middleware::from_fn(ops::observe))
        .with_state(state)
}
