//! The catalogue: the small, read-mostly tables nearly every request reads
//! — users and their org-roles, projects with their slugs and members,
//! activities — held in memory (issue 15).
//!
//! A copy is valid for one value of `catalogue_version.version`, a counter
//! that triggers bump in the same transaction as every write of those
//! tables (migration `m20261202_000003_catalogue_version`), by this
//! instance or any other. `Db::catalogue` reads the counter (one indexed
//! one-row query) and reloads the whole copy, in one snapshot, when it
//! moved. Within one request the copy is checked once: later calls reuse
//! it until the request commits a write (`forget_for_request`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, Statement};

use super::activities::ActivityRow;
use super::entities::{
    activity, org_role, project, project_slug, project_user, user, user_org_role,
};
use super::org_roles::OrgRoleRow;
use super::projects::ProjectRow;
use super::users::UserRow;
use super::Result;

/// A user's roles on a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub user_id: i64,
    pub member: bool,
    pub spectator: bool,
    pub manager: bool,
}

/// One consistent copy of the catalogue; cheap to clone.
#[derive(Clone)]
pub struct Catalogue(Arc<Data>);

impl std::fmt::Debug for Catalogue {
    // Never the users' password hashes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("version", &self.0.version)
            .field("users", &self.0.users.len())
            .field("projects", &self.0.projects.len())
            .field("activities", &self.0.activities.len())
            .finish()
    }
}

#[derive(Default)]
struct Data {
    version: i64,
    /// Every user, deleted too, in list order (`updated_at`, else
    /// `created_at`, then id).
    users: Vec<UserRow>,
    user_at: HashMap<i64, usize>,
    user_by_key: HashMap<String, usize>,
    /// Org-role slugs (sorted) and ids of each user holding any.
    role_slugs: HashMap<i64, Vec<String>>,
    role_ids: HashMap<i64, Vec<i64>>,
    org_roles: Vec<OrgRoleRow>,
    /// The current revision of every project, deleted too, in list order
    /// (`sort_at`, then id).
    projects: Vec<ProjectRow>,
    project_at: HashMap<String, usize>,
    /// Current slugs of each project, sorted.
    project_slugs: HashMap<String, Vec<String>>,
    project_by_slug: HashMap<String, String>,
    members: HashMap<String, Vec<Member>>,
    /// The projects (uuids, sorted) where each user is spectator or manager.
    watched: HashMap<i64, Vec<String>>,
    /// The current revision of every activity, deleted too, in list order.
    activities: Vec<ActivityRow>,
    activity_at: HashMap<String, usize>,
    activity_by_slug: HashMap<String, usize>,
}

impl Catalogue {
    /// The counter value this copy was read at.
    pub fn version(&self) -> i64 {
        self.0.version
    }

    /// Every user, deleted ones too, in list order.
    pub fn users(&self) -> &[UserRow] {
        &self.0.users
    }
    pub fn user(&self, id: i64) -> Option<&UserRow> {
        self.0.user_at.get(&id).map(|&i| &self.0.users[i])
    }
    /// The user named `username` in any letter case (deleted ones too).
    pub fn user_by_name(&self, username: &str) -> Option<&UserRow> {
        self.0
            .user_by_key
            .get(&super::username_key(username))
            .map(|&i| &self.0.users[i])
    }
    /// The org-role slugs of user `id`, sorted.
    pub fn role_slugs(&self, id: i64) -> &[String] {
        self.0.role_slugs.get(&id).map_or(&[], Vec::as_slice)
    }
    /// The org-role ids of user `id`.
    pub fn role_ids(&self, id: i64) -> &[i64] {
        self.0.role_ids.get(&id).map_or(&[], Vec::as_slice)
    }
    pub fn org_role_by_slug(&self, slug: &str) -> Option<&OrgRoleRow> {
        self.0.org_roles.iter().find(|r| r.slug == slug)
    }

