//! `timesync import-node --from URL`: moves a database of the Node.js
//! reference implementation (timesync-node, knex schema) into this one.
//!
//! The reference keeps one row per revision (`newest` marks the current
//! one; all revisions share a `uuid`), stores every time as BIGINT
//! milliseconds, and links slugs, roles and time activities to a row id of
//! any revision. Row ids are kept, so revision rows keep their identity.
//!
//! Mapping decisions:
//! - `projectslugs` become `project_slugs` of the project's uuid, except for
//!   projects whose current revision is deleted (their slugs are free,
//!   just as a DELETE here removes a project's slugs).
//! - `userroles` become `project_users` by project uuid; several rows for one
//!   (project, user) merge, each role held if any row grants it.
//! - `timesactivities` are keyed by time ROW here too. A revision row the
//!   reference links no activity to inherits the activities of the closest
//!   earlier revision that has some (revisions before the first linked one
//!   take the first linked one's), on the reading that activities stay as
//!   they were set until an edit sets them again.
//! - activities: `live_slug` is the slug of the current, undeleted row only.
//! - `sort_at` = `updated_at` or else `created_at`; `username_key` is the
//!   lower-cased username; `date_worked` becomes the UTC date of its instant;
//!   uuids are stored lower-case and hyphenated (PostgreSQL `uuid` columns
//!   are read too); booleans may be 0/1 integers; a NULL flag is false
//!   (`active`: true).
//! - Checks beyond the schema's: each (uuid, revision) once, exactly one
//!   newest row per object, no two live activities on one slug, usernames
//!   distinct in any letter case, texts within this schema's lengths,
//!   timestamps between 1970 and 9999.
//!
//! Memory: rows stream from the source in batches, but the import keeps
//! per-row maps (row id → uuid, revisions per uuid, activity links) to
//! resolve references; for a 50,000-time reference database (52,500 time
//! rows) peak RSS was 46 MB (debug build, `/usr/bin/time -v`).
//!
//! Every row is checked as it is read, and the whole import is one
//! transaction: any error leaves the target untouched and names the table
//! and row id.

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{anyhow, bail, Context};
use futures::TryStreamExt;
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, Iterable, ModelTrait,
    QueryResult, Statement, StreamTrait, Value,
};
use uuid::Uuid;

use super::{BatchInsert, Table};
use crate::config::DatabaseUrl;
use crate::domain::validate::{
    username_key, MAX_IDENT_LEN, MAX_NAME_LEN, MAX_TEXT_LEN, MAX_URI_LEN,
};
use crate::progress::Progress;
use crate::storage::entities::{activity, project, project_slug, project_user, time, user};
use crate::storage::{Db, Tx};

/// Length limits of this schema's text columns.
#[derive(Clone, Copy, Debug)]
enum Limit {
    Chars(usize),
    Long,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Chars(n) => write!(f, "at most {n} characters"),
            Limit::Long => write!(f, "at most {MAX_TEXT_LEN} bytes"),
        }
    }
}

const IDENT: Limit = Limit::Chars(MAX_IDENT_LEN);
const NAME: Limit = Limit::Chars(MAX_NAME_LEN);
const URI: Limit = Limit::Chars(MAX_URI_LEN);

/// Latest instant accepted: the end of year 9999.
const MAX_MILLIS: i64 = 253_402_300_799_999;

/// What was imported, for the summary line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub users: u64,
    pub activities: u64,
    pub activity_revisions: u64,
    pub projects: u64,
    pub project_revisions: u64,
    pub project_slugs: u64,
    pub project_roles: u64,
    pub times: u64,
    pub time_revisions: u64,
    pub time_activities: u64,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "users: {}", self.users)?;
        writeln!(
            f,
            "activities: {} ({} revisions)",
            self.activities, self.activity_revisions
        )?;
        writeln!(
            f,
            "projects: {} ({} revisions, {} slugs, {} project roles)",
            self.projects, self.project_revisions, self.project_slugs, self.project_roles
        )?;
        write!(
            f,
            "times: {} ({} revisions, {} time activities)",
            self.times, self.time_revisions, self.time_activities
        )
    }
}

