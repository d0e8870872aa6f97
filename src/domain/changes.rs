//! Changes since a point in time (`?since=` on the lists): the `since` a
//! client is to send next.

use std::time::Duration;

use crate::storage::{self, WRITE_TX_LIMIT};

/// How far the next `since` lies before the clock read before a list's
/// query. A change is stamped inside its write transaction and becomes
/// visible when that commits, at most `WRITE_TX_LIMIT` later (storage
/// rolls back a transaction open longer); the margin covers the commit's
/// round trip and small clock differences between instances. So a change
/// the list did not see — committed after its query began — carries a
/// stamp at or after the next `since`, and the next list returns it.
pub const NEXT_SINCE_LAG: Duration = Duration::from_secs(WRITE_TX_LIMIT.as_secs() + 5);

/// The `since` for the next synchronisation (ms since the epoch); call it
/// before the list's first query.
pub fn next_since() -> i64 {
    let lag = i64::try_from(NEXT_SINCE_LAG.as_millis()).unwrap_or(i64::MAX);
    storage::now_millis().saturating_sub(lag)
}
