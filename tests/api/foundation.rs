//! Tests of the foundation: login, tokens, the error objects of the
//! router itself, middleware, throttling and graceful shutdown.

use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use timesync::domain::tokens::{Claims, TOKEN_LIFETIME_MS};
use timesync::storage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

fn sign(claims: &serde_json::Value, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn root_logs_in_and_token_authenticates_get_header_and_post() {
    let app = TestApp::spawn().await;
    let token = app.root_token().await;
    // ?token= on GET reaches the router (404 for an unknown object route).
    app.get("/v0/nothing-here", &token)
        .await
        .assert_error(404, "Object not found");
    // The token's header and payload are readable by plain-base64 clients.
    let payload = token.split('.').nth(1).unwrap();
    let claims: Claims = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims.sub, "root");
    assert_eq!(claims.iss, "timesync");
    assert_eq!(claims.exp - claims.iat, TOKEN_LIFETIME_MS);
    let now = storage::now_millis();
    assert!((claims.iat - now).abs() < 60_000, "iat is in milliseconds");
}

#[tokio::test]
async fn token_failure_modes_are_bad_api_token() {
    let app = TestApp::spawn().await;
    app.user("alice", PLAIN).await;
    let now = storage::now_millis();
    let valid =
        json!({"iss": "timesync", "sub": "alice", "iat": now, "exp": now + TOKEN_LIFETIME_MS});
    // A standard (unpadded) JWT signed with the right key is accepted.
    let good = sign(&valid, SECRET);
    app.get("/v0/activities", &good).await.assert_ok();

    let cases = [
        ("garbage", "not-a-token".to_owned()),
        (
            "wrong key",
            sign(&valid, "another-secret-key-that-is-long-enough-xx"),
        ),
        (
            "expired",
            sign(
                &json!({"iss": "timesync", "sub": "alice", "iat": now - 2 * TOKEN_LIFETIME_MS, "exp": now - TOKEN_LIFETIME_MS}),
                SECRET,
            ),
        ),
        (
            "foreign instance",
            sign(
                &json!({"iss": "elsewhere", "sub": "alice", "iat": now, "exp": now + TOKEN_LIFETIME_MS}),
                SECRET,
            ),
        ),
        (
            "no exp",
            sign(
                &json!({"iss": "timesync", "sub": "alice", "iat": now}),
                SECRET,
            ),
        ),
        (
            "unknown user",
            sign(
                &json!({"iss": "timesync", "sub": "nobody", "iat": now, "exp": now + TOKEN_LIFETIME_MS}),
                SECRET,
            ),
        ),
        ("tampered", {
            let mut t = good.clone();
            t.pop();
            t.push(if good.ends_with('A') { 'B' } else { 'A' });
            t
        }),
    ];
    for (what, token) in cases {
        let r = app.get("/v0/activities", &token).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text);
        r.assert_error(401, "Authentication failure")
            .assert_text("Bad API token");
    }
    app.get_anon("/v0/activities")
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Missing credentials");
}

