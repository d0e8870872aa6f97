//! `/v0/reports/summary`.

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::reports::{self, GroupKey, KeyValue, Summary, SummaryRow};
use crate::error::Result;
use crate::http::csv::FormatQuery;
use crate::http::extract::Auth;
use crate::http::openapi::ListErrors;
use crate::http::query::{Query, TimeFilters};
use crate::http::{csv, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(summary))
}

/// Query parameters of `GET /reports/summary` besides the filters of
/// `GET /times` and the format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Group by these keys, in order: `user`, `project`, `activity`, `date`,
    /// `week` (ISO), `month` (repeatable and/or comma-separated).
    #[param(value_type = Option<Vec<String>>)]
    group_by: Option<Vec<GroupBy>>,
}

/// One `group_by` value: one or more keys, comma-separated.
#[derive(Debug)]
struct GroupBy(Vec<GroupKey>);

impl<'de> Deserialize<'de> for GroupBy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = String::deserialize(d)?;
        GroupKey::parse_list(&[&value])
            .map(GroupBy)
            .map_err(serde::de::Error::custom)
    }
}

impl SummaryQuery {
    /// The keys in order of their first mention.
    fn group_by(self) -> Vec<GroupKey> {
        let mut keys = Vec::new();
        for key in self.group_by.into_iter().flatten().flat_map(|g| g.0) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }
}

/// The summary as sent (built from `domain::reports::Summary`).
#[derive(Serialize, ToSchema)]
pub struct SummaryView<'a> {
    /// One object per group: its `group_by` keys (a username; a project's
    /// sorted slugs; an activity slug; `YYYY-MM-DD`; `YYYY-Www`; `YYYY-MM`;
    /// or null for a deleted project or activity), plus `duration`
    /// (seconds) and `count` (times).
    #[schema(value_type = Vec<std::collections::HashMap<String, serde_json::Value>>)]
    rows: &'a [SummaryRow],
    total: SumsView,
}

/// Totals over every selected time, each counted once.
#[derive(Serialize, ToSchema)]
pub struct SumsView {
    /// Seconds.
    duration: i64,
    /// Times.
    count: i64,
}

impl<'a> From<&'a Summary> for SummaryView<'a> {
    fn from(summary: &'a Summary) -> Self {
        Self {
            rows: &summary.rows,
            total: SumsView {
                duration: summary.total.duration,
                count: summary.total.count,
            },
        }
    }
}

/// Sums of durations and counts of the times the caller may see, grouped.
/// A time with several activities counts once per activity in groupings
/// by `activity`, once otherwise.
#[utoipa::path(
    get, path = "/reports/summary", operation_id = "summary_reports", tag = "reports",
    params(SummaryQuery, TimeFilters, FormatQuery),
    responses(
        (status = 200, description = "The summary (JSON, or CSV on request)",
         content((SummaryView = "application/json"), (String = "text/csv"))),
        ListErrors,
    )
)]
async fn summary(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(summary_query): Query<SummaryQuery>,
    csv::Wanted(as_csv): csv::Wanted,
    Query(filters): Query<TimeFilters>,
) -> Result<Response> {
    let query = filters.into_query(false);
    let group_by = summary_query.group_by();
    let summary = reports::summary(
        &state.db,
        &state.caches.summaries,
        &caller,
        &query,
        &group_by,
    )
    .await?;
    if as_csv {
        Ok(csv::response(
            Body::from(summary_csv(&summary)),
            "summary.csv",
        ))
    } else {
        Ok(Json(SummaryView::from(&*summary)).into_response())
    }
}

/// The summary's rows as CSV: the group keys in `group_by` order, then
/// `duration` and `count` (no total row: it is the sum of the rows unless
/// grouped by activity). Project slugs are joined with spaces; null is empty.
pub(crate) fn summary_csv(summary: &Summary) -> String {
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
