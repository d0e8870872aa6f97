//! `/v0/users`: listing, creating, updating and deleting users, field
//! validation, case-insensitive usernames, and every permission rule.

use serde_json::{json, Value};
use timesync::storage;

use crate::helpers::*;
use crate::org_roles::make_role;

/// Creates a user through the API as `token`'s user; returns the answer body.
pub async fn create_user(app: &TestApp, token: &str, object: Value) -> Value {
    let r = app.post("/v0/users", token, object).await;
    r.assert_ok();
    r.body
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn usernames(body: &Value) -> Vec<String> {
    body.as_array()
        .expect("a list")
        .iter()
        .map(|u| u["username"].as_str().expect("username").to_owned())
        .collect()
}

#[tokio::test]
async fn an_admin_creates_a_user_who_can_log_in() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    make_role(&app, &root, "Summer Intern", "intern").await;
    make_role(&app, &root, "Mentor", "mentor").await;

    let created = create_user(
        &app,
        &root,
        json!({
            "username": "User.One",
            "password": "correct horse",
            "display_name": "User One",
            "email": "user1@example.org",
            "org-roles": ["mentor", "intern"],
            "site_spectator": true,
            "site_manager": false,
            "site_admin": false,
            "active": true,
            "meta": "extra metadata about user"
        }),
    )
    .await;
    let expected = json!({
        "display_name": "User One",
        "username": "User.One",
        "email": "user1@example.org",
        "org-roles": ["intern", "mentor"],
        "site_spectator": true,
        "site_manager": false,
        "site_admin": false,
        "active": true,
        "created_at": today(),
        // Null until the first update (DECISIONS.md).
        "updated_at": null,
        "deleted_at": null,
        "meta": "extra metadata about user"
    });
    assert_eq!(created, expected);

    // Found in any letter case, shown as created; never with a password.
    for path in [
        "/v0/users/User.One",
        "/v0/users/user.one",
        "/v0/users/USER.ONE",
    ] {
        let r = app.get(path, &root).await;
        assert_eq!(r.body, expected, "{path}");
    }
    let token = app.login("uSeR.oNe", "correct horse").await;
    let list = app.get("/v0/users", &token).await;
    list.assert_ok();
    assert_eq!(usernames(&list.body), ["root", "User.One"]);
    assert!(list.body[1].get("password").is_none());
    assert_eq!(list.body[1], expected);
    assert_eq!(list.header("x-total-count"), Some("2"));

    // The server hashed the plain password.
    let row = storage::users::find_by_username(app.db.conn(), "user.one")
        .await
        .unwrap()
        .unwrap();
    let stored = row.password.unwrap();
    assert!(stored.starts_with("$2"), "{stored}");
    assert_ne!(stored, "correct horse");

    // Defaults: active, no flags, no roles, null profile fields; the spec's
    // `displayname` spelling is accepted too.
    let minimal = create_user(&app, &root, json!({"username": "min", "password": "pw"})).await;
    assert_eq!(minimal["active"], true);
    assert_eq!(minimal["site_spectator"], false);
    assert_eq!(minimal["org-roles"], json!([]));
    assert_eq!(minimal["display_name"], Value::Null);
    assert_eq!(minimal["email"], Value::Null);
    assert_eq!(minimal["meta"], Value::Null);
    let spelled = create_user(
        &app,
        &root,
        json!({"username": "spelled", "displayname": "X. Ample User", "email": ""}),
    )
    .await;
    assert_eq!(spelled["display_name"], "X. Ample User");
    assert_eq!(spelled["email"], "");
    app.post(
        "/v0/users",
        &root,
        json!({"username": "both", "displayname": "a", "display_name": "b"}),
    )
    .await
    .assert_error(400, "Bad object")
    .assert_text("user does not have a displayname field");
}

