//! Reports over time entries: grouped sums computed in SQL, and the
//! keyset-paged scan behind CSV exports. Both use the `GET /times` filter
//! (`TimeFilter::condition`), so they select exactly what the list does.

use chrono::NaiveDate;
use futures::TryStreamExt;
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, QueryFilter, QueryResult, QuerySelect,
    StreamTrait, TryGetable,
};

use super::entities::{time, time_activity};
use super::times::{TimeFilter, TimeRow};
use super::Result;

/// The columns a summary groups by, all in SQL (weeks and months through
/// each dialect's date formatting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grouping {
    pub user: bool,
    pub project: bool,
    pub activity: bool,
    pub date: bool,
    /// ISO week of `date_worked`, `YYYY-Www` (ISO year).
    pub week: bool,
    /// `YYYY-MM` of `date_worked`.
    pub month: bool,
}

/// One group of a summary: the grouped columns (`None` where not grouped,
/// or for a time without activities) and the sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    pub user_id: Option<i64>,
    pub project_uuid: Option<String>,
    pub activity_uuid: Option<String>,
    pub date_worked: Option<NaiveDate>,
    pub week: Option<String>,
    pub month: Option<String>,
    pub duration: i64,
    pub count: i64,
}

/// `SUM(expr)` as a 64-bit integer on every backend: MySQL's SUM is
/// DECIMAL, and PostgreSQL's SUM of a BIGINT (the day sums below) is
/// NUMERIC; SQLite's is an INTEGER already.
fn sum_i64(backend: DbBackend, expr: Expr) -> SimpleExpr {
    let sum: SimpleExpr = Func::sum(expr).into();
    match backend {
        DbBackend::MySql => sum.cast_as(Alias::new("SIGNED")),
        DbBackend::Postgres => sum.cast_as(Alias::new("BIGINT")),
        _ => sum,
    }
}

/// `date` formatted as an ISO week (`2026-W07`) or a month (`2026-02`) in
/// the backend's dialect.
fn date_format(backend: DbBackend, date: Expr, iso_week: bool) -> SimpleExpr {
    let (function, format) = match (backend, iso_week) {
        // %G/%V: ISO year and week (SQLite 3.46+, bundled).
        (DbBackend::Sqlite, true) => ("strftime", "%G-W%V"),
        (DbBackend::Sqlite, false) => ("strftime", "%Y-%m"),
        (DbBackend::Postgres, true) => ("to_char", "IYYY-\"W\"IW"),
        (DbBackend::Postgres, false) => ("to_char", "YYYY-MM"),
        // %x/%v: year and week of weeks starting on Monday with
        // week 1 holding the year's first Thursday, i.e. ISO.
        (_, true) => ("DATE_FORMAT", "%x-W%v"),
        (_, false) => ("DATE_FORMAT", "%Y-%m"),
    };
    let f = Func::cust(Alias::new(function));
    match backend {
        DbBackend::Sqlite => f.arg(Expr::val(format)).arg(date),
        _ => f.arg(date).arg(Expr::val(format)),
    }
    .into()
}

/// Selects `expr` as `alias` and groups by the alias when `on` (by the
/// alias, because an expression with a bound format string does not
/// match its copy in GROUP BY on PostgreSQL).
fn group_formatted(q: &mut SelectStatement, on: bool, expr: SimpleExpr, alias: &str) {
    if on {
        q.expr_as(expr, Alias::new(alias));
        q.add_group_by([Expr::col(Alias::new(alias))]);
    }
}

/// Selects `col` as `alias` and groups by it when `on`.
fn group(q: &mut SelectStatement, on: bool, col: Expr, alias: &str) {
    if on {
        q.expr_as(col.clone(), Alias::new(alias));
        q.add_group_by([col]);
    }
}

/// Sums of `duration` and counts of the current revisions matching
/// `filter`, grouped by `by`. With `by.activity` each time is joined to its
/// activities, so it counts once per activity; otherwise once.
pub async fn group_sums(
    db: &(impl ConnectionTrait + StreamTrait),
    filter: &TimeFilter,
    by: Grouping,
) -> Result<Vec<GroupRow>> {
    let backend = ConnectionTrait::get_database_backend(db);
    let q = group_sums_query(backend, filter, by);
    // Streamed: a grouping with as many groups as times does not hold
    // every driver row at once.
    let mut rows = std::pin::pin!(db.stream_raw(backend.build(&q)).await?);
    let mut out = Vec::new();
    while let Some(r) = rows.try_next().await? {
        let group = GroupRow {
            user_id: grouped(&r, by.user, "g_user")?,
            project_uuid: grouped(&r, by.project, "g_project")?,
            activity_uuid: grouped(&r, by.activity, "g_activity")?,
            date_worked: grouped(&r, by.date, "g_date")?,
            week: grouped(&r, by.week, "g_week")?,
            month: grouped(&r, by.month, "g_month")?,
            duration: r.try_get::<Option<i64>>("", "g_duration")?.unwrap_or(0),
            count: r.try_get("", "g_count")?,
        };
        // An empty selection still yields one ungrouped row (count 0).
        if group.count > 0 {
            out.push(group);
        }
    }
    Ok(out)
}

