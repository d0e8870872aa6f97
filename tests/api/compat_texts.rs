//! Compatibility with the reference implementation (DECISIONS.md): the
//! exact status, error name and text of every ruled condition, per
//! resource, on create and on update; the order of the checks; unique
//! names; authorization and foreign-key texts; a new user's `updated_at`.

use serde_json::{json, Value};

use crate::helpers::*;

const BAD: (u16, &str) = (400, "Bad object");

/// root (admin), alice (member of `web`, manager of nothing), bob (plain),
/// mgr (site manager); activity `dev`, project `web` (default `dev`).
struct Site {
    app: TestApp,
    root: String,
    alice: String,
    bob: String,
    mgr: String,
}

async fn site() -> Site {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let alice = app.user("alice", PLAIN).await;
    let bob = app.user("bob", PLAIN).await;
    let mgr = app.user("mgr", MANAGER).await;
    app.post(
        "/v0/activities",
        &root,
        json!({"name": "Development", "slug": "dev"}),
    )
    .await
    .assert_ok();
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "Web", "slugs": ["web"], "default_activity": "dev",
               "users": {"alice": {"member": true}, "bob": {"member": false, "spectator": true}}}),
    )
    .await
    .assert_ok();
    Site {
        app,
        root,
        alice,
        bob,
        mgr,
    }
}

/// POSTs `object` to `path` and asserts the whole error.
async fn expect(
    app: &TestApp,
    path: &str,
    token: &str,
    object: Value,
    err: (u16, &str),
    text: &str,
) {
    app.post(path, token, object.clone())
        .await
        .assert_error(err.0, err.1)
        .assert_text(text);
}

fn time(duration: Value, project: &str) -> Value {
    json!({"duration": duration, "user": "alice", "project": project, "date_worked": "2026-01-05"})
}

#[tokio::test]
async fn time_bad_objects_on_create_and_update() {
    let s = site().await;
    let app = &s.app;
    let made = app
        .post("/v0/times", &s.alice, time(json!(60), "web"))
        .await;
    made.assert_ok();
    let uuid = made.body["uuid"].as_str().unwrap().to_owned();
    let update = format!("/v0/times/{uuid}");

    // The same texts on create (with the rest of a good object) and update.
    let same: Vec<(&str, Value, &str)> = vec![
        ("created_at", json!("2026-01-01"), "time does not have a created_at field"),
        ("uuid", json!(uuid), "time does not have a uuid field"),
        ("revision", json!(1), "time does not have a revision field"),
        ("deleted_at", Value::Null, "time does not have a deleted_at field"),
        ("duration", json!("60"), "Field duration of time should be number but was sent as string"),
        ("duration", Value::Null, "Field duration of time should be number but was sent as null"),
        ("duration", json!(-5), "Field duration of time should be positive number but was sent as negative number"),
        ("duration", json!(2.5), "Field duration of time should be positive integer but was sent as non-integer number"),
        ("user", json!(true), "Field user of time should be string but was sent as boolean"),
        ("project", json!(["web"]), "Field project of time should be string but was sent as array"),
        ("project", json!("Web Site"), "Field project of time should be slug but was sent as invalid slug Web Site"),
        ("activities", json!("dev"), "Field activities of time should be array but was sent as string"),
        ("activities", Value::Null, "Field activities of time should be array but was sent as null"),
        ("activities", json!(["dev", "Dev!"]), "Field activities of time should be slugs but was sent as array containing at least 1 invalid slug"),
        ("activities", json!(["dev", null]), "Field activities of time should be slugs but was sent as array containing at least 1 null"),
        ("activities", json!([{"slug": "dev"}]), "Field activities of time should be slugs but was sent as array containing at least 1 object"),
        ("date_worked", json!("April 29, 1995"), "Field date_worked of time should be ISO-8601 date but was sent as April 29, 1995"),
        ("date_worked", json!(19950429), "Field date_worked of time should be string but was sent as number"),
        ("issue_uri", json!("github.com/osuosl"), "Field issue_uri of time should be URI but was sent as invalid URI github.com/osuosl"),
        ("notes", json!(["a"]), "Field notes of time should be string but was sent as array"),
    ];
    for (field, value, text) in same {
        let mut object = time(json!(60), "web");
        object[field] = value.clone();
        expect(app, "/v0/times", &s.alice, object, BAD, text).await;
        expect(app, &update, &s.alice, json!({ field: value }), BAD, text).await;
    }
    // Missing on create (absent, or an empty string); on update an empty
    // string is a bad value instead.
    for field in ["duration", "user", "project", "date_worked"] {
        let mut object = time(json!(60), "web");
        object.as_object_mut().unwrap().remove(field);
        let text = format!("The time is missing a {field}");
        expect(app, "/v0/times", &s.alice, object, BAD, &text).await;
    }
    for (field, expected) in [
        ("user", "string"),
        ("project", "slug"),
        ("date_worked", "string"),
    ] {
        let mut object = time(json!(60), "web");
        object[field] = json!("");
        let text = format!("The time is missing a {field}");
        expect(app, "/v0/times", &s.alice, object, BAD, &text).await;
        let text =
            format!("Field {field} of time should be {expected} but was sent as empty string");
        expect(app, &update, &s.alice, json!({ field: "" }), BAD, &text).await;
    }
    expect(
        app,
        &update,
        &s.alice,
        json!({"activities": []}),
        BAD,
        "Field activities of time should be array of slugs but was sent as empty array",
    )
    .await;
    // Nullable fields take null.
    let r = app
        .post(&update, &s.alice, json!({"notes": null, "issue_uri": null}))
        .await;
    r.assert_ok();

    // The order: not allowed, then missing, then types (model order), then forms.
    let order: Vec<(Value, &str)> = vec![
        (
            json!({"duration": "x", "uuid": "u"}),
            "time does not have a uuid field",
        ),
        (
            json!({"duration": "x", "project": "Bad Slug"}),
            "The time is missing a user",
        ),
        (
            json!({"duration": -1, "user": "alice", "project": 5, "date_worked": "2026-13-01"}),
            "Field project of time should be string but was sent as number",
        ),
        (
            json!({"duration": -1, "user": "alice", "project": "Bad", "date_worked": "x"}),
            "Field duration of time should be positive number but was sent as negative number",
        ),
        (
            json!({"duration": 1, "user": "alice", "project": "Bad", "date_worked": "x"}),
            "Field project of time should be slug but was sent as invalid slug Bad",
        ),
    ];
    for (object, text) in order {
        expect(app, "/v0/times", &s.alice, object, BAD, text).await;
    }
    // Nothing was written by any refusal.
    let r = app.get(&format!("/v0/times/{uuid}"), &s.alice).await;
    assert_eq!(r.body["revision"], 2);
    assert_eq!(
        app.get("/v0/times", &s.root).await.header("x-total-count"),
        Some("1")
    );
}

