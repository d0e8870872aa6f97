//! The OpenAPI 3.1 description of the API. It is built from the handlers'
//! `#[utoipa::path]` annotations at the very place they are routed
//! (utoipa-axum's `routes!` registers a handler and its description in one
//! go), so a route cannot exist undocumented. Served at `/v0/openapi.json`;
//! `/docs` renders it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response as ApiResponse};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Error;
use crate::http::AppState;

pub mod objects;

/// The root of the document: info, security schemes, shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "TimeSync API",
        version = "0",
        description = "Time tracking for organisations (the OSU Open Source Lab's TimeSync API v0). \
            Every endpoint but `POST /v0/login` needs a token from `POST /v0/login`, sent as \
            `Authorization: Bearer <token>`, as the `token` query parameter, or, on a POST, in \
            the body's `auth` block (`{\"type\": \"token\", \"token\": \"...\"}`). Errors are JSON \
            objects `{status, error, text}` (plus `values` for some). Lists are ordered by \
            last change (`updated_at`, else `created_at`), oldest first (org-roles by \
            creation), paginated with `skip`/`limit`; `X-Total-Count` gives the total and \
            `Link` the neighbouring pages.",
        license(name = "Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    components(schemas(ErrorObject, ErrorName)),
    security(("bearer" = []), ("token" = [])),
    tags(
        (name = "login", description = "Getting a token"),
        (name = "activities", description = "Kinds of work (`/v0/activities`)"),
        (name = "projects", description = "Projects and their members (`/v0/projects`)"),
        (name = "times", description = "Time entries (`/v0/times`)"),
        (name = "timer", description = "The caller's running timer (`/v0/timer`)"),
        (name = "tokens", description = "Personal API tokens (`/v0/tokens`)"),
        (name = "users", description = "Users (`/v0/users`)"),
        (name = "org-roles", description = "Organisation roles (`/v0/users/org-roles`)"),
        (name = "meta", description = "Health and this description"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".into());
        bearer.description = Some(
            "A token from `POST /v0/login`, or a personal API token (`tsk_…`, `POST /v0/tokens`)."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "A token from `POST /v0/login` or a personal API token in the query string.",
            ))),
        );
    }
}

/// An error object of errors.rst.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorObject {
    /// The HTTP status, repeated.
    pub status: u16,
    pub error: ErrorName,
    /// What went wrong, for people.
    pub text: String,
    /// The offending identifiers, slugs or names (some errors only).
    #[schema(nullable = false)]
    pub values: Option<Vec<String>>,
}

/// The `error` names the server answers with.
#[derive(Serialize, ToSchema)]
pub enum ErrorName {
    #[serde(rename = "Object not found")]
    ObjectNotFound,
    #[serde(rename = "Server error")]
    ServerError,
    #[serde(rename = "Invalid foreign key")]
    InvalidForeignKey,
    #[serde(rename = "Bad object")]
    BadObject,
    #[serde(rename = "Invalid identifier")]
    InvalidIdentifier,
    #[serde(rename = "Invalid username")]
    InvalidUsername,
    #[serde(rename = "Authentication failure")]
    AuthenticationFailure,
    #[serde(rename = "Slug already exists")]
    SlugAlreadyExists,
    #[serde(rename = "Slugs already exist")]
    SlugsAlreadyExist,
    #[serde(rename = "Authorization failure")]
    AuthorizationFailure,
    #[serde(rename = "Method not allowed")]
    MethodNotAllowed,
    #[serde(rename = "Bad query value")]
    BadQueryValue,
    #[serde(rename = "Username already exists")]
    UsernameAlreadyExists,
    #[serde(rename = "Too many requests")]
    TooManyRequests,
}

/// The `auth` block of a POST body (optional when the token is in a
/// header or the query string).
#[derive(ToSchema)]
pub struct TokenAuth {
    #[schema(value_type = String, pattern = "^token$")]
    pub r#type: String,
    pub token: String,
}

/// The body of every POST but login: `{"auth": {...}, "object": {...}}`.
#[derive(ToSchema)]
pub struct Envelope<T: ToSchema> {
    #[schema(nullable = false)]
    pub auth: Option<TokenAuth>,
    pub object: T,
}

