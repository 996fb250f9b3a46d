//! `meridian bench portfolio [--iterations N]`: measures, in process and through the same
//! store functions as the API, the portfolio list with its totals for a mix of realistic
//! queries, the portfolio analytics, and the project page (its timings and how many queries it
//! runs). Prints Markdown tables. Load a portfolio first (`meridian demo --scale 1000`).

use crate::connect;
use anyhow::{Context, anyhow};
use clap::Subcommand;
use meridian_domain::authz::{Actor, Role, UserActor};
use meridian_domain::org::{Organization, UnitCode};
use meridian_store::Store;
use meridian_store::projects::PortfolioQuery;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

mod results;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// The portfolio list with its totals, its analytics and the project page.
    Portfolio(PortfolioArgs),
    /// Results: a programme's roll-up (generated on first run), the SRF roll-ups, one
    /// project's matrix, through the store and through HTTP.
    Results(results::ResultsArgs),
}

#[derive(clap::Args)]
pub struct PortfolioArgs {
    /// Timed runs of each query (after one warm-up run).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub iterations: u32,
    /// The regional office of the regional user, and of the region filter.
    #[arg(long, default_value = "RO-NBO")]
    pub region: String,
    /// The country office of the office filter.
    #[arg(long, default_value = "CO-KEN")]
    pub office: String,
    /// The regional user's role.
    #[arg(long, default_value = "regional_reviewer")]
    pub regional_role: String,
}

/// Whether statements are being counted, and how many were.
static COUNTING: AtomicBool = AtomicBool::new(false);
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// Counts sqlx's statement events (target `sqlx::query`) while [`COUNTING`] is on. When it is
/// off the filter says so, and sqlx does not even format the event.
struct StatementCounter;

