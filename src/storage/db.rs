//! The handles the layers above use: `Db` (the pool), `Tx` (the
//! transaction of a writing request, run by `Db::write` with the retry
//! policy — on SQLite shared by the writes that queue together — or of a
//! bulk load, `Db::load`) and `Snapshot` (a
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
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;
use tokio::sync::{oneshot, watch, Mutex, OwnedMutexGuard};

use super::catalogue::{self, Catalogue, CatalogueCache, Versions};
use super::{CountCache, Migrator, Result};
use crate::config::DatabaseUrl;

/// Anything storage functions read and write through: the pool, a
/// `Tx` or a `Snapshot`. Callers name this, never the driver's traits.
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
///
/// Writes that queue for the turn share one transaction (group commit,
/// `Batch`): a write that finishes while others wait leaves the
/// transaction open for the next, and the last one commits it for all.
/// Each write after the first runs inside a savepoint of its own, so a
/// failed one is undone alone. Every statement is a round trip to the
/// driver's thread, and a commit writes every page it changed to the
/// log: shared, `BEGIN` and `COMMIT` are paid once per batch, and pages
/// that several writes change (the ends of the indexes, the change
/// counter) are written once.
#[derive(Clone)]
struct SqliteWriter {
    conn: DatabaseConnection,
    /// The turn, with the batch the writes before left open, if any.
    turn: Arc<Mutex<Option<Batch>>>,
    /// Writes waiting for the turn. While there are any, a write that
    /// finished leaves its batch open for them.
    waiting: Arc<AtomicUsize>,
    /// Transactions committed, for the checkpointer (`checkpoint_off_the_turn`).
    commits: Arc<AtomicU64>,
    /// Writes given as statements, waiting for whoever takes the turn next.
    queued: Arc<std::sync::Mutex<Vec<QueuedWrite>>>,
}

/// Every SQLite connection's settings.
fn sqlite_options(options: SqliteConnectOptions) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // Statement journals (a write firing a trigger needs one) in
        // memory, not in a temporary file.
        .pragma("temp_store", "memory")
        // 1 MiB of page cache per connection (default 2): the hot reads
        // are served from memory above it.
        .pragma("cache_size", "-1024")
}

/// How often the log is copied back into the database file while writes
/// come in, and the log's size (in pages) past which the writer does it
/// itself, should the copier fall behind (SQLite's default is 1,000).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
const WRITER_CHECKPOINT_PAGES: &str = "10000";

/// SQLite copies its log (WAL) back into the database file at
/// checkpoints. Left to the writer, as by default every 1,000 pages, each
/// one — pages written to the file, then an fsync — stalls every write
/// queued behind it (a sixth of the writer's time under load). Here a
/// task does it on a reading connection, off the writer's turn, a tenth
/// of a second after writes were committed; a passive checkpoint waits
/// for no reader or writer.
fn checkpoint_off_the_turn(readers: DatabaseConnection, commits: &Arc<AtomicU64>) {
    let commits = Arc::downgrade(commits);
    tokio::spawn(async move {
        let mut checkpointed = 0;
        let mut every = tokio::time::interval(CHECKPOINT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // Gone with the last handle on the database.
            let Some(commits) = commits.upgrade() else {
                return;
            };
            let committed = commits.load(Ordering::Relaxed);
            if committed == checkpointed {
                continue;
            }
            match readers
                .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                .await
            {
                Ok(_) => checkpointed = committed,
                Err(DbErr::ConnectionAcquire(_)) => return,
                Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
            }
        }
    });
}

/// A write given as statements (`Db::write_statements`), queued for the
/// turn.
struct QueuedWrite {
    statements: Statements,
    queued_at: Instant,
    /// Its rows, and how its batch's commit goes.
    reply: oneshot::Sender<Result<QueuedRows, String>>,
}

type QueuedRows = (
    Vec<QueryResult>,
    watch::Receiver<Option<Result<(), String>>>,
);

/// The most queued writes run in one call: the driver keeps each string
/// of statements it ran prepared, so every count of writes is one more
/// program held in memory (at 16 a call, 13 MB more at peak).
const WRITES_PER_CALL: usize = 4;

