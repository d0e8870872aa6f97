//! Cross-cutting layers: request ids, access log and request metrics,
//! security headers, and
//! JSON bodies for the 404/405 answers the router makes itself.

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{catalogue, Error};
use crate::monitoring;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest accepted query string, in bytes.
pub const MAX_QUERY_BYTES: usize = 8 * 1024;
/// Longest a request may take, body upload included. A request cut off
/// here is dropped with its transaction, so nothing is half-written.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Longest a client may take to send a request's headers, and longest an
/// idle connection is kept: a client trickling headers (slowloris) cannot
/// hold a connection, which the request timeout above does not cover.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

tokio::task_local! {
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being served (for server-error texts).
pub fn current_request_id() -> String {
    CURRENT_REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "none".to_owned())
}

/// A sane id sent by a proxy is kept; otherwise a fresh uuid is used.
fn request_id_of(req: &Request) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Gives each request an id, logs it (method, route template, path, status,
/// latency — never the query string, which may hold a token), counts it in
/// the metrics, and sets the response headers every API answer carries.
pub async fn request_context(req: Request, next: Next) -> Response {
    let id = request_id_of(&req);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    // The template (`/v0/times/{uuid}`), set by the router for matched routes.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let started = std::time::Instant::now();
    let in_flight = monitoring::enabled().then(monitoring::InFlight::start);
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let query_len = req.uri().query().map_or(0, str::len);
    let handle = async move {
        if query_len > MAX_QUERY_BYTES {
            let value = format!("of {query_len} bytes (the limit is {MAX_QUERY_BYTES})");
            return Error::bad_query("query", &value).into_response();
        }
        match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
            Ok(response) => response,
            Err(_) => Error::server(anyhow::anyhow!(
                "request timed out after {REQUEST_TIMEOUT:?}"
            ))
            .into_response(),
        }
    };
    let handle = crate::domain::per_request(handle);
    let mut response = CURRENT_REQUEST_ID
        .scope(id.clone(), tracing::Instrument::instrument(handle, span))
        .await;
    let status = response.status();
    let elapsed = started.elapsed();
    drop(in_flight);
    if monitoring::enabled() {
        monitoring::record_request(route.as_deref(), &method, status.as_u16(), elapsed);
    }
    // The access line carries everything itself (not only through the
    // span), so each JSON line stands alone.
    tracing::info!(
        request_id = %id,
        %method,
        route = route.as_deref().unwrap_or(monitoring::UNMATCHED_ROUTE),
        %path,
        status = status.as_u16(),
        latency_ms = round_ms(elapsed),
        "served"
    );
    let headers = response.headers_mut();
    if headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/json")
    {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(REQUEST_ID.clone(), v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'",
        ));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Milliseconds with one decimal (`77.8`), enough for a log line.
fn round_ms(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 1e4).round() / 10.0
}

/// 404 `Object not found` for unknown routes.
pub async fn not_found() -> Response {
    Error::NotFound("resource").into_response()
}

/// 405 for a known path with the wrong method; the router adds `Allow`.
pub async fn method_not_allowed() -> Response {
    let body = json!({
        "status": 405,
        "error": "Method not allowed",
        "text": catalogue::method_not_allowed("resource"),
    });
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

/// Empty 200 answer of a successful DELETE (existing clients expect 200).
pub fn deleted() -> Response {
    (StatusCode::OK, Body::empty()).into_response()
}
