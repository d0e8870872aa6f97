//! Compatibility with the reference implementation (DECISIONS.md): the
//! `user`, `project` and `activity` filters of `GET /times` (and so of the
//! summary) and the `user` filter of `GET /projects` ignore empty values
//! and drop values that name nothing, refusing only when every value of a
//! key names nothing.

use serde_json::json;

use crate::helpers::*;

/// root and alice log time on `web` and `api`; returns root's token and
/// the uuids of alice's `web` time and root's `api` time.
async fn site(app: &TestApp) -> (String, String, String) {
    let root = app.root_token().await;
    app.user("alice", PLAIN).await;
    for (name, slug) in [("Development", "dev"), ("Docs", "docs")] {
        app.post("/v0/activities", &root, json!({"name": name, "slug": slug}))
            .await
            .assert_ok();
    }
    let members = json!({"root": {"member": true}, "alice": {"member": true}});
    for (name, slug) in [("Web", "web"), ("Api", "api")] {
        app.post(
            "/v0/projects",
            &root,
            json!({"name": name, "slugs": [slug], "users": members}),
        )
        .await
        .assert_ok();
    }
    let time = |user: &str, project: &str, activity: &str| {
        json!({"duration": 60, "user": user, "project": project,
               "activities": [activity], "date_worked": "2026-01-02"})
    };
    let alice_web = app
        .post("/v0/times", &root, time("alice", "web", "dev"))
        .await;
    alice_web.assert_ok();
    let root_api = app
        .post("/v0/times", &root, time("root", "api", "docs"))
        .await;
    root_api.assert_ok();
    (
        root,
        alice_web.body["uuid"].as_str().unwrap().to_owned(),
        root_api.body["uuid"].as_str().unwrap().to_owned(),
    )
}

fn uuids(r: &Resp) -> Vec<String> {
    let mut out: Vec<String> = r
        .body
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|t| t["uuid"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn time_filters_ignore_empty_values_and_drop_unknown_ones() {
    let app = TestApp::spawn().await;
    let (root, alice_web, root_api) = site(&app).await;
    let mut both = vec![alice_web.clone(), root_api.clone()];
    both.sort();
    let cases: [(&str, Vec<String>); 14] = [
        ("user=", both.clone()),
        ("project=", both.clone()),
        ("activity=", both.clone()),
        ("user=&project=&activity=", both.clone()),
        ("user=alice&user=", vec![alice_web.clone()]),
        ("user=ALICE&user=nobody", vec![alice_web.clone()]),
        ("user=alice&user=bad%20name", vec![alice_web.clone()]),
        ("project=api&project=gone", vec![root_api.clone()]),
        ("project=Bad_Slug&project=web", vec![alice_web.clone()]),
        ("activity=nope&activity=dev", vec![alice_web.clone()]),
        ("activity=docs&activity=--2cool--", vec![root_api.clone()]),
        ("project=web&project=api&project=nope", both.clone()),
        ("user=root&project=web&project=nope", vec![]),
        (
            "user=nobody&user=root&activity=&project=api",
            vec![root_api.clone()],
        ),
    ];
    for (query, expected) in cases {
        let r = app.get(&format!("/v0/times?{query}"), &root).await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        assert_eq!(uuids(&r), expected, "{query}");
        assert_eq!(
            r.header("x-total-count"),
            Some(expected.len().to_string().as_str()),
            "{query}"
        );
    }
    // The summary reads the same filters.
    let r = app
        .get("/v0/reports/summary?project=web&project=gone&user=", &root)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], json!({"duration": 60, "count": 1}));
}

#[tokio::test]
async fn time_filters_naming_nothing_at_all_are_bad_query_values() {
    let app = TestApp::spawn().await;
    let (root, _, _) = site(&app).await;
    let cases = [
        ("user=nobody", "user", "nobody"),
        ("user=nobody&user=bad%20name", "user", "nobody,bad name"),
        ("user=nobody&user=&user=ghost", "user", "nobody,ghost"),
        ("project=gone", "project", "gone"),
        ("project=gone&project=Bad_Slug", "project", "gone,Bad_Slug"),
        ("activity=nope&activity=", "activity", "nope"),
        // Each key is judged alone: a good user does not save the project.
        ("user=alice&project=gone", "project", "gone"),
    ];
    for (query, key, values) in cases {
        for path in ["/v0/times", "/v0/reports/summary"] {
            app.get(&format!("{path}?{query}"), &root)
                .await
                .assert_error(400, "Bad query value")
                .assert_text(&format!("Parameter {key} contained invalid value {values}"));
        }
    }
    // A project deleted (slug freed) names nothing any more.
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "Old", "slugs": ["old"]}),
    )
    .await
    .assert_ok();
    app.delete("/v0/projects/old", &root).await.assert_ok();
    app.get("/v0/times?project=old", &root)
        .await
        .assert_error(400, "Bad query value")
        .assert_text("Parameter project contained invalid value old");
    // Dates stay strict.
    app.get("/v0/times?start=", &root)
        .await
        .assert_error(400, "Bad query value")
        .assert_text("Parameter start contained invalid value ");
}

#[tokio::test]
async fn project_user_filter_follows_the_same_rules() {
    let app = TestApp::spawn().await;
    let (root, _, _) = site(&app).await;
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "Solo", "slugs": ["solo"], "users": {"root": {"manager": true}}}),
    )
    .await
    .assert_ok();
    let slugs = |r: &Resp| -> Vec<String> {
        let mut s: Vec<String> = r
            .body
            .as_array()
            .unwrap_or_else(|| panic!("{}", r.text))
            .iter()
            .map(|p| p["slugs"][0].as_str().unwrap().to_owned())
            .collect();
        s.sort();
        s
    };
    let r = app.get("/v0/projects?user=", &root).await;
    assert_eq!(slugs(&r), ["api", "solo", "web"]);
    let r = app.get("/v0/projects?user=alice&user=ghost", &root).await;
    assert_eq!(slugs(&r), ["api", "web"]);
    let r = app
        .get("/v0/projects?user=not%20valid&user=root&user=", &root)
        .await;
    assert_eq!(slugs(&r), ["api", "solo", "web"]);
    app.get("/v0/projects?user=ghost&user=not%20valid", &root)
        .await
        .assert_error(400, "Bad query value")
        .assert_text("Parameter user contained invalid value ghost,not valid");
}
