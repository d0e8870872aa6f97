//! The catalogue held in memory (issue 15): writes made by another
//! instance on the same database — here a second pool writing plain SQL,
//! so only the database's triggers can tell this server — show on this
//! server's very next request.

use sea_orm::ConnectionTrait;
use timesync::storage::Db;

use crate::helpers::*;
use crate::times::fixture;

/// A second pool on the test server's database: another instance, as far
/// as this server can tell.
struct OtherInstance(Db);

async fn other_instance(app: &TestApp) -> OtherInstance {
    let db = Db::connect(&app.database_url.parse().unwrap())
        .await
        .expect("second pool");
    OtherInstance(db)
}

impl OtherInstance {
    async fn run(&self, sql: &'static str) {
        self.0.conn().execute_unprepared(sql).await.expect(sql);
    }
}

#[tokio::test]
async fn writes_of_another_instance_show_on_the_next_request() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let member = app.user("member", PLAIN).await;
    let project = fixture::project(&app, &["alpha"], None).await;
    fixture::role(&app, &project, "member", fixture::MEMBER).await;
    // This server has its copy now.
    let before = app.get("/v0/projects/alpha", &root).await;
    before.assert_ok();
    assert_eq!(before.body["users"]["member"]["member"], true);
    app.get("/v0/users/member", &member).await.assert_ok();

    let other = other_instance(&app).await;
    let run = |sql: &'static str| other.run(sql);

    run("UPDATE users SET display_name = 'Renamed elsewhere' WHERE username_key = 'member'").await;
    let shown = app.get("/v0/users/member", &root).await;
    assert_eq!(shown.body["display_name"], "Renamed elsewhere");

    run("UPDATE project_slugs SET slug = 'beta' WHERE slug = 'alpha'").await;
    app.get("/v0/projects/alpha", &root)
        .await
        .assert_error(404, "Object not found");
    let moved = app.get("/v0/projects/beta", &root).await;
    moved.assert_ok();
    assert_eq!(moved.body["slugs"], serde_json::json!(["beta"]));

    run("DELETE FROM project_users WHERE user_id = (SELECT id FROM users WHERE username_key = 'member')").await;
    let moved = app.get("/v0/projects/beta", &root).await;
    assert_eq!(moved.body["users"], serde_json::json!({}));

    // Deactivated elsewhere: the member's token stops working at once.
    run("UPDATE users SET active = false WHERE username_key = 'member'").await;
    app.get("/v0/users/member", &member)
        .await
        .assert_error(401, "Authentication failure")
        .assert_text("Bad API token");
    other.0.close().await;
}

/// Counts, pages and summaries are cached for the values of the change
/// counters (issue 15): a write of times by another instance shows in
/// `X-Total-Count`, in lists and in summaries on the next request,
/// however soon.
#[tokio::test]
async fn times_written_by_another_instance_show_in_lists_and_summaries() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let member = app.user("member", PLAIN).await;
    let project = fixture::project(&app, &["alpha"], None).await;
    fixture::role(&app, &project, "member", fixture::MEMBER).await;
    fixture::activity(&app, "dev").await;
    for _ in 0..2 {
        app.post(
            "/v0/times",
            &member,
            serde_json::json!({
                "duration": 1800, "user": "member", "project": "alpha",
                "activities": ["dev"], "date_worked": "2026-03-02",
            }),
        )
        .await
        .assert_ok();
    }
    let count = || async {
        let r = app.get("/v0/times?user=member", &root).await;
        r.assert_ok();
        r.header("x-total-count").expect("x-total-count").to_owned()
    };
    let summed = || async {
        let r = app
            .get("/v0/reports/summary?group_by=project&user=member", &root)
            .await;
        r.assert_ok();
        r.body["total"].clone()
    };
    // Cached now.
    assert_eq!(count().await, "2");
    assert_eq!(count().await, "2");
    let total_before = summed().await;
    assert_eq!(summed().await, total_before);

    let other = other_instance(&app).await;
    let run = |sql: &'static str| other.run(sql);
    run("UPDATE times SET duration = duration + 3600").await;
    let page = app.get("/v0/times?user=member", &root).await;
    let durations: Vec<_> = page
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["duration"].clone())
        .collect();
    assert_eq!(durations, [5400, 5400], "the page saw the new durations");
    let total_after = summed().await;
    assert_ne!(
        total_after, total_before,
        "the summary saw the new durations"
    );
    run(
        "UPDATE times SET deleted_at = 1 WHERE id = (SELECT MIN(id) FROM (SELECT id FROM times) t)",
    )
    .await;
    assert_eq!(count().await, "1", "the count saw the deletion");
    run("DELETE FROM time_activities").await;
    let by_activity = app
        .get("/v0/reports/summary?group_by=activity&user=member", &root)
        .await;
    by_activity.assert_ok();
    assert!(
        !by_activity.body.to_string().contains("\"dev\""),
        "the summary saw the removed activities: {}",
        by_activity.body
    );
    other.0.close().await;
}
