//! `/v0/users/org-roles`: reading, creating, renaming and deleting
//! organization roles, and who may do it.

use serde_json::{json, Value};

use crate::helpers::*;

/// Creates org-role `slug` named `name` as `token`'s user; returns the answer body.
pub async fn make_role(app: &TestApp, token: &str, name: &str, slug: &str) -> Value {
    let r = app
        .post(
            "/v0/users/org-roles",
            token,
            json!({"name": name, "slug": slug}),
        )
        .await;
    r.assert_ok();
    r.body
}

#[tokio::test]
async fn managers_create_and_everyone_reads_org_roles() {
    let app = TestApp::spawn().await;
    let manager = app.user("mgr", MANAGER).await;
    let admin = app.user("adm", ADMIN).await;
    let plain = app.user("plain", PLAIN).await;
    let spectator = app.user("spec", SPECTATOR).await;

    let created = make_role(&app, &manager, "Summer Intern", "intern").await;
    assert_eq!(created, json!({"name": "Summer Intern", "slug": "intern"}));
    make_role(&app, &admin, "Software Developer", "developer").await;

    // Anyone authenticated reads, in creation order.
    let list = app.get("/v0/users/org-roles", &plain).await;
    list.assert_ok();
    assert_eq!(
        list.body,
        json!([
            {"name": "Summer Intern", "slug": "intern"},
            {"name": "Software Developer", "slug": "developer"}
        ])
    );
    assert_eq!(list.header("x-total-count"), Some("2"));
    let page = app.get("/v0/users/org-roles?skip=1&limit=1", &plain).await;
    assert_eq!(
        page.body,
        json!([{"name": "Software Developer", "slug": "developer"}])
    );
    assert_eq!(page.header("x-total-count"), Some("2"));
    assert_eq!(
        page.header("link"),
        Some("</v0/users/org-roles?skip=0&limit=1>; rel=\"prev\"")
    );
    let one = app.get("/v0/users/org-roles/intern", &spectator).await;
    assert_eq!(one.body, json!({"name": "Summer Intern", "slug": "intern"}));

    // Neither plain users nor spectators manage them.
    for (name, token) in [("plain", &plain), ("spec", &spectator)] {
        app.post(
            "/v0/users/org-roles",
            token,
            json!({"name": "Executive", "slug": "executive"}),
        )
        .await
        .assert_error(401, "Authorization failure")
        .assert_text(&format!("{name} is not authorized to create org-roles"));
        app.post("/v0/users/org-roles/intern", token, json!({"name": "X"}))
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!("{name} is not authorized to update org-roles"));
        app.delete("/v0/users/org-roles/intern", token)
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!("{name} is not authorized to delete org-roles"));
    }
    assert_eq!(
        app.get("/v0/users/org-roles", &plain).await.body,
        list.body,
        "nothing changed"
    );

    // Reading needs a token.
    app.get_anon("/v0/users/org-roles")
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Missing credentials");
}

#[tokio::test]
async fn org_role_fields_are_validated() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let cases = [
        (json!({"slug": "a"}), "The org-role is missing a name"),
        (json!({"name": "A"}), "The org-role is missing a slug"),
        (json!({"name": "", "slug": "a"}), "The org-role is missing a name"),
        (
            json!({"name": 5, "slug": "a"}),
            "Field name of org-role should be string but was sent as number",
        ),
        (
            json!({"name": null, "slug": "a"}),
            "Field name of org-role should be string but was sent as null",
        ),
        (
            json!({"name": "A", "slug": "Not A Slug"}),
            "Field slug of org-role should be slug but was sent as invalid slug Not A Slug",
        ),
        (
            json!({"name": "A", "slug": "123"}),
            "Field slug of org-role should be slug but was sent as invalid slug 123",
        ),
        (
            json!({"name": "A", "slug": ["a"]}),
            "Field slug of org-role should be string but was sent as array",
        ),
        (
            json!({"name": "A", "slug": "a", "uuid": "x"}),
            "org-role does not have a uuid field",
        ),
        (
            json!({"name": "x".repeat(256), "slug": "a"}),
            "Field name of org-role should be string of at most 255 characters but was sent as string of 256 characters",
        ),
    ];
    for (object, text) in cases {
        app.post("/v0/users/org-roles", &root, object.clone())
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    // The longest name passes.
    make_role(&app, &root, &"x".repeat(255), "long").await;
    assert_eq!(
        app.get("/v0/users/org-roles", &root)
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // Updates are checked the same way.
    app.post("/v0/users/org-roles/long", &root, json!({"slug": null}))
        .await
        .assert_error(400, "Bad object")
        .assert_text("Field slug of org-role should be string but was sent as null");
    app.post("/v0/users/org-roles/long", &root, json!({"active": true}))
        .await
        .assert_error(400, "Bad object")
        .assert_text("org-role does not have a active field");

    // Identifiers in the path.
    app.get("/v0/users/org-roles/Bad_Slug", &root)
        .await
        .assert_error(400, "Invalid identifier")
        .assert_text("Expected slug but received Bad_Slug");
    for missing in [
        app.get("/v0/users/org-roles/nope", &root).await,
        app.post("/v0/users/org-roles/nope", &root, json!({"name": "N"}))
            .await,
        app.delete("/v0/users/org-roles/nope", &root).await,
    ] {
        missing
            .assert_error(404, "Object not found")
            .assert_text("Nonexistent org-role");
    }
}

#[tokio::test]
async fn names_and_slugs_stay_unique() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    make_role(&app, &root, "Summer Intern", "intern").await;
    make_role(&app, &root, "Software Developer", "developer").await;

    let r = app
        .post(
            "/v0/users/org-roles",
            &root,
            json!({"name": "Another", "slug": "intern"}),
        )
        .await;
    r.assert_error(409, "Slug already exists")
        .assert_text("Slug intern already exists on another object");
    assert_eq!(r.body["values"], json!(["intern"]));

    // Names are unique in any letter case (on every backend alike).
    let r = app
        .post(
            "/v0/users/org-roles",
            &root,
            json!({"name": "summer INTERN", "slug": "summer"}),
        )
        .await;
    r.assert_error(409, "Slug already exists")
        .assert_text("Name summer INTERN already exists on another object");
    assert_eq!(r.body["values"], json!(["summer INTERN"]));

    // Renames to another role's slug or name are refused, nothing changes.
    app.post(
        "/v0/users/org-roles/intern",
        &root,
        json!({"slug": "developer"}),
    )
    .await
    .assert_error(409, "Slug already exists");
    app.post(
        "/v0/users/org-roles/intern",
        &root,
        json!({"name": "Software Developer"}),
    )
    .await
    .assert_error(409, "Slug already exists");
    assert_eq!(
        app.get("/v0/users/org-roles/intern", &root).await.body,
        json!({"name": "Summer Intern", "slug": "intern"})
    );
    // A role keeps its own name and slug, and may change their case.
    let same = app
        .post(
            "/v0/users/org-roles/intern",
            &root,
            json!({"name": "Summer Intern", "slug": "intern"}),
        )
        .await;
    assert_eq!(
        same.body,
        json!({"name": "Summer Intern", "slug": "intern"})
    );
    let recased = app
        .post(
            "/v0/users/org-roles/intern",
            &root,
            json!({"name": "Summer intern"}),
        )
        .await;
    assert_eq!(
        recased.body,
        json!({"name": "Summer intern", "slug": "intern"})
    );
}

