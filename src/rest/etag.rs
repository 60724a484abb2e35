//! Ticket ETags: `"ID.VERSION"`, from the ticket's version counter (which every change bumps,
//! so two changes within one millisecond still differ), and the `If-Match` of a PUT.

use axum::http::{HeaderMap, header};

use super::error::{RestError, RestResult};

pub fn format(id: i64, version: i64) -> String {
    format!("\"{id}.{version}\"")
}

/// The version a PUT's `If-Match` requires, if it has one. `*` asks only that the ticket
/// exist, which the update checks anyway. An entity tag that is not one of this ticket's
/// (weak, another ticket's, garbled) can never match: it asks for a version that cannot be
/// current, so the update fails with 412 and changes nothing, as RFC 9110 wants.
pub fn if_match(headers: &HeaderMap, id: i64) -> RestResult<Option<i64>> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or_default().trim();
    if value == "*" {
        return Ok(None);
    }
    if value.contains(',') {
        return Err(RestError::bad_input(
            "If-Match",
            "If-Match takes one entity tag, as the ticket's ETag gave it",
        ));
    }
    let version = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.split_once('.'))
        .filter(|(tag_id, _)| tag_id.parse() == Ok(id))
        .and_then(|(_, version)| version.parse::<i64>().ok())
        .filter(|v| *v >= 0);
    Ok(Some(version.unwrap_or(-1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::IF_MATCH, value.parse().unwrap());
        h
    }

    #[test]
    fn if_match_reads_this_tickets_tags_and_nothing_else() {
        assert_eq!(if_match(&HeaderMap::new(), 7).unwrap(), None);
        assert_eq!(if_match(&with("*"), 7).unwrap(), None);
        assert_eq!(if_match(&with(&format(7, 3)), 7).unwrap(), Some(3));
        assert_eq!(if_match(&with(&format(8, 3)), 7).unwrap(), Some(-1));
        assert_eq!(if_match(&with("W/\"7.3\""), 7).unwrap(), Some(-1));
        assert_eq!(if_match(&with("7.3"), 7).unwrap(), Some(-1));
        assert!(if_match(&with("\"7.3\", \"7.4\""), 7).is_err());
    }
}