#[tokio::test]
async fn time_foreign_keys_and_authorization_texts() {
    let s = site().await;
    let app = &s.app;
    let fk = (409, "Invalid foreign key");
    expect(
        app,
        "/v0/times",
        &s.alice,
        time(json!(1), "nope"),
        fk,
        "The time does not contain a valid project reference.",
    )
    .await;
    let mut object = time(json!(1), "web");
    object["activities"] = json!(["dev", "nope"]);
    expect(
        app,
        "/v0/times",
        &s.alice,
        object,
        fk,
        "The time does not contain a valid activities reference.",
    )
    .await;
    let mut object = time(json!(1), "web");
    object["user"] = json!("ghost");
    expect(
        app,
        "/v0/times",
        &s.alice,
        object,
        fk,
        "The time does not contain a valid user reference.",
    )
    .await;

    let denied = (401, "Authorization failure");
    // For someone else; on a project where the caller is no member.
    let mut for_bob = time(json!(1), "web");
    for_bob["user"] = json!("bob");
    expect(
        app,
        "/v0/times",
        &s.alice,
        for_bob,
        denied,
        "alice is not authorized to create time entries for bob",
    )
    .await;
    let mut bobs = time(json!(1), "web");
    bobs["user"] = json!("bob");
    expect(
        app,
        "/v0/times",
        &s.bob,
        bobs,
        denied,
        "bob is not authorized to create time entries for project web.",
    )
    .await;

    let made = app
        .post("/v0/times", &s.alice, time(json!(60), "web"))
        .await;
    let uuid = made.body["uuid"].as_str().unwrap().to_owned();
    let path = format!("/v0/times/{uuid}");
    let modify = format!("bob is not authorized to modify time {uuid}");
    expect(app, &path, &s.bob, json!({"duration": 5}), denied, &modify).await;
    let modify = format!("alice is not authorized to modify time {uuid}");
    expect(
        app,
        &path,
        &s.alice,
        json!({"user": "bob"}),
        denied,
        &modify,
    )
    .await;
    app.post(
        "/v0/projects",
        &s.root,
        json!({"name": "Api", "slugs": ["api"]}),
    )
    .await
    .assert_ok();
    expect(
        app,
        &path,
        &s.alice,
        json!({"project": "api"}),
        denied,
        "alice is not authorized to create time entries for project api.",
    )
    .await;
    // Bad values and references answer before permissions that depend on the time.
    expect(
        app,
        &path,
        &s.bob,
        json!({"duration": "5"}),
        BAD,
        "Field duration of time should be number but was sent as string",
    )
    .await;
    expect(
        app,
        &path,
        &s.bob,
        json!({"project": "nope"}),
        fk,
        "The time does not contain a valid project reference.",
    )
    .await;
    // Viewing (bob spectates `web`, so he may; a stranger may not) and deleting.
    app.user("carol", PLAIN).await;
    let carol = app.login("carol", "carol").await;
    app.get(&path, &carol)
        .await
        .assert_error(401, "Authorization failure")
        .assert_text(&format!("carol is not authorized to view time {uuid}"));
    app.get(&path, &s.bob).await.assert_ok();
    app.delete(&path, &s.bob)
        .await
        .assert_error(401, "Authorization failure")
        .assert_text(&format!("bob is not authorized to delete time {uuid}"));
}

