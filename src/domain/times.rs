//! Time entries: the list and its filters, visibility, validation of new
//! and updated times, revisions, and deletion.
//!
//! Visibility (DECISIONS.md): a caller sees their own times, the times of
//! projects where they are spectator or manager, and every time when they
//! are a site spectator, manager or admin. The list applies this inside
//! the query, so counts and pages hold only visible times.

use std::collections::{HashMap, HashSet};

use sea_orm::ConnectionTrait;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::validate::{
    self, is_slug, is_username, parse_date, wire_date, wire_date_opt, Field, FieldSpec, Kind, Mode,
};
use crate::domain::{Caller, Listing, Page};
use crate::error::catalogue::{action, bad_object};
use crate::error::{Error, Result};
use crate::storage::times::{self as store, NewRevision, TimeFilter, TimeRow};
use crate::storage::{self, Db};

/// The fields a client may send in a time object, in the order of model.rst.
const SPECS: [FieldSpec; 7] = [
    FieldSpec::new("duration", Kind::Duration).required(),
    // Any string: a name no user can have is an invalid reference (409).
    FieldSpec::new(
        "user",
        Kind::Text {
            max: usize::MAX,
            bytes: false,
        },
    )
    .required(),
    FieldSpec::new("project", Kind::Slug).required(),
    // `[]` on create: the project's default activity.
    FieldSpec::new("activities", Kind::Slugs { empty_ok: true }),
    FieldSpec::new("date_worked", Kind::Date).required(),
    FieldSpec::new("issue_uri", Kind::Uri).nullable(),
    FieldSpec::new(
        "notes",
        Kind::Text {
            max: validate::MAX_TEXT_LEN,
            bytes: false,
        },
    )
    .nullable(),
];
/// The names of the fields (the OpenAPI object schema lists the same).
pub const FIELDS: &[&str] = &validate::names(&SPECS);

/// A time as shown on the wire.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TimeView {
    pub duration: i32,
    /// The username as stored.
    pub user: String,
    /// The current slugs of the project, sorted (empty once it is deleted).
    pub project: Vec<String>,
    /// The current slugs of the activities, sorted; deleted activities have
    /// no slug and are left out.
    pub activities: Vec<String>,
    #[schema(required = true)]
    pub notes: Option<String>,
    #[schema(required = true)]
    pub issue_uri: Option<String>,
    #[schema(format = Date)]
    pub date_worked: String,
    pub revision: i32,
    pub uuid: String,
    #[schema(format = Date)]
    pub created_at: String,
    #[schema(required = true, format = Date)]
    pub updated_at: Option<String>,
    #[schema(required = true, format = Date)]
    pub deleted_at: Option<String>,
    /// Older revisions, newest first (only with `include_revisions`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, no_recursion)]
    pub parents: Option<Vec<TimeView>>,
}

/// The raw filter values of `GET /times` (validated here).
#[derive(Debug, Clone, Default)]
pub struct TimeQuery {
    pub users: Vec<String>,
    pub projects: Vec<String>,
    pub activities: Vec<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub include_deleted: bool,
    pub include_revisions: bool,
}

/// `GET /times`: the page of times the caller may see that match `query`.
pub async fn list(
    db: &Db,
    caller: &Caller,
    query: &TimeQuery,
    page: Page,
) -> Result<Listing<TimeView>> {
    list_on(db.conn(), Some(db.counts()), caller, query, page).await
}

/// `list` on any connection (the query-count test wraps it), with the
/// server's count cache or without one.
async fn list_on(
    conn: &impl ConnectionTrait,
    counts: Option<&storage::CountCache>,
    caller: &Caller,
    query: &TimeQuery,
    page: Page,
) -> Result<Listing<TimeView>> {
    let filter = resolve_filter(conn, caller, query).await?;
    let total = match counts {
        Some(cache) => {
            let key = format!("times {filter:?}");
            cache
                .get_or_count(key, || store::count(conn, &filter))
                .await?
        }
        None => store::count(conn, &filter).await?,
    };
    let rows = store::page(conn, &filter, page).await?;
    let items = render(conn, rows, query.include_revisions).await?;
    Ok(Listing { items, total })
}

