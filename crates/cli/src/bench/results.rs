//! `meridian bench results`: the results-framework read of a programme (500 projects × 20
//! indicators × 12 months × 3 disaggregation categories by default, generated on first run),
//! through the store and through the HTTP endpoint and page, with the statements each runs;
//! adding one project to that programme; returning and approving again one report of a member
//! project (which moves the programme's and the unit's cells); and the global SRF roll-up over
//! the whole portfolio.

use super::{Timings, counted, user};
use crate::connect;
use anyhow::{Context, anyhow};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use meridian_domain::authz::{Actor, Role};
use meridian_domain::org::Countries;
use meridian_domain::results::model::ValueStatus;
use meridian_store::results::{
    DemoProgrammeShape, ProgrammeInput, ReportInput, ReportTransitionInput, RollupQuery,
    RollupScope, ValueInput,
};
use meridian_store::users::NewUser;
use std::time::Instant;
use tower::ServiceExt;

#[derive(clap::Args)]
pub struct ResultsArgs {
    /// Timed runs of each read (after one warm-up run).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub iterations: u32,
    /// Projects of the generated programme.
    #[arg(long, default_value_t = 500)]
    pub projects: usize,
    /// Indicators per project.
    #[arg(long, default_value_t = 20)]
    pub indicators: usize,
    /// Monthly periods.
    #[arg(long, default_value_t = 12)]
    pub months: usize,
    /// The region of the regional roll-up.
    #[arg(long, default_value = "RO-NBO")]
    pub region: String,
}

const PROGRAMME: &str = "BENCH-PRG";

