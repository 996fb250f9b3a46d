//! Exporting projects as IATI 2.03 activities, page by page (memory stays flat).

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::{Countries, Iso3, Organization, Scope, UnitCode};
use meridian_domain::projects::lifecycle::Status;
use meridian_domain::results::model::{Quantity, ResultLevel};
use meridian_formats::iati::activity::{
    Activity, ActivityDate, Budget, Description, Narrative, OrgRef, ParticipatingOrg, Recipient,
    Sector, Transaction, Value, pick_narrative,
};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::Row;

use super::import::{Derived, Line, shown};
use super::results::{
    OutIndicator, OutResult, element, fingerprint, normalized, out_period, with_file_extras,
};
use super::{PUBLIC_STATUSES, is_public, sector_for, status_to_iati};
use crate::projects::{BudgetLine, PROJECT_COLUMNS, Project, from_e4, project_from_row};
use crate::results::{INDICATOR_COLUMNS, indicator_from_row};
use crate::{Store, StoreError};

/// The organisation that publishes Meridian's activities (`reporting-org`), and the prefix of
/// the identifiers of projects that did not come from IATI (`{ref}-{project code}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportingOrg {
    pub r#ref: String,
    /// OrganisationType (40 multilateral).
    pub r#type: String,
    pub name: String,
}

impl Default for ReportingOrg {
    /// IOM's IATI organisation identifier.
    fn default() -> Self {
        ReportingOrg {
            r#ref: "XM-DAC-47066".into(),
            r#type: "40".into(),
            name: "International Organization for Migration".into(),
        }
    }
}

/// Which projects an export takes.
#[derive(Debug, Clone, Default)]
pub struct ExportScope {
    /// An office: its projects and those of the offices under it. `None`: everything the
    /// reader may see.
    pub unit: Option<String>,
    /// Only projects in a public status, never restricted ones (see `PUBLIC_STATUSES`).
    pub published_only: bool,
    pub reporting_org: ReportingOrg,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportSummary {
    pub activities: u64,
    /// Restricted projects left out because the reader may not see their budgets and donors.
    pub restricted_left_out: u64,
}

const PAGE: i64 = 500;

/// The IATI columns of a project that came from a file.
struct Stored {
    identifier: String,
    lang: Option<String>,
    default_currency: Option<String>,
    humanitarian: Option<String>,
    hierarchy: Option<String>,
    last_updated: Option<String>,
    reporting_org: OrgRef,
    titles: Vec<Narrative>,
    descriptions: Vec<Description>,
    participating_orgs: Vec<ParticipatingOrg>,
    status: Option<String>,
    dates: Vec<ActivityDate>,
    recipient_countries: Vec<Recipient>,
    recipient_regions: Vec<Recipient>,
    locations: Vec<meridian_formats::iati::activity::Location>,
    sectors: Vec<Sector>,
    budgets: Vec<Budget>,
    other_transactions: Vec<Transaction>,
    document_links: Vec<meridian_formats::iati::activity::DocumentLink>,
    results: Vec<meridian_formats::iati::activity::RawElement>,
    derived: Derived,
}

fn parse<T: serde::de::DeserializeOwned>(
    row: &sqlx::any::AnyRow,
    col: &str,
) -> Result<T, StoreError> {
    let raw: String = row.try_get(col)?;
    serde_json::from_str(&raw)
        .map_err(|e| StoreError::Corrupt(format!("iati_activities.{col}: {e}")))
}

fn stored_from_row(row: &sqlx::any::AnyRow) -> Result<Stored, StoreError> {
    let identifier: String = row.try_get("identifier")?;
    let packed: Option<Vec<u8>> = row.try_get("elements")?;
    let packed = packed.ok_or_else(|| {
        StoreError::Corrupt(format!("iati_activities.elements of {identifier}: missing"))
    })?;
    let e = super::elements::unpack(&packed, &identifier)?;
    Ok(Stored {
        lang: row.try_get("lang")?,
        default_currency: row.try_get("default_currency")?,
        humanitarian: row.try_get("humanitarian")?,
        hierarchy: row.try_get("hierarchy")?,
        last_updated: row.try_get("last_updated")?,
        reporting_org: parse(row, "reporting_org")?,
        titles: e.titles,
        descriptions: e.descriptions,
        participating_orgs: e.participating_orgs,
        status: row.try_get("activity_status")?,
        dates: e.activity_dates,
        recipient_countries: e.recipient_countries,
        recipient_regions: e.recipient_regions,
        locations: e.locations,
        sectors: e.sectors,
        budgets: e.budgets,
        other_transactions: e.other_transactions,
        document_links: e.document_links,
        results: e.results,
        derived: parse(row, "derived")?,
        identifier,
    })
}

/// A project transaction, with its IATI side when it came from a file.
struct TxnRow {
    kind: String,
    date: String,
    currency: String,
    amount: Decimal,
    provider: String,
    receiver: String,
    description: String,
    position: Option<i64>,
    detail: Option<Transaction>,
}

fn kind_code(kind: &str) -> &'static str {
    match kind {
        "incoming_funds" => "1",
        "commitment" => "2",
        "disbursement" => "3",
        _ => "4",
    }
}

