//! Demo results: a results matrix for every project that has started implementing, with
//! approved reports for its past periods, written in bulk (multi-row INSERTs, one audit event
//! per batch) and then rolled up into the SRF cells through the same code as every approval.

use crate::audit::record;
use crate::db::{new_id, now_text};
use crate::demo::{DemoRng, Rows, V};
use crate::projects::e4;
use crate::{Store, StoreError};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::Organization;
use meridian_domain::results::model::{Disaggregation, DisaggregationCategory, Frequency, Measure};
use rust_decimal::Decimal;
use sqlx::Row;

/// What the results demo wrote.
#[derive(Debug, Default, Clone)]
pub struct DemoResultsSummary {
    pub frameworks: usize,
    pub indicators: usize,
    pub reports: usize,
    pub values: usize,
    pub cells: usize,
}

const PAGE: i64 = 2_000;
/// Statuses whose projects report on results.
const REPORTING: &str = "'active', 'suspended', 'operationally_closed', 'financially_closed'";

fn hash(s: &str) -> u64 {
    // FNV-1a: a stable seed per project whatever the run.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The rows of one batch of generated results, one multi-row insert per table.
struct Tables {
    frameworks: Rows,
    periods: Rows,
    results: Rows,
    indicators: Rows,
    targets: Rows,
    reports: Rows,
    values: Rows,
}

impl Tables {
    fn new() -> Tables {
        Tables {
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
                    "target_e4",
                    "target_num_e4",
                    "target_den_e4",
                    "srf_indicator_code",
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
                ],
            ),
        }
    }

    async fn write(self, tx: &mut crate::Tx, backend: crate::Backend) -> Result<(), StoreError> {
        for table in [
            self.frameworks,
            self.periods,
            self.results,
            self.indicators,
            self.targets,
            self.reports,
            self.values,
        ] {
            table.write(tx, backend).await?;
        }
        Ok(())
    }
}

