//! The vocabulary of results-based management: result levels, indicator measures and
//! directions, DHIS2's aggregation types, reporting frequencies and periods, the status of a
//! reported value, disaggregation categories, and the parsing of entered values.
//!
//! Every enum here is stored as text in SQL columns and travels as the same `snake_case` text in
//! JSON, so each has `as_str()`, [`FromStr`] and an `ALL` list in display order.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::{Date, Month};

/// A name that is not one of an enum's stored names; says which names would have been accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {found:?}; expected one of {}", .expected.join(", "))]
pub struct UnknownName {
    /// What was being parsed, e.g. `aggregation type`.
    pub kind: &'static str,
    pub found: String,
    pub expected: &'static [&'static str],
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            const NAMES: &'static [&'static str] = &[$($text),+];

            /// The stored and serialized name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = $crate::results::model::UnknownName;
            fn from_str(raw: &str) -> Result<Self, $crate::results::model::UnknownName> {
                let raw_trimmed = raw.trim();
                Self::ALL.iter().copied().find(|v| v.as_str() == raw_trimmed).ok_or_else(|| {
                    $crate::results::model::UnknownName { kind: $kind, found: raw.to_owned(), expected: Self::NAMES }
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

// ---------------------------------------------------------------------------------------------
// Result levels, measures, directions

text_enum!(
    /// The level of a result in a project's results matrix (the results chain
    /// impact ← outcome ← output), which is also what IATI's `result@type` records.
    ResultLevel, "result level" {
        Impact = "impact",
        Outcome = "outcome",
        Output = "output",
    }
);

impl ResultLevel {
    /// IATI 2.03 `ResultType` code, for the IATI export.
    pub fn iati_code(self) -> u8 {
        match self {
            ResultLevel::Impact => 3,
            ResultLevel::Outcome => 2,
            ResultLevel::Output => 1,
        }
    }

    /// The level for an IATI `ResultType` code; `9` (other) has no level here.
    pub fn from_iati_code(code: u8) -> Option<ResultLevel> {
        match code {
            3 => Some(ResultLevel::Impact),
            2 => Some(ResultLevel::Outcome),
            1 => Some(ResultLevel::Output),
            _ => None,
        }
    }
}

text_enum!(
    /// How an indicator is measured. Percentages are kept as numerator and denominator, never as
    /// a ratio, because ratios cannot be aggregated: two offices at 30/100 and 50/200 make
    /// 80/300 (26.7 %), not the 27.5 % an average of ratios gives.
    Measure, "measure" {
        Number = "number",
        Percentage = "percentage",
        Qualitative = "qualitative",
    }
);

impl Measure {
    /// Whether values are figures that can be checked, summed and compared with targets.
    pub fn is_quantitative(self) -> bool {
        !matches!(self, Measure::Qualitative)
    }

    /// IATI 2.03 `IndicatorMeasure` code (1 unit, 2 percentage, 5 qualitative).
    pub fn iati_code(self) -> u8 {
        match self {
            Measure::Number => 1,
            Measure::Percentage => 2,
            Measure::Qualitative => 5,
        }
    }
}

text_enum!(
    /// Whether more is better (people assisted) or less is better (stunting rate, days in
    /// detention); achievement against a target depends on it.
    Direction, "direction" {
        Ascending = "ascending",
        Descending = "descending",
    }
);

impl Direction {
    /// IATI's `indicator@ascending` attribute.
    pub fn is_ascending(self) -> bool {
        matches!(self, Direction::Ascending)
    }
}

// ---------------------------------------------------------------------------------------------
// Aggregation types (DHIS2)

text_enum!(
    /// How an indicator's values combine across periods and across units (projects, offices),
    /// with DHIS2's semantics (`org.hisp.dhis.analytics.AggregationType`), so that figures
    /// agree with what national health and protection systems built on DHIS2 report.
    ///
    /// Aggregation is two steps: first across time within each unit ([`Self::across_time`]),
    /// then across units ([`Self::across_units`]).
    ///
    /// | type                                | across time      | across units |
    /// |-------------------------------------|------------------|--------------|
    /// | `sum`                               | sum              | sum          |
    /// | `average`                           | average          | average      |
    /// | `average_sum_org_unit`              | average          | sum          |
    /// | `last`                              | last (carried)   | sum          |
    /// | `last_average_org_unit`             | last (carried)   | average      |
    /// | `last_in_period`                    | last in period   | sum          |
    /// | `last_in_period_average_org_unit`   | last in period   | average      |
    /// | `min`                               | min              | min          |
    /// | `max`                               | max              | max          |
    /// | `min_sum_org_unit`                  | min              | sum          |
    /// | `max_sum_org_unit`                  | max              | sum          |
    /// | `count`                             | count            | sum of counts|
    /// | `none`                              | —                | —            |
    AggregationType, "aggregation type" {
        Sum = "sum",
        Average = "average",
        AverageSumOrgUnit = "average_sum_org_unit",
        Last = "last",
        LastAverageOrgUnit = "last_average_org_unit",
        LastInPeriod = "last_in_period",
        LastInPeriodAverageOrgUnit = "last_in_period_average_org_unit",
        Min = "min",
        Max = "max",
        MinSumOrgUnit = "min_sum_org_unit",
        MaxSumOrgUnit = "max_sum_org_unit",
        Count = "count",
        /// Not aggregatable (qualitative values, or figures that mean nothing once combined):
        /// only the values as reported are shown.
        None = "none",
    }
);

/// How one unit's values over several periods become one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeOperator {
    Sum,
    Average,
    /// The latest value at or before the end of the window, even from an earlier period
    /// (carried forward): a stock such as "people in the caseload" stays true until it changes.
    Last,
    /// The latest value inside the window only; a unit that did not report in the window has
    /// no value.
    LastInPeriod,
    Min,
    Max,
    /// The number of values present.
    Count,
    /// Not aggregatable.
    None,
}

/// How the per-unit values of several units become one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitOperator {
    Sum,
    Average,
    Min,
    Max,
    /// Not aggregatable.
    None,
}

impl AggregationType {
    /// DHIS2's name, e.g. `AVERAGE_SUM_ORG_UNIT`, for exchanges with DHIS2 instances.
    pub fn dhis2_name(self) -> &'static str {
        use AggregationType::*;
        match self {
            Sum => "SUM",
            Average => "AVERAGE",
            AverageSumOrgUnit => "AVERAGE_SUM_ORG_UNIT",
            Last => "LAST",
            LastAverageOrgUnit => "LAST_AVERAGE_ORG_UNIT",
            LastInPeriod => "LAST_IN_PERIOD",
            LastInPeriodAverageOrgUnit => "LAST_IN_PERIOD_AVERAGE_ORG_UNIT",
            Min => "MIN",
            Max => "MAX",
            MinSumOrgUnit => "MIN_SUM_ORG_UNIT",
            MaxSumOrgUnit => "MAX_SUM_ORG_UNIT",
            Count => "COUNT",
            None => "NONE",
        }
    }

    /// The first step: one unit's values over the periods of a window.
    pub fn across_time(self) -> TimeOperator {
        use AggregationType::*;
        match self {
            Sum => TimeOperator::Sum,
            Average | AverageSumOrgUnit => TimeOperator::Average,
            Last | LastAverageOrgUnit => TimeOperator::Last,
            LastInPeriod | LastInPeriodAverageOrgUnit => TimeOperator::LastInPeriod,
            Min | MinSumOrgUnit => TimeOperator::Min,
            Max | MaxSumOrgUnit => TimeOperator::Max,
            Count => TimeOperator::Count,
            None => TimeOperator::None,
        }
    }

    /// The second step: the per-unit results of several units. For `count` the per-unit counts
    /// are summed, so the result is the number of values reported in the whole group.
    pub fn across_units(self) -> UnitOperator {
        use AggregationType::*;
        match self {
            Sum | AverageSumOrgUnit | Last | LastInPeriod | MinSumOrgUnit | MaxSumOrgUnit
            | Count => UnitOperator::Sum,
            Average | LastAverageOrgUnit | LastInPeriodAverageOrgUnit => UnitOperator::Average,
            Min => UnitOperator::Min,
            Max => UnitOperator::Max,
            None => UnitOperator::None,
        }
    }

    /// Whether values of this type combine at all.
    pub fn is_aggregatable(self) -> bool {
        self != AggregationType::None
    }

    /// Whether an indicator of this measure may use this type: qualitative values aggregate
    /// only as `none`; figures may use any type.
    pub fn fits(self, measure: Measure) -> bool {
        measure.is_quantitative() || self == AggregationType::None
    }
}

