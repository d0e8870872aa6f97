//! Moving databases: `import-node` from a timesync-node (knex) database,
//! and the lossless export → import → export round trip, on the current
//! backend and across all three.

use std::collections::BTreeSet;
use std::io::Cursor;

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder};
use serde_json::json;
use timesync::app::Application;
use timesync::progress::Progress;
use timesync::storage::entities::{
    activity, org_role, project, project_slug, project_user, time, time_activity, user,
    user_org_role,
};
use timesync::storage::{self, users::NewUser, Db};
use timesync::transfer::{self, Table};

use crate::helpers::*;

pub const A1: &str = "a1a1a1a1-0000-4000-8000-000000000001";
pub const A2: &str = "a2a2a2a2-0000-4000-8000-000000000002";
pub const A3: &str = "a3a3a3a3-0000-4000-8000-000000000003";
pub const P1: &str = "b1b1b1b1-0000-4000-8000-000000000001";
pub const P2: &str = "b2b2b2b2-0000-4000-8000-000000000002";
pub const P3: &str = "b3b3b3b3-0000-4000-8000-000000000003";
pub const T1: &str = "c1c1c1c1-0000-4000-8000-000000000001";
pub const T2: &str = "c2c2c2c2-0000-4000-8000-000000000002";
pub const T3: &str = "c3c3c3c3-0000-4000-8000-000000000003";
pub const T4: &str = "c4c4c4c4-0000-4000-8000-000000000004";

/// 2026-03-01T00:00:00Z and a later instant, in milliseconds.
const DAY: i64 = 1_772_323_200_000;
const LATER: i64 = DAY + 86_400_000 + 3_600_000;

/// The reference's knex schema in the dialect of `backend` (`{ID}` serial
/// key, `{BOOL}`, `{UUID}`; identifiers in double quotes).
const KNEX_SCHEMA: &[&str] = &[
    r#"CREATE TABLE "users" ("id" {ID}, "username" varchar(255) NOT NULL UNIQUE, "password" varchar(255), "display_name" varchar(255), "email" varchar(255), "site_spectator" {BOOL}, "site_manager" {BOOL}, "site_admin" {BOOL}, "active" {BOOL}, "created_at" bigint, "updated_at" bigint, "deleted_at" bigint, "meta" text)"#,
    r#"CREATE TABLE "activities" ("id" {ID}, "name" varchar(255), "slug" varchar(255), "created_at" bigint, "updated_at" bigint, "deleted_at" bigint, "uuid" {UUID}, "revision" integer, "newest" {BOOL})"#,
    r#"CREATE TABLE "projects" ("id" {ID}, "name" varchar(255), "uri" varchar(255), "default_activity" {UUID}, "created_at" bigint, "updated_at" bigint, "deleted_at" bigint, "uuid" {UUID}, "revision" integer, "newest" {BOOL})"#,
    r#"CREATE TABLE "times" ("id" {ID}, "duration" integer, "user" integer, "project" {UUID}, "notes" text, "issue_uri" varchar(255), "date_worked" bigint, "created_at" bigint, "updated_at" bigint, "deleted_at" bigint, "uuid" {UUID}, "revision" integer, "newest" {BOOL})"#,
    r#"CREATE TABLE "projectslugs" ("id" {ID}, "name" varchar(255) NOT NULL UNIQUE, "project" integer)"#,
    r#"CREATE TABLE "timesactivities" ("id" {ID}, "time" integer, "activity" integer)"#,
    r#"CREATE TABLE "userroles" ("id" {ID}, "project" integer, "user" integer, "manager" {BOOL}, "member" {BOOL}, "spectator" {BOOL})"#,
    r#"CREATE TABLE "knex_migrations" ("id" {ID}, "name" varchar(255), "batch" integer, "migration_time" bigint)"#,
    r#"CREATE TABLE "knex_migrations_lock" ("is_locked" integer)"#,
];

/// Statement `sql` (double-quoted identifiers, `{…}` types) for `backend`.
fn dialect(backend: Backend, sql: &str) -> String {
    let (id, boolean, uuid) = match backend {
        Backend::Sqlite => (
            "integer NOT NULL PRIMARY KEY AUTOINCREMENT",
            "boolean",
            "char(36)",
        ),
        // knex makes real uuid columns on PostgreSQL.
        Backend::Postgres => ("serial PRIMARY KEY", "boolean", "uuid"),
        Backend::Mysql => (
            "int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY",
            "tinyint(1)",
            "char(36)",
        ),
    };
    let sql = sql
        .replace("{ID}", id)
        .replace("{BOOL}", boolean)
        .replace("{UUID}", uuid);
    if backend == Backend::Mysql {
        sql.replace('"', "`")
    } else {
        sql
    }
}

/// A bcrypt hash of `password` (cheap cost: tests only).
fn hash(password: &str) -> String {
    bcrypt::hash(password, 4).expect("hash")
}

