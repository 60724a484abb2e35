//! Keyword search: each ticket has one search document (its subject and the readable text of
//! its messages) indexed by the database's full-text engine. The document is written here,
//! in the same transaction as the change it follows.

use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, QueryFilter, QueryOrder, Statement};

use super::Principal;
use super::text::plain_text;
use crate::Result;
use crate::entity::*;

/// Writes a ticket's search document from scratch: its subject and every message's text.
pub(crate) async fn reindex(
    db: &impl ConnectionTrait,
    actor: &Principal,
    ticket: &tickets::Model,
) -> Result<()> {
    let messages = actor
        .find::<messages::Entity>()
        .filter(messages::Column::TicketId.eq(ticket.id))
        .order_by_asc(messages::Column::Time)
        .all(db)
        .await?;
    let bodies = messages.iter().map(|m| m.body.as_str());
    write_document(
        db,
        actor.site_id,
        ticket.id,
        &document(&ticket.subject, bodies),
    )
    .await
}

/// A ticket's search document: its subject, then the readable text of each message body, a
/// line each.
pub(crate) fn document<'a>(subject: &str, bodies: impl IntoIterator<Item = &'a str>) -> String {
    let mut document = subject.to_owned();
    for body in bodies {
        document.push('\n');
        document.push_str(&plain_text(body));
    }
    document
}

/// Adds the text of messages (their bodies, in order) to a ticket's search document in one
/// statement.
pub(crate) async fn append<'a>(
    db: &impl ConnectionTrait,
    site_id: uuid::Uuid,
    ticket_id: i64,
    bodies: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let text = bodies
        .into_iter()
        .map(plain_text)
        .collect::<Vec<_>>()
        .join("\n");
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "UPDATE ticket_search SET document = document || E'\\n' || $1 WHERE ticket_id = $2 AND site_id = $3"
        }
        _ => {
            "UPDATE ticket_search SET document = document || char(10) || ? WHERE rowid = ? AND site_id = ?"
        }
    };
    let stmt = Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [text.into(), ticket_id.into(), site_id.into()],
    );
    db.execute_raw(stmt).await?;
    Ok(())
}

/// Replaces a ticket's search document.
pub(crate) async fn write_document(
    db: &impl ConnectionTrait,
    site_id: uuid::Uuid,
    ticket_id: i64,
    document: &str,
) -> Result<()> {
    let backend = db.get_database_backend();
    let statements: &[&str] = match backend {
        DbBackend::Postgres => &[
            "INSERT INTO ticket_search (ticket_id, site_id, document) VALUES ($1, $2, $3)
             ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document",
        ],
        // FTS5 tables have no upsert: remove, then insert.
        _ => &[
            "DELETE FROM ticket_search WHERE rowid = ?",
            "INSERT INTO ticket_search (rowid, site_id, document) VALUES (?, ?, ?)",
        ],
    };
    for (i, sql) in statements.iter().enumerate() {
        let values: Vec<sea_orm::Value> = if statements.len() == 2 && i == 0 {
            vec![ticket_id.into()]
        } else {
            vec![ticket_id.into(), site_id.into(), document.into()]
        };
        db.execute_raw(Statement::from_sql_and_values(backend, *sql, values))
            .await?;
    }
    Ok(())
}

/// Writes the search documents of new tickets, many rows a statement (for bulk loads).
pub(crate) async fn insert_documents(
    db: &impl ConnectionTrait,
    site_id: uuid::Uuid,
    documents: &[(i64, String)],
) -> Result<()> {
    // The ticket's id is the FTS5 table's rowid on SQLite.
    let id_column = match db.get_database_backend() {
        DbBackend::Postgres => "ticket_id",
        _ => "rowid",
    };
    for chunk in documents.chunks(1_000) {
        let mut insert = sea_orm::sea_query::Query::insert();
        insert
            .into_table("ticket_search")
            .columns([id_column, "site_id", "document"]);
        for (id, document) in chunk {
            insert.values_panic([(*id).into(), site_id.into(), document.as_str().into()]);
        }
        db.execute(&insert).await?;
    }
    Ok(())
}

