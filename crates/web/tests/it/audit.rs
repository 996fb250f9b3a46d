//! Every change is in the audit trail, with who, when, before and after; who may read it.

use crate::harness::{TestApp, code};
use meridian_domain::authz::Role;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn an_account_change_is_recorded_with_before_and_after() {
    let app = TestApp::spawn().await;
    let admin = app
        .as_user("admin@example.org", "RO-NBO", &[Role::Administrator])
        .await;
    let (_, created) = admin
        .post_json(
            "/api/v1/users",
            json!({"email": "staff@example.org", "unit": "CO-KEN", "roles": ["viewer"]}),
        )
        .await;
    let id = created["user"]["id"].as_str().unwrap();
    let (status, _) = admin
        .patch_json(
            &format!("/api/v1/users/{id}"),
            json!({"roles": ["viewer", "data_officer"], "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, events) = admin
        .get_json(&format!("/api/v1/audit?entity=user&id={id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let events = events.as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["user.update", "user.create"], "newest first");
    let update = &events[0];
    assert_eq!(update["actor"], "admin@example.org");
    assert_eq!(update["unit"], "CO-KEN");
    assert_eq!(update["before"]["roles"], json!(["viewer"]));
    assert_eq!(update["after"]["roles"], json!(["viewer", "data_officer"]));
    assert!(update["at"].as_str().unwrap().ends_with('Z'));
    assert!(update["after"].get("password_hash").is_none());
}

#[tokio::test]
async fn administrators_search_the_trail_within_their_scope_only() {
    let app = TestApp::spawn().await;
    let kenya = app
        .as_user("admin.ke@example.org", "CO-KEN", &[Role::Administrator])
        .await;
    let thailand = app
        .as_user("admin.th@example.org", "CO-THA", &[Role::Administrator])
        .await;
    kenya
        .post_json(
            "/api/v1/users",
            json!({"email": "ke@example.org", "unit": "CO-KEN", "roles": ["viewer"]}),
        )
        .await;
    thailand
        .post_json(
            "/api/v1/users",
            json!({"email": "th@example.org", "unit": "CO-THA", "roles": ["viewer"]}),
        )
        .await;

    let (status, events) = kenya.get_json("/api/v1/audit?action=user.create").await;
    assert_eq!(status, StatusCode::OK);
    let units: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["unit"].as_str().unwrap())
        .collect();
    assert!(!units.is_empty());
    assert!(units.iter().all(|u| *u == "CO-KEN"), "{units:?}");

    let hq = app
        .as_user("hq@example.org", "DG-EO", &[Role::Administrator])
        .await;
    let (_, events) = hq
        .get_json("/api/v1/audit?action=user.create&actor=admin.th@example.org")
        .await;
    assert_eq!(events.as_array().unwrap().len(), 1);
    assert_eq!(events[0]["after"]["email"], "th@example.org");
}

#[tokio::test]
async fn others_read_the_history_of_what_they_can_see_and_nothing_more() {
    let app = TestApp::spawn().await;
    let viewer = app
        .as_user("viewer@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let (status, body) = viewer.get_json("/api/v1/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&body), "forbidden");
    // The organization is visible to everyone, and so is its history.
    let (status, events) = viewer
        .get_json("/api/v1/audit?entity=org_unit&id=RO-NBO")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events[0]["action"], "org_unit.create");
    assert_eq!(events[0]["actor"], "operator:test");
    // One's own account, but not somebody else's.
    let (_, me) = viewer.get_json("/api/v1/me").await;
    let (status, own) = viewer
        .get_json(&format!(
            "/api/v1/audit?entity=user&id={}",
            me["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        own.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "user.sign_in")
    );
    let other = app
        .user("other@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let (status, _) = viewer
        .get_json(&format!("/api/v1/audit?entity=user&id={other}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn reloading_a_changed_organization_file_updates_units_and_keeps_references() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.toml");
    let text = meridian_domain::builtin::ORGANIZATION_TOML;
    std::fs::write(&path, text).unwrap();
    let app = TestApp::spawn_with(meridian_web::Config {
        org_file: Some(path.clone()),
        ..Default::default()
    })
    .await;
    let hq = app
        .as_user("hq@example.org", "DG-EO", &[Role::Administrator])
        .await;
    let staff = app
        .user("staff@example.org", "DSPOP-PRIMA", &[Role::Viewer])
        .await;

    let (status, unchanged) = hq.post_json("/api/v1/org-units/reload", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        unchanged,
        json!({"units_added": 0, "units_updated": 0, "units_retired": 0, "countries_changed": 0, "other_changes": 0})
    );

    // Rename one unit; take the PRIMA Unit out of the file altogether.
    let renamed = text.replace(
        "name = \"Risk Management Unit\"",
        "name = \"Enterprise Risk Management Unit\"",
    );
    let prima_start = renamed
        .find("code = \"DSPOP-PRIMA\"")
        .expect("the PRIMA Unit is in the file");
    let block_start = renamed[..prima_start].rfind("[[units]]").unwrap();
    let block_end = block_start + 9 + renamed[block_start + 9..].find("[[").unwrap();
    let without_prima = format!("{}{}", &renamed[..block_start], &renamed[block_end..]);
    std::fs::write(&path, without_prima).unwrap();

    let (status, summary) = hq.post_json("/api/v1/org-units/reload", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["units_updated"], 1);
    assert_eq!(summary["units_retired"], 1);
    let (_, rmu) = hq.get_json("/api/v1/org-units/DSPOP-RMU").await;
    assert_eq!(rmu["name"], "Enterprise Risk Management Unit");
    assert_eq!(
        hq.get_json("/api/v1/org-units/DSPOP-PRIMA").await.0,
        StatusCode::NOT_FOUND
    );
    // The account of the retired unit still exists and still names its unit.
    let user = app.store.find_user_by_id(&staff).await.unwrap().unwrap();
    assert_eq!(user.unit.as_str(), "DSPOP-PRIMA");
    let (_, events) = hq
        .get_json("/api/v1/audit?entity=org_unit&id=DSPOP-RMU")
        .await;
    assert_eq!(events[0]["action"], "org_unit.update");
    assert_eq!(events[0]["before"]["name"], "Risk Management Unit");
    assert_eq!(
        events[0]["after"]["name"],
        "Enterprise Risk Management Unit"
    );
}

#[tokio::test]
async fn a_malformed_organization_file_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org.toml");
    std::fs::write(&path, meridian_domain::builtin::ORGANIZATION_TOML).unwrap();
    let app = TestApp::spawn_with(meridian_web::Config {
        org_file: Some(path.clone()),
        ..Default::default()
    })
    .await;
    let hq = app
        .as_user("hq@example.org", "DG-EO", &[Role::Administrator])
        .await;
    let broken = meridian_domain::builtin::ORGANIZATION_TOML
        .replace("name = \"Risk Management Unit\"", "name = \"Renamed\"")
        .replacen("parent = \"DSPOP\"", "parent = \"DG-NOWHERE\"", 1);
    std::fs::write(&path, broken).unwrap();
    let (status, err) = hq.post_json("/api/v1/org-units/reload", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("unknown parent DG-NOWHERE") && message.contains("org.toml"),
        "{message}"
    );
    let (_, rmu) = hq.get_json("/api/v1/org-units/DSPOP-RMU").await;
    assert_eq!(rmu["name"], "Risk Management Unit");

    let regional = app
        .as_user("ro@example.org", "RO-NBO", &[Role::Administrator])
        .await;
    let (status, err) = regional
        .post_json("/api/v1/org-units/reload", json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("headquarters")
    );
}
