//! Projects: reading, creating, revising and soft-deleting them, with their
//! slugs and members. Site managers and admins create and delete; they and
//! the project's managers update (and delete) a project.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::domain::ids::Slug;
use crate::domain::validate::{self, Field, FieldSpec, Kind, Mode};
use crate::domain::{Caller, Listing, Page};
use crate::error::catalogue::{action, bad_object};
use crate::error::{Error, Result};
use crate::storage::projects::{self as store, NewMember, ProjectFields, ProjectRow};
use crate::storage::{self, activities as activity_store, Catalogue, Conn, Db, Tx};

const OBJECT: &str = "project";
/// The fields a create or update may send, in the order of model.rst.
pub const SPECS: [FieldSpec; 5] = [
    validate::NAME_FIELD,
    FieldSpec::new("slugs", Kind::Slugs { empty_ok: false }).required(),
    FieldSpec::new("uri", Kind::Uri)
        .nullable()
        .about("An absolute URI, or null."),
    FieldSpec::new("default_activity", Kind::Slug)
        .nullable()
        .about("An activity slug, or null."),
    FieldSpec::new("users", Kind::Object)
        .nullable()
        .about("Username → roles; replaces the members."),
];
const ROLES: &[&str] = &["member", "spectator", "manager"];

/// A user's roles on a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub member: bool,
    pub spectator: bool,
    pub manager: bool,
}

/// A project as shown to clients.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectView {
    pub name: String,
    /// Sorted.
    pub slugs: Vec<String>,
    pub uri: Option<String>,
    /// The default activity's current slug.
    pub default_activity: Option<String>,
    /// Absent on parents (members are not kept per revision).
    pub users: Option<BTreeMap<String, Roles>>,
    pub uuid: String,
    pub revision: i32,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub deleted_at: Option<String>,
    /// Older revisions, newest first (`include_revisions`).
    pub parents: Option<Vec<ProjectView>>,
}

/// What `GET /projects` lists.
#[derive(Debug, Clone, Default)]
pub struct ProjectQuery {
    /// `?user=` values: projects where one of them has a role.
    pub users: Vec<String>,
    pub include_deleted: bool,
    pub include_revisions: bool,
    /// Only projects changed at or after (ms), deleted ones included.
    pub since: Option<i64>,
}

/// Views of `rows` (current revisions) with slugs, users and default
/// activities from the catalogue and, when `include_revisions`, parents
/// (one query for the whole page).
async fn views(
    db: &Db,
    catalogue: &Catalogue,
    rows: Vec<ProjectRow>,
    include_revisions: bool,
) -> Result<Vec<ProjectView>> {
    let parents = if include_revisions {
        let uuids: Vec<String> = rows.iter().map(|r| r.uuid.clone()).collect();
        store::parents_of(db.conn(), &uuids).await?
    } else {
        Vec::new()
    };
    let view = |row: ProjectRow| ProjectView {
        name: row.name,
        slugs: catalogue.project_slugs(&row.uuid).to_vec(),
        uri: row.uri,
        // The activity's slug, or none once it is deleted.
        default_activity: row
            .default_activity
            .and_then(|uuid| catalogue.live_slug(&uuid).map(str::to_owned)),
        users: None,
        uuid: row.uuid,
        revision: row.revision,
        created_at: validate::wire_date(row.created_at),
        updated_at: validate::wire_date_opt(row.updated_at),
        deleted_at: validate::wire_date_opt(row.deleted_at),
        parents: None,
    };
    let mut parents_by_uuid: HashMap<String, Vec<ProjectView>> = HashMap::new();
    for parent in parents {
        parents_by_uuid
            .entry(parent.uuid.clone())
            .or_default()
            .push(view(parent));
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let users = catalogue
                .members(&row.uuid)
                .iter()
                .filter_map(|m| {
                    let user = catalogue.user(m.user_id)?;
                    let roles = Roles {
                        member: m.member,
                        spectator: m.spectator,
                        manager: m.manager,
                    };
                    Some((user.username.clone(), roles))
                })
                .collect();
            let mut v = view(row);
            v.users = Some(users);
            if include_revisions {
                v.parents = Some(parents_by_uuid.remove(&v.uuid).unwrap_or_default());
            }
            v
        })
        .collect())
}