/// The source URL: a sqlite:, postgres:// or mysql:// URL, or the path of
/// a SQLite file (opened read-only; never created).
pub fn source_url(from: &str) -> anyhow::Result<String> {
    if from.contains("://") || from.starts_with("sqlite:") {
        let url: DatabaseUrl = from.parse().map_err(|e: String| anyhow!(e))?;
        return Ok(url.expose().to_owned());
    }
    let path = std::path::Path::new(from);
    if !path.is_file() {
        bail!("{from} is neither a database URL nor an existing SQLite file");
    }
    Ok(format!("sqlite://{}?mode=ro", path.display()))
}

/// Imports the reference database at `from` into `db` (empty, migrated),
/// counting the source rows read on `progress`.
pub async fn import_node(db: &Db, from: &str, progress: &Progress) -> anyhow::Result<Counts> {
    let url = source_url(from)?;
    let source = sea_orm::Database::connect(url.as_str())
        .await
        .with_context(|| format!("cannot open the timesync-node database {from}"))?;
    let result = copy(
        db,
        Reader {
            source: &source,
            progress,
        },
    )
    .await;
    let _ = source.close().await;
    result
}

async fn copy(db: &Db, reader: Reader<'_>) -> anyhow::Result<Counts> {
    let progress = reader.progress;
    db.load(
        |stage| progress.set_stage(stage),
        |tx| async move {
            super::ensure_empty(&tx).await?;
            reader.count_all().await?;
            let mut import = NodeImport::new(&tx, reader);
            import.users().await?;
            import.activities().await?;
            import.projects().await?;
            import.project_slugs().await?;
            import.project_roles().await?;
            import.times().await?;
            import.time_activities().await?;
            Ok(import.counts)
        },
    )
    .await
}

/// The source columns each step reads.
const USER_COLUMNS: &[&str] = &[
    "id",
    "username",
    "password",
    "display_name",
    "email",
    "site_spectator",
    "site_manager",
    "site_admin",
    "active",
    "created_at",
    "updated_at",
    "deleted_at",
    "meta",
];
const ACTIVITY_COLUMNS: &[&str] = &[
    "id",
    "name",
    "slug",
    "created_at",
    "updated_at",
    "deleted_at",
    "uuid",
    "revision",
    "newest",
];
const PROJECT_COLUMNS: &[&str] = &[
    "id",
    "name",
    "uri",
    "default_activity",
    "created_at",
    "updated_at",
    "deleted_at",
    "uuid",
    "revision",
    "newest",
];
const ROLE_COLUMNS: &[&str] = &["id", "project", "user", "manager", "member", "spectator"];
const TIME_COLUMNS: &[&str] = &[
    "id",
    "duration",
    "user",
    "project",
    "notes",
    "issue_uri",
    "date_worked",
    "created_at",
    "updated_at",
    "deleted_at",
    "uuid",
    "revision",
    "newest",
];

/// One import, one step per source table in foreign-key order. The steps
/// share the target transaction, the source, the counts, and what earlier
/// tables resolved for the references of later ones.
struct NodeImport<'a> {
    tx: &'a Tx,
    reader: Reader<'a>,
    counts: Counts,
    /// Row ids of `users`.
    user_ids: HashSet<i64>,
    /// Activity objects, and the object uuid of each activity row id.
    activities: Revisions,
    activity_uuids: HashMap<i64, Uuid>,
    /// Project objects, and the object uuid of each project row id.
    projects: Revisions,
    project_uuids: HashMap<i64, Uuid>,
    /// Time uuid → its revision rows (revision, row id), for the links.
    time_rows: HashMap<Uuid, Vec<(i32, i64)>>,
    /// Row ids of `times`.
    time_ids: HashSet<i64>,
}

impl<'a> NodeImport<'a> {
    fn new(tx: &'a Tx, reader: Reader<'a>) -> Self {
        Self {
            tx,
            reader,
            counts: Counts::default(),
            user_ids: HashSet::new(),
            activities: Revisions::default(),
            activity_uuids: HashMap::new(),
            projects: Revisions::default(),
            project_uuids: HashMap::new(),
            time_rows: HashMap::new(),
            time_ids: HashSet::new(),
        }
    }

