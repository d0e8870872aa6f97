//! `timesync seed`: fills an empty database with a realistic, reproducible
//! data set for benchmarks and demos — project roles, several slugs per
//! project, 1–3 activities per time, some revisions and deletions.
//!
//! Rows are generated in memory batch by batch and written with multi-row
//! inserts inside one transaction, so 100,000 times take seconds.

use std::collections::BTreeSet;

use anyhow::{ensure, Context};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait};

use crate::domain::passwords;
use crate::storage::entities::{
    activity, project, project_slug, project_user, time, time_activity, user,
};
use crate::storage::{self, Db};

/// Rows per INSERT statement (well under every backend's parameter limit).
const BATCH: usize = 500;
const DAY_MS: i64 = 86_400_000;

/// What to generate.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// Ordinary users (user1 … userN, password "password").
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    #[arg(long, default_value_t = 100)]
    pub projects: usize,
    #[arg(long, default_value_t = 20)]
    pub activities: usize,
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

/// Fills `db`, which must hold no users yet.
pub async fn seed(db: &Db, args: &SeedArgs) -> anyhow::Result<SeedReport> {
    ensure!(
        storage::users::count(db.conn()).await? == 0,
        "the database is not empty: seed only fills a fresh database"
    );
    ensure!(
        args.users > 0 && args.projects > 0 && args.activities > 0,
        "users, projects and activities must be at least 1"
    );
    let mut rng = StdRng::seed_from_u64(args.seed);
    // Every seeded time lies in the two years before this fixed instant, so
    // the same seed gives the same data whenever it runs.
    let epoch: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
    let user_hash = passwords::hash("password".into()).await?;
    let admin_hash = passwords::hash(args.admin_password.clone()).await?;
    let tx = db.begin_write().await?;

    // Users: admin is id 1, user{i} is id i + 1.
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
        created_at: Set(epoch - 800 * DAY_MS),
        updated_at: Set(Some(epoch - 800 * DAY_MS)),
        deleted_at: Set(None),
    }];
    for i in 1..=args.users {
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
            created_at: Set(epoch - 790 * DAY_MS),
            updated_at: Set(Some(epoch - 790 * DAY_MS)),
            deleted_at: Set(None),
        });
    }
    insert_batches(&*tx, users)
        .await
        .context("inserting users")?;

    // Activities; every tenth was renamed once (two revisions).
    let mut activity_uuids = Vec::with_capacity(args.activities);
    let mut activity_rows = Vec::new();
    let mut next_id = 1i64;
    for i in 1..=args.activities {
        let uuid = uuid(&mut rng);
        let slug = format!("activity{i}");
        let created = epoch - 780 * DAY_MS + i as i64 * 1000;
        let renamed = i % 10 == 0;
        if renamed {
            activity_rows.push(activity::ActiveModel {
                id: Set(next_id),
                uuid: Set(uuid.clone()),
                revision: Set(1),
                newest: Set(false),
                name: Set(format!("Old activity {i}")),
                slug: Set(Some(slug.clone())),
                live_slug: Set(None),
                created_at: Set(created),
                updated_at: Set(None),
                deleted_at: Set(None),
                sort_at: Set(created),
            });
            next_id += 1;
        }
        let updated = renamed.then_some(created + 10 * DAY_MS);
        activity_rows.push(activity::ActiveModel {
            id: Set(next_id),
            uuid: Set(uuid.clone()),
            revision: Set(if renamed { 2 } else { 1 }),
            newest: Set(true),
            name: Set(format!("Activity {i}")),
            slug: Set(Some(slug.clone())),
            live_slug: Set(Some(slug)),
            created_at: Set(created),
            updated_at: Set(updated),
            deleted_at: Set(None),
            sort_at: Set(updated.unwrap_or(created)),
        });
        next_id += 1;
        activity_uuids.push(uuid);
    }
    insert_batches(&*tx, activity_rows)
        .await
        .context("inserting activities")?;

    // Projects with 1–3 slugs, a default activity on half of them, and
    // roles: one manager, 5–20 members, two spectators.
    let mut project_rows = Vec::new();
    let mut slug_rows = Vec::new();
    let mut role_rows = Vec::new();
    let mut members_of: Vec<Vec<i64>> = Vec::with_capacity(args.projects);
    let mut project_uuids = Vec::with_capacity(args.projects);
    for i in 1..=args.projects {
        let uuid = uuid(&mut rng);
        let created = epoch - 770 * DAY_MS + i as i64 * 1000;
        project_rows.push(project::ActiveModel {
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
            let slug = if s == 0 {
                format!("project{i}")
            } else {
                format!("p{i}-alias{s}")
            };
            slug_rows.push(project_slug::ActiveModel {
                slug: Set(slug),
                project_uuid: Set(uuid.clone()),
            });
        }
        let member_count = rng.random_range(5..=20).min(args.users);
        let mut chosen = BTreeSet::new();
        while chosen.len() < member_count {
            chosen.insert(rng.random_range(1..=args.users) as i64 + 1);
        }
        let chosen: Vec<i64> = chosen.into_iter().collect();
        for (k, &user_id) in chosen.iter().enumerate() {
            role_rows.push(project_user::ActiveModel {
                project_uuid: Set(uuid.clone()),
                user_id: Set(user_id),
                member: Set(true),
                spectator: Set(k == 1 || k == 2),
                manager: Set(k == 0),
            });
        }
        members_of.push(chosen);
        project_uuids.push(uuid);
    }
    insert_batches(&*tx, project_rows)
        .await
        .context("inserting projects")?;
    insert_batches(&*tx, slug_rows)
        .await
        .context("inserting project slugs")?;
    insert_batches(&*tx, role_rows)
        .await
        .context("inserting project roles")?;

    // Times: 5% were edited once (two revisions), 2% are deleted.
    let mut report = SeedReport {
        users: args.users + 1,
        activities: args.activities,
        projects: args.projects,
        ..Default::default()
    };
    let mut row_id = 0i64;
    let mut time_rows = Vec::with_capacity(BATCH * 2);
    let mut link_rows = Vec::with_capacity(BATCH * 4);
    for i in 0..args.times {
        let p = rng.random_range(0..args.projects);
        let members = &members_of[p];
        let user_id = members[rng.random_range(0..members.len())];
        let n_acts = rng.random_range(1..=3usize).min(activity_uuids.len());
        let mut acts = BTreeSet::new();
        while acts.len() < n_acts {
            acts.insert(rng.random_range(0..activity_uuids.len()));
        }
        let day = rng.random_range(1..730i64);
        let date = chrono::DateTime::from_timestamp_millis(epoch - day * DAY_MS)
            .expect("in range")
            .date_naive();
        let created = epoch - day * DAY_MS + rng.random_range(0..DAY_MS);
        let duration = rng.random_range(1..=32) * 900;
        let uuid = uuid(&mut rng);
        let edited = i % 20 == 7;
        let deleted = i % 50 == 3;
        let revisions = if edited { 2 } else { 1 };
        for revision in 1..=revisions {
            row_id += 1;
            let newest = revision == revisions;
            let updated = (revision > 1).then_some(created + DAY_MS);
            time_rows.push(time::ActiveModel {
                id: Set(row_id),
                uuid: Set(uuid.clone()),
                revision: Set(revision),
                newest: Set(newest),
                user_id: Set(user_id),
                project_uuid: Set(project_uuids[p].clone()),
                duration: Set(duration + (revision - 1) * 600),
                notes: Set(Some(format!("Seeded time {i}, revision {revision}"))),
                issue_uri: Set(
                    (i % 3 == 0).then(|| format!("https://code.example.org/issues/{}", i % 997))
                ),
                date_worked: Set(date),
                created_at: Set(created),
                updated_at: Set(updated),
                deleted_at: Set((newest && deleted).then_some(created + 2 * DAY_MS)),
                sort_at: Set(updated.unwrap_or(created)),
            });
            for &a in &acts {
                link_rows.push(time_activity::ActiveModel {
                    time_id: Set(row_id),
                    activity_uuid: Set(activity_uuids[a].clone()),
                });
            }
            report.time_revisions += 1;
        }
        report.times += 1;
        if time_rows.len() >= BATCH {
            insert_batches(&*tx, std::mem::take(&mut time_rows))
                .await
                .context("inserting times")?;
            insert_batches(&*tx, std::mem::take(&mut link_rows))
                .await
                .context("inserting time activities")?;
        }
    }
    insert_batches(&*tx, time_rows)
        .await
        .context("inserting times")?;
    insert_batches(&*tx, link_rows)
        .await
        .context("inserting time activities")?;
    storage::reset_id_sequences(&*tx)
        .await
        .context("moving id sequences on")?;
    tx.commit().await?;
    storage::analyze(db.conn())
        .await
        .context("gathering statistics")?;
    Ok(report)
}
