//! The HTTP layer: routes, extractors, error mapping. One module per
//! resource, each exporting `router()`, merged in `api_router`.

pub mod activities;
pub mod api_tokens;
pub mod calendar;
pub mod csv;
pub mod error;
pub mod extract;
pub mod health;
pub mod json;
pub mod login;
pub mod middleware;
pub mod openapi;
pub mod org_roles;
pub mod pagination;
pub mod projects;
pub mod query;
pub mod reports;
pub mod timer;
pub mod times;
pub mod trailing_slash;
pub mod users;
pub mod views;

use std::sync::Arc;

use axum::http::{HeaderName, Method};
use axum::Router;
use tower::Layer as _;
use tower_http::cors::{Any, CorsLayer};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

use crate::config::Config;
use crate::domain::throttle::LoginThrottle;
use crate::domain::tokens::Tokens;
use crate::storage::Db;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Summaries and time pages reused while the data is unchanged.
    pub caches: Arc<crate::domain::Caches>,
    pub tokens: Tokens,
    pub config: Arc<Config>,
    pub throttle: Arc<LoginThrottle>,
}

/// Every route with its OpenAPI description (see `openapi`): a handler is
/// registered together with its `#[utoipa::path]`, so none goes undocumented.
pub fn routes() -> OpenApiRouter<AppState> {
    let v0 = OpenApiRouter::new()
        .merge(login::router())
        .merge(activities::router())
        .merge(projects::router())
        .merge(times::router())
        .merge(timer::router())
        .merge(api_tokens::router())
        .merge(calendar::router())
        .merge(reports::router())
        .merge(org_roles::router())
        .merge(users::router());
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/v0", v0)
        .merge(health::router())
        .merge(openapi::router())
}

/// The whole application: `/v0/...` routes, `/healthz`, `/docs`, and the layers.
pub fn api_router(state: AppState) -> Router {
    let (routes, _) = routes().split_for_parts();
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers([
            HeaderName::from_static("x-total-count"),
            HeaderName::from_static("link"),
            HeaderName::from_static(pagination::NEXT_SINCE),
            middleware::REQUEST_ID.clone(),
        ]);
    // `request_context` runs after routing (it reads the matched route).
    let routed = routes
        .merge(crate::web::router())
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .with_state(state)
        .layer(cors)
        .layer(axum::middleware::from_fn(middleware::request_context));
    // The trailing slash goes before routing: a layer on `routed` itself
    // would run after its routes were matched.
    let trimmed = axum::middleware::map_request(trailing_slash::trim).layer(routed);
    Router::new().fallback_service(trimmed)
}
