//! The OpenAPI document is part of the contract: a change to it shows up in review.

use crate::harness::TestApp;
use reqwest::StatusCode;

#[tokio::test]
async fn the_openapi_document_is_served_and_matches_the_snapshot() {
    let app = TestApp::spawn().await;
    let r = app.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: serde_json::Value = r.json().await.unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/org-units",
        "/api/v1/org-units/{code}",
        "/api/v1/org-units/search",
        "/api/v1/countries/{iso3}",
        "/api/v1/audit",
        "/api/v1/users",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
    insta::assert_json_snapshot!("openapi", doc);
}
