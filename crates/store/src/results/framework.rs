//! Editing a project's results matrix: its reporting frequency (and so its periods), results
//! linked to the SRF, the GCM and the SDGs, and indicators with baselines, targets and
//! disaggregations.

use super::{Columns, ResultView, corrupt, json_column, parse_text, project_periods};
use crate::audit::record;
use crate::db::{flag, new_id, now_text};
use crate::projects::{Project, unit_code};
use crate::{Store, StoreError, Tx};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::Organization;
use meridian_domain::results::combination::{DisaggregationKey, check_breakdown, check_key};
use meridian_domain::results::model::{
    AggregationType, CategoryOption, Direction, Disaggregation, DisaggregationCategory, Frequency,
    Measure, Quantity, ResultLevel, parse_quantity,
};
use serde::Deserialize;
use sqlx::Row;

/// A result of the matrix (impact, outcome or output) and what it contributes to.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ResultInput {
    /// `impact`, `outcome` or `output`.
    pub level: String,
    pub title: String,
    #[serde(default)]
    pub srf_codes: Vec<String>,
    #[serde(default)]
    pub gcm_objectives: Vec<u8>,
    #[serde(default)]
    pub sdg_targets: Vec<String>,
    /// The version read, for an update.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A disaggregation category of an indicator. Built-in categories get their default options
/// and exhaustiveness unless given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CategoryInput {
    /// `sex`, `age_group`, `displacement_status`, `disability`, or a custom `snake_case` code.
    pub category: String,
    #[serde(default)]
    pub options: Option<Vec<OptionInput>>,
    #[serde(default)]
    pub exhaustive: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OptionInput {
    pub code: String,
    #[serde(default)]
    pub label: String,
}

/// A figure as typed: `1250`, a percentage as `30/120`, or a text for qualitative indicators.
pub type FigureInput = String;

/// A target for one period (its start date or label, e.g. `2026-Q1`) and optionally one
/// disaggregation option (`sex=female`) or one combination of options of every category
/// (`age_group=age_18_59;sex=female`). The targets of a period per option or combination
/// agree with its total target as reported values do, but some may be left out.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TargetInput {
    pub period: String,
    #[serde(default)]
    pub disaggregation: String,
    pub value: FigureInput,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct IndicatorInput {
    pub title: String,
    /// `number`, `percentage` or `qualitative`.
    pub measure: String,
    /// `ascending` (more is better, the default) or `descending`.
    #[serde(default)]
    pub direction: Option<String>,
    /// A DHIS2 aggregation type (`sum`, `average`, `last`, …); defaults to `sum` for
    /// quantitative indicators and `none` for qualitative ones.
    #[serde(default)]
    pub aggregation: Option<String>,
    /// Whether each period's value is the running total since the start.
    #[serde(default)]
    pub cumulative: bool,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub categories: Vec<CategoryInput>,
    #[serde(default)]
    pub baseline_year: Option<i64>,
    #[serde(default)]
    pub baseline: Option<FigureInput>,
    /// The overall target (end of project).
    #[serde(default)]
    pub target: Option<FigureInput>,
    /// The SRF indicator this indicator contributes to.
    #[serde(default)]
    pub srf_indicator: Option<String>,
    #[serde(default)]
    pub means_of_verification: String,
    #[serde(default)]
    pub targets: Vec<TargetInput>,
    /// The version read, for an update.
    #[serde(default)]
    pub version: Option<i64>,
}

/// An indicator input that passed every check.
struct CheckedIndicator {
    title: String,
    measure: Measure,
    direction: Direction,
    aggregation: AggregationType,
    cumulative: bool,
    unit: String,
    categories: Vec<Disaggregation>,
    baseline_year: Option<i64>,
    baseline: Option<Quantity>,
    target: Option<Quantity>,
    srf_indicator: Option<String>,
    means_of_verification: String,
    /// (period start, disaggregation key, figure)
    targets: Vec<(String, String, Quantity)>,
}

fn nonempty(field: &'static str, raw: &str, max: usize) -> Result<String, StoreError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(StoreError::invalid(field, "is required"));
    }
    if t.chars().count() > max {
        return Err(StoreError::invalid(
            field,
            format!("at most {max} characters, found {}", t.chars().count()),
        ));
    }
    Ok(t.to_owned())
}

fn figure(field: &'static str, measure: Measure, raw: &str) -> Result<Quantity, StoreError> {
    parse_quantity(measure, raw).map_err(|e| StoreError::invalid(field, e.to_string()))
}

