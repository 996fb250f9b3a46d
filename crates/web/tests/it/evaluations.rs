//! Evaluations as their users meet them, through the JSON API and through the pages (plain
//! HTTP, no browser): a regional M&E officer registers a completed evaluation of the Kenya
//! office and its recommendations; the head of the Kenya office answers for Kenya (late, as the
//! evaluation ended long ago) and commits to key actions, one of them already overdue; the
//! tracking page of Kenya puts the overdue action first; everyone else sees only what their
//! scope allows.

use crate::harness::{Session, TestApp, code};
use meridian_domain::authz::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Cast {
    app: TestApp,
    regional_me: Session,
    kenya_head: Session,
    uganda_head: Session,
    kenya_me: Session,
    thai_viewer: Session,
}

async fn cast() -> Cast {
    let app = TestApp::spawn().await;
    let regional_me = app
        .as_user("ines@example.org", "RO-NBO", &[Role::MeOfficer])
        .await;
    let kenya_head = app
        .as_user("wanjiru@example.org", "CO-KEN", &[Role::Approver])
        .await;
    let uganda_head = app
        .as_user("okello@example.org", "CO-UGA", &[Role::Approver])
        .await;
    let kenya_me = app
        .as_user("mary@example.org", "CO-KEN", &[Role::MeOfficer])
        .await;
    let thai_viewer = app
        .as_user("somchai@example.org", "CO-THA", &[Role::Viewer])
        .await;
    let admin = app
        .as_user("root@example.org", "DG-EO", &[Role::Administrator])
        .await;
    let (status, body) = admin
        .post_json(
            "/api/v1/exchange-rates",
            json!([{"currency": "EUR", "effective": "2020-01-01", "usd_per_unit": "1.10"}]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Cast {
        app,
        regional_me,
        kenya_head,
        uganda_head,
        kenya_me,
        thai_viewer,
    }
}

fn registration() -> Value {
    json!({
        "title": "Final evaluation of safe migration information in Kenya",
        "summary": "Independent final evaluation.",
        "eval_type": "project",
        "unit": "CO-KEN",
        "planned_start": "2025-09-01",
        "planned_end": "2025-12-31",
        "actual_start": "2025-09-15",
        "actual_end": "2026-01-10",
        "budget": "60000",
        "currency": "EUR",
        "criteria": ["relevance", "effectiveness", "sustainability"],
        "independence": "independent",
        "status": "completed",
        "quality_rating": "satisfactory"
    })
}

fn days_ago(n: i64) -> String {
    (time::OffsetDateTime::now_utc().date() - time::Duration::days(n)).to_string()
}

/// Registers the evaluation with a recommendation for Kenya and one for Uganda; returns the
/// evaluation and the two recommendations.
async fn registered(c: &Cast) -> (Value, Value, Value) {
    let (status, ev) = c
        .regional_me
        .post_json("/api/v1/evaluations", registration())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{ev}");
    let id = ev["id"].as_str().unwrap();
    let mut recs = Vec::new();
    for (text, unit, priority) in [
        ("Map referral services with partners", "CO-KEN", "high"),
        ("Train border officials on referral", "CO-UGA", "medium"),
    ] {
        let (status, rec) = c
            .regional_me
            .post_json(
                &format!("/api/v1/evaluations/{id}/recommendations"),
                json!({"text": text, "addressee": unit, "priority": priority}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{rec}");
        recs.push(rec);
    }
    let uganda = recs.pop().unwrap();
    let kenya = recs.pop().unwrap();
    (ev, kenya, uganda)
}

#[tokio::test]
async fn an_evaluation_goes_from_registration_to_tracked_key_actions_through_the_api() {
    let c = cast().await;
    let (ev, kenya, uganda) = registered(&c).await;
    assert_eq!(ev["code"], "EV-CO-KEN-2025-001");
    assert_eq!(ev["budget_usd"], "66000");
    assert_eq!(ev["response_due"], "2026-02-07");
    assert_eq!(kenya["number"], 1);
    assert_eq!(kenya["response_late"], true);

    // Bad input is refused naming the field.
    for (field, value) in [
        ("eval_type", json!("audit")),
        ("criteria", json!(["beauty"])),
        ("actual_end", json!("2099-01-01")),
        ("unit", json!("CO-XXX")),
    ] {
        let mut body = registration();
        body[field] = value;
        let (status, err) = c.regional_me.post_json("/api/v1/evaluations", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    // A country office's M&E officer does not register evaluations.
    let (status, err) = c
        .kenya_me
        .post_json("/api/v1/evaluations", registration())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert_eq!(
        err["error"]["message"],
        "only headquarters and regional office staff may register and edit evaluations"
    );

    // The head of the Kenya office answers for Kenya only.
    let answer = json!({"version": kenya["version"], "response": "agree", "text": "We will map them with the Red Cross."});
    let (status, err) = c
        .kenya_head
        .post_json(
            &format!(
                "/api/v1/evaluations/recommendations/{}/response",
                uganda["id"].as_str().unwrap()
            ),
            json!({"version": uganda["version"], "response": "agree", "text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let kenya_id = kenya["id"].as_str().unwrap();
    let (status, responded) = c
        .kenya_head
        .post_json(
            &format!("/api/v1/evaluations/recommendations/{kenya_id}/response"),
            answer.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{responded}");
    assert_eq!(responded["response"]["response"], "agree");
    assert_eq!(responded["response"]["responded_by"], "wanjiru@example.org");
    assert_eq!(responded["response_late"], true);
    // The same answer from the old version: 409 saying what changed.
    let (status, err) = c
        .kenya_me
        .post_json(
            &format!("/api/v1/evaluations/recommendations/{kenya_id}/response"),
            answer,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(code(&err), "conflict");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("by wanjiru@example.org") && message.contains("changed: response"),
        "{message}"
    );

    // Key actions: one overdue, one ahead.
    let mut actions = Vec::new();
    for (description, due) in [
        ("Publish a directory of services", "2099-03-31".to_owned()),
        ("Brief partners on the directory", days_ago(5)),
    ] {
        let (status, action) = c
            .kenya_head
            .post_json(
                &format!("/api/v1/evaluations/recommendations/{kenya_id}/actions"),
                json!({"description": description, "owner": "CO-KEN", "person": "Protection officer", "due_date": due}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{action}");
        actions.push(action);
    }
    assert_eq!(actions[0]["overdue"], false);
    assert_eq!(actions[1]["overdue"], true);
    assert_eq!(actions[1]["status"], "not_started");
    let (status, err) = c
        .kenya_head
        .post_json(
            &format!("/api/v1/evaluations/recommendations/{kenya_id}/actions"),
            json!({"description": "x", "owner": "CO-KEN", "due_date": "next week"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["field"], "due_date");

    // EvaluationTracking, as JSON: the overdue action first.
    let (status, t) = c
        .kenya_head
        .get_json("/api/v1/evaluations/tracking/CO-KEN")
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    assert_eq!(t["counts"]["evaluations"], 1);
    assert_eq!(t["counts"]["recommendations"], 2);
    assert_eq!(t["counts"]["awaiting_response"], 1);
    assert_eq!(t["counts"]["overdue_actions"], 1);
    assert_eq!(
        t["actions"][0]["description"],
        "Brief partners on the directory"
    );
    assert_eq!(t["actions"][0]["overdue"], true);
    assert_eq!(t["awaiting_response"][0]["addressee"], "CO-UGA");

    // Completing it clears "overdue"; the API takes only the fields given.
    let action_id = actions[1]["id"].as_str().unwrap();
    let (status, done) = c
        .kenya_head
        .patch_json(
            &format!("/api/v1/evaluations/actions/{action_id}"),
            json!({"version": actions[1]["version"], "status": "completed", "comments": "Done in March."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["overdue"], false);
    assert_eq!(done["person"], "Protection officer");

    // Editing the evaluation needs the version read.
    let ev_id = ev["id"].as_str().unwrap();
    let mut patch = registration();
    patch["version"] = json!(1);
    patch["title"] = json!("Final evaluation (revised title)");
    let (status, edited) = c
        .regional_me
        .patch_json(&format!("/api/v1/evaluations/{ev_id}"), patch.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["version"], 2);
    let (status, err) = c
        .regional_me
        .patch_json(&format!("/api/v1/evaluations/{ev_id}"), patch)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("changed: title")
    );

    // Each step is in the audit trail.
    let (_, events) = c
        .app
        .signed_in("root@example.org")
        .await
        .get_json(&format!(
            "/api/v1/audit?entity=evaluation_recommendation&id={kenya_id}"
        ))
        .await;
    let actions_logged: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions_logged,
        [
            "evaluation_recommendation.respond",
            "evaluation_recommendation.create"
        ]
    );

    // Scope: Thailand sees nothing of it; Uganda sees it, being asked something.
    let (status, _) = c
        .thai_viewer
        .get_json(&format!("/api/v1/evaluations/{ev_id}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, list) = c.thai_viewer.get_json("/api/v1/evaluations").await;
    assert_eq!(list["total"], 0);
    let (status, seen) = c
        .uganda_head
        .get_json(&format!("/api/v1/evaluations/{ev_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["recommendations"].as_array().unwrap().len(), 2);
    let (_, list) = c
        .uganda_head
        .get_json("/api/v1/evaluations?status=completed&year=2026")
        .await;
    assert_eq!(list["total"], 1);
    let (status, err) = c
        .uganda_head
        .get_json("/api/v1/evaluations?status=done")
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["field"], "status");
}

#[tokio::test]
async fn the_report_is_uploaded_and_downloaded() {
    let c = cast().await;
    let (ev, _, _) = registered(&c).await;
    let id = ev["id"].as_str().unwrap();
    let upload = |bytes: &'static [u8], name: &'static str| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        );
        c.regional_me
            .client
            .post(format!("{}/api/v1/evaluations/{id}/report", c.app.url))
            .header("x-csrf-token", &c.regional_me.csrf)
            .multipart(form)
    };
    let r = upload(b"MZ not a pdf", "report.pdf").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = upload(b"%PDF-1.7 the report", "Final report.pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["report"]["content_type"], "application/pdf");
    let r = c
        .kenya_head
        .get(&format!("/api/v1/evaluations/{id}/report"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"%PDF-1.7 the report");
    let r = c
        .thai_viewer
        .get(&format!("/api/v1/evaluations/{id}/report"))
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn page(s: &Session, path: &str) -> (StatusCode, String) {
    let r = s.get(path).await;
    (r.status(), r.text().await.unwrap())
}

/// Posts a form and expects to be sent on (303); where to.
async fn post_and_follow(s: &Session, path: &str, fields: &[(&str, &str)]) -> String {
    let r = s.post_form(path, fields).await;
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let body = r.text().await.unwrap();
    assert_eq!(status, StatusCode::SEE_OTHER, "{path}: {body}");
    location.unwrap()
}

#[tokio::test]
async fn the_pages_register_answer_and_track_without_a_browser() {
    let c = cast().await;

    // The navigation has the module; the registry offers registration to the M&E officer only.
    let (status, list) = page(&c.regional_me, "/evaluations").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("<a href=\"/evaluations\" aria-current=\"page\">Evaluations</a>"));
    assert!(list.contains("href=\"/evaluations/new\""));
    let (_, list) = page(&c.kenya_head, "/evaluations").await;
    assert!(!list.contains("href=\"/evaluations/new\""));

    // Registering through the form; a bad date comes back with the field named, the typed
    // values kept.
    let mut fields = vec![
        ("title", "Final evaluation of safe migration information"),
        ("eval_type", "project"),
        ("unit", "CO-KEN"),
        ("planned_start", "2025-09-01"),
        ("planned_end", "2025-12-31"),
        ("actual_start", "2025-09-15"),
        ("actual_end", "2026-01-10"),
        ("status", "completed"),
        ("independence", "independent"),
        ("quality_rating", "satisfactory"),
        ("budget", "60000"),
        ("currency", "EUR"),
        ("criteria", "relevance"),
        ("criteria", "efficiency"),
    ];
    let mut bad = fields.clone();
    bad[4] = ("planned_end", "2025-02-30");
    let r = c.regional_me.post_form("/evaluations/new", &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<b>Planned end</b>: expected a date like 2026-03-31"),
        "{html}"
    );
    assert!(html.contains("value=\"Final evaluation of safe migration information\""));
    assert!(html.contains("value=\"efficiency\" checked"));
    fields.push(("summary", "Independent final evaluation."));
    let location = post_and_follow(&c.regional_me, "/evaluations/new", &fields).await;
    assert_eq!(location, "/evaluations/EV-CO-KEN-2025-001");

    // Recommendations through the page.
    for (text, unit) in [
        ("Map referral services with partners", "CO-KEN"),
        ("Train border officials on referral", "CO-UGA"),
    ] {
        let to = post_and_follow(
            &c.regional_me,
            "/evaluations/EV-CO-KEN-2025-001/recommendations",
            &[("text", text), ("addressee", unit), ("priority", "high")],
        )
        .await;
        assert!(
            to.starts_with("/evaluations/EV-CO-KEN-2025-001#rec-"),
            "{to}"
        );
    }
    let (status, html) = page(&c.regional_me, "/evaluations/EV-CO-KEN-2025-001").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("66,000.00 USD") && html.contains("60,000.00 EUR"));
    assert!(html.contains("Relevance, Efficiency"));
    assert!(
        html.contains("2026-02-07"),
        "the response due date is shown"
    );
    assert!(html.contains("Late response"));

    // The head of the Kenya office gets a response form for Kenya's recommendation only.
    let (_, html) = page(&c.kenya_head, "/evaluations/EV-CO-KEN-2025-001").await;
    let forms: Vec<&str> = html
        .split("action=\"/evaluations/recommendations/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert_eq!(forms.len(), 1, "{forms:?}");
    let (rec_id, _) = forms[0].split_once('/').unwrap();
    let version = html
        .split(&format!(
            "action=\"/evaluations/recommendations/{rec_id}/response\""
        ))
        .nth(1)
        .unwrap()
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(!html.contains("Edit</a>"), "only the registrar edits");

    // A response without its choice comes back in the reader's language, the text kept.
    let r = c
        .kenya_head
        .client
        .post(format!(
            "{}/evaluations/recommendations/{rec_id}/response",
            c.app.url
        ))
        .header("accept-language", "fr")
        .form(&[
            ("csrf", c.kenya_head.csrf.as_str()),
            ("evaluation", "EV-CO-KEN-2025-001"),
            ("version", &version),
            ("response", "maybe"),
            ("text", "Nous cartographierons les services."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<b>Réponse</b>: expected one of agree"),
        "{html}"
    );
    assert!(html.contains("Nous cartographierons les services.</textarea>"));
    assert!(html.contains("Réponse de la direction"));

    let to = post_and_follow(
        &c.kenya_head,
        &format!("/evaluations/recommendations/{rec_id}/response"),
        &[
            ("evaluation", "EV-CO-KEN-2025-001"),
            ("version", &version),
            ("response", "partially_agree"),
            ("text", "We will map services; a hotline is out of budget."),
        ],
    )
    .await;
    assert_eq!(to, format!("/evaluations/EV-CO-KEN-2025-001#r-{rec_id}"));
    let overdue_day = days_ago(3);
    post_and_follow(
        &c.kenya_head,
        &format!("/evaluations/recommendations/{rec_id}/actions"),
        &[
            ("evaluation", "EV-CO-KEN-2025-001"),
            ("description", "Brief partners on the directory"),
            ("owner", "CO-KEN"),
            ("person", "Protection officer"),
            ("due_date", &overdue_day),
        ],
    )
    .await;
    post_and_follow(
        &c.kenya_head,
        &format!("/evaluations/recommendations/{rec_id}/actions"),
        &[
            ("evaluation", "EV-CO-KEN-2025-001"),
            ("description", "Publish a directory of services"),
            ("owner", "CO-KEN"),
            ("due_date", "2099-03-31"),
        ],
    )
    .await;
    let (_, html) = page(&c.kenya_head, "/evaluations/EV-CO-KEN-2025-001").await;
    assert!(html.contains("Partially agree") && html.contains("wanjiru@example.org"));
    assert!(html.contains(&format!(
        "{overdue_day} <span class=\"badge s-rejected\">Overdue</span>"
    )));

    // The tracking page of Kenya: counts, the overdue action first, the unanswered Uganda
    // recommendation (late).
    let (status, html) = page(&c.kenya_head, "/evaluations/tracking").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Follow-up tracking: Country Office in Kenya"),
        "{html}"
    );
    let brief = html.find("Brief partners on the directory").unwrap();
    let publish = html.find("Publish a directory of services").unwrap();
    assert!(brief < publish, "the overdue action comes first");
    assert!(html.contains("<dt>Overdue key actions</dt><dd><b class=\"alert\">1</b></dd>"));
    assert!(html.contains("Train border officials on referral"));

    // Updating the action through its row form.
    let action_id = html
        .split("<tr id=\"a-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (_, page_html) = page(&c.kenya_head, "/evaluations/EV-CO-KEN-2025-001").await;
    let action_version = page_html
        .split(&format!("action=\"/evaluations/actions/{action_id}\""))
        .nth(1)
        .unwrap()
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    post_and_follow(
        &c.kenya_head,
        &format!("/evaluations/actions/{action_id}"),
        &[
            ("evaluation", "EV-CO-KEN-2025-001"),
            ("version", &action_version),
            ("status", "completed"),
            ("comments", "Shared on 12 March."),
        ],
    )
    .await;
    // The same form again (an old version) is refused in the page, with who changed what.
    let r = c
        .kenya_head
        .post_form(
            &format!("/evaluations/actions/{action_id}"),
            &[
                ("evaluation", "EV-CO-KEN-2025-001"),
                ("version", &action_version),
                ("status", "initiated"),
                ("comments", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("by wanjiru@example.org"));
    let (_, html) = page(&c.kenya_head, "/evaluations/tracking?unit=CO-KEN").await;
    assert!(
        html.contains("<dt>Overdue key actions</dt><dd>0</dd>"),
        "{html}"
    );

    // The registry's filters answer htmx with a fragment; another office sees nothing here.
    let r = c
        .regional_me
        .client
        .get(format!("{}/evaluations?status=completed", c.app.url))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap();
    let fragment = r.text().await.unwrap();
    assert!(!fragment.contains("<html"));
    assert!(fragment.contains("EV-CO-KEN-2025-001"));
    let (_, html) = page(&c.regional_me, "/evaluations?status=planned").await;
    assert!(!html.contains("EV-CO-KEN-2025-001"));
    let (status, _) = page(&c.thai_viewer, "/evaluations/EV-CO-KEN-2025-001").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&c.thai_viewer, "/evaluations/tracking?unit=CO-KEN").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, html) = page(&c.thai_viewer, "/evaluations").await;
    assert!(html.contains("No evaluation matches."));

    // Spanish and French pages have their words.
    let r = c
        .uganda_head
        .client
        .get(format!("{}/evaluations/tracking", c.app.url))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("Recomendaciones pendientes de respuesta de la dirección"));
    assert!(html.contains("Train border officials on referral"));
}

#[tokio::test]
async fn a_stale_edit_form_shows_the_current_values_and_what_was_typed() {
    let c = cast().await;
    let (ev, _, _) = registered(&c).await;
    let code = ev["code"].as_str().unwrap();
    let (status, html) = page(&c.regional_me, &format!("/evaluations/{code}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"version\" value=\"1\""));
    // Someone else saves first.
    let mut patch = registration();
    patch["version"] = json!(1);
    patch["title"] = json!("Title saved first");
    let (status, _) = c
        .regional_me
        .patch_json(&format!("/api/v1/evaluations/{code}"), patch)
        .await;
    assert_eq!(status, StatusCode::OK);
    let r = c
        .regional_me
        .post_form(
            &format!("/evaluations/{code}/edit"),
            &[
                ("version", "1"),
                ("title", "My late title"),
                ("eval_type", "project"),
                ("unit", "CO-KEN"),
                ("planned_start", "2025-09-01"),
                ("planned_end", "2025-12-31"),
                ("actual_start", "2025-09-15"),
                ("actual_end", "2026-01-10"),
                ("status", "completed"),
                ("independence", "independent"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("changed: title"), "{html}");
    assert!(html.contains("value=\"Title saved first\""));
    assert!(html.contains("<dd>My late title</dd>"));
    assert!(html.contains("name=\"version\" value=\"2\""));
}