fn amount_text(d: Decimal) -> String {
    d.normalize().to_string()
}

fn in_list(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn named(name: &str) -> Vec<Narrative> {
    if name.is_empty() {
        Vec::new()
    } else {
        vec![Narrative::new(None, name)]
    }
}

fn org_name(o: &ParticipatingOrg) -> String {
    let n = shown(&o.narratives);
    if n.is_empty() {
        o.r#ref.clone().unwrap_or_default()
    } else {
        n
    }
}

/// The activity for a project: what an import kept, with Meridian's later edits applied;
/// or, for a project that did not come from IATI, built from the project.
fn build(
    p: &Project,
    txns: Vec<TxnRow>,
    stored: Option<Stored>,
    framework: Vec<(String, OutResult)>,
    reporting: &ReportingOrg,
    countries: &Countries,
) -> Activity {
    let start_year: i64 = p
        .start_date
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(1);
    let lines = p.budget_lines.clone().unwrap_or_default();
    let donors = p.donors.clone().unwrap_or_default();
    let start_changed;
    let end_changed;
    let mut a = match stored {
        Some(s) => {
            let d = &s.derived;
            let mut a = Activity {
                identifier: s.identifier,
                lang: s.lang,
                default_currency: s.default_currency.or_else(|| Some(p.currency.clone())),
                last_updated: s.last_updated,
                humanitarian: s.humanitarian,
                hierarchy: s.hierarchy,
                reporting_org: s.reporting_org,
                titles: s.titles,
                descriptions: s.descriptions,
                participating_orgs: s.participating_orgs,
                status: s.status,
                dates: s.dates,
                recipient_countries: s.recipient_countries,
                recipient_regions: s.recipient_regions,
                locations: s.locations,
                sectors: s.sectors,
                budgets: s.budgets,
                transactions: Vec::new(),
                document_links: s.document_links,
                results: merge_results(s.results, &s.derived, framework, start_year),
                extra: Default::default(),
            };
            // Meridian's edits since the import win over the file's values.
            if p.title != d.title {
                replace_shown(&mut a.titles, &p.title);
            }
            if !d.same_summary(&p.summary) && !p.summary.is_empty() {
                match a
                    .descriptions
                    .iter_mut()
                    .find(|x| matches!(x.r#type.as_deref(), None | Some("1")))
                {
                    Some(x) => replace_shown(&mut x.narratives, &p.summary),
                    None => a.descriptions.insert(
                        0,
                        Description {
                            r#type: Some("1".into()),
                            narratives: named(&p.summary),
                        },
                    ),
                }
            }
            if p.status.as_str() != d.status {
                a.status = Some(status_to_iati(p.status).into());
            }
            if donors != d.donors {
                a.participating_orgs
                    .retain(|o| o.role != "1" || donors.contains(&org_name(o)));
                for name in &donors {
                    if !a
                        .participating_orgs
                        .iter()
                        .any(|o| o.role == "1" && &org_name(o) == name)
                    {
                        a.participating_orgs.push(ParticipatingOrg {
                            role: "1".into(),
                            narratives: named(name),
                            ..ParticipatingOrg::default()
                        });
                    }
                }
            }
            let now_lines: Vec<Line> = lines
                .iter()
                .map(|l| Line {
                    category: l.category.clone(),
                    description: l.description.clone(),
                    currency: l.currency.clone(),
                    amount_e4: crate::projects::e4(l.amount, "amount").unwrap_or(0),
                    usd_e4: 0,
                })
                .collect();
            if now_lines != d.lines {
                a.budgets = budgets_from_lines(p, &lines);
            }
            start_changed = p.start_date != d.start_date;
            end_changed = p.end_date != d.end_date;
            a.other_transactions_into(s.other_transactions);
            a
        }
        None => {
            start_changed = true;
            end_changed = true;
            let mut parts = vec![ParticipatingOrg {
                role: "4".into(),
                r#ref: Some(reporting.r#ref.clone()),
                r#type: Some(reporting.r#type.clone()),
                narratives: named(&reporting.name),
                ..ParticipatingOrg::default()
            }];
            for d in &donors {
                parts.push(ParticipatingOrg {
                    role: "1".into(),
                    narratives: named(d),
                    ..ParticipatingOrg::default()
                });
            }
            for partner in &p.partners {
                parts.push(ParticipatingOrg {
                    role: "4".into(),
                    narratives: named(partner),
                    ..ParticipatingOrg::default()
                });
            }
            let iso2: Vec<String> = p
                .countries
                .iter()
                .filter_map(|c| Iso3::parse(c).ok())
                .filter_map(|c| countries.get(&c).map(|c| c.iso2.clone()))
                .collect();
            let n = iso2.len();
            let share = if n > 1 {
                (Decimal::from(100) / Decimal::from(n as i64)).round_dp(2)
            } else {
                Decimal::from(100)
            };
            let recipient_countries = iso2
                .into_iter()
                .enumerate()
                .map(|(i, code)| Recipient {
                    code,
                    percentage: Some(amount_text(if i + 1 == n && n > 1 {
                        Decimal::from(100) - share * Decimal::from(n as i64 - 1)
                    } else {
                        share
                    })),
                    ..Recipient::default()
                })
                .collect();
            Activity {
                identifier: format!("{}-{}", reporting.r#ref, p.code),
                default_currency: Some(p.currency.clone()),
                reporting_org: OrgRef {
                    r#ref: Some(reporting.r#ref.clone()),
                    r#type: Some(reporting.r#type.clone()),
                    narratives: named(&reporting.name),
                    ..OrgRef::default()
                },
                titles: named(&p.title),
                descriptions: vec![Description {
                    r#type: Some("1".into()),
                    narratives: named(if p.summary.is_empty() {
                        &p.title
                    } else {
                        &p.summary
                    }),
                }],
                participating_orgs: parts,
                status: Some(status_to_iati(p.status).into()),
                recipient_countries,
                sectors: vec![Sector {
                    code: sector_for(&p.thematic_area).into(),
                    vocabulary: Some("1".into()),
                    percentage: Some("100".into()),
                    ..Sector::default()
                }],
                budgets: budgets_from_lines(p, &lines),
                results: merge_results(Vec::new(), &Derived::default(), framework, start_year),
                ..Activity::default()
            }
        }
    };
    let started = matches!(
        p.status,
        Status::Active
            | Status::Suspended
            | Status::OperationallyClosed
            | Status::FinanciallyClosed
    );
    let ended = matches!(
        p.status,
        Status::OperationallyClosed | Status::FinanciallyClosed
    );
    if start_changed {
        a.dates.retain(|d| d.r#type != "1" && d.r#type != "2");
        a.dates.push(ActivityDate {
            r#type: "1".into(),
            iso_date: p.start_date.clone(),
            narratives: Vec::new(),
        });
        if started {
            a.dates.push(ActivityDate {
                r#type: "2".into(),
                iso_date: p.start_date.clone(),
                narratives: Vec::new(),
            });
        }
    }
    if end_changed {
        a.dates.retain(|d| d.r#type != "3" && d.r#type != "4");
        a.dates.push(ActivityDate {
            r#type: "3".into(),
            iso_date: p.end_date.clone(),
            narratives: Vec::new(),
        });
        if ended {
            a.dates.push(ActivityDate {
                r#type: "4".into(),
                iso_date: p.end_date.clone(),
                narratives: Vec::new(),
            });
        }
    }
    if a.titles.is_empty() {
        a.titles = named(&p.title);
    }
    if a.descriptions.is_empty() {
        a.descriptions.push(Description {
            r#type: Some("1".into()),
            narratives: named(&p.title),
        });
    }
    if a.participating_orgs.is_empty() {
        a.participating_orgs.push(ParticipatingOrg {
            role: "4".into(),
            r#ref: Some(reporting.r#ref.clone()),
            r#type: Some(reporting.r#type.clone()),
            narratives: named(&reporting.name),
            ..ParticipatingOrg::default()
        });
    }
    let mut from_rows: Vec<Transaction> = txns
        .into_iter()
        .map(|t| {
            let mut out = t.detail.unwrap_or_default();
            let kind = kind_code(&t.kind);
            if out.r#type != kind {
                out.r#type = kind.into();
            }
            if out.date.get(..10) != Some(t.date.as_str()) {
                out.date = t.date.clone();
            }
            let same_amount =
                Decimal::from_str(out.value.amount.trim()).is_ok_and(|d| d == t.amount);
            if !same_amount {
                out.value.amount = amount_text(t.amount);
            }
            let currency = out
                .value
                .currency
                .clone()
                .or_else(|| a.default_currency.clone());
            if currency.as_deref() != Some(t.currency.as_str()) {
                out.value.currency = Some(t.currency.clone());
            }
            if out.value.value_date.is_none() {
                out.value.value_date = Some(t.date.clone());
            }
            if out.description.is_empty() && !t.description.is_empty() {
                out.description = named(&t.description);
            }
            if out.provider.is_none() && !t.provider.is_empty() {
                out.provider = Some(OrgRef {
                    narratives: named(&t.provider),
                    ..OrgRef::default()
                });
            }
            if out.receiver.is_none() && !t.receiver.is_empty() {
                out.receiver = Some(OrgRef {
                    narratives: named(&t.receiver),
                    ..OrgRef::default()
                });
            }
            out
        })
        .collect();
    from_rows.append(&mut a.transactions);
    a.transactions = from_rows;
    a
}

/// The activity's results: each `<result>` of the file as the file had it while the result
/// the import made of it is unchanged in Meridian, else as Meridian has it now (left out when
/// it was deleted); then the results added in Meridian.
fn merge_results(
    raw: Vec<meridian_formats::iati::activity::RawElement>,
    derived: &Derived,
    mut framework: Vec<(String, OutResult)>,
    start_year: i64,
) -> Vec<meridian_formats::iati::activity::RawElement> {
    let mut out = Vec::with_capacity(raw.len() + framework.len());
    for (i, r) in raw.into_iter().enumerate() {
        let Some(d) = derived.results.iter().find(|d| d.index == i) else {
            out.push(r);
            continue;
        };
        let Some(at) = framework.iter().position(|(id, _)| *id == d.id) else {
            continue;
        };
        let (_, now) = framework.remove(at);
        if fingerprint(&now) == d.fingerprint {
            out.push(r);
        } else {
            out.extend(element(&now, start_year).map(|made| with_file_extras(made, &r)));
        }
    }
    for (_, r) in &framework {
        out.extend(element(r, start_year));
    }
    out
}

fn quantity(
    value: Option<i64>,
    num: Option<i64>,
    den: Option<i64>,
    text: Option<String>,
) -> Option<Quantity> {
    Some(normalized(match (value, num, den, text) {
        (Some(v), ..) => Quantity::Number(from_e4(v)),
        (None, Some(n), Some(d), _) => Quantity::Percentage {
            numerator: from_e4(n),
            denominator: from_e4(d),
        },
        (.., Some(t)) => Quantity::Text(t),
        _ => return None,
    }))
}

trait OtherTransactions {
    fn other_transactions_into(&mut self, other: Vec<Transaction>);
}

impl OtherTransactions for Activity {
    /// Transactions the project model has no kind for, written after the project's own.
    fn other_transactions_into(&mut self, other: Vec<Transaction>) {
        self.transactions.extend(other);
    }
}

/// Replaces the narrative Meridian shows (see `shown`) with `text`.
fn replace_shown(narratives: &mut Vec<Narrative>, text: &str) {
    let target = pick_narrative(narratives, Some("en")).cloned();
    match target.and_then(|t| narratives.iter_mut().find(|n| **n == t)) {
        Some(n) => n.text = text.to_owned(),
        None => narratives.push(Narrative::new(None, text)),
    }
}

/// One budget a line, over the project's period.
fn budgets_from_lines(p: &Project, lines: &[BudgetLine]) -> Vec<Budget> {
    lines
        .iter()
        .map(|l| Budget {
            r#type: Some("1".into()),
            status: Some("2".into()),
            period_start: p.start_date.clone(),
            period_end: p.end_date.clone(),
            value: Value {
                amount: amount_text(l.amount),
                currency: Some(l.currency.clone()),
                value_date: Some(p.start_date.clone()),
            },
        })
        .collect()
}

/// Where `Store::export_activities` hands the activities: one at a time, and told after each
/// page read from the database, so that a writer can pass on what it has written (the public
/// feed sends each page to the client before the next is read). A closure taking an
/// [`Activity`] is a sink that does nothing at the end of a page.
pub trait ActivitySink<E> {
    fn activity(&mut self, activity: Activity) -> Result<(), E>;

    /// After the activities of one page; the next page is read when this is done.
    fn page_done(&mut self) -> impl std::future::Future<Output = Result<(), E>> + Send {
        async { Ok(()) }
    }
}

impl<E, F: FnMut(Activity) -> Result<(), E>> ActivitySink<E> for F {
    fn activity(&mut self, activity: Activity) -> Result<(), E> {
        self(activity)
    }
}

impl Store {
    /// Every project in the scope as an IATI 2.03 activity, in code order, handed to `sink`
    /// one at a time (read from the database a page at a time; the sink is told after each
    /// page).
    ///
    /// `actor` `None` is the public: only published projects (see `PUBLIC_STATUSES`), never a
    /// restricted one. A reader sees the projects of their scope (or of `scope.unit`, which
    /// they must be allowed to view); restricted projects whose budgets and donors the reader
    /// may not see are left out, and counted.
    pub async fn export_activities<E, F>(
        &self,
        org: &Organization,
        actor: Option<&Actor>,
        scope: &ExportScope,
        sink: &mut F,
    ) -> Result<ExportSummary, E>
    where
        E: From<StoreError>,
        F: ActivitySink<E>,
    {
        let published_only = scope.published_only || actor.is_none();
        let within: Scope = match (&scope.unit, actor) {
            (Some(code), _) => {
                let unit =
                    UnitCode::parse(code.trim()).map_err(|m| StoreError::invalid("unit", m))?;
                if org.unit(unit.as_str()).is_none() {
                    return Err(
                        StoreError::invalid("unit", format!("unknown unit code {unit}")).into(),
                    );
                }
                if let Some(actor) = actor {
                    authorize(org, actor, Action::ViewProjects, &unit).map_err(StoreError::from)?;
                }
                if unit == org.root().code {
                    Scope::Global
                } else {
                    Scope::Unit(unit)
                }
            }
            (None, Some(actor)) => actor.scope(org),
            (None, None) => Scope::Global,
        };
        let countries = Countries::builtin();
        let mut summary = ExportSummary::default();
        let mut after = String::new();
        let statuses: Vec<&str> = PUBLIC_STATUSES.iter().map(|s| s.as_str()).collect();
        loop {
            let mut sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE code > $1");
            if published_only {
                sql.push_str(&format!(
                    " AND restricted = 0 AND status IN ({})",
                    statuses
                        .iter()
                        .map(|s| format!("'{s}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            sql.push_str(&format!(" ORDER BY code LIMIT {PAGE}"));
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&after)
                .fetch_all(self.pool())
                .await
                .map_err(StoreError::from)?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("code").map_err(StoreError::from)?;
            let full = rows.len() as i64 == PAGE;
            let mut page: Vec<Project> = Vec::with_capacity(rows.len());
            for row in &rows {
                let p = project_from_row(row, Vec::new())?;
                let Ok(unit) = UnitCode::parse(&p.unit) else {
                    continue;
                };
                if !org.in_scope(&within, &unit) {
                    continue;
                }
                if published_only && !is_public(p.status, p.restricted) {
                    continue;
                }
                if p.restricted {
                    let may = actor.is_some_and(|a| {
                        authorize(org, a, Action::ViewRestrictedProjectFields, &unit).is_ok()
                    });
                    if !may {
                        summary.restricted_left_out += 1;
                        continue;
                    }
                }
                page.push(p);
            }
            if !page.is_empty() {
                self.fill_page(&mut page, scope, &countries, sink, &mut summary)
                    .await?;
                sink.page_done().await?;
            }
            if !full {
                break;
            }
        }
        Ok(summary)
    }

    /// Reads the page's budget lines, transactions and IATI rows (three queries) and hands
    /// each activity to the sink.
    async fn fill_page<E, F>(
        &self,
        page: &mut [Project],
        scope: &ExportScope,
        countries: &Countries,
        sink: &mut F,
        summary: &mut ExportSummary,
    ) -> Result<(), E>
    where
        E: From<StoreError>,
        F: ActivitySink<E>,
    {
        let ids: Vec<String> = page.iter().map(|p| p.id.clone()).collect();
        let list = in_list(ids.len());
        // Budget lines.
        let sql = format!(
            "SELECT project_id, category, description, currency, amount_e4, amount_usd_e4 \
             FROM project_budget_lines WHERE project_id IN ({list}) ORDER BY project_id, position"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            q = q.bind(id);
        }
        let mut lines: HashMap<String, Vec<BudgetLine>> = HashMap::new();
        for r in q.fetch_all(self.pool()).await.map_err(StoreError::from)? {
            let get = |c: &str| -> Result<String, StoreError> { Ok(r.try_get::<String, _>(c)?) };
            lines
                .entry(get("project_id")?)
                .or_default()
                .push(BudgetLine {
                    category: get("category")?,
                    description: get("description")?,
                    currency: get("currency")?,
                    amount: from_e4(r.try_get("amount_e4").map_err(StoreError::from)?),
                    amount_usd: from_e4(r.try_get("amount_usd_e4").map_err(StoreError::from)?),
                });
        }
        // Transactions, with their IATI side.
        let sql = format!(
            "SELECT t.id, t.project_id, t.kind, t.date, t.currency, t.amount_e4, t.provider, \
             t.receiver, t.description, i.position, i.detail FROM project_transactions t \
             LEFT JOIN iati_transactions i ON i.transaction_id = t.id \
             WHERE t.project_id IN ({list})"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            q = q.bind(id);
        }
        let mut txns: HashMap<String, Vec<(String, TxnRow)>> = HashMap::new();
        for r in q.fetch_all(self.pool()).await.map_err(StoreError::from)? {
            let detail: Option<String> = r.try_get("detail").map_err(StoreError::from)?;
            let detail = detail
                .map(|d| serde_json::from_str::<Transaction>(&d))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("iati_transactions.detail: {e}")))?;
            let get = |c: &str| -> Result<String, StoreError> { Ok(r.try_get::<String, _>(c)?) };
            txns.entry(get("project_id")?).or_default().push((
                get("id")?,
                TxnRow {
                    kind: get("kind")?,
                    date: get("date")?,
                    currency: get("currency")?,
                    amount: from_e4(r.try_get("amount_e4").map_err(StoreError::from)?),
                    provider: get("provider")?,
                    receiver: get("receiver")?,
                    description: get("description")?,
                    position: r.try_get("position").map_err(StoreError::from)?,
                    detail,
                },
            ));
        }
        // What the imports kept.
        let sql = format!(
            "SELECT project_id, identifier, lang, default_currency, humanitarian, hierarchy, \
             last_updated, reporting_org, activity_status, elements, derived \
             FROM iati_activities WHERE project_id IN ({list})"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            q = q.bind(id);
        }
        let mut stored: HashMap<String, Stored> = HashMap::new();
        for r in q.fetch_all(self.pool()).await.map_err(StoreError::from)? {
            let id: String = r.try_get("project_id").map_err(StoreError::from)?;
            stored.insert(id, stored_from_row(&r)?);
        }
        let mut frameworks = self.page_results(&ids).await?;
        for p in page.iter_mut() {
            p.budget_lines = Some(lines.remove(&p.id).unwrap_or_default());
            let mut t = txns.remove(&p.id).unwrap_or_default();
            // The file's order first, then Meridian's own by date.
            t.sort_by(|(ida, a), (idb, b)| {
                (a.position.is_none(), a.position, &a.date, ida).cmp(&(
                    b.position.is_none(),
                    b.position,
                    &b.date,
                    idb,
                ))
            });
            let activity = build(
                p,
                t.into_iter().map(|(_, t)| t).collect(),
                stored.remove(&p.id),
                frameworks.remove(&p.id).unwrap_or_default(),
                &scope.reporting_org,
                countries,
            );
            sink.activity(activity)?;
            summary.activities += 1;
        }
        Ok(())
    }
}

impl Store {
    /// The results frameworks of a page of projects, as the export writes them (five queries):
    /// project id → (result id, result), in the matrix's order. Only approved values are
    /// read.
    async fn page_results(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<(String, OutResult)>>, StoreError> {
        let list = in_list(ids.len());
        let fetch = |sql: String| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(self.pool())
        };
        let mut ends: HashMap<(String, String), String> = HashMap::new();
        for r in fetch(format!(
            "SELECT project_id, period_start, period_end FROM reporting_periods \
             WHERE project_id IN ({list})"
        ))
        .await?
        {
            ends.insert(
                (r.try_get("project_id")?, r.try_get("period_start")?),
                r.try_get("period_end")?,
            );
        }
        let results = fetch(format!(
            "SELECT id, project_id, level, title FROM results WHERE project_id IN ({list}) \
             ORDER BY project_id, position, id"
        ))
        .await?;
        if results.is_empty() {
            return Ok(HashMap::new());
        }
        let indicators = fetch(format!(
            "SELECT project_id, {INDICATOR_COLUMNS} FROM indicators WHERE project_id IN ({list}) \
             ORDER BY position, id"
        ))
        .await?;
        // indicator → period start → (targets, approved values, narrative)
        type Cells = (Vec<(String, Quantity)>, Vec<(String, Quantity)>, String);
        let mut cells: HashMap<String, BTreeMap<String, Cells>> = HashMap::new();
        for r in fetch(format!(
            "SELECT t.indicator_id, t.period_start, t.disaggregation, t.value_e4, t.num_e4, t.den_e4 \
             FROM indicator_targets t JOIN indicators i ON i.id = t.indicator_id \
             WHERE i.project_id IN ({list})"
        ))
        .await?
        {
            if let Some(q) = quantity(
                r.try_get("value_e4")?,
                r.try_get("num_e4")?,
                r.try_get("den_e4")?,
                None,
            ) {
                cells
                    .entry(r.try_get("indicator_id")?)
                    .or_default()
                    .entry(r.try_get("period_start")?)
                    .or_default()
                    .0
                    .push((r.try_get("disaggregation")?, q));
            }
        }
        for r in fetch(format!(
            "SELECT r.indicator_id, r.period_start, r.narrative, v.disaggregation, v.value_e4, \
             v.num_e4, v.den_e4, v.text_value FROM indicator_reports r JOIN indicator_values v \
             ON v.indicator_id = r.indicator_id AND v.period_start = r.period_start \
             WHERE r.project_id IN ({list}) AND r.status = 'approved'"
        ))
        .await?
        {
            if let Some(q) = quantity(
                r.try_get("value_e4")?,
                r.try_get("num_e4")?,
                r.try_get("den_e4")?,
                r.try_get("text_value")?,
            ) {
                let cell = cells
                    .entry(r.try_get("indicator_id")?)
                    .or_default()
                    .entry(r.try_get("period_start")?)
                    .or_default();
                cell.1.push((r.try_get("disaggregation")?, q));
                cell.2 = r.try_get("narrative")?;
            }
        }
        let mut by_result: HashMap<String, Vec<OutIndicator>> = HashMap::new();
        for r in &indicators {
            let project: String = r.try_get("project_id")?;
            let v = indicator_from_row(r)?;
            let periods = cells
                .remove(&v.id)
                .unwrap_or_default()
                .into_iter()
                .map(|(start, (targets, actuals, narrative))| {
                    let end = ends
                        .get(&(project.clone(), start.clone()))
                        .cloned()
                        .unwrap_or_else(|| start.clone());
                    out_period(start, end, targets, actuals, narrative)
                })
                .collect();
            let baseline = v.baseline.as_ref().and_then(|f| {
                Some(normalized(
                    match (f.value, f.numerator, f.denominator, &f.text) {
                        (Some(v), ..) => Quantity::Number(v),
                        (None, Some(n), Some(d), _) => Quantity::Percentage {
                            numerator: n,
                            denominator: d,
                        },
                        (.., Some(t)) => Quantity::Text(t.clone()),
                        _ => return None,
                    },
                ))
            });
            by_result
                .entry(v.result_id.clone())
                .or_default()
                .push(OutIndicator {
                    title: v.title,
                    measure: v.measure,
                    direction: v.direction,
                    aggregation: v.aggregation,
                    baseline_year: v.baseline_year,
                    baseline,
                    periods,
                });
        }
        let mut out: HashMap<String, Vec<(String, OutResult)>> = HashMap::new();
        for r in &results {
            let id: String = r.try_get("id")?;
            let level: ResultLevel = crate::results::corrupt(&r.try_get::<String, _>("level")?)?;
            out.entry(r.try_get("project_id")?).or_default().push((
                id.clone(),
                OutResult {
                    level,
                    title: r.try_get("title")?,
                    indicators: by_result.remove(&id).unwrap_or_default(),
                },
            ));
        }
        Ok(out)
    }
}
