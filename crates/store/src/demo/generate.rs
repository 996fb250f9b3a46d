//! The generator of demonstration projects: offices, themes, titles, donors, budgets in several
//! currencies, and a history that leads to each lifecycle status. Everything it draws comes
//! from a [`DemoRng`], so a seed gives the same portfolio every time.

use super::{
    DemoBudgetLine, DemoComment, DemoProject, DemoRng, DemoStep, DemoTransaction, demo_id,
};
use crate::projects::TransactionKind;
use meridian_domain::authz::{Role, UserActor};
use meridian_domain::org::{Countries, Iso3, Organization, UnitCode, UnitKind};
use meridian_domain::projects::lifecycle::{Status, Transition};
use meridian_domain::projects::money::{Currency, ExchangeRate, Money, RateTable};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::str::FromStr;
use time::macros::{date, time};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime};

/// The day the generated history is "as of" (fixed, so benchmarks are repeatable).
pub const DEMO_DAY: Date = date!(2026 - 06 - 30);
/// The earliest day a generated project is drafted.
const EARLIEST: Date = date!(2015 - 03 - 01);

/// Exchange rates (US dollars per unit) on the dates they take effect, roughly as they were.
pub const RATE_DATES: [Date; 6] = [
    date!(2015 - 01 - 01),
    date!(2018 - 01 - 01),
    date!(2020 - 01 - 01),
    date!(2022 - 01 - 01),
    date!(2024 - 01 - 01),
    date!(2026 - 01 - 01),
];
const RATES: &[(&str, [&str; 6])] = &[
    ("EUR", ["1.21", "1.20", "1.12", "1.13", "1.10", "1.17"]),
    ("GBP", ["1.56", "1.35", "1.32", "1.35", "1.27", "1.37"]),
    ("CHF", ["1.01", "1.03", "1.03", "1.10", "1.19", "1.25"]),
    (
        "JPY",
        ["0.0083", "0.0089", "0.0092", "0.0087", "0.0071", "0.0069"],
    ),
    (
        "SEK",
        ["0.128", "0.122", "0.107", "0.110", "0.099", "0.105"],
    ),
    (
        "NOK",
        ["0.134", "0.122", "0.114", "0.113", "0.098", "0.099"],
    ),
    (
        "DKK",
        ["0.163", "0.161", "0.150", "0.152", "0.148", "0.157"],
    ),
    ("CAD", ["0.86", "0.80", "0.77", "0.79", "0.75", "0.73"]),
    ("AUD", ["0.82", "0.78", "0.70", "0.73", "0.68", "0.66"]),
    (
        "KES",
        ["0.0110", "0.0097", "0.0099", "0.0088", "0.0064", "0.0077"],
    ),
    (
        "BDT",
        ["0.0128", "0.0121", "0.0118", "0.0116", "0.0091", "0.0082"],
    ),
    (
        "COP",
        [
            "0.00042", "0.00034", "0.00030", "0.00025", "0.00026", "0.00025",
        ],
    ),
    (
        "XOF",
        [
            "0.00184", "0.00183", "0.00171", "0.00172", "0.00168", "0.00178",
        ],
    ),
    (
        "EGP",
        ["0.140", "0.056", "0.063", "0.064", "0.032", "0.020"],
    ),
    (
        "ZAR",
        ["0.086", "0.081", "0.071", "0.063", "0.054", "0.056"],
    ),
    (
        "THB",
        ["0.030", "0.031", "0.033", "0.030", "0.029", "0.031"],
    ),
    (
        "UAH",
        ["0.063", "0.036", "0.042", "0.037", "0.026", "0.024"],
    ),
    (
        "MXN",
        ["0.068", "0.051", "0.053", "0.049", "0.059", "0.053"],
    ),
];

/// Countries whose local currency appears on budget lines (local office costs).
const LOCAL_CURRENCY: &[(&str, &str)] = &[
    ("KEN", "KES"),
    ("BGD", "BDT"),
    ("COL", "COP"),
    ("SEN", "XOF"),
    ("MLI", "XOF"),
    ("NER", "XOF"),
    ("BFA", "XOF"),
    ("CIV", "XOF"),
    ("EGY", "EGP"),
    ("ZAF", "ZAR"),
    ("THA", "THB"),
    ("UKR", "UAH"),
    ("MEX", "MXN"),
];

