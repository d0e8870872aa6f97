//! `GET /healthz`: the server answers and its database does.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Error;
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

/// Health check: the server and its database answer.
#[utoipa::path(
    get, path = "/healthz", operation_id = "health", tag = "meta", security(()),
    responses(
        (status = 200, description = "Healthy", body = inline(Health)),
        crate::http::openapi::MetaErrors,
    )
)]
async fn health(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => Json(Health { status: "ok" }).into_response(),
        Err(e) => Error::server(e).into_response(),
    }
}

/// The body of a healthy answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Health {
    #[schema(value_type = String, pattern = "^ok$")]
    status: &'static str,
}
