//! Pagination parameters and list responses with `X-Total-Count` and `Link`.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use crate::domain::changes;
use crate::domain::Page;
use crate::http::query::Count;

/// The header of every list answer naming the `since` of the next
/// synchronisation.
pub const NEXT_SINCE: &str = "x-next-since";

/// The `since` a client sends next (`domain::changes`), fixed before a
/// list's query runs.
#[derive(Debug, Clone, Copy)]
pub struct NextSince(i64);

impl NextSince {
    /// Read the clock now, before the list's first query.
    pub fn before_query() -> Self {
        Self(changes::next_since())
    }

    /// `response` with the `X-Next-Since` header (RFC 3339, UTC, ms).
    pub fn on(self, mut response: Response) -> Response {
        let stamp = chrono::DateTime::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if let Ok(value) = HeaderValue::from_str(&stamp) {
            response.headers_mut().insert(NEXT_SINCE, value);
        }
        response
    }
}

/// `skip` and `limit` of every list.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Objects to skip.
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    skip: Option<Count>,
    /// Most objects to return (0: all).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_u64)]
    limit: Option<Count>,
}

impl Paging {
    /// The page asked for; without `limit`, `default_limit` (0: everything).
    pub fn page(self, default_limit: u64) -> Page {
        let limit = self.limit.map_or(default_limit, |c| c.0);
        Page {
            skip: self.skip.map_or(0, |c| c.0),
            limit: (limit > 0).then_some(limit),
        }
    }
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
            let pairs = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes());
            for (k, v) in pairs {
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
