//! Caches of results that only writes change: the counts of list queries
//! (`X-Total-Count`) and the sums of summaries.

use std::time::Duration;

use super::Result;

/// How long a cached result may be reused at most: writes by *other*
/// instances on the same database do not invalidate this one's cache, so
/// their effect on `X-Total-Count` and summaries shows within this time.
pub const COUNT_TTL: Duration = Duration::from_secs(1);
/// Most cached counts; the cache is emptied when it is full.
const MAX_CACHED_COUNTS: usize = 4096;

/// Counting every matching row is the costly part of a list page (an
/// index scan of all of them), while the page itself is an index range.
/// Counts are kept per query and reused until a write transaction of this
/// server commits (or `COUNT_TTL` passes), so a read-mostly load counts
/// once per query instead of once per request.
/// The same holds for summaries (`WriteCache<sums>`): the grouped sums are
/// a scan of every matching time, the names a lookup in the catalogue.
#[derive(Debug)]
pub struct WriteCache<V> {
    /// Bumped by every committed write of this server.
    generation: std::sync::atomic::AtomicU64,
    entries: std::sync::Mutex<std::collections::HashMap<String, Cached<V>>>,
}

/// Counts of list queries.
pub type CountCache = WriteCache<u64>;

impl<V> Default for WriteCache<V> {
    fn default() -> Self {
        Self {
            generation: Default::default(),
            entries: Default::default(),
        }
    }
}

#[derive(Debug, Clone)]
struct Cached<V> {
    generation: u64,
    at: std::time::Instant,
    value: V,
}

impl<V: Clone> WriteCache<V> {
    pub(super) fn invalidate(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// The result of the query named by `key`, from the cache or from
    /// `compute`. The generation is read before computing, so a result
    /// that raced a write is filed under the older generation and never
    /// reused.
    pub async fn get_or_compute<F, Fut>(&self, key: String, compute: F) -> Result<V>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<V>>,
    {
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let cached = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.get(&key).cloned()
        };
        if let Some(c) = cached.filter(|c| c.generation == generation && c.at.elapsed() < COUNT_TTL)
        {
            return Ok(c.value);
        }
        let fresh = compute().await?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_CACHED_COUNTS {
            entries.clear();
        }
        entries.insert(
            key,
            Cached {
                generation,
                at: std::time::Instant::now(),
                value: fresh.clone(),
            },
        );
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_are_reused_until_a_write_commits() {
        let cache = CountCache::default();
        let count = |n: u64| move || async move { Ok::<u64, crate::storage::Error>(n) };
        assert_eq!(cache.get_or_compute("a".into(), count(1)).await.unwrap(), 1);
        assert_eq!(
            cache.get_or_compute("a".into(), count(2)).await.unwrap(),
            1,
            "reused"
        );
        assert_eq!(
            cache.get_or_compute("b".into(), count(5)).await.unwrap(),
            5,
            "per query"
        );
        cache.invalidate();
        assert_eq!(
            cache.get_or_compute("a".into(), count(3)).await.unwrap(),
            3,
            "recounted"
        );
        let failing = || async { Err::<u64, _>(crate::storage::Error::missing("down")) };
        cache.invalidate();
        assert!(cache.get_or_compute("a".into(), failing).await.is_err());
    }
}