/// Drops a ticket's search document (PostgreSQL does it by cascade; FTS5 tables have none).
pub(crate) async fn remove(db: &impl ConnectionTrait, ticket_id: i64) -> Result<()> {
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "DELETE FROM ticket_search WHERE rowid = ?",
            [ticket_id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The words of a search, as the index sees them: letters and digits, lower-cased.
fn words(keywords: &str) -> Vec<String> {
    keywords
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(str::to_lowercase)
        .collect()
}

/// Every word, as a word or the start of one, as a PostgreSQL `tsquery`. Words are letters
/// and digits only, so they are safe inside one.
fn prefix_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("{w}:*"))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Tickets whose document holds every word of `keywords`, each as a word or the start of
/// one (`refu` finds "refund"), for a query over many tickets: the full-text index is read
/// once. Keywords with no word in them match nothing.
///
/// On PostgreSQL the matching ids are gathered first (`= ANY(ARRAY(...))`) and the tickets
/// looked up by them. As a plain `IN (...)` the planner is free to walk the site's tickets and
/// test each document instead, and it does when its statistics guess that a prefix matches
/// 1% of them: a word that matches nothing then cost 1.3 s over 100,000 tickets, against
/// under 1 ms this way. A word that matches most tickets is [`crate::domain::listing`]'s
/// business: it walks the list and uses [`row_matches`].
pub(crate) fn matching(backend: DbBackend, actor: &Principal, keywords: &str) -> SimpleExpr {
    let words = words(keywords);
    if words.is_empty() {
        return Expr::val(1).eq(0);
    }
    let id = Expr::col((tickets::Entity, tickets::Column::Id));
    match backend {
        DbBackend::Postgres => Expr::cust_with_exprs(
            "$1 = ANY(ARRAY(SELECT \"ticket_id\" FROM \"ticket_search\" WHERE \"site_id\" = $2 AND $3))",
            [
                id,
                Expr::val(actor.site_id),
                Expr::cust_with_values(pg_test("\"document\""), [prefix_query(&words)]),
            ],
        ),
        _ => sqlite_matching(actor, &words),
    }
}

/// [`matching`] tested ticket by ticket: on PostgreSQL a lookup of the ticket's own document,
/// for a query that stops early (a walk of the list) or looks at one ticket (a subscriber's
/// filter).
pub(crate) fn row_matches(backend: DbBackend, actor: &Principal, keywords: &str) -> SimpleExpr {
    let words = words(keywords);
    if words.is_empty() {
        return Expr::val(1).eq(0);
    }
    match backend {
        DbBackend::Postgres => Expr::cust_with_values(
            format!(
                "(SELECT {} FROM \"ticket_search\" \
                 WHERE \"ticket_search\".\"ticket_id\" = \"tickets\".\"id\" \
                 AND \"ticket_search\".\"site_id\" = \"tickets\".\"site_id\")",
                pg_test("\"ticket_search\".\"document\"")
            ),
            [prefix_query(&words)],
        ),
        // FTS5 finds the matching rowids in one pass, whatever the query around it.
        _ => sqlite_matching(actor, &words),
    }
}

/// PostgreSQL's test of a search document (the column `document`) against the `tsquery` in
/// `$1`: the expression the full-text index is built on, so the index can answer it.
fn pg_test(document: &str) -> String {
    format!("to_tsvector('simple', {document}) @@ to_tsquery('simple', $1)")
}

fn sqlite_matching(actor: &Principal, words: &[String]) -> SimpleExpr {
    let query = words
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" ");
    Expr::col((tickets::Entity, tickets::Column::Id)).in_subquery(
        sea_orm::sea_query::Query::select()
            .expr(Expr::cust("rowid"))
            .from("ticket_search")
            .and_where(Expr::cust_with_values("ticket_search MATCH ?", [query]))
            .and_where(Expr::col("site_id").eq(actor.site_id))
            .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_letters_and_digits() {
        assert_eq!(
            words("Refund: 50% off_coupon!"),
            vec!["refund", "50", "off", "coupon"]
        );
        assert_eq!(words("\"; DROP TABLE x; --"), vec!["drop", "table", "x"]);
        assert!(words("%%% ***").is_empty());
    }
}