/// The exchange-rate table the demo loads.
pub fn demo_rates() -> Vec<ExchangeRate> {
    let mut out = Vec::new();
    for (code, values) in RATES {
        let currency = Currency::parse(code).expect("a known currency");
        for (effective, value) in RATE_DATES.iter().zip(values) {
            out.push(ExchangeRate {
                currency,
                effective: *effective,
                usd_per_unit: Decimal::from_str(value).expect("a decimal"),
            });
        }
    }
    out
}

/// Donors: governments, the European Union, UN pooled funds, private foundations; with the
/// currency they fund in and how often they appear.
pub const DONORS: &[(&str, &str, u32)] = &[
    ("United States (PRM)", "USD", 14),
    ("Germany (Federal Foreign Office)", "EUR", 8),
    ("Germany (BMZ)", "EUR", 4),
    ("European Union (DG ECHO)", "EUR", 9),
    ("European Union (DG INTPA)", "EUR", 6),
    ("European Union (DG HOME)", "EUR", 4),
    ("European Union (DG NEAR)", "EUR", 3),
    ("EU Emergency Trust Fund for Africa", "EUR", 4),
    ("United Kingdom (FCDO)", "GBP", 6),
    ("Japan (Ministry of Foreign Affairs)", "JPY", 5),
    ("Canada (Global Affairs Canada)", "CAD", 4),
    ("Sweden (Sida)", "SEK", 3),
    ("Norway (Ministry of Foreign Affairs)", "NOK", 3),
    ("Netherlands (Ministry of Foreign Affairs)", "EUR", 4),
    ("Switzerland (SDC)", "CHF", 3),
    ("Switzerland (State Secretariat for Migration)", "CHF", 2),
    ("Australia (DFAT)", "AUD", 3),
    ("Denmark (Ministry of Foreign Affairs)", "DKK", 2),
    ("Italy (Ministry of Foreign Affairs)", "EUR", 3),
    ("Central Emergency Response Fund (CERF)", "USD", 4),
    ("UN Peacebuilding Fund", "USD", 2),
    ("Migration Multi-Partner Trust Fund", "USD", 2),
    ("Country-Based Pooled Fund", "USD", 3),
    ("Joint SDG Fund", "USD", 1),
    ("IKEA Foundation", "EUR", 1),
    ("Open Society Foundations", "USD", 1),
    ("Conrad N. Hilton Foundation", "USD", 1),
    ("Oak Foundation", "CHF", 1),
];

/// Title templates by thematic area: `{c}` is the country, `{a}` an area of it.
const TITLES: &[(&str, &[&str])] = &[
    (
        "migration_governance",
        &[
            "Strengthening migration governance in {c}",
            "Support to the national migration policy of {c}",
            "Evidence-based migration management capacities in {c}",
        ],
    ),
    (
        "labour_mobility",
        &[
            "Fair recruitment and safe labour migration from {c}",
            "Skills partnerships for labour mobility in {c}",
            "Protecting the rights of migrant workers in {c}",
        ],
    ),
    (
        "counter_trafficking",
        &[
            "Preventing trafficking in persons and protecting victims in {c}",
            "A national referral mechanism for victims of trafficking in {c}",
        ],
    ),
    (
        "migrant_protection",
        &[
            "Protection and assistance for migrants in vulnerable situations in {c}",
            "Safe migration information for young people in {c}",
            "Case management for unaccompanied migrant children in {c}",
        ],
    ),
    (
        "displacement_and_crisis_response",
        &[
            "Emergency shelter and non-food items for displaced families in {a}, {c}",
            "Camp coordination and camp management for internally displaced persons in {c}",
            "Multi-sector response to displacement in {a}, {c}",
        ],
    ),
    (
        "migration_health",
        &[
            "Migration health assessments and tuberculosis screening in {c}",
            "Community health and cross-border disease surveillance in {c}",
            "Mental health and psychosocial support for migrants in {c}",
        ],
    ),
    (
        "return_and_reintegration",
        &[
            "Assisted voluntary return and sustainable reintegration in {c}",
            "Community-based reintegration of returnees in {a}, {c}",
        ],
    ),
    (
        "resettlement_and_movement",
        &[
            "Resettlement operations and pre-departure orientation in {c}",
            "Safe movement of refugees for resettlement from {c}",
        ],
    ),
    (
        "immigration_and_border_governance",
        &[
            "Integrated border management at points of entry of {c}",
            "Identity management and travel document security in {c}",
        ],
    ),
    (
        "climate_and_environmental_migration",
        &[
            "Climate resilience and planned relocation in {a}, {c}",
            "Addressing drivers of climate-induced displacement in {c}",
        ],
    ),
    (
        "migration_data",
        &[
            "Migration data and statistics systems in {c}",
            "Displacement Tracking Matrix in {c}",
        ],
    ),
    (
        "diaspora_and_development",
        &[
            "Engaging the diaspora of {c} for local development",
            "Remittances and diaspora investment for development in {c}",
        ],
    ),
];

