//! The site's directory: agents, departments, chatbots, contacts, visitors, tags and views;
//! their lookups and mutations, and the ticket relations that point at them.
//! (Stub: being written.)

use async_graphql::{Context, Object, Request};

use super::GqlResult;
use super::loaders::Scope;
use crate::entity::tickets;

pub fn attach_loaders(request: Request, _scope: &Scope) -> Request {
    request
}

#[derive(Default)]
pub struct DirectoryQuery;

#[Object]
impl DirectoryQuery {
    /// Placeholder until the directory lands.
    async fn directory_ready(&self) -> bool {
        false
    }
}

#[derive(Default)]
pub struct DirectoryMutation;

#[Object]
impl DirectoryMutation {
    /// Placeholder until the directory lands.
    async fn directory_noop(&self) -> bool {
        false
    }
}

/// `Ticket.tagIds`: ids of the ticket's tags.
pub async fn ticket_tag_ids(
    _ctx: &Context<'_>,
    _ticket: &tickets::Model,
) -> GqlResult<Vec<uuid::Uuid>> {
    Ok(Vec::new())
}
