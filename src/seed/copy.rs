//! The PostgreSQL path of the seed: rows stream in with `COPY ... FROM STDIN`, which skips
//! the per-statement parse, bind and planning that made multi-row INSERTs cost ~0.45 ms of
//! server time per ticket. Ticket ids are taken from the table's own sequence first, so the
//! children can be written without a RETURNING round trip and the service keeps numbering
//! after them.

use std::sync::Arc;

use sea_orm::sqlx::{self, PgConnection};
use sea_orm::{
    DatabaseConnection, DbErr, EntityTrait, IdenStatic, Iterable, ModelTrait, RuntimeErr, Value,
};
use uuid::Uuid;

use crate::Result;

fn db_err(e: sqlx::Error) -> crate::Error {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e))).into()
}

/// One table's rows in COPY text format.
pub(super) struct CopyRows {
    statement: String,
    data: String,
}

impl CopyRows {
    /// Rows of an entity, every column in the entity's order.
    pub(super) fn of<M: ModelTrait>(models: &[M]) -> Result<Self> {
        let columns: Vec<_> = <M::Entity as EntityTrait>::Column::iter().collect();
        let names: Vec<&str> = columns.iter().map(|c| c.as_str()).collect();
        let mut rows = Self::new(<M::Entity as Default>::default().as_str(), &names);
        for model in models {
            let values: Vec<Value> = columns.iter().map(|c| model.get(*c)).collect();
            rows.push(&values)?;
        }
        Ok(rows)
    }

    pub(super) fn new(table: &str, columns: &[&str]) -> Self {
        Self {
            statement: format!(
                "COPY {table} ({}) FROM STDIN (FORMAT text)",
                columns.join(", ")
            ),
            data: String::new(),
        }
    }

    pub(super) fn push(&mut self, values: &[Value]) -> Result<()> {
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.data.push('\t');
            }
            write_value(&mut self.data, value)?;
        }
        self.data.push('\n');
        Ok(())
    }

    pub(super) async fn send(self, conn: &mut PgConnection) -> Result<()> {
        if self.data.is_empty() {
            return Ok(());
        }
        let mut copy = conn.copy_in_raw(&self.statement).await.map_err(db_err)?;
        copy.send(self.data.into_bytes()).await.map_err(db_err)?;
        copy.finish().await.map_err(db_err)?;
        Ok(())
    }
}

fn write_value(out: &mut String, value: &Value) -> Result<()> {
    let text = match value {
        Value::Bool(Some(b)) => (if *b { "t" } else { "f" }).to_owned(),
        Value::Int(Some(n)) => n.to_string(),
        Value::BigInt(Some(n)) => n.to_string(),
        Value::String(Some(s)) => s.clone(),
        Value::Uuid(Some(u)) => u.to_string(),
        Value::ChronoDateTimeUtc(Some(t)) => t.to_rfc3339(),
        Value::ChronoDateTimeWithTimeZone(Some(t)) => t.to_rfc3339(),
        Value::Json(Some(j)) => j.to_string(),
        Value::Bool(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::String(None)
        | Value::Uuid(None)
        | Value::ChronoDateTimeUtc(None)
        | Value::ChronoDateTimeWithTimeZone(None)
        | Value::Json(None) => {
            out.push_str("\\N");
            return Ok(());
        }
        other => {
            return Err(anyhow::anyhow!("seed cannot COPY a value of this kind: {other:?}").into());
        }
    };
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    Ok(())
}

/// Everything of one batch of tickets, written in one transaction.
pub(super) struct Batch {
    pub tickets: CopyRows,
    pub messages: CopyRows,
    pub ticket_tags: CopyRows,
    pub note_mentions: CopyRows,
    pub drafts: CopyRows,
    pub search: CopyRows,
}

/// `n` fresh ticket ids from the tickets' own sequence.
pub(super) async fn ticket_ids(db: &DatabaseConnection, n: usize) -> Result<Vec<i64>> {
    let pool = db.get_postgres_connection_pool();
    let ids = sqlx::query_scalar::<_, i64>(
        "SELECT nextval(pg_get_serial_sequence('tickets', 'id')) FROM generate_series(1, $1)",
    )
    .bind(n as i64)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    Ok(ids)
}

pub(super) async fn write(db: &DatabaseConnection, batch: Batch) -> Result<()> {
    let pool = db.get_postgres_connection_pool();
    let mut tx = pool.begin().await.map_err(db_err)?;
    // Parents before children: the composite foreign keys are checked per row.
    for rows in [
        batch.tickets,
        batch.messages,
        batch.ticket_tags,
        batch.note_mentions,
        batch.drafts,
        batch.search,
    ] {
        rows.send(&mut tx).await?;
    }
    tx.commit().await.map_err(db_err)?;
    Ok(())
}

/// A search document row, as `search::insert_documents` writes it.
pub(super) fn search_row(
    rows: &mut CopyRows,
    ticket_id: i64,
    site_id: Uuid,
    document: &str,
) -> Result<()> {
    rows.push(&[
        Value::BigInt(Some(ticket_id)),
        Value::Uuid(Some(site_id)),
        Value::String(Some(document.to_owned())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_separators_and_writes_null_as_backslash_n() {
        let mut rows = CopyRows::new("t", &["a", "b", "c"]);
        rows.push(&[
            Value::String(Some("tab\there\nline\\slash".into())),
            Value::String(None),
            Value::Bool(Some(true)),
        ])
        .unwrap();
        assert_eq!(rows.data, "tab\\there\\nline\\\\slash\t\\N\tt\n");
    }
}
