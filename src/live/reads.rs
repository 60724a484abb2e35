//! Reads kept until their site changes: the REST list's `total`, `totalCount` and unread
//! counts. Counting a site's tickets visits every matching row (about 25 ms for 100,000 on
//! PostgreSQL even from an index), far more than the page of 50 it is asked with; every open
//! console asks again every few seconds, and between two changes of a site the answer is the
//! same.
//!
//! Each site has a generation, bumped by every change this process hears of: its own writes
//! around their commit, other replicas' through the bus. A result is kept with the generation
//! it was computed under (read before the query runs, so a change committed meanwhile makes it
//! stale, never wrongly fresh) and served only while that is still the site's generation.
//!
//! While this process is committing a write to a site ([`Reads::writing`] to
//! [`Reads::written`]), nothing of that site is served from or stored in the cache: the commit
//! becomes visible to other connections at a moment this process does not see, and its
//! subscribers may hear of it (through `LISTEN`) before the commit call returns. Once it has
//! returned, the write is marked done and its own notification, when it comes back, is no news.
//!
//! While the PostgreSQL `LISTEN` connection is down, changes could go unheard: nothing is
//! served from or stored in the cache until it is back, and what was kept before is forgotten.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// Most results kept per database; past it, stale ones go first, then everything.
const MAX_ENTRIES: usize = 4096;

/// A site's generation together with the process-wide epoch (bumped to forget everything).
type Stamp = (u64, u64);

struct Entry {
    stamp: Stamp,
    value: Arc<dyn Any + Send + Sync>,
}

#[derive(Default)]
struct Site {
    generation: u64,
    /// Writes of this process to the site being committed.
    writing: u32,
}

pub struct Reads {
    epoch: AtomicU64,
    hearing: AtomicBool,
    sites: Mutex<HashMap<Uuid, Site>>,
    entries: Mutex<HashMap<(Uuid, String), Entry>>,
}

impl Reads {
    /// `hearing`: whether every change is heard from the start (SQLite, one process) or only
    /// once a `LISTEN` connection says so (PostgreSQL).
    pub fn new(hearing: bool) -> Self {
        Reads {
            epoch: AtomicU64::new(0),
            hearing: AtomicBool::new(hearing),
            sites: Mutex::new(HashMap::new()),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// A change in `site` was committed (by another process): what was kept for it is stale.
    pub fn changed(&self, site: Uuid) {
        lock(&self.sites).entry(site).or_default().generation += 1;
    }

    /// This process is about to commit a change in `site`: until [`Reads::written`], nothing
    /// of the site is kept or served.
    pub fn writing(&self, site: Uuid) {
        let mut sites = lock(&self.sites);
        let s = sites.entry(site).or_default();
        s.generation += 1;
        s.writing += 1;
    }

    /// The commit announced by [`Reads::writing`] is over (whether it succeeded or not).
    pub fn written(&self, site: Uuid) {
        let mut sites = lock(&self.sites);
        let s = sites.entry(site).or_default();
        s.generation += 1;
        s.writing = s.writing.saturating_sub(1);
    }

    /// Whether every committed change is being heard. Both ways forget what was kept: going
    /// deaf because changes may now pass unheard, coming back because some may have.
    pub fn set_hearing(&self, hearing: bool) {
        self.hearing.store(hearing, Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    fn stamp(&self, site: Uuid) -> Option<Stamp> {
        if !self.hearing.load(Ordering::SeqCst) {
            return None;
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        match lock(&self.sites).get(&site) {
            Some(s) if s.writing > 0 => None,
            Some(s) => Some((epoch, s.generation)),
            None => Some((epoch, 0)),
        }
    }

    /// The value kept for `key` in `site` if nothing changed there since it was computed;
    /// otherwise `compute`s it and keeps it.
    pub async fn get_or<T, F, Fut, E>(&self, site: Uuid, key: String, compute: F) -> Result<T, E>
    where
        T: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let Some(stamp) = self.stamp(site) else {
            return compute().await;
        };
        let key = (site, key);
        if let Some(entry) = lock(&self.entries).get(&key)
            && entry.stamp == stamp
            && let Some(value) = entry.value.downcast_ref::<T>()
        {
            metrics::counter!("deskgraph_cached_reads_total", "outcome" => "hit").increment(1);
            return Ok(value.clone());
        }
        metrics::counter!("deskgraph_cached_reads_total", "outcome" => "miss").increment(1);
        let value = compute().await?;
        // Kept only if still current: a change while computing makes it stale already.
        if self.stamp(site) == Some(stamp) {
            let mut entries = lock(&self.entries);
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|(s, _), e| self.stamp(*s) == Some(e.stamp));
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            let value: Arc<dyn Any + Send + Sync> = Arc::new(value.clone());
            entries.insert(key, Entry { stamp, value });
        }
        Ok(value)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(reads: &Reads, site: Uuid, value: u64) -> u64 {
        reads
            .get_or(site, "k".into(), || async { Ok::<_, ()>(value) })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_kept_value_is_served_until_its_site_changes() {
        let reads = Reads::new(true);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(read(&reads, a, 1).await, 1);
        assert_eq!(read(&reads, b, 10).await, 10);
        assert_eq!(read(&reads, a, 2).await, 1, "kept");
        reads.changed(a);
        assert_eq!(read(&reads, a, 3).await, 3, "recomputed after a change");
        assert_eq!(
            read(&reads, b, 11).await,
            10,
            "another site's change leaves b alone"
        );
    }

    #[tokio::test]
    async fn nothing_is_kept_while_changes_could_go_unheard() {
        let reads = Reads::new(false);
        let site = Uuid::new_v4();
        assert_eq!(read(&reads, site, 1).await, 1);
        assert_eq!(read(&reads, site, 2).await, 2);
        reads.set_hearing(true);
        assert_eq!(read(&reads, site, 3).await, 3);
        assert_eq!(read(&reads, site, 4).await, 3);
        reads.set_hearing(false);
        assert_eq!(read(&reads, site, 5).await, 5);
        reads.set_hearing(true);
        assert_eq!(read(&reads, site, 6).await, 6, "forgotten across the gap");
    }

    #[tokio::test]
    async fn nothing_of_a_site_is_kept_or_served_while_this_process_commits_to_it() {
        let reads = Reads::new(true);
        let (site, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(read(&reads, site, 1).await, 1);
        assert_eq!(read(&reads, other, 10).await, 10);
        reads.writing(site);
        assert_eq!(read(&reads, site, 2).await, 2, "not served");
        assert_eq!(read(&reads, site, 3).await, 3, "nor kept");
        assert_eq!(
            read(&reads, other, 11).await,
            10,
            "other sites are unaffected"
        );
        reads.written(site);
        assert_eq!(read(&reads, site, 4).await, 4);
        assert_eq!(
            read(&reads, site, 5).await,
            4,
            "kept again once the commit is over"
        );
    }

    #[tokio::test]
    async fn a_value_computed_across_a_change_is_not_kept() {
        let reads = Reads::new(true);
        let site = Uuid::new_v4();
        let got = reads
            .get_or(site, "k".into(), || async {
                reads.changed(site);
                Ok::<_, ()>(1)
            })
            .await
            .unwrap();
        assert_eq!(got, 1);
        assert_eq!(read(&reads, site, 2).await, 2);
    }
}
