//! `timesync seed`: fills an empty database with a realistic, reproducible
//! data set for benchmarks and demos — project roles, several slugs per
//! project, 1–3 activities per time, some revisions and deletions.
//!
//! Rows are generated in memory batch by batch (the times on a thread of
//! their own, alongside the database's work) and written with multi-row
//! inserts inside one bulk load (`Db::load`), so a million times take
//! well under a minute.

use std::collections::BTreeSet;

use anyhow::{ensure, Context};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, InsertMany, QueryTrait, Statement,
};
use tokio::sync::mpsc;

use crate::domain::passwords;
use crate::progress::Progress;
use crate::storage::entities::{
    activity, project, project_slug, project_user, time, time_activity, user,
};
use crate::storage::{self, Db, Tx};

/// Rows per INSERT statement (well under every backend's parameter limit).
const BATCH: usize = 500;
const DAY_MS: i64 = 86_400_000;

/// What to generate.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// Ordinary users (user1 … userN, password "password").
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// Projects (project1 … projectN, 1–3 slugs each, one manager and 5–20
    /// members; every other one has a default activity).
    #[arg(long, default_value_t = 100)]
    pub projects: usize,
    /// Activities (activity1 … activityN; every tenth was renamed once).
    #[arg(long, default_value_t = 20)]
    pub activities: usize,
    /// Times, spread over 2024–2025 with 1–3 activities each; 5% were
    /// edited once, 2% are deleted.
    #[arg(long, default_value_t = 50_000)]
    pub times: usize,
    /// Random seed: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Password of the site admin `admin`.
    #[arg(long, default_value = "admin")]
    pub admin_password: String,
}

/// Counts of what was written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub users: usize,
    pub activities: usize,
    pub projects: usize,
    pub times: usize,
    pub time_revisions: usize,
}

async fn insert_batches<A, C>(db: &C, rows: Vec<A>) -> Result<(), sea_orm::DbErr>
where
    A: ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(BATCH).collect();
        <A::Entity as EntityTrait>::insert_many(chunk)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random())
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Every seeded time lies in the two years before this fixed instant
/// (2026-01-01T00:00:00Z), so the same seed gives the same data whenever
/// it runs.
const EPOCH: i64 = 1_767_225_600_000;

/// Fills `db`, which must hold no users yet; counts the times generated
/// on `progress`.
pub async fn seed(db: &Db, args: &SeedArgs, progress: &Progress) -> anyhow::Result<SeedReport> {
    ensure!(
        storage::users::count(db.conn()).await? == 0,
        "the database is not empty: seed only fills a fresh database"
    );
    ensure!(
        args.users > 0 && args.projects > 0 && args.activities > 0,
        "users, projects and activities must be at least 1"
    );
    progress.set_length(args.times as u64);
    progress.set_stage("users");
    let user_hash = passwords::hash("password".into()).await?;
    let admin_hash = passwords::hash(args.admin_password.clone()).await?;
    db.load(
        |stage| progress.set_stage(stage),
        |tx| fill(tx, args, admin_hash, user_hash, progress),
    )
    .await
}

/// Inserts the seed's rows in `tx`.
async fn fill(
    tx: Tx,
    args: &SeedArgs,
    admin_hash: String,
    user_hash: String,
    progress: &Progress,
) -> anyhow::Result<SeedReport> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let tx = &tx;
    insert_batches(tx, users(args.users, admin_hash, user_hash))
        .await
        .context("inserting users")?;
    progress.set_stage("activities");
    let (activity_rows, activity_uuids) = activities(args.activities, &mut rng);
    insert_batches(tx, activity_rows)
        .await
        .context("inserting activities")?;
    progress.set_stage("projects");
    let projects = Projects::generate(args, &activity_uuids, &mut rng);
    insert_batches(tx, projects.rows)
        .await
        .context("inserting projects")?;
    insert_batches(tx, projects.slugs)
        .await
        .context("inserting project slugs")?;
    insert_batches(tx, projects.roles)
        .await
        .context("inserting project roles")?;
    let world = World {
        activity_uuids,
        project_uuids: projects.uuids,
        members_of: projects.members_of,
    };
    let mut report = SeedReport {
        users: args.users + 1,
        activities: args.activities,
        projects: args.projects,
        ..Default::default()
    };
    progress.set_stage("times");
    report.time_revisions = insert_times(tx, world, args.times, rng, progress).await?;
    report.times = args.times;
    Ok(report)
}

