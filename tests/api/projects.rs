//! Projects: every endpoint, permission level, validation error, slugs,
//! members, revisions, soft delete, pagination and concurrent updates.

use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use timesync::storage::entities::{project, user};

use crate::activities::{create_activity, delete_time_row, insert_time};
use crate::helpers::*;

/// Creates a project with the one slug `slug` (named after it) and the
/// `users` map through the API; returns it.
pub async fn create_project(app: &TestApp, token: &str, slug: &str, users: Value) -> Value {
    let r = app
        .post(
            "/v0/projects",
            token,
            json!({"name": format!("Project {slug}"), "slugs": [slug], "users": users}),
        )
        .await;
    r.assert_ok();
    r.body
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn slugs_of(list: &Value) -> Vec<Vec<String>> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|p| {
            p["slugs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

/// A project `gwm` managed by `pm`, with member `mem` and spectator `spy`,
/// and the tokens of every permission level.
struct World {
    app: TestApp,
    root: String,
    admin: String,
    manager: String,
    site_spectator: String,
    pm: String,
    member: String,
    spectator: String,
    unrelated: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let admin = app.user("adam", ADMIN).await;
    let manager = app.user("manny", MANAGER).await;
    let site_spectator = app.user("sita", SPECTATOR).await;
    let pm = app.user("pm", PLAIN).await;
    let member = app.user("mem", PLAIN).await;
    let spectator = app.user("spy", PLAIN).await;
    let unrelated = app.user("other", PLAIN).await;
    create_project(
        &app,
        &root,
        "gwm",
        json!({
            "pm": {"member": true, "spectator": false, "manager": true},
            "mem": {"member": true, "spectator": false, "manager": false},
            "spy": {"member": false, "spectator": true, "manager": false},
        }),
    )
    .await;
    World {
        app,
        root,
        admin,
        manager,
        site_spectator,
        pm,
        member,
        spectator,
        unrelated,
    }
}

#[tokio::test]
async fn create_returns_the_project_with_every_field() {
    let app = TestApp::spawn().await;
    let manager = app.user("manny", MANAGER).await;
    app.user("Alice", PLAIN).await;
    app.user("bob", PLAIN).await;
    create_activity(&app, &manager, "docs").await;
    let r = app
        .post(
            "/v0/projects",
            &manager,
            json!({
                "uri": "https://code.osuosl.org/projects/timesync",
                "name": "TimeSync API",
                "slugs": ["timesync", "time"],
                "default_activity": "docs",
                "users": {
                    "alice": {"member": true, "spectator": false, "manager": false},
                    "BOB": {"member": true, "spectator": true, "manager": true}
                }
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let p = r.body.clone();
    let mut keys: Vec<&String> = p.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "default_activity",
            "deleted_at",
            "name",
            "revision",
            "slugs",
            "updated_at",
            "uri",
            "users",
            "uuid"
        ]
    );
    assert_eq!(p["name"], "TimeSync API");
    assert_eq!(p["uri"], "https://code.osuosl.org/projects/timesync");
    assert_eq!(p["slugs"], json!(["time", "timesync"]));
    assert_eq!(p["default_activity"], "docs");
    assert_eq!(
        p["users"],
        json!({
            "Alice": {"member": true, "spectator": false, "manager": false},
            "bob": {"member": true, "spectator": true, "manager": true}
        })
    );
    assert_eq!(p["revision"], 1);
    assert_eq!(p["created_at"], today());
    assert_eq!(p["updated_at"], Value::Null);
    assert_eq!(p["deleted_at"], Value::Null);

    for slug in ["time", "timesync"] {
        let got = app.get(&format!("/v0/projects/{slug}"), &manager).await;
        assert_eq!(got.body, p);
    }
    let list = app.get("/v0/projects", &manager).await;
    assert_eq!(list.body, json!([p]));
    assert_eq!(list.header("x-total-count"), Some("1"));

    // Minimal project: optional fields are null, users empty.
    let r = app
        .post(
            "/v0/projects",
            &manager,
            json!({"name": "Min", "slugs": ["min"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["uri"], Value::Null);
    assert_eq!(r.body["default_activity"], Value::Null);
    assert_eq!(r.body["users"], json!({}));
    let r = app
        .post(
            "/v0/projects",
            &manager,
            json!({"name": "Empty uri", "slugs": ["empty-uri"], "uri": ""}),
        )
        .await;
    assert_eq!(r.body["uri"], "", "{}", r.text);
}

#[tokio::test]
async fn only_site_managers_and_admins_create_projects() {
    let w = world().await;
    let app = &w.app;
    for (i, token) in [&w.root, &w.admin, &w.manager].into_iter().enumerate() {
        create_project(app, token, &format!("p{i}"), json!({})).await;
    }
    for (name, token) in [
        ("sita", &w.site_spectator),
        ("pm", &w.pm),
        ("mem", &w.member),
        ("spy", &w.spectator),
        ("other", &w.unrelated),
    ] {
        app.post("/v0/projects", token, json!({"name": "X", "slugs": ["x"]}))
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!("{name} is not authorized to create projects"));
    }
    app.post(
        "/v0/projects",
        "bad-token",
        json!({"name": "X", "slugs": ["x"]}),
    )
    .await
    .assert_error(401, "Authentication failure")
    .assert_text("Bad API token");
    app.post_raw(
        "/v0/projects",
        json!({"object": {"name": "X", "slugs": ["x"]}}).to_string(),
    )
    .await
    .assert_error(401, "Authentication failure")
    .assert_text("Missing credentials");
    let list = app.get("/v0/projects", &w.root).await;
    assert_eq!(list.header("x-total-count"), Some("4"));
}

#[tokio::test]
async fn every_authenticated_user_reads_projects() {
    let w = world().await;
    let app = &w.app;
    for token in [
        &w.root,
        &w.admin,
        &w.manager,
        &w.site_spectator,
        &w.pm,
        &w.member,
        &w.spectator,
        &w.unrelated,
    ] {
        let one = app.get("/v0/projects/gwm", token).await;
        assert_eq!(one.status, 200, "{}", one.text);
        assert_eq!(one.body["slugs"], json!(["gwm"]));
        assert_eq!(one.body["users"]["pm"]["manager"], true);
        let all = app.get("/v0/projects", token).await;
        assert_eq!(all.body.as_array().unwrap().len(), 1);
    }
    for path in ["/v0/projects", "/v0/projects/gwm"] {
        app.get_anon(path)
            .await
            .assert_error(401, "Authentication failure")
            .assert_text("Missing credentials");
        app.get(path, "nope")
            .await
            .assert_error(401, "Authentication failure")
            .assert_text("Bad API token");
    }
    app.get("/v0/projects/nope", &w.root)
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent project");
    let r = app.get("/v0/projects/NOPE!", &w.root).await;
    r.assert_error(400, "Invalid identifier")
        .assert_text("Expected slug but received NOPE!");
    assert_eq!(r.body["values"], json!(["NOPE!"]));
}

#[tokio::test]
async fn create_validation_errors() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    app.user("alice", PLAIN).await;
    create_activity(&app, &root, "docs").await;
    let too_many: Vec<String> = (0..101).map(|i| format!("s{i}")).collect();
    let cases = [
        (json!({"slugs": ["a"]}), "The project is missing a name"),
        (
            json!({"name": "", "slugs": ["a"]}),
            "The project is missing a name",
        ),
        (json!({"name": "A"}), "The project is missing a slugs"),
        (
            json!({"name": "A", "slugs": []}),
            "Field slugs of project should be array of slugs but was sent as empty array",
        ),
        (
            json!({"name": "A", "slugs": null}),
            "Field slugs of project should be array but was sent as null",
        ),
        (
            json!({"name": "A", "slugs": "a"}),
            "Field slugs of project should be array but was sent as string",
        ),
        (
            json!({"name": "A", "slugs": ["ok", "Not OK"]}),
            "Field slugs of project should be slugs but was sent as array containing at least 1 invalid slug",
        ),
        (
            json!({"name": 3, "slugs": ["a"]}),
            "Field name of project should be string but was sent as number",
        ),
        (
            json!({"name": "A", "slugs": ["a"], "uri": "not a uri"}),
            "Field uri of project should be URI but was sent as invalid URI not a uri",
        ),
        (
            json!({"name": "A", "slugs": ["a"], "uri": "example.com/x"}),
            "Field uri of project should be URI but was sent as invalid URI example.com/x",
        ),
        (
            json!({"name": "A", "slugs": ["a"], "uri": 7}),
            "Field uri of project should be string but was sent as number",
        ),
        (
            json!({"name": "A", "slugs": ["a"], "default_activity": "Bad Slug"}),
            "Field default_activity of project should be slug but was sent as invalid slug Bad Slug",
        ),
        (
            json!({"name": "A", "slugs": ["a"], "owner": "me"}),
            "project does not have a owner field",
        ),
        (
            json!({"name": "A", "slugs": ["a"], "users": ["alice"]}),
            "Field users of project should be object but was sent as array",
        ),
        (
            json!({"name": "A", "slugs": ["a"], "users": {"alice": true}}),
            "Field users.alice of project should be object but was sent as boolean",
        ),
        (
            json!({"name": "A", "slugs": ["a"], "users": {"alice": {"member": "yes"}}}),
            "Field users.alice.member of project should be boolean but was sent as string",
        ),
        (
            json!({"name": "A", "slugs": ["a"], "users": {"alice": {"owner": true}}}),
            "users.alice of project does not have a owner field",
        ),
        (
            json!({"name": "A", "slugs": ["a"], "users": {"alice": {}, "ALICE": {}}}),
            "Field users of project names the user ALICE more than once",
        ),
    ];
    for (object, text) in cases {
        app.post("/v0/projects", &root, object.clone())
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "A", "slugs": too_many}),
    )
    .await
    .assert_error(400, "Bad object");
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "n".repeat(256), "slugs": ["a"]}),
    )
    .await
    .assert_error(400, "Bad object");
    app.post_raw("/v0/projects", "[1, 2")
        .await
        .assert_error(400, "Bad object")
        .assert_text("The request body could not be parsed as valid JSON");

    for users in [
        json!({"ghost": {"member": true}}),
        json!({"alice": {"member": true}, "ghost": {"member": true}}),
        json!({"not a user!": {"member": true}}),
    ] {
        app.post(
            "/v0/projects",
            &root,
            json!({"name": "A", "slugs": ["a"], "users": users}),
        )
        .await
        .assert_error(409, "Invalid foreign key")
        .assert_text("The project does not contain a valid user reference.");
    }
    // A deleted user is no valid reference either.
    app.user("gone", PLAIN).await;
    let mut gone: user::ActiveModel =
        timesync::storage::users::find_by_username(app.db.conn(), "gone")
            .await
            .unwrap()
            .unwrap()
            .into();
    gone.deleted_at = Set(Some(timesync::storage::now_millis()));
    user::Entity::update(gone)
        .exec(app.db.conn())
        .await
        .unwrap();
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "A", "slugs": ["a"], "users": {"gone": {"member": true}}}),
    )
    .await
    .assert_error(409, "Invalid foreign key")
    .assert_text("The project does not contain a valid user reference.");
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "A", "slugs": ["a"], "default_activity": "nope"}),
    )
    .await
    .assert_error(409, "Invalid foreign key")
    .assert_text("The project does not contain a valid activity reference.");

    // Slug conflicts list every conflicting slug and change nothing.
    create_project(&app, &root, "gwm", json!({})).await;
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "G", "slugs": ["ganeti"]}),
    )
    .await
    .assert_ok();
    let r = app
        .post(
            "/v0/projects",
            &root,
            json!({"name": "B", "slugs": ["fresh", "gwm"]}),
        )
        .await;
    r.assert_error(409, "Slug already exists")
        .assert_text("Slug gwm already exists on another object");
    assert_eq!(r.body["values"], json!(["gwm"]));
    let r = app
        .post(
            "/v0/projects",
            &root,
            json!({"name": "B", "slugs": ["gwm", "fresh", "ganeti"]}),
        )
        .await;
    r.assert_error(409, "Slugs already exist")
        .assert_text("Slugs gwm, ganeti already exist on another object");
    assert_eq!(r.body["values"], json!(["gwm", "ganeti"]));
    let list = app.get("/v0/projects", &root).await;
    assert_eq!(list.header("x-total-count"), Some("2"));
    app.get("/v0/projects/fresh", &root)
        .await
        .assert_error(404, "Object not found");
    assert_eq!(
        slugs_of(&list.body),
        [vec!["gwm".to_owned()], vec!["ganeti".to_owned()]]
    );
}