// ---------------------------------------------------------------------------------------------
// Frequencies and periods

text_enum!(
    /// How often a project reports on its indicators.
    Frequency, "frequency" {
        Monthly = "monthly",
        Quarterly = "quarterly",
        Annual = "annual",
    }
);

/// One reporting period, both ends included. Periods are calendar-aligned (a quarter is
/// January–March, …) and clipped to the project's dates, so the first and last periods of a
/// project may be shorter than the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    #[serde(with = "crate::projects::money::iso_date")]
    pub start: Date,
    #[serde(with = "crate::projects::money::iso_date")]
    pub end: Date,
}

impl Frequency {
    /// The reporting periods between two dates (both included): calendar months, quarters or
    /// years, the first and last clipped to `start` and `end`. Empty when `end < start`.
    pub fn periods(self, start: Date, end: Date) -> Vec<Period> {
        let mut out = Vec::new();
        let mut from = start;
        while from <= end {
            let calendar = self.calendar_period(from);
            let to = calendar.end.min(end);
            out.push(Period {
                start: from,
                end: to,
            });
            match to.next_day() {
                Some(next) => from = next,
                None => break,
            }
        }
        out
    }

    /// The whole calendar period (month, quarter or year) that contains `date`.
    pub fn calendar_period(self, date: Date) -> Period {
        let year = date.year();
        let (first_month, months) = match self {
            Frequency::Monthly => (date.month() as u8, 1),
            Frequency::Quarterly => ((date.month() as u8 - 1) / 3 * 3 + 1, 3),
            Frequency::Annual => (1, 12),
        };
        let last_month = first_month + months - 1;
        let month = |m: u8| Month::try_from(m).expect("months 1 to 12");
        let start = Date::from_calendar_date(year, month(first_month), 1)
            .expect("the first of a month exists");
        let end_month = month(last_month);
        let end = Date::from_calendar_date(year, end_month, end_month.length(year))
            .expect("the last day of a month exists");
        Period { start, end }
    }