impl Store {
    /// Writes demo results for every reporting project that has none yet. `today` bounds the
    /// reported periods (only those ended by then are reported, and approved).
    pub async fn demo_results(
        &self,
        org: &Organization,
        actor: &Actor,
        today: time::Date,
        mut progress: impl FnMut(&DemoResultsSummary),
    ) -> Result<DemoResultsSummary, StoreError> {
        authorize(org, actor, Action::ReloadOrganization, &org.root().code)?;
        let srf = self.srf_indicators().await?;
        let numbers: Vec<_> = srf
            .iter()
            .filter(|i| i.measure == Measure::Number && i.aggregation.as_str() == "sum")
            .collect();
        let percents: Vec<_> = srf
            .iter()
            .filter(|i| i.measure == Measure::Percentage)
            .collect();
        if numbers.is_empty() || percents.is_empty() {
            return Err(StoreError::invalid(
                "srf",
                "the framework needs a summed number indicator and a percentage indicator",
            ));
        }
        let sex = vec![Disaggregation::default_for(DisaggregationCategory::Sex)];
        let sex_json = serde_json::to_string(&sex).expect("json");
        let mut summary = DemoResultsSummary::default();
        let mut after = String::new();
        loop {
            let sql = format!(
                "SELECT p.id, p.unit_code, p.start_date, p.end_date, p.budget_usd_e4 FROM projects p \
                 WHERE p.status IN ({REPORTING}) AND p.id > $1 \
                 AND NOT EXISTS (SELECT 1 FROM results_frameworks f WHERE f.project_id = p.id) \
                 ORDER BY p.id LIMIT {PAGE}"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&after)
                .fetch_all(self.pool())
                .await?;
            if rows.is_empty() {
                break;
            }
            let now = now_text();
            let mut t = Tables::new();
            let mut batch = DemoResultsSummary::default();
            for r in &rows {
                let id: String = r.try_get("id")?;
                after = id.clone();
                let start = super::date(&r.try_get::<String, _>("start_date")?)?;
                let end = super::date(&r.try_get::<String, _>("end_date")?)?;
                let budget_usd = r.try_get::<i64, _>("budget_usd_e4")? / 10_000;
                let mut rng = DemoRng::new(hash(&id));
                let frequency = if (end - start).whole_days() > 800 {
                    Frequency::Annual
                } else {
                    Frequency::Quarterly
                };
                let list = frequency.periods(start, end);
                t.frameworks.push([
                    V::T(id.clone()),
                    V::T(frequency.as_str().into()),
                    V::T(now.clone()),
                    V::I(1),
                ]);
                for p in &list {
                    t.periods.push([
                        V::T(id.clone()),
                        V::T(p.start.to_string()),
                        V::T(p.end.to_string()),
                        V::T(p.label(frequency)),
                        // Periods that ended more than a year ago are closed.
                        V::I(i64::from(p.end + time::Duration::days(365) < today)),
                    ]);
                }
                let result_id = new_id();
                let number = numbers[rng.below(numbers.len() as u64) as usize];
                let percent = percents[rng.below(percents.len() as u64) as usize];
                t.results.push([
                    V::T(result_id.clone()),
                    V::T(id.clone()),
                    V::T("output".into()),
                    V::T("People on the move are assisted and protected".into()),
                    V::I(1),
                    V::T(serde_json::to_string(&[&number.node_code]).expect("json")),
                    V::T(serde_json::to_string(&[1 + rng.below(23)]).expect("json")),
                    V::T("[\"10.7\"]".into()),
                    V::T(now.clone()),
                    V::T(now.clone()),
                    V::I(1),
                ]);
                // People reached: about one person per 400 USD of budget, spread over periods.
                let people_total = (budget_usd / 400).max(50);
                let per_period = (people_total / list.len().max(1) as i64).max(1);
                let number_id = new_id();
                let percent_id = new_id();
                for (ind, title, measure, srf, categories, target) in [
                    (
                        &number_id,
                        number.title.as_str(),
                        "number",
                        &number.code,
                        sex_json.as_str(),
                        (Some(people_total), None, None),
                    ),
                    (
                        &percent_id,
                        percent.title.as_str(),
                        "percentage",
                        &percent.code,
                        "[]",
                        (None, Some(80), Some(100)),
                    ),
                ] {
                    t.indicators.push([
                        V::T(ind.clone()),
                        V::T(result_id.clone()),
                        V::T(id.clone()),
                        V::T(title.to_owned()),
                        V::T(measure.into()),
                        V::T("ascending".into()),
                        V::T("sum".into()),
                        V::I(0),
                        V::T(if measure == "number" {
                            "people".into()
                        } else {
                            String::new()
                        }),
                        V::T(categories.to_owned()),
                        V::OI(Some(i64::from(start.year()) - 1)),
                        V::OI((measure == "number").then_some(0)),
                        V::OI((measure != "number").then_some(0)),
                        V::OI((measure != "number").then_some(100 * 10_000)),
                        V::OI(target.0.map(|v| v * 10_000)),
                        V::OI(target.1.map(|v| v * 10_000)),
                        V::OI(target.2.map(|v| v * 10_000)),
                        V::OT(Some(srf.clone())),
                        V::T("Monitoring records".into()),
                        V::I(if measure == "number" { 1 } else { 2 }),
                        V::T(now.clone()),
                        V::T(now.clone()),
                        V::I(1),
                    ]);
                    batch.indicators += 1;
                }
                let last_ended = list.iter().rposition(|p| p.end < today);
                for (n, p) in list.iter().enumerate() {
                    let ps = p.start.to_string();
                    // The latest report of some projects waits for its approver.
                    let status = if Some(n) == last_ended && rng.chance(0.3) {
                        "submitted"
                    } else {
                        "approved"
                    };
                    t.targets.push([
                        V::T(number_id.clone()),
                        V::T(ps.clone()),
                        V::T(String::new()),
                        V::OI(Some(per_period * 10_000)),
                        V::OI(None),
                        V::OI(None),
                    ]);
                    if p.end >= today {
                        continue;
                    }
                    let at = format!("{}T09:00:00.000000Z", p.end);
                    let reached = (per_period as f64 * (0.6 + rng.unit() * 0.7)) as i64;
                    let female = reached * (45 + rng.below(15) as i64) / 100;
                    let other = rng.below(3) as i64;
                    let male = reached - female - other;
                    let assessed = 20 + rng.below(100) as i64;
                    let ok = assessed * (50 + rng.below(45) as i64) / 100;
                    for ind in [&number_id, &percent_id] {
                        t.reports.push([
                            V::T(ind.clone()),
                            V::T(ps.clone()),
                            V::T(id.clone()),
                            V::T(status.into()),
                            V::T(String::new()),
                            V::T("demo-reporter".into()),
                            V::OT(Some("demo-reporter".into())),
                            V::OT(Some(at.clone())),
                            V::OT((status == "approved").then(|| "demo-approver".into())),
                            V::OT((status == "approved").then(|| at.clone())),
                            V::T(String::new()),
                            V::T(at.clone()),
                            V::I(3),
                        ]);
                        batch.reports += 1;
                    }
                    for (key, v) in [
                        ("", reached),
                        ("sex=female", female),
                        ("sex=male", male.max(0)),
                        ("sex=other_unknown", other),
                    ] {
                        t.values.push([
                            V::T(number_id.clone()),
                            V::T(ps.clone()),
                            V::T(key.into()),
                            V::OI(Some(e4(Decimal::from(v), "value")?)),
                            V::OI(None),
                            V::OI(None),
                        ]);
                        batch.values += 1;
                    }
                    t.values.push([
                        V::T(percent_id.clone()),
                        V::T(ps.clone()),
                        V::T(String::new()),
                        V::OI(None),
                        V::OI(Some(ok * 10_000)),
                        V::OI(Some(assessed * 10_000)),
                    ]);
                    batch.values += 1;
                }
                batch.frameworks += 1;
            }
            let mut tx = self.begin().await?;
            t.write(&mut tx, self.backend()).await?;
            record(
                &mut tx,
                actor,
                Change::new("results", "demo_load", &after).after(serde_json::json!({
                    "frameworks": batch.frameworks,
                    "indicators": batch.indicators,
                    "reports": batch.reports,
                    "values": batch.values,
                })),
            )
            .await?;
            tx.commit().await?;
            summary.frameworks += batch.frameworks;
            summary.indicators += batch.indicators;
            summary.reports += batch.reports;
            summary.values += batch.values;
            progress(&summary);
        }
        if summary.frameworks > 0 {
            summary.cells = self.rebuild_all_cells().await?;
        }
        Ok(summary)
    }

