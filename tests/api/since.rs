//! `since` on `GET /times`, `/projects`, `/activities` and `/users`: only
//! objects created, updated or deleted at or after it, deleted ones
//! included; and `X-Next-Since`, the `since` of the next synchronisation,
//! which never skips a change that commits while a list is being read.
//!
//! Points in time between two changes are taken on the server's own clock
//! (the test runs the server in-process): a mark is read a few
//! milliseconds after one change and before the next, so that the stamps
//! of the changes lie on either side of it. No assertion depends on how
//! long anything takes.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat};
use serde_json::{json, Value};
use timesync::storage::{self, times::NewRevision};

use crate::helpers::*;

/// A point in time strictly after every change made before the call and
/// strictly before every change made after it (ms since the epoch).
async fn mark() -> i64 {
    tokio::time::sleep(Duration::from_millis(3)).await;
    let now = storage::now_millis();
    tokio::time::sleep(Duration::from_millis(3)).await;
    now
}

fn rfc3339(millis: i64) -> String {
    DateTime::from_timestamp_millis(millis)
        .unwrap()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `X-Next-Since` of an answer, as ms since the epoch.
#[track_caller]
fn next_since(r: &Resp) -> i64 {
    let value = r
        .header("x-next-since")
        .unwrap_or_else(|| panic!("no X-Next-Since: {:?}", r.headers));
    DateTime::parse_from_rfc3339(value)
        .unwrap_or_else(|e| panic!("X-Next-Since {value}: {e}"))
        .timestamp_millis()
}

/// Listed objects: a key of each and whether it is deleted.
type Listed = Vec<(String, bool)>;

/// The `key` of each listed object (in list order) and whether it is
/// deleted.
#[track_caller]
fn listed(r: &Resp, key: &str) -> Listed {
    r.assert_ok();
    r.body
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {}", r.text))
        .iter()
        .map(|o| {
            let k = match &o[key] {
                Value::Array(slugs) => slugs[0].as_str().unwrap().to_owned(),
                v => v
                    .as_str()
                    .unwrap_or_else(|| panic!("{key} of {o}"))
                    .to_owned(),
            };
            (k, !o["deleted_at"].is_null())
        })
        .collect()
}

fn sorted(mut items: Listed) -> Listed {
    items.sort();
    items
}

fn live(k: &str) -> (String, bool) {
    (k.to_owned(), false)
}

fn gone(k: &str) -> (String, bool) {
    (k.to_owned(), true)
}

/// Root's token, activities `dev`, `docs` and project `web` (root and
/// alice members); alice's token.
async fn site(app: &TestApp) -> (String, String) {
    let root = app.root_token().await;
    let alice = app.user("alice", PLAIN).await;
    for slug in ["dev", "docs"] {
        app.post("/v0/activities", &root, json!({"name": slug, "slug": slug}))
            .await
            .assert_ok();
    }
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "Web", "slugs": ["web"],
               "users": {"root": {"member": true}, "alice": {"member": true}}}),
    )
    .await
    .assert_ok();
    (root, alice)
}

