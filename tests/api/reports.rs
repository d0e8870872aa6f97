//! Reports: `GET /v0/reports/summary` sums checked against a model of the
//! times created through the API (every `group_by` combination, filters,
//! deleted times, visibility per role), and CSV answers of `/v0/times` and
//! the summary (RFC 4180 quoting, negotiation, a streamed 100,000-row
//! export).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use timesync::storage::entities::{time, time_activity};
use timesync::storage::{self};

use crate::helpers::*;
use crate::times::fixture::{self, MANAGER_ONLY, MEMBER, SPECTATOR_ONLY};

/// A time as the model knows it.
#[derive(Debug, Clone)]
struct T {
    user: &'static str,
    /// The project's sorted current slugs, joined by spaces.
    project: &'static str,
    activities: &'static [&'static str],
    date: &'static str,
    duration: i64,
    deleted: bool,
}

const GWM: &str = "ganeti gwm";
const PGD: &str = "pgd";

/// Dates chosen across ISO-week and month edges: 2025-12-29 is in ISO week
/// 2026-W01 but month 2025-12; 2026-02-15 is a Sunday (W07), 02-16 a Monday.
const TIMES: &[T] = &[
    T {
        user: "alice",
        project: GWM,
        activities: &["docs"],
        date: "2026-02-09",
        duration: 100,
        deleted: false,
    },
    T {
        user: "alice",
        project: GWM,
        activities: &["dev", "docs"],
        date: "2026-02-15",
        duration: 200,
        deleted: false,
    },
    T {
        user: "alice",
        project: PGD,
        activities: &["dev"],
        date: "2026-02-16",
        duration: 400,
        deleted: false,
    },
    T {
        user: "bob",
        project: GWM,
        activities: &["qa"],
        date: "2026-01-31",
        duration: 800,
        deleted: false,
    },
    T {
        user: "bob",
        project: PGD,
        activities: &["dev", "qa"],
        date: "2026-02-16",
        duration: 1600,
        deleted: false,
    },
    T {
        user: "bob",
        project: PGD,
        activities: &["docs"],
        date: "2025-12-29",
        duration: 3200,
        deleted: false,
    },
    T {
        user: "bob",
        project: GWM,
        activities: &["dev"],
        date: "2026-02-10",
        duration: 6400,
        deleted: true,
    },
    T {
        user: "alice",
        project: PGD,
        activities: &["docs", "qa"],
        date: "2026-03-02",
        duration: 12800,
        deleted: true,
    },
];

/// Which model times a query or a caller selects.
type Selects = Box<dyn Fn(&T) -> bool>;

const KEYS: [&str; 6] = ["user", "project", "activity", "date", "week", "month"];

/// A site holding `TIMES` (created through the API as root, then deleted
/// where marked) and users of every kind of visibility:
/// alice and bob (members of both projects: see their own times),
/// carol (spectator of pgd), dave (manager of gwm), sam (site spectator).
struct Site {
    app: TestApp,
    root: String,
    tokens: BTreeMap<&'static str, String>,
    pgd: String,
    uuids: Vec<String>,
}

async fn site() -> Site {
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    let mut tokens = BTreeMap::new();
    for name in ["alice", "bob", "carol", "dave"] {
        tokens.insert(name, app.user(name, PLAIN).await);
    }
    tokens.insert("sam", app.user("sam", SPECTATOR).await);
    for slug in ["docs", "dev", "qa"] {
        fixture::activity(&app, slug).await;
    }
    let gwm = fixture::project(&app, &["gwm", "ganeti"], None).await;
    let pgd = fixture::project(&app, &["pgd"], None).await;
    for p in [&gwm, &pgd] {
        for u in ["alice", "bob"] {
            fixture::role(&app, p, u, MEMBER).await;
        }
    }
    fixture::role(&app, &pgd, "carol", SPECTATOR_ONLY).await;
    fixture::role(&app, &gwm, "dave", MANAGER_ONLY).await;
    let mut uuids = Vec::new();
    for t in TIMES {
        let project = if t.project == GWM { "gwm" } else { "pgd" };
        let r = app
            .post(
                "/v0/times",
                &root,
                json!({
                    "duration": t.duration,
                    "user": t.user,
                    "project": project,
                    "activities": t.activities,
                    "date_worked": t.date,
                }),
            )
            .await;
        r.assert_ok();
        let uuid = r.body["uuid"].as_str().unwrap().to_owned();
        if t.deleted {
            app.delete(&format!("/v0/times/{uuid}"), &root)
                .await
                .assert_ok();
        }
        uuids.push(uuid);
    }
    Site {
        app,
        root,
        tokens,
        pgd,
        uuids,
    }
}

