//! `GET /v0/times.ics` (issue 16): the times list as an RFC 5545 feed,
//! with the list's filters and visibility, read with an API token.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn times_feed_is_a_calendar_with_one_event_per_visible_time() {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let alice = app.user("alice", PLAIN).await;
    app.user("bob", PLAIN).await;
    for slug in ["dev", "docs"] {
        app.post("/v0/activities", &root, json!({"name": slug, "slug": slug}))
            .await
            .assert_ok();
    }
    app.post(
        "/v0/projects",
        &root,
        json!({"name": "GWM", "slugs": ["gwm"], "users": {
            "alice": {"member": true, "spectator": false, "manager": false},
            "bob": {"member": true, "spectator": false, "manager": false}}}),
    )
    .await
    .assert_ok();
    let mut uuids = Vec::new();
    for (user, date, notes) in [
        ("alice", "2026-01-15", "Fixed the build, finally; yes"),
        ("alice", "2026-02-01", "second"),
        ("bob", "2026-01-20", "bob's"),
    ] {
        let r = app
            .post(
                "/v0/times",
                &root,
                json!({"user": user, "project": "gwm", "activities": ["dev", "docs"],
                       "duration": 5400, "date_worked": date, "notes": notes,
                       "issue_uri": "https://example.org/issues/7"}),
            )
            .await;
        r.assert_ok();
        uuids.push(r.body["uuid"].as_str().unwrap().to_owned());
    }
    let feed = app
        .post(
            "/v0/tokens",
            &alice,
            json!({"name": "calendar", "scope": "read"}),
        )
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = app.get("/v0/times.ics", &feed).await;
    r.assert_ok();
    assert_eq!(
        r.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let ics = &r.text;
    assert!(
        ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
        "{ics}"
    );
    assert!(ics.ends_with("END:VCALENDAR\r\n"));
    // Alice sees her own two times, not bob's.
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2, "{ics}");
    assert!(ics.contains(&format!("\r\nUID:{}@timesync\r\n", uuids[0])));
    assert!(!ics.contains(&uuids[2]));
    let unfolded = ics.replace("\r\n ", "");
    for line in [
        "DTSTART;VALUE=DATE:20260115",
        "DTEND;VALUE=DATE:20260116",
        "SUMMARY:gwm (dev\\, docs): 1h 30m",
        "DESCRIPTION:Fixed the build\\, finally\\; yes\\nhttps://example.org/issues/7",
    ] {
        assert!(
            unfolded.contains(&format!("\r\n{line}\r\n")),
            "{line} in {ics}"
        );
    }

    // The filters of GET /times.
    let r = app.get("/v0/times.ics?start=2026-01-20", &feed).await;
    assert_eq!(r.text.matches("BEGIN:VEVENT").count(), 1);
    assert!(r.text.contains(&uuids[1]));
    let r = app.get("/v0/times.ics?user=bob", &root).await;
    assert_eq!(r.text.matches("BEGIN:VEVENT").count(), 1);
    app.get("/v0/times.ics?start=someday", &feed)
        .await
        .assert_error(400, "Bad query value");
    app.get_anon("/v0/times.ics")
        .await
        .assert_error(401, "Authentication failure");
}
