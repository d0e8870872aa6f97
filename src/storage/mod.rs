//! Storage: the one query layer that serves SQLite, PostgreSQL and
//! MySQL/MariaDB. Everything above this module reaches the database only
//! through the functions here.

pub mod activities;
pub mod api_tokens;
pub mod entities;
pub mod migrations;
pub mod org_roles;
pub mod projects;
pub mod reports;
pub mod settings;
pub mod timers;
pub mod times;
pub mod users;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::config::DatabaseUrl;
pub use migrations::Migrator;

/// A handle on the database pool; cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    /// List counts (`X-Total-Count`) reused until the next write.
    counts: Arc<CountCache>,
    /// SQLite allows one writer at a time; serialising writers in-process
    /// means no request ever sees `database is locked`.
    sqlite_writer: Option<Arc<Mutex<()>>>,
}

/// A transaction for a request that writes. Commit it, or dropping it rolls back.
pub struct WriteTx {
    tx: DatabaseTransaction,
    counts: Arc<CountCache>,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await?;
        self.counts.invalidate();
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl Db {
    /// Opens a pool on `url`. SQLite files are created when missing and run
    /// in WAL mode with foreign keys on and a busy timeout.
    pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<Self> {
        let mut opts = ConnectOptions::new(url.expose().to_owned());
        opts.sqlx_logging(std::env::var_os("TIMESYNC_LOG_SQL").is_some())
            .sqlx_logging_level(tracing::log::LevelFilter::Info)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10));
        if url.is_sqlite() {
            opts.max_connections(8)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
                    o.create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(10))
                });
        } else {
            opts.max_connections(16).min_connections(1);
        }
        let conn = sea_orm::Database::connect(opts)
            .await
            .with_context(|| format!("cannot connect to the database at {url}"))?;
        let sqlite_writer = url.is_sqlite().then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            conn,
            counts: Arc::new(CountCache::default()),
            sqlite_writer,
        })
    }

    /// The pool, for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Starts the transaction of a request that writes.
    pub async fn begin_write(&self) -> Result<WriteTx, DbErr> {
        let writer = match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        // On SQLite, BEGIN IMMEDIATE takes the write lock up front (waiting
        // up to the busy timeout). A deferred transaction that reads first
        // fails at once with `database is locked` (SQLITE_BUSY_SNAPSHOT)
        // when another connection — another process on the same file —
        // commits between its read and its first write.
        let options = TransactionOptions {
            sqlite_transaction_mode: writer.as_ref().map(|_| SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let tx = self.conn.begin_with_options(options).await?;
        Ok(WriteTx {
            tx,
            counts: self.counts.clone(),
            _writer: writer,
        })
    }

    /// Applies pending migrations; returns the names of those applied.
    pub async fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let before: Vec<String> = Migrator::get_applied_migrations(&self.conn)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|m| m.name().to_owned())
            .collect();
        Migrator::up(&self.conn, None)
            .await
            .context("applying migrations")?;
        let after = Migrator::get_applied_migrations(&self.conn)
            .await
            .context("reading applied migrations")?;
        Ok(after
            .into_iter()
            .map(|m| m.name().to_owned())
            .filter(|n| !before.contains(n))
            .collect())
    }

    /// Counts of list queries, reused until the next write.
    pub fn counts(&self) -> &CountCache {
        &self.counts
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.execute_unprepared("SELECT 1").await.map(|_| ())
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// How long a cached count may be reused at most: writes by *other*
/// instances on the same database do not invalidate this one's cache, so
/// their effect on `X-Total-Count` shows within this time.
pub const COUNT_TTL: Duration = Duration::from_secs(1);
/// Most cached counts; the cache is emptied when it is full.
const MAX_CACHED_COUNTS: usize = 4096;

/// Counting every matching row is the costly part of a list page (an
/// index scan of all of them), while the page itself is an index range.
/// Counts are kept per query and reused until a write transaction of this
/// server commits (or `COUNT_TTL` passes), so a read-mostly load counts
/// once per query instead of once per request.
#[derive(Debug, Default)]
pub struct CountCache {
    /// Bumped by every committed write of this server.
    generation: std::sync::atomic::AtomicU64,
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedCount>>,
}

#[derive(Debug, Clone, Copy)]
struct CachedCount {
    generation: u64,
    at: std::time::Instant,
    count: u64,
}

impl CountCache {
    fn invalidate(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// The count of the query named by `key`, from the cache or from
    /// `count`. The generation is read before counting, so a count that
    /// raced a write is filed under the older generation and never reused.
    pub async fn get_or_count<F, Fut>(&self, key: String, count: F) -> Result<u64, DbErr>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<u64, DbErr>>,
    {
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let cached = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.get(&key).copied()
        };
        if let Some(c) = cached.filter(|c| c.generation == generation && c.at.elapsed() < COUNT_TTL)
        {
            return Ok(c.count);
        }
        let fresh = count().await?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_CACHED_COUNTS {
            entries.clear();
        }
        entries.insert(
            key,
            CachedCount {
                generation,
                at: std::time::Instant::now(),
                count: fresh,
            },
        );
        Ok(fresh)
    }
}

/// Refreshes the planner's statistics after a bulk load (seed, import):
/// without them a freshly filled PostgreSQL plans a list page as a full
/// sort (9 ms instead of 0.1 ms), and SQLite may pick a weak index.
pub async fn analyze(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    const TABLES: &str = "users, org_roles, user_org_roles, activities, projects, \
                          project_slugs, project_users, times, time_activities";
    let sql = match db.get_database_backend() {
        DatabaseBackend::Sqlite => "ANALYZE".to_owned(),
        DatabaseBackend::Postgres => format!("ANALYZE {TABLES}"),
        _ => format!("ANALYZE TABLE {TABLES}"),
    };
    db.execute_unprepared(&sql).await.map(|_| ())
}

/// After rows were inserted with explicit ids (seed, import), moves
/// PostgreSQL's id sequences past them. MySQL and SQLite do this by
/// themselves.
pub async fn reset_id_sequences(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    for table in ["users", "org_roles", "activities", "projects", "times"] {
        db.execute_unprepared(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
        .await?;
    }
    Ok(())
}

/// Milliseconds since the epoch, now.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// True when `e` is a unique-constraint violation (a lost race for a slug,
/// username or revision number).
pub fn is_unique_violation(e: &DbErr) -> bool {
    matches!(
        e.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Applies `page` to a query. SQLite and MySQL refuse an OFFSET without a
/// LIMIT, so skipping without a limit uses the largest limit every
/// backend accepts.
pub fn paginate<Q: sea_orm::QuerySelect>(query: Q, page: crate::domain::Page) -> Q {
    match (page.skip, page.limit) {
        (0, None) => query,
        (skip, limit) => query.offset(skip).limit(limit.unwrap_or(i64::MAX as u64)),
    }
}

/// True when `e` is a deadlock or serialization failure (SQLSTATE 40001 on
/// MySQL/MariaDB and PostgreSQL, 40P01 on PostgreSQL): the transaction was
/// rolled back and may simply be run again.
pub fn is_transient_conflict(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(inner)) | DbErr::Query(RuntimeErr::SqlxError(inner)) => {
            match inner.as_ref() {
                sea_orm::sqlx::Error::Database(db) => {
                    matches!(db.code().as_deref(), Some("40001") | Some("40P01"))
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// How many times a write transaction that lost a deadlock is run.
pub const WRITE_ATTEMPTS: usize = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_are_reused_until_a_write_commits() {
        let cache = CountCache::default();
        let count = |n: u64| move || async move { Ok::<u64, DbErr>(n) };
        assert_eq!(cache.get_or_count("a".into(), count(1)).await.unwrap(), 1);
        assert_eq!(
            cache.get_or_count("a".into(), count(2)).await.unwrap(),
            1,
            "reused"
        );
        assert_eq!(
            cache.get_or_count("b".into(), count(5)).await.unwrap(),
            5,
            "per query"
        );
        cache.invalidate();
        assert_eq!(
            cache.get_or_count("a".into(), count(3)).await.unwrap(),
            3,
            "recounted"
        );
        let failing = || async { Err::<u64, DbErr>(DbErr::Custom("down".into())) };
        cache.invalidate();
        assert!(cache.get_or_count("a".into(), failing).await.is_err());
    }
}
