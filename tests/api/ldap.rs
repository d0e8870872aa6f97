//! LDAP login (`{"auth": {"type": "ldap", ...}}`) against a real OpenLDAP
//! server (see `slapd.rs`): the directory decides the password, the local
//! TimeSync account must exist, be active and not deleted.

use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;
use timesync::config::{AuthModules, LdapConfig, Secret};
use timesync::domain::ldap::{self, UNAVAILABLE};
use timesync::domain::tokens::Tokens;
use timesync::storage::{self, entities::user, users::NewUser};

use crate::helpers::*;
use crate::slapd::{self, Slapd, ALICE, BOB, CAROL, DAVE, ERIN, READER_DN, READER_PASSWORD, TWIN};

/// The text of every refusal that must not tell whether the user exists.
const REFUSED: &str = "Incorrect username or password";

const BOTH: AuthModules = AuthModules {
    password: true,
    ldap: true,
};

/// Anonymous search of the whole suffix, 5 s timeout.
pub fn ldap_config(url: &str) -> LdapConfig {
    LdapConfig {
        url: url.to_owned(),
        search_base: slapd::SUFFIX.to_owned(),
        starttls: false,
        bind_dn: None,
        bind_password: None,
        timeout: Duration::from_secs(5),
    }
}

/// A server with both login modules and this LDAP configuration.
pub async fn spawn_ldap_app(config: LdapConfig) -> TestApp {
    TestApp::spawn_with(|cfg| {
        cfg.ldap = Some(config);
        cfg.auth_modules = BOTH;
    })
    .await
}

/// Creates a local account with no password of its own (LDAP-only).
pub async fn local_user(app: &TestApp, username: &str, active: bool) -> user::Model {
    let new = NewUser {
        username: username.to_owned(),
        active,
        ..Default::default()
    };
    storage::users::insert(app.db.conn(), new, storage::now_millis())
        .await
        .expect("insert user")
}

/// Marks a local account deleted.
async fn delete_user(app: &TestApp, row: user::Model) {
    let mut active: user::ActiveModel = row.into();
    active.deleted_at = Set(Some(storage::now_millis()));
    active.update(app.db.conn()).await.expect("delete user");
}

/// `POST /v0/login` with an `ldap` auth block.
pub async fn ldap_login(app: &TestApp, username: &str, password: &str) -> Resp {
    let body = json!({"auth": {"type": "ldap", "username": username, "password": password}});
    app.post_raw("/v0/login", body.to_string()).await
}

#[track_caller]
fn assert_refused(r: &Resp) {
    r.assert_error(401, "Authentication failure")
        .assert_text(REFUSED);
}

