//! The handlers: each turns its URL into one GraphQL operation, runs it through the shared
//! execution path and reshapes the answer.

use async_graphql::{Request, Value as GqlValue, Variables};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::error::{RestError, RestResult};
use super::etag;
use super::ticket_json::{self, PARTICIPANT_TYPES};
use crate::app::AppState;

type Params = Vec<(String, String)>;
type Body = Result<Bytes, BytesRejection>;
type QueryParams = Result<Query<Params>, QueryRejection>;

/// `11:merge` -> (`11`, Some(`merge`)); `11` -> (`11`, None). The one place verbs are split.
fn split_verb(segment: &str) -> (&str, Option<&str>) {
    match segment.split_once(':') {
        Some((head, verb)) => (head, Some(verb)),
        None => (segment, None),
    }
}

/// Runs one GraphQL operation for the caller and returns its `data` as JSON, or the REST error.
async fn run(state: &AppState, headers: &HeaderMap, query: &str, vars: Value) -> RestResult<Value> {
    run_graphql(state, headers, query, vars).await.map(json_of)
}

/// [`run`], its `data` left as async-graphql's value (for the ticket answers, reshaped in
/// place and serialised as they are).
async fn run_graphql(
    state: &AppState,
    headers: &HeaderMap,
    query: &str,
    vars: Value,
) -> RestResult<GqlValue> {
    let request = Request::new(query)
        .variables(Variables::from_json(vars))
        .data(crate::graphql::limits::ServerBuilt);
    let response = crate::graphql::http::execute(state, headers, request).await?;
    if !response.errors.is_empty() {
        return Err(RestError::from_graphql(&response.errors));
    }
    Ok(response.data)
}

/// Takes the value at `path` (object keys) out of `data`; null when there is none.
fn take(data: &mut GqlValue, path: &[&str]) -> GqlValue {
    let mut at = data;
    for key in path {
        match at {
            GqlValue::Object(map) => match map.get_mut(*key) {
                Some(v) => at = v,
                None => return GqlValue::Null,
            },
            _ => return GqlValue::Null,
        }
    }
    std::mem::replace(at, GqlValue::Null)
}

fn as_i64(value: &GqlValue) -> Option<i64> {
    match value {
        GqlValue::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// A GraphQL value as JSON, its strings moved rather than copied. async-graphql's
/// `into_json` goes through serde's serializer and copies every string: on the 50-ticket list
/// that was a seventh of the request's instructions (callgrind).
fn json_of(value: GqlValue) -> Value {
    use GqlValue as G;
    match value {
        G::Null => Value::Null,
        G::Number(n) => Value::Number(n),
        G::String(s) => Value::String(s),
        G::Boolean(b) => Value::Bool(b),
        G::Enum(name) => Value::String(name.as_str().to_owned()),
        G::Binary(bytes) => Value::Array(bytes.iter().map(|&b| Value::from(b)).collect()),
        G::List(items) => Value::Array(items.into_iter().map(json_of).collect()),
        G::Object(fields) => {
            let mut map = Map::with_capacity(fields.len());
            for (key, v) in fields {
                map.insert(key.as_str().to_owned(), json_of(v));
            }
            Value::Object(map)
        }
    }
}

fn params(query: QueryParams) -> RestResult<Params> {
    query
        .map(|Query(p)| p)
        .map_err(|e| RestError::bad_input("query", format!("bad query string: {}", e.body_text())))
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The JSON object of a request body: empty is `{}`; a body must be `application/json`.
fn json_body(headers: &HeaderMap, body: Body) -> RestResult<Map<String, Value>> {
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            RestError::new("PAYLOAD_TOO_LARGE", "the request body is too large")
        } else {
            RestError::new(
                "BAD_USER_INPUT",
                format!("unreadable body: {}", e.body_text()),
            )
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let mime = ct.split(';').next().unwrap_or_default().trim();
            mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
        });
    if !json {
        return Err(RestError::new(
            "UNSUPPORTED_MEDIA_TYPE",
            "the request body must be application/json",
        ));
    }
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(RestError::bad_input(
            "body",
            "the body must be a JSON object",
        )),
        Err(e) => Err(RestError::bad_input("body", format!("malformed JSON: {e}"))),
    }
}

