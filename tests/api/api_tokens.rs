//! Personal API tokens (issue 16): creation with a login token, use in
//! every place a login token goes, read scope, expiry, revocation (also
//! while requests are in flight), users who may no longer log in.

use std::time::Instant;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use timesync::storage::entities::api_token;

use crate::helpers::*;

async fn create(app: &TestApp, login: &str, object: Value) -> Value {
    let r = app.post("/v0/tokens", login, object).await;
    r.assert_ok();
    r.body
}

async fn tokens_count(app: &TestApp) -> u64 {
    api_token::Entity::find()
        .count(app.db.conn())
        .await
        .unwrap()
}

async fn bearer_get(app: &TestApp, path: &str, token: &str) -> u16 {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn create_use_list_and_revoke() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", PLAIN).await;
    let created = create(&app, &alice, json!({"name": "ci"})).await;
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tsk_") && secret.len() == 47, "{secret}");
    assert_eq!(created["name"], "ci");
    assert_eq!(created["scope"], "write");
    assert_eq!(created["expires_at"], Value::Null);
    assert_eq!(created["last_used_at"], Value::Null);
    chrono::DateTime::parse_from_rfc3339(created["created_at"].as_str().unwrap()).unwrap();

    // Only a hash is stored.
    let row = api_token::Entity::find()
        .one(app.db.conn())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.token_hash.len(), 64);
    assert!(!row.token_hash.contains(&secret[4..]));

    // Works as ?token=, bearer header and the POST auth block.
    app.get("/v0/timer", &secret).await.assert_ok();
    assert_eq!(bearer_get(&app, "/v0/users/alice", &secret).await, 200);
    app.post("/v0/activities", &secret, json!({"name": "x", "slug": "x"}))
        .await
        .assert_error(401, "Authorization failure")
        .assert_text("alice is not authorized to create activities");

    let list = app.get("/v0/tokens", &alice).await;
    list.assert_ok();
    let listed = list.body.as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], created["id"]);
    assert!(listed[0].get("token").is_none(), "{}", list.text);
    let used = listed[0]["last_used_at"].as_str().expect("used").to_owned();
    // Used again within the minute: not written again.
    app.get("/v0/timer", &secret).await.assert_ok();
    assert_eq!(
        app.get("/v0/tokens", &secret).await.body[0]["last_used_at"],
        used
    );

    let id = created["id"].as_i64().unwrap();
    app.delete(&format!("/v0/tokens/{id}"), &alice)
        .await
        .assert_ok();
    app.get("/v0/timer", &secret)
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");
    app.delete(&format!("/v0/tokens/{id}"), &alice)
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent token");
    app.delete("/v0/tokens/x1", &alice)
        .await
        .assert_error(400, "Invalid identifier");
    app.get("/v0/timer", "tsk_notatoken")
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");
}

#[tokio::test]
async fn read_tokens_only_read() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let read = create(&app, &root, json!({"name": "feed", "scope": "read"})).await;
    assert_eq!(read["scope"], "read");
    let read = read["token"].as_str().unwrap();
    app.get("/v0/activities", read).await.assert_ok();
    app.post(
        "/v0/activities",
        read,
        json!({"name": "Dev", "slug": "dev"}),
    )
    .await
    .assert_error(401, "Authorization failure")
    .assert_text("root is not authorized to make changes with a read-only API token");
    app.post(
        "/v0/activities",
        &root,
        json!({"name": "Dev", "slug": "dev"}),
    )
    .await
    .assert_ok();
    app.delete("/v0/activities/dev", read)
        .await
        .assert_error(401, "Authorization failure");
    app.get("/v0/activities/dev", read).await.assert_ok();
    // A write token of a site admin does what the admin may.
    let write = create(&app, &root, json!({"name": "admin", "scope": "write"})).await;
    app.delete("/v0/activities/dev", write["token"].as_str().unwrap())
        .await
        .assert_ok();
}

#[tokio::test]
async fn bad_creations_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice", PLAIN).await;
    let cases = [
        (json!({}), "The token is missing a name"),
        (json!({"name": ""}), "The token is missing a name"),
        (json!({"name": 5}), "Field name of token should be string but was sent as number"),
        (
            json!({"name": "a", "scope": "admin"}),
            "Field scope of token should be \"read\" or \"write\" but was sent as admin",
        ),
        (
            json!({"name": "a", "expires_at": "2020-01-01"}),
            "Field expires_at of token should be ISO-8601 date not in the past but was sent as 2020-01-01",
        ),
        (
            json!({"name": "a", "expires_at": "soon"}),
            "Field expires_at of token should be ISO-8601 date but was sent as soon",
        ),
        (json!({"name": "a", "user": "root"}), "token does not have a user field"),
    ];
    for (object, text) in cases {
        app.post("/v0/tokens", &alice, object)
            .await
            .assert_error(400, "Bad object")
            .assert_text(text);
    }
    assert_eq!(tokens_count(&app).await, 0);
    // An API token cannot make another.
    let api = create(&app, &alice, json!({"name": "one"})).await;
    app.post(
        "/v0/tokens",
        api["token"].as_str().unwrap(),
        json!({"name": "two"}),
    )
    .await
    .assert_error(401, "Authorization failure")
    .assert_text("alice is not authorized to create API tokens with an API token");
    assert_eq!(tokens_count(&app).await, 1);
}

