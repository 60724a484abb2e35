//! Per-request DataLoaders: created for each request with the caller's [`Principal`], so every
//! batch is scoped to one site and no cache outlives the request.
//!
//! Relations resolve through these, never one query per parent row. The generic helpers below
//! turn a batch of keys into one `SELECT ... WHERE site_id = ? AND key IN (...)`.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use async_graphql::Request;
use async_graphql::dataloader::{DataLoader, Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, Order, QueryFilter, QueryOrder};

use super::{GqlError, conversation, directory, tickets};
use crate::domain::{Principal, SiteScoped};

/// How long a loader waits for more keys before it runs its batch.
pub const BATCH_DELAY: Duration = Duration::from_millis(1);
/// Most keys in one batch: keeps the `IN (...)` list well inside every backend's limits.
pub const MAX_BATCH: usize = 500;

/// What every loader holds: the database and the caller, whose site scopes each batch.
#[derive(Clone)]
pub struct Scope {
    pub db: DatabaseConnection,
    pub actor: Principal,
}

/// A loader with the project's batching settings. It keeps no cache: a batch already asks
/// for each key once, and a cache would go stale between the mutations of one document.
pub fn loader<L: Loader<K, Error = GqlError>, K: Send + Sync + Hash + Eq + Clone + 'static>(
    inner: L,
) -> DataLoader<L> {
    DataLoader::new(inner, tokio::spawn)
        .delay(BATCH_DELAY)
        .max_batch_size(MAX_BATCH)
}

/// Adds every loader to a request.
pub fn attach(request: Request, db: &DatabaseConnection, actor: Principal) -> Request {
    let scope = Scope {
        db: db.clone(),
        actor,
    };
    let request = tickets::attach_loaders(request, &scope);
    let request = directory::attach_loaders(request, &scope);
    conversation::attach_loaders(request, &scope)
}

/// Loads the rows whose `column` is one of `keys`, one row per key (`column` is unique).
pub async fn one_per_key<E, K>(
    scope: &Scope,
    column: E::Column,
    keys: &[K],
    key_of: impl Fn(&E::Model) -> K,
) -> Result<HashMap<K, E::Model>, GqlError>
where
    E: SiteScoped,
    K: Into<sea_orm::Value> + Eq + Hash + Clone,
{
    let rows = scope
        .actor
        .find::<E>()
        .filter(column.is_in(keys.iter().cloned()))
        .all(&scope.db)
        .await
        .map_err(crate::Error::from)?;
    Ok(rows.into_iter().map(|row| (key_of(&row), row)).collect())
}

/// Loads the rows whose `column` is one of `keys`, grouped by key, each group in `order`.
/// Every key gets an entry, empty when nothing matched, so callers need no default.
pub async fn many_per_key<E, K>(
    scope: &Scope,
    column: E::Column,
    keys: &[K],
    key_of: impl Fn(&E::Model) -> K,
    order: &[(E::Column, Order)],
) -> Result<HashMap<K, Vec<E::Model>>, GqlError>
where
    E: SiteScoped,
    K: Into<sea_orm::Value> + Eq + Hash + Clone,
{
    let mut query = scope
        .actor
        .find::<E>()
        .filter(column.is_in(keys.iter().cloned()));
    for (col, ord) in order {
        query = query.order_by(*col, ord.clone());
    }
    let rows = query.all(&scope.db).await.map_err(crate::Error::from)?;
    let mut grouped: HashMap<K, Vec<E::Model>> =
        keys.iter().map(|k| (k.clone(), Vec::new())).collect();
    for row in rows {
        grouped.entry(key_of(&row)).or_default().push(row);
    }
    Ok(grouped)
}

/// The loader of type `L` attached to this request.
pub fn get<'a, L: Send + Sync + 'static>(
    ctx: &async_graphql::Context<'a>,
) -> Result<&'a DataLoader<L>, GqlError> {
    ctx.data_opt::<DataLoader<L>>()
        .ok_or_else(|| {
            crate::Error::Internal(anyhow::anyhow!(
                "loader {} missing from the request",
                std::any::type_name::<L>()
            ))
            .into()
        })
}
