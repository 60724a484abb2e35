//! The one error type of deskgraph, and the one place that maps it to what callers see:
//! a GraphQL `extensions.code` and an HTTP status. Internal failures are logged in full and
//! answered with a generic message, so no SQL or Rust debug text reaches a client.

use async_graphql::ErrorExtensions;
use axum::http::StatusCode;
use sea_orm::{DbErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong; `field` names the offending input field when there is one.
    #[error("{message}")]
    BadInput {
        field: Option<String>,
        message: String,
    },
    /// The record does not exist in the caller's site (another site's records answer the same).
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but clashes with the current state (a duplicate name, a stale
    /// version, a ticket already merged); `field` names the input at fault when there is one.
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// A precondition of the request (an HTTP `If-Match`) does not hold: the record changed.
    #[error("{0}")]
    PreconditionFailed(String),
    /// No credentials, or credentials that do not check out.
    #[error("{0}")]
    Unauthenticated(String),
    /// Something the request needs is not available: a dependency is down or not configured.
    #[error("{0}")]
    Unavailable(String),
    /// The request body is over the configured size.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The request body is not in a format this route reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The caller accepts no response format this route can produce.
    #[error("{0}")]
    NotAcceptable(String),
    /// The HTTP method cannot do this (a mutation sent with GET).
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The operation ran past the request timeout and was stopped.
    #[error("{0}")]
    Timeout(String),
    /// A subscriber fell too far behind the changes it subscribed to and is disconnected.
    #[error("{0}")]
    Lagged(String),
    /// A database failure we did not anticipate.
    #[error("database error")]
    Database(#[source] DbErr),
    /// Anything else that is our fault, not the caller's.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::BadInput {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            field: None,
            message: message.into(),
        }
    }

    pub fn conflict_on(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Conflict {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Error::NotFound(format!("{what} not found"))
    }

    /// The machine-readable code, shared by GraphQL (`extensions.code`) and REST bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Error::BadInput { .. } => "BAD_USER_INPUT",
            Error::NotFound(_) => "NOT_FOUND",
            Error::Conflict { .. } => "CONFLICT",
            Error::PreconditionFailed(_) => "PRECONDITION_FAILED",
            Error::Unauthenticated(_) => "UNAUTHENTICATED",
            Error::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Error::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Error::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            Error::NotAcceptable(_) => "NOT_ACCEPTABLE",
            Error::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            Error::Timeout(_) => "TIMEOUT",
            Error::Lagged(_) => "SUBSCRIPTION_LAGGED",
            Error::Database(_) | Error::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }

    pub fn status_code(&self) -> StatusCode {
        status_for_code(self.code())
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Error::BadInput { field, .. } | Error::Conflict { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The message a client may see. Internal errors are logged here, once, with their detail.
    pub fn public_message(&self) -> String {
        match self {
            Error::Database(e) => {
                tracing::error!(error = %e, "database error");
                "internal error".into()
            }
            Error::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                "internal error".into()
            }
            other => other.to_string(),
        }
    }
}

/// The table from error code to HTTP status, used for GraphQL and REST responses alike.
pub fn status_for_code(code: &str) -> StatusCode {
    match code {
        "BAD_USER_INPUT" | "GRAPHQL_PARSE_FAILED" | "GRAPHQL_VALIDATION_FAILED" => {
            StatusCode::BAD_REQUEST
        }
        "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
        "NOT_FOUND" => StatusCode::NOT_FOUND,
        "CONFLICT" => StatusCode::CONFLICT,
        "PRECONDITION_FAILED" => StatusCode::PRECONDITION_FAILED,
        "PAYLOAD_TOO_LARGE" => StatusCode::PAYLOAD_TOO_LARGE,
        "UNSUPPORTED_MEDIA_TYPE" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "SERVICE_UNAVAILABLE" | "TIMEOUT" | "SUBSCRIPTION_LAGGED" => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        "NOT_ACCEPTABLE" => StatusCode::NOT_ACCEPTABLE,
        "METHOD_NOT_ALLOWED" => StatusCode::METHOD_NOT_ALLOWED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        // Constraint violations that slip past validation are the caller's conflict, not a
        // crash; everything else is ours.
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Error::conflict("a record with the same unique value already exists")
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => Error::BadInput {
                field: None,
                message: "a referenced record does not exist".into(),
            },
            _ if unreachable(&e) => {
                tracing::warn!(error = %e, "database unreachable");
                Error::Unavailable("the database is unavailable; try again shortly".into())
            }
            _ => Error::Database(e),
        }
    }
}

/// Whether a database error means "the database cannot be reached" (pool exhausted or timed
/// out, connection refused or reset, the server shutting down) rather than a bad statement:
/// a 503 the client may retry, not a 500.
fn unreachable(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match e {
        // Failing to open a connection at all (refused, closed mid-handshake, timed out) is
        // the database being unreachable, whatever the driver's words for it.
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return false,
    };
    let RuntimeErr::SqlxError(sqlx) = runtime else {
        return false;
    };
    match sqlx.as_ref() {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        Sqlx::Tls(_) => true,
        // PostgreSQL's class 08 (connection exception) and 57P01-57P03 (admin shutdown, crash
        // shutdown, cannot connect now).
        Sqlx::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.public_message()).extend_with(|_, ext| {
            ext.set("code", self.code());
            if let Some(field) = self.field() {
                ext.set("field", field);
            }
        })
    }
}
