//! IATI files in and out for signed-in people: the upload through the API and the page (all
//! or nothing, or the valid activities; the caller's authority decides each activity), and
//! the export of the caller's scope.

use crate::harness::{Session, TestApp, code, operator};
use meridian_domain::authz::Role;
use meridian_domain::projects::money::{Currency, ExchangeRate};
use meridian_store::iati::ImportOptions;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn sample(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/iati/samples")
        .join(path)
}

/// Six Finnish activities in EUR: two in Ethiopia, one in Eritrea (both under the Nairobi
/// regional office), one in Benin (under Dakar), two naming no country.
fn finland() -> Vec<u8> {
    std::fs::read(sample("real-2.0x/fi-3_finland_6acts_line-br.xml")).unwrap()
}

const BENIN: &str = "FI-3-2020- 2020000056";

async fn with_eur(app: &TestApp) {
    let rate = ExchangeRate {
        currency: Currency::parse("EUR").unwrap(),
        effective: time::macros::date!(2000 - 01 - 01),
        usd_per_unit: "1.10".parse().unwrap(),
    };
    app.store
        .put_exchange_rates(&app.state.org().org, &operator(), &[rate])
        .await
        .unwrap();
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
}

async fn post_file(s: &Session, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
    s.post_bytes(
        &format!("/api/v1/iati/imports{query}"),
        "application/xml",
        body,
    )
    .await
}