fn categories(inputs: &[CategoryInput]) -> Result<Vec<Disaggregation>, StoreError> {
    let mut out: Vec<Disaggregation> = Vec::new();
    for c in inputs {
        let category: DisaggregationCategory = parse_text("categories", &c.category)?;
        if out.iter().any(|d| d.category == category) {
            return Err(StoreError::invalid(
                "categories",
                format!("{} is given twice", category.as_str()),
            ));
        }
        let mut d = Disaggregation::default_for(category);
        if let Some(options) = &c.options {
            let mut checked = Vec::new();
            for o in options {
                let code = o.code.trim();
                let ok = !code.is_empty()
                    && code.len() <= 40
                    && code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !ok {
                    return Err(StoreError::invalid(
                        "categories",
                        format!(
                            "{}: expected an option code in snake_case, found {code:?}",
                            d.category.as_str()
                        ),
                    ));
                }
                if checked.iter().any(|x: &CategoryOption| x.code == code) {
                    return Err(StoreError::invalid(
                        "categories",
                        format!("{}: option {code} is given twice", d.category.as_str()),
                    ));
                }
                let label = if o.label.trim().is_empty() {
                    code.to_owned()
                } else {
                    o.label.trim().to_owned()
                };
                checked.push(CategoryOption {
                    code: code.to_owned(),
                    label,
                });
            }
            d.options = checked;
        }
        if d.options.is_empty() {
            return Err(StoreError::invalid(
                "categories",
                format!("{} needs at least one option", d.category.as_str()),
            ));
        }
        if let Some(exhaustive) = c.exhaustive {
            d.exhaustive = exhaustive;
        }
        out.push(d);
    }
    Ok(out)
}

impl Store {
    async fn results_project(
        &self,
        org: &Organization,
        actor: &Actor,
        project: &str,
    ) -> Result<Project, StoreError> {
        let p = self.project_unchecked(project).await?;
        authorize(
            org,
            actor,
            Action::EditResultsFramework,
            &unit_code(&p.unit)?,
        )?;
        Ok(p)
    }