async fn new_time(app: &TestApp, token: &str, user: &str, duration: i64) -> String {
    let r = app
        .post(
            "/v0/times",
            token,
            json!({"duration": duration, "user": user, "project": "web",
                   "activities": ["dev"], "date_worked": "2026-01-02"}),
        )
        .await;
    r.assert_ok();
    r.body["uuid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn times_created_updated_and_deleted_follow_their_since() {
    let app = TestApp::spawn().await;
    let (root, _) = site(&app).await;
    let before = mark().await;
    let a = new_time(&app, &root, "root", 60).await;
    let b = new_time(&app, &root, "root", 120).await;
    let after_creates = mark().await;
    app.post(&format!("/v0/times/{a}"), &root, json!({"duration": 90}))
        .await
        .assert_ok();
    let after_update = mark().await;
    app.delete(&format!("/v0/times/{b}"), &root)
        .await
        .assert_ok();
    let after_delete = mark().await;
    let c = new_time(&app, &root, "root", 30).await;
    let after_all = mark().await;

    let list = |since: String| {
        let app = &app;
        let root = &root;
        async move { app.get(&format!("/v0/times?since={since}"), root).await }
    };
    let cases = [
        (before, vec![live(&a), gone(&b), live(&c)]),
        (after_creates, vec![live(&a), gone(&b), live(&c)]),
        (after_update, vec![gone(&b), live(&c)]),
        (after_delete, vec![live(&c)]),
        (after_all, vec![]),
    ];
    for (since, want) in cases {
        // Both forms of `since` mean the same.
        for form in [since.to_string(), rfc3339(since)] {
            let r = list(form.clone()).await;
            assert_eq!(sorted(listed(&r, "uuid")), sorted(want.clone()), "{form}");
            assert_eq!(r.header("x-total-count"), Some(&*want.len().to_string()));
        }
    }
    // The update shows as its new revision; the delete with `deleted_at`
    // although `include_deleted` was not asked for (and even refused).
    let r = list(format!("{after_creates}&include_deleted=false")).await;
    let a_now = r.body.as_array().unwrap().iter().find(|t| t["uuid"] == *a);
    assert_eq!(a_now.unwrap()["revision"], 2);
    assert_eq!(a_now.unwrap()["duration"], 90);
    let b_now = r.body.as_array().unwrap().iter().find(|t| t["uuid"] == *b);
    assert!(b_now.unwrap()["deleted_at"].is_string(), "{}", r.text);
    // Without `since` the deleted time stays hidden, as before.
    let r = app.get("/v0/times", &root).await;
    assert_eq!(sorted(listed(&r, "uuid")), sorted(vec![live(&a), live(&c)]));
    // A stamp exactly at `since` is included ("at or after").
    let stamp = storage::times::find_current(app.db.conn(), &c)
        .await
        .unwrap()
        .unwrap()
        .sort_at;
    assert_eq!(listed(&list(stamp.to_string()).await, "uuid"), [live(&c)]);
    assert!(listed(&list((stamp + 1).to_string()).await, "uuid").is_empty());
}

#[tokio::test]
async fn projects_activities_and_users_follow_their_since() {
    let app = TestApp::spawn().await;
    let (root, _) = site(&app).await;
    let before_creates = mark().await;
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "Api", "slugs": ["api"]}),
    )
    .await
    .assert_ok();
    app.post(
        "/v0/activities",
        &root,
        json!({"name": "Ops", "slug": "ops"}),
    )
    .await
    .assert_ok();
    for username in ["bob", "carol"] {
        app.post("/v0/users", &root, json!({"username": username}))
            .await
            .assert_ok();
    }
    let after_creates = mark().await;
    // Updates: project `web` (its members), activity `dev`, user bob.
    app.post(
        "/v0/projects/web",
        &root,
        json!({"users": {"root": {"member": true}}}),
    )
    .await
    .assert_ok();
    app.post("/v0/activities/dev", &root, json!({"name": "Development"}))
        .await
        .assert_ok();
    app.post("/v0/users/bob", &root, json!({"display_name": "Bob"}))
        .await
        .assert_ok();
    let after_updates = mark().await;
    // Deletes: project `api`, activity `docs`, user carol.
    for path in ["/v0/projects/api", "/v0/activities/docs", "/v0/users/carol"] {
        app.delete(path, &root).await.assert_ok();
    }
    let after_deletes = mark().await;

    let sinces = [before_creates, after_creates, after_updates, after_deletes];
    // Projects and activities by name: deleted ones keep no slug (clients
    // mirror by uuid).
    let cases: [(&str, &str, [Listed; 4]); 3] = [
        (
            "/v0/projects",
            "name",
            [
                vec![live("Web"), gone("Api")],
                vec![live("Web"), gone("Api")],
                vec![gone("Api")],
                vec![],
            ],
        ),
        (
            "/v0/activities",
            "name",
            [
                vec![live("Development"), gone("docs"), live("Ops")],
                vec![live("Development"), gone("docs")],
                vec![gone("docs")],
                vec![],
            ],
        ),
        (
            "/v0/users",
            "username",
            [
                vec![live("bob"), gone("carol")],
                vec![live("bob"), gone("carol")],
                vec![gone("carol")],
                vec![],
            ],
        ),
    ];
    for (path, key, wants) in cases {
        for (since, want) in sinces.into_iter().zip(wants) {
            let r = app
                .get(&format!("{path}?since={}", rfc3339(since)), &root)
                .await;
            let n = want.len().to_string();
            assert_eq!(
                sorted(listed(&r, key)),
                sorted(want),
                "{path} since {since}"
            );
            assert_eq!(r.header("x-total-count"), Some(n.as_str()), "{path}");
            next_since(&r);
        }
        // Without `since`, deleted objects stay hidden as before.
        let r = app.get(path, &root).await;
        assert!(
            listed(&r, key).iter().all(|(_, deleted)| !deleted),
            "{path}"
        );
    }
}

