//! Results-based management: a project's results matrix (`framework.rs`), its reporting
//! periods and the review of reported values (`reporting.rs`), the roll-up cells that carry
//! approved values country → region → global and into programmes (`rollup.rs`), programmes
//! (`programmes.rs`) and the Strategic Results Framework (`srf.rs`).
//!
//! Figures are stored as BIGINT ten-thousandths (`*_e4`) like money; a percentage keeps its
//! numerator and denominator. A disaggregated figure is keyed `category=option`
//! (`sex=female`) or, per combination of one option of every category, by those parts sorted
//! by category (`age_group=age_18_59;sex=female`; see `meridian_domain::results::combination`);
//! the total is keyed `''`. What was reported is stored; figures per option derived from
//! combinations are worked out by the roll-up.

mod demo;
mod framework;
pub(crate) use framework::follow_project_dates;
mod office;
pub use office::MAX_OFFICE_PROJECTS;
mod programmes;
mod reporting;
mod rollup;
mod srf;

pub use demo::{DemoProgrammeShape, DemoResultsSummary};
pub use framework::{
    CategoryInput, FigureInput, IndicatorInput, OptionInput, ResultInput, TargetInput,
};
pub use programmes::{Programme, ProgrammeInput, ProgrammeProject};
pub use reporting::{
    BulkApproval, CellProblem, MissingReport, ReportInput, ReportKey, ReportTransitionInput,
    UploadOutcome, UploadValue, ValueInput,
};
pub(crate) use reporting::{CheckedReport, check_values};
pub use rollup::{Partial, RollupQuery, RollupRow, RollupScope};
pub use srf::{SrfIndicatorInput, SrfIndicatorRow, SrfNodeInput, SrfNodeRow, SrfTree};

use crate::projects::{e4, from_e4};
use crate::{Store, StoreError};
use meridian_domain::authz::Actor;
use meridian_domain::org::Organization;
use meridian_domain::results::model::{
    AggregationType, Direction, Disaggregation, Frequency, Measure, Period, Quantity, ResultLevel,
    ValueStatus, ValueTransition,
};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;
use std::str::FromStr;
use time::Date;

/// The columns the bulk writers (the demo, the IATI import) fill in `results_frameworks`,
/// `reporting_periods`, `results`, `indicator_targets` and `indicator_reports`, in their
/// order.
pub(crate) const FRAMEWORK_COLUMNS: &[&str] = &["project_id", "frequency", "updated_at", "version"];
pub(crate) const PERIOD_COLUMNS: &[&str] = &[
    "project_id",
    "period_start",
    "period_end",
    "label",
    "locked",
];
pub(crate) const RESULT_COLUMNS: &[&str] = &[
    "id",
    "project_id",
    "level",
    "title",
    "position",
    "srf_codes",
    "gcm_objectives",
    "sdg_targets",
    "created_at",
    "updated_at",
    "version",
];
pub(crate) const TARGET_COLUMNS: &[&str] = &[
    "indicator_id",
    "period_start",
    "disaggregation",
    "value_e4",
    "num_e4",
    "den_e4",
];
pub(crate) const REPORT_COLUMNS: &[&str] = &[
    "indicator_id",
    "period_start",
    "project_id",
    "status",
    "narrative",
    "entered_by",
    "submitted_by",
    "submitted_at",
    "reviewed_by",
    "reviewed_at",
    "review_note",
    "updated_at",
    "version",
];

