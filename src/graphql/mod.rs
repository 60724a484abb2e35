//! The GraphQL schema: small query and mutation objects merged into one, types that wrap the
//! entities, and helpers that read the request context without panicking.

mod connection;
mod conversation;
mod directory;
mod enums;
pub mod exec;
mod fast;
mod fits;
pub mod http;
pub(crate) mod json;
mod language;
pub mod limits;
pub mod loaders;
mod metrics;
mod scalars;
mod subscription;
pub(crate) mod tickets;
mod transport;
pub mod ws;

use async_graphql::{Context, MergedObject, Schema};

use crate::auth::ActiveAgents;
use crate::db::Db;
use crate::domain::Principal;
use crate::translate::Translator;
use crate::{Error, Result};

pub use scalars::DateTime;
pub use subscription::Subscription;

/// What can be read: tickets, their conversations, the site's directory, unread counts.
#[derive(MergedObject, Default)]
pub struct Query(tickets::TicketQuery, directory::DirectoryQuery);

/// What can be changed. Every mutation is one transaction: it happens whole or not at all.
#[derive(MergedObject, Default)]
pub struct Mutation(
    tickets::TicketMutation,
    language::LanguageMutation,
    directory::DirectoryMutation,
    conversation::ConversationMutation,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema without data: enough to print the SDL.
pub fn schema_builder() -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// The executor over the schema with what resolvers need: the database and, when
/// configured, the translator.
pub fn build_executor(
    db: Db,
    translator: Option<Translator>,
    active: ActiveAgents,
    limits: &limits::GraphqlLimits,
) -> exec::Executor {
    let build = || {
        let builder = limits
            .apply(schema_builder())
            .data(db.clone())
            .data(active.clone());
        match &translator {
            Some(t) => builder.data(t.clone()),
            None => builder,
        }
    };
    use async_graphql::ValidationMode::{Fast, Strict};
    let public = |mode| {
        build()
            .limit_complexity(limits.graphql_max_complexity)
            .validation_mode(mode)
            .finish()
    };
    let trusted = |mode| build().validation_mode(mode).finish();
    exec::Executor::new(
        exec::Modes {
            strict: public(Strict),
            fast: public(Fast),
        },
        exec::Modes {
            strict: trusted(Strict),
            fast: trusted(Fast),
        },
        limits,
    )
}

/// The SDL that `deskgraph schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// What resolvers return. Domain errors travel to GraphQL with their `extensions.code`; this
/// type exists because `async_graphql::Error`'s blanket `From<Display>` would keep only the
/// message.
#[derive(Clone)]
pub struct GqlError(async_graphql::Error);

pub type GqlResult<T> = std::result::Result<T, GqlError>;

impl From<Error> for GqlError {
    fn from(e: Error) -> Self {
        use async_graphql::ErrorExtensions;
        GqlError(e.extend())
    }
}

impl From<GqlError> for async_graphql::Error {
    fn from(e: GqlError) -> Self {
        e.0
    }
}

/// The authenticated caller and the database, as every resolver needs them.
pub(crate) fn session<'a>(ctx: &Context<'a>) -> Result<(&'a Db, &'a Principal)> {
    let principal = ctx
        .data_opt::<Principal>()
        .ok_or_else(|| Error::Unauthenticated("missing Authorization: Bearer token".into()))?;
    let db = ctx
        .data_opt::<Db>()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("schema built without a database")))?;
    Ok((db, principal))
}