#[tokio::test]
async fn update_permissions_by_level() {
    let w = world().await;
    let app = &w.app;
    for (name, token) in [
        ("sita", &w.site_spectator),
        ("mem", &w.member),
        ("spy", &w.spectator),
        ("other", &w.unrelated),
    ] {
        app.post("/v0/projects/gwm", token, json!({"name": "Nope"}))
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!(
                "{name} is not authorized to make changes to Project gwm"
            ));
    }
    app.post("/v0/projects/gwm", "bad", json!({"name": "Nope"}))
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");
    app.post_raw(
        "/v0/projects/gwm",
        json!({"object": {"name": "Nope"}}).to_string(),
    )
    .await
    .assert_error(401, "Authentication failure")
    .assert_text("Missing credentials");
    let unchanged = app.get("/v0/projects/gwm", &w.root).await;
    assert_eq!(unchanged.body["revision"], 1);

    let mut revision = 1;
    for (name, token) in [
        ("pm", &w.pm),
        ("manny", &w.manager),
        ("adam", &w.admin),
        ("root", &w.root),
    ] {
        let r = app
            .post(
                "/v0/projects/gwm",
                token,
                json!({"name": format!("By {name}")}),
            )
            .await;
        revision += 1;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        assert_eq!(r.body["revision"], revision);
        assert_eq!(r.body["name"], format!("By {name}"));
        // Fields not sent are kept.
        assert_eq!(r.body["slugs"], json!(["gwm"]));
        assert_eq!(r.body["users"]["pm"]["manager"], true);
    }
    app.post("/v0/projects/nope", &w.root, json!({"name": "N"}))
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent project");
    app.post("/v0/projects/No", &w.root, json!({"name": "N"}))
        .await
        .assert_error(400, "Invalid identifier");
}

