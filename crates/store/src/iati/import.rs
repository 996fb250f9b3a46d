//! Importing an IATI activities file: validate, map each activity onto a project, write in
//! batches inside one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::{Countries, Iso3, Organization, UnitCode, UnitKind};
use meridian_domain::projects::lifecycle::Status;
use meridian_domain::projects::money::{Currency, Money, RateTable};
use meridian_formats::iati::activity::{Activity, Narrative, pick_narrative};
use meridian_formats::iati::read::{ActivityReader, ReadErrorKind};
use meridian_formats::iati::{Layer, Severity, ValidateOptions, validate};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::Digest as _;
use sqlx::Row;
use time::Date;

use super::results::{DerivedResult, Plan, fingerprint, plan};
use super::rows::{Rows, V};
use super::{status_from_iati, status_to_iati, thematic_area};
use crate::db::{new_id, now_text};
use crate::projects::portfolio_keys::{KeyedProject, insert_keys};
use crate::projects::{TransactionKind, e4};
use crate::results::Columns;
use crate::{Store, StoreError, Tx};
use meridian_domain::results::model::Frequency;

/// How an import treats what it cannot take.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Import the activities that pass and report the others. Off: one refused activity
    /// refuses the whole file, and nothing changes.
    pub keep_valid: bool,
    /// The office that owns activities naming no country Meridian has an office for (a
    /// country, regional or special office code). Without it such activities are refused.
    pub default_unit: Option<String>,
    /// The name the report and the stored rows give the file (its path by default).
    pub source_name: Option<String>,
    /// Also write the activities that map to what the last import of them wrote. Off: those
    /// are counted as unchanged and left alone (no new version, no audit event, Meridian's
    /// later edits of them kept); on, they overwrite as any changed activity does.
    pub rewrite_unchanged: bool,
    /// Told how far the import is, after each batch.
    pub progress: Option<Progress>,
}

/// How far an import is: bytes of the file read, activities read.
#[derive(Debug, Clone, Copy)]
pub struct ImportProgress {
    pub bytes_read: u64,
    pub bytes_total: u64,
    pub activities: u64,
}

/// A progress callback (for a progress bar).
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(ImportProgress) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// An activity that was not imported, where it is and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Refusal {
    pub identifier: Option<String>,
    pub line: u64,
    pub column: u64,
    pub reasons: Vec<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: activity {}: {}",
            self.line,
            self.column,
            self.identifier.as_deref().unwrap_or("(no identifier)"),
            self.reasons.join("; ")
        )
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub file: String,
    pub bytes: u64,
    /// `iati-activity` elements read.
    pub activities: u64,
    pub created: u64,
    pub updated: u64,
    /// Activities that map to what the last import of them wrote: left as they are.
    pub unchanged: u64,
    pub refused: Vec<Refusal>,
    /// Problems that are not one activity's: broken XML, the root, I/O. Any of them refuses
    /// the whole file.
    pub file_errors: Vec<String>,
    /// False when the file is not well-formed XML (or could not be read).
    pub readable: bool,
    /// Whether the changes were committed (false: nothing changed).
    pub committed: bool,
    /// Codelist findings (errors and warnings) and duplicate identifiers: data quality
    /// feedback, reported but not refusing. The import leaves the ruleset out (it would only be
    /// counted); `meridian iati validate` checks it.
    pub data_quality_findings: u64,
    /// Elements the file had and Meridian does not keep, by name.
    pub dropped: BTreeMap<String, u64>,
    /// What went into the results framework: results, indicators, reports (approved).
    pub results: u64,
    pub indicators: u64,
    pub reports: u64,
    /// Per activity, what of its results was not mapped onto the results framework (it stays
    /// in the IATI data and is exported as it was).
    pub results_not_mapped: Vec<ResultsNote>,
    pub seconds: f64,
}

/// What of an activity's results was not mapped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ResultsNote {
    pub identifier: String,
    pub line: u64,
    pub notes: Vec<String>,
}

impl std::fmt::Display for ResultsNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: activity {}: results not mapped: {}",
            self.line,
            self.identifier,
            self.notes.join("; ")
        )
    }
}

impl ImportReport {
    pub fn is_success(&self) -> bool {
        self.readable && self.file_errors.is_empty() && self.refused.is_empty()
    }

    pub fn megabytes_per_second(&self) -> f64 {
        if self.seconds > 0.0 {
            self.bytes as f64 / 1e6 / self.seconds
        } else {
            0.0
        }
    }
}

/// Activities written per batch of multi-row inserts. On SQLite, small enough that the writer
/// starts soon and has little left to write alone when the reading ends: 100 imports the
/// 100 MB benchmark file about 10 % faster than 500 did, in 30 % less memory, and 50 is slower
/// again. PostgreSQL pays a round trip per statement and is about 13 % slower with 100 than
/// with 500 (BENCHMARKS.md, IATI import, "Pages of 16 KiB and batches of 100").
fn batch_size(backend: crate::Backend) -> usize {
    match backend {
        crate::Backend::Sqlite => 100,
        crate::Backend::Postgres => 500,
    }
}

/// The most identifiers in one `IN (…)` list (a batch's, read back).
const IN_LIST: usize = 500;

/// What the import needs to map activities.
struct Ctx {
    org: Organization,
    actor: Actor,
    iso3: HashMap<String, Iso3>,
    rates: RateTable,
    default_unit: Option<UnitCode>,
    today: Date,
    /// Activities per batch: [`batch_size`].
    batch: usize,
}

/// An activity mapped onto the project model, ready to write.
pub(super) struct Mapped {
    pub(super) activity: Activity,
    pub(super) line: u64,
    pub(super) column: u64,
    title: String,
    summary: String,
    thematic_area: &'static str,
    unit: UnitCode,
    region: UnitCode,
    primary_country: String,
    countries: Vec<String>,
    start: Date,
    end: Date,
    status: Status,
    currency: Currency,
    budget_e4: i64,
    budget_usd_e4: i64,
    lines: Vec<Line>,
    donors: Vec<String>,
    partners: Vec<String>,
    transactions: Vec<Txn>,
    results: Plan,
    /// What `iati_activities` keeps of the elements, serialized on the mapping thread.
    json: ActivityJson,
    /// A hash of everything above that the import writes (see [`Derived::source`]).
    fingerprint: String,
}

/// What `iati_activities` keeps of the activity's own elements, made on the mapping thread.
struct ActivityJson {
    reporting_org: String,
    /// The other elements kept whole (see [`super::elements`]).
    elements: ElementsForm,
}

/// The elements' JSON texts in `elements::NAMES` order, packed on the mapping thread when
/// the activity is likely to be written ([`pack_written`]).
enum ElementsForm {
    Json(Box<[String; 13]>),
    Packed(Vec<u8>),
}

impl ActivityJson {
    fn pack(&mut self) {
        if let ElementsForm::Json(parts) = &self.elements {
            self.elements =
                ElementsForm::Packed(super::elements::pack(parts.each_ref().map(String::as_str)));
        }
    }
}

impl ElementsForm {
    /// The stored form (packed now if the mapping thread did not).
    fn packed(self) -> Vec<u8> {
        match self {
            ElementsForm::Packed(bytes) => bytes,
            ElementsForm::Json(parts) => {
                super::elements::pack(parts.each_ref().map(String::as_str))
            }
        }
    }
}

#[derive(Serialize, serde::Deserialize, PartialEq, Clone, Debug)]
pub(super) struct Line {
    pub(super) category: String,
    pub(super) description: String,
    pub(super) currency: String,
    pub(super) amount_e4: i64,
    #[serde(skip)]
    pub(super) usd_e4: i64,
}

#[derive(Debug)]
struct Txn {
    position: usize,
    kind: TransactionKind,
    date: Date,
    currency: String,
    amount_e4: i64,
    usd_e4: i64,
    provider: String,
    receiver: String,
    description: String,
    /// The IATI side, as JSON.
    detail: String,
}

/// The project values an import derived, kept to tell Meridian's later edits apart.
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq, Default)]
pub(super) struct Derived {
    pub(super) title: String,
    /// The summary (the description Meridian shows, often long) as `sha256:` and its hash:
    /// only equality is asked of it. Imports before 2026-12-03 kept the text itself.
    pub(super) summary: String,
    pub(super) start_date: String,
    pub(super) end_date: String,
    pub(super) status: String,
    pub(super) lines: Vec<Line>,
    pub(super) donors: Vec<String>,
    /// The results made from the file's `<result>`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) results: Vec<DerivedResult>,
    /// `sha256:` and a hash of what the import wrote of the activity, mapped (so a change of
    /// exchange rates or office counts too): an activity that maps to the same is unchanged.
    /// `None` for imports before 2026-12-03.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) source: Option<String>,
}

/// `sha256:` and the hash of `bytes`, in hexadecimal.
fn sha256_text(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha256_named(sha2::Sha256::digest(bytes))
}

/// `sha256:` and `hash` in hexadecimal.
fn sha256_named(hash: impl AsRef<[u8]>) -> String {
    let hash = hash.as_ref();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in hash {
        let _ = write!(out, "{b:02x}");
    }
    out
}