/// `GET /projects`, from the catalogue (parents excepted).
pub async fn list(db: &Db, query: &ProjectQuery, page: Page) -> Result<Listing<ProjectView>> {
    let catalogue = db.catalogue().await?;
    let user_ids = crate::domain::users::filter_ids(&catalogue, &query.users)?;
    let has_role = |uuid: &str| match &user_ids {
        None => true,
        Some(ids) => catalogue
            .members(uuid)
            .iter()
            .any(|m| ids.contains(&m.user_id) && (m.member || m.spectator || m.manager)),
    };
    let matching: Vec<&ProjectRow> = catalogue
        .projects()
        .iter()
        .filter(|p| match query.since {
            // Changed since, deleted or not.
            Some(since) => changed_since(p.sort_at, p.deleted_at, since),
            None => query.include_deleted || p.deleted_at.is_none(),
        })
        .filter(|p| has_role(&p.uuid))
        .collect();
    let total = matching.len() as u64;
    let rows = page_of(matching, page).cloned().collect();
    Ok(Listing {
        items: views(db, &catalogue, rows, query.include_revisions).await?,
        total,
    })
}

/// Whether a row of the catalogue was created, updated or deleted at or
/// after `since` (ms): `sort_at` is the last update, else the creation.
pub(crate) fn changed_since(sort_at: i64, deleted_at: Option<i64>, since: i64) -> bool {
    sort_at >= since || deleted_at.is_some_and(|d| d >= since)
}

/// The rows of `page` among `all` (in list order).
pub(crate) fn page_of<T>(all: Vec<T>, page: Page) -> impl Iterator<Item = T> {
    let skip = usize::try_from(page.skip).unwrap_or(usize::MAX);
    let limit = page
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    all.into_iter().skip(skip).take(limit)
}

/// `GET /projects/:slug`.
pub async fn get(db: &Db, slug: &Slug, include_revisions: bool) -> Result<ProjectView> {
    let catalogue = db.catalogue().await?;
    let row = catalogue
        .project_uuid_by_slug(slug)
        .and_then(|uuid| catalogue.project(uuid))
        .filter(|r| r.deleted_at.is_none())
        .cloned()
        .ok_or(Error::NotFound(OBJECT))?;
    one_view(db, &catalogue, row, include_revisions).await
}

async fn one_view(
    db: &Db,
    catalogue: &Catalogue,
    row: ProjectRow,
    include_revisions: bool,
) -> Result<ProjectView> {
    views(db, catalogue, vec![row], include_revisions)
        .await?
        .pop()
        .ok_or(Error::NotFound(OBJECT))
}

/// The view of a project this request just wrote: the catalogue is read
/// again after the commit.
async fn written_view(db: &Db, row: ProjectRow) -> Result<ProjectView> {
    let catalogue = db.catalogue().await?;
    one_view(db, &catalogue, row, false).await
}

/// A `users` entry as sent: lower-cased username and roles.
#[derive(Debug, Clone)]
struct RequestedMember {
    key: String,
    roles: Roles,
}

/// The validated fields of a create or update; `None`: not sent.
#[derive(Debug, Default)]
struct ProjectInput {
    name: Option<String>,
    slugs: Option<Vec<String>>,
    /// `Some(None)`: sent as null.
    uri: Option<Option<String>>,
    /// Slug of the default activity; `Some(None)`: cleared.
    default_activity: Option<Option<String>>,
    users: Option<Vec<RequestedMember>>,
}

