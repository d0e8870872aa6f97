//! The web app: server-rendered pages for the people who log time, served
//! at `/` beside the JSON API (`/v0/`). It calls `domain` directly (never
//! the API over HTTP), so it keeps the same permission and visibility rules.
//!
//! Pages are askama templates (`templates/`, compiled in); forms work
//! without JavaScript; `assets/app.js` (ticking timer, conveniences) and
//! `assets/app.css` are embedded and served from this origin, under a
//! Content-Security-Policy that allows nothing else.

mod duration;
mod error;
mod login;
mod people;
mod projects;
mod reports;
mod session;
mod week;

pub use duration::{format as format_duration, parse as parse_duration};

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::http::AppState;
use session::Session;

/// Pages may load only this origin's script, style sheet and images, and
/// post forms only here.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every page of the web app.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .merge(login::router())
        .merge(week::router())
        .merge(projects::router())
        .merge(people::router())
        .merge(reports::router())
}

/// What the frame around every page shows: who is signed in, which
/// sections they may open, and the form token of the sign-out form.
pub struct Chrome {
    pub username: String,
    pub csrf: String,
    pub is_manager: bool,
    /// The section highlighted in the navigation.
    pub section: &'static str,
}

impl Chrome {
    fn new(session: &Session, section: &'static str) -> Self {
        Self {
            username: session.caller.username.clone(),
            csrf: session.csrf.clone(),
            is_manager: session.caller.is_manager(),
            section,
        }
    }
    /// `aria-current` for the navigation link of `section`.
    pub fn current(&self, section: &str) -> &'static str {
        if self.section == section {
            "page"
        } else {
            "false"
        }
    }
}

/// A rendered template as an HTML answer with the pages' CSP.
fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => {
            let mut response = (status, axum::response::Html(body)).into_response();
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered",
            )
                .into_response()
        }
    }
}

/// A page for a signed-in user (renewing their session cookie).
fn page(session: &Session, page: &impl Template) -> Response {
    session.finish(html(StatusCode::OK, page))
}

/// A page that shows a form again with what was wrong (422).
fn invalid(session: &Session, page: &impl Template) -> Response {
    session.finish(html(StatusCode::UNPROCESSABLE_ENTITY, page))
}

/// A page with a form: 422 when it shows what was wrong (`invalid`), else 200.
fn form_page(session: &Session, page: &impl Template, invalid: bool) -> Response {
    if invalid {
        self::invalid(session, page)
    } else {
        self::page(session, page)
    }
}

/// After a successful POST: go to `to` (303, so a reload does not post again).
fn see_other(session: &Session, to: &str) -> Response {
    session.finish(Redirect::to(to).into_response())
}

/// Percent-encodes a path segment or query value.
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", include_str!("assets/app.css"))
}

async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("assets/app.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
