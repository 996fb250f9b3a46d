//! Older activity files (1.0x, 2.01, 2.02) brought to 2.03, with an account of what changed.
//!
//! What is upgraded:
//! - `iati-activities/@version` becomes 2.03;
//! - 1.x text written straight into an element becomes a `narrative` (the reader does it; it
//!   is counted here);
//! - 1.x code letters become 2.x codes: `activity-date/@type` (`start-planned` → 1,
//!   `start-actual` → 2, `end-planned` → 3, `end-actual` → 4), `transaction-type/@code`
//!   (`IF` → 1, `C` → 2, `D` → 3, `E` → 4, `IR` → 5, `LR` → 6, `R` → 7, `QP` → 8, `QS` → 9,
//!   `CG` → 10), `participating-org/@role` (`Funding` → 1, `Accountable` → 2, `Extending` → 3,
//!   `Implementing` → 4), `sector/@vocabulary` (`DAC` → 1, `DAC-3` → 2, `COFOG` → 3, `NACE` → 4,
//!   `NTEE` → 5, `ADT` → 6, `RO` → 99, `RO2` → 98), `budget/@type` (`Original` → 1,
//!   `Revised` → 2), organisation types by name (`Government` → 10, …); dates written as a
//!   year or a date-time become dates, amounts with thousands separators become decimals;
//! - a budget `value` without `@value-date` takes the period start, a transaction `value` the
//!   transaction date (2.03 requires the date).
//!
//! - an activity without a description (optional before 2.03) gets its title as its
//!   description.
//!
//! What is dropped: every element Meridian does not keep (counted by name in the activity's
//! `extra`, e.g. 1.x `location/coordinates`), elements under the root other than activities
//! (e.g. 1.x `registry-record`), document links without a url, title or category, budgets and
//! transactions without dates, 1.x results and the inside of 1.x transactions. Activities still missing what
//! 2.03 requires (a participating organisation, a status, a date) are reported and cannot be
//! written.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use serde::Serialize;

use super::activity::Activity;
use super::read::{ActivityReader, ReadError};
use super::write::{ActivityWriter, WriteError};

/// The versions this module upgrades from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Version {
    /// 1.01 … 1.05, and 1.x files with no `@version` at all.
    V1,
    V201,
    V202,
    V203,
}

impl Version {
    /// From `iati-activities/@version` (`None` when absent: a 1.x file).
    pub fn from_attr(raw: Option<&str>) -> Version {
        match raw.map(str::trim) {
            Some("2.03") => Version::V203,
            Some("2.02") => Version::V202,
            Some("2.01") => Version::V201,
            _ => Version::V1,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Version::V1 => "1.0x",
            Version::V201 => "2.01",
            Version::V202 => "2.02",
            Version::V203 => "2.03",
        }
    }
}

/// One kind of change, how often, and the first activity it happened in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Note {
    pub message: String,
    pub count: u64,
    pub example: Option<String>,
}

/// What was upgraded or dropped in one file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Notes {
    by_message: BTreeMap<String, (u64, Option<String>)>,
}

impl Notes {
    pub fn add(&mut self, activity: Option<&str>, message: impl Into<String>) {
        let entry = self
            .by_message
            .entry(message.into())
            .or_insert((0, activity.map(str::to_owned)));
        entry.0 += 1;
    }