#[tokio::test]
async fn a_file_is_imported_through_the_api_within_the_caller_s_authority() {
    let app = TestApp::spawn().await;
    with_eur(&app).await;
    let nairobi = app
        .as_user("dev.nbo@example.org", "RO-NBO", &[Role::ProjectDeveloper])
        .await;

    // The Benin activity is under Dakar, outside the caller's authority: all or nothing
    // refuses the file, and says which activity and why.
    let (status, report) = post_file(
        &nairobi,
        "?default_unit=RO-NBO&file_name=finland.xml",
        finland(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(report["committed"], false);
    assert_eq!(report["file"], "finland.xml");
    let refused = report["refused"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{report:#}");
    assert_eq!(refused[0]["identifier"], BENIN);
    assert!(refused[0]["line"].as_u64().unwrap() > 1);
    let why = refused[0]["reasons"].to_string();
    assert!(why.contains("CO-BEN"), "{why}");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM projects").await, 0);

    // The valid ones, on request: five projects, each audited, under the file's name.
    let (status, report) = post_file(
        &nairobi,
        "?default_unit=RO-NBO&keep_valid=true&file_name=finland.xml",
        finland(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["committed"], true);
    assert_eq!(report["activities"], 6);
    assert_eq!(report["created"], 5);
    assert_eq!(report["refused"].as_array().unwrap().len(), 1);
    let (status, page) = nairobi.get_json("/api/v1/projects?per_page=50").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["totals"]["projects"], 5, "{page}");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM iati_activities WHERE source_file = 'finland.xml'"
        )
        .await,
        5
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) AS n FROM audit_events WHERE actor = 'dev.nbo@example.org' \
             AND (action = 'project.iati_import' \
             OR (action = 'iati_import.file' AND entity_id = 'finland.xml'))"
        )
        .await,
        6,
        "one event per project and one for the file"
    );

    // The same file again changes nothing.
    let (status, report) = post_file(
        &nairobi,
        "?default_unit=RO-NBO&keep_valid=true&file_name=finland.xml",
        finland(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (&report["created"], &report["unchanged"]),
        (&0.into(), &5.into())
    );

    // Someone who may not draft projects there: 403 for the default office, and without it
    // every activity is refused.
    let viewer = app
        .as_user("viewer.nbo@example.org", "RO-NBO", &[Role::Viewer])
        .await;
    let (status, body) = post_file(&viewer, "?default_unit=RO-NBO", finland()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, report) = post_file(&viewer, "", finland()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report["refused"].as_array().unwrap().len(), 6, "{report:#}");

    // No file, a broken one, no sign-in.
    let (status, body) = post_file(&nairobi, "", Vec::new()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(code(&body), "invalid");
    assert_eq!(body["error"]["field"], "file");
    let mut cut = finland();
    cut.truncate(cut.len() / 2);
    let (status, report) = post_file(&nairobi, "?keep_valid=true", cut).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report["readable"], false);
    assert!(
        report["file_errors"][0].as_str().unwrap().contains("line"),
        "{report}"
    );
    let r = app
        .anonymous()
        .client
        .post(format!("{}/api/v1/iati/imports", app.url))
        .body(finland())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM projects").await, 5);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A gzip-compressed file (what an office on a slow link sends) is unpacked and imported as the
/// file itself would be, its refusals located in the unpacked text; one that does not unpack
/// is refused as a bad file and changes nothing.
#[tokio::test]
async fn a_compressed_file_is_imported_as_the_file_itself() {
    let app = TestApp::spawn().await;
    with_eur(&app).await;
    let nairobi = app
        .as_user("dev.nbo@example.org", "RO-NBO", &[Role::ProjectDeveloper])
        .await;
    let packed = gzip(&finland());
    assert!(packed.len() * 3 < finland().len(), "{}", packed.len());

    // Damaged: the end of the stream is missing.
    let mut cut = packed.clone();
    cut.truncate(cut.len() - 100);
    let (status, body) = post_file(&nairobi, "?default_unit=RO-NBO&keep_valid=true", cut).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(code(&body), "invalid");
    assert_eq!(body["error"]["field"], "file");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("could not be unpacked"),
        "{body}"
    );
    // Unpacking to nothing.
    let (status, body) = post_file(&nairobi, "", gzip(b"")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "file");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM projects").await, 0);

    // All or nothing, located in the unpacked file: the same refusal as the file's own.
    let (status, report) = post_file(
        &nairobi,
        "?default_unit=RO-NBO&file_name=finland.xml.gz",
        packed.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    let (_, plain) = post_file(&nairobi, "?default_unit=RO-NBO", finland()).await;
    assert_eq!(report["refused"], plain["refused"], "{report:#}");
    assert_eq!(report["refused"][0]["identifier"], BENIN);

    let (status, report) = post_file(
        &nairobi,
        "?default_unit=RO-NBO&keep_valid=true&file_name=finland.xml.gz",
        packed,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["created"], 5, "{report:#}");
    assert_eq!(report["file"], "finland.xml.gz");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM projects").await, 5);
}

#[tokio::test]
async fn the_api_exports_the_caller_s_scope_as_iati() {
    let app = TestApp::spawn().await;
    with_eur(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("finland.xml");
    std::fs::write(&file, finland()).unwrap();
    let report = app
        .store
        .import_iati(
            &app.state.org().org,
            &operator(),
            &file,
            &ImportOptions {
                default_unit: Some("RO-NBO".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(report.is_success(), "{report:?}");
    let dakar = app
        .as_user("viewer.dkr@example.org", "RO-DKR", &[Role::Viewer])
        .await;
    let nairobi = app
        .as_user("viewer.nbo@example.org", "RO-NBO", &[Role::Viewer])
        .await;

    let identifiers = |body: &[u8]| -> Vec<String> {
        meridian_formats::iati::read::read_all(body)
            .unwrap()
            .into_iter()
            .map(|a| a.identifier)
            .collect()
    };
    let r = dakar.get("/api/v1/iati/activities.xml").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"meridian-iati-all.xml\""
    );
    let body = r.bytes().await.unwrap();
    assert_eq!(identifiers(&body), vec![BENIN.to_owned()]);
    let verdict = meridian_formats::iati::validate(&body[..], &Default::default()).unwrap();
    assert!(verdict.passes_critical_checks(), "{:#?}", verdict.findings);

    let r = nairobi.get("/api/v1/iati/activities.xml?unit=RO-NBO").await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut ids = identifiers(&r.bytes().await.unwrap());
    ids.sort();
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(!ids.contains(&BENIN.to_owned()));

    // Another region's office, an office that does not exist.
    let (status, body) = nairobi
        .get_json("/api/v1/iati/activities.xml?unit=RO-DKR")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = nairobi
        .get_json("/api/v1/iati/activities.xml?unit=XX-NOPE")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["field"], "unit");

    // Published only: a project sent back to draft is left out.
    sqlx::query(
        "UPDATE projects SET status = 'draft' WHERE id = \
         (SELECT project_id FROM iati_activities WHERE identifier = $1)",
    )
    .bind(BENIN)
    .execute(app.store.pool())
    .await
    .unwrap();
    let r = dakar.get("/api/v1/iati/activities.xml").await;
    assert_eq!(
        identifiers(&r.bytes().await.unwrap()),
        vec![BENIN.to_owned()]
    );
    let r = dakar
        .get("/api/v1/iati/activities.xml?published_only=true")
        .await;
    assert!(identifiers(&r.bytes().await.unwrap()).is_empty());

    let r = app.anonymous().get("/api/v1/iati/activities.xml").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_iati_page_imports_a_file_and_shows_what_happened() {
    let app = TestApp::spawn().await;
    with_eur(&app).await;
    let nairobi = app
        .as_user("dev.nbo@example.org", "RO-NBO", &[Role::ProjectDeveloper])
        .await;
    let page = nairobi.get("/projects/iati").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("hx-post=\"/projects/iati/import\""), "{html}");
    assert!(html.contains("action=\"/projects/iati/activities.xml\""));
    assert!(html.contains("value=\"RO-NBO\""));
    assert!(html.contains("hx-indicator=\"#iati-importing\""));
    assert!(html.contains("id=\"iati-importing\" class=\"htmx-indicator"));

    let upload = |keep_valid: bool, bytes: Vec<u8>, name: &'static str| {
        let mut form = reqwest::multipart::Form::new()
            .text("default_unit", "RO-NBO")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        if keep_valid {
            form = form.text("keep_valid", "1");
        }
        nairobi
            .client
            .post(format!("{}/projects/iati/import", app.url))
            .header("x-csrf-token", &nairobi.csrf)
            .header("hx-request", "true")
            .multipart(form)
    };
    let r = upload(false, finland(), "finland.xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"iati-import-errors\""), "{html}");
    assert!(html.contains("nothing was imported"), "{html}");
    assert!(html.contains(BENIN) && html.contains("CO-BEN"), "{html}");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM projects").await, 0);

    // The valid ones, sent compressed as an office on a slow link would.
    let r = upload(true, gzip(&finland()), "finland.xml.gz")
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"iati-import-done\""), "{html}");
    assert!(html.contains("finland.xml.gz"), "{html}");
    assert!(html.contains("new projects <b>5</b>"), "{html}");
    assert!(html.contains("refused <b>1</b>"), "{html}");
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM projects").await, 5);

    // Without the CSRF header nothing is imported.
    let r = nairobi
        .client
        .post(format!("{}/projects/iati/import", app.url))
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(finland()).file_name("finland.xml"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The page's export form downloads the office's projects.
    let r = nairobi
        .get("/projects/iati/activities.xml?unit=RO-NBO&published_only=true")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let acts = meridian_formats::iati::read::read_all(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(acts.len(), 5);

    // A viewer gets the export, not the import; in French.
    let viewer = app
        .as_user("viewer.nbo@example.org", "RO-NBO", &[Role::Viewer])
        .await;
    let html = viewer
        .client
        .get(format!("{}/projects/iati", app.url))
        .header("accept-language", "fr")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("/projects/iati/import"), "{html}");
    assert!(html.contains("Exporter en IITA 2.03"), "{html}");
}

/// Sends `body` (of `content_type`) to `path` over a bare connection a quarter at a time,
/// `pause` apart (as a slow link would), with a bearer token, and returns the answer's status.
async fn post_slowly(
    app: &TestApp,
    token: &str,
    path: &str,
    (content_type, body): (&str, &[u8]),
    pause: std::time::Duration,
) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.url.trim_start_matches("http://");
    let tcp = tokio::net::TcpStream::connect(host).await.unwrap();
    let (mut from_server, mut to_server) = tcp.into_split();
    // The answer is read as it comes, so that an early one is kept whatever the connection
    // does after it.
    let reader = tokio::spawn(async move {
        let mut answer = Vec::new();
        let _ = from_server.read_to_end(&mut answer).await;
        answer
    });
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    to_server.write_all(head.as_bytes()).await.unwrap();
    for part in body.chunks(body.len().div_ceil(4)) {
        tokio::time::sleep(pause).await;
        // Once answered, nothing more is sent.
        if reader.is_finished() || to_server.write_all(part).await.is_err() {
            break;
        }
    }
    let answer = reader.await.unwrap();
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"))
}