/// The site admin `admin` (id 1) and `user{i}` (id i + 1).
fn users(count: usize, admin_hash: String, user_hash: String) -> Vec<user::ActiveModel> {
    let mut users = vec![user::ActiveModel {
        id: Set(1),
        username: Set("admin".into()),
        username_key: Set("admin".into()),
        password: Set(Some(admin_hash)),
        display_name: Set(Some("Administrator".into())),
        email: Set(Some("admin@example.org".into())),
        site_spectator: Set(false),
        site_manager: Set(false),
        site_admin: Set(true),
        active: Set(true),
        meta: Set(None),
        created_at: Set(EPOCH - 800 * DAY_MS),
        updated_at: Set(Some(EPOCH - 800 * DAY_MS)),
        deleted_at: Set(None),
    }];
    for i in 1..=count {
        let name = format!("user{i}");
        users.push(user::ActiveModel {
            id: Set(i as i64 + 1),
            username_key: Set(name.clone()),
            display_name: Set(Some(format!("User {i}"))),
            email: Set(Some(format!("{name}@example.org"))),
            username: Set(name),
            password: Set(Some(user_hash.clone())),
            site_spectator: Set(i % 50 == 0),
            site_manager: Set(i % 100 == 0),
            site_admin: Set(false),
            active: Set(true),
            meta: Set(None),
            created_at: Set(EPOCH - 790 * DAY_MS),
            updated_at: Set(Some(EPOCH - 790 * DAY_MS)),
            deleted_at: Set(None),
        });
    }
    users
}

/// `activity{i}`, every tenth renamed once (two revisions); the rows and
/// the activities' uuids.
fn activities(count: usize, rng: &mut StdRng) -> (Vec<activity::ActiveModel>, Vec<String>) {
    let mut uuids = Vec::with_capacity(count);
    let mut rows = Vec::new();
    for i in 1..=count {
        let uuid = uuid(rng);
        let slug = format!("activity{i}");
        let created = EPOCH - 780 * DAY_MS + i as i64 * 1000;
        let renamed = i % 10 == 0;
        let row = |revision: i32, name: String, updated: Option<i64>| activity::ActiveModel {
            id: Set(rows.len() as i64 + revision as i64),
            uuid: Set(uuid.clone()),
            revision: Set(revision),
            newest: Set(revision == if renamed { 2 } else { 1 }),
            name: Set(name),
            slug: Set(Some(slug.clone())),
            live_slug: Set(None),
            created_at: Set(created),
            updated_at: Set(updated),
            deleted_at: Set(None),
            sort_at: Set(updated.unwrap_or(created)),
        };
        let mut current = if renamed {
            let old = row(1, format!("Old activity {i}"), None);
            let current = row(2, format!("Activity {i}"), Some(created + 10 * DAY_MS));
            rows.push(old);
            current
        } else {
            row(1, format!("Activity {i}"), None)
        };
        current.live_slug = Set(Some(slug.clone()));
        rows.push(current);
        uuids.push(uuid);
    }
    (rows, uuids)
}

/// Projects with 1–3 slugs, a default activity on every other one, and
/// roles: one manager, 5–20 members (two of them spectators too).
struct Projects {
    rows: Vec<project::ActiveModel>,
    slugs: Vec<project_slug::ActiveModel>,
    roles: Vec<project_user::ActiveModel>,
    uuids: Vec<String>,
    /// User ids of each project's members, in project order.
    members_of: Vec<Vec<i64>>,
}