#[tokio::test]
async fn project_and_activity_texts_and_unique_names() {
    let s = site().await;
    let app = &s.app;
    // Activities.
    expect(
        app,
        "/v0/activities",
        &s.root,
        json!({"name": "Development", "slug": "dev2"}),
        BAD,
        "Field name of activity should be unique name but was sent as name which already exists",
    )
    .await;
    expect(
        app,
        "/v0/activities",
        &s.root,
        json!({"name": "Docs", "slug": "Docs"}),
        BAD,
        "Field slug of activity should be slug but was sent as invalid slug Docs",
    )
    .await;
    expect(
        app,
        "/v0/activities",
        &s.root,
        json!({"name": "Docs", "slug": ""}),
        BAD,
        "The activity is missing a slug",
    )
    .await;
    expect(
        app,
        "/v0/activities/dev",
        &s.root,
        json!({"slug": ""}),
        BAD,
        "Field slug of activity should be slug but was sent as empty string",
    )
    .await;
    expect(
        app,
        "/v0/activities/dev",
        &s.root,
        json!({"name": ""}),
        BAD,
        "Field name of activity should be string but was sent as empty string",
    )
    .await;
    expect(
        app,
        "/v0/activities/dev",
        &s.root,
        json!({"updated_at": "2026-01-01"}),
        BAD,
        "activity does not have a updated_at field",
    )
    .await;
    // Exact match only; deleted activities and the own name do not count.
    app.post(
        "/v0/activities",
        &s.root,
        json!({"name": "development", "slug": "dev3"}),
    )
    .await
    .assert_ok();
    app.post(
        "/v0/activities/dev",
        &s.root,
        json!({"name": "Development"}),
    )
    .await
    .assert_ok();
    app.post(
        "/v0/activities",
        &s.root,
        json!({"name": "Old", "slug": "old"}),
    )
    .await
    .assert_ok();
    expect(
        app,
        "/v0/activities/dev3",
        &s.root,
        json!({"name": "Old"}),
        BAD,
        "Field name of activity should be unique name but was sent as name which already exists",
    )
    .await;
    app.delete("/v0/activities/old", &s.root).await.assert_ok();
    app.post("/v0/activities/dev3", &s.root, json!({"name": "Old"}))
        .await
        .assert_ok();
    let denied = (401, "Authorization failure");
    expect(
        app,
        "/v0/activities",
        &s.alice,
        json!({"name": "X", "slug": "x"}),
        denied,
        "alice is not authorized to create activities",
    )
    .await;
    expect(
        app,
        "/v0/activities/dev",
        &s.alice,
        json!({"name": "X"}),
        denied,
        "alice is not authorized to update activities",
    )
    .await;
    app.delete("/v0/activities/dev3", &s.alice)
        .await
        .assert_error(401, "Authorization failure")
        .assert_text("alice is not authorized to delete activities");

    // Projects.
    expect(
        app,
        "/v0/projects",
        &s.root,
        json!({"name": "Web", "slugs": ["web2"]}),
        BAD,
        "Field name of project should be unique name but was sent as name which already exists",
    )
    .await;
    app.post(
        "/v0/projects",
        &s.root,
        json!({"name": "Api", "slugs": ["api"]}),
    )
    .await
    .assert_ok();
    expect(
        app,
        "/v0/projects/api",
        &s.root,
        json!({"name": "Web"}),
        BAD,
        "Field name of project should be unique name but was sent as name which already exists",
    )
    .await;
    app.post(
        "/v0/projects/web",
        &s.root,
        json!({"name": "Web", "uri": ""}),
    )
    .await
    .assert_ok();
    expect(
        app,
        "/v0/projects",
        &s.root,
        json!({"name": "X", "slugs": []}),
        BAD,
        "Field slugs of project should be array of slugs but was sent as empty array",
    )
    .await;
    expect(
        app,
        "/v0/projects",
        &s.root,
        json!({"name": "X", "slugs": ["x", 5]}),
        BAD,
        "Field slugs of project should be slugs but was sent as array containing at least 1 number",
    )
    .await;
    expect(
        app,
        "/v0/projects",
        &s.root,
        json!({"name": "X", "slugs": ["x"], "default_activity": ""}),
        BAD,
        "Field default_activity of project should be slug but was sent as empty string",
    )
    .await;
    app.post(
        "/v0/projects",
        &s.root,
        json!({"name": "X", "slugs": ["x"], "default_activity": null, "uri": null}),
    )
    .await
    .assert_ok();
    let fk = (409, "Invalid foreign key");
    expect(
        app,
        "/v0/projects",
        &s.root,
        json!({"name": "Y", "slugs": ["y"], "default_activity": "nope"}),
        fk,
        "The project does not contain a valid activity reference.",
    )
    .await;
    expect(
        app,
        "/v0/projects",
        &s.root,
        json!({"name": "Y", "slugs": ["y"], "users": {"ghost": {"member": true}}}),
        fk,
        "The project does not contain a valid user reference.",
    )
    .await;
    expect(
        app,
        "/v0/projects",
        &s.alice,
        json!({"name": "Z", "slugs": ["z"]}),
        denied,
        "alice is not authorized to create projects",
    )
    .await;
    expect(
        app,
        "/v0/projects/web",
        &s.alice,
        json!({"name": "Mine"}),
        denied,
        "alice is not authorized to make changes to Web",
    )
    .await;
    app.delete("/v0/projects/api", &s.alice)
        .await
        .assert_error(401, "Authorization failure")
        .assert_text("alice is not authorized to delete project api");
}

