//! Login throttling: after `limit` failures within a minute for one
//! username or one client address, logins are refused with 429 until the
//! oldest failure is a minute old.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Above this many tracked keys, stale ones are swept (bounds memory).
const SWEEP_AT: usize = 10_000;

#[derive(Debug)]
pub struct LoginThrottle {
    limit: u32,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// `limit` = 0 turns throttling off.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when any of `keys` is over the limit.
    pub fn check(&self, keys: &[String]) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = 0u64;
        for key in keys {
            if let Some(q) = map.get_mut(key) {
                while q.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
                    q.pop_front();
                }
                if q.len() >= self.limit as usize {
                    let oldest = *q.front().expect("non-empty");
                    let left = WINDOW.saturating_sub(now.duration_since(oldest));
                    wait = wait.max(left.as_secs().max(1));
                }
            }
        }
        if wait > 0 {
            Err(wait)
        } else {
            Ok(())
        }
    }

    /// Records a failed login for each of `keys`.
    pub fn fail(&self, keys: &[String]) {
        if self.limit == 0 {
            return;
        }
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > SWEEP_AT {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < WINDOW));
        }
        for key in keys {
            let q = map.entry(key.clone()).or_default();
            q.push_back(now);
            while q.len() > self.limit as usize {
                q.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_limit_per_key() {
        let t = LoginThrottle::new(3);
        let a = vec!["user:a".to_string(), "ip:1".to_string()];
        let b = vec!["user:b".to_string(), "ip:2".to_string()];
        for _ in 0..3 {
            assert!(t.check(&a).is_ok());
            t.fail(&a);
        }
        let wait = t.check(&a).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(t.check(&b).is_ok());
        assert!(LoginThrottle::new(0).check(&a).is_ok());
    }
}
