//! The handles the layers above use: `Db` (the pool), `Tx` (the one
//! transaction of a writing request, run by `Db::write` with the retry
//! policy, or of a bulk load, `Db::load`) and `Snapshot` (a
//! read-consistent, read-only transaction). Nothing outside this file
//! begins or commits a write transaction.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, ExecResult, IsolationLevel, QueryResult, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::catalogue::{self, Catalogue, CatalogueCache, Versions};
use super::{CountCache, Migrator, Result};
use crate::config::DatabaseUrl;

/// Anything storage functions read and write through: the pool, a
/// `WriteTx` or a `Snapshot`. Callers name this, never the driver's traits.
pub trait Conn: ConnectionTrait {}
impl<C: ConnectionTrait + ?Sized> Conn for C {}

/// How many times a write transaction that lost a deadlock or a
/// serialization conflict is run in all.
pub const WRITE_ATTEMPTS: usize = 5;

/// The longest a write transaction of `Db::write` stays open: an attempt
/// that finishes later than this after its transaction began is rolled
/// back instead of committed. Changes are stamped inside their
/// transaction, so each commits within this of its stamp; lists rely on
/// it for `X-Next-Since` (requests are cut off after the same 30 s).
pub const WRITE_TX_LIMIT: Duration = Duration::from_secs(30);

/// An error of a write attempt, as the layer above sees it: storage needs
/// to know only whether running the attempt again may help.
pub trait WriteFailure: From<super::Error> {
    fn is_transient(&self) -> bool;
}

/// A handle on the database pool; cheap to clone.
#[derive(Clone)]
pub struct Db {
    conn: DatabaseConnection,
    /// List counts (`X-Total-Count`) reused while the data is unchanged.
    counts: Arc<CountCache>,
    /// This instance's copy of the catalogue (`catalogue`).
    catalogue: Arc<CatalogueCache>,
    /// SQLite's writer (`SqliteWriter`); `None` elsewhere.
    sqlite_writer: Option<SqliteWriter>,
    /// `WRITE_TX_LIMIT` (shorter in tests).
    write_limit: Duration,
}

/// SQLite allows one writer at a time: writes go through one connection
/// of their own, taken in turn, so no request ever sees `database is
/// locked`, and the writer's page cache stays warm — SQLite empties a
/// connection's cache whenever another connection wrote, so writes that
/// took turns on the read pool's connections each began by reading ~60
/// pages back from the file.
#[derive(Clone)]
struct SqliteWriter {
    turn: Arc<Mutex<()>>,
    conn: DatabaseConnection,
}

/// A write transaction: committed by `write`/`load`, rolled back when dropped.
struct WriteTx {
    tx: DatabaseTransaction,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl WriteTx {
    async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        catalogue::forget_for_request();
        Ok(())
    }
}

impl Deref for WriteTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

/// A read-only transaction that sees one consistent state of the database
/// (SQLite's read transaction, REPEATABLE READ elsewhere), for reads that
/// span several statements: streamed lists, exports.
pub struct Snapshot {
    tx: DatabaseTransaction,
}

impl Snapshot {
    /// Ends the snapshot (nothing was written), returning its connection
    /// to the pool in a clean state.
    pub async fn finish(self) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}

