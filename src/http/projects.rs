//! `/v0/projects` and `/v0/projects/:slug`.

use axum::extract::{OriginalUri, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::ids::Slug;
use crate::domain::projects::{self, ProjectQuery};
use crate::error::Result;
use crate::http::extract::{Auth, AuthedObject, PathId};
use crate::http::openapi::objects::request_object;
use crate::http::openapi::{
    CreateErrors, DeleteErrors, Envelope, ListErrors, ShowErrors, UpdateErrors,
};
use crate::http::pagination::{list_response, NextSince, Paging};
use crate::http::query::{Flag, Query, SinceQuery};
use crate::http::views::{self, ProjectView};
use crate::http::{middleware, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

/// Query parameters of `GET /projects`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ProjectListQuery {
    /// Only projects where one of these users has a role (repeatable).
    user: Option<Vec<String>>,
    /// Include deleted projects.
    #[param(value_type = Option<bool>)]
    include_deleted: Flag,
    /// Add each project's older revisions as `parents`.
    #[param(value_type = Option<bool>)]
    include_revisions: Flag,
}

/// Query parameters of `GET /projects/{slug}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ProjectShowQuery {
    /// Add the older revisions as `parents`.
    #[param(value_type = Option<bool>)]
    include_revisions: Flag,
}

request_object!(
    ProjectObject,
    projects::SPECS,
    "A project as sent in a POST: `name` and `slugs` are required on create.",
    required = false
);

/// Lists projects, oldest change first (`updated_at`, else `created_at`).
#[utoipa::path(
    get, path = "/projects", operation_id = "list_projects", tag = "projects", params(ProjectListQuery, SinceQuery, Paging),
    responses(
        (status = 200, description = "The projects", body = Vec<ProjectView>,
         headers(("X-Total-Count" = u64, description = "Matching objects before skip/limit"),
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
    Query(query): Query<ProjectListQuery>,
    Query(since): Query<SinceQuery>,
) -> Result<Response> {
    let page = paging.page(state.config.default_limit);
    let query = ProjectQuery {
        users: query.user.unwrap_or_default(),
        include_deleted: query.include_deleted.0,
        include_revisions: query.include_revisions.0,
        since: since.millis(),
    };
    let next = NextSince::before_query();
    let listing = projects::list(&state.db, &query, page).await?;
    let items: Vec<ProjectView> = views::all(listing.items);
    Ok(next.on(list_response(&uri, &items, listing.total, page)))
}

/// One of the projects.
#[utoipa::path(
    get, path = "/projects/{slug}", operation_id = "show_projects", tag = "projects",
    params(("slug" = String, Path, description = "One of its current slugs", pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64), ProjectShowQuery),
    responses((status = 200, description = "Found", body = ProjectView), ShowErrors)
)]
async fn show(
    State(state): State<AppState>,
    Auth(_caller): Auth,
    PathId(slug): PathId<Slug>,
    Query(query): Query<ProjectShowQuery>,
) -> Result<Response> {
    let view = projects::get(&state.db, &slug, query.include_revisions.0).await?;
    Ok(Json(ProjectView::from(view)).into_response())
}

/// Creates one of the projects (project managers; creating: site managers and admins).
#[utoipa::path(
    post, path = "/projects", operation_id = "create_projects", tag = "projects",
    request_body = Envelope<ProjectObject>,
    responses((status = 200, description = "Created", body = ProjectView), CreateErrors)
)]
async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Response> {
    let view = projects::create(&state.db, &body.caller, &body.object).await?;
    Ok(Json(ProjectView::from(view)).into_response())
}

/// Updates one of the projects: only the fields sent change (project managers; creating: site managers and admins).
#[utoipa::path(
    post, path = "/projects/{slug}", operation_id = "update_projects", tag = "projects",
    params(("slug" = String, Path, description = "One of its current slugs", pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)),
    request_body = Envelope<ProjectObject>,
    responses((status = 200, description = "Updated", body = ProjectView), UpdateErrors)
)]
async fn update(State(state): State<AppState>, body: AuthedObject<Slug>) -> Result<Response> {
    let view = projects::update(&state.db, &body.caller, &body.id, &body.object).await?;
    Ok(Json(ProjectView::from(view)).into_response())
}

/// Deletes one of the projects (project managers; creating: site managers and admins).
#[utoipa::path(
    delete, path = "/projects/{slug}", operation_id = "remove_projects", tag = "projects",
    params(("slug" = String, Path, description = "One of its current slugs", pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)),
    responses((status = 200, description = "Deleted (empty body)"), DeleteErrors)
)]
async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    PathId(slug): PathId<Slug>,
) -> Result<Response> {
    projects::delete(&state.db, &caller, &slug).await?;
    Ok(middleware::deleted())
}
