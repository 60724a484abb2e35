//! GraphQL faces of the data model's enums (`PENDING_INTERNAL` where the spec says
//! `pendingInternal`); `remote` generates the conversions both ways.

use async_graphql::Enum;

use crate::entity;

/// Status of the ticket.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::TicketStatus")]
pub enum TicketStatus {
    /// Just opened; nobody has worked it yet.
    New,
    /// Waiting on the agent side.
    PendingInternal,
    /// Waiting on the customer.
    PendingExternal,
    /// Parked by an agent, waiting on something outside the conversation.
    OnHold,
    /// Done; a new message from the customer reopens it.
    Resolved,
}

/// Priority of the ticket.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::Priority")]
pub enum Priority {
    /// Needs attention before anything else.
    Urgent,
    /// Needs attention soon.
    High,
    /// The default.
    Normal,
    /// Can wait.
    Low,
}

/// Type of the ticket assignee.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::AssigneeType")]
pub enum AssigneeType {
    /// A person working tickets.
    Agent,
    /// A bot.
    Chatbot,
}

/// A kind of party in a ticket: its contact, creator, last replier or resolver.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ParticipantType")]
pub enum ParticipantType {
    /// A known customer.
    Contact,
    /// An anonymous customer (a website visitor).
    Visitor,
    /// A bot.
    Chatbot,
    /// The channel account a message came through.
    ChannelAccount,
    /// deskgraph itself, or the platform around it.
    System,
    /// A person working tickets.
    Agent,
    /// An outbound campaign.
    OutreachCampaign,
}

/// Who has replied to the ticket so far.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "entity::ReplyingAgent")]
pub enum ReplyingAgent {
    /// Nobody has replied yet.
    NoReply,
    /// Only agents have replied.
    AgentOnly,
    /// Only bots have replied.
    BotOnly,
    /// Agents and bots have replied.
    AgentAndBot,
}
