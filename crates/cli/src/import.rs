//! `meridian import iati FILE|DIR [--keep-valid] [--default-unit CODE]`: IATI activity files
//! into the store, validated first. Files older than 2.03 are upgraded on the way, with an
//! account of what changed. Exit code 0 when everything was imported, 1 when an activity (or
//! a file) was refused, 2 when a file cannot be read (missing, or not well-formed XML).

use clap::Subcommand;
use meridian_formats::gzip;
use meridian_formats::iati::legacy;
use meridian_formats::iati::read::ActivityReader;
use meridian_store::iati::{ImportOptions, ImportProgress, ImportReport, Progress};
use std::fs::File;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import IATI activity files (a file, or every .xml and .xml.gz file in a folder) as
    /// projects. A gzip-compressed file is unpacked first.
    Iati(IatiArgs),
}

#[derive(clap::Args)]
pub struct IatiArgs {
    /// An activities file, or a folder of them.
    pub path: PathBuf,
    /// Import the activities that pass and report the others (default: one refused activity
    /// refuses the whole file).
    #[arg(long)]
    pub keep_valid: bool,
    /// The office for activities that name no country Meridian has an office for (e.g. a
    /// regional office, RO-NBO).
    #[arg(long)]
    pub default_unit: Option<String>,
    /// Also rewrite the activities that are unchanged since their last import (default: they
    /// are counted and left alone, with any edits made in Meridian since).
    #[arg(long)]
    pub rewrite_unchanged: bool,
}

const OK: u8 = 0;
const REFUSED: u8 = 1;
const UNREADABLE: u8 = 2;

/// `NAME.xml`, or `NAME.xml.gz` compressed.
fn is_activities_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name.ends_with(".xml") || name.ends_with(".xml.gz")
}

/// A gzip-compressed file unpacked into a temporary file, or `None` for a file as it is.
fn unpacked(path: &Path) -> Result<Option<tempfile::NamedTempFile>, String> {
    let cannot_read = |e: std::io::Error| format!("cannot read: {e}");
    let mut input = BufReader::new(File::open(path).map_err(cannot_read)?);
    if !gzip::starts_packed(&mut input).map_err(cannot_read)? {
        return Ok(None);
    }
    let mut file = tempfile::Builder::new()
        .prefix("meridian-unpacked-")
        .suffix(".xml")
        .tempfile()
        .map_err(|e| format!("a temporary file to unpack into: {e}"))?;
    let mut out = std::io::BufWriter::new(file.as_file_mut());
    gzip::unpack(input, &mut out, u64::MAX).map_err(|e| e.to_string())?;
    drop(out);
    Ok(Some(file))
}

fn files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut out: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && is_activities_file(p))
            .collect();
        out.sort();
        Ok(out)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

pub async fn run(database: &str, cmd: ImportCommand) -> ExitCode {
    let ImportCommand::Iati(args) = cmd;
    match run_iati(database, args).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(REFUSED)
        }
    }
}

/// Progress on stderr: a line redrawn in place on a terminal, every tenth otherwise.
fn progress(name: String) -> Progress {
    let tty = std::io::stderr().is_terminal();
    let last_tenth = std::sync::atomic::AtomicU64::new(0);
    Progress(Arc::new(move |p: ImportProgress| {
        let pct = (p.bytes_read * 100)
            .checked_div(p.bytes_total)
            .unwrap_or(0)
            .min(100);
        let line = format!(
            "{name}: {pct:>3}% ({} activities, {:.1} of {:.1} MB)",
            p.activities,
            p.bytes_read as f64 / 1e6,
            p.bytes_total as f64 / 1e6
        );
        if tty {
            eprint!("\r{line}");
            let _ = std::io::stderr().flush();
        } else if pct / 10 > last_tenth.load(std::sync::atomic::Ordering::Relaxed) {
            last_tenth.store(pct / 10, std::sync::atomic::Ordering::Relaxed);
            eprintln!("{line}");
        }
    }))
}

