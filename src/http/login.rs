//! `POST /v0/login`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::login::{login, LoginContext};
use crate::error::Result;
use crate::http::extract::JsonBody;
use crate::http::openapi::LoginErrors;
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handle))
}

/// The body of `POST /login` (read by `domain::login`).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the body; the domain reads it as JSON
pub struct LoginRequest {
    auth: LoginAuth,
}

/// Credentials: `type` is `password` or, when enabled, `ldap`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LoginAuth {
    #[schema(value_type = String, pattern = "^(password|ldap)$")]
    r#type: String,
    username: String,
    password: String,
}

/// A token for the other endpoints.
#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
}

/// Exchanges a username and password for a token. Failures are throttled
/// per username and per client address (429 with `Retry-After`).
#[utoipa::path(
    post, path = "/login", operation_id = "login", tag = "login", security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        LoginErrors,
    )
)]
async fn handle(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody,
) -> Result<Json<LoginResponse>> {
    let ctx = LoginContext {
        db: &state.db,
        tokens: &state.tokens,
        modules: state.config.auth_modules,
        ldap: state.config.ldap.as_ref(),
        throttle: &state.throttle,
    };
    let token = login(&ctx, &body, Some(peer.ip())).await?;
    Ok(Json(LoginResponse { token }))
}