impl Derived {
    /// What `summary` keeps of a summary.
    pub(super) fn summary_of(text: &str) -> String {
        sha256_text(text.as_bytes())
    }

    /// Whether the project's summary is still the one the import derived.
    pub(super) fn same_summary(&self, now: &str) -> bool {
        if self.summary.starts_with("sha256:") && self.summary.len() == 71 {
            self.summary == Self::summary_of(now)
        } else {
            self.summary == now
        }
    }
}

/// The narrative Meridian shows: English, else the activity's default language, else the
/// first.
pub(super) fn shown(narratives: &[Narrative]) -> String {
    pick_narrative(narratives, Some("en"))
        .map(|n| n.text.trim().to_owned())
        .unwrap_or_default()
}

fn parse_date(what: &str, raw: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim().get(..10).unwrap_or(raw.trim()), &format)
        .map_err(|_| format!("{what}: expected a date like 2026-03-31, found {raw:?}"))
}

impl Ctx {
    fn money(&self, what: &str, amount: &str, currency: &str) -> Result<Money, String> {
        let currency = Currency::parse(currency).map_err(|e| format!("{what}: {e}"))?;
        let value: Decimal = amount
            .trim()
            .parse()
            .or_else(|_| Decimal::from_scientific(amount.trim()))
            .map_err(|_| format!("{what}: expected an amount, found {amount:?}"))?;
        let value = value.round_dp(currency.minor_units());
        Money::new_signed(value, currency).map_err(|e| format!("{what}: {e}"))
    }

    /// USD at the rate of `on`, else at the latest rate known.
    fn usd(&self, what: &str, money: &Money, on: Date) -> Result<i64, String> {
        let usd = self
            .rates
            .to_usd(money, on)
            .or_else(|_| self.rates.to_usd(money, self.today))
            .map_err(|e| {
                format!(
                    "{what}: {e}; add the exchange rates for {} first",
                    money.currency
                )
            })?;
        e4(usd.round_dp(4), "amount").map_err(|e| format!("{what}: {e}"))
    }

    /// The office for an ISO 3166-1 alpha-2 code, with the alpha-3 code.
    fn office(&self, iso2: &str) -> Option<(UnitCode, Iso3)> {
        let iso3 = self.iso3.get(&iso2.trim().to_ascii_uppercase())?;
        let unit = self.org.country_office(iso3)?;
        Some((unit.code.clone(), iso3.clone()))
    }

    fn region_of(&self, unit: &UnitCode) -> Option<UnitCode> {
        self.org
            .ancestors(unit)
            .find(|u| u.kind == UnitKind::RegionalOffice)
            .map(|u| u.code.clone())
    }

