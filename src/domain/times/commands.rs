//! Writing times: create, update (a new revision) and soft delete, with
//! the references a time holds and who may write it.

use crate::storage::Conn;
use serde_json::{Map, Value};

use super::input::{parse_uuid, read_input};
use super::view::{written, TimeView};
use crate::domain::validate::{is_username, Field, Mode};
use crate::domain::Caller;
use crate::error::catalogue::{action, bad_object};
use crate::error::{Error, Result};
use crate::storage::times::{self as store, NewRevision};
use crate::storage::users::UserRow;
use crate::storage::{self, Catalogue, Db};

/// The user a time is for: an existing, undeleted user, or 409.
fn resolve_user<'c>(catalogue: &'c Catalogue, name: &str) -> Result<&'c UserRow> {
    let invalid = || Error::foreign_key("time", "user");
    if !is_username(name) {
        return Err(invalid());
    }
    catalogue
        .user_by_name(name)
        .filter(|u| u.deleted_at.is_none())
        .ok_or_else(invalid)
}

fn resolve_project(catalogue: &Catalogue, slug: &str) -> Result<String> {
    catalogue
        .project_uuid_by_slug(slug)
        .map(str::to_owned)
        .ok_or(Error::foreign_key("time", "project"))
}

fn resolve_activities(catalogue: &Catalogue, slugs: &[String]) -> Result<Vec<String>> {
    slugs
        .iter()
        .map(|s| {
            catalogue
                .activity_by_slug(s)
                .map(|a| a.uuid.clone())
                .ok_or(Error::foreign_key("time", "activities"))
        })
        .collect()
}

/// The project's default activity, unless it is deleted.
fn default_activity(catalogue: &Catalogue, project_uuid: &str) -> Option<String> {
    catalogue
        .project(project_uuid)?
        .default_activity
        .clone()
        .filter(|uuid| catalogue.live_slug(uuid).is_some())
}

/// Keeps the project and activities a write newly points a time at from
/// being deleted under it (see `store::hold_references`); one already
/// deleted is an invalid reference. References a time already had need no
/// hold: a delete sees the time's current revision and refuses.
async fn hold_references(
    conn: &impl Conn,
    project_uuid: Option<&str>,
    activity_uuids: &[String],
) -> Result<()> {
    match store::hold_references(conn, project_uuid, activity_uuids).await? {
        (true, true) => Ok(()),
        (false, _) => Err(Error::foreign_key("time", "project")),
        (true, false) => Err(Error::foreign_key("time", "activities")),
    }
}

/// Whether `user_id` is a member of the project.
fn is_member(catalogue: &Catalogue, project_uuid: &str, user_id: i64) -> bool {
    catalogue
        .roles_of(project_uuid, user_id)
        .is_some_and(|r| r.member)
}

