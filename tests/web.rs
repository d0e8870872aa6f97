//! The web app in a real browser: headless Chromium (Debian's `chromium`)
//! driven through `chromedriver` with fantoccini, against the real server
//! on SQLite. Each test saves screenshots of the pages it visits into
//! `target/web-screenshots/` (or `$TIMESYNC_SCREENSHOTS`).
//!
//! `#[ignore]`d under plain `cargo test` (they need the browser);
//! `scripts/test.sh` installs chromium and chromium-driver and runs them
//! with `--ignored`, where a missing browser fails them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Map, Value};
use timesync::app::Application;
use timesync::config::{AuthModules, Config, Secret};
use timesync::domain::ids::{Identifier, Slug, TimeId};
use timesync::domain::projects::ProjectQuery;
use timesync::domain::times::TimeQuery;
use timesync::domain::{activities, caller, projects, times, users, Caller, Page};
use timesync::http::AppState;

const PASSWORD: &str = "correct horse battery";

/// One browser at a time: the tests run in parallel with the rest of the
/// suite on few cores, and Chromium is heavy.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The server on a fresh SQLite database, with people and projects.
struct Site {
    base: String,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Site {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("web.sqlite3").display());
        let config = Config {
            database_url: url.parse().expect("database url"),
            bind: "127.0.0.1".parse().unwrap(),
            port: 0,
            secret_key: Some(Secret::new("web-test-secret-key-that-is-long-enough-0123")),
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
        };
        let app = Application::build(config).await.expect("build application");
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = rx.await;
        }));
        let site = Self {
            base,
            state,
            shutdown: Some(tx),
            _dir: dir,
        };
        site.seed().await;
        site
    }

    async fn caller(&self, username: &str) -> Caller {
        let token = self.state.tokens.issue(username, now_ms());
        caller::authenticate(&self.state.db, &self.state.tokens, &token)
            .await
            .expect("authenticate")
    }

    /// alice (staff, member of gwm), maggie (site manager), sam (site
    /// spectator); activities dev and docs; project gwm with default dev.
    async fn seed(&self) {
        let root = self.caller("root").await;
        let object = |v: Value| -> Map<String, Value> { v.as_object().unwrap().clone() };
        for (name, flags) in [
            ("alice", json!({})),
            ("maggie", json!({"site_manager": true})),
            ("sam", json!({"site_spectator": true})),
        ] {
            let mut user = object(json!({"username": name, "password": PASSWORD}));
            user.extend(object(flags));
            users::create(&self.state.db, &root, &user)
                .await
                .expect("user");
        }
        for (name, slug) in [("Development", "dev"), ("Documentation", "docs")] {
            activities::create(
                &self.state.db,
                &root,
                &object(json!({"name": name, "slug": slug})),
            )
            .await
            .expect("activity");
        }
        projects::create(
            &self.state.db,
            &root,
            &object(json!({
                "name": "Ganeti Web Manager", "slugs": ["gwm"], "default_activity": "dev",
                "users": {"alice": {"member": true}},
            })),
        )
        .await
        .expect("project");
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// alice's current times, as the domain sees them.
    async fn times_of(&self, username: &str) -> Vec<times::TimeView> {
        let root = self.caller("root").await;
        let query = TimeQuery {
            users: vec![username.to_owned()],
            ..TimeQuery::default()
        };
        let pages = &self.state.caches.time_pages;
        times::list(&self.state.db, pages, &root, &query, Page::default())
            .await
            .expect("list times")
            .items
            .clone()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A headless Chromium with a fresh profile, driven by its own chromedriver.
struct Browser {
    client: Client,
    driver: Child,
    downloads: tempfile::TempDir,
    _profile: tempfile::TempDir,
    shots: PathBuf,
    test: &'static str,
}

impl Browser {
    async fn start(test: &'static str) -> Self {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        assert!(
            Path::new(&chromium).exists(),
            "{chromium} is missing: install Debian's chromium (scripts/test.sh does)"
        );
        let port = free_port();
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {driver_bin} ({e}): install chromium-driver (scripts/test.sh does)")
            });
        let webdriver = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..200 {
            if http
                .get(format!("{webdriver}/status"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(ready, "chromedriver did not come up on port {port}");
        let profile = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": {
                    "download.default_directory": downloads.path().display().to_string(),
                    "download.prompt_for_download": false,
                },
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&webdriver)
            .await
            .expect("start a chromium session");
        let shots = std::env::var("TIMESYNC_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots")
            });
        std::fs::create_dir_all(&shots).expect("screenshot folder");
        Self {
            client,
            driver,
            downloads,
            _profile: profile,
            shots,
            test,
        }
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Saves a screenshot of the page as `<test>-<name>.png`.
    async fn shot(&self, name: &str) {
        // From the top of the page (a redirect may have jumped to an anchor).
        let _ = self
            .client
            .execute("window.scrollTo(0, 0)", Vec::new())
            .await;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{}-{name}.png", self.test)), png)
            .expect("save screenshot");
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// Waits until the element `css` exists and its text contains `text`
    /// (after a navigation the old page may still be shown for a moment).
    async fn wait_until_text(&self, css: &str, text: &str) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if t.contains(text) {
                        return t;
                    }
                    last = t;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} never contained {text:?}; last: {last:?}");
    }

    async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find")
            .len()
    }

    /// Types `value` into the input labelled `label` (found through its `<label for>`).
    async fn fill(&self, label: &str, value: &str) {
        let input = self.labelled(label).await;
        input.clear().await.expect("clear");
        input.send_keys(value).await.expect("type");
    }

    async fn labelled(&self, label: &str) -> fantoccini::elements::Element {
        let xpath = format!("//label[normalize-space()='{label}']");
        let label_el = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no label {label}: {e}"));
        let id = label_el.attr("for").await.unwrap().expect("label has for");
        self.client
            .find(Locator::Id(&id))
            .await
            .unwrap_or_else(|e| panic!("no field for {label}: {e}"))
    }

    async fn click_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space()='{text}'] | //a[normalize-space()='{text}'] | //summary[normalize-space()='{text}']");
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {text}: {e}"))
            .click()
            .await
            .expect("click");
    }

    async fn sign_in(&self, site: &Site, username: &str) {
        self.goto(&site.url("/")).await;
        self.fill("Username", username).await;
        self.fill("Password", PASSWORD).await;
        self.click_button("Sign in").await;
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath("//button[normalize-space()='Sign out']"))
            .await
            .expect("signed in");
    }

    async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; scripts/test.sh runs it"]