/// The JSON error responses an operation may give, by status.
fn error_responses(codes: &[u16]) -> BTreeMap<String, RefOr<ApiResponse>> {
    codes
        .iter()
        .map(|&code| {
            let description = match code {
                400 => "Bad object, invalid identifier or bad query value",
                401 => "Authentication or authorization failure",
                404 => "Object not found",
                405 => "Method not allowed: the object is still in use",
                409 => "Slug, name or username already exists, or invalid foreign key",
                413 => "The request body is too large",
                429 => "Too many failed logins; see Retry-After",
                _ => "Server error (the text quotes the request id)",
            };
            let examples = error_examples(code).into_iter().map(|(summary, error)| {
                let example = ExampleBuilder::new()
                    .summary(summary)
                    .value(Some(error.body("0f8fad5b-d9cb-469f-a165-70867728950e")))
                    .build();
                (summary, example)
            });
            let mut response = ResponseBuilder::new().description(description).content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Error")))
                    .examples_from_iter(examples)
                    .build(),
            );
            if code == 405 {
                response = response.header(
                    "Allow",
                    HeaderBuilder::new()
                        .schema(Some(utoipa::openapi::schema::Object::with_type(
                            utoipa::openapi::schema::Type::String,
                        )))
                        .build(),
                );
            }
            if code == 429 {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .description(Some("Seconds to wait"))
                        .schema(Some(utoipa::openapi::schema::Object::with_type(
                            utoipa::openapi::schema::Type::Integer,
                        )))
                        .build(),
                );
            }
            (code.to_string(), RefOr::T(response.build()))
        })
        .collect()
}

/// Examples of the errors a status carries, made by the same code (and
/// texts) as the server's answers.
fn error_examples(code: u16) -> Vec<(&'static str, Error)> {
    use crate::error::catalogue::{action, authentication, bad_object};
    let bad = |text: String| Error::BadObject(text);
    match code {
        400 => vec![
            ("Not allowed field", Error::unknown_field("time", "uuid")),
            ("Missing field", Error::missing_field("time", "duration")),
            (
                "Wrong JSON type",
                bad(bad_object::wrong_type(
                    "time", "duration", "number", "string",
                )),
            ),
            (
                "Bad form",
                bad(bad_object::invalid_date(
                    "time",
                    "date_worked",
                    "April 29, 1995",
                )),
            ),
            ("Name taken", bad(bad_object::name_not_unique("project"))),
            ("Not JSON", Error::unparseable_body()),
            (
                "Invalid identifier",
                Error::InvalidIdentifier {
                    kind: "slug",
                    values: vec!["Not_A_Slug".into()],
                },
            ),
            (
                "Bad query value",
                Error::bad_query_values("project", &["gone".into(), "Bad_Slug".into()]),
            ),
        ],
        401 => vec![
            (
                "Missing credentials",
                Error::authentication(authentication::MISSING_CREDENTIALS),
            ),
            ("Bad token", Error::bad_token()),
            (
                "Authorization failure",
                Error::unauthorized("alice", action::create_times_on("gwm")),
            ),
        ],
        404 => vec![("Not found", Error::NotFound("time"))],
        405 => vec![("Still in use", Error::InUse { object: "project" })],
        409 => vec![
            ("Invalid foreign key", Error::foreign_key("time", "project")),
            ("Slug taken", Error::SlugsExist(vec!["gwm".into()])),
            ("Username taken", Error::UsernameExists("alice".into())),
        ],
        413 => vec![("Too large", Error::PayloadTooLarge(1_048_576))],
        429 => vec![("Throttled", Error::TooManyRequests(42))],
        _ => vec![("Server error", Error::server(anyhow::anyhow!("example")))],
    }
}

/// Declares a set of error responses usable in `responses(...)`.
macro_rules! error_set {
    ($($(#[$doc:meta])* $name:ident: [$($code:literal),*];)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<ApiResponse>> {
                error_responses(&[$($code),*])
            }
        }
    )*};
}

error_set! {
    /// A GET of a list (400: bad `skip`/`limit`/filter or query too long).
    ListErrors: [400, 401, 500];
    /// A GET of one object.
    ShowErrors: [400, 401, 404, 500];
    /// A POST creating an object.
    CreateErrors: [400, 401, 409, 413, 500];
    /// A POST updating an object.
    UpdateErrors: [400, 401, 404, 409, 413, 500];
    /// A DELETE (405 while the object is still in use).
    DeleteErrors: [400, 401, 404, 405, 500];
    /// A DELETE of an object that is never "in use".
    DeleteUnusedErrors: [400, 401, 404, 500];
    /// POST /login.
    LoginErrors: [400, 401, 413, 429, 500];
    /// Unauthenticated meta routes (400: query string too long).
    MetaErrors: [400, 500];
}

/// `/v0/openapi.json` and `/docs`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .routes(routes!(docs))
}

/// The document, serialised once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    crate::http::routes()
        .into_openapi()
        .to_json()
        .unwrap_or_else(|e| format!(r#"{{"error": "{e}"}}"#))
});

/// This description.
#[utoipa::path(
    get, path = "/v0/openapi.json", operation_id = "openapi", tag = "meta", security(()),
    responses(
        (status = 200, description = "The OpenAPI 3.1 description of this API",
         content_type = "application/json", body = Object),
        MetaErrors,
    )
)]
async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
        .into_response()
}

/// The browsable documentation page (self-contained; renders `/v0/openapi.json`).
const DOCS_HTML: &str = include_str!("docs.html");
/// Its inline script, hashed into the page's Content-Security-Policy.
const DOCS_JS: &str = include_str!("docs.js");

