//! Signing in and out. Sign-in goes through `domain::login`, so the login
//! modules (password, LDAP) and the throttle are the API's own.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use crate::domain::login::{login, Credentials, LoginContext};
use crate::http::AppState;
use crate::web::error::{plain_words, WebResult};
use crate::web::session::{self, CheckedForm, FormToken};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(show).post(sign_in))
        .route("/logout", post(sign_out))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
    signed_out: bool,
    choose_method: bool,
    method: String,
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

/// Where to go after signing in: a path of this site, never another host.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

fn choose_method(state: &AppState) -> bool {
    let modules = state.config.auth_modules;
    modules.password && modules.ldap && state.config.ldap.is_some()
}

async fn show(
    State(state): State<AppState>,
    token: FormToken,
    Query(query): Query<LoginQuery>,
) -> Response {
    let page = LoginPage {
        csrf: token.value.clone(),
        next: safe_next(query.next.as_deref().unwrap_or("/")),
        username: String::new(),
        error: None,
        signed_out: query.signed_out.is_some(),
        choose_method: choose_method(&state),
        method: "password".into(),
    };
    let mut response = super::html(StatusCode::OK, &page);
    token.apply(&state, &mut response);
    response
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    form: CheckedForm,
) -> WebResult {
    let modules = state.config.auth_modules;
    let method = match form.get("method") {
        "ldap" if choose_method(&state) => "ldap",
        _ if modules.password => "password",
        _ => "ldap",
    };
    let username = form.get("username").to_owned();
    let credentials = Credentials {
        kind: Some(method.to_owned()),
        username: Some(username.clone()),
        password: Some(form.raw("password").to_owned()),
    };
    let ctx = LoginContext {
        db: &state.db,
        tokens: &state.tokens,
        modules,
        ldap: state.config.ldap.as_ref(),
        throttle: &state.throttle,
    };
    match login(&ctx, Some(&credentials), Some(peer.ip())).await {
        Ok(token) => {
            let mut response = Redirect::to(&safe_next(form.get("next"))).into_response();
            session::start(&state, &token, &mut response);
            Ok(response)
        }
        Err(
            e @ (crate::error::Error::Authentication(_) | crate::error::Error::TooManyRequests(_)),
        ) => {
            let status = if matches!(e, crate::error::Error::TooManyRequests(_)) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            let page = LoginPage {
                csrf: form.get("csrf").to_owned(),
                next: safe_next(form.get("next")),
                username,
                error: Some(plain_words(&e)),
                signed_out: false,
                choose_method: choose_method(&state),
                method: method.into(),
            };
            Ok(super::html(status, &page))
        }
        Err(e) => Err(e.into()),
    }
}

async fn sign_out(State(state): State<AppState>, _form: CheckedForm) -> Response {
    let mut response = Redirect::to("/login?signed_out=1").into_response();
    session::end(&state, &mut response);
    response
}
