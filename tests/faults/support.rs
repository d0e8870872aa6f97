//! Support of the fault tests: a throwaway PostgreSQL server the test can
//! crash and restart, the real `timesync` binary as a child process, a
//! seeded fixture, and checks of what the database holds afterwards.
//!
//! Facts behind the PostgreSQL commands: shared/notes/databases-in-tests.md
//! (initdb and postgres refuse root: run them as `postgres`).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sea_orm::EntityTrait;
use serde_json::{json, Value};
use timesync::storage::entities::{time, time_activity};
use timesync::storage::Db;

pub const SECRET: &str = "fault-tests-secret-key-long-enough-0123456789";
/// Longest any single request may take, even while the database is down.
pub const REQUEST_BOUND: Duration = Duration::from_secs(15);

/// Polls `check` every 50 ms until it is true or `limit` passes.
pub fn poll(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends `signal` (e.g. "TERM") to `pid` with kill(1).
pub fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Waits up to `limit` for `child` to exit.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The newest `/usr/lib/postgresql/*/bin` holding initdb, as
/// scripts/lib/databases.sh finds it.
fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// uid and gid of the `postgres` account, from /etc/passwd.
fn postgres_account() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() > 3 && f[0] == "postgres")
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A throwaway PostgreSQL cluster in a temporary directory, owned by this
/// test: it can be crashed and started again on the same port and data.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    account: Option<(u32, u32)>,
    pub port: u16,
    child: Option<Child>,
}

