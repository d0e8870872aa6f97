//! Activities: one row per revision; `live_slug` (unique) is set only on
//! the current, undeleted revision, so it says who owns a slug.

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

pub use super::entities::activity::Model as ActivityRow;
use super::entities::{activity, time, time_activity};
use crate::domain::Page;

/// The current revisions (undeleted unless `include_deleted`), one page of
/// them in list order, and how many there are in all.
pub async fn list(
    db: &impl ConnectionTrait,
    include_deleted: bool,
    page: Page,
) -> Result<(Vec<ActivityRow>, u64), DbErr> {
    let mut query = activity::Entity::find().filter(activity::Column::Newest.eq(true));
    if !include_deleted {
        query = query.filter(activity::Column::DeletedAt.is_null());
    }
    let total = query.clone().count(db).await?;
    let query = query
        .order_by_asc(activity::Column::SortAt)
        .order_by_asc(activity::Column::Id);
    Ok((super::paginate(query, page).all(db).await?, total))
}

/// The current, undeleted revision that owns `slug`.
pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<ActivityRow>, DbErr> {
    activity::Entity::find()
        .filter(activity::Column::LiveSlug.eq(slug))
        .one(db)
        .await
}

/// The current revisions (deleted or not) of the activities `uuids`.
pub async fn current_of(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<Vec<ActivityRow>, DbErr> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    activity::Entity::find()
        .filter(activity::Column::Uuid.is_in(uuids.iter().cloned()))
        .filter(activity::Column::Newest.eq(true))
        .all(db)
        .await
}

/// The older revisions of the activities `uuids`, newest first per uuid.
pub async fn parents_of(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<Vec<ActivityRow>, DbErr> {
    if uuids.is_empty() {
        return Ok(Vec::new());
    }
    activity::Entity::find()
        .filter(activity::Column::Uuid.is_in(uuids.iter().cloned()))
        .filter(activity::Column::Newest.eq(false))
        .order_by_asc(activity::Column::Uuid)
        .order_by_desc(activity::Column::Revision)
        .all(db)
        .await
}

/// Serialises writers of one activity: locks its first revision, a row
/// whose key never changes (a no-op on SQLite, whose writers
/// `begin_write` already serialises). Run it as the first statement of the
/// transaction so that later reads (MySQL's snapshot) see the last
/// committed revision. Returns false when the activity does not exist.
pub async fn lock(db: &impl ConnectionTrait, uuid: &str) -> Result<bool, DbErr> {
    Ok(activity::Entity::find()
        .filter(activity::Column::Uuid.eq(uuid))
        .filter(activity::Column::Revision.eq(1))
        .lock_exclusive()
        .one(db)
        .await?
        .is_some())
}

/// The current revision of the activity `uuid`.
pub async fn current(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<ActivityRow>, DbErr> {
    activity::Entity::find()
        .filter(activity::Column::Uuid.eq(uuid))
        .filter(activity::Column::Newest.eq(true))
        .one(db)
        .await
}

/// Inserts the first revision of a new activity.
pub async fn create(
    db: &impl ConnectionTrait,
    uuid: &str,
    name: &str,
    slug: &str,
    now: i64,
) -> Result<ActivityRow, DbErr> {
    insert(
        db,
        activity::ActiveModel {
            uuid: Set(uuid.to_owned()),
            revision: Set(1),
            newest: Set(true),
            name: Set(name.to_owned()),
            slug: Set(Some(slug.to_owned())),
            live_slug: Set(Some(slug.to_owned())),
            created_at: Set(now),
            updated_at: Set(None),
            deleted_at: Set(None),
            sort_at: Set(now),
            ..Default::default()
        },
    )
    .await
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
) -> Result<ActivityRow, DbErr> {
    activity::Entity::update_many()
        .col_expr(activity::Column::Newest, Expr::value(false))
        .col_expr(
            activity::Column::LiveSlug,
            Expr::value(Option::<String>::None),
        )
        .filter(activity::Column::Id.eq(current.id))
        .exec(db)
        .await?;
    insert(
        db,
        activity::ActiveModel {
            uuid: Set(current.uuid.clone()),
            revision: Set(current.revision + 1),
            newest: Set(true),
            name: Set(name.to_owned()),
            slug: Set(Some(slug.to_owned())),
            live_slug: Set(Some(slug.to_owned())),
            created_at: Set(current.created_at),
            updated_at: Set(Some(now)),
            deleted_at: Set(None),
            sort_at: Set(now),
            ..Default::default()
        },
    )
    .await
}

/// Soft-deletes the current revision `id` and frees its slug.
pub async fn soft_delete(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<(), DbErr> {
    activity::Entity::update_many()
        .col_expr(activity::Column::DeletedAt, Expr::value(now))
        .col_expr(activity::Column::Slug, Expr::value(Option::<String>::None))
        .col_expr(
            activity::Column::LiveSlug,
            Expr::value(Option::<String>::None),
        )
        .filter(activity::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// True when a current time (newest revision, not deleted) has the activity.
pub async fn used_by_current_time(db: &impl ConnectionTrait, uuid: &str) -> Result<bool, DbErr> {
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

async fn insert(
    db: &impl ConnectionTrait,
    row: activity::ActiveModel,
) -> Result<ActivityRow, DbErr> {
    let id = activity::Entity::insert(row).exec(db).await?.last_insert_id;
    activity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("inserted activity".into()))
}

/// Whether a current, undeleted activity other than `except` (a uuid) is
/// named exactly `name` (names are unique among current activities).
pub async fn name_taken(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<&str>,
) -> Result<bool, DbErr> {
    let mut query = activity::Entity::find()
        .filter(activity::Column::Name.eq(name))
        .filter(activity::Column::Newest.eq(true))
        .filter(activity::Column::DeletedAt.is_null());
    if let Some(uuid) = except {
        query = query.filter(activity::Column::Uuid.ne(uuid));
    }
    // Compared again here: MySQL's default collation ignores case.
    let names: Vec<String> = query
        .select_only()
        .column(activity::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(names.iter().any(|n| n == name))
}
