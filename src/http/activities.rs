//! `/v0/activities` and `/v0/activities/:slug`.

use axum::extract::{OriginalUri, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::activities;
use crate::domain::ids::Slug;
use crate::error::Result;
use crate::http::extract::{Auth, AuthedObject, PathId};
use crate::http::openapi::objects::request_object;
use crate::http::openapi::{
    CreateErrors, DeleteErrors, Envelope, ListErrors, ShowErrors, UpdateErrors,
};
use crate::http::pagination::{list_response, NextSince, Paging};
use crate::http::query::{Flag, Query, SinceQuery};
use crate::http::views::{self, ActivityView};
use crate::http::{middleware, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

/// Query parameters of `GET /activities`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ActivityListQuery {
    /// Include deleted activities.
    #[param(value_type = Option<bool>)]
    include_deleted: Flag,
    /// Add each activity's older revisions as `parents`.
    #[param(value_type = Option<bool>)]
    include_revisions: Flag,
}

/// Query parameters of `GET /activities/{slug}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ActivityShowQuery {
    /// Add the older revisions as `parents`.
    #[param(value_type = Option<bool>)]
    include_revisions: Flag,
}

request_object!(
    ActivityObject,
    activities::SPECS,
    "An activity as sent in a POST: both fields on create, either on update.",
    required = false
);

/// Lists activities, oldest change first (`updated_at`, else `created_at`).
#[utoipa::path(
    get, path = "/activities", operation_id = "list_activities", tag = "activities", params(ActivityListQuery, SinceQuery, Paging),
    responses(
        (status = 200, description = "The activities", body = Vec<ActivityView>,
         headers(("X-Total-Count" = u64, description = "Matching activities before skip/limit"),
                 ("Link" = String, description = "Next/previous pages"),
                 ("X-Next-Since" = String, description = "The `since` of the next synchronisation (RFC 3339, UTC)"))),
        ListErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Auth(_caller): Auth,
    Query(paging): Query<Paging>,
    Query(query): Query<ActivityListQuery>,
    Query(since): Query<SinceQuery>,
) -> Result<Response> {
    let page = paging.page(state.config.default_limit);
    let next = NextSince::before_query();
    let listing = activities::list(
        &state.db,
        query.include_deleted.0,
        query.include_revisions.0,
        since.millis(),
        page,
    )
    .await?;
    let items: Vec<ActivityView> = views::all(listing.items);
    Ok(next.on(list_response(&uri, &items, listing.total, page)))
}

/// One activity by slug.
#[utoipa::path(
    get, path = "/activities/{slug}", operation_id = "show_activities", tag = "activities",
    params(("slug" = String, Path, description = "A current slug", pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64), ActivityShowQuery),
    responses((status = 200, description = "The activity", body = ActivityView), ShowErrors)
)]
async fn show(
    State(state): State<AppState>,
    Auth(_caller): Auth,
    PathId(slug): PathId<Slug>,
    Query(query): Query<ActivityShowQuery>,
) -> Result<Response> {
    let view = activities::get(&state.db, &slug, query.include_revisions.0).await?;
    Ok(Json(ActivityView::from(view)).into_response())
}

/// Creates an activity (site managers and admins).
#[utoipa::path(
    post, path = "/activities", operation_id = "create_activities", tag = "activities",
    request_body = Envelope<ActivityObject>,
    responses((status = 200, description = "The new activity", body = ActivityView), CreateErrors)
)]
async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Response> {
    let view = activities::create(&state.db, &body.caller, &body.object).await?;
    Ok(Json(ActivityView::from(view)).into_response())
}

/// Changes an activity's name or slug, keeping the old revision (site managers and admins).
#[utoipa::path(
    post, path = "/activities/{slug}", operation_id = "update_activities", tag = "activities",
    params(("slug" = String, Path, description = "A current slug", pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)),
    request_body = Envelope<ActivityObject>,
    responses((status = 200, description = "The new revision", body = ActivityView), UpdateErrors)
)]
async fn update(State(state): State<AppState>, body: AuthedObject<Slug>) -> Result<Response> {
    let view = activities::update(&state.db, &body.caller, &body.id, &body.object).await?;
    Ok(Json(ActivityView::from(view)).into_response())
}

/// Deletes an activity (site managers and admins); 405 while a time uses it.
#[utoipa::path(
    delete, path = "/activities/{slug}", operation_id = "remove_activities", tag = "activities",
    params(("slug" = String, Path, description = "A current slug", pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)),
    responses((status = 200, description = "Deleted (empty body)"), DeleteErrors)
)]
async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    PathId(slug): PathId<Slug>,
) -> Result<Response> {
    activities::delete(&state.db, &caller, &slug).await?;
    Ok(middleware::deleted())
}