    /// The label of the calendar period that contains `date`: `2026-03`, `2026-Q1` or `2026`.
    pub fn label_of(self, date: Date) -> String {
        match self {
            Frequency::Monthly => format!("{:04}-{:02}", date.year(), date.month() as u8),
            Frequency::Quarterly => {
                format!("{:04}-Q{}", date.year(), (date.month() as u8 - 1) / 3 + 1)
            }
            Frequency::Annual => format!("{:04}", date.year()),
        }
    }

    /// The whole calendar period a label names; the inverse of [`Frequency::label_of`].
    pub fn parse_label(self, label: &str) -> Result<Period, String> {
        let label = label.trim();
        let expected = match self {
            Frequency::Monthly => "a month such as 2026-03",
            Frequency::Quarterly => "a quarter such as 2026-Q1",
            Frequency::Annual => "a year such as 2026",
        };
        let bad = || format!("expected {expected}, found {label:?}");
        let year = |s: &str| -> Result<i32, String> {
            if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let first_day = |y: i32, m: u8| -> Result<Date, String> {
            let month = Month::try_from(m).map_err(|_| bad())?;
            Date::from_calendar_date(y, month, 1).map_err(|_| bad())
        };
        let date = match self {
            Frequency::Annual => first_day(year(label)?, 1)?,
            Frequency::Monthly => {
                let (y, m) = label.split_once('-').ok_or_else(bad)?;
                if m.len() != 2 || !m.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                first_day(year(y)?, m.parse().map_err(|_| bad())?)?
            }
            Frequency::Quarterly => {
                let (y, q) = label.split_once("-Q").ok_or_else(bad)?;
                let q: u8 = match q {
                    "1" => 1,
                    "2" => 2,
                    "3" => 3,
                    "4" => 4,
                    _ => return Err(bad()),
                };
                first_day(year(y)?, (q - 1) * 3 + 1)?
            }
        };
        Ok(self.calendar_period(date))
    }
}

impl Period {
    /// The label of the calendar period this period lies in (`2026-03`, `2026-Q1`, `2026`); a
    /// clipped first or last period has the label of its calendar period.
    pub fn label(&self, frequency: Frequency) -> String {
        frequency.label_of(self.start)
    }