async fn a_day_of_work_in_the_browser() {
    let _one = ONE_BROWSER.lock().await;
    let site = Site::start().await;
    let b = Browser::start("journey").await;

    // `/` shows the sign-in page.
    b.goto(&site.url("/")).await;
    assert_eq!(b.path().await, "/login");
    b.shot("login").await;
    b.fill("Username", "alice").await;
    b.fill("Password", "wrong password").await;
    b.click_button("Sign in").await;
    b.wait_until_text("[role=alert]", "Incorrect username or password")
        .await;
    b.sign_in(&site, "alice").await;
    assert_eq!(b.path().await, "/");
    assert!(b.text("h1").await.contains("My week"));

    // The project's default activity is preselected.
    let activities = b.labelled("Activities").await;
    let selected = activities
        .find_all(Locator::Css("option:checked"))
        .await
        .unwrap();
    assert_eq!(selected.len(), 1);
    assert_eq!(
        selected[0].attr("value").await.unwrap().as_deref(),
        Some("dev")
    );

    // A duration the form does not understand is explained next to the field.
    b.fill("Duration", "soon").await;
    b.click_button("Add").await;
    b.wait_until_text("#duration-error", "not a duration").await;
    assert_eq!(
        b.labelled("Duration")
            .await
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    assert!(site.times_of("alice").await.is_empty());

    // Add an entry.
    b.fill("Duration", "1h 30m").await;
    b.fill("Notes", "Reviewed the login patch").await;
    b.fill("Issue URI", "https://example.org/issues/7").await;
    b.click_button("Add").await;
    b.wait_until_text("#week-total", "1:30").await;
    assert!(b
        .text("table.entries")
        .await
        .contains("Reviewed the login patch"));
    let stored = site.times_of("alice").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].duration, 5400);
    assert_eq!(stored[0].activities, vec!["dev"]);
    b.shot("week").await;

    // Edit it: 1.5h becomes 2:15.
    b.click_button("Edit entry gwm 1:30").await;
    b.wait_until_text("h1", "Edit entry").await;
    b.fill("Duration", "2:15").await;
    b.shot("edit").await;
    b.click_button("Save").await;
    b.wait_until_text("#week-total", "2:15").await;
    assert_eq!(site.times_of("alice").await[0].duration, 8100);

    // Delete it (confirming the question).
    b.click_button("Delete entry gwm 2:15").await;
    b.client.accept_alert().await.expect("confirm delete");
    b.wait_until_text("#week-total", "0:00").await;
    assert!(site.times_of("alice").await.is_empty());

    // Start a timer: it ticks, survives leaving the page, and stopping it
    // saves a time.
    b.labelled("Timer project")
        .await
        .select_by_value("gwm")
        .await
        .unwrap();
    b.fill("What are you working on?", "Triage").await;
    b.click_button("Start timer").await;
    let first = b.wait_until_text("#timer-elapsed", ":").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let later = b.text("#timer-elapsed").await;
    assert_ne!(first, later, "the elapsed time ticks");
    b.shot("timer").await;
    let running = timesync::domain::timers::current(&site.state.db, &site.caller("alice").await)
        .await
        .unwrap()
        .expect("the timer runs on the server");
    assert_eq!(running.project, "gwm");
    b.goto(&site.url("/projects")).await;
    b.goto(&site.url("/")).await;
    b.wait_until_text("#timer", "Triage").await;
    b.click_button("Stop timer").await;
    b.wait_until_text("#timer", "Start timer").await;
    let saved = site.times_of("alice").await;
    assert_eq!(saved.len(), 1);
    assert!(saved[0].duration >= 2, "{}", saved[0].duration);
    assert_eq!(saved[0].notes.as_deref(), Some("Triage"));
    let uuid = TimeId::parse(&saved[0].uuid).unwrap();
    times::delete(&site.state.db, &site.caller("alice").await, &uuid)
        .await
        .unwrap();

    // Sign out, then a site manager creates a project.
    b.click_button("Sign out").await;
    b.wait_until_text("[role=status]", "signed out").await;
    assert_eq!(b.path().await, "/login");
    b.goto(&site.url("/")).await;
    assert_eq!(b.path().await, "/login", "the session is gone");

    b.sign_in(&site, "maggie").await;
    b.goto(&site.url("/projects")).await;
    b.click_button("New project").await;
    b.fill("Name", "Timesync Web").await;
    b.fill("Slugs", "tsweb, timesync-web").await;
    b.labelled("Default activity")
        .await
        .select_by_value("docs")
        .await
        .unwrap();
    b.shot("projects-new").await;
    b.click_button("Create project").await;
    b.wait_until_text("h1", "Timesync Web").await;
    let manager = b.caller_project(&site, "tsweb").await;
    assert_eq!(manager.name, "Timesync Web");
    assert_eq!(manager.default_activity.as_deref(), Some("docs"));
    // ...and makes alice a member.
    b.fill("Add user", "alice").await;
    b.click_button("Save members").await;
    b.wait_until_text("#members", "alice").await;
    b.shot("project").await;
    let members = b.caller_project(&site, "tsweb").await.users.unwrap();
    assert!(members.get("alice").is_some_and(|r| r.member && !r.manager));

    // Reports: alice logs time on both projects; maggie sums it per project.
    let alice = site.caller("alice").await;
    for (project, duration) in [("gwm", 3600), ("tsweb", 1800), ("tsweb", 900)] {
        let object = json!({"duration": duration, "user": "alice", "project": project,
            "date_worked": chrono_today()});
        times::create(&site.state.db, &alice, object.as_object().unwrap())
            .await
            .expect("time");
    }
    b.goto(&site.url("/reports")).await;
    b.click_button("Run report").await;
    let table = b.wait_until_text("#report-table", "gwm").await;
    assert!(table.contains("gwm") && table.contains("1:00"), "{table}");
    assert!(
        table.contains("timesync-web tsweb") && table.contains("0:45"),
        "{table}"
    );
    assert!(b.text("#report-total").await.contains("1:45"));
    assert_eq!(b.count("svg.chart rect.bar").await, 2);
    b.shot("reports").await;
    b.click_button("Download CSV").await;
    let csv = wait_for_file(b.downloads.path(), "report.csv").await;
    assert_eq!(
        csv,
        "project,duration,count\r\ngwm,3600,1\r\ntimesync-web tsweb,2700,2\r\n"
    );

    b.goto(&site.url("/people")).await;
    b.shot("people").await;
    b.goto(&site.url("/activities")).await;
    b.shot("activities").await;
    b.goto(&site.url("/profile")).await;
    b.shot("profile").await;
    b.click_button("Sign out").await;
    b.wait_until_text("h1", "Sign in").await;
    assert_eq!(b.path().await, "/login");
    b.close().await;
}

