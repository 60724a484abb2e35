//! Idempotent ticket creation. A caller that sends the same `Idempotency-Key` twice (a retry
//! after a timeout) gets the ticket the first request created, not a second one.
//!
//! Keys belong to one agent of one site, so two callers can never see each other's tickets
//! through a shared key. A key is claimed in the same transaction that creates the ticket:
//! the row's primary key makes a concurrent retry wait for the first request's transaction
//! and then see its ticket (or, if it failed, claim the key itself). A key is remembered for
//! [`KEY_TTL`]; expired rows are swept by age, at most once a minute per process.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::TimeDelta;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set, TryInsertResult,
};
use sha2::{Digest, Sha256};

use super::limits::IDEMPOTENCY_KEY_MAX;
use super::{Principal, now};
use crate::entity::idempotency_keys;
use crate::{Error, Result};

/// How long a key is remembered: long enough for any client's retries.
pub const KEY_TTL: TimeDelta = TimeDelta::hours(24);
const SWEEP_EVERY_SECS: i64 = 60;

/// The name the key goes by in errors: the HTTP header, which both APIs accept.
pub const FIELD: &str = "Idempotency-Key";

/// A key must be 1 to [`IDEMPOTENCY_KEY_MAX`] visible ASCII characters (a UUID is typical).
pub fn check_key(key: &str) -> Result<&str> {
    if key.is_empty()
        || key.len() > IDEMPOTENCY_KEY_MAX
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(Error::bad_input(
            FIELD,
            format!(
                "{FIELD} must be 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters (a UUID, say)"
            ),
        ));
    }
    Ok(key)
}

/// A fingerprint of a request, to tell a retry from a different request under the same key.
pub fn fingerprint(request: &impl std::fmt::Debug) -> String {
    let digest = Sha256::digest(format!("{request:?}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a claim found.
pub(crate) enum Claim {
    /// The key is new: go ahead, then [`record`] what was created.
    New,
    /// The key already created this ticket.
    Replay(i64),
}

/// Claims `key` for a request with fingerprint `hash`, inside the creating transaction.
pub(crate) async fn claim(
    txn: &DatabaseTransaction,
    actor: &Principal,
    key: &str,
    hash: &str,
) -> Result<Claim> {
    let at = now();
    // An expired key is free again.
    idempotency_keys::Entity::delete_many()
        .filter(scope(actor, key))
        .filter(idempotency_keys::Column::CreatedTime.lt(at - KEY_TTL))
        .exec(txn)
        .await?;
    let row = idempotency_keys::ActiveModel {
        site_id: Set(actor.site_id),
        agent_id: Set(actor.agent_id),
        key: Set(key.to_owned()),
        request_hash: Set(hash.to_owned()),
        ticket_id: Set(None),
        created_time: Set(at),
    };
    let inserted = idempotency_keys::Entity::insert(row)
        .on_conflict_do_nothing_on([
            idempotency_keys::Column::SiteId,
            idempotency_keys::Column::AgentId,
            idempotency_keys::Column::Key,
        ])
        .exec_without_returning(txn)
        .await?;
    if matches!(inserted, TryInsertResult::Inserted(n) if n > 0) {
        return Ok(Claim::New);
    }
    let existing = idempotency_keys::Entity::find()
        .filter(scope(actor, key))
        .one(txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("idempotency key conflicted but is not there"))?;
    if existing.request_hash != hash {
        return Err(Error::conflict_on(
            FIELD,
            format!(
                "{FIELD} `{key}` was already used for a different request; use a new key for a new ticket"
            ),
        ));
    }
    match existing.ticket_id {
        Some(id) => Ok(Claim::Replay(id)),
        None => Err(Error::conflict_on(
            FIELD,
            format!("a request with {FIELD} `{key}` is still in progress; retry shortly"),
        )),
    }
}

/// Records the ticket a claimed key created.
pub(crate) async fn record(
    txn: &DatabaseTransaction,
    actor: &Principal,
    key: &str,
    ticket_id: i64,
) -> Result<()> {
    let row = idempotency_keys::ActiveModel {
        site_id: Set(actor.site_id),
        agent_id: Set(actor.agent_id),
        key: Set(key.to_owned()),
        ticket_id: Set(Some(ticket_id)),
        ..Default::default()
    };
    row.update(txn).await?;
    Ok(())
}

fn scope(actor: &Principal, key: &str) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(idempotency_keys::Column::SiteId.eq(actor.site_id))
        .add(idempotency_keys::Column::AgentId.eq(actor.agent_id))
        .add(idempotency_keys::Column::Key.eq(key))
}

static LAST_SWEEP: AtomicI64 = AtomicI64::new(0);

/// Deletes expired keys of every site, unless this process did so within the last minute.
/// One indexed range delete; a failure is logged and left for the next sweep, since an expired
/// key that lingers is ignored by [`claim`] anyway.
pub(crate) async fn sweep(db: &DatabaseConnection) {
    let at = now();
    let last = LAST_SWEEP.load(Ordering::Relaxed);
    if at.timestamp() - last < SWEEP_EVERY_SECS
        || LAST_SWEEP
            .compare_exchange(last, at.timestamp(), Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    let swept = idempotency_keys::Entity::delete_many()
        .filter(idempotency_keys::Column::CreatedTime.lt(at - KEY_TTL))
        .exec(db)
        .await;
    if let Err(e) = swept {
        tracing::warn!(error = %e, "could not sweep expired idempotency keys");
    }
}
