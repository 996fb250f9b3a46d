//! Projects through their lifecycle, driven through the API by users of the right roles.

use crate::harness::{Session, TestApp, code};
use meridian_domain::authz::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Kenya's office drafts, Nairobi reviews and endorses, headquarters approves.
struct Cast {
    app: TestApp,
    drafter: Session,
    reviewer: Session,
    approver: Session,
    hq_admin: Session,
}

async fn cast() -> Cast {
    let app = TestApp::spawn().await;
    let drafter = app
        .as_user("amina@example.org", "CO-KEN", &[Role::ProjectDeveloper])
        .await;
    let reviewer = app
        .as_user("omar@example.org", "RO-NBO", &[Role::RegionalReviewer])
        .await;
    let approver = app
        .as_user("li@example.org", "DSPOP-PRIMA", &[Role::Approver])
        .await;
    let hq_admin = app
        .as_user("root@example.org", "DG-EO", &[Role::Administrator])
        .await;
    let (status, body) = hq_admin
        .post_json(
            "/api/v1/exchange-rates",
            json!([
                {"currency": "EUR", "effective": "2020-01-01", "usd_per_unit": "1.10"},
                {"currency": "KES", "effective": "2020-01-01", "usd_per_unit": "0.0075"}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for (authority, role, unit, limit) in [
        ("endorse_project", "regional_reviewer", "RO-NBO", "1000000"),
        ("approve_project", "approver", "DSPOP-PRIMA", "5000000"),
    ] {
        let (status, body) = hq_admin
            .post_json(
                "/api/v1/delegations",
                json!({"authority": authority, "role": role, "unit": unit, "limit_amount": limit,
                       "limit_currency": "USD", "valid_from": "2020-01-01", "may_subdelegate": true}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    Cast {
        app,
        drafter,
        reviewer,
        approver,
        hq_admin,
    }
}

fn draft(amount_eur: &str) -> Value {
    json!({
        "title": "Safe migration information for young people in Kenya",
        "summary": "Counselling and information on regular pathways.",
        "thematic_area": "migrant_protection",
        "unit": "CO-KEN",
        "primary_country": "KEN",
        "countries": ["UGA"],
        "admin_areas": ["Nairobi", "Mombasa"],
        "start_date": "2026-01-01",
        "end_date": "2027-12-31",
        "currency": "EUR",
        "budget_lines": [
            {"category": "staff", "description": "Counsellors", "currency": "EUR", "amount": amount_eur},
            {"category": "activities", "description": "Outreach", "currency": "KES", "amount": "1000000"}
        ],
        "donors": ["European Union"],
        "partners": ["Kenya Red Cross"],
    })
}

async fn act(s: &Session, id: &str, action: &str, comment: &str) -> (StatusCode, Value) {
    s.post_json(
        &format!("/api/v1/projects/{id}/transitions"),
        json!({"action": action, "comment": comment}),
    )
    .await
}

#[tokio::test]
async fn a_project_goes_from_draft_to_financial_closure_with_every_step_in_its_history() {
    let c = cast().await;
    let (status, p) = c
        .drafter
        .post_json("/api/v1/projects", draft("500000"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    assert_eq!(p["code"], "CO-KEN-2026-0001");
    assert_eq!(p["status"], "draft");
    assert_eq!(p["region"], "RO-NBO");
    assert_eq!(p["countries"], json!(["KEN", "UGA"]));
    // 500,000 EUR at 1.10 + 1,000,000 KES at 0.0075 = 550,000 + 7,500 USD, exactly.
    assert_eq!(p["budget_usd"], "557500");
    let id = p["id"].as_str().unwrap().to_owned();

    assert_eq!(act(&c.drafter, &id, "submit", "").await.0, StatusCode::OK);
    let (_, queue) = c.reviewer.get_json("/api/v1/review-queue").await;
    assert_eq!(
        queue.as_array().unwrap().len(),
        1,
        "routed to the regional office covering Kenya"
    );
    assert_eq!(
        act(&c.reviewer, &id, "start_review", "").await.0,
        StatusCode::OK
    );
    let (status, comment) = c
        .reviewer
        .post_json(
            &format!("/api/v1/projects/{id}/comments"),
            json!({"section": "budget", "body": "Justify the staff costs."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = c
        .drafter
        .post_json(
            &format!("/api/v1/projects/{id}/comments"),
            json!({"section": "budget", "body": "Two counsellors per county.", "reply_to": comment["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        act(&c.reviewer, &id, "return", "Add the county breakdown.")
            .await
            .0,
        StatusCode::OK
    );

    let (_, current) = c.drafter.get_json(&format!("/api/v1/projects/{id}")).await;
    let mut edit = draft("450000");
    edit["version"] = current["version"].clone();
    let (status, edited) = c
        .drafter
        .patch_json(&format!("/api/v1/projects/{id}"), edit)
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(act(&c.drafter, &id, "resubmit", "").await.0, StatusCode::OK);
    let (status, endorsed) = act(&c.reviewer, &id, "endorse", "Sound.").await;
    assert_eq!(status, StatusCode::OK, "{endorsed}");
    assert_eq!(
        act(&c.drafter, &id, "submit_to_donor", "").await.0,
        StatusCode::OK
    );
    let (status, approved) = act(&c.approver, &id, "approve", "").await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    for step in [
        "activate",
        "suspend",
        "resume",
        "close_operationally",
        "close_financially",
    ] {
        let (status, body) = act(&c.drafter, &id, step, "").await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
    }

    let (status, history) = c
        .drafter
        .get_json(&format!("/api/v1/projects/{id}/history"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let steps: Vec<&str> = history["status_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["transition"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "submit",
            "start_review",
            "return",
            "resubmit",
            "endorse",
            "submit_to_donor",
            "approve",
            "activate",
            "suspend",
            "resume",
            "close_operationally",
            "close_financially"
        ]
    );
    let endorse = &history["status_changes"][4];
    assert_eq!(endorse["actor"], "omar@example.org");
    let chain = endorse["delegation_chain"].as_array().unwrap();
    assert!(
        !chain.is_empty(),
        "the endorsement records its delegation chain"
    );
    assert_eq!(history["comments"].as_array().unwrap().len(), 2);
    assert_eq!(
        history["comments"][1]["reply_to"],
        history["comments"][0]["id"]
    );
    let edit = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "project.update")
        .unwrap();
    assert_eq!(edit["before"]["budget_lines"][0]["amount"], "500000");
    assert_eq!(edit["after"]["budget_lines"][0]["amount"], "450000");
}

#[tokio::test]
async fn an_illegal_transition_is_refused_with_the_allowed_ones() {
    let c = cast().await;
    let (_, p) = c.drafter.post_json("/api/v1/projects", draft("1000")).await;
    let (status, err) = act(&c.approver, p["id"].as_str().unwrap(), "approve", "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(
        err["error"]["message"],
        "cannot approve a project that is draft; allowed now: submit, withdraw"
    );
    let (status, err) = act(&c.drafter, p["id"].as_str().unwrap(), "teleport", "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["field"], "action");
}

#[tokio::test]
async fn whoever_drafted_or_submitted_a_project_can_never_endorse_it() {
    let c = cast().await;
    // A reviewer who also develops projects drafts one for an office of her region.
    let both = c
        .app
        .as_user(
            "both@example.org",
            "RO-NBO",
            &[Role::ProjectDeveloper, Role::RegionalReviewer],
        )
        .await;
    let mut input = draft("1000");
    input["unit"] = json!("RO-NBO");
    let (status, p) = both.post_json("/api/v1/projects", input).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let id = p["id"].as_str().unwrap();
    act(&both, id, "submit", "").await;
    act(&both, id, "start_review", "").await;
    let (status, err) = act(&both, id, "endorse", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("segregation of duties"),
        "{err}"
    );
    let (_, still) = both.get_json(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(still["status"], "under_review");
    // Someone else of the same office may.
    let (status, _) = act(&c.reviewer, id, "endorse", "").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_delegation_that_does_not_cover_the_amount_is_named_in_the_refusal() {
    let c = cast().await;
    // 2,000,000 EUR = 2,200,000 USD, above the regional limit of 1,000,000 USD.
    let (_, p) = c
        .drafter
        .post_json("/api/v1/projects", draft("2000000"))
        .await;
    let id = p["id"].as_str().unwrap();
    act(&c.drafter, id, "submit", "").await;
    act(&c.reviewer, id, "start_review", "").await;
    let (status, err) = act(&c.reviewer, id, "endorse", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("1,000,000") || message.contains("1000000"),
        "the limit is named: {message}"
    );
}

#[tokio::test]
async fn an_expired_delegation_is_refused() {
    let c = cast().await;
    let expired_reviewer = c
        .app
        .as_user("old@example.org", "RO-PTA", &[Role::RegionalReviewer])
        .await;
    let (status, _) = c
        .hq_admin
        .post_json(
            "/api/v1/delegations",
            json!({"authority": "endorse_project", "role": "regional_reviewer", "unit": "RO-PTA",
                   "limit_amount": "9000000", "limit_currency": "USD", "valid_from": "2020-01-01", "valid_to": "2021-12-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let pta = c
        .app
        .as_user("dev.zaf@example.org", "CO-ZAF", &[Role::ProjectDeveloper])
        .await;
    let mut input = draft("1000");
    input["unit"] = json!("CO-ZAF");
    input["primary_country"] = json!("ZAF");
    input["countries"] = json!([]);
    let (status, p) = pta.post_json("/api/v1/projects", input).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let id = p["id"].as_str().unwrap();
    act(&pta, id, "submit", "").await;
    act(&expired_reviewer, id, "start_review", "").await;
    let (status, err) = act(&expired_reviewer, id, "endorse", "").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{err}"
    );
}

#[tokio::test]
async fn a_stale_save_gets_409_with_what_changed() {
    let c = cast().await;
    let colleague = c
        .app
        .as_user("colleague@example.org", "CO-KEN", &[Role::ProjectDeveloper])
        .await;
    let (_, p) = c.drafter.post_json("/api/v1/projects", draft("1000")).await;
    let id = p["id"].as_str().unwrap();
    let mut first = draft("1000");
    first["title"] = json!("A better title");
    first["version"] = p["version"].clone();
    assert_eq!(
        colleague
            .patch_json(&format!("/api/v1/projects/{id}"), first)
            .await
            .0,
        StatusCode::OK
    );
    let mut second = draft("2000");
    second["version"] = p["version"].clone();
    let (status, err) = c
        .drafter
        .patch_json(&format!("/api/v1/projects/{id}"), second)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("colleague@example.org") && message.contains("title"),
        "{message}"
    );
    let (_, now) = c.drafter.get_json(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(now["title"], "A better title");
    assert_eq!(now["budget_lines"][0]["amount"], "1000");
}

#[tokio::test]
async fn offices_see_their_own_projects_and_restricted_fields_only_with_the_right_role() {
    let c = cast().await;
    let mut input = draft("1000");
    input["restricted"] = json!(true);
    let (_, p) = c.drafter.post_json("/api/v1/projects", input).await;
    let id = p["id"].as_str().unwrap();

    let uganda = c
        .app
        .as_user("dev.uga@example.org", "CO-UGA", &[Role::ProjectDeveloper])
        .await;
    let (status, err) = uganda.get_json(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(code(&err), "forbidden");
    let (_, list) = uganda.get_json("/api/v1/projects").await;
    assert_eq!(list["totals"]["projects"], 0);

    let kenya_viewer = c
        .app
        .as_user("viewer.ke@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let (status, seen) = kenya_viewer
        .get_json(&format!("/api/v1/projects/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen["restricted_hidden"], true);
    assert_eq!(seen["budget_usd"], Value::Null);
    assert_eq!(seen["donors"], Value::Null);
    let (_, list) = kenya_viewer.get_json("/api/v1/projects").await;
    assert_eq!(list["totals"]["projects"], 1);
    assert_eq!(list["totals"]["budget_usd"], "0");
    assert_eq!(list["rows"][0]["budget_usd"], Value::Null);
    assert_eq!(
        kenya_viewer
            .get_json(&format!("/api/v1/projects/{id}/transactions"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    let (_, regional) = c.reviewer.get_json(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(regional["budget_usd"], "8600", "1,000 EUR + 1,000,000 KES");
    let thailand = c
        .app
        .as_user("dev.tha@example.org", "RO-BKK", &[Role::RegionalReviewer])
        .await;
    assert_eq!(
        thailand.get_json(&format!("/api/v1/projects/{id}")).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn bad_project_input_is_named_and_changes_nothing() {
    let c = cast().await;
    for (patch, field) in [
        (json!({"title": ""}), "title"),
        (json!({"thematic_area": "astrology"}), "thematic_area"),
        (json!({"unit": "CO-UGA"}), "forbidden"),
        (json!({"primary_country": "XYZ"}), "primary_country"),
        (json!({"end_date": "2025-01-01"}), "end_date"),
        (json!({"start_date": "01/02/2026"}), "start_date"),
        (json!({"currency": "ABC"}), "currency"),
        (
            json!({"budget_lines": [{"category": "staff", "currency": "JPY", "amount": "10.5"}]}),
            "budget_lines",
        ),
        (
            json!({"budget_lines": [{"category": "staff", "currency": "XOF", "amount": "100"}]}),
            "budget_lines",
        ),
    ] {
        let mut input = draft("1000");
        for (k, v) in patch.as_object().unwrap() {
            input[k] = v.clone();
        }
        let (status, err) = c.drafter.post_json("/api/v1/projects", input).await;
        if field == "forbidden" {
            assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
        } else {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{patch}: {err}");
            assert_eq!(err["error"]["field"], field, "{patch}: {err}");
        }
    }
    let (_, list) = c.hq_admin.get_json("/api/v1/projects").await;
    assert_eq!(list["totals"]["projects"], 0);
}

#[tokio::test]
async fn transactions_give_budget_against_actual() {
    let c = cast().await;
    let (_, p) = c
        .drafter
        .post_json("/api/v1/projects", draft("100000"))
        .await;
    let id = p["id"].as_str().unwrap();
    for (kind, amount) in [
        ("commitment", "50000"),
        ("expenditure", "27500"),
        ("incoming_funds", "110000"),
    ] {
        let (status, t) = c
            .drafter
            .post_json(
                &format!("/api/v1/projects/{id}/transactions"),
                json!({"kind": kind, "date": "2026-03-01", "currency": "USD", "amount": amount, "provider": "EU", "receiver": "IOM"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{t}");
    }
    let (_, view) = c
        .drafter
        .get_json(&format!("/api/v1/projects/{id}/transactions"))
        .await;
    // Budget: 110,000 + 7,500 = 117,500 USD; spent 27,500 → 23.4 %.
    assert_eq!(view["budget_usd"], "117500");
    assert_eq!(view["spent_usd"], "27500");
    assert_eq!(view["burn_rate_percent"], "23.4");
    let (status, err) = c
        .drafter
        .post_json(
            &format!("/api/v1/projects/{id}/transactions"),
            json!({"kind": "gift", "date": "2026-03-01", "currency": "USD", "amount": "1"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["field"], "kind");
}

#[tokio::test]
async fn the_portfolio_filters_sorts_pages_and_totals() {
    let c = cast().await;
    for (amount, theme) in [
        ("1000", "migrant_protection"),
        ("2000", "migration_health"),
        ("3000", "migrant_protection"),
    ] {
        let mut input = draft(amount);
        input["thematic_area"] = json!(theme);
        input["budget_lines"] = json!([{"category": "staff", "currency": "USD", "amount": amount}]);
        let (status, _) = c.drafter.post_json("/api/v1/projects", input).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, page) = c
        .hq_admin
        .get_json("/api/v1/projects?sort=budget&descending=true&per_page=2")
        .await;
    assert_eq!(page["totals"]["projects"], 3);
    assert_eq!(page["totals"]["budget_usd"], "6000");
    let budgets: Vec<&str> = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["budget_usd"].as_str().unwrap())
        .collect();
    assert_eq!(budgets, ["3000", "2000"]);
    let (_, second) = c
        .hq_admin
        .get_json("/api/v1/projects?sort=budget&descending=true&per_page=2&page=2")
        .await;
    assert_eq!(second["rows"].as_array().unwrap().len(), 1);
    let (_, themed) = c
        .hq_admin
        .get_json("/api/v1/projects?theme=migrant_protection&min_usd=1500")
        .await;
    assert_eq!(themed["totals"]["projects"], 1);
    let (_, by_donor) = c
        .hq_admin
        .get_json("/api/v1/projects?donor=European+Union")
        .await;
    assert_eq!(by_donor["totals"]["projects"], 3);
    let (_, other_region) = c.hq_admin.get_json("/api/v1/projects?region=RO-BKK").await;
    assert_eq!(other_region["totals"]["projects"], 0);

    let (_, totals) = c.hq_admin.get_json("/api/v1/projects/totals").await;
    assert_eq!(totals["by_region"][0]["key"], "RO-NBO");
    assert_eq!(totals["by_region"][0]["budget_usd"], "6000");
    let themes: Vec<(&str, i64)> = totals["by_theme"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"].as_str().unwrap(), g["projects"].as_i64().unwrap()))
        .collect();
    assert_eq!(themes, [("migrant_protection", 2), ("migration_health", 1)]);
    assert_eq!(totals["by_donor"][0]["key"], "European Union");
    assert_eq!(totals["pipeline"][0]["key"], "draft");
    assert_eq!(totals["pipeline"][0]["projects"], 3);

    let csv = c.hq_admin.get("/api/v1/projects/export.csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.starts_with("code,title,status"));

    let xlsx = c
        .hq_admin
        .get("/api/v1/projects/export.xlsx?sort=budget")
        .await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let sheet = book.worksheet_range("Portfolio").unwrap();
    assert_eq!(sheet.height(), 4);
    assert_eq!(sheet.get_value((0, 0)).unwrap().to_string(), "Code");
    assert_eq!(sheet.get_value((1, 9)).unwrap().to_string(), "1000");
    assert_eq!(sheet.get_value((3, 9)).unwrap().to_string(), "3000");
}

#[tokio::test]
async fn exchange_rates_are_maintained_at_headquarters_all_or_nothing() {
    let c = cast().await;
    let (status, err) = c
        .hq_admin
        .client
        .post(format!("{}/api/v1/exchange-rates", c.app.url))
        .header("x-csrf-token", &c.hq_admin.csrf)
        .header("content-type", "text/csv")
        .body("currency,date,usd_per_unit\nXOF,2026-01-01,0.0016\nXAF,2026-13-01,0.0016\nABC,2026-01-01,1\n")
        .send()
        .await
        .map(|r| (r.status(), r))
        .unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = err.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("row 3") && message.contains("row 4"),
        "every bad row is named: {message}"
    );
    let (_, rates) = c.hq_admin.get_json("/api/v1/exchange-rates").await;
    assert!(
        !rates
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["currency"] == "XOF"),
        "nothing was imported"
    );
    let (status, _) = c
        .drafter
        .post_json(
            "/api/v1/exchange-rates",
            json!([{"currency": "XOF", "effective": "2026-01-01", "usd_per_unit": "0.0016"}]),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Takes a fresh project all the way to active.
async fn active_project(c: &Cast, amount_eur: &str) -> String {
    let (_, p) = c
        .drafter
        .post_json("/api/v1/projects", draft(amount_eur))
        .await;
    let id = p["id"].as_str().unwrap().to_owned();
    for (who, step) in [
        (&c.drafter, "submit"),
        (&c.reviewer, "start_review"),
        (&c.reviewer, "endorse"),
        (&c.drafter, "submit_to_donor"),
        (&c.approver, "approve"),
        (&c.drafter, "activate"),
    ] {
        let (status, body) = act(who, &id, step, "").await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
    }
    id
}

#[tokio::test]
async fn a_budget_revision_is_reviewed_approved_and_keeps_the_baseline_beside_it() {
    let c = cast().await;
    let (status, _) = c
        .hq_admin
        .post_json(
            "/api/v1/delegations",
            json!({"authority": "approve_revision", "role": "approver", "unit": "DSPOP-PRIMA", "limit_amount": "5000000",
                   "limit_currency": "USD", "valid_from": "2020-01-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, draft_project) = c.drafter.post_json("/api/v1/projects", draft("1000")).await;
    let (status, err) = c
        .drafter
        .post_json(&format!("/api/v1/projects/{}/revisions", draft_project["id"].as_str().unwrap()),
            json!({"kind": "no_cost_extension", "justification": "Delays", "end_date": "2028-06-30"}))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a draft is not revised: {err}"
    );

    let id = active_project(&c, "100000").await;
    let (status, revision) = c
        .drafter
        .post_json(
            &format!("/api/v1/projects/{id}/revisions"),
            json!({"kind": "budget_revision", "justification": "A second county",
                   "budget_lines": [{"category": "staff", "currency": "USD", "amount": "200000"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{revision}");
    let rid = revision["id"].as_str().unwrap();
    let path = format!("/api/v1/revisions/{rid}/transitions");
    async fn revise_as(who: &Session, path: &str, action: &str) -> (StatusCode, Value) {
        who.post_json(path, json!({"action": action, "comment": ""}))
            .await
    }

    assert_eq!(
        revise_as(&c.drafter, &path, "submit").await.0,
        StatusCode::OK
    );
    assert_eq!(
        revise_as(&c.reviewer, &path, "return").await.0,
        StatusCode::OK
    );
    assert_eq!(
        revise_as(&c.drafter, &path, "resubmit").await.0,
        StatusCode::OK
    );
    let (status, err) = revise_as(&c.drafter, &path, "approve").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a drafter does not approve: {err}"
    );
    let (status, approved) = revise_as(&c.approver, &path, "approve").await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["baseline"]["budget_usd"], "117500");
    assert_eq!(approved["proposed"]["budget_usd"], "200000");
    assert!(!approved["delegation_chain"].as_array().unwrap().is_empty());

    let (_, project) = c.drafter.get_json(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(project["budget_usd"], "200000");
    assert_eq!(project["budget_lines"].as_array().unwrap().len(), 1);
    let (_, all) = c
        .drafter
        .get_json(&format!("/api/v1/projects/{id}/revisions"))
        .await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    let (status, _) = revise_as(&c.reviewer, &path, "reject").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a decided revision stays decided"
    );
}

#[tokio::test]
async fn a_no_cost_extension_moves_the_end_date_only_later() {
    let c = cast().await;
    c.hq_admin
        .post_json(
            "/api/v1/delegations",
            json!({"authority": "approve_revision", "role": "approver", "unit": "DSPOP-PRIMA", "limit_amount": "5000000",
                   "limit_currency": "USD", "valid_from": "2020-01-01"}),
        )
        .await;
    let id = active_project(&c, "1000").await;
    let (status, err) = c
        .drafter
        .post_json(&format!("/api/v1/projects/{id}/revisions"),
            json!({"kind": "no_cost_extension", "justification": "Delays", "end_date": "2027-01-01"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["field"], "end_date");
    let (_, r) = c
        .drafter
        .post_json(&format!("/api/v1/projects/{id}/revisions"),
            json!({"kind": "no_cost_extension", "justification": "Delays", "end_date": "2028-06-30"}))
        .await;
    let rid = r["id"].as_str().unwrap();
    c.drafter
        .post_json(
            &format!("/api/v1/revisions/{rid}/transitions"),
            json!({"action": "submit"}),
        )
        .await;
    let (status, _) = c
        .approver
        .post_json(
            &format!("/api/v1/revisions/{rid}/transitions"),
            json!({"action": "approve"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, project) = c.drafter.get_json(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(project["end_date"], "2028-06-30");
    assert_eq!(project["budget_usd"], "8600", "the budget is untouched");
}

#[tokio::test]
async fn documents_are_checked_stored_and_shown_only_to_those_who_may_see_them() {
    let c = cast().await;
    let mut input = draft("1000");
    input["restricted"] = json!(true);
    let (_, p) = c.drafter.post_json("/api/v1/projects", input).await;
    let id = p["id"].as_str().unwrap();
    let upload = |name: &'static str, bytes: &'static [u8], doc_type: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("doc_type", doc_type)
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        c.drafter
            .client
            .post(format!("{}/api/v1/projects/{id}/documents", c.app.url))
            .header("x-csrf-token", &c.drafter.csrf)
            .multipart(form)
            .send()
    };
    let r = upload("proposal.pdf", b"%PDF-1.7 the proposal", "proposal")
        .await
        .unwrap();
    let status = r.status();
    let doc: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    assert_eq!(doc["content_type"], "application/pdf");
    assert_eq!(doc["size_bytes"], 21);

    let r = upload("proposal.pdf", b"<html>not a pdf</html>", "proposal")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: Value = r.json().await.unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("content is not pdf")
    );
    let r = upload("tool.exe", b"MZ", "other").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let (_, list) = c
        .drafter
        .get_json(&format!("/api/v1/projects/{id}/documents"))
        .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "refused uploads left nothing"
    );
    let download = c
        .drafter
        .get(&format!(
            "/api/v1/documents/{}",
            doc["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(
        download.bytes().await.unwrap().as_ref(),
        b"%PDF-1.7 the proposal"
    );

    let viewer = c
        .app
        .as_user("viewer.ke@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    assert_eq!(
        viewer
            .get(&format!(
                "/api/v1/documents/{}",
                doc["id"].as_str().unwrap()
            ))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}
