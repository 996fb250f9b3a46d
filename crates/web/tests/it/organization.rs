//! Browsing the organization, finding focal points, and routing a country to its office.

use crate::harness::{TestApp, code};
use meridian_domain::authz::Role;
use reqwest::StatusCode;

#[tokio::test]
async fn health_needs_no_sign_in_and_the_api_does() {
    let app = TestApp::spawn().await;
    let anon = app.anonymous();
    assert_eq!(anon.get("/healthz").await.status(), StatusCode::OK);
    let (status, body) = anon.get_json("/api/v1/org-units").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "unauthenticated");
}

#[tokio::test]
async fn a_viewer_browses_the_tree_of_the_brief() {
    let app = TestApp::spawn().await;
    let s = app
        .as_user("viewer@example.org", "CO-KEN", &[Role::Viewer])
        .await;

    let (status, units) = s.get_json("/api/v1/org-units?kind=regional_office").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = units
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 9, "{names:?}");
    for city in [
        "Bangkok",
        "Brussels",
        "Vienna",
        "Buenos Aires",
        "San José",
        "Cairo",
        "Pretoria",
        "Nairobi",
        "Dakar",
    ] {
        assert!(
            names.iter().any(|n| n.contains(city)),
            "no regional office in {city}"
        );
    }

    let (_, all) = s.get_json("/api/v1/org-units").await;
    let all = all.as_array().unwrap();
    let root = &all[0];
    assert_eq!(root["parent"], serde_json::Value::Null);
    let departments: Vec<&str> = all
        .iter()
        .filter(|u| {
            u["kind"] == "department"
                && u["parent"] == root["code"]
                && !u["referenced"].as_bool().unwrap()
        })
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        departments,
        [
            "Department of External Relations",
            "Department of Strategic Planning and Organizational Performance"
        ]
    );
    let country_offices = all.iter().filter(|u| u["kind"] == "country_office").count();
    assert!(country_offices >= 193, "{country_offices} country offices");

    let der = all
        .iter()
        .find(|u| u["name"] == "Department of External Relations")
        .unwrap();
    let (_, children) = s
        .get_json(&format!(
            "/api/v1/org-units?parent={}",
            der["code"].as_str().unwrap()
        ))
        .await;
    let mut names: Vec<&str> = children
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Donor Relations Division",
            "Global Compact on Migration Unit",
            "International Partnerships Division",
            "United Nations Partnerships Division"
        ]
    );
}

#[tokio::test]
async fn a_regional_office_page_shows_coverage_processes_coalitions_hubs_and_special_offices() {
    let app = TestApp::spawn().await;
    let s = app.as_user("v@example.org", "DG-EO", &[Role::Viewer]).await;
    let (_, units) = s.get_json("/api/v1/org-units?kind=regional_office").await;
    let find = |city: &str| {
        units
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"].as_str().unwrap().contains(city))
            .unwrap()["code"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    let (status, bangkok) = s
        .get_json(&format!("/api/v1/org-units/{}", find("Bangkok")))
        .await;
    assert_eq!(status, StatusCode::OK);
    let covered: Vec<&str> = bangkok["countries_covered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["iso3"].as_str().unwrap())
        .collect();
    assert!(
        covered.contains(&"THA") && covered.contains(&"AFG") && covered.contains(&"FJI"),
        "{covered:?}"
    );
    let colombo = bangkok["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Colombo Process")
        .unwrap();
    assert_eq!(colombo["role"], "secretariat");
    assert!(bangkok["coalitions"].as_array().unwrap().iter().any(|c| {
        c["with"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == "UN-Habitat")
    }));
    assert!(!bangkok["data_hubs"].as_array().unwrap().is_empty());
    assert!(!bangkok["functions"].as_array().unwrap().is_empty());

    let (_, vienna) = s
        .get_json(&format!("/api/v1/org-units/{}", find("Vienna")))
        .await;
    let almaty = vienna["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Almaty Process")
        .unwrap();
    assert_eq!(almaty["role"], "technical_secretariat");

    let (_, buenos_aires) = s
        .get_json(&format!("/api/v1/org-units/{}", find("Buenos Aires")))
        .await;
    let special = buenos_aires["special_offices"].as_array().unwrap();
    assert!(
        special
            .iter()
            .any(|o| o["name"].as_str().unwrap().contains("Venezuela")),
        "{special:?}"
    );
}

#[tokio::test]
async fn the_focal_point_questions_of_the_brief_are_answered() {
    let app = TestApp::spawn().await;
    let s = app
        .as_user("v@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    for (q, unit) in [
        ("risk appetite", "Risk Management Unit"),
        ("audit recommendations", "Operational Compliance Unit"),
        ("unearmarked funds", "Donor Relations Division"),
        ("project lifecycle system", "PRIMA Unit"),
        ("UN country teams", "United Nations Partnerships Division"),
    ] {
        let (status, hits) = s
            .get_json(&format!(
                "/api/v1/org-units/search?q={}",
                q.replace(' ', "+")
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(hits[0]["name"], unit, "{q}: {hits}");
        assert!(
            !hits[0]["matched_functions"].as_array().unwrap().is_empty(),
            "{q}"
        );
    }
    let (status, body) = s.get_json("/api/v1/org-units/search?q=+").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "q");
}

#[tokio::test]
async fn a_country_is_routed_to_the_regional_office_covering_it() {
    let app = TestApp::spawn().await;
    let s = app
        .as_user("v@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    for (iso3, city) in [
        ("KEN", "Nairobi"),
        ("THA", "Bangkok"),
        ("FRA", "Brussels"),
        ("UKR", "Vienna"),
        ("ARG", "Buenos Aires"),
        ("GTM", "San José"),
        ("EGY", "Cairo"),
        ("ZAF", "Pretoria"),
        ("SEN", "Dakar"),
    ] {
        let (status, c) = s.get_json(&format!("/api/v1/countries/{iso3}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            c["regional_office"]["name"]
                .as_str()
                .unwrap()
                .contains(city),
            "{iso3}: {c}"
        );
        assert_eq!(c["country_office"]["country"], iso3);
        assert_eq!(c["country_office"]["parent"], c["regional_office"]["code"]);
    }
    let (_, lower) = s.get_json("/api/v1/countries/ken").await;
    assert_eq!(lower["iso3"], "KEN");
    let (status, body) = s.get_json("/api/v1/countries/XYZ").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"]["message"].as_str().unwrap().contains("XYZ"));
}

#[tokio::test]
async fn unknown_units_and_filters_get_clear_errors() {
    let app = TestApp::spawn().await;
    let s = app
        .as_user("v@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let (status, body) = s.get_json("/api/v1/org-units/NOPE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "not_found");
    assert!(body["error"]["message"].as_str().unwrap().contains("NOPE"));
    let (status, body) = s.get_json("/api/v1/org-units?kind=galaxy").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "kind");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("regional_office")
    );
}
