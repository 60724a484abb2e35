//! GraphQL faces of the data model's enums (`PENDING_INTERNAL` where the spec says
//! `pendingInternal`); `remote` generates the conversions both ways.

use async_graphql::Enum;

use crate::entity;

/// Status of the ticket.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::TicketStatus")]
pub enum TicketStatus {
    New,
    /// Waiting on the agent side.
    PendingInternal,
    /// Waiting on the customer.
    PendingExternal,
    OnHold,
    Resolved,
}

/// Priority of the ticket.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::Priority")]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

/// Type of the ticket assignee.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::AssigneeType")]
pub enum AssigneeType {
    Agent,
    Chatbot,
}

/// A kind of party in a ticket: its contact, creator, last replier or resolver.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ParticipantType")]
pub enum ParticipantType {
    Contact,
    Visitor,
    Chatbot,
    ChannelAccount,
    System,
    Agent,
    OutreachCampaign,
}

/// Who has replied to the ticket so far.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ReplyingAgent")]
pub enum ReplyingAgent {
    NoReply,
    AgentOnly,
    BotOnly,
    AgentAndBot,
}
