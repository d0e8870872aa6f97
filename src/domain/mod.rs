//! Domain rules: validation, permissions, revisions. Depends only on
//! `storage` below it; knows nothing of HTTP.

pub mod accounts;
pub mod activities;
pub mod api_tokens;
pub mod caller;
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

/// A page of a list: skip `skip` rows, then return at most `limit` (`None`: all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    pub skip: u64,
    pub limit: Option<u64>,
}

/// One page of a list and the number of rows before paging (`X-Total-Count`).
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Errors of a write: rule violations pass through; database errors may be
/// a lost deadlock (retried by `with_retries`) or a lost unique-key race.
pub enum WriteError {
    Rule(crate::error::Error),
    Db(sea_orm::DbErr),
}

impl From<crate::error::Error> for WriteError {
    fn from(e: crate::error::Error) -> Self {
        WriteError::Rule(e)
    }
}

impl From<sea_orm::DbErr> for WriteError {
    fn from(e: sea_orm::DbErr) -> Self {
        WriteError::Db(e)
    }
}

/// Runs the write transaction `attempt` again while it loses deadlocks
/// (concurrent inserts of one unique key can deadlock on MySQL).
pub async fn with_retries<T, F, Fut>(mut attempt: F) -> std::result::Result<T, WriteError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, WriteError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(WriteError::Db(e))
                if crate::storage::is_transient_conflict(&e)
                    && tries < crate::storage::WRITE_ATTEMPTS =>
            {
                tries += 1;
            }
            other => return other,
        }
    }
}
