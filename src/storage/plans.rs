//! The plans SQLite makes, at a million times, for the queries whose plans
//! once made them slow there (bench/results.md, "Scale mode"). The
//! statistics of a seeded million-time database are written into
//! `sqlite_stat1` of an empty one, which is all the planner reads: a
//! regression shows here as a scan of every time or a sort, without
//! timing anything.

use chrono::NaiveDate;
use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, QuerySelect, QueryTrait};

use super::reports::{group_sums_query, Grouping};
use super::times::{count_query, TimeFilter, Viewer};
use super::Db;

/// `sqlite_stat1` of `timesync seed --times 1000000` after every migration
/// (20,000 of the times deleted, each at its own moment).
const MILLION_TIMES: &[(&str, &str, &str)] = &[
    (
        "time_activities",
        "idx_time_activities_activity",
        "2098311 104916",
    ),
    (
        "time_activities",
        "sqlite_autoindex_time_activities_1",
        "2098311 2 1",
    ),
    ("times", "idx_times_date", "1050000 1441"),
    ("times", "idx_times_list", "1050000 525000 1 1"),
    ("times", "idx_times_live", "1050000 525000 53 1 1 1 1"),
    ("times", "idx_times_project", "1050000 10500 5250"),
    ("times", "idx_times_sums", "1050000 525000 53 52 9 2 1"),
    (
        "times",
        "idx_times_user_dates",
        "1050000 5250 2625 52 1 1 1",
    ),
    ("times", "idx_times_uuid_newest", "1050000 1 1"),
    ("times", "ux_times_uuid_revision", "1050000 1 1"),
];

/// A migrated, empty SQLite database planning as if it held a million
/// times: one connection, so the statistics it loaded are the ones used.
async fn million_time_planner() -> (sea_orm::DatabaseConnection, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("plans.sqlite3").display());
    Db::connect(&url.parse().unwrap())
        .await
        .unwrap()
        .migrate()
        .await
        .unwrap();
    let mut options = ConnectOptions::new(format!("{url}?mode=rw"));
    options.max_connections(1).sqlx_logging(false);
    let conn = Database::connect(options).await.unwrap();
    conn.execute_unprepared("ANALYZE").await.unwrap();
    conn.execute_unprepared("DELETE FROM sqlite_stat1")
        .await
        .unwrap();
    for (table, index, stat) in MILLION_TIMES {
        conn.execute_unprepared(&format!(
            "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('{table}', '{index}', '{stat}')"
        ))
        .await
        .unwrap();
    }
    // Reloads the schema, statistics included.
    conn.execute_unprepared("ANALYZE sqlite_schema")
        .await
        .unwrap();
    (conn, dir)
}

/// The lines of `EXPLAIN QUERY PLAN` for `query`.
async fn plan(conn: &sea_orm::DatabaseConnection, query: &SelectStatement) -> String {
    let mut statement = DbBackend::Sqlite.build(query);
    statement.sql = format!("EXPLAIN QUERY PLAN {}", statement.sql);
    let rows = conn.query_all_raw(statement).await.unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "detail").unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn date(s: &str) -> Option<NaiveDate> {
    s.parse().ok()
}

#[tokio::test]
async fn a_users_date_range_is_read_through_the_user_index() {
    let (conn, _dir) = million_time_planner().await;
    let range = TimeFilter {
        user_ids: Some(vec![4]),
        start: date("2025-01-01"),
        end: date("2025-06-30"),
        ..TimeFilter::default()
    };
    let count = plan(&conn, &count_query(&range)).await;
    assert!(
        count.contains("COVERING INDEX idx_times_user_dates"),
        "{count}"
    );
    let page = plan(&conn, &range.list_select().into_query()).await;
    assert!(page.contains("INDEX idx_times_user_dates"), "{page}");
    assert!(!page.contains("TEMP B-TREE"), "{page}");
}

#[tokio::test]
async fn first_pages_walk_the_list_in_order() {
    let (conn, _dir) = million_time_planner().await;
    let admin = TimeFilter::default();
    let member = TimeFilter {
        visible_to: Some(Viewer {
            user_id: 4,
            watched_projects: vec!["a-watched-project".to_owned()],
        }),
        ..TimeFilter::default()
    };
    for filter in [admin, member] {
        let page = plan(&conn, &filter.list_select().limit(25).into_query()).await;
        assert!(page.contains("INDEX idx_times_live"), "{page}");
        assert!(!page.contains("TEMP B-TREE"), "{page}");
    }
}

#[tokio::test]
async fn a_summary_by_project_and_week_sorts_only_the_day_sums() {
    let (conn, _dir) = million_time_planner().await;
    let by = Grouping {
        project: true,
        week: true,
        ..Grouping::default()
    };
    let summary = plan(
        &conn,
        &group_sums_query(DbBackend::Sqlite, &TimeFilter::default(), by),
    )
    .await;
    assert!(
        summary.contains("COVERING INDEX idx_times_sums"),
        "{summary}"
    );
    // One sort: the outer grouping of the day sums by week.
    assert_eq!(summary.matches("TEMP B-TREE").count(), 1, "{summary}");
}
