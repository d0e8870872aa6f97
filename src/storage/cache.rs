//! Caches of results that only writes of times (or of the catalogue, which
//! decides visibility and names) change: the counts of list queries
//! (`X-Total-Count`) here; the callers keep theirs (time pages, summaries:
//! `domain::Caches`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::catalogue::Versions;

/// Most results being computed at once (a bound on the gates kept).
const MAX_COMPUTING: usize = 4096;

/// About how many bytes a cached result holds: a cache is emptied when
/// the sum (keys included) would pass its capacity.
pub trait Weigh {
    fn weight(&self) -> usize;
}

impl Weigh for u64 {
    fn weight(&self) -> usize {
        8
    }
}

/// Counting every matching row is the costly part of a list page (an
/// index scan of all of them), while the page itself is an index range.
/// Counts are kept per query for the change counters (`Versions`) they
/// were computed at, which triggers bump with every write of times or of
/// the catalogue by anyone (`migrations::change_counters`): a read-mostly
/// load counts once per change of the data instead of once per request,
/// and no instance serves a count another instance's write made stale.
/// The same holds for the callers' caches of time pages and summaries.
#[derive(Debug)]
pub struct VersionedCache<V> {
    /// The counters the entries were computed at, the entries and their
    /// summed weight.
    entries: Mutex<Entries<V>>,
    /// The most bytes kept (by `Weigh`).
    capacity: usize,
    /// One computation per key at a time: requests that miss together
    /// wait for the first one's result rather than all running the query.
    computing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Counts of list queries.
pub type CountCache = VersionedCache<u64>;

#[derive(Debug)]
struct Entries<V> {
    versions: Option<Versions>,
    values: HashMap<String, V>,
    weight: usize,
}

impl<V> Default for VersionedCache<V> {
    /// 1 MiB: some 10,000 counts.
    fn default() -> Self {
        Self::with_capacity(1 << 20)
    }
}

impl<V> VersionedCache<V> {
    /// A cache keeping results of at most `capacity` bytes in all.
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

impl<V: Clone + Weigh> VersionedCache<V> {
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
        let weight = key.len() + fresh.weight();
        if weight > self.capacity {
            return Ok(fresh);
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries
            .versions
            .is_some_and(|kept| !versions.at_least(kept))
        {
            // Computed at counters older than those kept (a slow request
            // that raced a write): of no use to anyone later.
            return Ok(fresh);
        }
        // Entries of older counters are of no more use.
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
        let cache = VersionedCache::<Rows>::with_capacity(11);
        let at = Versions {
            catalogue: 1,
            times: 1,
        };
        let rows = |n: usize| move || async move { Ok::<_, crate::storage::Error>(Rows(n)) };
        let weight = |cache: &VersionedCache<Rows>| cache.entries.lock().unwrap().weight;
        // Weights count the keys: 1 + 4 each.
        cache.get_or_compute(at, "a".into(), rows(4)).await.unwrap();
        cache.get_or_compute(at, "b".into(), rows(4)).await.unwrap();
        assert_eq!(weight(&cache), 10);
        // Too heavy to keep at all: computed, not kept.
        cache
            .get_or_compute(at, "big".into(), rows(11))
            .await
            .unwrap();
        assert_eq!(weight(&cache), 10);
        // Past the bound: emptied first.
        cache.get_or_compute(at, "c".into(), rows(4)).await.unwrap();
        assert_eq!(weight(&cache), 5);
        assert_eq!(cache.entries.lock().unwrap().values.len(), 1);
        // A result of older counters than those kept is not kept.
        let older = Versions {
            catalogue: 0,
            times: 1,
        };
        cache
            .get_or_compute(older, "d".into(), rows(1))
            .await
            .unwrap();
        assert_eq!(cache.entries.lock().unwrap().versions, Some(at));
        assert_eq!(weight(&cache), 5);
    }
}
