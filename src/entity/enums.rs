//! The closed vocabularies of the data model, stored as the spec's own spellings
//! (`pendingInternal`, `channelAccount`, ...) so the database reads like the API.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Where a ticket stands. `pendingInternal` waits on the agent side, `pendingExternal` on the
/// customer.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "camelCase")]
pub enum TicketStatus {
    #[sea_orm(string_value = "new")]
    New,
    #[sea_orm(string_value = "pendingInternal")]
    PendingInternal,
    #[sea_orm(string_value = "pendingExternal")]
    PendingExternal,
    #[sea_orm(string_value = "onHold")]
    OnHold,
    #[sea_orm(string_value = "resolved")]
    Resolved,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "camelCase")]
pub enum Priority {
    #[sea_orm(string_value = "urgent")]
    Urgent,
    #[sea_orm(string_value = "high")]
    High,
    #[sea_orm(string_value = "normal")]
    Normal,
    #[sea_orm(string_value = "low")]
    Low,
}

/// Who a ticket is assigned to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "camelCase")]
pub enum AssigneeType {
    #[sea_orm(string_value = "agent")]
    Agent,
    #[sea_orm(string_value = "chatbot")]
    Chatbot,
}

/// The kinds of party that take part in a ticket: its contact, its creator, who replied, who
/// resolved it, who sent a message.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "camelCase")]
pub enum ParticipantType {
    #[sea_orm(string_value = "contact")]
    Contact,
    #[sea_orm(string_value = "visitor")]
    Visitor,
    #[sea_orm(string_value = "chatbot")]
    Chatbot,
    #[sea_orm(string_value = "channelAccount")]
    ChannelAccount,
    #[sea_orm(string_value = "system")]
    System,
    #[sea_orm(string_value = "agent")]
    Agent,
    #[sea_orm(string_value = "outreachCampaign")]
    OutreachCampaign,
}

impl ParticipantType {
    /// Customers are the side a ticket serves; their messages put the ticket back in the
    /// agents' court.
    pub fn is_customer(self) -> bool {
        matches!(self, Self::Contact | Self::Visitor)
    }
}

/// Who has replied to a ticket so far.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "camelCase")]
pub enum ReplyingAgent {
    #[sea_orm(string_value = "noReply")]
    NoReply,
    #[sea_orm(string_value = "agentOnly")]
    AgentOnly,
    #[sea_orm(string_value = "botOnly")]
    BotOnly,
    #[sea_orm(string_value = "agentAndBot")]
    AgentAndBot,
}

impl ReplyingAgent {
    /// Who has replied, once a reply from an agent (`by_bot` false) or a bot came in.
    pub fn with_reply_from(self, by_bot: bool) -> Self {
        use ReplyingAgent::*;
        match (self, by_bot) {
            (NoReply | BotOnly, true) => BotOnly,
            (NoReply | AgentOnly, false) => AgentOnly,
            _ => AgentAndBot,
        }
    }
}

/// Whether a view matches tickets meeting all of its conditions or any of them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "camelCase")]
pub enum ConditionMetType {
    #[sea_orm(string_value = "all")]
    All,
    #[sea_orm(string_value = "any")]
    Any,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "camelCase")]
pub enum AgentRole {
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "agent")]
    Agent,
}

impl From<AssigneeType> for ParticipantType {
    fn from(a: AssigneeType) -> Self {
        match a {
            AssigneeType::Agent => ParticipantType::Agent,
            AssigneeType::Chatbot => ParticipantType::Chatbot,
        }
    }
}
