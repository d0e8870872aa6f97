//! `/v0/activities` and `/v0/activities/:slug`.

use axum::extract::rejection::PathRejection;
use axum::extract::{OriginalUri, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::activities;
use crate::error::{Error, Result};
use crate::http::extract::{Auth, AuthedObject, Params};
use crate::http::pagination::{list_response, page};
use crate::http::{middleware, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/activities", get(list).post(create))
        .route("/activities/{slug}", get(show).post(update).delete(remove))
}

/// The `:slug` of the path; one that cannot be decoded is no slug.
pub(crate) fn slug_param(path: Result<Path<String>, PathRejection>) -> Result<String> {
    path.map(|Path(slug)| slug)
        .map_err(|_| Error::InvalidIdentifier {
            kind: "slug",
            values: vec![String::new()],
        })
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
    path: Result<Path<String>, PathRejection>,
    Auth(_caller): Auth,
    params: Params,
) -> Result<Response> {
    let view = activities::get(
        &state.db,
        &slug_param(path)?,
        params.flag("include_revisions"),
    )
    .await?;
    Ok(Json(view).into_response())
}

async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Response> {
    let view = activities::create(&state.db, &body.caller, &body.object).await?;
    Ok(Json(view).into_response())
}

async fn update(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    body: AuthedObject,
) -> Result<Response> {
    let view =
        activities::update(&state.db, &body.caller, &slug_param(path)?, &body.object).await?;
    Ok(Json(view).into_response())
}

async fn remove(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    Auth(caller): Auth,
) -> Result<Response> {
    activities::delete(&state.db, &caller, &slug_param(path)?).await?;
    Ok(middleware::deleted())
}
