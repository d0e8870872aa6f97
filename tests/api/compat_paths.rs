//! Compatibility with the reference implementation (DECISIONS.md): one
//! trailing slash on every route and method, and where a token may go.

use serde_json::{json, Value};

use crate::helpers::*;

/// A site with one of everything, for the routes' identifiers.
async fn site(app: &TestApp) -> (String, String) {
    let root = app.root_token().await;
    app.user("alice", PLAIN).await;
    app.post(
        "/v0/activities/",
        &root,
        json!({"name": "Development", "slug": "dev"}),
    )
    .await
    .assert_ok();
    app.post(
        "/v0/projects/",
        &root,
        json!({"name": "Web", "slugs": ["web"], "default_activity": "dev",
               "users": {"root": {"member": true}, "alice": {"member": true}}}),
    )
    .await
    .assert_ok();
    app.post(
        "/v0/users/org-roles/",
        &root,
        json!({"name": "Intern", "slug": "intern"}),
    )
    .await
    .assert_ok();
    let time = app
        .post(
            "/v0/times/",
            &root,
            json!({"duration": 60, "user": "root", "project": "web", "date_worked": "2026-01-02"}),
        )
        .await;
    time.assert_ok();
    let uuid = time.body["uuid"].as_str().unwrap().to_owned();
    (root, uuid)
}

#[tokio::test]
async fn every_get_answers_the_same_with_one_trailing_slash() {
    let app = TestApp::spawn().await;
    let (root, uuid) = site(&app).await;
    let doc = app.get_anon("/v0/openapi.json").await.body;
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, item) in paths {
        // The documented paths stay slash-free.
        assert!(!path.ends_with('/'), "{path}");
        if item.get("get").is_none() {
            continue;
        }
        let full = if path.starts_with("/v0/") || path == "/healthz" || path == "/docs" {
            path.clone()
        } else {
            format!("/v0{path}")
        };
        let concrete = full
            .replace(
                "{slug}",
                if full.contains("org-roles") {
                    "intern"
                } else {
                    "web"
                },
            )
            .replace("{uuid}", &uuid)
            .replace("{username}", "alice");
        let concrete = if concrete.starts_with("/v0/activities/") {
            "/v0/activities/dev".to_owned()
        } else {
            concrete
        };
        let plain = app.get(&concrete, &root).await;
        let slashed = app.get(&format!("{concrete}/"), &root).await;
        assert_eq!(plain.status, 200, "{concrete}: {}", plain.text);
        assert_eq!(
            slashed.status, plain.status,
            "{concrete}/: {}",
            slashed.text
        );
        if concrete != "/healthz" {
            assert_eq!(slashed.text, plain.text, "{concrete}/");
        }
        let with_query = app
            .get(&format!("{concrete}/?include_revisions=true"), &root)
            .await;
        assert_eq!(with_query.status, 200, "{concrete}/?…: {}", with_query.text);
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} GET routes");
}

#[tokio::test]
async fn posts_and_deletes_accept_one_trailing_slash() {
    let app = TestApp::spawn().await;
    let (root, uuid) = site(&app).await;
    let alice = app.login("alice", "alice").await;

    // Login.
    let r = app
        .post_raw(
            "/v0/login/",
            json!({"auth": {"type": "password", "username": "alice", "password": "alice"}})
                .to_string(),
        )
        .await;
    r.assert_ok();
    assert!(r.body["token"].is_string());

    // Updates of each kind of object.
    app.post("/v0/activities/dev/", &root, json!({"name": "Dev"}))
        .await
        .assert_ok();
    app.post(
        "/v0/projects/web/",
        &root,
        json!({"uri": "https://example.org"}),
    )
    .await
    .assert_ok();
    let r = app
        .post(
            &format!("/v0/times/{uuid}/"),
            &root,
            json!({"duration": 90}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.body["revision"], 2);
    app.post("/v0/users/alice/", &alice, json!({"display_name": "Al"}))
        .await
        .assert_ok();
    app.post(
        "/v0/users/org-roles/intern/",
        &root,
        json!({"name": "Interns"}),
    )
    .await
    .assert_ok();
    app.post(
        "/v0/users/",
        &root,
        json!({"username": "bob", "password": "secret"}),
    )
    .await
    .assert_ok();

    // Errors are the same errors.
    app.post("/v0/activities/nope/", &root, json!({"name": "x"}))
        .await
        .assert_error(404, "Object not found")
        .assert_text("Nonexistent activity");
    app.delete("/v0/projects/web/", &root)
        .await
        .assert_error(405, "Method not allowed");

    // Deletes.
    let r = app.delete(&format!("/v0/times/{uuid}/"), &root).await;
    assert_eq!((r.status, r.text.as_str()), (200, ""));
    app.get(&format!("/v0/times/{uuid}"), &root)
        .await
        .assert_error(404, "Object not found");
    app.delete("/v0/projects/web/", &root).await.assert_ok();
    app.delete("/v0/activities/dev/", &root).await.assert_ok();
    app.delete("/v0/users/bob/", &root).await.assert_ok();
    app.delete("/v0/users/org-roles/intern/", &root)
        .await
        .assert_ok();
    app.get("/v0/activities/dev", &root)
        .await
        .assert_error(404, "Object not found");
}

#[tokio::test]
async fn only_one_trailing_slash_and_the_wrong_method_stays_wrong() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    for path in ["/v0/activities//", "/v0//activities", "//"] {
        app.get(path, &root)
            .await
            .assert_error(404, "Object not found");
    }
    let r = app.get_anon("/v0/").await;
    r.assert_error(404, "Object not found");
    // A known path with a wrong method: 405 with Allow, slash or not.
    for path in ["/v0/activities", "/v0/activities/"] {
        let r = app.client.put(app.url(path)).send().await.expect("PUT");
        assert_eq!(r.status().as_u16(), 405, "{path}");
        assert!(r.headers().get("allow").is_some(), "{path}");
    }
    // Pagination links name the path without the slash.
    for slug in ["a", "b", "c"] {
        app.post("/v0/activities", &root, json!({"name": slug, "slug": slug}))
            .await
            .assert_ok();
    }
    let r = app.get("/v0/activities/?limit=1", &root).await;
    let link = r.header("link").expect("link");
    assert!(link.starts_with("</v0/activities?"), "{link}");
}

#[tokio::test]
async fn a_token_in_the_query_of_a_post_is_no_credential() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let object = json!({"object": {"name": "Docs", "slug": "docs"}}).to_string();
    let r = app
        .post_raw(&format!("/v0/activities?token={root}"), object.clone())
        .await;
    r.assert_error(401, "Authentication failure")
        .assert_text("Missing credentials");
    app.get("/v0/activities/docs", &root)
        .await
        .assert_error(404, "Object not found");
    // The same request with a Bearer header, or the auth block, works.
    let r = app
        .client
        .post(app.url("/v0/activities"))
        .header("authorization", format!("Bearer {root}"))
        .header("content-type", "application/json")
        .body(object)
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["slug"], "docs");
    // GET and DELETE still take it.
    app.delete("/v0/activities/docs", &root).await.assert_ok();
}
