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
async fn a_delete_at_a_version_the_item_is_no_longer_at_is_a_409_and_deletes_nothing() {
    let c = cast().await;
    async fn framework(c: &Cast) -> Value {
        let path = format!("/api/v1/projects/{}/results", c.project);
        c.developer.get_json(&path).await.1
    }
    let before = framework(&c).await;
    let result = before["results"][0]["id"].as_str().unwrap().to_owned();
    let version = before["results"][0]["indicators"][0]["version"]
        .as_i64()
        .unwrap();
    let (status, body) = c
        .developer
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/indicators/{}?version={}", c.indicator, version + 1),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        framework(&c).await,
        before,
        "a stale delete changed something"
    );
    let (status, body) = c
        .developer
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/indicators/{}?version={version}", c.indicator),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let after = framework(&c).await;
    assert_eq!(
        after["results"][0]["indicators"].as_array().unwrap().len(),
        0
    );
    // A result too; without a version the delete is unconditional, as before.
    let result_version = after["results"][0]["version"].as_i64().unwrap();
    let (status, body) = c
        .developer
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/results/{result}?version={}", result_version + 1),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = c
        .developer
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/v1/results/{result}"),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(framework(&c).await["results"].as_array().unwrap().len(), 0);
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

fn row(
    c: &Cast,
    period: (&str, &str),
    key: (&str, &str),
    value: &str,
) -> meridian_formats::results_sheet::TemplateRow {
    meridian_formats::results_sheet::TemplateRow {
        project_code: c.project.clone(),
        indicator_id: c.indicator.clone(),
        result: "Returnees are assisted".into(),
        indicator: "Returnees assisted".into(),
        measure: "number".into(),
        unit: "people".into(),
        period_label: period.0.into(),
        period_start: period.1.into(),
        disaggregation: key.0.into(),
        disaggregation_label: key.1.into(),
        target: String::new(),
        value: value.into(),
        narrative: String::new(),
        status: "not reported".into(),
        editable: true,
        report_version: None,
    }
}

async fn upload(s: &Session, project: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    s.post_bytes(
        &format!("/api/v1/projects/{project}/results/upload"),
        "application/octet-stream",
        bytes,
    )
    .await
}