#[tokio::test]
async fn a_client_hashed_password_is_stored_as_sent() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let hash = bcrypt::hash("hunter2", 4)
        .unwrap()
        .replacen("$2b$", "$2a$", 1);
    create_user(&app, &root, json!({"username": "hashed", "password": hash})).await;
    let row = storage::users::find_by_username(app.db.conn(), "hashed")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.password.as_deref(), Some(hash.as_str()));
    app.login("hashed", "hunter2").await;
    app.login_resp("hashed", &hash)
        .await
        .assert_error(401, "Authentication failure");

    // The same on update.
    let hash = bcrypt::hash("swordfish", 4).unwrap();
    app.post("/v0/users/hashed", &root, json!({"password": hash}))
        .await
        .assert_ok();
    app.login("hashed", "swordfish").await;
    app.login_resp("hashed", "hunter2")
        .await
        .assert_error(401, "Authentication failure");

    // Without a password (an LDAP-only account) nobody logs in by password.
    create_user(&app, &root, json!({"username": "nopw", "password": null})).await;
    app.login_resp("nopw", "")
        .await
        .assert_error(401, "Authentication failure");
}

#[tokio::test]
async fn user_fields_are_validated() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let long = "x".repeat(256);
    let cases = [
        (json!({}), "The user is missing a username"),
        (
            json!({"username": null}),
            "Field username of user should be string but was sent as null",
        ),
        (
            json!({"username": 5}),
            "Field username of user should be string but was sent as number",
        ),
        (
            json!({"username": "u", "uuid": "x"}),
            "user does not have a uuid field",
        ),
        (
            json!({"username": "u", "created_at": "2016-02-15"}),
            "user does not have a created_at field",
        ),
        (
            json!({"username": "u", "display_name": 5}),
            "Field display_name of user should be string but was sent as number",
        ),
        (
            json!({"username": "u", "display_name": long}),
            "Field display_name of user should be string of at most 255 characters but was sent as string of 256 characters",
        ),
        (
            json!({"username": "u", "email": "not-an-address"}),
            "Field email of user should be valid email but was sent as string",
        ),
        (
            json!({"username": "u", "email": "a@b@c"}),
            "Field email of user should be valid email but was sent as string",
        ),
        (
            json!({"username": "u", "email": "a b@c"}),
            "Field email of user should be valid email but was sent as string",
        ),
        (
            json!({"username": "u", "email": true}),
            "Field email of user should be valid email but was sent as boolean",
        ),
        (
            json!({"username": "u", "email": format!("{}@example.org", "x".repeat(244))}),
            "Field email of user should be string of at most 255 characters but was sent as string of 256 characters",
        ),
        (
            json!({"username": "u", "meta": {"a": 1}}),
            "Field meta of user should be string but was sent as object",
        ),
        (
            json!({"username": "u", "meta": "x".repeat(65_536)}),
            "Field meta of user should be string of at most 65535 characters but was sent as string of 65536 characters",
        ),
        (
            json!({"username": "u", "password": ""}),
            "Field password of user should be string but was sent as empty string",
        ),
        (
            json!({"username": "u", "password": 1234}),
            "Field password of user should be string but was sent as number",
        ),
        (
            json!({"username": "u", "org-roles": "intern"}),
            "Field org-roles of user should be array but was sent as string",
        ),
        (
            json!({"username": "u", "org-roles": ["Not A Slug"]}),
            "Field org-roles of user should be slugs but was sent as array containing at least 1 invalid slug",
        ),
    ];
    for (object, text) in cases {
        app.post("/v0/users", &root, object.clone())
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    for flag in ["site_spectator", "site_manager", "site_admin", "active"] {
        app.post("/v0/users", &root, json!({"username": "u", flag: "yes"}))
            .await
            .assert_error(400, "Bad object")
            .assert_text(&format!(
                "Field {flag} of user should be boolean but was sent as string"
            ));
        app.post("/v0/users", &root, json!({"username": "u", flag: null}))
            .await
            .assert_error(400, "Bad object")
            .assert_text(&format!(
                "Field {flag} of user should be boolean but was sent as null"
            ));
    }
    // Malformed usernames are a bad object (DECISIONS.md), an empty one missing.
    for bad in [
        "two words",
        "slash/ed",
        "ünï",
        "org-roles",
        "ORG-ROLES",
        &"a".repeat(65),
    ] {
        app.post("/v0/users", &root, json!({"username": bad}))
            .await
            .assert_error(400, "Bad object")
            .assert_text(&format!(
                "Field username of user should be valid username but was sent as invalid username {bad}"
            ));
    }
    app.post("/v0/users", &root, json!({"username": ""}))
        .await
        .assert_error(400, "Bad object")
        .assert_text("The user is missing a username");
    // An unknown org-role is an invalid foreign key.
    app.post(
        "/v0/users",
        &root,
        json!({"username": "u", "org-roles": ["ghost"]}),
    )
    .await
    .assert_error(409, "Invalid foreign key")
    .assert_text("The user does not contain a valid org-role reference.");
    // Nothing above was created.
    assert_eq!(usernames(&app.get("/v0/users", &root).await.body), ["root"]);

    // The limits themselves pass.
    let edge = create_user(
        &app,
        &root,
        json!({
            "username": format!("A.b_c-d~{}", "9".repeat(56)),
            "display_name": "x".repeat(255),
            "email": format!("{}@example.org", "x".repeat(243)),
            "meta": "m".repeat(65_535),
        }),
    )
    .await;
    assert_eq!(edge["username"].as_str().unwrap().len(), 64);

    // The body must carry an object.
    app.post_raw(
        "/v0/users",
        json!({"auth": {"type": "token", "token": root}, "object": [1]}).to_string(),
    )
    .await
    .assert_error(400, "Bad object");
}