fn ticket_id(raw: &str) -> RestResult<i64> {
    raw.parse()
        .map_err(|_| RestError::bad_input("id", format!("`{raw}` is not a ticket id")))
}

/// The ticket id of a segment that must carry no verb.
fn plain_id(segment: &str) -> RestResult<i64> {
    match split_verb(segment) {
        (id, None) => ticket_id(id),
        (_, Some(verb)) => Err(RestError::not_found(format!("no route for `:{verb}` here"))),
    }
}

fn ok(value: impl Serialize) -> Response {
    Json(value).into_response()
}

/// [`ok`] for a value from GraphQL, written by our own JSON writer (the hot answers: tickets).
fn ok_graphql(value: &GqlValue) -> Response {
    let json = HeaderValue::from_static("application/json");
    (
        [(header::CONTENT_TYPE, json)],
        crate::graphql::json::to_vec(value),
    )
        .into_response()
}

/// Runs a ticket-returning operation `OP` (written with `SEL` for the selection) and answers
/// with the spec's ticket JSON and its `ETag` header.
async fn ticket_op(
    state: &AppState,
    headers: &HeaderMap,
    include: Option<&str>,
    op: &str,
    vars: Value,
    path: &[&str],
) -> RestResult<Response> {
    let selection = format!("{} version", ticket_json::selection(include)?);
    let mut data = run_graphql(state, headers, &op.replace("SEL", &selection), vars).await?;
    let mut ticket = take(&mut data, path);
    let (id, version) = match &mut ticket {
        // `swap_remove`, as serde_json's map removes: the JSON keeps the order it had.
        GqlValue::Object(t) => (
            t.get("id").and_then(as_i64),
            t.swap_remove("version").as_ref().and_then(as_i64),
        ),
        _ => (None, None),
    };
    let etag = match (id, version) {
        (Some(id), Some(version)) => Some(etag::format(id, version)),
        _ => None,
    };
    let mut response = ok_graphql(&ticket_json::ticket(ticket));
    if let Some(value) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

// ---- GET tickets ----

const LIST: &str = "query($filter: TicketFilter, $pageIndex: Int, $pageSize: Int) {
  t: ticketPage(filter: $filter, pageIndex: $pageIndex, pageSize: $pageSize) { total tickets { SEL } }
}";

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryParams,
) -> RestResult<Response> {
    let params = params(query)?;
    let number = |name: &str, default: i64| -> RestResult<i64> {
        param(&params, name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| RestError::bad_input(name, format!("{name} must be a number")))
        })
    };
    let (index, size) = (number("pageIndex", 1)?, number("pageSize", 50)?);
    let vars = json!({ "filter": list_filter(&params)?, "pageIndex": index, "pageSize": size });
    let include = param(&params, "include");
    let selection = ticket_json::selection(include)?;
    let mut data = run_graphql(&state, &headers, &LIST.replace("SEL", &selection), vars).await?;
    let total = as_i64(&take(&mut data, &["t", "total"])).unwrap_or_default();
    let tickets = match take(&mut data, &["t", "tickets"]) {
        GqlValue::List(items) => items.into_iter().map(ticket_json::ticket).collect(),
        _ => Vec::new(),
    };
    let origin = origin(&headers);
    let link = |i: i64| GqlValue::String(format!("{origin}{}", page_link(&params, i)));
    let previous = if index > 1 {
        link(index - 1)
    } else {
        GqlValue::Null
    };
    let next = if index.saturating_mul(size) < total {
        link(index + 1)
    } else {
        GqlValue::Null
    };
    // The body of `GET /tickets`, in the spec's key order.
    let page = [
        ("tickets", GqlValue::List(tickets)),
        ("total", GqlValue::from(total)),
        ("previousPage", previous),
        ("nextPage", next),
    ];
    let page = page
        .into_iter()
        .map(|(k, v)| (async_graphql::Name::new(k), v));
    Ok(ok_graphql(&GqlValue::Object(page.collect())))
}

