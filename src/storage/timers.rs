//! Running timers: one row per user in `timers`, its activities in
//! `timer_activities`. Every write first locks the owner's `users` row
//! (`lock_owner`), so the timer operations of one user — two stops, a
//! start racing a stop — run one after the other on every backend.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
};

use super::entities::{timer, timer_activity, user};
use super::Result;
pub use timer::Model as TimerRow;

/// The fields of a timer to write.
#[derive(Debug, Clone)]
pub struct TimerFields {
    pub project_uuid: String,
    pub activity_uuids: Vec<String>,
    pub notes: Option<String>,
    pub issue_uri: Option<String>,
    pub started_at: i64,
}

/// Locks the user's row for the rest of the write transaction: the
/// per-user mutex of timer writes (a missing timer row cannot be locked).
/// SQLite writers are already serialised by `Db::write`.
pub async fn lock_owner(db: &impl ConnectionTrait, user_id: i64) -> Result<()> {
    Ok(user::Entity::find_by_id(user_id)
        .select_only()
        .column(user::Column::Id)
        .lock_exclusive()
        .into_tuple::<i64>()
        .one(db)
        .await
        .map(|_| ())?)
}

/// The user's running timer and its activity uuids, if one runs.
pub async fn find(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> Result<Option<(TimerRow, Vec<String>)>> {
    let Some(row) = timer::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(None);
    };
    let activities = timer_activity::Entity::find()
        .select_only()
        .column(timer_activity::Column::ActivityUuid)
        .filter(timer_activity::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(Some((row, activities)))
}

/// Stores the user's timer (none may run).
pub async fn insert(db: &impl ConnectionTrait, user_id: i64, fields: TimerFields) -> Result<()> {
    timer::Entity::insert(timer::ActiveModel {
        user_id: Set(user_id),
        project_uuid: Set(fields.project_uuid),
        notes: Set(fields.notes),
        issue_uri: Set(fields.issue_uri),
        started_at: Set(fields.started_at),
    })
    .exec_without_returning(db)
    .await?;
    insert_activities(db, user_id, fields.activity_uuids).await
}

async fn insert_activities(
    db: &impl ConnectionTrait,
    user_id: i64,
    mut uuids: Vec<String>,
) -> Result<()> {
    uuids.sort();
    uuids.dedup();
    if uuids.is_empty() {
        return Ok(());
    }
    Ok(
        timer_activity::Entity::insert_many(uuids.into_iter().map(|uuid| {
            timer_activity::ActiveModel {
                user_id: Set(user_id),
                activity_uuid: Set(uuid),
            }
        }))
        .exec_without_returning(db)
        .await
        .map(|_| ())?,
    )
}

/// Replaces the fields of the user's running timer.
pub async fn update(db: &impl ConnectionTrait, user_id: i64, fields: TimerFields) -> Result<()> {
    timer::Entity::update_many()
        .col_expr(timer::Column::ProjectUuid, fields.project_uuid.into())
        .col_expr(timer::Column::Notes, fields.notes.into())
        .col_expr(timer::Column::IssueUri, fields.issue_uri.into())
        .col_expr(timer::Column::StartedAt, fields.started_at.into())
        .filter(timer::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    timer_activity::Entity::delete_many()
        .filter(timer_activity::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    insert_activities(db, user_id, fields.activity_uuids).await
}

/// Removes the user's timer; false when none ran.
pub async fn remove(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    timer_activity::Entity::delete_many()
        .filter(timer_activity::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    let deleted = timer::Entity::delete_many()
        .filter(timer::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected > 0)
}

/// Whether a running timer is on the project `uuid` (its deletion is
/// refused while one is).
pub async fn uses_project(db: &impl ConnectionTrait, uuid: &str) -> Result<bool> {
    Ok(timer::Entity::find()
        .filter(timer::Column::ProjectUuid.eq(uuid))
        .count(db)
        .await?
        > 0)
}

/// Whether a running timer has the activity `uuid`.
pub async fn uses_activity(db: &impl ConnectionTrait, uuid: &str) -> Result<bool> {
    Ok(timer_activity::Entity::find()
        .filter(timer_activity::Column::ActivityUuid.eq(uuid))
        .count(db)
        .await?
        > 0)
}
