//! Activities: every endpoint, permission level, validation error,
//! revisions, soft delete, pagination and concurrent updates.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use timesync::storage::entities::{activity, time, time_activity};
use timesync::storage::{self, now_millis};

use crate::helpers::*;

/// Creates an activity named after `slug` through the API; returns it.
pub async fn create_activity(app: &TestApp, token: &str, slug: &str) -> Value {
    let r = app
        .post(
            "/v0/activities",
            token,
            json!({"name": format!("Activity {slug}"), "slug": slug}),
        )
        .await;
    r.assert_ok();
    r.body
}

/// Inserts a time revision directly (the times endpoints are built
/// elsewhere): `newest`/`deleted` as given, on `project_uuid`, with
/// `activity_uuids`, logged by `username`. Returns the row id.
pub async fn insert_time(
    app: &TestApp,
    username: &str,
    project_uuid: &str,
    activity_uuids: &[&str],
    newest: bool,
    deleted: bool,
) -> i64 {
    let user = storage::users::find_by_username(app.db.conn(), username)
        .await
        .expect("query user")
        .expect("user exists");
    let now = now_millis();
    let row = time::ActiveModel {
        uuid: Set(uuid::Uuid::new_v4().to_string()),
        revision: Set(1),
        newest: Set(newest),
        user_id: Set(user.id),
        project_uuid: Set(project_uuid.to_owned()),
        duration: Set(3600),
        notes: Set(None),
        issue_uri: Set(None),
        date_worked: Set(chrono::NaiveDate::from_ymd_opt(2024, 5, 1).expect("date")),
        created_at: Set(now),
        updated_at: Set(None),
        deleted_at: Set(deleted.then_some(now)),
        sort_at: Set(now),
        ..Default::default()
    };
    let id = time::Entity::insert(row)
        .exec(app.db.conn())
        .await
        .expect("insert time")
        .last_insert_id;
    for activity in activity_uuids {
        time_activity::Entity::insert(time_activity::ActiveModel {
            time_id: Set(id),
            activity_uuid: Set((*activity).to_owned()),
        })
        .exec_without_returning(app.db.conn())
        .await
        .expect("insert time activity");
    }
    id
}

