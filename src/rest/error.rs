//! The one REST error body, `{"code", "message", "field"}`, with its status from
//! [`crate::error::status_for_code`]: for domain errors, GraphQL errors and request problems alike.

use async_graphql::{ServerError, Value as GqlValue};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::error::{Error, status_for_code};

#[derive(Debug)]
pub struct RestError {
    code: String,
    message: String,
    field: Option<String>,
}

pub type RestResult<T> = Result<T, RestError>;

impl RestError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        RestError {
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    /// A 400 naming the input at fault.
    pub fn bad_input(field: &str, message: impl Into<String>) -> Self {
        Error::bad_input(field, message).into()
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        RestError::new("NOT_FOUND", message)
    }

    /// The first error of a GraphQL answer. Resolver errors carry a code; errors without one
    /// come from async-graphql coercing the request (a variable or argument of the wrong
    /// shape), so they are the caller's.
    pub fn from_graphql(errors: &[ServerError]) -> Self {
        let Some(first) = errors.first() else {
            return RestError::new("INTERNAL_SERVER_ERROR", "internal error");
        };
        let ext = |key: &str| match first.extensions.as_ref().and_then(|x| x.get(key)) {
            Some(GqlValue::String(s)) => Some(s.clone()),
            _ => None,
        };
        RestError {
            code: ext("code").unwrap_or_else(|| "GRAPHQL_VALIDATION_FAILED".into()),
            message: first.message.clone(),
            field: ext("field").or_else(|| coercion_field(&first.message)),
        }
    }

    pub fn status(&self) -> StatusCode {
        status_for_code(&self.code)
    }
}

/// The input field an async-graphql coercion error names (`Invalid value for argument
/// "input.messages.0.sentByType", ...`), as a REST body path: `messages[0].sentByType`. The
/// argument itself (`input`, `filter`) is dropped when a field inside it is at fault, since
/// REST callers never see it.
fn coercion_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Invalid value for argument \"")?;
    let path = &rest[..rest.find('"')?];
    let mut segments: Vec<&str> = path.split('.').collect();
    if segments.len() > 1 {
        segments.remove(0);
    }
    let mut field = String::new();
    for segment in segments {
        if segment.parse::<usize>().is_ok() {
            field.push_str(&format!("[{segment}]"));
        } else {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(segment);
        }
    }
    Some(field).filter(|f| !f.is_empty())
}

impl From<Error> for RestError {
    fn from(e: Error) -> Self {
        RestError {
            code: e.code().into(),
            message: e.public_message(),
            field: e.field().map(Into::into),
        }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = Map::new();
        body.insert("code".into(), Value::String(self.code));
        body.insert("message".into(), Value::String(self.message));
        if let Some(field) = self.field {
            body.insert("field".into(), Value::String(field));
        }
        let mut response = (status, Json(Value::Object(body))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::coercion_field;

    #[test]
    fn a_coercion_error_names_the_field_as_a_rest_path() {
        let m = r#"Invalid value for argument "input.messages.0.sentByType", enumeration type "ParticipantType" does not contain the value "x""#;
        assert_eq!(coercion_field(m).as_deref(), Some("messages[0].sentByType"));
        let m = r#"Invalid value for argument "id", expected type "Int""#;
        assert_eq!(coercion_field(m).as_deref(), Some("id"));
        assert_eq!(coercion_field("something else"), None);
    }
}
