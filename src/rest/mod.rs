//! The REST shim: the Ticketing API v4 routes under `/v4/ticketing/`. Each URL becomes a
//! GraphQL operation on the same schema as `/graphql`; the shim never touches the database.

mod error;
mod etag;
pub mod openapi;
mod routes;
mod ticket_json;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

/// `{id}:verb` cannot be one axum route, so the segment after `tickets/` (and after
/// `ticketing/`, for `tickets:unreadCount`) is captured whole and split in `routes::split_verb`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v4/ticketing/tickets",
            get(routes::list).post(routes::create),
        )
        .route("/v4/ticketing/{segment}", post(routes::collection_verb))
        .route(
            "/v4/ticketing/tickets/{segment}",
            get(routes::get_one)
                .put(routes::update)
                .delete(routes::delete)
                .post(routes::ticket_verb),
        )
}
