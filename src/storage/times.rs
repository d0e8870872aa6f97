//! Time entries: the filtered, visibility-limited list; revision rows and
//! their activities; and the lookups a time needs of users, projects and
//! activities (by slug → uuid, and back to current slugs for display).
//!
//! Related rows are always loaded for a whole page at once with `IN (...)`
//! queries (split into chunks of `CHUNK` keys so that no backend's
//! bind-parameter limit is reached), never one query per time.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

pub use super::entities::time::Model as TimeRow;
use super::entities::{activity, project, project_slug, project_user, time, time_activity, user};
use super::users::UserRow;
use super::{Result, CHUNK};

/// What `GET /times` selects. Every field is evaluated in SQL.
#[derive(Debug, Clone, Default)]
pub struct TimeFilter {
    /// Only times of these users (`None`: any user).
    pub user_ids: Option<Vec<i64>>,
    /// Only times of these projects, by uuid.
    pub project_uuids: Option<Vec<String>>,
    /// Only times with at least one of these activities, by uuid.
    pub activity_uuids: Option<Vec<String>>,
    /// `date_worked` on or after.
    pub start: Option<NaiveDate>,
    /// `date_worked` on or before.
    pub end: Option<NaiveDate>,
    pub include_deleted: bool,
    /// `Some(user id)`: only the times that user may see (their own, and
    /// those of projects where they are spectator or manager); `None`: all.
    pub visible_to: Option<i64>,
}

impl TimeFilter {
    /// The SQL condition on `times` rows (shared with reports).
    pub fn condition(&self) -> Condition {
        let mut cond = Condition::all().add(time::Column::Newest.eq(true));
        if !self.include_deleted {
            cond = cond.add(time::Column::DeletedAt.is_null());
        }
        if let Some(ids) = &self.user_ids {
            cond = cond.add(time::Column::UserId.is_in(ids.clone()));
        }
        if let Some(uuids) = &self.project_uuids {
            cond = cond.add(time::Column::ProjectUuid.is_in(uuids.clone()));
        }
        if let Some(uuids) = &self.activity_uuids {
            cond = cond.add(
                time::Column::Id.in_subquery(
                    Query::select()
                        .column(time_activity::Column::TimeId)
                        .from(time_activity::Entity)
                        .and_where(time_activity::Column::ActivityUuid.is_in(uuids.clone()))
                        .to_owned(),
                ),
            );
        }
        if let Some(start) = self.start {
            cond = cond.add(time::Column::DateWorked.gte(start));
        }
        if let Some(end) = self.end {
            cond = cond.add(time::Column::DateWorked.lte(end));
        }
        if let Some(viewer) = self.visible_to {
            cond = cond.add(
                Condition::any()
                    .add(time::Column::UserId.eq(viewer))
                    .add(time::Column::ProjectUuid.in_subquery(watched_projects(viewer))),
            );
        }
        cond
    }
}

/// `SELECT project_uuid FROM project_users WHERE user_id = ? AND (spectator OR manager)`.
fn watched_projects(user_id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(project_user::Column::ProjectUuid)
        .from(project_user::Entity)
        .and_where(project_user::Column::UserId.eq(user_id))
        .cond_where(
            Condition::any()
                .add(project_user::Column::Spectator.eq(true))
                .add(project_user::Column::Manager.eq(true)),
        )
        .to_owned()
}

/// One page of the current revisions matching `filter`, in list order
/// (`sort_at`, then id).
pub async fn page(
    db: &impl ConnectionTrait,
    filter: &TimeFilter,
    page: super::Page,
) -> Result<Vec<TimeRow>> {
    let select = time::Entity::find()
        .filter(filter.condition())
        .order_by(time::Column::SortAt, Order::Asc)
        .order_by(time::Column::Id, Order::Asc);
    Ok(super::paginate(select, page).all(db).await?)
}

/// Holds the project and activities a time is about to refer to, against
/// a concurrent delete: shared locks on their first revisions (the rows a
/// delete locks exclusively before checking that no current time uses the
/// object), then a locking read — which sees the latest committed state
/// even inside an older snapshot — of which of them are still live.
/// Returns whether the project (if any) is live and whether every activity
/// is. On SQLite the locks are no-ops: its writers are serialised.
pub async fn hold_references(
    db: &impl ConnectionTrait,
    project_uuid: Option<&str>,
    activity_uuids: &[String],
) -> Result<(bool, bool)> {
    let projects: Vec<&str> = project_uuid.into_iter().collect();
    project::Entity::find()
        .filter(project::Column::Uuid.is_in(projects.iter().copied()))
        .filter(project::Column::Revision.eq(1))
        .lock_shared()
        .all(db)
        .await?;
    activity::Entity::find()
        .filter(activity::Column::Uuid.is_in(activity_uuids.iter().cloned()))
        .filter(activity::Column::Revision.eq(1))
        .lock_shared()
        .all(db)
        .await?;
    let live_project = project::Entity::find()
        .filter(project::Column::Uuid.is_in(projects.iter().copied()))
        .filter(project::Column::Newest.eq(true))
        .filter(project::Column::DeletedAt.is_null())
        .lock_shared()
        .all(db)
        .await?;
    let live_activities = activity::Entity::find()
        .filter(activity::Column::Uuid.is_in(activity_uuids.iter().cloned()))
        .filter(activity::Column::Newest.eq(true))
        .filter(activity::Column::DeletedAt.is_null())
        .lock_shared()
        .all(db)
        .await?;
    let mut wanted: Vec<&String> = activity_uuids.iter().collect();
    wanted.sort();
    wanted.dedup();
    Ok((
        live_project.len() == projects.len(),
        live_activities.len() == wanted.len(),
    ))
}

