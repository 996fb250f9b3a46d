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

/// A feed larger than a page (the store reads 500 projects at a time) is streamed, page by
/// page, and holds every published project once, in code order, as the export does.
#[tokio::test]
async fn a_feed_of_many_pages_is_streamed_whole() {
    use meridian_store::demo::DemoOptions;
    use sqlx::Row;
    let app = TestApp::spawn().await;
    let org = app.state.org().org.clone();
    app.store
        .load_demo(
            &org,
            &meridian_domain::org::Countries::builtin(),
            &operator(),
            &DemoOptions {
                scale: 4,
                real_per_status: 0,
                ..Default::default()
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    let statuses: Vec<String> = meridian_store::iati::PUBLIC_STATUSES
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let codes: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT code FROM projects WHERE restricted = 0 AND status IN ({}) ORDER BY code",
        statuses.join(", ")
    )))
    .fetch_all(app.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("code"))
    .collect();
    assert!(
        codes.len() > 500,
        "the demo publishes {} projects: fewer than two pages",
        codes.len()
    );

    let mut response = reqwest::get(format!("{}/iati/activities.xml", app.url))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("content-length").is_none(),
        "a streamed body has no length known in advance: {:?}",
        response.headers()
    );
    let mut body = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = response.chunk().await.unwrap() {
        chunks += 1;
        body.extend_from_slice(&chunk);
    }
    assert!(chunks > 1, "the document came in {chunks} chunk(s)");
    assert!(body.ends_with(b"</iati-activities>\n"));
    let acts = meridian_formats::iati::read::read_all(&body).unwrap();
    assert_eq!(acts.len(), codes.len(), "every published project, once");
    for (a, code) in acts.iter().zip(&codes) {
        assert!(
            a.identifier.ends_with(&format!("-{code}")),
            "in code order, no page lost or repeated: {} where {code} was expected",
            a.identifier
        );
    }
}
