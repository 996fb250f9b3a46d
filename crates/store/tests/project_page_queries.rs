//! The project page runs a fixed number of queries (at most 10) however long its history: the
//! project, its history and its transactions, counted through sqlx's statement events.
//!
//! This file holds one test, so that nothing else runs statements while it counts.

use meridian_domain::authz::{Actor, Role};
use meridian_domain::org::{Countries, UnitCode};
use meridian_domain::projects::lifecycle::Transition;
use meridian_store::Store;
use meridian_store::projects::{BudgetLineInput, DelegationInput, ProjectInput, TransactionInput};
use meridian_store::testing::{TestDb, operator, statements};
use meridian_store::users::NewUser;

async fn person(store: &Store, email: &str, unit: &str, role: Role) -> Actor {
    let org = meridian_domain::builtin::organization();
    store
        .create_user(
            &org,
            &operator(),
            NewUser {
                email: email.into(),
                name: String::new(),
                unit: UnitCode::parse(unit).unwrap(),
                roles: vec![role],
                password: Some("correct horse battery staple".into()),
            },
        )
        .await
        .unwrap()
        .user
        .actor()
}

fn input() -> ProjectInput {
    ProjectInput {
        title: "Safe migration information for young people in Kenya".into(),
        summary: String::new(),
        thematic_area: "migrant_protection".into(),
        unit: "CO-KEN".into(),
        primary_country: "KEN".into(),
        countries: vec![],
        admin_areas: vec![],
        start_date: "2026-01-01".into(),
        end_date: "2027-12-31".into(),
        currency: "USD".into(),
        budget_lines: vec![BudgetLineInput {
            category: "staff".into(),
            description: String::new(),
            currency: "USD".into(),
            amount: "250000".into(),
        }],
        donors: vec!["European Union (DG ECHO)".into()],
        partners: vec![],
        restricted: false,
    }
}

#[tokio::test]
async fn the_project_page_runs_the_same_few_queries_for_a_short_and_a_long_history() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let org = meridian_domain::builtin::organization();
    store
        .load_organization(&operator(), None, &org, &Countries::builtin())
        .await
        .unwrap();
    let drafter = person(&store, "dev@example.org", "CO-KEN", Role::ProjectDeveloper).await;
    let reviewer = person(&store, "rev@example.org", "RO-NBO", Role::RegionalReviewer).await;
    let approver = person(&store, "app@example.org", "DSPOP-PRIMA", Role::Approver).await;
    let admin = person(&store, "adm@example.org", "DG-EO", Role::Administrator).await;
    for (authority, role, unit) in [
        ("endorse_project", "regional_reviewer", "RO-NBO"),
        ("approve_project", "approver", "DSPOP-PRIMA"),
    ] {
        store
            .create_delegation(
                &org,
                &operator(),
                &DelegationInput {
                    authority: authority.into(),
                    role: Some(role.into()),
                    unit: Some(unit.into()),
                    person: None,
                    limit_amount: "5000000".into(),
                    limit_currency: "USD".into(),
                    valid_from: "2020-01-01".into(),
                    valid_to: None,
                    may_subdelegate: false,
                    parent: None,
                },
            )
            .await
            .unwrap();
    }

    // A short history: drafted and submitted (two entries in the status history and the
    // audit trail each).
    let short = store
        .create_project(&org, &drafter, &input())
        .await
        .unwrap();
    store
        .transition_project(&org, &drafter, &short.id, Transition::Submit, "")
        .await
        .unwrap();

    // A long one: 200 status changes, 40 comments, 40 transactions, and their audit events.
    let long = store
        .create_project(&org, &drafter, &input())
        .await
        .unwrap();
    let mut steps = vec![
        (Transition::Submit, &drafter),
        (Transition::StartReview, &reviewer),
        (Transition::Endorse, &reviewer),
        (Transition::SubmitToDonor, &drafter),
        (Transition::Approve, &approver),
        (Transition::Activate, &drafter),
    ];
    for _ in 0..97 {
        steps.push((Transition::Suspend, &drafter));
        steps.push((Transition::Resume, &drafter));
    }
    for (t, actor) in &steps {
        store
            .transition_project(&org, actor, &long.id, *t, "")
            .await
            .unwrap();
    }
    for i in 0..40 {
        store
            .comment_on_project(
                &org,
                &reviewer,
                &long.id,
                "budget",
                &format!("Point {i}."),
                None,
            )
            .await
            .unwrap();
        store
            .add_transaction(
                &org,
                &drafter,
                &long.id,
                &TransactionInput {
                    kind: "expenditure".into(),
                    date: "2026-03-01".into(),
                    currency: "USD".into(),
                    amount: "100".into(),
                    provider: String::new(),
                    receiver: String::new(),
                    description: String::new(),
                },
            )
            .await
            .unwrap();
    }

    statements::install();
    let page = async |id: &str| {
        // Warm the pool first, so that opening a connection is not counted.
        store.project(&org, &admin, id).await.unwrap();
        statements::reset();
        store.project(&org, &admin, id).await.unwrap();
        let history = store.project_history(&org, &admin, id).await.unwrap();
        let transactions = store.transactions(&org, &admin, id).await.unwrap();
        let n = statements::count();
        (n, history, transactions.len())
    };
    let (few, short_history, _) = page(&short.id).await;
    let (many, long_history, long_transactions) = page(&long.id).await;
    assert_eq!(short_history.status_changes.len(), 1);
    assert_eq!(long_history.status_changes.len(), 200);
    assert_eq!(long_history.comments.len(), 40);
    assert!(
        long_history.changes.len() > 200,
        "{}",
        long_history.changes.len()
    );
    assert_eq!(long_transactions, 40);
    eprintln!("the project page: {few} statements (2 history entries), {many} (200 entries)");
    assert!(few > 0, "the statements are counted");
    assert_eq!(
        few, many,
        "the project page runs as many queries for 2 history entries as for 200"
    );
    assert!(few <= 10, "the project page runs {few} queries");
}