/// How many current revisions match `filter`.
pub async fn count(db: &impl ConnectionTrait, filter: &TimeFilter) -> Result<u64> {
    Ok(time::Entity::find()
        .filter(filter.condition())
        .count(db)
        .await?)
}

/// The current revision of the time `uuid`, deleted or not.
pub async fn find_current(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<TimeRow>> {
    Ok(time::Entity::find()
        .filter(time::Column::Uuid.eq(uuid))
        .filter(time::Column::Newest.eq(true))
        .one(db)
        .await?)
}

/// The current revision of the time `uuid`, locked for the rest of the
/// write transaction so that concurrent writers of one time are serialised.
///
/// The first revision is locked first: it never changes identity, so it is
/// a stable per-time mutex (locking "the newest row" alone would let a
/// waiter wake up on a row that is no longer newest). The newest row is
/// then read by a new locking statement, which sees what the previous
/// holder committed (PostgreSQL: new snapshot per statement; MySQL: locking
/// reads see the latest commit). SQLite writers are already serialised by
/// `Db::begin_write`, and sea-query omits `FOR UPDATE` there.
pub async fn lock_current(db: &impl ConnectionTrait, uuid: &str) -> Result<Option<TimeRow>> {
    let first = time::Entity::find()
        .filter(time::Column::Uuid.eq(uuid))
        .filter(time::Column::Revision.eq(1))
        .lock_exclusive()
        .one(db)
        .await?;
    if first.is_none() {
        return Ok(None);
    }
    Ok(time::Entity::find()
        .filter(time::Column::Uuid.eq(uuid))
        .filter(time::Column::Newest.eq(true))
        .lock_exclusive()
        .one(db)
        .await?)
}

/// The older revisions of the times `uuids`, newest first per time.
pub async fn parents(db: &impl ConnectionTrait, uuids: &[String]) -> Result<Vec<TimeRow>> {
    let mut rows = Vec::new();
    for chunk in uuids.chunks(CHUNK) {
        rows.extend(
            time::Entity::find()
                .filter(time::Column::Uuid.is_in(chunk.to_vec()))
                .filter(time::Column::Newest.eq(false))
                .order_by(time::Column::Revision, Order::Desc)
                .all(db)
                .await?,
        );
    }
    Ok(rows)
}

/// Usernames (as stored) of the users `ids`.
pub async fn usernames(db: &impl ConnectionTrait, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(i64, String)> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .column(user::Column::Username)
            .filter(user::Column::Id.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// The users whose usernames match `names` in any letter case (deleted
/// users included: their times remain).
pub async fn users_by_names(db: &impl ConnectionTrait, names: &[String]) -> Result<Vec<UserRow>> {
    let keys: Vec<String> = names.iter().map(|n| super::username_key(n)).collect();
    let mut rows = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        rows.extend(
            user::Entity::find()
                .filter(user::Column::UsernameKey.is_in(chunk.to_vec()))
                .all(db)
                .await?,
        );
    }
    Ok(rows)
}

/// The current slugs of the projects `uuids`, sorted, by project uuid
/// (a deleted project has none).
pub async fn project_slugs(
    db: &impl ConnectionTrait,
    uuids: &[String],
) -> Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in uuids.chunks(CHUNK) {
        for row in project_slug::Entity::find()
            .filter(project_slug::Column::ProjectUuid.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.entry(row.project_uuid).or_default().push(row.slug);
        }
    }
    for slugs in out.values_mut() {
        slugs.sort();
    }
    Ok(out)
}

/// The project uuid of each of `slugs` that is a current project slug.
pub async fn project_uuids_by_slugs(
    db: &impl ConnectionTrait,
    slugs: &[String],
) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in slugs.chunks(CHUNK) {
        for row in project_slug::Entity::find()
            .filter(project_slug::Column::Slug.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.insert(row.slug, row.project_uuid);
        }
    }
    Ok(out)
}

/// The activity uuid of each of `slugs` that is the slug of a current,
/// undeleted activity.
pub async fn activity_uuids_by_slugs(
    db: &impl ConnectionTrait,
    slugs: &[String],
) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in slugs.chunks(CHUNK) {
        let rows: Vec<(Option<String>, String)> = activity::Entity::find()
            .select_only()
            .column(activity::Column::LiveSlug)
            .column(activity::Column::Uuid)
            .filter(activity::Column::LiveSlug.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows.into_iter().filter_map(|(s, u)| Some((s?, u))));
    }
    Ok(out)
}

