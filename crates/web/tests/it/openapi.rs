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

/// A path parameter is one the path names; everything else a handler reads from the URL is a
/// query parameter, required only when the handler cannot do without it.
#[tokio::test]
async fn parameters_are_where_the_paths_say() {
    let app = TestApp::spawn().await;
    let doc: serde_json::Value = app
        .anonymous()
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .unwrap();
    let mut wrong = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let named = path.contains(&format!("{{{name}}}"));
                match p["in"].as_str() {
                    Some("path") if !named => wrong.push(format!(
                        "{method} {path}: {name} is not in the path but is a path parameter"
                    )),
                    Some("query") if named => wrong.push(format!(
                        "{method} {path}: {name} is in the path but is a query parameter"
                    )),
                    _ => {}
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Filters are optional.
    let audit = doc["paths"]["/api/v1/audit"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let entity = audit.iter().find(|p| p["name"] == "entity").unwrap();
    assert_eq!(entity["in"], "query");
    assert_ne!(entity["required"], true);
}
