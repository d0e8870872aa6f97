//! Extractors: query parameters, the authenticated caller, and POST bodies
//! (`{"auth": {...}, "object": {...}}`) parsed by our strict JSON reader.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde_json::{Map, Value};

use crate::domain::{caller, Caller};
use crate::error::Error;
use crate::http::AppState;

/// All query parameters in order. Repeatable keys (`user`, `project`, …)
/// use `all`; single-valued ones use `first` (the first occurrence wins).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
    pub fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// `include_*` flags: true when present with any value but `false`.
    pub fn flag(&self, key: &str) -> bool {
        self.first(key).is_some_and(|v| v != "false")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query()))
    }
}

/// The token of `Authorization: Bearer T`, if any.
fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The caller of a GET or DELETE, authenticated from `?token=` or a bearer header.
#[derive(Debug, Clone)]
pub struct Auth(pub Caller);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let token = bearer(parts)
            .or_else(|| {
                Params::parse(parts.uri.query())
                    .first("token")
                    .map(str::to_owned)
            })
            .ok_or_else(|| Error::authentication("Missing credentials"))?;
        let caller = caller::authenticate(&state.db, &state.tokens, &token).await?;
        if parts.method != axum::http::Method::GET && parts.method != axum::http::Method::HEAD {
            // A DELETE: refused to `read` API tokens.
            caller.require_write()?;
        }
        Ok(Auth(caller))
    }
}

/// A request body parsed as JSON (strictly), within the size limit.
#[derive(Debug, Clone)]
pub struct JsonBody(pub Value);

impl FromRequest<AppState> for JsonBody {
    type Rejection = Error;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        read_json(req.into_body(), state.config.max_body_bytes)
            .await
            .map(JsonBody)
    }
}

async fn read_json(body: axum::body::Body, limit: usize) -> Result<Value, Error> {
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| Error::PayloadTooLarge(limit))?;
    crate::http::json::parse(&bytes)
}

/// An authenticated POST: the caller (from the body's `auth` block, a
/// bearer header, or `?token=`) and the body's `object`.
#[derive(Debug, Clone)]
pub struct AuthedObject {
    pub caller: Caller,
    pub object: Map<String, Value>,
}

impl FromRequest<AppState> for AuthedObject {
    type Rejection = Error;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let (parts, body) = req.into_parts();
        let header_token = bearer(&parts);
        let query_token = Params::parse(parts.uri.query())
            .first("token")
            .map(str::to_owned);
        let value = read_json(body, state.config.max_body_bytes).await?;
        let Value::Object(mut body) = value else {
            return Err(Error::BadObject(
                "The request body must be a JSON object".into(),
            ));
        };
        let body_token = match body.get("auth") {
            None | Some(Value::Null) => None,
            Some(Value::Object(auth)) => match auth.get("type") {
                Some(Value::String(t)) if t == "token" => match auth.get("token") {
                    Some(Value::String(token)) => Some(token.clone()),
                    _ => return Err(Error::authentication("Missing credentials")),
                },
                Some(Value::String(t)) => {
                    return Err(Error::Authentication(format!(
                        "{t} is not a valid authentication type"
                    )))
                }
                _ => return Err(Error::authentication("Authentication type required")),
            },
            Some(_) => return Err(Error::authentication("Missing credentials")),
        };
        let token = body_token
            .or(header_token)
            .or(query_token)
            .ok_or_else(|| Error::authentication("Missing credentials"))?;
        let caller = caller::authenticate(&state.db, &state.tokens, &token).await?;
        caller.require_write()?;
        let object = match body.remove("object") {
            Some(Value::Object(object)) => object,
            None => {
                return Err(Error::BadObject(
                    "The request body is missing an object".into(),
                ))
            }
            Some(other) => {
                return Err(Error::invalid_field(
                    "request",
                    "object",
                    "object",
                    crate::domain::validate::json_type(&other),
                ));
            }
        };
        Ok(AuthedObject { caller, object })
    }
}

/// The one path parameter of a route (`/:slug`, `/:uuid`, `/:username`),
/// percent-decoded. One that does not decode (not UTF-8) is kept raw, so
/// the domain refuses it as an invalid identifier with a JSON error rather
/// than axum answering in plain text.
#[derive(Debug, Clone)]
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(PathParam(value)),
            Err(_) => Ok(PathParam(
                parts.uri.path().rsplit('/').next().unwrap_or("").to_owned(),
            )),
        }
    }
}
