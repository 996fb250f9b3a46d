//! The evaluations story on whichever backend the environment names (SQLite by default,
//! PostgreSQL with MERIDIAN_TEST_POSTGRES_URL): registering evaluations, recommendations,
//! management responses and key actions, who may do what, what each office sees, optimistic
//! concurrency, the audit trail, and a unit's tracking with overdue actions and late responses.

use meridian_domain::authz::{Actor, Denied, Role, UserActor};
use meridian_domain::evaluations::{ActionStatus, EvaluationStatus, ResponseKind};
use meridian_domain::org::{Countries, Organization, UnitCode};
use meridian_domain::projects::money::{Currency, ExchangeRate};
use meridian_store::evaluations::{
    EvaluationInput, EvaluationQuery, EvaluationRecommendationInput, KeyActionInput,
    KeyActionPatch, ManagementResponseInput,
};
use meridian_store::projects::{DocumentStorage, ProjectInput};
use meridian_store::testing::{TestDb, operator};
use meridian_store::{Store, StoreError};
use rust_decimal::Decimal;
use sqlx::Row;
use std::str::FromStr;

fn person(email: &str, unit: &str, roles: &[Role]) -> Actor {
    Actor::User(UserActor {
        id: format!("id-{email}"),
        email: email.into(),
        unit: UnitCode::parse(unit).unwrap(),
        roles: roles.to_vec(),
    })
}

struct World {
    _db: TestDb,
    store: Store,
    org: Organization,
    /// M&E officer at the regional office in Nairobi.
    regional_me: Actor,
    /// M&E officer at headquarters' Monitoring and Evaluation Unit.
    hq_me: Actor,
    /// The head of the Kenya office.
    kenya_head: Actor,
    uganda_head: Actor,
}

async fn world() -> World {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let org = meridian_domain::builtin::organization();
    store
        .load_organization(&operator(), None, &org, &Countries::builtin())
        .await
        .unwrap();
    store
        .put_exchange_rates(
            &org,
            &operator(),
            &[ExchangeRate {
                currency: Currency::parse("EUR").unwrap(),
                effective: time::macros::date!(2020 - 01 - 01),
                usd_per_unit: Decimal::from_str("1.10").unwrap(),
            }],
        )
        .await
        .unwrap();
    World {
        _db: db,
        store,
        org,
        regional_me: person("ines@example.org", "RO-NBO", &[Role::MeOfficer]),
        hq_me: person("paul@example.org", "DSPOP-ME", &[Role::MeOfficer]),
        kenya_head: person("wanjiru@example.org", "CO-KEN", &[Role::Approver]),
        uganda_head: person("okello@example.org", "CO-UGA", &[Role::Approver]),
    }
}

fn days_ago(n: i64) -> String {
    (time::OffsetDateTime::now_utc().date() - time::Duration::days(n)).to_string()
}

