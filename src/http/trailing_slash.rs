//! One trailing `/` is accepted on every route and method and behaves
//! exactly as without it (DECISIONS.md, as the reference does): the path
//! is rewritten before routing, so the routes (and the OpenAPI paths made
//! from them) stay slash-free. `/` itself and paths ending in `//` are left
//! alone.

use axum::extract::{OriginalUri, Request};
use axum::http::uri::{PathAndQuery, Uri};

/// `request` with one trailing slash removed from its path.
pub async fn trim(mut request: Request) -> Request {
    if let Some(uri) = trimmed(request.uri()) {
        // Links built from the original URI (pagination) name the
        // canonical path too.
        request.extensions_mut().insert(OriginalUri(uri.clone()));
        *request.uri_mut() = uri;
    }
    request
}

/// The URI without its trailing slash, when it has exactly one to spare.
fn trimmed(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    let stripped = path.strip_suffix('/')?;
    if stripped.is_empty() || stripped.ends_with('/') {
        return None;
    }
    let path_and_query = match uri.query() {
        Some(query) => format!("{stripped}?{query}"),
        None => stripped.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trim(s: &str) -> Option<String> {
        trimmed(&s.parse().unwrap()).map(|u| u.to_string())
    }

    #[test]
    fn one_trailing_slash_goes() {
        assert_eq!(trim("/v0/times/").as_deref(), Some("/v0/times"));
        assert_eq!(
            trim("/v0/projects/?include_revisions=true").as_deref(),
            Some("/v0/projects?include_revisions=true")
        );
        assert_eq!(
            trim("http://h:1/v0/login/").as_deref(),
            Some("http://h:1/v0/login")
        );
        assert_eq!(trim("/"), None);
        assert_eq!(trim("/v0/times"), None);
        assert_eq!(trim("/v0/times//"), None);
        assert_eq!(trim("//"), None);
    }
}
