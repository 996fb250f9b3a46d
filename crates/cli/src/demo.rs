//! `meridian demo [--scale N] [--seed S]`: loads a realistic demonstration portfolio (exchange
//! rates, delegations, an account per role in several offices, and about 300 × N projects in
//! every lifecycle status), then prints the accounts with their generated passwords.

use crate::{OrgFileArg, connect, operator};
use anyhow::Context;
use meridian_domain::org::Countries;
use meridian_store::Store;
use meridian_store::demo::{DemoOptions, DemoReport, PROJECTS_PER_SCALE};
use std::time::Instant;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Size of the portfolio: 1 gives about 300 projects, 1000 about 300,000.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub scale: u32,
    /// The generator's seed: the same seed gives the same portfolio.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Projects per bulk transaction.
    #[arg(long, default_value_t = 5_000)]
    pub batch_size: usize,
    /// Used only when the database has no organization yet.
    #[command(flatten)]
    pub org: OrgFileArg,
}

pub async fn run(database: &str, args: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let store = connect(database).await?;
    let org = match store.organization().await {
        Ok(org) => org,
        Err(_) => {
            eprintln!("No organization in the database: loading it first.");
            let org = crate::org::read(&args.org)?;
            let summary = crate::org::load(&store, &org).await?;
            eprintln!("{}", crate::org::describe(&summary));
            store
                .organization()
                .await
                .context("reading the organization back")?
        }
    };
    eprintln!(
        "Loading a demo portfolio of about {} projects (scale {}, seed {})…",
        PROJECTS_PER_SCALE * args.scale as usize,
        args.scale,
        args.seed
    );
    let options = DemoOptions {
        scale: args.scale,
        seed: args.seed,
        batch_size: args.batch_size,
        ..DemoOptions::default()
    };
    let report = store
        .load_demo(
            &org,
            &Countries::builtin(),
            &operator(),
            &options,
            &mut |line: &str| eprintln!("  {line}"),
        )
        .await?;
    if store
        .load_srf_if_empty(&meridian_domain::builtin::srf())
        .await?
    {
        eprintln!("Loaded the Strategic Results Framework.");
    }
    eprintln!("Writing results matrices and approved reports for the projects in implementation…");
    let results = store
        .demo_results(
            &org,
            &operator(),
            time::OffsetDateTime::now_utc().date(),
            |s| {
                if s.frameworks % 20_000 < 2_000 {
                    eprintln!("  {} matrices, {} reports", s.frameworks, s.reports);
                }
            },
        )
        .await?;
    let elapsed = started.elapsed().as_secs_f64();
    print!("{}", describe(&report, elapsed));
    println!(
        "Results: {} matrices with {} indicators, {} reports ({} figures), {} roll-up cells.\n",
        results.frameworks, results.indicators, results.reports, results.values, results.cells
    );
    print!("{}", accounts_table(&report));
    print_size(&store).await;
    Ok(())
}

fn describe(report: &DemoReport, seconds: f64) -> String {
    let mut out = format!(
        "Demo portfolio loaded in {seconds:.1} s: {} projects ({} through the store functions, {} in bulk), \
         {} status changes, {} comments, {} transactions; {} exchange rates, {} delegations, {} accounts.\n",
        report.projects(),
        report.real_projects,
        report.bulk.projects,
        report.bulk.status_changes,
        report.bulk.comments,
        report.bulk.transactions,
        report.rates,
        report.delegations,
        report.accounts.len(),
    );
    let statuses: Vec<String> = report
        .by_status
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    out.push_str(&format!("By status: {}.\n\n", statuses.join(", ")));
    out
}

/// The accounts as a Markdown table. The passwords are one-time: each account chooses its own
/// at first sign-in.
fn accounts_table(report: &DemoReport) -> String {
    let mut out = String::from(
        "Demo accounts (one-time passwords: each account sets its own at first sign-in):\n\n\
         | role | unit | email | password |\n|---|---|---|---|\n",
    );
    for a in &report.accounts {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            a.role,
            a.unit,
            a.email,
            a.password
                .as_deref()
                .unwrap_or("(account existed: unchanged)")
        ));
    }
    out
}

async fn print_size(store: &Store) {
    if let Ok(bytes) = store.database_size().await {
        println!(
            "\nDatabase size: {:.1} MiB.",
            bytes as f64 / (1024.0 * 1024.0)
        );
    }
}
