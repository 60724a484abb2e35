//! GraphQL over HTTP: authenticate, execute on the shared schema, answer with the right status.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;

use super::transport::{self, Incoming, MediaType};
use crate::app::AppState;
use crate::error::Error;

/// `GET` from a browser (HTML accepted, no `query` parameter) shows GraphiQL; any other `GET`
/// or `POST` is a GraphQL request, read and answered as GraphQL over HTTP says
/// ([`super::transport`]).
pub async fn endpoint(
    State(state): State<AppState>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if method == Method::GET && uri.query().is_none() && accepts_html(&headers) {
        return crate::graphiql::page();
    }
    let media = match transport::negotiate(&headers) {
        Ok(media) => media,
        Err(e) => return transport::reject(MediaType::Json, &e),
    };
    let max_batch = state.limits.graphql_max_batch;
    match transport::read(&method, &uri, &headers, body, max_batch) {
        Ok(Incoming::Single(request)) => match execute(&state, &headers, *request).await {
            Ok(response) => transport::respond(media, response),
            Err(e) => transport::reject(media, &e),
        },
        Ok(Incoming::Batch(requests)) => {
            let mut responses = Vec::with_capacity(requests.len());
            for request in requests {
                match execute(&state, &headers, request).await {
                    Ok(response) => responses.push(response),
                    Err(e) => return transport::reject(media, &e),
                }
            }
            transport::respond_batch(media, responses)
        }
        Err(e) => transport::reject(media, &e),
    }
}

/// The one execution path of GraphQL HTTP and the REST shim: authenticate the bearer token,
/// attach the principal and the loaders, execute on the shared schema.
pub async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> Result<async_graphql::Response, Error> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let principal = state.auth.authenticate(&state.db, bearer).await?;
    let request = super::loaders::attach(request.data(principal), &state.db, principal);
    let request = super::tickets::IdempotencyHeader::attach(request, headers);
    Ok(state.schema.execute(request).await)
}

fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}