#[track_caller]
fn assert_unavailable(r: &Resp) {
    r.assert_error(401, "Authentication failure")
        .assert_text(UNAVAILABLE);
}

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn ldap_login_issues_a_token_of_the_local_user() {
    let directory = slapd::shared().await;
    let app = spawn_ldap_app(ldap_config(&directory.url)).await;
    local_user(&app, "alice", true).await;

    let r = ldap_login(&app, ALICE.0, ALICE.1).await;
    r.assert_ok();
    let token = r.body["token"].as_str().expect("token");
    let tokens = Tokens::new(SECRET.as_bytes(), "timesync");
    let claims = tokens
        .verify(token, storage::now_millis())
        .expect("valid token");
    assert_eq!(claims.sub, "alice");

    // Usernames are case-insensitive in TimeSync and in the directory.
    let r = ldap_login(&app, "ALICE", ALICE.1).await;
    r.assert_ok();
    let claims = tokens
        .verify(
            r.body["token"].as_str().expect("token"),
            storage::now_millis(),
        )
        .expect("valid token");
    assert_eq!(claims.sub, "alice");
}

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn wrong_password_unknown_uid_and_missing_account_are_refused_alike() {
    let directory = slapd::shared().await;
    let app = spawn_ldap_app(ldap_config(&directory.url)).await;
    local_user(&app, "alice", true).await;
    local_user(&app, "nobody-in-directory", true).await;

    // Wrong password of a user known to both.
    assert_refused(&ldap_login(&app, ALICE.0, "not-alice-secret").await);
    // Another entry's password is not alice's.
    assert_refused(&ldap_login(&app, ALICE.0, BOB.1).await);
    // A TimeSync account with no directory entry.
    assert_refused(&ldap_login(&app, "nobody-in-directory", "whatever").await);
    // Neither in the directory nor in TimeSync.
    assert_refused(&ldap_login(&app, "mallory", "whatever").await);
    // In the directory with the right password, but no TimeSync account.
    assert_refused(&ldap_login(&app, BOB.0, BOB.1).await);
    // The local password mechanism is not consulted for ldap logins.
    assert_refused(&ldap_login(&app, "root", &app.root_password.clone()).await);
}

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn inactive_and_deleted_accounts_cannot_log_in() {
    let directory = slapd::shared().await;
    let app = spawn_ldap_app(ldap_config(&directory.url)).await;
    local_user(&app, "dave", false).await;
    let erin = local_user(&app, "erin", true).await;
    // Erin's directory password works while her account is live.
    ldap_login(&app, ERIN.0, ERIN.1).await.assert_ok();
    delete_user(&app, erin).await;

    assert_refused(&ldap_login(&app, DAVE.0, DAVE.1).await);
    assert_refused(&ldap_login(&app, ERIN.0, ERIN.1).await);
}

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn empty_password_is_refused_before_any_bind() {
    // This slapd allows `bind_anon_dn`: a bind with alice's DN and an empty
    // password would succeed as an anonymous bind.
    let directory = slapd::shared().await;
    let app = spawn_ldap_app(ldap_config(&directory.url)).await;
    local_user(&app, "alice", true).await;

    assert_refused(&ldap_login(&app, ALICE.0, "").await);
    let config = ldap_config(&directory.url);
    assert!(!ldap::authenticate(&config, ALICE.0, "")
        .await
        .expect("answer"));
    assert!(ldap::authenticate(&config, ALICE.0, ALICE.1)
        .await
        .expect("answer"));
}

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn filter_injection_finds_nobody() {
    let directory = slapd::shared().await;
    let config = ldap_config(&directory.url);
    let app = spawn_ldap_app(config.clone()).await;
    local_user(&app, "alice", true).await;

    let attempts = [
        "*",
        "ali*",
        "*ice",
        ")(uid=*",
        "alice)(uid=*",
        "*)(|(uid=*))",
        "alice\\2a",
        "alice\0",
    ];
    for attempt in attempts {
        // Unescaped, `ali*` would match alice alone and her password would
        // pass; `)(uid=*` would be a malformed filter (a server error).
        let accepted = ldap::authenticate(&config, attempt, ALICE.1)
            .await
            .unwrap_or_else(|e| panic!("{attempt:?}: {e}"));
        assert!(!accepted, "{attempt:?} matched an entry");
        assert_refused(&ldap_login(&app, attempt, ALICE.1).await);
    }
    // The same calls do succeed for the plain username.
    assert!(ldap::authenticate(&config, ALICE.0, ALICE.1)
        .await
        .expect("answer"));
}

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn a_uid_matching_several_entries_is_refused() {
    let directory = slapd::shared().await;
    let app = spawn_ldap_app(ldap_config(&directory.url)).await;
    local_user(&app, "twin", true).await;
    // Either entry would accept the password; the login must not pick one.
    assert_refused(&ldap_login(&app, TWIN.0, TWIN.1).await);
}

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn service_bind_reaches_entries_hidden_from_anonymous_search() {
    let directory = slapd::shared().await;

    // Anonymously, carol's entry is invisible.
    let anonymous = spawn_ldap_app(ldap_config(&directory.url)).await;
    local_user(&anonymous, "carol", true).await;
    assert_refused(&ldap_login(&anonymous, CAROL.0, CAROL.1).await);

    let mut with_reader = ldap_config(&directory.url);
    with_reader.bind_dn = Some(READER_DN.to_owned());
    with_reader.bind_password = Some(Secret::new(READER_PASSWORD));
    let app = spawn_ldap_app(with_reader.clone()).await;
    local_user(&app, "carol", true).await;
    ldap_login(&app, CAROL.0, CAROL.1).await.assert_ok();
    assert_refused(&ldap_login(&app, CAROL.0, "wrong").await);

    // A wrong service password is a server-side problem, not the user's.
    let mut bad_reader = with_reader;
    bad_reader.bind_password = Some(Secret::new("not-the-reader-secret"));
    let app = spawn_ldap_app(bad_reader).await;
    local_user(&app, "carol", true).await;
    assert_unavailable(&ldap_login(&app, CAROL.0, CAROL.1).await);
}