#[tokio::test]
async fn a_filled_template_with_one_bad_cell_is_refused_with_its_address_and_saves_nothing() {
    use meridian_formats::results_sheet::{Template, write_xlsx};
    let c = cast().await;
    let r = c
        .reporter
        .get(&format!(
            "/api/v1/projects/{}/results/template?format=xlsx",
            c.project
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.bytes().await.unwrap().starts_with(b"PK\x03\x04"),
        "an XLSX file"
    );

    let q1 = ("2026-Q1", "2026-01-01");
    let q2 = ("2026-Q2", "2026-04-01");
    let filled = |q2_total: &str| {
        let rows = vec![
            row(&c, q1, ("", "Total"), "12"),
            row(&c, q1, ("sex=female", "Sex: Female"), "7"),
            row(&c, q1, ("sex=male", "Sex: Male"), "5"),
            row(&c, q1, ("sex=other_unknown", "Sex: Other"), "0"),
            row(&c, q2, ("", "Total"), q2_total),
        ];
        write_xlsx(&Template {
            title: "test".into(),
            rows,
            instructions: vec![],
            headers: Default::default(),
        })
        .unwrap()
    };
    let (status, body) = upload(&c.reporter, &c.project, filled("lots")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problems = body["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{body}");
    let cell = problems[0]["cell"].as_str().unwrap();
    assert!(
        cell.starts_with("Report!") && cell.ends_with('8'),
        "the fifth data row: {cell}"
    );
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("\"lots\""),
        "{body}"
    );
    let (_, framework) = c
        .reporter
        .get_json(&format!("/api/v1/projects/{}/results", c.project))
        .await;
    assert!(
        framework["results"][0]["indicators"][0]["reports"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was saved"
    );

    let (status, body) = upload(&c.reporter, &c.project, filled("20")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["saved"], 2);
    let (_, framework) = c
        .reporter
        .get_json(&format!("/api/v1/projects/{}/results", c.project))
        .await;
    let reports = framework["results"][0]["indicators"][0]["reports"]
        .as_array()
        .unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["status"], "draft");
    assert_eq!(reports[0]["values"].as_array().unwrap().len(), 4);

    // The CSV template comes back pre-filled; uploaded as it is, it changes nothing.
    let r = c
        .reporter
        .get(&format!("/projects/{}/results/template.csv", c.project))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.bytes().await.unwrap().to_vec();
    assert!(String::from_utf8_lossy(&csv).contains("indicator_id"));
    let (status, body) = upload(&c.reporter, &c.project, csv).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["saved"].as_i64(), body["unchanged"].as_i64()),
        (Some(0), Some(2))
    );
    // Submitted, the value is locked in the template and a changed upload is refused.
    let (status, _) = c
        .reporter
        .post_json(
            &format!(
                "/api/v1/indicators/{}/reports/2026-Q2/transitions",
                c.indicator
            ),
            json!({"action": "submit"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = upload(&c.reporter, &c.project, filled("21")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("submitted"),
        "{body}"
    );
}

/// The nine combinations of sex × age group, female first, then male, then other or unknown,
/// ages ascending, as (key in any order, figure): 10 25 5 / 8 20 4 / 1 2 0, 75 in all.
const COMBINATIONS: [(&str, &str); 9] = [
    ("sex=female;age_group=age_0_17", "10"),
    ("sex=female;age_group=age_18_59", "25"),
    ("age_group=age_60_plus;sex=female", "5"),
    ("sex=male;age_group=age_0_17", "8"),
    ("sex=male;age_group=age_18_59", "20"),
    ("sex=male;age_group=age_60_plus", "4"),
    ("sex=other_unknown;age_group=age_0_17", "1"),
    ("sex=other_unknown;age_group=age_18_59", "2"),
    ("sex=other_unknown;age_group=age_60_plus", "0"),
];

#[tokio::test]
async fn values_per_combination_go_through_the_api_the_form_the_template_and_the_rollup() {
    use meridian_formats::results_sheet::{Template, write_xlsx};
    let c = cast().await;
    let (_, framework) = c
        .developer
        .get_json(&format!("/api/v1/projects/{}/results", c.project))
        .await;
    let result = framework["results"][0]["id"].as_str().unwrap().to_owned();
    let (status, indicator) = c
        .developer
        .post_json(
            &format!("/api/v1/results/{result}/indicators"),
            json!({"title": "Returnees assisted by sex and age", "measure": "number", "unit": "people",
                   "categories": [{"category": "sex"}, {"category": "age_group"}], "srf_indicator": c.srf,
                   "targets": [{"period": "2026-Q1", "value": "100"},
                               {"period": "2026-Q1", "disaggregation": "sex=female;age_group=age_18_59", "value": "30"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{indicator}");
    let id = indicator["id"].as_str().unwrap().to_owned();
    let combinations = indicator["combinations"].as_array().unwrap();
    assert_eq!(combinations.len(), 9);
    assert_eq!(combinations[1], "age_group=age_18_59;sex=female");
    assert!(
        indicator["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["disaggregation"] == "age_group=age_18_59;sex=female"
                && t["figure"]["value"] == "30"),
        "{indicator}"
    );

    let body = |total: &str, cells: &[(&str, &str)]| {
        let mut values = vec![json!({"value": total})];
        values.extend(
            cells
                .iter()
                .map(|(k, v)| json!({"disaggregation": k, "value": v})),
        );
        json!({"values": values})
    };
    let path = format!("/api/v1/indicators/{id}/reports/2026-Q1");
    let (status, err) = c
        .reporter
        .send_json(reqwest::Method::PUT, &path, body("76", &COMBINATIONS))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the combinations add up to 75, but the total is 76"),
        "{err}"
    );
    let (status, err) = c
        .reporter
        .send_json(
            reqwest::Method::PUT,
            &path,
            body("75", &[("sex=female;disability=with_disability", "75")]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown category \"disability\""),
        "{err}"
    );
    let (status, saved) = c
        .reporter
        .send_json(reqwest::Method::PUT, &path, body("75", &COMBINATIONS))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert!(
        saved["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["disaggregation"] == "age_group=age_18_59;sex=female"
                && v["figure"]["value"] == "25"),
        "{saved}"
    );
    let transitions = format!("{path}/transitions");
    let (status, _) = c
        .reporter
        .post_json(&transitions, json!({"action": "submit"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = c
        .approver
        .post_json(&transitions, json!({"action": "approve"}))
        .await;
    assert_eq!(status, StatusCode::OK);

    let srf_row = |rows: &Value| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["srf_indicator"] == c.srf.as_str())
            .unwrap()
            .clone()
    };
    let (status, rows) = c
        .developer
        .get_json("/api/v1/srf/rollup?scope=unit&code=CO-KEN&disaggregation=sex%3Dfemale%3Bage_group%3Dage_18_59")
        .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let combo = srf_row(&rows);
    assert_eq!(combo["disaggregation"], "age_group=age_18_59;sex=female");
    assert_eq!(combo["actual"]["value"], "25", "{combo}");
    assert_eq!(combo["target"]["value"], "30", "{combo}");
    let (_, rows) = c
        .developer
        .get_json("/api/v1/srf/rollup?scope=unit&code=CO-KEN&disaggregation=age_group%3Dage_18_59")
        .await;
    assert_eq!(srf_row(&rows)["actual"]["value"], "47", "25 + 20 + 2");
    let (status, rows) = c
        .developer
        .get_json("/api/v1/srf/rollup?disaggregation=sex%3Dfemale%3Bsex%3Dmale")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{rows}");
    // The SRF page offers the combination and shows its figure.
    let html = c
        .developer
        .get("/results?scope=unit&code=CO-KEN&disaggregation=sex%3Dfemale%3Bage_group%3Dage_18_59")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("value=\"age_group=age_18_59;sex=female\" selected"),
        "the combination is selected"
    );
    let srf_section = html
        .split(&format!("id=\"srf-{}\"", c.srf))
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .unwrap();
    assert!(srf_section.contains(">25<"), "{srf_section}");

    // The page shows a table per combination and takes a report through its form.
    let html = c
        .reporter
        .get(&format!("/projects/{}/results", c.project))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("name=\"value:age_group=age_18_59;sex=female\""),
        "a field per combination"
    );
    let mut fields: Vec<(String, String)> = vec![
        ("indicator".into(), id.clone()),
        ("period".into(), "2026-04-01".into()),
        ("total".into(), "9".into()),
        ("then".into(), "save".into()),
    ];
    for k in combinations {
        let k = k.as_str().unwrap();
        fields.push(("key".into(), k.into()));
        fields.push((format!("value:{k}"), "1".into()));
    }
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let r = c
        .reporter
        .post_form(&format!("/projects/{}/results/report", c.project), &form)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The draft's figures per sex and per age group are worked out in its table: 3 each.
    let html = c
        .reporter
        .get(&format!("/projects/{}/results", c.project))
        .await
        .text()
        .await
        .unwrap();
    let q2_table = html
        .split_once(&format!("id=\"v-{id}-2026-04-01-"))
        .and_then(|(_, rest)| rest.split("</table>").next())
        .unwrap();
    assert!(q2_table.contains("Worked out"), "{q2_table}");
    assert_eq!(
        q2_table.matches("<td class=\"num\">3</td>").count(),
        6,
        "three sexes and three age groups: {q2_table}"
    );

    // Targets per combination for Q2 through the page's targets form: all nine must add up
    // to the total target (both categories cover everyone); Q1's targets are kept.
    let html = c
        .developer
        .get(&format!("/projects/{}/results", c.project))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"target:age_group=age_18_59;sex=female\""));
    let (_, framework) = c
        .developer
        .get_json(&format!("/api/v1/projects/{}/results", c.project))
        .await;
    let version = framework["results"][0]["indicators"][1]["version"]
        .as_i64()
        .unwrap()
        .to_string();
    let targets_form = |total: &'static str, first: &'static str| {
        let mut fields: Vec<(String, String)> = vec![
            ("indicator".into(), id.clone()),
            ("period".into(), "2026-04-01".into()),
            ("version".into(), version.clone()),
            ("target".into(), total.into()),
        ];
        for (i, k) in combinations.iter().enumerate() {
            let k = k.as_str().unwrap();
            fields.push(("key".into(), k.into()));
            fields.push((
                format!("target:{k}"),
                if i == 0 { first } else { "5" }.into(),
            ));
        }
        fields
    };
    let post = |fields: Vec<(String, String)>| {
        let s = &c.developer;
        let path = format!("/projects/{}/results/targets", c.project);
        async move {
            let form: Vec<(&str, &str)> = fields
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            s.post_form(&path, &form).await
        }
    };
    let r = post(targets_form("50", "11")).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("the combinations add up to 51, but the total is 50"),
        "{html}"
    );
    let r = post(targets_form("50", "10")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, framework) = c
        .developer
        .get_json(&format!("/api/v1/projects/{}/results", c.project))
        .await;
    let targets = framework["results"][0]["indicators"][1]["targets"]
        .as_array()
        .unwrap();
    let in_period = |start: &str| {
        targets
            .iter()
            .filter(|t| t["period_start"] == start)
            .count()
    };
    assert_eq!((in_period("2026-01-01"), in_period("2026-04-01")), (2, 10));

    // The template has a row per combination (and the total) for each period.
    let r = c
        .reporter
        .get(&format!("/projects/{}/results/template.csv", c.project))
        .await;
    let csv = String::from_utf8(r.bytes().await.unwrap().to_vec()).unwrap();
    let q3_rows = csv
        .lines()
        .filter(|l| l.contains(&id) && l.contains("2026-07-01"))
        .count();
    assert_eq!(q3_rows, 10, "{csv}");
    assert!(csv.contains("age_group=age_18_59;sex=female"));
    // Uploaded as it is, it changes nothing; a bad combination cell is named.
    let (status, body) = upload(&c.reporter, &c.project, csv.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["saved"], 0, "{body}");
    let q3 = ("2026-Q3", "2026-07-01");
    let filled = |bad: &str| {
        let mut rows = vec![row(&c, q3, ("", "Total"), "75")];
        for (i, (k, v)) in COMBINATIONS.iter().enumerate() {
            rows.push(row(&c, q3, (k, k), if i == 4 { bad } else { v }));
        }
        for r in &mut rows {
            r.indicator_id = id.clone();
        }
        write_xlsx(&Template {
            title: "test".into(),
            rows,
            instructions: vec![],
            headers: Default::default(),
        })
        .unwrap()
    };
    let (status, body) = upload(&c.reporter, &c.project, filled("21")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problems = body["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{body}");
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("add up to 76, but the total is 75"),
        "{body}"
    );
    let (status, body) = upload(&c.reporter, &c.project, filled("20")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["saved"], 1);
    let (_, framework) = c
        .reporter
        .get_json(&format!("/api/v1/projects/{}/results", c.project))
        .await;
    let reports = framework["results"][0]["indicators"][1]["reports"]
        .as_array()
        .unwrap();
    assert_eq!(
        reports.len(),
        3,
        "Q1 by the API, Q2 by the form, Q3 by the template"
    );
    assert_eq!(reports[1]["values"].as_array().unwrap().len(), 10);
    assert_eq!(reports[2]["values"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn an_upload_over_a_value_changed_since_the_download_is_a_409_naming_the_cell() {
    use meridian_formats::results_sheet::{Template, write_xlsx};
    let c = cast().await;
    let path = format!("/api/v1/indicators/{}/reports/2026-Q1", c.indicator);
    let (status, saved) = c
        .reporter
        .send_json(reqwest::Method::PUT, &path, report("12", "7", "5", "0"))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let downloaded = saved["version"].as_i64().unwrap();
    // The reporter downloads the CSV template: each row of the report carries its version.
    let r = c
        .reporter
        .get(&format!(
            "/api/v1/projects/{}/results/template?format=csv",
            c.project
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = String::from_utf8(r.bytes().await.unwrap().to_vec()).unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with(",report_version"),
        "{csv}"
    );
    let q1_total = csv
        .lines()
        .position(|l| l.contains(&c.indicator) && l.contains(",2026-01-01,,number,"))
        .expect("the Q1 total row");
    assert!(
        csv.lines()
            .nth(q1_total)
            .unwrap()
            .ends_with(&format!(",{downloaded}")),
        "{csv}"
    );

    // Meanwhile another officer changes the figures in Meridian.
    let mut changed = report("13", "8", "5", "0");
    changed["version"] = json!(downloaded);
    let (status, body_after) = c
        .approver
        .send_json(reqwest::Method::PUT, &path, changed)
        .await;
    assert_eq!(status, StatusCode::OK, "{body_after}");

    // The old CSV with another total: 409, the cell named, nothing saved.
    let edited: Vec<String> = csv
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i != q1_total {
                return l.to_owned();
            }
            let mut f: Vec<&str> = l.split(',').collect();
            assert_eq!(f[7], "12", "{l}");
            f[7] = "14";
            f.join(",")
        })
        .collect();
    let (status, body) = upload(&c.reporter, &c.project, edited.join("\n").into_bytes()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["conflict"], true, "{body}");
    assert_eq!(body["saved"], 0, "{body}");
    // The total typed over, and the female figure the file still has at 7 (now 8).
    let problems = body["problems"].as_array().unwrap();
    let cells: Vec<&str> = problems
        .iter()
        .map(|p| p["cell"].as_str().unwrap())
        .collect();
    assert_eq!(
        cells,
        [
            format!("row {}, column value", q1_total + 1),
            format!("row {}, column value", q1_total + 2)
        ],
        "{body}"
    );
    let message = problems[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("changed by otieno@example.org at ")
            && message.contains("since this template was downloaded; download it again"),
        "{message}"
    );
    let (_, framework) = c
        .reporter
        .get_json(&format!("/api/v1/projects/{}/results", c.project))
        .await;
    let stored = &framework["results"][0]["indicators"][0]["reports"][0];
    assert_eq!(
        stored["version"], body_after["version"],
        "nothing saved: {stored}"
    );
    assert_eq!(stored["entered_by"], "otieno@example.org", "{stored}");

    // The same as an XLSX made at the downloaded version: 409 at Report!H4 (the first data row).
    let q1 = ("2026-Q1", "2026-01-01");
    let xlsx = |total: &str, female: &str| {
        let mut rows = vec![
            row(&c, q1, ("", "Total"), total),
            row(&c, q1, ("sex=female", "Sex: Female"), female),
            row(&c, q1, ("sex=male", "Sex: Male"), "5"),
            row(&c, q1, ("sex=other_unknown", "Sex: Other"), "0"),
        ];
        rows[0].narrative = "From case files".into();
        for r in &mut rows {
            r.report_version = Some(downloaded);
        }
        write_xlsx(&Template {
            title: "test".into(),
            rows,
            instructions: vec![],
            headers: Default::default(),
        })
        .unwrap()
    };
    let (status, body) = upload(&c.reporter, &c.project, xlsx("14", "9")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let cells: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["cell"].as_str().unwrap())
        .collect();
    assert_eq!(cells, ["Report!H4", "Report!H5"], "{body}");
    // Uploaded with the figures stored now, the old template is no conflict.
    let (status, body) = upload(&c.reporter, &c.project, xlsx("13", "8")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["saved"].as_i64(), body["unchanged"].as_i64()),
        (Some(0), Some(1))
    );
}

/// The demo's matrices are data like any other: every project the demo gives a matrix has a
/// reporting template, and so does its office for the period (the demo once wrote ids the
/// template refused, and both downloads failed with 500).
#[tokio::test]
async fn the_demo_s_matrices_have_reporting_templates() {
    use sqlx::Row;
    let app = TestApp::spawn().await;
    let org = app.state.org().org.clone();
    let operator = crate::harness::operator();
    app.store
        .load_demo(
            &org,
            &meridian_domain::org::Countries::builtin(),
            &operator,
            &meridian_store::demo::DemoOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    app.store
        .load_srf_if_empty(&meridian_domain::builtin::srf())
        .await
        .unwrap();
    let today = time::Date::from_calendar_date(2026, time::Month::December, 3).unwrap();
    let made = app
        .store
        .demo_results(&org, &operator, today, |_| {})
        .await
        .unwrap();
    assert!(made.frameworks > 10, "{made:?}");
    let hq = app
        .as_user("hq@example.org", "DG-EO", &[Role::Administrator])
        .await;
    let projects: Vec<(String, String)> = sqlx::query(
        "SELECT DISTINCT p.id, p.unit_code FROM projects p JOIN indicators i ON i.project_id = p.id \
         ORDER BY p.id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get("id"), r.get("unit_code")))
    .collect();
    assert_eq!(projects.len(), made.frameworks);
    for (id, _) in &projects {
        let r = hq
            .get(&format!(
                "/api/v1/projects/{id}/results/template?format=csv"
            ))
            .await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "{id}: {}",
            r.text().await.unwrap()
        );
    }
    let (_, unit) = &projects[0];
    let r = hq
        .get(&format!(
            "/api/v1/units/{unit}/results/template?on=2026-06-30&format=xlsx"
        ))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "{unit}: {}",
        r.text().await.unwrap()
    );
}