/// An upload that takes longer than an ordinary request may is still received and imported
/// (the IATI paths have the long limit); the same slowness anywhere else is answered 408 and
/// changes nothing.
#[tokio::test]
async fn a_slow_upload_has_the_long_time_limit_and_other_requests_do_not() {
    let app = TestApp::spawn_with(meridian_web::Config {
        time_limits: meridian_web::TimeLimits {
            request: std::time::Duration::from_millis(400),
            long_request: std::time::Duration::from_secs(60),
        },
        ..Default::default()
    })
    .await;
    with_eur(&app).await;
    let id = app
        .user("dev.nbo@example.org", "RO-NBO", &[Role::ProjectDeveloper])
        .await;
    let token = app
        .store
        .issue_token(&app.state.org().org, &operator(), &id, "slow link")
        .await
        .unwrap();
    let pause = std::time::Duration::from_millis(250);

    // About a second to send: over the ordinary limit, within the long one.
    let status = post_slowly(
        &app,
        &token,
        "/api/v1/iati/imports?default_unit=RO-NBO&keep_valid=true",
        ("application/xml", &finland()),
        pause,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM projects").await, 5);

    // The same pace for a project's JSON: 408, and no project.
    let project = serde_json::json!({
        "title": "Sent over a slow link",
        "summary": "A draft whose request takes a second to arrive.",
        "thematic_area": "migrant_protection",
        "unit": "CO-ETH",
        "primary_country": "ETH",
        "start_date": "2027-01-01",
        "end_date": "2027-12-31",
        "currency": "USD",
        "budget_lines": [
            {"category": "staff", "description": "Counsellors", "currency": "USD", "amount": "1000"}
        ],
    })
    .to_string();
    let status = post_slowly(
        &app,
        &token,
        "/api/v1/projects",
        ("application/json", project.as_bytes()),
        pause,
    )
    .await;
    assert_eq!(status, 408);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM projects").await, 5);
}