#[tokio::test]
async fn unreachable_directory_is_a_clear_failure() {
    // Nothing listens on this port.
    let url = format!("ldap://127.0.0.1:{}", slapd::free_port());
    let app = spawn_ldap_app(ldap_config(&url)).await;
    local_user(&app, "alice", true).await;
    let started = Instant::now();
    assert_unavailable(&ldap_login(&app, ALICE.0, ALICE.1).await);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Password logins are unaffected.
    app.login("root", &app.root_password.clone()).await;
}

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn hanging_directory_fails_within_the_timeout() {
    // Its own slapd: pausing the shared one would stall the other tests.
    let directory = Slapd::start().await;
    let mut config = ldap_config(&directory.url);
    config.timeout = Duration::from_secs(1);
    let app = spawn_ldap_app(config).await;
    local_user(&app, "alice", true).await;
    ldap_login(&app, ALICE.0, ALICE.1).await.assert_ok();

    directory.pause().await;
    let started = Instant::now();
    // Bounded here too, so that a login that hangs fails the test.
    let r = tokio::time::timeout(Duration::from_secs(10), ldap_login(&app, ALICE.0, ALICE.1)).await;
    let elapsed = started.elapsed();
    directory.resume();
    let r = r.expect("login hung on a paused directory");
    assert_unavailable(&r);
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(4),
        "took {elapsed:?}"
    );

    // Once it answers again, so does login.
    ldap_login(&app, ALICE.0, ALICE.1).await.assert_ok();
}

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn tls_that_cannot_be_set_up_is_a_clear_failure() {
    // The test slapd has no TLS: StartTLS is refused and an ldaps://
    // handshake with its plain port fails. Neither falls back to plain text.
    let directory = slapd::shared().await;
    let mut starttls = ldap_config(&directory.url);
    starttls.starttls = true;
    let app = spawn_ldap_app(starttls).await;
    local_user(&app, "alice", true).await;
    assert_unavailable(&ldap_login(&app, ALICE.0, ALICE.1).await);

    let ldaps = ldap_config(&directory.url.replacen("ldap://", "ldaps://", 1));
    let app = spawn_ldap_app(ldaps).await;
    local_user(&app, "alice", true).await;
    let started = Instant::now();
    assert_unavailable(&ldap_login(&app, ALICE.0, ALICE.1).await);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn ldap_is_refused_when_not_enabled() {
    // Enabled module but no directory configured.
    let app = TestApp::spawn_with(|cfg| cfg.auth_modules = BOTH).await;
    ldap_login(&app, ALICE.0, ALICE.1)
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("ldap is not a valid authentication type");

    // Directory configured but the module switched off.
    let url = format!("ldap://127.0.0.1:{}", slapd::free_port());
    let app = TestApp::spawn_with(|cfg| {
        cfg.ldap = Some(ldap_config(&url));
        cfg.auth_modules = AuthModules {
            password: true,
            ldap: false,
        };
    })
    .await;
    local_user(&app, "alice", true).await;
    ldap_login(&app, ALICE.0, ALICE.1)
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("ldap is not a valid authentication type");
}

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn password_is_refused_when_only_ldap_is_enabled() {
    let directory = slapd::shared().await;
    let app = TestApp::spawn_with(|cfg| {
        cfg.ldap = Some(ldap_config(&directory.url));
        cfg.auth_modules = AuthModules {
            password: false,
            ldap: true,
        };
    })
    .await;
    local_user(&app, "alice", true).await;
    app.login_resp("root", &app.root_password.clone())
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("password is not a valid authentication type");
    ldap_login(&app, ALICE.0, ALICE.1).await.assert_ok();
}

/// `timesync serve` run as its own process, so that `SSL_CERT_FILE` (the
/// trusted CAs of the LDAP client) is set for it alone; killed on drop.
struct ServedBinary {
    child: Child,
    addr: String,
    _stdout: Lines<BufReader<ChildStdout>>,
}

impl ServedBinary {
    /// Starts on a free port over the SQLite database in `dir`, with `env`.
    fn start(dir: &Path, env: &[(&str, &str)]) -> ServedBinary {
        let mut child = timesync_command(dir)
            .args(["serve", "--port", "0"])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start timesync serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("timesync serve exited before listening")
                .expect("read stdout");
            if let Some(addr) = line.strip_prefix("Listening on http://") {
                break addr.trim().to_owned();
            }
        };
        ServedBinary {
            child,
            addr,
            _stdout: lines,
        }
    }

    async fn ldap_login(&self, username: &str, password: &str) -> (u16, serde_json::Value) {
        let body = json!({"auth": {"type": "ldap", "username": username, "password": password}});
        let resp = reqwest::Client::new()
            .post(format!("http://{}/v0/login", self.addr))
            .json(&body)
            .send()
            .await
            .expect("POST /v0/login");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON body"))
    }
}

