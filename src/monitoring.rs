//! Prometheus metrics, off unless `TIMESYNC_METRICS_BIND` is set, served on
//! that separate listener so they never show on the API's address.
//!
//! Labels hold only route templates (`/v0/times/{uuid}`, never the raw
//! path), methods, status codes and outcomes: no usernames, tokens or
//! other personal data.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::Method;
use axum::routing::get;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DatabaseBackend;
use tokio::net::TcpListener;

use crate::storage::Db;

const REQUESTS: &str = "timesync_http_requests_total";
const REQUEST_SECONDS: &str = "timesync_http_request_duration_seconds";
const IN_FLIGHT: &str = "timesync_http_requests_in_flight";
const LOGINS: &str = "timesync_logins_total";
const POOL_CONNECTIONS: &str = "timesync_db_pool_connections";
const POOL_IDLE: &str = "timesync_db_pool_idle_connections";
const POOL_MAX: &str = "timesync_db_pool_max_connections";
const START_TIME: &str = "process_start_time_seconds";
const BUILD_INFO: &str = "timesync_build_info";

/// Latency buckets, in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The route label of requests no route matched: raw paths would let any
/// client create label values (and could carry personal data).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// How often histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same
/// handle). Until then every recording below is a no-op.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), &LATENCY_BUCKETS)?
        .install_recorder()?;
    describe_counter!(
        REQUESTS,
        "HTTP requests answered, by route template, method and status"
    );
    describe_histogram!(
        REQUEST_SECONDS,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by route template and method"
    );
    describe_gauge!(IN_FLIGHT, "HTTP requests being answered");
    describe_counter!(
        LOGINS,
        "POST /v0/login by outcome: success, failure, throttled, invalid (a malformed request), error"
    );
    describe_gauge!(POOL_CONNECTIONS, "Open database connections of the pool");
    describe_gauge!(POOL_IDLE, "Idle database connections of the pool");
    describe_gauge!(POOL_MAX, "Most connections the pool opens");
    describe_gauge!(
        START_TIME,
        "When metrics started (this process's start), Unix seconds"
    );
    describe_gauge!(BUILD_INFO, "Always 1; the version label names the build");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    gauge!(START_TIME).set(now.as_secs_f64());
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// Whether metrics are being recorded (so callers skip building labels).
pub fn enabled() -> bool {
    HANDLE.get().is_some()
}

/// Counts a request in flight until dropped (also when the request is cancelled).
pub struct InFlight(());

impl InFlight {
    pub fn start() -> Self {
        gauge!(IN_FLIGHT).increment(1.0);
        Self(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        gauge!(IN_FLIGHT).decrement(1.0);
    }
}

/// The method as a label: the standard ones, anything else as `other`
/// (a client can send any token as a method).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Records one answered request. `route` is the matched route template.
pub fn record_request(route: Option<&str>, method: &Method, status: u16, elapsed: Duration) {
    let route = route.unwrap_or(UNMATCHED_ROUTE).to_owned();
    let method = method_label(method);
    counter!(REQUESTS, "route" => route.clone(), "method" => method, "status" => status.to_string())
        .increment(1);
    histogram!(REQUEST_SECONDS, "route" => route.clone(), "method" => method)
        .record(elapsed.as_secs_f64());
    if route == "/v0/login" && method == "POST" {
        let outcome = match status {
            200..=299 => "success",
            401 | 403 => "failure",
            429 => "throttled",
            400..=499 => "invalid",
            _ => "error",
        };
        counter!(LOGINS, "outcome" => outcome).increment(1);
    }
}

/// Reads the pool's figures into their gauges (at each scrape).
fn record_pool(db: &Db) {
    let conn = db.conn();
    let (size, idle, max) = match db.backend() {
        DatabaseBackend::Sqlite => {
            let p = conn.get_sqlite_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        DatabaseBackend::Postgres => {
            let p = conn.get_postgres_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        DatabaseBackend::MySql => {
            let p = conn.get_mysql_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        // Not a backend this server connects to.
        _ => return,
    };
    gauge!(POOL_CONNECTIONS).set(f64::from(size));
    gauge!(POOL_IDLE).set(idle as f64);
    gauge!(POOL_MAX).set(f64::from(max));
}

/// Serves `GET /metrics` on `listener` until the task is dropped, and keeps
/// the recorder's histograms tidy between scrapes.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle, db: Db) {
    // A JoinSet aborts its tasks when dropped, i.e. when this task is.
    let mut upkeep = tokio::task::JoinSet::new();
    {
        let handle = handle.clone();
        upkeep.spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        });
    }
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let (handle, db) = (handle.clone(), db.clone());
            async move {
                record_pool(&db);
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
            }
        }),
    );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "the metrics listener failed");
    }
}