#[tokio::test]
async fn since_combines_with_filters_and_pagination() {
    let app = TestApp::spawn().await;
    let (root, alice) = site(&app).await;
    let old = new_time(&app, &root, "root", 10).await;
    let old_alice = new_time(&app, &alice, "alice", 10).await;
    let since = mark().await;
    let mut roots = Vec::new();
    for d in 1..=3 {
        roots.push(new_time(&app, &root, "root", d).await);
    }
    let alices = [new_time(&app, &alice, "alice", 5).await];
    app.delete(&format!("/v0/times/{old_alice}"), &alice)
        .await
        .assert_ok();

    // Filters apply to the changed objects.
    let r = app
        .get(&format!("/v0/times?since={since}&user=root"), &root)
        .await;
    let want: Vec<_> = roots.iter().map(|u| live(u)).collect();
    assert_eq!(sorted(listed(&r, "uuid")), sorted(want.clone()));
    let r = app
        .get(&format!("/v0/times?since={since}&user=alice"), &root)
        .await;
    assert_eq!(
        sorted(listed(&r, "uuid")),
        sorted(vec![live(&alices[0]), gone(&old_alice)])
    );
    let r = app
        .get(
            &format!("/v0/times?since={since}&activity=docs&start=2026-01-01"),
            &root,
        )
        .await;
    assert_eq!(listed(&r, "uuid"), []);
    // Visibility still applies: alice sees only her own.
    let r = app.get(&format!("/v0/times?since={since}"), &alice).await;
    assert_eq!(
        sorted(listed(&r, "uuid")),
        sorted(vec![live(&alices[0]), gone(&old_alice)])
    );
    assert!(!r.text.contains(&old));

    // Pages of two through the five changes, in list order, with the
    // total and links that keep `since`.
    let mut seen = Vec::new();
    let mut path = format!("/v0/times?since={since}&limit=2");
    loop {
        let r = app.get(&path, &root).await;
        assert_eq!(r.header("x-total-count"), Some("5"), "{path}");
        next_since(&r);
        seen.extend(listed(&r, "uuid"));
        let Some(link) = r.header("link") else { break };
        let next = link
            .split(", ")
            .find(|l| l.ends_with("rel=\"next\""))
            .map(|l| l[1..l.find('>').unwrap()].to_owned());
        match next {
            Some(next) => {
                assert!(next.contains(&format!("since={since}")), "{next}");
                path = next;
            }
            None => break,
        }
    }
    let mut want: Vec<_> = roots.iter().map(|u| live(u)).collect();
    want.push(live(&alices[0]));
    want.push(gone(&old_alice));
    assert_eq!(sorted(seen.clone()), sorted(want));
    // The usual list order (the current revision's time): the deleted
    // time, created before `since`, comes first.
    assert_eq!(seen.first(), Some(&gone(&old_alice)));

    // CSV (streamed) and large JSON pages (streamed) take `since` too.
    let r = app
        .get(
            &format!("/v0/times?since={since}&user=alice&format=csv"),
            &root,
        )
        .await;
    r.assert_ok();
    next_since(&r);
    let rows: Vec<&str> = r.text.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{}", r.text);
    assert!(rows.iter().any(|l| l.starts_with(&old_alice)));
    assert!(rows.iter().any(|l| l.starts_with(&alices[0])));
    let r = app
        .get(&format!("/v0/times?since={since}&limit=5000"), &root)
        .await;
    assert_eq!(listed(&r, "uuid").len(), 5);
    assert_eq!(r.header("x-total-count"), Some("5"));
    next_since(&r);
}

