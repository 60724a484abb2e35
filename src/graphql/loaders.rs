//! Per-request batch loaders: created for each request with the caller's [`Principal`], so
//! every batch is scoped to one site and nothing outlives the request.
//!
//! Relations resolve through these, never one query per parent row. The generic helpers below
//! turn a batch of keys into one `SELECT ... WHERE site_id = ? AND key IN (...)` ([`one_of`]).
//!
//! Why not async-graphql's `DataLoader`: it gathers keys for a fixed delay (1 ms by default,
//! on a timer thread). Measured on a 50-ticket inbox with five relations (release build,
//! SQLite, 300 sequential requests): 1 ms delay 4.4-4.7 ms mean; 100 µs 4.0-5.3 ms; no delay
//! 7.4-9.5 ms, because batches split and the query count grew. A request's resolvers all run
//! in one task, and all siblings of a list are polled before the task yields, so the
//! [`Batcher`] below waits exactly one yield of that task instead of a time: every key of the
//! level is in, and no time is spent waiting.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use async_graphql::{Lookahead, Request, SelectionField};
use sea_orm::sea_query::{Expr, postgres_array::NotU8};
use sea_orm::{ColumnTrait, DatabaseConnection, DbBackend, Order, QueryFilter, QueryOrder};
use tokio::sync::oneshot;

use super::{GqlError, conversation, directory, tickets};
use crate::db::Db;
use crate::domain::{Principal, SiteScoped};
use crate::entity::rows::{Columns, FromRow, Rows};

/// How the loaders hash their keys: foldhash rather than std's SipHash. The keys are ids, and
/// with SipHash the maps and key sets below were 2% of scenario 1's instructions (callgrind).
type KeyHasher = foldhash::fast::RandomState;

/// What a batch finds, by key.
pub type Found<K, V> = HashMap<K, V, KeyHasher>;

/// Loads a batch of keys in one go (async-graphql's `Loader`, with our map and error).
pub trait Loader<K>: Send + Sync + 'static {
    type Value: Send + Sync + Clone + 'static;

    /// The values of `keys`, of whose rows the callers need no more than `columns`
    /// ([`Batcher::load_one_reading`]); a loader that reads whole rows anyway ignores them.
    fn load(
        &self,
        keys: &[K],
        columns: Columns,
    ) -> impl Future<Output = Result<Found<K, Self::Value>, GqlError>> + Send;
}

/// Most keys in one query: keeps the `IN (...)` list well inside every backend's limits.
pub const MAX_BATCH: usize = 500;

/// What every loader holds: the database and the caller, whose site scopes each batch.
#[derive(Clone)]
pub struct Scope {
    pub db: Db,
    pub actor: Principal,
}

type Reply<V> = oneshot::Sender<Result<Option<V>, GqlError>>;

/// Gathers the keys asked for while the request's resolvers run, and loads them in one batch.
/// It keeps no cache: a batch asks for each key once, and a cache would go stale between the
/// mutations of one document.
pub struct Batcher<L: Loader<K>, K: Send + Sync + Hash + Eq + Clone + 'static> {
    inner: Arc<Inner<L, K>>,
}

struct Inner<L: Loader<K>, K: Send + Sync + Hash + Eq + Clone + 'static> {
    loader: L,
    pending: Mutex<Pending<K, L::Value>>,
}

struct Pending<K, V> {
    keys: HashSet<K, KeyHasher>,
    /// What the callers of the batch need of each row, together.
    columns: Columns,
    waiting: Vec<(K, Reply<V>)>,
    /// Whether a caller has taken on running the batch now gathering.
    led: bool,
}

impl<L, K> Batcher<L, K>
where
    L: Loader<K>,
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    fn new(loader: L) -> Self {
        let pending = Pending {
            keys: HashSet::default(),
            columns: Columns::NONE,
            waiting: Vec::new(),
            led: false,
        };
        Batcher {
            inner: Arc::new(Inner {
                loader,
                pending: Mutex::new(pending),
            }),
        }
    }

    /// The value for `key`, loaded in one batch with every other key asked for meanwhile.
    pub async fn load_one(&self, key: K) -> Result<Option<L::Value>, GqlError> {
        self.load_one_reading(key, Columns::ALL).await
    }

    /// [`load_one`](Self::load_one) for a caller that reads only `columns` of the row: the
    /// batch reads the columns of all its callers together.
    pub async fn load_one_reading(
        &self,
        key: K,
        columns: Columns,
    ) -> Result<Option<L::Value>, GqlError> {
        let (tx, rx) = oneshot::channel();
        let leads = {
            let mut p = self.inner.pending.lock().unwrap_or_else(|e| e.into_inner());
            p.keys.insert(key.clone());
            p.columns = p.columns.union(columns);
            p.waiting.push((key, tx));
            !std::mem::replace(&mut p.led, true)
        };
        if leads {
            // Fires on drop too, so a cancelled leader never strands the others.
            let dispatch = Dispatch(Some(self.inner.clone()));
            // Siblings register their keys while this task finishes its current pass.
            tokio::task::yield_now().await;
            drop(dispatch);
        }
        rx.await.unwrap_or_else(|_| {
            Err(crate::Error::Internal(anyhow::anyhow!("batch load dropped")).into())
        })
    }
}

