//! The spec's ticket JSON both ways: the GraphQL selection a request's `include` asks for, the
//! reshaping of a GraphQL ticket into the spec's JSON, and the spec's request bodies turned
//! into GraphQL input objects (lenient on unknown keys, strict on enums and GUIDs).

use async_graphql::Value as GqlValue;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::error::{RestError, RestResult};

/// Every scalar key of the spec's ticket, plus `tagIds` and `noteMentions`.
const TICKET_FIELDS: &str = "id subject originalConversationId assigneeId departmentAssigneeId \
channelId channelAccountId lastMessageId lastMessageChannelId lastMessageChannelAccountId \
contactOrVisitorId createdById lastRepliedById resolvedById assigneeType contactOrVisitorType \
status priority createdByType lastRepliedByType resolvedByType isReadByAgent isReadByContact \
ifHasDraft mergedToTargetId totalReplies createdTime lastUpdatedTime lastRepliedTime \
lastStatusChangedTime resolvedTime isInRecycleBin reopenedTime contactLanguage agentLanguage \
autoTranslationStatus responseTimeSpan replyingAgent responseCount resolvedTimeSpan \
firstResponseTimeSpan tagIds noteMentions { isReadByAgent noteId id agentId ticketId }";

const MESSAGE_FIELDS: &str = "id ticketId parentId originalId sentById sentByType time type \
metadata channelId channelAccountId body translatedBody ifDisplayInTicketCorrespondences \
isOriginalSentToContact showInlineImage isRead isInternal \
messageDelivery { status failReason time groupId orderNum } \
attachments { id fileKey name size type url }";

const PARTICIPANT_FIELDS: &str = "__typename \
... on Contact { id name email phone language } \
... on Visitor { id name email language } \
... on Agent { id name email language } \
... on Chatbot { id name } \
... on ExternalParticipant { id type }";

/// Each `include` value and what it adds to the selection.
const INCLUDES: &[(&str, &str)] = &[
    ("ticketingTag", "tags { id name }"),
    (
        "ticketingDraft",
        "draft { ticketId body metadata lastUpdatedById lastUpdatedTime type \
         attachments { id fileKey name size ticketId type url } }",
    ),
    (
        "ticketingMessage",
        "messages(first: 100) { nodes { MESSAGE } }",
    ),
    (
        "ticketingEventLog",
        "eventLogs { id ticketId type createdById createdByType detail time }",
    ),
    ("lastMessage", "lastMessage { MESSAGE }"),
    (
        "assignee",
        "assignee { __typename ... on Agent { id name email language } ... on Chatbot { id name } }",
    ),
    (
        "departmentAssignee",
        "departmentAssignee { id name description }",
    ),
    ("createdBy", "createdBy { PARTICIPANT }"),
    ("lastRepliedBy", "lastRepliedBy { PARTICIPANT }"),
    ("contactOrVisitor", "contactOrVisitor { PARTICIPANT }"),
];

/// The GraphQL selection of a ticket for a comma-separated `include`; an unknown value is a
/// 400 naming it.
pub fn selection(include: Option<&str>) -> RestResult<String> {
    let mut fields = TICKET_FIELDS.to_string();
    let values = include.unwrap_or_default().split(',').map(str::trim);
    for value in values.filter(|v| !v.is_empty()) {
        let Some((_, extra)) = INCLUDES.iter().find(|(name, _)| *name == value) else {
            let allowed: Vec<&str> = INCLUDES.iter().map(|(name, _)| *name).collect();
            return Err(RestError::bad_input(
                "include",
                format!(
                    "unknown include value `{value}`; allowed: {}",
                    allowed.join(", ")
                ),
            ));
        };
        fields.push(' ');
        fields.push_str(
            &extra
                .replace("MESSAGE", MESSAGE_FIELDS)
                .replace("PARTICIPANT", PARTICIPANT_FIELDS),
        );
    }
    Ok(fields)
}

/// Keys whose values are GraphQL enums, answered in the spec's spelling.
const ENUM_KEYS: &[&str] = &[
    "status",
    "priority",
    "assigneeType",
    "contactOrVisitorType",
    "createdByType",
    "lastRepliedByType",
    "resolvedByType",
    "replyingAgent",
    "sentByType",
    "type",
];

