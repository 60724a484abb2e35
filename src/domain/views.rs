//! Views: saved ticket filters. A view's conditions become one SQL condition, so filtering by a
//! view and counting its unread tickets run in the database, not in memory.

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use std::collections::HashMap;

use sea_orm::{ColumnTrait, Condition, DatabaseConnection, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::Principal;
use super::listing::has_tag_in;
use crate::entity::*;
use crate::{Error, Result};

/// A view with its conditions in order.
#[derive(Debug, Clone)]
pub struct View {
    pub view: views::Model,
    pub conditions: Vec<view_conditions::Model>,
}

/// The views the caller may see: the site's shared ones and their own private ones. A private
/// view of someone else answers as if it did not exist.
pub(crate) fn visible(actor: &Principal) -> sea_orm::Select<views::Entity> {
    actor.find::<views::Entity>().filter(
        Condition::any()
            .add(views::Column::IsPrivate.eq(false))
            .add(views::Column::CreatedById.eq(actor.agent_id)),
    )
}

/// A view the caller may use ([`visible`]); anything else is not found, named by `field`.
pub async fn visible_view(
    db: &DatabaseConnection,
    actor: &Principal,
    id: Uuid,
    field: &str,
) -> Result<View> {
    visible_views(db, actor, &[id], field)
        .await?
        .pop()
        .ok_or_else(|| Error::NotFound(format!("{field}: view {id} not found")))
}

/// The views `ids` names, in that order, with their conditions: two statements however many
/// there are. The first one the caller may not use ([`visible`]) is not found, named by
/// `field`.
pub async fn visible_views(
    db: &DatabaseConnection,
    actor: &Principal,
    ids: &[Uuid],
    field: &str,
) -> Result<Vec<View>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashMap<Uuid, views::Model> = visible(actor)
        .filter(views::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let mut conditions: HashMap<Uuid, Vec<view_conditions::Model>> = HashMap::new();
    for c in actor
        .find::<view_conditions::Entity>()
        .filter(view_conditions::Column::ViewId.is_in(found.keys().copied()))
        .order_by_asc(view_conditions::Column::Position)
        .all(db)
        .await?
    {
        conditions.entry(c.view_id).or_default().push(c);
    }
    // In the order asked, a view named twice given twice.
    ids.iter()
        .map(|id| {
            let view = found
                .get(id)
                .cloned()
                .ok_or_else(|| Error::NotFound(format!("{field}: view {id} not found")))?;
            let conditions = conditions.get(id).cloned().unwrap_or_default();
            Ok(View { view, conditions })
        })
        .collect()
}

/// The SQL condition a view stands for: all of its conditions, or any of them. A view with no
/// conditions matches every ticket.
pub fn condition(actor: &Principal, view: &View) -> Result<Condition> {
    let mut cond = match view.view.condition_met_type {
        ConditionMetType::All => Condition::all(),
        ConditionMetType::Any => Condition::any(),
    };
    if view.conditions.is_empty() {
        return Ok(Condition::all());
    }
    for c in &view.conditions {
        cond = cond.add(one(actor, c).map_err(|msg| {
            Error::bad_input(
                "viewId",
                format!(
                    "view condition `{} {} {}`: {msg}",
                    c.field_name, c.operator, c.value
                ),
            )
        })?);
    }
    Ok(cond)
}

type Col = tickets::Column;

/// One condition as SQL; the error says what about it cannot be evaluated.
fn one(actor: &Principal, c: &view_conditions::Model) -> std::result::Result<SimpleExpr, String> {
    let op = c.operator.as_str();
    let value = c.value.trim();
    match c.field_name.as_str() {
        "status" => text(Col::Status, op, &spec_spelling(value), true),
        "priority" => text(Col::Priority, op, &spec_spelling(value), true),
        "assigneeType" => text(Col::AssigneeType, op, &spec_spelling(value), true),
        "contactOrVisitorType" => text(Col::ContactOrVisitorType, op, &spec_spelling(value), true),
        "replyingAgent" => text(Col::ReplyingAgent, op, &spec_spelling(value), true),
        "channelId" => text(Col::ChannelId, op, value, false),
        "subject" => text(Col::Subject, op, value, false),
        "assigneeId" => uuid(Col::AssigneeId, op, value),
        "departmentAssigneeId" => uuid(Col::DepartmentAssigneeId, op, value),
        "contactOrVisitorId" => uuid(Col::ContactOrVisitorId, op, value),
        "tagIds" => {
            let tags = uuids(value)?;
            match op {
                "is" | "contains" | "isOneOf" => Ok(has_tag_in(actor, tags)),
                "isNot" | "notContains" | "isNotIn" => Ok(has_tag_in(actor, tags).not()),
                _ => Err(unsupported(op)),
            }
        }
        "isReadByAgent" => boolean(Col::IsReadByAgent, op, value),
        "isInRecycleBin" => boolean(Col::IsInRecycleBin, op, value),
        "createdTime" => time(Col::CreatedTime, op, value),
        "lastUpdatedTime" => time(Col::LastUpdatedTime, op, value),
        "lastRepliedTime" => time(Col::LastRepliedTime, op, value),
        "totalReplies" => {
            let n: i64 = value
                .parse()
                .map_err(|_| format!("`{value}` is not a number"))?;
            match op {
                "is" => Ok(Col::TotalReplies.eq(n)),
                "isNot" => Ok(Col::TotalReplies.ne(n)),
                "isMoreThan" => Ok(Col::TotalReplies.gt(n)),
                "isLessThan" => Ok(Col::TotalReplies.lt(n)),
                _ => Err(unsupported(op)),
            }
        }
        other => Err(format!("unknown field `{other}`")),
    }
}

fn unsupported(op: &str) -> String {
    format!("operator `{op}` does not apply to this field")
}

/// Values of list operators: a JSON array of strings, or a comma-separated list.
fn list(value: &str) -> Vec<String> {
    if value.starts_with('[')
        && let Ok(items) = serde_json::from_str::<Vec<String>>(value)
    {
        return items;
    }
    value
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Views may spell enum values the GraphQL way (`PENDING_INTERNAL`); the database holds the
/// spec's spelling (`pendingInternal`).
fn spec_spelling(value: &str) -> String {
    if !value.contains(|c: char| c.is_ascii_uppercase())
        || value.contains(|c: char| c.is_ascii_lowercase())
    {
        return value.to_owned();
    }
    super::text::camel_case(value.trim_matches('_'))
}

fn text(
    col: Col,
    op: &str,
    value: &str,
    list_values_are_enums: bool,
) -> std::result::Result<SimpleExpr, String> {
    let items = || -> Vec<String> {
        let items = list(value);
        if list_values_are_enums {
            items.iter().map(|v| spec_spelling(v)).collect()
        } else {
            items
        }
    };
    let like = |v: &str| {
        let pattern = format!(
            "%{}%",
            v.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        Expr::expr(Func::lower(Expr::col((tickets::Entity, col))))
            .like(LikeExpr::new(pattern).escape('\\'))
    };
    match op {
        "is" => Ok(Expr::col((tickets::Entity, col)).eq(value)),
        "isNot" => {
            Ok(Expr::col((tickets::Entity, col))
                .ne(value)
                .or(Expr::col((tickets::Entity, col)).is_null()))
        }
        "isOneOf" => Ok(Expr::col((tickets::Entity, col)).is_in(items())),
        "isNotIn" => Ok(Expr::col((tickets::Entity, col))
            .is_not_in(items())
            .or(Expr::col((tickets::Entity, col)).is_null())),
        "contains" => Ok(like(value)),
        "notContains" => Ok(like(value).not()),
        _ => Err(unsupported(op)),
    }
}

fn uuids(value: &str) -> std::result::Result<Vec<Uuid>, String> {
    list(value)
        .iter()
        .map(|v| {
            v.parse::<Uuid>()
                .map_err(|_| format!("`{v}` is not a UUID"))
        })
        .collect()
}

fn uuid(col: Col, op: &str, value: &str) -> std::result::Result<SimpleExpr, String> {
    let ids = uuids(value)?;
    let single = || {
        ids.first()
            .copied()
            .ok_or_else(|| "a UUID is required".to_owned())
    };
    match op {
        "is" => Ok(col.eq(single()?)),
        "isNot" => Ok(col.ne(single()?).or(col.is_null())),
        "isOneOf" => Ok(col.is_in(ids.clone())),
        "isNotIn" => Ok(col.is_not_in(ids.clone()).or(col.is_null())),
        _ => Err(unsupported(op)),
    }
}

fn boolean(col: Col, op: &str, value: &str) -> std::result::Result<SimpleExpr, String> {
    let b = match value.to_ascii_lowercase().as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(format!("`{value}` is not true or false")),
    };
    match op {
        "is" => Ok(col.eq(b)),
        "isNot" => Ok(col.eq(!b)),
        _ => Err(unsupported(op)),
    }
}

/// `before`/`after` an RFC 3339 instant; `isMoreThan`/`isLessThan` a number of seconds ago
/// (`lastRepliedTime isMoreThan 86400`: no reply for over a day).
fn time(col: Col, op: &str, value: &str) -> std::result::Result<SimpleExpr, String> {
    let instant = || {
        DateTime::parse_from_rfc3339(value)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| format!("`{value}` is not an RFC 3339 time"))
    };
    let ago = || {
        value
            .parse::<i64>()
            .ok()
            .and_then(TimeDelta::try_seconds)
            .map(|d| super::now() - d)
            .ok_or_else(|| format!("`{value}` is not a number of seconds"))
    };
    match op {
        "before" => Ok(col.lt(instant()?)),
        "after" => Ok(col.gt(instant()?)),
        "isMoreThan" => Ok(col.lt(ago()?)),
        "isLessThan" => Ok(col.gt(ago()?)),
        _ => Err(unsupported(op)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_enum_spellings_become_the_specs() {
        assert_eq!(spec_spelling("PENDING_INTERNAL"), "pendingInternal");
        assert_eq!(spec_spelling("NEW"), "new");
        assert_eq!(spec_spelling("pendingInternal"), "pendingInternal");
        assert_eq!(spec_spelling("Email"), "Email");
    }

    #[test]
    fn list_values_read_as_json_or_commas() {
        assert_eq!(list(r#"["a","b"]"#), vec!["a", "b"]);
        assert_eq!(list("a, b,,c"), vec!["a", "b", "c"]);
    }
}