/// Ends each write's rows among those of a call that ran several.
const END_OF_WRITE_COLUMN: &str = "timesync_end_of_write";
const END_OF_WRITE: &str = "SELECT 1 AS timesync_end_of_write";

/// Statements to run in one call: SQLite runs a string of statements,
/// binding the values in order.
#[derive(Clone, Default)]
pub struct Statements {
    sql: String,
    values: Vec<sea_orm::Value>,
}

impl Statements {
    pub fn new(statements: Vec<Statement>) -> Self {
        let mut all = Self::default();
        for statement in statements {
            all.append_sql(&statement.sql);
            all.values
                .extend(statement.values.into_iter().flat_map(|v| v.0));
        }
        all
    }

    fn append(&mut self, other: &Statements) {
        self.append_sql(&other.sql);
        self.values.extend(other.values.iter().cloned());
    }

    fn append_sql(&mut self, sql: &str) {
        if !self.sql.is_empty() {
            self.sql.push_str("; ");
        }
        self.sql.push_str(sql);
    }

    fn prepend_sql(&mut self, sql: &str) {
        self.sql = format!("{sql}; {}", self.sql);
    }

    pub fn into_statement(self) -> Statement {
        Statement::from_sql_and_values(DatabaseBackend::Sqlite, self.sql, self.values)
    }
}

/// The most writes one batch holds, and the oldest a batch is extended:
/// bounds on how long the first of them waits for its commit.
const BATCH_WRITES: usize = 64;
const BATCH_AGE: Duration = Duration::from_millis(20);

/// A write transaction shared by the SQLite writes that took the turn one
/// after another (`SqliteWriter`).
struct Batch {
    tx: Arc<DatabaseTransaction>,
    began: Instant,
    /// Writes done in it that wait for its commit.
    writes: usize,
    /// Tells them how the commit went. Dropped unsent — the batch was
    /// dropped, and with it rolled back, by a write cancelled mid-way —
    /// they run again.
    outcome: watch::Sender<Option<Result<(), String>>>,
}

impl Batch {
    fn new(tx: DatabaseTransaction) -> Self {
        Self {
            tx: Arc::new(tx),
            began: Instant::now(),
            writes: 0,
            outcome: watch::channel(None).0,
        }
    }

    async fn commit(self, commits: &AtomicU64) {
        let result = match Arc::into_inner(self.tx) {
            Some(tx) => tx.commit().await.map_err(|e| e.to_string()),
            None => Err("a write attempt kept its transaction".to_owned()),
        };
        if result.is_ok() {
            commits.fetch_add(1, Ordering::Relaxed);
        }
        self.outcome.send_replace(Some(result));
    }
}

/// How one write of a batch ended.
enum BatchedWrite<T, E> {
    Done(Result<T, E>),
    /// Its batch was rolled back under it: run it again.
    Lost,
}

