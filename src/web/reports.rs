//! Reports (`/reports`): a date range, filters and groupings of the
//! summary (`domain::reports::summary`, so the API's visibility), shown as
//! a table with totals and a server-rendered SVG bar chart, and the same
//! rows as CSV (`/reports.csv`, the columns of the API's summary CSV).

use askama::Template;
use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::{Datelike, Utc};

use crate::domain::projects::ProjectQuery;
use crate::domain::reports::{self, GroupKey, KeyValue, Summary};
use crate::domain::times::TimeQuery;
use crate::domain::{activities, projects, users, validate, Page};
use crate::error::Error;
use crate::http::AppState;
use crate::web::error::WebResult;
use crate::web::session::Session;
use crate::web::{encode, format_duration, Chrome};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(show))
        .route("/reports.csv", get(csv))
}

/// Bars drawn at most; more rows are in the table and the CSV.
const MAX_BARS: usize = 40;

/// The report form's values, read from the query string.
struct ReportQuery {
    start: String,
    end: String,
    user: String,
    project: String,
    activity: String,
    group_by: Vec<GroupKey>,
}

impl ReportQuery {
    fn parse(query: Option<&str>) -> Result<Self, Error> {
        let pairs: Vec<(String, String)> =
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.trim().to_owned()))
                .collect();
        let first = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let today = Utc::now().date_naive();
        let month_start = today.with_day(1).unwrap_or(today);
        let groups: Vec<&str> = pairs
            .iter()
            .filter(|(k, v)| k == "group_by" && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect();
        let group_by = if groups.is_empty() && first("start").is_none() {
            vec![GroupKey::Project]
        } else {
            GroupKey::parse_list(&groups)?
        };
        Ok(Self {
            start: first("start").unwrap_or_else(|| month_start.to_string()),
            end: first("end").unwrap_or_else(|| today.to_string()),
            user: first("user").unwrap_or_default(),
            project: first("project").unwrap_or_default(),
            activity: first("activity").unwrap_or_default(),
            group_by,
        })
    }

    fn time_query(&self) -> TimeQuery {
        let one = |v: &str| {
            if v.is_empty() {
                Vec::new()
            } else {
                vec![v.to_owned()]
            }
        };
        let date = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        TimeQuery {
            users: one(&self.user),
            projects: one(&self.project),
            activities: one(&self.activity),
            start: date(&self.start),
            end: date(&self.end),
            ..TimeQuery::default()
        }
    }

    fn query_string(&self) -> String {
        let mut parts = vec![
            format!("start={}", encode(&self.start)),
            format!("end={}", encode(&self.end)),
        ];
        for (key, value) in [
            ("user", &self.user),
            ("project", &self.project),
            ("activity", &self.activity),
        ] {
            if !value.is_empty() {
                parts.push(format!("{key}={}", encode(value)));
            }
        }
        for key in &self.group_by {
            parts.push(format!("group_by={}", key.name()));
        }
        parts.join("&")
    }
}