#[tokio::test]
async fn every_list_carries_next_since_and_it_catches_the_next_change() {
    let app = TestApp::spawn().await;
    let (root, _) = site(&app).await;
    for path in [
        "/v0/times",
        "/v0/times?limit=10",
        "/v0/times?format=csv",
        "/v0/projects",
        "/v0/activities",
        "/v0/users",
    ] {
        let asked = storage::now_millis();
        let r = app.get(path, &root).await;
        r.assert_ok();
        let next = next_since(&r);
        // Before the request (see NEXT_SINCE_LAG), never after it.
        assert!(next < asked, "{path}: {next} not before {asked}");
        assert!(
            r.header("x-next-since").unwrap().ends_with('Z'),
            "{path}: UTC"
        );
    }

    // Browsers let a page of another origin read it.
    let r = app
        .client
        .get(app.url(&format!("/v0/users?token={root}")))
        .header("origin", "https://sync.example.org")
        .send()
        .await
        .unwrap();
    let exposed = r.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-next-since"), "{exposed}");

    // A client's loop: list, change, list with the header's `since`.
    let r = app.get("/v0/times", &root).await;
    let next = next_since(&r);
    let made = new_time(&app, &root, "root", 60).await;
    for since in [next.to_string(), rfc3339(next)] {
        let r = app.get(&format!("/v0/times?since={since}"), &root).await;
        assert!(listed(&r, "uuid").contains(&live(&made)), "{}", r.text);
    }
    let r = app.get("/v0/activities", &root).await;
    let next = r.header("x-next-since").unwrap().to_owned();
    app.post(
        "/v0/activities",
        &root,
        json!({"name": "Ops", "slug": "ops"}),
    )
    .await
    .assert_ok();
    let r = app
        .get(&format!("/v0/activities?since={next}"), &root)
        .await;
    assert!(listed(&r, "slug").contains(&live("ops")), "{}", r.text);
}

/// A write stamps its change inside its transaction and commits later.
/// Here a time is stamped a second before a list request and committed
/// only after the list has answered: the list cannot see it, and the
/// `since` it hands out must still catch it. (With `X-Next-Since` = the
/// clock at the request, the time would be skipped for good.)
#[tokio::test]
async fn a_change_committed_during_a_list_is_not_skipped() {
    let app = TestApp::spawn().await;
    let (root, _) = site(&app).await;
    let conn = app.db.conn();
    let root_id = storage::users::find_by_username(conn, "root")
        .await
        .unwrap()
        .unwrap()
        .id;
    let project_uuid = storage::projects::uuid_by_slug(conn, "web")
        .await
        .unwrap()
        .unwrap();
    let dev = storage::activities::find_by_slug(conn, "dev")
        .await
        .unwrap()
        .unwrap()
        .uuid;
    let uuid = uuid::Uuid::new_v4().to_string();
    let listed_during = app
        .db
        .write(|tx| {
            let (app, root, uuid) = (&app, &root, uuid.clone());
            let (project_uuid, dev) = (project_uuid.clone(), dev.clone());
            async move {
                let stamp = storage::now_millis() - 1_000;
                storage::times::insert_revision(
                    &tx,
                    NewRevision {
                        uuid,
                        revision: 1,
                        user_id: root_id,
                        project_uuid,
                        duration: 60,
                        notes: None,
                        issue_uri: None,
                        date_worked: chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
                        created_at: stamp,
                        updated_at: None,
                        activity_uuids: vec![dev],
                    },
                )
                .await?;
                // The list runs while the transaction is open (on SQLite
                // too: readers do not wait for the writer).
                let during = app.get("/v0/times?since=0", root).await;
                Ok::<_, timesync::error::Error>(during)
            }
        })
        .await
        .unwrap();
    assert!(
        !listed(&listed_during, "uuid").contains(&live(&uuid)),
        "uncommitted time listed: {}",
        listed_during.text
    );
    let next = next_since(&listed_during);
    // Committed now; the next synchronisation catches it.
    let r = app.get(&format!("/v0/times?since={next}"), &root).await;
    assert!(listed(&r, "uuid").contains(&live(&uuid)), "{}", r.text);
}

#[tokio::test]
async fn bad_since_values_are_refused() {
    let app = TestApp::spawn().await;
    let (root, _) = site(&app).await;
    for path in ["/v0/times", "/v0/projects", "/v0/activities", "/v0/users"] {
        for (sent, shown) in [
            ("yesterday", "yesterday"),
            ("-5", "-5"),
            ("2026-12-01", "2026-12-01"),
            ("2026-12-01T10:00:00", "2026-12-01T10:00:00"),
            ("12.5", "12.5"),
            ("99999999999999999999", "99999999999999999999"),
            ("", ""),
        ] {
            let r = app.get(&format!("{path}?since={sent}"), &root).await;
            r.assert_error(400, "Bad query value")
                .assert_text(&format!("Parameter since contained invalid value {shown}"));
        }
    }
    // CSV answers the error as JSON too, before any row.
    let r = app.get("/v0/times?format=csv&since=soon", &root).await;
    r.assert_error(400, "Bad query value")
        .assert_text("Parameter since contained invalid value soon");
}