/// A GraphQL ticket as the spec's JSON, reshaped in place. It works on async-graphql's value,
/// which the handlers then serialise as it is: a `serde_json::Value` copy on the way would
/// hash every key into a second map (on the 50-ticket list that hashing was 15% of the
/// request's instructions, callgrind). Keys leave as `serde_json`'s map would drop them
/// (`swap_remove`), so the JSON is the same as before.
pub fn ticket(mut value: GqlValue) -> GqlValue {
    reshape(&mut value);
    value
}

fn reshape(value: &mut GqlValue) {
    match value {
        GqlValue::Object(map) => {
            // Keys are found in the one pass over the map rather than looked up: a lookup
            // hashes the key, and a page of 50 tickets holds hundreds of objects.
            let mut typename = None;
            for (at, (key, v)) in map.iter_mut().enumerate() {
                let key = key.as_str();
                if key == "__typename" {
                    typename = Some(at);
                    continue;
                }
                // A Relay connection of messages becomes the plain array of them.
                if key == "messages"
                    && let GqlValue::Object(connection) = v
                {
                    *v = connection.swap_remove("nodes").unwrap_or_default();
                }
                let spelled = ENUM_KEYS.contains(&key);
                match v {
                    GqlValue::Number(n) if key == "ticketId" => {
                        *v = GqlValue::String(n.to_string())
                    }
                    // Other enums serialise as their name, a JSON string, as they are.
                    GqlValue::Enum(name) if spelled => *v = GqlValue::String(camel(name)),
                    GqlValue::String(s) if spelled => *s = camel(s),
                    other => reshape(other),
                }
            }
            // As `swap_remove("__typename")` first would leave the keys.
            if let Some(at) = typename {
                map.swap_remove_index(at);
            }
        }
        GqlValue::List(items) => items.iter_mut().for_each(reshape),
        _ => {}
    }
}

/// `PENDING_INTERNAL` -> `pendingInternal`; values not in GraphQL enum form stay as they are.
fn camel(s: &str) -> String {
    let is_enum = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !is_enum {
        return s.to_string();
    }
    crate::domain::text::camel_case(s)
}

