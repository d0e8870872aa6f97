//! `/v0/users` and `/v0/users/:username`.

use axum::extract::{OriginalUri, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::ids::Username;
use crate::domain::users;
use crate::error::Result;
use crate::http::extract::{Auth, AuthedObject, PathId};
use crate::http::openapi::objects::request_object;
use crate::http::openapi::{
    CreateErrors, DeleteUnusedErrors, Envelope, ListErrors, ShowErrors, UpdateErrors,
};
use crate::http::pagination::{list_response, NextSince, Paging};
use crate::http::query::{Flag, Query, SinceQuery};
use crate::http::views::{self, UserView};
use crate::http::{middleware, AppState};

/// `/users/org-roles` (in `org_roles`) is a static route and so wins over
/// `/users/{username}`; `org-roles` is no valid username anyway.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

/// Query parameters of `GET /users`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct UserListQuery {
    /// Include deleted users.
    #[param(value_type = Option<bool>)]
    include_deleted: Flag,
    /// Only users with one of these org-roles, by slug (repeatable).
    role: Option<Vec<String>>,
}

/// Query parameters of `GET /users/{username}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct UserShowQuery {
    /// Show the user even if deleted.
    #[param(value_type = Option<bool>)]
    include_deleted: Flag,
}

request_object!(
    UserObject,
    users::CREATE_SPECS,
    "A user as sent in a POST: `username` is required on create.",
    required = true
);

request_object!(
    UserUpdateObject,
    users::UPDATE_SPECS,
    "A user as sent to `POST /users/{username}`: only the fields sent change; `username` never does, so it is no field here.",
    required = false
);

/// Lists users, oldest change first (`updated_at`, else `created_at`).
#[utoipa::path(
    get, path = "/users", operation_id = "list_users", tag = "users", params(UserListQuery, SinceQuery, Paging),
    responses(
        (status = 200, description = "The users", body = Vec<UserView>,
         headers(("X-Total-Count" = u64, description = "Matching objects before skip/limit"),
                 ("Link" = String, description = "Next/previous pages"),
                 ("X-Next-Since" = String, description = "The `since` of the next synchronisation (RFC 3339, UTC)"))),
        ListErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    Auth(_): Auth,
    Query(paging): Query<Paging>,
    Query(query): Query<UserListQuery>,
    Query(since): Query<SinceQuery>,
    // The full path (`/v0/...`) for the Link header, not the nested one.
    OriginalUri(uri): OriginalUri,
) -> Result<Response> {
    let page = paging.page(state.config.default_limit);
    let roles = query.role.unwrap_or_default();
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let next = NextSince::before_query();
    let listing = users::list(
        &state.db,
        query.include_deleted.0,
        &roles,
        since.millis(),
        page,
    )
    .await?;
    let items: Vec<UserView> = views::all(listing.items);
    Ok(next.on(list_response(&uri, &items, listing.total, page)))
}

/// One of the users.
#[utoipa::path(
    get, path = "/users/{username}", operation_id = "show_users", tag = "users",
    params(("username" = String, Path, description = "A username", pattern = r"^[A-Za-z0-9._~-]+$", max_length = 64), UserShowQuery),
    responses((status = 200, description = "Found", body = UserView), ShowErrors)
)]
async fn show(
    State(state): State<AppState>,
    Auth(_): Auth,
    PathId(username): PathId<Username>,
    Query(query): Query<UserShowQuery>,
) -> Result<Json<UserView>> {
    let user = users::get(&state.db, &username, query.include_deleted.0).await?;
    Ok(Json(user.into()))
}

/// Creates one of the users (site admins; users may change some of their own fields).
#[utoipa::path(
    post, path = "/users", operation_id = "create_users", tag = "users",
    request_body = Envelope<UserObject>,
    responses((status = 200, description = "Created", body = UserView), CreateErrors)
)]
async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Json<UserView>> {
    let user = users::create(&state.db, &body.caller, &body.object).await?;
    Ok(Json(user.into()))
}

/// Updates one of the users: only the fields sent change (site admins; users may change some of their own fields).
#[utoipa::path(
    post, path = "/users/{username}", operation_id = "update_users", tag = "users",
    params(("username" = String, Path, description = "A username", pattern = r"^[A-Za-z0-9._~-]+$", max_length = 64)),
    request_body = Envelope<UserUpdateObject>,
    responses((status = 200, description = "Updated", body = UserView), UpdateErrors)
)]
async fn update(
    State(state): State<AppState>,
    body: AuthedObject<Username>,
) -> Result<Json<UserView>> {
    let user = users::update(&state.db, &body.caller, &body.id, &body.object).await?;
    Ok(Json(user.into()))
}

/// Deletes one of the users (site admins; users may change some of their own fields).
#[utoipa::path(
    delete, path = "/users/{username}", operation_id = "remove_users", tag = "users",
    params(("username" = String, Path, description = "A username", pattern = r"^[A-Za-z0-9._~-]+$", max_length = 64)),
    responses((status = 200, description = "Deleted (empty body)"), DeleteUnusedErrors)
)]
async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    PathId(username): PathId<Username>,
) -> Result<Response> {
    users::delete(&state.db, &caller, &username).await?;
    Ok(middleware::deleted())
}
