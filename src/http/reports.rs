//! `/v0/reports/summary`, and the CSV export of `/v0/times`.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::reports::{self, GroupKey, KeyValue, Summary, TimeExport};
use crate::domain::times::{TimeQuery, TimeView};
use crate::domain::Caller;
use crate::error::Result;
use crate::http::extract::{Auth, Params};
use crate::http::pagination::page;
use crate::http::times::time_query;
use crate::http::{csv, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/reports/summary", get(summary))
}

/// `GET /reports/summary?group_by=…` plus the filters of `GET /times`.
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

/// `GET /times` as CSV: every matching time (the default page size does
/// not apply; explicit `skip`/`limit` do; `include_revisions` does not:
/// one record per time, its current revision), streamed one batch at a
/// time so memory does not grow with the export.
///
/// Bad filters are refused (as JSON) before the stream starts. The batches
/// are read by a task of their own that hands them over through a channel
/// of one chunk: a client that hangs up (or stops reading for
/// `CHUNK_SEND_TIMEOUT`) makes it stop between two queries and end its read
/// transaction cleanly, rather than having a query cancelled mid-flight. A
/// database error mid-stream is logged and cuts the response short.
pub async fn times_csv(
    state: &AppState,
    caller: &Caller,
    query: &TimeQuery,
    params: &Params,
) -> Result<Response> {
    let page = page(params, 0)?;
    let export = reports::export_times(&state.db, caller, query, page).await?;
    let request_id = crate::http::middleware::current_request_id();
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(1);
    tokio::spawn(produce_times_csv(export, sender, request_id));
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok(csv::response(Body::from_stream(body), "times.csv"))
}

/// Writes the header and then each batch of `export` to `sender` until
/// the export ends, fails, or the client goes away.
async fn produce_times_csv(
    mut export: TimeExport,
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
    let mut header = String::new();
    csv::push_record(&mut header, TIME_COLUMNS);
    let mut open = send(Ok(Bytes::from(header))).await;
    while open {
        match export.next_batch().await {
            Ok(Some(batch)) => {
                let mut out = String::with_capacity(batch.len() * 200);
                for time in &batch {
                    push_time(&mut out, time);
                }
                open = send(Ok(Bytes::from(out))).await;
            }
            Ok(None) => break,
            Err(e) => {
                tracing::error!(request_id, error = %e, "CSV export failed mid-stream");
                send(Err(std::io::Error::other("export failed"))).await;
                break;
            }
        }
    }
    if let Err(e) = export.finish().await {
        tracing::warn!(request_id, error = %e, "ending an export's read transaction");
    }
}