impl Drop for ServedBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn timesync_command(dir: &Path) -> Command {
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

#[tokio::test]
#[ignore = "needs slapd (OpenLDAP); scripts/test.sh runs it"]
async fn ldaps_and_starttls_verify_the_directory_certificate() {
    // This slapd refuses every operation outside TLS.
    let directory = Slapd::start_tls().await;
    let tls = directory.tls.as_ref().expect("tls");
    let ca_file = tls.ca_file.display().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let created = timesync_command(dir.path())
        .args(["create-account", "-u", "alice", "-p", "local-password"])
        .output()
        .expect("create-account");
    assert!(created.status.success(), "{created:?}");

    let ldap_env = |url: &str| {
        vec![
            ("TIMESYNC_LDAP_URL", url.to_owned()),
            ("TIMESYNC_LDAP_SEARCH_BASE", slapd::SUFFIX.to_owned()),
            ("TIMESYNC_LDAP_TIMEOUT", "3".to_owned()),
        ]
    };
    let start = |extra: Vec<(&'static str, String)>| {
        let env: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        ServedBinary::start(dir.path(), &env)
    };

    // ldaps:// with the test CA trusted.
    let mut env = ldap_env(&tls.ldaps_url);
    env.push(("SSL_CERT_FILE", ca_file.clone()));
    let server = start(env);
    let (status, body) = server.ldap_login(ALICE.0, ALICE.1).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.ldap_login(ALICE.0, "wrong").await;
    assert_eq!((status, body["text"].as_str()), (401, Some(REFUSED)));
    drop(server);

    // ldap:// upgraded with StartTLS.
    let mut env = ldap_env(&directory.url);
    env.push(("SSL_CERT_FILE", ca_file.clone()));
    env.push(("TIMESYNC_LDAP_STARTTLS", "true".to_owned()));
    let server = start(env);
    let (status, body) = server.ldap_login(ALICE.0, ALICE.1).await;
    assert_eq!(status, 200, "{body}");
    drop(server);

    // Plain ldap:// is refused by this directory: StartTLS was really used.
    let mut env = ldap_env(&directory.url);
    env.push(("SSL_CERT_FILE", ca_file.clone()));
    let server = start(env);
    let (status, body) = server.ldap_login(ALICE.0, ALICE.1).await;
    assert_eq!((status, body["text"].as_str()), (401, Some(UNAVAILABLE)));
    drop(server);

    // A certificate from a CA the server does not trust is refused.
    let server = start(ldap_env(&tls.ldaps_url));
    let (status, body) = server.ldap_login(ALICE.0, ALICE.1).await;
    assert_eq!((status, body["text"].as_str()), (401, Some(UNAVAILABLE)));
}
