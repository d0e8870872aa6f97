//! Caches of results that only writes of times (or of the catalogue, which
//! decides visibility and names) change: the counts of list queries
//! (`X-Total-Count`) here, summaries in `domain::reports`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::catalogue::Versions;
use super::Result;

/// Most cached results; the cache is emptied when it is full.
const MAX_CACHED: usize = 4096;

/// Counting every matching row is the costly part of a list page (an
/// index scan of all of them), while the page itself is an index range.
/// Counts are kept per query for the change counters (`Versions`) they
/// were computed at, which triggers bump with every write of times or of
/// the catalogue by anyone (`migrations::change_counters`): a read-mostly
/// load counts once per change of the data instead of once per request,
/// and no instance serves a count another instance's write made stale.
/// The same holds for summaries (`domain::reports::SummaryCache`): a scan
/// of every matching time, then up to a row per time to name and order.
#[derive(Debug)]
pub struct WriteCache<V> {
    /// The counters the entries were computed at, and the entries.
    entries: Mutex<(Option<Versions>, HashMap<String, V>)>,
    /// One computation per key at a time: requests that miss together
    /// wait for the first one's result rather than all running the query.
    computing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Counts of list queries.
pub type CountCache = WriteCache<u64>;

impl<V> Default for WriteCache<V> {
    fn default() -> Self {
        Self {
            entries: Default::default(),
            computing: Default::default(),
        }
    }
}

impl<V: Clone> WriteCache<V> {
    /// The result of the query named by `key` at `versions` (read before
    /// the query runs, so a result that raced a write is filed under the
    /// older counters and never reused), from the cache or from `compute`.
    pub async fn get_or_compute<F, Fut>(
        &self,
        versions: Versions,
        key: String,
        compute: F,
    ) -> Result<V>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V>>,
    {
        if let Some(value) = self.cached(versions, &key) {
            return Ok(value);
        }
        let gate = {
            let mut computing = self.computing.lock().unwrap_or_else(|e| e.into_inner());
            if computing.len() >= MAX_CACHED {
                computing.clear();
            }
            computing.entry(key.clone()).or_default().clone()
        };
        let _computing = gate.lock().await;
        // Computed by the request this one waited for?
        if let Some(value) = self.cached(versions, &key) {
            return Ok(value);
        }
        let fresh = compute().await?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Entries of other counters are of no more use: the counters only
        // grow, so those are older (or the database was replaced).
        if entries.0 != Some(versions) || entries.1.len() >= MAX_CACHED {
            *entries = (Some(versions), HashMap::new());
        }
        entries.1.insert(key, fresh.clone());
        Ok(fresh)
    }

    fn cached(&self, versions: Versions, key: &str) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        (entries.0 == Some(versions))
            .then(|| entries.1.get(key).cloned())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn results_are_reused_until_the_counters_move() {
        let cache = CountCache::default();
        let at = |times: i64| Versions {
            catalogue: 1,
            times,
        };
        let count = |n: u64| move || async move { Ok::<u64, crate::storage::Error>(n) };
        assert_eq!(
            cache
                .get_or_compute(at(1), "a".into(), count(1))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            cache
                .get_or_compute(at(1), "a".into(), count(2))
                .await
                .unwrap(),
            1,
            "reused"
        );
        assert_eq!(
            cache
                .get_or_compute(at(1), "b".into(), count(5))
                .await
                .unwrap(),
            5,
            "per query"
        );
        assert_eq!(
            cache
                .get_or_compute(at(2), "a".into(), count(3))
                .await
                .unwrap(),
            3,
            "recounted after a write"
        );
        let catalogue_moved = Versions {
            catalogue: 2,
            times: 2,
        };
        assert_eq!(
            cache
                .get_or_compute(catalogue_moved, "a".into(), count(4))
                .await
                .unwrap(),
            4,
            "recounted after a catalogue write"
        );
        let failing = || async { Err::<u64, _>(crate::storage::Error::missing("down")) };
        assert!(cache
            .get_or_compute(at(3), "a".into(), failing)
            .await
            .is_err());
        assert_eq!(
            cache
                .get_or_compute(at(3), "a".into(), count(6))
                .await
                .unwrap(),
            6,
            "a failure is not cached"
        );
    }
}