    /// Rebuilds every cell from the approved values (after a bulk load): one pass per SRF
    /// indicator over all units, then each programme. Returns the number of cells.
    pub async fn rebuild_all_cells(&self) -> Result<usize, StoreError> {
        let codes: Vec<String> = sqlx::query(
            "SELECT DISTINCT srf_indicator_code FROM indicators \
             WHERE srf_indicator_code IS NOT NULL ORDER BY srf_indicator_code",
        )
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.try_get("srf_indicator_code"))
        .collect::<Result<_, _>>()?;
        for code in &codes {
            let mut tx = self.begin().await?;
            super::rollup::rebuild_scope(&mut tx, code, super::rollup::Rebuild::AllUnits).await?;
            tx.commit().await?;
        }
        let programmes: Vec<String> = sqlx::query("SELECT id FROM programmes")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
        for id in programmes {
            let mut tx = self.begin().await?;
            super::rollup::refresh_programme(&mut tx, &id).await?;
            tx.commit().await?;
        }
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM results_cells")
            .fetch_one(self.pool())
            .await?
            .try_get::<i64, _>("n")? as usize)
    }
}

/// The shape of a generated programme for benchmarks.
#[derive(Debug, Clone)]
pub struct DemoProgrammeShape {
    pub code: String,
    pub unit: String,
    pub country: String,
    pub projects: usize,
    pub indicators_per_project: usize,
    /// Monthly periods, from January 2026.
    pub months: usize,
}

impl Store {
    /// The account `email` (created with a generated password when missing), as an actor: the
    /// person generated projects are drafted by.
    pub async fn demo_person(
        &self,
        org: &Organization,
        email: &str,
        unit: &str,
        role: meridian_domain::authz::Role,
    ) -> Result<Actor, StoreError> {
        if let Some(u) = self.find_user_by_email(email).await? {
            return Ok(u.actor());
        }
        let operator = Actor::Operator {
            label: "demo".into(),
        };
        Ok(self
            .create_user(
                org,
                &operator,
                crate::users::NewUser {
                    email: email.into(),
                    name: "Demo".into(),
                    unit: crate::projects::unit_code(unit)?,
                    roles: vec![role],
                    password: None,
                },
            )
            .await?
            .user
            .actor())
    }

