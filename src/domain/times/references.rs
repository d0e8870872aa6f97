//! What a time (or a running timer, which becomes one) refers to: its
//! user, project and activities, resolved from the names a client sends
//! through the catalogue, held against a concurrent delete by the write,
//! and the membership that lets someone track time on a project. `object`
//! names the object in the error texts (`time` or `timer`).

use crate::domain::validate::{is_username, Field};
use crate::domain::Caller;
use crate::error::catalogue::action;
use crate::error::{Error, Result};
use crate::storage::users::UserRow;
use crate::storage::{self, Catalogue, Conn};

/// The user a time is for: an existing, undeleted user, or 409.
pub(crate) fn resolve_user<'c>(catalogue: &'c Catalogue, name: &str) -> Result<&'c UserRow> {
    let invalid = || Error::foreign_key("time", "user");
    if !is_username(name) {
        return Err(invalid());
    }
    catalogue
        .user_by_name(name)
        .filter(|u| u.deleted_at.is_none())
        .ok_or_else(invalid)
}

/// The uuid of the current project owning `slug`, or 409.
pub(crate) fn resolve_project(
    catalogue: &Catalogue,
    object: &'static str,
    slug: &str,
) -> Result<String> {
    catalogue
        .project_uuid_by_slug(slug)
        .map(str::to_owned)
        .ok_or(Error::foreign_key(object, "project"))
}

/// The uuids of the current activities owning `slugs`, or 409.
pub(crate) fn resolve_activities(
    catalogue: &Catalogue,
    object: &'static str,
    slugs: &[String],
) -> Result<Vec<String>> {
    slugs
        .iter()
        .map(|s| {
            catalogue
                .activity_by_slug(s)
                .map(|a| a.uuid.clone())
                .ok_or(Error::foreign_key(object, "activities"))
        })
        .collect()
}

/// The project's default activity (unless it is deleted), or `The
/// <object> is missing a activities`.
pub(crate) fn default_activities(
    catalogue: &Catalogue,
    object: &'static str,
    project_uuid: &str,
) -> Result<Vec<String>> {
    catalogue
        .project(project_uuid)
        .and_then(|p| p.default_activity.clone())
        .filter(|uuid| catalogue.live_slug(uuid).is_some())
        .map(|default| vec![default])
        .ok_or_else(|| Error::missing_field(object, "activities"))
}

/// Keeps the project and activities a write newly points at from being
/// deleted under it (see `storage::times::hold_references`); one already
/// deleted is an invalid reference. References a time already had need no
/// hold: a delete sees the time's current revision and refuses.
pub(crate) async fn hold_references(
    conn: &impl Conn,
    object: &'static str,
    project_uuid: Option<&str>,
    activity_uuids: &[String],
) -> Result<()> {
    match storage::times::hold_references(conn, project_uuid, activity_uuids).await? {
        (true, true) => Ok(()),
        (false, _) => Err(Error::foreign_key(object, "project")),
        (true, false) => Err(Error::foreign_key(object, "activities")),
    }
}

/// The refusal of a write whose references were not all live
/// (`storage::times::write_revision` wrote nothing): which one.
pub(crate) async fn dead_reference(
    conn: &impl Conn,
    object: &'static str,
    project_uuid: Option<&str>,
    activity_uuids: &[String],
) -> Error {
    match hold_references(conn, object, project_uuid, activity_uuids).await {
        Err(refusal) => refusal,
        Ok(()) => Error::server(anyhow::anyhow!(
            "a {object}'s references were refused, then found live"
        )),
    }
}

/// Only members of a project (and site admins) track time on it: `user_id`
/// is the one whose time it is, `slug` names the project in the refusal.
pub(crate) fn require_member(
    catalogue: &Catalogue,
    caller: &Caller,
    project_uuid: &str,
    user_id: i64,
    slug: &str,
) -> Result<()> {
    if caller.is_admin() {
        return Ok(());
    }
    let member = catalogue
        .roles_of(project_uuid, user_id)
        .is_some_and(|r| r.member);
    caller.require(member, &action::create_times_on(slug))
}

/// The value sent, or the current one when the field was left out.
pub(crate) fn keep(field: Field<String>, current: &Option<String>) -> Option<String> {
    match field {
        Field::Absent => current.clone(),
        Field::Null => None,
        Field::Value(v) => Some(v),
    }
}
