//! Counts GraphQL operations by name and outcome (`deskgraph_graphql_operations_total`) and
//! names the operation in the request's log line; [`super::exec`] calls these once per operation.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use async_graphql::{Response, Value};

/// Distinct operation names that get a label of their own; later ones count as `other`.
/// Names come from clients, and every label value is a series Prometheus keeps forever.
const MAX_OPERATION_NAMES: usize = 200;
const MAX_NAME_LEN: usize = 64;

/// `ok`, or the first error's code (`BAD_USER_INPUT`, `UNAUTHENTICATED`, ...), or `error`
/// when the error carries none (a parse or validation failure).
pub(super) fn outcome(response: &Response) -> String {
    let Some(first) = response.errors.first() else {
        return "ok".into();
    };
    match first.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(Value::String(code)) if known_code(code) => code.clone(),
        _ => "error".into(),
    }
}

fn known_code(code: &str) -> bool {
    code.len() <= 40 && code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

pub(super) fn label_for(name: Option<&str>) -> String {
    let Some(name) = name else {
        return "anonymous".into();
    };
    let clean: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(MAX_NAME_LEN)
        .collect();
    if clean.is_empty() {
        return "anonymous".into();
    }
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if seen.contains(&clean) || seen.len() < MAX_OPERATION_NAMES {
        seen.insert(clean.clone());
        clean
    } else {
        "other".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_plain_bounded_names() {
        assert_eq!(label_for(None), "anonymous");
        assert_eq!(label_for(Some("Inbox")), "Inbox");
        assert_eq!(label_for(Some("a\"b}c")), "abc");
        assert_eq!(label_for(Some(&"x".repeat(500))).len(), MAX_NAME_LEN);
    }
}