fn iso_week(date: &str) -> String {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    let w = d.iso_week();
    format!("{:04}-W{:02}", w.year(), w.week())
}

/// The summary the model predicts for the times `keep` selects.
fn expected(group_by: &[&str], keep: impl Fn(&T) -> bool) -> Value {
    let mut groups: BTreeMap<Vec<String>, (i64, i64)> = BTreeMap::new();
    let (mut total_duration, mut total_count) = (0, 0);
    for t in TIMES.iter().filter(|t| keep(t)) {
        total_duration += t.duration;
        total_count += 1;
        // Once per activity when grouped by activity, else once.
        let per_activity: Vec<Option<&str>> = if group_by.contains(&"activity") {
            t.activities.iter().map(|a| Some(*a)).collect()
        } else {
            vec![None]
        };
        for activity in per_activity {
            let key = group_by
                .iter()
                .map(|k| match *k {
                    "user" => t.user.to_owned(),
                    "project" => t.project.to_owned(),
                    "activity" => activity.unwrap().to_owned(),
                    "date" => t.date.to_owned(),
                    "week" => iso_week(t.date),
                    "month" => t.date[..7].to_owned(),
                    other => panic!("{other}"),
                })
                .collect();
            let g = groups.entry(key).or_default();
            g.0 += t.duration;
            g.1 += 1;
        }
    }
    let rows: Vec<Value> = groups
        .into_iter()
        .map(|(key, (duration, count))| {
            let mut row = serde_json::Map::new();
            for (k, v) in group_by.iter().zip(key) {
                let value = if *k == "project" {
                    json!(v.split(' ').collect::<Vec<_>>())
                } else {
                    json!(v)
                };
                row.insert((*k).to_owned(), value);
            }
            row.insert("duration".into(), json!(duration));
            row.insert("count".into(), json!(count));
            Value::Object(row)
        })
        .collect();
    json!({"rows": rows, "total": {"duration": total_duration, "count": total_count}})
}

/// `&group_by=k1,k2…`, or nothing for no keys.
fn group_query(keys: &[&str]) -> String {
    if keys.is_empty() {
        String::new()
    } else {
        format!("&group_by={}", keys.join(","))
    }
}

/// The `group_by` keys of subset `mask` of `KEYS`.
fn subset(mask: usize) -> Vec<&'static str> {
    KEYS.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, k)| *k)
        .collect()
}

#[tokio::test]
async fn summary_matches_the_model_for_every_group_by_combination() {
    let s = site().await;
    for mask in 0..(1 << KEYS.len()) {
        let keys = subset(mask);
        // Both syntaxes: one comma-separated value, or repeated keys.
        let query = if mask % 2 == 0 {
            keys.iter()
                .map(|k| format!("group_by={k}"))
                .collect::<Vec<_>>()
                .join("&")
        } else {
            format!("group_by={}", keys.join(","))
        };
        let r = s
            .app
            .get(&format!("/v0/reports/summary?{query}"), &s.root)
            .await;
        r.assert_ok();
        assert_eq!(
            r.body,
            expected(&keys, |t| !t.deleted),
            "group_by {keys:?}: {}",
            r.text
        );
        let r = s
            .app
            .get(
                &format!("/v0/reports/summary?{query}&include_deleted=true"),
                &s.root,
            )
            .await;
        assert_eq!(r.body, expected(&keys, |_| true), "deleted, {keys:?}");
    }
}

