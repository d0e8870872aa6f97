//! `/v0/projects` and `/v0/projects/:slug`.

use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::projects::{self, ProjectQuery};
use crate::error::Result;
use crate::http::activities::slug_param;
use crate::http::extract::{Auth, AuthedObject, Params};
use crate::http::pagination::{list_response, page};
use crate::http::{middleware, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list).post(create))
        .route("/projects/{slug}", get(show).post(update).delete(remove))
}

async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Auth(_caller): Auth,
    params: Params,
) -> Result<Response> {
    let page = page(&params, state.config.default_limit)?;
    let query = ProjectQuery {
        users: params.all("user").into_iter().map(str::to_owned).collect(),
        include_deleted: params.flag("include_deleted"),
        include_revisions: params.flag("include_revisions"),
    };
    let listing = projects::list(&state.db, &query, page).await?;
    Ok(list_response(&uri, &listing.items, listing.total, page))
}

async fn show(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Auth(_caller): Auth,
    params: Params,
) -> Result<Response> {
    let view = projects::get(
        &state.db,
        &slug_param(path)?,
        params.flag("include_revisions"),
    )
    .await?;
    Ok(Json(view).into_response())
}

async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Response> {
    let view = projects::create(&state.db, &body.caller, &body.object).await?;
    Ok(Json(view).into_response())
}

async fn update(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    body: AuthedObject,
) -> Result<Response> {
    let view = projects::update(&state.db, &body.caller, &slug_param(path)?, &body.object).await?;
    Ok(Json(view).into_response())
}

async fn remove(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Auth(caller): Auth,
) -> Result<Response> {
    projects::delete(&state.db, &caller, &slug_param(path)?).await?;
    Ok(middleware::deleted())
}