    pub fn contains(&self, date: Date) -> bool {
        self.start <= date && date <= self.end
    }

    /// Number of days, both ends included.
    pub fn days(&self) -> i64 {
        (self.end - self.start).whole_days() + 1
    }
}

// ---------------------------------------------------------------------------------------------
// Status of a reported value

text_enum!(
    /// Where a reported value is in its review.
    ValueStatus, "value status" {
        Draft = "draft",
        Submitted = "submitted",
        Approved = "approved",
        Returned = "returned",
    }
);

text_enum!(
    /// What someone does to a reported value.
    ValueTransition, "value transition" {
        /// Change the figure or comment (a draft stays draft; a returned value goes back to
        /// draft).
        Edit = "edit",
        Submit = "submit",
        Approve = "approve",
        /// Send back to the reporter with a reason; also undoes an approval made by mistake,
        /// as long as the period is not locked.
        Return = "return",
    }
);

/// The one table of the review of a value. A locked period refuses every move.
///
/// ```text
/// draft ─edit→ draft ─submit→ submitted ─approve→ approved
/// submitted | approved ─return→ returned ─edit→ draft
/// ```
const VALUE_EDGES: &[(ValueStatus, ValueTransition, ValueStatus)] = {
    use ValueStatus::*;
    use ValueTransition::*;
    &[
        (Draft, Edit, Draft),
        (Draft, Submit, Submitted),
        (Submitted, Approve, Approved),
        (Submitted, Return, Returned),
        (Approved, Return, Returned),
        (Returned, Edit, Draft),
    ]
};

/// Why a value cannot make a move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueTransitionError {
    #[error("the period is locked; its values can no longer change")]
    PeriodLocked,
    #[error("cannot {action} a value that is {from}; allowed now: {}", value_allowed_text(.allowed))]
    Illegal {
        from: ValueStatus,
        action: ValueTransition,
        allowed: Vec<ValueTransition>,
    },
}