#[tokio::test]
async fn usernames_are_unique_in_any_case_and_stay_reserved() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    create_user(&app, &root, json!({"username": "Alice"})).await;
    for taken in ["Alice", "alice", "ALICE", "ROOT"] {
        let r = app
            .post("/v0/users", &root, json!({"username": taken}))
            .await;
        r.assert_error(409, "Username already exists")
            .assert_text(&format!("Username {taken} already exists"));
        assert_eq!(r.body["values"], json!([taken]));
    }
    app.delete("/v0/users/alice", &root).await.assert_ok();
    app.post("/v0/users", &root, json!({"username": "aLiCe"}))
        .await
        .assert_error(409, "Username already exists");
}

#[tokio::test]
async fn who_may_create_users() {
    let app = TestApp::spawn().await;
    let plain = app.user("plain", PLAIN).await;
    let spectator = app.user("spec", SPECTATOR).await;
    let manager = app.user("mgr", MANAGER).await;
    let admin = app.user("adm", ADMIN).await;

    for (name, token) in [("plain", &plain), ("spec", &spectator)] {
        app.post("/v0/users", token, json!({"username": "newbie"}))
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!("{name} is not authorized to create users"));
    }
    // A manager may make spectators, not managers or admins.
    let made = create_user(
        &app,
        &manager,
        json!({"username": "watcher", "site_spectator": true, "site_manager": false, "site_admin": false}),
    )
    .await;
    assert_eq!(made["site_spectator"], true);
    for flag in ["site_manager", "site_admin"] {
        app.post(
            "/v0/users",
            &manager,
            json!({"username": "boss", flag: true}),
        )
        .await
        .assert_error(401, "Authorization failure")
        .assert_text("mgr is not authorized to set permissions of user boss");
    }
    // An admin may make anyone.
    let boss = create_user(
        &app,
        &admin,
        json!({"username": "boss", "site_manager": true, "site_admin": true}),
    )
    .await;
    assert_eq!(
        (boss["site_manager"].clone(), boss["site_admin"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(
        usernames(&app.get("/v0/users", &plain).await.body),
        ["root", "plain", "spec", "mgr", "adm", "watcher", "boss"]
    );
}

#[tokio::test]
async fn users_edit_their_own_profile_but_not_their_flags() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    make_role(&app, &root, "Mentor", "mentor").await;
    let plain = app.user("Plain", PLAIN).await;
    app.user("other", PLAIN).await;

    let r = app
        .post(
            "/v0/users/plain",
            &plain,
            json!({
                "display_name": "New Name",
                "email": "new@example.org",
                "meta": "about me",
                "password": "new password",
                "org-roles": ["mentor"],
                // Sent unchanged: no change, so allowed.
                "site_admin": false,
                "active": true
            }),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["display_name"], "New Name");
    assert_eq!(r.body["email"], "new@example.org");
    assert_eq!(r.body["meta"], "about me");
    assert_eq!(r.body["org-roles"], json!(["mentor"]));
    assert_eq!(r.body["username"], "Plain");
    assert!(r.body.get("password").is_none());
    app.login("plain", "new password").await;
    app.login_resp("plain", "Plain")
        .await
        .assert_error(401, "Authentication failure");

    for flag in ["site_spectator", "site_manager", "site_admin"] {
        app.post("/v0/users/plain", &plain, json!({flag: true}))
            .await
            .assert_error(401, "Authorization failure")
            .assert_text("Plain is not authorized to set permissions of user Plain");
    }
    app.post("/v0/users/plain", &plain, json!({"active": false}))
        .await
        .assert_error(401, "Authorization failure")
        .assert_text("Plain is not authorized to set permissions of user Plain");
    // Not someone else's anything.
    for object in [json!({"display_name": "x"}), json!({})] {
        app.post("/v0/users/other", &plain, object)
            .await
            .assert_error(401, "Authorization failure")
            .assert_text("Plain is not authorized to modify user other");
    }
    // The username never changes.
    // (It is no field of an update at all: DECISIONS.md.)
    app.post("/v0/users/plain", &plain, json!({"username": "renamed"}))
        .await
        .assert_error(400, "Bad object")
        .assert_text("user does not have a username field");
    let me = app.get("/v0/users/plain", &root).await.body;
    assert_eq!(
        (
            me["site_spectator"].clone(),
            me["active"].clone(),
            me["display_name"].clone()
        ),
        (json!(false), json!(true), json!("New Name"))
    );
    let other = app.get("/v0/users/other", &root).await.body;
    assert_eq!(other["display_name"], "other display");
}

#[tokio::test]
async fn managers_set_only_the_spectator_flag_of_others() {
    let app = TestApp::spawn().await;
    let manager = app.user("mgr", MANAGER).await;
    app.user("worker", PLAIN).await;

    let r = app
        .post(
            "/v0/users/WORKER",
            &manager,
            json!({"site_spectator": true}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["site_spectator"], true);
    let r = app
        .post(
            "/v0/users/worker",
            &manager,
            json!({"site_spectator": false}),
        )
        .await;
    assert_eq!(r.body["site_spectator"], false);

    for (field, value) in [
        ("site_manager", json!(true)),
        ("site_admin", json!(true)),
        ("active", json!(false)),
        ("display_name", json!("Renamed")),
        ("email", json!("x@example.org")),
        ("meta", json!("m")),
        ("password", json!("pw")),
        ("org-roles", json!([])),
    ] {
        if field == "org-roles" {
            // Unchanged (already empty): allowed; a real change is refused below.
            app.post("/v0/users/worker", &manager, json!({field: value}))
                .await
                .assert_ok();
            continue;
        }
        app.post("/v0/users/worker", &manager, json!({field: value}))
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(
                "mgr is not authorized to modify fields of user worker other than site_spectator",
            );
    }
    let root = app.root_token().await;
    make_role(&app, &root, "Mentor", "mentor").await;
    app.post(
        "/v0/users/worker",
        &manager,
        json!({"org-roles": ["mentor"]}),
    )
    .await
    .assert_error(401, "Authorization failure")
    .assert_text("mgr is not authorized to modify fields of user worker other than site_spectator");
    // Nor their own flags.
    app.post("/v0/users/mgr", &manager, json!({"site_spectator": true}))
        .await
        .assert_error(401, "Authorization failure")
        .assert_text("mgr is not authorized to set permissions of user mgr");
    app.post("/v0/users/mgr", &manager, json!({"site_manager": false}))
        .await
        .assert_error(401, "Authorization failure");
    // But their own profile.
    app.post(
        "/v0/users/mgr",
        &manager,
        json!({"display_name": "Manager"}),
    )
    .await
    .assert_ok();
    // A spectator has no more rights over others than a plain user.
    let spectator = app.user("spec", SPECTATOR).await;
    app.post(
        "/v0/users/worker",
        &spectator,
        json!({"site_spectator": true}),
    )
    .await
    .assert_error(401, "Authorization failure")
    .assert_text("spec is not authorized to modify user worker");

    let worker = app.get("/v0/users/worker", &manager).await.body;
    assert_eq!(worker["display_name"], "worker display");
    assert_eq!(worker["active"], true);
    assert_eq!(worker["site_manager"], false);
}

#[tokio::test]
async fn admins_update_everything() {
    let app = TestApp::spawn().await;
    let admin = app.user("adm", ADMIN).await;
    make_role(&app, &admin, "Summer Intern", "intern").await;
    make_role(&app, &admin, "Developer", "developer").await;
    create_user(
        &app,
        &admin,
        json!({"username": "user1", "org-roles": ["intern"], "email": "user1@example.org"}),
    )
    .await;

    let r = app
        .post(
            "/v0/users/USER1",
            &admin,
            json!({
                "display_name": "New Displayname",
                "password": "Battery Staple",
                "email": "user1+new@example.org",
                "org-roles": ["developer"],
                "meta": "Different metadata about user1",
                "site_spectator": true,
                "site_manager": true,
                "site_admin": true,
                "active": true
            }),
        )
        .await;
    r.assert_ok();
    assert_eq!(
        r.body,
        json!({
            "display_name": "New Displayname",
            "username": "user1",
            "email": "user1+new@example.org",
            "org-roles": ["developer"],
            "site_spectator": true,
            "site_manager": true,
            "site_admin": true,
            "active": true,
            "created_at": today(),
            "updated_at": today(),
            "deleted_at": null,
            "meta": "Different metadata about user1"
        })
    );
    app.login("user1", "Battery Staple").await;

    // Omitted fields stay; `org-roles` replaces; null empties; "" sets "".
    let r = app
        .post(
            "/v0/users/user1",
            &admin,
            json!({"org-roles": ["intern", "developer"]}),
        )
        .await;
    assert_eq!(r.body["org-roles"], json!(["developer", "intern"]));
    assert_eq!(r.body["email"], "user1+new@example.org");
    let r = app
        .post(
            "/v0/users/user1",
            &admin,
            json!({"org-roles": null, "email": "", "meta": null}),
        )
        .await;
    assert_eq!(r.body["org-roles"], json!([]));
    assert_eq!(r.body["email"], "");
    assert_eq!(r.body["meta"], Value::Null);
    assert_eq!(r.body["display_name"], "New Displayname");
    // An unknown role changes nothing.
    app.post(
        "/v0/users/user1",
        &admin,
        json!({"org-roles": ["ghost"], "meta": "m"}),
    )
    .await
    .assert_error(409, "Invalid foreign key")
    .assert_text("The user does not contain a valid org-role reference.");
    assert_eq!(
        app.get("/v0/users/user1", &admin).await.body["meta"],
        Value::Null
    );

    // Admins demote others and themselves.
    let r = app
        .post(
            "/v0/users/user1",
            &admin,
            json!({"site_admin": false, "site_manager": false}),
        )
        .await;
    assert_eq!(
        (r.body["site_admin"].clone(), r.body["site_manager"].clone()),
        (json!(false), json!(false))
    );
    let r = app
        .post("/v0/users/adm", &admin, json!({"site_admin": false}))
        .await;
    assert_eq!(r.body["site_admin"], false);
    // From now on `adm` is a plain user (tokens re-read the user).
    app.post("/v0/users/user1", &admin, json!({"site_spectator": false}))
        .await
        .assert_error(401, "Authorization failure")
        .assert_text("adm is not authorized to modify user user1");

    // Validation on update.
    let root = app.root_token().await;
    for (object, text) in [
        (
            json!({"email": "nope"}),
            "Field email of user should be valid email but was sent as string",
        ),
        (
            json!({"password": null}),
            "Field password of user should be string but was sent as null",
        ),
        (
            json!({"active": null}),
            "Field active of user should be boolean but was sent as null",
        ),
        (
            json!({"revision": 2}),
            "user does not have a revision field",
        ),
        (
            json!({"username": 7}),
            "user does not have a username field",
        ),
    ] {
        app.post("/v0/users/user1", &root, object)
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    for missing in [
        app.post("/v0/users/ghost", &root, json!({"meta": "x"}))
            .await,
        app.get("/v0/users/ghost", &root).await,
        app.delete("/v0/users/ghost", &root).await,
    ] {
        missing
            .assert_error(404, "Object not found")
            .assert_text("Nonexistent user");
    }
    app.get("/v0/users/bad%20name", &root)
        .await
        .assert_error(400, "Invalid identifier")
        .assert_text("Expected username but received bad name");
}

#[tokio::test]
async fn deleting_a_user_ends_their_tokens_and_an_update_restores_them() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let manager = app.user("mgr", MANAGER).await;
    let victim = app.user("Victim", PLAIN).await;
    app.get("/v0/users", &victim).await.assert_ok();

    for (name, token) in [("mgr", &manager), ("Victim", &victim)] {
        app.delete("/v0/users/victim", token)
            .await
            .assert_error(401, "Authorization failure")
            .assert_text(&format!("{name} is not authorized to delete users"));
    }
    let r = app.delete("/v0/users/VICTIM", &root).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "");

    // The token fails at once, on every method; login fails too.
    app.get("/v0/users", &victim)
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");
    app.post("/v0/users/victim", &victim, json!({"meta": "x"}))
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");
    app.login_resp("victim", "Victim")
        .await
        .assert_error(401, "Authentication failure");

    // Hidden unless asked for.
    app.get("/v0/users/victim", &root)
        .await
        .assert_error(404, "Object not found");
    app.delete("/v0/users/victim", &root)
        .await
        .assert_error(404, "Object not found");
    assert_eq!(
        usernames(&app.get("/v0/users", &root).await.body),
        ["root", "mgr"]
    );
    let all = app.get("/v0/users?include_deleted=true", &root).await;
    assert_eq!(usernames(&all.body), ["root", "mgr", "Victim"]);
    assert_eq!(all.header("x-total-count"), Some("3"));
    assert_eq!(
        usernames(&app.get("/v0/users?include_deleted=false", &root).await.body),
        ["root", "mgr"]
    );
    let shown = app.get("/v0/users/victim?include_deleted", &manager).await;
    assert_eq!(shown.body["deleted_at"], today());
    assert_eq!(shown.body["username"], "Victim");

    // Only an admin's update restores a deleted user.
    app.post(
        "/v0/users/victim",
        &manager,
        json!({"site_spectator": true}),
    )
    .await
    .assert_error(401, "Authorization failure")
    .assert_text("mgr is not authorized to modify user Victim");
    let r = app.post("/v0/users/victim", &root, json!({})).await;
    r.assert_ok();
    assert_eq!(r.body["deleted_at"], Value::Null);
    app.get("/v0/users/victim", &manager).await.assert_ok();
    let token = app.login("victim", "Victim").await;
    app.get("/v0/users", &token).await.assert_ok();
}

#[tokio::test]
async fn deactivating_a_user_ends_their_tokens() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let worker = app.user("worker", PLAIN).await;
    let r = app
        .post("/v0/users/worker", &root, json!({"active": false}))
        .await;
    assert_eq!(r.body["active"], false);
    app.get("/v0/users/worker", &worker)
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");
    app.login_resp("worker", "worker")
        .await
        .assert_error(401, "Authentication failure");
    // Inactive users are still listed.
    assert_eq!(
        usernames(&app.get("/v0/users", &root).await.body),
        ["root", "worker"]
    );
    app.post("/v0/users/worker", &root, json!({"active": true}))
        .await
        .assert_ok();
    let token = app.login("WORKER", "worker").await;
    app.get("/v0/users/worker", &token).await.assert_ok();
}