#[tokio::test]
async fn renaming_a_role_shows_on_every_user() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let manager = app.user("mgr", MANAGER).await;
    make_role(&app, &root, "Summer Intern", "intern").await;
    for name in ["ann", "ben"] {
        app.post(
            "/v0/users",
            &root,
            json!({"username": name, "org-roles": ["intern"]}),
        )
        .await
        .assert_ok();
    }

    // Name only, then slug only, then both: each answer is the whole role.
    let r = app
        .post(
            "/v0/users/org-roles/intern",
            &manager,
            json!({"name": "Intern"}),
        )
        .await;
    assert_eq!(r.body, json!({"name": "Intern", "slug": "intern"}));
    let r = app
        .post(
            "/v0/users/org-roles/intern",
            &manager,
            json!({"slug": "summer"}),
        )
        .await;
    assert_eq!(r.body, json!({"name": "Intern", "slug": "summer"}));
    app.get("/v0/users/org-roles/intern", &root)
        .await
        .assert_error(404, "Object not found");

    for name in ["ann", "ben"] {
        let user = app.get(&format!("/v0/users/{name}"), &root).await;
        assert_eq!(user.body["org-roles"], json!(["summer"]), "{name}");
    }
    let holders = app.get("/v0/users?role=summer", &root).await;
    let names: Vec<&str> = holders
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ann", "ben"]);
    app.get("/v0/users?role=intern", &root)
        .await
        .assert_error(400, "Bad query value")
        .assert_text("Parameter role contained invalid value intern");

    let r = app
        .post(
            "/v0/users/org-roles/summer",
            &root,
            json!({"name": "Trainee", "slug": "trainee"}),
        )
        .await;
    assert_eq!(r.body, json!({"name": "Trainee", "slug": "trainee"}));
    assert_eq!(
        app.get("/v0/users/ann", &root).await.body["org-roles"],
        json!(["trainee"])
    );
}

#[tokio::test]
async fn a_role_is_deleted_only_when_no_user_holds_it() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let manager = app.user("mgr", MANAGER).await;
    make_role(&app, &root, "Summer Intern", "intern").await;
    make_role(&app, &root, "Mentor", "mentor").await;
    app.post(
        "/v0/users",
        &root,
        json!({"username": "ann", "org-roles": ["intern", "mentor"]}),
    )
    .await
    .assert_ok();
    app.post(
        "/v0/users",
        &root,
        json!({"username": "gone", "org-roles": ["mentor"]}),
    )
    .await
    .assert_ok();

    let refused = app.delete("/v0/users/org-roles/intern", &manager).await;
    refused
        .assert_error(405, "Method not allowed")
        .assert_text("The method specified is not allowed for the org-role identified");
    assert_eq!(refused.header("allow"), Some("GET, POST"));
    app.get("/v0/users/org-roles/intern", &root)
        .await
        .assert_ok();

    // Once ann no longer holds it, it goes for good.
    app.post("/v0/users/ann", &root, json!({"org-roles": ["mentor"]}))
        .await
        .assert_ok();
    let r = app.delete("/v0/users/org-roles/intern", &manager).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");
    app.get("/v0/users/org-roles/intern", &root)
        .await
        .assert_error(404, "Object not found");
    app.delete("/v0/users/org-roles/intern", &manager)
        .await
        .assert_error(404, "Object not found");
    // Name and slug are free again.
    make_role(&app, &root, "Summer Intern", "intern").await;
    assert_eq!(
        app.get("/v0/users/ann", &root).await.body["org-roles"],
        json!(["mentor"])
    );

    // A deleted user holding a role does not keep it alive.
    app.post("/v0/users/ann", &root, json!({"org-roles": []}))
        .await
        .assert_ok();
    app.delete("/v0/users/gone", &root).await.assert_ok();
    let r = app.delete("/v0/users/org-roles/mentor", &root).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let gone = app.get("/v0/users/gone?include_deleted", &root).await;
    assert_eq!(gone.body["org-roles"], json!([]));
}
