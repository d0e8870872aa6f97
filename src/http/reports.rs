//! `/v0/reports/summary`, and the CSV export of `/v0/times`.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::reports::{self, GroupKey, KeyValue, Summary, TimeExport};
use crate::domain::times::{TimeQuery, TimeView};
use crate::domain::{Caller, Page};
use crate::error::Result;
use crate::http::extract::{Auth, Params};
use crate::http::openapi::ListErrors;
use crate::http::pagination::page;
use crate::http::times::time_query;
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
    format: Option<crate::http::times::ListFormat>,
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

/// Columns of the times CSV.
const TIME_COLUMNS: [&str; 12] = [
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

fn push_time(out: &mut String, t: &TimeView) {
    let revision = t.revision.to_string();
    let duration = t.duration.to_string();
    let project = t.project.join(" ");
    let activities = t.activities.join(" ");
    let opt = |v: &Option<String>| v.as_deref().unwrap_or("").to_owned();
    let (notes, issue_uri, updated_at, deleted_at) = (
        opt(&t.notes),
        opt(&t.issue_uri),
        opt(&t.updated_at),
        opt(&t.deleted_at),
    );
    csv::push_record(
        out,
        [
            t.uuid.as_str(),
            &revision,
            &t.user,
            &project,
            &activities,
            &duration,
            &t.date_worked,
            &notes,
            &issue_uri,
            &t.created_at,
            &updated_at,
            &deleted_at,
        ],
    );
}

/// How long a client may leave an export chunk unread before the export
/// is abandoned (the request timeout covers only the start of a stream).
const CHUNK_SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// How a streamed list of times is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimesEncoding {
    /// RFC 4180 with a header row; one record per time, its current
    /// revision (`include_revisions` does not apply).
    Csv,
    /// The JSON array of `GET /times`, parents included on request.
    Json,
}

impl TimesEncoding {
    fn start(self) -> String {
        match self {
            TimesEncoding::Csv => {
                let mut header = String::new();
                csv::push_record(&mut header, TIME_COLUMNS);
                header
            }
            TimesEncoding::Json => "[".to_owned(),
        }
    }

    fn push(self, out: &mut String, time: &TimeView, first: bool) {
        match self {
            TimesEncoding::Csv => push_time(out, time),
            TimesEncoding::Json => {
                if !first {
                    out.push(',');
                }
                // A view always serialises (strings, numbers, options).
                if let Ok(json) = serde_json::to_string(time) {
                    out.push_str(&json);
                }
            }
        }
    }

    fn end(self) -> &'static str {
        match self {
            TimesEncoding::Csv => "",
            TimesEncoding::Json => "]",
        }
    }
}

/// A streamed list of times and its count before skip/limit.
pub struct TimeStream {
    pub body: Body,
    pub total: u64,
}

/// `GET /times` streamed one batch at a time, so memory does not grow with
/// the list: every matching time within `page`, in list order, from one
/// consistent snapshot.
///
/// Bad filters are refused (as JSON) before the stream starts. The batches
/// are read by a task of their own that hands them over through a channel
/// of one chunk: a client that hangs up (or stops reading for
/// `CHUNK_SEND_TIMEOUT`) makes it stop between two queries and end its read
/// transaction cleanly, rather than having a query cancelled mid-flight. A
/// database error mid-stream is logged and cuts the response short.
pub async fn stream_times(
    state: &AppState,
    caller: &Caller,
    query: &TimeQuery,
    page: Page,
    encoding: TimesEncoding,
) -> Result<TimeStream> {
    let with_parents = encoding == TimesEncoding::Json && query.include_revisions;
    let export = reports::export_times(&state.db, caller, query, page, with_parents).await?;
    let total = export.total().await?;
    let request_id = crate::http::middleware::current_request_id();
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(1);
    tokio::spawn(produce_times(export, encoding, sender, request_id));
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok(TimeStream {
        body: Body::from_stream(body),
        total,
    })
}

/// `GET /times` as CSV: every matching time (the default page size does
/// not apply; explicit `skip`/`limit` do).
pub async fn times_csv(
    state: &AppState,
    caller: &Caller,
    query: &TimeQuery,
    params: &Params,
) -> Result<Response> {
    let page = page(params, 0)?;
    let stream = stream_times(state, caller, query, page, TimesEncoding::Csv).await?;
    Ok(csv::response(stream.body, "times.csv"))
}

/// Writes the start, each batch of `export`, and the end to `sender` until
/// the export ends, fails, or the client goes away.
async fn produce_times(
    mut export: TimeExport,
    encoding: TimesEncoding,
    sender: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    request_id: String,
) {
    let send = |chunk: std::io::Result<Bytes>| {
        let sender = sender.clone();
        async move {
            matches!(
                tokio::time::timeout(CHUNK_SEND_TIMEOUT, sender.send(chunk)).await,
                Ok(Ok(()))
            )
        }
    };
    let mut open = send(Ok(Bytes::from(encoding.start()))).await;
    let mut first = true;
    while open {
        match export.next_batch().await {
            Ok(Some(batch)) => {
                let mut out = String::with_capacity(batch.len() * 300);
                for time in &batch {
                    encoding.push(&mut out, time, first);
                    first = false;
                }
                open = send(Ok(Bytes::from(out))).await;
            }
            Ok(None) => {
                send(Ok(Bytes::from_static(encoding.end().as_bytes()))).await;
                break;
            }
            Err(e) => {
                tracing::error!(request_id, error = %e, "streaming times failed mid-stream");
                send(Err(std::io::Error::other("export failed"))).await;
                break;
            }
        }
    }
    if let Err(e) = export.finish().await {
        tracing::warn!(request_id, error = %e, "ending an export's read transaction");
    }
}