    /// Generates a programme of projects whose indicators are disaggregated by sex, age group
    /// and displacement status, reporting monthly, every value approved (the benchmark's
    /// programme). Bulk-written like the demo, then rolled up. Returns the programme id.
    pub async fn demo_programme(
        &self,
        org: &Organization,
        actor: &Actor,
        shape: &DemoProgrammeShape,
    ) -> Result<String, StoreError> {
        authorize(org, actor, Action::ReloadOrganization, &org.root().code)?;
        let project_ids = self
            .generate_programme_projects(org, shape, shape.projects, &shape.code)
            .await?;
        let programme = self
            .save_programme(
                org,
                actor,
                None,
                &super::ProgrammeInput {
                    code: shape.code.clone(),
                    title: format!("Benchmark programme of {} projects", shape.projects),
                    unit: shape.unit.clone(),
                    projects: project_ids,
                    version: None,
                },
            )
            .await?;
        // The programme's cells were built as its members were added; the unit's cells take
        // the generated projects in.
        let mut tx = self.begin().await?;
        for code in self.srf_codes_of_unit_projects(&shape.unit).await? {
            super::rollup::rebuild_scope(&mut tx, &code, super::rollup::Rebuild::Unit(&shape.unit))
                .await?;
        }
        tx.commit().await?;
        Ok(programme.id)
    }