fn value_allowed_text(allowed: &[ValueTransition]) -> String {
    if allowed.is_empty() {
        "nothing".to_owned()
    } else {
        allowed
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ValueStatus {
    /// The moves allowed from here in an open period, in the table's order.
    pub fn allowed(self) -> Vec<ValueTransition> {
        VALUE_EDGES
            .iter()
            .filter(|(from, _, _)| *from == self)
            .map(|(_, t, _)| *t)
            .collect()
    }

    /// The status after `action`, or why not. `period_locked` refuses everything.
    pub fn apply(
        self,
        action: ValueTransition,
        period_locked: bool,
    ) -> Result<ValueStatus, ValueTransitionError> {
        if period_locked {
            return Err(ValueTransitionError::PeriodLocked);
        }
        VALUE_EDGES
            .iter()
            .find(|(from, t, _)| *from == self && *t == action)
            .map(|(_, _, to)| *to)
            .ok_or_else(|| ValueTransitionError::Illegal {
                from: self,
                action,
                allowed: self.allowed(),
            })
    }

    /// Whether the figure may be changed (directly, or after which it becomes a draft).
    pub fn is_editable(self) -> bool {
        matches!(self, ValueStatus::Draft | ValueStatus::Returned)
    }

    /// Whether the value counts in aggregates shown as official (approved only); drafts and
    /// submitted values appear only in "provisional" views.
    pub fn is_official(self) -> bool {
        self == ValueStatus::Approved
    }
}

impl ValueTransition {
    /// Approving and returning are a reviewer's decisions: the person who submitted the value
    /// must not take them (segregation of duties, enforced by the store).
    pub fn is_review(self) -> bool {
        matches!(self, ValueTransition::Approve | ValueTransition::Return)
    }
}

// ---------------------------------------------------------------------------------------------
// Disaggregation

/// A dimension along which values are split. The four built-in categories are those the
/// humanitarian and migration data standards ask for; others are custom, named by a
/// `snake_case` code. Stored and serialized as that code (`sex`, `age_group`, …, or the custom
/// code), so a custom category can never take a built-in name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DisaggregationCategory {
    Sex,
    AgeGroup,
    DisplacementStatus,
    Disability,
    /// A category defined by the project or the SRF, e.g. `nationality`, `vulnerability`.
    Custom(String),
}

/// One option of a category (one column of a disaggregated table).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CategoryOption {
    /// Stable code stored with values, e.g. `female`, `age_0_17`.
    pub code: String,
    /// English label; the UI translates.
    pub label: String,
}

/// A category as used by an indicator: its options and whether they cover everyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disaggregation {
    pub category: DisaggregationCategory,
    pub options: Vec<CategoryOption>,
    /// When the options cover every person counted (and do not overlap), the disaggregated
    /// values must add up to the total; otherwise they may add up to less.
    pub exhaustive: bool,
}

impl DisaggregationCategory {
    /// The built-in categories.
    pub const BUILTIN: &'static [DisaggregationCategory] = &[
        DisaggregationCategory::Sex,
        DisaggregationCategory::AgeGroup,
        DisaggregationCategory::DisplacementStatus,
        DisaggregationCategory::Disability,
    ];

    /// The stored code: `sex`, `age_group`, `displacement_status`, `disability`, or the custom
    /// category's code.
    pub fn as_str(&self) -> &str {
        match self {
            DisaggregationCategory::Sex => "sex",
            DisaggregationCategory::AgeGroup => "age_group",
            DisaggregationCategory::DisplacementStatus => "displacement_status",
            DisaggregationCategory::Disability => "disability",
            DisaggregationCategory::Custom(code) => code,
        }
    }

    /// A custom category; refuses built-in names and codes that are not `snake_case`
    /// (lowercase ASCII letters, digits and `_`, starting with a letter, at most 40 long).
    pub fn custom(code: &str) -> Result<DisaggregationCategory, String> {
        let code = code.trim();
        if let Some(builtin) = Self::BUILTIN.iter().find(|b| b.as_str() == code) {
            return Err(format!(
                "{code:?} is a built-in category; use {builtin:?} instead of a custom one"
            ));
        }
        let ok = !code.is_empty()
            && code.len() <= 40
            && code.as_bytes()[0].is_ascii_lowercase()
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(DisaggregationCategory::Custom(code.to_owned()))
        } else {
            Err(format!(
                "expected a category code in snake_case (lowercase letters, digits and _, \
                 starting with a letter, at most 40 characters), found {code:?}"
            ))
        }
    }

    /// The options a new indicator gets for this category (none for custom categories).
    pub fn default_options(&self) -> Vec<CategoryOption> {
        let list: &[(&str, &str)] = match self {
            DisaggregationCategory::Sex => &[
                ("female", "Female"),
                ("male", "Male"),
                ("other_unknown", "Other or unknown"),
            ],
            DisaggregationCategory::AgeGroup => &[
                ("age_0_17", "0–17"),
                ("age_18_59", "18–59"),
                ("age_60_plus", "60+"),
            ],
            DisaggregationCategory::DisplacementStatus => &[
                ("idp", "Internally displaced person"),
                ("refugee", "Refugee"),
                ("returnee", "Returnee"),
                ("host_community", "Host community"),
                ("migrant", "Migrant"),
            ],
            DisaggregationCategory::Disability => &[
                ("with_disability", "With disability"),
                ("without_disability", "Without disability"),
            ],
            DisaggregationCategory::Custom(_) => &[],
        };
        list.iter()
            .map(|(code, label)| CategoryOption {
                code: (*code).to_owned(),
                label: (*label).to_owned(),
            })
            .collect()
    }

    /// Whether the default options cover everyone: sex has "other or unknown" and the age
    /// groups cover all ages, so their parts must add up to the total. Displacement status
    /// does not (asylum seekers, stateless people, …), nor does disability (often not asked of
    /// everyone, e.g. the Washington Group questions start at age 5); custom categories start
    /// as not exhaustive.
    pub fn default_exhaustive(&self) -> bool {
        matches!(
            self,
            DisaggregationCategory::Sex | DisaggregationCategory::AgeGroup
        )
    }
}

