//! `/v0/users/org-roles` and `/v0/users/org-roles/:slug`.

use axum::extract::{OriginalUri, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::org_roles::{self, OrgRoleView};
use crate::error::Result;
use crate::http::extract::{Auth, AuthedObject, Params, PathParam};
use crate::http::pagination::{list_response, page};
use crate::http::{middleware, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/org-roles", get(list).post(create))
        .route(
            "/users/org-roles/{slug}",
            get(show).post(update).delete(remove),
        )
}

async fn list(
    State(state): State<AppState>,
    Auth(_): Auth,
    params: Params,
    // The full path (`/v0/...`) for the Link header, not the nested one.
    OriginalUri(uri): OriginalUri,
) -> Result<Response> {
    let page = page(&params, state.config.default_limit)?;
    let listing = org_roles::list(&state.db, page).await?;
    Ok(list_response(&uri, &listing.items, listing.total, page))
}

async fn show(
    State(state): State<AppState>,
    Auth(_): Auth,
    PathParam(slug): PathParam,
) -> Result<Json<OrgRoleView>> {
    Ok(Json(org_roles::get(&state.db, &slug).await?))
}

async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Json<OrgRoleView>> {
    Ok(Json(
        org_roles::create(&state.db, &body.caller, &body.object).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    PathParam(slug): PathParam,
    body: AuthedObject,
) -> Result<Json<OrgRoleView>> {
    Ok(Json(
        org_roles::update(&state.db, &body.caller, &slug, &body.object).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    PathParam(slug): PathParam,
) -> Result<Response> {
    org_roles::delete(&state.db, &caller, &slug).await?;
    Ok(middleware::deleted())
}
