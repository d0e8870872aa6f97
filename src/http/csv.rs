//! CSV answers (RFC 4180): content negotiation and record writing.
//!
//! A list answers CSV when the query has `format=csv`, or has no `format`
//! and the `Accept` header names `text/csv`; `format=json` forces JSON and
//! any other `format` is `Bad query value`.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::Error;
use crate::http::query;

pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// The `format` parameter of a list that can answer CSV.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// `csv` answers RFC 4180 CSV (as does `Accept: text/csv`); `json` forces JSON.
    #[param(inline)]
    format: Option<ListFormat>,
}

/// The answer format of a list that can answer CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListFormat {
    Json,
    Csv,
}

/// Whether the client asked for CSV (its `format`, else its `Accept`).
#[derive(Debug, Clone, Copy)]
pub struct Wanted(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for Wanted {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let format = query::parse::<FormatQuery>(parts.uri.query())?;
        Ok(Wanted(wanted(format, &parts.headers)))
    }
}

/// Whether the client asked for CSV.
pub fn wanted(query: FormatQuery, headers: &HeaderMap) -> bool {
    match query.format {
        Some(ListFormat::Csv) => true,
        Some(ListFormat::Json) => false,
        None => headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|range| {
                let mut parts = range.split(';');
                let media = parts.next().unwrap_or("").trim();
                // `q=0` means "not acceptable".
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
                });
                media.eq_ignore_ascii_case("text/csv") && !refused
            }),
    }
}

/// Appends one record: fields separated by commas, a field quoted when it
/// holds a comma, quote, CR or LF (quotes doubled), and CRLF at the end.
pub fn push_record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// A 200 CSV answer with `body`, offered for download as `filename`.
pub fn response(body: Body, filename: &str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fields: &[&str]) -> String {
        let mut out = String::new();
        push_record(&mut out, fields.iter().copied());
        out
    }

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(record(&["a", "b c", ""]), "a,b c,\r\n");
        assert_eq!(record(&["x,y"]), "\"x,y\"\r\n");
        assert_eq!(record(&["say \"hi\""]), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(record(&["l1\nl2", "r\r"]), "\"l1\nl2\",\"r\r\"\r\n");
        assert_eq!(record(&["é ü"]), "é ü\r\n");
    }

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn negotiation() {
        let none = FormatQuery::default();
        assert!(!wanted(none, &HeaderMap::new()));
        assert!(wanted(none, &accept("text/csv")));
        assert!(wanted(none, &accept("application/json, Text/CSV;q=0.5")));
        assert!(!wanted(none, &accept("text/csv;q=0")));
        assert!(!wanted(none, &accept("application/json")));
        let format = |q: &str| crate::http::query::parse::<FormatQuery>(Some(q));
        assert!(wanted(format("format=csv").unwrap(), &HeaderMap::new()));
        assert!(!wanted(format("format=json").unwrap(), &accept("text/csv")));
        assert_eq!(
            format("format=xml").unwrap_err().to_string(),
            "Parameter format contained invalid value xml"
        );
    }
}