impl Disaggregation {
    /// The category with its default options and exhaustiveness.
    pub fn default_for(category: DisaggregationCategory) -> Disaggregation {
        Disaggregation {
            options: category.default_options(),
            exhaustive: category.default_exhaustive(),
            category,
        }
    }
}

/// Values kept per combination of options (female × 18–59 × refugee) add up to the total only
/// when every category in the combination is exhaustive.
pub fn combination_is_exhaustive(categories: &[Disaggregation]) -> bool {
    categories.iter().all(|d| d.exhaustive)
}

impl FromStr for DisaggregationCategory {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let code = raw.trim();
        match Self::BUILTIN.iter().find(|b| b.as_str() == code) {
            Some(b) => Ok(b.clone()),
            None => DisaggregationCategory::custom(code),
        }
    }
}

impl TryFrom<String> for DisaggregationCategory {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        raw.parse()
    }
}

impl From<DisaggregationCategory> for String {
    fn from(c: DisaggregationCategory) -> String {
        c.as_str().to_owned()
    }
}

impl fmt::Display for DisaggregationCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Values

/// A reported (or target, or baseline) value, exact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    Number(Decimal),
    /// A percentage as its two counts; the ratio is derived, never stored.
    Percentage {
        numerator: Decimal,
        denominator: Decimal,
    },
    Text(String),
}

impl Quantity {
    /// The measure this value belongs to.
    pub fn measure(&self) -> Measure {
        match self {
            Quantity::Number(_) => Measure::Number,
            Quantity::Percentage { .. } => Measure::Percentage,
            Quantity::Text(_) => Measure::Qualitative,
        }
    }

    /// The value as a percentage (0–100) for a percentage, or the number for a number; `None`
    /// for text and for 0/0 (nothing counted: no percentage exists, which is not 0 %).
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Quantity::Number(n) => Some(*n),
            Quantity::Percentage {
                numerator,
                denominator,
            } => percent(*numerator, *denominator),
            Quantity::Text(_) => None,
        }
    }
}

impl fmt::Display for Quantity {
    /// `12.5`, `30/120`, or the text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quantity::Number(n) => write!(f, "{}", n.normalize()),
            Quantity::Percentage {
                numerator,
                denominator,
            } => write!(f, "{}/{}", numerator.normalize(), denominator.normalize()),
            Quantity::Text(t) => f.write_str(t),
        }
    }
}

/// `numerator / denominator × 100`, or `None` when the denominator is zero.
pub fn percent(numerator: Decimal, denominator: Decimal) -> Option<Decimal> {
    if denominator.is_zero() {
        None
    } else {
        numerator
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|n| n.checked_div(denominator))
    }
}

