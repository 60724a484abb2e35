//! Rows decoded by their position in the SELECT list.
//!
//! sea-orm's derived decoding looks every column up by name, and for every NULL it formats the
//! column's name into an error that `Option` then throws away. On the 50-ticket inbox that was
//! a third of the server's instructions (callgrind): a ticket row has 43 columns, most of its
//! references NULL. [`FromRow`] reads column `i` of `Entity::find()`'s SELECT list (which
//! lists the columns in declaration order) and checks NULL before decoding. On SQLite each
//! value is still converted by sea-orm's own `TryGetable`; on PostgreSQL see [`Cell`].
//!
//! Select with [`Rows::rows`] or [`Rows::row`] instead of `all` or `one`. A query that chooses
//! its own columns can still decode by position: put an entity's columns first, in order, run
//! it with [`Reader::query_all`] and read the rest with [`Cell::cell`] (the tags loader does).

use std::pin::Pin;

use sea_orm::prelude::{DateTimeUtc, Json, Uuid};
use sea_orm::sqlx::error::BoxDynError;
use sea_orm::sqlx::postgres::{PgValueFormat, PgValueRef, Postgres};
use sea_orm::sqlx::{self, Decode, Row as _, ValueRef as _};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseConnection, DatabaseConnectionType, DbBackend, DbErr,
    EntityTrait, Iterable, QueryResult, QuerySelect, QueryTrait, RuntimeErr, Select, Statement,
};

use super::enums::{
    AgentRole, AssigneeType, ParticipantType, Priority, ReplyingAgent, TicketStatus,
};

/// A model decoded by position: field `i` is column `i` of the entity's SELECT list.
pub trait FromRow: Sized + Send + Sync {
    /// The column names in the order decoded, for the test that they match the entity's.
    const COLUMNS: &'static [&'static str];

    fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
        Self::from_row_of(row, Columns::ALL)
    }

    /// A model from a row that holds only `columns`, in order; every other field is
    /// [`Blank`].
    fn from_row_of(row: &QueryResult, columns: Columns) -> Result<Self, DbErr>;
}

/// Which of an entity's columns a select reads: bit `i` stands for the `i`th of
/// [`FromRow::COLUMNS`] (no entity has more than 64). A model read with fewer than all of them
/// holds [`Blank`] values in the others, so only a caller that knows which fields it will read
/// may ask for fewer: the ticket lists, the last-message loader and the directory's loaders
/// do, through `graphql::loaders::columns_for`. Reading every column of a page costs both
/// sides: PostgreSQL sends each value, and each is decoded here (a ticket has 43 columns, the
/// inbox reads 12 of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns(u64);

impl Columns {
    pub const ALL: Columns = Columns(u64::MAX);
    pub const NONE: Columns = Columns(0);

    /// These columns and `column` of entity `E`.
    #[must_use]
    pub fn with<E: EntityTrait>(self, column: E::Column) -> Self
    where
        E::Model: FromRow,
    {
        match Self::index_of::<E::Model>(sea_orm::IdenStatic::as_str(&column)) {
            Some(i) => Columns(self.0 | 1 << i),
            // Not a column this decoder knows: read them all rather than guess.
            None => Columns::ALL,
        }
    }

    /// `columns` of entity `E`.
    pub fn of<E: EntityTrait>(columns: &[E::Column]) -> Self
    where
        E::Model: FromRow,
    {
        columns
            .iter()
            .fold(Columns::NONE, |set, &c| set.with::<E>(c))
    }

    /// The column of `E` named as the GraphQL field `field` (`createdTime`: `created_time`),
    /// for types whose every field is the column of its name; `None` when there is no such
    /// column.
    pub fn named<E: EntityTrait>(field: &str) -> Option<Self>
    where
        E::Model: FromRow,
    {
        let mut snake = String::with_capacity(field.len() + 4);
        for ch in field.chars() {
            if ch.is_ascii_uppercase() {
                snake.push('_');
                snake.push(ch.to_ascii_lowercase());
            } else {
                snake.push(ch);
            }
        }
        Self::index_of::<E::Model>(&snake).map(|i| Columns(1 << i))
    }