static DOCS_PAGE: LazyLock<String> = LazyLock::new(|| DOCS_HTML.replace("/*SCRIPT*/", DOCS_JS));

static DOCS_CSP: LazyLock<HeaderValue> = LazyLock::new(|| {
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(DOCS_JS));
    let csp = format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    );
    HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static("default-src 'none'"))
});

/// Browsable API documentation.
#[utoipa::path(
    get, path = "/docs", operation_id = "docs", tag = "meta", security(()),
    responses(
        (status = 200, description = "A self-contained HTML page rendering /v0/openapi.json",
         content_type = "text/html", body = String),
        MetaErrors,
    )
)]
async fn docs() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CONTENT_SECURITY_POLICY, DOCS_CSP.clone()),
        ],
        DOCS_PAGE.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::domain;
    use crate::error::Error;

    fn document() -> Value {
        serde_json::from_str(&DOCUMENT).expect("the document is JSON")
    }

    /// One error of each variant; the match makes a new variant fail to
    /// compile here until it is added (and so documented).
    fn one_of_each() -> Vec<Error> {
        let all = vec![
            Error::NotFound("activity"),
            Error::server(anyhow::anyhow!("x")),
            Error::InvalidForeignKey {
                object: "time",
                key: "project",
            },
            Error::BadObject("x".into()),
            Error::InvalidIdentifier {
                kind: "slug",
                values: vec!["X".into()],
            },
            Error::InvalidUsername("x".into()),
            Error::authentication("x"),
            Error::SlugsExist(vec!["a".into()]),
            Error::SlugsExist(vec!["a".into(), "b".into()]),
            Error::NameExists("x".into()),
            Error::unauthorized("x", "y"),
            Error::InUse { object: "x" },
            Error::bad_query("x", "y"),
            Error::UsernameExists("x".into()),
            Error::TooManyRequests(1),
            Error::PayloadTooLarge(1),
        ];
        for e in &all {
            match e {
                Error::NotFound(_)
                | Error::Server(_)
                | Error::InvalidForeignKey { .. }
                | Error::BadObject(_)
                | Error::InvalidIdentifier { .. }
                | Error::InvalidUsername(_)
                | Error::Authentication(_)
                | Error::SlugsExist(_)
                | Error::NameExists(_)
                | Error::Authorization { .. }
                | Error::InUse { .. }
                | Error::BadQueryValue { .. }
                | Error::UsernameExists(_)
                | Error::TooManyRequests(_)
                | Error::PayloadTooLarge(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_error_name_and_status_is_documented() {
        let doc = document();
        let names = doc["components"]["schemas"]["ErrorName"]["enum"]
            .as_array()
            .expect("enum")
            .clone();
        for e in one_of_each() {
            let (status, name) = e.status_and_name();
            assert!(names.contains(&Value::from(name)), "{name} undocumented");
            let described = error_responses(&[status.as_u16()]);
            assert!(!described.is_empty());
        }
        // Each status an error can have appears on some operation.
        let text = DOCUMENT.as_str();
        for e in one_of_each() {
            let code = format!("\"{}\":", e.status_and_name().0.as_u16());
            assert!(text.contains(&code), "status {code} on no operation");
        }
    }

    /// The POST object schemas list exactly the fields the domain reads,
    /// and bodies that only create list the required ones.
    #[test]
    fn object_schemas_match_the_domain_fields() {
        use crate::domain::validate::FieldSpec;
        let doc = document();
        let cases: [(&str, &[FieldSpec], bool); 9] = [
            ("ActivityObject", &domain::activities::SPECS, false),
            ("ProjectObject", &domain::projects::SPECS, false),
            ("TimeObject", &domain::times::SPECS, false),
            ("OrgRoleObject", &domain::org_roles::SPECS, false),
            ("UserObject", &domain::users::CREATE_SPECS, true),
            ("UserUpdateObject", &domain::users::UPDATE_SPECS, false),
            ("TimerObject", &domain::timers::TIMER_SPECS, false),
            ("TimerStopObject", &domain::timers::STOP_SPECS, false),
            ("ApiTokenObject", &domain::api_tokens::SPECS, true),
        ];
        for (schema, specs, create_only) in cases {
            let object = &doc["components"]["schemas"][schema];
            let props = object["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{schema} missing"));
            let documented: Vec<&str> = props.keys().map(String::as_str).collect();
            let read: Vec<&str> = specs.iter().map(|s| s.name).collect();
            assert_eq!(documented, read, "{schema}");
            let required: Vec<&str> = specs
                .iter()
                .filter(|s| create_only && s.required)
                .map(|s| s.name)
                .collect();
            let listed: Vec<&str> = object["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert_eq!(listed, required, "{schema}");
        }
    }
}