impl SqliteWriter {
    /// Takes the turn, counted in `waiting` while it queues. A write
    /// cancelled in the queue may have been the one a batch was left open
    /// for: the last to leave closes it.
    async fn take_turn(&self) -> OwnedMutexGuard<Option<Batch>> {
        struct Queued<'w>(&'w SqliteWriter, bool);
        impl Drop for Queued<'_> {
            fn drop(&mut self) {
                let left = self.0.waiting.fetch_sub(1, Ordering::SeqCst) - 1;
                if !self.1 && left == 0 {
                    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                        let writer = self.0.clone();
                        runtime.spawn(async move {
                            let mut turn = writer.turn.clone().lock_owned().await;
                            if writer.waiting.load(Ordering::SeqCst) == 0 {
                                if let Some(batch) = turn.take() {
                                    batch.commit(&writer.commits).await;
                                }
                            }
                        });
                    }
                }
            }
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut queued = Queued(self, false);
        let turn = self.turn.clone().lock_owned().await;
        queued.1 = true;
        turn
    }

    async fn begin(&self) -> Result<DatabaseTransaction> {
        // BEGIN IMMEDIATE takes the write lock up front (waiting up to the
        // busy timeout). A deferred transaction that reads first fails at
        // once with `database is locked` (SQLITE_BUSY_SNAPSHOT) when
        // another process on the same file commits between its read and
        // its first write.
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        Ok(self.conn.begin_with_options(options).await?)
    }

    /// The batch left open, or a new one (after committing one too old
    /// to extend).
    async fn open_batch(&self, turn: &mut Option<Batch>) -> Result<Batch> {
        match turn.take() {
            Some(batch) if batch.began.elapsed() < BATCH_AGE => return Ok(batch),
            Some(stale) => stale.commit(&self.commits).await,
            None => {}
        }
        Ok(Batch::new(self.begin().await?))
    }

    /// One attempt of `Db::write_statements`: the statements join those
    /// other requests queued, and whichever of them takes the turn first
    /// runs them all in one call (`run_queued`). `Lost` when the batch
    /// they ran in was rolled back.
    async fn write_statements_once(
        &self,
        statements: &Statements,
        limit: Duration,
    ) -> Result<Option<Vec<QueryResult>>> {
        let (reply, mut ran) = oneshot::channel();
        self.queued
            .lock()
            .expect("the queue of statements")
            .push(QueuedWrite {
                statements: statements.clone(),
                queued_at: Instant::now(),
                reply,
            });
        let ran = tokio::select! {
            biased;
            ran = &mut ran => ran,
            turn = self.take_turn() => {
                self.run_queued(turn, limit).await;
                ran.await
            }
        };
        let Ok(ran) = ran else {
            // Dropped unanswered: a cancelled request held the turn.
            return Ok(None);
        };
        let (rows, outcome) = ran.map_err(|e| super::Error::Db(DbErr::Custom(e)))?;
        match commit_of(outcome).await {
            Some(Ok(())) => Ok(Some(rows)),
            Some(Err(e)) => Err(e),
            None => Ok(None),
        }
    }

    /// Runs every queued write (`write_statements_once`) in the batch, in
    /// one call to the driver's thread; each one's rows end at a marker
    /// row. Should the call fail, it is undone and the writes run one by
    /// one, so that only the failing one fails.
    async fn run_queued(&self, mut turn: OwnedMutexGuard<Option<Batch>>, limit: Duration) {
        let queued = std::mem::take(&mut *self.queued.lock().expect("the queue of statements"));
        // Stamped before they queued: none commits long after its stamp.
        let (queued, late): (Vec<_>, Vec<_>) = queued
            .into_iter()
            .partition(|write| write.queued_at.elapsed() <= limit);
        for write in late {
            let _ = write.reply.send(Err(rolled_back_after(limit).to_string()));
        }
        if queued.is_empty() {
            // A write before ran them: the batch carries on as usual.
            if let Some(batch) = turn.take() {
                self.end_turn(turn, batch, 0);
            }
            return;
        }
        let mut batch = match self.open_batch(&mut turn).await {
            Ok(batch) => batch,
            Err(e) => {
                for write in queued {
                    let _ = write.reply.send(Err(e.to_string()));
                }
                return;
            }
        };
        // Those answered wait for the turn too until they hear.
        let answered = queued.len();
        let mut queued = queued.into_iter();
        loop {
            let some: Vec<QueuedWrite> = queued.by_ref().take(WRITES_PER_CALL).collect();
            if some.is_empty() {
                break;
            }
            if !Self::run_together(&mut batch, some).await {
                // Dropping the batch and the writes' answers: they run again.
                return;
            }
        }
        self.end_turn(turn, batch, answered.saturating_sub(1));
    }

    /// Runs `writes` in the batch in one call and answers each; should
    /// the call fail, it is undone and they run one by one, so that only
    /// the failing one fails. False when the batch could not be brought
    /// back after a failure (it is to be dropped).
    async fn run_together(batch: &mut Batch, writes: Vec<QueuedWrite>) -> bool {
        let mut all = Statements::default();
        for write in &writes {
            all.append(&write.statements);
            all.append_sql(END_OF_WRITE);
        }
        match Self::run_in_savepoint(batch, all).await {
            Ok(rows) => {
                let mut rows = rows.into_iter();
                for write in writes {
                    let own = rows
                        .by_ref()
                        .take_while(|row| row.try_get::<i32>("", END_OF_WRITE_COLUMN).is_err())
                        .collect();
                    batch.writes += 1;
                    let _ = write.reply.send(Ok((own, batch.outcome.subscribe())));
                }
                true
            }
            Err(Err(_)) => false,
            Err(Ok(_)) => {
                for write in writes {
                    let ran = match Self::run_in_savepoint(batch, write.statements).await {
                        Ok(rows) => {
                            batch.writes += 1;
                            Ok((rows, batch.outcome.subscribe()))
                        }
                        Err(Ok(failed)) => Err(failed.to_string()),
                        Err(Err(_)) => return false,
                    };
                    let _ = write.reply.send(ran);
                }
                true
            }
        }
    }

    /// Runs `statements` in the batch inside a savepoint, so that they are
    /// undone alone should they fail. `Err(Ok(_))`: they failed and were
    /// undone; `Err(Err(_))`: the undo failed too, and the batch is to be
    /// dropped (rolled back: its writes run again).
    async fn run_in_savepoint(
        batch: &Batch,
        mut statements: Statements,
    ) -> Result<Vec<QueryResult>, Result<DbErr, DbErr>> {
        statements.prepend_sql(SAVEPOINT);
        match batch.tx.query_all_raw(statements.into_statement()).await {
            Ok(rows) => Ok(rows),
            Err(failed) => match batch.tx.execute_unprepared("ROLLBACK TO write").await {
                Ok(_) => Err(Ok(failed)),
                Err(broken) => Err(Err(broken)),
            },
        }
    }

    /// One attempt of `Db::write`, in the open batch or a new one.
    async fn write_once<T, E, F, Fut>(&self, limit: Duration, attempt: &mut F) -> BatchedWrite<T, E>
    where
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: WriteFailure,
    {
        let mut turn = self.take_turn().await;
        let mut batch = match self.open_batch(&mut turn).await {
            Ok(batch) => batch,
            Err(e) => return BatchedWrite::Done(Err(E::from(e))),
        };
        // The first write of a batch is undone by rolling the batch back;
        // the others by a savepoint, opened with their first statement.
        let alone = batch.writes == 0;
        let savepoint = (!alone).then(|| Arc::new(AtomicBool::new(true)));
        let tx = Tx {
            tx: batch.tx.clone(),
            savepoint: savepoint.clone(),
        };
        let outcome = attempt(tx).await;
        let opened = savepoint.is_some_and(|pending| !pending.load(Ordering::SeqCst));
        let outcome = match outcome {
            Ok(_) if batch.began.elapsed() > limit => Err(E::from(rolled_back_after(limit))),
            Ok(_) if Arc::strong_count(&batch.tx) > 1 => Err(E::from(super::Error::Db(
                DbErr::Custom("a write attempt kept its transaction".into()),
            ))),
            other => other,
        };
        let value = match outcome {
            Ok(value) => value,
            // Dropping the batch rolls it back.
            Err(e) if alone => return BatchedWrite::Done(Err(e)),
            Err(e) => {
                if opened {
                    let undo = batch.tx.execute_unprepared("ROLLBACK TO write").await;
                    if let Err(undo) = undo {
                        // The batch is dropped: its writes run again.
                        return BatchedWrite::Done(Err(E::from(undo.into())));
                    }
                }
                self.end_turn(turn, batch, 0);
                return BatchedWrite::Done(Err(e));
            }
        };
        batch.writes += 1;
        let outcome = batch.outcome.subscribe();
        self.end_turn(turn, batch, 0);
        match commit_of(outcome).await {
            Some(committed) => BatchedWrite::Done(committed.map(|()| value).map_err(E::from)),
            None => BatchedWrite::Lost,
        }
    }

    /// Leaves the batch open for the next write when one waits, else
    /// commits it — on a task of its own, so that the commit finishes and
    /// is told to the batch's writes even if this request is cancelled.
    /// `answered` of those counted as waiting were just answered
    /// (`run_queued`) and will not take the turn.
    fn end_turn(&self, mut turn: OwnedMutexGuard<Option<Batch>>, batch: Batch, answered: usize) {
        let waiting = self.waiting.load(Ordering::SeqCst).saturating_sub(answered);
        let extend =
            waiting > 0 && batch.writes < BATCH_WRITES && batch.began.elapsed() < BATCH_AGE;
        if extend {
            *turn = Some(batch);
        } else if batch.writes > 0 {
            let commits = self.commits.clone();
            tokio::spawn(async move {
                batch.commit(&commits).await;
                drop(turn);
            });
        }
    }
}

