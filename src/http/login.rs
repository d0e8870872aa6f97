//! `POST /v0/login`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::domain::login::{login, LoginContext};
use crate::error::Result;
use crate::http::extract::JsonBody;
use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/login", post(handle))
}

async fn handle(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>> {
    let ctx = LoginContext {
        db: &state.db,
        tokens: &state.tokens,
        modules: state.config.auth_modules,
        ldap: state.config.ldap.as_ref(),
        throttle: &state.throttle,
    };
    let token = login(&ctx, &body, Some(peer.ip())).await?;
    Ok(Json(json!({ "token": token })))
}
