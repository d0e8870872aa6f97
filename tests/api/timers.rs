//! Running timers (issue 16): start, edit, stop into a time entry,
//! discard; validation as for times; deletes of what a timer uses refused;
//! concurrent stops and a start racing a stop.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use timesync::storage::entities::{time, timer};

use crate::helpers::*;

/// A site admin's token, activities `dev` and `docs`, project `gwm`
/// (default activity `docs`) and project `plain` (no default), both with
/// `alice` as a member; returns (root, alice).
async fn setup(app: &TestApp) -> (String, String) {
    let root = app.root_token().await;
    let alice = app.user("alice", PLAIN).await;
    for slug in ["dev", "docs"] {
        app.post(
            "/v0/activities",
            &root,
            json!({"name": format!("{slug} work"), "slug": slug}),
        )
        .await
        .assert_ok();
    }
    for (slug, default) in [("gwm", json!("docs")), ("plain", Value::Null)] {
        let mut project = json!({
            "name": format!("Project {slug}"),
            "slugs": [slug],
            "users": {"alice": {"member": true, "spectator": false, "manager": false}},
        });
        if !default.is_null() {
            project["default_activity"] = default;
        }
        app.post("/v0/projects", &root, project).await.assert_ok();
    }
    (root, alice)
}

async fn times_count(app: &TestApp) -> u64 {
    time::Entity::find().count(app.db.conn()).await.unwrap()
}

async fn timers_count(app: &TestApp) -> u64 {
    timer::Entity::find().count(app.db.conn()).await.unwrap()
}

/// Moves the start of the user's timer `secs` into the past.
async fn backdate(app: &TestApp, user_id: i64, secs: i64) {
    let row = timer::Entity::find_by_id(user_id)
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("a running timer");
    timer::Entity::update_many()
        .col_expr(
            timer::Column::StartedAt,
            (row.started_at - secs * 1000).into(),
        )
        .filter(timer::Column::UserId.eq(user_id))
        .exec(app.db.conn())
        .await
        .unwrap();
}

