//! The `timesync` binary: first run, create-account, migrate, config
//! errors, and SIGTERM. SQLite only (the binary's storage is the same).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn timesync(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_timesync"));
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("ts.sqlite3").display()),
        );
    cmd
}

#[test]
fn migrate_reports_what_it_applied() {
    let dir = tempfile::tempdir().unwrap();
    let out = timesync(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Applied m20261122_000001_initial"));
    let again = timesync(dir.path()).arg("migrate").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));
}

#[test]
fn create_account_creates_an_admin_and_refuses_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let out = timesync(dir.path())
        .args(["create-account", "-u", "Admin", "-p", "s3cret"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dup = timesync(dir.path())
        .args(["create-account", "-u", "admin", "-p", "other"])
        .output()
        .unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("Username admin already exists"));
    let bad = timesync(dir.path())
        .args(["create-account", "-u", "bad name", "-p", "x"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a valid username"));
    // Missing values are prompted for (here from a pipe).
    let mut child = timesync(dir.path())
        .arg("create-account")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"second\npw2\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Created the site-admin account 'second'")
    );
}

#[test]
fn invalid_configuration_stops_start_up_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("SECRET_KEY", "short"),
        ("TIMESYNC_AUTH_MODULES", "password"),
        ("PORT", "eighty"),
        ("DATABASE_URL", "ftp://nowhere"),
        ("TIMESYNC_LDAP_URL", "http://not-ldap"),
    ];
    for (var, value) in cases {
        let out = timesync(dir.path())
            .arg("serve")
            .env(var, value)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}={value} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        let named = err.contains(var) || err.contains(&var.to_lowercase().replace('_', "-"));
        assert!(named, "{var}: {err}");
    }
}

/// Starts `serve` on a free port; returns the child, the printed root
/// password (if any) and the address. The caller waits for the child.
#[allow(clippy::zombie_processes)]
fn start_server(dir: &std::path::Path) -> (std::process::Child, Option<String>, String) {
    let mut child = timesync(dir)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut password = None;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().expect("server output").unwrap();
        if let Some(p) = line.strip_prefix("Created the site-admin account 'root' with password: ")
        {
            password = Some(p.trim().to_owned());
        }
        if let Some(addr) = line.strip_prefix("Listening on http://") {
            return (child, password, addr.trim().to_owned());
        }
    }
}

fn http(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn first_run_prints_root_password_once_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, password, addr) = start_server(dir.path());
    let password = password.expect("first run prints the root password");
    let body =
        format!(r#"{{"auth":{{"type":"password","username":"root","password":"{password}"}}}}"#);
    let resp = http(
        &addr,
        &format!(
            "POST /v0/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"token\""));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success());

    // The second start finds the account and the generated key: no new password.
    let (mut child, password, _) = start_server(dir.path());
    assert!(password.is_none());
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn seed_fills_an_empty_database_reproducibly_and_refuses_a_full_one() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "seed",
        "--users",
        "5",
        "--projects",
        "3",
        "--activities",
        "4",
        "--times",
        "60",
        "--seed",
        "7",
    ];
    let out = timesync(dir.path()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Seeded 6 users, 4 activities, 3 projects, 60 times (63 time revisions)"),
        "{stdout}"
    );
    let again = timesync(dir.path()).args(args).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    // The same seed in another database gives the same rows.
    let rows = |dir: &std::path::Path| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            use sea_orm::{EntityTrait, QueryOrder};
            use timesync::storage::entities::time;
            let url = format!("sqlite://{}", dir.join("ts.sqlite3").display());
            let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
            let rows = time::Entity::find()
                .order_by_asc(time::Column::Id)
                .all(&db)
                .await
                .unwrap();
            rows.into_iter()
                .map(|t| {
                    (
                        t.uuid,
                        t.revision,
                        t.duration,
                        t.date_worked,
                        t.user_id,
                        t.deleted_at,
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    let other = tempfile::tempdir().unwrap();
    assert!(timesync(other.path())
        .args(args)
        .output()
        .unwrap()
        .status
        .success());
    let (a, b) = (rows(dir.path()), rows(other.path()));
    assert_eq!(a.len(), 63);
    assert_eq!(a, b);
}

/// Lines of `stderr` that are progress lines of `task`.
fn progress_lines(stderr: &[u8], task: &str) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.starts_with(&format!("{task}: ")))
        .map(str::to_owned)
        .collect()
}

#[test]
fn seed_prints_progress_lines_when_not_on_a_terminal_and_quiet_silences_them() {
    let args = ["seed", "--times", "6000", "--progress-interval", "0.05"];
    let dir = tempfile::tempdir().unwrap();
    // Standard error is a pipe here: plain lines, no bar.
    let out = timesync(dir.path()).args(args).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let lines = progress_lines(&out.stderr, "seed");
    let counting: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("seed: times: ") && l.contains("/6,000 times ("))
        .collect();
    assert!(
        !counting.is_empty(),
        "no progress line of the times: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in counting {
        assert!(line.contains(" times/s, ETA "), "{line}");
    }
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains('\r'),
        "a bar was drawn on a pipe"
    );
    // The summary is unchanged, alone on standard output.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("Seeded 201 users, 20 activities, 100 projects, 6000 times"));
    assert_eq!(stdout.lines().count(), 2, "{stdout}");

    let quiet_dir = tempfile::tempdir().unwrap();
    let quiet = timesync(quiet_dir.path())
        .args(args)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(quiet.status.success(), "{quiet:?}");
    assert_eq!(progress_lines(&quiet.stderr, "seed"), Vec::<String>::new());
    assert_eq!(String::from_utf8_lossy(&quiet.stdout).lines().count(), 2);
}

#[test]
fn seed_help_describes_every_option() {
    let out = timesync(std::path::Path::new("."))
        .args(["seed", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for (option, text) in [
        ("--users", "Ordinary users"),
        ("--projects", "Projects (project1"),
        ("--activities", "Activities (activity1"),
        ("--times", "Times, spread over"),
        ("--seed", "Random seed"),
        ("--quiet", "Print no progress"),
    ] {
        let lines: Vec<&str> = help.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.split_whitespace().any(|word| word == option))
            .unwrap_or_else(|| panic!("{option} missing: {help}"));
        // The option's text follows on its line or the next.
        assert!(
            lines[at..=at + 1].iter().any(|l| l.contains(text)),
            "{option} has no text: {help}"
        );
    }
    // The interval is for tests only.
    assert!(!help.contains("--progress-interval"), "{help}");
}