/// A figure as stored and shown: a number, a percentage as numerator and denominator (with
/// the percentage worked out for display), or a text.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figure {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numerator: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denominator: Option<Decimal>,
    /// For a percentage: 100 × numerator / denominator, rounded to two decimals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Figure {
    pub fn from_quantity(q: &Quantity) -> Figure {
        match q {
            Quantity::Number(n) => Figure::number(*n),
            Quantity::Percentage {
                numerator,
                denominator,
            } => Figure::ratio(*numerator, *denominator),
            Quantity::Text(t) => Figure {
                value: None,
                numerator: None,
                denominator: None,
                percent: None,
                text: Some(t.clone()),
            },
        }
    }

    pub fn number(n: Decimal) -> Figure {
        Figure {
            value: Some(n.normalize()),
            numerator: None,
            denominator: None,
            percent: None,
            text: None,
        }
    }

    pub fn ratio(numerator: Decimal, denominator: Decimal) -> Figure {
        Figure {
            value: None,
            numerator: Some(numerator.normalize()),
            denominator: Some(denominator.normalize()),
            percent: meridian_domain::results::model::percent(numerator, denominator)
                .map(|p| p.round_dp(2).normalize()),
            text: None,
        }
    }

    /// The figure as one number: the value, or the percentage.
    pub fn as_decimal(&self) -> Option<Decimal> {
        self.value.or(self.percent)
    }

    /// As typed in a form or a spreadsheet cell: `1250`, `30/120`, or the text.
    pub fn to_input(&self) -> String {
        match (self.value, self.numerator, self.denominator, &self.text) {
            (Some(v), ..) => v.to_string(),
            (None, Some(n), Some(d), _) => format!("{n}/{d}"),
            (.., Some(t)) => t.clone(),
            _ => String::new(),
        }
    }

    /// Reads the three optional columns `prefix_e4`, `prefix_num_e4`, `prefix_den_e4`.
    fn from_columns(
        value: Option<i64>,
        num: Option<i64>,
        den: Option<i64>,
        text: Option<String>,
    ) -> Option<Figure> {
        match (value, num, den, text) {
            (Some(v), ..) => Some(Figure::number(from_e4(v))),
            (None, Some(n), Some(d), _) => Some(Figure::ratio(from_e4(n), from_e4(d))),
            (.., Some(t)) => Some(Figure {
                value: None,
                numerator: None,
                denominator: None,
                percent: None,
                text: Some(t),
            }),
            _ => None,
        }
    }
}

/// A quantity as the three stored columns (value, numerator, denominator) and a text.
pub(crate) struct Columns {
    pub value: Option<i64>,
    pub num: Option<i64>,
    pub den: Option<i64>,
    pub text: Option<String>,
}

impl Columns {
    pub fn of(q: &Quantity, field: &'static str) -> Result<Columns, StoreError> {
        Ok(match q {
            Quantity::Number(n) => Columns {
                value: Some(e4(*n, field)?),
                num: None,
                den: None,
                text: None,
            },
            Quantity::Percentage {
                numerator,
                denominator,
            } => Columns {
                value: None,
                num: Some(e4(*numerator, field)?),
                den: Some(e4(*denominator, field)?),
                text: None,
            },
            Quantity::Text(t) => Columns {
                value: None,
                num: None,
                den: None,
                text: Some(t.clone()),
            },
        })
    }

    pub fn none() -> Columns {
        Columns {
            value: None,
            num: None,
            den: None,
            text: None,
        }
    }
}

/// A reporting period of a project.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PeriodView {
    pub start: String,
    pub end: String,
    pub label: String,
    pub locked: bool,
    pub locked_by: Option<String>,
}

/// A target for one period (and one disaggregation option, or the total).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TargetView {
    pub period_start: String,
    /// `''` for the total, else `category=option`.
    pub disaggregation: String,
    pub figure: Figure,
}

/// One figure of a report: the total (`disaggregation` empty) or one option.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReportedValue {
    pub disaggregation: String,
    pub figure: Figure,
}

/// The report of one indicator for one period, with its review state.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    pub indicator_id: String,
    pub period_start: String,
    #[schema(value_type = String)]
    pub status: ValueStatus,
    pub narrative: String,
    pub values: Vec<ReportedValue>,
    pub entered_by: String,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    pub review_note: String,
    pub updated_at: String,
    pub version: i64,
    /// What can happen next in an open period.
    #[schema(value_type = Vec<String>)]
    pub allowed: Vec<ValueTransition>,
}

