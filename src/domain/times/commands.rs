//! Writing times: create, update (a new revision) and soft delete, with
//! the references a time holds and who may write it. Names resolve
//! through the catalogue; the write holds what they name
//! (`storage::times::write_revision`), so a project or activity deleted
//! meanwhile is still refused (`dead_reference` says which).

use serde_json::{Map, Value};

use super::input::{read_input, Input};
use super::references::{
    dead_reference, default_activities, keep, require_member, resolve_activities, resolve_project,
    resolve_user,
};
use super::view::{written, TimeView};
use crate::domain::ids::TimeId;
use crate::domain::validate::Mode;
use crate::domain::Caller;
use crate::error::catalogue::{action, bad_object};
use crate::error::{Error, Result};
use crate::storage::times::{self as store, NewRevision, TimeRow, Written};
use crate::storage::{self, Catalogue, Db};

/// `POST /times`: validates and stores a new time (revision 1).
pub async fn create(db: &Db, caller: &Caller, object: &Map<String, Value>) -> Result<TimeView> {
    let input = &read_input(object, Mode::Create)?;
    // `read_input` saw every required field (else "missing").
    let username = input.user.clone().value().unwrap_or_default();
    let project_slug = &input.project.clone().value().unwrap_or_default();
    let activity_slugs = input.activities.clone().value().filter(|a| !a.is_empty());
    let catalogue = &db.catalogue().await?;
    let user = resolve_user(catalogue, &username)?;
    let project_uuid = &resolve_project(catalogue, "time", project_slug)?;
    let activity_uuids = &match activity_slugs {
        Some(slugs) => resolve_activities(catalogue, "time", &slugs)?,
        None => default_activities(catalogue, "time", project_uuid)?,
    };
    // Logging time for someone else is for site admins.
    if user.id != caller.id {
        caller.require(caller.is_admin(), &action::create_times_for(&user.username))?;
    }
    require_member(catalogue, caller, project_uuid, caller.id, project_slug)?;
    let now = storage::now_millis();
    let written_row = store::write_revision_alone(
        db,
        NewRevision {
            uuid: uuid::Uuid::new_v4().to_string(),
            revision: 1,
            user_id: user.id,
            project_uuid: project_uuid.clone(),
            duration: input.duration.clone().value().unwrap_or_default(),
            notes: input.notes.clone().value(),
            issue_uri: input.issue_uri.clone().value(),
            date_worked: input.date_worked.clone().value().unwrap_or_default(),
            created_at: now,
            updated_at: None,
            activity_uuids: activity_uuids.clone(),
        },
        None,
        Some(project_uuid),
        activity_uuids,
    )
    .await?;
    match written_row {
        Written::Row(row) => Ok(written(catalogue, &row, activity_uuids)),
        Written::Refused | Written::Stale => {
            Err(dead_reference(db.conn(), "time", Some(project_uuid), activity_uuids).await)
        }
    }
}

/// `POST /times/:uuid`: a partial update written as a new revision. Only
/// the time's user or a site admin may update it; only an admin may change
/// its user; moving it to another project needs the time's user to be a
/// member there (admins excepted). Updating a deleted time un-deletes it.
pub async fn update(
    db: &Db,
    caller: &Caller,
    uuid: &TimeId,
    object: &Map<String, Value>,
) -> Result<TimeView> {
    let input = &read_input(object, Mode::Update)?;
    if input.activities.as_ref().is_some_and(Vec::is_empty) {
        // A time always has at least one activity.
        return Err(Error::BadObject(bad_object::empty_array(
            "time",
            "activities",
        )));
    }
    let catalogue = &db.catalogue().await?;
    // Where a write can check that what it retires is still current
    // (SQLite), the current revision is read before the write, and the
    // new one written as one queued write; refused on what was read (or
    // no longer current), the update is decided again under the lock.
    if let Some((current, activities)) = store::current_before_write(db.conn(), uuid).await? {
        if let Ok(next) = next_revision(catalogue, caller, uuid, input, current, activities) {
            let moved = next.moved.as_deref();
            let written_row =
                store::write_revision_alone(db, next.new, Some(next.retire), moved, &next.added);
            if let Written::Row(row) = written_row.await? {
                return Ok(written(catalogue, &row, &next.activity_uuids));
            }
        }
    }
    db.write(|tx| async move {
        let (current, activities) = store::lock_current(&tx, uuid)
            .await?
            .ok_or(Error::NotFound("time"))?;
        let next = next_revision(catalogue, caller, uuid, input, current, activities)?;
        let moved = next.moved.as_deref();
        match store::write_revision(&tx, next.new, Some(next.retire), moved, &next.added).await? {
            Written::Row(row) => Ok(written(catalogue, &row, &next.activity_uuids)),
            Written::Refused => Err(dead_reference(&tx, "time", moved, &next.added).await),
            Written::Stale => Err(Error::NotFound("time")),
        }
    })
    .await
}

