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

/// Starts `serve` on a free port with extra environment, standard error
/// into `stderr_file`; returns the child and every start-up line printed
/// up to and including the metrics line (when asked for) or the docs line.
#[allow(clippy::zombie_processes)]
fn start_server_with(
    dir: &std::path::Path,
    env: &[(&str, &str)],
    stderr_file: &std::path::Path,
) -> (std::process::Child, Vec<String>) {
    let mut cmd = timesync(dir);
    cmd.args(["serve", "--port", "0"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(stderr_file).unwrap());
    let mut child = cmd.spawn().unwrap();
    let wants_metrics = env.iter().any(|(k, _)| *k == "TIMESYNC_METRICS_BIND");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!(
                "server stopped early: {seen:?}\n{}",
                std::fs::read_to_string(stderr_file).unwrap_or_default()
            );
        };
        seen.push(line.clone());
        let last = if wants_metrics {
            "  metrics:"
        } else {
            "  API docs:"
        };
        if line.starts_with(last) {
            return (child, seen);
        }
    }
}

/// The `http://ADDR` a start-up line names after `prefix`.
fn addr_after(lines: &[String], prefix: &str) -> String {
    let line = lines
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {lines:?}"));
    let url = line[prefix.len()..].trim();
    let rest = url.strip_prefix("http://").expect("an http URL");
    rest.split('/').next().unwrap().to_owned()
}

fn stop(mut child: std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn get(addr: &str, path: &str, extra_headers: &str) -> String {
    http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{extra_headers}Connection: close\r\n\r\n"),
    )
}

fn login_request(addr: &str, username: &str, password: &str) -> String {
    let body = format!(
        r#"{{"auth":{{"type":"password","username":"{username}","password":"{password}"}}}}"#
    );
    http(
        addr,
        &format!(
            "POST /v0/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

#[test]
fn start_up_names_the_web_app_and_the_docs_and_a_second_sqlite_serve_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (child, lines) = start_server_with(dir.path(), &[], &dir.path().join("first.log"));
    let addr = addr_after(&lines, "Listening on");
    assert_eq!(addr_after(&lines, "  web app:"), addr);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("http://{addr}/docs"))),
        "{lines:?}"
    );
    assert!(get(&addr, "/docs", "").starts_with("HTTP/1.1 200"));

    let second = timesync(dir.path())
        .args(["serve", "--port", "0"])
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("another `timesync serve` is already using the SQLite database"),
        "{err}"
    );
    assert!(err.contains("ts.sqlite3"), "{err}");
    // Other commands still work on the file while it is served.
    let export = timesync(dir.path()).arg("export").output().unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    stop(child);
    // Once the first is gone, the file can be served again.
    let (child, _) = start_server_with(dir.path(), &[], &dir.path().join("again.log"));
    stop(child);
}

