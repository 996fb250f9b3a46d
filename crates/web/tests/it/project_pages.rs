//! The projects module's pages, as people use them through a browser: the portfolio, the draft
//! form, the project page with its lifecycle buttons, comments, history and transactions, the
//! review queue, analytics, delegations and exchange rates.

use crate::harness::{Session, TestApp};
use meridian_domain::authz::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Write;

/// Kenya's office drafts, Nairobi reviews and endorses, headquarters approves and administers.
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

fn draft() -> Value {
    json!({
        "title": "Safe migration information for young people in Kenya",
        "summary": "Counselling and information on regular pathways.",
        "thematic_area": "migrant_protection",
        "unit": "CO-KEN",
        "primary_country": "KEN",
        "countries": ["UGA"],
        "start_date": "2026-01-01",
        "end_date": "2027-12-31",
        "currency": "EUR",
        "budget_lines": [
            {"category": "staff", "description": "Counsellors", "currency": "EUR", "amount": "500000"},
            {"category": "activities", "description": "Outreach", "currency": "KES", "amount": "1000000"}
        ],
        "donors": ["European Union"],
        "partners": ["Kenya Red Cross"],
    })
}

/// Drafts the project above through the API; its code.
async fn drafted(c: &Cast) -> String {
    let (status, p) = c.drafter.post_json("/api/v1/projects", draft()).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    p["code"].as_str().unwrap().to_owned()
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

async fn act(s: &Session, code: &str, action: &str, comment: &str) -> String {
    post_and_follow(
        s,
        &format!("/projects/{code}/transition"),
        &[("action", action), ("comment", comment)],
    )
    .await
}

/// The transition buttons a page offers.
fn buttons(page: &str) -> Vec<String> {
    page.split("name=\"action\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_portfolio_lists_a_new_project_and_its_filters_take_it_away() {
    let c = cast().await;
    let code = drafted(&c).await;

    let (status, list) = page(&c.drafter, "/projects").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!("<a href=\"/projects/{code}\">{code}</a>")));
    assert!(list.contains("Safe migration information for young people in Kenya"));
    assert!(list.contains("Migrant protection") && list.contains(">Draft<"));
    assert!(list.contains("Projects: <b>1</b>") && list.contains("557,500.00 USD"));
    assert!(
        list.contains("href=\"/projects/new\""),
        "a project developer may start a project"
    );

    let (_, filtered) = page(&c.drafter, "/projects?theme=migration_health&q=").await;
    assert!(!filtered.contains(&code), "another theme");
    assert!(filtered.contains("No project matches."));
    assert!(
        filtered.contains("href=\"/api/v1/projects/export.csv?theme=migration_health\""),
        "the export keeps the filters"
    );
    let (_, by_text) = page(&c.drafter, "/projects?q=young+people&status=draft").await;
    assert!(by_text.contains(&code));
    let (_, other_region) = page(&c.drafter, "/projects?region=RO-BKK").await;
    assert!(!other_region.contains(&code));

    // Sorting by budget: the header links to the ascending order first, then the reverse.
    let (_, sorted) = page(&c.drafter, "/projects?sort=budget").await;
    assert!(sorted.contains("aria-sort=\"ascending\""), "{sorted}");
    assert!(
        sorted.contains("href=\"/projects?sort=budget&#38;descending=true\""),
        "{sorted}"
    );

    // htmx asks for the results only.
    let fragment = c
        .drafter
        .client
        .get(format!("{}/projects?theme=migrant_protection", c.app.url))
        .header("hx-request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!fragment.contains("<html") && fragment.contains(&code));
    // Going back to a page htmx no longer holds asks for the whole page again.
    let restored = c
        .drafter
        .client
        .get(format!("{}/projects?theme=migrant_protection", c.app.url))
        .header("hx-request", "true")
        .header("hx-history-restore-request", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(restored.headers()["vary"], "HX-Request");
    assert!(
        restored
            .text()
            .await
            .unwrap()
            .starts_with("<!doctype html>")
    );

    // A filter that cannot be read is named, and the page says so with 422.
    let (status, bad) = page(&c.drafter, "/projects?year=soon").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.contains("<b>Start year</b>: expected a year like 2026"),
        "{bad}"
    );

    // Someone without the role sees no button to start a project.
    let viewer = c
        .app
        .as_user("viewer.ke@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let (_, seen) = page(&viewer, "/projects").await;
    assert!(seen.contains(&code) && !seen.contains("href=\"/projects/new\""));
}

#[tokio::test]
async fn the_new_project_form_creates_a_draft_and_opens_its_page() {
    let c = cast().await;
    let (status, form) = page(&c.drafter, "/projects/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("name=\"csrf\""));
    assert!(
        form.contains("name=\"unit\" value=\"CO-KEN\""),
        "the office is the drafter's"
    );
    assert!(form.contains("<option value=\"migrant_protection\">Migrant protection</option>"));
    assert_eq!(
        form.matches("name=\"line_amount\"").count(),
        5,
        "five empty budget rows"
    );

    let fields = [
        ("title", "Labour mobility pilot"),
        ("summary", "Skills partnerships."),
        ("thematic_area", "labour_mobility"),
        ("unit", "CO-KEN"),
        ("primary_country", "KEN"),
        ("countries", "UGA, TZA"),
        ("admin_areas", "Nairobi\nKisumu\n"),
        ("start_date", "2026-02-01"),
        ("end_date", "2026-12-31"),
        ("currency", "USD"),
        ("line_category", "staff"),
        ("line_description", "Coordinator"),
        ("line_currency", ""),
        ("line_amount", "120000"),
        ("line_category", "activities"),
        ("line_description", "Training"),
        ("line_currency", "KES"),
        ("line_amount", "2,000,000"),
        ("line_category", ""),
        ("line_description", ""),
        ("line_currency", ""),
        ("line_amount", ""),
        ("donors", "European Union\n"),
        ("partners", "Kenya Red Cross\nMinistry of Labour"),
    ];
    let location = post_and_follow(&c.drafter, "/projects/new", &fields).await;
    assert_eq!(location, "/projects/CO-KEN-2026-0001");
    let (status, project) = page(&c.drafter, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(project.contains("<h1>Labour mobility pilot</h1>"));
    assert!(project.contains("class=\"badge s-draft\">Draft</span>"));
    assert!(project.contains("Coordinator") && project.contains("2,000,000.00 KES"));
    assert!(
        project.contains("135,000.00 USD"),
        "120,000 USD + 2,000,000 KES at 0.0075"
    );
    assert!(project.contains("Ministry of Labour") && project.contains("Tanzania"));
    assert!(project.contains("href=\"/projects/CO-KEN-2026-0001/edit\""));

    // A refused draft keeps what was typed and names the field, with 422.
    let mut wrong = fields.to_vec();
    wrong[8] = ("end_date", "2025-01-01");
    let r = c.drafter.post_form("/projects/new", &wrong).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("<b>End date</b>: the end (2025-01-01) is before the start"));
    assert!(body.contains("value=\"Labour mobility pilot\""));
    assert!(body.contains("id=\"end_date\" name=\"end_date\" type=\"date\" value=\"2025-01-01\" required aria-invalid=\"true\""));

    // Someone who does not develop projects cannot open the form.
    assert_eq!(
        c.reviewer.get("/projects/new").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_edit_from_a_stale_version_shows_the_conflict_and_the_current_values() {
    let c = cast().await;
    let code = drafted(&c).await;
    let (_, form) = page(&c.drafter, &format!("/projects/{code}/edit")).await;
    assert!(form.contains("name=\"version\" value=\"1\""));
    assert!(form.contains("name=\"line_amount\" value=\"500000\""));
    assert_eq!(
        form.matches("name=\"line_amount\"").count(),
        7,
        "2 lines + 5 empty"
    );

    let colleague = c
        .app
        .as_user("colleague@example.org", "CO-KEN", &[Role::ProjectDeveloper])
        .await;
    let mut first = draft();
    first["title"] = json!("A better title");
    first["version"] = json!(1);
    let (status, _) = colleague
        .patch_json(&format!("/api/v1/projects/{code}"), first)
        .await;
    assert_eq!(status, StatusCode::OK);

    let r = c
        .drafter
        .post_form(
            &format!("/projects/{code}/edit"),
            &[
                ("version", "1"),
                ("title", "My own title"),
                ("thematic_area", "migrant_protection"),
                ("unit", "CO-KEN"),
                ("primary_country", "KEN"),
                ("start_date", "2026-01-01"),
                ("end_date", "2027-12-31"),
                ("currency", "USD"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("was changed since you read it") && body.contains("colleague@example.org"),
        "{body}"
    );
    assert!(
        body.contains("value=\"A better title\""),
        "the current values"
    );
    assert!(body.contains("name=\"version\" value=\"2\""));
    assert!(body.contains("Your changes (not saved)") && body.contains("My own title"));
    let (_, now) = c
        .drafter
        .get_json(&format!("/api/v1/projects/{code}"))
        .await;
    assert_eq!(now["title"], "A better title", "nothing was overwritten");

    // Saving again from the current version goes through.
    let location = post_and_follow(
        &c.drafter,
        &format!("/projects/{code}/edit"),
        &[
            ("version", "2"),
            ("title", "My own title"),
            ("thematic_area", "migrant_protection"),
            ("unit", "CO-KEN"),
            ("primary_country", "KEN"),
            ("start_date", "2026-01-01"),
            ("end_date", "2027-12-31"),
            ("currency", "USD"),
            ("line_category", "staff"),
            ("line_amount", "1000"),
        ],
    )
    .await;
    let (_, project) = page(&c.drafter, &location).await;
    assert!(project.contains("<h1>My own title</h1>"));
    assert!(
        project.contains("<ins>My own title</ins>")
            && project.contains("<del>A better title</del>"),
        "the edit shows before and after"
    );
}

#[tokio::test]
async fn a_drafter_submits_from_the_page_and_a_reviewer_endorses_with_the_chain_in_the_history() {
    let c = cast().await;
    let code = drafted(&c).await;
    let path = format!("/projects/{code}");

    let (_, before) = page(&c.drafter, &path).await;
    assert_eq!(buttons(&before), ["submit", "withdraw"]);
    assert_eq!(
        act(&c.drafter, &code, "submit", "").await,
        format!("{path}#status")
    );
    let (_, submitted) = page(&c.drafter, &path).await;
    assert!(submitted.contains("class=\"badge s-submitted\">Submitted for review</span>"));
    assert_eq!(
        buttons(&submitted),
        ["withdraw"],
        "the review is the region's"
    );

    let (_, queue) = page(&c.reviewer, "/review").await;
    assert!(queue.contains(&format!("href=\"/projects/{code}\"")));
    let (_, reviewing) = page(&c.reviewer, &path).await;
    assert_eq!(buttons(&reviewing), ["start_review"]);
    act(&c.reviewer, &code, "start_review", "").await;

    // A comment on the budget, and the drafter's answer in the same thread.
    post_and_follow(
        &c.reviewer,
        &format!("/projects/{code}/comments"),
        &[("section", "budget"), ("body", "Justify the staff costs.")],
    )
    .await;
    let (_, with_comment) = page(&c.drafter, &path).await;
    let comment_id = with_comment
        .split("name=\"reply_to\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    post_and_follow(
        &c.drafter,
        &format!("/projects/{code}/comments"),
        &[
            ("section", "budget"),
            ("reply_to", &comment_id),
            ("body", "Two counsellors per county."),
        ],
    )
    .await;

    let (_, under_review) = page(&c.reviewer, &path).await;
    assert_eq!(buttons(&under_review), ["return", "endorse", "reject"]);
    let budget = under_review.split("<h3>Budget</h3>").nth(1).unwrap();
    let thread = budget.split("</ol>").next().unwrap();
    assert!(
        thread.contains("Justify the staff costs.")
            && thread.contains("class=\"replies\"")
            && thread.contains("Two counsellors per county."),
        "the answer sits under the comment: {thread}"
    );

    // Returning without saying what to revise is refused in the page, with the field named.
    let r = c
        .reviewer
        .post_form(
            &format!("/projects/{code}/transition"),
            &[("action", "return"), ("comment", " ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<b>Comment</b>: say what to revise")
    );

    act(&c.reviewer, &code, "endorse", "Sound and well costed.").await;
    let (_, endorsed) = page(&c.drafter, &path).await;
    assert!(endorsed.contains("class=\"badge s-endorsed\">Endorsed</span>"));
    let history = endorsed.split("id=\"history\"").nth(1).unwrap();
    assert!(history.contains("<b>Endorse</b> · omar@example.org"));
    assert!(history.contains("Sound and well costed."));
    assert!(history.contains("Under the delegated authority of:"));
    assert!(
        history.contains("Regional reviewer, RO-NBO — limit 1,000,000.00 USD"),
        "{history}"
    );

    // An approval now is refused in the page: the project has not gone to the donor.
    let r = c
        .approver
        .post_form(
            &format!("/projects/{code}/transition"),
            &[("action", "approve")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("cannot approve a project that is endorsed")
    );
}

#[tokio::test]
async fn a_country_office_viewer_sees_only_their_office_and_no_buttons() {
    let c = cast().await;
    let code = drafted(&c).await;
    let uganda = c
        .app
        .as_user("viewer.ug@example.org", "CO-UGA", &[Role::Viewer])
        .await;
    let (status, refused) = page(&uganda, &format!("/projects/{code}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(refused.contains("<h1>Not allowed</h1>"));
    let (_, list) = page(&uganda, "/projects").await;
    assert!(!list.contains(&code) && list.contains("Projects: <b>0</b>"));

    let kenya = c
        .app
        .as_user("viewer.ke@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let (status, seen) = page(&kenya, &format!("/projects/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(seen.contains("Safe migration information"));
    assert!(
        buttons(&seen).is_empty(),
        "a viewer gets no transition buttons"
    );
    assert!(!seen.contains("/transition\"") && !seen.contains("/edit\""));
    assert!(!seen.contains("action=\"/projects/"), "no forms at all");
}

#[tokio::test]
async fn restricted_budgets_read_restricted_for_viewers() {
    let c = cast().await;
    let mut input = draft();
    input["restricted"] = json!(true);
    let (_, p) = c.drafter.post_json("/api/v1/projects", input).await;
    let code = p["code"].as_str().unwrap();
    let kenya = c
        .app
        .as_user("viewer.ke@example.org", "CO-KEN", &[Role::Viewer])
        .await;
    let (_, list) = page(&kenya, "/projects").await;
    assert!(list.contains("<span class=\"tag\">restricted</span>"));
    assert!(!list.contains("557,500.00"));
    let (_, seen) = page(&kenya, &format!("/projects/{code}")).await;
    assert!(!seen.contains("European Union") && !seen.contains("557,500.00"));
    assert!(seen.contains("its transactions are shown to the project’s staff"));
}

#[tokio::test]
async fn transactions_recorded_in_the_page_give_the_burn_rate() {
    let c = cast().await;
    let code = drafted(&c).await;
    post_and_follow(
        &c.drafter,
        &format!("/projects/{code}/transactions"),
        &[
            ("kind", "expenditure"),
            ("date", "2026-03-01"),
            ("currency", "USD"),
            ("amount", "55750"),
            ("provider", "IOM"),
            ("receiver", "Kenya Red Cross"),
        ],
    )
    .await;
    let (_, project) = page(&c.drafter, &format!("/projects/{code}")).await;
    let section = project.split("id=\"transactions\"").nth(1).unwrap();
    assert!(
        section.contains("55,750.00 USD") && section.contains("10 %"),
        "{section}"
    );
    assert!(section.contains("<rect class=\"burn-fill\""));

    let r = c
        .drafter
        .post_form(
            &format!("/projects/{code}/transactions"),
            &[
                ("kind", "expenditure"),
                ("date", "2026-03-01"),
                ("currency", "USD"),
                ("amount", "-5"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("<b>Amount</b>:"), "{body}");
    assert!(body.contains("value=\"-5\""), "the typed amount is kept");
}

#[tokio::test]
async fn analytics_draw_charts_and_tables() {
    let c = cast().await;
    drafted(&c).await;
    let (status, body) = page(&c.hq_admin, "/projects/analytics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<svg class=\"chart\""));
    assert!(body.contains("role=\"img\" aria-label=\"Budget by region\""));
    assert!(body.contains("Regional Office in Nairobi"));
    assert!(body.contains("<td class=\"num\">557,500.00 USD</td>"));
    assert!(body.contains("Projects by lifecycle stage"));
    // Every stage of the pipeline is listed, in lifecycle order.
    let draft_at = body.find(">Draft</a>").unwrap();
    let closed_at = body.find(">Financially closed</a>").unwrap();
    assert!(draft_at < closed_at);
    let (status, _) = page(&c.hq_admin, "/projects/analytics?min_usd=lots").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn exchange_rates_are_pasted_all_or_nothing_with_every_bad_row_named() {
    let c = cast().await;
    let (_, read_only) = page(&c.drafter, "/projects/exchange-rates").await;
    assert!(read_only.contains("<abbr title=\"Euro\">EUR</abbr>"));
    assert!(
        !read_only.contains("<textarea"),
        "only headquarters keeps rates"
    );

    let r = c
        .hq_admin
        .post_form(
            "/projects/exchange-rates",
            &[(
                "csv",
                "currency,date,usd_per_unit\nXOF,2026-01-01,0.0016\nXAF,2026-13-01,0.0016\nABC,2026-01-01,1\n",
            )],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("<li>row 3, date:") && body.contains("<li>row 4, currency:"),
        "{body}"
    );
    assert!(body.contains("XAF,2026-13-01"), "the pasted text is kept");
    let (_, rates) = c.hq_admin.get_json("/api/v1/exchange-rates").await;
    assert!(
        !rates
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["currency"] == "XOF")
    );

    let location = post_and_follow(
        &c.hq_admin,
        "/projects/exchange-rates",
        &[("csv", "XOF,2026-01-01,0.0016\nXOF,2026-06-01,0.0017")],
    )
    .await;
    assert_eq!(location, "/projects/exchange-rates?imported=2");
    let (_, after) = page(&c.hq_admin, &location).await;
    assert!(after.contains("2 rates saved."));
    let (_, history) = page(&c.hq_admin, "/projects/exchange-rates?currency=xof").await;
    assert!(history.contains("2026-06-01") && history.contains("0.0017"));
}

#[tokio::test]
async fn headquarters_administrators_issue_sub_delegate_and_revoke_delegations() {
    let c = cast().await;
    let (_, table) = page(&c.drafter, "/projects/delegations").await;
    assert!(table.contains("Endorse projects") && table.contains("Regional reviewer, RO-NBO"));
    assert!(
        !table.contains("Issue a delegation"),
        "only headquarters administrators issue"
    );

    let (_, admin_view) = page(&c.hq_admin, "/projects/delegations").await;
    // The regional office's authority to endorse, issued by the head of the organization.
    let row = admin_view
        .split("<tr id=\"d-")
        .find(|row| row.contains("Endorse projects"))
        .unwrap();
    let first = row.split('"').next().unwrap().to_owned();
    let number = row.split("<td>").nth(1).unwrap().split('<').next().unwrap();
    let (_, prefilled) = page(
        &c.hq_admin,
        &format!("/projects/delegations?parent={first}"),
    )
    .await;
    assert!(prefilled.contains(&format!("<option value=\"{first}\" selected>")));

    let fields = [
        ("parent", first.as_str()),
        ("authority", "endorse_project"),
        ("delegatee", "person"),
        ("role", "regional_reviewer"),
        ("person", "omar@example.org"),
        ("limit_amount", "250000"),
        ("limit_currency", "USD"),
        ("valid_from", "2026-01-01"),
        ("valid_to", "2026-12-31"),
    ];
    post_and_follow(&c.hq_admin, "/projects/delegations", &fields).await;
    let (_, with_sub) = page(&c.hq_admin, "/projects/delegations").await;
    assert!(with_sub.contains("omar@example.org") && with_sub.contains("250,000.00 USD"));
    assert!(with_sub.contains(&format!("<a href=\"#d-{first}\">#{number}</a>")));

    // A sub-delegation above its parent's limit is refused in the page.
    let mut above = fields.to_vec();
    above[5] = ("limit_amount", "2000000");
    let r = c.hq_admin.post_form("/projects/delegations", &above).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("class=\"error\" role=\"alert\"")
    );

    post_and_follow(
        &c.hq_admin,
        &format!("/projects/delegations/{first}/revoke"),
        &[],
    )
    .await;
    let (_, revoked) = page(&c.hq_admin, "/projects/delegations").await;
    assert!(revoked.contains(&format!("<tr id=\"d-{first}\" class=\"revoked\">")));
    let r = c
        .drafter
        .post_form(&format!("/projects/delegations/{first}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_projects_pages_speak_french() {
    let c = cast().await;
    let code = drafted(&c).await;
    c.drafter.get("/lang/fr").await;
    let (_, list) = page(&c.drafter, "/projects").await;
    assert!(list.contains("<html lang=\"fr\">"));
    assert!(list.contains("<h1>Portefeuille</h1>") && list.contains(">Nouveau projet</a>"));
    assert!(list.contains(">Brouillon<") && list.contains("Protection des migrants"));
    let (_, project) = page(&c.drafter, &format!("/projects/{code}")).await;
    assert!(project.contains(">Soumettre pour examen</button>"));
    assert!(project.contains("Commentaires d’examen") && project.contains("Lignes budgétaires"));
    let (_, analytics) = page(&c.drafter, "/projects/analytics").await;
    assert!(analytics.contains("aria-label=\"Budget par région\""));
    c.drafter.get("/lang/es").await;
    let (_, es) = page(&c.drafter, "/projects").await;
    assert!(es.contains("<h1>Cartera</h1>") && es.contains(">Borrador<"));
}

fn gzipped(body: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body).unwrap();
    gz.finish().unwrap().len()
}

#[tokio::test]
async fn every_projects_page_stays_under_30_kb_gzipped() {
    let c = cast().await;
    // A full first page of the portfolio, and a project with a history.
    let mut code = String::new();
    for i in 0..55 {
        let mut input = draft();
        input["title"] = json!(format!(
            "Safe migration information for young people in Kenya, phase {i}"
        ));
        let (status, p) = c.drafter.post_json("/api/v1/projects", input).await;
        assert_eq!(status, StatusCode::CREATED);
        code = p["code"].as_str().unwrap().to_owned();
    }
    act(&c.drafter, &code, "submit", "").await;
    act(&c.reviewer, &code, "start_review", "").await;
    act(&c.reviewer, &code, "endorse", "Fine.").await;
    for (who, path) in [
        (&c.drafter, "/projects".to_owned()),
        (&c.drafter, "/projects?page=2".to_owned()),
        (&c.drafter, "/projects/analytics".to_owned()),
        (&c.drafter, "/projects/new".to_owned()),
        (&c.drafter, format!("/projects/{code}")),
        (&c.drafter, "/projects/CO-KEN-2026-0001/edit".to_owned()),
        (&c.reviewer, "/review".to_owned()),
        (&c.approver, "/projects/delegations".to_owned()),
        (&c.hq_admin, "/projects/delegations".to_owned()),
        (&c.hq_admin, "/projects/exchange-rates".to_owned()),
        (&c.hq_admin, "/projects/analytics".to_owned()),
    ] {
        let r = who.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let body = r.bytes().await.unwrap();
        let size = gzipped(&body);
        assert!(size <= 30 * 1024, "{path} is {size} bytes gzipped");
    }
}

async fn upload_document(s: &Session, code: &str, name: &str, bytes: &[u8]) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("doc_type", "proposal")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
        );
    s.client
        .post(format!("{}/projects/{code}/documents", s.url))
        .header("x-csrf-token", &s.csrf)
        .header("hx-request", "true")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn documents_are_uploaded_from_the_project_page_and_listed_there() {
    let c = cast().await;
    let code = drafted(&c).await;
    let (_, html) = page(&c.drafter, &format!("/projects/{code}")).await;
    assert!(
        html.contains("hx-post=\"/projects/") && html.contains("/documents\""),
        "the upload form"
    );
    // A file that is not what its name says is refused in place, and nothing is stored.
    let r = upload_document(&c.drafter, &code, "proposal.pdf", b"not a pdf at all").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("class=\"error\""));
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
    let r = upload_document(&c.drafter, &code, "proposal.pdf", pdf).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        r.headers()["hx-redirect"],
        format!("/projects/{code}#documents").as_str()
    );
    let (_, html) = page(&c.drafter, &format!("/projects/{code}")).await;
    assert!(html.contains(">proposal.pdf</a>"), "the document is listed");
    assert!(html.contains("Proposal"));
    // A reviewer sees it but has no upload form.
    let (_, html) = page(&c.reviewer, &format!("/projects/{code}")).await;
    assert!(html.contains(">proposal.pdf</a>"));
    assert!(!html.contains("name=\"doc_type\""));
}