fn completed(title: &str, unit: &str, ended: &str) -> EvaluationInput {
    EvaluationInput {
        title: title.into(),
        summary: "Final evaluation of the safe migration programme.".into(),
        eval_type: "project".into(),
        unit: unit.into(),
        planned_start: "2025-09-01".into(),
        planned_end: "2025-12-31".into(),
        actual_start: Some("2025-09-15".into()),
        actual_end: Some(ended.into()),
        budget: Some("60000".into()),
        currency: Some("EUR".into()),
        criteria: vec![
            "relevance".into(),
            "effectiveness".into(),
            "sustainability".into(),
        ],
        independence: "independent".into(),
        status: "completed".into(),
        quality_rating: Some("satisfactory".into()),
        ..Default::default()
    }
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

fn field_of(e: &StoreError) -> &str {
    match e {
        StoreError::Invalid { field, .. } => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[tokio::test]
async fn an_evaluation_is_registered_with_its_budget_criteria_and_projects_and_audited() {
    let w = world().await;
    let developer = person("amina@example.org", "CO-KEN", &[Role::ProjectDeveloper]);
    let project = w
        .store
        .create_project(
            &w.org,
            &developer,
            &ProjectInput {
                title: "Safe migration information".into(),
                summary: String::new(),
                thematic_area: "migrant_protection".into(),
                unit: "CO-KEN".into(),
                primary_country: "KEN".into(),
                countries: vec![],
                admin_areas: vec![],
                start_date: "2024-01-01".into(),
                end_date: "2025-12-31".into(),
                currency: "USD".into(),
                budget_lines: vec![],
                donors: vec![],
                partners: vec![],
                restricted: false,
            },
        )
        .await
        .unwrap();
    let mut input = completed("Final evaluation, safe migration", "CO-KEN", "2026-01-20");
    input.projects = vec![project.code.clone()];
    input.criteria.push("relevance".into());
    let ev = w
        .store
        .create_evaluation(&w.org, &w.regional_me, &input)
        .await
        .unwrap();
    assert_eq!(ev.code, "EV-CO-KEN-2025-001");
    assert_eq!(ev.status, EvaluationStatus::Completed);
    assert_eq!(ev.budget, Some(Decimal::from(60_000)));
    assert_eq!(ev.budget_usd, Some(Decimal::from(66_000)));
    assert_eq!(ev.currency.as_deref(), Some("EUR"));
    assert_eq!(
        serde_json::to_value(&ev.criteria).unwrap(),
        serde_json::json!(["relevance", "effectiveness", "sustainability"])
    );
    assert_eq!(ev.projects.len(), 1);
    assert_eq!(ev.projects[0].code, project.code);
    // Due four weeks after completion.
    assert_eq!(ev.response_due.as_deref(), Some("2026-02-17"));
    assert_eq!(ev.version, 1);

    // The second of the office and year gets the next number.
    let second = w
        .store
        .create_evaluation(
            &w.org,
            &w.hq_me,
            &completed("Second", "CO-KEN", "2026-01-20"),
        )
        .await
        .unwrap();
    assert_eq!(second.code, "EV-CO-KEN-2025-002");

    let events = w
        .store
        .audit_events(&meridian_store::audit::AuditQuery {
            entity: Some("evaluation".into()),
            entity_id: Some(ev.id.clone()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "evaluation.create");
    assert_eq!(events[0].actor, "ines@example.org");
    assert_eq!(events[0].unit.as_deref(), Some("CO-KEN"));
    assert_eq!(events[0].after.as_ref().unwrap()["budget_usd"], "66000");

    // Listed by project, by year and by words of the title.
    for q in [
        EvaluationQuery {
            project: Some(project.code.clone()),
            ..Default::default()
        },
        EvaluationQuery {
            year: Some("2026".into()),
            q: Some("SAFE migration".into()),
            ..Default::default()
        },
    ] {
        let page = w.store.evaluations(&w.org, &w.hq_me, &q).await.unwrap();
        assert_eq!(page.total, 1, "{q:?}");
        assert_eq!(page.rows[0].code, ev.code);
    }
}

/// A change that spoils an input.
type Change = Box<dyn Fn(&mut EvaluationInput)>;

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let w = world().await;
    let cases: Vec<(&str, Change)> = vec![
        ("title", Box::new(|i| i.title = "  ".into())),
        ("eval_type", Box::new(|i| i.eval_type = "audit".into())),
        ("unit", Box::new(|i| i.unit = "CO-XXX".into())),
        (
            "planned_start",
            Box::new(|i| i.planned_start = "31/12/2025".into()),
        ),
        ("actual_end", Box::new(|i| i.actual_end = None)),
        (
            "actual_end",
            Box::new(|i| i.actual_end = Some("2099-01-01".into())),
        ),
        ("criteria", Box::new(|i| i.criteria = vec!["beauty".into()])),
        ("independence", Box::new(|i| i.independence = "".into())),
        ("status", Box::new(|i| i.status = "done".into())),
        (
            "quality_rating",
            Box::new(|i| i.quality_rating = Some("excellent".into())),
        ),
        ("currency", Box::new(|i| i.currency = None)),
        ("currency", Box::new(|i| i.currency = Some("XYZ".into()))),
        ("budget", Box::new(|i| i.budget = Some("1.234.00".into()))),
        (
            "projects",
            Box::new(|i| i.projects = vec!["CO-KEN-1999-0001".into()]),
        ),
    ];
    for (field, change) in cases {
        let mut input = completed("Evaluation", "CO-KEN", "2026-01-20");
        change(&mut input);
        let e = w
            .store
            .create_evaluation(&w.org, &w.regional_me, &input)
            .await
            .unwrap_err();
        assert_eq!(field_of(&e), field, "{e}");
    }
    // A rate missing for the currency is named too.
    let mut input = completed("Evaluation", "CO-KEN", "2026-01-20");
    input.currency = Some("KES".into());
    let e = w
        .store
        .create_evaluation(&w.org, &w.regional_me, &input)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "currency: no exchange rate for KES on or before {}".replace("{}", &days_ago(0))
    );
    assert_eq!(
        count(&w.store, "SELECT COUNT(*) AS n FROM evaluations").await,
        0
    );
    assert_eq!(
        count(
            &w.store,
            "SELECT COUNT(*) AS n FROM audit_events WHERE entity LIKE 'evaluation%'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn the_registry_is_kept_by_m_and_e_officers_at_headquarters_and_regional_offices() {
    let w = world().await;
    let input = completed("Evaluation", "CO-KEN", "2026-01-20");
    let country_me = person("mary@example.org", "CO-KEN", &[Role::MeOfficer]);
    let e = w
        .store
        .create_evaluation(&w.org, &country_me, &input)
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        StoreError::Denied(Denied::RegionalOrHeadquartersOnly { .. })
    ));
    let other_region = person("somchai@example.org", "RO-BKK", &[Role::MeOfficer]);
    let e = w
        .store
        .create_evaluation(&w.org, &other_region, &input)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Denied(Denied::Scope { .. })), "{e}");
    let e = w
        .store
        .create_evaluation(&w.org, &w.kenya_head, &input)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Denied(Denied::Role { .. })), "{e}");
    assert!(
        w.store
            .create_evaluation(&w.org, &w.hq_me, &input)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn recommendations_responses_and_key_actions_follow_the_rules() {
    let w = world().await;
    let ev = w
        .store
        .create_evaluation(
            &w.org,
            &w.regional_me,
            &completed("Regional evaluation", "RO-NBO", "2026-01-10"),
        )
        .await
        .unwrap();
    let rec = |text: &str, addressee: &str, priority: &str| EvaluationRecommendationInput {
        text: text.into(),
        addressee: addressee.into(),
        priority: priority.into(),
    };
    let kenya = w
        .store
        .add_recommendation(
            &w.org,
            &w.regional_me,
            &ev.id,
            &rec("Strengthen referral pathways", "CO-KEN", "high"),
        )
        .await
        .unwrap();
    let uganda = w
        .store
        .add_recommendation(
            &w.org,
            &w.regional_me,
            &ev.code,
            &rec("Train border officials", "CO-UGA", "medium"),
        )
        .await
        .unwrap();
    assert_eq!((kenya.number, uganda.number), (1, 2));
    assert!(kenya.response.is_none());
    // Completed on 10 January: the response was due on 7 February and is missing since.
    assert_eq!(kenya.response_due.as_deref(), Some("2026-02-07"));
    assert!(kenya.response_late);
    let e = w
        .store
        .add_recommendation(&w.org, &w.regional_me, &ev.id, &rec("x", "CO-NOPE", "high"))
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "addressee");
    let e = w
        .store
        .add_recommendation(&w.org, &w.kenya_head, &ev.id, &rec("x", "CO-KEN", "high"))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Denied(_)));

    // Key actions wait for the response.
    let action = |description: &str, due: &str, status: &str| KeyActionInput {
        description: description.into(),
        owner: "CO-KEN".into(),
        person: "Protection officer".into(),
        due_date: due.into(),
        status: status.into(),
        comments: String::new(),
    };
    let e = w
        .store
        .add_key_action(
            &w.org,
            &w.kenya_head,
            &kenya.id,
            &action("Map services", "2026-03-31", ""),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");

    // The head of the Kenya office answers for Kenya, not for Uganda.
    let answer = ManagementResponseInput {
        response: "partially_agree".into(),
        text: "Referral pathways will be mapped; a new hotline is out of budget.".into(),
    };
    let e = w
        .store
        .respond_to_recommendation(&w.org, &w.kenya_head, &uganda.id, &answer, uganda.version)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Denied(Denied::Scope { .. })), "{e}");
    let e = w
        .store
        .respond_to_recommendation(
            &w.org,
            &w.kenya_head,
            &kenya.id,
            &ManagementResponseInput {
                response: "maybe".into(),
                text: "x".into(),
            },
            kenya.version,
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "response");
    let responded = w
        .store
        .respond_to_recommendation(&w.org, &w.kenya_head, &kenya.id, &answer, kenya.version)
        .await
        .unwrap();
    let response = responded.response.as_ref().unwrap();
    assert_eq!(response.response, ResponseKind::PartiallyAgree);
    assert_eq!(response.responded_by, "wanjiru@example.org");
    // Given after the due day: late, and it stays late.
    assert!(responded.response_late);
    assert_eq!(responded.version, kenya.version + 1);

    // A second response from an old read is refused, saying who changed what.
    let e = w
        .store
        .respond_to_recommendation(&w.org, &w.regional_me, &kenya.id, &answer, kenya.version)
        .await
        .unwrap_err();
    let StoreError::Conflict(message) = e else {
        panic!("expected a conflict, got {e:?}")
    };
    assert!(
        message.contains("recommendation 1 of EV-RO-NBO-2025-001"),
        "{message}"
    );
    assert!(message.contains("by wanjiru@example.org"), "{message}");
    assert!(
        message.contains("changed: response, response_text"),
        "{message}"
    );

    // Key actions: one overdue, one completed past its date (not overdue), one ahead.
    let overdue = w
        .store
        .add_key_action(
            &w.org,
            &w.kenya_head,
            &kenya.id,
            &action("Map services", &days_ago(10), "initiated"),
        )
        .await
        .unwrap();
    assert!(overdue.overdue);
    let done = w
        .store
        .add_key_action(
            &w.org,
            &w.kenya_head,
            &kenya.id,
            &action("Brief partners", &days_ago(30), "completed"),
        )
        .await
        .unwrap();
    assert!(!done.overdue);
    let ahead = w
        .store
        .add_key_action(
            &w.org,
            &w.kenya_head,
            &kenya.id,
            &action("Publish directory", "2099-12-31", ""),
        )
        .await
        .unwrap();
    assert_eq!(ahead.status, ActionStatus::NotStarted);
    assert!(!ahead.overdue);
    let e = w
        .store
        .add_key_action(&w.org, &w.kenya_head, &kenya.id, &action("x", "soon", ""))
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "due_date");

    // Progress: completing the overdue action clears "overdue"; an old version is refused.
    let patch = KeyActionPatch {
        status: Some("completed".into()),
        comments: Some("Directory of 40 services shared with partners.".into()),
        ..Default::default()
    };
    let updated = w
        .store
        .update_key_action(&w.org, &w.kenya_head, &overdue.id, &patch, overdue.version)
        .await
        .unwrap();
    assert_eq!(updated.status, ActionStatus::Completed);
    assert!(!updated.overdue);
    assert_eq!(updated.person, "Protection officer");
    let e = w
        .store
        .update_key_action(&w.org, &w.kenya_head, &overdue.id, &patch, overdue.version)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("changed: comments, status"), "{e}");
    // The Uganda office owns none of it.
    let e = w
        .store
        .update_key_action(&w.org, &w.uganda_head, &ahead.id, &patch, ahead.version)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Denied(_)));

    // Disagreeing is refused while actions are open, and then no action may be added.
    let disagree = ManagementResponseInput {
        response: "disagree".into(),
        text: "Out of our mandate.".into(),
    };
    let e = w
        .store
        .respond_to_recommendation(
            &w.org,
            &w.kenya_head,
            &kenya.id,
            &disagree,
            responded.version,
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "response");
    assert!(e.to_string().contains("Publish directory"), "{e}");
    let uganda_answer = w
        .store
        .respond_to_recommendation(
            &w.org,
            &w.uganda_head,
            &uganda.id,
            &disagree,
            uganda.version,
        )
        .await
        .unwrap();
    let e = w
        .store
        .add_key_action(
            &w.org,
            &w.uganda_head,
            &uganda_answer.id,
            &action("x", "2026-12-31", ""),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("disagreed"), "{e}");

    // Every change is in the trail.
    let trail = count(
        &w.store,
        "SELECT COUNT(*) AS n FROM audit_events WHERE entity LIKE 'evaluation%'",
    )
    .await;
    // create + 2 recommendations + 2 responses + 3 actions + 1 action update.
    assert_eq!(trail, 9);
}

