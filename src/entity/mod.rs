//! The sea-orm entities, one module per table of the migrations. Relations are not declared:
//! loaders query by key explicitly.

pub mod enums;
pub mod rows;

/// Agents: the people who work tickets in a site.
pub mod agents;
/// Chatbots: bots that can be assigned tickets and reply to them.
pub mod chatbots;
/// Contacts: known customers.
pub mod contacts;
/// Departments: groups of agents that tickets can be assigned to.
pub mod departments;
/// Draft attachments: the ordered files of a ticket's draft.
pub mod draft_attachments;
/// Drafts: the reply draft of a ticket, at most one per ticket.
pub mod drafts;
/// Idempotency keys: which ticket a retried create answers with.
pub mod idempotency_keys;
/// Server-wide key/value settings shared by every replica (e.g. the JWT secret).
pub mod instance_settings;
/// Message attachments: the ordered files of a message.
pub mod message_attachments;
/// Messages: replies and internal notes of tickets.
pub mod messages;
/// Note mentions: agents mentioned in notes, with their read state.
pub mod note_mentions;
/// Settings: per-site JSON values by key.
pub mod settings;
/// Sites: the tenants that own every other site-scoped row.
pub mod sites;
/// Tags: a site's ticket labels.
pub mod tags;
/// Ticket event logs: what happened to a ticket, by whom and when.
pub mod ticket_event_logs;
/// Ticket tags: which tags are on which tickets.
pub mod ticket_tags;
/// Tickets: customer conversations with assignment, status and reply statistics.
pub mod tickets;
/// View conditions: the ordered conditions of a view.
pub mod view_conditions;
/// Views: saved ticket filters.
pub mod views;
/// Visitors: anonymous customers.
pub mod visitors;

pub use enums::*;