/// The statement of `group_sums`.
///
/// Weeks and months are summed in two steps: first by day, then the days
/// by week or month. The days come in the order of `idx_times_sums`
/// (project, then date), so the first step sorts nothing, and a date is
/// formatted once per day rather than once per time: ~750 → ~205 ms for
/// an uncached summary by project and week of a million times on SQLite.
pub(crate) fn group_sums_query(
    backend: DbBackend,
    filter: &TimeFilter,
    by: Grouping,
) -> SelectStatement {
    let periods = by.week || by.month;
    let mut days = Query::select();
    days.from(time::Entity).cond_where(filter.condition());
    let column = |c: time::Column| Expr::col((time::Entity, c));
    group(&mut days, by.user, column(time::Column::UserId), "g_user");
    group(
        &mut days,
        by.project,
        column(time::Column::ProjectUuid),
        "g_project",
    );
    group(
        &mut days,
        by.date || periods,
        column(time::Column::DateWorked),
        "g_date",
    );
    if by.activity {
        // LEFT: a time left without activities still counts (as "none").
        days.left_join(
            time_activity::Entity,
            Expr::col((time_activity::Entity, time_activity::Column::TimeId))
                .equals((time::Entity, time::Column::Id)),
        );
        group(
            &mut days,
            true,
            Expr::col((time_activity::Entity, time_activity::Column::ActivityUuid)),
            "g_activity",
        );
    }
    days.expr_as(
        sum_i64(backend, column(time::Column::Duration)),
        Alias::new("g_duration"),
    );
    days.expr_as(Expr::col(Asterisk).count(), Alias::new("g_count"));

    if periods {
        let mut q = Query::select();
        q.from_subquery(days, Alias::new("days"));
        let named = |alias: &str| Expr::col(Alias::new(alias));
        for (on, alias) in [
            (by.user, "g_user"),
            (by.project, "g_project"),
            (by.activity, "g_activity"),
            (by.date, "g_date"),
        ] {
            group(&mut q, on, named(alias), alias);
        }
        for (on, iso_week, alias) in [(by.week, true, "g_week"), (by.month, false, "g_month")] {
            group_formatted(
                &mut q,
                on,
                date_format(backend, named("g_date"), iso_week),
                alias,
            );
        }
        q.expr_as(
            sum_i64(backend, named("g_duration")),
            Alias::new("g_duration"),
        );
        q.expr_as(sum_i64(backend, named("g_count")), Alias::new("g_count"));
        q
    } else {
        days
    }
}

/// The grouped column `col` of `row`, or `None` when not grouped by it.
fn grouped<T: TryGetable>(row: &QueryResult, on: bool, col: &str) -> Result<Option<T>> {
    if on {
        Ok(row.try_get("", col)?)
    } else {
        Ok(None)
    }
}

/// Where a scan in list order (`sort_at`, `id`) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    /// Before the first row: skip this many matches first.
    Start { skip: u64 },
    /// After the row with this `sort_at` and `id`.
    After { sort_at: i64, id: i64 },
}

/// The next `limit` current revisions matching `filter` in list order,
/// from `cursor`, with their activities (`times::with_activities`). Continuing after a row (keyset paging) costs the same at
/// any depth, unlike OFFSET.
pub async fn times_from(
    db: &impl ConnectionTrait,
    filter: &TimeFilter,
    cursor: Cursor,
    limit: u64,
) -> Result<Vec<(TimeRow, Vec<String>)>> {
    let mut select = filter.list_select().limit(limit);
    match cursor {
        Cursor::Start { skip } => select = select.offset(skip),
        Cursor::After { sort_at, id } => {
            select = select.filter(
                Condition::any().add(time::Column::SortAt.gt(sort_at)).add(
                    Condition::all()
                        .add(time::Column::SortAt.eq(sort_at))
                        .add(time::Column::Id.gt(id)),
                ),
            );
        }
    }
    super::times::with_activities(db, select).await
}
