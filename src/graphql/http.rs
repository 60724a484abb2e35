//! GraphQL over HTTP: authenticate, execute on the shared schema, answer with the right status.

use async_graphql_axum::{GraphQLRequest, GraphQLResponse, rejection::GraphQLRejection};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppState;
use crate::error::{Error, status_for_code};

/// `GET` from a browser (HTML accepted, no `query` parameter) shows GraphiQL; any other `GET`
/// or `POST` is a GraphQL request.
pub async fn endpoint(
    State(state): State<AppState>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    if method == Method::GET && uri.query().is_none() && accepts_html(&headers) {
        return crate::graphiql::page();
    }
    let request = match request {
        Ok(r) => r.into_inner(),
        Err(rejection) => {
            let message = format!("malformed GraphQL request: {}", rejection.0);
            return errors_response(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
        }
    };
    let response = match execute(&state, &headers, request).await {
        Ok(r) => r,
        Err(e) => return error_response(&e),
    };
    // An unauthenticated or internal failure says so in the status too; other errors are
    // part of a normal GraphQL answer.
    let status = response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref()?.get("code"))
        .filter_map(|code| match code {
            async_graphql::Value::String(c) => Some(status_for_code(c)),
            _ => None,
        })
        .find(|s| *s == StatusCode::UNAUTHORIZED || s.is_server_error())
        .unwrap_or(StatusCode::OK);
    (status, GraphQLResponse::from(response)).into_response()
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

/// A GraphQL-shaped error body for a failure before execution.
pub fn error_response(e: &Error) -> Response {
    let mut response = errors_response(e.status_code(), e.code(), &e.public_message());
    if e.status_code() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer"),
        );
    }
    response
}

fn errors_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, axum::Json(body)).into_response()
}