/// Runs the gathered batch when dropped.
struct Dispatch<L: Loader<K>, K: Send + Sync + Hash + Eq + Clone + 'static>(
    Option<Arc<Inner<L, K>>>,
);

impl<L, K> Drop for Dispatch<L, K>
where
    L: Loader<K>,
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    fn drop(&mut self) {
        let Some(inner) = self.0.take() else { return };
        let (keys, columns, waiting) = {
            let mut p = inner.pending.lock().unwrap_or_else(|e| e.into_inner());
            p.led = false;
            (
                std::mem::take(&mut p.keys),
                std::mem::replace(&mut p.columns, Columns::NONE),
                std::mem::take(&mut p.waiting),
            )
        };
        if waiting.is_empty() {
            return;
        }
        // Its own task: the batch completes even if the request drops the caller that led it.
        tokio::spawn(async move {
            let keys: Vec<K> = keys.into_iter().collect();
            metrics::histogram!("deskgraph_dataloader_batch_size", "loader" => loader_name::<L>())
                .record(keys.len() as f64);
            let mut found = Found::with_capacity_and_hasher(keys.len(), Default::default());
            let mut failed = None;
            for chunk in keys.chunks(MAX_BATCH) {
                match inner.loader.load(chunk, columns).await {
                    Ok(values) => found.extend(values),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            // The last caller waiting for a key takes its value; any before it get a copy.
            let mut seen: HashSet<&K, KeyHasher> = HashSet::default();
            let last: Vec<bool> = waiting.iter().rev().map(|(k, _)| seen.insert(k)).collect();
            for ((key, reply), last) in waiting.into_iter().zip(last.into_iter().rev()) {
                let answer = match &failed {
                    Some(e) => Err(e.clone()),
                    None if last => Ok(found.remove(&key)),
                    None => Ok(found.get(&key).cloned()),
                };
                let _ = reply.send(answer);
            }
        });
    }
}

/// The loader's type name without its path (`TagsLoader`), as a metrics label.
fn loader_name<L>() -> &'static str {
    let full = std::any::type_name::<L>();
    let plain = full.split('<').next().unwrap_or(full);
    plain.rsplit("::").next().unwrap_or(plain)
}

/// A batch loader for one request.
pub fn loader<L, K>(inner: L) -> Batcher<L, K>
where
    L: Loader<K>,
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    Batcher::new(inner)
}

/// Adds every loader to a request, and the object shapes its resolvers reuse
/// ([`super::fast::Shapes`]) and the columns its relations read ([`ColumnsMemo`]), which are
/// per request too.
pub fn attach(request: Request, db: &Db, actor: Principal) -> Request {
    let request = request
        .data(super::fast::Shapes::default())
        .data(ColumnsMemo::default());
    let scope = Scope {
        db: db.clone(),
        actor,
    };
    let request = tickets::attach_loaders(request, &scope);
    let request = directory::attach_loaders(request, &scope);
    conversation::attach_loaders(request, &scope)
}

/// Loads the rows whose `column` is one of `keys`, one row per key (`column` is unique),
/// reading `reading` of their columns.
pub async fn one_per_key<E, K>(
    scope: &Scope,
    column: E::Column,
    keys: &[K],
    key_of: impl Fn(&E::Model) -> K,
    reading: Columns,
) -> Result<Found<K, E::Model>, GqlError>
where
    E: SiteScoped,
    E::Model: FromRow,
    K: Into<sea_orm::Value> + NotU8 + Eq + Hash + Clone,
{
    let rows = scope
        .actor
        .find::<E>()
        .filter(one_of(&scope.db, column, keys))
        .rows_reading(&scope.db, reading.with::<E>(column))
        .await
        .map_err(crate::Error::from)?;
    Ok(rows.into_iter().map(|row| (key_of(&row), row)).collect())
}

/// Loads the rows whose `column` is one of `keys`, grouped by key, each group in `order`,
/// reading `reading` of their columns (and `column`). Every key gets an entry, empty when
/// nothing matched, so callers need no default.
pub async fn many_per_key<E, K>(
    scope: &Scope,
    column: E::Column,
    keys: &[K],
    key_of: impl Fn(&E::Model) -> K,
    order: &[(E::Column, Order)],
    reading: Columns,
) -> Result<Found<K, Vec<E::Model>>, GqlError>
where
    E: SiteScoped,
    E::Model: FromRow,
    K: Into<sea_orm::Value> + NotU8 + Eq + Hash + Clone,
{
    let mut query = scope
        .actor
        .find::<E>()
        .filter(one_of(&scope.db, column, keys));
    for (col, ord) in order {
        query = query.order_by(*col, ord.clone());
    }
    let rows = query
        .rows_reading(&scope.db, reading.with::<E>(column))
        .await
        .map_err(crate::Error::from)?;
    let mut grouped: Found<K, Vec<E::Model>> =
        keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for row in rows {
        grouped.entry(key_of(&row)).or_default().push(row);
    }
    Ok(grouped)
}

