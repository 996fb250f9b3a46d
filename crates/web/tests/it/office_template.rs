//! An office's reporting template for one period: a country office's M&E officer downloads one
//! file for all the office's projects (XLSX or CSV, through the API and the who-has-not-reported
//! page), fills it, and uploads it; one wrong cell in any project saves nothing and names the
//! cell; another office's staff are refused.

use crate::harness::{Session, TestApp};
use meridian_domain::authz::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Office {
    _app: TestApp,
    reporter: Session,
    outsider: Session,
    /// (project code, indicator id), in project code order.
    projects: Vec<(String, String)>,
}

/// Two quarterly projects of CO-KEN in 2026, each with one output and one indicator: the first
/// by sex, the second a plain number.
async fn office() -> Office {
    let app = TestApp::spawn().await;
    let developer = app
        .as_user("amina@example.org", "CO-KEN", &[Role::ProjectDeveloper])
        .await;
    let reporter = app
        .as_user("wanjiru@example.org", "CO-KEN", &[Role::MeOfficer])
        .await;
    let outsider = app
        .as_user("sarah@example.org", "CO-UGA", &[Role::MeOfficer])
        .await;
    let mut projects = Vec::new();
    for (title, categories) in [
        (
            "Return and reintegration in Kenya",
            json!([{"category": "sex"}]),
        ),
        ("Labour mobility in Kenya", json!([])),
    ] {
        let (status, body) = developer
            .post_json(
                "/api/v1/projects",
                json!({"title": title, "thematic_area": "migrant_protection",
                       "unit": "CO-KEN", "primary_country": "KEN", "start_date": "2026-01-01",
                       "end_date": "2026-12-31", "currency": "USD",
                       "budget_lines": [{"category": "staff", "currency": "USD", "amount": "100000"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let code = body["code"].as_str().unwrap().to_owned();
        let (status, body) = developer
            .send_json(
                reqwest::Method::PUT,
                &format!("/api/v1/projects/{code}/results/frequency"),
                json!({"frequency": "quarterly"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, result) = developer
            .post_json(
                &format!("/api/v1/projects/{code}/results"),
                json!({"level": "output", "title": "People are assisted"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{result}");
        let (status, indicator) = developer
            .post_json(
                &format!(
                    "/api/v1/results/{}/indicators",
                    result["id"].as_str().unwrap()
                ),
                json!({"title": "People assisted", "measure": "number", "unit": "people",
                       "categories": categories,
                       "targets": [{"period": "2026-Q1", "value": "100"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{indicator}");
        projects.push((code, indicator["id"].as_str().unwrap().to_owned()));
    }
    projects.sort();
    Office {
        _app: app,
        reporter,
        outsider,
        projects,
    }
}

/// The CSV's rows as (line number from 1, fields), after the header; the test's titles hold
/// no comma or quote, so a plain split reads them.
fn csv_rows(text: &str) -> (Vec<String>, Vec<(usize, Vec<String>)>) {
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let rows = lines
        .enumerate()
        .map(|(i, l)| {
            assert!(!l.contains('"'), "a plain line: {l}");
            (i + 2, l.split(',').map(str::to_owned).collect())
        })
        .collect();
    (header, rows)
}

/// The CSV with `value` typed in the rows of `indicator` and key `key`.
fn fill(text: &str, cells: &[(&str, &str, &str)]) -> Vec<u8> {
    let (header, rows) = csv_rows(text);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut out = header.join(",");
    for (_, mut fields) in rows {
        for (indicator, key, value) in cells {
            if fields[col("indicator_id")] == *indicator && fields[col("disaggregation")] == *key {
                fields[col("value")] = (*value).to_owned();
            }
        }
        out.push('\n');
        out.push_str(&fields.join(","));
    }
    out.into_bytes()
}

async fn upload(s: &Session, unit: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    s.post_bytes(
        &format!("/api/v1/units/{unit}/results/upload"),
        "application/octet-stream",
        bytes,
    )
    .await
}

async fn reports(s: &Session, project: &str) -> Vec<Value> {
    let (status, f) = s
        .get_json(&format!("/api/v1/projects/{project}/results"))
        .await;
    assert_eq!(status, StatusCode::OK);
    f["results"][0]["indicators"][0]["reports"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn an_office_downloads_one_template_for_its_projects_and_uploads_it_all_or_nothing() {
    let o = office().await;
    let (a, a_ind) = o.projects[0].clone();
    let (b, b_ind) = o.projects[1].clone();

    // XLSX, in French: every project's rows for the first quarter only, and the instructions
    // in French.
    let r = o
        .reporter
        .client
        .get(format!(
            "{}/api/v1/units/CO-KEN/results/template?on=2026-02-15&format=xlsx",
            o.reporter.url
        ))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("CO-KEN-2026-02-15-results.xlsx")
    );
    let xlsx = r.bytes().await.unwrap().to_vec();
    assert!(xlsx.starts_with(b"PK\x03\x04"), "an XLSX file");
    {
        use calamine::{Reader, Xlsx};
        let mut wb = Xlsx::new(std::io::Cursor::new(xlsx.clone())).unwrap();
        let sheet = wb.worksheet_range("Report").unwrap();
        let text: Vec<String> = sheet.rows().map(|r| format!("{r:?}")).collect();
        let rows_of = |code: &str| text.iter().filter(|l| l.contains(code)).count();
        // The sexed indicator: total and three options; the plain one: its total.
        assert_eq!((rows_of(&a), rows_of(&b)), (4, 1), "{text:#?}");
        assert!(text.iter().all(|l| !l.contains("2026-04-01")), "one period");
        let instructions = wb.worksheet_range("Instructions").unwrap();
        let all = format!("{:?}", instructions.rows().collect::<Vec<_>>());
        assert!(all.contains("Comment remplir ce modèle"), "{all}");
        assert!(all.contains("CO-KEN"), "the office is named: {all}");
    }

    // CSV: the same rows.
    let r = o
        .reporter
        .get("/api/v1/units/CO-KEN/results/template?on=2026-02-15&format=csv")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    let (header, rows) = csv_rows(&csv);
    assert_eq!(header[0], "project");
    assert_eq!(rows.len(), 5, "{csv}");
    assert!(
        rows.iter()
            .all(|(_, f)| f.contains(&"2026-01-01".to_owned()))
    );

    // Another office's officer: 403 for the template and the upload.
    let r = o
        .outsider
        .get("/api/v1/units/CO-KEN/results/template?on=2026-02-15&format=csv")
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (status, _) = upload(&o.outsider, "CO-KEN", csv.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // One bad cell in the second project: 422 naming it, nothing saved in either project.
    let bad = fill(
        &csv,
        &[
            (&a_ind, "", "12"),
            (&a_ind, "sex=female", "12"),
            (&a_ind, "sex=male", "0"),
            (&a_ind, "sex=other_unknown", "0"),
            (&b_ind, "", "lots"),
        ],
    );
    let b_line = rows
        .iter()
        .find(|(_, f)| f.contains(&b_ind))
        .map(|(n, _)| *n)
        .unwrap();
    let (status, body) = upload(&o.reporter, "CO-KEN", bad.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let problems = body["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{body}");
    assert_eq!(
        problems[0]["cell"],
        format!("row {b_line}, column value"),
        "{body}"
    );
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("\"lots\"")
    );
    assert!(reports(&o.reporter, &a).await.is_empty(), "nothing saved");

    // The same through the page's upload form: the cell listed, nothing saved.
    let form = |bytes: Vec<u8>| {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("office.csv"),
        )
    };
    let html = o
        .reporter
        .client
        .post(format!("{}/results/offices/CO-KEN/upload", o.reporter.url))
        .header("x-csrf-token", &o.reporter.csrf)
        .header("hx-request", "true")
        .multipart(form(bad))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Nothing was saved") && html.contains(&format!("row {b_line}, column value")),
        "{html}"
    );
    assert!(reports(&o.reporter, &a).await.is_empty(), "nothing saved");

    // A row of another office's project is a cell problem too (the Project column).
    let foreign = String::from_utf8(fill(&csv, &[(&b_ind, "", "5")]))
        .unwrap()
        .replace(&format!("\n{b},"), "\nCO-UGA-2026-0001,");
    let (status, body) = upload(&o.reporter, "CO-KEN", foreign.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["problems"][0]["cell"],
        format!("row {b_line}, column project"),
        "{body}"
    );

    // The good file, through the page: both projects saved, the count shown.
    let good = fill(
        &csv,
        &[
            (&a_ind, "", "12"),
            (&a_ind, "sex=female", "12"),
            (&a_ind, "sex=male", "0"),
            (&a_ind, "sex=other_unknown", "0"),
            (&b_ind, "", "5"),
        ],
    );
    let html = o
        .reporter
        .client
        .post(format!("{}/results/offices/CO-KEN/upload", o.reporter.url))
        .header("x-csrf-token", &o.reporter.csrf)
        .header("hx-request", "true")
        .multipart(form(good))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Saved as drafts: <b>2</b>"), "{html}");
    let ra = reports(&o.reporter, &a).await;
    let rb = reports(&o.reporter, &b).await;
    assert_eq!((ra.len(), rb.len()), (1, 1));
    assert_eq!(ra[0]["status"], "draft");
    assert_eq!(
        rb[0]["values"][0]["figure"]["value"]
            .to_string()
            .trim_matches('"'),
        "5"
    );

    // Round trip: the template downloaded again holds the figures; uploaded as it is, it
    // changes nothing.
    let csv = o
        .reporter
        .get("/results/offices/CO-KEN/template.csv?on=2026-03-31")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains(",12,"), "{csv}");
    let (status, body) = upload(&o.reporter, "CO-KEN", csv.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["saved"].as_i64(), body["unchanged"].as_i64()),
        (Some(0), Some(2))
    );

    // The XLSX as downloaded now goes back as well (its values read back unchanged).
    let xlsx = o
        .reporter
        .get("/results/offices/CO-KEN/template.xlsx?on=2026-01-01")
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let (status, body) = upload(&o.reporter, "CO-KEN", xlsx).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["unchanged"], 2, "{body}");

    // The who-has-not-reported page offers the office's template and its upload.
    let html = o
        .reporter
        .get("/results/missing?unit=CO-KEN&on=2026-02-15")
        .await
        .text()
        .await
        .unwrap();
    for needle in [
        "/results/offices/CO-KEN/template.xlsx?on=2026-02-15",
        "/results/offices/CO-KEN/template.csv?on=2026-02-15",
        "hx-post=\"/results/offices/CO-KEN/upload\"",
    ] {
        assert!(html.contains(needle), "{needle} in the page");
    }
    let html = o
        .reporter
        .get("/results/missing")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("/results/offices/"), "no unit, no template");
}