/// How the batch a write ran in ended, once it has: `Some(Ok)` committed
/// (the request forgets the catalogue it read: the write may have changed
/// it), `Some(Err)` the commit failed, `None` the batch was dropped and
/// rolled back, so the write is to run again.
async fn commit_of(
    mut outcome: watch::Receiver<Option<Result<(), String>>>,
) -> Option<Result<(), super::Error>> {
    match outcome.wait_for(Option::is_some).await.map(|o| o.clone()) {
        Ok(Some(Ok(()))) => {
            catalogue::forget_for_request();
            Some(Ok(()))
        }
        Ok(Some(Err(failed))) => Some(Err(super::Error::Db(DbErr::Custom(format!(
            "committing: {failed}"
        ))))),
        Ok(None) | Err(_) => None,
    }
}

/// A write whose batch was rolled back under it on every attempt.
fn lost_every_attempt() -> super::Error {
    super::Error::Db(DbErr::Custom(
        "the write's transaction was rolled back".into(),
    ))
}

fn rolled_back_after(limit: Duration) -> super::Error {
    super::Error::Db(DbErr::Custom(format!(
        "a write transaction was open over {limit:?}; rolled back"
    )))
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
pub struct Tx {
    tx: Arc<DatabaseTransaction>,
    /// Set while the attempt's savepoint (`SqliteWriter`) is still to be
    /// opened: it goes with the first statement.
    savepoint: Option<Arc<AtomicBool>>,
}

impl Tx {
    fn new(tx: Arc<DatabaseTransaction>) -> Self {
        Self {
            tx,
            savepoint: None,
        }
    }

    /// Whether the savepoint is to be opened now (it is counted as opened
    /// from here on).
    fn opens_savepoint(&self) -> bool {
        self.savepoint
            .as_ref()
            .is_some_and(|pending| pending.swap(false, Ordering::SeqCst))
    }

    /// Before a statement that changes rows, the savepoint goes on its
    /// own: SQLite's count of changed rows after a string of statements is
    /// that of its last change, which for a `SAVEPOINT` is the last write
    /// before it.
    async fn open_savepoint_alone(&self) -> Result<(), DbErr> {
        if self.opens_savepoint() {
            self.tx.execute_unprepared(SAVEPOINT).await?;
        }
        Ok(())
    }

    /// A query takes the savepoint along, in the same call to the
    /// driver's thread.
    fn with_savepoint(&self, mut stmt: Statement) -> Statement {
        if self.opens_savepoint() {
            stmt.sql = format!("{SAVEPOINT}; {}", stmt.sql);
        }
        stmt
    }
}

const SAVEPOINT: &str = "SAVEPOINT write";

#[sea_orm::prelude::async_trait::async_trait]
impl ConnectionTrait for Tx {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.tx.get_database_backend()
    }
    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.open_savepoint_alone().await?;
        self.tx.execute_raw(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.open_savepoint_alone().await?;
        self.tx.execute_unprepared(sql).await
    }
    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.tx.query_one_raw(self.with_savepoint(stmt)).await
    }
    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.tx.query_all_raw(self.with_savepoint(stmt)).await
    }
    fn support_returning(&self) -> bool {
        self.tx.support_returning()
    }
}