    pub fn list(&self) -> Vec<Note> {
        self.by_message
            .iter()
            .map(|(m, (count, example))| Note {
                message: m.clone(),
                count: *count,
                example: example.clone(),
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.by_message.is_empty()
    }
}

fn rename(value: &mut String, table: &[(&str, &str)], what: &str, id: &str, notes: &mut Notes) {
    let trimmed = value.trim();
    if let Some((old, new)) = table
        .iter()
        .find(|(old, _)| old.eq_ignore_ascii_case(trimmed))
    {
        notes.add(Some(id), format!("upgraded: {what} '{old}' → {new}"));
        *value = (*new).to_owned();
    }
}

const DATE_TYPES: &[(&str, &str)] = &[
    ("start-planned", "1"),
    ("start-actual", "2"),
    ("end-planned", "3"),
    ("end-actual", "4"),
];
const TRANSACTION_TYPES: &[(&str, &str)] = &[
    ("IF", "1"),
    ("C", "2"),
    ("D", "3"),
    ("E", "4"),
    ("IR", "5"),
    ("LR", "6"),
    ("R", "7"),
    ("QP", "8"),
    ("QS", "9"),
    ("CG", "10"),
];
const BUDGET_TYPES: &[(&str, &str)] = &[("Original", "1"), ("Revised", "2")];
const ORG_TYPES: &[(&str, &str)] = &[
    ("Government", "10"),
    ("Other Public Sector", "15"),
    ("International NGO", "21"),
    ("National NGO", "22"),
    ("Regional NGO", "23"),
    ("Public Private Partnership", "30"),
    ("Multilateral", "40"),
    ("Foundation", "60"),
    ("Private Sector", "70"),
    ("Academic, Training and Research", "80"),
];
const ROLES: &[(&str, &str)] = &[
    ("Funding", "1"),
    ("Accountable", "2"),
    ("Extending", "3"),
    ("Implementing", "4"),
];
const SECTOR_VOCABULARIES: &[(&str, &str)] = &[
    ("DAC", "1"),
    ("DAC-3", "2"),
    ("COFOG", "3"),
    ("NACE", "4"),
    ("NTEE", "5"),
    ("ADT", "6"),
    ("RO", "99"),
    ("RO2", "98"),
];

/// Brings one activity read from a file of version `from` to 2.03, noting every change.
pub fn upgrade_activity(a: &mut Activity, from: Version, notes: &mut Notes) {
    let id = a.identifier.clone();
    if from == Version::V1 {
        for d in &mut a.dates {
            rename(&mut d.r#type, DATE_TYPES, "activity-date/@type", &id, notes);
        }
        for t in &mut a.transactions {
            rename(
                &mut t.r#type,
                TRANSACTION_TYPES,
                "transaction-type/@code",
                &id,
                notes,
            );
        }
        for b in &mut a.budgets {
            if let Some(t) = &mut b.r#type {
                rename(t, BUDGET_TYPES, "budget/@type", &id, notes);
            }
        }
        if let Some(t) = &mut a.reporting_org.r#type {
            rename(t, ORG_TYPES, "reporting-org/@type", &id, notes);
        }
        for p in &mut a.participating_orgs {
            rename(&mut p.role, ROLES, "participating-org/@role", &id, notes);
            if let Some(t) = &mut p.r#type {
                rename(t, ORG_TYPES, "participating-org/@type", &id, notes);
            }
        }
        for s in &mut a.sectors {
            if let Some(v) = &mut s.vocabulary {
                rename(v, SECTOR_VOCABULARIES, "sector/@vocabulary", &id, notes);
            }
        }
    }
    if from == Version::V1 {
        // 1.x results and the inside of 1.x transactions have other structures (text instead
        // of narratives, other codes): left out rather than written wrong.
        for r in a.results.drain(..) {
            notes.add(Some(&id), format!("dropped: 1.x {}", r.name));
        }
        for t in &mut a.transactions {
            for o in t.other.drain(..) {
                notes.add(Some(&id), format!("dropped: 1.x transaction/{}", o.name));
            }
        }
    }
    if let Some(when) = a.last_updated.take() {
        let date = normalize_date(&when, false);
        a.last_updated = if when.len() > 10 && date.is_some() {
            Some(when)
        } else if let Some(date) = date {
            notes.add(
                Some(&id),
                format!("upgraded: last-updated-datetime '{when}' written as {date}T00:00:00Z"),
            );
            Some(format!("{date}T00:00:00Z"))
        } else {
            notes.add(
                Some(&id),
                format!("dropped: last-updated-datetime '{when}'"),
            );
            None
        };
    }
    let fix_date = |d: &mut String, end: bool, what: &str, notes: &mut Notes| {
        if let Some(fixed) = normalize_date(d, end) {
            if fixed != *d {
                notes.add(
                    Some(&id),
                    format!("upgraded: {what} '{d}' written as a date ({fixed})"),
                );
                *d = fixed;
            }
        } else if !d.is_empty() {
            notes.add(Some(&id), format!("dropped: {what} '{d}' is not a date"));
            d.clear();
        }
    };
    for d in &mut a.dates {
        fix_date(
            &mut d.iso_date,
            d.r#type == "3" || d.r#type == "4",
            "activity-date",
            notes,
        );
    }
    for b in &mut a.budgets {
        fix_date(&mut b.period_start, false, "budget/period-start", notes);
        fix_date(&mut b.period_end, true, "budget/period-end", notes);
        if let Some(v) = &mut b.value.value_date {
            fix_date(v, false, "budget/value/@value-date", notes);
        }
        fix_amount(&mut b.value.amount, &id, notes);
    }
    for t in &mut a.transactions {
        fix_date(&mut t.date, false, "transaction-date", notes);
        if let Some(v) = &mut t.value.value_date {
            fix_date(v, false, "transaction/value/@value-date", notes);
        }
        fix_amount(&mut t.value.amount, &id, notes);
    }
    for d in &mut a.document_links {
        if let Some(date) = &mut d.document_date {
            fix_date(date, false, "document-date", notes);
        }
    }
    // Dates that were not dates are gone; what needed them cannot be written.
    a.dates.retain(|d| !d.iso_date.is_empty());
    a.budgets.retain(|b| {
        let keep = !b.period_start.is_empty() && !b.period_end.is_empty();
        if !keep {
            notes.add(Some(&id), "dropped: a budget without a period");
        }
        keep
    });
    a.transactions.retain(|t| {
        let keep = !t.date.is_empty() && !t.r#type.is_empty();
        if !keep {
            notes.add(Some(&id), "dropped: a transaction without a date or type");
        }
        keep
    });
    for b in &mut a.budgets {
        if b.value.value_date.is_none() && !b.period_start.is_empty() {
            b.value.value_date = Some(b.period_start.clone());
            notes.add(
                Some(&id),
                "upgraded: budget value without @value-date takes the period start",
            );
        }
    }
    for t in &mut a.transactions {
        if t.value.value_date.is_none() && !t.date.is_empty() {
            t.value.value_date = Some(t.date.clone());
            notes.add(
                Some(&id),
                "upgraded: transaction value without @value-date takes the transaction date",
            );
        }
    }
    for (name, count) in &a.extra.elements {
        for _ in 0..*count {
            notes.add(Some(&id), format!("dropped: {name}"));
        }
    }
    let before = a.descriptions.len();
    a.descriptions.retain(|d| !d.narratives.is_empty());
    for _ in a.descriptions.len()..before {
        notes.add(Some(&id), "dropped: an empty description");
    }
    let before = a.document_links.len();
    a.document_links
        .retain(|d| !d.title.is_empty() && !d.categories.is_empty() && !d.url.is_empty());
    for _ in a.document_links.len()..before {
        notes.add(
            Some(&id),
            "dropped: a document-link without a url, title or category",
        );
    }
    if a.descriptions.is_empty() && !a.titles.is_empty() {
        a.descriptions.push(super::activity::Description {
            r#type: Some("1".into()),
            narratives: a.titles.clone(),
        });
        notes.add(
            Some(&id),
            "upgraded: no description (optional before 2.03); the title is written as the description",
        );
    }
    let missing = [
        (a.participating_orgs.is_empty(), "participating-org"),
        (a.status.is_none(), "activity-status"),
        (a.dates.is_empty(), "activity-date"),
        (a.titles.is_empty(), "title"),
        (a.descriptions.is_empty(), "description"),
        (
            a.reporting_org.r#ref.is_none() || a.reporting_org.r#type.is_none(),
            "reporting-org/@ref and @type",
        ),
    ];
    for (absent, what) in missing {
        if absent {
            notes.add(
                Some(&id),
                format!("not upgradable: no {what}, which 2.03 requires"),
            );
        }
    }
}

