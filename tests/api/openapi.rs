//! The OpenAPI description (`/v0/openapi.json`) and the docs page (`/docs`):
//! the document is OpenAPI 3.1, lists every route, every documented
//! operation is really routed and answers only with documented statuses.

use std::collections::BTreeSet;

use base64::Engine;
use serde_json::{json, Value};
use sha2::Digest;

use crate::helpers::*;

/// Every operation the server has (method, path).
const OPERATIONS: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/docs"),
    ("get", "/v0/openapi.json"),
    ("post", "/v0/login"),
    ("get", "/v0/activities"),
    ("post", "/v0/activities"),
    ("get", "/v0/activities/{slug}"),
    ("post", "/v0/activities/{slug}"),
    ("delete", "/v0/activities/{slug}"),
    ("get", "/v0/projects"),
    ("post", "/v0/projects"),
    ("get", "/v0/projects/{slug}"),
    ("post", "/v0/projects/{slug}"),
    ("delete", "/v0/projects/{slug}"),
    ("get", "/v0/times"),
    ("post", "/v0/times"),
    ("get", "/v0/times/{uuid}"),
    ("post", "/v0/times/{uuid}"),
    ("delete", "/v0/times/{uuid}"),
    ("get", "/v0/reports/summary"),
    ("get", "/v0/users"),
    ("post", "/v0/users"),
    ("get", "/v0/users/{username}"),
    ("post", "/v0/users/{username}"),
    ("delete", "/v0/users/{username}"),
    ("get", "/v0/users/org-roles"),
    ("post", "/v0/users/org-roles"),
    ("get", "/v0/users/org-roles/{slug}"),
    ("post", "/v0/users/org-roles/{slug}"),
    ("delete", "/v0/users/org-roles/{slug}"),
    ("get", "/v0/timer"),
    ("post", "/v0/timer"),
    ("delete", "/v0/timer"),
    ("post", "/v0/timer/start"),
    ("post", "/v0/timer/stop"),
    ("get", "/v0/tokens"),
    ("post", "/v0/tokens"),
    ("delete", "/v0/tokens/{id}"),
    ("get", "/v0/times.ics"),
];

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

/// Every `$ref` in `v`.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn document_is_openapi_31_and_lists_every_route() {
    let app = TestApp::spawn().await;
    // No token needed.
    let r = app.get_anon("/v0/openapi.json").await;
    r.assert_ok();
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let doc = r.body;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "TimeSync API");

    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let expected: BTreeSet<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, expected);
    assert_eq!(operations(&doc).len(), OPERATIONS.len());

    // Operation ids are unique; every operation has a success and error answers.
    let ids: BTreeSet<String> = operations(&doc)
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().expect("operationId").to_owned())
        .collect();
    assert_eq!(ids.len(), OPERATIONS.len());
    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().expect("responses");
        assert!(responses.contains_key("200"), "{method} {path}");
        assert!(responses.contains_key("500"), "{method} {path}");
        let meta = ["/healthz", "/docs", "/v0/openapi.json"].contains(&path.as_str());
        assert_eq!(responses.contains_key("401"), !meta, "{method} {path}");
        // Only the meta routes and login need no token.
        let open = meta || path == "/v0/login";
        assert_eq!(op["security"] == json!([{}]), open, "{method} {path}");
        if method == "post" {
            assert!(responses.contains_key("413"), "{method} {path}");
            assert!(op["requestBody"]["content"]["application/json"].is_object());
        }
        if path.contains('{') {
            assert!(responses.contains_key("404"), "{method} {path}");
            assert!(op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "path")));
        }
    }

    // Both ways of sending a token are declared and required by default.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["token"]["in"], "query");
    assert_eq!(schemes["token"]["name"], "token");
    assert_eq!(doc["security"], json!([{"bearer": []}, {"token": []}]));

    // Every reference resolves, and the views are described.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {r}"
        );
    }
    for view in [
        "ActivityView",
        "ProjectView",
        "TimeView",
        "UserView",
        "OrgRoleView",
        "Error",
    ] {
        assert!(doc["components"]["schemas"][view]["properties"].is_object());
    }
    let time = &doc["components"]["schemas"]["TimeView"];
    assert_eq!(
        time["properties"]["updated_at"]["type"],
        json!(["string", "null"])
    );
    assert!(time["required"]
        .as_array()
        .unwrap()
        .contains(&json!("deleted_at")));
    assert_eq!(
        doc["components"]["schemas"]["UserView"]["properties"]["org-roles"]["type"],
        "array"
    );
}

