//! What a page shows when something goes wrong: the API's error, in words
//! a person reads, on an error page with the right status.

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::Error;

pub enum WebError {
    /// Not signed in (or the session ended): go to the sign-in page, then
    /// come back to `next`.
    SignIn { next: String },
    /// A form from another site, or without this browser's form token.
    CrossSite,
    /// A refusal or failure of the domain layer.
    Domain(Error),
}

impl From<Error> for WebError {
    fn from(e: Error) -> Self {
        WebError::Domain(e)
    }
}

pub type WebResult<T = Response> = Result<T, WebError>;

/// Errors a form shows next to it (their sentence); server failures and
/// missing objects fail the page.
pub fn shown(error: Error) -> Result<String, Error> {
    match error {
        Error::Server(_) | Error::NotFound(_) => Err(error),
        other => Ok(plain_words(&other)),
    }
}

/// The names whose flag is set, joined by commas (roles as a person reads them).
pub fn named_flags(flags: &[(bool, &str)]) -> String {
    let names: Vec<&str> = flags
        .iter()
        .filter(|(set, _)| *set)
        .map(|(_, name)| *name)
        .collect();
    names.join(", ")
}

/// The sentence a person reads for `error`.
pub fn plain_words(error: &Error) -> String {
    match error {
        Error::NotFound(object) => format!("There is no such {object}."),
        Error::Authorization { action, .. } => format!("You are not allowed to {action}."),
        Error::InvalidForeignKey { object, key } => {
            format!(
                "Choose an existing {} for the {object}.",
                key.trim_end_matches('s')
            )
        }
        Error::SlugsExist(slugs) if slugs.len() == 1 => {
            format!("The slug {} is already used by something else.", slugs[0])
        }
        Error::SlugsExist(slugs) => {
            format!(
                "The slugs {} are already used by something else.",
                slugs.join(", ")
            )
        }
        Error::UsernameExists(name) => format!("The username {name} is already taken."),
        Error::InvalidUsername(name) => {
            format!("{name} cannot be a username: use letters, digits and - . _ ~ only.")
        }
        Error::InUse { object } => {
            format!("This {object} is still in use (by time entries or a running timer), so it cannot be deleted.")
        }
        Error::TooManyRequests(seconds) => {
            format!("Too many failed sign-ins. Try again in {seconds} seconds.")
        }
        Error::InvalidIdentifier { kind, values } => {
            format!("{} is not a valid {kind}.", values.join(", "))
        }
        Error::BadQueryValue { key, value } => format!("{value} is not a valid {key}."),
        Error::Server(_) => format!(
            "Something went wrong on the server (request {}). Please try again.",
            crate::http::middleware::current_request_id()
        ),
        other => {
            let text = other.to_string();
            format!("{}.", text.trim_end_matches('.'))
        }
    }
}

fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Authorization { .. } => StatusCode::FORBIDDEN,
        Error::Authentication(_) | Error::InvalidUsername(_) => StatusCode::UNAUTHORIZED,
        Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
        Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
        Error::SlugsExist(_) | Error::UsernameExists(_) | Error::NameExists(_) => {
            StatusCode::CONFLICT
        }
        Error::InvalidForeignKey { .. } => StatusCode::CONFLICT,
        Error::InUse { .. } => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn { next } => {
                let target = if next == "/" {
                    "/login".to_owned()
                } else {
                    format!(
                        "/login?next={}",
                        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    )
                };
                Redirect::to(&target).into_response()
            }
            WebError::CrossSite => super::html(
                StatusCode::FORBIDDEN,
                &ErrorPage {
                    title: "Form refused".into(),
                    message: "This form was not sent from a TimeSync page (or the page was too \
                              old). Reload the page and try again."
                        .into(),
                },
            ),
            WebError::Domain(error) => {
                if let Error::Server(cause) = &error {
                    tracing::error!(error = %format!("{cause:#}"), "web page failed");
                }
                let mut response = super::html(
                    status_of(&error),
                    &ErrorPage {
                        title: "That did not work".into(),
                        message: plain_words(&error),
                    },
                );
                if let Error::TooManyRequests(seconds) = error {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, seconds.into());
                }
                response
            }
        }
    }
}
