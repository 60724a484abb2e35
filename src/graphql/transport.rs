//! GraphQL over HTTP, as its specification says: which requests are GraphQL requests (GET with
//! a `query` parameter, POST with an `application/json` body), which media type answers them
//! (`application/graphql-response+json` or `application/json`, by the `Accept` header), and
//! which status each answer gets.

use async_graphql::{Request, Response, Variables};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::json;
use super::limits::{PARSE_FAILED, VALIDATION_FAILED};
use crate::error::{Error, status_for_code};

/// The media type of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/graphql-response+json`: a request error (the document did not parse or
    /// validate) is a 400.
    GraphqlResponse,
    /// `application/json`: every well-formed request is a 200, whatever the errors, as
    /// clients written before the specification expect.
    Json,
}

impl MediaType {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            MediaType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            MediaType::Json => "application/json; charset=utf-8",
        })
    }
}

/// The answer's media type from `Accept`: the acceptable type with the highest `q`, a named
/// type before a wildcard, the earlier listed on a tie. No `Accept` (or a wildcard) is
/// `application/json`, as the specification asks of servers during its transition.
pub fn negotiate(headers: &HeaderMap) -> Result<MediaType, Error> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(MediaType::Json);
    };
    let accept = accept.to_str().unwrap_or_default();
    if accept.trim().is_empty() {
        return Ok(MediaType::Json);
    }
    let mut best: Option<(f32, u8, MediaType)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let mime = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let (specific, media) = match mime.as_str() {
            "application/graphql-response+json" => (1, MediaType::GraphqlResponse),
            "application/json" => (1, MediaType::Json),
            "application/*" | "*/*" => (0, MediaType::Json),
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(bq, bs, _)| (q, specific) > (bq, bs)) {
            best = Some((q, specific, media));
        }
    }
    best.map(|(_, _, media)| media).ok_or_else(|| {
        Error::NotAcceptable(format!(
            "no response type in `Accept: {accept}` can be produced: accept application/graphql-response+json or application/json"
        ))
    })
}

/// One operation, or a batch of them (a JSON array body).
pub enum Incoming {
    Single(Box<Request>),
    Batch(Vec<Request>),
}

/// The GraphQL request(s) of an HTTP request, or the 4xx that says what is wrong with it.
pub fn read(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    max_batch: usize,
) -> Result<Incoming, Error> {
    if method == Method::GET {
        return read_get(uri).map(|r| Incoming::Single(Box::new(r)));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge("the request body is too large".into())
        } else {
            Error::BadInput {
                field: None,
                message: format!("the request body could not be read: {}", e.body_text()),
            }
        }
    })?;
    check_content_type(headers)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad_request(
            r#"the request body is empty: send {"query": "..."}"#,
        ));
    }
    let json: Value = serde_json::from_slice(&body)
        .map_err(|e| bad_request(format!("malformed JSON in the request body: {e}")))?;
    match json {
        Value::Object(map) => from_json(map).map(|r| Incoming::Single(Box::new(r))),
        Value::Array(items) => {
            if max_batch == 0 {
                return Err(bad_request(
                    "batched requests (a JSON array) are not enabled on this server: send one operation per request",
                ));
            }
            if items.len() > max_batch {
                return Err(bad_request(format!(
                    "the batch holds {} operations, over the limit of {max_batch}",
                    items.len()
                )));
            }
            if items.is_empty() {
                return Err(bad_request("the batch is empty"));
            }
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(map) => from_json(map),
                    _ => Err(bad_request(
                        "each operation of a batch must be a JSON object",
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Incoming::Batch)
        }
        _ => Err(bad_request(
            r#"the request body must be a JSON object like {"query": "..."}"#,
        )),
    }
}

fn bad_request(message: impl Into<String>) -> Error {
    Error::BadInput {
        field: None,
        message: message.into(),
    }
}

fn check_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(Error::UnsupportedMediaType(
            "a POST needs `Content-Type: application/json`".into(),
        ));
    };
    let value = value.to_str().unwrap_or_default();
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or_default().trim();
    let charset_ok = parts
        .filter_map(|p| p.trim().split_once('='))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
        .all(|(_, v)| v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8"));
    if mime.eq_ignore_ascii_case("application/json") && charset_ok {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType(format!(
            "`Content-Type: {value}` is not supported: send application/json (UTF-8)"
        )))
    }
}

fn read_get(uri: &Uri) -> Result<Request, Error> {
    let params: Vec<(String, String)> = serde_urlencoded::from_str(uri.query().unwrap_or(""))
        .map_err(|e| bad_request(format!("bad query string: {e}")))?;
    let mut map = Map::new();
    for (key, value) in params {
        let value = match key.as_str() {
            // Structured parameters travel as JSON text in the URL.
            "variables" | "extensions" => serde_json::from_str(&value)
                .map_err(|e| bad_request(format!("`{key}` is not valid JSON: {e}")))?,
            _ => Value::String(value),
        };
        map.insert(key, value);
    }
    let request = from_json(map)?;
    if is_mutation(&request) {
        return Err(Error::MethodNotAllowed(
            "mutations are not allowed over GET: send them with POST".into(),
        ));
    }
    Ok(request)
}

/// Whether the operation to run is a mutation. A document that does not parse is not one; the
/// execution reports its syntax error.
fn is_mutation(request: &Request) -> bool {
    use async_graphql::parser::types::{DocumentOperations, OperationType};
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let is_mutation =
        |op: &async_graphql::parser::types::OperationDefinition| op.ty == OperationType::Mutation;
    match (&doc.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(op), _) => is_mutation(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .iter()
            .any(|(n, op)| n.as_str() == name && is_mutation(&op.node)),
        // Several operations and no name cannot run; say nothing here.
        (DocumentOperations::Multiple(_), None) => false,
    }
}