/// The list's query parameters as a `TicketFilter`.
fn list_filter(params: &Params) -> RestResult<Value> {
    let mut filter = Map::new();
    for (name, value) in params {
        let v = Value::String(value.clone());
        let (key, v) = match name.as_str() {
            "tagid" | "tagId" => ("tagId", ticket_json::guid_value(name, &v)?),
            "time" => ("updatedSince", time_value(name, v)?),
            "lastRepliedTime" => ("lastRepliedSince", time_value(name, v)?),
            "keywords" => ("keywords", v),
            "viewId" => ("viewId", ticket_json::guid_value(name, &v)?),
            "contactOrVisitor" => ("contactOrVisitorId", ticket_json::guid_value(name, &v)?),
            "contactOrVisitorType" => (
                "contactOrVisitorType",
                ticket_json::enum_value(name, &v, PARTICIPANT_TYPES)?,
            ),
            _ => continue,
        };
        filter.insert(key.into(), v);
    }
    Ok(Value::Object(filter))
}

/// A time parameter must be RFC 3339, checked here so the error names the REST parameter.
fn time_value(name: &str, value: Value) -> RestResult<Value> {
    let text = value.as_str().unwrap_or_default();
    match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(_) => Ok(value),
        Err(_) => Err(RestError::bad_input(
            name,
            format!("{name} must be an RFC 3339 time like 2021-05-12T08:10:53.480Z, not `{text}`"),
        )),
    }
}

/// Where the caller reached this server (as a proxy in front says, when there is one), so
/// page links are whole URLs.
fn origin(headers: &HeaderMap) -> String {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    let host = get("x-forwarded-host")
        .or_else(|| get("host"))
        .unwrap_or("localhost");
    let scheme = get("x-forwarded-proto").unwrap_or("http");
    format!("{scheme}://{host}")
}