pub async fn run(database: &str, args: ResultsArgs) -> anyhow::Result<()> {
    let store = connect(database).await?;
    let org = store
        .organization()
        .await
        .map_err(|_| anyhow!("no organization is loaded: run `meridian demo` first"))?;
    let operator = Actor::Operator {
        label: "bench".into(),
    };
    store
        .load_srf_if_empty(&meridian_domain::builtin::srf())
        .await?;
    let hq = user("hq-rbm", &org.root().code, Role::RbmOfficer);
    if store.project_count().await? > 0 {
        eprintln!("Writing demo results for the projects in implementation that have none…");
        let started = Instant::now();
        let s = store
            .demo_results(
                &org,
                &operator,
                time::OffsetDateTime::now_utc().date(),
                |s| {
                    if s.frameworks % 20_000 < 2_000 {
                        eprintln!("  {} matrices, {} reports", s.frameworks, s.reports);
                    }
                },
            )
            .await?;
        eprintln!(
            "  {} matrices, {} indicators, {} reports, {} figures, {} cells in {:.1} s",
            s.frameworks,
            s.indicators,
            s.reports,
            s.values,
            s.cells,
            started.elapsed().as_secs_f64()
        );
    }
    let backend = match store.backend() {
        meridian_store::Backend::Sqlite => "SQLite",
        meridian_store::Backend::Postgres => "PostgreSQL",
    };
    // The cells are rebuilt from the approved values, as after a bulk load: timed.
    let started = Instant::now();
    let cells = store.rebuild_all_cells().await?;
    let rebuild_seconds = started.elapsed().as_secs_f64();
    let exists = store.programme(&org, &hq, PROGRAMME).await.is_ok();
    if !exists {
        eprintln!(
            "Generating the benchmark programme: {} projects × {} indicators × {} months × 3 categories…",
            args.projects, args.indicators, args.months
        );
        let started = Instant::now();
        store
            .demo_programme(
                &org,
                &operator,
                &DemoProgrammeShape {
                    code: PROGRAMME.into(),
                    unit: "CO-KEN".into(),
                    country: "KEN".into(),
                    projects: args.projects,
                    indicators_per_project: args.indicators,
                    months: args.months,
                },
            )
            .await
            .context("generating the programme")?;
        eprintln!("  done in {:.1} s", started.elapsed().as_secs_f64());
    }
    let programme = store.programme(&org, &hq, PROGRAMME).await?;
    let figures = store.programme_figure_count(&programme.id).await?;
    let projects = store.project_count().await?;
    println!(
        "## Results benchmark: {backend}, {projects} projects in the database; programme {PROGRAMME} of {} projects, {figures} approved figures; {} iterations\n",
        programme.member_count, args.iterations
    );
    println!(
        "Rebuilding every roll-up cell from the approved values (as after a bulk load): {cells} cells in {rebuild_seconds:.1} s.\n"
    );
    println!("| read | p50 ms | p95 ms | max ms | statements |\n|---|---:|---:|---:|---:|");

    let scopes = [
        (
            "programme roll-up (store)",
            RollupScope::Programme(programme.id.clone()),
        ),
        ("global SRF roll-up, all time (store)", RollupScope::Global),
        (
            "regional SRF roll-up (store)",
            RollupScope::Region(args.region.clone()),
        ),
        (
            "country office SRF roll-up (store)",
            RollupScope::Unit("CO-KEN".into()),
        ),
    ];
    for (name, scope) in &scopes {
        for window in ["all", "2026"] {
            let q = RollupQuery {
                window: window.into(),
                disaggregation: String::new(),
            };
            store.results_rollup(&org, &hq, scope, &q).await?;
            let mut t = Timings(Vec::new());
            let mut statements = 0;
            for _ in 0..args.iterations {
                let started = Instant::now();
                let (n, r) = counted(store.results_rollup(&org, &hq, scope, &q)).await;
                t.0.push(started.elapsed());
                r?;
                statements = n;
            }
            println!("| {name}, window {window} | {} | {statements} |", t.row());
        }
    }

    // One project's matrix, with every report.
    let one = &programme.projects[0].id;
    let mut t = Timings(Vec::new());
    let mut statements = 0;
    for _ in 0..args.iterations {
        let started = Instant::now();
        let (n, r) = counted(store.results_framework(&org, &hq, one)).await;
        t.0.push(started.elapsed());
        r?;
        statements = n;
    }
    println!(
        "| one project's results matrix ({} indicators × {} periods, store) | {} | {statements} |",
        args.indicators,
        args.months,
        t.row()
    );

    // Through HTTP, in process: the JSON endpoint and the programme page.
    let email = "bench-rbm@meridian.local";
    let account = match store.find_user_by_email(email).await? {
        Some(u) => u,
        None => {
            store
                .create_user(
                    &org,
                    &operator,
                    NewUser {
                        email: email.into(),
                        name: "Benchmark".into(),
                        unit: org.root().code.clone(),
                        roles: vec![Role::RbmOfficer],
                        password: Some("benchmark account, not for people".into()),
                    },
                )
                .await?
                .user
        }
    };
    let token = store
        .issue_token(&org, &operator, &account.id, "bench")
        .await?;
    let state = meridian_web::state::AppState::new(
        store.clone(),
        meridian_web::state::OrgSnapshot::new(org.clone(), Countries::builtin()),
        meridian_web::state::Config::default(),
    );
    let app = meridian_web::app(state);
    for (name, path) in [
        (
            "programme roll-up, JSON endpoint",
            format!("/api/v1/srf/rollup?scope=programme&code={PROGRAMME}"),
        ),
        (
            "programme page (HTML)",
            format!("/results/programmes/{PROGRAMME}"),
        ),
        ("global SRF page (HTML)", "/results".to_owned()),
    ] {
        let mut t = Timings(Vec::new());
        let mut statements = 0;
        let mut bytes = 0;
        for i in 0..=args.iterations {
            let request = Request::get(&path)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())?;
            let started = Instant::now();
            let (n, response) = counted(app.clone().oneshot(request)).await;
            let response = response?;
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
            let elapsed = started.elapsed();
            if status != StatusCode::OK {
                return Err(anyhow!(
                    "{path}: {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            if i > 0 {
                t.0.push(elapsed);
                statements = n;
                bytes = body.len();
            }
        }
        println!(
            "| {name} ({} KB, uncompressed) | {} | {statements} |",
            bytes / 1024,
            t.row()
        );
    }

    // A review in a member project: an approved report is returned (a review: its figures
    // leave the cells), edited back to the same figures, submitted by a reporter and approved
    // by another person (segregation of duties). Returning and approving are timed; the
    // programme ends as it was. A different member, indicator and period each iteration.
    let reporter = user("bench-reporter", &org.root().code, Role::MeOfficer);
    let mut returning = Timings(Vec::new());
    let mut approving = Timings(Vec::new());
    // Statements of each timed run: more when a cell's extreme had to be rebuilt.
    let (mut return_statements, mut approve_statements) = (Vec::new(), Vec::new());
    for i in 0..=args.iterations as usize {
        let member = &programme.projects[(i * 37) % programme.projects.len()];
        let framework = store.results_framework(&org, &hq, &member.id).await?;
        let linked: Vec<_> = framework
            .indicators()
            .filter(|ind| ind.srf_indicator.is_some())
            .collect();
        let Some(indicator) = linked.get(i % linked.len().max(1)) else {
            return Err(anyhow!("{}: no indicator linked to the SRF", member.code));
        };
        let approved: Vec<_> = indicator
            .reports
            .iter()
            .filter(|r| r.status == ValueStatus::Approved)
            .collect();
        let Some(report) = approved.get(i % approved.len().max(1)) else {
            return Err(anyhow!("{}: no approved report", indicator.id));
        };
        let period = report.period_start.clone();
        let started = Instant::now();
        let (n, returned) = counted(store.transition_report(
            &org,
            &hq,
            &indicator.id,
            &period,
            &ReportTransitionInput {
                action: "return".into(),
                note: "benchmark: please check".into(),
                version: Some(report.version),
            },
        ))
        .await;
        let elapsed = started.elapsed();
        let returned = returned?;
        let saved = store
            .save_report(
                &org,
                &reporter,
                &indicator.id,
                &period,
                &ReportInput {
                    values: report
                        .values
                        .iter()
                        .map(|v| ValueInput {
                            disaggregation: v.disaggregation.clone(),
                            value: v.figure.to_input(),
                        })
                        .collect(),
                    narrative: report.narrative.clone(),
                    version: Some(returned.version),
                },
            )
            .await?;
        let submitted = store
            .transition_report(
                &org,
                &reporter,
                &indicator.id,
                &period,
                &ReportTransitionInput {
                    action: "submit".into(),
                    note: String::new(),
                    version: Some(saved.version),
                },
            )
            .await?;
        let started_approval = Instant::now();
        let (m, approved) = counted(store.transition_report(
            &org,
            &hq,
            &indicator.id,
            &period,
            &ReportTransitionInput {
                action: "approve".into(),
                note: String::new(),
                version: Some(submitted.version),
            },
        ))
        .await;
        let approval_elapsed = started_approval.elapsed();
        approved?;
        if i > 0 {
            returning.0.push(elapsed);
            approving.0.push(approval_elapsed);
            return_statements.push(n);
            approve_statements.push(m);
        }
    }
    let span = |v: &[u64]| {
        let (lo, hi) = (v.iter().min(), v.iter().max());
        match (lo, hi) {
            (Some(lo), Some(hi)) if lo != hi => format!("{lo}–{hi}"),
            (Some(lo), _) => lo.to_string(),
            _ => "—".into(),
        }
    };
    println!(
        "| returning an approved report in a member project (programme of {}) | {} | {} |",
        programme.member_count,
        returning.row(),
        span(&return_statements)
    );
    println!(
        "| approving one report in a member project (programme of {}) | {} | {} |",
        programme.member_count,
        approving.row(),
        span(&approve_statements)
    );

    // Adding one project shaped like the members (its matrix and approved figures) to the
    // programme: its partials are merged into the programme's cells. Then taking it out again
    // (which puts the programme back as it was, so that runs compare).
    let shape = DemoProgrammeShape {
        code: PROGRAMME.into(),
        unit: "CO-KEN".into(),
        country: "KEN".into(),
        projects: 1,
        indicators_per_project: args.indicators,
        months: args.months,
    };
    let extra = store
        .demo_programme_project(&org, &operator, &shape, "bench-extra")
        .await?;
    let mut members: Vec<String> = programme.projects.iter().map(|p| p.id.clone()).collect();
    members.push(extra.clone());
    let started = Instant::now();
    let (n, saved) = counted(store.save_programme(
        &org,
        &operator,
        Some(&programme.id),
        &ProgrammeInput {
            code: programme.code.clone(),
            title: programme.title.clone(),
            unit: programme.unit.clone(),
            projects: members,
            version: Some(programme.version),
        },
    ))
    .await;
    let elapsed = started.elapsed();
    let saved = saved?;
    println!(
        "| adding one project ({} indicators × {} months) to the programme (merges its partials) | {:.1} | — | — | {n} |",
        args.indicators,
        args.months,
        elapsed.as_secs_f64() * 1000.0
    );
    let members: Vec<String> = programme.projects.iter().map(|p| p.id.clone()).collect();
    let started = Instant::now();
    let (n, back) = counted(store.save_programme(
        &org,
        &operator,
        Some(&saved.id),
        &ProgrammeInput {
            code: saved.code.clone(),
            title: saved.title.clone(),
            unit: saved.unit.clone(),
            projects: members,
            version: Some(saved.version),
        },
    ))
    .await;
    let elapsed = started.elapsed();
    back?;
    println!(
        "| taking that project out again (subtracts; rebuilds the SRF indicators where it held a lowest or highest figure) | {:.1} | — | — | {n} |",
        elapsed.as_secs_f64() * 1000.0
    );
    Ok(())
}