/// The rows of a reference database: revisions, a renamed slug, deletions,
/// default activities, project roles pointing at old revision rows.
pub fn knex_rows() -> Vec<String> {
    let (root, alice, bob, carol) = (hash("root"), hash("alice"), hash("Bob"), hash("carol"));
    vec![
        format!(
            r#"INSERT INTO "users" VALUES (1, 'root', '{root}', 'Root', 'root@example.org', FALSE, FALSE, TRUE, TRUE, {DAY}, {DAY}, NULL, NULL)"#
        ),
        format!(
            r#"INSERT INTO "users" VALUES (2, 'alice', '{alice}', 'Alice', NULL, FALSE, FALSE, FALSE, TRUE, {DAY}, NULL, NULL, 'likes tea')"#
        ),
        format!(
            r#"INSERT INTO "users" VALUES (3, 'Bob', '{bob}', NULL, 'bob@example.org', TRUE, FALSE, FALSE, TRUE, {DAY}, {LATER}, NULL, NULL)"#
        ),
        format!(
            r#"INSERT INTO "users" VALUES (4, 'carol', '{carol}', 'Carol', NULL, FALSE, FALSE, FALSE, FALSE, {DAY}, {LATER}, {LATER}, NULL)"#
        ),
        // A1 renamed dev-old → dev; A2 plain; A3 deleted (slug NULL on the deleted row).
        format!(
            r#"INSERT INTO "activities" VALUES (1, 'Development', 'dev-old', {DAY}, NULL, NULL, '{A1}', 1, FALSE)"#
        ),
        format!(
            r#"INSERT INTO "activities" VALUES (2, 'Development', 'dev', {DAY}, {LATER}, NULL, '{A1}', 2, TRUE)"#
        ),
        format!(
            r#"INSERT INTO "activities" VALUES (3, 'Docs', 'docs', {DAY}, NULL, NULL, '{A2}', 1, TRUE)"#
        ),
        format!(
            r#"INSERT INTO "activities" VALUES (4, 'Meetings', 'meet', {DAY}, NULL, NULL, '{A3}', 1, FALSE)"#
        ),
        format!(
            r#"INSERT INTO "activities" VALUES (5, 'Meetings', NULL, {DAY}, {LATER}, {LATER}, '{A3}', 2, TRUE)"#
        ),
        // P1 renamed, default activity changed; P2 one revision; P3 deleted.
        format!(
            r#"INSERT INTO "projects" VALUES (1, 'Proj One', 'https://example.org/one', '{A2}', {DAY}, NULL, NULL, '{P1}', 1, FALSE)"#
        ),
        format!(
            r#"INSERT INTO "projects" VALUES (2, 'Project One', 'https://example.org/one', '{A1}', {DAY}, {LATER}, NULL, '{P1}', 2, TRUE)"#
        ),
        format!(
            r#"INSERT INTO "projects" VALUES (3, 'Second', NULL, NULL, {DAY}, NULL, NULL, '{P2}', 1, TRUE)"#
        ),
        format!(
            r#"INSERT INTO "projects" VALUES (4, 'Gone', NULL, NULL, {DAY}, NULL, NULL, '{P3}', 1, FALSE)"#
        ),
        format!(
            r#"INSERT INTO "projects" VALUES (5, 'Gone', NULL, NULL, {DAY}, {LATER}, {LATER}, '{P3}', 2, TRUE)"#
        ),
        // Slugs point at any revision row of their project.
        r#"INSERT INTO "projectslugs" VALUES (1, 'p1', 1)"#.into(),
        r#"INSERT INTO "projectslugs" VALUES (2, 'one', 2)"#.into(),
        r#"INSERT INTO "projectslugs" VALUES (3, 'p2', 3)"#.into(),
        r#"INSERT INTO "projectslugs" VALUES (4, 'gone', 4)"#.into(),
        // alice: member (via the old row) + spectator; Bob: manager of P1, spectator of P2.
        r#"INSERT INTO "userroles" VALUES (1, 1, 2, FALSE, TRUE, FALSE)"#.into(),
        r#"INSERT INTO "userroles" VALUES (2, 2, 3, TRUE, TRUE, FALSE)"#.into(),
        r#"INSERT INTO "userroles" VALUES (3, 3, 3, FALSE, FALSE, TRUE)"#.into(),
        r#"INSERT INTO "userroles" VALUES (4, 2, 2, FALSE, FALSE, TRUE)"#.into(),
        // T1 edited (activities changed); T2 two activities; T3 deleted;
        // T4's first revision has no links of its own.
        format!(
            r#"INSERT INTO "times" VALUES (1, 3600, 2, '{P1}', 'first', NULL, {DAY}, {DAY}, NULL, NULL, '{T1}', 1, FALSE)"#
        ),
        format!(
            r#"INSERT INTO "times" VALUES (2, 7200, 2, '{P1}', 'naïve ☃ it''s <b>&', 'https://example.org/issue/1', {DAY}, {DAY}, {LATER}, NULL, '{T1}', 2, TRUE)"#
        ),
        format!(
            r#"INSERT INTO "times" VALUES (3, 1800, 3, '{P2}', NULL, NULL, {LATER}, {LATER}, NULL, NULL, '{T2}', 1, TRUE)"#
        ),
        format!(
            r#"INSERT INTO "times" VALUES (4, 900, 2, '{P1}', NULL, NULL, {DAY}, {DAY}, NULL, NULL, '{T3}', 1, FALSE)"#
        ),
        format!(
            r#"INSERT INTO "times" VALUES (5, 900, 2, '{P1}', NULL, NULL, {DAY}, {DAY}, {LATER}, {LATER}, '{T3}', 2, TRUE)"#
        ),
        format!(
            r#"INSERT INTO "times" VALUES (6, 600, 3, '{P1}', NULL, NULL, {DAY}, {DAY}, NULL, NULL, '{T4}', 1, FALSE)"#
        ),
        format!(
            r#"INSERT INTO "times" VALUES (7, 660, 3, '{P1}', NULL, NULL, {DAY}, {DAY}, {LATER}, NULL, '{T4}', 2, TRUE)"#
        ),
        // Activities via old activity rows too.
        r#"INSERT INTO "timesactivities" VALUES (1, 1, 1)"#.into(),
        r#"INSERT INTO "timesactivities" VALUES (2, 2, 3)"#.into(),
        r#"INSERT INTO "timesactivities" VALUES (3, 3, 2)"#.into(),
        r#"INSERT INTO "timesactivities" VALUES (4, 3, 3)"#.into(),
        r#"INSERT INTO "timesactivities" VALUES (5, 4, 3)"#.into(),
        r#"INSERT INTO "timesactivities" VALUES (6, 7, 1)"#.into(),
        r#"INSERT INTO "knex_migrations" VALUES (1, '20150909_initial.js', 1, 0)"#.into(),
        r#"INSERT INTO "knex_migrations_lock" VALUES (0)"#.into(),
    ]
}