    /// The position of the column `name` among `M`'s (a Rust keyword's `r#` left out).
    fn index_of<M: FromRow>(name: &str) -> Option<usize> {
        // Not `trim_start_matches`: a string pattern builds a searcher per call, and a list's
        // columns are worked out at every request.
        M::COLUMNS
            .iter()
            .position(|c| c.strip_prefix("r#").unwrap_or(c) == name)
    }

    pub fn union(self, other: Columns) -> Self {
        Columns(self.0 | other.0)
    }

    pub fn has(self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }

    /// Whether these are all `width` columns of an entity.
    fn all_of(self, width: usize) -> bool {
        (0..width).all(|i| self.has(i))
    }

    fn count_of(self, width: usize) -> usize {
        (0..width).filter(|&i| self.has(i)).count()
    }
}

/// The value of a field whose column was not read ([`Columns`]).
pub trait Blank {
    fn blank() -> Self;
}

impl<T> Blank for Option<T> {
    fn blank() -> Self {
        None
    }
}

macro_rules! blank_defaults {
    ($($t:ty),+ $(,)?) => {
        $(impl Blank for $t {
            fn blank() -> Self {
                <$t>::default()
            }
        })+
    };
}

blank_defaults!(i32, i64, bool, String, Uuid, Json, DateTimeUtc);

/// One value of a row, read by position.
///
/// On PostgreSQL a value is looked up once (a NULL check is the same lookup) and decoded
/// without sqlx's check that the column's type suits the Rust type: per value that check cost
/// more than the decoding (for text it compares the type against every text-like type by
/// name). The entities' field types are their columns' types (the migrations and the
/// round-trip tests say so), and a mismatch still fails to decode: sqlx's decoders check the
/// length of what they read. SQLite goes through sea-orm's own conversions.
pub trait Cell: Sized {
    /// From a PostgreSQL value (NULL only for `Option`).
    fn pg(value: PgValueRef<'_>) -> Result<Self, BoxDynError>;

    /// From column `index` of a row of another backend, through sea-orm.
    fn other(row: &QueryResult, index: usize) -> Result<Self, DbErr>;

    fn cell(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
        let Some(pg) = row.try_as_pg_row() else {
            return Self::other(row, index);
        };
        let decode_error = |e| DbErr::Query(RuntimeErr::SqlxError(sqlx::Error::Decode(e).into()));
        let value = pg
            .try_get_raw(index)
            .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(e.into())))?;
        Self::pg(value).map_err(decode_error)
    }
}

impl<T: Cell> Cell for Option<T> {
    fn pg(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        if value.is_null() {
            Ok(None)
        } else {
            T::pg(value).map(Some)
        }
    }

    fn other(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
        // Out of range is "not NULL", so decoding it reports the error.
        let null = row
            .try_as_sqlite_row()
            .is_some_and(|lite| lite.try_get_raw(index).is_ok_and(|v| v.is_null()));
        if null {
            Ok(None)
        } else {
            T::other(row, index).map(Some)
        }
    }
}

macro_rules! cells {
    ($($t:ty),+ $(,)?) => {
        $(impl Cell for $t {
            fn pg(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
                <$t as Decode<'_, Postgres>>::decode(value)
            }

            fn other(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                row.try_get_by_index::<$t>(index)
            }
        })+
    };
}

cells!(i32, i64, bool, String, Uuid, Json);

