//! `/v0/users/org-roles` and `/v0/users/org-roles/:slug`.

use axum::extract::{OriginalUri, State};
use axum::response::Response;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::ids::Slug;
use crate::domain::org_roles;
use crate::error::Result;
use crate::http::extract::{Auth, AuthedObject, PathId};
use crate::http::openapi::objects::request_object;
use crate::http::openapi::{
    CreateErrors, DeleteErrors, Envelope, ListErrors, ShowErrors, UpdateErrors,
};
use crate::http::pagination::{list_response, Paging};
use crate::http::query::Query;
use crate::http::views::{self, OrgRoleView};
use crate::http::{middleware, AppState};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update, remove))
}

request_object!(
    OrgRoleObject,
    org_roles::SPECS,
    "An org-role as sent in a POST: both fields on create, either on update.",
    required = false
);

/// Lists org-roles in creation order.
#[utoipa::path(
    get, path = "/users/org-roles", operation_id = "list_org_roles", tag = "org-roles", params(Paging),
    responses(
        (status = 200, description = "The org-roles", body = Vec<OrgRoleView>,
         headers(("X-Total-Count" = u64, description = "Matching objects before skip/limit"),
                 ("Link" = String, description = "Next/previous pages"))),
        ListErrors,
    )
)]
async fn list(
    State(state): State<AppState>,
    Auth(_): Auth,
    Query(paging): Query<Paging>,
    // The full path (`/v0/...`) for the Link header, not the nested one.
    OriginalUri(uri): OriginalUri,
) -> Result<Response> {
    let page = paging.page(state.config.default_limit);
    let listing = org_roles::list(&state.db, page).await?;
    let items: Vec<OrgRoleView> = views::all(listing.items);
    Ok(list_response(&uri, &items, listing.total, page))
}

/// One of the org-roles.
#[utoipa::path(
    get, path = "/users/org-roles/{slug}", operation_id = "show_org_roles", tag = "org-roles",
    params(("slug" = String, Path, description = "The role's slug", pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)),
    responses((status = 200, description = "Found", body = OrgRoleView), ShowErrors)
)]
async fn show(
    State(state): State<AppState>,
    Auth(_): Auth,
    PathId(slug): PathId<Slug>,
) -> Result<Json<OrgRoleView>> {
    Ok(Json(org_roles::get(&state.db, &slug).await?.into()))
}

/// Creates one of the org-roles (site managers and admins).
#[utoipa::path(
    post, path = "/users/org-roles", operation_id = "create_org_roles", tag = "org-roles",
    request_body = Envelope<OrgRoleObject>,
    responses((status = 200, description = "Created", body = OrgRoleView), CreateErrors)
)]
async fn create(State(state): State<AppState>, body: AuthedObject) -> Result<Json<OrgRoleView>> {
    Ok(Json(
        org_roles::create(&state.db, &body.caller, &body.object)
            .await?
            .into(),
    ))
}

/// Updates one of the org-roles: only the fields sent change (site managers and admins).
#[utoipa::path(
    post, path = "/users/org-roles/{slug}", operation_id = "update_org_roles", tag = "org-roles",
    params(("slug" = String, Path, description = "The role's slug", pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)),
    request_body = Envelope<OrgRoleObject>,
    responses((status = 200, description = "Updated", body = OrgRoleView), UpdateErrors)
)]
async fn update(
    State(state): State<AppState>,
    body: AuthedObject<Slug>,
) -> Result<Json<OrgRoleView>> {
    Ok(Json(
        org_roles::update(&state.db, &body.caller, &body.id, &body.object)
            .await?
            .into(),
    ))
}

/// Deletes one of the org-roles (site managers and admins).
#[utoipa::path(
    delete, path = "/users/org-roles/{slug}", operation_id = "remove_org_roles", tag = "org-roles",
    params(("slug" = String, Path, description = "The role's slug", pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 64)),
    responses((status = 200, description = "Deleted (empty body)"), DeleteErrors)
)]
async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    PathId(slug): PathId<Slug>,
) -> Result<Response> {
    org_roles::delete(&state.db, &caller, &slug).await?;
    Ok(middleware::deleted())
}