impl Deref for Snapshot {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

/// The transaction handed to one attempt of `Db::write`; a connection like
/// any other. Clones share the one transaction.
#[derive(Clone)]
pub struct Tx(Arc<WriteTx>);

/// The transaction wrappers are connections in their own right, so that
/// callers pass them as they are.
macro_rules! delegate_connection {
    ($handle:ty, $this:ident => $tx:expr) => {
        #[sea_orm::prelude::async_trait::async_trait]
        impl ConnectionTrait for $handle {
            fn get_database_backend(&self) -> DatabaseBackend {
                {
                    let $this = self;
                    $tx
                }
                .get_database_backend()
            }
            async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
                {
                    let $this = self;
                    $tx
                }
                .execute_raw(stmt)
                .await
            }
            async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
                {
                    let $this = self;
                    $tx
                }
                .execute_unprepared(sql)
                .await
            }
            async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
                {
                    let $this = self;
                    $tx
                }
                .query_one_raw(stmt)
                .await
            }
            async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
                {
                    let $this = self;
                    $tx
                }
                .query_all_raw(stmt)
                .await
            }
            fn support_returning(&self) -> bool {
                {
                    let $this = self;
                    $tx
                }
                .support_returning()
            }
        }
    };
}
delegate_connection!(WriteTx, this => &this.tx);
delegate_connection!(Snapshot, this => &this.tx);
delegate_connection!(Tx, this => &this.0.tx);

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
            // Readers (most reads are served from memory now; a streamed
            // list holds one for its length); writes have their own.
            opts.max_connections(6)
                .min_connections(1)
                .map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
                    o.create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(10))
                        // Statement journals (a write firing a trigger
                        // needs one) in memory, not in a temporary file.
                        .pragma("temp_store", "memory")
                        // 1 MiB of page cache per connection (default 2):
                        // the hot reads are served from memory above it.
                        .pragma("cache_size", "-1024")
                });
        } else {
            opts.max_connections(16).min_connections(1);
        }
        let connect = |opts: ConnectOptions| async move {
            sea_orm::Database::connect(opts)
                .await
                .with_context(|| format!("cannot connect to the database at {url}"))
        };
        let conn = connect(opts.clone()).await?;
        let sqlite_writer = match url.is_sqlite() {
            true => {
                opts.max_connections(1);
                Some(SqliteWriter {
                    turn: Arc::new(Mutex::new(())),
                    conn: connect(opts).await?,
                })
            }
            false => None,
        };
        Ok(Self {
            conn,
            counts: Arc::new(CountCache::default()),
            catalogue: Arc::default(),
            sqlite_writer,
            write_limit: WRITE_TX_LIMIT,
        })
    }

    /// The pool, for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Starts a write transaction: only `write` and `load` do, so that
    /// every write commits (and retries) in one place.
    async fn begin_write(&self) -> Result<WriteTx> {
        let (writer, conn) = match &self.sqlite_writer {
            Some(w) => (Some(w.turn.clone().lock_owned().await), &w.conn),
            None => (None, &self.conn),
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
        let tx = conn.begin_with_options(options).await?;
        Ok(WriteTx {
            tx,
            _writer: writer,
        })
    }

    /// Runs `attempt` in a write transaction and commits it. An attempt
    /// that fails with a transient conflict (deadlock, serialization
    /// failure: the database rolled it back) is run again in a fresh
    /// transaction, up to `WRITE_ATTEMPTS` times in all; any other error
    /// rolls back and is returned. `attempt` gets a handle on the
    /// transaction and must not keep it beyond its future.
    pub async fn write<T, E, F, Fut>(&self, mut attempt: F) -> Result<T, E>
    where
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: WriteFailure,
    {
        let mut tries = 1;
        loop {
            let tx = Arc::new(self.begin_write().await?);
            let began = std::time::Instant::now();
            let outcome = attempt(Tx(tx.clone())).await;
            let result = match outcome {
                // Dropping the transaction rolls it back.
                Ok(_) if began.elapsed() > self.write_limit => {
                    Err(E::from(super::Error::Db(DbErr::Custom(format!(
                        "a write transaction was open over {:?}; rolled back",
                        self.write_limit
                    )))))
                }
                Ok(value) => match Arc::into_inner(tx) {
                    Some(tx) => tx.commit().await.map(|()| value).map_err(E::from),
                    None => Err(E::from(super::Error::Db(DbErr::Custom(
                        "a write attempt kept its transaction".into(),
                    )))),
                },
                Err(e) => Err(e),
            };
            match result {
                Err(e) if e.is_transient() && tries < WRITE_ATTEMPTS => tries += 1,
                other => return other,
            }
        }
    }

    /// Fills an empty database in one transaction (seed, import): the
    /// secondary indexes of the big tables are dropped (`bulk`), `fill`
    /// runs once (its input is a stream, so a lost conflict is not run
    /// again), the indexes are built again, the id sequences are moved past
    /// the inserted rows, the transaction commits and the planner's
    /// statistics are refreshed. `stage` hears of the last three steps (for
    /// progress reports).
    pub async fn load<T, F, Fut>(&self, stage: impl Fn(&'static str), fill: F) -> anyhow::Result<T>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let tx = Arc::new(self.begin_write().await?);
        let set_aside = super::bulk::set_aside_indexes(&*tx)
            .await
            .context("dropping indexes for the load")?;
        let value = fill(Tx(tx.clone())).await?;
        stage("indexing");
        super::bulk::restore_indexes(&*tx, set_aside)
            .await
            .context("re-creating the indexes")?;
        stage("committing");
        super::reset_id_sequences(&*tx)
            .await
            .context("moving the id sequences past the inserted rows")?;
        Arc::into_inner(tx)
            .context("a bulk load kept its transaction")?
            .commit()
            .await
            .context("committing")?;
        stage("gathering statistics");
        super::analyze(&self.conn)
            .await
            .context("gathering statistics")?;
        Ok(value)
    }

    /// Starts a read-only snapshot transaction.
    pub async fn snapshot(&self) -> Result<Snapshot> {
        let tx = match self.backend() {
            // SQLite has no levels; its read transactions are snapshots.
            DatabaseBackend::Sqlite => self.conn.begin().await?,
            _ => {
                self.conn
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await?
            }
        };
        Ok(Snapshot { tx })
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

    /// The catalogue (users, org-roles, projects, activities) as the
    /// database holds it now: this instance's copy when the version counter
    /// says it is current, else a fresh one. Checked once per request
    /// (`catalogue::per_request`) until the request commits a write.
    pub async fn catalogue(&self) -> Result<Catalogue> {
        Ok(self.catalogue_and_versions().await?.0)
    }

    /// The catalogue and the change counters it was checked with (read in
    /// one statement): what results computed with this catalogue may be
    /// cached under (`VersionedCache`).
    pub async fn catalogue_and_versions(&self) -> Result<(Catalogue, Versions)> {
        if let Some(checked) = catalogue::remembered() {
            return Ok(checked);
        }
        let versions = catalogue::versions(&self.conn).await?;
        let copy = self
            .catalogue
            .get(versions.catalogue, || async {
                let snapshot = self.snapshot().await?;
                let copy = catalogue::load(&*snapshot).await;
                snapshot.finish().await?;
                copy
            })
            .await?;
        catalogue::remember(&copy, versions);
        Ok((copy, versions))
    }

    /// Counts of list queries, reused while the data is unchanged.
    pub fn counts(&self) -> &CountCache {
        &self.counts
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.conn.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
        if let Some(writer) = self.sqlite_writer {
            let _ = writer.conn.close().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use super::*;

    /// A write's error in these tests: storage's own, never transient.
    #[derive(Debug)]
    struct Failed(super::super::Error);

    impl From<super::super::Error> for Failed {
        fn from(e: super::super::Error) -> Self {
            Failed(e)
        }
    }

    impl WriteFailure for Failed {
        fn is_transient(&self) -> bool {
            false
        }
    }

    /// A write whose transaction stays open past the limit is rolled
    /// back, not committed: no change commits long after its stamp.
    #[tokio::test]
    async fn a_write_open_past_the_limit_is_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.sqlite3").display());
        let mut db = Db::connect(&url.parse().unwrap()).await.unwrap();
        db.conn
            .execute_unprepared("CREATE TABLE t (v INTEGER)")
            .await
            .unwrap();
        db.write_limit = Duration::from_millis(50);
        let insert = |pause: u64| {
            let db = &db;
            async move {
                db.write(|tx| async move {
                    tx.execute_unprepared(&format!("INSERT INTO t VALUES ({pause})"))
                        .await
                        .map_err(|e| Failed(e.into()))?;
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    Ok::<_, Failed>(())
                })
                .await
            }
        };
        insert(0).await.unwrap();
        let late = insert(200).await.unwrap_err();
        assert!(late.0.to_string().contains("rolled back"), "{late:?}");
        let rows = db
            .conn
            .query_all_raw(Statement::from_string(
                db.backend(),
                "SELECT v FROM t".to_owned(),
            ))
            .await
            .unwrap();
        let values: Vec<i64> = rows.iter().map(|r| r.try_get("", "v").unwrap()).collect();
        assert_eq!(values, [0]);
    }
}