impl<S: tracing::Subscriber> Layer<S> for StatementCounter {
    fn on_event(
        &self,
        _event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        STATEMENTS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Runs the benchmark with its own logging set-up: the usual log lines, and the statement
/// counter.
pub async fn run(database: &str, cmd: BenchCommand) -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MERIDIAN_LOG")
        .unwrap_or_else(|_| "meridian=info,tower_http=warn".into());
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .with(
            // A dynamic filter: asked at every event, not once per call site.
            StatementCounter.with_filter(tracing_subscriber::filter::dynamic_filter_fn(|m, _| {
                COUNTING.load(Ordering::Relaxed) && m.target() == "sqlx::query"
            })),
        )
        .init();
    let result = match cmd {
        BenchCommand::Portfolio(args) => portfolio(database, args).await,
        BenchCommand::Results(args) => results::run(database, args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The statements `f` runs, and its result.
async fn counted<T>(f: impl std::future::Future<Output = T>) -> (u64, T) {
    STATEMENTS.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let out = f.await;
    COUNTING.store(false, Ordering::Relaxed);
    (STATEMENTS.load(Ordering::Relaxed), out)
}

fn query(v: serde_json::Value) -> PortfolioQuery {
    serde_json::from_value(v).expect("a valid portfolio query")
}

struct Timings(Vec<Duration>);

impl Timings {
    fn ms(&self, p: usize) -> f64 {
        let mut v = self.0.clone();
        v.sort();
        // Nearest rank.
        let rank = (p * v.len()).div_ceil(100).clamp(1, v.len());
        v[rank - 1].as_secs_f64() * 1000.0
    }

    fn row(&self) -> String {
        format!(
            "{:.1} | {:.1} | {:.1}",
            self.ms(50),
            self.ms(95),
            self.ms(100)
        )
    }
}

fn user(id: &str, unit: &UnitCode, role: Role) -> Actor {
    Actor::User(UserActor {
        id: id.into(),
        email: format!("{id}@bench.meridian.local"),
        unit: unit.clone(),
        roles: vec![role],
    })
}

async fn portfolio(database: &str, args: PortfolioArgs) -> anyhow::Result<()> {
    let store = connect(database).await?;
    let org = store
        .organization()
        .await
        .map_err(|_| anyhow!("no organization is loaded: run `meridian demo` first"))?;
    let region = UnitCode::parse(&args.region).map_err(|m| anyhow!("--region: {m}"))?;
    if org.unit(region.as_str()).is_none() {
        return Err(anyhow!("--region: no unit {region}"));
    }
    let role = Role::parse(&args.regional_role).map_err(|m| anyhow!("--regional-role: {m}"))?;
    let hq = user("hq-administrator", &org.root().code, Role::Administrator);
    let regional = user("regional-user", &region, role);
    let everything = store
        .portfolio(&org, &hq, &PortfolioQuery::default())
        .await?
        .totals;
    if everything.projects == 0 {
        return Err(anyhow!(
            "the database has no projects: load some with `meridian demo --scale N`"
        ));
    }
    let backend = match store.backend() {
        meridian_store::Backend::Sqlite => "SQLite",
        meridian_store::Backend::Postgres => "PostgreSQL",
    };
    println!(
        "## Portfolio benchmark: {backend}, {} projects, {} iterations\n",
        everything.projects, args.iterations
    );

    let recent = |extra: serde_json::Value| {
        let mut q = json!({"sort": "updated", "descending": true, "per_page": 50});
        for (k, v) in extra.as_object().expect("an object") {
            q[k] = v.clone();
        }
        query(q)
    };
    let kinds: Vec<(&str, PortfolioQuery)> = vec![
        (
            "all, by budget, page 1",
            query(json!({"sort": "budget", "descending": true, "per_page": 50, "page": 1})),
        ),
        (
            "all, by budget, page 500",
            query(json!({"sort": "budget", "descending": true, "per_page": 50, "page": 500})),
        ),
        ("region", recent(json!({"region": region.as_str()}))),
        ("country office", recent(json!({"unit": args.office}))),
        (
            "status + year",
            recent(json!({"status": "active", "year": 2025})),
        ),
        (
            "donor",
            recent(json!({"donor": "European Union (DG ECHO)"})),
        ),
        (
            "amount range",
            query(
                json!({"min_usd": "1000000", "max_usd": "2000000", "sort": "budget", "descending": true}),
            ),
        ),
        ("text search", recent(json!({"q": "health"}))),
    ];
    let users = [("HQ administrator", &hq), ("regional user", &regional)];

    // Warm-up, and the number of matches of each query.
    let mut matches = Vec::new();
    for (_, q) in &kinds {
        for (_, actor) in &users {
            let page = store.portfolio(&org, actor, q).await?;
            matches.push(page.totals.projects);
        }
    }
    let mut timings: Vec<Timings> = (0..kinds.len() * users.len())
        .map(|_| Timings(Vec::new()))
        .collect();
    let mut statements = vec![0u64; kinds.len() * users.len()];
    for i in 0..args.iterations {
        for (k, (_, q)) in kinds.iter().enumerate() {
            for (u, (_, actor)) in users.iter().enumerate() {
                let started = Instant::now();
                let (n, page) = if i == 0 {
                    counted(store.portfolio(&org, actor, q)).await
                } else {
                    (0, store.portfolio(&org, actor, q).await)
                };
                page?;
                timings[k * users.len() + u].0.push(started.elapsed());
                if i == 0 {
                    statements[k * users.len() + u] = n;
                }
            }
        }
    }
    println!(
        "### The portfolio list with its totals (`Store::portfolio`, 50 rows a page)\n\n\
         | query | as | matches | p50 ms | p95 ms | max ms | statements |\n|---|---|---:|---:|---:|---:|---:|"
    );
    for (k, (name, _)) in kinds.iter().enumerate() {
        for (u, (who, _)) in users.iter().enumerate() {
            let i = k * users.len() + u;
            println!(
                "| {name} | {who} | {} | {} | {} |",
                matches[i],
                timings[i].row(),
                statements[i]
            );
        }
    }

    // The analytics.
    let totals_kinds: Vec<(&str, PortfolioQuery)> = vec![
        ("all", PortfolioQuery::default()),
        ("region", query(json!({"region": region.as_str()}))),
        ("status", query(json!({"status": "active"}))),
        (
            "status + year",
            query(json!({"status": "active", "year": 2025})),
        ),
        ("donor", query(json!({"donor": "European Union (DG ECHO)"}))),
    ];
    println!(
        "\n### Portfolio analytics (`Store::portfolio_totals`: by region, country, status, theme, donor, year; burn rate)\n\n\
         | filter | as | p50 ms | p95 ms | max ms | statements |\n|---|---|---:|---:|---:|---:|"
    );
    // Each kind the way the API reads it, then (for the kinds the portfolio summary answers)
    // read from the projects, as before the summary existed.
    for (name, q) in &totals_kinds {
        for from_projects in [false, true] {
            if from_projects && (q.year.is_some() || q.donor.is_some()) {
                continue; // the API reads these from the projects already
            }
            for (who, actor) in &users {
                let run = || async {
                    if from_projects {
                        store.portfolio_totals_from_projects(&org, actor, q).await
                    } else {
                        store.portfolio_totals(&org, actor, q).await
                    }
                };
                run().await?;
                let mut t = Timings(Vec::new());
                let mut n = 0;
                for i in 0..args.iterations {
                    let started = Instant::now();
                    let (count, r) = if i == 0 {
                        counted(run()).await
                    } else {
                        (0, run().await)
                    };
                    r?;
                    t.0.push(started.elapsed());
                    if i == 0 {
                        n = count;
                    }
                }
                let how = if from_projects {
                    " (read from the projects)"
                } else {
                    ""
                };
                println!("| {name}{how} | {who} | {} | {n} |", t.row());
            }
        }
    }

    project_page(&store, &org, &hq, args.iterations).await
}

/// The project page: the project, its history and its transactions.
async fn project_page(
    store: &Store,
    org: &Organization,
    hq: &Actor,
    iterations: u32,
) -> anyhow::Result<()> {
    println!(
        "\n### The project page (`project` + `project_history` + `transactions`)\n\n\
         | project | history entries | statements | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|---:|"
    );
    for status in ["draft", "financially_closed"] {
        let q = query(json!({"status": status, "sort": "code", "per_page": 1}));
        let Some(row) = store.portfolio(org, hq, &q).await?.rows.into_iter().next() else {
            continue;
        };
        let page = async || -> anyhow::Result<usize> {
            store.project(org, hq, &row.id).await?;
            let history = store.project_history(org, hq, &row.id).await?;
            store
                .transactions(org, hq, &row.id)
                .await
                .context("transactions")?;
            Ok(history.status_changes.len() + history.comments.len() + history.changes.len())
        };
        let (statements, entries) = counted(page()).await;
        let entries = entries?;
        let mut t = Timings(Vec::new());
        for _ in 0..iterations {
            let started = Instant::now();
            page().await?;
            t.0.push(started.elapsed());
        }
        println!(
            "| {} ({status}) | {entries} | {statements} | {} |",
            row.code,
            t.row()
        );
    }
    Ok(())
}