impl Postgres {
    /// Initialises and starts a cluster. The tests using it are
    /// `#[ignore]`d under plain `cargo test` (scripts/test.sh runs them); run
    /// without PostgreSQL installed they fail, naming what is missing.
    pub fn start() -> Self {
        let bin = postgres_bin().expect(
            "PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: \
             install Debian's postgresql (scripts/test.sh does as root)",
        );
        let account = running_as_root()
            .then(|| postgres_account().expect("running as root but there is no postgres account"));
        // Short path in /tmp: the socket path must stay under 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("tsfault")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let pg = dir.path().join("pg");
        std::fs::create_dir(&pg).expect("mkdir pg");
        if let Some((uid, gid)) = account {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
            std::os::unix::fs::chown(&pg, Some(uid), Some(gid)).expect("chown");
        }
        let mut this = Self {
            dir,
            bin,
            account,
            port: free_port(),
            child: None,
        };
        let out = this
            .command("initdb")
            .arg("-D")
            .arg(this.data())
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
            .args(["--locale=C.UTF-8", "--no-sync"])
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        this.launch();
        this
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(self.bin.join(program));
        if let Some((uid, gid)) = self.account {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("pg/data")
    }

    /// Starts the server on the data directory and waits until it accepts
    /// connections. Synchronous commit stays on: an acknowledged commit is
    /// in the WAL before the client hears of it, so an immediate shutdown
    /// (a crash) loses none. fsync is off: the operating system does not
    /// crash here, only PostgreSQL.
    pub fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("postgres.log"))
            .expect("log file");
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string()])
            .arg("-k")
            .arg(self.dir.path().join("pg"))
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=on"])
            .args(["-c", "max_connections=100"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start postgres");
        self.child = Some(child);
        let isready = self.bin.join("pg_isready");
        let port = self.port.to_string();
        poll(
            Duration::from_secs(60),
            "PostgreSQL to accept connections",
            || {
                let child = self.child.as_mut().expect("started");
                if let Some(status) = child.try_wait().expect("try_wait") {
                    panic!("postgres exited ({status}): {}", self.log());
                }
                Command::new(&isready)
                    .args(["-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
                    .status()
                    .is_ok_and(|s| s.success())
            },
        );
    }

    /// Immediate shutdown (SIGQUIT): backends die without a checkpoint,
    /// as in a crash; the next start replays the WAL.
    pub fn crash(&mut self) {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "QUIT");
        assert!(
            wait_exit(&mut child, Duration::from_secs(30)).is_some(),
            "postgres did not stop"
        );
    }

    /// The postmaster and its children (the backends serving connections).
    fn processes(&self) -> Vec<u32> {
        let postmaster = self.child.as_ref().expect("running").id();
        let mut pids = vec![postmaster];
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // "pid (comm) state ppid ...": the comm may hold spaces.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if ppid == Some(postmaster) {
                pids.push(pid);
            }
        }
        pids
    }

    /// Stops (SIGSTOP) every PostgreSQL process: the server keeps its
    /// connections open but answers nothing, as behind a network partition.
    pub fn freeze(&self) {
        self.signal_all("STOP");
    }

    pub fn thaw(&self) {
        self.signal_all("CONT");
    }

    /// A backend may exit between listing and signalling: no check.
    fn signal_all(&self, signal: &str) {
        for pid in self.processes() {
            let _ = Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.child.is_some() {
            // A test that failed while PostgreSQL was frozen.
            self.thaw();
        }
        if let Some(mut child) = self.child.take() {
            // Fast shutdown: drops clients, stops in milliseconds.
            signal(child.id(), "INT");
            if wait_exit(&mut child, Duration::from_secs(20)).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// The real `timesync serve` as a child process on a free port.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts `timesync serve --port 0` with `env` and waits until it
    /// listens. Its log (stderr) goes to `log`.
    pub fn start(env: &[(&str, &str)], log: &Path) -> Self {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("server log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_timesync"))
            .args(["serve", "--port", "0"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SECRET_KEY", SECRET)
            .env("INSTANCE_NAME", "faults")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("start timesync");
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        // Keeps draining stdout so the server never blocks on it.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("Listening on http://") {
                        return Self {
                            child,
                            base: format!("http://{}", addr.trim()),
                        };
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "timesync did not start: {}",
                        std::fs::read_to_string(log).unwrap_or_default()
                    );
                }
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// SIGTERM, then waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        signal(self.child.id(), "TERM");
        wait_exit(&mut self.child, Duration::from_secs(40)).expect("timesync exits after SIGTERM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A client whose every request gives up after `REQUEST_BOUND` (a hung
/// server fails the test instead of hanging it).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_BOUND)
        .build()
        .expect("client")
}

/// Fills a fresh database with the seed data set: site admin `admin`
/// (password `admin`), users `user1`, `user2`, projects `project1`,
/// `project2`, activities `activity1`, `activity2`.
pub async fn seed(database_url: &str) {
    let db = Db::connect(&database_url.parse().expect("url"))
        .await
        .expect("connect");
    db.migrate().await.expect("migrate");
    let args = timesync::seed::SeedArgs {
        users: 2,
        projects: 2,
        activities: 2,
        times: 0,
        seed: 1,
        admin_password: "admin".into(),
    };
    timesync::seed::seed(&db, &args, &timesync::progress::Progress::hidden())
        .await
        .expect("seed");
    db.close().await;
}

/// Logs in over HTTP; the token.
pub async fn login(client: &reqwest::Client, base: &str, user: &str, password: &str) -> String {
    let body = json!({"auth": {"type": "password", "username": user, "password": password}});
    let r = client
        .post(format!("{base}/v0/login"))
        .json(&body)
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200, "login {user}");
    let v: Value = r.json().await.expect("login body");
    v["token"].as_str().expect("token").to_owned()
}

/// A time of `admin` on `project1`, its notes naming who wrote it.
pub fn time_object(notes: &str) -> Value {
    json!({
        "duration": 600,
        "user": "admin",
        "project": "project1",
        "activities": ["activity1"],
        "notes": notes,
        "date_worked": "2026-01-02",
    })
}

/// The POST body of the API.
pub fn post_body(token: &str, object: Value) -> Value {
    json!({"auth": {"type": "token", "token": token}, "object": object})
}

/// A write the server acknowledged with a 2xx.
#[derive(Debug, Clone)]
pub struct Acked {
    pub uuid: String,
    pub revision: i32,
    pub notes: String,
}

/// Checks the times tables of `database_url`: every acknowledged write is
/// there with its notes, no (uuid, revision) is duplicated, each time has
/// exactly one newest revision and revisions 1..=n without gaps, and every
/// revision row has its activities (nothing half-written).
pub async fn assert_times_consistent(database_url: &str, acked: &[Acked]) {
    let db = Db::connect(&database_url.parse().expect("url"))
        .await
        .expect("connect");
    let rows = time::Entity::find()
        .all(db.conn())
        .await
        .expect("read times");
    let links = time_activity::Entity::find()
        .all(db.conn())
        .await
        .expect("read time_activities");
    db.close().await;
    let mut by_key = std::collections::HashMap::new();
    let mut revisions: std::collections::BTreeMap<&str, Vec<(i32, bool)>> = Default::default();
    for row in &rows {
        let dup = by_key.insert((row.uuid.clone(), row.revision), row);
        assert!(
            dup.is_none(),
            "duplicate revision {} of {}",
            row.revision,
            row.uuid
        );
        revisions
            .entry(&row.uuid)
            .or_default()
            .push((row.revision, row.newest));
    }
    for (uuid, mut revs) in revisions {
        revs.sort();
        let numbers: Vec<i32> = revs.iter().map(|r| r.0).collect();
        let expected: Vec<i32> = (1..=revs.len() as i32).collect();
        assert_eq!(numbers, expected, "revisions of {uuid}");
        let newest: Vec<i32> = revs.iter().filter(|r| r.1).map(|r| r.0).collect();
        assert_eq!(newest, vec![revs.len() as i32], "newest revision of {uuid}");
    }
    let linked: std::collections::HashSet<i64> = links.iter().map(|l| l.time_id).collect();
    for row in &rows {
        assert!(
            linked.contains(&row.id),
            "time {} revision {} has no activities (half-written)",
            row.uuid,
            row.revision
        );
    }
    for a in acked {
        let row = by_key
            .get(&(a.uuid.clone(), a.revision))
            .unwrap_or_else(|| panic!("acknowledged write lost: {a:?}"));
        assert_eq!(row.notes.as_deref(), Some(a.notes.as_str()), "{a:?}");
    }
}
