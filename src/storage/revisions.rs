//! The revision engine: activities, projects and times keep one row per
//! revision of an object (same `uuid`, rising `revision`); exactly one row
//! per object is current (`newest`), and a delete marks that row
//! (`deleted_at`). This module is the only place that knows the protocol;
//! the resource modules add only what is their own (slugs, members, the
//! activities of a time).
//!
//! Concurrency: a writer of an object first locks the object's revision 1
//! (`lock`), a row whose identity never changes, so it is a stable
//! per-object mutex (locking "the newest row" would let a waiter wake up
//! on a row that is no longer newest). It then reads the newest row with a
//! new statement, which sees what the previous holder committed
//! (PostgreSQL: a new snapshot per statement; MySQL: locking reads see the
//! latest commit). SQLite writers are already serialised by
//! `Db::write`, and sea-query omits `FOR UPDATE` there.
//!
//! Lists of keys are sent in chunks of `CHUNK`, so no backend's
//! bind-parameter limit is reached, whatever the page size.

use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::{paginate, taken_as, Page, Result, Taken, CHUNK};

/// The columns every revision table has.
pub struct RevisionColumns<C> {
    pub id: C,
    pub uuid: C,
    pub revision: C,
    pub newest: C,
    pub deleted_at: C,
    pub sort_at: C,
}

/// A table of revisions.
pub trait Revisioned: EntityTrait<Model: Sync> {
    const COLUMNS: RevisionColumns<Self::Column>;
    /// What a row names itself in errors ("activity").
    const NAME: &'static str;

    /// Values set on a row when it stops being the current one (besides
    /// `newest`), e.g. the release of a unique slug.
    fn retired() -> Vec<(Self::Column, SimpleExpr)> {
        Vec::new()
    }
}

fn cols<E: Revisioned>() -> RevisionColumns<E::Column> {
    E::COLUMNS
}

/// Locks the object `uuid` for writing (its revision 1) until the
/// transaction ends; run it first in the transaction. False when no such
/// object exists.
pub async fn lock<E: Revisioned>(db: &impl ConnectionTrait, uuid: &str) -> Result<bool> {
    let c = cols::<E>();
    Ok(E::find()
        .filter(c.uuid.eq(uuid))
        .filter(c.revision.eq(1))
        .lock_exclusive()
        .one(db)
        .await?
        .is_some())
}

/// The current revision of `uuid`, deleted or not.
pub async fn current<E: Revisioned>(
    db: &impl ConnectionTrait,
    uuid: &str,
) -> Result<Option<E::Model>> {
    let c = cols::<E>();
    Ok(E::find()
        .filter(c.uuid.eq(uuid))
        .filter(c.newest.eq(true))
        .one(db)
        .await?)
}

/// `lock`, then the current revision as the lock holder sees it.
pub async fn lock_current<E: Revisioned>(
    db: &impl ConnectionTrait,
    uuid: &str,
) -> Result<Option<E::Model>> {
    match lock_for_current::<E>(db, uuid).await? {
        Some(current) => Ok(current.one(db).await?),
        None => Ok(None),
    }
}

/// Takes `lock` and returns the read of the current revision as the lock
/// holder sees it, for callers that read more in the same statement (the
/// activities of a time); `None` when no such object exists. SQLite
/// skips the lock: its writers are serialised, and a statement saved is
/// a round trip to the driver's thread saved inside the writer's turn.
pub async fn lock_for_current<E: Revisioned>(
    db: &impl ConnectionTrait,
    uuid: &str,
) -> Result<Option<sea_orm::Select<E>>> {
    if takes_row_locks(db) && !lock::<E>(db, uuid).await? {
        return Ok(None);
    }
    let c = cols::<E>();
    Ok(Some(
        E::find()
            .filter(c.uuid.eq(uuid))
            .filter(c.newest.eq(true))
            .lock_exclusive(),
    ))
}

