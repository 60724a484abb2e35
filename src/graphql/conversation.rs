//! A ticket's conversation: messages and notes with their attachments, the draft, note
//! mentions and the event log; the mutations that add to it and the ticket relations that
//! read it. (Stub: being written.)

use async_graphql::{Object, Request};

use super::loaders::Scope;

pub fn attach_loaders(request: Request, _scope: &Scope) -> Request {
    request
}

#[derive(Default)]
pub struct ConversationMutation;

#[Object]
impl ConversationMutation {
    /// Placeholder until the conversation lands.
    async fn conversation_noop(&self) -> bool {
        false
    }
}