/// Turns the query's names into ids (see `validate::filter_ids`); bad
/// dates and `start` after `end` are `Bad query value`.
pub(crate) async fn resolve_filter(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    query: &TimeQuery,
) -> Result<TimeFilter> {
    let date = |key: &str, value: &Option<String>| -> Result<_> {
        value
            .as_deref()
            .map(|v| parse_date(v).ok_or_else(|| Error::bad_query(key, v)))
            .transpose()
    };
    let start = date("start", &query.start)?;
    let end = date("end", &query.end)?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(Error::bad_query(
                "start",
                query.start.as_deref().unwrap_or(""),
            ));
        }
    }
    let names = validate::filter_lookups(&query.users, is_username);
    let users: HashMap<String, i64> = if names.is_empty() {
        HashMap::new()
    } else {
        store::users_by_names(conn, &names)
            .await?
            .into_iter()
            .map(|u| (u.username_key, u.id))
            .collect()
    };
    let user_ids = validate::filter_ids("user", &query.users, |name| {
        users.get(&validate::username_key(name)).copied()
    })?;
    let slugs = validate::filter_lookups(&query.projects, is_slug);
    let projects = if slugs.is_empty() {
        HashMap::new()
    } else {
        store::project_uuids_by_slugs(conn, &slugs).await?
    };
    let project_uuids =
        validate::filter_ids("project", &query.projects, |s| projects.get(s).cloned())?;
    let slugs = validate::filter_lookups(&query.activities, is_slug);
    let activities = if slugs.is_empty() {
        HashMap::new()
    } else {
        store::activity_uuids_by_slugs(conn, &slugs).await?
    };
    let activity_uuids = validate::filter_ids("activity", &query.activities, |s| {
        activities.get(s).cloned()
    })?;
    Ok(TimeFilter {
        user_ids,
        project_uuids,
        activity_uuids,
        start,
        end,
        include_deleted: query.include_deleted,
        visible_to: (!caller.sees_all_times()).then_some(caller.id),
    })
}

/// `GET /times/:uuid`.
pub async fn get(
    db: &Db,
    caller: &Caller,
    uuid: &str,
    include_deleted: bool,
    include_revisions: bool,
) -> Result<TimeView> {
    let uuid = parse_uuid(uuid)?;
    let conn = db.conn();
    let row = store::find_current(conn, &uuid)
        .await?
        .ok_or(Error::NotFound("time"))?;
    let visible = caller.sees_all_times()
        || row.user_id == caller.id
        || store::project_role(conn, &row.project_uuid, caller.id)
            .await?
            .is_some_and(|r| r.spectator || r.manager);
    caller.require(visible, &action::view_time(&uuid))?;
    if row.deleted_at.is_some() && !include_deleted {
        return Err(Error::NotFound("time"));
    }
    one(conn, row, include_revisions).await
}

fn parse_uuid(value: &str) -> Result<String> {
    validate::parse_uuid(value).ok_or_else(|| Error::InvalidIdentifier {
        kind: "uuid",
        values: vec![value.to_owned()],
    })
}

async fn one(conn: &impl ConnectionTrait, row: TimeRow, revisions: bool) -> Result<TimeView> {
    render(conn, vec![row], revisions)
        .await?
        .pop()
        .ok_or_else(|| Error::server(anyhow::anyhow!("rendering a time gave no view")))
}

