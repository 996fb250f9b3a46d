//! IATI 2.03 activity and organisation files: streaming validation against the XML schema,
//! the codelists and the IATI standard ruleset; the activity model Meridian keeps
//! ([`activity`]), a streaming reader ([`read`]) and writer ([`write`]), and the upgrade of
//! older files ([`legacy`]).
//!
//! ```no_run
//! use std::{fs::File, io::BufReader};
//! use meridian_formats::iati::{validate, ValidateOptions};
//!
//! let file = BufReader::new(File::open("activities.xml")?);
//! let report = validate(file, &ValidateOptions::default())?;
//! println!("{}", report.to_human("activities.xml"));
//! std::process::exit(if report.is_valid() { 0 } else { 1 });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Memory stays flat whatever the file size: the document streams through once, and only the
//! activity being read is kept (the rules need its tree).
//!
//! A file that is not well-formed XML is not an `Err`: the report carries the findings up to
//! the break plus one `0.1.1` error with the line and column, and `well_formed` is false.
//! `Err(ReadError)` is kept for input that cannot be read at all (I/O).

pub mod activity;
mod codelists;
mod document;
pub mod legacy;
mod names;
mod options;
mod parallel;
mod position;
pub mod read;
mod report;
mod rules;
mod tree;
mod validate;
pub mod write;
mod xpath;
pub(crate) mod xsd;

pub use options::ValidateOptions;
pub use report::{Finding, Layer, Report, RuleCount, Severity};
pub use rules::{Ruleset, RulesetError};
pub use validate::{ReadError, validate};
pub use xsd::SchemaError;