#[tokio::test]
async fn summary_keys_weeks_months_and_multi_activity_counts() {
    let s = site().await;
    // Row keys come in group_by order, then duration and count.
    let r = s
        .app
        .get("/v0/reports/summary?group_by=month,user", &s.root)
        .await;
    assert!(
        r.text
            .starts_with(r#"{"rows":[{"month":"2025-12","user":"bob","duration":3200,"count":1}"#),
        "{}",
        r.text
    );
    // ISO weeks: 2025-12-29 belongs to 2026-W01; Sunday 02-15 to W07.
    let r = s
        .app
        .get("/v0/reports/summary?group_by=week", &s.root)
        .await;
    assert_eq!(
        r.body["rows"],
        json!([
            {"week": "2026-W01", "duration": 3200, "count": 1},
            {"week": "2026-W05", "duration": 800, "count": 1},
            {"week": "2026-W07", "duration": 300, "count": 2},
            {"week": "2026-W08", "duration": 2000, "count": 2},
        ])
    );
    // Two-activity times count once per activity there, once in the total.
    let r = s
        .app
        .get("/v0/reports/summary?group_by=activity", &s.root)
        .await;
    assert_eq!(
        r.body,
        json!({
            "rows": [
                {"activity": "dev", "duration": 2200, "count": 3},
                {"activity": "docs", "duration": 3500, "count": 3},
                {"activity": "qa", "duration": 2400, "count": 2},
            ],
            "total": {"duration": 6300, "count": 6},
        })
    );
    // No group_by: one row, the total.
    let r = s.app.get("/v0/reports/summary", &s.root).await;
    assert_eq!(
        r.body,
        json!({"rows": [{"duration": 6300, "count": 6}], "total": {"duration": 6300, "count": 6}})
    );
    // Nothing selected: no rows, zero total.
    let r = s
        .app
        .get(
            "/v0/reports/summary?group_by=user&start=2030-01-01",
            &s.root,
        )
        .await;
    assert_eq!(
        r.body,
        json!({"rows": [], "total": {"duration": 0, "count": 0}})
    );
}

#[tokio::test]
async fn summary_applies_the_times_filters() {
    let s = site().await;
    let cases: Vec<(&str, Selects)> = vec![
        ("user=bob", Box::new(|t: &T| t.user == "bob")),
        ("user=BOB&user=alice", Box::new(|_: &T| true)),
        ("project=ganeti", Box::new(|t: &T| t.project == GWM)),
        (
            "activity=qa&activity=docs",
            Box::new(|t: &T| t.activities.iter().any(|a| *a == "qa" || *a == "docs")),
        ),
        (
            "start=2026-01-31&end=2026-02-15",
            Box::new(|t: &T| ("2026-01-31"..="2026-02-15").contains(&t.date)),
        ),
        (
            "user=bob&activity=dev&start=2026-02-01",
            Box::new(|t: &T| {
                t.user == "bob" && t.activities.contains(&"dev") && t.date >= "2026-02-01"
            }),
        ),
    ];
    for (filter, keep) in &cases {
        for keys in [vec!["user", "project", "activity"], vec!["week"], vec![]] {
            let r = s
                .app
                .get(
                    &format!("/v0/reports/summary?{filter}{}", group_query(&keys)),
                    &s.root,
                )
                .await;
            assert_eq!(
                r.body,
                expected(&keys, |t| !t.deleted && keep(t)),
                "{filter} {keys:?}"
            );
        }
    }
}

#[tokio::test]
async fn summary_follows_visibility_per_role() {
    let s = site().await;
    let visible: Vec<(&str, Selects)> = vec![
        // Plain members: their own times only.
        ("alice", Box::new(|t: &T| t.user == "alice")),
        ("bob", Box::new(|t: &T| t.user == "bob")),
        // Project spectator / manager: that project's times.
        ("carol", Box::new(|t: &T| t.project == PGD)),
        ("dave", Box::new(|t: &T| t.project == GWM)),
        // Site spectator: everything.
        ("sam", Box::new(|_: &T| true)),
    ];
    for (who, sees) in &visible {
        let token = &s.tokens[who];
        for keys in [
            vec!["user", "project", "activity", "date"],
            vec!["month"],
            vec![],
        ] {
            for deleted in [false, true] {
                let r = s
                    .app
                    .get(
                        &format!(
                            "/v0/reports/summary?include_deleted={deleted}{}",
                            group_query(&keys)
                        ),
                        token,
                    )
                    .await;
                assert_eq!(
                    r.body,
                    expected(&keys, |t| (deleted || !t.deleted) && sees(t)),
                    "{who} {keys:?} deleted={deleted}"
                );
            }
        }
    }
    // Filtering on someone else's times gives nothing, not an error.
    let r = s
        .app
        .get("/v0/reports/summary?user=bob", &s.tokens["alice"])
        .await;
    assert_eq!(r.body["total"], json!({"duration": 0, "count": 0}));
}

#[tokio::test]
async fn summary_groups_deleted_projects_and_activities_under_null() {
    let s = site().await;
    fixture::set_project_slugs(&s.app, &s.pgd, &[]).await;
    let r = s
        .app
        .get("/v0/reports/summary?group_by=project", &s.root)
        .await;
    assert_eq!(
        r.body["rows"],
        json!([
            {"project": null, "duration": 5200, "count": 3},
            {"project": ["ganeti", "gwm"], "duration": 1100, "count": 3},
        ])
    );
    let qa = activity_uuid(&s.app, "qa").await;
    fixture::delete_activity(&s.app, &qa).await;
    let r = s
        .app
        .get("/v0/reports/summary?group_by=activity", &s.root)
        .await;
    assert_eq!(
        r.body["rows"],
        json!([
            {"activity": null, "duration": 2400, "count": 2},
            {"activity": "dev", "duration": 2200, "count": 3},
            {"activity": "docs", "duration": 3500, "count": 3},
        ])
    );
}

async fn activity_uuid(app: &TestApp, slug: &str) -> String {
    use sea_orm::{ColumnTrait, QueryFilter};
    use timesync::storage::entities::activity;
    activity::Entity::find()
        .filter(activity::Column::LiveSlug.eq(slug))
        .one(app.db.conn())
        .await
        .unwrap()
        .expect("activity")
        .uuid
}

#[tokio::test]
async fn summary_refuses_bad_query_values_and_anonymous_callers() {
    let s = site().await;
    for (query, key, value) in [
        ("group_by=year", "group_by", "year"),
        ("group_by=user,,week", "group_by", "user,,week"),
        ("group_by=user&group_by=", "group_by", ""),
        ("group_by=user&user=nobody", "user", "nobody"),
        ("project=no-such", "project", "no-such"),
        ("activity=Bad!", "activity", "Bad!"),
        ("start=2026-13-01", "start", "2026-13-01"),
        ("start=2026-02-02&end=2026-02-01", "start", "2026-02-02"),
        ("format=xml", "format", "xml"),
    ] {
        let r = s
            .app
            .get(&format!("/v0/reports/summary?{query}"), &s.root)
            .await;
        r.assert_error(400, "Bad query value")
            .assert_text(&format!("Parameter {key} contained invalid value {value}"));
    }
    s.app
        .get_anon("/v0/reports/summary")
        .await
        .assert_error(401, "Authentication failure");
}

/// Parses RFC 4180 text (CRLF records, quoted fields) into records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
        } else {
            match c {
                '"' => quoted = true,
                ',' => record.push(std::mem::take(&mut field)),
                '\r' => {
                    assert_eq!(chars.next(), Some('\n'), "bare CR in {text:?}");
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                }
                '\n' => panic!("bare LF outside quotes in {text:?}"),
                c => field.push(c),
            }
        }
    }
    assert!(field.is_empty() && record.is_empty(), "unterminated record");
    records
}