#[tokio::test]
async fn lists_filter_by_role_and_paginate() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    make_role(&app, &root, "Summer Intern", "intern").await;
    make_role(&app, &root, "Mentor", "mentor").await;
    make_role(&app, &root, "Executive", "executive").await;
    for (name, roles) in [
        ("ann", json!(["intern"])),
        ("ben", json!(["mentor"])),
        ("cat", json!(["intern", "mentor"])),
        ("dan", json!([])),
        ("eve", json!(["intern"])),
    ] {
        create_user(&app, &root, json!({"username": name, "org-roles": roles})).await;
    }
    app.delete("/v0/users/eve", &root).await.assert_ok();

    let interns = app.get("/v0/users?role=intern", &root).await;
    assert_eq!(usernames(&interns.body), ["ann", "cat"]);
    assert_eq!(interns.header("x-total-count"), Some("2"));
    let either = app.get("/v0/users?role=intern&role=mentor", &root).await;
    assert_eq!(usernames(&either.body), ["ann", "ben", "cat"]);
    assert_eq!(either.body[2]["org-roles"], json!(["intern", "mentor"]));
    assert_eq!(
        usernames(&app.get("/v0/users?role=executive", &root).await.body),
        Vec::<String>::new()
    );
    assert_eq!(
        usernames(
            &app.get("/v0/users?role=intern&include_deleted", &root)
                .await
                .body
        ),
        ["ann", "cat", "eve"]
    );
    for bad in ["Intern", "not a slug", "ghost"] {
        app.get(&format!("/v0/users?role={}", bad.replace(' ', "+")), &root)
            .await
            .assert_error(400, "Bad query value")
            .assert_text(&format!("Parameter role contained invalid value {bad}"));
    }

    // Pagination happens after filtering; the total is before paging.
    let page = app.get("/v0/users?skip=1&limit=2", &root).await;
    assert_eq!(usernames(&page.body), ["ann", "ben"]);
    assert_eq!(page.header("x-total-count"), Some("5"));
    assert_eq!(
        page.header("link"),
        Some("</v0/users?skip=3&limit=2>; rel=\"next\", </v0/users?skip=0&limit=2>; rel=\"prev\"")
    );
    let page = app
        .get("/v0/users?role=mentor&role=intern&skip=1&limit=5", &root)
        .await;
    assert_eq!(usernames(&page.body), ["ben", "cat"]);
    assert_eq!(page.header("x-total-count"), Some("3"));
    let rest = app.get("/v0/users?skip=3", &root).await;
    assert_eq!(usernames(&rest.body), ["cat", "dan"]);
    let all = app.get("/v0/users?limit=0", &root).await;
    assert_eq!(usernames(&all.body), ["root", "ann", "ben", "cat", "dan"]);
    app.get("/v0/users?limit=-1", &root)
        .await
        .assert_error(400, "Bad query value");

    // An update moves a user to the end (ordered by updated_at, then id).
    app.post("/v0/users/ann", &root, json!({"meta": "touched"}))
        .await
        .assert_ok();
    let order = usernames(&app.get("/v0/users", &root).await.body);
    assert_eq!(order.last().map(String::as_str), Some("ann"));
}

