//! Results-based management through the API and the pages: a matrix built by the project's
//! developer, values entered and submitted by one officer, approved by another, rolled up to
//! the Strategic Results Framework.

use crate::harness::{Session, TestApp, code};
use meridian_domain::authz::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Cast {
    _app: TestApp,
    developer: Session,
    reporter: Session,
    approver: Session,
    outsider: Session,
    project: String,
    indicator: String,
    srf: String,
}

async fn cast() -> Cast {
    let app = TestApp::spawn().await;
    let developer = app
        .as_user("amina@example.org", "CO-KEN", &[Role::ProjectDeveloper])
        .await;
    let reporter = app
        .as_user("wanjiru@example.org", "CO-KEN", &[Role::MeOfficer])
        .await;
    let approver = app
        .as_user("otieno@example.org", "CO-KEN", &[Role::MeOfficer])
        .await;
    let outsider = app
        .as_user("sarah@example.org", "CO-UGA", &[Role::MeOfficer])
        .await;
    let (status, body) = developer
        .post_json(
            "/api/v1/projects",
            json!({"title": "Return and reintegration in Kenya", "thematic_area": "migrant_protection",
                   "unit": "CO-KEN", "primary_country": "KEN", "start_date": "2026-01-01",
                   "end_date": "2026-12-31", "currency": "USD",
                   "budget_lines": [{"category": "staff", "currency": "USD", "amount": "100000"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let project = body["code"].as_str().unwrap().to_owned();
    let (status, srf) = developer.get_json("/api/v1/srf").await;
    assert_eq!(status, StatusCode::OK);
    let srf_code = srf["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["measure"] == "number" && i["aggregation"] == "sum")
        .expect("a summed number indicator in the SRF")["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = developer
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/projects/{project}/results/frequency"),
            json!({"frequency": "quarterly"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["periods"].as_array().unwrap().len(), 4);
    let (status, result) = developer
        .post_json(
            &format!("/api/v1/projects/{project}/results"),
            json!({"level": "output", "title": "Returnees are assisted", "gcm_objectives": [21], "sdg_targets": ["10.7"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    let (status, indicator) = developer
        .post_json(
            &format!(
                "/api/v1/results/{}/indicators",
                result["id"].as_str().unwrap()
            ),
            json!({"title": "Returnees assisted", "measure": "number", "unit": "people",
                   "categories": [{"category": "sex"}], "target": "400", "srf_indicator": srf_code,
                   "targets": [{"period": "2026-Q1", "value": "100"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{indicator}");
    Cast {
        indicator: indicator["id"].as_str().unwrap().to_owned(),
        _app: app,
        developer,
        reporter,
        approver,
        outsider,
        project,
        srf: srf_code,
    }
}

fn report(total: &str, female: &str, male: &str, other: &str) -> Value {
    json!({"values": [
        {"value": total},
        {"disaggregation": "sex=female", "value": female},
        {"disaggregation": "sex=male", "value": male},
        {"disaggregation": "sex=other_unknown", "value": other}
    ], "narrative": "From case files"})
}

#[tokio::test]
async fn values_are_entered_submitted_approved_and_rolled_up_through_the_api() {
    let c = cast().await;
    let path = format!("/api/v1/indicators/{}/reports/2026-Q1", c.indicator);
    // Free text in a number: 422 naming what was expected and found; nothing saved.
    let (status, body) = c
        .reporter
        .send_json(reqwest::Method::PUT, &path, report("N/A", "", "", ""))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expected a number"),
        "{body}"
    );
    let (status, body) = c
        .reporter
        .send_json(reqwest::Method::PUT, &path, report("90", "50", "39", "0"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("add up to 89"),
        "{body}"
    );
    let (status, saved) = c
        .reporter
        .send_json(reqwest::Method::PUT, &path, report("90", "50", "40", "0"))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["status"], "draft");
    // Another office's officer cannot report here.
    let (status, body) = c
        .outsider
        .send_json(reqwest::Method::PUT, &path, report("1", "1", "0", "0"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // A stale save conflicts.
    let mut stale = report("91", "51", "40", "0");
    stale["version"] = json!(saved["version"].as_i64().unwrap() + 3);
    let (status, body) = c
        .approver
        .send_json(reqwest::Method::PUT, &path, stale)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let transitions = format!("{path}/transitions");
    let (status, body) = c
        .reporter
        .post_json(&transitions, json!({"action": "submit"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = c
        .reporter
        .post_json(&transitions, json!({"action": "approve"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("segregation of duties")
    );
    let (status, body) = c
        .approver
        .post_json(&transitions, json!({"action": "approve"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "approved");

    let (status, rows) = c.developer.get_json("/api/v1/srf/rollup?window=2026").await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["srf_indicator"] == c.srf.as_str())
        .unwrap();
    assert_eq!(row["actual"]["value"], "90", "{row}");
    assert_eq!(row["target"]["value"], "100", "{row}");
    assert_eq!(row["contributors"], 1);
    let (_, female) = c
        .developer
        .get_json("/api/v1/srf/rollup?scope=unit&code=CO-KEN&disaggregation=sex%3Dfemale")
        .await;
    let row = female
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["srf_indicator"] == c.srf.as_str())
        .unwrap();
    assert_eq!(row["actual"]["value"], "50", "{row}");
    // A country office reads its own figures, not its region's.
    let (status, body) = c
        .developer
        .get_json("/api/v1/srf/rollup?scope=region&code=RO-NBO")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = c
        .developer
        .get_json("/api/v1/srf/rollup?window=last-year")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "invalid");

    // Locked: an edit is refused with 409.
    let (status, body) = c
        .approver
        .post_json(
            &format!("/api/v1/projects/{}/periods/2026-Q1/lock", c.project),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = c
        .approver
        .post_json(&transitions, json!({"action": "return", "note": "Recount"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("locked")
    );

    // The history of the report is in the audit trail.
    let (status, framework) = c
        .developer
        .get_json(&format!("/api/v1/projects/{}/results", c.project))
        .await;
    assert_eq!(status, StatusCode::OK);
    let reports = &framework["results"][0]["indicators"][0]["reports"];
    assert_eq!(reports[0]["status"], "approved");
    assert_eq!(reports[0]["values"].as_array().unwrap().len(), 4);
    assert_eq!(framework["periods"][0]["locked"], true);

    let (status, missing) = c
        .developer
        .get_json("/api/v1/results/missing?on=2026-05-10")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(missing[0]["project_code"], c.project.as_str());
    assert_eq!(missing[0]["not_reported"], 1);
}

#[tokio::test]
async fn the_results_pages_show_the_matrix_and_take_values_through_forms() {
    let c = cast().await;
    let page = c
        .reporter
        .get(&format!("/projects/{}/results", c.project))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Returnees assisted"));
    assert!(html.contains("2026-Q3"));
    assert!(
        html.contains("name=\"value:sex=female\""),
        "the form asks for each option"
    );

    // Free text is refused in the page, with the message, and nothing is saved.
    let r = c
        .reporter
        .post_form(
            &format!("/projects/{}/results/report", c.project),
            &[
                ("indicator", &c.indicator),
                ("period", "2026-01-01"),
                ("total", "many"),
                ("then", "save"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("expected a number"));

    let r = c
        .reporter
        .post_form(
            &format!("/projects/{}/results/report", c.project),
            &[
                ("indicator", &c.indicator),
                ("period", "2026-01-01"),
                ("total", "12"),
                ("key", "sex=female"),
                ("value:sex=female", "7"),
                ("key", "sex=male"),
                ("value:sex=male", "5"),
                ("key", "sex=other_unknown"),
                ("value:sex=other_unknown", "0"),
                ("narrative", "First quarter"),
                ("then", "submit"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = c
        .reporter
        .get(&format!("/projects/{}/results", c.project))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("v-submitted"), "saved and submitted");

    let r = c
        .approver
        .post_form(
            &format!("/projects/{}/results/approve-period", c.project),
            &[("period", "2026-01-01")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = c
        .approver
        .get(&format!("/projects/{}/results", c.project))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("v-approved"));

    let srf = c.developer.get("/results?window=2026").await;
    assert_eq!(srf.status(), StatusCode::OK);
    let html = srf.text().await.unwrap();
    assert!(html.contains(&format!("id=\"srf-{}\"", c.srf)));
    for path in ["/results/missing?on=2026-05-01", "/results/programmes"] {
        let r = c.developer.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    let r = c
        .developer
        .post_form(
            "/results/programmes",
            &[
                ("code", "RRP-KEN"),
                ("title", "Return and reintegration"),
                ("unit", "CO-KEN"),
                ("projects", &c.project),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/results/programmes/RRP-KEN");
    let html = c
        .developer
        .get("/results/programmes/RRP-KEN")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(">12<"),
        "the programme shows its roll-up: {html}"
    );
}
