//! `meridian`: the one binary. `serve` runs the web UI and JSON API; the other commands
//! administer the same database from the command line, acting as the operator.

mod bench;
mod demo;
mod export;
mod iati;
mod import;
mod org;
mod serve;
mod user;

use anyhow::Context;
use clap::{Parser, Subcommand};
use meridian_domain::authz::Actor;
use meridian_store::Store;
use std::path::PathBuf;

/// mimalloc rather than glibc's malloc: an IATI import allocates many small values on its
/// reading thread that the writing thread frees, and glibc's malloc and free took about a
/// fifth of the import's CPU time (BENCHMARKS.md, "IATI 2.03 import"). With the `override`
/// feature (the workspace's Cargo.toml) the C code linked in, SQLite above all, allocates from
/// mimalloc too (BENCHMARKS.md, "Import: SQLite's memory").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "meridian",
    version,
    about = "Open management for organizations working on migration"
)]
struct Cli {
    /// Database URL: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "MERIDIAN_DATABASE_URL",
        default_value = "sqlite://meridian.db"
    )]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web UI and the JSON API.
    Serve(serve::ServeArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Check or load the organization file.
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// Bring the database schema up to date, and nothing else.
    Migrate,
    /// IATI 2.03 activity files.
    #[command(subcommand)]
    Iati(iati::IatiCommand),
    /// Import files into the database (IATI activities).
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Export from the database (IATI activities).
    #[command(subcommand)]
    Export(export::ExportCommand),
    /// Load a realistic demonstration portfolio, with an account per role.
    Demo(demo::DemoArgs),
    /// Measure the store against a loaded database.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

/// The organization file to use: the one given, or the one built into the binary.
#[derive(clap::Args, Clone)]
pub struct OrgFileArg {
    /// An organization file (TOML) to use instead of the built-in one.
    #[arg(long, env = "MERIDIAN_ORG_FILE")]
    pub org_file: Option<PathBuf>,
}

/// The command line acts as the operator: whoever runs it has the machine and the database.
pub fn operator() -> Actor {
    let who = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "cli".to_owned());
    Actor::Operator { label: who }
}

pub async fn connect(url: &str) -> anyhow::Result<Store> {
    Store::connect(url)
        .await
        .with_context(|| format!("opening the database {url}"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Command::Bench(cmd) = cli.command {
        // The benchmark sets up its own logging, with a statement counter.
        return bench::run(&cli.database, cmd).await;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MERIDIAN_LOG")
                .unwrap_or_else(|_| "meridian=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Command::Iati(cmd) = cli.command {
        return iati::run(cmd);
    }
    if let Command::Import(cmd) = cli.command {
        return import::run(&cli.database, cmd).await;
    }
    let result = match cli.command {
        Command::Serve(args) => serve::run(&cli.database, args).await,
        Command::User(cmd) => user::run(&cli.database, cmd).await,
        Command::Org(cmd) => org::run(&cli.database, cmd).await,
        Command::Migrate => connect(&cli.database)
            .await
            .map(|_| println!("The database schema is up to date.")),
        Command::Demo(args) => demo::run(&cli.database, args).await,
        Command::Export(cmd) => export::run(&cli.database, cmd).await,
        Command::Iati(_) | Command::Bench(_) | Command::Import(_) => unreachable!("handled above"),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