/// The revision an update writes after `current`, once allowed.
struct NextRevision {
    new: NewRevision,
    /// The row it retires.
    retire: i64,
    /// The project it moves to, if it moves.
    moved: Option<String>,
    /// The activities it adds.
    added: Vec<String>,
    activity_uuids: Vec<String>,
}

/// Decides an update of the time `current` (with `current_activities`):
/// the names it gives, resolved, and who may make it.
fn next_revision(
    catalogue: &Catalogue,
    caller: &Caller,
    uuid: &str,
    input: &Input,
    current: TimeRow,
    current_activities: Vec<String>,
) -> Result<NextRevision> {
    let user_id = match input.user.as_ref() {
        Some(name) => resolve_user(catalogue, name)?.id,
        None => current.user_id,
    };
    let project_slug = input.project.clone().value();
    let project_uuid = match &project_slug {
        Some(slug) => resolve_project(catalogue, "time", slug)?,
        None => current.project_uuid.clone(),
    };
    let activity_uuids = match input.activities.as_ref() {
        Some(slugs) => resolve_activities(catalogue, "time", slugs)?,
        None => current_activities.clone(),
    };
    let added: Vec<String> = activity_uuids
        .iter()
        .filter(|a| !current_activities.contains(a))
        .cloned()
        .collect();
    let moved = (project_uuid != current.project_uuid).then(|| project_uuid.clone());
    // Permissions that depend on the time: its user or an admin modifies
    // it; only an admin gives it to another.
    let owner = current.user_id == caller.id && user_id == current.user_id;
    caller.require(owner || caller.is_admin(), &action::modify_time(uuid))?;
    if moved.is_some() {
        let slug = project_slug.as_deref().unwrap_or_default();
        require_member(catalogue, caller, &project_uuid, user_id, slug)?;
    }
    Ok(NextRevision {
        new: NewRevision {
            uuid: current.uuid.clone(),
            revision: current.revision + 1,
            user_id,
            project_uuid,
            duration: input.duration.clone().value().unwrap_or(current.duration),
            notes: keep(input.notes.clone(), &current.notes),
            issue_uri: keep(input.issue_uri.clone(), &current.issue_uri),
            date_worked: input
                .date_worked
                .clone()
                .value()
                .unwrap_or(current.date_worked),
            created_at: current.created_at,
            updated_at: Some(storage::now_millis()),
            activity_uuids: activity_uuids.clone(),
        },
        retire: current.id,
        moved,
        added,
        activity_uuids,
    })
}

/// `DELETE /times/:uuid`: soft-deletes the current revision. Allowed to
/// the time's user, site managers and site admins.
pub async fn delete(db: &Db, caller: &Caller, uuid: &TimeId) -> Result<()> {
    db.write(|tx| async move {
        let (current, _) = store::lock_current(&tx, uuid)
            .await?
            .filter(|(t, _)| t.deleted_at.is_none())
            .ok_or(Error::NotFound("time"))?;
        caller.require(
            current.user_id == caller.id || caller.is_manager(),
            &action::delete_time(uuid),
        )?;
        store::mark_deleted(&tx, current.id, storage::now_millis()).await?;
        Ok(())
    })
    .await
}