/// A `timestamptz` is microseconds since 2000-01-01 UTC, this many after 1970's epoch.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl Cell for DateTimeUtc {
    /// sqlx adds a chrono `Duration` to its epoch, a calendar walk; a sum is enough. Text
    /// values (never sent for our prepared statements) go to sqlx.
    fn pg(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        if value.format() != PgValueFormat::Binary {
            return <DateTimeUtc as Decode<'_, Postgres>>::decode(value);
        }
        let micros = <i64 as Decode<'_, Postgres>>::decode(value)?;
        micros
            .checked_add(PG_EPOCH_MICROS)
            .and_then(DateTimeUtc::from_timestamp_micros)
            .ok_or_else(|| format!("timestamp out of range: {micros} µs after 2000").into())
    }

    fn other(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
        row.try_get_by_index(index)
    }
}

/// The string-valued enums: their text, then sea-orm's own conversion.
macro_rules! enum_cells {
    ($($t:ty),+ $(,)?) => {
        $(impl Cell for $t {
            fn pg(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
                Ok(<$t as ActiveEnum>::try_from_value(&String::pg(value)?)?)
            }

            fn other(row: &QueryResult, index: usize) -> Result<Self, DbErr> {
                <$t as ActiveEnum>::try_from_value(&String::other(row, index)?)
            }
        }

        impl Blank for $t {
            fn blank() -> Self {
                <$t as sea_orm::Iterable>::iter().next().expect("an enum has a variant")
            }
        })+
    };
}

enum_cells!(
    AgentRole,
    AssigneeType,
    ParticipantType,
    Priority,
    ReplyingAgent,
    TicketStatus,
);

/// Implements [`FromRow`] for each entity's `Model`, its fields listed in declaration order.
/// The struct literal makes the compiler check that every field is listed; the test below
/// checks the order against the entity's columns.
macro_rules! from_row {
    ($($entity:ident { $($field:ident),+ $(,)? })+) => {
        $(impl FromRow for super::$entity::Model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

            fn from_row_of(row: &QueryResult, columns: Columns) -> Result<Self, DbErr> {
                // `field` counts the entity's columns, `index` the row's.
                let (mut field, mut index) = (0, 0);
                let mut next = || {
                    field += 1;
                    columns.has(field - 1).then(|| {
                        index += 1;
                        index - 1
                    })
                };
                Ok(Self { $($field: match next() {
                    Some(i) => Cell::cell(row, i)?,
                    None => Blank::blank(),
                }),+ })
            }
        })+

        #[cfg(test)]
        fn every_order() -> Vec<(Vec<String>, &'static [&'static str])> {
            use sea_orm::{IdenStatic, Iterable};
            vec![$((
                <super::$entity::Entity as EntityTrait>::Column::iter()
                    .map(|c| c.as_str().to_string())
                    .collect(),
                <super::$entity::Model as FromRow>::COLUMNS,
            )),+]
        }
    };
}