/// `POST /times`: validates and stores a new time (revision 1).
pub async fn create(db: &Db, caller: &Caller, object: &Map<String, Value>) -> Result<TimeView> {
    let input = read_input(object, Mode::Create)?;
    // `read_input` saw every required field (else "missing").
    let duration = input.duration.value().unwrap_or_default();
    let username = input.user.value().unwrap_or_default();
    let project_slug = input.project.value().unwrap_or_default();
    let date_worked = input.date_worked.value().unwrap_or_default();
    let activity_slugs = input.activities.value().filter(|a| !a.is_empty());

    // Names resolve through the catalogue; the write holds what they name
    // (`hold_references`), so a project or activity deleted meanwhile is
    // still refused.
    let catalogue = db.catalogue().await?;
    let user = resolve_user(&catalogue, &username)?;
    let project_uuid = resolve_project(&catalogue, &project_slug)?;
    let activity_uuids = match activity_slugs {
        Some(slugs) => resolve_activities(&catalogue, &slugs)?,
        None => match default_activity(&catalogue, &project_uuid) {
            Some(default) => vec![default],
            None => return Err(Error::missing_field("time", "activities")),
        },
    };
    let tx = db.begin_write().await?;
    hold_references(&*tx, Some(&project_uuid), &activity_uuids).await?;
    // Permissions last: logging time for someone else is for site admins.
    if user.id != caller.id {
        caller.require(caller.is_admin(), &action::create_times_for(&user.username))?;
    }
    if !caller.is_admin() {
        let member = is_member(&catalogue, &project_uuid, caller.id);
        caller.require(member, &action::create_times_on(&project_slug))?;
    }
    let now = storage::now_millis();
    let row = store::insert_revision(
        &*tx,
        NewRevision {
            uuid: uuid::Uuid::new_v4().to_string(),
            revision: 1,
            user_id: user.id,
            project_uuid,
            duration,
            notes: input.notes.value(),
            issue_uri: input.issue_uri.value(),
            date_worked,
            created_at: now,
            updated_at: None,
            activity_uuids: activity_uuids.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(written(&catalogue, &row, &activity_uuids))
}

/// `POST /times/:uuid`: a partial update written as a new revision. Only
/// the time's user or a site admin may update it; only an admin may change
/// its user; moving it to another project needs the time's user to be a
/// member there (admins excepted). Updating a deleted time un-deletes it.
pub async fn update(
    db: &Db,
    caller: &Caller,
    uuid: &str,
    object: &Map<String, Value>,
) -> Result<TimeView> {
    let uuid = parse_uuid(uuid)?;
    let input = read_input(object, Mode::Update)?;
    let duration = input.duration.value();
    let username = input.user.value();
    let project_slug = input.project.value();
    let date_worked = input.date_worked.value();
    let activity_slugs = input.activities.value();
    if activity_slugs.as_ref().is_some_and(Vec::is_empty) {
        // A time always has at least one activity.
        return Err(Error::BadObject(bad_object::empty_array(
            "time",
            "activities",
        )));
    }

    let catalogue = db.catalogue().await?;
    let tx = db.begin_write().await?;
    let current = store::lock_current(&*tx, &uuid)
        .await?
        .ok_or(Error::NotFound("time"))?;
    let user_id = match &username {
        Some(name) => resolve_user(&catalogue, name)?.id,
        None => current.user_id,
    };
    let project_uuid = match &project_slug {
        Some(slug) => resolve_project(&catalogue, slug)?,
        None => current.project_uuid.clone(),
    };
    let current_activities = store::activity_uuids_of(&*tx, current.id).await?;
    let activity_uuids = match &activity_slugs {
        Some(slugs) => resolve_activities(&catalogue, slugs)?,
        None => current_activities.clone(),
    };
    let added: Vec<String> = activity_uuids
        .iter()
        .filter(|a| !current_activities.contains(a))
        .cloned()
        .collect();
    let moved = (project_uuid != current.project_uuid).then_some(project_uuid.as_str());
    hold_references(&*tx, moved, &added).await?;
    // Last, as the reference does: permissions that depend on the time.
    // Its user or an admin modifies it; only an admin gives it to another.
    let owner = current.user_id == caller.id && user_id == current.user_id;
    caller.require(owner || caller.is_admin(), &action::modify_time(&uuid))?;
    if project_uuid != current.project_uuid && !caller.is_admin() {
        let member = is_member(&catalogue, &project_uuid, user_id);
        let slug = project_slug.as_deref().unwrap_or_default();
        caller.require(member, &action::create_times_on(slug))?;
    }
    let keep = |field: Field<String>, old: &Option<String>| match field {
        Field::Absent => old.clone(),
        Field::Null => None,
        Field::Value(v) => Some(v),
    };
    let now = storage::now_millis();
    store::retire(&*tx, current.id).await?;
    let row = store::insert_revision(
        &*tx,
        NewRevision {
            uuid: current.uuid.clone(),
            revision: current.revision + 1,
            user_id,
            project_uuid,
            duration: duration.unwrap_or(current.duration),
            notes: keep(input.notes, &current.notes),
            issue_uri: keep(input.issue_uri, &current.issue_uri),
            date_worked: date_worked.unwrap_or(current.date_worked),
            created_at: current.created_at,
            updated_at: Some(now),
            activity_uuids: activity_uuids.clone(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(written(&catalogue, &row, &activity_uuids))
}

/// `DELETE /times/:uuid`: soft-deletes the current revision. Allowed to
/// the time's user, site managers and site admins.
pub async fn delete(db: &Db, caller: &Caller, uuid: &str) -> Result<()> {
    let uuid = parse_uuid(uuid)?;
    let tx = db.begin_write().await?;
    let current = store::lock_current(&*tx, &uuid)
        .await?
        .filter(|t| t.deleted_at.is_none())
        .ok_or(Error::NotFound("time"))?;
    caller.require(
        current.user_id == caller.id || caller.is_manager(),
        &action::delete_time(&uuid),
    )?;
    store::mark_deleted(&*tx, current.id, storage::now_millis()).await?;
    tx.commit().await?;
    Ok(())
}
