//! `meridian iati validate FILE...`: schema, codelists and the IATI ruleset, streaming.
//! Exit code 0 when every file is valid, 1 when one is invalid, 2 when one cannot be read
//! (missing, unreadable, or not well-formed XML).

use clap::{Subcommand, ValueEnum};
use meridian_formats::gzip;
use meridian_formats::iati::{ValidateOptions, validate};
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum IatiCommand {
    /// Check iati-activities 2.03 files (as they are, or gzip-compressed) and report every
    /// problem with its line and column.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Human,
    /// One JSON array with a report per file.
    Json,
}

const VALID: u8 = 0;
const INVALID: u8 = 1;
const UNREADABLE: u8 = 2;

pub fn run(cmd: IatiCommand) -> ExitCode {
    let IatiCommand::Validate { files, format } = cmd;
    let options = ValidateOptions::default();
    let mut worst = VALID;
    let mut reports = Vec::new();
    for path in &files {
        let name = path.display().to_string();
        let outcome = File::open(path)
            .and_then(|f| {
                let mut input = BufReader::with_capacity(256 * 1024, f);
                gzip::starts_packed(&mut input).map(|packed| (input, packed))
            })
            .map_err(meridian_formats::iati::ReadError::from)
            .and_then(|(input, packed)| {
                if packed {
                    let unpacking = gzip::unpacking(input);
                    validate(BufReader::with_capacity(256 * 1024, unpacking), &options)
                } else {
                    validate(input, &options)
                }
            });
        let code = match &outcome {
            Err(_) => UNREADABLE,
            Ok(report) if !report.well_formed => UNREADABLE,
            Ok(report) if !report.is_valid() => INVALID,
            Ok(_) => VALID,
        };
        worst = worst.max(code);
        match (format, outcome) {
            (Format::Human, Ok(report)) => print!("{}", report.to_human(&name)),
            (Format::Human, Err(e)) => eprintln!("{name}: cannot read: {e}"),
            (Format::Json, Ok(report)) => reports.push(report.to_json(&name)),
            (Format::Json, Err(e)) => reports.push(serde_json::json!({
                "file": name, "readable": false, "error": e.to_string(),
            })),
        }
    }
    if let Format::Json = format {
        println!("{}", serde_json::Value::Array(reports));
    }
    ExitCode::from(worst)
}