#[tokio::test]
async fn reading_users_needs_a_token_and_org_roles_is_not_a_username() {
    let app = TestApp::spawn().await;
    app.get_anon("/v0/users")
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Missing credentials");
    app.get_anon("/v0/users/root")
        .await
        .assert_error(401, "Authentication failure");
    app.get("/v0/users", "not-a-token")
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");
    let plain = app.user("plain", PLAIN).await;
    // `/users/org-roles` is the roles list, never a user lookup.
    let roles = app.get("/v0/users/org-roles", &plain).await;
    roles.assert_ok();
    assert_eq!(roles.body, json!([]));
    // Bearer tokens work too.
    let r = app
        .client
        .get(app.url("/v0/users/PLAIN"))
        .bearer_auth(&plain)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["username"], "plain");
}

#[tokio::test]
async fn concurrent_writes_lose_nothing() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;

    // One of many case variants of a username wins; the others are 409s.
    let variants = ["racer", "Racer", "RACER", "rAcEr", "raCER", "RACEr"];
    let answers = futures::future::join_all(
        variants
            .iter()
            .map(|name| app.post("/v0/users", &root, json!({"username": name}))),
    )
    .await;
    let won = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(won, 1, "{answers:?}");
    for r in answers.iter().filter(|r| r.status != 200) {
        r.assert_error(409, "Username already exists");
    }

    // Updates of different fields of one user, at once: every one sticks.
    let fields = [
        ("display_name", json!("Racer X")),
        ("email", json!("racer@example.org")),
        ("meta", json!("fast")),
        ("site_spectator", json!(true)),
    ];
    let answers = futures::future::join_all(
        fields
            .iter()
            .map(|(f, v)| app.post("/v0/users/racer", &root, json!({*f: v.clone()}))),
    )
    .await;
    for r in &answers {
        r.assert_ok();
    }
    let user = app.get("/v0/users/racer", &root).await.body;
    for (field, value) in &fields {
        assert_eq!(&user[*field], value, "{field}");
    }
}

#[tokio::test]
async fn undecodable_path_segments_are_json_errors() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    app.get("/v0/users/%FF", &root)
        .await
        .assert_error(400, "Invalid identifier")
        .assert_text("Expected username but received %FF");
    app.delete("/v0/users/org-roles/%FF", &root)
        .await
        .assert_error(400, "Invalid identifier")
        .assert_text("Expected slug but received %FF");
}