    async fn srf_codes_of_unit_projects(&self, unit: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT DISTINCT i.srf_indicator_code FROM indicators i \
             JOIN projects p ON p.id = i.project_id \
             WHERE p.unit_code = $1 AND i.srf_indicator_code IS NOT NULL",
        )
        .bind(unit)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.try_get("srf_indicator_code").map_err(StoreError::from))
        .collect()
    }

    /// One more project shaped like a generated programme's members (not a member of it),
    /// its values approved and rolled up into its unit's cells: what the benchmark adds to the
    /// programme. `seed` makes its figures. Returns the project id.
    pub async fn demo_programme_project(
        &self,
        org: &Organization,
        actor: &Actor,
        shape: &DemoProgrammeShape,
        seed: &str,
    ) -> Result<String, StoreError> {
        authorize(org, actor, Action::ReloadOrganization, &org.root().code)?;
        let id = self
            .generate_programme_projects(org, shape, 1, seed)
            .await?
            .remove(0);
        let codes: Vec<String> = sqlx::query(
            "SELECT DISTINCT srf_indicator_code FROM indicators \
             WHERE project_id = $1 AND srf_indicator_code IS NOT NULL",
        )
        .bind(&id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.try_get("srf_indicator_code"))
        .collect::<Result<_, _>>()?;
        let mut tx = self.begin().await?;
        super::rollup::refresh(&mut tx, org, &id, &codes).await?;
        record(
            &mut tx,
            actor,
            Change::new("results", "demo_load", &id).after(serde_json::json!({
                "frameworks": 1,
                "indicators": shape.indicators_per_project,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates `count` projects with the programme shape's matrix and approved figures
    /// (seeded by `seed`), bulk-written; their cells are not rolled up.
    async fn generate_programme_projects(
        &self,
        org: &Organization,
        shape: &DemoProgrammeShape,
        count: usize,
        seed: &str,
    ) -> Result<Vec<String>, StoreError> {
        let numbers: Vec<_> = self
            .srf_indicators()
            .await?
            .into_iter()
            .filter(|i| i.measure == Measure::Number)
            .collect();
        if numbers.is_empty() {
            return Err(StoreError::invalid(
                "srf",
                "the framework has no number indicator",
            ));
        }
        let categories = vec![
            Disaggregation::default_for(DisaggregationCategory::Sex),
            Disaggregation::default_for(DisaggregationCategory::AgeGroup),
            Disaggregation::default_for(DisaggregationCategory::DisplacementStatus),
        ];
        let keys = super::disaggregation_keys(&categories);
        let categories_json = serde_json::to_string(&categories).expect("json");
        let start = time::Date::from_calendar_date(2026, time::Month::January, 1).expect("date");
        let last_month = start
            .checked_add(time::Duration::days(31 * shape.months as i64 - 20))
            .expect("date");
        let end = Frequency::Monthly.calendar_period(last_month).end;
        let periods = Frequency::Monthly.periods(start, end);
        let input = crate::projects::ProjectInput {
            title: String::new(),
            summary: "Generated for the results benchmark.".into(),
            thematic_area: "migrant_protection".into(),
            unit: shape.unit.clone(),
            primary_country: shape.country.clone(),
            countries: vec![],
            admin_areas: vec![],
            start_date: start.to_string(),
            end_date: end.to_string(),
            currency: "USD".into(),
            budget_lines: vec![],
            donors: vec![],
            partners: vec![],
            restricted: false,
        };
        let developer = self
            .demo_person(
                org,
                "bench-developer@meridian.local",
                &shape.unit,
                meridian_domain::authz::Role::ProjectDeveloper,
            )
            .await?;
        let mut project_ids = Vec::with_capacity(count);
        for n in 0..count {
            let p = self
                .create_project(
                    org,
                    &developer,
                    &crate::projects::ProjectInput {
                        title: if count == 1 {
                            format!("{} project {seed}", shape.code)
                        } else {
                            format!("{} project {}", shape.code, n + 1)
                        },
                        ..input.clone()
                    },
                )
                .await?;
            project_ids.push(p.id);
        }
        let now = now_text();
        let mut rng = DemoRng::new(hash(seed));
        for chunk in project_ids.chunks(50) {
            let mut t = Tables::new();
            for id in chunk {
                t.frameworks.push([
                    V::T(id.clone()),
                    V::T("monthly".into()),
                    V::T(now.clone()),
                    V::I(1),
                ]);
                for p in &periods {
                    t.periods.push([
                        V::T(id.clone()),
                        V::T(p.start.to_string()),
                        V::T(p.end.to_string()),
                        V::T(p.label(Frequency::Monthly)),
                        V::I(0),
                    ]);
                }
                let result_id = new_id();
                t.results.push([
                    V::T(result_id.clone()),
                    V::T(id.clone()),
                    V::T("output".into()),
                    V::T("Migrants and displaced people are assisted".into()),
                    V::I(1),
                    V::T("[]".into()),
                    V::T("[]".into()),
                    V::T("[]".into()),
                    V::T(now.clone()),
                    V::T(now.clone()),
                    V::I(1),
                ]);
                for k in 0..shape.indicators_per_project {
                    let srf = &numbers[k % numbers.len()];
                    let ind = new_id();
                    t.indicators.push([
                        V::T(ind.clone()),
                        V::T(result_id.clone()),
                        V::T(id.clone()),
                        V::T(srf.title.clone()),
                        V::T("number".into()),
                        V::T("ascending".into()),
                        V::T("sum".into()),
                        V::I(0),
                        V::T("people".into()),
                        V::T(categories_json.clone()),
                        // No baseline, no overall target.
                        V::OI(None),
                        V::OI(None),
                        V::OI(None),
                        V::OI(None),
                        V::OI(None),
                        V::OI(None),
                        V::OI(None),
                        V::OT(Some(srf.code.clone())),
                        V::T("Monitoring records".into()),
                        V::I(k as i64 + 1),
                        V::T(now.clone()),
                        V::T(now.clone()),
                        V::I(1),
                    ]);
                    for p in &periods {
                        let ps = p.start.to_string();
                        let at = format!("{}T09:00:00.000000Z", p.end);
                        t.targets.push([
                            V::T(ind.clone()),
                            V::T(ps.clone()),
                            V::T(String::new()),
                            V::OI(Some(100 * 10_000)),
                            V::OI(None),
                            V::OI(None),
                        ]);
                        t.reports.push([
                            V::T(ind.clone()),
                            V::T(ps.clone()),
                            V::T(id.clone()),
                            V::T("approved".into()),
                            V::T(String::new()),
                            V::T("bench-reporter".into()),
                            V::OT(Some("bench-reporter".into())),
                            V::OT(Some(at.clone())),
                            V::OT(Some("bench-approver".into())),
                            V::OT(Some(at.clone())),
                            V::T(String::new()),
                            V::T(at),
                            V::I(3),
                        ]);
                        let total = 60 + rng.below(80) as i64;
                        t.values.push([
                            V::T(ind.clone()),
                            V::T(ps.clone()),
                            V::T(String::new()),
                            V::OI(Some(total * 10_000)),
                            V::OI(None),
                            V::OI(None),
                        ]);
                        // Each category's options share the total.
                        for d in &categories {
                            let mut left = total;
                            let n = d.options.len();
                            for (j, o) in d.options.iter().enumerate() {
                                let v = if j + 1 == n {
                                    left
                                } else {
                                    left * (30 + rng.below(40) as i64) / 100
                                };
                                left -= v;
                                t.values.push([
                                    V::T(ind.clone()),
                                    V::T(ps.clone()),
                                    V::T(format!("{}={}", d.category.as_str(), o.code)),
                                    V::OI(Some(v * 10_000)),
                                    V::OI(None),
                                    V::OI(None),
                                ]);
                            }
                        }
                    }
                }
            }
            debug_assert!(keys.len() == 11);
            let mut tx = self.begin().await?;
            t.write(&mut tx, self.backend()).await?;
            tx.commit().await?;
        }
        Ok(project_ids)
    }
}
