//! CSV answers (RFC 4180): content negotiation and record writing.
//!
//! A list answers CSV when the query has `format=csv`, or has no `format`
//! and the `Accept` header names `text/csv`; `format=json` forces JSON and
//! any other `format` is `Bad query value`.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::{Error, Result};
use crate::http::extract::Params;

pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// Whether the client asked for CSV.
pub fn wanted(params: &Params, headers: &HeaderMap) -> Result<bool> {
    match params.first("format") {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(Error::bad_query("format", other)),
        None => Ok(headers
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
            })),
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
        let none = Params::default();
        assert!(!wanted(&none, &HeaderMap::new()).unwrap());
        assert!(wanted(&none, &accept("text/csv")).unwrap());
        assert!(wanted(&none, &accept("application/json, Text/CSV;q=0.5")).unwrap());
        assert!(!wanted(&none, &accept("text/csv;q=0")).unwrap());
        assert!(!wanted(&none, &accept("application/json")).unwrap());
        let csv = Params::parse(Some("format=csv"));
        assert!(wanted(&csv, &HeaderMap::new()).unwrap());
        let json = Params::parse(Some("format=json"));
        assert!(!wanted(&json, &accept("text/csv")).unwrap());
        assert!(wanted(&Params::parse(Some("format=xml")), &HeaderMap::new()).is_err());
    }
}
