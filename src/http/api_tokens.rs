//! `/v0/tokens`: personal API tokens (issue 16).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::api_tokens::{self, ApiTokenInfo};
use crate::domain::ids::TokenId;
use crate::error::Result;
use crate::http::extract::{Auth, AuthedObject, PathId};
use crate::http::openapi::objects::request_object;
use crate::http::openapi::{CreateErrors, DeleteUnusedErrors, Envelope, ListErrors};
use crate::http::query::Query;
use crate::http::{middleware, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
}

/// A personal API token; `token` (the secret) only in the answer to its
/// creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenView {
    pub id: i64,
    pub name: String,
    #[schema(pattern = "^(read|write)$")]
    pub scope: String,
    /// The secret (`tsk_…`): shown only when the token is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub token: Option<String>,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The last day the token works (UTC), or null: no expiry.
    #[schema(required = true, format = Date)]
    pub expires_at: Option<String>,
    /// RFC 3339, UTC; updated at most once a minute.
    #[schema(required = true, format = DateTime)]
    pub last_used_at: Option<String>,
}

impl ApiTokenView {
    fn of(info: ApiTokenInfo, token: Option<String>) -> Self {
        ApiTokenView {
            id: info.id,
            name: info.name,
            scope: info.scope.as_str().to_owned(),
            token,
            created_at: info.created_at,
            expires_at: info.expires_at,
            last_used_at: info.last_used_at,
        }
    }
}

request_object!(
    ApiTokenObject,
    api_tokens::SPECS,
    "A token to create.",
    required = true
);

/// Query parameters of `GET /tokens`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenListQuery {
    /// Another user's tokens (site admins only).
    user: Option<String>,
}

/// The caller's API tokens (never their secrets).
#[utoipa::path(
    get, path = "/tokens", operation_id = "list_tokens", tag = "tokens", params(TokenListQuery),
    responses((status = 200, description = "The tokens", body = Vec<ApiTokenView>), ListErrors)
)]
async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Query(query): Query<TokenListQuery>,
) -> Result<Json<Vec<ApiTokenView>>> {
    let tokens = api_tokens::list(&state.db, &caller, query.user.as_deref()).await?;
    Ok(Json(
        tokens
            .into_iter()
            .map(|t| ApiTokenView::of(t, None))
            .collect(),
    ))
}

/// Creates an API token for the caller; needs a login token, not another
/// API token. The answer is the only time the secret is shown.
#[utoipa::path(
    post, path = "/tokens", operation_id = "create_tokens", tag = "tokens",
    request_body = Envelope<ApiTokenObject>,
    responses((status = 200, description = "Created, with its secret", body = ApiTokenView), CreateErrors)
)]
async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Json<ApiTokenView>> {
    let created = api_tokens::create(&state.db, &body.caller, &body.object).await?;
    Ok(Json(ApiTokenView::of(created.info, Some(created.token))))
}

/// Revokes one of the caller's tokens (site admins: anyone's).
#[utoipa::path(
    delete, path = "/tokens/{id}", operation_id = "remove_tokens", tag = "tokens",
    params(("id" = i64, Path, description = "The token's id", minimum = 1)),
    responses((status = 200, description = "Revoked (empty body)"), DeleteUnusedErrors)
)]
async fn revoke(
    State(state): State<AppState>,
    Auth(caller): Auth,
    PathId(id): PathId<TokenId>,
) -> Result<Response> {
    api_tokens::revoke(&state.db, &caller, id).await?;
    Ok(middleware::deleted().into_response())
}