/// What is wrong with an entered value. The messages say what was expected and what was found,
/// for forms, XLSX cell reports and the API alike.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// `found` is already quoted (`"N/A"`) or descriptive (`an empty value`).
    #[error("expected {expected}, found {found}")]
    Expected { expected: String, found: String },
    #[error(
        "the numerator {numerator} is larger than the denominator {denominator}; a percentage \
         counts a part of a whole (enter the whole as the denominator)"
    )]
    NumeratorAboveDenominator {
        numerator: Decimal,
        denominator: Decimal,
    },
    #[error("{}", parts_message(.total, .parts, *.exhaustive))]
    PartsDoNotAddUp {
        total: String,
        parts: String,
        exhaustive: bool,
    },
    #[error("a {found} value was given for a {expected} indicator")]
    WrongMeasure { expected: Measure, found: Measure },
}

fn parts_message(total: &str, parts: &str, exhaustive: bool) -> String {
    if exhaustive {
        format!(
            "the disaggregated values add up to {parts}, but the total is {total}; the \
             categories cover everyone, so they must add up to the total"
        )
    } else {
        format!("the disaggregated values add up to {parts}, more than the total {total}")
    }
}

/// The largest figure accepted (10^15): no count of people or percentage part comes near it,
/// and sums of 300,000 such figures still fit exactly in a `Decimal`.
pub const MAX_FIGURE: Decimal = Decimal::from_parts(0xA4C6_8000, 0x0003_8D7E, 0, false, 0);

fn quoted(text: &str) -> String {
    if text.trim().is_empty() {
        "an empty value".to_owned()
    } else {
        format!("{text:?}")
    }
}

/// Parses one figure: digits with an optional decimal point (`1234`, `12.5`, `0.75`). Refuses
/// signs, thousands separators (`1,234` is 1.234 in half the world), exponents, percent signs
/// and words, naming what was found. Figures are never negative: an indicator measures a
/// level (people, days, a rate), and a change is the difference between a level and the
/// baseline, which [`super::aggregate::achievement`] computes.
pub fn parse_figure(text: &str, what: &str) -> Result<Decimal, ValueError> {
    let t = text.trim();
    let expected = |e: String| ValueError::Expected {
        expected: e,
        found: quoted(text),
    };
    if t.starts_with('-') && t.len() > 1 {
        return Err(expected(format!("{what} of zero or more")));
    }
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = !t.is_empty()
        && digits(int)
        && digits(frac)
        && !(int.is_empty() && frac.is_empty())
        && t.bytes().filter(|b| *b == b'.').count() <= 1;
    if !well_formed {
        let hint = if t.contains(',') {
            " (digits and a decimal point, no thousands separators)"
        } else if t.ends_with('%') {
            " (without the % sign)"
        } else {
            ""
        };
        return Err(expected(format!("{what}{hint}")));
    }
    let value = Decimal::from_str(t)
        .ok()
        .filter(|v| *v <= MAX_FIGURE)
        .ok_or_else(|| expected(format!("{what} below 10^15 with at most 28 digits")))?;
    Ok(value.normalize())
}

/// Parses an entered value for an indicator of the given measure.
///
/// - number: a figure (see [`parse_figure`]);
/// - percentage: `numerator/denominator` (`30/120`), the numerator at most the denominator
///   (see [`check_percentage`]); a ratio such as `25%` or `0.25` is refused because it cannot
///   be aggregated;
/// - qualitative: any non-empty text, trimmed.
///
/// An empty text is an error here: a value not reported is absent, not zero, and the caller
/// decides that before parsing.
pub fn parse_quantity(measure: Measure, text: &str) -> Result<Quantity, ValueError> {
    match measure {
        Measure::Number => Ok(Quantity::Number(parse_figure(text, "a number")?)),
        Measure::Percentage => {
            let Some((n, d)) = text.split_once('/') else {
                return Err(ValueError::Expected {
                    expected: "a numerator and a denominator such as \"30/120\"".to_owned(),
                    found: quoted(text),
                });
            };
            let numerator = parse_figure(n, "a numerator")?;
            let denominator = parse_figure(d, "a denominator")?;
            check_percentage(numerator, denominator)
        }
        Measure::Qualitative => {
            let t = text.trim();
            if t.is_empty() {
                Err(ValueError::Expected {
                    expected: "a text".to_owned(),
                    found: quoted(text),
                })
            } else {
                Ok(Quantity::Text(t.to_owned()))
            }
        }
    }
}

