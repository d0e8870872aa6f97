//! Signed-in browsers: the session cookie, its renewal on activity, and the
//! cross-site request checks every state-changing form goes through.
//!
//! The session cookie holds an API token (`domain::tokens`, 30 minutes).
//! Any page answered while it is more than a minute old carries a fresh
//! one, so a session ends after 30 minutes without a request. Forms carry a
//! random per-browser token that must equal the `csrf` cookie (double
//! submit), and a POST whose `Origin` (or `Sec-Fetch-Site`) names another
//! site is refused before its body is read.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::domain::{caller, Caller};
use crate::http::AppState;
use crate::storage;
use crate::web::error::WebError;

/// Seconds a session cookie lives without a request (the token lifetime).
const SESSION_SECONDS: i64 = crate::domain::tokens::TOKEN_LIFETIME_MS / 1000;
/// A token older than this is replaced by a fresh one on the next answer.
const RENEW_AFTER_MS: i64 = 60 * 1000;

/// Cookie names; `__Host-` (only over https) pins them to this host and path.
fn cookie_name(state: &AppState, base: &str) -> String {
    if secure(state) {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

/// Whether the configured public URL is https (cookies are then `Secure`).
fn secure(state: &AppState) -> bool {
    state
        .config
        .public_url
        .as_ref()
        .is_some_and(|u| u.scheme() == "https")
}

/// The value of cookie `name` in the request, if any.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure over https.
fn set_cookie(state: &AppState, base: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if secure(state) { "; Secure" } else { "" };
    let name = cookie_name(state, base);
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .expect("cookie values are base64url or JWT characters")
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Equal secrets, compared in constant time.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The browser's form token: the `csrf` cookie, or a new one to set.
pub struct FormToken {
    pub value: String,
    new: bool,
}

impl FormToken {
    pub fn of(parts: &Parts, state: &AppState) -> Self {
        match cookie(&parts.headers, &cookie_name(state, "csrf")) {
            Some(value) if !value.is_empty() => Self { value, new: false },
            _ => Self {
                value: random_token(),
                new: true,
            },
        }
    }
    /// Sets the cookie on `response` when it is new.
    pub fn apply(&self, state: &AppState, response: &mut Response) {
        if self.new {
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(state, "csrf", &self.value, SESSION_SECONDS * 48),
            );
        }
    }
}

impl FromRequestParts<AppState> for FormToken {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, state))
    }
}

/// The signed-in user of a page. Extracting it redirects to the sign-in
/// page when the cookie is missing, expired, or names a user who may no
/// longer sign in.
pub struct Session {
    pub caller: Caller,
    /// The form token every POST form of the page must carry.
    pub csrf: String,
    renewed: Option<String>,
    state: AppState,
}

impl Session {
    /// Adds the renewed session cookie, if any, to `response`.
    pub fn finish(&self, mut response: Response) -> Response {
        if let Some(token) = &self.renewed {
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&self.state, "session", token, SESSION_SECONDS),
            );
        }
        response
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let next = parts
            .uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned());
        let sign_in = || WebError::SignIn { next: next.clone() };
        let token = cookie(&parts.headers, &cookie_name(state, "session")).ok_or_else(sign_in)?;
        let csrf = cookie(&parts.headers, &cookie_name(state, "csrf"))
            .filter(|c| !c.is_empty())
            .ok_or_else(sign_in)?;
        let caller = caller::authenticate(&state.db, &state.tokens, &token)
            .await
            .map_err(|_| sign_in())?;
        let now = storage::now_millis();
        let renewed = state
            .tokens
            .verify(&token, now)
            .ok()
            .filter(|claims| now - claims.iat > RENEW_AFTER_MS)
            .map(|claims| state.tokens.issue(&claims.sub, now));
        Ok(Session {
            caller,
            csrf,
            renewed,
            state: state.clone(),
        })
    }
}

/// Cookies that start a session for `token`, with a new form token (a
/// token known before signing in is not kept).
pub fn start(state: &AppState, token: &str, response: &mut Response) {
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, "session", token, SESSION_SECONDS),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, "csrf", &random_token(), SESSION_SECONDS * 48),
    );
}

/// Cookies that end the session.
pub fn end(state: &AppState, response: &mut Response) {
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, set_cookie(state, "session", "", 0));
    headers.append(header::SET_COOKIE, set_cookie(state, "csrf", "", 0));
}

/// Whether the request was sent by a page of this site: `Origin` must be
/// the configured public URL's origin (or, without one, name the host the
/// request was sent to); without `Origin`, `Sec-Fetch-Site` must not say
/// another site.
fn same_origin(parts: &Parts, state: &AppState) -> bool {
    let header_text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if let Some(origin) = header_text(header::ORIGIN) {
        let Ok(origin) = url::Url::parse(&origin) else {
            return false;
        };
        return match &state.config.public_url {
            Some(public) => origin.origin() == public.origin(),
            None => {
                let authority = match origin.port() {
                    Some(port) => format!("{}:{port}", origin.host_str().unwrap_or("")),
                    None => origin.host_str().unwrap_or("").to_owned(),
                };
                header_text(header::HOST).is_some_and(|host| host.eq_ignore_ascii_case(&authority))
            }
        };
    }
    match parts
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
    {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => true,
    }
}

/// The fields of a POSTed form whose origin and form token were checked:
/// handlers of state-changing forms take this, so none can skip the check.
pub struct CheckedForm {
    fields: Vec<(String, String)>,
}

impl CheckedForm {
    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }
    /// Every non-empty value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
    /// Whether checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.fields.iter().any(|(k, _)| k == name)
    }
    /// The value of `name` untrimmed (passwords).
    pub fn raw(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
    /// All pairs, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.fields
    }
}

impl FromRequest<AppState> for CheckedForm {
    type Rejection = WebError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, WebError> {
        let (parts, body) = req.into_parts();
        if !same_origin(&parts, state) {
            return Err(WebError::CrossSite);
        }
        let expected = cookie(&parts.headers, &cookie_name(state, "csrf"));
        let bytes = axum::body::to_bytes(body, state.config.max_body_bytes)
            .await
            .map_err(|_| {
                WebError::Domain(crate::error::Error::PayloadTooLarge(
                    state.config.max_body_bytes,
                ))
            })?;
        let fields: Vec<(String, String)> = url::form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let sent = fields
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str());
        match (expected, sent) {
            (Some(expected), Some(sent))
                if !expected.is_empty() && same_secret(&expected, sent) =>
            {
                Ok(CheckedForm { fields })
            }
            _ => Err(WebError::CrossSite),
        }
    }
}
