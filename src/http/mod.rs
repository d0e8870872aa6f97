//! The HTTP layer: routes, extractors, error mapping. One module per
//! resource, each exporting `router()`, merged in `api_router`.

pub mod activities;
pub mod csv;
pub mod error;
pub mod extract;
pub mod health;
pub mod json;
pub mod login;
pub mod middleware;
pub mod org_roles;
pub mod pagination;
pub mod projects;
pub mod reports;
pub mod times;
pub mod users;

use std::sync::Arc;

use axum::http::{HeaderName, Method};
use axum::Router;
use tower_http::cors::{Any, CorsLayer};

use crate::config::Config;
use crate::domain::throttle::LoginThrottle;
use crate::domain::tokens::Tokens;
use crate::storage::Db;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub tokens: Tokens,
    pub config: Arc<Config>,
    pub throttle: Arc<LoginThrottle>,
}

/// The whole application: `/v0/...` routes, `/healthz`, and the layers.
pub fn api_router(state: AppState) -> Router {
    let v0 = Router::new()
        .merge(login::router())
        .merge(activities::router())
        .merge(projects::router())
        .merge(times::router())
        .merge(reports::router())
        .merge(org_roles::router())
        .merge(users::router());
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers([
            HeaderName::from_static("x-total-count"),
            HeaderName::from_static("link"),
            middleware::REQUEST_ID.clone(),
        ]);
    Router::new()
        .nest("/v0", v0)
        .merge(health::router())
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .with_state(state)
        .layer(cors)
        .layer(axum::middleware::from_fn(middleware::request_context))
}
