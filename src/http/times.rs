//! `/v0/times` and `/v0/times/:uuid`.

use axum::extract::{FromRequestParts, OriginalUri, Path, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::domain::times::{self, TimeQuery, TimeView};
use crate::error::{Error, Result};
use crate::http::extract::{Auth, AuthedObject, Params};
use crate::http::pagination::{list_response, page};
use crate::http::{csv, middleware, reports, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/times", get(list).post(create))
        .route("/times/{uuid}", get(show).post(update).delete(remove))
}

/// The `:uuid` of the path as sent (the domain validates it). A segment
/// that does not even decode is an invalid identifier too, not axum's text.
struct TimeId(String);

impl<S: Send + Sync> FromRequestParts<S> for TimeId {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(TimeId(id)),
            Err(_) => Err(Error::InvalidIdentifier {
                kind: "uuid",
                values: vec![parts.uri.path().rsplit('/').next().unwrap_or("").to_owned()],
            }),
        }
    }
}

async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    params: Params,
) -> Result<Response> {
    let query = time_query(&params);
    if csv::wanted(&params, &headers)? {
        return reports::times_csv(&state, &caller, &query, &params).await;
    }
    let page = page(&params, state.config.default_limit)?;
    let listing = times::list(&state.db, &caller, &query, page).await?;
    Ok(list_response(&uri, &listing.items, listing.total, page))
}

/// The filters of `GET /times` as sent (shared with reports).
pub(crate) fn time_query(params: &Params) -> TimeQuery {
    let owned = |key: &str| params.all(key).into_iter().map(str::to_owned).collect();
    TimeQuery {
        users: owned("user"),
        projects: owned("project"),
        activities: owned("activity"),
        start: params.first("start").map(str::to_owned),
        end: params.first("end").map(str::to_owned),
        include_deleted: params.flag("include_deleted"),
        include_revisions: params.flag("include_revisions"),
    }
}

async fn show(
    State(state): State<AppState>,
    Auth(caller): Auth,
    TimeId(uuid): TimeId,
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

async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Json<TimeView>> {
    Ok(Json(
        times::create(&state.db, &body.caller, &body.object).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    TimeId(uuid): TimeId,
    body: AuthedObject,
) -> Result<Json<TimeView>> {
    Ok(Json(
        times::update(&state.db, &body.caller, &uuid, &body.object).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    TimeId(uuid): TimeId,
) -> Result<Response> {
    times::delete(&state.db, &caller, &uuid).await?;
    Ok(middleware::deleted().into_response())
}
