//! `meridian export iati [--unit CODE] [--published-only] [-o FILE]`: projects as an IATI 2.03
//! activities file, written as they are read (memory stays flat).

use anyhow::Context;
use clap::Subcommand;
use meridian_formats::iati::activity::Activity;
use meridian_formats::iati::write::ActivityWriter;
use meridian_store::iati::ExportScope;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ExportCommand {
    /// Write the projects as an IATI 2.03 activities file.
    Iati(IatiArgs),
}

#[derive(clap::Args)]
pub struct IatiArgs {
    /// Only this office's projects (and those of the offices under it).
    #[arg(long)]
    pub unit: Option<String>,
    /// Only what the public feed shows: approved, active, suspended or closed projects, never
    /// restricted ones.
    #[arg(long)]
    pub published_only: bool,
    /// The file to write (default: standard output).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

pub async fn run(database: &str, cmd: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Iati(args) = cmd;
    let store = crate::connect(database).await?;
    let org = store
        .organization()
        .await
        .map_err(|e| anyhow::anyhow!("{e}; load the organization first (meridian org load)"))?;
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let generated = format!("{}Z", &meridian_store::now_text()[..19]);
    let mut writer =
        ActivityWriter::new(BufWriter::with_capacity(256 * 1024, out), &generated, None)?;
    let scope = ExportScope {
        unit: args.unit.clone(),
        published_only: args.published_only,
        ..ExportScope::default()
    };
    let started = std::time::Instant::now();
    let summary = store
        .export_activities::<anyhow::Error, _>(
            &org,
            Some(&crate::operator()),
            &scope,
            &mut |a: Activity| {
                writer.write(&a)?;
                Ok(())
            },
        )
        .await?;
    writer.finish()?;
    eprintln!(
        "{} activities exported in {:.2} s{}{}",
        summary.activities,
        started.elapsed().as_secs_f64(),
        args.output
            .as_ref()
            .map(|p| format!(" to {}", p.display()))
            .unwrap_or_default(),
        if summary.restricted_left_out > 0 {
            format!(
                "; {} restricted projects left out",
                summary.restricted_left_out
            )
        } else {
            String::new()
        }
    );
    Ok(())
}