/// A reference database on the current backend, built from `rows` (and
/// the URL to pass to `--from`). Keep the guard alive while using it.
pub async fn knex_database(rows: &[String]) -> (String, Option<tempfile::TempDir>) {
    let backend = backend();
    let (url, dir) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("node.db").display());
            (url, Some(dir))
        }
        _ => fresh_database().await,
    };
    let conn = sea_orm::Database::connect(url.as_str())
        .await
        .expect("connect source");
    for sql in KNEX_SCHEMA
        .iter()
        .map(|s| s.to_string())
        .chain(rows.iter().cloned())
    {
        let sql = dialect(backend, &sql);
        conn.execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    conn.close().await.ok();
    (url, dir)
}

/// A migrated, empty target database of the current backend.
pub async fn empty_target() -> (Db, String, Option<tempfile::TempDir>) {
    let (url, dir) = fresh_database().await;
    let db = Db::connect(&url.parse().expect("url"))
        .await
        .expect("connect");
    db.migrate().await.expect("migrate");
    (db, url, dir)
}

/// Row counts of every exported table.
async fn row_counts(db: &Db) -> Vec<u64> {
    let mut counts = Vec::new();
    for table in Table::ALL {
        counts.push(transfer::count_rows(db.conn(), table).await.expect("count"));
    }
    counts
}

