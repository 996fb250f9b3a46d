//! Editing and deleting results and indicators through the project's results page: the forms
//! carry the version read, a stale form saves nothing and says so, bad input names the field,
//! the store's refusals show in the page, every change is audited, and only those who may edit
//! the framework see and use the forms.

use crate::harness::{Session, TestApp};
use meridian_domain::authz::Role;
use meridian_store::audit::AuditQuery;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Cast {
    app: TestApp,
    developer: Session,
    reporter: Session,
    data_officer: Session,
    outsider: Session,
    project: String,
    /// An output with two indicators.
    result: String,
    /// Broken down by sex, with a target for the first quarter.
    indicator: String,
    /// A second indicator of the same result, with no targets.
    second: String,
    /// A second result with one indicator.
    other_result: String,
}

async fn cast() -> Cast {
    let app = TestApp::spawn().await;
    let developer = app
        .as_user("amina@example.org", "CO-KEN", &[Role::ProjectDeveloper])
        .await;
    let reporter = app
        .as_user("wanjiru@example.org", "CO-KEN", &[Role::MeOfficer])
        .await;
    let data_officer = app
        .as_user("kamau@example.org", "CO-KEN", &[Role::DataOfficer])
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
    let (status, body) = developer
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/projects/{project}/results/frequency"),
            json!({"frequency": "quarterly"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let add_result = |title: &'static str| {
        let developer = &developer;
        let project = &project;
        async move {
            let (status, r) = developer
                .post_json(
                    &format!("/api/v1/projects/{project}/results"),
                    json!({"level": "output", "title": title, "gcm_objectives": [21]}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{r}");
            r["id"].as_str().unwrap().to_owned()
        }
    };
    let result = add_result("Returnees are assisted").await;
    let other_result = add_result("Communities are informed").await;
    let add_indicator = |result: String, body: Value| {
        let developer = &developer;
        async move {
            let (status, i) = developer
                .post_json(&format!("/api/v1/results/{result}/indicators"), body)
                .await;
            assert_eq!(status, StatusCode::CREATED, "{i}");
            i["id"].as_str().unwrap().to_owned()
        }
    };
    let indicator = add_indicator(
        result.clone(),
        json!({"title": "Returnees assisted", "measure": "number", "unit": "people",
               "categories": [{"category": "sex"}], "target": "400",
               "targets": [{"period": "2026-Q1", "value": "100"},
                           {"period": "2026-Q1", "disaggregation": "sex=female", "value": "60"}]}),
    )
    .await;
    let second = add_indicator(
        result.clone(),
        json!({"title": "Grants paid", "measure": "number", "unit": "grants"}),
    )
    .await;
    add_indicator(
        other_result.clone(),
        json!({"title": "Information sessions held", "measure": "number"}),
    )
    .await;
    Cast {
        app,
        developer,
        reporter,
        data_officer,
        outsider,
        project,
        result,
        indicator,
        second,
        other_result,
    }
}

impl Cast {
    async fn framework(&self) -> Value {
        let (status, f) = self
            .developer
            .get_json(&format!("/api/v1/projects/{}/results", self.project))
            .await;
        assert_eq!(status, StatusCode::OK, "{f}");
        f
    }

    fn result_path(&self, id: &str, what: &str) -> String {
        format!("/projects/{}/results/result/{id}/{what}", self.project)
    }

    fn indicator_path(&self, id: &str, what: &str) -> String {
        format!("/projects/{}/results/indicator/{id}/{what}", self.project)
    }

    /// The audit actions recorded for one record, oldest first.
    async fn audited(&self, id: &str) -> Vec<(String, String)> {
        let mut events = self
            .app
            .store
            .audit_events(&AuditQuery {
                entity_id: Some(id.to_owned()),
                limit: 100,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        events.reverse();
        events.into_iter().map(|e| (e.action, e.actor)).collect()
    }
}

fn find<'a>(f: &'a Value, id: &str) -> Option<&'a Value> {
    f["results"].as_array().unwrap().iter().find_map(|r| {
        if r["id"] == id {
            return Some(r);
        }
        r["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
    })
}

/// The fields the indicator form sends for `Returnees assisted` as shown, with changes.
fn indicator_fields<'a>(
    version: &'a str,
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("version", version),
        ("title", "Returnees assisted"),
        ("measure", "number"),
        ("unit", "people"),
        ("direction", "ascending"),
        ("aggregation", "sum"),
        ("row", "sex"),
        ("categories", "sex"),
        (
            "options:sex",
            "female = Female\nmale = Male\nother_unknown = Other or unknown",
        ),
        ("exhaustive:sex", "on"),
        ("row", "age_group"),
        (
            "options:age_group",
            "age_0_17 = 0–17\nage_18_59 = 18–59\nage_60_plus = 60+",
        ),
        ("exhaustive:age_group", "on"),
        ("new_category", ""),
        ("new_options", ""),
        ("baseline", ""),
        ("baseline_year", ""),
        ("target", "400"),
        ("srf_indicator", ""),
        ("means_of_verification", ""),
    ];
    for (name, value) in changes {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value,
            None => fields.push((name, value)),
        }
    }
    fields
}

#[tokio::test]
async fn a_result_and_an_indicator_are_edited_through_forms_and_audited() {
    let c = cast().await;
    // The matrix offers the forms to whoever may edit it.
    let html = c
        .developer
        .get(&format!("/projects/{}/results", c.project))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&c.result_path(&c.result, "edit")), "{html}");
    assert!(html.contains(&c.indicator_path(&c.indicator, "edit")));
    assert!(html.contains(&c.indicator_path(&c.second, "delete")));

    // The result's form shows what is stored, with the version read.
    let r = c.developer.get(&c.result_path(&c.result, "edit")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("value=\"Returnees are assisted\""), "{html}");
    assert!(html.contains("name=\"version\" value=\"1\""));
    assert!(
        html.contains("<option value=\"21\" selected>"),
        "GCM 21 is selected"
    );

    let r = c
        .developer
        .post_form(
            &c.result_path(&c.result, "edit"),
            &[
                ("version", "1"),
                ("level", "outcome"),
                ("title", "Returnees reintegrate sustainably"),
                ("gcm_objectives", "21"),
                ("gcm_objectives", "22"),
                ("sdg_targets", "10.7"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"],
        format!("/projects/{}/results#result-{}", c.project, c.result).as_str()
    );
    let f = c.framework().await;
    let saved = find(&f, &c.result).unwrap();
    assert_eq!(saved["title"], "Returnees reintegrate sustainably");
    assert_eq!(saved["level"], "outcome");
    assert_eq!(saved["gcm_objectives"], json!([21, 22]));
    assert_eq!(saved["sdg_targets"], json!(["10.7"]));
    assert_eq!(saved["version"], 2);
    let audited = c.audited(&c.result).await;
    assert_eq!(audited.last().unwrap().0, "result.update", "{audited:?}");
    assert!(
        audited.last().unwrap().1.contains("amina@example.org"),
        "{audited:?}"
    );

    // The indicator's form shows every field of its definition.
    let r = c
        .developer
        .get(&c.indicator_path(&c.indicator, "edit"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    for expected in [
        "value=\"Returnees assisted\"",
        "value=\"people\"",
        "value=\"400\"",
        "id=\"e-cat-sex\" name=\"categories\" value=\"sex\" checked",
        "id=\"e-cat-age_group\" name=\"categories\" value=\"age_group\">",
        "name=\"options:sex\"",
        "female = Female",
        "name=\"version\" value=\"1\"",
    ] {
        assert!(html.contains(expected), "{expected} in {html}");
    }

    // Everything changes at once; a second category (age group) makes combinations; the
    // targets per period are kept.
    let mut fields = indicator_fields(
        "1",
        &[
            ("title", "Returnees assisted to reintegrate"),
            ("unit", "persons"),
            ("direction", "descending"),
            ("aggregation", "average"),
            ("cumulative", "on"),
            ("baseline", "120"),
            ("baseline_year", "2025"),
            ("target", "500"),
            ("means_of_verification", "Case files"),
        ],
    );
    fields.push(("categories", "age_group"));
    let r = c
        .developer
        .post_form(&c.indicator_path(&c.indicator, "edit"), &fields)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let f = c.framework().await;
    let ind = find(&f, &c.indicator).unwrap();
    assert_eq!(ind["title"], "Returnees assisted to reintegrate");
    assert_eq!(ind["unit"], "persons");
    assert_eq!(ind["direction"], "descending");
    assert_eq!(ind["aggregation"], "average");
    assert_eq!(ind["cumulative"], true);
    assert_eq!(ind["baseline_year"], 2025);
    assert_eq!(ind["means_of_verification"], "Case files");
    assert_eq!(ind["version"], 2);
    let categories: Vec<&str> = ind["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories, ["sex", "age_group"]);
    assert_eq!(ind["combinations"].as_array().unwrap().len(), 9);
    assert_eq!(
        ind["targets"].as_array().unwrap().len(),
        2,
        "the targets per period are kept: {ind}"
    );
    let audited = c.audited(&c.indicator).await;
    assert_eq!(
        audited.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        ["indicator.create", "indicator.update"]
    );

    // A custom category with its own options, and options of a built-in one renamed.
    let r = c
        .developer
        .post_form(
            &c.indicator_path(&c.second, "edit"),
            &[
                ("version", "1"),
                ("title", "Grants paid"),
                ("measure", "number"),
                ("unit", "grants"),
                ("row", "sex"),
                ("categories", "sex"),
                ("options:sex", "female = Women\nmale = Men"),
                ("row", "age_group"),
                ("options:age_group", "age_0_17"),
                ("new_category", "grant_type"),
                ("new_options", "cash = Cash\nin_kind = In kind"),
                ("new_exhaustive", "on"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let f = c.framework().await;
    let ind = find(&f, &c.second).unwrap();
    assert_eq!(
        ind["categories"],
        json!([
            {"category": "sex", "options": [{"code": "female", "label": "Women"}, {"code": "male", "label": "Men"}], "exhaustive": false},
            {"category": "grant_type", "options": [{"code": "cash", "label": "Cash"}, {"code": "in_kind", "label": "In kind"}], "exhaustive": true}
        ])
    );
    // The custom category is offered again in the form, with its options.
    let html = c
        .developer
        .get(&c.indicator_path(&c.second, "edit"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("value=\"grant_type\" checked"), "{html}");
    assert!(html.contains("in_kind = In kind"));
}

#[tokio::test]
async fn a_stale_form_is_refused_with_the_conflict_message_and_changes_nothing() {
    let c = cast().await;
    // Someone renames the result through the API after the form was read at version 1.
    let (status, body) = c
        .reporter
        .patch_json(
            &format!("/api/v1/results/{}", c.result),
            json!({"level": "output", "title": "Returnees are assisted (renamed)", "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let r = c
        .developer
        .post_form(
            &c.result_path(&c.result, "edit"),
            &[
                ("version", "1"),
                ("level", "impact"),
                ("title", "My stale title"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Nothing was saved: someone changed this since you opened the form"),
        "{html}"
    );
    // The form now holds the current values and version; what was typed is beside it.
    assert!(html.contains("value=\"Returnees are assisted (renamed)\""));
    assert!(html.contains("name=\"version\" value=\"2\""));
    assert!(html.contains("Your changes (not saved)"));
    assert!(html.contains("My stale title"));
    assert!(
        html.contains("<dt>Level</dt><dd>Impact</dd>"),
        "the level typed, as people read it: {html}"
    );
    let f = c.framework().await;
    let r = find(&f, &c.result).unwrap();
    assert_eq!(r["title"], "Returnees are assisted (renamed)");
    assert_eq!(r["level"], "output");
    assert_eq!(r["version"], 2);

    // The same for an indicator: its targets change in the matrix, then a stale edit.
    let r = c
        .developer
        .post_form(
            &format!("/projects/{}/results/targets", c.project),
            &[
                ("indicator", &c.indicator),
                ("period", "2026-04-01"),
                ("version", "1"),
                ("target", "120"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c
        .developer
        .post_form(
            &c.indicator_path(&c.indicator, "edit"),
            &indicator_fields(
                "1",
                &[("title", "Stale indicator title"), ("target", "999")],
            ),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Nothing was saved: someone changed this"),
        "{html}"
    );
    assert!(
        html.contains("Stale indicator title"),
        "what was typed is shown"
    );
    assert!(html.contains("name=\"version\" value=\"2\""));
    let f = c.framework().await;
    let ind = find(&f, &c.indicator).unwrap();
    assert_eq!(ind["title"], "Returnees assisted");
    assert_eq!(ind["target"]["value"], "400");
    assert_eq!(ind["targets"].as_array().unwrap().len(), 3);
    assert_eq!(ind["version"], 2);

    // A delete form read before a change deletes nothing.
    let r = c
        .developer
        .post_form(
            &c.indicator_path(&c.indicator, "delete"),
            &[("version", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(html.contains("Nothing was deleted:"), "{html}");
    assert!(find(&c.framework().await, &c.indicator).is_some());
    let r = c
        .developer
        .post_form(&c.result_path(&c.result, "delete"), &[("version", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(find(&c.framework().await, &c.result).is_some());
    let audited = c.audited(&c.result).await;
    assert_eq!(
        audited.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        ["result.create", "result.update"],
        "only the API's rename is audited"
    );
}

#[tokio::test]
async fn bad_input_names_the_field_keeps_what_was_typed_and_changes_nothing() {
    let c = cast().await;
    let r = c
        .developer
        .post_form(
            &c.result_path(&c.result, "edit"),
            &[("version", "1"), ("level", "output"), ("title", "   ")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Nothing was saved. <b>Title</b>: is required"),
        "{html}"
    );
    assert!(html.contains(
        "id=\"e-title\" name=\"title\" value=\"\" maxlength=\"500\" aria-invalid=\"true\""
    ));

    for (field, value, label, message) in [
        ("baseline", "lots", "Baseline", "expected a number"),
        ("target", "about 500", "Target", "expected a number"),
        (
            "baseline_year",
            "next year",
            "Baseline year",
            "expected a year such as 2025",
        ),
        ("title", "", "Title", "is required"),
        ("aggregation", "median", "Aggregation", "median"),
        (
            "measure",
            "percentage",
            "Measure",
            "the indicator has 2 targets per period as number; clear them in the matrix",
        ),
    ] {
        let r = c
            .developer
            .post_form(
                &c.indicator_path(&c.indicator, "edit"),
                &indicator_fields("1", &[(field, value), ("unit", "typed unit")]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(&format!("Nothing was saved. <b>{label}</b>: ")),
            "{field}: {html}"
        );
        assert!(html.contains(message), "{field}: {message} in {html}");
        assert!(
            html.contains("value=\"typed unit\""),
            "what was typed is kept"
        );
        assert!(html.contains("name=\"version\" value=\"1\""));
    }
    // An option code that is not snake_case names the categories.
    let r = c
        .developer
        .post_form(
            &c.indicator_path(&c.indicator, "edit"),
            &indicator_fields("1", &[("options:sex", "Female\nmale")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<b>Disaggregated by</b>: sex: expected an option code in snake_case"),
        "{html}"
    );

    // In French, the lead and the field's name are French.
    let r = c
        .developer
        .client
        .post(format!(
            "{}{}",
            c.developer.url,
            c.indicator_path(&c.indicator, "edit")
        ))
        .header("accept-language", "fr")
        .form(&{
            let mut f = indicator_fields("1", &[("baseline", "beaucoup")]);
            f.push(("csrf", &c.developer.csrf));
            f
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Rien n’a été enregistré. <b>Valeur de référence</b>"),
        "{html}"
    );

    let f = c.framework().await;
    let ind = find(&f, &c.indicator).unwrap();
    assert_eq!(ind["version"], 1, "nothing was saved");
    assert_eq!(ind["unit"], "people");
    assert_eq!(find(&f, &c.result).unwrap()["version"], 1);
    assert_eq!(
        c.audited(&c.indicator).await.len(),
        1,
        "only the creation is audited"
    );
}

#[tokio::test]
async fn deleting_removes_and_the_stores_refusals_show_in_the_page() {
    let c = cast().await;
    // An indicator with nothing reported goes, with its audit entry.
    let r = c
        .developer
        .post_form(&c.indicator_path(&c.second, "delete"), &[("version", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let f = c.framework().await;
    assert!(find(&f, &c.second).is_none());
    assert_eq!(
        c.audited(&c.second).await.last().unwrap().0,
        "indicator.delete"
    );
    let html = c
        .developer
        .get(&format!("/projects/{}/results", c.project))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("Grants paid"));

    // A result goes with its indicators.
    let other_indicator = find(&f, &c.other_result).unwrap()["indicators"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = c
        .developer
        .post_form(
            &c.result_path(&c.other_result, "delete"),
            &[("version", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let f = c.framework().await;
    assert!(find(&f, &c.other_result).is_none());
    assert!(find(&f, &other_indicator).is_none());
    assert_eq!(f["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        c.audited(&c.other_result).await.last().unwrap().0,
        "result.delete"
    );

    // Once values are reported, the page says the indicator and its result cannot be deleted,
    // and the store's refusal shows in the page (a form read before the report).
    let (status, body) = c
        .reporter
        .send_json(
            reqwest::Method::PUT,
            &format!("/api/v1/indicators/{}/reports/2026-Q1", c.indicator),
            json!({"values": [{"value": "12"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let html = c
        .developer
        .get(&format!("/projects/{}/results", c.project))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Values were reported for this indicator, so it cannot be deleted"));
    assert!(!html.contains(&c.indicator_path(&c.indicator, "delete")));
    let r = c
        .developer
        .post_form(
            &c.indicator_path(&c.indicator, "delete"),
            &[("version", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Nothing was deleted: the indicator has 1 reports; it cannot be deleted"),
        "{html}"
    );
    let r = c
        .developer
        .post_form(&c.result_path(&c.result, "delete"), &[("version", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Nothing was deleted: the result has 1 reported values")
    );

    // Its measure cannot change now, nor can a reported key lose its category.
    let r = c
        .developer
        .post_form(
            &c.indicator_path(&c.indicator, "edit"),
            &indicator_fields("1", &[("measure", "percentage"), ("target", "")]),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(
            "<b>Measure</b>: the indicator has 1 reports as number; its measure cannot change"
        ),
        "{html}"
    );
    let f = c.framework().await;
    assert!(find(&f, &c.indicator).is_some());
    assert_eq!(find(&f, &c.indicator).unwrap()["measure"], "number");
    assert_eq!(
        find(&f, &c.result).unwrap()["indicators"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn people_who_may_not_edit_the_framework_get_403_and_no_forms() {
    let c = cast().await;
    // A data officer of the office reports values but does not edit the matrix.
    let html = c
        .data_officer
        .get(&format!("/projects/{}/results", c.project))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Returnees assisted"));
    assert!(!html.contains("/edit\""), "no edit forms offered");
    assert!(!html.contains("/delete\""), "no delete forms offered");
    for who in [&c.data_officer, &c.outsider] {
        for path in [
            c.result_path(&c.result, "edit"),
            c.indicator_path(&c.indicator, "edit"),
        ] {
            let r = who.get(&path).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "GET {path}");
        }
        let r = who
            .post_form(
                &c.result_path(&c.result, "edit"),
                &[
                    ("version", "1"),
                    ("level", "impact"),
                    ("title", "Taken over"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = who
            .post_form(
                &c.indicator_path(&c.indicator, "edit"),
                &indicator_fields("1", &[("title", "Taken over")]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        for path in [
            c.result_path(&c.other_result, "delete"),
            c.indicator_path(&c.second, "delete"),
        ] {
            let r = who.post_form(&path, &[("version", "1")]).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "POST {path}");
        }
    }
    // Without the form's CSRF token nothing happens either.
    let r = c
        .developer
        .client
        .post(format!(
            "{}{}",
            c.developer.url,
            c.indicator_path(&c.second, "delete")
        ))
        .form(&[("version", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let f = c.framework().await;
    assert_eq!(
        find(&f, &c.result).unwrap()["title"],
        "Returnees are assisted"
    );
    assert_eq!(
        find(&f, &c.indicator).unwrap()["title"],
        "Returnees assisted"
    );
    assert!(find(&f, &c.second).is_some());
    assert!(find(&f, &c.other_result).is_some());
    assert_eq!(c.audited(&c.result).await.len(), 1);
}