#[test]
fn bad_values_from_the_environment_or_dotenv_name_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value, expected) in [
        ("PORT", "eighty", "invalid PORT 'eighty': invalid digit"),
        ("BIND", "localhost:80", "invalid BIND 'localhost:80'"),
        (
            "TIMESYNC_METRICS_BIND",
            "9100",
            "invalid TIMESYNC_METRICS_BIND '9100'",
        ),
        (
            "TIMESYNC_LOG_FORMAT",
            "xml",
            "invalid TIMESYNC_LOG_FORMAT 'xml'",
        ),
        ("TIMESYNC_LOG", "info,=x=", "invalid TIMESYNC_LOG"),
    ] {
        let out = timesync(dir.path())
            .arg("serve")
            .env(var, value)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{var}={value} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{var}: {err}");
        assert!(!err.contains("--"), "{var}: names a flag: {err}");
    }
    // The same from a .env file.
    std::fs::write(dir.path().join(".env"), "PORT=eighty\n").unwrap();
    let out = timesync(dir.path()).arg("serve").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid PORT 'eighty'"), "{err}");
    // A typed flag is still reported as the flag.
    let out = timesync(dir.path())
        .args(["serve", "--port", "ninety"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--port"), "{err}");
}

#[test]
fn unusable_database_urls_say_once_what_is_wrong_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    // A free port: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = format!("postgres://ts:secretpw@127.0.0.1:{port}/ts");
    for (url, expected) in [
        (
            "sqlite:///nonexistent/dir/x.db",
            "mkdir -p /nonexistent/dir",
        ),
        ("sqlite://", "names no database file"),
        (refused.as_str(), "Connection refused"),
    ] {
        for command in ["serve", "migrate"] {
            let started = Instant::now();
            let out = timesync(dir.path())
                .arg(command)
                .env("DATABASE_URL", url)
                .output()
                .unwrap();
            assert!(!out.status.success(), "{command} {url}");
            assert!(started.elapsed() < Duration::from_secs(8), "{url}: slow");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(err.matches(expected).count(), 1, "{command} {url}: {err}");
            assert!(!err.contains("secretpw"), "{err}");
            let errors = err.lines().filter(|l| l.starts_with("error:")).count();
            assert_eq!(errors, 1, "one error line: {err}");
        }
    }
    assert!(!dir.path().join("ts.sqlite3").exists());
}

#[test]
fn json_logs_parse_line_by_line_and_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let (child, lines) = start_server_with(dir.path(), &[("TIMESYNC_LOG_FORMAT", "json")], &log);
    let addr = addr_after(&lines, "Listening on");
    let answer = get(
        &addr,
        "/v0/projects/some-project?token=not-a-token",
        "X-Request-Id: trace-me-42\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    stop(child);
    let text = std::fs::read_to_string(&log).unwrap();
    let mut access = None;
    for line in text.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        if v["request_id"] == "trace-me-42" && v["message"] == "served" {
            access = Some(v);
        }
    }
    let access = access.unwrap_or_else(|| panic!("no access line: {text}"));
    assert_eq!(access["route"], "/v0/projects/{slug}", "{access}");
    assert_eq!(access["status"], 401);
    let latency = access["latency_ms"].as_f64().unwrap();
    assert_eq!(
        latency,
        (latency * 10.0).round() / 10.0,
        "rounded: {latency}"
    );
    assert!(!text.contains("not-a-token"), "the query is never logged");
}

#[test]
fn human_logs_carry_no_colour_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let (child, lines) = start_server_with(dir.path(), &[], &log);
    let addr = addr_after(&lines, "Listening on");
    get(&addr, "/healthz", "");
    stop(child);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("served"), "{text}");
    assert!(!text.contains('\u{1b}'), "ANSI codes in a file: {text:?}");
    let latency = text
        .split("latency_ms=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no latency: {text}"));
    let decimals = latency.split('.').nth(1).map_or(0, str::len);
    assert!(decimals <= 1, "latency_ms={latency}");
}