    /// Sets how often a project reports and creates its reporting periods from its dates.
    /// Refused once values were reported, if the frequency would change.
    pub async fn set_results_frequency(
        &self,
        org: &Organization,
        actor: &Actor,
        project: &str,
        frequency: &str,
    ) -> Result<super::ResultsFramework, StoreError> {
        let p = self.results_project(org, actor, project).await?;
        let frequency: Frequency = parse_text("frequency", frequency)?;
        let periods = project_periods(frequency, &p.start_date, &p.end_date)?;
        let mut tx = self.begin().await?;
        let before: Option<String> =
            sqlx::query("SELECT frequency FROM results_frameworks WHERE project_id = $1")
                .bind(&p.id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("frequency"))
                .transpose()?;
        let now = now_text();
        if before.as_deref() == Some(frequency.as_str()) {
            drop(tx);
            return self.results_framework(org, actor, &p.id).await;
        }
        // The periods (and targets) change: the roll-ups the project's indicators feed move.
        let leaves = super::rollup::project_leaves(&mut tx, &p.id, None).await?;
        if before.is_some() {
            let reported: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM indicator_reports WHERE project_id = $1")
                    .bind(&p.id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("n")?;
            if reported > 0 {
                return Err(StoreError::Conflict(format!(
                    "{} already has {reported} reports by {}; its frequency cannot change",
                    p.code,
                    before.as_deref().unwrap_or_default()
                )));
            }
            sqlx::query("DELETE FROM indicator_targets WHERE indicator_id IN (SELECT id FROM indicators WHERE project_id = $1)")
                .bind(&p.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM reporting_periods WHERE project_id = $1")
                .bind(&p.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE results_frameworks SET frequency = $2, updated_at = $3, version = version + 1 WHERE project_id = $1",
            )
            .bind(&p.id)
            .bind(frequency.as_str())
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query(
                "INSERT INTO results_frameworks (project_id, frequency, updated_at, version) VALUES ($1, $2, $3, 1)",
            )
            .bind(&p.id)
            .bind(frequency.as_str())
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for period in &periods {
            sqlx::query(
                "INSERT INTO reporting_periods (project_id, period_start, period_end, label, locked) \
                 VALUES ($1, $2, $3, $4, 0)",
            )
            .bind(&p.id)
            .bind(period.start.to_string())
            .bind(period.end.to_string())
            .bind(period.label(frequency))
            .execute(&mut *tx)
            .await?;
        }
        super::rollup::project_changed(&mut tx, leaves, None).await?;
        record(
            &mut tx,
            actor,
            Change::new("project", "results_frequency", &p.id)
                .unit(&unit_code(&p.unit)?)
                .before(serde_json::json!({ "frequency": before }))
                .after(serde_json::json!({ "frequency": frequency, "periods": periods.len() })),
        )
        .await?;
        tx.commit().await?;
        self.results_framework(org, actor, &p.id).await
    }

    async fn check_result(&self, input: &ResultInput) -> Result<(ResultLevel, String), StoreError> {
        let level: ResultLevel = parse_text("level", &input.level)?;
        let title = nonempty("title", &input.title, 500)?;
        for code in &input.srf_codes {
            let found = sqlx::query("SELECT code FROM srf_nodes WHERE code = $1")
                .bind(code)
                .fetch_optional(self.pool())
                .await?;
            if found.is_none() {
                return Err(StoreError::invalid(
                    "srf_codes",
                    format!("expected a node of the Strategic Results Framework, found {code:?}"),
                ));
            }
        }
        for n in &input.gcm_objectives {
            if !(1..=23).contains(n) {
                return Err(StoreError::invalid(
                    "gcm_objectives",
                    format!("the Global Compact has objectives 1 to 23, found {n}"),
                ));
            }
        }
        let known = meridian_domain::results::reference::sdg_targets();
        for t in &input.sdg_targets {
            if !known.iter().any(|k| k.target == *t) {
                return Err(StoreError::invalid(
                    "sdg_targets",
                    format!(
                        "expected one of the migration-related SDG targets ({}), found {t:?}",
                        known
                            .iter()
                            .map(|k| k.target.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        Ok((level, title))
    }

    /// Adds a result to a project's matrix.
    pub async fn add_result(
        &self,
        org: &Organization,
        actor: &Actor,
        project: &str,
        input: &ResultInput,
    ) -> Result<ResultView, StoreError> {
        let p = self.results_project(org, actor, project).await?;
        let (level, title) = self.check_result(input).await?;
        let mut tx = self.begin().await?;
        let position: i64 = sqlx::query(
            "SELECT CAST(COALESCE(MAX(position), 0) + 1 AS BIGINT) AS n FROM results WHERE project_id = $1",
        )
        .bind(&p.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let id = new_id();
        let now = now_text();
        let view = ResultView {
            id: id.clone(),
            level,
            title,
            position,
            srf_codes: input.srf_codes.clone(),
            gcm_objectives: input.gcm_objectives.clone(),
            sdg_targets: input.sdg_targets.clone(),
            version: 1,
            indicators: Vec::new(),
        };
        sqlx::query(
            "INSERT INTO results (id, project_id, level, title, position, srf_codes, gcm_objectives, \
             sdg_targets, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1)",
        )
        .bind(&id)
        .bind(&p.id)
        .bind(level.as_str())
        .bind(&view.title)
        .bind(position)
        .bind(serde_json::to_string(&view.srf_codes).expect("json"))
        .bind(serde_json::to_string(&view.gcm_objectives).expect("json"))
        .bind(serde_json::to_string(&view.sdg_targets).expect("json"))
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            Change::new("result", "create", &id)
                .unit(&unit_code(&p.unit)?)
                .after(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Replaces a result's level, title and links. `input.version` must be the version read.
    pub async fn update_result(
        &self,
        org: &Organization,
        actor: &Actor,
        result_id: &str,
        input: &ResultInput,
    ) -> Result<ResultView, StoreError> {
        let (project_id, before) = self.result_row(result_id).await?;
        let p = self.results_project(org, actor, &project_id).await?;
        let (level, title) = self.check_result(input).await?;
        let version = input
            .version
            .ok_or_else(|| StoreError::invalid("version", "give the version you read"))?;
        if version != before.version {
            return Err(StoreError::Conflict(format!(
                "the result was changed since you read it (you have version {version}, it is at {}): now {:?}; reload and apply your change again",
                before.version, before.title
            )));
        }
        let mut after = before.clone();
        after.level = level;
        after.title = title;
        after.srf_codes = input.srf_codes.clone();
        after.gcm_objectives = input.gcm_objectives.clone();
        after.sdg_targets = input.sdg_targets.clone();
        after.version += 1;
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE results SET level = $3, title = $4, srf_codes = $5, gcm_objectives = $6, \
             sdg_targets = $7, updated_at = $8, version = version + 1 WHERE id = $1 AND version = $2",
        )
        .bind(result_id)
        .bind(version)
        .bind(level.as_str())
        .bind(&after.title)
        .bind(serde_json::to_string(&after.srf_codes).expect("json"))
        .bind(serde_json::to_string(&after.gcm_objectives).expect("json"))
        .bind(serde_json::to_string(&after.sdg_targets).expect("json"))
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the result was changed at the same moment; reload and apply your change again"
                    .into(),
            ));
        }
        record(
            &mut tx,
            actor,
            Change::new("result", "update", result_id)
                .unit(&unit_code(&p.unit)?)
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn result_row(&self, result_id: &str) -> Result<(String, ResultView), StoreError> {
        let r = sqlx::query(
            "SELECT id, project_id, level, title, position, srf_codes, gcm_objectives, sdg_targets, version \
             FROM results WHERE id = $1",
        )
        .bind(result_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::not_found("result", result_id))?;
        Ok((
            r.try_get("project_id")?,
            ResultView {
                id: r.try_get("id")?,
                level: corrupt(&r.try_get::<String, _>("level")?)?,
                title: r.try_get("title")?,
                position: r.try_get("position")?,
                srf_codes: json_column(&r, "srf_codes")?,
                gcm_objectives: json_column(&r, "gcm_objectives")?,
                sdg_targets: json_column(&r, "sdg_targets")?,
                version: r.try_get("version")?,
                indicators: Vec::new(),
            },
        ))
    }

    /// Deletes a result and its indicators; refused once any of them has a report. With a
    /// `version`, refused too when the result is no longer at it (changed since it was read),
    /// checked in the deleting statement itself.
    pub async fn delete_result(
        &self,
        org: &Organization,
        actor: &Actor,
        result_id: &str,
        version: Option<i64>,
    ) -> Result<(), StoreError> {
        let (project_id, before) = self.result_row(result_id).await?;
        let p = self.results_project(org, actor, &project_id).await?;
        let mut tx = self.begin().await?;
        let reports: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM indicator_reports r JOIN indicators i ON i.id = r.indicator_id \
             WHERE i.result_id = $1",
        )
        .bind(result_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if reports > 0 {
            return Err(StoreError::Conflict(format!(
                "the result has {reports} reported values; it cannot be deleted (edit it instead)"
            )));
        }
        // Its indicators' baselines and targets leave the roll-ups.
        let leaves = super::rollup::project_leaves(&mut tx, &p.id, None).await?;
        sqlx::query("DELETE FROM indicator_targets WHERE indicator_id IN (SELECT id FROM indicators WHERE result_id = $1)")
            .bind(result_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM indicators WHERE result_id = $1")
            .bind(result_id)
            .execute(&mut *tx)
            .await?;
        delete_at_version(&mut tx, "results", "result", result_id, version).await?;
        super::rollup::project_changed(&mut tx, leaves, None).await?;
        record(
            &mut tx,
            actor,
            Change::new("result", "delete", result_id)
                .unit(&unit_code(&p.unit)?)
                .before(&before),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn check_indicator(
        &self,
        project: &Project,
        input: &IndicatorInput,
    ) -> Result<CheckedIndicator, StoreError> {
        let title = nonempty("title", &input.title, 500)?;
        let measure: Measure = parse_text("measure", &input.measure)?;
        let direction: Direction = match &input.direction {
            Some(d) if !d.trim().is_empty() => parse_text("direction", d)?,
            _ => Direction::Ascending,
        };
        let aggregation: AggregationType = match &input.aggregation {
            Some(a) if !a.trim().is_empty() => parse_text("aggregation", a)?,
            _ if measure == Measure::Qualitative => AggregationType::None,
            _ => AggregationType::Sum,
        };
        if !aggregation.fits(measure) {
            return Err(StoreError::invalid(
                "aggregation",
                format!("{aggregation} does not fit a {measure} indicator"),
            ));
        }
        let categories = categories(&input.categories)?;
        if measure == Measure::Qualitative && !categories.is_empty() {
            return Err(StoreError::invalid(
                "categories",
                "a qualitative indicator is not disaggregated",
            ));
        }
        let baseline = match &input.baseline {
            Some(b) if !b.trim().is_empty() => Some(figure("baseline", measure, b)?),
            _ => None,
        };
        if let Some(y) = input.baseline_year
            && !(1950..=2100).contains(&y)
        {
            return Err(StoreError::invalid(
                "baseline_year",
                format!("expected a year between 1950 and 2100, found {y}"),
            ));
        }
        let target = match &input.target {
            Some(t) if !t.trim().is_empty() => Some(figure("target", measure, t)?),
            _ => None,
        };
        let srf_indicator = match &input.srf_indicator {
            Some(code) if !code.trim().is_empty() => {
                let row = sqlx::query("SELECT measure FROM srf_indicators WHERE code = $1")
                    .bind(code.trim())
                    .fetch_optional(self.pool())
                    .await?
                    .ok_or_else(|| {
                        StoreError::invalid(
                            "srf_indicator",
                            format!("expected an indicator of the Strategic Results Framework, found {code:?}"),
                        )
                    })?;
                let srf_measure: Measure = corrupt(&row.try_get::<String, _>("measure")?)?;
                if srf_measure != measure {
                    return Err(StoreError::invalid(
                        "srf_indicator",
                        format!("{code} is measured as {srf_measure}; this indicator is {measure}"),
                    ));
                }
                Some(code.trim().to_owned())
            }
            _ => None,
        };
        let frequency: Option<Frequency> =
            sqlx::query("SELECT frequency FROM results_frameworks WHERE project_id = $1")
                .bind(&project.id)
                .fetch_optional(self.pool())
                .await?
                .map(|r| corrupt(&r.try_get::<String, _>("frequency")?))
                .transpose()?;
        let mut targets = Vec::new();
        if !input.targets.is_empty() {
            let frequency = frequency.ok_or_else(|| {
                StoreError::invalid(
                    "targets",
                    "set the project's reporting frequency before targets per period",
                )
            })?;
            let periods = project_periods(frequency, &project.start_date, &project.end_date)?;
            for t in &input.targets {
                let wanted = t.period.trim();
                let period = periods
                    .iter()
                    .find(|p| p.start.to_string() == wanted || p.label(frequency) == wanted)
                    .ok_or_else(|| {
                        StoreError::invalid(
                            "targets",
                            format!(
                                "expected a reporting period of {} ({} to {}), found {wanted:?}",
                                project.code,
                                periods
                                    .first()
                                    .map(|p| p.label(frequency))
                                    .unwrap_or_default(),
                                periods
                                    .last()
                                    .map(|p| p.label(frequency))
                                    .unwrap_or_default()
                            ),
                        )
                    })?;
                let (key, _) = check_key(&categories, &t.disaggregation)
                    .map_err(|e| StoreError::invalid("targets", format!("{wanted}: {e}")))?;
                let d = key.to_string();
                let start = period.start.to_string();
                if targets
                    .iter()
                    .any(|(s, k, _): &(String, String, Quantity)| *s == start && *k == d)
                {
                    return Err(StoreError::invalid(
                        "targets",
                        format!("two targets for {wanted} {d}"),
                    ));
                }
                targets.push((start, d, figure("targets", measure, &t.value)?));
            }
            // Per period, the targets per option or combination agree with the period's
            // total target as reported values do (some may be left out).
            let mut starts: Vec<&String> = targets.iter().map(|(s, _, _)| s).collect();
            starts.sort();
            starts.dedup();
            for start in starts {
                let total = targets
                    .iter()
                    .find(|(s, k, _)| s == start && k.is_empty())
                    .map(|(_, _, q)| q);
                let parts: Vec<(DisaggregationKey, Quantity)> = targets
                    .iter()
                    .filter(|(s, k, _)| s == start && !k.is_empty())
                    .map(|(_, k, q)| (DisaggregationKey::parse(k).expect("checked"), q.clone()))
                    .collect();
                check_breakdown(&categories, total, &parts, false).map_err(|e| {
                    StoreError::invalid("targets", format!("{start}: {}: {}", e.field, e.message))
                })?;
            }
        }
        if measure == Measure::Qualitative && (target.is_some() || !targets.is_empty()) {
            return Err(StoreError::invalid(
                "target",
                "a qualitative indicator has no numeric target",
            ));
        }
        Ok(CheckedIndicator {
            title,
            measure,
            direction,
            aggregation,
            cumulative: input.cumulative,
            unit: input.unit.trim().to_owned(),
            categories,
            baseline_year: input.baseline_year,
            baseline,
            target,
            srf_indicator,
            means_of_verification: input.means_of_verification.trim().to_owned(),
            targets,
        })
    }

    /// Adds an indicator to a result.
    pub async fn add_indicator(
        &self,
        org: &Organization,
        actor: &Actor,
        result_id: &str,
        input: &IndicatorInput,
    ) -> Result<super::IndicatorView, StoreError> {
        let (project_id, _) = self.result_row(result_id).await?;
        let p = self.results_project(org, actor, &project_id).await?;
        let c = self.check_indicator(&p, input).await?;
        let id = new_id();
        let mut tx = self.begin().await?;
        let position: i64 = sqlx::query(
            "SELECT CAST(COALESCE(MAX(position), 0) + 1 AS BIGINT) AS n FROM indicators WHERE project_id = $1",
        )
        .bind(&p.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        // Its baseline and targets count in the roll-ups of the SRF indicator it feeds.
        let leaves = match &c.srf_indicator {
            Some(code) => Some(super::rollup::project_leaves(&mut tx, &p.id, Some(code)).await?),
            None => None,
        };
        write_indicator(&mut tx, &id, result_id, &p.id, position, &c, true).await?;
        write_targets(&mut tx, &id, &c).await?;
        if let Some(leaves) = leaves {
            super::rollup::project_changed(&mut tx, leaves, None).await?;
        }
        let view = indicator_in_tx(&mut tx, &id).await?;
        record(
            &mut tx,
            actor,
            Change::new("indicator", "create", &id)
                .unit(&unit_code(&p.unit)?)
                .after(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Replaces an indicator's definition and targets. Its measure cannot change once values
    /// were reported. Roll-ups it feeds are rebuilt in the same transaction.
    pub async fn update_indicator(
        &self,
        org: &Organization,
        actor: &Actor,
        indicator_id: &str,
        input: &IndicatorInput,
    ) -> Result<super::IndicatorView, StoreError> {
        let project_id: String = sqlx::query("SELECT project_id FROM indicators WHERE id = $1")
            .bind(indicator_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("indicator", indicator_id))?
            .try_get("project_id")?;
        let p = self.results_project(org, actor, &project_id).await?;
        let c = self.check_indicator(&p, input).await?;
        let version = input
            .version
            .ok_or_else(|| StoreError::invalid("version", "give the version you read"))?;
        let mut tx = self.begin().await?;
        let before = indicator_in_tx(&mut tx, indicator_id).await?;
        if before.version != version {
            return Err(StoreError::Conflict(format!(
                "the indicator was changed since you read it (you have version {version}, it is at {}); reload and apply your change again",
                before.version
            )));
        }
        let reports: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM indicator_reports WHERE indicator_id = $1")
                .bind(indicator_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        if reports > 0 && before.measure != c.measure {
            return Err(StoreError::invalid(
                "measure",
                format!(
                    "the indicator has {reports} reports as {}; its measure cannot change",
                    before.measure
                ),
            ));
        }
        if reports > 0 {
            let orphan: Option<(String, String)> = sqlx::query(
                "SELECT DISTINCT disaggregation FROM indicator_values WHERE indicator_id = $1 AND disaggregation <> ''",
            )
            .bind(indicator_id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("disaggregation"))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .find_map(|d| check_key(&c.categories, &d).err().map(|e| (d, e)));
            if let Some((d, e)) = orphan {
                return Err(StoreError::invalid(
                    "categories",
                    format!("values were reported for {d}; keep its categories and options ({e})"),
                ));
            }
        }
        let leaves = super::rollup::project_leaves(&mut tx, &p.id, None).await?;
        write_indicator(
            &mut tx,
            indicator_id,
            &before.result_id,
            &p.id,
            before.position,
            &c,
            false,
        )
        .await?;
        sqlx::query("DELETE FROM indicator_targets WHERE indicator_id = $1")
            .bind(indicator_id)
            .execute(&mut *tx)
            .await?;
        write_targets(&mut tx, indicator_id, &c).await?;
        let after = indicator_in_tx(&mut tx, indicator_id).await?;
        let mut srf: Vec<String> = before
            .srf_indicator
            .iter()
            .chain(after.srf_indicator.iter())
            .cloned()
            .collect();
        srf.dedup();
        super::rollup::project_changed(&mut tx, leaves, Some(&srf)).await?;
        record(
            &mut tx,
            actor,
            Change::new("indicator", "update", indicator_id)
                .unit(&unit_code(&p.unit)?)
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Deletes an indicator; refused once it has reports, and, with a `version`, when it is no
    /// longer at it.
    pub async fn delete_indicator(
        &self,
        org: &Organization,
        actor: &Actor,
        indicator_id: &str,
        version: Option<i64>,
    ) -> Result<(), StoreError> {
        let project_id: String = sqlx::query("SELECT project_id FROM indicators WHERE id = $1")
            .bind(indicator_id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("indicator", indicator_id))?
            .try_get("project_id")?;
        let p = self.results_project(org, actor, &project_id).await?;
        let mut tx = self.begin().await?;
        let before = indicator_in_tx(&mut tx, indicator_id).await?;
        let reports: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM indicator_reports WHERE indicator_id = $1")
                .bind(indicator_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        if reports > 0 {
            return Err(StoreError::Conflict(format!(
                "the indicator has {reports} reports; it cannot be deleted"
            )));
        }
        let leaves = match &before.srf_indicator {
            Some(code) => Some(super::rollup::project_leaves(&mut tx, &p.id, Some(code)).await?),
            None => None,
        };
        sqlx::query("DELETE FROM indicator_targets WHERE indicator_id = $1")
            .bind(indicator_id)
            .execute(&mut *tx)
            .await?;
        delete_at_version(&mut tx, "indicators", "indicator", indicator_id, version).await?;
        if let Some(leaves) = leaves {
            super::rollup::project_changed(&mut tx, leaves, None).await?;
        }
        record(
            &mut tx,
            actor,
            Change::new("indicator", "delete", indicator_id)
                .unit(&unit_code(&p.unit)?)
                .before(&before),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Deletes the row `id` of `table`, only at `version` when one is given: a row changed since
/// (by a transaction that committed first; PostgreSQL re-checks the condition once that one's
/// lock is released) is not deleted, and the whole transaction is refused.
async fn delete_at_version(
    tx: &mut Tx,
    table: &'static str,
    what: &str,
    id: &str,
    version: Option<i64>,
) -> Result<(), StoreError> {
    let deleted = match version {
        Some(v) => {
            let sql = format!("DELETE FROM {table} WHERE id = $1 AND version = $2");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .bind(v)
                .execute(&mut **tx)
                .await?
        }
        None => {
            let sql = format!("DELETE FROM {table} WHERE id = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id)
                .execute(&mut **tx)
                .await?
        }
    };
    if deleted.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!(
            "the {what} was changed since it was read (it is no longer at version {}); nothing was deleted",
            version.unwrap_or_default()
        )));
    }
    Ok(())
}

async fn write_indicator(
    tx: &mut Tx,
    id: &str,
    result_id: &str,
    project_id: &str,
    position: i64,
    c: &CheckedIndicator,
    insert: bool,
) -> Result<(), StoreError> {
    let baseline = match &c.baseline {
        Some(q) => Columns::of(q, "baseline")?,
        None => Columns::none(),
    };
    let target = match &c.target {
        Some(q) => Columns::of(q, "target")?,
        None => Columns::none(),
    };
    let now = now_text();
    let sql = if insert {
        "INSERT INTO indicators (id, result_id, project_id, position, title, measure, direction, \
         aggregation, cumulative, unit, categories, baseline_year, baseline_e4, baseline_num_e4, \
         baseline_den_e4, baseline_text, target_e4, target_num_e4, target_den_e4, srf_indicator_code, \
         means_of_verification, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22, 1)"
    } else {
        "UPDATE indicators SET result_id = $2, project_id = $3, position = $4, title = $5, measure = $6, \
         direction = $7, aggregation = $8, cumulative = $9, unit = $10, categories = $11, \
         baseline_year = $12, baseline_e4 = $13, baseline_num_e4 = $14, baseline_den_e4 = $15, \
         baseline_text = $16, target_e4 = $17, target_num_e4 = $18, target_den_e4 = $19, \
         srf_indicator_code = $20, means_of_verification = $21, updated_at = $22, version = version + 1 \
         WHERE id = $1"
    };
    sqlx::query(sql)
        .bind(id)
        .bind(result_id)
        .bind(project_id)
        .bind(position)
        .bind(&c.title)
        .bind(c.measure.as_str())
        .bind(c.direction.as_str())
        .bind(c.aggregation.as_str())
        .bind(flag(c.cumulative))
        .bind(&c.unit)
        .bind(serde_json::to_string(&c.categories).expect("json"))
        .bind(c.baseline_year)
        .bind(baseline.value)
        .bind(baseline.num)
        .bind(baseline.den)
        .bind(baseline.text)
        .bind(target.value)
        .bind(target.num)
        .bind(target.den)
        .bind(&c.srf_indicator)
        .bind(&c.means_of_verification)
        .bind(&now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn write_targets(tx: &mut Tx, id: &str, c: &CheckedIndicator) -> Result<(), StoreError> {
    for (start, key, q) in &c.targets {
        let cols = Columns::of(q, "targets")?;
        sqlx::query(
            "INSERT INTO indicator_targets (indicator_id, period_start, disaggregation, value_e4, num_e4, den_e4) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(start)
        .bind(key)
        .bind(cols.value)
        .bind(cols.num)
        .bind(cols.den)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// One indicator with its targets, read inside a transaction (for audit before/after).
pub(crate) async fn indicator_in_tx(
    tx: &mut Tx,
    id: &str,
) -> Result<super::IndicatorView, StoreError> {
    let sql = format!(
        "SELECT {} FROM indicators WHERE id = $1",
        super::INDICATOR_COLUMNS
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::not_found("indicator", id))?;
    let mut view = super::indicator_from_row(&row)?;
    for r in sqlx::query(
        "SELECT period_start, disaggregation, value_e4, num_e4, den_e4 FROM indicator_targets \
         WHERE indicator_id = $1 ORDER BY period_start, disaggregation",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?
    {
        if let Some(figure) = super::Figure::from_columns(
            r.try_get("value_e4")?,
            r.try_get("num_e4")?,
            r.try_get("den_e4")?,
            None,
        ) {
            view.targets.push(super::TargetView {
                period_start: r.try_get("period_start")?,
                disaggregation: r.try_get("disaggregation")?,
                figure,
            });
        }
    }
    Ok(view)
}

/// After a project's dates changed (an edit, an approved no-cost extension): its reporting
/// periods follow them, in the caller's transaction. Periods the new dates add are created;
/// a first or last period whose clipped end moved gets its new end; a period now outside the
/// dates is removed when nothing was reported or targeted for it, and kept otherwise (nothing
/// is lost; the results page still shows it). The roll-up cells of the project's SRF
/// indicators are rebuilt, and the change is audited. Nothing happens to a project without a
/// results framework. Returns whether any period changed.
pub(crate) async fn follow_project_dates(
    tx: &mut Tx,
    org: &Organization,
    actor: &Actor,
    project_id: &str,
) -> Result<bool, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT f.frequency, p.start_date, p.end_date, p.unit_code FROM results_frameworks f \
         JOIN projects p ON p.id = f.project_id WHERE f.project_id = $1",
    )
    .bind(project_id)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(false);
    };
    let frequency: Frequency = corrupt(&row.try_get::<String, _>("frequency")?)?;
    let start: String = row.try_get("start_date")?;
    let end: String = row.try_get("end_date")?;
    let unit: String = row.try_get("unit_code")?;
    let wanted = project_periods(frequency, &start, &end)?;
    // The periods there are: start → (end, label, whether something was reported or targeted
    // for it).
    let mut existing: std::collections::BTreeMap<String, (String, String, bool)> =
        std::collections::BTreeMap::new();
    for r in sqlx::query(
        "SELECT rp.period_start, rp.period_end, rp.label, \
         (SELECT COUNT(*) FROM indicator_reports r WHERE r.project_id = rp.project_id \
          AND r.period_start = rp.period_start) \
         + (SELECT COUNT(*) FROM indicator_targets t JOIN indicators i ON i.id = t.indicator_id \
          WHERE i.project_id = rp.project_id AND t.period_start = rp.period_start) AS used \
         FROM reporting_periods rp WHERE rp.project_id = $1",
    )
    .bind(project_id)
    .fetch_all(&mut **tx)
    .await?
    {
        existing.insert(
            r.try_get("period_start")?,
            (
                r.try_get("period_end")?,
                r.try_get("label")?,
                r.try_get::<i64, _>("used")? > 0,
            ),
        );
    }
    let before = existing.len();
    let (mut added, mut moved, mut removed, mut kept) = (0, 0, 0, 0);
    for p in &wanted {
        let (s, e, label) = (p.start.to_string(), p.end.to_string(), p.label(frequency));
        match existing.remove(&s) {
            Some((old_end, _, _)) if old_end == e => {}
            Some(_) => {
                sqlx::query(
                    "UPDATE reporting_periods SET period_end = $3, label = $4 \
                     WHERE project_id = $1 AND period_start = $2",
                )
                .bind(project_id)
                .bind(&s)
                .bind(&e)
                .bind(&label)
                .execute(&mut **tx)
                .await?;
                moved += 1;
            }
            // The same calendar period under its former (clipped) start, with figures: it
            // stays as it is rather than beside a second one.
            None if existing.values().any(|(_, l, used)| *used && *l == label) => {}
            None => {
                sqlx::query(
                    "INSERT INTO reporting_periods (project_id, period_start, period_end, label, locked) \
                     VALUES ($1, $2, $3, $4, 0)",
                )
                .bind(project_id)
                .bind(&s)
                .bind(&e)
                .bind(&label)
                .execute(&mut **tx)
                .await?;
                added += 1;
            }
        }
    }
    // What is left lies outside the new dates (or is a period's former start).
    for (start, (_, _, used)) in &existing {
        if *used {
            kept += 1;
            continue;
        }
        sqlx::query("DELETE FROM reporting_periods WHERE project_id = $1 AND period_start = $2")
            .bind(project_id)
            .bind(start)
            .execute(&mut **tx)
            .await?;
        removed += 1;
    }
    if added + moved + removed == 0 {
        return Ok(false);
    }
    let srf: Vec<String> = sqlx::query(
        "SELECT DISTINCT srf_indicator_code FROM indicators \
         WHERE project_id = $1 AND srf_indicator_code IS NOT NULL",
    )
    .bind(project_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.try_get("srf_indicator_code"))
    .collect::<Result<_, _>>()?;
    super::rollup::refresh(tx, org, project_id, &srf).await?;
    record(
        tx,
        actor,
        Change::new("project", "results_periods", project_id)
            .unit(&unit_code(&unit)?)
            .before(serde_json::json!({ "periods": before }))
            .after(serde_json::json!({
                "start_date": start, "end_date": end, "periods": before + added - removed,
                "added": added, "moved": moved, "removed": removed, "kept_outside_dates": kept,
            })),
    )
    .await?;
    Ok(true)
}
