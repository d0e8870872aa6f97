//! Pagination parameters and list responses with `X-Total-Count` and `Link`.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::Page;
use crate::error::{Error, Result};
use crate::http::extract::Params;

/// `skip` and `limit` (non-negative integers; `limit=0` means all). Without
/// `limit`, the operator's `TIMESYNC_DEFAULT_LIMIT` (0: everything).
pub fn page(params: &Params, default_limit: u64) -> Result<Page> {
    let number = |key: &str| -> Result<Option<u64>> {
        match params.first(key) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|_| v.bytes().all(|b| b.is_ascii_digit()))
                // The databases store offsets as signed 64-bit integers.
                .filter(|n| i64::try_from(*n).is_ok())
                .map(Some)
                .ok_or_else(|| Error::bad_query(key, v)),
        }
    };
    let skip = number("skip")?.unwrap_or(0);
    let limit = number("limit")?.unwrap_or(default_limit);
    Ok(Page {
        skip,
        limit: (limit > 0).then_some(limit),
    })
}

/// A JSON array with `X-Total-Count` (before skip/limit) and a `Link`
/// header pointing at the next/previous pages (the token is left out).
pub fn list_response<T: Serialize>(uri: &Uri, items: &[T], total: u64, page: Page) -> Response {
    let mut response = axum::Json(items).into_response();
    set_list_headers(response.headers_mut(), uri, total, page);
    response
}

/// A JSON array streamed in `body`, with the headers of `list_response`.
pub fn streamed_list_response(uri: &Uri, body: Body, total: u64, page: Page) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    set_list_headers(headers, uri, total, page);
    response
}

/// `X-Total-Count` and `Link` of a list answer.
fn set_list_headers(headers: &mut HeaderMap, uri: &Uri, total: u64, page: Page) {
    headers.insert("x-total-count", HeaderValue::from(total));
    if let Some(limit) = page.limit {
        let link_to = |skip: u64, rel: &str| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in Params::parse(uri.query()).0 {
                if k != "skip" && k != "limit" && k != "token" {
                    query.append_pair(&k, &v);
                }
            }
            query.append_pair("skip", &skip.to_string());
            query.append_pair("limit", &limit.to_string());
            format!("<{}?{}>; rel=\"{rel}\"", uri.path(), query.finish())
        };
        let mut links = Vec::new();
        if page.skip + limit < total {
            links.push(link_to(page.skip + limit, "next"));
        }
        if page.skip > 0 {
            links.push(link_to(page.skip.saturating_sub(limit), "prev"));
        }
        if !links.is_empty() {
            if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
                headers.insert(header::LINK, v);
            }
        }
    }
}
