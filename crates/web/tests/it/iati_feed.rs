//! The public IATI feed: no sign-in, only published projects, never restricted ones, and
//! what it serves is valid IATI 2.03.

use crate::harness::{TestApp, operator};
use meridian_store::iati::ImportOptions;
use std::path::Path;

fn sample(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/iati/samples")
        .join(path)
}

#[tokio::test]
async fn the_feed_publishes_public_projects_without_sign_in() {
    let app = TestApp::spawn().await;
    let org = app.state.org().org.clone();
    for file in [
        "real-2.0x/iom_XM-DAC-47066-DP.2154_wrapped.xml",
        "real-2.0x/us-gov-1_3acts_one-with-errors.xml",
    ] {
        let report = app
            .store
            .import_iati(&org, &operator(), &sample(file), &ImportOptions::default())
            .await
            .unwrap();
        assert!(report.is_success(), "{report:?}");
    }
    // One imported project goes back to draft, another is restricted: neither is published.
    sqlx::query(
        "UPDATE projects SET status = 'draft' WHERE id = \
         (SELECT project_id FROM iati_activities WHERE identifier = 'US-GOV-1-A')",
    )
    .execute(app.store.pool())
    .await
    .unwrap();
    sqlx::query(
        "UPDATE projects SET restricted = 1 WHERE id = \
         (SELECT project_id FROM iati_activities WHERE identifier = 'US-GOV-1-B')",
    )
    .execute(app.store.pool())
    .await
    .unwrap();

    let response = reqwest::get(format!("{}/iati/activities.xml", app.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/xml; charset=utf-8"
    );
    let body = response.bytes().await.unwrap();
    let acts = meridian_formats::iati::read::read_all(&body).unwrap();
    let ids: Vec<&str> = acts.iter().map(|a| a.identifier.as_str()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&"XM-DAC-47066-DP.2154") && ids.contains(&"US-GOV-1-C"));
    let report = meridian_formats::iati::validate(&body[..], &Default::default()).unwrap();
    assert!(report.passes_critical_checks(), "{:#?}", report.findings);
}
