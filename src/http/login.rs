//! `POST /v0/login`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::Json;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::login::{login, Credentials, LoginContext};
use crate::error::Result;
use crate::http::extract::JsonBody;
use crate::http::openapi::LoginErrors;
use crate::http::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(handle))
}

/// The body of `POST /login`. Read leniently: what is missing or of the
/// wrong type is `None`, and `domain::login` refuses it with the ruled text.
#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[serde(default, deserialize_with = "auth_block")]
    #[schema(required = true, nullable = false)]
    auth: Option<LoginAuth>,
}

/// Credentials: `type` is `password` or, when enabled, `ldap`.
#[derive(Deserialize, ToSchema)]
pub struct LoginAuth {
    #[serde(default, deserialize_with = "string")]
    #[schema(required = true, value_type = String, pattern = "^(password|ldap)$")]
    r#type: Option<String>,
    #[serde(default, deserialize_with = "string")]
    #[schema(required = true, value_type = String)]
    username: Option<String>,
    #[serde(default, deserialize_with = "string")]
    #[schema(required = true, value_type = String)]
    password: Option<String>,
}

/// A string, else `None`.
fn string<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// An `auth` object, else `None`.
fn auth_block<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<LoginAuth>, D::Error> {
    Ok(match Value::deserialize(d)? {
        object @ Value::Object(_) => serde_json::from_value(object).ok(),
        _ => None,
    })
}

impl LoginRequest {
    /// The credentials of a body (`None`: no `auth` object, or no object at all).
    fn read(body: Value) -> Option<Credentials> {
        let auth = serde_json::from_value::<LoginRequest>(body).ok()?.auth?;
        Some(Credentials {
            kind: auth.r#type,
            username: auth.username,
            password: auth.password,
        })
    }
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
    let credentials = LoginRequest::read(body);
    let token = login(&ctx, credentials.as_ref(), Some(peer.ip())).await?;
    Ok(Json(LoginResponse { token }))
}