impl Projects {
    fn generate(args: &SeedArgs, activity_uuids: &[String], rng: &mut StdRng) -> Projects {
        let mut projects = Projects {
            rows: Vec::with_capacity(args.projects),
            slugs: Vec::new(),
            roles: Vec::new(),
            uuids: Vec::with_capacity(args.projects),
            members_of: Vec::with_capacity(args.projects),
        };
        for i in 1..=args.projects {
            let uuid = uuid(rng);
            let created = EPOCH - 770 * DAY_MS + i as i64 * 1000;
            projects.rows.push(project::ActiveModel {
                id: Set(i as i64),
                uuid: Set(uuid.clone()),
                revision: Set(1),
                newest: Set(true),
                name: Set(format!("Project {i}")),
                uri: Set(Some(format!("https://code.example.org/project{i}"))),
                default_activity: Set((i % 2 == 0)
                    .then(|| activity_uuids[rng.random_range(0..activity_uuids.len())].clone())),
                created_at: Set(created),
                updated_at: Set(None),
                deleted_at: Set(None),
                sort_at: Set(created),
            });
            for s in 0..(1 + i % 3) {
                let slug = match s {
                    0 => format!("project{i}"),
                    _ => format!("p{i}-alias{s}"),
                };
                projects.slugs.push(project_slug::ActiveModel {
                    slug: Set(slug),
                    project_uuid: Set(uuid.clone()),
                });
            }
            let members = members(args.users, rng);
            for (k, &user_id) in members.iter().enumerate() {
                projects.roles.push(project_user::ActiveModel {
                    project_uuid: Set(uuid.clone()),
                    user_id: Set(user_id),
                    member: Set(true),
                    spectator: Set(k == 1 || k == 2),
                    manager: Set(k == 0),
                });
            }
            projects.members_of.push(members);
            projects.uuids.push(uuid);
        }
        projects
    }
}

/// 5–20 distinct user ids (at most every user), ascending.
fn members(users: usize, rng: &mut StdRng) -> Vec<i64> {
    let count = rng.random_range(5..=20).min(users);
    let mut chosen = BTreeSet::new();
    while chosen.len() < count {
        chosen.insert(rng.random_range(1..=users) as i64 + 1);
    }
    chosen.into_iter().collect()
}

/// What the times refer to.
struct World {
    activity_uuids: Vec<String>,
    project_uuids: Vec<String>,
    members_of: Vec<Vec<i64>>,
}

/// One INSERT of the times' rows, built by the generator.
struct Batch {
    statement: Statement,
    what: &'static str,
    /// Times generated since the previous batch (for the progress count).
    times: u64,
}

/// Inserts `count` times. They are generated, and their statements built,
/// on a blocking thread while this task executes the previous batches:
/// that half of the work (a third of a SQLite load) overlaps with the
/// database's. Returns the number of time rows (revisions) written.
async fn insert_times(
    tx: &impl ConnectionTrait,
    world: World,
    count: usize,
    rng: StdRng,
    progress: &Progress,
) -> anyhow::Result<usize> {
    let backend = tx.get_database_backend();
    let (sender, mut batches) = mpsc::channel(4);
    let generator =
        tokio::task::spawn_blocking(move || generate_times(&world, count, rng, backend, &sender));
    while let Some(batch) = batches.recv().await {
        tx.execute_raw(batch.statement).await.context(batch.what)?;
        progress.inc(batch.times);
    }
    generator.await.context("generating times")
}