/// A 1.x date as an `xs:date`: `2012` (a year: its first or last day), `2012-03` (a month),
/// `2012-03-31T00:00:00` (a date and time). `None` when it is no date at all.
fn normalize_date(raw: &str, end: bool) -> Option<String> {
    let raw = raw.trim();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let date = raw.get(..10).unwrap_or(raw);
    let parts: Vec<&str> = date.split('-').collect();
    match parts.as_slice() {
        [y] if y.len() == 4 && digits(y) => {
            Some(format!("{y}-{}", if end { "12-31" } else { "01-01" }))
        }
        [y, m] if y.len() == 4 && m.len() == 2 && digits(y) && digits(m) => {
            let last = match *m {
                "02" => 28,
                "04" | "06" | "09" | "11" => 30,
                _ => 31,
            };
            Some(format!("{y}-{m}-{}", if end { last } else { 1 }))
        }
        [y, m, d]
            if y.len() == 4
                && m.len() == 2
                && d.len() == 2
                && digits(y)
                && digits(m)
                && digits(d) =>
        {
            Some(date.to_owned())
        }
        _ => None,
    }
}

/// An amount as an `xs:decimal`: thousands separators and spaces are taken out.
fn fix_amount(amount: &mut String, id: &str, notes: &mut Notes) {
    let is_decimal = |s: &str| {
        let s = s.strip_prefix(['-', '+']).unwrap_or(s);
        !s.is_empty()
            && s.bytes().filter(|&b| b == b'.').count() <= 1
            && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    };
    if is_decimal(amount) {
        return;
    }
    let cleaned: String = amount.chars().filter(|c| !matches!(c, ',' | ' ')).collect();
    if is_decimal(&cleaned) {
        notes.add(
            Some(id),
            format!("upgraded: amount '{amount}' written as {cleaned}"),
        );
        *amount = cleaned;
    } else {
        notes.add(
            Some(id),
            format!("upgraded: amount '{amount}' is not a number; written as 0"),
        );
        *amount = "0".into();
    }
}