    /// `users`: usernames distinct in any letter case.
    async fn users(&mut self) -> anyhow::Result<()> {
        let mut username_keys = HashSet::new();
        let mut batch = BatchInsert::new(Table::Users);
        let mut rows = self.reader.rows("users", USER_COLUMNS).await?;
        while let Some(row) = rows.next().await? {
            let username = row.text_max("username", IDENT)?;
            let key = username_key(&username);
            if !username_keys.insert(key.clone()) {
                return Err(row.error(format!(
                    "username {username} differs from another user's only in letter case"
                )));
            }
            let model = user::Model {
                id: row.id,
                username,
                username_key: key,
                password: row.opt_text_max("password", NAME)?,
                display_name: row.opt_text_max("display_name", NAME)?,
                email: row.opt_text_max("email", NAME)?,
                site_spectator: row.flag("site_spectator", false)?,
                site_manager: row.flag("site_manager", false)?,
                site_admin: row.flag("site_admin", false)?,
                active: row.flag("active", true)?,
                meta: row.opt_text_max("meta", Limit::Long)?,
                created_at: row.millis("created_at")?,
                updated_at: row.opt_millis("updated_at")?,
                deleted_at: row.opt_millis("deleted_at")?,
            };
            self.user_ids.insert(model.id);
            batch.push(self.tx, values(&model)).await?;
        }
        batch.flush(self.tx).await?;
        self.counts.users = batch.count;
        Ok(())
    }

    /// `activities`: `live_slug` for the current, undeleted row only, and
    /// no two live activities on one slug.
    async fn activities(&mut self) -> anyhow::Result<()> {
        let mut live_slugs = HashSet::new();
        let mut batch = BatchInsert::new(Table::Activities);
        let mut rows = self.reader.rows("activities", ACTIVITY_COLUMNS).await?;
        while let Some(row) = rows.next().await? {
            let RevisionColumns {
                uuid,
                revision,
                newest,
                created_at,
                updated_at,
                deleted_at,
            } = self.activities.read(&row)?;
            let slug = row.opt_text_max("slug", IDENT)?;
            let live_slug = if newest && deleted_at.is_none() {
                slug.clone()
            } else {
                None
            };
            if let Some(live) = &live_slug {
                if !live_slugs.insert(live.clone()) {
                    return Err(row.error(format!("slug {live} belongs to another activity too")));
                }
            }
            let model = activity::Model {
                id: row.id,
                uuid: text(uuid),
                revision,
                newest,
                name: row.text_max("name", NAME)?,
                slug,
                live_slug,
                created_at,
                updated_at,
                deleted_at,
                sort_at: updated_at.unwrap_or(created_at),
            };
            self.activity_uuids.insert(row.id, uuid);
            batch.push(self.tx, values(&model)).await?;
        }
        (self.counts.activities, self.counts.activity_revisions) =
            self.activities.finish(batch, self.tx, "activities").await?;
        Ok(())
    }

    /// `projects`: a default activity must be an activity.
    async fn projects(&mut self) -> anyhow::Result<()> {
        let mut batch = BatchInsert::new(Table::Projects);
        let mut rows = self.reader.rows("projects", PROJECT_COLUMNS).await?;
        while let Some(row) = rows.next().await? {
            let RevisionColumns {
                uuid,
                revision,
                newest,
                created_at,
                updated_at,
                deleted_at,
            } = self.projects.read(&row)?;
            let default_activity = match row.opt_uuid("default_activity")? {
                None => None,
                Some(uuid) if self.activities.contains(uuid) => Some(text(uuid)),
                Some(uuid) => {
                    return Err(row.error(format!("default_activity {uuid} is not an activity")))
                }
            };
            let model = project::Model {
                id: row.id,
                uuid: text(uuid),
                revision,
                newest,
                name: row.text_max("name", NAME)?,
                uri: row.opt_text_max("uri", URI)?,
                default_activity,
                created_at,
                updated_at,
                deleted_at,
                sort_at: updated_at.unwrap_or(created_at),
            };
            self.project_uuids.insert(row.id, uuid);
            batch.push(self.tx, values(&model)).await?;
        }
        (self.counts.projects, self.counts.project_revisions) =
            self.projects.finish(batch, self.tx, "projects").await?;
        Ok(())
    }

