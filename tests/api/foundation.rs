//! Tests of the foundation: login, tokens, errors, middleware.

use crate::helpers::*;

#[tokio::test]
async fn root_logs_in_and_token_authenticates_get() {
    let app = TestApp::spawn().await;
    let token = app.root_token().await;
    let r = app.get("/v0/nothing-here", &token).await;
    r.assert_error(404, "Object not found");
    let health = app.get_anon("/healthz").await;
    assert_eq!(health.status, 200);
}