pub struct Option_ {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct GroupChoice {
    pub name: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct ReportRow {
    pub keys: Vec<String>,
    pub duration: String,
    pub hours: String,
    pub count: i64,
}

pub struct Bar {
    pub label: String,
    pub value: String,
    pub y: usize,
    pub width: String,
    pub text_y: usize,
    pub value_x: String,
}

pub struct Chart {
    pub height: usize,
    pub bars: Vec<Bar>,
    pub truncated: usize,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    start: String,
    end: String,
    users: Vec<Option_>,
    projects: Vec<Option_>,
    activities: Vec<Option_>,
    groups: Vec<GroupChoice>,
    columns: Vec<&'static str>,
    rows: Vec<ReportRow>,
    total_duration: String,
    total_hours: String,
    total_count: i64,
    chart: Chart,
    csv_href: String,
    error: Option<String>,
}

fn key_text(value: &KeyValue) -> String {
    match value {
        KeyValue::Null => "(deleted)".into(),
        KeyValue::Text(t) => t.clone(),
        KeyValue::Slugs(s) => s.join(" "),
    }
}

fn hours(seconds: i64) -> String {
    format!("{:.2}", seconds as f64 / 3600.0)
}

fn label(key: GroupKey) -> &'static str {
    match key {
        GroupKey::User => "User",
        GroupKey::Project => "Project",
        GroupKey::Activity => "Activity",
        GroupKey::Date => "Date",
        GroupKey::Week => "Week",
        GroupKey::Month => "Month",
    }
}

/// Horizontal bars, one per row, scaled to the longest.
fn chart(summary: &Summary) -> Chart {
    const ROW: usize = 26;
    let max = summary
        .rows
        .iter()
        .map(|r| r.sums.duration)
        .max()
        .unwrap_or(0)
        .max(1);
    let bars: Vec<Bar> = summary
        .rows
        .iter()
        .take(MAX_BARS)
        .enumerate()
        .map(|(i, row)| {
            let label = if row.keys.is_empty() {
                "All".to_owned()
            } else {
                row.keys
                    .iter()
                    .map(|(_, v)| key_text(v))
                    .collect::<Vec<_>>()
                    .join(" · ")
            };
            // Bars run from x=200 to at most x=640 of the 720-wide view box.
            let width = 440.0 * row.sums.duration as f64 / max as f64;
            Bar {
                label,
                value: format_duration(row.sums.duration),
                y: i * ROW + 4,
                width: format!("{width:.1}"),
                text_y: i * ROW + 19,
                value_x: format!("{:.1}", 206.0 + width),
            }
        })
        .collect();
    Chart {
        height: bars.len() * ROW + 8,
        truncated: summary.rows.len().saturating_sub(MAX_BARS),
        bars,
    }
}

async fn options(
    state: &AppState,
    query: &ReportQuery,
) -> WebResult<(Vec<Option_>, Vec<Option_>, Vec<Option_>)> {
    let choice = |value: String, label: String, current: &str| Option_ {
        selected: value == current,
        value,
        label,
    };
    let mut user_options: Vec<Option_> = users::list(&state.db, false, &[], None, Page::default())
        .await?
        .items
        .into_iter()
        .map(|u| choice(u.username.clone(), u.username, &query.user))
        .collect();
    user_options.sort_by_key(|o| o.label.to_lowercase());
    let mut project_options: Vec<Option_> =
        projects::list(&state.db, &ProjectQuery::default(), Page::default())
            .await?
            .items
            .into_iter()
            .filter_map(|p| {
                let slug = p.slugs.first()?.clone();
                Some(choice(slug, p.name, &query.project))
            })
            .collect();
    project_options.sort_by_key(|o| o.label.to_lowercase());
    let mut activity_options: Vec<Option_> =
        activities::list(&state.db, false, false, None, Page::default())
            .await?
            .items
            .into_iter()
            .filter_map(|a| Some(choice(a.slug?, a.name, &query.activity)))
            .collect();
    activity_options.sort_by_key(|o| o.label.to_lowercase());
    Ok((user_options, project_options, activity_options))
}

async fn show(State(state): State<AppState>, session: Session, uri: axum::http::Uri) -> WebResult {
    let parsed = ReportQuery::parse(uri.query());
    let (query, mut error) = match parsed {
        Ok(q) => (q, None),
        Err(e) => (
            ReportQuery::parse(None)?,
            Some(crate::web::error::plain_words(&e)),
        ),
    };
    if error.is_none()
        && [&query.start, &query.end]
            .iter()
            .any(|d| !d.is_empty() && validate::parse_date(d).is_none())
    {
        error = Some("Enter the dates as YYYY-MM-DD.".into());
    }
    let summary = if error.is_none() {
        match reports::summary(
            &state.db,
            &state.caches.summaries,
            &session.caller,
            &query.time_query(),
            &query.group_by,
        )
        .await
        {
            Ok(summary) => Some(summary),
            Err(e @ (Error::BadQueryValue { .. } | Error::Authorization { .. })) => {
                error = Some(crate::web::error::plain_words(&e));
                None
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let empty = Summary {
        group_by: query.group_by.clone(),
        rows: Vec::new(),
        total: Default::default(),
    };
    let summary = summary.unwrap_or_else(|| std::sync::Arc::new(empty));
    let (users, projects, activities) = options(&state, &query).await?;
    let page = ReportsPage {
        chrome: Chrome::new(&session, "reports"),
        start: query.start.clone(),
        end: query.end.clone(),
        users,
        projects,
        activities,
        groups: GroupKey::ALL
            .into_iter()
            .map(|k| GroupChoice {
                name: k.name(),
                label: label(k),
                checked: query.group_by.contains(&k),
            })
            .collect(),
        columns: summary.group_by.iter().map(|&k| label(k)).collect(),
        rows: summary
            .rows
            .iter()
            .map(|r| ReportRow {
                keys: r.keys.iter().map(|(_, v)| key_text(v)).collect(),
                duration: format_duration(r.sums.duration),
                hours: hours(r.sums.duration),
                count: r.sums.count,
            })
            .collect(),
        total_duration: format_duration(summary.total.duration),
        total_hours: hours(summary.total.duration),
        total_count: summary.total.count,
        chart: chart(&summary),
        csv_href: format!("/reports.csv?{}", query.query_string()),
        error,
    };
    Ok(super::form_page(&session, &page, page.error.is_some()))
}

async fn csv(State(state): State<AppState>, session: Session, uri: axum::http::Uri) -> WebResult {
    let query = ReportQuery::parse(uri.query())?;
    let summary = reports::summary(
        &state.db,
        &state.caches.summaries,
        &session.caller,
        &query.time_query(),
        &query.group_by,
    )
    .await?;
    // The same CSV as `GET /v0/reports/summary` answers.
    let body = axum::body::Body::from(crate::http::reports::summary_csv(&summary));
    let response = crate::http::csv::response(body, "report.csv");
    Ok(session.finish(response))
}