    /// `projectslugs` → `project_slugs`, of live projects only.
    async fn project_slugs(&mut self) -> anyhow::Result<()> {
        let mut batch = BatchInsert::new(Table::ProjectSlugs);
        let columns = &["id", "name", "project"];
        let mut rows = self.reader.rows("projectslugs", columns).await?;
        while let Some(row) = rows.next().await? {
            let project_uuid = row.reference("project", "projects", &self.project_uuids)?;
            if self.projects.is_deleted(project_uuid) {
                continue;
            }
            let model = project_slug::Model {
                slug: row.text_max("name", IDENT)?,
                project_uuid: text(project_uuid),
            };
            batch.push(self.tx, values(&model)).await?;
        }
        batch.flush(self.tx).await?;
        self.counts.project_slugs = batch.count;
        Ok(())
    }

    /// `userroles` → `project_users`, merged per (project, user): each role
    /// held if any row grants it.
    async fn project_roles(&mut self) -> anyhow::Result<()> {
        let mut roles: BTreeMap<(Uuid, i64), [bool; 3]> = BTreeMap::new();
        let mut rows = self.reader.rows("userroles", ROLE_COLUMNS).await?;
        while let Some(row) = rows.next().await? {
            let project_uuid = row.reference("project", "projects", &self.project_uuids)?;
            let user_id = self.user(&row)?;
            let granted = [
                row.flag("member", false)?,
                row.flag("spectator", false)?,
                row.flag("manager", false)?,
            ];
            let held = roles.entry((project_uuid, user_id)).or_insert([false; 3]);
            for (h, g) in held.iter_mut().zip(granted) {
                *h |= g;
            }
        }
        let mut batch = BatchInsert::new(Table::ProjectUsers);
        for ((project_uuid, user_id), [member, spectator, manager]) in roles {
            let model = project_user::Model {
                project_uuid: text(project_uuid),
                user_id,
                member,
                spectator,
                manager,
            };
            batch.push(self.tx, values(&model)).await?;
        }
        batch.flush(self.tx).await?;
        self.counts.project_roles = batch.count;
        Ok(())
    }

    /// The `user` column of `row`: a row id of `users`.
    fn user(&self, row: &SourceRow) -> anyhow::Result<i64> {
        let user_id = row.int("user")?;
        if !self.user_ids.contains(&user_id) {
            return Err(row.error(format!("user {user_id} is not a row of users")));
        }
        Ok(user_id)
    }

    /// `times`: milliseconds to this schema's columns; `date_worked`
    /// becomes the UTC date of its instant.
    async fn times(&mut self) -> anyhow::Result<()> {
        let mut times = Revisions::default();
        let mut batch = BatchInsert::new(Table::Times);
        let mut rows = self.reader.rows("times", TIME_COLUMNS).await?;
        while let Some(row) = rows.next().await? {
            let RevisionColumns {
                uuid,
                revision,
                newest,
                created_at,
                updated_at,
                deleted_at,
            } = times.read(&row)?;
            let user_id = self.user(&row)?;
            let project_uuid = row.uuid("project")?;
            if !self.projects.contains(project_uuid) {
                return Err(row.error(format!("project {project_uuid} is not a project")));
            }
            let duration = i32::try_from(row.int("duration")?)
                .map_err(|_| row.error("duration is out of range".into()))?;
            let date_worked = chrono::DateTime::from_timestamp_millis(row.millis("date_worked")?)
                .ok_or_else(|| row.error("date_worked is not a valid instant".into()))?
                .date_naive();
            let model = time::Model {
                id: row.id,
                uuid: text(uuid),
                revision,
                newest,
                user_id,
                project_uuid: text(project_uuid),
                duration,
                notes: row.opt_text_max("notes", Limit::Long)?,
                issue_uri: row.opt_text_max("issue_uri", URI)?,
                date_worked,
                created_at,
                updated_at,
                deleted_at,
                sort_at: updated_at.unwrap_or(created_at),
            };
            self.time_ids.insert(row.id);
            self.time_rows
                .entry(uuid)
                .or_default()
                .push((revision, row.id));
            batch.push(self.tx, values(&model)).await?;
        }
        (self.counts.times, self.counts.time_revisions) =
            times.finish(batch, self.tx, "times").await?;
        Ok(())
    }