const TIME_HEADER: [&str; 12] = [
    "uuid",
    "revision",
    "user",
    "project",
    "activities",
    "duration",
    "date_worked",
    "notes",
    "issue_uri",
    "created_at",
    "updated_at",
    "deleted_at",
];

/// GET with a bearer token and extra headers, keeping the raw text.
async fn get_with(app: &TestApp, path: &str, token: &str, accept: Option<&str>) -> Resp {
    let mut req = app.client.get(app.url(path)).bearer_auth(token);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let resp = req.send().await.expect("GET");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
        text,
    }
}

#[tokio::test]
async fn times_csv_quotes_notes_and_matches_the_json_list() {
    let s = site().await;
    let tricky = [
        "plain",
        "comma, inside",
        "say \"hi\"",
        "two\nlines",
        "cr\r\nlf, and \"all\"",
        "ünïcødé ✓",
    ];
    for note in tricky {
        let r = s
            .app
            .post(
                "/v0/times",
                &s.tokens["alice"],
                json!({"duration": 5, "user": "alice", "project": "gwm",
                       "activities": ["dev", "qa"], "date_worked": "2026-04-01",
                       "notes": note, "issue_uri": "https://example.org/i?a=1,2"}),
            )
            .await;
        r.assert_ok();
    }
    for (path, accept) in [
        ("/v0/times?format=csv&include_deleted=true", None),
        ("/v0/times?include_deleted=true", Some("text/csv")),
    ] {
        let r = get_with(&s.app, path, &s.tokens["alice"], accept).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
        let records = parse_csv(&r.text);
        assert_eq!(records[0], TIME_HEADER);
        let json = s
            .app
            .get("/v0/times?include_deleted=true", &s.tokens["alice"])
            .await;
        let list = json.body.as_array().unwrap();
        // alice's 4 model times (1 deleted) plus the tricky ones.
        assert_eq!(list.len(), 4 + tricky.len());
        assert_eq!(records.len(), list.len() + 1);
        let text = |v: &Value| match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(" "),
            other => other.to_string(),
        };
        for (record, time) in records[1..].iter().zip(list) {
            let want: Vec<String> = TIME_HEADER.iter().map(|k| text(&time[*k])).collect();
            assert_eq!(record, &want);
        }
        let notes: Vec<&str> = records[1..].iter().map(|r| r[7].as_str()).collect();
        for note in tricky {
            assert!(notes.contains(&note), "{note:?} in {notes:?}");
        }
    }
    // Raw quoting as RFC 4180 writes it.
    let r = get_with(
        &s.app,
        "/v0/times?format=csv&start=2026-04-01",
        &s.root,
        None,
    )
    .await;
    assert!(r.text.contains(",\"comma, inside\","), "{}", r.text);
    assert!(r.text.contains(",\"say \"\"hi\"\"\","), "{}", r.text);
    assert!(r.text.contains(",\"two\nlines\","), "{}", r.text);
    assert!(r.text.contains(",dev qa,"), "{}", r.text);
    assert!(r.text.ends_with("\r\n"));
}