/// Generates the times and sends their rows in INSERTs of `BATCH` rows
/// (only the last of each table is shorter, so the driver prepares two
/// statements, not one per batch), each time's activities after the time;
/// stops early when the receiver is gone (the load failed). Returns the
/// number of time rows.
fn generate_times(
    world: &World,
    count: usize,
    mut rng: StdRng,
    backend: DbBackend,
    sender: &mpsc::Sender<Batch>,
) -> usize {
    let mut time_rows = Vec::with_capacity(BATCH * 2);
    let mut link_rows: Vec<time_activity::ActiveModel> = Vec::with_capacity(BATCH * 4);
    let mut revisions = 0;
    let mut unreported = 0;
    let send = |statement, what, times| {
        sender
            .blocking_send(Batch {
                statement,
                what,
                times,
            })
            .is_ok()
    };
    let link_time = |link: &time_activity::ActiveModel| *link.time_id.try_as_ref().expect("set");
    for i in 0..count {
        revisions += time(
            i,
            world,
            &mut rng,
            &mut time_rows,
            &mut link_rows,
            revisions,
        );
        unreported += 1;
        let last = i + 1 == count;
        while time_rows.len() >= BATCH || (last && !time_rows.is_empty()) {
            let n = time_rows.len().min(BATCH);
            let chunk = InsertMany::many(time_rows.drain(..n)).build(backend);
            if !send(chunk, "inserting times", std::mem::take(&mut unreported)) {
                return revisions;
            }
        }
        // Row ids are 1…revisions; those still in `time_rows` are not in yet.
        let inserted = (revisions - time_rows.len()) as i64;
        while (link_rows.len() >= BATCH && link_time(&link_rows[BATCH - 1]) <= inserted)
            || (last && !link_rows.is_empty())
        {
            let n = link_rows.len().min(BATCH);
            let chunk = InsertMany::many(link_rows.drain(..n)).build(backend);
            if !send(chunk, "inserting time activities", 0) {
                return revisions;
            }
        }
    }
    revisions
}

/// Time number `i` with 1–3 activities: 5% were edited once (two
/// revisions), 2% are deleted. Pushes its rows (ids after `rows_before`)
/// and links; returns its number of revisions.
fn time(
    i: usize,
    world: &World,
    rng: &mut StdRng,
    time_rows: &mut Vec<time::ActiveModel>,
    link_rows: &mut Vec<time_activity::ActiveModel>,
    rows_before: usize,
) -> usize {
    let p = rng.random_range(0..world.project_uuids.len());
    let members = &world.members_of[p];
    let user_id = members[rng.random_range(0..members.len())];
    let activity_count = world.activity_uuids.len();
    let n_acts = rng.random_range(1..=3usize).min(activity_count);
    let mut acts = BTreeSet::new();
    while acts.len() < n_acts {
        acts.insert(rng.random_range(0..activity_count));
    }
    let day = rng.random_range(1..730i64);
    let date = chrono::DateTime::from_timestamp_millis(EPOCH - day * DAY_MS)
        .expect("in range")
        .date_naive();
    let created = EPOCH - day * DAY_MS + rng.random_range(0..DAY_MS);
    let duration = rng.random_range(1..=32) * 900;
    let uuid = uuid(rng);
    let revisions = if i % 20 == 7 { 2 } else { 1 };
    let deleted = i % 50 == 3;
    for revision in 1..=revisions {
        let row_id = (rows_before + revision as usize) as i64;
        let newest = revision == revisions;
        let updated = (revision > 1).then_some(created + DAY_MS);
        time_rows.push(time::ActiveModel {
            id: Set(row_id),
            uuid: Set(uuid.clone()),
            revision: Set(revision),
            newest: Set(newest),
            user_id: Set(user_id),
            project_uuid: Set(world.project_uuids[p].clone()),
            duration: Set(duration + (revision - 1) * 600),
            notes: Set(Some(format!("Seeded time {i}, revision {revision}"))),
            issue_uri: Set(i
                .is_multiple_of(3)
                .then(|| format!("https://code.example.org/issues/{}", i % 997))),
            date_worked: Set(date),
            created_at: Set(created),
            updated_at: Set(updated),
            deleted_at: Set((newest && deleted).then_some(created + 2 * DAY_MS)),
            sort_at: Set(updated.unwrap_or(created)),
        });
        for &a in &acts {
            link_rows.push(time_activity::ActiveModel {
                time_id: Set(row_id),
                activity_uuid: Set(world.activity_uuids[a].clone()),
            });
        }
    }
    revisions as usize
}
