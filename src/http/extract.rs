//! Extractors: the authenticated caller, POST bodies
//! (`{"auth": {...}, "object": {...}}`) parsed by our strict JSON reader,
//! and path parameters.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde_json::{Map, Value};

use crate::domain::ids::Identifier;
use crate::domain::{caller, Caller};
use crate::error::catalogue::{self, authentication};
use crate::error::Error;
use crate::http::{query, AppState};

/// The `?token=` of a request (a GET or DELETE's way to send it).
#[derive(Debug, Default, serde::Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The token of `?token=`, if any (the first one).
fn query_token(parts: &Parts) -> Result<Option<String>, Error> {
    query::parse::<TokenQuery>(parts.uri.query()).map(|q| q.token)
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
        let token = match bearer(parts) {
            Some(token) => Some(token),
            None => query_token(parts)?,
        }
        .ok_or_else(|| Error::authentication(authentication::MISSING_CREDENTIALS))?;
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

/// An authenticated POST: the caller (from the body's `auth` block or a
/// bearer header) and the body's `object`. A `?token=` on a POST is not a
/// credential (DECISIONS.md): tokens in URLs end up in logs, and the
/// reference ignores it too.
///
/// `AuthedObject<I>` also reads the identifier `I` of the route's path,
/// after authentication and the body's shape (so a POST answers in the
/// same order as a GET or DELETE: authentication first).
#[derive(Debug, Clone)]
pub struct AuthedObject<I = ()> {
    pub caller: Caller,
    pub object: Map<String, Value>,
    pub id: I,
}

impl<I: PathPart + Send> FromRequest<AppState> for AuthedObject<I> {
    type Rejection = Error;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Error> {
        let (mut parts, body) = req.into_parts();
        let header_token = bearer(&parts);
        let value = read_json(body, state.config.max_body_bytes).await?;
        let Value::Object(mut body) = value else {
            return Err(Error::BadObject(
                catalogue::bad_object::BODY_NOT_AN_OBJECT.into(),
            ));
        };
        let body_token = match body.get("auth") {
            None | Some(Value::Null) => None,
            Some(Value::Object(auth)) => match auth.get("type") {
                Some(Value::String(t)) if t == "token" => match auth.get("token") {
                    Some(Value::String(token)) => Some(token.clone()),
                    _ => return Err(Error::authentication(authentication::MISSING_CREDENTIALS)),
                },
                Some(Value::String(t)) => {
                    return Err(Error::Authentication(authentication::invalid_type(t)))
                }
                _ => return Err(Error::authentication(authentication::TYPE_REQUIRED)),
            },
            Some(_) => return Err(Error::authentication(authentication::MISSING_CREDENTIALS)),
        };
        let token = body_token
            .or(header_token)
            .ok_or_else(|| Error::authentication(authentication::MISSING_CREDENTIALS))?;
        let caller = caller::authenticate(&state.db, &state.tokens, &token).await?;
        caller.require_write()?;
        let object = match body.remove("object") {
            Some(Value::Object(object)) => object,
            None => {
                return Err(Error::BadObject(
                    catalogue::bad_object::BODY_WITHOUT_OBJECT.into(),
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
        let id = I::read(&mut parts).await?;
        Ok(AuthedObject { caller, object, id })
    }
}

/// The one path parameter of a route (`/:slug`, `/:uuid`, `/:username`),
/// percent-decoded. One that does not decode (not UTF-8) is kept raw, so
/// that it is refused as an invalid identifier with a JSON error rather
/// than axum answering in plain text.
async fn path_segment(parts: &mut Parts) -> String {
    match axum::extract::Path::<String>::from_request_parts(parts, &()).await {
        Ok(axum::extract::Path(value)) => value,
        Err(_) => parts.uri.path().rsplit('/').next().unwrap_or("").to_owned(),
    }
}

/// The identifier a route's path names its object by, parsed once into its
/// type (`Slug`, `Username`, `TimeId`, `TokenId`); malformed: `Invalid
/// identifier`. Placed after `Auth` in a handler's arguments, so that
/// authentication is checked first.
#[derive(Debug, Clone)]
pub struct PathId<T>(pub T);

impl<S: Send + Sync, T: Identifier> FromRequestParts<S> for PathId<T> {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        T::parse(&path_segment(parts).await).map(PathId)
    }
}

/// What an `AuthedObject` reads from the path: nothing (`()`), or an
/// identifier.
pub trait PathPart: Sized {
    fn read(parts: &mut Parts) -> impl std::future::Future<Output = Result<Self, Error>> + Send;
}

impl PathPart for () {
    async fn read(_: &mut Parts) -> Result<Self, Error> {
        Ok(())
    }
}

impl<T: Identifier> PathPart for T {
    async fn read(parts: &mut Parts) -> Result<Self, Error> {
        T::parse(&path_segment(parts).await)
    }
}