async fn user_id(app: &TestApp, name: &str) -> i64 {
    timesync::storage::users::find_by_username(app.db.conn(), name)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn start_show_edit_stop() {
    let app = TestApp::spawn().await;
    let (_, alice) = setup(&app).await;
    let r = app.get("/v0/timer", &alice).await;
    r.assert_ok();
    assert_eq!(r.body, json!({"running": false}));

    let r = app
        .post(
            "/v0/timer/start",
            &alice,
            json!({"project": "gwm", "activities": ["dev"], "notes": "fixing",
                   "issue_uri": "https://example.org/issues/1"}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["running"], true);
    assert_eq!(r.body["project"], "gwm");
    assert_eq!(r.body["activities"], json!(["dev"]));
    assert_eq!(r.body["notes"], "fixing");
    assert_eq!(r.body["issue_uri"], "https://example.org/issues/1");
    assert_eq!(r.body["elapsed"], 0);
    let started = chrono::DateTime::parse_from_rfc3339(r.body["started_at"].as_str().unwrap())
        .expect("RFC 3339");
    assert!((chrono::Utc::now() - started.to_utc()).num_seconds().abs() < 60);

    let r = app.get("/v0/timer", &alice).await;
    assert_eq!(r.body["running"], true);
    assert_eq!(r.body["project"], "gwm");

    let r = app
        .post(
            "/v0/timer",
            &alice,
            json!({"notes": "fixed", "activities": ["dev", "docs"]}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["notes"], "fixed");
    assert_eq!(r.body["activities"], json!(["dev", "docs"]));
    assert_eq!(r.body["issue_uri"], "https://example.org/issues/1");
    assert_eq!(
        r.body["started_at"],
        started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );

    backdate(&app, user_id(&app, "alice").await, 90).await;
    assert_eq!(app.get("/v0/timer", &alice).await.body["elapsed"], 90);
    let r = app.post("/v0/timer/stop", &alice, json!({})).await;
    r.assert_ok();
    let time = r.body.clone();
    assert_eq!(time["user"], "alice");
    assert_eq!(time["project"], json!(["gwm"]));
    assert_eq!(time["activities"], json!(["dev", "docs"]));
    assert_eq!(time["notes"], "fixed");
    assert_eq!(time["issue_uri"], "https://example.org/issues/1");
    assert!(
        (90..95).contains(&time["duration"].as_i64().unwrap()),
        "{time}"
    );
    let start_date = (started.to_utc() - chrono::Duration::seconds(90))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(time["date_worked"], start_date);
    assert_eq!(time["revision"], 1);

    // The time is an ordinary time entry.
    let r = app
        .get(
            &format!("/v0/times/{}", time["uuid"].as_str().unwrap()),
            &alice,
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["duration"], time["duration"]);
    assert_eq!(
        app.get("/v0/timer", &alice).await.body,
        json!({"running": false})
    );

    for r in [
        app.post("/v0/timer/stop", &alice, json!({})).await,
        app.post("/v0/timer", &alice, json!({"notes": "x"})).await,
        app.delete("/v0/timer", &alice).await,
    ] {
        r.assert_error(404, "Object not found")
            .assert_text("Nonexistent timer");
    }
    assert_eq!(times_count(&app).await, 1);
}

#[tokio::test]
async fn stop_overrides_date_notes_and_issue() {
    let app = TestApp::spawn().await;
    let (_, alice) = setup(&app).await;
    app.post(
        "/v0/timer/start",
        &alice,
        json!({"project": "gwm", "notes": "n", "issue_uri": "https://example.org/1"}),
    )
    .await
    .assert_ok();
    // Bad overrides are refused and the timer keeps running.
    for (object, text) in [
        (
            json!({"date_worked": "yesterday"}),
            "Field date_worked of time should be ISO-8601 date but was sent as yesterday",
        ),
        (
            json!({"date_worked": null}),
            "Field date_worked of time should be string but was sent as null",
        ),
        (
            json!({"duration": 5}),
            "time does not have a duration field",
        ),
        (
            json!({"issue_uri": "not a uri"}),
            "Field issue_uri of time should be URI but was sent as invalid URI not a uri",
        ),
    ] {
        app.post("/v0/timer/stop", &alice, object)
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    assert_eq!(app.get("/v0/timer", &alice).await.body["running"], true);
    let r = app
        .post(
            "/v0/timer/stop",
            &alice,
            json!({"date_worked": "2026-01-15", "notes": "other", "issue_uri": null}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["date_worked"], "2026-01-15");
    assert_eq!(r.body["notes"], "other");
    assert_eq!(r.body["issue_uri"], Value::Null);
    // The project's default activity.
    assert_eq!(r.body["activities"], json!(["docs"]));
}

#[tokio::test]
async fn bad_starts_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    let (root, alice) = setup(&app).await;
    let bob = app.user("bob", PLAIN).await;
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            &alice,
            json!({}),
            400,
            "Bad object",
            "The timer is missing a project",
        ),
        (
            &alice,
            json!({"project": null}),
            400,
            "Bad object",
            "Field project of timer should be string but was sent as null",
        ),
        (
            &alice,
            json!({"project": "Not A Slug"}),
            400,
            "Bad object",
            "Field project of timer should be slug but was sent as invalid slug Not A Slug",
        ),
        (
            &alice,
            json!({"project": "gwm", "user": "bob"}),
            400,
            "Bad object",
            "timer does not have a user field",
        ),
        (
            &alice,
            json!({"project": "nope"}),
            409,
            "Invalid foreign key",
            "The timer does not contain a valid project reference.",
        ),
        (
            &alice,
            json!({"project": "gwm", "activities": ["dev", "nope"]}),
            409,
            "Invalid foreign key",
            "The timer does not contain a valid activities reference.",
        ),
        (
            &alice,
            json!({"project": "plain"}),
            400,
            "Bad object",
            "The timer is missing a activities",
        ),
        (
            &bob,
            json!({"project": "gwm"}),
            401,
            "Authorization failure",
            "bob is not authorized to create time entries for project gwm.",
        ),
    ];
    for (token, object, status, error, text) in cases {
        app.post("/v0/timer/start", token, object)
            .await
            .assert_error(status, error)
            .assert_text(text);
    }
    assert_eq!(timers_count(&app).await, 0);
    app.post("/v0/timer/start", &root, json!({"project": "plain"}))
        .await
        .assert_error(400, "Bad object");
    // Missing or bad credentials.
    app.post_raw(
        "/v0/timer/start",
        json!({"object": {"project": "gwm"}}).to_string(),
    )
    .await
    .assert_error(401, "Authentication failure");
    app.get("/v0/timer", "bad-token")
        .await
        .assert_error(401, "Authentication failure");

    // A failed start with a timer running leaves that timer as it was.
    app.post("/v0/timer/start", &alice, json!({"project": "gwm"}))
        .await
        .assert_ok();
    app.post(
        "/v0/timer/start",
        &alice,
        json!({"project": "gwm", "activities": ["nope"]}),
    )
    .await
    .assert_error(409, "Invalid foreign key");
    assert_eq!(times_count(&app).await, 0);
    let r = app.get("/v0/timer", &alice).await;
    assert_eq!(r.body["activities"], json!(["docs"]));
    // Edits are checked the same way.
    app.post("/v0/timer", &alice, json!({"project": null}))
        .await
        .assert_error(400, "Bad object")
        .assert_text("Field project of timer should be string but was sent as null");
    app.post("/v0/timer", &alice, json!({"activities": ["nope"]}))
        .await
        .assert_error(409, "Invalid foreign key");
    assert_eq!(
        app.get("/v0/timer", &alice).await.body["activities"],
        json!(["docs"])
    );
}

#[tokio::test]
async fn starting_again_saves_the_running_timer_and_timers_are_per_user() {
    let app = TestApp::spawn().await;
    let (root, alice) = setup(&app).await;
    app.post("/v0/timer/start", &alice, json!({"project": "gwm"}))
        .await
        .assert_ok();
    assert_eq!(
        app.get("/v0/timer", &root).await.body,
        json!({"running": false})
    );
    let r = app
        .post(
            "/v0/timer/start",
            &alice,
            json!({"project": "plain", "activities": ["dev"]}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["project"], "plain");
    let times = app.get("/v0/times", &alice).await.body;
    assert_eq!(times.as_array().unwrap().len(), 1);
    assert_eq!(times[0]["project"], json!(["gwm"]));
    assert_eq!(times[0]["activities"], json!(["docs"]));
    // Discarding saves nothing.
    let r = app.delete("/v0/timer", &alice).await;
    r.assert_ok();
    assert_eq!(r.text, "");
    assert_eq!(times_count(&app).await, 1);
    assert_eq!(timers_count(&app).await, 0);
}

#[tokio::test]
async fn deleting_what_a_running_timer_uses_is_refused() {
    let app = TestApp::spawn().await;
    let (root, alice) = setup(&app).await;
    app.post(
        "/v0/timer/start",
        &alice,
        json!({"project": "plain", "activities": ["dev"]}),
    )
    .await
    .assert_ok();
    let r = app.delete("/v0/projects/plain", &root).await;
    r.assert_error(405, "Method not allowed");
    assert_eq!(r.header("allow"), Some("GET, POST"));
    app.delete("/v0/activities/dev", &root)
        .await
        .assert_error(405, "Method not allowed");
    // Unused ones go.
    app.delete("/v0/activities/docs", &root).await.assert_ok();
    app.delete("/v0/timer", &alice).await.assert_ok();
    app.delete("/v0/projects/plain", &root).await.assert_ok();
    app.delete("/v0/activities/dev", &root).await.assert_ok();
}

#[tokio::test]
async fn two_concurrent_stops_make_one_time() {
    let app = TestApp::spawn().await;
    let (_, alice) = setup(&app).await;
    for round in 1..=5u64 {
        app.post("/v0/timer/start", &alice, json!({"project": "gwm"}))
            .await
            .assert_ok();
        let (a, b) = tokio::join!(
            app.post("/v0/timer/stop", &alice, json!({})),
            app.post("/v0/timer/stop", &alice, json!({})),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 404], "{} / {}", a.text, b.text);
        assert_eq!(times_count(&app).await, round);
        assert_eq!(timers_count(&app).await, 0);
    }
}

#[tokio::test]
async fn a_start_racing_a_stop_ends_in_one_of_the_two_orders() {
    let app = TestApp::spawn().await;
    let (_, alice) = setup(&app).await;
    let mut saved = 0;
    for _ in 0..5 {
        app.post("/v0/timer/start", &alice, json!({"project": "gwm"}))
            .await
            .assert_ok();
        let (start, stop) = tokio::join!(
            app.post(
                "/v0/timer/start",
                &alice,
                json!({"project": "plain", "activities": ["dev"]})
            ),
            app.post("/v0/timer/stop", &alice, json!({})),
        );
        start.assert_ok();
        stop.assert_ok();
        let running = app.get("/v0/timer", &alice).await.body["running"] == true;
        // Stop first: one time (gwm), plain runs. Start first: gwm saved
        // by the start, plain saved by the stop, nothing runs.
        saved += if running { 1 } else { 2 };
        assert_eq!(times_count(&app).await, saved);
        if running {
            assert_eq!(stop.body["project"], json!(["gwm"]));
            app.delete("/v0/timer", &alice).await.assert_ok();
        } else {
            assert_eq!(stop.body["project"], json!(["plain"]));
        }
    }
}