/// Views of `rows` (and their parents when `revisions`), with every
/// related row loaded by one batched query per relation: the cost does not
/// grow with the number of rows.
pub(crate) async fn render(
    conn: &impl ConnectionTrait,
    rows: Vec<TimeRow>,
    revisions: bool,
) -> Result<Vec<TimeView>> {
    let parents = if revisions {
        let uuids: Vec<String> = rows.iter().map(|r| r.uuid.clone()).collect();
        store::parents(conn, &uuids).await?
    } else {
        Vec::new()
    };
    let all = || rows.iter().chain(parents.iter());
    let user_ids: Vec<i64> = unique(all().map(|r| r.user_id));
    let project_uuids: Vec<String> = unique(all().map(|r| r.project_uuid.clone()));
    let row_ids: Vec<i64> = all().map(|r| r.id).collect();
    let usernames = store::usernames(conn, &user_ids).await?;
    let slugs = store::project_slugs(conn, &project_uuids).await?;
    let activities = store::activity_slugs(conn, &row_ids).await?;

    let view = |r: &TimeRow| TimeView {
        duration: r.duration,
        user: usernames.get(&r.user_id).cloned().unwrap_or_default(),
        project: slugs.get(&r.project_uuid).cloned().unwrap_or_default(),
        activities: activities.get(&r.id).cloned().unwrap_or_default(),
        notes: r.notes.clone(),
        issue_uri: r.issue_uri.clone(),
        date_worked: r.date_worked.format("%Y-%m-%d").to_string(),
        revision: r.revision,
        uuid: r.uuid.clone(),
        created_at: wire_date(r.created_at),
        updated_at: wire_date_opt(r.updated_at),
        deleted_at: wire_date_opt(r.deleted_at),
        parents: None,
    };
    let mut parents_of: HashMap<&str, Vec<TimeView>> = HashMap::new();
    for p in &parents {
        // `store::parents` gives each time's parents newest first.
        parents_of.entry(p.uuid.as_str()).or_default().push(view(p));
    }
    Ok(rows
        .iter()
        .map(|r| TimeView {
            parents: revisions.then(|| parents_of.remove(r.uuid.as_str()).unwrap_or_default()),
            ..view(r)
        })
        .collect())
}

fn unique<T: std::hash::Hash + Eq + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items.filter(|i| seen.insert(i.clone())).collect()
}

/// The fields of a time object, checked (before lookups).
struct Input {
    duration: Field<i32>,
    user: Field<String>,
    project: Field<String>,
    activities: Field<Vec<String>>,
    notes: Field<String>,
    issue_uri: Field<String>,
    date_worked: Field<chrono::NaiveDate>,
}

fn read_input(object: &Map<String, Value>, mode: Mode) -> Result<Input> {
    let fields = validate::read("time", object, &SPECS, mode)?;
    let duration = match fields.integer("duration") {
        // The reader bounded it to 0..=MAX_DURATION (= i32::MAX).
        Field::Value(d) => Field::Value(i32::try_from(d).unwrap_or(i32::MAX)),
        _ => Field::Absent,
    };
    Ok(Input {
        duration,
        user: fields.string("user"),
        project: fields.string("project"),
        activities: fields.slugs("activities"),
        notes: fields.string("notes"),
        issue_uri: fields.string("issue_uri"),
        date_worked: fields.date("date_worked"),
    })
}

/// The user a time is for: an existing, undeleted user, or 409.
async fn resolve_user(
    conn: &impl ConnectionTrait,
    name: &str,
) -> Result<crate::storage::users::UserRow> {
    let invalid = || Error::foreign_key("time", "user");
    if !is_username(name) {
        return Err(invalid());
    }
    storage::users::find_by_username(conn, name)
        .await?
        .filter(|u| u.deleted_at.is_none())
        .ok_or_else(invalid)
}

async fn resolve_project(conn: &impl ConnectionTrait, slug: &str) -> Result<String> {
    store::project_uuids_by_slugs(conn, std::slice::from_ref(&slug.to_owned()))
        .await?
        .remove(slug)
        .ok_or(Error::foreign_key("time", "project"))
}

async fn resolve_activities(conn: &impl ConnectionTrait, slugs: &[String]) -> Result<Vec<String>> {
    let found = store::activity_uuids_by_slugs(conn, slugs).await?;
    slugs
        .iter()
        .map(|s| {
            found
                .get(s)
                .cloned()
                .ok_or(Error::foreign_key("time", "activities"))
        })
        .collect()
}

