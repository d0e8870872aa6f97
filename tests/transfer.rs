//! The `timesync export`, `import` and `import-node` commands of the
//! binary (SQLite; the API tests cover the library on every backend).

use std::path::Path;
use std::process::{Command, Output};

use sea_orm::ConnectionTrait;

fn timesync(dir: &Path, database: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_timesync"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join(database).display()),
        );
    cmd
}

#[track_caller]
fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn export_then_import_restores_byte_identical_and_refuses_a_filled_target() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    succeeded(
        &timesync(d, "a.db")
            .args(["create-account", "-u", "Admin", "-p", "s3cret"])
            .output()
            .unwrap(),
    );
    succeeded(
        &timesync(d, "a.db")
            .args(["export", "--output", "backup.json"])
            .output()
            .unwrap(),
    );
    assert!(!d.join("backup.json.partial").exists());
    assert!(d.join("backup.json").exists());
    let out = succeeded(
        &timesync(d, "b.db")
            .args(["import", "backup.json"])
            .output()
            .unwrap(),
    );
    assert!(out.contains("imported users: 1"), "{out}");
    // Without --output the document goes to stdout.
    let again = succeeded(&timesync(d, "b.db").arg("export").output().unwrap());
    assert_eq!(
        again.as_bytes(),
        std::fs::read(d.join("backup.json")).unwrap()
    );

    let refused = timesync(d, "b.db")
        .args(["import", "backup.json"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("the target database is not empty"));
    let missing = timesync(d, "c.db")
        .args(["import", "nothing.json"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot open nothing.json"));
}

/// A small timesync-node database (SQLite file, knex schema).
async fn knex_file(path: &Path) {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let conn = sea_orm::Database::connect(url.as_str()).await.unwrap();
    let hash = bcrypt::hash("pat", 4).unwrap();
    for sql in [
        "CREATE TABLE users (id integer primary key autoincrement, username varchar(255) unique, password varchar(255), display_name varchar(255), email varchar(255), site_spectator boolean, site_manager boolean, site_admin boolean, active boolean, created_at bigint, updated_at bigint, deleted_at bigint, meta text)".to_owned(),
        "CREATE TABLE activities (id integer primary key autoincrement, name varchar(255), slug varchar(255), created_at bigint, updated_at bigint, deleted_at bigint, uuid char(36), revision integer, newest boolean)".into(),
        "CREATE TABLE projects (id integer primary key autoincrement, name varchar(255), uri varchar(255), default_activity char(36), created_at bigint, updated_at bigint, deleted_at bigint, uuid char(36), revision integer, newest boolean)".into(),
        "CREATE TABLE times (id integer primary key autoincrement, duration integer, user integer, project char(36), notes text, issue_uri varchar(255), date_worked bigint, created_at bigint, updated_at bigint, deleted_at bigint, uuid char(36), revision integer, newest boolean)".into(),
        "CREATE TABLE projectslugs (id integer primary key autoincrement, name varchar(255) unique, project integer)".into(),
        "CREATE TABLE timesactivities (id integer primary key autoincrement, time integer, activity integer)".into(),
        "CREATE TABLE userroles (id integer primary key autoincrement, project integer, user integer, manager boolean, member boolean, spectator boolean)".into(),
        "CREATE TABLE knex_migrations (id integer primary key autoincrement, name varchar(255), batch integer, migration_time bigint)".into(),
        format!("INSERT INTO users VALUES (1, 'Pat', '{hash}', 'Pat', NULL, 0, 0, 1, 1, 1700000000000, NULL, NULL, NULL)"),
        "INSERT INTO activities VALUES (1, 'Coding', 'code', 1700000000000, NULL, NULL, 'a1a1a1a1-0000-4000-8000-000000000001', 1, 1)".into(),
        "INSERT INTO projects VALUES (1, 'Site', NULL, NULL, 1700000000000, NULL, NULL, 'b1b1b1b1-0000-4000-8000-000000000001', 1, 1)".into(),
        "INSERT INTO projectslugs VALUES (1, 'site', 1)".into(),
        "INSERT INTO userroles VALUES (1, 1, 1, 1, 1, 0)".into(),
        "INSERT INTO times VALUES (1, 60, 1, 'b1b1b1b1-0000-4000-8000-000000000001', NULL, NULL, 1700000000000, 1700000000000, NULL, NULL, 'c1c1c1c1-0000-4000-8000-000000000001', 1, 1)".into(),
        "INSERT INTO timesactivities VALUES (1, 1, 1)".into(),
    ] {
        conn.execute_unprepared(&sql).await.unwrap();
    }
    conn.close().await.unwrap();
}

#[tokio::test]
async fn import_node_takes_a_sqlite_file_and_prints_counts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    knex_file(&d.join("node.sqlite3")).await;
    let out = timesync(d, "ts.db")
        .args(["import-node", "--from", "node.sqlite3"])
        .output()
        .unwrap();
    let stdout = succeeded(&out);
    assert_eq!(
        stdout,
        "Imported from timesync-node:\nusers: 1\nactivities: 1 (1 revisions)\nprojects: 1 (1 revisions, 1 slugs, 1 project roles)\ntimes: 1 (1 revisions, 1 time activities)\n"
    );
    // Only into an empty database: a second run is refused.
    let again = timesync(d, "ts.db")
        .args(["import-node", "--from", "node.sqlite3"])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("the target database is not empty"));
    let missing = timesync(d, "other.db")
        .args(["import-node", "--from", "missing.sqlite3"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("missing.sqlite3 is neither a database URL nor an existing SQLite file"));
}
