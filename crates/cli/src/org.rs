//! `meridian org check FILE` and `meridian org load`.

use crate::{OrgFileArg, connect, operator};
use anyhow::{Context, bail};
use clap::Subcommand;
use meridian_domain::org::{Countries, Organization, parse_org_file};
use meridian_store::Store;
use meridian_store::org::LoadSummary;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Check an organization file without loading it.
    Check { file: PathBuf },
    /// Load the organization file into the database (the first time, or after a change).
    Load(OrgFileArg),
}

/// Reads and checks the organization file (or the built-in one).
pub fn read(arg: &OrgFileArg) -> anyhow::Result<Organization> {
    let countries = Countries::builtin();
    let (name, text) = match &arg.org_file {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => (
            "built-in organization".to_owned(),
            meridian_domain::builtin::ORGANIZATION_TOML.to_owned(),
        ),
    };
    Ok(parse_org_file(&name, &text, &countries)?)
}

/// Loads the organization into the store as the operator.
pub async fn load(store: &Store, org: &Organization) -> anyhow::Result<LoadSummary> {
    let current = store.organization().await.ok();
    Ok(store
        .load_organization(&operator(), current.as_ref(), org, &Countries::builtin())
        .await?)
}

pub fn describe(summary: &LoadSummary) -> String {
    if summary.is_unchanged() {
        return "The organization in the database is up to date.".to_owned();
    }
    format!(
        "Organization loaded: {} units added, {} updated, {} retired; {} country records changed; {} other changes.",
        summary.units_added,
        summary.units_updated,
        summary.units_retired,
        summary.countries_changed,
        summary.other_changes
    )
}

pub async fn run(database: &str, cmd: OrgCommand) -> anyhow::Result<()> {
    match cmd {
        OrgCommand::Check { file } => {
            let org = read(&OrgFileArg {
                org_file: Some(file.clone()),
            })?;
            let covered: usize = org.regional_offices().map(|r| r.covers.len()).sum();
            println!(
                "{} is valid: {} units, {} regional offices covering {} countries, {} processes.",
                file.display(),
                org.units().len(),
                org.regional_offices().count(),
                covered,
                org.definition().processes.len()
            );
            Ok(())
        }
        OrgCommand::Load(arg) => {
            let org = read(&arg)?;
            let store = connect(database).await?;
            let summary = load(&store, &org).await?;
            println!("{}", describe(&summary));
            if store.organization().await.is_err() {
                bail!("the organization could not be read back after loading");
            }
            Ok(())
        }
    }
}