/// The list path for another page, keeping every other query parameter.
fn page_link(params: &Params, index: i64) -> String {
    let mut pairs: Vec<(&str, String)> = params
        .iter()
        .filter(|(k, _)| k != "pageIndex")
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    pairs.push(("pageIndex", index.to_string()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("/v4/ticketing/tickets?{query}")
}

// ---- One ticket ----

pub async fn get_one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(segment): Path<String>,
    query: QueryParams,
) -> RestResult<Response> {
    let (id, params) = (plain_id(&segment)?, params(query)?);
    let op = "query($id: Int!) { t: ticket(id: $id) { SEL } }";
    let include = param(&params, "include");
    ticket_op(&state, &headers, include, op, json!({ "id": id }), &["t"]).await
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryParams,
    body: Body,
) -> RestResult<Response> {
    let (params, body) = (params(query)?, json_body(&headers, body)?);
    // The Idempotency-Key header travels to createTicket with the rest of the request's
    // headers (see `graphql::http::execute`).
    let vars = json!({ "input": ticket_json::ticket_input(&body, false)? });
    let op = "mutation($input: CreateTicketInput!) { t: createTicket(input: $input) { SEL } }";
    let include = param(&params, "include");
    let mut response = ticket_op(&state, &headers, include, op, vars, &["t"]).await?;
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

pub async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(segment): Path<String>,
    query: QueryParams,
    body: Body,
) -> RestResult<Response> {
    let (id, params) = (plain_id(&segment)?, params(query)?);
    let mut input = ticket_json::ticket_input(&json_body(&headers, body)?, true)?;
    if let Some(version) = etag::if_match(&headers, id)? {
        input["expectedVersion"] = json!(version);
    }
    let op = "mutation($id: Int!, $input: UpdateTicketInput!) { t: updateTicket(id: $id, input: $input) { SEL } }";
    let vars = json!({ "id": id, "input": input });
    let include = param(&params, "include");
    ticket_op(&state, &headers, include, op, vars, &["t"]).await
}

pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(segment): Path<String>,
) -> RestResult<Response> {
    let id = plain_id(&segment)?;
    let op = "mutation($id: Int!) { deleteTicket(id: $id) { id } }";
    run(&state, &headers, op, json!({ "id": id })).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---- Collection verbs: tickets:unreadCount, tickets:previewmessagetranslationfornewtickets ----

pub async fn collection_verb(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(segment): Path<String>,
    body: Body,
) -> RestResult<Response> {
    let body = json_body(&headers, body)?;
    match split_verb(&segment) {
        ("tickets", Some("unreadCount")) => unread_count(&state, &headers, &body).await,
        ("tickets", Some("previewmessagetranslationfornewtickets")) => {
            preview_for_new(&state, &headers, &body).await
        }
        _ => Err(RestError::not_found(format!("no route for `{segment}`"))),
    }
}

async fn unread_count(
    state: &AppState,
    headers: &HeaderMap,
    body: &Map<String, Value>,
) -> RestResult<Response> {
    let view_ids = match body.get("viewIds") {
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|v| ticket_json::guid_value("viewIds", v))
            .collect::<RestResult<Vec<_>>>()?,
        Some(Value::Null) | None => Vec::new(),
        Some(_) => return Err(RestError::bad_input("viewIds", "viewIds must be an array")),
    };
    let op = "query($viewIds: [UUID!]) { unreadCount(viewIds: $viewIds) { allCount
      unreadCounts { viewId unreadTicketIds unreadCount mentionedUnReadTicketIds mentionedUnReadCount } } }";
    let data = run(state, headers, op, json!({ "viewIds": view_ids })).await?;
    Ok(ok(data["unreadCount"].clone()))
}

async fn preview_for_new(
    state: &AppState,
    headers: &HeaderMap,
    body: &Map<String, Value>,
) -> RestResult<Response> {
    let text = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    let vars = json!({
        "text": body.get("text").cloned().unwrap_or(Value::String(String::new())),
        "source": text("sourceLanguage"),
        "target": text("targetLanguage"),
        "ticketId": text("ticketId"),
    });
    let op = "mutation($text: String!, $source: String, $target: String, $ticketId: Int) {
      t: previewMessageTranslationForNewTickets(text: $text, sourceLanguage: $source,
        targetLanguage: $target, ticketId: $ticketId) { translatedText } }";
    let data = run(state, headers, op, vars).await?;
    Ok(ok(json!({ "translatedText": data["t"]["translatedText"] })))
}

// ---- Ticket verbs: tickets/{id}:verb ----

/// How a verb's GraphQL answer becomes the REST answer.
pub(super) enum Answer {
    /// The ticket at `t` (or `t.ticket`), in the spec's JSON.
    Ticket(&'static [&'static str]),
    /// 200 with an empty body.
    Empty,
    /// `{rest: t.graphql}`.
    Field {
        graphql: &'static str,
        rest: &'static str,
    },
}

