//! Domain rules: validation, permissions, revisions. Depends only on
//! `storage` below it; knows nothing of HTTP.

pub mod accounts;
pub mod activities;
pub mod api_tokens;
pub mod caller;
pub mod changes;
pub mod ids;
pub mod ldap;
pub mod login;
pub mod org_roles;
pub mod passwords;
pub mod projects;
pub mod reports;
pub mod throttle;
pub mod timers;
pub mod times;
pub mod tokens;
pub mod users;
pub mod validate;

pub use caller::Caller;

/// Runs one request with its own memo of the catalogue (checked once per
/// request, again after the request commits a write).
pub use crate::storage::catalogue::per_request;
pub use crate::storage::Page;

/// Results reused while the data is unchanged (`storage::VersionedCache`),
/// kept by the server for the domain's reads.
pub struct Caches {
    pub summaries: reports::SummaryCache,
    pub time_pages: times::PageCache,
}

impl Default for Caches {
    /// 8 MiB of each (about 60,000 summary rows, 30,000 plain times).
    fn default() -> Self {
        Self {
            summaries: reports::SummaryCache::with_capacity(8 << 20),
            time_pages: times::PageCache::with_capacity(8 << 20),
        }
    }
}

/// One page of a list and the number of rows before paging (`X-Total-Count`).
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: u64,
}