impl Browser {
    /// The project `slug` as the domain sees it.
    async fn caller_project(&self, site: &Site, slug: &str) -> projects::ProjectView {
        let _ = ProjectQuery::default();
        projects::get(&site.state.db, &Slug::parse(slug).unwrap(), false)
            .await
            .expect("project")
    }
}

fn chrono_today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

async fn wait_for_file(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    for _ in 0..100 {
        if let Ok(text) = std::fs::read_to_string(&path) {
            if !text.is_empty() {
                return text;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{name} was not downloaded into {}", dir.display());
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; scripts/test.sh runs it"]
async fn a_forged_cross_site_post_is_refused() {
    let _one = ONE_BROWSER.lock().await;
    let site = Site::start().await;
    // The attacker's page: another origin (same host, other port, so the
    // SameSite=Lax cookie does go along) with a form posting to our site.
    let target = site.url("/entries");
    let evil = axum::Router::new().route(
        "/",
        axum::routing::get(move || async move {
            axum::response::Html(format!(
                "<form method=post action='{target}'>\
                 <input name=project value=gwm><input name=duration value=8h>\
                 <input name=date value=2026-01-05><input name=csrf value=guessed>\
                 <button>Win a prize</button></form>"
            ))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let evil_url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, evil).await });

    let b = Browser::start("forged").await;
    b.sign_in(&site, "alice").await;
    b.goto(&evil_url).await;
    b.click_button("Win a prize").await;
    b.wait_until_text("h1", "Form refused").await;
    b.shot("refused").await;
    assert!(
        site.times_of("alice").await.is_empty(),
        "nothing was written"
    );

    // The same form from our own page goes through (the check is not
    // refusing everything).
    b.goto(&site.url("/")).await;
    b.fill("Duration", "8h").await;
    b.click_button("Add").await;
    b.wait_until_text("#week-total", "8:00").await;
    assert_eq!(site.times_of("alice").await.len(), 1);
    b.close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; scripts/test.sh runs it"]
async fn a_spectator_sees_but_cannot_change() {
    let _one = ONE_BROWSER.lock().await;
    let site = Site::start().await;
    let alice = site.caller("alice").await;
    let object = json!({"duration": 3600, "user": "alice", "project": "gwm",
        "date_worked": chrono_today(), "notes": "Pairing"});
    times::create(&site.state.db, &alice, object.as_object().unwrap())
        .await
        .expect("time");

    let b = Browser::start("spectator").await;
    b.sign_in(&site, "sam").await;
    b.goto(&site.url("/?user=alice")).await;
    assert!(
        b.text("table.entries").await.contains("Pairing"),
        "sam sees alice's time"
    );
    assert_eq!(b.count("a[href^='/entries/']").await, 0, "no Edit");
    assert_eq!(b.count("form[action$='/delete']").await, 0, "no Delete");
    assert_eq!(
        b.count("form[action='/entries']").await,
        0,
        "no add form for others"
    );
    b.shot("week-of-alice").await;

    b.goto(&site.url("/projects")).await;
    assert!(b.text("main").await.contains("Ganeti Web Manager"));
    assert_eq!(b.count("details.new").await, 0, "no New project");
    b.goto(&site.url("/projects/gwm")).await;
    assert_eq!(b.count("form[action='/projects/gwm/members']").await, 0);
    assert_eq!(b.count("form[action='/projects/gwm/delete']").await, 0);
    assert_eq!(b.count("form[action='/projects/gwm']").await, 0);
    b.goto(&site.url("/activities")).await;
    assert_eq!(b.count("main form").await, 0, "no activity forms");
    // No People section, and the page itself refuses.
    assert_eq!(b.count("a[href='/people']").await, 0);
    b.goto(&site.url("/people")).await;
    assert!(b.text("[role=alert]").await.contains("not allowed"));
    b.close().await;
}
