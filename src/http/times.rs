//! `/v0/times` and `/v0/times/:uuid`.

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa::{IntoParams, ToSchema};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::times::{self, TimeView};
use crate::error::Result;
use crate::http::extract::{Auth, AuthedObject, Params, PathParam};
use crate::http::openapi::{
    CreateErrors, DeleteUnusedErrors, Envelope, ListErrors, ShowErrors, UpdateErrors,
};
use crate::http::pagination::{list_response, page, streamed_list_response};
use crate::http::query::{time_query, ListFormat};
use crate::http::{csv, middleware, AppState};

mod stream;

/// Pages larger than this (or no limit) are streamed.
const STREAM_ABOVE: u64 = 1_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

/// Query parameters of `GET /times`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // describes what `Params` reads
pub struct TimeListQuery {
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
    /// Add each time's older revisions as `parents`.
    include_revisions: Option<bool>,
    /// Objects to skip.
    #[param(minimum = 0, maximum = 9223372036854775807_u64)]
    skip: Option<u64>,
    /// Most objects to return (0: all).
    #[param(minimum = 0, maximum = 9223372036854775807_u64)]
    limit: Option<u64>,
    /// `csv` answers RFC 4180 CSV (as does `Accept: text/csv`); `json` forces JSON.
    #[param(inline)]
    format: Option<ListFormat>,
}

/// Query parameters of `GET /times/{uuid}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct TimeShowQuery {
    /// Show the time even if deleted.
    include_deleted: Option<bool>,
    /// Add the older revisions as `parents`.
    include_revisions: Option<bool>,
}

/// A time as sent in a POST: `duration`, `user`, `project` and
/// `date_worked` are required on create.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TimeObject {
    /// Seconds.
    #[schema(nullable = false, minimum = 0, maximum = 2147483647)]
    duration: Option<i64>,
    /// A username.
    #[schema(nullable = false, pattern = r"^[A-Za-z0-9._~-]+$", max_length = 64)]
    user: Option<String>,
    /// A project slug.
    #[schema(
        nullable = false,
        pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length = 64
    )]
    project: Option<String>,
    /// Activity slugs (the project's default activity when absent).
    #[schema(max_items = 100)]
    activities: Option<Vec<crate::http::openapi::Slug>>,
    #[schema(max_length = 65535)]
    notes: Option<String>,
    /// An absolute URI, or null.
    #[schema(format = "uri", max_length = 2048)]
    issue_uri: Option<String>,
    #[schema(nullable = false, format = Date)]
    date_worked: Option<String>,
}

/// Lists times in creation order.
#[utoipa::path(
    get, path = "/times", operation_id = "list_times", tag = "times", params(TimeListQuery),
    responses(
        (status = 200, description = "The times (JSON, or CSV on request)",
         content((Vec<TimeView> = "application/json"), (String = "text/csv")),
         headers(("X-Total-Count" = u64, description = "Matching objects before skip/limit (JSON)"),
                 ("Link" = String, description = "Next/previous pages (JSON)"))),
        ListErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    params: Params,
) -> Result<Response> {
    let query = time_query(&params);
    if csv::wanted(&params, &headers)? {
        // Every matching time: the default page size does not apply to
        // CSV, an explicit `skip`/`limit` does.
        let page = page(&params, 0)?;
        let stream = stream::times(&state, &caller, &query, page, stream::Encoding::Csv).await?;
        return Ok(csv::response(stream.body, "times.csv"));
    }
    let page = page(&params, state.config.default_limit)?;
    if page.limit.is_none_or(|limit| limit > STREAM_ABOVE) {
        // Large lists are streamed in batches rather than built in memory.
        let stream = stream::times(&state, &caller, &query, page, stream::Encoding::Json).await?;
        return Ok(streamed_list_response(
            &uri,
            stream.body,
            stream.total,
            page,
        ));
    }
    let listing = times::list(&state.db, &caller, &query, page).await?;
    Ok(list_response(&uri, &listing.items, listing.total, page))
}

/// One of the times.
#[utoipa::path(
    get, path = "/times/{uuid}", operation_id = "show_times", tag = "times",
    params(("uuid" = String, Path, description = "The time's uuid", format = "uuid"), TimeShowQuery),
    responses((status = 200, description = "Found", body = TimeView), ShowErrors)
)]
async fn show(
    State(state): State<AppState>,
    Auth(caller): Auth,
    PathParam(uuid): PathParam,
    params: Params,
) -> Result<Json<TimeView>> {
    let view = times::get(
        &state.db,
        &caller,
        &uuid,
        params.flag("include_deleted"),
        params.flag("include_revisions"),
    )
    .await?;
    Ok(Json(view))
}

/// Creates one of the times (the time's user, project managers and site admins; see times.rst).
#[utoipa::path(
    post, path = "/times", operation_id = "create_times", tag = "times",
    request_body = Envelope<TimeObject>,
    responses((status = 200, description = "Created", body = TimeView), CreateErrors)
)]
async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Json<TimeView>> {
    Ok(Json(
        times::create(&state.db, &body.caller, &body.object).await?,
    ))
}

/// Updates one of the times: only the fields sent change (the time's user, project managers and site admins; see times.rst).
#[utoipa::path(
    post, path = "/times/{uuid}", operation_id = "update_times", tag = "times",
    params(("uuid" = String, Path, description = "The time's uuid", format = "uuid")),
    request_body = Envelope<TimeObject>,
    responses((status = 200, description = "Updated", body = TimeView), UpdateErrors)
)]
async fn update(
    State(state): State<AppState>,
    PathParam(uuid): PathParam,
    body: AuthedObject,
) -> Result<Json<TimeView>> {
    Ok(Json(
        times::update(&state.db, &body.caller, &uuid, &body.object).await?,
    ))
}

/// Deletes one of the times (the time's user, project managers and site admins; see times.rst).
#[utoipa::path(
    delete, path = "/times/{uuid}", operation_id = "remove_times", tag = "times",
    params(("uuid" = String, Path, description = "The time's uuid", format = "uuid")),
    responses((status = 200, description = "Deleted (empty body)"), DeleteUnusedErrors)
)]
async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    PathParam(uuid): PathParam,
) -> Result<Response> {
    times::delete(&state.db, &caller, &uuid).await?;
    Ok(middleware::deleted().into_response())
}
