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
    assert!(!d.join("c.db").exists());
    // A failed import into a new SQLite file removes the file again.
    let broken = r#"{"format":"timesync-export","version":1,"tables":{"users":[{}]}}"#;
    std::fs::write(d.join("broken.json"), broken).unwrap();
    let broken = timesync(d, "d.db")
        .args(["import", "broken.json"])
        .output()
        .unwrap();
    assert!(!broken.status.success());
    assert!(String::from_utf8_lossy(&broken.stderr).contains("users row 1"));
    assert_no_database(d, "d.db");
}

/// Neither the SQLite file `name` nor its side files exist in `dir`.
#[track_caller]
fn assert_no_database(dir: &Path, name: &str) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = dir.join(format!("{name}{suffix}"));
        assert!(!file.exists(), "{} was left behind", file.display());
    }
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
    // A database that existed before is never removed.
    assert!(d.join("ts.db").exists());
    let missing = timesync(d, "other.db")
        .args(["import-node", "--from", "missing.sqlite3"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("missing.sqlite3 is neither a database URL nor an existing SQLite file"));
    // The target file the failed command created is gone again.
    assert_no_database(d, "other.db");
    // Also when the source is refused halfway.
    let conn = knex_connection(&d.join("node.sqlite3")).await;
    conn.execute_unprepared("INSERT INTO timesactivities VALUES (2, 99, 1)")
        .await
        .unwrap();
    conn.close().await.unwrap();
    let dangling = timesync(d, "third.db")
        .args(["import-node", "--from", "node.sqlite3"])
        .output()
        .unwrap();
    assert!(!dangling.status.success());
    assert!(String::from_utf8_lossy(&dangling.stderr)
        .contains("timesactivities row 2: time 99 is not a row of times"));
    assert_no_database(d, "third.db");
}

async fn knex_connection(path: &Path) -> sea_orm::DatabaseConnection {
    let url = format!("sqlite://{}", path.display());
    sea_orm::Database::connect(url.as_str()).await.unwrap()
}

/// Lines of `stderr` that are progress lines of `task`.
fn progress_lines(out: &Output, task: &str) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with(&format!("{task}: ")))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn export_import_and_import_node_print_progress_lines_unless_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    succeeded(
        &timesync(d, "seeded.db")
            .args(["seed", "--times", "4000", "--quiet"])
            .output()
            .unwrap(),
    );
    let fast = ["--progress-interval", "0.02"];
    let export = timesync(d, "seeded.db")
        .args(["export", "-o", "seeded.json"])
        .args(fast)
        .output()
        .unwrap();
    succeeded(&export);
    let stderr = String::from_utf8_lossy(&export.stderr);
    let lines = progress_lines(&export, "export");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/14,") && l.contains(" rows (") && l.contains(" rows/s, ETA ")),
        "{stderr}"
    );
    // The summary lines stay as they were.
    assert!(stderr.contains("\nexported times: 4200\n"), "{stderr}");

    let import = timesync(d, "copy.db")
        .args(["import", "seeded.json"])
        .args(fast)
        .output()
        .unwrap();
    let stdout = succeeded(&import);
    assert!(stdout.contains("imported times: 4200\n"), "{stdout}");
    let lines = progress_lines(&import, "import");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(" MiB (") && l.contains("/s, ETA ")),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );

    knex_file(&d.join("node.sqlite3")).await;
    let conn = knex_connection(&d.join("node.sqlite3")).await;
    // 20,000 more revisions of the one time, each linked to the activity.
    for sql in [
        "UPDATE times SET newest = 0",
        "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 20001) \
         INSERT INTO times SELECT i, 60, 1, 'b1b1b1b1-0000-4000-8000-000000000001', NULL, NULL, \
         1700000000000, 1700000000000, 1700000000000, NULL, \
         'c1c1c1c1-0000-4000-8000-000000000001', i, i = 20001 FROM n",
        "INSERT INTO timesactivities SELECT id, id, 1 FROM times WHERE id > 1",
    ] {
        conn.execute_unprepared(sql).await.unwrap();
    }
    conn.close().await.unwrap();
    let node = timesync(d, "node-copy.db")
        .args(["import-node", "--from", "node.sqlite3"])
        .args(fast)
        .output()
        .unwrap();
    let stdout = succeeded(&node);
    assert!(
        stdout.contains("times: 1 (20001 revisions, 20001 time activities)"),
        "{stdout}"
    );
    let lines = progress_lines(&node, "import-node");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/40,007 rows (") && l.contains(" rows/s, ETA ")),
        "{}",
        String::from_utf8_lossy(&node.stderr)
    );

    // --quiet: no progress at all, the same summaries.
    let quiet = timesync(d, "seeded.db")
        .args(["export", "-o", "quiet.json", "--quiet"])
        .args(fast)
        .output()
        .unwrap();
    succeeded(&quiet);
    assert_eq!(progress_lines(&quiet, "export"), Vec::<String>::new());
    assert!(String::from_utf8_lossy(&quiet.stderr).contains("exported times: 4200"));
    let quiet = timesync(d, "quiet.db")
        .args(["import", "quiet.json", "-q"])
        .args(fast)
        .output()
        .unwrap();
    assert!(succeeded(&quiet).contains("imported times: 4200"));
    assert_eq!(progress_lines(&quiet, "import"), Vec::<String>::new());
    let quiet = timesync(d, "quiet-node.db")
        .args(["import-node", "--from", "node.sqlite3", "--quiet"])
        .args(fast)
        .output()
        .unwrap();
    assert!(succeeded(&quiet).contains("20001 revisions"));
    assert_eq!(progress_lines(&quiet, "import-node"), Vec::<String>::new());
}