/// Serves `url` (already filled) on port 0 until the returned sender drops.
async fn serve(url: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    let app = Application::build(test_config(url)).await.expect("build");
    assert!(
        app.initial_root_password.is_none(),
        "the imported users exist, so no first-run account is made"
    );
    let base = format!("http://{}", app.local_addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    (base, tx)
}

async fn login(client: &reqwest::Client, base: &str, username: &str, password: &str) -> u16 {
    client
        .post(format!("{base}/v0/login"))
        .json(&json!({"auth": {"type": "password", "username": username, "password": password}}))
        .send()
        .await
        .expect("login")
        .status()
        .as_u16()
}

#[tokio::test]
async fn import_node_brings_every_object_revision_and_role() {
    let (source, _source_dir) = knex_database(&knex_rows()).await;
    let (db, url, _dir) = empty_target().await;
    let counts = transfer::node::import_node(&db, &source, &Progress::hidden())
        .await
        .expect("import-node");
    assert_eq!(
        counts.to_string(),
        "users: 4\nactivities: 3 (5 revisions)\nprojects: 3 (5 revisions, 3 slugs, 3 project roles)\ntimes: 4 (7 revisions, 8 time activities)"
    );

    // Users: hashes, flags, case-insensitive keys, deletion.
    let users = user::Entity::find()
        .order_by_asc(user::Column::Id)
        .all(db.conn())
        .await
        .unwrap();
    let summary: Vec<_> = users
        .iter()
        .map(|u| {
            (
                u.id,
                u.username.as_str(),
                u.username_key.as_str(),
                u.site_spectator,
                u.site_admin,
                u.active,
                u.deleted_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "root", "root", false, true, true, false),
            (2, "alice", "alice", false, false, true, false),
            (3, "Bob", "bob", true, false, true, false),
            (4, "carol", "carol", false, false, false, true),
        ]
    );
    assert_eq!(users[1].meta.as_deref(), Some("likes tea"));
    assert_eq!(users[2].updated_at, Some(LATER));

    // Activities: history slugs kept, live slug only on the current undeleted row.
    let activities = activity::Entity::find()
        .order_by_asc(activity::Column::Id)
        .all(db.conn())
        .await
        .unwrap();
    let summary: Vec<_> = activities
        .iter()
        .map(|a| {
            (
                a.id,
                a.uuid.as_str(),
                a.revision,
                a.newest,
                a.slug.as_deref(),
                a.live_slug.as_deref(),
                a.deleted_at.is_some(),
                a.sort_at,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, A1, 1, false, Some("dev-old"), None, false, DAY),
            (2, A1, 2, true, Some("dev"), Some("dev"), false, LATER),
            (3, A2, 1, true, Some("docs"), Some("docs"), false, DAY),
            (4, A3, 1, false, Some("meet"), None, false, DAY),
            (5, A3, 2, true, None, None, true, LATER),
        ]
    );

    // Projects with default activities; slugs of live projects by uuid.
    let projects = project::Entity::find()
        .order_by_asc(project::Column::Id)
        .all(db.conn())
        .await
        .unwrap();
    let summary: Vec<_> = projects
        .iter()
        .map(|p| {
            (
                p.id,
                p.uuid.as_str(),
                p.revision,
                p.newest,
                p.name.as_str(),
                p.default_activity.as_deref(),
                p.deleted_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, P1, 1, false, "Proj One", Some(A2), false),
            (2, P1, 2, true, "Project One", Some(A1), false),
            (3, P2, 1, true, "Second", None, false),
            (4, P3, 1, false, "Gone", None, false),
            (5, P3, 2, true, "Gone", None, true),
        ]
    );
    let slugs: BTreeSet<(String, String)> = project_slug::Entity::find()
        .all(db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.slug, s.project_uuid))
        .collect();
    assert_eq!(
        slugs,
        BTreeSet::from([
            ("one".into(), P1.into()),
            ("p1".into(), P1.into()),
            ("p2".into(), P2.into()),
        ])
    );
    let roles: BTreeSet<(String, i64, bool, bool, bool)> = project_user::Entity::find()
        .all(db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.project_uuid, r.user_id, r.member, r.spectator, r.manager))
        .collect();
    assert_eq!(
        roles,
        BTreeSet::from([
            (P1.into(), 2, true, true, false),
            (P1.into(), 3, true, false, true),
            (P2.into(), 3, false, true, false),
        ])
    );

    // Times: every revision, dates from the instants, activities per revision row.
    let times = time::Entity::find()
        .order_by_asc(time::Column::Id)
        .all(db.conn())
        .await
        .unwrap();
    let summary: Vec<_> = times
        .iter()
        .map(|t| {
            (
                t.id,
                t.uuid.as_str(),
                t.revision,
                t.newest,
                t.user_id,
                t.project_uuid.as_str(),
                t.duration,
                t.date_worked.to_string(),
                t.deleted_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, T1, 1, false, 2, P1, 3600, "2026-03-01".into(), false),
            (2, T1, 2, true, 2, P1, 7200, "2026-03-01".into(), false),
            (3, T2, 1, true, 3, P2, 1800, "2026-03-02".into(), false),
            (4, T3, 1, false, 2, P1, 900, "2026-03-01".into(), false),
            (5, T3, 2, true, 2, P1, 900, "2026-03-01".into(), true),
            (6, T4, 1, false, 3, P1, 600, "2026-03-01".into(), false),
            (7, T4, 2, true, 3, P1, 660, "2026-03-01".into(), false),
        ]
    );
    assert_eq!(times[1].notes.as_deref(), Some("naïve ☃ it's <b>&"));
    assert_eq!(times[1].sort_at, LATER);
    let links: Vec<(i64, String)> = time_activity::Entity::find()
        .order_by_asc(time_activity::Column::TimeId)
        .order_by_asc(time_activity::Column::ActivityUuid)
        .all(db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.time_id, l.activity_uuid))
        .collect();
    let expected: Vec<(i64, String)> = [
        (1, A1), // its own link, through an old activity row
        (2, A2),
        (3, A1),
        (3, A2),
        (4, A2),
        (5, A2), // the deleted revision keeps the earlier revision's activities
        (6, A1), // before the first linked revision: the first linked one's
        (7, A1),
    ]
    .into_iter()
    .map(|(id, a)| (id, a.to_owned()))
    .collect();
    assert_eq!(links.len(), 8);
    assert_eq!(links, expected);

    // Ids move on after the explicit ones (PostgreSQL sequences were set).
    let new = storage::users::insert(
        db.conn(),
        NewUser {
            username: "dave".into(),
            active: true,
            ..Default::default()
        },
        storage::now_millis(),
    )
    .await
    .expect("a new user after the import");
    assert_eq!(new.id, 5);

    // The server runs on it: the reference's password hashes log in.
    let (base, _stop) = serve(&url).await;
    let client = reqwest::Client::new();
    assert_eq!(login(&client, &base, "alice", "alice").await, 200);
    assert_eq!(login(&client, &base, "bob", "Bob").await, 200);
    assert_eq!(login(&client, &base, "alice", "wrong").await, 401);

    // The API answers from the imported revisions, slugs and links.
    let token = login_token(&client, &base, "root", "root").await;
    let t1 = get_json(
        &client,
        &base,
        &format!("/v0/times/{T1}?include_revisions=true"),
        &token,
    )
    .await;
    assert_eq!(t1["duration"], 7200);
    assert_eq!(t1["user"], "alice");
    assert_eq!(t1["project"], json!(["one", "p1"]));
    assert_eq!(t1["activities"], json!(["docs"]));
    assert_eq!(t1["revision"], 2);
    assert_eq!(t1["date_worked"], "2026-03-01");
    assert_eq!(t1["parents"][0]["duration"], 3600);
    assert_eq!(t1["parents"][0]["activities"], json!(["dev"]));
    assert_eq!(t1["parents"][0]["revision"], 1);
    let t2 = get_json(&client, &base, &format!("/v0/times/{T2}"), &token).await;
    assert_eq!(t2["activities"], json!(["dev", "docs"]));
    assert_eq!(t2["project"], json!(["p2"]));
    let t4 = get_json(
        &client,
        &base,
        &format!("/v0/times/{T4}?include_revisions=true"),
        &token,
    )
    .await;
    assert_eq!(t4["parents"][0]["activities"], json!(["dev"]));
    let all = get_json(&client, &base, "/v0/times", &token).await;
    let mut uuids: Vec<&str> = all
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t["uuid"].as_str())
        .collect();
    uuids.sort_unstable();
    assert_eq!(uuids, vec![T1, T2, T4], "the deleted time is not listed");

    // Users as the reference had them.
    let bob = get_json(&client, &base, "/v0/users/bob", &token).await;
    assert_eq!(bob["username"], "Bob");
    assert_eq!(bob["email"], "bob@example.org");
    assert_eq!(bob["site_spectator"], true);
    assert_eq!(bob["site_admin"], false);
    assert_eq!(bob["updated_at"], "2026-03-02");
    let alice_view = get_json(&client, &base, "/v0/users/alice", &token).await;
    assert_eq!(alice_view["display_name"], "Alice");
    assert_eq!(alice_view["meta"], "likes tea");

    // Projects: current and old slugs, default activities per revision,
    // members; the deleted project and its slug are gone.
    let one = get_json(
        &client,
        &base,
        "/v0/projects/p1?include_revisions=true",
        &token,
    )
    .await;
    assert_eq!(one["uuid"], P1);
    assert_eq!(one["name"], "Project One");
    assert_eq!(one["slugs"], json!(["one", "p1"]));
    assert_eq!(one["default_activity"], "dev");
    assert_eq!(one["revision"], 2);
    assert_eq!(one["created_at"], "2026-03-01");
    assert_eq!(one["updated_at"], "2026-03-02");
    assert_eq!(
        one["users"],
        json!({
            "alice": {"member": true, "spectator": true, "manager": false},
            "Bob": {"member": true, "spectator": false, "manager": true},
        })
    );
    assert_eq!(one["parents"][0]["name"], "Proj One");
    assert_eq!(one["parents"][0]["revision"], 1);
    assert_eq!(one["parents"][0]["default_activity"], "docs");
    assert_eq!(
        get_json(&client, &base, "/v0/projects/one", &token).await["uuid"],
        P1
    );
    assert_eq!(
        get_status(&client, &base, "/v0/projects/gone", &token).await,
        404
    );
    let projects = get_json(&client, &base, "/v0/projects", &token).await;
    assert_eq!(projects.as_array().map(Vec::len), Some(2), "{projects}");

    // Activities: the renamed slug's history, the deleted one gone.
    let dev = get_json(
        &client,
        &base,
        "/v0/activities/dev?include_revisions=true",
        &token,
    )
    .await;
    assert_eq!(dev["uuid"], A1);
    assert_eq!(dev["revision"], 2);
    assert_eq!(dev["parents"][0]["slug"], "dev-old");
    assert_eq!(
        get_status(&client, &base, "/v0/activities/dev-old", &token).await,
        404
    );
    assert_eq!(
        get_status(&client, &base, "/v0/activities/meet", &token).await,
        404
    );
    let activities = get_json(&client, &base, "/v0/activities", &token).await;
    let mut slugs: Vec<&str> = activities
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|a| a["slug"].as_str())
        .collect();
    slugs.sort_unstable();
    assert_eq!(slugs, vec!["dev", "docs"]);

    // Project roles came across: alice is a spectator of P1 only through a
    // second userroles row, and sees Bob's P1 time; carol (no role, and
    // inactive) cannot log in at all.
    let alice = login_token(&client, &base, "alice", "alice").await;
    let seen = get_json(&client, &base, "/v0/times", &alice).await;
    let mut uuids: Vec<&str> = seen
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|t| t["uuid"].as_str())
        .collect();
    uuids.sort_unstable();
    assert_eq!(uuids, vec![T1, T4]);
    assert_ne!(login(&client, &base, "carol", "carol").await, 200);
}