impl ReportView {
    /// The total figure, if one was reported.
    pub fn total(&self) -> Option<&Figure> {
        self.values
            .iter()
            .find(|v| v.disaggregation.is_empty())
            .map(|v| &v.figure)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IndicatorView {
    pub id: String,
    pub result_id: String,
    pub title: String,
    #[schema(value_type = String)]
    pub measure: Measure,
    #[schema(value_type = String)]
    pub direction: Direction,
    #[schema(value_type = String)]
    pub aggregation: AggregationType,
    pub cumulative: bool,
    pub unit: String,
    #[schema(value_type = Vec<Object>)]
    pub categories: Vec<Disaggregation>,
    /// With two or more categories, the key of every combination of one option per category
    /// (`age_group=age_0_17;sex=female`, …), in display order: a report (or the targets of a
    /// period) gives figures per combination or per single option, not both.
    pub combinations: Vec<String>,
    pub baseline_year: Option<i64>,
    pub baseline: Option<Figure>,
    pub target: Option<Figure>,
    pub srf_indicator: Option<String>,
    pub means_of_verification: String,
    pub position: i64,
    pub version: i64,
    pub targets: Vec<TargetView>,
    pub reports: Vec<ReportView>,
}

impl IndicatorView {
    /// The disaggregation keys (`category=option`) this indicator accepts, in order.
    pub fn disaggregation_keys(&self) -> Vec<String> {
        disaggregation_keys(&self.categories)
    }

    /// Every combination of one option per category (`age_group=age_0_17;sex=female`, …),
    /// canonical, in display order; empty unless the indicator has two or more categories
    /// (with one, the combinations are the options: see [`Self::disaggregation_keys`]).
    pub fn combination_keys(&self) -> Vec<String> {
        combination_keys(&self.categories)
    }

    pub fn report(&self, period_start: &str) -> Option<&ReportView> {
        self.reports.iter().find(|r| r.period_start == period_start)
    }

    pub fn target_for(&self, period_start: &str, disaggregation: &str) -> Option<&Figure> {
        self.targets
            .iter()
            .find(|t| t.period_start == period_start && t.disaggregation == disaggregation)
            .map(|t| &t.figure)
    }
}

pub fn disaggregation_keys(categories: &[Disaggregation]) -> Vec<String> {
    categories
        .iter()
        .flat_map(|d| {
            d.options
                .iter()
                .map(move |o| format!("{}={}", d.category.as_str(), o.code))
        })
        .collect()
}

/// The combinations of two or more categories (none for fewer), canonical, in display order.
pub fn combination_keys(categories: &[Disaggregation]) -> Vec<String> {
    if categories.len() < 2 {
        return Vec::new();
    }
    meridian_domain::results::combination::combinations(categories)
        .iter()
        .map(|k| k.to_string())
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResultView {
    pub id: String,
    #[schema(value_type = String)]
    pub level: ResultLevel,
    pub title: String,
    pub position: i64,
    /// SRF nodes the result contributes to.
    pub srf_codes: Vec<String>,
    /// Global Compact for Migration objectives (1–23).
    pub gcm_objectives: Vec<u8>,
    /// SDG targets, e.g. `10.7`.
    pub sdg_targets: Vec<String>,
    pub version: i64,
    pub indicators: Vec<IndicatorView>,
}

/// A project's whole results matrix with its periods and every report, read in a fixed
/// number of queries whatever its size.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ResultsFramework {
    pub project_id: String,
    pub project_code: String,
    pub project_title: String,
    pub unit: String,
    pub start_date: String,
    pub end_date: String,
    #[schema(value_type = Option<String>)]
    pub frequency: Option<Frequency>,
    pub version: i64,
    pub periods: Vec<PeriodView>,
    pub results: Vec<ResultView>,
}

impl ResultsFramework {
    pub fn indicators(&self) -> impl Iterator<Item = &IndicatorView> {
        self.results.iter().flat_map(|r| r.indicators.iter())
    }

    pub fn indicator(&self, id: &str) -> Option<&IndicatorView> {
        self.indicators().find(|i| i.id == id)
    }

    pub fn period(&self, start: &str) -> Option<&PeriodView> {
        self.periods.iter().find(|p| p.start == start)
    }
}

pub(crate) fn parse_text<T: FromStr>(field: &'static str, raw: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    T::from_str(raw).map_err(|e| StoreError::invalid(field, e.to_string()))
}

pub(crate) fn corrupt<T: FromStr>(raw: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    T::from_str(raw).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    col: &str,
) -> Result<T, StoreError> {
    let raw: String = row.try_get(col)?;
    serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn date(raw: &str) -> Result<Date, StoreError> {
    crate::projects::parse_date("date", raw)
}

/// The periods a project reports on, from its dates and frequency.
pub(crate) fn project_periods(
    frequency: Frequency,
    start: &str,
    end: &str,
) -> Result<Vec<Period>, StoreError> {
    Ok(frequency.periods(date(start)?, date(end)?))
}

fn period_view(row: &AnyRow) -> Result<PeriodView, StoreError> {
    Ok(PeriodView {
        start: row.try_get("period_start")?,
        end: row.try_get("period_end")?,
        label: row.try_get("label")?,
        locked: row.try_get::<i64, _>("locked")? == 1,
        locked_by: row.try_get("locked_by")?,
    })
}

pub(crate) const INDICATOR_COLUMNS: &str = "id, result_id, title, measure, direction, \
    aggregation, cumulative, unit, categories, baseline_year, baseline_e4, baseline_num_e4, \
    baseline_den_e4, baseline_text, target_e4, target_num_e4, target_den_e4, \
    srf_indicator_code, means_of_verification, position, version";

pub(crate) fn indicator_from_row(row: &AnyRow) -> Result<IndicatorView, StoreError> {
    let categories: Vec<Disaggregation> = json_column(row, "categories")?;
    Ok(IndicatorView {
        combinations: combination_keys(&categories),
        id: row.try_get("id")?,
        result_id: row.try_get("result_id")?,
        title: row.try_get("title")?,
        measure: corrupt(&row.try_get::<String, _>("measure")?)?,
        direction: corrupt(&row.try_get::<String, _>("direction")?)?,
        aggregation: corrupt(&row.try_get::<String, _>("aggregation")?)?,
        cumulative: row.try_get::<i64, _>("cumulative")? == 1,
        unit: row.try_get("unit")?,
        categories,
        baseline_year: row.try_get("baseline_year")?,
        baseline: Figure::from_columns(
            row.try_get("baseline_e4")?,
            row.try_get("baseline_num_e4")?,
            row.try_get("baseline_den_e4")?,
            row.try_get("baseline_text")?,
        ),
        target: Figure::from_columns(
            row.try_get("target_e4")?,
            row.try_get("target_num_e4")?,
            row.try_get("target_den_e4")?,
            None,
        ),
        srf_indicator: row.try_get("srf_indicator_code")?,
        means_of_verification: row.try_get("means_of_verification")?,
        position: row.try_get("position")?,
        version: row.try_get("version")?,
        targets: Vec::new(),
        reports: Vec::new(),
    })
}

fn value_figure(row: &AnyRow) -> Result<Option<Figure>, StoreError> {
    Ok(Figure::from_columns(
        row.try_get("value_e4")?,
        row.try_get("num_e4")?,
        row.try_get("den_e4")?,
        row.try_get("text_value")?,
    ))
}

impl Store {
    /// A project's results matrix with periods, targets and reports: the project, then six queries, whatever
    /// the number of results, indicators, periods or reports.
    pub async fn results_framework(
        &self,
        org: &Organization,
        actor: &Actor,
        project: &str,
    ) -> Result<ResultsFramework, StoreError> {
        let p = self.project(org, actor, project).await?;
        self.results_framework_unchecked(
            &p.id,
            &p.code,
            &p.title,
            &p.unit,
            &p.start_date,
            &p.end_date,
        )
        .await
    }

    pub(crate) async fn results_framework_unchecked(
        &self,
        project_id: &str,
        code: &str,
        title: &str,
        unit: &str,
        start_date: &str,
        end_date: &str,
    ) -> Result<ResultsFramework, StoreError> {
        let pool = self.pool();
        let settings =
            sqlx::query("SELECT frequency, version FROM results_frameworks WHERE project_id = $1")
                .bind(project_id)
                .fetch_optional(pool)
                .await?;
        let (frequency, version) = match settings {
            Some(r) => (
                Some(corrupt::<Frequency>(&r.try_get::<String, _>("frequency")?)?),
                r.try_get("version")?,
            ),
            None => (None, 0),
        };
        let periods = sqlx::query(
            "SELECT period_start, period_end, label, locked, locked_by FROM reporting_periods \
             WHERE project_id = $1 ORDER BY period_start",
        )
        .bind(project_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(period_view)
        .collect::<Result<Vec<_>, _>>()?;
        let mut results = sqlx::query(
            "SELECT id, level, title, position, srf_codes, gcm_objectives, sdg_targets, version \
             FROM results WHERE project_id = $1 ORDER BY position, id",
        )
        .bind(project_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(ResultView {
                id: r.try_get("id")?,
                level: corrupt(&r.try_get::<String, _>("level")?)?,
                title: r.try_get("title")?,
                position: r.try_get("position")?,
                srf_codes: json_column(r, "srf_codes")?,
                gcm_objectives: json_column(r, "gcm_objectives")?,
                sdg_targets: json_column(r, "sdg_targets")?,
                version: r.try_get("version")?,
                indicators: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let sql = format!(
            "SELECT {INDICATOR_COLUMNS} FROM indicators WHERE project_id = $1 ORDER BY position, id"
        );
        let mut indicators = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(indicator_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let by_id: HashMap<String, usize> = indicators
            .iter()
            .enumerate()
            .map(|(i, ind)| (ind.id.clone(), i))
            .collect();
        for r in sqlx::query(
            "SELECT t.indicator_id, t.period_start, t.disaggregation, t.value_e4, t.num_e4, t.den_e4 \
             FROM indicator_targets t JOIN indicators i ON i.id = t.indicator_id \
             WHERE i.project_id = $1 ORDER BY t.period_start, t.disaggregation",
        )
        .bind(project_id)
        .fetch_all(pool)
        .await?
        {
            let id: String = r.try_get("indicator_id")?;
            let Some(&at) = by_id.get(&id) else { continue };
            if let Some(figure) = Figure::from_columns(
                r.try_get("value_e4")?,
                r.try_get("num_e4")?,
                r.try_get("den_e4")?,
                None,
            ) {
                indicators[at].targets.push(TargetView {
                    period_start: r.try_get("period_start")?,
                    disaggregation: r.try_get("disaggregation")?,
                    figure,
                });
            }
        }
        // Reports and their values in one query (a left join: a report may have no figure).
        for r in sqlx::query(
            "SELECT r.indicator_id, r.period_start, r.status, r.narrative, r.entered_by, \
             r.submitted_by, r.submitted_at, r.reviewed_by, r.reviewed_at, r.review_note, \
             r.updated_at, r.version, v.disaggregation, v.value_e4, v.num_e4, v.den_e4, v.text_value \
             FROM indicator_reports r LEFT JOIN indicator_values v \
               ON v.indicator_id = r.indicator_id AND v.period_start = r.period_start \
             WHERE r.project_id = $1 ORDER BY r.period_start, r.indicator_id, v.disaggregation",
        )
        .bind(project_id)
        .fetch_all(pool)
        .await?
        {
            let id: String = r.try_get("indicator_id")?;
            let Some(&at) = by_id.get(&id) else { continue };
            add_report_row(&mut indicators[at].reports, id, &r)?;
        }
        let result_at: HashMap<String, usize> = results
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        for ind in indicators {
            if let Some(&at) = result_at.get(&ind.result_id) {
                results[at].indicators.push(ind);
            }
        }
        Ok(ResultsFramework {
            project_id: project_id.to_owned(),
            project_code: code.to_owned(),
            project_title: title.to_owned(),
            unit: unit.to_owned(),
            start_date: start_date.to_owned(),
            end_date: end_date.to_owned(),
            frequency,
            version,
            periods,
            results,
        })
    }
}

/// Folds one row of a reports ⟕ values query (ordered by period, indicator, disaggregation)
/// into an indicator's reports: a new report at its first row, then each value.
pub(super) fn add_report_row(
    reports: &mut Vec<ReportView>,
    indicator_id: String,
    r: &sqlx::any::AnyRow,
) -> Result<(), StoreError> {
    let period_start: String = r.try_get("period_start")?;
    if reports
        .last()
        .is_none_or(|l| l.period_start != period_start)
    {
        let status: ValueStatus = corrupt(&r.try_get::<String, _>("status")?)?;
        reports.push(ReportView {
            indicator_id,
            period_start,
            status,
            narrative: r.try_get("narrative")?,
            values: Vec::new(),
            entered_by: r.try_get("entered_by")?,
            submitted_by: r.try_get("submitted_by")?,
            submitted_at: r.try_get("submitted_at")?,
            reviewed_by: r.try_get("reviewed_by")?,
            reviewed_at: r.try_get("reviewed_at")?,
            review_note: r.try_get("review_note")?,
            updated_at: r.try_get("updated_at")?,
            version: r.try_get("version")?,
            allowed: status.allowed(),
        });
    }
    let disaggregation: Option<String> = r.try_get("disaggregation")?;
    if let (Some(disaggregation), Some(figure)) = (disaggregation, value_figure(r)?) {
        let report = reports.last_mut().expect("pushed above");
        report.values.push(ReportedValue {
            disaggregation,
            figure,
        });
    }
    Ok(())
}