    /// The current revision of every project, deleted ones too, in list order.
    pub fn projects(&self) -> &[ProjectRow] {
        &self.0.projects
    }
    pub fn project(&self, uuid: &str) -> Option<&ProjectRow> {
        self.0.project_at.get(uuid).map(|&i| &self.0.projects[i])
    }
    /// The uuid of the project that currently has `slug`.
    pub fn project_uuid_by_slug(&self, slug: &str) -> Option<&str> {
        self.0.project_by_slug.get(slug).map(String::as_str)
    }
    /// The current slugs of project `uuid`, sorted (none once deleted).
    pub fn project_slugs(&self, uuid: &str) -> &[String] {
        self.0.project_slugs.get(uuid).map_or(&[], Vec::as_slice)
    }
    /// The projects (uuids) where user `id` is spectator or manager: whose
    /// times they see besides their own.
    pub fn watched_projects(&self, id: i64) -> &[String] {
        self.0.watched.get(&id).map_or(&[], Vec::as_slice)
    }
    /// Who has roles on project `uuid`.
    pub fn members(&self, uuid: &str) -> &[Member] {
        self.0.members.get(uuid).map_or(&[], Vec::as_slice)
    }
    /// The roles of user `user_id` on project `uuid`, if any.
    pub fn roles_of(&self, uuid: &str, user_id: i64) -> Option<Member> {
        self.members(uuid)
            .iter()
            .find(|m| m.user_id == user_id)
            .copied()
    }

    /// The current revision of every activity, deleted ones too, in list order.
    pub fn activities(&self) -> &[ActivityRow] {
        &self.0.activities
    }
    pub fn activity(&self, uuid: &str) -> Option<&ActivityRow> {
        self.0.activity_at.get(uuid).map(|&i| &self.0.activities[i])
    }
    /// The current, undeleted activity that owns `slug`.
    pub fn activity_by_slug(&self, slug: &str) -> Option<&ActivityRow> {
        self.0
            .activity_by_slug
            .get(slug)
            .map(|&i| &self.0.activities[i])
    }
    /// The slug of activity `uuid` unless it is deleted.
    pub fn live_slug(&self, uuid: &str) -> Option<&str> {
        self.activity(uuid)?.live_slug.as_deref()
    }
}

/// The change counters (`migrations::change_counters`) at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    /// Of the catalogue's tables.
    pub catalogue: i64,
    /// Of `times` and `time_activities`.
    pub times: i64,
}

impl Versions {
    /// Whether these counters were read no earlier than `other` (each only
    /// grows).
    pub fn at_least(self, other: Versions) -> bool {
        self.catalogue >= other.catalogue && self.times >= other.times
    }
}

/// The counters of the database `db` is connected to, in one statement.
pub(super) async fn versions(db: &impl ConnectionTrait) -> Result<Versions> {
    // The times counter is striped (`migrations::change_counters`): its sum.
    let sum = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "CAST(SUM(version) AS BIGINT)",
        sea_orm::DatabaseBackend::MySql => "CAST(SUM(version) AS SIGNED)",
        _ => "SUM(version)",
    };
    let stmt = Statement::from_string(
        db.get_database_backend(),
        format!(
            "SELECT version, (SELECT {sum} FROM times_version) FROM catalogue_version WHERE id = 1"
        ),
    );
    let row = db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| super::Error::missing("change counters"))?;
    Ok(Versions {
        catalogue: row.try_get_by_index::<i64>(0)?,
        times: row.try_get_by_index::<i64>(1)?,
    })
}