from_row! {
    tickets { id, site_id, subject, original_conversation_id, assignee_id, assignee_type, department_assignee_id, channel_id, channel_account_id, last_message_id, last_message_channel_id, last_message_channel_account_id, contact_or_visitor_id, contact_or_visitor_type, created_by_id, created_by_type, last_replied_by_id, last_replied_by_type, resolved_by_id, resolved_by_type, status, priority, is_read_by_agent, is_read_by_contact, if_has_draft, merged_to_target_id, total_replies, created_time, last_updated_time, last_replied_time, last_status_changed_time, resolved_time, is_in_recycle_bin, reopened_time, contact_language, agent_language, auto_translation_status, response_time_span, replying_agent, response_count, resolved_time_span, first_response_time_span, version }
    messages { id, site_id, ticket_id, parent_id, original_id, sent_by_id, sent_by_type, time, r#type, metadata, channel_id, channel_account_id, body, translated_body, if_display_in_ticket_correspondences, is_original_sent_to_contact, show_inline_image, is_read, is_internal, delivery_status, delivery_fail_reason, delivery_time, delivery_group_id, delivery_order_num, created_time }
    message_attachments { id, site_id, message_id, position, file_key, name, size, r#type, url }
    drafts { ticket_id, site_id, body, r#type, metadata, last_updated_by_id, last_updated_time }
    draft_attachments { id, site_id, ticket_id, position, file_key, name, size, r#type, url }
    note_mentions { id, site_id, note_id, agent_id, ticket_id, is_read_by_agent, created_time }
    ticket_event_logs { id, site_id, ticket_id, r#type, created_by_id, created_by_type, detail, time }
    view_conditions { id, site_id, view_id, position, field_name, operator, value }
    agents { id, site_id, name, email, role, is_active, language, created_time }
    chatbots { id, site_id, name, is_active, created_time }
    departments { id, site_id, name, description, created_time }
    contacts { id, site_id, name, email, phone, language, created_time }
    visitors { id, site_id, name, email, language, created_time }
    tags { id, site_id, name, created_time }
}

/// `all` and `one` for selects of a whole entity, decoding by position.
pub trait Rows<E: EntityTrait> {
    fn rows(self, db: &impl Reader) -> impl Future<Output = Result<Vec<E::Model>, DbErr>> + Send;
    fn row(self, db: &impl Reader) -> impl Future<Output = Result<Option<E::Model>, DbErr>> + Send;
    /// `rows`, reading only `columns` ([`Columns`]).
    fn rows_reading(
        self,
        db: &impl Reader,
        columns: Columns,
    ) -> impl Future<Output = Result<Vec<E::Model>, DbErr>> + Send;
    /// `rows` of a select with no limit or offset of its own, `LIMIT limit` and `OFFSET offset`
    /// (when not 0) written into the SQL rather than bound. PostgreSQL cannot know a bound
    /// limit or offset, so it plans such a statement again at every execution (0.16 ms of the
    /// ticket page's 0.35 ms, measured under load); with them in the text, it keeps one plan
    /// per connection and page position. Only `columns` are read ([`Columns`]).
    fn rows_page(
        self,
        db: &impl Reader,
        limit: u64,
        offset: u64,
        columns: Columns,
    ) -> impl Future<Output = Result<Vec<E::Model>, DbErr>> + Send;
}

impl<E: EntityTrait> Rows<E> for Select<E>
where
    E::Model: FromRow,
{
    async fn rows(self, db: &impl Reader) -> Result<Vec<E::Model>, DbErr> {
        self.rows_reading(db, Columns::ALL).await
    }

    async fn rows_reading(
        self,
        db: &impl Reader,
        columns: Columns,
    ) -> Result<Vec<E::Model>, DbErr> {
        let statement = reading(self, columns).build(db.backend());
        decode_all(db.query_all(statement).await?, columns)
    }

    async fn row(self, db: &impl Reader) -> Result<Option<E::Model>, DbErr> {
        Ok(self
            .rows_page(db, 1, 0, Columns::ALL)
            .await?
            .into_iter()
            .next())
    }

    async fn rows_page(
        self,
        db: &impl Reader,
        limit: u64,
        offset: u64,
        columns: Columns,
    ) -> Result<Vec<E::Model>, DbErr> {
        let mut statement = reading(self, columns).build(db.backend());
        statement.sql.push_str(&format!(" LIMIT {limit}"));
        if offset > 0 {
            statement.sql.push_str(&format!(" OFFSET {offset}"));
        }
        decode_all(db.query_all(statement).await?, columns)
    }
}

/// `select` (of every column, as `Entity::find()` makes it) reading only `columns`.
fn reading<E: EntityTrait>(select: Select<E>, columns: Columns) -> Select<E>
where
    E::Model: FromRow,
{
    if columns.all_of(E::Model::COLUMNS.len()) {
        return select;
    }
    // `Entity::find()` lists every column in declaration order; these keep that order.
    let chosen = E::Column::iter()
        .enumerate()
        .filter(|(i, _)| columns.has(*i))
        .map(|(_, c)| c);
    QuerySelect::select_only(select).columns(chosen)
}

/// Decodes rows that hold `columns` of `M`'s entity. A row of another width is refused rather
/// than decoded into the wrong fields.
fn decode_all<M: FromRow>(rows: Vec<QueryResult>, columns: Columns) -> Result<Vec<M>, DbErr> {
    let expected = columns.count_of(M::COLUMNS.len());
    rows.iter()
        .map(|row| {
            let width = row
                .try_as_pg_row()
                .map(|r| r.len())
                .or_else(|| row.try_as_sqlite_row().map(|r| r.len()));
            match width {
                Some(width) if width != expected => Err(DbErr::Type(format!(
                    "a positional row has {width} columns, {expected} expected"
                ))),
                _ => M::from_row_of(row, columns),
            }
        })
        .collect()
}

/// Where positional reads run: sea-orm's connection, or the server's [`crate::db::Db`], which
/// hands PostgreSQL reads to sqlx directly.
pub trait Reader: Sync {
    fn backend(&self) -> DbBackend;
    /// `stmt`'s rows. Each statement is reported to whatever watches this reader's statements.
    fn query_all(&self, stmt: Statement) -> RowsFuture<'_>;
}

pub type RowsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<QueryResult>, DbErr>> + Send + 'a>>;

/// From sea-orm's driver connection itself. `DatabaseConnection::query_all` reaches it through
/// two layers of tracing spans whose futures (some 15 KB) are moved whole three times per
/// statement: that copying was a fifth of scenario 3's instructions (callgrind). The driver's
/// future is boxed where it is made: inline, it made every loader's future 4.5 KB larger, and
/// tokio moves those as it spawns them (scenario 3 went to 2.79M instructions instead of down
/// to 1.88M). The driver reports every statement to the connection's metric callback (the
/// statement count, the tests' SQL log).
impl Reader for DatabaseConnection {
    fn backend(&self) -> DbBackend {
        self.get_database_backend()
    }

    fn query_all(&self, stmt: Statement) -> RowsFuture<'_> {
        match &self.inner {
            DatabaseConnectionType::SqlxPostgresPoolConnection(conn) => {
                Box::pin(conn.query_all(stmt))
            }
            DatabaseConnectionType::SqlxSqlitePoolConnection(conn) => {
                Box::pin(conn.query_all(stmt))
            }
            _ => Box::pin(self.query_all_raw(stmt)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_has_few_enough_columns_for_a_column_set() {
        for (_, decoded) in every_order() {
            assert!(decoded.len() <= 64, "{decoded:?}");
        }
    }

    #[test]
    fn a_column_set_holds_the_columns_named_by_column_or_by_field() {
        use crate::entity::tickets;
        let set = Columns::NONE
            .with::<tickets::Entity>(tickets::Column::Id)
            .with::<tickets::Entity>(tickets::Column::Status);
        assert_eq!(set.count_of(tickets::Model::COLUMNS.len()), 2);
        assert!(set.has(0) && set.has(20) && !set.has(1));
        assert_eq!(
            Columns::named::<tickets::Entity>("status"),
            Some(Columns::NONE.with::<tickets::Entity>(tickets::Column::Status))
        );
        assert_eq!(
            Columns::named::<tickets::Entity>("lastUpdatedTime"),
            Some(Columns::NONE.with::<tickets::Entity>(tickets::Column::LastUpdatedTime))
        );
        assert_eq!(Columns::named::<tickets::Entity>("tags"), None);
        assert!(Columns::ALL.all_of(tickets::Model::COLUMNS.len()));
        assert!(!set.all_of(tickets::Model::COLUMNS.len()));
    }

    #[test]
    fn every_model_decodes_its_columns_in_the_order_they_are_selected() {
        for (selected, decoded) in every_order() {
            let decoded: Vec<&str> = decoded.iter().map(|f| f.trim_start_matches("r#")).collect();
            assert_eq!(selected, decoded);
        }
    }
}