/// `pendingInternal` -> `PENDING_INTERNAL`.
fn screaming(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

pub const STATUSES: &[&str] = &[
    "new",
    "pendingInternal",
    "pendingExternal",
    "onHold",
    "resolved",
];
pub const PRIORITIES: &[&str] = &["urgent", "high", "normal", "low"];
pub const ASSIGNEE_TYPES: &[&str] = &["agent", "chatbot"];
pub const PARTICIPANT_TYPES: &[&str] = &[
    "contact",
    "visitor",
    "chatbot",
    "channelAccount",
    "system",
    "agent",
    "outreachCampaign",
];

/// A spec enum spelling as the GraphQL value; anything else is a 400 naming `field`.
pub fn enum_value(field: &str, value: &Value, allowed: &[&str]) -> RestResult<Value> {
    match value {
        Value::Null => Ok(Value::Null),
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(Value::String(screaming(s))),
        other => Err(RestError::bad_input(
            field,
            format!("{field} must be one of {}, not {other}", allowed.join(", ")),
        )),
    }
}

/// A GUID, or a 400 naming `field`.
pub fn guid_value(field: &str, value: &Value) -> RestResult<Value> {
    match value {
        Value::Null => Ok(Value::Null),
        Value::String(s) if Uuid::parse_str(s).is_ok() => Ok(value.clone()),
        other => Err(RestError::bad_input(
            field,
            format!("{field} must be a GUID, not {other}"),
        )),
    }
}

const TICKET_KEYS: &[&str] = &[
    "subject",
    "channelId",
    "contactOrVisitorId",
    "contactOrVisitorType",
    "originalConversationId",
    "assigneeId",
    "assigneeType",
    "departmentAssigneeId",
    "channelAccountId",
    "createdById",
    "createdByType",
    "status",
    "priority",
    "contactLanguage",
    "agentLanguage",
    "autoTranslationStatus",
    "tagIds",
    "messages",
];
const UPDATE_ONLY_KEYS: &[&str] = &["isReadByAgent", "isInRecycleBin"];
const TICKET_ENUMS: &[(&str, &[&str])] = &[
    ("status", STATUSES),
    ("priority", PRIORITIES),
    ("assigneeType", ASSIGNEE_TYPES),
    ("contactOrVisitorType", PARTICIPANT_TYPES),
    ("createdByType", PARTICIPANT_TYPES),
];
const TICKET_GUIDS: &[&str] = &[
    "assigneeId",
    "departmentAssigneeId",
    "channelAccountId",
    "contactOrVisitorId",
    "createdById",
];

const MESSAGE_KEYS: &[&str] = &[
    "body",
    "translatedBody",
    "parentId",
    "sentById",
    "sentByType",
    "time",
    "type",
    "metadata",
    "originalId",
    "channelId",
    "ifDisplayInTicketCorrespondences",
    "isOriginalSentToContact",
    "showInlineImage",
    "isRead",
    "isInternal",
    "messageDelivery",
    "attachments",
];
const DELIVERY_KEYS: &[&str] = &["status", "failReason", "time", "groupId", "orderNum"];
const ATTACHMENT_KEYS: &[&str] = &["fileKey", "name", "size", "type", "url"];

/// The spec's POST (`update == false`) or PUT body as `CreateTicketInput` or
/// `UpdateTicketInput`. Keys the input does not know (`lastMessage`, read-only fields) are
/// ignored.
pub fn ticket_input(body: &Map<String, Value>, update: bool) -> RestResult<Value> {
    let known = |k: &str| TICKET_KEYS.contains(&k) || (update && UPDATE_ONLY_KEYS.contains(&k));
    let mut out = pick(body, known);
    for (key, allowed) in TICKET_ENUMS {
        convert(&mut out, key, |v| enum_value(key, v, allowed))?;
    }
    for key in TICKET_GUIDS {
        convert(&mut out, key, |v| guid_value(key, v))?;
    }
    convert(&mut out, "tagIds", |v| each(v, "tagIds", guid_value))?;
    convert(&mut out, "messages", |v| each(v, "messages", message_input))?;
    Ok(Value::Object(out))
}

/// One message object of the spec as a `MessageInput`.
fn message_input(path: &str, value: &Value) -> RestResult<Value> {
    let Value::Object(map) = value else {
        return Err(RestError::bad_input(
            path,
            format!("{path} must be an object"),
        ));
    };
    let mut out = pick(map, |k| MESSAGE_KEYS.contains(&k));
    let field = |k: &str| format!("{path}.{k}");
    convert(&mut out, "sentByType", |v| {
        enum_value(&field("sentByType"), v, PARTICIPANT_TYPES)
    })?;
    for key in ["parentId", "sentById"] {
        convert(&mut out, key, |v| guid_value(&field(key), v))?;
    }
    convert(&mut out, "messageDelivery", |v| match v {
        Value::Object(d) => {
            let mut d = pick(d, |k| DELIVERY_KEYS.contains(&k));
            convert(&mut d, "groupId", |v| {
                guid_value(&field("messageDelivery.groupId"), v)
            })?;
            Ok(Value::Object(d))
        }
        other => Ok(other.clone()),
    })?;
    convert(&mut out, "attachments", |v| {
        each(v, &field("attachments"), |_, a| {
            Ok(match a {
                Value::Object(a) => Value::Object(pick(a, |k| ATTACHMENT_KEYS.contains(&k))),
                other => other.clone(),
            })
        })
    })?;
    Ok(Value::Object(out))
}

fn pick(map: &Map<String, Value>, known: impl Fn(&str) -> bool) -> Map<String, Value> {
    map.iter()
        .filter(|(k, _)| known(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn convert(
    map: &mut Map<String, Value>,
    key: &str,
    f: impl FnOnce(&Value) -> RestResult<Value>,
) -> RestResult<()> {
    if let Some(v) = map.get_mut(key) {
        *v = f(v)?;
    }
    Ok(())
}

/// Converts each element of an array (null stays null; a non-array is left for GraphQL to
/// reject).
fn each(
    value: &Value,
    path: &str,
    f: impl Fn(&str, &Value) -> RestResult<Value>,
) -> RestResult<Value> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| f(&format!("{path}[{i}]"), v))
            .collect::<RestResult<Vec<_>>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_spellings_round_trip() {
        for s in STATUSES.iter().chain(PARTICIPANT_TYPES) {
            assert_eq!(camel(&screaming(s)), *s);
        }
        assert_eq!(screaming("pendingInternal"), "PENDING_INTERNAL");
        assert_eq!(camel("NO_REPLY"), "noReply");
        assert_eq!(camel("text"), "text");
    }
}