    /// `timesactivities` → `time_activities` of every revision row: a row
    /// the reference links nothing to carries the closest earlier linked
    /// revision's activities (the first linked one's before it).
    async fn time_activities(&mut self) -> anyhow::Result<()> {
        // Time row id → its activities (few each: a Vec, without duplicates).
        let mut linked: HashMap<i64, Vec<Uuid>> = HashMap::new();
        let columns = &["id", "time", "activity"];
        let mut rows = self.reader.rows("timesactivities", columns).await?;
        while let Some(row) = rows.next().await? {
            let time_id = row.int("time")?;
            if !self.time_ids.contains(&time_id) {
                return Err(row.error(format!("time {time_id} is not a row of times")));
            }
            let activity_uuid = row.reference("activity", "activities", &self.activity_uuids)?;
            let activities = linked.entry(time_id).or_default();
            if !activities.contains(&activity_uuid) {
                activities.push(activity_uuid);
            }
        }
        let mut links: Vec<(i64, Uuid)> = Vec::new();
        for revisions in self.time_rows.values_mut() {
            revisions.sort_unstable();
            let mut carried = revisions.iter().find_map(|(_, id)| linked.get(id));
            for (_, id) in revisions.iter() {
                if let Some(own) = linked.get(id) {
                    carried = Some(own);
                }
                links.extend(carried.into_iter().flatten().map(|a| (*id, *a)));
            }
        }
        links.sort_unstable();
        let mut batch = BatchInsert::new(Table::TimeActivities);
        for (time_id, activity_uuid) in links {
            let row = vec![time_id.into(), text(activity_uuid).into()];
            batch.push(self.tx, row).await?;
        }
        batch.flush(self.tx).await?;
        self.counts.time_activities = batch.count;
        Ok(())
    }
}

/// A uuid as this schema stores it: lower-case, hyphenated.
fn text(uuid: Uuid) -> String {
    uuid.hyphenated().to_string()
}

/// A model's values in column order.
fn values<M: ModelTrait>(model: &M) -> Vec<Value> {
    <M::Entity as EntityTrait>::Column::iter()
        .map(|c| model.get(c))
        .collect()
}

/// Per object (uuid): checks each revision number occurs once and exactly
/// one row is the newest; remembers whether the current row is deleted.
#[derive(Default)]
struct Revisions {
    seen: HashSet<(Uuid, i32)>,
    /// uuid → (number of newest rows, newest row deleted).
    objects: HashMap<Uuid, (u32, bool)>,
}

/// The columns every revisioned table of the reference has.
struct RevisionColumns {
    uuid: Uuid,
    revision: i32,
    newest: bool,
    created_at: i64,
    updated_at: Option<i64>,
    deleted_at: Option<i64>,
}

impl Revisions {
    /// Reads the revision columns of `row` and records them.
    fn read(&mut self, row: &SourceRow) -> anyhow::Result<RevisionColumns> {
        let columns = RevisionColumns {
            uuid: row.uuid("uuid")?,
            revision: row.revision()?,
            newest: row.flag("newest", false)?,
            created_at: row.millis("created_at")?,
            updated_at: row.opt_millis("updated_at")?,
            deleted_at: row.opt_millis("deleted_at")?,
        };
        let (uuid, revision) = (columns.uuid, columns.revision);
        if !self.seen.insert((uuid, revision)) {
            return Err(row.error(format!("revision {revision} of {uuid} occurs twice")));
        }
        let object = self.objects.entry(uuid).or_insert((0, false));
        if columns.newest {
            object.0 += 1;
            object.1 = columns.deleted_at.is_some();
        }
        Ok(columns)
    }

    /// Writes the rest of a revisioned table's `batch` and checks its
    /// objects; returns (objects, revision rows).
    async fn finish(
        &self,
        mut batch: BatchInsert,
        tx: &Tx,
        table: &str,
    ) -> anyhow::Result<(u64, u64)> {
        batch.flush(tx).await?;
        self.check(table)?;
        Ok((self.objects(), batch.count))
    }

    fn check(&self, table: &str) -> anyhow::Result<()> {
        let mut wrong: Vec<(Uuid, u32)> = self
            .objects
            .iter()
            .filter(|(_, (n, _))| *n != 1)
            .map(|(uuid, (n, _))| (*uuid, *n))
            .collect();
        wrong.sort();
        if let Some((uuid, n)) = wrong.first() {
            bail!("{table}: object {uuid} has {n} rows marked newest (expected exactly one)");
        }
        Ok(())
    }