/// Reads the whole catalogue on `db`, which must be one snapshot (the
/// version and the rows of one state of the database).
pub(super) async fn load(db: &impl ConnectionTrait) -> Result<Catalogue> {
    let version = versions(db).await?.catalogue;
    let mut users = user::Entity::find().all(db).await?;
    users.sort_by_key(|u| (u.updated_at.unwrap_or(u.created_at), u.id));
    let org_roles = org_role::Entity::find()
        .order_by_asc(org_role::Column::Id)
        .all(db)
        .await?;
    let holdings = user_org_role::Entity::find().all(db).await?;
    let projects = project::Entity::find()
        .filter_newest()
        .order_by_asc(project::Column::SortAt)
        .order_by_asc(project::Column::Id)
        .all(db)
        .await?;
    let slugs = project_slug::Entity::find()
        .order_by_asc(project_slug::Column::Slug)
        .all(db)
        .await?;
    let members = project_user::Entity::find().all(db).await?;
    let activities = activity::Entity::find()
        .filter_newest()
        .order_by_asc(activity::Column::SortAt)
        .order_by_asc(activity::Column::Id)
        .all(db)
        .await?;

    let mut data = Data {
        version,
        ..Default::default()
    };
    for (i, u) in users.iter().enumerate() {
        data.user_at.insert(u.id, i);
        data.user_by_key.insert(u.username_key.clone(), i);
    }
    data.users = users;
    let role_slug: HashMap<i64, &str> = org_roles.iter().map(|r| (r.id, r.slug.as_str())).collect();
    for h in holdings {
        if let Some(slug) = role_slug.get(&h.org_role_id) {
            data.role_slugs
                .entry(h.user_id)
                .or_default()
                .push((*slug).to_owned());
            data.role_ids
                .entry(h.user_id)
                .or_default()
                .push(h.org_role_id);
        }
    }
    for slugs in data.role_slugs.values_mut() {
        slugs.sort();
    }
    data.org_roles = org_roles;
    for (i, p) in projects.iter().enumerate() {
        data.project_at.insert(p.uuid.clone(), i);
    }
    data.projects = projects;
    for s in slugs {
        data.project_by_slug
            .insert(s.slug.clone(), s.project_uuid.clone());
        data.project_slugs
            .entry(s.project_uuid)
            .or_default()
            .push(s.slug);
    }
    for m in members {
        if m.spectator || m.manager {
            data.watched
                .entry(m.user_id)
                .or_default()
                .push(m.project_uuid.clone());
        }
        data.members
            .entry(m.project_uuid)
            .or_default()
            .push(Member {
                user_id: m.user_id,
                member: m.member,
                spectator: m.spectator,
                manager: m.manager,
            });
    }
    for projects in data.watched.values_mut() {
        projects.sort();
    }
    for (i, a) in activities.iter().enumerate() {
        data.activity_at.insert(a.uuid.clone(), i);
        if let Some(slug) = &a.live_slug {
            data.activity_by_slug.insert(slug.clone(), i);
        }
    }
    data.activities = activities;
    Ok(Catalogue(Arc::new(data)))
}

/// Only the current revisions.
trait FilterNewest: Sized {
    fn filter_newest(self) -> Self;
}
impl FilterNewest for sea_orm::Select<project::Entity> {
    fn filter_newest(self) -> Self {
        use sea_orm::{ColumnTrait, QueryFilter};
        self.filter(project::Column::Newest.eq(true))
    }
}
impl FilterNewest for sea_orm::Select<activity::Entity> {
    fn filter_newest(self) -> Self {
        use sea_orm::{ColumnTrait, QueryFilter};
        self.filter(activity::Column::Newest.eq(true))
    }
}

/// This instance's copy, and the lock that lets one request reload it
/// while the others wait for the result.
#[derive(Default)]
pub(super) struct CatalogueCache {
    current: std::sync::RwLock<Option<Catalogue>>,
    reloading: tokio::sync::Mutex<()>,
}

impl CatalogueCache {
    fn at(&self, version: i64) -> Option<Catalogue> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current.as_ref().filter(|c| c.version() == version).cloned()
    }

    /// The copy for counter value `version`, loading one with `load` if
    /// this instance holds another (one load at a time; those who waited
    /// take its result when it is the version they saw).
    pub(super) async fn get<F, Fut>(&self, version: i64, load: F) -> Result<Catalogue>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Catalogue>>,
    {
        if let Some(c) = self.at(version) {
            return Ok(c);
        }
        let _reloading = self.reloading.lock().await;
        {
            let current = self.current.read().unwrap_or_else(|e| e.into_inner());
            // Another request loaded it meanwhile.
            if let Some(c) = current.as_ref().filter(|c| c.version() == version) {
                return Ok(c.clone());
            }
        }
        let fresh = load().await?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }
}

tokio::task_local! {
    /// The copy and counters a request checked, reused for the rest of it.
    static REQUEST_COPY: RefCell<Option<(Catalogue, Versions)>>;
}

/// Runs `request` with its own memo of the catalogue and counters: they
/// are checked once per request rather than once per use.
pub async fn per_request<F: Future>(request: F) -> F::Output {
    REQUEST_COPY.scope(RefCell::new(None), request).await
}

pub(super) fn remembered() -> Option<(Catalogue, Versions)> {
    REQUEST_COPY
        .try_with(|memo| memo.borrow().clone())
        .ok()
        .flatten()
}

pub(super) fn remember(copy: &Catalogue, versions: Versions) {
    let _ = REQUEST_COPY.try_with(|memo| *memo.borrow_mut() = Some((copy.clone(), versions)));
}

/// After this request committed a write: its next read checks again.
pub(super) fn forget_for_request() {
    let _ = REQUEST_COPY.try_with(|memo| *memo.borrow_mut() = None);
}