/// Checks a percentage's two counts.
///
/// The numerator may not exceed the denominator: a percentage indicator in a results matrix
/// counts a part of a whole (children vaccinated of children in the camp), so more than 100 %
/// is a data-entry mistake, usually the two fields swapped. Measures that can pass 100 %
/// (coverage against a planning figure, growth) are numbers with a unit, not percentages.
/// `0/0` is accepted: it records that there was nothing to count this period (no referrals),
/// which is a report, unlike a missing value; it adds nothing to aggregates and has no ratio.
pub fn check_percentage(numerator: Decimal, denominator: Decimal) -> Result<Quantity, ValueError> {
    if numerator.is_sign_negative() && !numerator.is_zero()
        || denominator.is_sign_negative() && !denominator.is_zero()
    {
        return Err(ValueError::Expected {
            expected: "counts of zero or more".to_owned(),
            found: format!("\"{numerator}/{denominator}\""),
        });
    }
    if numerator > denominator {
        return Err(ValueError::NumeratorAboveDenominator {
            numerator,
            denominator,
        });
    }
    Ok(Quantity::Percentage {
        numerator,
        denominator,
    })
}

/// Checks that disaggregated values agree with their total: equal to it when the categories are
/// exhaustive, at most it otherwise (the options of a category never overlap). Percentages are
/// checked on numerators and denominators separately. Qualitative values are not disaggregated
/// and always pass.
pub fn check_disaggregation_sum(
    total: &Quantity,
    parts: &[Quantity],
    exhaustive: bool,
) -> Result<(), ValueError> {
    let wrong = |p: &Quantity| ValueError::WrongMeasure {
        expected: total.measure(),
        found: p.measure(),
    };
    let too_large = || ValueError::Expected {
        expected: "figures below 10^15".to_owned(),
        found: "parts too large to add up".to_owned(),
    };
    let fits = |sum: Decimal, whole: Decimal| {
        if exhaustive {
            sum == whole
        } else {
            sum <= whole
        }
    };
    match total {
        Quantity::Text(_) => Ok(()),
        Quantity::Number(whole) => {
            let mut sum = Decimal::ZERO;
            for p in parts {
                match p {
                    Quantity::Number(n) => sum = sum.checked_add(*n).ok_or_else(too_large)?,
                    other => return Err(wrong(other)),
                }
            }
            if fits(sum, *whole) {
                Ok(())
            } else {
                Err(ValueError::PartsDoNotAddUp {
                    total: whole.normalize().to_string(),
                    parts: sum.normalize().to_string(),
                    exhaustive,
                })
            }
        }
        Quantity::Percentage {
            numerator,
            denominator,
        } => {
            let (mut n_sum, mut d_sum) = (Decimal::ZERO, Decimal::ZERO);
            for p in parts {
                match p {
                    Quantity::Percentage {
                        numerator,
                        denominator,
                    } => {
                        n_sum = n_sum.checked_add(*numerator).ok_or_else(too_large)?;
                        d_sum = d_sum.checked_add(*denominator).ok_or_else(too_large)?;
                    }
                    other => return Err(wrong(other)),
                }
            }
            if fits(n_sum, *numerator) && fits(d_sum, *denominator) {
                Ok(())
            } else {
                Err(ValueError::PartsDoNotAddUp {
                    total: total.to_string(),
                    parts: Quantity::Percentage {
                        numerator: n_sum,
                        denominator: d_sum,
                    }
                    .to_string(),
                    exhaustive,
                })
            }
        }
    }
}