    fn map(&self, a: Activity, line: u64, column: u64) -> Result<Mapped, Vec<String>> {
        let mut problems = Vec::new();
        let id = a.identifier.trim();
        if id.is_empty() {
            problems.push("iati-identifier is empty".to_owned());
        }
        // The owning office.
        let mut countries: Vec<String> = Vec::new();
        let mut owner: Option<(UnitCode, String)> = None;
        for r in &a.recipient_countries {
            if let Some((unit, iso3)) = self.office(&r.code) {
                if owner.is_none() {
                    owner = Some((unit, iso3.to_string()));
                }
                if !countries.contains(&iso3.to_string()) {
                    countries.push(iso3.to_string());
                }
            }
        }
        if owner.is_none() {
            owner = a
                .transactions
                .iter()
                .flat_map(|t| &t.other)
                .filter(|o| o.name == "recipient-country")
                .find_map(|o| self.office(o.attr("code").unwrap_or_default()))
                .map(|(unit, iso3)| {
                    countries.push(iso3.to_string());
                    (unit, iso3.to_string())
                });
        }
        if owner.is_none()
            && let Some(unit) = &self.default_unit
        {
            owner = Some((unit.clone(), String::new()));
        }
        let (unit, primary_country) = match owner {
            Some(o) => o,
            None => {
                let named: Vec<&str> = a
                    .recipient_countries
                    .iter()
                    .map(|r| r.code.as_str())
                    .collect();
                problems.push(if named.is_empty() {
                    "no recipient-country, so no country office to own the project; give a default unit for such activities".to_owned()
                } else {
                    format!(
                        "no country office for recipient-country {}; give a default unit for such activities",
                        named.join(", ")
                    )
                });
                return Err(problems);
            }
        };
        let Some(region) = self.region_of(&unit) else {
            problems.push(format!("{unit} is not under a regional office"));
            return Err(problems);
        };
        if let Err(e) = authorize(&self.org, &self.actor, Action::DraftProject, &unit)
            .and_then(|()| authorize(&self.org, &self.actor, Action::ManageProject, &unit))
        {
            problems.push(e.to_string());
        }
        // Title and summary.
        let mut title = shown(&a.titles);
        if title.is_empty() {
            title = id.to_owned();
        }
        let title: String = title.chars().take(300).collect();
        let general = a
            .descriptions
            .iter()
            .find(|d| matches!(d.r#type.as_deref(), None | Some("1")))
            .or(a.descriptions.first());
        let summary = general.map(|d| shown(&d.narratives)).unwrap_or_default();
        // Dates.
        let date_of = |kinds: [&str; 2]| {
            kinds.iter().find_map(|k| {
                a.dates
                    .iter()
                    .find(|d| d.r#type == *k)
                    .map(|d| d.iso_date.as_str())
            })
        };
        let start = date_of(["2", "1"]).map(|d| parse_date("activity-date (start)", d));
        let end = date_of(["4", "3"]).map(|d| parse_date("activity-date (end)", d));
        let (start, end) = match (start, end) {
            (Some(Ok(s)), Some(Ok(e))) => (s, e),
            (Some(Ok(s)), None) => (s, s),
            (None, Some(Ok(e))) => (e, e),
            (None, None) => {
                problems.push("no activity-date of type 1 to 4".into());
                (self.today, self.today)
            }
            (s, e) => {
                for r in [s, e].into_iter().flatten() {
                    if let Err(m) = r {
                        problems.push(m);
                    }
                }
                (self.today, self.today)
            }
        };
        if end < start {
            problems.push(format!(
                "activity-date: the end ({end}) is before the start ({start})"
            ));
        }
        // Status.
        let status = match a.status.as_deref().and_then(status_from_iati) {
            Some(s) => s,
            None => {
                problems.push(format!(
                    "activity-status: expected a code 1 to 6, found {:?}",
                    a.status.as_deref().unwrap_or("")
                ));
                Status::Approved
            }
        };
        // Money.
        let default_currency = a
            .default_currency
            .clone()
            .filter(|c| !c.is_empty())
            .or_else(|| a.budgets.iter().find_map(|b| b.value.currency.clone()))
            .unwrap_or_else(|| "USD".to_owned());
        let currency = match Currency::parse(&default_currency) {
            Ok(c) => c,
            Err(e) => {
                problems.push(format!("default-currency: {e}"));
                Currency::parse("USD").expect("USD is a currency")
            }
        };
        // Budgets: per period, a revised budget replaces the original.
        let mut lines = Vec::new();
        let revised: HashSet<(&str, &str)> = a
            .budgets
            .iter()
            .filter(|b| b.r#type.as_deref() == Some("2"))
            .map(|b| (b.period_start.as_str(), b.period_end.as_str()))
            .collect();
        for (i, b) in a.budgets.iter().enumerate() {
            let period = (b.period_start.as_str(), b.period_end.as_str());
            if b.r#type.as_deref() != Some("2") && revised.contains(&period) {
                continue;
            }
            let what = format!("budget {}", i + 1);
            let cur = b.value.currency.as_deref().unwrap_or(currency.code());
            let on = b.value.value_date.as_deref().unwrap_or(&b.period_start);
            let result = self.money(&what, &b.value.amount, cur).and_then(|m| {
                let on = parse_date(&what, on)?;
                let usd = self.usd(&what, &m, on)?;
                let amount = e4(m.amount, "amount").map_err(|e| format!("{what}: {e}"))?;
                Ok((m, amount, usd))
            });
            match result {
                Ok((m, amount_e4, usd)) => lines.push(Line {
                    category: "IATI budget".into(),
                    description: format!(
                        "{} to {}{}",
                        b.period_start,
                        b.period_end,
                        if b.r#type.as_deref() == Some("2") {
                            " (revised)"
                        } else {
                            ""
                        }
                    ),
                    currency: m.currency.to_string(),
                    amount_e4,
                    usd_e4: usd,
                }),
                Err(m) => problems.push(m),
            }
        }
        let budget_usd_e4: i64 = lines.iter().map(|l| l.usd_e4).sum();
        let budget_e4 = if lines.iter().all(|l| l.currency == currency.code()) {
            lines.iter().map(|l| l.amount_e4).sum()
        } else {
            let one = Money::new(Decimal::ONE, currency).expect("one unit");
            match self.rates.to_usd(&one, self.today) {
                Ok(rate) if !rate.is_zero() => {
                    let usd = Decimal::new(budget_usd_e4, 4);
                    e4((usd / rate).round_dp(4), "budget").unwrap_or(0)
                }
                _ => {
                    problems.push(format!(
                        "budgets in several currencies and no exchange rate for {currency}"
                    ));
                    0
                }
            }
        };
        // Organisations.
        let name = |narratives: &[Narrative], r: Option<&String>| {
            let n = shown(narratives);
            if n.is_empty() {
                r.cloned().unwrap_or_default()
            } else {
                n
            }
        };
        let mut donors: Vec<String> = Vec::new();
        let mut partners: Vec<String> = Vec::new();
        for p in &a.participating_orgs {
            let n = name(&p.narratives, p.r#ref.as_ref());
            if n.is_empty() {
                continue;
            }
            if p.role == "1" {
                if !donors.contains(&n) {
                    donors.push(n);
                }
            } else if matches!(p.role.as_str(), "2" | "3" | "4")
                && (p.r#ref.is_none() || p.r#ref != a.reporting_org.r#ref)
                && !partners.contains(&n)
            {
                partners.push(n);
            }
        }
        // Transactions.
        let mut transactions = Vec::new();
        let mut other_transactions = Vec::new();
        for (i, t) in a.transactions.iter().enumerate() {
            let kind = match t.r#type.trim() {
                "1" => TransactionKind::IncomingFunds,
                "2" => TransactionKind::Commitment,
                "3" => TransactionKind::Disbursement,
                "4" => TransactionKind::Expenditure,
                _ => {
                    other_transactions.push(t.clone());
                    continue;
                }
            };
            let what = format!("transaction {}", i + 1);
            let cur = t.value.currency.as_deref().unwrap_or(currency.code());
            let result = parse_date(&what, &t.date).and_then(|date| {
                let m = self.money(&what, &t.value.amount, cur)?;
                let on = match t.value.value_date.as_deref() {
                    Some(d) => parse_date(&what, d)?,
                    None => date,
                };
                let usd = self.usd(&what, &m, on)?;
                let amount = e4(m.amount, "amount").map_err(|e| format!("{what}: {e}"))?;
                Ok((date, m, amount, usd))
            });
            match result {
                Ok((date, m, amount_e4, usd)) => transactions.push(Txn {
                    position: i,
                    kind,
                    date,
                    currency: m.currency.to_string(),
                    amount_e4,
                    usd_e4: usd,
                    provider: t
                        .provider
                        .as_ref()
                        .map(|o| name(&o.narratives, o.r#ref.as_ref()))
                        .unwrap_or_default(),
                    receiver: t
                        .receiver
                        .as_ref()
                        .map(|o| name(&o.narratives, o.r#ref.as_ref()))
                        .unwrap_or_default(),
                    description: shown(&t.description),
                    detail: json(t),
                }),
                Err(m) => problems.push(m),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let results = plan(&a.results, start, end, None);
        // The parts in the order of the hash (unchanged since hashes were first stored):
        // the reporting organisation, then the packed elements in `elements::NAMES` order.
        let parts = [
            json(&a.reporting_org),
            json(&a.titles),
            json(&a.descriptions),
            json(&a.participating_orgs),
            json(&a.dates),
            json(&a.recipient_countries),
            json(&a.recipient_regions),
            json(&a.locations),
            json(&a.sectors),
            json(&a.budgets),
            json(&other_transactions),
            json(&a.document_links),
            json(&a.results),
            json(&a.extra.elements),
        ];
        let mut hash = sha2::Sha256::new();
        for part in &parts {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part.as_bytes());
        }
        let [reporting_org, elements @ ..] = parts;
        let json = ActivityJson {
            elements: ElementsForm::Json(Box::new(elements)),
            reporting_org,
        };
        let mut mapped = Mapped {
            results,
            json,
            thematic_area: thematic_area(&a),
            activity: a,
            line,
            column,
            title,
            summary,
            unit,
            region,
            primary_country,
            countries,
            start,
            end,
            status,
            currency,
            budget_e4,
            budget_usd_e4,
            lines,
            donors,
            partners,
            transactions,
            fingerprint: String::new(),
        };
        mapped.fingerprint = mapped.fingerprint(hash);
        Ok(mapped)
    }
}

impl Mapped {
    /// A hash of everything the import writes of this activity: `parts`, the hash begun over
    /// the JSON of the reporting organisation and of the elements kept whole (each text's
    /// length, then the text), continued with the other mapped values' `Debug` text, streamed
    /// into the hash (no copy). A new Meridian
    /// version that maps or prints anything differently only makes the next import rewrite
    /// the activity, never skip a changed one.
    fn fingerprint(&self, parts: sha2::Sha256) -> String {
        struct Feed(sha2::Sha256);
        impl std::fmt::Write for Feed {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0.update(s.as_bytes());
                Ok(())
            }
        }
        let mut feed = Feed(parts);
        let a = &self.activity;
        let _ = write!(
            feed,
            "{:?}",
            (
                (&a.identifier, &a.lang, &a.default_currency, &a.humanitarian),
                (&a.hierarchy, &a.last_updated, &a.status),
                (&self.title, &self.summary, self.thematic_area, &self.unit),
                (&self.region, &self.primary_country, &self.countries),
                (self.start, self.end, self.status, self.currency),
                (
                    self.budget_e4,
                    self.budget_usd_e4,
                    &self.lines,
                    &self.donors
                ),
                (&self.partners, &self.transactions, &self.results),
            )
        );
        sha256_named(feed.0.finalize())
    }
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("activity parts serialize")
}

/// A critical finding of the validator: where, and what.
struct Critical {
    line: u64,
    column: u64,
    text: String,
}

/// What the validation said, in the form the import uses.
struct Verdict {
    readable: bool,
    /// Schema and document errors, by line.
    critical: Vec<Critical>,
    data_quality: u64,
}

fn verdict(path: &Path) -> Result<Verdict, String> {
    let file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let options = ValidateOptions {
        max_findings: 200_000,
        // What is refused rests on the schema; the ruleset's findings would only be counted.
        skip_rules: true,
        ..ValidateOptions::default()
    };
    let report = validate(BufReader::with_capacity(256 * 1024, file), &options)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let critical_layer = |l: Layer| matches!(l, Layer::Document | Layer::Schema);
    let mut critical: Vec<Critical> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error && critical_layer(f.layer))
        .map(|f| Critical {
            line: f.line,
            column: f.column,
            text: format!("{}:{} {} {}", f.line, f.column, f.rule_id, f.message),
        })
        .collect();
    critical.sort_by_key(|c| (c.line, c.column));
    let data_quality = report
        .by_rule
        .iter()
        .filter(|(id, _)| !id.starts_with("0."))
        .map(|(_, c)| c.count)
        .sum();
    if report.truncated && critical.is_empty() && !report.passes_critical_checks() {
        critical.push(Critical {
            line: 0,
            column: 0,
            text: "too many findings to place the schema errors".into(),
        });
    }
    Ok(Verdict {
        readable: report.well_formed,
        critical,
        data_quality,
    })
}

/// The critical findings in `[from, to)` lines.
fn findings_between(v: &Verdict, from: u64, to: u64) -> Vec<String> {
    let start = v.critical.partition_point(|c| c.line < from);
    v.critical[start..]
        .iter()
        .take_while(|c| c.line < to)
        .map(|c| c.text.clone())
        .collect()
}

/// Rows for one batch of activities.
struct Writes {
    projects: Rows,
    lines: Rows,
    donors: Rows,
    transactions: Rows,
    iati_transactions: Rows,
    activities: Rows,
    audit: Rows,
    frameworks: Rows,
    periods: Rows,
    results: Rows,
    indicators: Rows,
    targets: Rows,
    reports: Rows,
    values: Rows,
}

impl Writes {
    fn new() -> Self {
        Writes {
            projects: Rows::new(
                "projects",
                &[
                    "id",
                    "code",
                    "title",
                    "summary",
                    "thematic_area",
                    "unit_code",
                    "region_code",
                    "primary_country",
                    "countries",
                    "admin_areas",
                    "start_date",
                    "end_date",
                    "start_year",
                    "currency",
                    "budget_e4",
                    "budget_usd_e4",
                    "donors",
                    "partners",
                    "restricted",
                    "status",
                    "drafted_by",
                    "submitted_by",
                    "created_at",
                    "updated_at",
                    "version",
                ],
            ),
            lines: Rows::new(
                "project_budget_lines",
                &[
                    "id",
                    "project_id",
                    "position",
                    "category",
                    "description",
                    "currency",
                    "amount_e4",
                    "amount_usd_e4",
                ],
            ),
            donors: Rows::new("project_donors", &["project_id", "donor"]),
            transactions: Rows::new(
                "project_transactions",
                &[
                    "id",
                    "project_id",
                    "kind",
                    "date",
                    "currency",
                    "amount_e4",
                    "amount_usd_e4",
                    "provider",
                    "receiver",
                    "description",
                    "created_by",
                    "created_at",
                ],
            ),
            iati_transactions: Rows::new(
                "iati_transactions",
                &["transaction_id", "project_id", "position", "detail"],
            ),
            activities: Rows::new(
                "iati_activities",
                &[
                    "project_id",
                    "identifier",
                    "lang",
                    "default_currency",
                    "humanitarian",
                    "hierarchy",
                    "last_updated",
                    "reporting_org",
                    "activity_status",
                    "elements",
                    "derived",
                    "source_file",
                    "imported_at",
                    "imported_by",
                    "version",
                ],
            ),
            audit: Rows::new(
                "audit_events",
                &[
                    "id",
                    "at",
                    "actor_id",
                    "actor",
                    "action",
                    "entity",
                    "entity_id",
                    "unit_code",
                    "before_json",
                    "after_json",
                ],
            ),
            frameworks: Rows::new("results_frameworks", crate::results::FRAMEWORK_COLUMNS),
            periods: Rows::new("reporting_periods", crate::results::PERIOD_COLUMNS),
            results: Rows::new("results", crate::results::RESULT_COLUMNS),
            indicators: Rows::new(
                "indicators",
                &[
                    "id",
                    "result_id",
                    "project_id",
                    "title",
                    "measure",
                    "direction",
                    "aggregation",
                    "cumulative",
                    "unit",
                    "categories",
                    "baseline_year",
                    "baseline_e4",
                    "baseline_num_e4",
                    "baseline_den_e4",
                    "baseline_text",
                    "means_of_verification",
                    "position",
                    "created_at",
                    "updated_at",
                    "version",
                ],
            ),
            targets: Rows::new("indicator_targets", crate::results::TARGET_COLUMNS),
            reports: Rows::new("indicator_reports", crate::results::REPORT_COLUMNS),
            values: Rows::new(
                "indicator_values",
                &[
                    "indicator_id",
                    "period_start",
                    "disaggregation",
                    "value_e4",
                    "num_e4",
                    "den_e4",
                    "text_value",
                ],
            ),
        }
    }

    async fn write(&mut self, tx: &mut Tx, backend: crate::Backend) -> Result<(), StoreError> {
        // Parents first (foreign keys).
        for rows in [
            &mut self.projects,
            &mut self.lines,
            &mut self.donors,
            &mut self.transactions,
            &mut self.iati_transactions,
            &mut self.activities,
            &mut self.audit,
            &mut self.frameworks,
            &mut self.periods,
            &mut self.results,
            &mut self.indicators,
            &mut self.targets,
            &mut self.reports,
            &mut self.values,
        ] {
            if !rows.is_empty() {
                rows.write(tx, backend).await?;
            }
        }
        Ok(())
    }
}

/// A project an earlier import made, found by identifier.
struct Existing {
    derived: Derived,
    id: String,
    code: String,
    unit: String,
    status: Status,
    title: String,
    version: i64,
}

struct Run<'a> {
    org: &'a Organization,
    actor: &'a Actor,
    rewrite_unchanged: bool,
    source: String,
    now: String,
    seen: HashSet<String>,
    report: ImportReport,
}

impl Store {
    /// Imports an IATI activities file (2.03; see `meridian_formats::iati::legacy` for older
    /// ones). The file is validated first: schema errors refuse the activity they are in (or
    /// the file, outside any activity); codelist and ruleset findings are counted, not
    /// refused. Each activity is then mapped onto a project (see the module documentation)
    /// and written, in batches, in one transaction with one audit event per project.
    ///
    /// All or nothing by default: any refused activity (or broken XML) leaves the database as
    /// it was. With `keep_valid`, the activities that pass are imported and the others
    /// listed. Re-importing updates the projects by identifier and keeps what Meridian owns:
    /// the code, office, thematic area, restriction, history, comments, revisions, documents
    /// and the transactions recorded in Meridian; the status follows the file only when the
    /// file's status says something else than the project's.
    pub async fn import_iati(
        &self,
        org: &Organization,
        actor: &Actor,
        path: &Path,
        options: &ImportOptions,
    ) -> Result<ImportReport, StoreError> {
        let started = std::time::Instant::now();
        let default_unit = match &options.default_unit {
            Some(code) => {
                let unit = UnitCode::parse(code.trim())
                    .map_err(|m| StoreError::invalid("default_unit", m))?;
                if org.unit(unit.as_str()).is_none() {
                    return Err(StoreError::invalid(
                        "default_unit",
                        format!("unknown unit code {unit}"),
                    ));
                }
                authorize(org, actor, Action::DraftProject, &unit)?;
                Some(unit)
            }
            None => None,
        };
        let source = options
            .source_name
            .clone()
            .unwrap_or_else(|| path.display().to_string());
        let mut report = ImportReport {
            file: source.clone(),
            bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            readable: true,
            ..ImportReport::default()
        };
        let countries = Countries::builtin();
        let ctx = Ctx {
            org: org.clone(),
            actor: actor.clone(),
            iso3: countries
                .iter()
                .map(|c| (c.iso2.to_ascii_uppercase(), c.iso3.clone()))
                .collect(),
            rates: self.rate_table().await?,
            default_unit,
            today: time::OffsetDateTime::now_utc().date(),
            batch: batch_size(self.backend()),
        };
        // Validation runs beside the import (all or nothing: its verdict decides the commit),
        // or before it (keep_valid: it decides which activities are written).
        let owned = path.to_path_buf();
        let mut validation = Some(tokio::task::spawn_blocking(move || verdict(&owned)));
        let mut verdict_first = None;
        if options.keep_valid {
            let v = validation
                .take()
                .expect("started")
                .await
                .map_err(|e| StoreError::Corrupt(format!("validation stopped: {e}")))?;
            match v {
                Ok(v) => verdict_first = Some(v),
                Err(m) => {
                    report.readable = false;
                    report.file_errors.push(m);
                    report.seconds = started.elapsed().as_secs_f64();
                    return Ok(report);
                }
            }
        }
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                report.readable = false;
                report
                    .file_errors
                    .push(format!("cannot read {}: {e}", path.display()));
                report.seconds = started.elapsed().as_secs_f64();
                return Ok(report);
            }
        };
        let mut run = Run {
            org,
            actor,
            rewrite_unchanged: options.rewrite_unchanged,
            source,
            now: now_text(),
            seen: HashSet::new(),
            report,
        };
        // Reading and mapping run on a thread of their own; this task writes the batches as
        // they come (two in flight at most: memory stays flat).
        let (feed, mut batches) = tokio::sync::mpsc::channel::<Feed>(2);
        let known = (!options.rewrite_unchanged).then(|| Known {
            store: self.clone(),
            runtime: tokio::runtime::Handle::current(),
        });
        let reading = tokio::task::spawn_blocking(move || {
            read_and_map(&ctx, file, verdict_first, known, feed)
        });
        let mut tx = self.begin().await?;
        // Each batch is prepared here (reads in the transaction), its rows built on a blocking
        // thread while the batch before is written, then written: the connection does not wait
        // for the rows to be built.
        let backend = self.backend();
        type Building = tokio::task::JoinHandle<Result<Built, StoreError>>;
        let mut building: Option<(Building, ImportProgress)> = None;
        loop {
            let next = batches.recv().await;
            let started = match next {
                Some(Feed {
                    batch,
                    bytes_read,
                    activities,
                }) => {
                    let prepared = self.prepare_batch(&mut tx, &mut run, batch).await?;
                    let ctx = BuildCtx {
                        actor: actor.clone(),
                        label: actor.label(),
                        now: run.now.clone(),
                        source: run.source.clone(),
                    };
                    let progress = ImportProgress {
                        bytes_read,
                        bytes_total: run.report.bytes,
                        activities,
                    };
                    Some((
                        tokio::task::spawn_blocking(move || build_batch(&ctx, prepared)),
                        progress,
                    ))
                }
                None => None,
            };
            if let Some((built, progress)) = building.take() {
                let built = built
                    .await
                    .map_err(|e| StoreError::Corrupt(format!("building rows stopped: {e}")))??;
                built
                    .write(&mut tx, backend, &run.now, &mut run.report)
                    .await?;
                if let Some(Progress(tell)) = &options.progress {
                    tell(progress);
                }
            }
            match started {
                Some(started) => building = Some(started),
                None => break,
            }
        }
        let read = reading
            .await
            .map_err(|e| StoreError::Corrupt(format!("reading stopped: {e}")))?;
        let verdict_first = read.verdict_first;
        let starts = read.starts;
        run.report.activities = read.activities;
        run.report.refused.extend(read.refused);
        for (name, count) in read.dropped {
            *run.report.dropped.entry(name).or_default() += count;
        }
        if let Some(e) = read.fatal {
            run.report.readable = false;
            run.report.file_errors.push(e);
        }
        let mut report = run.report;
        // The verdict, for all or nothing.
        let verdict = match verdict_first {
            Some(v) => Some(v),
            None => match validation.take().expect("started").await {
                Ok(Ok(v)) => Some(v),
                Ok(Err(m)) => {
                    report.readable = false;
                    report.file_errors.push(m);
                    None
                }
                Err(e) => return Err(StoreError::Corrupt(format!("validation stopped: {e}"))),
            },
        };
        if let Some(v) = &verdict {
            report.data_quality_findings = v.data_quality;
            if !v.readable {
                report.readable = false;
            }
            let first = starts.first().map_or(u64::MAX, |s| s.0);
            for c in v.critical.iter().filter(|c| c.line < first) {
                report.file_errors.push(c.text.clone());
            }
            if !options.keep_valid {
                // Place each critical finding in its activity.
                let mut by_activity: BTreeMap<usize, Vec<String>> = BTreeMap::new();
                for c in v.critical.iter().filter(|c| c.line >= first) {
                    let i = starts.partition_point(|s| s.0 <= c.line) - 1;
                    by_activity.entry(i).or_default().push(c.text.clone());
                }
                for (i, reasons) in by_activity {
                    let (line, column, identifier) = starts[i].clone();
                    report.refused.push(Refusal {
                        identifier,
                        line,
                        column,
                        reasons,
                    });
                }
            }
        }
        report.refused.sort_by_key(|r| (r.line, r.column));
        let commit = report.readable
            && report.file_errors.is_empty()
            && (options.keep_valid || report.refused.is_empty());
        if commit {
            let mut change =
                Change::new("iati_import", "file", &report.file).after(serde_json::json!({
                    "file": report.file, "bytes": report.bytes, "activities": report.activities,
                    "created": report.created, "updated": report.updated,
                    "unchanged": report.unchanged, "refused": report.refused.len(),
                }));
            if let Some(unit) = &options.default_unit {
                change = change.before(serde_json::json!({ "default_unit": unit }));
            }
            crate::audit::record(&mut tx, actor, change).await?;
            tx.commit().await?;
            report.committed = true;
        } else {
            drop(tx);
            report.created = 0;
            report.updated = 0;
            report.results = 0;
            report.indicators = 0;
            report.reports = 0;
            report.results_not_mapped.clear();
        }
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// What a batch needs from the database before its rows can be built (in the import's
    /// transaction): which activities were imported before, new projects' codes, refusals,
    /// unchanged activities, and what the earlier import wrote of those updated (deleted
    /// here, but for the transactions recorded in Meridian).
    async fn prepare_batch(
        &self,
        tx: &mut Tx,
        run: &mut Run<'_>,
        batch: Vec<Mapped>,
    ) -> Result<Prepared, StoreError> {
        if batch.is_empty() {
            return Ok(Prepared::default());
        }
        // Which identifiers are there already.
        let mut sql = String::from(
            "SELECT i.identifier, i.derived, p.id, p.code, p.unit_code, p.status, p.title, \
             p.version \
             FROM iati_activities i JOIN projects p ON p.id = i.project_id WHERE i.identifier IN (",
        );
        for i in 0..batch.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", i + 1));
        }
        sql.push(')');
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in &batch {
            q = q.bind(m.activity.identifier.trim().to_owned());
        }
        let mut existing: HashMap<String, Existing> = HashMap::new();
        for row in q.fetch_all(&mut **tx).await? {
            let status: String = row.try_get("status")?;
            let derived: String = row.try_get("derived")?;
            existing.insert(
                row.try_get("identifier")?,
                Existing {
                    derived: serde_json::from_str(&derived).map_err(|e| {
                        StoreError::Corrupt(format!("iati_activities.derived: {e}"))
                    })?,
                    id: row.try_get("id")?,
                    code: row.try_get("code")?,
                    unit: row.try_get("unit_code")?,
                    status: Status::parse(&status).map_err(StoreError::Corrupt)?,
                    title: row.try_get("title")?,
                    version: row.try_get("version")?,
                },
            );
        }
        // Codes for the new projects, one sequence step per office and year.
        let mut wanted: BTreeMap<(String, i64), i64> = BTreeMap::new();
        for m in &batch {
            if !existing.contains_key(m.activity.identifier.trim()) {
                *wanted
                    .entry((m.unit.to_string(), i64::from(m.start.year())))
                    .or_default() += 1;
            }
        }
        let mut next_code: HashMap<(String, i64), i64> = HashMap::new();
        for ((unit, year), n) in &wanted {
            let last: i64 = sqlx::query(
                "INSERT INTO project_sequences (unit_code, year, last_value) VALUES ($1, $2, $3) \
                 ON CONFLICT (unit_code, year) DO UPDATE SET last_value = project_sequences.last_value + $3 \
                 RETURNING last_value",
            )
            .bind(unit)
            .bind(*year)
            .bind(*n)
            .fetch_one(&mut **tx)
            .await?
            .try_get("last_value")?;
            next_code.insert((unit.clone(), *year), last - n + 1);
        }
        let actor = run.actor;
        // First what is refused before anything is written: identifiers seen before in the
        // file, projects the actor may not change.
        let mut accepted: Vec<Mapped> = Vec::with_capacity(batch.len());
        for m in batch {
            let identifier = m.activity.identifier.trim().to_owned();
            let refusal = if !run.seen.insert(identifier.clone()) {
                Some("the identifier appears more than once in the file".to_owned())
            } else if let Some(e) = existing.get(&identifier) {
                let unit = UnitCode::parse(&e.unit).map_err(StoreError::Corrupt)?;
                authorize(run.org, actor, Action::DraftProject, &unit)
                    .err()
                    .map(|d| d.to_string())
            } else {
                None
            };
            match refusal {
                Some(reason) => run.report.refused.push(Refusal {
                    identifier: Some(identifier),
                    line: m.line,
                    column: m.column,
                    reasons: vec![reason],
                }),
                None => accepted.push(m),
            }
        }
        // Activities that map to what the last import of them wrote stay as they are.
        if !run.rewrite_unchanged {
            let before = accepted.len();
            accepted.retain(|m| {
                existing
                    .get(m.activity.identifier.trim())
                    .is_none_or(|e| e.derived.source.as_deref() != Some(m.fingerprint.as_str()))
            });
            run.report.unchanged += (before - accepted.len()) as u64;
        }
        // What the earlier import wrote of the projects updated now goes, in a few statements;
        // the transactions recorded in Meridian stay.
        let updated: Vec<String> = accepted
            .iter()
            .filter_map(|m| existing.get(m.activity.identifier.trim()))
            .map(|e| e.id.clone())
            .collect();
        let framework = self
            .earlier_results(tx, &existing, &mut accepted, &updated)
            .await?;
        let mut own: HashMap<String, Vec<(String, String, String, i64)>> = HashMap::new();
        for chunk in updated.chunks(IN_LIST) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            for sql in [
                format!("DELETE FROM project_budget_lines WHERE project_id IN ({list})"),
                format!("DELETE FROM project_donors WHERE project_id IN ({list})"),
                format!(
                    "DELETE FROM project_transactions WHERE id IN \
                     (SELECT transaction_id FROM iati_transactions WHERE project_id IN ({list}))"
                ),
                format!("DELETE FROM iati_transactions WHERE project_id IN ({list})"),
                format!("DELETE FROM iati_activities WHERE project_id IN ({list})"),
                format!("DELETE FROM project_keys WHERE project_id IN ({list})"),
            ] {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(id);
                }
                q.execute(&mut **tx).await?;
            }
            let sql = format!(
                "SELECT project_id, kind, date, currency, amount_e4 FROM project_transactions \
                 WHERE project_id IN ({list})"
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(&mut **tx).await? {
                own.entry(r.try_get("project_id")?).or_default().push((
                    r.try_get("kind")?,
                    r.try_get("date")?,
                    r.try_get("currency")?,
                    r.try_get("amount_e4")?,
                ));
            }
        }
        Ok(Prepared {
            accepted,
            existing,
            next_code,
            framework,
            own,
        })
    }
}

/// What the building of a batch's rows needs of the run (owned: it runs on a blocking
/// thread while the previous batch is written).
struct BuildCtx {
    actor: Actor,
    label: String,
    now: String,
    source: String,
}

/// What [`Store::prepare_batch`] read for a batch.
#[derive(Default)]
struct Prepared {
    accepted: Vec<Mapped>,
    existing: HashMap<String, Existing>,
    next_code: HashMap<(String, i64), i64>,
    framework: HashMap<String, Earlier>,
    own: HashMap<String, Vec<(String, String, String, i64)>>,
}

/// A project an earlier import made, with the file's new values.
struct ProjectUpdate {
    id: String,
    title: String,
    summary: String,
    primary_country: String,
    countries: String,
    start_date: String,
    end_date: String,
    start_year: i64,
    currency: String,
    budget_e4: i64,
    budget_usd_e4: i64,
    donors: String,
    partners: String,
    status: String,
}

/// A batch's rows, built; [`Built::write`] writes them.
struct Built {
    w: Writes,
    keyed: Vec<KeyedProject>,
    updates: Vec<ProjectUpdate>,
    created: u64,
    updated: u64,
    results: u64,
    indicators: u64,
    reports: u64,
    notes: Vec<ResultsNote>,
}

/// Builds the rows of a prepared batch: no database work, so that it can run beside the
/// writing of the batch before.
fn build_batch(ctx: &BuildCtx, mut p: Prepared) -> Result<Built, StoreError> {
    let mut b = Built {
        w: Writes::new(),
        keyed: Vec::with_capacity(p.accepted.len()),
        updates: Vec::new(),
        created: 0,
        updated: 0,
        results: 0,
        indicators: 0,
        reports: 0,
        notes: Vec::new(),
    };
    let accepted = std::mem::take(&mut p.accepted);
    for m in accepted {
        let identifier = m.activity.identifier.trim().to_owned();
        let mut derived = Derived {
            source: Some(m.fingerprint.clone()),
            title: m.title.clone(),
            summary: Derived::summary_of(&m.summary),
            start_date: m.start.to_string(),
            end_date: m.end.to_string(),
            status: m.status.as_str().to_owned(),
            lines: m.lines.clone(),
            donors: m.donors.clone(),
            results: Vec::new(),
        };
        let (project_id, unit, code, verb, before, mut own_transactions) =
            match p.existing.get(&identifier) {
                Some(e) => {
                    let unit = UnitCode::parse(&e.unit).map_err(StoreError::Corrupt)?;
                    // The status follows the file only when the file says something else.
                    let status = if status_to_iati(e.status)
                        == m.activity.status.as_deref().unwrap_or("").trim()
                    {
                        e.status
                    } else {
                        m.status
                    };
                    b.updates.push(ProjectUpdate {
                        id: e.id.clone(),
                        title: m.title.clone(),
                        summary: m.summary.clone(),
                        primary_country: m.primary_country.clone(),
                        countries: json(&m.countries),
                        start_date: m.start.to_string(),
                        end_date: m.end.to_string(),
                        start_year: i64::from(m.start.year()),
                        currency: m.currency.to_string(),
                        budget_e4: m.budget_e4,
                        budget_usd_e4: m.budget_usd_e4,
                        donors: json(&m.donors),
                        partners: json(&m.partners),
                        status: status.as_str().to_owned(),
                    });
                    let own = p.own.remove(&e.id).unwrap_or_default();
                    b.updated += 1;
                    b.keyed.push(KeyedProject {
                        id: e.id.clone(),
                        code: e.code.clone(),
                        title: m.title.clone(),
                        donors: m.donors.clone(),
                    });
                    (
                        e.id.clone(),
                        unit,
                        e.code.clone(),
                        "iati_update",
                        Some(serde_json::json!({
                            "title": e.title, "status": e.status, "version": e.version,
                        })),
                        own,
                    )
                }
                None => {
                    let year = i64::from(m.start.year());
                    let key = (m.unit.to_string(), year);
                    let seq = p.next_code.get_mut(&key).expect("a code was reserved");
                    let code = format!("{}-{year}-{:04}", m.unit, *seq);
                    *seq += 1;
                    let id = new_id();
                    b.w.projects.push([
                        V::T(id.clone()),
                        V::T(code.clone()),
                        V::T(m.title.clone()),
                        V::T(m.summary.clone()),
                        V::T(m.thematic_area.to_owned()),
                        V::T(m.unit.to_string()),
                        V::T(m.region.to_string()),
                        V::T(m.primary_country.clone()),
                        V::T(json(&m.countries)),
                        V::T("[]".into()),
                        V::T(m.start.to_string()),
                        V::T(m.end.to_string()),
                        V::I(year),
                        V::T(m.currency.to_string()),
                        V::I(m.budget_e4),
                        V::I(m.budget_usd_e4),
                        V::T(json(&m.donors)),
                        V::T(json(&m.partners)),
                        V::I(0),
                        V::T(m.status.as_str().to_owned()),
                        V::T(
                            ctx.actor
                                .user_id()
                                .map_or_else(|| ctx.label.clone(), str::to_owned),
                        ),
                        V::OT(None),
                        V::T(ctx.now.clone()),
                        V::T(ctx.now.clone()),
                        V::I(1),
                    ]);
                    b.created += 1;
                    b.keyed.push(KeyedProject {
                        id: id.clone(),
                        code: code.clone(),
                        title: m.title.clone(),
                        donors: m.donors.clone(),
                    });
                    (id, m.unit.clone(), code, "iati_import", None, Vec::new())
                }
            };
        for (i, l) in m.lines.iter().enumerate() {
            b.w.lines.push([
                V::T(new_id()),
                V::T(project_id.clone()),
                V::I(i as i64),
                V::T(l.category.clone()),
                V::T(l.description.clone()),
                V::T(l.currency.clone()),
                V::I(l.amount_e4),
                V::I(l.usd_e4),
            ]);
        }
        for d in &m.donors {
            b.w.donors.push([V::T(project_id.clone()), V::T(d.clone())]);
        }
        let mut written_transactions = 0;
        for t in &m.transactions {
            let key = (
                t.kind.as_str().to_owned(),
                t.date.to_string(),
                t.currency.clone(),
                t.amount_e4,
            );
            if let Some(i) = own_transactions.iter().position(|o| *o == key) {
                own_transactions.swap_remove(i);
                continue;
            }
            let tid = new_id();
            b.w.transactions.push([
                V::T(tid.clone()),
                V::T(project_id.clone()),
                V::T(t.kind.as_str().to_owned()),
                V::T(t.date.to_string()),
                V::T(t.currency.clone()),
                V::I(t.amount_e4),
                V::I(t.usd_e4),
                V::T(t.provider.clone()),
                V::T(t.receiver.clone()),
                V::T(t.description.clone()),
                V::T(ctx.label.clone()),
                V::T(ctx.now.clone()),
            ]);
            b.w.iati_transactions.push([
                V::T(tid),
                V::T(project_id.clone()),
                V::I(t.position as i64),
                V::T(t.detail.clone()),
            ]);
            written_transactions += 1;
        }
        // Results, into the framework.
        let earlier = p.framework.remove(&project_id).unwrap_or_default();
        let written = write_plan(
            &mut b.w,
            &project_id,
            &m.results,
            earlier,
            &ctx.now,
            &ctx.label,
        )?;
        b.results += written.results;
        b.indicators += written.indicators;
        b.reports += written.reports;
        let (results, indicators, reports) = (written.results, written.indicators, written.reports);
        let mut notes = m.results.notes.clone();
        for d in &written.kept {
            notes.push(format!(
                "result {}: changed in Meridian since the last import; Meridian's version is kept and the file's is not mapped",
                d.index + 1
            ));
        }
        derived.results = written.derived;
        let not_mapped = notes.len();
        if !notes.is_empty() {
            b.notes.push(ResultsNote {
                identifier: identifier.clone(),
                line: m.line,
                notes,
            });
        }
        let a = &m.activity;
        let ActivityJson {
            reporting_org,
            elements,
        } = m.json;
        b.w.activities.push([
            V::T(project_id.clone()),
            V::T(identifier.clone()),
            V::OT(a.lang.clone()),
            V::OT(a.default_currency.clone()),
            V::OT(a.humanitarian.clone()),
            V::OT(a.hierarchy.clone()),
            V::OT(a.last_updated.clone()),
            V::T(reporting_org),
            V::OT(a.status.clone()),
            V::B(elements.packed()),
            V::T(json(&derived)),
            V::T(ctx.source.clone()),
            V::T(ctx.now.clone()),
            V::T(ctx.label.clone()),
            V::I(1),
        ]);
        let after = serde_json::json!({
            "identifier": identifier, "code": code, "title": m.title,
            "status": m.status, "budget_usd": crate::projects::from_e4(m.budget_usd_e4),
            "budget_lines": m.lines.len(), "transactions": written_transactions,
            "results": results, "indicators": indicators, "reports": reports,
            "results_not_mapped": not_mapped,
            "file": ctx.source,
        });
        b.w.audit.push([
            V::T(new_id()),
            V::T(now_text()),
            V::OT(ctx.actor.user_id().map(str::to_owned)),
            V::T(ctx.label.clone()),
            V::T(format!("project.{verb}")),
            V::T("project".into()),
            V::T(project_id),
            V::OT(Some(unit.to_string())),
            V::OT(before.map(|b| b.to_string())),
            V::OT(Some(after.to_string())),
        ]);
    }
    Ok(b)
}

impl Built {
    /// Writes the batch in the import's transaction and counts it in the report.
    async fn write(
        mut self,
        tx: &mut Tx,
        backend: crate::Backend,
        now: &str,
        report: &mut ImportReport,
    ) -> Result<(), StoreError> {
        for u in &self.updates {
            sqlx::query(
                "UPDATE projects SET title = $2, summary = $3, primary_country = $4, \
                 countries = $5, start_date = $6, end_date = $7, start_year = $8, \
                 currency = $9, budget_e4 = $10, budget_usd_e4 = $11, donors = $12, \
                 partners = $13, status = $14, updated_at = $15, version = version + 1 \
                 WHERE id = $1",
            )
            .bind(&u.id)
            .bind(&u.title)
            .bind(&u.summary)
            .bind(&u.primary_country)
            .bind(&u.countries)
            .bind(&u.start_date)
            .bind(&u.end_date)
            .bind(u.start_year)
            .bind(&u.currency)
            .bind(u.budget_e4)
            .bind(u.budget_usd_e4)
            .bind(&u.donors)
            .bind(&u.partners)
            .bind(&u.status)
            .bind(now)
            .execute(&mut **tx)
            .await?;
        }
        self.w.write(tx, backend).await?;
        // The portfolio's keyed index (donor and text search).
        insert_keys(tx, backend, &self.keyed).await?;
        report.created += self.created;
        report.updated += self.updated;
        report.results += self.results;
        report.indicators += self.indicators;
        report.reports += self.reports;
        report.results_not_mapped.extend(self.notes);
        Ok(())
    }
}

/// A batch of mapped activities, from the reading thread to the writer.
struct Feed {
    batch: Vec<Mapped>,
    bytes_read: u64,
    activities: u64,
}

/// What the reading thread found, at the end.
#[derive(Default)]
struct ReadEnd {
    activities: u64,
    refused: Vec<Refusal>,
    dropped: BTreeMap<String, u64>,
    /// Activity start lines, to place the validator's findings (all or nothing).
    starts: Vec<(u64, u64, Option<String>)>,
    /// A fatal error (broken XML, I/O): nothing is committed.
    fatal: Option<String>,
    verdict_first: Option<Verdict>,
}

/// Reads the file and maps each activity (on a thread of its own, beside the writer and the
/// validator), handing batches of [`batch_size`] mapped activities to `out`. With `verdict_first`
/// (keep_valid), activities with schema errors are refused here.
fn read_and_map(
    ctx: &Ctx,
    file: File,
    verdict_first: Option<Verdict>,
    known: Option<Known>,
    out: tokio::sync::mpsc::Sender<Feed>,
) -> ReadEnd {
    let mut end = ReadEnd::default();
    let mut reader = ActivityReader::new(BufReader::with_capacity(256 * 1024, file));
    let mut batch: Vec<Mapped> = Vec::with_capacity(ctx.batch);
    let mut pending: Option<(Activity, u64, u64)> = None;
    loop {
        let item = reader.next();
        let boundary = match &item {
            Some(Ok(_)) => reader.activity_position().0,
            Some(Err(e)) => e.line,
            None => u64::MAX,
        };
        // The activity before this one is complete: its findings are known (keep_valid).
        if let Some((a, line, column)) = pending.take() {
            let findings = verdict_first
                .as_ref()
                .map(|v| findings_between(v, line, boundary))
                .unwrap_or_default();
            if findings.is_empty() {
                let identifier = a.identifier.clone();
                match ctx.map(a, line, column) {
                    Ok(m) => batch.push(m),
                    Err(reasons) => end.refused.push(Refusal {
                        identifier: Some(identifier),
                        line,
                        column,
                        reasons,
                    }),
                }
            } else {
                end.refused.push(Refusal {
                    identifier: Some(a.identifier),
                    line,
                    column,
                    reasons: findings,
                });
            }
        }
        if batch.len() >= ctx.batch {
            pack_written(&mut batch, known.as_ref());
            let feed = Feed {
                batch: std::mem::replace(&mut batch, Vec::with_capacity(ctx.batch)),
                bytes_read: reader.bytes_read(),
                activities: end.activities,
            };
            if out.blocking_send(feed).is_err() {
                // The writer stopped (an error): nothing more to do.
                return end;
            }
        }
        match item {
            Some(Ok(a)) => {
                end.activities += 1;
                for (k, v) in &a.extra.elements {
                    *end.dropped.entry(k.clone()).or_default() += v;
                }
                let (line, column) = reader.activity_position();
                end.starts.push((line, column, Some(a.identifier.clone())));
                pending = Some((a, line, column));
            }
            Some(Err(e)) if e.kind == ReadErrorKind::Activity => {
                end.activities += 1;
                end.starts.push((e.line, e.column, None));
                end.refused.push(Refusal {
                    identifier: None,
                    line: e.line,
                    column: e.column,
                    reasons: vec![e.message],
                });
            }
            Some(Err(e)) => {
                end.fatal = Some(e.to_string());
                break;
            }
            None => break,
        }
    }
    if !batch.is_empty() && end.fatal.is_none() {
        pack_written(&mut batch, known.as_ref());
        let feed = Feed {
            batch,
            bytes_read: reader.bytes_read(),
            activities: end.activities,
        };
        let _ = out.blocking_send(feed);
    }
    for (name, count) in &reader.skipped().elements {
        *end.dropped.entry(name.clone()).or_default() += count;
    }
    end.verdict_first = verdict_first;
    end
}

/// The store, from the mapping thread: which activities of a batch are stored with the
/// fingerprint they map to now (and are then not written: see [`Run::rewrite_unchanged`]).
struct Known {
    store: Store,
    runtime: tokio::runtime::Handle,
}

/// Packs the elements of the activities of a batch that are likely to be written, on the
/// mapping thread: all but those stored with the same fingerprint (read on a connection of
/// their own, outside the import's transaction). It is only a guess at what the writer will
/// decide; an activity it skipped that must be written after all is packed by the writer.
fn pack_written(batch: &mut [Mapped], known: Option<&Known>) {
    let stored = match known {
        Some(k) => {
            let identifiers: Vec<&str> =
                batch.iter().map(|m| m.activity.identifier.trim()).collect();
            k.runtime
                .block_on(k.store.import_fingerprints(&identifiers))
                .unwrap_or_else(|e| {
                    tracing::debug!(error = %e, "the stored fingerprints could not be read");
                    HashMap::new()
                })
        }
        None => HashMap::new(),
    };
    for m in batch {
        if stored.get(m.activity.identifier.trim()) != Some(&m.fingerprint) {
            m.json.pack();
        }
    }
}

impl Store {
    /// Identifier → the fingerprint its last import stored ([`Derived::source`]), for those
    /// of `identifiers` that were imported.
    async fn import_fingerprints(
        &self,
        identifiers: &[&str],
    ) -> Result<HashMap<String, String>, StoreError> {
        #[derive(serde::Deserialize)]
        struct Source {
            source: Option<String>,
        }
        let mut out = HashMap::new();
        for chunk in identifiers.chunks(IN_LIST) {
            let sql = format!(
                "SELECT identifier, derived FROM iati_activities WHERE identifier IN ({})",
                in_list(chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                let derived: String = r.try_get("derived")?;
                let derived: Source = serde_json::from_str(&derived)
                    .map_err(|e| StoreError::Corrupt(format!("iati_activities.derived: {e}")))?;
                if let Some(source) = derived.source {
                    out.insert(r.try_get("identifier")?, source);
                }
            }
        }
        Ok(out)
    }
}

/// What a re-import finds of the results an earlier import made.
#[derive(Default)]
struct Earlier {
    /// Results made by an earlier import and changed in Meridian since: they stay as they are.
    kept: Vec<DerivedResult>,
    /// The project keeps its reporting frequency and periods (it has reports): their starts.
    stays: Option<HashSet<String>>,
}

/// What [`write_plan`] wrote.
struct Written {
    results: u64,
    indicators: u64,
    reports: u64,
    kept: Vec<DerivedResult>,
    derived: Vec<DerivedResult>,
}

fn in_list(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// For the projects a batch updates: removes the results an earlier import made that
    /// nobody changed since (the file's replace them), keeps the others, and settles the
    /// reporting frequency: a project with reports keeps its frequency and periods (the file's
    /// results are mapped onto them), one without gets the frequency the file fits best.
    async fn earlier_results(
        &self,
        tx: &mut Tx,
        existing: &HashMap<String, Existing>,
        accepted: &mut [Mapped],
        updated: &[String],
    ) -> Result<HashMap<String, Earlier>, StoreError> {
        let mut out: HashMap<String, Earlier> = HashMap::new();
        if updated.is_empty() {
            return Ok(out);
        }
        let imported: Vec<(&str, &DerivedResult)> = accepted
            .iter()
            .filter_map(|m| existing.get(m.activity.identifier.trim()))
            .flat_map(|e| e.derived.results.iter().map(|d| (e.id.as_str(), d)))
            .collect();
        let by_id: HashMap<&str, (&str, &DerivedResult)> = imported
            .iter()
            .map(|(p, d)| (d.id.as_str(), (*p, *d)))
            .collect();
        for chunk in imported.chunks(IN_LIST) {
            let list = in_list(chunk.len());
            // Changed since the import: the result, one of its indicators or reports has
            // another time than the import's.
            let sql = format!(
                "SELECT r.id, CAST(CASE WHEN r.updated_at <> a.imported_at OR EXISTS \
                 (SELECT 1 FROM indicators i WHERE i.result_id = r.id AND (i.updated_at <> a.imported_at \
                 OR EXISTS (SELECT 1 FROM indicator_reports ir WHERE ir.indicator_id = i.id \
                 AND ir.updated_at <> a.imported_at))) THEN 1 ELSE 0 END AS BIGINT) AS changed \
                 FROM results r JOIN iati_activities a ON a.project_id = r.project_id \
                 WHERE r.id IN ({list})"
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (_, d) in chunk {
                q = q.bind(&d.id);
            }
            let mut replaced: Vec<String> = Vec::new();
            for row in q.fetch_all(&mut **tx).await? {
                let id: String = row.try_get("id")?;
                let changed: i64 = row.try_get("changed")?;
                let Some((project, d)) = by_id.get(id.as_str()) else {
                    continue;
                };
                if changed == 1 {
                    out.entry((*project).to_owned())
                        .or_default()
                        .kept
                        .push((*d).clone());
                } else {
                    replaced.push(id);
                }
            }
            if replaced.is_empty() {
                continue;
            }
            let list = in_list(replaced.len());
            let of_indicators = format!("SELECT id FROM indicators WHERE result_id IN ({list})");
            for sql in [
                format!("DELETE FROM indicator_values WHERE indicator_id IN ({of_indicators})"),
                format!("DELETE FROM indicator_reports WHERE indicator_id IN ({of_indicators})"),
                format!("DELETE FROM indicator_targets WHERE indicator_id IN ({of_indicators})"),
                format!("DELETE FROM indicators WHERE result_id IN ({list})"),
                format!("DELETE FROM results WHERE id IN ({list})"),
            ] {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in &replaced {
                    q = q.bind(id);
                }
                q.execute(&mut **tx).await?;
            }
        }
        // The frameworks of the updated projects, with the reports left.
        let mut frameworks: HashMap<String, (String, i64)> = HashMap::new();
        for chunk in updated.chunks(IN_LIST) {
            let sql = format!(
                "SELECT f.project_id, f.frequency, (SELECT COUNT(*) FROM indicator_reports r \
                 WHERE r.project_id = f.project_id) AS n FROM results_frameworks f \
                 WHERE f.project_id IN ({})",
                in_list(chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&mut **tx).await? {
                frameworks.insert(
                    row.try_get("project_id")?,
                    (row.try_get("frequency")?, row.try_get("n")?),
                );
            }
        }
        for m in accepted.iter_mut() {
            let Some(e) = existing.get(m.activity.identifier.trim()) else {
                continue;
            };
            let Some((frequency, reports)) = frameworks.get(&e.id) else {
                continue;
            };
            let frequency: Frequency = crate::results::corrupt(frequency)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let earlier = out.entry(e.id.clone()).or_default();
            if *reports > 0 || m.results.frequency.is_none() {
                // The frequency and periods stay; the file's periods are mapped onto them.
                if *reports > 0 && m.results.frequency.is_some_and(|f| f != frequency) {
                    let notes = std::mem::take(&mut m.results.notes);
                    m.results = plan(&m.activity.results, m.start, m.end, Some(frequency));
                    if m.results.notes.is_empty() {
                        m.results.notes = notes;
                    }
                    m.results.notes.insert(
                        0,
                        format!(
                            "the project already has reports by {frequency} periods; the file's periods are mapped onto them"
                        ),
                    );
                }
                let starts: HashSet<String> =
                    sqlx::query("SELECT period_start FROM reporting_periods WHERE project_id = $1")
                        .bind(&e.id)
                        .fetch_all(&mut **tx)
                        .await?
                        .iter()
                        .map(|r| r.try_get("period_start"))
                        .collect::<Result<_, _>>()?;
                earlier.stays = Some(starts);
            } else {
                // No report left: the file's frequency and the project's current dates.
                if m.results.frequency != Some(frequency) {
                    sqlx::query(
                        "DELETE FROM indicator_targets WHERE indicator_id IN \
                         (SELECT id FROM indicators WHERE project_id = $1)",
                    )
                    .bind(&e.id)
                    .execute(&mut **tx)
                    .await?;
                }
                for sql in [
                    "DELETE FROM reporting_periods WHERE project_id = $1",
                    "DELETE FROM results_frameworks WHERE project_id = $1",
                ] {
                    sqlx::query(sql).bind(&e.id).execute(&mut **tx).await?;
                }
            }
        }
        Ok(out)
    }
}

/// Adds the rows of an activity's results to the batch: the framework and periods (unless the
/// project keeps its own), results, indicators, targets and approved reports.
fn write_plan(
    w: &mut Writes,
    project_id: &str,
    plan: &Plan,
    earlier: Earlier,
    now: &str,
    who: &str,
) -> Result<Written, StoreError> {
    let mut written = Written {
        results: 0,
        indicators: 0,
        reports: 0,
        kept: Vec::new(),
        derived: Vec::new(),
    };
    let kept_index: HashSet<usize> = earlier.kept.iter().map(|d| d.index).collect();
    written.derived.extend(earlier.kept.iter().cloned());
    written.kept = earlier.kept;
    let todo: Vec<_> = plan
        .results
        .iter()
        .filter(|r| !kept_index.contains(&r.index))
        .collect();
    let starts: HashSet<String> = match (&earlier.stays, plan.frequency) {
        (Some(starts), _) => starts.clone(),
        (None, Some(f)) => {
            w.frameworks.push([
                V::T(project_id.to_owned()),
                V::T(f.as_str().to_owned()),
                V::T(now.to_owned()),
                V::I(1),
            ]);
            HashSet::new()
        }
        (None, None) => HashSet::new(),
    };
    if let Some(f) = plan.frequency {
        for p in &plan.periods {
            let start = p.start.to_string();
            if !starts.contains(&start) {
                w.periods.push([
                    V::T(project_id.to_owned()),
                    V::T(start),
                    V::T(p.end.to_string()),
                    V::T(p.label(f)),
                    V::I(0),
                ]);
            }
        }
    }
    let mut position = 0i64;
    for r in todo {
        let id = new_id();
        w.results.push([
            V::T(id.clone()),
            V::T(project_id.to_owned()),
            V::T(r.level.as_str().to_owned()),
            V::T(r.title.clone()),
            V::I(r.index as i64 + 1),
            V::T("[]".into()),
            V::T("[]".into()),
            V::T("[]".into()),
            V::T(now.to_owned()),
            V::T(now.to_owned()),
            V::I(1),
        ]);
        written.results += 1;
        for i in &r.indicators {
            position += 1;
            let ind = new_id();
            let baseline = match &i.baseline {
                Some(q) => Columns::of(q, "baseline")?,
                None => Columns::none(),
            };
            w.indicators.push([
                V::T(ind.clone()),
                V::T(id.clone()),
                V::T(project_id.to_owned()),
                V::T(i.title.clone()),
                V::T(i.measure.as_str().to_owned()),
                V::T(i.direction.as_str().to_owned()),
                V::T(i.aggregation.as_str().to_owned()),
                V::I(0),
                V::T(String::new()),
                V::T(serde_json::to_string(&i.categories).expect("json")),
                V::OI(i.baseline_year),
                V::OI(baseline.value),
                V::OI(baseline.num),
                V::OI(baseline.den),
                V::OT(baseline.text),
                V::T(String::new()),
                V::I(position),
                V::T(now.to_owned()),
                V::T(now.to_owned()),
                V::I(1),
            ]);
            written.indicators += 1;
            for (start, key, q) in &i.targets {
                let c = Columns::of(q, "target")?;
                w.targets.push([
                    V::T(ind.clone()),
                    V::T(start.clone()),
                    V::T(key.clone()),
                    V::OI(c.value),
                    V::OI(c.num),
                    V::OI(c.den),
                ]);
            }
            for rep in &i.reports {
                w.reports.push([
                    V::T(ind.clone()),
                    V::T(rep.period_start.clone()),
                    V::T(project_id.to_owned()),
                    V::T("approved".into()),
                    V::T(rep.narrative.clone()),
                    V::T(who.to_owned()),
                    V::OT(Some(who.to_owned())),
                    V::OT(Some(now.to_owned())),
                    V::OT(Some(who.to_owned())),
                    V::OT(Some(now.to_owned())),
                    V::T("published in an IATI file".into()),
                    V::T(now.to_owned()),
                    V::I(1),
                ]);
                written.reports += 1;
                for (key, q) in &rep.values {
                    let c = Columns::of(q, "actual")?;
                    w.values.push([
                        V::T(ind.clone()),
                        V::T(rep.period_start.clone()),
                        V::T(key.clone()),
                        V::OI(c.value),
                        V::OI(c.num),
                        V::OI(c.den),
                        V::OT(c.text),
                    ]);
                }
            }
        }
        written.derived.push(DerivedResult {
            index: r.index,
            id,
            fingerprint: fingerprint(&r.out(&plan.periods)),
        });
    }
    written.derived.sort_by_key(|d| d.index);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An activity the mapping thread left unpacked (it guessed "unchanged") is packed by the
    /// writer into the same bytes.
    #[test]
    fn the_writer_packs_what_the_mapping_thread_left() {
        let mut parts: [String; 13] = std::array::from_fn(|_| "[]".to_owned());
        parts[0] = r#"[{"text":"Water for Kakuma"}]"#.to_owned();
        parts[12] = "{}".to_owned();
        let mut mapped = ActivityJson {
            reporting_org: "{}".to_owned(),
            elements: ElementsForm::Json(Box::new(parts.clone())),
        };
        mapped.pack();
        assert!(matches!(mapped.elements, ElementsForm::Packed(_)));
        let by_writer = ElementsForm::Json(Box::new(parts)).packed();
        assert_eq!(mapped.elements.packed(), by_writer);
        let read = super::super::elements::unpack(&by_writer, "test").unwrap();
        assert_eq!(read.titles[0].text, "Water for Kakuma");
    }
}