    fn objects(&self) -> u64 {
        self.objects.len() as u64
    }

    fn contains(&self, uuid: Uuid) -> bool {
        self.objects.contains_key(&uuid)
    }

    fn is_deleted(&self, uuid: Uuid) -> bool {
        self.objects.get(&uuid).is_some_and(|(_, deleted)| *deleted)
    }
}

/// The source tables, in the order they are read.
const SOURCE_TABLES: [&str; 7] = [
    "users",
    "activities",
    "projects",
    "projectslugs",
    "userroles",
    "times",
    "timesactivities",
];

/// Reads whole tables of the source, row by row, in id order, counting
/// the rows read on `progress`.
#[derive(Clone, Copy)]
struct Reader<'a> {
    source: &'a DatabaseConnection,
    progress: &'a Progress,
}

impl<'a> Reader<'a> {
    fn quote(&self, name: &str) -> String {
        match self.source.get_database_backend() {
            DatabaseBackend::MySql => format!("`{name}`"),
            _ => format!("\"{name}\""),
        }
    }

    /// Sets the progress total: the rows of every source table.
    async fn count_all(&self) -> anyhow::Result<()> {
        let backend = self.source.get_database_backend();
        let mut total = 0u64;
        for table in SOURCE_TABLES {
            let sql = format!("SELECT COUNT(*) AS n FROM {}", self.quote(table));
            let n: i64 = self
                .source
                .query_one_raw(Statement::from_string(backend, sql))
                .await
                .and_then(|row| row.map(|r| r.try_get("", "n")).transpose())
                .with_context(|| {
                    format!("counting the rows of the table {table} of the timesync-node database")
                })?
                .unwrap_or(0);
            total += u64::try_from(n).unwrap_or(0);
        }
        self.progress.set_length(total);
        Ok(())
    }

    async fn rows(&self, table: &'static str, columns: &[&str]) -> anyhow::Result<SourceRows<'a>> {
        let backend = self.source.get_database_backend();
        let list: Vec<String> = columns.iter().map(|c| self.quote(c)).collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            list.join(", "),
            self.quote(table),
            self.quote("id")
        );
        self.progress.set_stage(table);
        let stream = self
            .source
            .stream_raw(Statement::from_string(backend, sql))
            .await
            .with_context(|| format!("reading the table {table} of the timesync-node database"))?;
        Ok(SourceRows {
            table,
            stream: Box::pin(stream),
            progress: self.progress,
        })
    }
}

type RowStream<'a> =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<QueryResult, sea_orm::DbErr>> + Send + 'a>>;

struct SourceRows<'a> {
    table: &'static str,
    stream: RowStream<'a>,
    progress: &'a Progress,
}

impl SourceRows<'_> {
    async fn next(&mut self) -> anyhow::Result<Option<SourceRow>> {
        let table = self.table;
        let Some(result) =
            self.stream.try_next().await.with_context(|| {
                format!("reading the table {table} of the timesync-node database")
            })?
        else {
            return Ok(None);
        };
        self.progress.inc(1);
        let mut row = SourceRow {
            table,
            id: 0,
            row: result,
        };
        row.id = row
            .opt_int("id")
            .map_err(|_| anyhow!("{table}: a row has an id that is not an integer"))?
            .ok_or_else(|| anyhow!("{table}: a row has no id"))?;
        Ok(Some(row))
    }
}

/// One source row, with typed, checked accessors whose errors name the
/// table, the row id and the column.
struct SourceRow {
    table: &'static str,
    id: i64,
    row: QueryResult,
}

impl SourceRow {
    fn error(&self, what: String) -> anyhow::Error {
        anyhow!("{} row {}: {what}", self.table, self.id)
    }