/// Keeps the project and activities a write newly points a time at from
/// being deleted under it (see `store::hold_references`); one already
/// deleted is an invalid reference. References a time already had need no
/// hold: a delete sees the time's current revision and refuses.
async fn hold_references(
    conn: &impl ConnectionTrait,
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
async fn is_member(conn: &impl ConnectionTrait, project_uuid: &str, user_id: i64) -> Result<bool> {
    Ok(store::project_role(conn, project_uuid, user_id)
        .await?
        .is_some_and(|r| r.member))
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

    let tx = db.begin_write().await?;
    let user = resolve_user(&*tx, &username).await?;
    let project_uuid = resolve_project(&*tx, &project_slug).await?;
    let activity_uuids = match activity_slugs {
        Some(slugs) => resolve_activities(&*tx, &slugs).await?,
        None => match store::default_activity(&*tx, &project_uuid).await? {
            Some(default) => vec![default],
            None => return Err(Error::missing_field("time", "activities")),
        },
    };
    hold_references(&*tx, Some(&project_uuid), &activity_uuids).await?;
    // Permissions last: logging time for someone else is for site admins.
    if user.id != caller.id {
        caller.require(caller.is_admin(), &action::create_times_for(&user.username))?;
    }
    if !caller.is_admin() {
        let member = is_member(&*tx, &project_uuid, caller.id).await?;
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
            activity_uuids,
        },
    )
    .await?;
    let view = one(&*tx, row, false).await?;
    tx.commit().await?;
    Ok(view)
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

    let tx = db.begin_write().await?;
    let current = store::lock_current(&*tx, &uuid)
        .await?
        .ok_or(Error::NotFound("time"))?;
    let user_id = match &username {
        Some(name) => resolve_user(&*tx, name).await?.id,
        None => current.user_id,
    };
    let project_uuid = match &project_slug {
        Some(slug) => resolve_project(&*tx, slug).await?,
        None => current.project_uuid.clone(),
    };
    let current_activities = store::activity_uuids_of(&*tx, current.id).await?;
    let activity_uuids = match &activity_slugs {
        Some(slugs) => resolve_activities(&*tx, slugs).await?,
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
        let member = is_member(&*tx, &project_uuid, user_id).await?;
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
            activity_uuids,
        },
    )
    .await?;
    let view = one(&*tx, row, false).await?;
    tx.commit().await?;
    Ok(view)
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

#[cfg(test)]
mod tests {
    //! A list page must cost the same number of queries whatever its size
    //! (no query per time): counted through a wrapper connection.

    use std::sync::atomic::{AtomicUsize, Ordering};

    use sea_orm::{
        ActiveValue::Set, DatabaseConnection, DbBackend, DbErr, EntityTrait, ExecResult,
        QueryResult, Statement,
    };
    use sea_orm_migration::async_trait::async_trait;

    use super::*;
    use crate::storage::entities::{activity, project, project_slug, project_user};
    use crate::storage::users::{self, NewUser};