/// The spec's request parameters: `query` (a string, required), `operationName` (a string),
/// `variables` and `extensions` (maps); any other key is ignored.
fn from_json(mut map: Map<String, Value>) -> Result<Request, Error> {
    let query = match map.remove("query") {
        Some(Value::String(q)) => q,
        None | Some(Value::Null) => {
            return Err(bad_request("the `query` parameter is missing"));
        }
        Some(_) => return Err(bad_request("the `query` parameter must be a string")),
    };
    let mut request = Request::new(query);
    match map.remove("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request = request.operation_name(name),
        Some(_) => return Err(bad_request("`operationName` must be a string")),
    }
    match map.remove("variables") {
        None | Some(Value::Null) => {}
        Some(vars @ Value::Object(_)) => request = request.variables(Variables::from_json(vars)),
        Some(_) => return Err(bad_request("`variables` must be a JSON object")),
    }
    match map.remove("extensions") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err(bad_request("`extensions` must be a JSON object")),
    }
    Ok(request)
}

/// A request error: the operation was refused before it ran (it did not parse or validate,
/// or broke a limit), so there is no `data` at all.
fn is_request_error(response: &Response) -> bool {
    !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| {
            e.path.is_empty()
                && matches!(
                    e.extensions.as_ref().and_then(|x| x.get("code")),
                    Some(async_graphql::Value::String(c)) if c == PARSE_FAILED || c == VALIDATION_FAILED
                )
        })
}

/// The status an executed operation answers with.
fn status(media: MediaType, response: &Response) -> StatusCode {
    // An unauthenticated or internal failure (or a timeout) says so in the status whatever
    // the media type; other errors are part of a normal GraphQL answer.
    let severe = response
        .errors
        .iter()
        .filter_map(|e| e.extensions.as_ref()?.get("code"))
        .filter_map(|code| match code {
            async_graphql::Value::String(c) => Some(status_for_code(c)),
            _ => None,
        })
        .find(|s| *s == StatusCode::UNAUTHORIZED || s.is_server_error());
    match severe {
        Some(status) => status,
        None if media == MediaType::GraphqlResponse && is_request_error(response) => {
            StatusCode::BAD_REQUEST
        }
        None => StatusCode::OK,
    }
}

/// One response as it goes on the wire, appended to `out`: `data` written by [`json`] straight
/// from async-graphql's values (no `serde_json::Value` tree in between, no `data` when the
/// request never ran), then the extensions and errors, when there are any, by serde.
fn wire(out: &mut Vec<u8>, response: &Response) -> serde_json::Result<()> {
    out.push(b'{');
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, name: &[u8]| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        out.extend_from_slice(name);
    };
    if !is_request_error(response) {
        key(out, b"\"data\":");
        json::write(out, &response.data);
    }
    if !response.extensions.is_empty() {
        key(out, b"\"extensions\":");
        serde_json::to_writer(&mut *out, &response.extensions)?;
    }
    if !response.errors.is_empty() {
        key(out, b"\"errors\":");
        serde_json::to_writer(&mut *out, &response.errors)?;
    }
    out.push(b'}');
    Ok(())
}

/// The body of one response, or of a batch of them (an array, in order).
fn serialised(responses: &[Response], batch: bool) -> Vec<u8> {
    let hint: usize = responses
        .iter()
        .map(|r| json::size_hint(&r.data) + 16)
        .sum();
    let mut out = Vec::with_capacity(hint + 2);
    match write_all(&mut out, responses, batch) {
        Ok(()) => out,
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a GraphQL response");
            json!({ "errors": [{ "message": "internal error", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }] })
                .to_string()
                .into_bytes()
        }
    }
}

fn write_all(out: &mut Vec<u8>, responses: &[Response], batch: bool) -> serde_json::Result<()> {
    if batch {
        out.push(b'[');
    }
    for (i, response) in responses.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        wire(out, response)?;
    }
    if batch {
        out.push(b']');
    }
    Ok(())
}

fn with_media(status: StatusCode, media: MediaType, body: Vec<u8>) -> axum::response::Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.header());
    response
}

/// The HTTP answer to one executed operation.
pub fn respond(media: MediaType, response: Response) -> axum::response::Response {
    let status = status(media, &response);
    let mut http = with_media(
        status,
        media,
        serialised(std::slice::from_ref(&response), false),
    );
    for (name, value) in response.http_headers.iter() {
        if name != header::CONTENT_TYPE {
            http.headers_mut().append(name, value.clone());
        }
    }
    http
}

/// The HTTP answer to a batch: an array of answers, in order.
pub fn respond_batch(media: MediaType, responses: Vec<Response>) -> axum::response::Response {
    with_media(StatusCode::OK, media, serialised(&responses, true))
}

/// The HTTP answer to a request refused before execution, in the GraphQL error shape.
pub fn reject(media: MediaType, e: &Error) -> axum::response::Response {
    let body = json!({
        "errors": [{ "message": e.public_message(), "extensions": { "code": e.code() } }]
    });
    let mut response = with_media(e.status_code(), media, body.to_string().into_bytes());
    let headers = response.headers_mut();
    match e {
        Error::Unauthenticated(_) => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        Error::MethodNotAllowed(_) => {
            headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        _ => {}
    }
    response
}
