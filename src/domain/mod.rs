//! The ticketing rules, free of HTTP and GraphQL: every mutation of the GraphQL API (and so of
//! the REST shim, which runs on it) goes through here. Functions take the acting [`Principal`]
//! and reach rows only through [`Principal::find`], which scopes every query to its site.

pub mod conversation;
pub mod directory;
pub mod idempotency;
pub mod language;
pub mod limits;
pub mod listing;
pub mod merge;
mod scope;
pub mod search;
pub mod sites;
pub mod text;
pub mod tickets;
pub mod unread;
pub mod views;

pub use scope::{Principal, SiteScoped};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// The current time at the millisecond precision the API shows, so what is stored is exactly
/// what is returned (and compared, for optimistic concurrency) later.
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

/// Checks a required free-text field: trimmed, not empty, not longer than `max` characters.
pub(crate) fn required_text(field: &str, value: &str, max: usize) -> crate::Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(crate::Error::bad_input(
            field,
            format!("{field} must not be empty"),
        ));
    }
    optional_text(field, v, max).map(str::to_owned)
}

/// Checks the length of a free-text field.
pub(crate) fn optional_text<'a>(field: &str, value: &'a str, max: usize) -> crate::Result<&'a str> {
    if value.chars().count() > max {
        return Err(crate::Error::bad_input(
            field,
            format!("{field} is longer than {max} characters"),
        ));
    }
    Ok(value)
}