    fn opt_int(&self, column: &str) -> anyhow::Result<Option<i64>> {
        let r = &self.row;
        if let Ok(v) = r.try_get::<Option<i64>>("", column) {
            return Ok(v);
        }
        if let Ok(v) = r.try_get::<Option<i32>>("", column) {
            return Ok(v.map(i64::from));
        }
        if let Ok(v) = r.try_get::<Option<u32>>("", column) {
            return Ok(v.map(i64::from));
        }
        if let Ok(v) = r.try_get::<Option<u64>>("", column) {
            if let Some(n) = v {
                return i64::try_from(n)
                    .map(Some)
                    .map_err(|_| self.error(format!("{column} is out of range")));
            }
            return Ok(None);
        }
        if let Ok(v) = r.try_get::<Option<i16>>("", column) {
            return Ok(v.map(i64::from));
        }
        Err(self.error(format!("{column} is not an integer")))
    }

    fn int(&self, column: &str) -> anyhow::Result<i64> {
        self.opt_int(column)?
            .ok_or_else(|| self.error(format!("{column} is missing")))
    }

    fn revision(&self) -> anyhow::Result<i32> {
        let n = self.int("revision")?;
        i32::try_from(n)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| self.error(format!("revision {n} is not a revision number")))
    }

    fn opt_millis(&self, column: &str) -> anyhow::Result<Option<i64>> {
        let value = self
            .opt_int(column)
            .map_err(|_| self.error(format!("{column} is not a timestamp (milliseconds)")))?;
        match value {
            Some(ms) if !(0..=MAX_MILLIS).contains(&ms) => Err(self.error(format!(
                "{column} {ms} is not a timestamp (milliseconds since 1970 up to year 9999)"
            ))),
            other => Ok(other),
        }
    }

    fn millis(&self, column: &str) -> anyhow::Result<i64> {
        self.opt_millis(column)?
            .ok_or_else(|| self.error(format!("{column} is missing")))
    }

    fn flag(&self, column: &str, default: bool) -> anyhow::Result<bool> {
        if let Ok(v) = self.row.try_get::<Option<bool>>("", column) {
            return Ok(v.unwrap_or(default));
        }
        match self.opt_int(column) {
            Ok(v) => Ok(v.map_or(default, |n| n != 0)),
            Err(_) => Err(self.error(format!("{column} is not a boolean"))),
        }
    }

    fn opt_text(&self, column: &str) -> anyhow::Result<Option<String>> {
        self.row
            .try_get::<Option<String>>("", column)
            .map_err(|_| self.error(format!("{column} is not text")))
    }

    /// A text column that must fit this schema's column: at most `max`
    /// characters (`Long` text: at most `MAX_TEXT_LEN` bytes, MySQL's TEXT).
    fn opt_text_max(&self, column: &str, max: Limit) -> anyhow::Result<Option<String>> {
        let value = self.opt_text(column)?;
        if let Some(v) = &value {
            let fits = match max {
                Limit::Chars(n) => v.chars().count() <= n,
                Limit::Long => v.len() <= MAX_TEXT_LEN,
            };
            if !fits {
                return Err(self.error(format!("{column} is too long for this schema ({max})")));
            }
        }
        Ok(value)
    }

    fn text_max(&self, column: &str, max: Limit) -> anyhow::Result<String> {
        self.opt_text_max(column, max)?
            .ok_or_else(|| self.error(format!("{column} is missing")))
    }

    /// A uuid column (text, or PostgreSQL's uuid type), normalised to
    /// lower-case hyphenated form.
    fn opt_uuid(&self, column: &str) -> anyhow::Result<Option<Uuid>> {
        if let Ok(v) = self.row.try_get::<Option<Uuid>>("", column) {
            return Ok(v);
        }
        match self.opt_text(column)? {
            None => Ok(None),
            Some(text) => Uuid::parse_str(&text)
                .map(Some)
                .map_err(|_| self.error(format!("{column} {text:?} is not a uuid"))),
        }
    }

    fn uuid(&self, column: &str) -> anyhow::Result<Uuid> {
        self.opt_uuid(column)?
            .ok_or_else(|| self.error(format!("{column} is missing")))
    }

    /// Resolves a row id of `target` (any revision) to its object's uuid.
    fn reference(
        &self,
        column: &str,
        target: &str,
        uuids: &HashMap<i64, Uuid>,
    ) -> anyhow::Result<Uuid> {
        let id = self.int(column)?;
        uuids
            .get(&id)
            .copied()
            .ok_or_else(|| self.error(format!("{column} {id} is not a row of {target}")))
    }
}