#[tokio::test]
async fn user_texts_and_updated_at() {
    let s = site().await;
    let app = &s.app;
    let r = app
        .post(
            "/v0/users",
            &s.root,
            json!({"username": "dora", "password": "pw"}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["updated_at"], Value::Null);
    let r = app.get("/v0/users/dora", &s.root).await;
    assert_eq!(r.body["updated_at"], Value::Null);
    let r = app
        .post("/v0/users/dora", &s.root, json!({"display_name": "Dora"}))
        .await;
    assert_eq!(r.body["updated_at"], r.body["created_at"]);

    expect(
        app,
        "/v0/users",
        &s.root,
        json!({"username": "bad name"}),
        BAD,
        "Field username of user should be valid username but was sent as invalid username bad name",
    )
    .await;
    expect(
        app,
        "/v0/users",
        &s.root,
        json!({"username": ""}),
        BAD,
        "The user is missing a username",
    )
    .await;
    expect(
        app,
        "/v0/users",
        &s.root,
        json!({"username": "eve", "email": "nope"}),
        BAD,
        "Field email of user should be valid email but was sent as string",
    )
    .await;
    expect(
        app,
        "/v0/users",
        &s.root,
        json!({"username": "eve", "email": 5}),
        BAD,
        "Field email of user should be valid email but was sent as number",
    )
    .await;
    expect(
        app,
        "/v0/users",
        &s.root,
        json!({"username": "eve", "active": "yes"}),
        BAD,
        "Field active of user should be boolean but was sent as string",
    )
    .await;
    expect(
        app,
        "/v0/users",
        &s.root,
        json!({"username": "eve", "deleted_at": null}),
        BAD,
        "user does not have a deleted_at field",
    )
    .await;
    expect(
        app,
        "/v0/users",
        &s.root,
        json!({"username": "eve", "org-roles": ["ghost"]}),
        (409, "Invalid foreign key"),
        "The user does not contain a valid org-role reference.",
    )
    .await;
    // `username` is no field of an update, even unchanged.
    for username in [json!("dora"), json!("other"), json!(null)] {
        expect(
            app,
            "/v0/users/dora",
            &s.root,
            json!({"username": username}),
            BAD,
            "user does not have a username field",
        )
        .await;
    }
    let denied = (401, "Authorization failure");
    expect(
        app,
        "/v0/users",
        &s.alice,
        json!({"username": "eve"}),
        denied,
        "alice is not authorized to create users",
    )
    .await;
    expect(
        app,
        "/v0/users",
        &s.mgr,
        json!({"username": "eve", "site_admin": true}),
        denied,
        "mgr is not authorized to set permissions of user eve",
    )
    .await;
    expect(
        app,
        "/v0/users/bob",
        &s.alice,
        json!({"display_name": "B"}),
        denied,
        "alice is not authorized to modify user bob",
    )
    .await;
    expect(
        app,
        "/v0/users/bob",
        &s.mgr,
        json!({"email": "b@example.org"}),
        denied,
        "mgr is not authorized to modify fields of user bob other than site_spectator",
    )
    .await;
    expect(
        app,
        "/v0/users/alice",
        &s.alice,
        json!({"site_manager": true}),
        denied,
        "alice is not authorized to set permissions of user alice",
    )
    .await;
    app.post("/v0/users/bob", &s.mgr, json!({"site_spectator": true}))
        .await
        .assert_ok();
    app.delete("/v0/users/bob", &s.mgr)
        .await
        .assert_error(401, "Authorization failure")
        .assert_text("mgr is not authorized to delete users");
    // Org-roles read the same way.
    expect(
        app,
        "/v0/users/org-roles",
        &s.root,
        json!({"name": "Intern", "slug": "In tern"}),
        BAD,
        "Field slug of org-role should be slug but was sent as invalid slug In tern",
    )
    .await;
    expect(
        app,
        "/v0/users/org-roles",
        &s.root,
        json!({"name": "Intern"}),
        BAD,
        "The org-role is missing a slug",
    )
    .await;
}

#[tokio::test]
async fn openapi_error_examples_are_what_the_server_answers() {
    let s = site().await;
    let app = &s.app;
    let doc = app.get_anon("/v0/openapi.json").await.body;
    let examples = |path: &str, method: &str, status: &str| -> Value {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["examples"]
            .clone()
    };
    let bad = examples("/v0/times", "post", "400");
    let missing = &bad["Missing field"]["value"];
    let r = app
        .post(
            "/v0/times",
            &s.alice,
            json!({"user": "alice", "project": "web", "date_worked": "2026-01-01"}),
        )
        .await;
    assert_eq!(&r.body, missing);
    let r = app
        .post("/v0/times", &s.alice, json!({"duration": "60", "user": "alice", "project": "web", "date_worked": "2026-01-01"}))
        .await;
    assert_eq!(&r.body, &bad["Wrong JSON type"]["value"]);
    let r = app
        .post("/v0/times", &s.alice, json!({"duration": 1, "user": "alice", "project": "web", "date_worked": "April 29, 1995"}))
        .await;
    assert_eq!(&r.body, &bad["Bad form"]["value"]);
    let r = app
        .get("/v0/times?project=gone&project=Bad_Slug", &s.alice)
        .await;
    assert_eq!(
        &r.body,
        &examples("/v0/times", "get", "400")["Bad query value"]["value"]
    );
    let r = app.get_anon("/v0/times").await;
    assert_eq!(
        &r.body,
        &examples("/v0/times", "get", "401")["Missing credentials"]["value"]
    );
    let r = app
        .post(
            "/v0/times",
            &s.alice,
            json!({"duration": 1, "user": "alice", "project": "nope", "date_worked": "2026-01-01"}),
        )
        .await;
    assert_eq!(
        &r.body,
        &examples("/v0/times", "post", "409")["Invalid foreign key"]["value"]
    );
    let r = app
        .post(
            "/v0/projects",
            &s.root,
            json!({"name": "Web", "slugs": ["w2"]}),
        )
        .await;
    assert_eq!(
        &r.body,
        &examples("/v0/projects", "post", "400")["Name taken"]["value"]
    );
    // Every error response of every operation has at least one example.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('2') {
                    continue;
                }
                let examples = &response["content"]["application/json"]["examples"];
                assert!(
                    examples.as_object().is_some_and(|e| !e.is_empty()),
                    "{method} {path} {status}"
                );
            }
        }
    }
}