#[tokio::test]
async fn update_replaces_slugs_users_and_fields() {
    let w = world().await;
    let app = &w.app;
    create_activity(app, &w.root, "docs").await;
    create_activity(app, &w.root, "dev").await;
    let before = app.get("/v0/projects/gwm", &w.root).await.body;

    let r = app
        .post(
            "/v0/projects/gwm",
            &w.pm,
            json!({
                "name": "Ganeti Web Manager",
                "uri": "https://code.osuosl.org/projects/ganeti-webmgr",
                "slugs": ["ganeti", "webmgr"],
                "default_activity": "docs",
            }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let p = &r.body;
    assert_eq!(p["uuid"], before["uuid"]);
    assert_eq!(p["revision"], 2);
    assert_eq!(p["created_at"], before["created_at"]);
    assert_eq!(p["updated_at"], today());
    assert_eq!(p["slugs"], json!(["ganeti", "webmgr"]));
    assert_eq!(p["default_activity"], "docs");
    assert_eq!(p["users"], before["users"]);
    app.get("/v0/projects/gwm", &w.root)
        .await
        .assert_error(404, "Object not found");
    assert_eq!(app.get("/v0/projects/webmgr", &w.root).await.body, *p);
    // The dropped slug is free again.
    create_project(app, &w.root, "gwm", json!({})).await;

    // Conflicts list every slug of another project; nothing changes.
    create_project(app, &w.root, "pgd", json!({})).await;
    let r = app
        .post(
            "/v0/projects/ganeti",
            &w.pm,
            json!({"slugs": ["ganeti", "gwm", "pgd", "new-one"], "name": "Changed"}),
        )
        .await;
    r.assert_error(409, "Slugs already exist");
    assert_eq!(r.body["values"], json!(["gwm", "pgd"]));
    let now = app.get("/v0/projects/ganeti", &w.root).await.body;
    assert_eq!(now["revision"], 2);
    assert_eq!(now["name"], "Ganeti Web Manager");
    assert_eq!(now["slugs"], json!(["ganeti", "webmgr"]));
    app.get("/v0/projects/new-one", &w.root)
        .await
        .assert_error(404, "Object not found");

    app.post(
        "/v0/projects/ganeti",
        &w.pm,
        json!({"default_activity": "nope"}),
    )
    .await
    .assert_error(409, "Invalid foreign key")
    .assert_text("The project does not contain a valid activity reference.");
    app.post(
        "/v0/projects/ganeti",
        &w.pm,
        json!({"users": {"ghost": {"member": true}}}),
    )
    .await
    .assert_error(409, "Invalid foreign key")
    .assert_text("The project does not contain a valid user reference.");
    for (object, text) in [
        (
            json!({"name": null}),
            "Field name of project should be string but was sent as null",
        ),
        (
            json!({"name": ""}),
            "Field name of project should be string but was sent as empty string",
        ),
        (
            json!({"slugs": []}),
            "Field slugs of project should be array of slugs but was sent as empty array",
        ),
        (
            json!({"slugs": null}),
            "Field slugs of project should be array but was sent as null",
        ),
        (
            json!({"uri": "nope"}),
            "Field uri of project should be URI but was sent as invalid URI nope",
        ),
        (json!({"uuid": "x"}), "project does not have a uuid field"),
    ] {
        app.post("/v0/projects/ganeti", &w.pm, object)
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    assert_eq!(
        app.get("/v0/projects/ganeti", &w.root).await.body["revision"],
        2
    );

    // Clearing optional fields; the default activity follows its slug.
    let r = app
        .post(
            "/v0/projects/ganeti",
            &w.pm,
            json!({"uri": "", "default_activity": "dev"}),
        )
        .await;
    assert_eq!(r.body["uri"], "", "{}", r.text);
    assert_eq!(r.body["default_activity"], "dev");
    app.post(
        "/v0/activities/dev",
        &w.root,
        json!({"slug": "development"}),
    )
    .await
    .assert_ok();
    let r = app.get("/v0/projects/ganeti", &w.root).await;
    assert_eq!(r.body["default_activity"], "development");
    app.delete("/v0/activities/development", &w.root)
        .await
        .assert_ok();
    let r = app.get("/v0/projects/ganeti", &w.root).await;
    assert_eq!(r.body["default_activity"], Value::Null);
    let r = app
        .post(
            "/v0/projects/ganeti",
            &w.pm,
            json!({"uri": null, "default_activity": null}),
        )
        .await;
    assert_eq!(r.body["uri"], Value::Null, "{}", r.text);
    assert_eq!(r.body["default_activity"], Value::Null);
}

#[tokio::test]
async fn users_field_replaces_the_member_map() {
    let w = world().await;
    let app = &w.app;
    app.user("Newbie", PLAIN).await;
    let r = app
        .post(
            "/v0/projects/gwm",
            &w.pm,
            json!({"users": {
                "PM": {"member": true, "spectator": false, "manager": true},
                "newbie": {"member": true},
                "other": {"spectator": true, "manager": true},
            }}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["users"],
        json!({
            "Newbie": {"member": true, "spectator": false, "manager": false},
            "other": {"member": false, "spectator": true, "manager": true},
            "pm": {"member": true, "spectator": false, "manager": true},
        })
    );
    // `mem` and `spy` were dropped: they can no longer do what they could.
    let listed = app.get("/v0/projects?user=mem", &w.root).await;
    assert_eq!(listed.body, json!([]));
    // The newly promoted manager may update.
    app.post(
        "/v0/projects/gwm",
        &w.unrelated,
        json!({"name": "By other"}),
    )
    .await
    .assert_ok();

    // A project manager may demote themself, and then loses the right.
    let r = app
        .post(
            "/v0/projects/gwm",
            &w.pm,
            json!({"users": {"pm": {"member": true}, "other": {"manager": true}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["users"]["pm"]["manager"], false);
    app.post("/v0/projects/gwm", &w.pm, json!({"name": "Again"}))
        .await
        .assert_error(401, "Authorization failure");
    // And a manager may remove themself entirely.
    let r = app
        .post("/v0/projects/gwm", &w.unrelated, json!({"users": {}}))
        .await;
    assert_eq!(r.body["users"], json!({}), "{}", r.text);
    app.post("/v0/projects/gwm", &w.unrelated, json!({"name": "Again"}))
        .await
        .assert_error(401, "Authorization failure");
    // `null` also empties the map (site manager this time).
    app.post(
        "/v0/projects/gwm",
        &w.manager,
        json!({"users": {"mem": {"member": true}}}),
    )
    .await
    .assert_ok();
    let r = app
        .post("/v0/projects/gwm", &w.manager, json!({"users": null}))
        .await;
    assert_eq!(r.body["users"], json!({}), "{}", r.text);
}

#[tokio::test]
async fn include_revisions_shows_parents_without_users() {
    let w = world().await;
    let app = &w.app;
    app.post("/v0/projects/gwm", &w.pm, json!({"name": "Second"}))
        .await
        .assert_ok();
    app.post(
        "/v0/projects/gwm",
        &w.pm,
        json!({"name": "Third", "uri": "https://example.org/gwm"}),
    )
    .await
    .assert_ok();
    let r = app
        .get("/v0/projects/gwm?include_revisions=true", &w.member)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["revision"], 3);
    assert_eq!(r.body["name"], "Third");
    assert!(r.body["users"].is_object());
    let parents = r.body["parents"].as_array().unwrap();
    assert_eq!(parents.len(), 2);
    assert_eq!(parents[0]["revision"], 2);
    assert_eq!(parents[0]["name"], "Second");
    assert_eq!(parents[0]["uri"], Value::Null);
    assert_eq!(parents[1]["revision"], 1);
    assert_eq!(parents[1]["name"], "Project gwm");
    assert_eq!(parents[1]["updated_at"], Value::Null);
    for p in parents {
        assert!(p.get("users").is_none(), "{p}");
        assert!(p.get("parents").is_none(), "{p}");
        assert_eq!(p["uuid"], r.body["uuid"]);
        assert_eq!(p["slugs"], json!(["gwm"]));
    }
    let plain = app.get("/v0/projects/gwm", &w.member).await;
    assert!(plain.body.get("parents").is_none());
    let list = app
        .get("/v0/projects?include_revisions=yes", &w.member)
        .await;
    assert_eq!(list.body[0]["parents"].as_array().unwrap().len(), 2);
    let list = app
        .get("/v0/projects?include_revisions=false", &w.member)
        .await;
    assert!(list.body[0].get("parents").is_none());
}

#[tokio::test]
async fn delete_permissions_and_slug_freeing() {
    let w = world().await;
    let app = &w.app;
    let old = app.get("/v0/projects/gwm", &w.root).await.body;
    for (name, token) in [
        ("sita", &w.site_spectator),
        ("mem", &w.member),
        ("spy", &w.spectator),
        ("other", &w.unrelated),
    ] {
        app.delete("/v0/projects/gwm", token)
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!("{name} is not authorized to delete project gwm"));
    }
    app.delete("/v0/projects/gwm", "bad")
        .await
        .assert_error(401, "Authentication failure");
    let anon = app
        .client
        .delete(app.url("/v0/projects/gwm"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    app.delete("/v0/projects/nope", &w.root)
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent project");
    app.delete("/v0/projects/N_O", &w.root)
        .await
        .assert_error(400, "Invalid identifier");

    // The project's manager may delete it (api.rst).
    let r = app.delete("/v0/projects/gwm", &w.pm).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");
    app.get("/v0/projects/gwm", &w.root)
        .await
        .assert_error(404, "Object not found");
    app.post("/v0/projects/gwm", &w.root, json!({"name": "Back"}))
        .await
        .assert_error(404, "Object not found");
    assert_eq!(app.get("/v0/projects", &w.root).await.body, json!([]));
    let all = app
        .get("/v0/projects?include_deleted=true", &w.root)
        .await
        .body;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["uuid"], old["uuid"]);
    assert_eq!(all[0]["slugs"], json!([]));
    assert_eq!(all[0]["deleted_at"], today());
    assert_eq!(all[0]["users"], old["users"]);

    // The slug is free; site managers and admins delete too.
    let again = create_project(app, &w.manager, "gwm", json!({})).await;
    assert_ne!(again["uuid"], old["uuid"]);
    app.delete("/v0/projects/gwm", &w.manager).await.assert_ok();
    create_project(app, &w.admin, "gwm", json!({})).await;
    app.delete("/v0/projects/gwm", &w.admin).await.assert_ok();
    let all = app.get("/v0/projects?include_deleted", &w.root).await;
    assert_eq!(all.header("x-total-count"), Some("3"));
}

#[tokio::test]
async fn delete_is_refused_while_a_current_time_is_on_the_project() {
    let w = world().await;
    let app = &w.app;
    let gwm = app.get("/v0/projects/gwm", &w.root).await.body;
    let uuid = gwm["uuid"].as_str().unwrap();
    let other = create_project(app, &w.root, "other-project", json!({})).await;
    let other_uuid = other["uuid"].as_str().unwrap();
    // Old revisions and deleted times do not hold a project.
    insert_time(app, "mem", other_uuid, &[], false, false).await;
    insert_time(app, "mem", other_uuid, &[], true, true).await;
    let current = insert_time(app, "mem", uuid, &[], true, false).await;

    let r = app.delete("/v0/projects/gwm", &w.root).await;
    r.assert_error(405, "Method not allowed")
        .assert_text("The method specified is not allowed for the project identified");
    assert_eq!(r.header("allow"), Some("GET, POST"));
    assert_eq!(app.get("/v0/projects/gwm", &w.root).await.status, 200);
    app.delete("/v0/projects/other-project", &w.root)
        .await
        .assert_ok();
    delete_time_row(app, current).await;
    app.delete("/v0/projects/gwm", &w.root).await.assert_ok();
}

#[tokio::test]
async fn user_filter_lists_projects_where_the_user_has_a_role() {
    let w = world().await;
    let app = &w.app;
    create_project(app, &w.root, "pgd", json!({"mem": {"spectator": true}})).await;
    create_project(app, &w.root, "ts", json!({"other": {"manager": true}})).await;
    create_project(
        app,
        &w.root,
        "norole",
        json!({"mem": {"member": false, "spectator": false, "manager": false}}),
    )
    .await;
    let slugs = |r: &Resp| -> Vec<String> {
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["slugs"][0].as_str().unwrap().to_owned())
            .collect()
    };
    let r = app.get("/v0/projects?user=mem", &w.unrelated).await;
    assert_eq!(slugs(&r), ["gwm", "pgd"]);
    assert_eq!(r.header("x-total-count"), Some("2"));
    let r = app.get("/v0/projects?user=MEM", &w.unrelated).await;
    assert_eq!(slugs(&r), ["gwm", "pgd"]);
    let r = app
        .get("/v0/projects?user=spy&user=other", &w.unrelated)
        .await;
    assert_eq!(slugs(&r), ["gwm", "ts"]);
    let r = app.get("/v0/projects?user=root", &w.unrelated).await;
    assert_eq!(r.body, json!([]));
    // (An empty value is ignored, a repeated key drops unknown values:
    // compat_filters.rs.)
    for bad in ["ghost", "not%20valid"] {
        app.get(&format!("/v0/projects?user={bad}"), &w.root)
            .await
            .assert_error(400, "Bad query value")
            .assert_text(&format!(
                "Parameter user contained invalid value {}",
                bad.replace("%20", " ")
            ));
    }
    // Combined with include_deleted and pagination.
    app.delete("/v0/projects/pgd", &w.root).await.assert_ok();
    let r = app.get("/v0/projects?user=mem", &w.root).await;
    assert_eq!(slugs(&r).len(), 1);
    let r = app
        .get(
            "/v0/projects?user=mem&include_deleted=1&limit=1&skip=1",
            &w.root,
        )
        .await;
    assert_eq!(r.header("x-total-count"), Some("2"));
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["slugs"], json!([]));
}

#[tokio::test]
async fn project_lists_are_paginated_in_update_order() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    for slug in ["p1", "p2", "p3", "p4"] {
        create_project(&app, &root, slug, json!({})).await;
    }
    let r = app.get("/v0/projects?limit=2&skip=2", &root).await;
    assert_eq!(
        slugs_of(&r.body),
        [vec!["p3".to_owned()], vec!["p4".to_owned()]]
    );
    assert_eq!(r.header("x-total-count"), Some("4"));
    let link = r.header("link").unwrap();
    assert!(link.contains("rel=\"prev\""), "{link}");
    assert!(!link.contains("rel=\"next\""), "{link}");
    app.get("/v0/projects?limit=-2", &root)
        .await
        .assert_error(400, "Bad query value")
        .assert_text("Parameter limit contained invalid value -2");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.post("/v0/projects/p1", &root, json!({"name": "Later"}))
        .await
        .assert_ok();
    let r = app.get("/v0/projects", &root).await;
    assert_eq!(
        slugs_of(&r.body),
        [
            vec!["p2".to_owned()],
            vec!["p3".to_owned()],
            vec!["p4".to_owned()],
            vec!["p1".to_owned()]
        ]
    );
}

#[tokio::test]
async fn concurrent_updates_each_get_their_own_revision() {
    let w = world().await;
    let app = &w.app;
    let uuid = app.get("/v0/projects/gwm", &w.root).await.body["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let n = 10;
    let requests = (0..n).map(|i| {
        let token = if i % 2 == 0 { &w.pm } else { &w.manager };
        app.post(
            "/v0/projects/gwm",
            token,
            json!({"name": format!("Name {i}"), "slugs": ["gwm", format!("alias{i}")]}),
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
    let rows = project::Entity::find()
        .filter(project::Column::Uuid.eq(uuid.as_str()))
        .count(app.db.conn())
        .await
        .unwrap();
    assert_eq!(rows, n as u64 + 1);
    let newest = project::Entity::find()
        .filter(project::Column::Uuid.eq(uuid.as_str()))
        .filter(project::Column::Newest.eq(true))
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(newest.len(), 1);
    // The last writer's revision is the current one, slugs and all.
    let last = answers
        .iter()
        .find(|r| r.body["revision"] == n + 1)
        .unwrap();
    let current = app.get("/v0/projects/gwm", &w.root).await.body;
    assert_eq!(current["name"], last.body["name"]);
    assert_eq!(current["slugs"], last.body["slugs"]);
    assert_eq!(current["slugs"].as_array().unwrap().len(), 2);

    // Concurrent creates claiming one slug: exactly one wins.
    let creates = (0..6).map(|i| {
        app.post(
            "/v0/projects",
            &w.root,
            json!({"name": format!("Race {i}"), "slugs": [format!("own{i}"), "race"]}),
        )
    });
    let answers = futures::future::join_all(creates).await;
    assert_eq!(answers.iter().filter(|r| r.status == 200).count(), 1);
    for r in answers.iter().filter(|r| r.status != 200) {
        r.assert_error(409, "Slug already exists");
        assert_eq!(r.body["values"], json!(["race"]));
    }
}
