//! `GET /times` streamed: large JSON pages and every CSV answer are written
//! one batch at a time from one consistent snapshot, so memory does not
//! grow with the list.

use axum::body::{Body, Bytes};

use crate::domain::times::{export_times, TimeExport, TimeQuery};
use crate::domain::{Caller, Page};
use crate::error::Result;
use crate::http::views::TimeView;
use crate::http::{csv, middleware, AppState};

/// How long a client may leave a chunk unread before the stream is
/// abandoned (the request timeout covers only the start of a stream).
const CHUNK_SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Columns of the times CSV.
const CSV_COLUMNS: [&str; 12] = [
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

/// How a streamed list of times is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// RFC 4180 with a header row; one record per time, its current
    /// revision (`include_revisions` does not apply).
    Csv,
    /// The JSON array of `GET /times`, parents included on request.
    Json,
}

impl Encoding {
    fn start(self) -> String {
        match self {
            Encoding::Csv => {
                let mut header = String::new();
                csv::push_record(&mut header, CSV_COLUMNS);
                header
            }
            Encoding::Json => "[".to_owned(),
        }
    }

    fn push(self, out: &mut String, time: &TimeView, first: bool) {
        match self {
            Encoding::Csv => push_csv_record(out, time),
            Encoding::Json => {
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
            Encoding::Csv => "",
            Encoding::Json => "]",
        }
    }
}

fn push_csv_record(out: &mut String, t: &TimeView) {
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

/// A streamed list of times and its count before skip/limit.
pub struct TimeStream {
    pub body: Body,
    pub total: u64,
}

/// Every matching time within `page`, in list order, from one consistent
/// snapshot, written as `encoding`.
///
/// Bad filters are refused (as JSON) before the stream starts. The batches
/// are read by a task of their own that hands them over through a channel
/// of one chunk: a client that hangs up (or stops reading for
/// `CHUNK_SEND_TIMEOUT`) makes it stop between two queries and end its read
/// transaction cleanly, rather than having a query cancelled mid-flight. A
/// database error mid-stream is logged and cuts the response short.
pub async fn times(
    state: &AppState,
    caller: &Caller,
    query: &TimeQuery,
    page: Page,
    encoding: Encoding,
) -> Result<TimeStream> {
    let with_parents = encoding == Encoding::Json && query.include_revisions;
    let export = export_times(&state.db, caller, query, page, with_parents).await?;
    let total = export.total().await?;
    let request_id = middleware::current_request_id();
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(1);
    tokio::spawn(produce(export, encoding, sender, request_id));
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Ok(TimeStream {
        body: Body::from_stream(body),
        total,
    })
}

/// Writes the start, each batch of `export`, and the end to `sender` until
/// the export ends, fails, or the client goes away.
async fn produce(
    mut export: TimeExport,
    encoding: Encoding,
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
                for time in batch {
                    encoding.push(&mut out, &TimeView::from(time), first);
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