/// `column IN (keys)`. On PostgreSQL, a batch of `ANY_FROM` keys or more is written
/// `column = ANY($1)` with the keys bound as one array: one statement text for every such
/// size, prepared once per connection, and PostgreSQL keeps a generic plan for it. An `IN`
/// list is a statement of its own for each size, planned at every execution (an agents batch
/// of scenario 1: planning 0.097 ms with `IN`, 0.017 ms with `ANY`).
pub fn one_of<C, K>(db: &DatabaseConnection, column: C, keys: &[K]) -> Expr
where
    C: ColumnTrait,
    K: Into<sea_orm::Value> + NotU8 + Clone,
{
    match db.get_database_backend() {
        DbBackend::Postgres if keys.len() >= ANY_FROM => column.eq_any(keys.iter().cloned()),
        _ => column.is_in(keys.iter().cloned()),
    }
}

/// The smallest batch written with `ANY`. For small arrays PostgreSQL finds its custom plans
/// cheaper than the generic one, so it plans at every execution, and planning with an array
/// costs more than with an `IN` list: 0.23 ms against 0.03 ms for one ticket's tags. Measured
/// on the inbox query at 8 connections, PostgreSQL's CPU per request, `ANY` against `IN`:
/// 0.71 against 0.50 ms for pages of 4, equal for pages of 10 and 20, 1.19 against 1.33 ms for
/// pages of 50. Below this, at most nine `IN` statements per loader.
const ANY_FROM: usize = 10;

/// The columns that the objects selected as `fields` read: `read_by` names each field's (the
/// fields of fragments included), and a field it does not know reads them all. Asked of a
/// list's objects or of one relation, so that the rows read no column nobody asked for
/// ([`Columns`]).
pub fn columns_for<'a>(
    fields: impl IntoIterator<Item = SelectionField<'a>>,
    read_by: impl Fn(&str) -> Option<Columns>,
) -> Columns {
    let mut columns = Columns::NONE;
    for object in fields {
        for field in object.selection_set() {
            match read_by(field.name()) {
                Some(read) => columns = columns.union(read),
                None => return Columns::ALL,
            }
        }
    }
    columns
}

/// The columns of `E` that the field `ctx` resolves reads of its object ([`columns_for`]),
/// worked out once per request for each field of the document: a relation asked of every
/// object of a page is the same field each time (scenario 2 asks every column of 50 last
/// messages, and working them out for each cost 3% of its instructions).
pub fn columns_of_field<E>(
    ctx: &async_graphql::Context<'_>,
    read_by: impl Fn(&str) -> Option<Columns>,
) -> Columns
where
    E: sea_orm::EntityTrait,
    E::Model: FromRow,
{
    columns_of_objects::<E>(ctx, |look| look.selection_fields(), read_by)
}

/// The objects of a connection's selection: its `edges { node }` and its `nodes`.
pub fn connection_nodes(look: Lookahead<'_>) -> Vec<SelectionField<'_>> {
    let mut nodes = look.field("edges").field("node").selection_fields();
    nodes.extend(look.field("nodes").selection_fields());
    nodes
}

/// [`columns_of_field`] for a field whose objects sit deeper in its selection (a connection's
/// `edges { node }` and `nodes`): `objects` finds them from the field's lookahead.
pub fn columns_of_objects<'a, E>(
    ctx: &'a async_graphql::Context<'a>,
    objects: impl FnOnce(Lookahead<'a>) -> Vec<SelectionField<'a>>,
    read_by: impl Fn(&str) -> Option<Columns>,
) -> Columns
where
    E: sea_orm::EntityTrait,
    E::Model: FromRow,
{
    // A union's field loads rows of several entities, each with its own columns.
    let field = (std::ptr::from_ref(ctx.item) as usize, TypeId::of::<E>());
    let Some(memo) = ctx.data_opt::<ColumnsMemo>() else {
        return columns_for(objects(ctx.look_ahead()), read_by);
    };
    let mut memo = memo.0.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&(_, columns)) = memo.iter().find(|(f, _)| *f == field) {
        return columns;
    }
    let columns = columns_for(objects(ctx.look_ahead()), read_by);
    memo.push((field, columns));
    columns
}

/// [`columns_of_field`]'s answers for one request, by the address of the field in the
/// request's document (which lives as long as the request) and the entity read.
#[derive(Default)]
pub struct ColumnsMemo(Mutex<Vec<((usize, TypeId), Columns)>>);

/// The loader of type `L` attached to this request.
pub fn get<'a, L, K>(ctx: &async_graphql::Context<'a>) -> Result<&'a Batcher<L, K>, GqlError>
where
    L: Loader<K>,
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    ctx.data_opt::<Batcher<L, K>>().ok_or_else(|| {
        crate::Error::Internal(anyhow::anyhow!(
            "loader {} missing from the request",
            std::any::type_name::<L>()
        ))
        .into()
    })
}