#[tokio::test]
async fn expired_tokens_and_users_who_may_not_log_in_are_refused() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let alice = app.user("alice", PLAIN).await;
    let bob = app.user("bob", PLAIN).await;
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let expiring = create(&app, &alice, json!({"name": "t", "expires_at": today})).await;
    assert_eq!(expiring["expires_at"], today);
    let expiring_secret = expiring["token"].as_str().unwrap();
    app.get("/v0/timer", expiring_secret).await.assert_ok();
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::ExpiresAt,
            (timesync::storage::now_millis() - 1).into(),
        )
        .filter(api_token::Column::Id.eq(expiring["id"].as_i64().unwrap()))
        .exec(app.db.conn())
        .await
        .unwrap();
    app.get("/v0/timer", expiring_secret)
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");

    let alice_token = create(&app, &alice, json!({"name": "a"})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob_token = create(&app, &bob, json!({"name": "b"})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post("/v0/users/alice", &root, json!({"active": false}))
        .await
        .assert_ok();
    app.delete("/v0/users/bob", &root).await.assert_ok();
    for token in [&alice_token, &bob_token] {
        app.get("/v0/timer", token)
            .await
            .assert_error(401, "Authentication failure")
            .assert_text("Bad API token");
    }
}

#[tokio::test]
async fn admins_list_and_revoke_anyones_tokens_others_only_their_own() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let alice = app.user("alice", PLAIN).await;
    let bob = app.user("bob", PLAIN).await;
    let token = create(&app, &alice, json!({"name": "a"})).await;
    let id = token["id"].as_i64().unwrap();
    create(&app, &bob, json!({"name": "b"})).await;

    let r = app.get("/v0/tokens?user=alice", &root).await;
    r.assert_ok();
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    assert_eq!(r.body[0]["name"], "a");
    assert_eq!(app.get("/v0/tokens", &root).await.body, json!([]));
    app.get("/v0/tokens?user=alice", &bob)
        .await
        .assert_error(401, "Authorization failure");
    app.get("/v0/tokens?user=nobody", &root)
        .await
        .assert_error(400, "Bad query value");
    // Bob cannot tell alice's token from a missing one.
    app.delete(&format!("/v0/tokens/{id}"), &bob)
        .await
        .assert_error(404, "Object not found");
    app.get("/v0/timer", token["token"].as_str().unwrap())
        .await
        .assert_ok();
    app.delete(&format!("/v0/tokens/{id}"), &root)
        .await
        .assert_ok();
    assert_eq!(tokens_count(&app).await, 1);
}

#[tokio::test]
async fn a_token_revoked_while_in_use_stops_working_at_once() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let alice = app.user("alice", PLAIN).await;
    let created = create(&app, &alice, json!({"name": "busy"})).await;
    let secret = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_i64().unwrap();

    // Readers and writers hammer the token while it is revoked.
    let mut workers = Vec::new();
    for worker in 0..4 {
        let app = app.clone();
        let secret = secret.clone();
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..40 {
                let sent = Instant::now();
                let r = if worker % 2 == 0 {
                    app.get("/v0/times", &secret).await
                } else {
                    app.post("/v0/tokens", &secret, json!({"name": "x"})).await
                };
                seen.push((sent, r.status, r.body["text"].clone()));
            }
            seen
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    app.delete(&format!("/v0/tokens/{id}"), &alice)
        .await
        .assert_ok();
    let revoked = Instant::now();
    let mut before = 0;
    let mut after = 0;
    for worker in workers {
        for (sent, status, text) in worker.await.unwrap() {
            assert!([200, 401].contains(&status), "status {status}: {text}");
            if sent > revoked {
                after += 1;
                assert_eq!(status, 401);
                assert_eq!(text, "Bad API token");
            } else if status != 401 || text != "Bad API token" {
                before += 1;
            }
        }
    }
    assert!(after > 0, "no request after the revocation");
    assert!(before > 0, "no request before the revocation");
    assert_eq!(tokens_count(&app).await, 0);
}