/// The project's default activity, if it has one that still exists.
pub async fn default_activity(
    db: &impl ConnectionTrait,
    project_uuid: &str,
) -> Result<Option<String>> {
    let default: Option<Option<String>> = project::Entity::find()
        .select_only()
        .column(project::Column::DefaultActivity)
        .filter(project::Column::Uuid.eq(project_uuid))
        .filter(project::Column::Newest.eq(true))
        .into_tuple()
        .one(db)
        .await?;
    let Some(uuid) = default.flatten() else {
        return Ok(None);
    };
    let live = activity::Entity::find()
        .filter(activity::Column::Uuid.eq(uuid.clone()))
        .filter(activity::Column::LiveSlug.is_not_null())
        .count(db)
        .await?;
    Ok((live > 0).then_some(uuid))
}

/// The roles of user `user_id` on project `project_uuid`, if any.
pub async fn project_role(
    db: &impl ConnectionTrait,
    project_uuid: &str,
    user_id: i64,
) -> Result<Option<project_user::Model>> {
    Ok(
        project_user::Entity::find_by_id((project_uuid.to_owned(), user_id))
            .one(db)
            .await?,
    )
}

/// The current slugs of the activities of each time row `time_ids`,
/// sorted. Deleted activities (no live slug) are left out.
pub async fn activity_slugs(
    db: &impl ConnectionTrait,
    time_ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>> {
    let mut links = Vec::new();
    for chunk in time_ids.chunks(CHUNK) {
        links.extend(
            time_activity::Entity::find()
                .filter(time_activity::Column::TimeId.is_in(chunk.to_vec()))
                .all(db)
                .await?,
        );
    }
    let mut uuids: Vec<String> = links.iter().map(|l| l.activity_uuid.clone()).collect();
    uuids.sort();
    uuids.dedup();
    let mut slug_of: HashMap<String, String> = HashMap::new();
    for chunk in uuids.chunks(CHUNK) {
        let rows: Vec<(String, Option<String>)> = activity::Entity::find()
            .select_only()
            .column(activity::Column::Uuid)
            .column(activity::Column::LiveSlug)
            .filter(activity::Column::Uuid.is_in(chunk.to_vec()))
            .filter(activity::Column::LiveSlug.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        slug_of.extend(rows.into_iter().filter_map(|(u, s)| Some((u, s?))));
    }
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for link in links {
        if let Some(slug) = slug_of.get(&link.activity_uuid) {
            out.entry(link.time_id).or_default().push(slug.clone());
        }
    }
    for slugs in out.values_mut() {
        slugs.sort();
    }
    Ok(out)
}

/// The activity uuids of one time row (to carry them to a new revision).
pub async fn activity_uuids_of(db: &impl ConnectionTrait, time_id: i64) -> Result<Vec<String>> {
    Ok(time_activity::Entity::find()
        .select_only()
        .column(time_activity::Column::ActivityUuid)
        .filter(time_activity::Column::TimeId.eq(time_id))
        .into_tuple()
        .all(db)
        .await?)
}

/// The fields of one revision row to write.
#[derive(Debug, Clone)]
pub struct NewRevision {
    pub uuid: String,
    pub revision: i32,
    pub user_id: i64,
    pub project_uuid: String,
    pub duration: i32,
    pub notes: Option<String>,
    pub issue_uri: Option<String>,
    pub date_worked: NaiveDate,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub activity_uuids: Vec<String>,
}

/// Inserts a revision as the current one, with its activities. The caller
/// has retired the previous current revision (if any) in the same transaction.
pub async fn insert_revision(db: &impl ConnectionTrait, new: NewRevision) -> Result<TimeRow> {
    let row = time::ActiveModel {
        uuid: Set(new.uuid),
        revision: Set(new.revision),
        newest: Set(true),
        user_id: Set(new.user_id),
        project_uuid: Set(new.project_uuid),
        duration: Set(new.duration),
        notes: Set(new.notes),
        issue_uri: Set(new.issue_uri),
        date_worked: Set(new.date_worked),
        created_at: Set(new.created_at),
        updated_at: Set(new.updated_at),
        deleted_at: Set(None),
        sort_at: Set(new.updated_at.unwrap_or(new.created_at)),
        ..Default::default()
    };
    let id = time::Entity::insert(row).exec(db).await?.last_insert_id;
    if !new.activity_uuids.is_empty() {
        time_activity::Entity::insert_many(new.activity_uuids.into_iter().map(|uuid| {
            time_activity::ActiveModel {
                time_id: Set(id),
                activity_uuid: Set(uuid),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    time::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| super::Error::missing("inserted time"))
}

/// Marks the row `id` as no longer the current revision.
pub async fn retire(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    Ok(time::Entity::update_many()
        .col_expr(time::Column::Newest, false.into())
        .filter(time::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())?)
}

/// Soft-deletes the row `id` (the current revision).
pub async fn mark_deleted(db: &impl ConnectionTrait, id: i64, now: i64) -> Result<()> {
    Ok(time::Entity::update_many()
        .col_expr(time::Column::DeletedAt, now.into())
        .filter(time::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())?)
}
