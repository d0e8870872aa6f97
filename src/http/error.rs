//! Renders `Error` as the spec's error objects.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{catalogue, Error};
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

    /// The error object as sent; a server error quotes `request_id`.
    pub fn body(&self, request_id: &str) -> serde_json::Value {
        let (status, name) = self.status_and_name();
        let (text, values) = match self {
            Error::InvalidIdentifier { values, .. } | Error::SlugsExist(values) => {
                (self.to_string(), Some(values.clone()))
            }
            Error::UsernameExists(name) | Error::NameExists(name) => {
                (self.to_string(), Some(vec![name.clone()]))
            }
            Error::Server(_) => (catalogue::server_error(request_id), None),
            _ => (self.to_string(), None),
        };
        let mut body = json!({"status": status.as_u16(), "error": name, "text": text});
        if let Some(values) = values {
            body["values"] = json!(values);
        }
        body
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_name();
        let id = current_request_id();
        if let Error::Server(cause) = &self {
            // The cause stays in the log; the client gets the id to quote.
            tracing::error!(request_id = %id, error = %format!("{cause:#}"), "server error");
        }
        let body = self.body(&id);
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
