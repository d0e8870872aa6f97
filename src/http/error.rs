//! Renders `Error` as the spec's error objects.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;
use crate::http::middleware::current_request_id;

/// The methods an object still in use accepts.
const IN_USE_ALLOW: &str = "GET, POST";

impl Error {
    /// HTTP status and the spec's error name.
    pub fn status_and_name(&self) -> (StatusCode, &'static str) {
        match self {
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "Object not found"),
            Error::Server(_) => (StatusCode::INTERNAL_SERVER_ERROR, "Server error"),
            Error::InvalidForeignKey { .. } => (StatusCode::CONFLICT, "Invalid foreign key"),
            Error::BadObject(_) => (StatusCode::BAD_REQUEST, "Bad object"),
            Error::InvalidIdentifier { .. } => (StatusCode::BAD_REQUEST, "Invalid identifier"),
            Error::InvalidUsername(_) => (StatusCode::UNAUTHORIZED, "Invalid username"),
            Error::Authentication(_) => (StatusCode::UNAUTHORIZED, "Authentication failure"),
            Error::SlugsExist(s) if s.len() == 1 => (StatusCode::CONFLICT, "Slug already exists"),
            Error::SlugsExist(_) => (StatusCode::CONFLICT, "Slugs already exist"),
            Error::NameExists(_) => (StatusCode::CONFLICT, "Slug already exists"),
            Error::Authorization { .. } => (StatusCode::UNAUTHORIZED, "Authorization failure"),
            Error::InUse { .. } => (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed"),
            Error::BadQueryValue { .. } => (StatusCode::BAD_REQUEST, "Bad query value"),
            Error::UsernameExists(_) => (StatusCode::CONFLICT, "Username already exists"),
            Error::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "Too many requests"),
            Error::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "Bad object"),
        }
    }

    fn text_and_values(&self) -> (String, Option<Vec<String>>) {
        match self {
            Error::InvalidIdentifier { kind, values } if values.len() > 1 => (
                format!("Expected {kind} but received: {}", values.join(", ")),
                Some(values.clone()),
            ),
            Error::InvalidIdentifier { values, .. } => (self.to_string(), Some(values.clone())),
            Error::SlugsExist(slugs) if slugs.len() == 1 => (
                format!("Slug {} already exists on another object", slugs[0]),
                Some(slugs.clone()),
            ),
            Error::SlugsExist(slugs) => (
                format!("Slugs {} already exist on another object", slugs.join(", ")),
                Some(slugs.clone()),
            ),
            Error::UsernameExists(name) | Error::NameExists(name) => {
                (self.to_string(), Some(vec![name.clone()]))
            }
            Error::Server(cause) => {
                let id = current_request_id();
                // The cause stays in the log; the client gets the id to quote.
                tracing::error!(request_id = %id, error = %format!("{cause:#}"), "server error");
                (format!("Internal server error (request id {id})"), None)
            }
            _ => (self.to_string(), None),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, name) = self.status_and_name();
        let (text, values) = self.text_and_values();
        let mut body = json!({"status": status.as_u16(), "error": name, "text": text});
        if let Some(values) = values {
            body["values"] = json!(values);
        }
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        match &self {
            Error::InUse { .. } => {
                // An object in use can still be read and updated, not deleted.
                headers.insert(header::ALLOW, HeaderValue::from_static(IN_USE_ALLOW));
            }
            Error::TooManyRequests(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            _ => {}
        }
        response
    }
}