#[tokio::test]
async fn times_csv_follows_filters_visibility_and_paging() {
    let s = site().await;
    let uuids_of =
        |text: &str| -> Vec<String> { parse_csv(text)[1..].iter().map(|r| r[0].clone()).collect() };
    // Same times, same order as the JSON list, for each role and filter.
    for who in ["alice", "bob", "carol", "dave", "sam"] {
        for query in [
            "",
            "include_deleted=true",
            "user=bob&activity=dev",
            "project=pgd&start=2026-02-01",
            "skip=1&limit=2",
            "limit=1",
        ] {
            let json = s
                .app
                .get(&format!("/v0/times?{query}"), &s.tokens[who])
                .await;
            let want: Vec<String> = json
                .body
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["uuid"].as_str().unwrap().to_owned())
                .collect();
            let csv = get_with(
                &s.app,
                &format!("/v0/times?{query}&format=csv"),
                &s.tokens[who],
                None,
            )
            .await;
            assert_eq!(uuids_of(&csv.text), want, "{who} {query}");
        }
    }
    let sam = get_with(&s.app, "/v0/times?format=csv", &s.tokens["sam"], None).await;
    assert_eq!(uuids_of(&sam.text).len(), 6);
    assert!(!uuids_of(&sam.text).contains(&s.uuids[6]));
    // An empty selection is the header alone.
    let none = get_with(
        &s.app,
        "/v0/times?format=csv&start=2030-01-01",
        &s.root,
        None,
    )
    .await;
    assert_eq!(none.text, format!("{}\r\n", TIME_HEADER.join(",")));
    // Errors stay JSON error objects.
    let bad = get_with(&s.app, "/v0/times?format=csv&user=nobody", &s.root, None).await;
    bad.assert_error(400, "Bad query value");
    assert!(bad
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
    let bad = get_with(&s.app, "/v0/times?limit=x", &s.root, Some("text/csv")).await;
    bad.assert_error(400, "Bad query value");
    s.app
        .get_anon("/v0/times?format=csv")
        .await
        .assert_error(401, "Authentication failure");
    // JSON stays the default, and format=json wins over Accept.
    let json = get_with(&s.app, "/v0/times?format=json", &s.root, Some("text/csv")).await;
    assert!(json.body.is_array(), "{}", json.text);
}