/// The value of the sample `name{labels}` in a Prometheus text page (0 when absent).
fn sample(page: &str, name_and_labels: &str) -> f64 {
    page.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[test]
fn metrics_count_requests_by_route_on_their_own_listener_without_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let (child, lines) = start_server_with(
        dir.path(),
        &[("TIMESYNC_METRICS_BIND", "127.0.0.1:0")],
        &dir.path().join("server.log"),
    );
    let api = addr_after(&lines, "Listening on");
    let metrics = addr_after(&lines, "  metrics:");
    assert_ne!(api, metrics);
    let password = lines
        .iter()
        .find_map(|l| l.strip_prefix("Created the site-admin account 'root' with password: "))
        .unwrap()
        .trim()
        .to_owned();
    let scrape = || {
        let answer = get(&metrics, "/metrics", "");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        answer
    };
    // Not on the API's address.
    assert!(get(&api, "/metrics", "").starts_with("HTTP/1.1 404"));
    let before = scrape();

    let ok = login_request(&api, "root", &password);
    let token = ok
        .split("\"token\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    login_request(&api, "secretperson", "hunter2-password");
    for name in ["alice-private", "bob-private"] {
        get(&api, &format!("/v0/users/{name}?token={token}"), "");
    }
    get(&api, "/no/such/route/carol-private", "");
    let after = scrape();

    let users =
        r#"timesync_http_requests_total{route="/v0/users/{username}",method="GET",status="404"}"#;
    assert_eq!(
        sample(&after, users) - sample(&before, users),
        2.0,
        "{after}"
    );
    let logins = |outcome: &str| format!(r#"timesync_logins_total{{outcome="{outcome}"}}"#);
    assert_eq!(sample(&after, &logins("success")), 1.0, "{after}");
    assert_eq!(sample(&after, &logins("failure")), 1.0, "{after}");
    let unmatched = r#"timesync_http_requests_total{route="unmatched",method="GET",status="404"}"#;
    assert!(sample(&after, unmatched) >= 1.0, "{after}");
    let bucket = r#"timesync_http_request_duration_seconds_count{route="/v0/login",method="POST"}"#;
    assert_eq!(sample(&after, bucket), 2.0, "{after}");
    // In flight: this scrape is not an API request, so none.
    assert_eq!(sample(&after, "timesync_http_requests_in_flight"), 0.0);
    assert!(
        sample(&after, "timesync_db_pool_connections") >= 1.0,
        "{after}"
    );
    assert!(
        after.contains("timesync_db_pool_idle_connections "),
        "{after}"
    );
    assert!(
        sample(&after, "process_start_time_seconds") > 1.7e9,
        "{after}"
    );
    assert!(after.contains(&format!(
        "timesync_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    )));
    for private in [
        "secretperson",
        "hunter2",
        "alice-private",
        "bob-private",
        "carol-private",
        token,
        password.as_str(),
    ] {
        assert!(!after.contains(private), "{private} in the metrics");
    }
    stop(child);
}

/// The README's "first session" block, run with bash against a fresh
/// server (curl and python3 as in the README).
#[test]
fn readme_first_session() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let marker = "<!-- tested by tests/cli.rs: readme_first_session -->\n```sh\n";
    let start = readme.find(marker).expect("the marked block") + marker.len();
    let block = &readme[start..start + readme[start..].find("```").unwrap()];

    let dir = tempfile::tempdir().unwrap();
    let (child, lines) = start_server_with(dir.path(), &[], &dir.path().join("server.log"));
    let addr = addr_after(&lines, "Listening on");
    let password = lines
        .iter()
        .find_map(|l| l.strip_prefix("Created the site-admin account 'root' with password: "))
        .unwrap()
        .trim()
        .to_owned();
    let script = block
        .replace("TS=http://127.0.0.1:8000", &format!("TS=http://{addr}"))
        .replace("the password the first start printed", &password);
    assert_ne!(
        script, block,
        "the block names the server and password as expected"
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("\"revision\":2"), "{stdout}");
    // The new password works, the old one no longer does.
    assert!(login_request(&addr, "root", "a long new passphrase").starts_with("HTTP/1.1 200"));
    assert!(login_request(&addr, "root", &password).starts_with("HTTP/1.1 401"));
    stop(child);
}

/// TIMESYNC_LOG_SQL alone (or --log-sql) logs the statements; `0` or no
/// value leaves them out.
#[test]
fn log_sql_turns_the_statement_log_on() {
    let dir = tempfile::tempdir().unwrap();
    let stderr_of = |args: &[&str], env: &[(&str, &str)]| {
        let out = timesync(dir.path())
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let on = stderr_of(&["migrate"], &[("TIMESYNC_LOG_SQL", "1")]);
    assert!(on.contains("sqlx::query"), "{on}");
    let flag = stderr_of(&["migrate", "--log-sql"], &[]);
    assert!(flag.contains("sqlx::query"), "{flag}");
    let off = stderr_of(&["migrate"], &[("TIMESYNC_LOG_SQL", "0")]);
    assert!(!off.contains("sqlx::query"), "{off}");
}