#[tokio::test]
async fn bearer_header_and_post_auth_block_authenticate() {
    let app = TestApp::spawn().await;
    let token = app.root_token().await;
    let r = app
        .client
        .get(app.url("/v0/activities"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // POST: the auth block, and its failure modes.
    let created = app
        .post(
            "/v0/activities",
            &token,
            json!({"name": "Docs", "slug": "docs"}),
        )
        .await;
    created.assert_ok();
    let no_auth = app
        .post_raw(
            "/v0/activities",
            json!({"object": {"name": "x", "slug": "x"}}).to_string(),
        )
        .await;
    no_auth
        .assert_error(401, "Authentication failure")
        .assert_text("Missing credentials");
    let no_type = app
        .post_raw(
            "/v0/activities",
            json!({"auth": {"token": token}, "object": {}}).to_string(),
        )
        .await;
    no_type
        .assert_error(401, "Authentication failure")
        .assert_text("Authentication type required");
    let bad_type = app
        .post_raw(
            "/v0/activities",
            json!({"auth": {"type": "magic", "token": token}, "object": {}}).to_string(),
        )
        .await;
    bad_type
        .assert_error(401, "Authentication failure")
        .assert_text("magic is not a valid authentication type");
    let bad_token = app
        .post("/v0/activities", "nope", json!({"name": "x", "slug": "x"}))
        .await;
    bad_token
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");
}

#[tokio::test]
async fn deleted_and_inactive_users_cannot_log_in_and_lose_their_tokens() {
    let app = TestApp::spawn().await;
    let token = app.user("bob", PLAIN).await;
    app.get("/v0/activities", &token).await.assert_ok();
    let bob = storage::users::find_by_username(app.db.conn(), "BOB")
        .await
        .unwrap()
        .unwrap();

    use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
    let mut inactive = bob.clone().into_active_model();
    inactive.active = Set(false);
    inactive.update(app.db.conn()).await.unwrap();
    app.get("/v0/activities", &token)
        .await
        .assert_text("Bad API token");
    app.login_resp("bob", "bob")
        .await
        .assert_error(401, "Authentication failure");

    let mut deleted = bob.into_active_model();
    deleted.active = Set(true);
    deleted.deleted_at = Set(Some(storage::now_millis()));
    deleted.update(app.db.conn()).await.unwrap();
    app.get("/v0/activities", &token)
        .await
        .assert_text("Bad API token");
    app.login_resp("bob", "bob")
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Incorrect username or password");
}

#[tokio::test]
async fn login_errors() {
    let app = TestApp::spawn().await;
    app.user("Carol", PLAIN).await;
    // Usernames are case-insensitive; the token names the user as stored.
    let token = app.login("cAROL", "Carol").await;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Claims = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims.sub, "Carol");

    let cases = [
        (json!({}), "Missing credentials"),
        (
            json!({"auth": {"username": "Carol", "password": "Carol"}}),
            "Authentication type required",
        ),
        (
            json!({"auth": {"type": "kerberos", "username": "Carol", "password": "x"}}),
            "kerberos is not a valid authentication type",
        ),
        (
            json!({"auth": {"type": "ldap", "username": "Carol", "password": "Carol"}}),
            "ldap is not a valid authentication type",
        ),
        (
            json!({"auth": {"type": "password", "username": "Carol"}}),
            "Missing credentials",
        ),
        (
            json!({"auth": {"type": "password", "username": "Carol", "password": "wrong"}}),
            "Incorrect username or password",
        ),
        (
            json!({"auth": {"type": "password", "username": "nobody", "password": "x"}}),
            "Incorrect username or password",
        ),
        (
            json!({"auth": {"type": "password", "username": "bad name!", "password": "x"}}),
            "Incorrect username or password",
        ),
    ];
    for (body, text) in cases {
        app.post_raw("/v0/login", body.to_string())
            .await
            .assert_error(401, "Authentication failure")
            .assert_text(text);
    }
}

#[tokio::test]
async fn password_module_can_be_switched_off() {
    let app = TestApp::spawn_with(|c| c.auth_modules.password = false).await;
    app.login_resp("root", &app.root_password.clone())
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("password is not a valid authentication type");
}

#[tokio::test]
async fn malformed_and_oversized_bodies() {
    let app = TestApp::spawn_with(|c| c.max_body_bytes = 4096).await;
    for body in ["{not json", "", "[1,2", "{\"auth\": }"] {
        app.post_raw("/v0/login", body.to_owned())
            .await
            .assert_error(400, "Bad object")
            .assert_text("The request body could not be parsed as valid JSON");
    }
    let dup = r#"{"auth": {"type": "password", "type": "password", "username": "root", "password": "x"}}"#;
    app.post_raw("/v0/login", dup)
        .await
        .assert_error(400, "Bad object");
    let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
    app.post_raw("/v0/login", deep)
        .await
        .assert_error(400, "Bad object");
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(5000));
    let r = app.post_raw("/v0/login", big).await;
    r.assert_error(413, "Bad object");
    // The object of an authenticated POST must be an object.
    let token = app.root_token().await;
    let arr = json!({"auth": {"type": "token", "token": token}, "object": [1]});
    app.post_raw("/v0/activities", arr.to_string())
        .await
        .assert_error(400, "Bad object");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_json_errors() {
    let app = TestApp::spawn().await;
    // (`/` is the web app's sign-in page: tests/web.rs.)
    for path in ["/v0", "/v1/times", "/v0/timez", "/index.html"] {
        let r = app.get_anon(path).await;
        r.assert_error(404, "Object not found");
        assert!(r
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
    }
    let r = app.client.put(app.url("/v0/login")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let allow = r
        .headers()
        .get("allow")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allow.contains("POST"), "{allow}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "Method not allowed");
    assert_eq!(body["status"], 405);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://client.example")
        .send()
        .await
        .unwrap();
    let h = r.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["content-type"], "application/json; charset=utf-8");
    assert_eq!(h["x-request-id"].len(), 36);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    // A proxy's request id is kept.
    let r = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn failed_logins_are_throttled_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.login_failures_per_minute = 3).await;
    for _ in 0..3 {
        app.login_resp("root", "wrong")
            .await
            .assert_error(401, "Authentication failure");
    }
    let r = app.login_resp("root", &app.root_password.clone()).await;
    r.assert_error(429, "Too many requests");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
}

#[tokio::test]
async fn graceful_shutdown_finishes_requests_in_flight() {
    let app = TestApp::spawn().await;
    let body =
        json!({"auth": {"type": "password", "username": "root", "password": app.root_password}})
            .to_string();
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /v0/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();
    stream.flush().await.unwrap();
    // Let the server accept the connection and read the headers, so the
    // request is in flight (not merely queued) when shutdown starts.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let addr = app.addr;
    let stopping = tokio::spawn(app.stop());
    // New connections are refused once the server stops accepting.
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "the listener should close on shutdown");
    stream.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"token\""));
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn oversized_query_strings_are_refused() {
    let app = TestApp::spawn().await;
    let r = app
        .get_anon(&format!("/healthz?pad={}", "x".repeat(9000)))
        .await;
    r.assert_error(400, "Bad query value");
    app.get_anon(&format!("/healthz?pad={}", "x".repeat(1000)))
        .await
        .assert_ok();
}