/// The current revisions (deleted or not) of the objects `uuids`.
pub async fn current_of<E: Revisioned>(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<Vec<E::Model>> {
    revisions_of::<E>(db, uuids, true).await
}

/// The older revisions of the objects `uuids`, newest first per object.
pub async fn parents_of<E: Revisioned>(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<Vec<E::Model>> {
    revisions_of::<E>(db, uuids, false).await
}

/// The current (`newest`) or the older revisions of the objects `uuids`,
/// by object, newest first; the uuids sent in chunks.
async fn revisions_of<E: Revisioned>(
    db: &impl ConnectionTrait,
    uuids: &[String],
    newest: bool,
) -> Result<Vec<E::Model>> {
    let c = cols::<E>();
    let mut rows = Vec::new();
    for chunk in uuids.chunks(CHUNK) {
        rows.extend(
            E::find()
                .filter(c.uuid.is_in(chunk.iter().cloned()))
                .filter(c.newest.eq(newest))
                .order_by_asc(c.uuid)
                .order_by_desc(c.revision)
                .all(db)
                .await?,
        );
    }
    Ok(rows)
}

/// Whether a current, undeleted object other than `except` (a uuid) is
/// named exactly `name` in the column `name_column` (names are unique
/// among current objects).
pub async fn name_taken<E: Revisioned>(
    db: &impl ConnectionTrait,
    name_column: E::Column,
    name: &str,
    except: Option<&str>,
) -> Result<bool> {
    let c = cols::<E>();
    let mut query = E::find()
        .filter(name_column.eq(name))
        .filter(c.newest.eq(true))
        .filter(c.deleted_at.is_null());
    if let Some(uuid) = except {
        query = query.filter(c.uuid.ne(uuid));
    }
    // Compared again here: MySQL's default collation ignores case.
    let names: Vec<String> = query
        .select_only()
        .column(name_column)
        .into_tuple()
        .all(db)
        .await?;
    Ok(names.iter().any(|n| n == name))
}

/// The condition "current, and undeleted unless `include_deleted`".
pub fn current_rows<E: Revisioned>(include_deleted: bool) -> Condition {
    let c = cols::<E>();
    let cond = Condition::all().add(c.newest.eq(true));
    if include_deleted {
        cond
    } else {
        cond.add(c.deleted_at.is_null())
    }
}

/// The condition "changed at or after `since`" (ms) on current rows: the
/// revision was made then (`sort_at` is its `updated_at`, else the
/// object's `created_at`) or the object was deleted then. Each side is a
/// range on an index led by `newest`.
pub fn changed_since<E: Revisioned>(since: i64) -> Condition {
    let c = cols::<E>();
    Condition::any()
        .add(c.sort_at.gte(since))
        .add(c.deleted_at.gte(since))
}

/// What a list sorts by first: `sort_at`, and with `since` the same
/// values as an expression. SQLite otherwise walks the whole list index
/// in order (to spare a sort) and filters every row, where the few
/// changed rows are found through both indexes of `changed_since` and
/// sorted (PostgreSQL and MariaDB choose that anyway).
pub fn sort_key<C: ColumnTrait>(sort_at: C, since: Option<i64>) -> SimpleExpr {
    match since {
        Some(_) => Expr::col(sort_at).add(0),
        None => Expr::col(sort_at),
    }
}

/// One page of the current revisions matching `only` (undeleted unless
/// `include_deleted`; with `since`, those changed at or after it, deleted
/// or not), in list order (`sort_at`, then id), and how many match in all.
pub async fn list<E: Revisioned>(
    db: &impl ConnectionTrait,
    include_deleted: bool,
    since: Option<i64>,
    only: Condition,
    page: Page,
) -> Result<(Vec<E::Model>, u64)> {
    let c = cols::<E>();
    let only = match since {
        Some(since) => only.add(changed_since::<E>(since)),
        None => only,
    };
    let query = E::find().filter(current_rows::<E>(include_deleted || since.is_some()).add(only));
    let total = query.clone().count(db).await?;
    let query = query
        .order_by_asc(sort_key(c.sort_at, since))
        .order_by_asc(c.id);
    Ok((paginate(query, page).all(db).await?, total))
}

/// Inserts a revision row and reads it back. A unique violation is
/// `Taken(taken)` when given: the one unique key the row can lose a race
/// for.
pub async fn insert<E, A>(
    db: &impl ConnectionTrait,
    row: A,
    taken: Option<Taken>,
) -> Result<E::Model>
where
    E: Revisioned<Model: sea_orm::IntoActiveModel<A>>,
    A: ActiveModelTrait<Entity = E> + Send,
{
    // One statement where the backend has `RETURNING` (SQLite,
    // PostgreSQL); the insert and a read by id elsewhere.
    let inserted = E::insert(row).exec_with_returning(db).await;
    match taken {
        Some(key) => inserted.map_err(taken_as(key)),
        None => Ok(inserted?),
    }
}

/// Makes the row `id` a former revision (the caller holds the `lock` and
/// inserts the next revision in the same transaction).
pub async fn retire<E: Revisioned>(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    db.execute(&retire_statement::<E>(id)).await?;
    Ok(())
}

/// The statement of `retire`, for callers that send it with others.
pub fn retire_statement<E: Revisioned>(id: i64) -> sea_orm::sea_query::UpdateStatement {
    let c = cols::<E>();
    let mut update = E::update_many().col_expr(c.newest, Expr::value(false));
    for (column, value) in E::retired() {
        update = update.col_expr(column, value);
    }
    sea_orm::QueryTrait::into_query(update.filter(c.id.eq(id)))
}

/// Soft-deletes the current revision `id`, setting `also` with it.
pub async fn mark_deleted<E: Revisioned>(
    db: &impl ConnectionTrait,
    id: i64,
    now: i64,
    also: Vec<(E::Column, SimpleExpr)>,
) -> Result<()> {
    let c = cols::<E>();
    let mut update = E::update_many().col_expr(c.deleted_at, Expr::value(now));
    for (column, value) in also {
        update = update.col_expr(column, value);
    }
    update.filter(c.id.eq(id)).exec(db).await?;
    Ok(())
}

/// Whether writers lock rows here: SQLite's writers are serialised instead
/// (`Db::write`), and it has no row locks.
pub fn takes_row_locks(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite
}

/// How many of the objects `uuids` are live (current, not deleted), as a
/// scalar subquery, and how many distinct objects were asked for: the
/// read of `hold_live` without its locks, for backends that take none
/// (`takes_row_locks`) to fold several into one statement.
pub fn live_count<E: Revisioned>(uuids: &[String]) -> (SimpleExpr, usize) {
    let c = cols::<E>();
    let mut wanted: Vec<&String> = uuids.iter().collect();
    wanted.sort();
    wanted.dedup();
    let count = sea_orm::sea_query::Query::select()
        .expr(Expr::col(c.id).count())
        .from(E::default())
        .and_where(c.uuid.is_in(wanted.iter().map(|u| u.to_string())))
        .and_where(c.newest.eq(true))
        .and_where(c.deleted_at.is_null())
        .to_owned();
    (
        SimpleExpr::SubQuery(None, Box::new(count.into())),
        wanted.len(),
    )
}

/// Holds the objects `uuids` against a concurrent delete, for a write that
/// is about to refer to them: shared locks on their revisions 1 (the rows
/// a delete locks exclusively before checking that nothing current uses
/// the object), then a locking read — which sees the latest committed
/// state even inside an older snapshot — of which are still live. True
/// when every one of them is. SQLite has no row locks (its writers are
/// serialised): there the read of which are live is all.
pub async fn hold_live<E: Revisioned>(db: &impl ConnectionTrait, uuids: &[String]) -> Result<bool> {
    let c = cols::<E>();
    let mut wanted: Vec<&String> = uuids.iter().collect();
    wanted.sort();
    wanted.dedup();
    let mut live = 0;
    let locks = takes_row_locks(db);
    for chunk in wanted.chunks(CHUNK) {
        let keys = chunk.iter().map(|u| u.to_string());
        if locks {
            E::find()
                .filter(c.uuid.is_in(keys.clone()))
                .filter(c.revision.eq(1))
                .lock_shared()
                .all(db)
                .await?;
        }
        live += E::find()
            .filter(c.uuid.is_in(keys))
            .filter(c.newest.eq(true))
            .filter(c.deleted_at.is_null())
            .lock_shared()
            .all(db)
            .await?
            .len();
    }
    Ok(live == wanted.len())
}
