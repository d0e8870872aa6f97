//! Activities: one row per revision (see `revisions`); `live_slug`
//! (unique) is set only on the current, undeleted revision, so it says who
//! owns a slug.

use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};

pub use super::entities::activity::Model as ActivityRow;
use super::entities::{activity, time, time_activity};
use super::revisions::{self, RevisionColumns, Revisioned};
use super::{Page, Result, Taken};

impl Revisioned for activity::Entity {
    const COLUMNS: RevisionColumns<activity::Column> = RevisionColumns {
        id: activity::Column::Id,
        uuid: activity::Column::Uuid,
        revision: activity::Column::Revision,
        newest: activity::Column::Newest,
        deleted_at: activity::Column::DeletedAt,
        sort_at: activity::Column::SortAt,
    };
    const NAME: &'static str = "activity";

    /// A former revision releases the slug.
    fn retired() -> Vec<(activity::Column, SimpleExpr)> {
        vec![(activity::Column::LiveSlug, no_slug())]
    }
}

fn no_slug() -> SimpleExpr {
    Expr::value(Option::<String>::None)
}

/// The current revisions (undeleted unless `include_deleted`; with
/// `since`, those changed at or after it, deleted or not), one page of
/// them in list order, and how many there are in all.
pub async fn list(
    db: &impl ConnectionTrait,
    include_deleted: bool,
    since: Option<i64>,
    page: Page,
) -> Result<(Vec<ActivityRow>, u64)> {
    revisions::list::<activity::Entity>(db, include_deleted, since, Condition::all(), page).await
}

/// The current, undeleted revision that owns `slug`.
pub async fn find_by_slug(db: &impl ConnectionTrait, slug: &str) -> Result<Option<ActivityRow>> {
    Ok(activity::Entity::find()
        .filter(activity::Column::LiveSlug.eq(slug))
        .one(db)
        .await?)
}

/// True when the activity `uuid` exists and is not deleted.
pub async fn is_live(db: &impl ConnectionTrait, uuid: &str) -> Result<bool> {
    let live = activity::Entity::find()
        .filter(activity::Column::Uuid.eq(uuid))
        .filter(activity::Column::LiveSlug.is_not_null())
        .count(db)
        .await?;
    Ok(live > 0)
}

/// The current revisions (deleted or not) of the activities `uuids`.
pub async fn current_of(db: &impl ConnectionTrait, uuids: &[String]) -> Result<Vec<ActivityRow>> {
    revisions::current_of::<activity::Entity>(db, uuids).await
}

/// The older revisions of the activities `uuids`, newest first per uuid.
pub async fn parents_of(db: &impl ConnectionTrait, uuids: &[String]) -> Result<Vec<ActivityRow>> {
    revisions::parents_of::<activity::Entity>(db, uuids).await
}

/// Serialises writers of one activity (`revisions::lock`). Returns false
/// when the activity does not exist.
pub async fn lock(db: &impl ConnectionTrait, uuid: &str) -> Result<bool> {
    revisions::lock::<activity::Entity>(db, uuid).await
}

/// The current revision of the activity `uuid`.
pub async fn current(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<ActivityRow>> {
    revisions::current::<activity::Entity>(db, uuid).await
}

/// A revision with `name` owning `slug`; a slug owned meanwhile by another
/// activity is `Taken::Slugs`.
fn revision(uuid: &str, revision: i32, name: &str, slug: &str) -> activity::ActiveModel {
    activity::ActiveModel {
        uuid: Set(uuid.to_owned()),
        revision: Set(revision),
        newest: Set(true),
        name: Set(name.to_owned()),
        slug: Set(Some(slug.to_owned())),
        live_slug: Set(Some(slug.to_owned())),
        deleted_at: Set(None),
        ..Default::default()
    }
}

/// Inserts the first revision of a new activity.
pub async fn create(
    db: &impl ConnectionTrait,
    uuid: &str,
    name: &str,
    slug: &str,
    now: i64,
) -> Result<ActivityRow> {
    let row = activity::ActiveModel {
        created_at: Set(now),
        updated_at: Set(None),
        sort_at: Set(now),
        ..revision(uuid, 1, name, slug)
    };
    revisions::insert(db, row, Some(Taken::Slugs(vec![slug.to_owned()]))).await
}

/// Writes the next revision of `current` with `name` and `slug`: the old
/// row is kept (no longer newest, its slug released) and the new one owns
/// the slug. Caller holds the `lock`.
pub async fn revise(
    db: &impl ConnectionTrait,
    current: &ActivityRow,
    name: &str,
    slug: &str,
    now: i64,
) -> Result<ActivityRow> {
    revisions::retire::<activity::Entity>(db, current.id).await?;
    let row = activity::ActiveModel {
        created_at: Set(current.created_at),
        updated_at: Set(Some(now)),
        sort_at: Set(now),
        ..revision(&current.uuid, current.revision + 1, name, slug)
    };
    revisions::insert(db, row, Some(Taken::Slugs(vec![slug.to_owned()]))).await
}

/// Soft-deletes the current revision `id` and frees its slug.
pub async fn soft_delete(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<()> {
    let freed = vec![
        (activity::Column::Slug, no_slug()),
        (activity::Column::LiveSlug, no_slug()),
    ];
    revisions::mark_deleted::<activity::Entity>(db, id, now, freed).await
}

/// True when a current time (newest revision, not deleted) has the activity.
pub async fn used_by_current_time(db: &impl ConnectionTrait, uuid: &str) -> Result<bool> {
    let current_times = Query::select()
        .column(time::Column::Id)
        .from(time::Entity)
        .cond_where(
            Condition::all()
                .add(time::Column::Newest.eq(true))
                .add(time::Column::DeletedAt.is_null()),
        )
        .to_owned();
    let count = time_activity::Entity::find()
        .filter(time_activity::Column::ActivityUuid.eq(uuid))
        .filter(time_activity::Column::TimeId.in_subquery(current_times))
        .count(db)
        .await?;
    Ok(count > 0)
}

/// Whether a current, undeleted activity other than `except` (a uuid) is
/// named exactly `name` (names are unique among current activities).
pub async fn name_taken(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<&str>,
) -> Result<bool> {
    revisions::name_taken::<activity::Entity>(db, activity::Column::Name, name, except).await
}