async fn run_iati(database: &str, args: IatiArgs) -> anyhow::Result<u8> {
    let list = match files(&args.path) {
        Ok(list) => list,
        Err(e) => {
            eprintln!("{}: cannot read: {e}", args.path.display());
            return Ok(UNREADABLE);
        }
    };
    if list.is_empty() {
        eprintln!("{}: no .xml or .xml.gz file there", args.path.display());
        return Ok(UNREADABLE);
    }
    let store = crate::connect(database).await?;
    let org = store
        .organization()
        .await
        .map_err(|e| anyhow::anyhow!("{e}; load the organization first (meridian org load)"))?;
    let actor = crate::operator();
    let mut worst = OK;
    let (mut created, mut updated, mut unchanged, mut refused) = (0, 0, 0, 0);
    let (mut bytes, mut seconds) = (0u64, 0.0);
    for (index, original) in list.iter().enumerate() {
        let name = original.display().to_string();
        // A compressed file is unpacked first, into a temporary file.
        let unpacked = match unpacked(original) {
            Ok(unpacked) => unpacked,
            Err(e) => {
                println!("{name}: not imported: {e}");
                worst = worst.max(UNREADABLE);
                continue;
            }
        };
        let path = unpacked.as_ref().map_or(original.as_path(), |t| t.path());
        // Older files are upgraded to 2.03 first, into a temporary file.
        let mut upgraded = None;
        match File::open(path).map(|f| {
            let mut r = ActivityReader::new(BufReader::new(f));
            // A lone iati-activity root (d-portal's export) carries no version: it is 2.x.
            r.read_root()
                .map(|root| match (&root.version, root.name.as_str()) {
                    (None, "iati-activity") => Some("2.03".to_owned()),
                    (v, _) => v.clone(),
                })
        }) {
            Err(e) => {
                eprintln!("{name}: cannot read: {e}");
                worst = worst.max(UNREADABLE);
                continue;
            }
            Ok(Err(e)) => {
                println!("{name}: not imported: {e}");
                worst = worst.max(UNREADABLE);
                continue;
            }
            Ok(Ok(version)) if version.as_deref() != Some("2.03") => {
                let tmp = std::env::temp_dir().join(format!(
                    "meridian-upgrade-{}-{}.xml",
                    std::process::id(),
                    index
                ));
                let out = std::io::BufWriter::new(File::create(&tmp)?);
                let input = BufReader::new(File::open(path)?);
                match legacy::upgrade(
                    input,
                    out,
                    &format!("{}Z", &meridian_store::now_text()[..19]),
                ) {
                    Ok(report) => {
                        println!(
                            "{name}: version {} upgraded to 2.03 ({} of {} activities written):",
                            version.as_deref().unwrap_or("1.0x (none given)"),
                            report.activities_written,
                            report.activities_read
                        );
                        for note in &report.notes {
                            println!(
                                "  {} ×{}{}",
                                note.message,
                                note.count,
                                note.example
                                    .as_ref()
                                    .map(|e| format!(" (e.g. {e})"))
                                    .unwrap_or_default()
                            );
                        }
                        for r in &report.refused {
                            println!("{name}: refused: cannot be upgraded: {r}");
                        }
                        if !report.refused.is_empty() {
                            worst = worst.max(REFUSED);
                            refused += report.refused.len();
                            if !args.keep_valid {
                                println!(
                                    "{name}: nothing was imported (all or nothing: use --keep-valid to import the activities that pass)"
                                );
                                let _ = std::fs::remove_file(&tmp);
                                continue;
                            }
                        }
                        upgraded = Some(tmp);
                    }
                    Err(e) => {
                        println!("{name}: not imported: {e}");
                        let _ = std::fs::remove_file(&tmp);
                        worst = worst.max(UNREADABLE);
                        continue;
                    }
                }
            }
            Ok(Ok(_)) => {}
        }
        let options = ImportOptions {
            keep_valid: args.keep_valid,
            default_unit: args.default_unit.clone(),
            rewrite_unchanged: args.rewrite_unchanged,
            source_name: Some(name.clone()),
            progress: Some(progress(name.clone())),
        };
        let source = upgraded.as_deref().unwrap_or(path);
        let result = store.import_iati(&org, &actor, source, &options).await;
        if let Some(tmp) = &upgraded {
            let _ = std::fs::remove_file(tmp);
        }
        if std::io::stderr().is_terminal() {
            eprint!("\r\x1b[2K");
        }
        let report = result?;
        worst = worst.max(code(&report));
        print!("{}", describe(&report));
        created += report.created;
        updated += report.updated;
        unchanged += report.unchanged;
        refused += report.refused.len();
        bytes += report.bytes;
        seconds += report.seconds;
    }
    if list.len() > 1 {
        println!(
            "{} files: {created} created, {updated} updated, {unchanged} unchanged, {refused} refused; {:.1} MB in {seconds:.2} s ({:.1} MB/s)",
            list.len(),
            bytes as f64 / 1e6,
            if seconds > 0.0 {
                bytes as f64 / 1e6 / seconds
            } else {
                0.0
            }
        );
    }
    Ok(worst)
}