/// Marks the time row `id` deleted.
pub async fn delete_time_row(app: &TestApp, id: i64) {
    let mut row: time::ActiveModel = time::Entity::find_by_id(id)
        .one(app.db.conn())
        .await
        .expect("query time")
        .expect("time exists")
        .into();
    row.deleted_at = Set(Some(now_millis()));
    time::Entity::update(row)
        .exec(app.db.conn())
        .await
        .expect("update time");
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn create_returns_the_activity_and_get_finds_it() {
    let app = TestApp::spawn().await;
    let manager = app.user("manny", MANAGER).await;
    let r = app
        .post(
            "/v0/activities",
            &manager,
            json!({"name": "Quality Assurance/Testing", "slug": "qa"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let created = r.body.clone();
    assert_eq!(
        keys(&created),
        [
            "created_at",
            "deleted_at",
            "name",
            "revision",
            "slug",
            "updated_at",
            "uuid"
        ]
    );
    assert_eq!(created["name"], "Quality Assurance/Testing");
    assert_eq!(created["slug"], "qa");
    assert_eq!(created["revision"], 1);
    assert_eq!(created["created_at"], today());
    assert_eq!(created["updated_at"], Value::Null);
    assert_eq!(created["deleted_at"], Value::Null);
    let uuid = created["uuid"].as_str().unwrap();
    assert_eq!(
        timesync::domain::validate::parse_uuid(uuid).as_deref(),
        Some(uuid)
    );

    let got = app.get("/v0/activities/qa", &manager).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, created);
    let list = app.get("/v0/activities", &manager).await;
    assert_eq!(list.body, json!([created]));
    assert_eq!(list.header("x-total-count"), Some("1"));
}

#[tokio::test]
async fn only_site_managers_and_admins_create_activities() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let admin = app.user("adam", ADMIN).await;
    let manager = app.user("manny", MANAGER).await;
    create_activity(&app, &root, "root-made").await;
    create_activity(&app, &admin, "admin-made").await;
    create_activity(&app, &manager, "manager-made").await;

    // Project roles give no right over activities.
    let spectator = app.user("spec", SPECTATOR).await;
    let plain = app.user("plain", PLAIN).await;
    let pm = app.user("pm", PLAIN).await;
    let member = app.user("mem", PLAIN).await;
    crate::projects::create_project(
        &app,
        &root,
        "proj",
        json!({"pm": {"manager": true, "member": true}, "mem": {"member": true, "spectator": true}}),
    )
    .await;
    for (name, token) in [
        ("spec", &spectator),
        ("plain", &plain),
        ("pm", &pm),
        ("mem", &member),
    ] {
        app.post("/v0/activities", token, json!({"name": "X", "slug": "x"}))
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!("{name} is not authorized to create activities"));
    }
    app.post_raw(
        "/v0/activities",
        json!({"object": {"name": "X", "slug": "x"}}).to_string(),
    )
    .await
    .assert_error(401, "Authentication failure")
    .assert_text("Missing credentials");
    app.post(
        "/v0/activities",
        "not-a-token",
        json!({"name": "X", "slug": "x"}),
    )
    .await
    .assert_error(401, "Authentication failure")
    .assert_text("Bad API token");
    // Nothing was created by the refused requests.
    let list = app.get("/v0/activities", &plain).await;
    assert_eq!(list.header("x-total-count"), Some("3"));
}

#[tokio::test]
async fn every_authenticated_user_reads_activities() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    create_activity(&app, &root, "docs").await;
    for (name, flags) in [
        ("adam", ADMIN),
        ("manny", MANAGER),
        ("spec", SPECTATOR),
        ("plain", PLAIN),
    ] {
        let token = app.user(name, flags).await;
        let one = app.get("/v0/activities/docs", &token).await;
        assert_eq!(one.status, 200, "{name}: {}", one.text);
        assert_eq!(one.body["slug"], "docs");
        let all = app.get("/v0/activities", &token).await;
        assert_eq!(all.body.as_array().map(Vec::len), Some(1), "{name}");
    }
    for path in ["/v0/activities", "/v0/activities/docs"] {
        app.get_anon(path)
            .await
            .assert_error(401, "Authentication failure")
            .assert_text("Missing credentials");
        app.get(path, "garbage")
            .await
            .assert_error(401, "Authentication failure")
            .assert_text("Bad API token");
    }
    // Bearer header works too.
    let r = app
        .client
        .get(app.url("/v0/activities/docs"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn unknown_and_invalid_slugs() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    app.get("/v0/activities/nope", &root)
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent activity");
    let r = app.get("/v0/activities/Bad_Slug", &root).await;
    r.assert_error(400, "Invalid identifier")
        .assert_text("Expected slug but received Bad_Slug");
    assert_eq!(r.body["values"], json!(["Bad_Slug"]));
    app.post("/v0/activities/nope", &root, json!({"name": "N"}))
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent activity");
    app.post("/v0/activities/-bad-", &root, json!({"name": "N"}))
        .await
        .assert_error(400, "Invalid identifier");
    app.delete("/v0/activities/nope", &root)
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent activity");
    app.delete("/v0/activities/123", &root)
        .await
        .assert_error(400, "Invalid identifier");
    // A path segment that is not even UTF-8 is no slug either.
    app.get("/v0/activities/%FF", &root)
        .await
        .assert_error(400, "Invalid identifier");
    app.get("/v0/projects/%FF%FE", &root)
        .await
        .assert_error(400, "Invalid identifier");
}

#[tokio::test]
async fn create_validation_errors() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    create_activity(&app, &root, "docs").await;
    let cases = [
        (json!({"slug": "a"}), "The activity is missing a name"),
        (json!({"name": "A"}), "The activity is missing a slug"),
        (
            json!({"name": "", "slug": "a"}),
            "The activity is missing a name",
        ),
        (
            json!({"name": null, "slug": "a"}),
            "Field name of activity should be string but was sent as null",
        ),
        (
            json!({"name": "A", "slug": null}),
            "Field slug of activity should be string but was sent as null",
        ),
        (
            json!({"name": "A", "slug": "a", "color": "red"}),
            "activity does not have a color field",
        ),
        (
            json!({"name": "A", "slug": "a", "uuid": "x"}),
            "activity does not have a uuid field",
        ),
        (
            json!({"name": 5, "slug": "a"}),
            "Field name of activity should be string but was sent as number",
        ),
        (
            json!({"name": "A", "slug": "Not A Slug"}),
            "Field slug of activity should be slug but was sent as invalid slug Not A Slug",
        ),
        (
            json!({"name": "A", "slug": ["a"]}),
            "Field slug of activity should be string but was sent as array",
        ),
        (
            json!({"name": "A", "slug": "123"}),
            "Field slug of activity should be slug but was sent as invalid slug 123",
        ),
    ];
    for (object, text) in cases {
        app.post("/v0/activities", &root, object.clone())
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    let long = app
        .post(
            "/v0/activities",
            &root,
            json!({"name": "n".repeat(256), "slug": "long"}),
        )
        .await;
    long.assert_error(400, "Bad object");
    app.post("/v0/activities", &root, json!(["not", "an", "object"]))
        .await
        .assert_error(400, "Bad object");
    app.post_raw("/v0/activities", "{not json")
        .await
        .assert_error(400, "Bad object")
        .assert_text("The request body could not be parsed as valid JSON");
    let dup = app
        .post(
            "/v0/activities",
            &root,
            json!({"name": "Docs 2", "slug": "docs"}),
        )
        .await;
    dup.assert_error(409, "Slug already exists")
        .assert_text("Slug docs already exists on another object");
    assert_eq!(dup.body["values"], json!(["docs"]));
    let list = app.get("/v0/activities", &root).await;
    assert_eq!(list.header("x-total-count"), Some("1"));
}

#[tokio::test]
async fn update_writes_a_new_revision_and_moves_the_slug() {
    let app = TestApp::spawn().await;
    let manager = app.user("manny", MANAGER).await;
    let created = create_activity(&app, &manager, "test").await;
    let r = app
        .post(
            "/v0/activities/test",
            &manager,
            json!({"name": "Testing Infra"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Testing Infra");
    assert_eq!(r.body["slug"], "test");
    assert_eq!(r.body["uuid"], created["uuid"]);
    assert_eq!(r.body["revision"], 2);
    assert_eq!(r.body["created_at"], created["created_at"]);
    assert_eq!(r.body["updated_at"], today());
    assert_eq!(r.body["deleted_at"], Value::Null);

    let r = app
        .post("/v0/activities/test", &manager, json!({"slug": "testing"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["revision"], 3);
    assert_eq!(r.body["name"], "Testing Infra");
    assert_eq!(r.body["slug"], "testing");
    app.get("/v0/activities/test", &manager)
        .await
        .assert_error(404, "Object not found");
    // The old slug is free again.
    create_activity(&app, &manager, "test").await;

    let r = app
        .get("/v0/activities/testing?include_revisions=true", &manager)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["revision"], 3);
    let parents = r.body["parents"].as_array().expect("parents");
    assert_eq!(parents.len(), 2);
    assert_eq!(parents[0]["revision"], 2);
    assert_eq!(parents[0]["name"], "Testing Infra");
    assert_eq!(parents[0]["slug"], "test");
    assert_eq!(parents[0]["updated_at"], today());
    assert_eq!(parents[1]["revision"], 1);
    assert_eq!(parents[1]["name"], "Activity test");
    assert_eq!(parents[1]["updated_at"], Value::Null);
    for p in parents {
        assert_eq!(p["uuid"], created["uuid"]);
        assert!(p.get("parents").is_none());
    }
    // Without the flag (or with `false`) there are no parents.
    let r = app
        .get("/v0/activities/testing?include_revisions=false", &manager)
        .await;
    assert!(r.body.get("parents").is_none());
    // On the list, each item carries its own parents.
    let list = app
        .get("/v0/activities?include_revisions", &manager)
        .await
        .body;
    let items = list.as_array().unwrap();
    assert_eq!(items.len(), 2);
    let renamed = items.iter().find(|a| a["slug"] == "testing").unwrap();
    assert_eq!(renamed["parents"].as_array().unwrap().len(), 2);
    let fresh = items.iter().find(|a| a["slug"] == "test").unwrap();
    assert_eq!(fresh["parents"], json!([]));

    // The database keeps one row per revision, exactly one newest.
    let uuid = created["uuid"].as_str().unwrap();
    let rows = activity::Entity::find()
        .filter(activity::Column::Uuid.eq(uuid))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows.iter().filter(|r| r.newest).count(), 1);
}

#[tokio::test]
async fn update_permissions_and_validation() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let admin = app.user("adam", ADMIN).await;
    let manager = app.user("manny", MANAGER).await;
    create_activity(&app, &root, "docs").await;
    create_activity(&app, &root, "dev").await;
    let project_users = json!({
        "pm": {"manager": true},
        "mem": {"member": true},
        "spy": {"spectator": true},
    });
    let tokens = [
        ("spec", app.user("spec", SPECTATOR).await),
        ("plain", app.user("plain", PLAIN).await),
        ("pm", app.user("pm", PLAIN).await),
        ("mem", app.user("mem", PLAIN).await),
        ("spy", app.user("spy", PLAIN).await),
    ];
    crate::projects::create_project(&app, &root, "proj", project_users).await;
    for (name, token) in &tokens {
        app.post("/v0/activities/docs", token, json!({"name": "Nope"}))
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!("{name} is not authorized to update activities"));
        // Reading is open to every one of them.
        assert_eq!(app.get("/v0/activities/docs", token).await.status, 200);
    }
    app.post("/v0/activities/docs", "bad", json!({"name": "Nope"}))
        .await
        .assert_error(401, "Authentication failure");
    app.post_raw(
        "/v0/activities/docs",
        json!({"object": {"name": "Nope"}}).to_string(),
    )
    .await
    .assert_error(401, "Authentication failure")
    .assert_text("Missing credentials");

    let cases = [
        (
            json!({"name": 1}),
            "Field name of activity should be string but was sent as number",
        ),
        (
            json!({"name": null}),
            "Field name of activity should be string but was sent as null",
        ),
        (
            json!({"name": ""}),
            "Field name of activity should be string but was sent as empty string",
        ),
        (
            json!({"slug": null}),
            "Field slug of activity should be string but was sent as null",
        ),
        (
            json!({"slug": "NO"}),
            "Field slug of activity should be slug but was sent as invalid slug NO",
        ),
        (
            json!({"revision": 5}),
            "activity does not have a revision field",
        ),
    ];
    for (object, text) in cases {
        app.post("/v0/activities/docs", &manager, object)
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    let r = app
        .post("/v0/activities/docs", &manager, json!({"slug": "dev"}))
        .await;
    r.assert_error(409, "Slug already exists");
    assert_eq!(r.body["values"], json!(["dev"]));
    // None of the refused requests wrote a revision.
    let docs = app.get("/v0/activities/docs", &root).await;
    assert_eq!(docs.body["revision"], 1);
    assert_eq!(docs.body["name"], "Activity docs");

    let r = app
        .post("/v0/activities/docs", &admin, json!({"name": "By admin"}))
        .await;
    assert_eq!(r.body["revision"], 2, "{}", r.text);
    let r = app
        .post(
            "/v0/activities/docs",
            &manager,
            json!({"name": "By manager", "slug": "docs"}),
        )
        .await;
    assert_eq!(r.body["revision"], 3, "{}", r.text);
    assert_eq!(r.body["slug"], "docs");
}

#[tokio::test]
async fn delete_frees_the_slug_and_hides_the_activity() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let manager = app.user("manny", MANAGER).await;
    let admin = app.user("adam", ADMIN).await;
    let old = create_activity(&app, &root, "docs").await;
    create_activity(&app, &root, "dev").await;
    let tokens = [
        ("spec", app.user("spec", SPECTATOR).await),
        ("plain", app.user("plain", PLAIN).await),
        ("pm", app.user("pm", PLAIN).await),
        ("mem", app.user("mem", PLAIN).await),
        ("spy", app.user("spy", PLAIN).await),
    ];
    crate::projects::create_project(
        &app,
        &root,
        "proj",
        json!({"pm": {"manager": true}, "mem": {"member": true}, "spy": {"spectator": true}}),
    )
    .await;
    for (name, token) in tokens {
        app.delete("/v0/activities/docs", &token)
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!("{name} is not authorized to delete activities"));
    }
    app.delete("/v0/activities/docs", "bad")
        .await
        .assert_error(401, "Authentication failure");
    let anon = app
        .client
        .delete(app.url("/v0/activities/docs"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);

    let r = app.delete("/v0/activities/docs", &manager).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");
    app.get("/v0/activities/docs", &root)
        .await
        .assert_error(404, "Object not found");
    app.get("/v0/activities/docs?include_deleted=true", &root)
        .await
        .assert_error(404, "Object not found");
    app.post("/v0/activities/docs", &root, json!({"name": "Back"}))
        .await
        .assert_error(404, "Object not found");
    app.delete("/v0/activities/docs", &root)
        .await
        .assert_error(404, "Object not found");
    let list = app.get("/v0/activities", &root).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    let all = app.get("/v0/activities?include_deleted=true", &root).await;
    let items = all.body.as_array().unwrap();
    assert_eq!(items.len(), 2);
    let gone = items.iter().find(|a| a["uuid"] == old["uuid"]).unwrap();
    assert_eq!(gone["slug"], Value::Null);
    assert_eq!(gone["deleted_at"], today());
    assert_eq!(gone["revision"], 1);
    let excluded = app.get("/v0/activities?include_deleted=false", &root).await;
    assert_eq!(excluded.body.as_array().unwrap().len(), 1);

    // The slug is free for a new activity with a new uuid.
    let again = create_activity(&app, &admin, "docs").await;
    assert_ne!(again["uuid"], old["uuid"]);
    assert_eq!(again["revision"], 1);
    let r = app.delete("/v0/activities/dev", &admin).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn delete_is_refused_while_a_current_time_uses_the_activity() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    app.user("worker", PLAIN).await;
    let docs = create_activity(&app, &root, "docs").await;
    let dev = create_activity(&app, &root, "dev").await;
    let project = crate::projects::create_project(&app, &root, "proj", json!({})).await;
    let project_uuid = project["uuid"].as_str().unwrap();
    let docs_uuid = docs["uuid"].as_str().unwrap();
    let dev_uuid = dev["uuid"].as_str().unwrap();

    // An old revision or a deleted time does not hold the activity.
    insert_time(&app, "worker", project_uuid, &[dev_uuid], false, false).await;
    insert_time(&app, "worker", project_uuid, &[dev_uuid], true, true).await;
    let current = insert_time(&app, "worker", project_uuid, &[docs_uuid], true, false).await;

    let r = app.delete("/v0/activities/docs", &root).await;
    r.assert_error(405, "Method not allowed")
        .assert_text("The method specified is not allowed for the activity identified");
    assert_eq!(r.header("allow"), Some("GET, POST"));
    let still = app.get("/v0/activities/docs", &root).await;
    assert_eq!(still.status, 200);
    assert_eq!(still.body["deleted_at"], Value::Null);

    let r = app.delete("/v0/activities/dev", &root).await;
    assert_eq!(r.status, 200, "{}", r.text);

    delete_time_row(&app, current).await;
    let r = app.delete("/v0/activities/docs", &root).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn lists_are_paginated_in_update_order() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let slugs = ["a1", "b2", "c3", "d4", "e5"];
    for slug in slugs {
        create_activity(&app, &root, slug).await;
    }
    let all = app.get("/v0/activities", &root).await;
    let order: Vec<&str> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(order, slugs);
    assert_eq!(all.header("x-total-count"), Some("5"));

    let page = app.get("/v0/activities?skip=1&limit=2", &root).await;
    assert_eq!(page.status, 200);
    let order: Vec<&str> = page
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["b2", "c3"]);
    assert_eq!(page.header("x-total-count"), Some("5"));
    let link = page.header("link").expect("link header");
    assert!(link.contains("skip=3&limit=2>; rel=\"next\""), "{link}");
    assert!(link.contains("skip=0&limit=2>; rel=\"prev\""), "{link}");
    assert!(!link.contains("token"), "{link}");

    let zero = app.get("/v0/activities?limit=0", &root).await;
    assert_eq!(zero.body.as_array().unwrap().len(), 5);
    let past = app.get("/v0/activities?skip=10", &root).await;
    assert_eq!(past.body, json!([]));
    assert_eq!(past.header("x-total-count"), Some("5"));
    for bad in ["skip=-1", "limit=abc", "limit=1.5", "skip="] {
        app.get(&format!("/v0/activities?{bad}"), &root)
            .await
            .assert_error(400, "Bad query value");
    }

    // An update moves the activity to the end (ordered by updated_at).
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.post("/v0/activities/a1", &root, json!({"name": "Later"}))
        .await
        .assert_ok();
    let all = app.get("/v0/activities", &root).await;
    let order: Vec<&str> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["b2", "c3", "d4", "e5", "a1"]);
}

#[tokio::test]
async fn concurrent_updates_each_get_their_own_revision() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let created = create_activity(&app, &root, "busy").await;
    let n = 12;
    let requests = (0..n).map(|i| {
        app.post(
            "/v0/activities/busy",
            &root,
            json!({"name": format!("Name {i}")}),
        )
    });
    let answers = futures::future::join_all(requests).await;
    let mut revisions: Vec<i64> = answers
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.text);
            r.body["revision"].as_i64().unwrap()
        })
        .collect();
    revisions.sort_unstable();
    assert_eq!(revisions, (2..=n + 1).collect::<Vec<_>>());

    let uuid = created["uuid"].as_str().unwrap();
    let rows = activity::Entity::find()
        .filter(activity::Column::Uuid.eq(uuid))
        .count(app.db.conn())
        .await
        .unwrap();
    assert_eq!(rows, n as u64 + 1);
    let newest = activity::Entity::find()
        .filter(activity::Column::Uuid.eq(uuid))
        .filter(activity::Column::Newest.eq(true))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].revision as i64, n + 1);
    let current = app
        .get("/v0/activities/busy?include_revisions", &root)
        .await;
    assert_eq!(current.body["revision"], n + 1);
    assert_eq!(
        current.body["parents"].as_array().unwrap().len(),
        n as usize
    );

    // Concurrent creates of one slug: exactly one wins.
    let creates = (0..6).map(|i| {
        app.post(
            "/v0/activities",
            &root,
            json!({"name": format!("Race {i}"), "slug": "race"}),
        )
    });
    let answers = futures::future::join_all(creates).await;
    assert_eq!(answers.iter().filter(|r| r.status == 200).count(), 1);
    for r in answers.iter().filter(|r| r.status != 200) {
        r.assert_error(409, "Slug already exists");
    }
}