/// A concrete path for a documented one: nonexistent objects.
fn concrete(path: &str) -> String {
    path.replace("{slug}", "no-such-thing")
        .replace("{uuid}", "00000000-0000-4000-8000-000000000000")
        .replace("{username}", "nobody")
        .replace("{id}", "999999")
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_answers_as_documented() {
    let app = TestApp::spawn().await;
    let token = app.root_token().await;
    let doc = app.get_anon("/v0/openapi.json").await.body;
    let error_names: Vec<Value> = doc["components"]["schemas"]["ErrorName"]["enum"]
        .as_array()
        .expect("error names")
        .clone();
    let mut called = 0;
    for (method, path, op) in operations(&doc) {
        let url = concrete(&path);
        let r = match method.as_str() {
            "get" => app.get(&url, &token).await,
            "delete" => app.delete(&url, &token).await,
            "post" => app.post(&url, &token, json!({})).await,
            other => panic!("undocumented method {other}"),
        };
        called += 1;
        let documented = op["responses"]
            .as_object()
            .unwrap()
            .contains_key(&r.status.to_string());
        assert!(
            documented,
            "{method} {path} answered {}: {}",
            r.status, r.text
        );
        // Not the router's own answers for unknown routes or methods.
        assert_ne!(r.body["text"], "Nonexistent resource", "{method} {path}");
        assert_ne!(
            r.body["text"], "The method specified is not allowed for the resource identified",
            "{method} {path}"
        );
        if r.status >= 400 {
            assert!(
                error_names.contains(&r.body["error"]),
                "{method} {path}: undocumented error {}",
                r.text
            );
            assert_eq!(r.body["status"], r.status);
        }
    }
    assert_eq!(called, OPERATIONS.len());
}

#[tokio::test]
async fn undocumented_methods_are_not_routed() {
    let app = TestApp::spawn().await;
    let token = app.root_token().await;
    // PUT/PATCH are on no documented path: the router's 405 with `Allow`.
    for path in ["/v0/activities", "/v0/times/{uuid}", "/v0/users/org-roles"] {
        let r = app
            .client
            .put(app.url(&format!("{}?token={token}", concrete(path))))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 405, "{path}");
        assert!(r.headers().get("allow").is_some());
    }
}

#[tokio::test]
async fn docs_page_is_self_contained_html_with_a_strict_csp() {
    let app = TestApp::spawn().await;
    let r = app.get_anon("/docs").await;
    r.assert_ok();
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let page = &r.text;
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains("fetch(\"/v0/openapi.json\")"));
    // Nothing from other hosts: no absolute URLs, no external scripts,
    // styles, images or fonts.
    for needle in [
        "http:", "https:", "//cdn", "src=", "<link", "@import", "url(",
    ] {
        assert!(!page.contains(needle), "page contains {needle}");
    }
    // The CSP allows exactly the one inline script (by hash), inline
    // styles and fetching from this server.
    let csp = r.header("content-security-policy").expect("csp");
    let script = page
        .split_once("<script>")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map(|(s, _)| s)
        .expect("inline script");
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}';")),
        "{csp}"
    );
    assert!(csp.contains("style-src 'unsafe-inline'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-eval") && !csp.contains("script-src 'unsafe-inline'"));
    assert!(!csp.contains('*'), "{csp}");
    assert_eq!(page.matches("<script").count(), 1);

    // Every other answer keeps the strict default policy.
    let api = app.get_anon("/v0/openapi.json").await;
    assert_eq!(
        api.header("content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
}

/// Found by schemathesis: an offset beyond the databases' signed 64-bit
/// integers made the driver panic and drop the connection.
#[tokio::test]
async fn skip_and_limit_beyond_i64_are_bad_query_values() {
    let app = TestApp::spawn().await;
    let token = app.root_token().await;
    for list in [
        "/v0/activities",
        "/v0/projects",
        "/v0/times",
        "/v0/users",
        "/v0/users/org-roles",
    ] {
        for key in ["skip", "limit"] {
            app.get(&format!("{list}?{key}=9223372036854775808"), &token)
                .await
                .assert_error(400, "Bad query value")
                .assert_text(&format!(
                    "Parameter {key} contained invalid value 9223372036854775808"
                ));
        }
        app.get(&format!("{list}?skip=9223372036854775807&limit=1"), &token)
            .await
            .assert_ok();
    }
}