/// The outcome of [`upgrade`].
#[derive(Clone, Debug, Serialize)]
pub struct UpgradeReport {
    pub from: Version,
    pub activities_read: u64,
    pub activities_written: u64,
    pub notes: Vec<Note>,
    /// Activities that could not be read or written, with why.
    pub refused: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("{0}")]
    Write(#[from] WriteError),
}

/// Reads a file of any version and writes it as 2.03, streaming. Broken XML stops the
/// upgrade with an error; an activity that cannot be written is listed in `refused`.
pub fn upgrade<R: BufRead, W: Write>(
    input: R,
    output: W,
    generated: &str,
) -> Result<UpgradeReport, UpgradeError> {
    let mut reader = ActivityReader::new(input);
    let root = reader.read_root()?.clone();
    let from = Version::from_attr(root.version.as_deref());
    let mut notes = Notes::default();
    if from != Version::V203 {
        notes.add(
            None,
            format!(
                "upgraded: iati-activities/@version {} → 2.03",
                root.version.as_deref().unwrap_or("(none)")
            ),
        );
    }
    let mut writer = ActivityWriter::new(output, generated, root.lang.as_deref())?;
    let (mut read, mut refused) = (0, Vec::new());
    for item in &mut reader {
        match item {
            Ok(mut a) => {
                read += 1;
                upgrade_activity(&mut a, from, &mut notes);
                match writer.write(&a) {
                    Ok(()) => {}
                    Err(WriteError::Incomplete { activity, missing }) => {
                        refused.push(format!("{activity}: {missing}"))
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) if !e.is_fatal() => refused.push(e.to_string()),
            Err(e) => return Err(e.into()),
        }
    }
    if reader.text_as_narrative() > 0 {
        notes.add(
            None,
            format!(
                "upgraded: text written straight into elements became narratives in {} activities",
                reader.text_as_narrative()
            ),
        );
    }
    for (name, count) in &reader.skipped().elements {
        notes.add(
            None,
            format!("dropped: {count} {name} element(s) under the root"),
        );
    }
    let written = writer.written();
    writer.finish()?;
    Ok(UpgradeReport {
        from,
        activities_read: read,
        activities_written: written,
        notes: notes.list(),
        refused,
    })
}