#[tokio::test]
async fn summary_csv_has_a_header_and_one_record_per_row() {
    let s = site().await;
    let path = "/v0/reports/summary?group_by=project,activity&format=csv";
    let r = get_with(&s.app, path, &s.root, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let json = s
        .app
        .get("/v0/reports/summary?group_by=project,activity", &s.root)
        .await;
    let mut want = vec![vec![
        "project".to_owned(),
        "activity".into(),
        "duration".into(),
        "count".into(),
    ]];
    for row in json.body["rows"].as_array().unwrap() {
        let slugs: Vec<&str> = row["project"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        want.push(vec![
            slugs.join(" "),
            row["activity"].as_str().unwrap().to_owned(),
            row["duration"].to_string(),
            row["count"].to_string(),
        ]);
    }
    assert_eq!(parse_csv(&r.text), want);
    assert_eq!(want[1], ["ganeti gwm", "dev", "200", "1"]);
    let accept = get_with(
        &s.app,
        "/v0/reports/summary?group_by=user",
        &s.tokens["alice"],
        Some("text/csv"),
    )
    .await;
    assert_eq!(accept.text, "user,duration,count\r\nalice,700,3\r\n");
}

/// Peak resident memory of this process (server included), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Inserts `n` times of `user_id` on `project_uuid` with `activity_uuid`
/// straight through the entities, with multi-row inserts; time `i` has
/// notes `bulk i` and is listed `i`-th.
async fn bulk_times(
    app: &TestApp,
    n: usize,
    user_id: i64,
    project_uuid: &str,
    activity_uuid: &str,
) {
    const BATCH: usize = 500;
    app.db
        .write(|tx| async move {
            let tx = &tx;
            let base = 1_767_225_600_000i64;
            let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            for start in (1..=n).step_by(BATCH) {
                let ids = start..=(start + BATCH - 1).min(n);
                time::Entity::insert_many(ids.clone().map(|i| time::ActiveModel {
                    id: Set(i as i64),
                    uuid: Set(uuid::Uuid::new_v4().to_string()),
                    revision: Set(1),
                    newest: Set(true),
                    user_id: Set(user_id),
                    project_uuid: Set(project_uuid.to_owned()),
                    duration: Set(60),
                    notes: Set(Some(format!("bulk {i}"))),
                    issue_uri: Set(None),
                    date_worked: Set(date),
                    created_at: Set(base + i as i64),
                    updated_at: Set(None),
                    deleted_at: Set(None),
                    sort_at: Set(base + i as i64),
                }))
                .exec_without_returning(tx)
                .await?;
                time_activity::Entity::insert_many(ids.map(|i| time_activity::ActiveModel {
                    time_id: Set(i as i64),
                    activity_uuid: Set(activity_uuid.to_owned()),
                }))
                .exec_without_returning(tx)
                .await?;
            }
            storage::reset_id_sequences(tx).await
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_100000_row_csv_export_streams_in_order() {
    const N: usize = 100_000;
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    app.user("alice", PLAIN).await;
    let dev = fixture::activity(&app, "dev").await;
    let gwm = fixture::project(&app, &["gwm"], None).await;
    let alice = fixture::user_id(&app, "alice").await;
    let started = std::time::Instant::now();
    bulk_times(&app, N, alice, &gwm, &dev).await;
    let inserted = started.elapsed();

    let before = peak_rss_kib();
    let started = std::time::Instant::now();
    let mut resp = app
        .client
        .get(app.url("/v0/times?format=csv"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    // Read chunk by chunk, never holding the body: check each record is
    // the next time in list order. Once the export has begun, the last
    // time is updated and the one before deleted: the export is a snapshot
    // taken when it began, so neither change shows in it.
    let uuid_of = |id: i64| {
        let db = app.db.clone();
        async move {
            time::Entity::find_by_id(id)
                .one(db.conn())
                .await
                .unwrap()
                .expect("time")
                .uuid
        }
    };
    let last = uuid_of(N as i64).await;
    let before_last = uuid_of(N as i64 - 1).await;
    let mut edited = false;
    let mut pending = Vec::new();
    let (mut records, mut chunks, mut bytes) = (0usize, 0usize, 0usize);
    while let Some(chunk) = resp.chunk().await.unwrap() {
        chunks += 1;
        bytes += chunk.len();
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8(pending[..end].to_vec()).unwrap();
            if records == 0 {
                assert_eq!(line, TIME_HEADER.join(","));
            } else {
                let fields: Vec<&str> = line.split(',').collect();
                assert_eq!(fields.len(), 12, "{line}");
                assert_eq!(fields[7], format!("bulk {records}"), "{line}");
                assert_eq!(&fields[2..7], ["alice", "gwm", "dev", "60", "2026-01-01"]);
            }
            records += 1;
            pending.drain(..end + 2);
        }
        if !edited && records > 1 {
            edited = true;
            app.post(&format!("/v0/times/{last}"), &root, json!({"duration": 61}))
                .await
                .assert_ok();
            app.delete(&format!("/v0/times/{before_last}"), &root)
                .await
                .assert_ok();
        }
    }
    assert!(pending.is_empty());
    assert_eq!(records, N + 1);
    assert!(chunks > 1, "the export came in {chunks} chunk(s)");
    eprintln!(
        "100,000-row CSV on {:?}: inserted in {inserted:?}, exported {bytes} bytes in {:?} \
         ({chunks} chunks); peak RSS {before:?} KiB before, {:?} KiB after",
        backend(),
        started.elapsed(),
        peak_rss_kib()
    );
    // Later reads see the changes.
    let r = app.get("/v0/reports/summary?group_by=user", &root).await;
    assert_eq!(
        r.body["rows"],
        json!([{"user": "alice", "duration": 60 * (N - 2) + 61, "count": N - 1}])
    );
    let r = app.get("/v0/times?format=csv&skip=99997", &root).await;
    let tail: Vec<&str> = r.text.split("\r\n").collect();
    assert_eq!(tail.len(), 4, "{}", r.text);
    assert!(
        tail[2].starts_with(&format!("{last},2,alice,gwm,dev,61,")),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn abandoned_csv_exports_release_their_connections() {
    const N: usize = 5_000;
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    app.user("alice", PLAIN).await;
    let dev = fixture::activity(&app, "dev").await;
    let gwm = fixture::project(&app, &["gwm"], None).await;
    let alice = fixture::user_id(&app, "alice").await;
    bulk_times(&app, N, alice, &gwm, &dev).await;
    // More abandoned exports than any backend's pool has connections: each
    // client reads one chunk and hangs up mid-stream.
    for i in 0..20 {
        let mut resp = app
            .client
            .get(app.url("/v0/times?format=csv"))
            .bearer_auth(&root)
            .send()
            .await
            .unwrap();
        if resp.status() != 200 {
            panic!("export {i}: {}", resp.text().await.unwrap());
        }
        assert!(resp.chunk().await.unwrap().is_some());
        drop(resp);
    }
    // Writes and whole exports still go through.
    app.post(
        "/v0/times",
        &root,
        json!({"duration": 1, "user": "alice", "project": "gwm",
               "activities": ["dev"], "date_worked": "2026-01-02"}),
    )
    .await
    .assert_ok();
    let r = get_with(&app, "/v0/times?format=csv", &root, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text.matches("\r\n").count(), N + 2);
}

#[tokio::test]
async fn large_json_lists_of_times_are_streamed_whole_and_in_order() {
    const N: usize = 2_500;
    let app = TestApp::spawn().await;
    let root = app.root_token().await;
    app.user("alice", PLAIN).await;
    let dev = fixture::activity(&app, "dev").await;
    let gwm = fixture::project(&app, &["gwm"], None).await;
    let alice = fixture::user_id(&app, "alice").await;
    bulk_times(&app, N, alice, &gwm, &dev).await;

    // No limit: every time, as one JSON array, in list order.
    let all = app.get("/v0/times", &root).await;
    all.assert_ok();
    assert_eq!(
        all.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(all.header("x-total-count"), Some("2500"));
    let items = all.body.as_array().expect("a JSON array");
    assert_eq!(items.len(), N);
    for (i, t) in items.iter().enumerate() {
        assert_eq!(t["notes"], format!("bulk {}", i + 1));
        assert_eq!(t["project"], serde_json::json!(["gwm"]));
        assert_eq!(t["activities"], serde_json::json!(["dev"]));
        assert!(t.get("parents").is_none());
    }

    // A large page: skip and limit apply, the headers describe the page.
    let page = app
        .get(
            "/v0/times?skip=100&limit=1500&include_revisions=true",
            &root,
        )
        .await;
    let items = page.body.as_array().expect("a JSON array");
    assert_eq!(items.len(), 1500);
    assert_eq!(items[0]["notes"], "bulk 101");
    assert_eq!(items[1499]["notes"], "bulk 1600");
    assert_eq!(items[0]["parents"], serde_json::json!([]));
    assert_eq!(page.header("x-total-count"), Some("2500"));
    let link = page.header("link").expect("Link");
    assert!(
        link.contains("skip=1600") && link.contains("rel=\"next\""),
        "{link}"
    );

    // What the caller may not see is not streamed either.
    let bob = app.user("bob", PLAIN).await;
    let none = app.get("/v0/times", &bob).await;
    assert_eq!(none.body, serde_json::json!([]));
    assert_eq!(none.header("x-total-count"), Some("0"));
}