const AREAS: &[&str] = &[
    "the northern region",
    "the border areas",
    "the capital region",
    "the coastal districts",
    "the eastern provinces",
    "the southern highlands",
    "urban centres",
];

const GOALS: &[&str] = &[
    "reach migrants and host communities with services they can rely on",
    "strengthen the capacities of national and local authorities",
    "improve the collection and use of data for decisions",
    "build durable solutions with communities and local partners",
    "protect people on the move and uphold their rights",
];

const PARTNERS: &[&str] = &[
    "Ministry of Interior of {c}",
    "Ministry of Labour of {c}",
    "{c} Red Cross/Red Crescent Society",
    "UNHCR",
    "UNICEF",
    "WHO",
    "UNDP",
    "ILO",
    "municipal authorities",
    "a national NGO network",
];

/// Budget categories: (category, description, share of the budget in per mille).
const LINES: &[(&str, &str, u32)] = &[
    ("activities", "Direct assistance and activities", 450),
    ("staff", "Project staff", 250),
    ("office", "Office running costs", 80),
    ("travel", "Travel and transport", 60),
    ("equipment", "Equipment and supplies", 60),
    ("monitoring", "Monitoring and evaluation", 30),
    ("support", "Project support costs", 70),
];

const REVIEW_COMMENTS: &[(&str, &str, &str)] = &[
    (
        "budget",
        "Please justify the staff costs against the planned activities.",
        "Revised: the staff lines now follow the activity plan.",
    ),
    (
        "results",
        "The outcome indicators need baselines and targets.",
        "Baselines added from the latest household survey.",
    ),
    (
        "risks",
        "Add a mitigation measure for access constraints in the field.",
        "Added: remote monitoring through partners when access is limited.",
    ),
    (
        "partners",
        "Describe how the implementing partners were selected.",
        "A call for proposals was run; the selection note is attached.",
    ),
    (
        "timeline",
        "The inception phase looks too short for recruitment.",
        "Extended the inception phase to three months.",
    ),
    (
        "general",
        "Well aligned with the regional strategy; a few points below.",
        "Thank you; the points are addressed in the revised draft.",
    ),
];

/// How often each status appears in a generated portfolio (per mille, [`Status::ALL`] order):
/// many closed and running projects, a pipeline, and a share rejected or withdrawn.
pub const STATUS_WEIGHTS: [u32; 13] = [70, 30, 40, 20, 30, 40, 30, 220, 15, 60, 300, 80, 65];

/// An office that owns projects.
#[derive(Debug, Clone)]
struct Office {
    unit: UnitCode,
    region: UnitCode,
    /// Where its projects take place (primary country candidates).
    countries: Vec<Iso3>,
}

/// Who acts for an office's projects, as indexes into [`World::people`].
#[derive(Debug, Clone, Copy)]
struct Cast {
    developer: usize,
    reviewer: usize,
}