/// Every verb of `tickets/{id}:verb`, its operation (`SEL` is the ticket selection) and its
/// answer. Variables: `id`, `source` (merge), `text` (null when not given) and `textOrEmpty`.
pub(super) const VERBS: &[(&str, &str, Answer)] = &[
    (
        "read",
        "mutation($id: Int!) { t: markTicketRead(id: $id) { SEL } }",
        Answer::Ticket(&["t"]),
    ),
    (
        "unread",
        "mutation($id: Int!) { t: markTicketUnread(id: $id) { SEL } }",
        Answer::Ticket(&["t"]),
    ),
    (
        "recycle",
        "mutation($id: Int!) { t: recycleTicket(id: $id) { id } }",
        Answer::Empty,
    ),
    (
        "merge",
        "mutation($id: Int!, $source: Int!) { t: mergeTicket(targetId: $id, sourceId: $source) { id } }",
        Answer::Empty,
    ),
    (
        "detectvisitorlanguage",
        "mutation($id: Int!) { t: detectVisitorLanguage(id: $id) { visitorLanguage } }",
        Answer::Field {
            graphql: "visitorLanguage",
            rest: "vistorLanguage",
        },
    ),
    (
        "detectVisitorLanguage",
        "mutation($id: Int!) { t: detectVisitorLanguage(id: $id) { ticket { SEL } } }",
        Answer::Ticket(&["t", "ticket"]),
    ),
    (
        "previewmessagetranslation",
        "mutation($id: Int!, $text: String) { t: previewMessageTranslation(id: $id, text: $text) { translatedText } }",
        Answer::Field {
            graphql: "translatedText",
            rest: "translatedText",
        },
    ),
    (
        "previewMessageTranslation",
        "mutation($id: Int!, $text: String) { t: previewMessageTranslation(id: $id, text: $text) { ticket { SEL } } }",
        Answer::Ticket(&["t", "ticket"]),
    ),
    (
        "previewMessageTranslationForNewTickets",
        "mutation($id: Int!, $textOrEmpty: String!) { t: previewMessageTranslationForNewTickets(text: $textOrEmpty, ticketId: $id) { ticket { SEL } } }",
        Answer::Ticket(&["t", "ticket"]),
    ),
];

pub async fn ticket_verb(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(segment): Path<String>,
    query: QueryParams,
    body: Body,
) -> RestResult<Response> {
    let (raw_id, verb) = split_verb(&segment);
    let Some((_, op, answer)) = VERBS.iter().find(|(name, ..)| Some(*name) == verb) else {
        return Err(RestError::not_found(format!("no route for `{segment}`")));
    };
    let (params, body) = (params(query)?, json_body(&headers, body)?);
    let vars = verb_variables(ticket_id(raw_id)?, verb == Some("merge"), &body)?;
    let include = param(&params, "include");
    Ok(match answer {
        Answer::Ticket(path) => ticket_op(&state, &headers, include, op, vars, path).await?,
        Answer::Empty => run(&state, &headers, op, vars)
            .await
            .map(|_| StatusCode::OK.into_response())?,
        Answer::Field { graphql, rest } => {
            let data = run(&state, &headers, op, vars).await?;
            ok(json!({ *rest: data["t"][*graphql] }))
        }
    })
}

fn verb_variables(id: i64, merge: bool, body: &Map<String, Value>) -> RestResult<Value> {
    let text = body.get("text").cloned().unwrap_or(Value::Null);
    let text_or_empty = if text.is_null() {
        json!("")
    } else {
        text.clone()
    };
    let source = if merge {
        json!(source_id(body.get("sourceId"))?)
    } else {
        Value::Null
    };
    Ok(json!({ "id": id, "source": source, "text": text, "textOrEmpty": text_or_empty }))
}

/// `sourceId` as a number or a numeric string (the spec's sample sends `"9527"`).
fn source_id(value: Option<&Value>) -> RestResult<i64> {
    let parsed = match value {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| RestError::bad_input("sourceId", "sourceId must be a ticket id"))
}

#[cfg(test)]
mod tests {
    use super::split_verb;

    #[test]
    fn a_segment_splits_at_its_first_colon() {
        assert_eq!(split_verb("11:merge"), ("11", Some("merge")));
        assert_eq!(
            split_verb("tickets:unreadCount"),
            ("tickets", Some("unreadCount"))
        );
        assert_eq!(split_verb("11"), ("11", None));
        assert_eq!(split_verb("11:"), ("11", Some("")));
    }
}