/// Reads a request object; `create` requires `name` and `slugs`.
fn read_input(object: &Map<String, Value>, create: bool) -> Result<ProjectInput> {
    let mode = if create { Mode::Create } else { Mode::Update };
    let fields = validate::read(OBJECT, object, &SPECS, mode)?;
    let optional = |field: Field<String>| match field {
        Field::Value(v) => Some(Some(v)),
        Field::Null => Some(None),
        Field::Absent => None,
    };
    let users = match fields.value("users") {
        Field::Value(Value::Object(map)) => Some(read_users(map)?),
        Field::Null => Some(Vec::new()),
        _ => None,
    };
    Ok(ProjectInput {
        name: fields.string("name").value(),
        slugs: fields.slugs("slugs").value(),
        uri: optional(fields.string("uri")),
        default_activity: optional(fields.string("default_activity")),
        users,
    })
}

/// `{username: {"member": b, "spectator": b, "manager": b}}`; a role not
/// sent is false. Usernames are case-insensitive, so `Bob` and `bob` twice
/// is a bad object.
fn read_users(map: &Map<String, Value>) -> Result<Vec<RequestedMember>> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(map.len());
    for (username, value) in map {
        let Value::Object(roles) = value else {
            return Err(Error::BadObject(bad_object::wrong_type(
                OBJECT,
                &bad_object::member_field(username),
                "object",
                validate::json_type(value),
            )));
        };
        if let Some(unknown) = roles.keys().find(|k| !ROLES.contains(&k.as_str())) {
            return Err(Error::unknown_field(
                &bad_object::member_object(username, OBJECT),
                unknown,
            ));
        }
        let role = |name: &str| -> Result<bool> {
            match roles.get(name) {
                None => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(other) => Err(Error::BadObject(bad_object::wrong_type(
                    OBJECT,
                    &bad_object::member_role_field(username, name),
                    "boolean",
                    validate::json_type(other),
                ))),
            }
        };
        let roles = Roles {
            member: role("member")?,
            spectator: role("spectator")?,
            manager: role("manager")?,
        };
        let key = validate::username_key(username);
        if !seen.insert(key.clone()) {
            return Err(Error::BadObject(bad_object::user_named_twice(
                OBJECT, username,
            )));
        }
        out.push(RequestedMember { key, roles });
    }
    Ok(out)
}

fn bad_user_reference() -> Error {
    Error::foreign_key(OBJECT, "user")
}

/// 400 when another current project is named `name` (exactly).
async fn check_name_free(conn: &impl Conn, name: &str, except: Option<&str>) -> Result<()> {
    if store::name_taken(conn, name, except).await? {
        return Err(Error::BadObject(bad_object::name_not_unique(OBJECT)));
    }
    Ok(())
}

/// The members to store: every username must be an existing user.
async fn resolve_users(db: &impl Conn, requested: &[RequestedMember]) -> Result<Vec<NewMember>> {
    if requested.iter().any(|m| !validate::is_username(&m.key)) {
        return Err(bad_user_reference());
    }
    let keys: Vec<String> = requested.iter().map(|m| m.key.clone()).collect();
    let ids: HashMap<String, i64> = storage::users::users_by_keys(db, &keys)
        .await?
        .into_iter()
        .collect();
    requested
        .iter()
        .map(|m| {
            let user_id = *ids.get(&m.key).ok_or_else(bad_user_reference)?;
            Ok(NewMember {
                user_id,
                member: m.roles.member,
                spectator: m.roles.spectator,
                manager: m.roles.manager,
            })
        })
        .collect()
}

/// The uuid of the activity with slug `slug` (`None` clears the default).
async fn resolve_default_activity(db: &impl Conn, slug: Option<&str>) -> Result<Option<String>> {
    let Some(slug) = slug else {
        return Ok(None);
    };
    activity_store::find_by_slug(db, slug)
        .await?
        .map(|a| Some(a.uuid))
        .ok_or(Error::foreign_key(OBJECT, "activity"))
}

/// 409 listing every one of `slugs` held by a project other than `except`.
async fn check_slugs_free(db: &impl Conn, slugs: &[String], except: Option<&str>) -> Result<()> {
    let taken = store::slugs_taken(db, slugs, except).await?;
    if taken.is_empty() {
        Ok(())
    } else {
        Err(Error::SlugsExist(
            slugs
                .iter()
                .filter(|s| taken.contains(s))
                .cloned()
                .collect(),
        ))
    }
}

