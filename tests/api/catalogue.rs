//! The catalogue held in memory (issue 15): writes made by another
//! instance on the same database — here a second pool writing plain SQL,
//! so only the database's triggers can tell this server — show on this
//! server's very next request.

use sea_orm::ConnectionTrait;
use timesync::storage::Db;

use crate::helpers::*;
use crate::times::fixture;

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

    let other = Db::connect(&app.database_url.parse().unwrap())
        .await
        .expect("second pool");
    let run = |sql: &'static str| {
        let other = other.clone();
        async move { other.conn().execute_unprepared(sql).await.expect(sql) }
    };

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
    other.close().await;
}