    /// Delegates to a real connection, counting the statements sent.
    struct Counting<'a> {
        inner: &'a DatabaseConnection,
        queries: AtomicUsize,
    }

    #[async_trait]
    impl ConnectionTrait for Counting<'_> {
        fn get_database_backend(&self) -> DbBackend {
            self.inner.get_database_backend()
        }
        async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
            self.queries.fetch_add(1, Ordering::SeqCst);
            self.inner.execute_raw(stmt).await
        }
        async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
            self.queries.fetch_add(1, Ordering::SeqCst);
            self.inner.execute_unprepared(sql).await
        }
        async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
            self.queries.fetch_add(1, Ordering::SeqCst);
            self.inner.query_one_raw(stmt).await
        }
        async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
            self.queries.fetch_add(1, Ordering::SeqCst);
            self.inner.query_all_raw(stmt).await
        }
    }

    /// A database with `n` times (two activities and two revisions each)
    /// spread over `n` users and `n` projects; returns it and a plain
    /// caller who spectates every project.
    async fn database_with_times(dir: &std::path::Path, n: usize) -> (Db, Caller) {
        let url = format!("sqlite://{}", dir.join("t.sqlite3").display());
        let db = Db::connect(&url.parse().unwrap()).await.unwrap();
        db.migrate().await.unwrap();
        let conn = db.conn();
        let now = storage::now_millis();
        let viewer = users::insert(
            conn,
            NewUser {
                username: "viewer".into(),
                active: true,
                ..Default::default()
            },
            now,
        )
        .await
        .unwrap();
        let mut activity_uuids = Vec::new();
        for slug in ["dev", "docs"] {
            let uuid = uuid::Uuid::new_v4().to_string();
            activity::Entity::insert(activity::ActiveModel {
                uuid: Set(uuid.clone()),
                revision: Set(1),
                newest: Set(true),
                name: Set(slug.into()),
                slug: Set(Some(slug.into())),
                live_slug: Set(Some(slug.into())),
                created_at: Set(now),
                sort_at: Set(now),
                ..Default::default()
            })
            .exec(conn)
            .await
            .unwrap();
            activity_uuids.push(uuid);
        }
        for i in 0..n {
            let user = users::insert(
                conn,
                NewUser {
                    username: format!("user{i}"),
                    active: true,
                    ..Default::default()
                },
                now,
            )
            .await
            .unwrap();
            let project_uuid = uuid::Uuid::new_v4().to_string();
            project::Entity::insert(project::ActiveModel {
                uuid: Set(project_uuid.clone()),
                revision: Set(1),
                newest: Set(true),
                name: Set(format!("p{i}")),
                created_at: Set(now),
                sort_at: Set(now),
                ..Default::default()
            })
            .exec(conn)
            .await
            .unwrap();
            project_slug::Entity::insert(project_slug::ActiveModel {
                slug: Set(format!("p{i}")),
                project_uuid: Set(project_uuid.clone()),
            })
            .exec_without_returning(conn)
            .await
            .unwrap();
            project_user::Entity::insert(project_user::ActiveModel {
                project_uuid: Set(project_uuid.clone()),
                user_id: Set(viewer.id),
                member: Set(false),
                spectator: Set(true),
                manager: Set(false),
            })
            .exec_without_returning(conn)
            .await
            .unwrap();
            let base = NewRevision {
                uuid: uuid::Uuid::new_v4().to_string(),
                revision: 1,
                user_id: user.id,
                project_uuid,
                duration: 60,
                notes: None,
                issue_uri: None,
                date_worked: chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap(),
                created_at: now,
                updated_at: None,
                activity_uuids: activity_uuids.clone(),
            };
            let first = store::insert_revision(conn, base.clone()).await.unwrap();
            store::retire(conn, first.id).await.unwrap();
            let second = NewRevision {
                revision: 2,
                duration: 90,
                updated_at: Some(now + 1),
                ..base
            };
            store::insert_revision(conn, second).await.unwrap();
        }
        let caller = Caller {
            id: viewer.id,
            username: "viewer".into(),
            site_spectator: false,
            site_manager: false,
            site_admin: false,
        };
        (db, caller)
    }

    /// Queries spent listing every time with revisions and filters.
    async fn queries_for(n: usize) -> usize {
        let dir = tempfile::tempdir().unwrap();
        let (db, caller) = database_with_times(dir.path(), n).await;
        let counting = Counting {
            inner: db.conn(),
            queries: AtomicUsize::new(0),
        };
        let query = TimeQuery {
            activities: vec!["dev".into()],
            start: Some("2014-12-31".into()),
            include_revisions: true,
            ..Default::default()
        };
        let listing = list_on(&counting, None, &caller, &query, Page::default())
            .await
            .unwrap();
        assert_eq!(listing.items.len(), n);
        assert_eq!(listing.total, n as u64);
        for item in &listing.items {
            assert_eq!(item.activities, vec!["dev", "docs"]);
            assert_eq!(item.project.len(), 1);
            assert!(item.user.starts_with("user"));
            let parents = item.parents.as_ref().unwrap();
            assert_eq!(parents.len(), 1);
            assert_eq!(parents[0].activities, vec!["dev", "docs"]);
        }
        counting.queries.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn list_query_count_does_not_grow_with_the_page() {
        let small = queries_for(2).await;
        let large = queries_for(60).await;
        assert_eq!(small, large);
        // activity lookup, count, page, parents, users, project slugs,
        // time activities, activity slugs.
        assert_eq!(small, 8);
    }
}
