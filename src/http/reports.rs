//! `/v0/reports/summary`.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::reports::{self, GroupKey, KeyValue, Summary};
use crate::error::Result;
use crate::http::extract::{Auth, Params};
use crate::http::openapi::ListErrors;
use crate::http::query::{time_query, ListFormat};
use crate::http::{csv, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(summary))
}

/// Query parameters of `GET /reports/summary`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // describes what `Params` reads
pub struct SummaryQuery {
    /// Group by these keys, in order: `user`, `project`, `activity`, `date`,
    /// `week` (ISO), `month` (repeatable and/or comma-separated).
    group_by: Option<Vec<String>>,
    /// Only times of these users (repeatable).
    user: Option<Vec<String>>,
    /// Only times on these projects, by slug (repeatable).
    project: Option<Vec<String>>,
    /// Only times with these activities, by slug (repeatable).
    activity: Option<Vec<String>>,
    /// Only times worked on or after this date (`YYYY-MM-DD`).
    #[param(format = Date)]
    start: Option<String>,
    /// Only times worked on or before this date (`YYYY-MM-DD`).
    #[param(format = Date)]
    end: Option<String>,
    /// Include deleted times.
    include_deleted: Option<bool>,
    /// `csv` answers RFC 4180 CSV (as does `Accept: text/csv`); `json` forces JSON.
    #[param(inline)]
    format: Option<ListFormat>,
}

/// The summary as sent.
#[derive(ToSchema)]
#[allow(dead_code)] // documents `domain::reports::Summary`'s serialisation
pub struct SummaryDoc {
    /// One object per group: its `group_by` keys (a username; a project's
    /// sorted slugs; an activity slug; `YYYY-MM-DD`; `YYYY-Www`; `YYYY-MM`;
    /// or null for a deleted project or activity), plus `duration`
    /// (seconds) and `count` (times).
    rows: Vec<std::collections::HashMap<String, serde_json::Value>>,
    total: SumsDoc,
}

/// Totals over every selected time, each counted once.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SumsDoc {
    /// Seconds.
    duration: i64,
    /// Times.
    count: i64,
}

/// Sums of durations and counts of the times the caller may see, grouped.
/// A time with several activities counts once per activity in groupings
/// by `activity`, once otherwise.
#[utoipa::path(
    get, path = "/reports/summary", operation_id = "summary_reports", tag = "reports",
    params(SummaryQuery),
    responses(
        (status = 200, description = "The summary (JSON, or CSV on request)",
         content((SummaryDoc = "application/json"), (String = "text/csv"))),
        ListErrors,
    )
)]
async fn summary(
    State(state): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
    params: Params,
) -> Result<Response> {
    let query = time_query(&params);
    let group_by = GroupKey::parse_list(&params.all("group_by"))?;
    let as_csv = csv::wanted(&params, &headers)?;
    let summary = reports::summary(&state.db, &caller, &query, &group_by).await?;
    if as_csv {
        Ok(csv::response(
            Body::from(summary_csv(&summary)),
            "summary.csv",
        ))
    } else {
        Ok(Json(summary).into_response())
    }
}

/// The summary's rows as CSV: the group keys in `group_by` order, then
/// `duration` and `count` (no total row: it is the sum of the rows unless
/// grouped by activity). Project slugs are joined with spaces; null is empty.
fn summary_csv(summary: &Summary) -> String {
    let mut out = String::new();
    let header = summary.group_by.iter().map(|k| k.name());
    csv::push_record(&mut out, header.chain(["duration", "count"]));
    for row in &summary.rows {
        let mut fields: Vec<String> = row
            .keys
            .iter()
            .map(|(_, v)| match v {
                KeyValue::Null => String::new(),
                KeyValue::Text(t) => t.clone(),
                KeyValue::Slugs(s) => s.join(" "),
            })
            .collect();
        fields.push(row.sums.duration.to_string());
        fields.push(row.sums.count.to_string());
        csv::push_record(&mut out, fields.iter().map(String::as_str));
    }
    out
}
