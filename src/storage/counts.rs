//! Caches of results that only writes of times (or of the catalogue, which
//! decides visibility and names) change: the counts of list queries
//! (`X-Total-Count`) here, summaries in `domain::reports`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::catalogue::Versions;

/// Most results being computed at once (a bound on the gates kept).
const MAX_COMPUTING: usize = 4096;

/// What a cached result costs to keep, in the unit of its cache's bound
/// (rows, say): the cache is emptied when the sum would pass the bound.
pub trait Weigh {
    fn weight(&self) -> usize;
}

impl Weigh for u64 {
    fn weight(&self) -> usize {
        1
    }
}

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
    /// The counters the entries were computed at, the entries and their
    /// summed weight.
    entries: Mutex<Entries<V>>,
    /// The most weight kept.
    capacity: usize,
    /// One computation per key at a time: requests that miss together
    /// wait for the first one's result rather than all running the query.
    computing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Counts of list queries.
pub type CountCache = WriteCache<u64>;

#[derive(Debug)]
struct Entries<V> {
    versions: Option<Versions>,
    values: HashMap<String, V>,
    weight: usize,
}

impl<V> Default for WriteCache<V> {
    /// Room for 4,096 results of weight 1 (counts).
    fn default() -> Self {
        Self::with_capacity(4096)
    }
}

impl<V> WriteCache<V> {
    /// A cache keeping results of at most `capacity` weight in all.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(Entries {
                versions: None,
                values: HashMap::new(),
                weight: 0,
            }),
            capacity,
            computing: Default::default(),
        }
    }
}

impl<V: Clone + Weigh> WriteCache<V> {
    /// The result of the query named by `key` at `versions` (read before
    /// the query runs, so a result that raced a write is filed under the
    /// older counters and never reused), from the cache or from `compute`.
    pub async fn get_or_compute<E, F, Fut>(
        &self,
        versions: Versions,
        key: String,
        compute: F,
    ) -> std::result::Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<V, E>>,
    {
        if let Some(value) = self.cached(versions, &key) {
            return Ok(value);
        }
        let gate = {
            let mut computing = self.computing.lock().unwrap_or_else(|e| e.into_inner());
            if computing.len() >= MAX_COMPUTING {
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
        let weight = fresh.weight();
        if weight > self.capacity {
            return Ok(fresh);
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Entries of other counters are of no more use: the counters only
        // grow, so those are older (or the database was replaced).
        if entries.versions != Some(versions) || entries.weight + weight > self.capacity {
            entries.versions = Some(versions);
            entries.values.clear();
            entries.weight = 0;
        }
        entries.weight += weight;
        if let Some(replaced) = entries.values.insert(key, fresh.clone()) {
            entries.weight -= replaced.weight();
        }
        Ok(fresh)
    }

    fn cached(&self, versions: Versions, key: &str) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        (entries.versions == Some(versions))
            .then(|| entries.values.get(key).cloned())
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

    #[derive(Clone)]
    struct Rows(usize);
    impl Weigh for Rows {
        fn weight(&self) -> usize {
            self.0
        }
    }

    #[tokio::test]
    async fn the_cache_keeps_at_most_its_capacity() {
        let cache = WriteCache::<Rows>::with_capacity(10);
        let at = Versions {
            catalogue: 1,
            times: 1,
        };
        let rows = |n: usize| move || async move { Ok::<_, crate::storage::Error>(Rows(n)) };
        let weight = |cache: &WriteCache<Rows>| cache.entries.lock().unwrap().weight;
        cache.get_or_compute(at, "a".into(), rows(4)).await.unwrap();
        cache.get_or_compute(at, "b".into(), rows(4)).await.unwrap();
        assert_eq!(weight(&cache), 8);
        // Too heavy to keep at all: computed, not kept.
        cache
            .get_or_compute(at, "big".into(), rows(11))
            .await
            .unwrap();
        assert_eq!(weight(&cache), 8);
        // Past the bound: emptied first.
        cache.get_or_compute(at, "c".into(), rows(4)).await.unwrap();
        assert_eq!(weight(&cache), 4);
        assert_eq!(cache.entries.lock().unwrap().values.len(), 1);
    }
}
