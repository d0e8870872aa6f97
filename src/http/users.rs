//! `/v0/users` and `/v0/users/:username`.

use axum::extract::{OriginalUri, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::users::{self, UserView};
use crate::error::Result;
use crate::http::extract::{Auth, AuthedObject, Params, PathParam};
use crate::http::pagination::{list_response, page};
use crate::http::{middleware, AppState};

/// `/users/org-roles` (in `org_roles`) is a static route and so wins over
/// `/users/{username}`; `org-roles` is no valid username anyway.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{username}", get(show).post(update).delete(remove))
}

async fn list(
    State(state): State<AppState>,
    Auth(_): Auth,
    params: Params,
    // The full path (`/v0/...`) for the Link header, not the nested one.
    OriginalUri(uri): OriginalUri,
) -> Result<Response> {
    let page = page(&params, state.config.default_limit)?;
    let listing = users::list(
        &state.db,
        params.flag("include_deleted"),
        &params.all("role"),
        page,
    )
    .await?;
    Ok(list_response(&uri, &listing.items, listing.total, page))
}

async fn show(
    State(state): State<AppState>,
    Auth(_): Auth,
    params: Params,
    PathParam(username): PathParam,
) -> Result<Json<UserView>> {
    let user = users::get(&state.db, &username, params.flag("include_deleted")).await?;
    Ok(Json(user))
}

async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Json<UserView>> {
    let user = users::create(&state.db, &body.caller, &body.object).await?;
    Ok(Json(user))
}

async fn update(
    State(state): State<AppState>,
    PathParam(username): PathParam,
    body: AuthedObject,
) -> Result<Json<UserView>> {
    let user = users::update(&state.db, &body.caller, &username, &body.object).await?;
    Ok(Json(user))
}

async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    PathParam(username): PathParam,
) -> Result<Response> {
    users::delete(&state.db, &caller, &username).await?;
    Ok(middleware::deleted())
}