/// A lost race for slugs (storage reports every slug the write claimed):
/// report only the slugs now held by another project.
async fn narrow_slug_race(db: &Db, e: Error, except: Option<&str>) -> Error {
    let Error::SlugsExist(slugs) = &e else {
        return e;
    };
    match check_slugs_free(db.conn(), slugs, except).await {
        Err(conflict) => conflict,
        // The winner let go of the slug meanwhile; the request still lost.
        Ok(()) => e,
    }
}

/// `POST /projects`: site managers and admins.
pub async fn create(db: &Db, caller: &Caller, object: &Map<String, Value>) -> Result<ProjectView> {
    caller.require(caller.is_manager(), action::CREATE_PROJECTS)?;
    let input = read_input(object, true)?;
    let uuid = uuid::Uuid::new_v4().to_string();
    let (input, uuid) = (&input, &uuid);
    let written = db
        .write(|tx| async move { create_once(&tx, input, uuid).await })
        .await;
    let row = match written {
        Ok(row) => row,
        Err(e) => return Err(narrow_slug_race(db, e, None).await),
    };
    written_view(db, row).await
}

/// One attempt at writing a new project.
async fn create_once(tx: &Tx, input: &ProjectInput, uuid: &str) -> Result<ProjectRow> {
    let slugs = input.slugs.as_deref().unwrap_or_default();
    let name = input.name.clone().unwrap_or_default();
    check_name_free(tx, &name, None).await?;
    check_slugs_free(tx, slugs, None).await?;
    let fields = ProjectFields {
        name,
        uri: input.uri.clone().flatten(),
        default_activity: resolve_default_activity(
            tx,
            input.default_activity.clone().flatten().as_deref(),
        )
        .await?,
    };
    let members = resolve_users(tx, input.users.as_deref().unwrap_or_default()).await?;
    let row = store::create(tx, uuid, &fields, storage::now_millis()).await?;
    store::set_slugs(tx, uuid, slugs).await?;
    store::set_members(tx, uuid, &members).await?;
    Ok(row)
}

/// The current, undeleted project that `slug` names, locked for writing.
async fn lock_by_slug(tx: &Tx, slug: &str, uuid: &str) -> Result<ProjectRow> {
    store::lock(tx, uuid).await?;
    // Re-read under the lock: a concurrent writer may have moved the slug
    // or deleted the project while we waited.
    if store::uuid_by_slug(tx, slug).await?.as_deref() != Some(uuid) {
        return Err(Error::NotFound(OBJECT));
    }
    store::current(tx, uuid)
        .await?
        .filter(|r| r.deleted_at.is_none())
        .ok_or(Error::NotFound(OBJECT))
}

/// Site managers and admins, or a manager of the project.
async fn require_project_manager(
    conn: &impl Conn,
    caller: &Caller,
    uuid: &str,
    action: String,
) -> Result<()> {
    if caller.is_manager() {
        return Ok(());
    }
    let manages = store::roles_of(conn, uuid, caller.id)
        .await?
        .is_some_and(|r| r.manager);
    caller.require(manages, &action)
}

/// `POST /projects/:slug`: a new revision with the fields sent changed;
/// `slugs` replaces the slug set and `users` the member map.
pub async fn update(
    db: &Db,
    caller: &Caller,
    slug: &Slug,
    object: &Map<String, Value>,
) -> Result<ProjectView> {
    let uuid = store::uuid_by_slug(db.conn(), slug)
        .await?
        .ok_or(Error::NotFound(OBJECT))?;
    let input = read_input(object, false)?;
    let (input, uuid) = (&input, &uuid);
    let written = db
        .write(|tx| async move { update_once(&tx, caller, slug, uuid, input).await })
        .await;
    let row = match written {
        Ok(row) => row,
        Err(e) => return Err(narrow_slug_race(db, e, Some(uuid)).await),
    };
    written_view(db, row).await
}