/// A snapshot is a connection in its own right, so that callers pass it
/// as it is.
#[sea_orm::prelude::async_trait::async_trait]
impl ConnectionTrait for Snapshot {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.tx.get_database_backend()
    }
    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.tx.execute_raw(stmt).await
    }
    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.tx.execute_unprepared(sql).await
    }
    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.tx.query_one_raw(stmt).await
    }
    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.tx.query_all_raw(stmt).await
    }
    fn support_returning(&self) -> bool {
        self.tx.support_returning()
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
            // Readers (most reads are served from memory now; a streamed
            // list holds one for its length); writes have their own.
            opts.max_connections(6)
                .min_connections(1)
                .map_sqlx_sqlite_opts(sqlite_options);
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
                opts.max_connections(1).map_sqlx_sqlite_opts(|o| {
                    sqlite_options(o).pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
                });
                let writer = SqliteWriter {
                    conn: connect(opts).await?,
                    turn: Arc::default(),
                    waiting: Arc::default(),
                    commits: Arc::default(),
                    queued: Arc::default(),
                };
                checkpoint_off_the_turn(conn.clone(), &writer.commits);
                Some(writer)
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

    /// Runs `attempt` in a write transaction and commits it. An attempt
    /// that fails with a transient conflict (deadlock, serialization
    /// failure: the database rolled it back) is run again in a fresh
    /// transaction, up to `WRITE_ATTEMPTS` times in all; any other error
    /// rolls back and is returned. `attempt` gets a handle on the
    /// transaction and must not keep it beyond its future. On SQLite the
    /// transaction may be shared with other writes (`SqliteWriter`); the
    /// result is returned once it committed.
    pub async fn write<T, E, F, Fut>(&self, mut attempt: F) -> Result<T, E>
    where
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: WriteFailure,
    {
        let mut tries = 1;
        loop {
            let result = match &self.sqlite_writer {
                Some(writer) => match writer.write_once(self.write_limit, &mut attempt).await {
                    BatchedWrite::Done(result) => result,
                    BatchedWrite::Lost if tries < WRITE_ATTEMPTS => {
                        tries += 1;
                        continue;
                    }
                    BatchedWrite::Lost => Err(E::from(lost_every_attempt())),
                },
                None => self.write_once(&mut attempt).await,
            };
            match result {
                Err(e) if e.is_transient() && tries < WRITE_ATTEMPTS => tries += 1,
                other => return other,
            }
        }
    }

    /// Runs `statements` as one write and returns the rows they yield,
    /// once committed. Each statement must check in SQL what it depends on,
    /// so that the write changes all or nothing unless the database fails.
    /// On SQLite the statements of requests that queue together go to the
    /// driver's thread in one call (`SqliteWriter::run_queued`); elsewhere
    /// they run in a transaction of their own.
    pub async fn write_statements(&self, statements: Vec<Statement>) -> Result<Vec<QueryResult>> {
        let Some(writer) = &self.sqlite_writer else {
            return self
                .write(|tx| {
                    let statements = statements.clone();
                    async move { super::together(&tx, statements).await }
                })
                .await;
        };
        let statements = Statements::new(statements);
        for _ in 0..WRITE_ATTEMPTS {
            if let Some(rows) = writer
                .write_statements_once(&statements, self.write_limit)
                .await?
            {
                return Ok(rows);
            }
        }
        Err(lost_every_attempt())
    }

    /// One attempt of `write` in a transaction of its own, on the pool.
    async fn write_once<T, E, F, Fut>(&self, attempt: &mut F) -> Result<T, E>
    where
        F: FnMut(Tx) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: WriteFailure,
    {
        let tx = Arc::new(self.conn.begin().await.map_err(super::Error::from)?);
        let began = Instant::now();
        // Dropping the transaction rolls it back.
        let value = attempt(Tx::new(tx.clone())).await?;
        if began.elapsed() > self.write_limit {
            return Err(E::from(rolled_back_after(self.write_limit)));
        }
        let tx = Arc::into_inner(tx).ok_or_else(|| {
            super::Error::Db(DbErr::Custom("a write attempt kept its transaction".into()))
        })?;
        tx.commit().await.map_err(super::Error::from)?;
        catalogue::forget_for_request();
        Ok(value)
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
        // On SQLite the load holds the writer's turn throughout, after
        // committing what writes before it left open.
        let (turn, tx) = match &self.sqlite_writer {
            Some(writer) => {
                let mut turn = writer.take_turn().await;
                if let Some(open) = turn.take() {
                    open.commit(&writer.commits).await;
                }
                (Some(turn), writer.begin().await?)
            }
            None => (None, self.conn.begin().await?),
        };
        let tx = Arc::new(tx);
        let set_aside = super::bulk::set_aside_indexes(&*tx)
            .await
            .context("dropping indexes for the load")?;
        let value = fill(Tx::new(tx.clone())).await?;
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
        if let Some(writer) = &self.sqlite_writer {
            writer.commits.fetch_add(1, Ordering::Relaxed);
        }
        drop(turn);
        catalogue::forget_for_request();
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

    /// A SQLite database with one table, `t (v INTEGER)`.
    async fn sqlite_with_table() -> (Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("w.sqlite3").display());
        let db = Db::connect(&url.parse().unwrap()).await.unwrap();
        db.conn
            .execute_unprepared("CREATE TABLE t (v INTEGER)")
            .await
            .unwrap();
        (db, dir)
    }

    async fn count(conn: &impl ConnectionTrait) -> i64 {
        let row = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT COUNT(*) AS n FROM t".to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }

    async fn values(db: &Db) -> Vec<i64> {
        let rows = db
            .conn
            .query_all_raw(Statement::from_string(
                db.backend(),
                "SELECT v FROM t ORDER BY v".to_owned(),
            ))
            .await
            .unwrap();
        rows.iter().map(|r| r.try_get("", "v").unwrap()).collect()
    }

    /// Writes `v` into `t`, then holds the write open for `pause` ms.
    async fn insert_pausing(db: &Db, v: i64, pause: u64) -> Result<(), Failed> {
        db.write(|tx| async move {
            tx.execute_unprepared(&format!("INSERT INTO t VALUES ({v})"))
                .await
                .map_err(|e| Failed(e.into()))?;
            tokio::time::sleep(Duration::from_millis(pause)).await;
            Ok(())
        })
        .await
    }

    fn refused() -> Failed {
        Failed(super::super::Error::Db(DbErr::Custom("refused".into())))
    }

    /// SQLite writes that queue for the turn share one transaction (a
    /// write sees rows of earlier ones that nobody else sees yet); one
    /// that fails is undone alone, and the others commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_writes_commit_together_and_fail_alone() {
        let (db, _dir) = sqlite_with_table().await;
        let writes: Vec<_> = (0..24i64)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write(|tx| {
                        let db = db.clone();
                        async move {
                            tx.execute_unprepared(&format!("INSERT INTO t VALUES ({i})"))
                                .await
                                .map_err(|e| Failed(e.into()))?;
                            if i == 0 {
                                // The others queue meanwhile.
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                            let ahead = count(&tx).await - count(db.conn()).await;
                            match i % 3 {
                                1 => Err(refused()),
                                _ => Ok(ahead),
                            }
                        }
                    })
                    .await
                })
            })
            .collect();
        let mut ahead_of_commits = 0;
        for (i, write) in writes.into_iter().enumerate() {
            match write.await.unwrap() {
                Ok(ahead) => ahead_of_commits = ahead_of_commits.max(ahead),
                Err(e) => assert_eq!(i % 3, 1, "write {i}: {e:?}"),
            }
        }
        assert!(ahead_of_commits > 1, "no write shared a transaction");
        let kept: Vec<i64> = (0..24).filter(|i| i % 3 != 1).collect();
        assert_eq!(values(&db).await, kept);
    }

    /// A write cancelled mid-way rolls back the batch it ran in; the
    /// writes of that batch that had finished run again, once each.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_cancelled_in_a_batch_loses_no_other_write() {
        let (db, _dir) = sqlite_with_table().await;
        let first = {
            let db = db.clone();
            tokio::spawn(async move { insert_pausing(&db, 1, 100).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let cancelled =
            tokio::time::timeout(Duration::from_millis(300), insert_pausing(&db, 2, 5_000)).await;
        assert!(cancelled.is_err());
        first.await.unwrap().unwrap();
        assert_eq!(values(&db).await, [1]);
    }

    /// Writes given as statements that queue behind another write run
    /// together: each gets its own rows back, one that fails fails alone,
    /// and the rest commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_statements_get_their_own_rows_and_fail_alone() {
        let (db, _dir) = sqlite_with_table().await;
        db.conn
            .execute_unprepared("CREATE TABLE small (v INTEGER CHECK (v < 100))")
            .await
            .unwrap();
        // The others queue meanwhile.
        let holder = {
            let db = db.clone();
            tokio::spawn(async move { insert_pausing(&db, -1, 100).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let writes: Vec<_> = (0..20i64)
            .map(|i| {
                let db = db.clone();
                let v = if i == 7 { 500 } else { i };
                tokio::spawn(async move {
                    let insert = |table: &str| {
                        Statement::from_sql_and_values(
                            DatabaseBackend::Sqlite,
                            format!("INSERT INTO {table} VALUES (?) RETURNING v"),
                            [v.into()],
                        )
                    };
                    db.write_statements(vec![insert("t"), insert("small")])
                        .await
                })
            })
            .collect();
        holder.await.unwrap().unwrap();
        for (i, write) in writes.into_iter().enumerate() {
            match write.await.unwrap() {
                Ok(rows) => {
                    let got: Vec<i64> = rows.iter().map(|r| r.try_get("", "v").unwrap()).collect();
                    assert_eq!(got, [i as i64, i as i64], "write {i}");
                }
                Err(e) => assert_eq!(i, 7, "write {i}: {e}"),
            }
        }
        let kept: Vec<i64> = (-1..20).filter(|&i| i != 7).collect();
        assert_eq!(values(&db).await, kept);
        assert_eq!(count_of(&db, "small").await, 19);
    }

    async fn count_of(db: &Db, table: &str) -> i64 {
        let row = db
            .conn
            .query_one_raw(Statement::from_string(
                db.backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }

    /// Committed writes reach the database file within moments although
    /// the writer leaves checkpoints to the checkpointer (its own
    /// threshold is 10,000 pages of log).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_is_checkpointed_off_the_writers_turn() {
        let (db, dir) = sqlite_with_table().await;
        let marker = "checkpointed-marker-7f3a";
        db.write(|tx| async move {
            tx.execute_unprepared("CREATE TABLE notes (text TEXT)")
                .await
                .map_err(|e| Failed(e.into()))?;
            tx.execute_unprepared(&format!("INSERT INTO notes VALUES ('{marker}')"))
                .await
                .map_err(|e| Failed(e.into()))
        })
        .await
        .unwrap();
        let file = dir.path().join("w.sqlite3");
        let in_file = || {
            let bytes = std::fs::read(&file).unwrap();
            bytes.windows(marker.len()).any(|w| w == marker.as_bytes())
        };
        let mut waited = Duration::ZERO;
        while !in_file() {
            assert!(waited < Duration::from_secs(5), "not checkpointed");
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += Duration::from_millis(50);
        }
        let threshold = db
            .write(|tx| async move {
                let row = tx
                    .query_one_raw(Statement::from_string(
                        tx.get_database_backend(),
                        "PRAGMA wal_autocheckpoint".to_owned(),
                    ))
                    .await
                    .map_err(|e| Failed(e.into()))?
                    .unwrap();
                Ok::<i64, Failed>(row.try_get_by_index(0).unwrap())
            })
            .await
            .unwrap();
        assert_eq!(threshold.to_string(), WRITER_CHECKPOINT_PAGES);
    }

    /// A write whose transaction stays open past the limit is rolled
    /// back, not committed: no change commits long after its stamp.
    #[tokio::test]
    async fn a_write_open_past_the_limit_is_rolled_back() {
        let (mut db, _dir) = sqlite_with_table().await;
        db.write_limit = Duration::from_millis(50);
        let insert = |pause: u64| insert_pausing(&db, pause as i64, pause);
        insert(0).await.unwrap();
        let late = insert(200).await.unwrap_err();
        assert!(late.0.to_string().contains("rolled back"), "{late:?}");
        assert_eq!(values(&db).await, [0]);
    }
}
