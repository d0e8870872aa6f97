//! `/v0/activities` and `/v0/activities/:slug`.

use axum::extract::{OriginalUri, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::activities;
use crate::error::Result;
use crate::http::extract::{Auth, AuthedObject, Params};
use crate::http::pagination::{list_response, page};
use crate::http::{middleware, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/activities", get(list).post(create))
        .route("/activities/{slug}", get(show).post(update).delete(remove))
}

async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    Auth(_caller): Auth,
    params: Params,
) -> Result<Response> {
    let page = page(&params, state.config.default_limit)?;
    let listing = activities::list(
        &state.db,
        params.flag("include_deleted"),
        params.flag("include_revisions"),
        page,
    )
    .await?;
    Ok(list_response(&uri, &listing.items, listing.total, page))
}

async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Auth(_caller): Auth,
    params: Params,
) -> Result<Response> {
    let view = activities::get(&state.db, &slug, params.flag("include_revisions")).await?;
    Ok(Json(view).into_response())
}

async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Response> {
    let view = activities::create(&state.db, &body.caller, &body.object).await?;
    Ok(Json(view).into_response())
}

async fn update(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    body: AuthedObject,
) -> Result<Response> {
    let view = activities::update(&state.db, &body.caller, &slug, &body.object).await?;
    Ok(Json(view).into_response())
}

async fn remove(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Auth(caller): Auth,
) -> Result<Response> {
    activities::delete(&state.db, &caller, &slug).await?;
    Ok(middleware::deleted())
}