/// One attempt at writing the next revision of project `uuid`.
async fn update_once(
    tx: &Tx,
    caller: &Caller,
    slug: &str,
    uuid: &str,
    input: &ProjectInput,
) -> Result<ProjectRow> {
    let current = lock_by_slug(tx, slug, uuid).await?;
    if let Some(name) = &input.name {
        check_name_free(tx, name, Some(uuid)).await?;
    }
    if let Some(slugs) = &input.slugs {
        check_slugs_free(tx, slugs, Some(uuid)).await?;
    }
    let default_activity = match &input.default_activity {
        Some(slug) => resolve_default_activity(tx, slug.as_deref()).await?,
        None => current.default_activity.clone(),
    };
    let members = match &input.users {
        Some(users) => Some(resolve_users(tx, users).await?),
        None => None,
    };
    // Last, as the reference does: who may change it depends on it.
    let change = action::change_project(&current.name);
    require_project_manager(tx, caller, uuid, change).await?;
    let fields = ProjectFields {
        name: input.name.clone().unwrap_or_else(|| current.name.clone()),
        uri: input.uri.clone().unwrap_or_else(|| current.uri.clone()),
        default_activity,
    };
    let row = store::revise(tx, &current, &fields, storage::now_millis()).await?;
    if let Some(slugs) = &input.slugs {
        store::set_slugs(tx, uuid, slugs).await?;
    }
    if let Some(members) = &members {
        store::set_members(tx, uuid, members).await?;
    }
    Ok(row)
}

/// `DELETE /projects/:slug`: soft delete that frees the slugs; refused
/// while a current time is on the project.
pub async fn delete(db: &Db, caller: &Caller, slug: &Slug) -> Result<()> {
    let uuid = store::uuid_by_slug(db.conn(), slug)
        .await?
        .ok_or(Error::NotFound(OBJECT))?;
    require_project_manager(db.conn(), caller, &uuid, action::delete_project(slug)).await?;
    let uuid = &uuid;
    db.write(|tx| async move {
        let current = lock_by_slug(&tx, slug, uuid).await?;
        require_project_manager(&tx, caller, uuid, action::delete_project(slug)).await?;
        // A running timer counts as a use (issue 16: refuse, like a time).
        if store::used_by_current_time(&tx, uuid).await?
            || storage::timers::uses_project(&tx, uuid).await?
        {
            return Err(Error::InUse { object: OBJECT });
        }
        store::soft_delete(&tx, uuid, current.id, storage::now_millis()).await?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value, create: bool) -> Result<ProjectInput> {
        read_input(v.as_object().expect("object"), create)
    }

    #[test]
    fn create_requires_name_and_slugs_update_does_not() {
        let err = input(json!({"slugs": ["a"]}), true).unwrap_err();
        assert_eq!(err.to_string(), "The project is missing a name");
        let err = input(json!({"name": "A"}), true).unwrap_err();
        assert_eq!(err.to_string(), "The project is missing a slugs");
        let update = input(json!({}), false).unwrap();
        assert!(update.name.is_none() && update.slugs.is_none() && update.users.is_none());
        let cleared = input(
            json!({"uri": null, "default_activity": null, "users": null}),
            false,
        )
        .unwrap();
        assert_eq!(cleared.uri, Some(None));
        assert_eq!(cleared.default_activity, Some(None));
        assert_eq!(cleared.users.map(|u| u.len()), Some(0));
    }

    #[test]
    fn users_map_roles_default_to_false_and_keys_are_case_insensitive() {
        let users = json!({"Alice": {"manager": true}, "bob": {}});
        let read = read_users(users.as_object().unwrap()).unwrap();
        assert_eq!(read[0].key, "alice");
        assert_eq!(
            read[0].roles,
            Roles {
                member: false,
                spectator: false,
                manager: true
            }
        );
        assert!(!read[1].roles.member && !read[1].roles.spectator && !read[1].roles.manager);
        let twice = json!({"Alice": {}, "alice": {}});
        assert!(read_users(twice.as_object().unwrap()).is_err());
        let bad = json!({"alice": {"member": 1}});
        assert_eq!(
            read_users(bad.as_object().unwrap())
                .unwrap_err()
                .to_string(),
            "Field users.alice.member of project should be boolean but was sent as number"
        );
    }
}