async fn login_token(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> String {
    let resp: serde_json::Value = client
        .post(format!("{base}/v0/login"))
        .json(&json!({"auth": {"type": "password", "username": username, "password": password}}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    resp["token"].as_str().expect("token").to_owned()
}

async fn get_status(client: &reqwest::Client, base: &str, path: &str, token: &str) -> u16 {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET")
        .status()
        .as_u16()
}

async fn get_json(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
) -> serde_json::Value {
    let resp = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status().as_u16(), 200, "GET {path}");
    resp.json().await.expect("JSON body")
}

/// Asserts that importing `rows` fails with an error containing `message`
/// and leaves every table of the target empty.
async fn assert_node_import_fails(rows: Vec<String>, message: &str) {
    let (source, _source_dir) = knex_database(&rows).await;
    let (db, _url, _dir) = empty_target().await;
    let err = transfer::node::import_node(&db, &source, &Progress::hidden())
        .await
        .expect_err("a broken source is refused");
    let text = format!("{err:#}");
    assert!(text.contains(message), "error {text:?} lacks {message:?}");
    assert_eq!(
        row_counts(&db).await,
        vec![0; Table::ALL.len()],
        "after {text}"
    );
}

#[tokio::test]
async fn import_node_refuses_a_dangling_id_and_writes_nothing() {
    let mut rows = knex_rows();
    rows.push(r#"INSERT INTO "timesactivities" VALUES (7, 99, 1)"#.into());
    assert_node_import_fails(rows, "timesactivities row 7: time 99 is not a row of times").await;

    let mut rows = knex_rows();
    rows.push(r#"INSERT INTO "userroles" VALUES (5, 42, 2, FALSE, TRUE, FALSE)"#.into());
    assert_node_import_fails(rows, "userroles row 5: project 42 is not a row of projects").await;

    let mut rows = knex_rows();
    rows.push(format!(
        r#"INSERT INTO "times" VALUES (8, 60, 77, '{P1}', NULL, NULL, {DAY}, {DAY}, NULL, NULL, 'c5c5c5c5-0000-4000-8000-000000000005', 1, TRUE)"#
    ));
    assert_node_import_fails(rows, "times row 8: user 77 is not a row of users").await;

    // Longer than this schema's slugs: named, not a failed batch.
    let mut rows = knex_rows();
    rows.push(format!(
        r#"INSERT INTO "projectslugs" VALUES (5, '{}', 3)"#,
        "x".repeat(65)
    ));
    assert_node_import_fails(
        rows,
        "projectslugs row 5: name is too long for this schema (at most 64 characters)",
    )
    .await;
}

#[tokio::test]
async fn import_node_refuses_a_bad_timestamp_and_writes_nothing() {
    let mut rows = knex_rows();
    rows.push(format!(
        r#"INSERT INTO "times" VALUES (8, 60, 2, '{P1}', NULL, NULL, {DAY}, -5, NULL, NULL, 'c5c5c5c5-0000-4000-8000-000000000005', 1, TRUE)"#
    ));
    assert_node_import_fails(rows, "times row 8: created_at -5 is not a timestamp").await;

    if backend() == Backend::Sqlite {
        // SQLite keeps text in a BIGINT column as it is.
        let mut rows = knex_rows();
        rows.push("UPDATE \"activities\" SET \"updated_at\" = 'yesterday' WHERE \"id\" = 3".into());
        assert_node_import_fails(rows, "activities row 3: updated_at is not a timestamp").await;
    }
}

#[tokio::test]
async fn import_node_refuses_inconsistent_revisions_and_usernames() {
    let mut rows = knex_rows();
    rows.push(r#"UPDATE "activities" SET "newest" = TRUE WHERE "id" = 1"#.into());
    assert_node_import_fails(
        rows,
        &format!("activities: object {A1} has 2 rows marked newest (expected exactly one)"),
    )
    .await;

    let mut rows = knex_rows();
    rows.push(format!(
        r#"INSERT INTO "projects" VALUES (6, 'Again', NULL, NULL, {DAY}, NULL, NULL, '{P2}', 1, FALSE)"#
    ));
    assert_node_import_fails(
        rows,
        &format!("projects row 6: revision 1 of {P2} occurs twice"),
    )
    .await;

    // (A MySQL source cannot hold it: its UNIQUE ignores letter case.)
    if backend() == Backend::Mysql {
        return;
    }
    let mut rows = knex_rows();
    rows.push(format!(
        r#"INSERT INTO "users" VALUES (5, 'ALICE', NULL, NULL, NULL, FALSE, FALSE, FALSE, TRUE, {DAY}, NULL, NULL, NULL)"#
    ));
    assert_node_import_fails(
        rows,
        "users row 5: username ALICE differs from another user's only in letter case",
    )
    .await;
}

#[tokio::test]
async fn import_node_refuses_a_target_that_is_not_empty() {
    let (source, _source_dir) = knex_database(&knex_rows()).await;
    let app = TestApp::spawn().await; // has its first-run root
    let err = transfer::node::import_node(&app.db, &source, &Progress::hidden())
        .await
        .expect_err("refused");
    assert!(
        format!("{err:#}").contains("the target database is not empty: users (1 rows)"),
        "{err:#}"
    );
    assert_eq!(storage::users::count(app.db.conn()).await.unwrap(), 1);
}

/// Fills a target through `import-node`, then adds what the reference does
/// not have (organization roles) and text that needs JSON escaping.
pub async fn filled_database() -> (Db, String, Option<tempfile::TempDir>) {
    let (source, _source_dir) = knex_database(&knex_rows()).await;
    let (db, url, dir) = empty_target().await;
    transfer::node::import_node(&db, &source, &Progress::hidden())
        .await
        .expect("import-node");
    for (name, slug) in [("Staff \"core\"", "staff"), ("Ops \\ on-call\n", "ops")] {
        org_role::Entity::insert(org_role::ActiveModel {
            name: Set(name.into()),
            slug: Set(slug.into()),
            ..Default::default()
        })
        .exec(db.conn())
        .await
        .expect("org role");
    }
    for (user_id, org_role_id) in [(2, 1), (3, 1), (3, 2)] {
        user_org_role::Entity::insert(user_org_role::ActiveModel {
            user_id: Set(user_id),
            org_role_id: Set(org_role_id),
        })
        .exec_without_returning(db.conn())
        .await
        .expect("user org role");
    }
    (db, url, dir)
}

async fn export_bytes(db: &Db) -> Vec<u8> {
    let mut out = Vec::new();
    transfer::export::export(db, &mut out, &Progress::hidden())
        .await
        .expect("export");
    out
}

#[tokio::test]
async fn export_import_export_is_byte_identical() {
    let (db, _url, _dir) = filled_database().await;
    let first = export_bytes(&db).await;
    let doc: serde_json::Value = serde_json::from_slice(&first).expect("one JSON document");
    assert_eq!(doc["format"], "timesync-export");
    assert_eq!(doc["version"], 1);
    for (table, n) in [
        ("users", 4),
        ("org_roles", 2),
        ("user_org_roles", 3),
        ("activities", 5),
        ("projects", 5),
        ("project_slugs", 3),
        ("project_users", 3),
        ("times", 7),
        ("time_activities", 8),
    ] {
        assert_eq!(
            doc["tables"][table].as_array().map(Vec::len),
            Some(n),
            "{table}"
        );
    }
    assert!(
        doc["tables"].get("settings").is_none(),
        "the token key stays home"
    );
    assert!(doc["tables"]["users"][1]["password"]
        .as_str()
        .is_some_and(|h| h.starts_with("$2")));
    assert_eq!(doc["tables"]["times"][1]["date_worked"], "2026-03-01");

    let (copy, url, _copy_dir) = empty_target().await;
    let counts = transfer::import::import(&copy, Cursor::new(first.clone()), &Progress::hidden())
        .await
        .expect("import");
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 40);
    let second = export_bytes(&copy).await;
    assert_eq!(
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );

    // A second import into the now filled database is refused, untouched.
    let err = transfer::import::import(&copy, Cursor::new(first.clone()), &Progress::hidden())
        .await
        .expect_err("not empty");
    assert!(format!("{err:#}").contains("the target database is not empty"));
    assert_eq!(export_bytes(&copy).await, first);

    // New rows get fresh ids after the explicit ones; the server runs.
    let new = storage::users::insert(
        copy.conn(),
        NewUser {
            username: "erin".into(),
            active: true,
            ..Default::default()
        },
        storage::now_millis(),
    )
    .await
    .expect("a new user after the import");
    assert_eq!(new.id, 5);
    let (base, _stop) = serve(&url).await;
    assert_eq!(
        login(&reqwest::Client::new(), &base, "alice", "alice").await,
        200
    );
}

#[tokio::test]
async fn a_broken_export_document_writes_nothing() {
    let (db, _url, _dir) = filled_database().await;
    let good = String::from_utf8(export_bytes(&db).await).unwrap();
    let cases = [
        // A bad row after many good ones (users, activities… already sent).
        (
            good.replacen("\"duration\":7200", "\"duration\":\"long\"", 1),
            "times row 2: field duration",
        ),
        (
            good.replacen("\"notes\":null,", "\"notes\":null,\"extra\":1,", 1),
            "times row 3: unknown field extra",
        ),
        // A dangling reference the database itself refuses.
        (
            good.replacen(
                "\"user_id\":3,\"org_role_id\":2",
                "\"user_id\":99,\"org_role_id\":2",
                1,
            ),
            "inserting into user_org_roles",
        ),
        // Cut short: the end never comes.
        (
            good[..good.len() - 40].to_owned(),
            "reading the export document",
        ),
        (
            good.replacen("\"version\":1", "\"version\":2", 1),
            "export format version 2 is not supported",
        ),
        (
            good.replacen("timesync-export", "something-else", 1),
            "this is not a timesync-export document",
        ),
    ];
    for (doc, message) in cases {
        assert_ne!(doc, good, "the case {message:?} changes the document");
        let (target, _url, _dir) = empty_target().await;
        let err =
            transfer::import::import(&target, Cursor::new(doc.into_bytes()), &Progress::hidden())
                .await
                .expect_err(message);
        let text = format!("{err:#}");
        assert!(text.contains(message), "error {text:?} lacks {message:?}");
        assert_eq!(
            row_counts(&target).await,
            vec![0; Table::ALL.len()],
            "after {text}"
        );
    }
}

/// A new empty database on the server of `admin_url` (a PostgreSQL or
/// MySQL URL), migrated.
async fn database_on(admin_url: &str) -> Db {
    let name = format!(
        "t_chain_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let admin = sea_orm::Database::connect(admin_url)
        .await
        .expect("connect admin url");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    admin.close().await.ok();
    let mut url = url::Url::parse(admin_url).expect("admin url");
    url.set_path(&format!("/{name}"));
    let db = Db::connect(&url.as_str().parse().expect("url"))
        .await
        .expect("connect");
    db.migrate().await.expect("migrate");
    db
}

#[tokio::test]
#[ignore = "needs TIMESYNC_TEST_POSTGRES_URL and TIMESYNC_TEST_MYSQL_URL; scripts/test.sh runs it"]
async fn export_round_trips_across_sqlite_postgres_mariadb_sqlite() {
    // Needs every server at once; scripts/test.sh runs it in the SQLite pass only.
    assert_eq!(
        backend(),
        Backend::Sqlite,
        "this round trip starts and ends on SQLite: run it with TIMESYNC_TEST_BACKEND=sqlite"
    );
    let var = |name: &str| {
        std::env::var(name)
            .unwrap_or_else(|_| panic!("{name} must be set for the cross-backend round trip"))
    };
    let (postgres, mysql) = (
        var("TIMESYNC_TEST_POSTGRES_URL"),
        var("TIMESYNC_TEST_MYSQL_URL"),
    );
    let (sqlite, _url, _dir) = filled_database().await;
    let original = export_bytes(&sqlite).await;

    let on_postgres = database_on(&postgres).await;
    transfer::import::import(
        &on_postgres,
        Cursor::new(original.clone()),
        &Progress::hidden(),
    )
    .await
    .expect("import into PostgreSQL");
    let from_postgres = export_bytes(&on_postgres).await;
    assert_eq!(
        String::from_utf8_lossy(&from_postgres),
        String::from_utf8_lossy(&original),
        "SQLite → PostgreSQL"
    );

    let on_mysql = database_on(&mysql).await;
    transfer::import::import(&on_mysql, Cursor::new(from_postgres), &Progress::hidden())
        .await
        .expect("import into MariaDB");
    let from_mysql = export_bytes(&on_mysql).await;
    assert_eq!(
        String::from_utf8_lossy(&from_mysql),
        String::from_utf8_lossy(&original),
        "PostgreSQL → MariaDB"
    );

    let (back, _back_url, _back_dir) = empty_target().await;
    transfer::import::import(&back, Cursor::new(from_mysql), &Progress::hidden())
        .await
        .expect("import back into SQLite");
    assert_eq!(
        String::from_utf8_lossy(&export_bytes(&back).await),
        String::from_utf8_lossy(&original),
        "MariaDB → SQLite"
    );
    on_postgres.close().await;
    on_mysql.close().await;
}

/// The indexes of `times` and `time_activities` with their definitions:
/// what bulk loads drop and build again (`storage::bulk`).
async fn time_indexes(db: &Db) -> Vec<(String, String)> {
    let sql = match backend() {
        Backend::Sqlite => {
            "SELECT name, COALESCE(sql, '') FROM sqlite_master \
             WHERE type = 'index' AND tbl_name IN ('times', 'time_activities') ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT indexname::text, indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename IN ('times', 'time_activities') \
             ORDER BY indexname"
        }
        Backend::Mysql => {
            "SELECT CAST(CONCAT(table_name, '.', index_name) AS CHAR), \
             CAST(GROUP_CONCAT(column_name ORDER BY seq_in_index) AS CHAR) \
             FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name IN ('times', 'time_activities') \
             GROUP BY table_name, index_name ORDER BY 1"
        }
    };
    let backend = db.conn().get_database_backend();
    db.conn()
        .query_all_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .expect("list indexes")
        .into_iter()
        .map(|row| {
            (
                row.try_get_by_index::<String>(0).expect("name"),
                row.try_get_by_index::<String>(1).expect("definition"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_bulk_load_leaves_the_indexes_as_the_migrations_made_them() {
    let (url, _dir) = fresh_database().await;
    let db = Db::connect(&url.parse().expect("url"))
        .await
        .expect("connect");
    db.migrate().await.expect("migrate");
    let migrated = time_indexes(&db).await;
    let names: Vec<&str> = migrated.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.iter().any(|n| n.ends_with("idx_times_sums"))
            && names.iter().any(|n| n.ends_with("ux_times_uuid_revision"))
            && names
                .iter()
                .any(|n| n.ends_with("idx_time_activities_activity")),
        "{names:?}"
    );

    // A load that fails after the indexes were set aside rolls that back too.
    transfer::import::import(&db, Cursor::new(b"[".to_vec()), &Progress::hidden())
        .await
        .expect_err("not an export document");
    assert_eq!(time_indexes(&db).await, migrated);

    let args = timesync::seed::SeedArgs {
        users: 3,
        projects: 2,
        activities: 2,
        times: 1200,
        seed: 1,
        admin_password: "admin".into(),
    };
    let report = timesync::seed::seed(&db, &args, &Progress::hidden())
        .await
        .expect("seed");
    assert_eq!(report.times, 1200);
    assert_eq!(time_indexes(&db).await, migrated);
    // The times' change counter moved with the load (on the row of the
    // loading session: the counter is striped).
    let backend = db.conn().get_database_backend();
    let version: i64 = db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT MAX(version) FROM times_version",
        ))
        .await
        .expect("read the counter")
        .expect("the counter row")
        .try_get_by_index(0)
        .expect("version");
    assert!(version > 1, "{version}");
}
