//! `/v0/timer`: the caller's running timer (issue 16).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::timers::{self, RunningTimer};
use crate::error::Result;
use crate::http::extract::{Auth, AuthedObject};
use crate::http::openapi::objects::request_object;
use crate::http::openapi::{CreateErrors, DeleteUnusedErrors, Envelope, ShowErrors, UpdateErrors};
use crate::http::views::TimeView;
use crate::http::{middleware, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show, edit, discard))
        .routes(routes!(start))
        .routes(routes!(stop))
}

/// `{"running": false}`, or `{"running": true, ...}` with every field of
/// the running timer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimerState {
    pub running: bool,
    /// When it started (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = DateTime)]
    pub started_at: Option<String>,
    /// Whole seconds since it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub elapsed: Option<i64>,
    /// The project's slug.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub project: Option<String>,
    /// The activities' slugs, sorted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub activities: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub issue_uri: Option<Option<String>>,
}

impl From<Option<RunningTimer>> for TimerState {
    fn from(timer: Option<RunningTimer>) -> Self {
        match timer {
            None => TimerState {
                running: false,
                started_at: None,
                elapsed: None,
                project: None,
                activities: None,
                notes: None,
                issue_uri: None,
            },
            Some(t) => TimerState {
                running: true,
                started_at: Some(t.started_at),
                elapsed: Some(t.elapsed),
                project: Some(t.project),
                activities: Some(t.activities),
                notes: Some(t.notes),
                issue_uri: Some(t.issue_uri),
            },
        }
    }
}

request_object!(
    TimerObject,
    timers::TIMER_SPECS,
    "A timer as sent to start or edit one: `project` is required to start; `activities` may be left out when the project has a default activity.",
    required = false
);

request_object!(
    TimerStopObject,
    timers::STOP_SPECS,
    "What a stop may set of the new time (else: the date the timer started, and the timer's notes and issue URI).",
    required = false
);

/// The caller's running timer, if any.
#[utoipa::path(
    get, path = "/timer", operation_id = "show_timer", tag = "timer",
    responses((status = 200, description = "The timer, or `{\"running\": false}`", body = TimerState), ShowErrors)
)]
async fn show(State(state): State<AppState>, Auth(caller): Auth) -> Result<Json<TimerState>> {
    Ok(Json(timers::current(&state.db, &caller).await?.into()))
}

/// Starts a timer for the caller (a member of the project). A timer
/// already running is stopped first and its time entry saved.
#[utoipa::path(
    post, path = "/timer/start", operation_id = "start_timer", tag = "timer",
    request_body = Envelope<TimerObject>,
    responses((status = 200, description = "The running timer", body = TimerState), CreateErrors)
)]
async fn start(State(state): State<AppState>, body: AuthedObject) -> Result<Json<TimerState>> {
    let timer = timers::start(&state.db, &body.caller, &body.object).await?;
    Ok(Json(Some(timer).into()))
}

/// Changes the fields sent of the running timer (404 when none runs).
#[utoipa::path(
    post, path = "/timer", operation_id = "update_timer", tag = "timer",
    request_body = Envelope<TimerObject>,
    responses((status = 200, description = "The running timer", body = TimerState), UpdateErrors)
)]
async fn edit(State(state): State<AppState>, body: AuthedObject) -> Result<Json<TimerState>> {
    let timer = timers::edit(&state.db, &body.caller, &body.object).await?;
    Ok(Json(Some(timer).into()))
}

/// Stops the running timer and saves it as a time entry of the caller
/// (`duration`: whole seconds elapsed); 404 when none runs.
#[utoipa::path(
    post, path = "/timer/stop", operation_id = "stop_timer", tag = "timer",
    request_body = Envelope<TimerStopObject>,
    responses((status = 200, description = "The new time entry", body = TimeView), UpdateErrors)
)]
async fn stop(State(state): State<AppState>, body: AuthedObject) -> Result<Json<TimeView>> {
    Ok(Json(
        timers::stop(&state.db, &body.caller, &body.object)
            .await?
            .into(),
    ))
}

/// Discards the running timer without saving it; 404 when none runs.
#[utoipa::path(
    delete, path = "/timer", operation_id = "remove_timer", tag = "timer",
    responses((status = 200, description = "Discarded (empty body)"), DeleteUnusedErrors)
)]
async fn discard(State(state): State<AppState>, Auth(caller): Auth) -> Result<Response> {
    timers::discard(&state.db, &caller).await?;
    Ok(middleware::deleted().into_response())
}