/// The people and places the generator draws from.
pub struct World {
    pub people: Vec<UserActor>,
    offices: Vec<Office>,
    weights: Vec<u32>,
    /// Offices whose drafter is a demo user of the office itself (for the real path).
    featured: Vec<usize>,
    cast: HashMap<UnitCode, Cast>,
    hq_approver: usize,
    /// (approver, region, limit in USD, from) holding a sub-delegation.
    regional_approver: Option<(usize, UnitCode, Decimal, Date)>,
    country_names: HashMap<String, String>,
    rates: RateTable,
    donor_weights: Vec<u32>,
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Offices with a large portfolio weigh more (an approximation of IOM's largest operations).
const LARGE: &[&str] = &[
    "UKR", "AFG", "SDN", "SSD", "YEM", "SYR", "BGD", "COL", "ETH", "SOM", "TUR", "LBY", "IRQ",
    "NGA", "HTI", "KEN", "COD", "MOZ", "PAK", "LBN",
];

impl World {
    /// Builds the world from the organization and the demo's people. `people` must hold, for
    /// every regional office, a `project_developer` and a `regional_reviewer` of that office,
    /// and an `approver` at headquarters.
    pub fn new(
        org: &Organization,
        countries: &Countries,
        people: Vec<UserActor>,
        rates: RateTable,
        regional_approver: Option<(UnitCode, Decimal, Date)>,
    ) -> Result<Self, String> {
        let find = |role: Role, unit: &UnitCode| {
            people
                .iter()
                .position(|p| p.roles.contains(&role) && &p.unit == unit)
        };
        let hq_approver = people
            .iter()
            .position(|p| {
                p.roles.contains(&Role::Approver)
                    && org.scope_of(&p.unit) == meridian_domain::org::Scope::Global
            })
            .ok_or("the demo needs an approver at headquarters")?;
        let mut offices = Vec::new();
        let mut weights = Vec::new();
        let mut featured = Vec::new();
        let mut cast = HashMap::new();
        for ro in org.regional_offices() {
            let developer = find(Role::ProjectDeveloper, &ro.code)
                .ok_or_else(|| format!("the demo needs a project developer at {}", ro.code))?;
            let reviewer = find(Role::RegionalReviewer, &ro.code)
                .ok_or_else(|| format!("the demo needs a regional reviewer at {}", ro.code))?;
            let region_cast = Cast {
                developer,
                reviewer,
            };
            cast.insert(ro.code.clone(), region_cast);
            offices.push(Office {
                unit: ro.code.clone(),
                region: ro.code.clone(),
                countries: ro.covers.clone(),
            });
            weights.push(12);
            let mut stack: Vec<&meridian_domain::org::OrgUnit> = org.children(&ro.code).collect();
            while let Some(u) = stack.pop() {
                stack.extend(org.children(&u.code));
                let countries = match (&u.country, u.kind) {
                    (Some(c), _) => vec![c.clone()],
                    (None, UnitKind::SpecialOffice) => ro.covers.clone(),
                    _ => continue,
                };
                if countries.is_empty() {
                    continue;
                }
                let own = find(Role::ProjectDeveloper, &u.code);
                if own.is_some() {
                    featured.push(offices.len());
                }
                cast.insert(
                    u.code.clone(),
                    Cast {
                        developer: own.unwrap_or(developer),
                        reviewer,
                    },
                );
                let weight = match u.kind {
                    UnitKind::SpecialOffice => 20,
                    _ if countries.iter().any(|c| LARGE.contains(&c.as_str())) => 30,
                    _ => 2 + (fnv(u.code.as_str()) % 10) as u32,
                };
                offices.push(Office {
                    unit: u.code.clone(),
                    region: ro.code.clone(),
                    countries,
                });
                weights.push(weight);
            }
        }
        if offices.is_empty() {
            return Err("the organization has no regional office to own projects".into());
        }
        let regional_approver = match regional_approver {
            Some((unit, limit, from)) => find(Role::Approver, &unit).map(|i| {
                let region = org
                    .ancestors(&unit)
                    .find(|u| u.kind == UnitKind::RegionalOffice)
                    .map(|u| u.code.clone())
                    .unwrap_or(unit);
                (i, region, limit, from)
            }),
            None => None,
        };
        Ok(Self {
            people,
            offices,
            weights,
            featured,
            cast,
            hq_approver,
            regional_approver,
            country_names: countries
                .iter()
                .map(|c| (c.iso3.to_string(), c.name_en.clone()))
                .collect(),
            rates,
            donor_weights: DONORS.iter().map(|d| d.2).collect(),
        })
    }

    /// Whether some office has its own demo project developer (needed for the real path).
    pub fn has_featured_offices(&self) -> bool {
        !self.featured.is_empty()
    }

    fn country_name(&self, iso3: &Iso3) -> String {
        self.country_names
            .get(iso3.as_str())
            .cloned()
            .unwrap_or_else(|| iso3.to_string())
    }

    /// A status drawn from [`STATUS_WEIGHTS`].
    pub fn status(&self, rng: &mut DemoRng) -> Status {
        Status::ALL[rng.weighted(&STATUS_WEIGHTS)]
    }

    fn usd(&self, money: &Money, on: Date) -> Decimal {
        self.rates.to_usd(money, on).unwrap_or(Decimal::ZERO)
    }

    /// An amount of `usd` dollars in `currency` on `on`, in round hundreds.
    fn amount_in(&self, usd: Decimal, currency: Currency, on: Date) -> Money {
        let one = Money::new(Decimal::ONE, currency).expect("one is an amount");
        let rate = self.usd(&one, on);
        let raw = if rate > Decimal::ZERO {
            usd / rate
        } else {
            usd
        };
        let hundreds = (raw / Decimal::from(100)).round() * Decimal::from(100);
        Money::new(hundreds.max(Decimal::from(100)), currency).expect("a whole amount")
    }

    /// A generated project that ends in `status`. With `featured`, it belongs to an office
    /// that has its own demo project developer (for the real path).
    pub fn project(&self, rng: &mut DemoRng, status: Status, featured: bool) -> DemoProject {
        let office = if featured && !self.featured.is_empty() {
            &self.offices[*rng.pick(&self.featured)]
        } else {
            &self.offices[rng.weighted(&self.weights)]
        };
        let cast = self.cast[&office.unit];
        let primary = rng.pick(&office.countries).clone();
        let name = self.country_name(&primary);
        let (theme, templates) = *rng.pick(TITLES);
        let area = *rng.pick(AREAS);
        let mut title = rng
            .pick(templates)
            .replace("{c}", &name)
            .replace("{a}", area);
        if rng.chance(0.3) {
            title.push_str(&format!(" (phase {})", rng.range(2, 4)));
        }
        let mut countries = Vec::new();
        if office.countries.len() > 1 && rng.chance(0.15) {
            for _ in 0..rng.range(1, 2) {
                let c = rng.pick(&office.countries).clone();
                if c != primary && !countries.contains(&c) {
                    countries.push(c);
                }
            }
        }
        let mut donors = Vec::new();
        for _ in 0..rng.weighted(&[0, 70, 22, 8]) {
            let d = DONORS[rng.weighted(&self.donor_weights)].0.to_owned();
            if !donors.contains(&d) {
                donors.push(d);
            }
        }
        let lead = DONORS
            .iter()
            .find(|d| d.0 == donors[0])
            .expect("a listed donor");
        let currency = if rng.chance(0.7) {
            Currency::parse(lead.1).expect("a known currency")
        } else {
            Currency::usd()
        };
        let mut partners: Vec<String> = Vec::new();
        for _ in 0..rng.range(1, 3) {
            let p = rng.pick(PARTNERS).replace("{c}", &name);
            if !partners.contains(&p) {
                partners.push(p);
            }
        }
        let summary = format!(
            "{title}. With {} and local authorities, the project aims to {}.",
            partners[0],
            rng.pick(GOALS)
        );

        let plan = self.plan(rng, status);
        let created = plan.created;
        let created_day = created.date();

        // The budget: log-uniform between 80 thousand and 6.5 million dollars.
        let low = 80_000f64.ln();
        let high = 6_500_000f64.ln();
        let mut target = (low + rng.unit() * (high - low)).exp();
        if theme == "displacement_and_crisis_response" {
            target = (target * 1.4).min(6_500_000.0);
        }
        let target = Decimal::from(target as i64);
        let local = LOCAL_CURRENCY
            .iter()
            .find(|(c, _)| *c == primary.as_str())
            .map(|(_, cur)| Currency::parse(cur).expect("a known currency"));
        let mut picked: Vec<usize> = vec![0, 1];
        for i in 2..LINES.len() {
            if rng.chance(0.55) {
                picked.push(i);
            }
        }
        let shares: u32 = picked.iter().map(|&i| LINES[i].2).sum();
        let mut lines = Vec::with_capacity(picked.len());
        for &i in &picked {
            let (category, description, share) = LINES[i];
            let usd = target * Decimal::from(share) / Decimal::from(shares);
            let line_currency = match local {
                Some(l) if category == "office" && rng.chance(0.5) => l,
                _ => currency,
            };
            lines.push(DemoBudgetLine {
                category: category.to_owned(),
                description: description.to_owned(),
                amount: self.amount_in(usd, line_currency, created_day),
            });
        }
        let budget_usd: Decimal = lines.iter().map(|l| self.usd(&l.amount, created_day)).sum();

        // Decisions: the region's reviewer endorses; headquarters approves, or the regional
        // approver under their sub-delegation when it covers the amount.
        let mut steps = Vec::with_capacity(plan.steps.len());
        for (t, at) in &plan.steps {
            let by = match t {
                Transition::StartReview | Transition::Return | Transition::Endorse => cast.reviewer,
                Transition::Reject if plan.rejected_by_approver => self.hq_approver,
                Transition::Reject => cast.reviewer,
                Transition::Approve => {
                    let amount: Decimal =
                        lines.iter().map(|l| self.usd(&l.amount, at.date())).sum();
                    match &self.regional_approver {
                        Some((i, region, limit, from))
                            if *region == office.region
                                && amount <= *limit
                                && at.date() >= *from =>
                        {
                            *i
                        }
                        _ => self.hq_approver,
                    }
                }
                _ => cast.developer,
            };
            let comment = match t {
                Transition::Return => "Please revise the budget and the results framework.".into(),
                Transition::Reject => "The proposal does not fit the donor's priorities.".into(),
                Transition::Endorse => "Endorsed by the regional office.".into(),
                Transition::Withdraw => "Withdrawn: the funding opportunity closed.".into(),
                _ => String::new(),
            };
            steps.push(DemoStep {
                transition: *t,
                by,
                at: *at,
                comment,
            });
        }

        // Review comments, while the project was under review.
        let mut comments = Vec::new();
        if let Some((from, to)) = plan.review_window
            && rng.chance(0.6)
        {
            let span = (to - from).whole_seconds().max(2);
            let n = rng.range(1, 3);
            let mut at = from;
            for _ in 0..n {
                at += Duration::seconds(rng.range(1, span / (2 * n + 1)));
                let (section, question, answer) = *rng.pick(REVIEW_COMMENTS);
                comments.push(DemoComment {
                    section: section.into(),
                    by: cast.reviewer,
                    at,
                    body: question.into(),
                    reply_to_previous: false,
                });
                if rng.chance(0.6) {
                    at += Duration::seconds(rng.range(1, span / (2 * n + 1)));
                    comments.push(DemoComment {
                        section: section.into(),
                        by: cast.developer,
                        at,
                        body: answer.into(),
                        reply_to_previous: true,
                    });
                }
            }
        }

        // Transactions, once the project runs.
        let mut transactions = Vec::new();
        if let Some((from, to, progress)) = plan.spending {
            let days = (to - from).whole_days().max(1);
            let mut push = |rng: &mut DemoRng,
                            kind,
                            share: Decimal,
                            provider: &str,
                            receiver: &str,
                            description: &str| {
                let date = from + Duration::days(rng.range(0, days));
                let at = at_time(rng, date);
                let amount = self.amount_in(budget_usd * share, currency, date);
                transactions.push(DemoTransaction {
                    kind,
                    date,
                    amount,
                    provider: provider.to_owned(),
                    receiver: receiver.to_owned(),
                    description: description.to_owned(),
                    by: cast.developer,
                    at,
                });
            };
            let received = if progress >= Decimal::ONE {
                Decimal::ONE
            } else {
                (progress + Decimal::new(rng.range(10, 40), 2)).min(Decimal::ONE)
            };
            let tranches = rng.range(1, 3);
            for _ in 0..tranches {
                push(
                    rng,
                    TransactionKind::IncomingFunds,
                    received / Decimal::from(tranches),
                    &donors[0],
                    "IOM",
                    "Donor contribution",
                );
            }
            for _ in 0..rng.range(1, 2) {
                let share = Decimal::new(rng.range(5, 20), 2);
                push(
                    rng,
                    TransactionKind::Commitment,
                    share,
                    "IOM",
                    &partners[0],
                    "Implementing partner agreement",
                );
            }
            let spent = progress * Decimal::new(rng.range(70, 100), 2);
            let payments = rng.range(2, 6);
            for _ in 0..payments {
                push(
                    rng,
                    TransactionKind::Expenditure,
                    spent / Decimal::from(payments),
                    "IOM",
                    "Suppliers and staff",
                    "Project expenditure",
                );
            }
        }

        let mut admin_areas = Vec::new();
        if rng.chance(0.5) {
            admin_areas.push(capitalized(area.trim_start_matches("the ")));
        }
        DemoProject {
            id: demo_id(rng, created),
            title,
            summary,
            thematic_area: theme.to_owned(),
            unit: office.unit.clone(),
            primary_country: primary,
            countries,
            admin_areas,
            start: plan.start,
            end: plan.end,
            currency,
            lines,
            donors,
            partners,
            restricted: rng.chance(0.07),
            drafted_by: cast.developer,
            created_at: created,
            steps,
            comments,
            transactions,
        }
    }

    /// The history that leads to `status`, placed in time so that it ends before
    /// [`DEMO_DAY`], with the project's dates consistent with it.
    fn plan(&self, rng: &mut DemoRng, status: Status) -> Plan {
        use Transition::*;
        let review_cycle = |rng: &mut DemoRng| -> Vec<Transition> {
            if rng.chance(0.25) {
                vec![Submit, StartReview, Return, Resubmit]
            } else {
                vec![Submit, StartReview]
            }
        };
        let mut rejected_by_approver = false;
        let path: Vec<Transition> = match status {
            Status::Draft => vec![],
            Status::Submitted => vec![Submit],
            Status::UnderReview => review_cycle(rng),
            Status::ReturnedForRevision => vec![Submit, StartReview, Return],
            Status::Endorsed => [review_cycle(rng), vec![Endorse]].concat(),
            Status::SubmittedToDonor => [review_cycle(rng), vec![Endorse, SubmitToDonor]].concat(),
            Status::Approved => [review_cycle(rng), vec![Endorse, SubmitToDonor, Approve]].concat(),
            Status::Active => {
                let mut p = [
                    review_cycle(rng),
                    vec![Endorse, SubmitToDonor, Approve, Activate],
                ]
                .concat();
                if rng.chance(0.1) {
                    p.extend([Suspend, Resume]);
                }
                p
            }
            Status::Suspended => [
                review_cycle(rng),
                vec![Endorse, SubmitToDonor, Approve, Activate, Suspend],
            ]
            .concat(),
            Status::OperationallyClosed => [
                review_cycle(rng),
                vec![
                    Endorse,
                    SubmitToDonor,
                    Approve,
                    Activate,
                    CloseOperationally,
                ],
            ]
            .concat(),
            Status::FinanciallyClosed => [
                review_cycle(rng),
                vec![
                    Endorse,
                    SubmitToDonor,
                    Approve,
                    Activate,
                    CloseOperationally,
                    CloseFinancially,
                ],
            ]
            .concat(),
            Status::Rejected => {
                if rng.chance(0.3) {
                    rejected_by_approver = true;
                    vec![Submit, StartReview, Endorse, SubmitToDonor, Reject]
                } else {
                    vec![Submit, StartReview, Reject]
                }
            }
            Status::Withdrawn => match rng.weighted(&[40, 30, 30]) {
                0 => vec![Withdraw],
                1 => vec![Submit, Withdraw],
                _ => vec![Submit, StartReview, Return, Withdraw],
            },
        };

        // Offsets in days from the day the project was drafted.
        let mut offsets: Vec<i64> = Vec::with_capacity(path.len());
        let mut day = 0i64;
        let mut start_off = None;
        let mut end_off = None;
        for t in &path {
            day += match t {
                Submit => rng.range(3, 40),
                StartReview => rng.range(1, 10),
                Return => rng.range(5, 25),
                Resubmit => rng.range(7, 45),
                Endorse => rng.range(3, 20),
                SubmitToDonor => rng.range(2, 20),
                Approve => rng.range(10, 90),
                Reject | Withdraw => rng.range(5, 40),
                Activate => {
                    let s = day + rng.range(5, 45);
                    start_off = Some(s);
                    end_off = Some(s + rng.range(365, 1460));
                    s + rng.range(0, 7) - day
                }
                CloseOperationally => end_off.expect("activated first") + rng.range(0, 30) - day,
                CloseFinancially => rng.range(30, 150),
                // Placed below, once the project is in time.
                Suspend | Resume => 0,
            };
            offsets.push(day);
        }
        let last = offsets.iter().copied().max().unwrap_or(0);
        let (start_off, end_off) = match (start_off, end_off) {
            (Some(s), Some(e)) => (s, e),
            _ => {
                let s = last + rng.range(30, 240);
                (s, s + rng.range(365, 1460))
            }
        };
        let activate_off = path.iter().position(|t| *t == Activate).map(|i| offsets[i]);
        let earliest = (DEMO_DAY - EARLIEST).whole_days();
        // How many days before DEMO_DAY the project was drafted.
        let back: i64 = match status {
            Status::Active | Status::Suspended => {
                // Running on DEMO_DAY: activated before it, ending after it.
                let a = activate_off.expect("activated");
                rng.range(a + 1, (end_off - 1).max(a + 1))
            }
            Status::Approved => last + rng.range(1, 60),
            Status::OperationallyClosed => last + rng.range(1, 365),
            Status::FinanciallyClosed | Status::Rejected | Status::Withdrawn => {
                rng.range(last + 1, earliest.max(last + 1))
            }
            _ => last + rng.range(1, 240),
        };
        let created_day = DEMO_DAY - Duration::days(back);
        let created = at_time(rng, created_day);
        let mut steps: Vec<(Transition, OffsetDateTime)> = Vec::with_capacity(path.len());
        for (t, off) in path.iter().zip(&offsets) {
            steps.push((*t, at_time(rng, created_day + Duration::days(*off))));
        }
        // Suspensions happen while running, before DEMO_DAY.
        if let Some(i) = path.iter().position(|t| *t == Suspend) {
            let activated = steps[i - 1].1.date();
            let room = (DEMO_DAY - activated).whole_days().max(3);
            let suspended = activated + Duration::days(rng.range(1, room / 2));
            steps[i].1 = at_time(rng, suspended);
            if let Some(r) = steps.get_mut(i + 1) {
                let resumed = suspended + Duration::days(rng.range(1, (room / 2).max(2)));
                r.1 = at_time(rng, resumed.min(DEMO_DAY - Duration::days(1)));
            }
        }
        // Keep the steps in order (same-day steps keep their sequence, an hour apart).
        for i in 1..steps.len() {
            if steps[i].1 <= steps[i - 1].1 {
                steps[i].1 = steps[i - 1].1 + Duration::hours(1);
            }
        }
        let start = created_day + Duration::days(start_off);
        let end = created_day + Duration::days(end_off);
        let review_window = path.iter().position(|t| *t == StartReview).map(|i| {
            let from = steps[i].1;
            let to = steps
                .get(i + 1)
                .map(|s| s.1)
                .unwrap_or_else(|| at_time(rng, DEMO_DAY));
            (from, to.max(from + Duration::hours(2)))
        });
        let spending = activate_off.map(|_| {
            let activated = steps
                .iter()
                .find(|s| s.0 == Activate)
                .expect("activated")
                .1
                .date();
            let until = match status {
                Status::FinanciallyClosed | Status::OperationallyClosed => end.min(DEMO_DAY),
                _ => DEMO_DAY - Duration::days(1),
            };
            let progress = match status {
                Status::FinanciallyClosed | Status::OperationallyClosed => Decimal::ONE,
                _ => {
                    let total = (end - start).whole_days().max(1);
                    let done = (DEMO_DAY - start).whole_days().clamp(0, total);
                    Decimal::from(done) / Decimal::from(total)
                }
            };
            (activated, until.max(activated), progress)
        });
        Plan {
            created,
            steps,
            start,
            end,
            review_window,
            spending,
            rejected_by_approver,
        }
    }
}

struct Plan {
    created: OffsetDateTime,
    steps: Vec<(Transition, OffsetDateTime)>,
    start: Date,
    end: Date,
    review_window: Option<(OffsetDateTime, OffsetDateTime)>,
    /// From, until, and the share of the work done.
    spending: Option<(Date, Date, Decimal)>,
    rejected_by_approver: bool,
}

/// A moment of `day` in office hours (UTC).
fn at_time(rng: &mut DemoRng, day: Date) -> OffsetDateTime {
    let seconds = rng.range(7 * 3600, 18 * 3600);
    PrimitiveDateTime::new(day, time!(0:00))
        .assume_utc()
        .saturating_add(Duration::seconds(seconds))
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_table_covers_every_local_and_donor_currency() {
        let table = RateTable::new(demo_rates());
        for (_, code) in LOCAL_CURRENCY {
            let c = Currency::parse(code).unwrap();
            assert!(table.rate_on(c, EARLIEST).is_some(), "{code}");
        }
        for (_, code, _) in DONORS {
            let c = Currency::parse(code).unwrap();
            assert!(c.is_usd() || table.rate_on(c, EARLIEST).is_some(), "{code}");
        }
        assert_eq!(STATUS_WEIGHTS.len(), Status::ALL.len());
        assert_eq!(STATUS_WEIGHTS.iter().sum::<u32>(), 1000);
    }
}