fn code(r: &ImportReport) -> u8 {
    if !r.readable {
        UNREADABLE
    } else if !r.is_success() {
        REFUSED
    } else {
        OK
    }
}

/// The closing summary of one file, then what was refused and where.
fn describe(r: &ImportReport) -> String {
    let mut out = String::new();
    for e in &r.file_errors {
        out.push_str(&format!("{}: {e}\n", r.file));
    }
    for refusal in &r.refused {
        out.push_str(&format!("{}: {refusal}\n", r.file));
    }
    out.push_str(&format!(
        "{}: {} activities: {} created, {} updated, {} unchanged, {} refused; {:.1} MB in {:.2} s ({:.1} MB/s)\n",
        r.file,
        r.activities,
        r.created,
        r.updated,
        r.unchanged,
        r.refused.len(),
        r.bytes as f64 / 1e6,
        r.seconds,
        r.megabytes_per_second()
    ));
    if r.committed && (r.results > 0 || !r.results_not_mapped.is_empty()) {
        out.push_str(&format!(
            "{}: results framework: {} results, {} indicators, {} approved reports\n",
            r.file, r.results, r.indicators, r.reports
        ));
        const SHOWN: usize = 100;
        for note in r.results_not_mapped.iter().take(SHOWN) {
            out.push_str(&format!("{}: {note}\n", r.file));
        }
        if r.results_not_mapped.len() > SHOWN {
            out.push_str(&format!(
                "{}: … and {} more activities with results not mapped (kept as IATI data and exported as they were)\n",
                r.file,
                r.results_not_mapped.len() - SHOWN
            ));
        }
    }
    if !r.committed {
        out.push_str(&format!(
            "{}: nothing was imported{}\n",
            r.file,
            if r.readable && r.file_errors.is_empty() {
                " (all or nothing: use --keep-valid to import the activities that pass)"
            } else {
                ""
            }
        ));
    }
    if r.data_quality_findings > 0 {
        out.push_str(&format!(
            "{}: {} codelist findings (not refusing; `meridian iati validate {}` lists them, with the ruleset's)\n",
            r.file, r.data_quality_findings, r.file
        ));
    }
    if !r.dropped.is_empty() {
        let total: u64 = r.dropped.values().sum();
        let top: Vec<String> = r
            .dropped
            .iter()
            .take(8)
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        out.push_str(&format!(
            "{}: {total} elements Meridian does not keep were left out: {}{}\n",
            r.file,
            top.join(", "),
            if r.dropped.len() > 8 { ", …" } else { "" }
        ));
    }
    out
}