#[tokio::test]
async fn responses_in_time_are_not_late_and_planned_evaluations_take_no_responses() {
    let w = world().await;
    let recent = w
        .store
        .create_evaluation(
            &w.org,
            &w.hq_me,
            &completed("Recent", "CO-KEN", &days_ago(3)),
        )
        .await
        .unwrap();
    let rec = w
        .store
        .add_recommendation(
            &w.org,
            &w.hq_me,
            &recent.id,
            &EvaluationRecommendationInput {
                text: "Do it".into(),
                addressee: "CO-KEN".into(),
                priority: "low".into(),
            },
        )
        .await
        .unwrap();
    assert!(!rec.response_late);
    let rec = w
        .store
        .respond_to_recommendation(
            &w.org,
            &w.kenya_head,
            &rec.id,
            &ManagementResponseInput {
                response: "agree".into(),
                text: "Will do.".into(),
            },
            rec.version,
        )
        .await
        .unwrap();
    assert!(!rec.response_late);

    let mut planned = completed("Planned", "CO-KEN", "");
    planned.status = "planned".into();
    planned.actual_start = None;
    planned.actual_end = Some("  ".into());
    planned.quality_rating = None;
    let planned = w
        .store
        .create_evaluation(&w.org, &w.hq_me, &planned)
        .await
        .unwrap();
    let e = w
        .store
        .add_recommendation(
            &w.org,
            &w.hq_me,
            &planned.id,
            &EvaluationRecommendationInput {
                text: "Do it".into(),
                addressee: "CO-KEN".into(),
                priority: "low".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");

    // A planned evaluation may start, not complete at once; editing needs the version read.
    let mut edit = completed("Planned", "CO-KEN", "2026-01-20");
    edit.status = "completed".into();
    let e = w
        .store
        .update_evaluation(&w.org, &w.hq_me, &planned.id, &edit, planned.version)
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "status");
    let mut edit = completed("Planned, now running", "CO-KEN", "");
    edit.status = "ongoing".into();
    edit.actual_end = None;
    edit.quality_rating = None;
    let started = w
        .store
        .update_evaluation(&w.org, &w.hq_me, &planned.id, &edit, planned.version)
        .await
        .unwrap();
    assert_eq!(started.status, EvaluationStatus::Ongoing);
    assert_eq!(started.version, 2);
    let e = w
        .store
        .update_evaluation(&w.org, &w.regional_me, &planned.id, &edit, planned.version)
        .await
        .unwrap_err();
    let message = e.to_string();
    assert!(
        message.contains("you have version 1, it is now at version 2")
            && message.contains("by paul@example.org")
            && message.contains("status")
            && message.contains("title"),
        "{message}"
    );
}

#[tokio::test]
async fn each_office_sees_its_evaluations_and_those_it_must_follow_up() {
    let w = world().await;
    let kenya = w
        .store
        .create_evaluation(
            &w.org,
            &w.hq_me,
            &completed("Kenya", "CO-KEN", "2026-01-20"),
        )
        .await
        .unwrap();
    let thailand = w
        .store
        .create_evaluation(
            &w.org,
            &w.hq_me,
            &completed("Thailand", "CO-THA", "2026-01-20"),
        )
        .await
        .unwrap();
    let global = w
        .store
        .create_evaluation(
            &w.org,
            &w.hq_me,
            &completed("Global", "DSPOP-ME", "2026-01-20"),
        )
        .await
        .unwrap();
    // The global evaluation asks something of Uganda.
    w.store
        .add_recommendation(
            &w.org,
            &w.hq_me,
            &global.id,
            &EvaluationRecommendationInput {
                text: "Pilot in Uganda".into(),
                addressee: "CO-UGA".into(),
                priority: "high".into(),
            },
        )
        .await
        .unwrap();
    let codes = |actor: Actor| {
        let store = w.store.clone();
        let org = w.org.clone();
        async move {
            let mut codes: Vec<String> = store
                .evaluations(&org, &actor, &EvaluationQuery::default())
                .await
                .unwrap()
                .rows
                .into_iter()
                .map(|r| r.title)
                .collect();
            codes.sort();
            codes
        }
    };
    assert_eq!(
        codes(person("k@example.org", "CO-KEN", &[])).await,
        ["Kenya"]
    );
    assert_eq!(
        codes(person("u@example.org", "CO-UGA", &[])).await,
        ["Global"]
    );
    assert_eq!(
        codes(person("n@example.org", "RO-NBO", &[Role::Viewer])).await,
        ["Global", "Kenya"]
    );
    assert_eq!(
        codes(person("h@example.org", "DER", &[Role::Viewer])).await,
        ["Global", "Kenya", "Thailand"]
    );
    let kenyan = person("k@example.org", "CO-KEN", &[]);
    assert!(
        w.store
            .evaluation(&w.org, &kenyan, &kenya.code)
            .await
            .is_ok()
    );
    assert!(matches!(
        w.store.evaluation(&w.org, &kenyan, &thailand.id).await,
        Err(StoreError::Denied(Denied::Scope { .. }))
    ));
    assert!(matches!(
        w.store.evaluation(&w.org, &kenyan, &global.id).await,
        Err(StoreError::Denied(_))
    ));
    let ugandan = person("u@example.org", "CO-UGA", &[]);
    assert!(
        w.store
            .evaluation(&w.org, &ugandan, &global.id)
            .await
            .is_ok()
    );
    // Filters are checked.
    let e = w
        .store
        .evaluations(
            &w.org,
            &w.hq_me,
            &EvaluationQuery {
                year: Some("26".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "year");
}

#[tokio::test]
async fn a_unit_tracks_its_follow_up_with_overdue_actions_first() {
    let w = world().await;
    let ev = w
        .store
        .create_evaluation(
            &w.org,
            &w.regional_me,
            &completed("Kenya", "CO-KEN", "2026-01-10"),
        )
        .await
        .unwrap();
    let mut recs = Vec::new();
    for (text, addressee) in [("One", "CO-KEN"), ("Two", "CO-KEN"), ("Three", "RO-NBO")] {
        recs.push(
            w.store
                .add_recommendation(
                    &w.org,
                    &w.regional_me,
                    &ev.id,
                    &EvaluationRecommendationInput {
                        text: text.into(),
                        addressee: addressee.into(),
                        priority: "high".into(),
                    },
                )
                .await
                .unwrap(),
        );
    }
    let rec = w
        .store
        .respond_to_recommendation(
            &w.org,
            &w.kenya_head,
            &recs[0].id,
            &ManagementResponseInput {
                response: "agree".into(),
                text: "Agreed.".into(),
            },
            recs[0].version,
        )
        .await
        .unwrap();
    for (description, due, status) in [
        ("Ahead", "2099-01-01", "not_started"),
        ("Late one", &days_ago(2) as &str, "not_started"),
        ("Done", &days_ago(40), "completed"),
        ("Late two", &days_ago(20), "initiated"),
    ] {
        w.store
            .add_key_action(
                &w.org,
                &w.kenya_head,
                &rec.id,
                &KeyActionInput {
                    description: description.into(),
                    owner: "CO-KEN".into(),
                    due_date: due.into(),
                    status: status.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    // An action Kenya owns under another office's evaluation is Kenya's to follow too.
    let other = w
        .store
        .create_evaluation(
            &w.org,
            &w.hq_me,
            &completed("Global", "DSPOP-ME", "2026-01-10"),
        )
        .await
        .unwrap();
    let global_rec = w
        .store
        .add_recommendation(
            &w.org,
            &w.hq_me,
            &other.id,
            &EvaluationRecommendationInput {
                text: "Global".into(),
                addressee: "DSPOP-ME".into(),
                priority: "low".into(),
            },
        )
        .await
        .unwrap();
    let global_rec = w
        .store
        .respond_to_recommendation(
            &w.org,
            &w.hq_me,
            &global_rec.id,
            &ManagementResponseInput {
                response: "agree".into(),
                text: "Yes.".into(),
            },
            global_rec.version,
        )
        .await
        .unwrap();
    w.store
        .add_key_action(
            &w.org,
            &w.hq_me,
            &global_rec.id,
            &KeyActionInput {
                description: "Kenyan pilot".into(),
                owner: "CO-KEN".into(),
                due_date: "2099-06-30".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let kenyan = person("k@example.org", "CO-KEN", &[Role::Viewer]);
    let t = w
        .store
        .evaluation_tracking(&w.org, &kenyan, "CO-KEN")
        .await
        .unwrap();
    assert_eq!(t.counts.evaluations, 1);
    assert_eq!(t.evaluations[0].code, ev.code);
    assert_eq!(t.evaluations[0].recommendations, 3);
    assert_eq!(t.evaluations[0].awaiting_response, 2);
    assert_eq!(t.evaluations[0].overdue_actions, 2);
    assert_eq!(t.evaluations[0].open_actions, 3);
    // Kenya's evaluation has three recommendations, one answered late, two missing past due.
    assert_eq!(t.counts.recommendations, 3);
    assert_eq!(t.counts.responded, 1);
    assert_eq!(t.counts.awaiting_response, 2);
    assert_eq!(t.counts.late_responses, 3);
    assert!(t.awaiting_response.iter().all(|r| r.late));
    let order: Vec<&str> = t.actions.iter().map(|a| a.description.as_str()).collect();
    assert_eq!(
        order,
        ["Late two", "Late one", "Ahead", "Kenyan pilot", "Done"]
    );
    assert_eq!(t.counts.overdue_actions, 2);
    let by_status: Vec<(String, i64)> = t
        .counts
        .actions_by_status
        .iter()
        .map(|c| (c.key.clone(), c.count))
        .collect();
    assert_eq!(
        by_status,
        [
            ("not_started".to_owned(), 3),
            ("initiated".to_owned(), 1),
            ("completed".to_owned(), 1),
            ("no_longer_applicable".to_owned(), 0)
        ]
    );

    // The region sees the same and more (its own recommendation); Uganda may not look.
    let regional = w
        .store
        .evaluation_tracking(&w.org, &w.regional_me, "RO-NBO")
        .await
        .unwrap();
    assert_eq!(regional.counts.recommendations, 3);
    assert_eq!(regional.counts.evaluations, 1);
    let ugandan = person("u@example.org", "CO-UGA", &[Role::Viewer]);
    assert!(matches!(
        w.store
            .evaluation_tracking(&w.org, &ugandan, "CO-KEN")
            .await,
        Err(StoreError::Denied(Denied::Scope { .. }))
    ));
}

#[tokio::test]
async fn the_report_is_stored_by_content_and_read_back() {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let storage = DocumentStorage::new(dir.path());
    let ev = w
        .store
        .create_evaluation(
            &w.org,
            &w.hq_me,
            &completed("Kenya", "CO-KEN", "2026-01-20"),
        )
        .await
        .unwrap();
    let e = w
        .store
        .attach_evaluation_report(
            &w.org,
            &w.hq_me,
            &storage,
            &ev.id,
            "report.pdf",
            b"<html>".to_vec(),
        )
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), "file");
    let with_report = w
        .store
        .attach_evaluation_report(
            &w.org,
            &w.hq_me,
            &storage,
            &ev.id,
            "Final report.pdf",
            b"%PDF-1.7 final".to_vec(),
        )
        .await
        .unwrap();
    let report = with_report.report.unwrap();
    assert_eq!(report.content_type, "application/pdf");
    assert_eq!(with_report.version, 2);
    let kenyan = person("k@example.org", "CO-KEN", &[]);
    let (read, bytes) = w
        .store
        .evaluation_report(&w.org, &kenyan, &storage, &ev.code)
        .await
        .unwrap();
    assert_eq!(read.name, "Final report.pdf");
    assert_eq!(bytes, b"%PDF-1.7 final");
    let thai = person("t@example.org", "CO-THA", &[]);
    assert!(
        w.store
            .evaluation_report(&w.org, &thai, &storage, &ev.code)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_demo_evaluations_show_overdue_actions_and_late_responses() {
    let w = world().await;
    let written = w
        .store
        .demo_evaluations(&w.org, &operator(), &[])
        .await
        .unwrap();
    assert_eq!(written, 5);
    let page = w
        .store
        .evaluations(&w.org, &operator(), &EvaluationQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    let statuses: std::collections::BTreeSet<String> =
        page.rows.iter().map(|r| r.status.to_string()).collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        ["cancelled", "completed", "ongoing", "planned"]
    );
    let root = w.org.root().code.to_string();
    let t = w
        .store
        .evaluation_tracking(&w.org, &operator(), &root)
        .await
        .unwrap();
    assert_eq!(t.counts.overdue_actions, 1);
    assert!(t.actions[0].overdue);
    // Two responses given late, one missing past due; the recent evaluation's are not due.
    assert_eq!(t.counts.late_responses, 3);
    assert_eq!(t.counts.awaiting_response, 3);
    assert_eq!(t.awaiting_response.iter().filter(|r| r.late).count(), 1);
}
