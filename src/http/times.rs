//! `/v0/times` and `/v0/times/:uuid`.

use axum::extract::{OriginalUri, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::ids::TimeId;
use crate::domain::times::{self, TimeQuery};
use crate::error::Result;
use crate::http::csv::FormatQuery;
use crate::http::extract::{Auth, AuthedObject, PathId};
use crate::http::openapi::objects::request_object;
use crate::http::openapi::{
    CreateErrors, DeleteUnusedErrors, Envelope, ListErrors, ShowErrors, UpdateErrors,
};
use crate::http::pagination::{list_response, streamed_list_response, NextSince, Paging};
use crate::http::query::{Flag, Query, SinceQuery, TimeFilters};
use crate::http::views::{self, TimeView};
use crate::http::{csv, middleware, AppState};

mod stream;

/// Pages that may hold more times than this (by `limit` and the count)
/// are streamed.
const STREAM_ABOVE: u64 = 5_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

/// Query parameters of `GET /times` besides its filters, paging and format.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct TimeListQuery {
    /// Add each time's older revisions as `parents`.
    #[param(value_type = Option<bool>)]
    include_revisions: Flag,
}

/// Query parameters of `GET /times/{uuid}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct TimeShowQuery {
    /// Show the time even if deleted.
    #[param(value_type = Option<bool>)]
    include_deleted: Flag,
    /// Add the older revisions as `parents`.
    #[param(value_type = Option<bool>)]
    include_revisions: Flag,
}

request_object!(
    TimeObject,
    times::SPECS,
    "A time as sent in a POST: `duration`, `user`, `project` and `date_worked` are required on create.",
    required = false
);

/// Lists times, oldest change first (`updated_at`, else `created_at`).
#[utoipa::path(
    get, path = "/times", operation_id = "list_times", tag = "times", params(TimeFilters, TimeListQuery, SinceQuery, Paging, FormatQuery),
    responses(
        (status = 200, description = "The times (JSON, or CSV on request)",
         content((Vec<TimeView> = "application/json"), (String = "text/csv")),
         headers(("X-Total-Count" = u64, description = "Matching objects before skip/limit (JSON)"),
                 ("Link" = String, description = "Next/previous pages (JSON)"),
                 ("X-Next-Since" = String, description = "The `since` of the next synchronisation (RFC 3339, UTC)"))),
        ListErrors,
    )
)]
// One extractor per query struct (each documented in the OpenAPI).
#[allow(clippy::too_many_arguments)]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    OriginalUri(uri): OriginalUri,
    csv::Wanted(as_csv): csv::Wanted,
    Query(paging): Query<Paging>,
    Query(filters): Query<TimeFilters>,
    Query(list): Query<TimeListQuery>,
    Query(since): Query<SinceQuery>,
) -> Result<Response> {
    let query = TimeQuery {
        since: since.millis(),
        ..filters.into_query(list.include_revisions.0)
    };
    let next = NextSince::before_query();
    if as_csv {
        // Every matching time: the default page size does not apply to
        // CSV, an explicit `skip`/`limit` does.
        let page = paging.page(0);
        let stream = stream::times(&state, &caller, &query, page, stream::Encoding::Csv).await?;
        return Ok(next.on(csv::response(stream.body, "times.csv")));
    }
    let page = paging.page(state.config.default_limit);
    let large = |limit: Option<u64>| limit.is_none_or(|limit| limit > STREAM_ABOVE);
    if large(page.limit)
        && large(Some(
            times::count(&state.db, &caller, &query)
                .await?
                .saturating_sub(page.skip),
        ))
    {
        // Large lists are streamed in batches rather than built in memory.
        let stream = stream::times(&state, &caller, &query, page, stream::Encoding::Json).await?;
        return Ok(next.on(streamed_list_response(
            &uri,
            stream.body,
            stream.total,
            page,
        )));
    }
    let listing = times::list(&state.db, &state.caches.time_pages, &caller, &query, page).await?;
    let items: Vec<TimeView> = views::all(listing.items.clone());
    Ok(next.on(list_response(&uri, &items, listing.total, page)))
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
    PathId(uuid): PathId<TimeId>,
    Query(query): Query<TimeShowQuery>,
) -> Result<Json<TimeView>> {
    let view = times::get(
        &state.db,
        &caller,
        &uuid,
        query.include_deleted.0,
        query.include_revisions.0,
    )
    .await?;
    Ok(Json(view.into()))
}

/// Creates one of the times (the time's user, project managers and site admins; see times.rst).
#[utoipa::path(
    post, path = "/times", operation_id = "create_times", tag = "times",
    request_body = Envelope<TimeObject>,
    responses((status = 200, description = "Created", body = TimeView), CreateErrors)
)]
async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Json<TimeView>> {
    Ok(Json(
        times::create(&state.db, &body.caller, &body.object)
            .await?
            .into(),
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
    body: AuthedObject<TimeId>,
) -> Result<Json<TimeView>> {
    Ok(Json(
        times::update(&state.db, &body.caller, &body.id, &body.object)
            .await?
            .into(),
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
    PathId(uuid): PathId<TimeId>,
) -> Result<Response> {
    times::delete(&state.db, &caller, &uuid).await?;
    Ok(middleware::deleted().into_response())
}
