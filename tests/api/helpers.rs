//! Test harness: each test starts the real server on port 0 against a
//! fresh database of the backend named by `TIMESYNC_TEST_BACKEND`
//! (`sqlite`, the default; `postgres` with `TIMESYNC_TEST_POSTGRES_URL`;
//! `mysql` with `TIMESYNC_TEST_MYSQL_URL`, both admin URLs of throwaway
//! servers that `scripts/test.sh` starts) and talks to it over HTTP.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header::HeaderMap;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use timesync::app::Application;
use timesync::config::{AuthModules, Config, Secret};
use timesync::storage::{self, users::NewUser, Db};

pub const SECRET: &str = "test-secret-key-that-is-long-enough-0123456789";

/// The backend this test run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

pub fn backend() -> Backend {
    match std::env::var("TIMESYNC_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("mysql") => Backend::Mysql,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("unknown TIMESYNC_TEST_BACKEND {other}"),
    }
}

/// A fresh, empty database URL for one test. SQLite files live in a
/// temporary directory kept for the life of the returned guard.
pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        "t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    match backend() {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}", dir.path().join("timesync.sqlite3").display());
            (url, Some(dir))
        }
        Backend::Postgres | Backend::Mysql => {
            let var = if backend() == Backend::Postgres {
                "TIMESYNC_TEST_POSTGRES_URL"
            } else {
                "TIMESYNC_TEST_MYSQL_URL"
            };
            let admin =
                std::env::var(var).unwrap_or_else(|_| panic!("{var} must be set for this backend"));
            let conn = sea_orm::Database::connect(admin.as_str())
                .await
                .expect("connect admin url");
            conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            conn.close().await.ok();
            let mut url = url::Url::parse(&admin).expect("admin url");
            url.set_path(&format!("/{name}"));
            (url.to_string(), None)
        }
    }
}

/// A configuration for tests: port 0, fixed secret, generous throttle.
pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: database_url.parse().expect("database url"),
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        secret_key: Some(Secret::new(SECRET)),
        instance_name: "timesync".into(),
        auth_modules: AuthModules {
            password: true,
            ldap: false,
        },
        ldap: None,
        default_limit: 0,
        max_body_bytes: 1024 * 1024,
        login_failures_per_minute: 1000,
        metrics_bind: None,
        migrate: true,
        public_url: None,
    }
}

/// An HTTP answer: status, headers, and the body as JSON (`Null` when
/// empty, a string when not JSON).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// Asserts an error object: status, `error` name, and `status` field.
    #[track_caller]
    pub fn assert_error(&self, status: u16, error: &str) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(self.body["error"], error, "body: {}", self.text);
        assert_eq!(self.body["status"], status, "body: {}", self.text);
        self
    }
    #[track_caller]
    pub fn assert_text(&self, text: &str) -> &Self {
        assert_eq!(self.body["text"], text, "body: {}", self.text);
        self
    }
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(
            (200..300).contains(&self.status),
            "status {}: {}",
            self.status,
            self.text
        );
        self
    }
}

/// Site-wide flags of a user made by `TestApp::user`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    pub spectator: bool,
    pub manager: bool,
    pub admin: bool,
    pub inactive: bool,
}

pub const PLAIN: Flags = Flags {
    spectator: false,
    manager: false,
    admin: false,
    inactive: false,
};
pub const SPECTATOR: Flags = Flags {
    spectator: true,
    manager: false,
    admin: false,
    inactive: false,
};
pub const MANAGER: Flags = Flags {
    spectator: false,
    manager: true,
    admin: false,
    inactive: false,
};
pub const ADMIN: Flags = Flags {
    spectator: false,
    manager: false,
    admin: true,
    inactive: false,
};

/// The running server of one test.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// Direct handle on the database, for fixtures and checks.
    pub db: Db,
    pub database_url: String,
    pub root_password: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server whose configuration `adjust` may change.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let (url, dir) = fresh_database().await;
        let mut config = test_config(&url);
        adjust(&mut config);
        let app = Application::build(config).await.expect("build application");
        let root_password = app
            .initial_root_password
            .clone()
            .expect("first run creates root");
        let addr = app.local_addr();
        let db = app.state().db.clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        Self {
            addr,
            client: reqwest::Client::new(),
            db,
            database_url: url,
            root_password,
            shutdown: Some(tx),
            server: Some(server),
            _dir: dir,
        }
    }

    /// Stops accepting, waits for requests in flight, returns the result.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.server
            .take()
            .expect("running")
            .await
            .expect("server task")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    async fn read(resp: reqwest::Response) -> Resp {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
        };
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    /// `path` with `token=` appended to its query.
    fn with_token(&self, path: &str, token: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        self.url(&format!("{path}{sep}token={token}"))
    }

    /// GET with `?token=`.
    pub async fn get(&self, path: &str, token: &str) -> Resp {
        Self::read(
            self.client
                .get(self.with_token(path, token))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    /// GET without any token.
    pub async fn get_anon(&self, path: &str) -> Resp {
        Self::read(self.client.get(self.url(path)).send().await.expect("GET")).await
    }

    /// DELETE with `?token=`.
    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        Self::read(
            self.client
                .delete(self.with_token(path, token))
                .send()
                .await
                .expect("DELETE"),
        )
        .await
    }

    /// POST `{"auth": {"type": "token", "token": T}, "object": object}`.
    pub async fn post(&self, path: &str, token: &str, object: Value) -> Resp {
        let body = json!({"auth": {"type": "token", "token": token}, "object": object});
        self.post_raw(path, body.to_string()).await
    }

    /// POST a raw body (JSON content type).
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> Resp {
        let resp = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        Self::read(resp).await
    }

    /// `POST /v0/login` with a password; the raw answer.
    pub async fn login_resp(&self, username: &str, password: &str) -> Resp {
        let body =
            json!({"auth": {"type": "password", "username": username, "password": password}});
        self.post_raw("/v0/login", body.to_string()).await
    }

    /// Logs in with a password; panics unless a token comes back.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self.login_resp(username, password).await;
        assert_eq!(r.status, 200, "login {username}: {}", r.text);
        r.body["token"].as_str().expect("token").to_owned()
    }

    /// A token of the first-run site admin `root`.
    pub async fn root_token(&self) -> String {
        self.login("root", &self.root_password.clone()).await
    }

    /// Creates a user directly in the database (password = username,
    /// hashed at a low cost for speed) and returns a token for them
    /// (inactive users get no token: an empty string).
    pub async fn user(&self, username: &str, flags: Flags) -> String {
        let hash = bcrypt::hash(username, 4).expect("hash");
        let new = NewUser {
            username: username.to_owned(),
            password: Some(hash),
            display_name: Some(format!("{username} display")),
            email: Some(format!("{username}@example.org")),
            site_spectator: flags.spectator,
            site_manager: flags.manager,
            site_admin: flags.admin,
            active: !flags.inactive,
            meta: None,
        };
        storage::users::insert(self.db.conn(), new, storage::now_millis())
            .await
            .expect("insert user");
        if flags.inactive {
            String::new()
        } else {
            self.login(username, username).await
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
