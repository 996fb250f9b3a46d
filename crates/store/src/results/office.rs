//! An office's reporting for one period: the results frameworks of every project of a unit
//! that reports for the period containing a date (for the office's template), and the upload
//! of a filled office template across those projects in one transaction.
//!
//! "The projects of a unit" follows the who-has-not-reported view (`missing_reports`): the
//! projects of the units in `org.scope_of(unit)`, within the reader's own scope.

use super::reporting::{UploadPlan, group_by_report, plan_report};
use super::{Figure, IndicatorView, UploadOutcome, UploadValue};
use super::{
    INDICATOR_COLUMNS, PeriodView, ResultView, ResultsFramework, TargetView, add_report_row,
    corrupt, indicator_from_row, json_column, period_view,
};
use crate::{Store, StoreError};
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::{Organization, UnitCode};
use meridian_domain::results::model::Frequency;
use sqlx::Row;
use std::collections::{BTreeSet, HashMap};

/// The most projects one office template holds; a larger scope is refused (choose an office).
pub const MAX_OFFICE_PROJECTS: usize = 500;

/// Which reporting periods of which projects a batch read covers: a SQL condition over
/// `reporting_periods rp JOIN projects p`, with its bound values.
struct Selection {
    cond: String,
    binds: Vec<String>,
}

impl Selection {
    /// The periods of the projects of `units` that contain `on`, or (`starts`) that begin on
    /// one of the dates given.
    fn new(units: &[String], on: Option<&str>, starts: &[String]) -> Selection {
        let mut binds: Vec<String> = Vec::new();
        let mark = |binds: &mut Vec<String>, v: &str| {
            binds.push(v.to_owned());
            format!("${}", binds.len())
        };
        let mut cond = String::new();
        if let Some(on) = on {
            let m = mark(&mut binds, on);
            cond.push_str(&format!("rp.period_start <= {m} AND rp.period_end >= {m}"));
        } else {
            let marks: Vec<String> = starts.iter().map(|s| mark(&mut binds, s)).collect();
            cond.push_str(&format!("rp.period_start IN ({})", marks.join(", ")));
        }
        let marks: Vec<String> = units.iter().map(|u| mark(&mut binds, u)).collect();
        cond.push_str(&format!(" AND p.unit_code IN ({})", marks.join(", ")));
        Selection { cond, binds }
    }

    fn query(&self, sql: String) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &self.binds {
            q = q.bind(b.as_str());
        }
        q
    }
}

/// The unit, checked, and the codes of the units whose projects are "the unit's": those of
/// `org.scope_of(unit)` (as the who-has-not-reported view reads a unit) within the actor's
/// scope. The actor must be allowed to view the unit's projects (else `Denied`: HTTP 403).
fn office_units(
    org: &Organization,
    actor: &Actor,
    unit: &str,
) -> Result<(UnitCode, Vec<String>), StoreError> {
    let code = UnitCode::parse(unit.trim())
        .map_err(|e| StoreError::invalid("unit", format!("expected a unit code, {e}")))?;
    if org.unit(code.as_str()).is_none() {
        return Err(StoreError::not_found("unit", code.as_str()));
    }
    authorize(org, actor, Action::ViewProjects, &code)?;
    let mine = actor.scope(org);
    let units = org
        .units_in_scope(&org.scope_of(&code))
        .into_iter()
        .filter(|u| org.in_scope(&mine, u))
        .map(|u| u.to_string())
        .collect();
    Ok((code, units))
}

impl Store {
    /// The results frameworks of the projects of `unit` (see the module) that have a reporting
    /// period containing `on`, each with that one period and only its targets and reports
    /// (everything else of the matrix whole), ordered by project code. Five statements however
    /// many projects (no statement per project); more than [`MAX_OFFICE_PROJECTS`] projects is
    /// refused. The actor must be allowed to view the unit's projects.
    pub async fn office_frameworks(
        &self,
        org: &Organization,
        actor: &Actor,
        unit: &str,
        on: &str,
    ) -> Result<Vec<ResultsFramework>, StoreError> {
        let on = super::date(on)?.to_string();
        let (_, units) = office_units(org, actor, unit)?;
        if units.is_empty() {
            return Ok(Vec::new());
        }
        self.frameworks_of(&Selection::new(&units, Some(&on), &[]))
            .await
    }

    /// Saves an office's uploaded template: reports of several projects of `unit`, all or
    /// nothing in one transaction, with the checks of [`Store::upload_reports`] for each
    /// report (periods, locks, review states, figures, versions: 422 or 409 alike). Besides,
    /// a row is a problem, naming its cell, when its indicator is not of a project of the unit
    /// (`office_frameworks`' projects), when its Project column names another project than
    /// the indicator's, or when the actor may not report on its project. The actor must be
    /// allowed to view the unit's projects and to report results in the unit (else `Denied`).
    pub async fn upload_office_reports(
        &self,
        org: &Organization,
        actor: &Actor,
        unit: &str,
        values: &[UploadValue],
    ) -> Result<UploadOutcome, StoreError> {
        let (code, units) = office_units(org, actor, unit)?;
        authorize(org, actor, Action::ReportResults, &code)?;
        let groups = group_by_report(values);
        let starts: Vec<String> = groups
            .iter()
            .map(|((_, start), _)| start.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let frameworks = if groups.is_empty() || units.is_empty() {
            Vec::new()
        } else {
            self.frameworks_of(&Selection::new(&units, None, &starts))
                .await?
        };
        let mut of_indicator: HashMap<&str, usize> = HashMap::new();
        for (i, f) in frameworks.iter().enumerate() {
            for ind in f.indicators() {
                of_indicator.insert(ind.id.as_str(), i);
            }
        }
        // Indicators of no project read above: say whose they are.
        let unknown: Vec<&str> = groups
            .iter()
            .map(|((id, _), _)| id.as_str())
            .filter(|id| !of_indicator.contains_key(id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let owners = self.indicator_owners(&unknown).await?;

        let mut plan = UploadPlan::default();
        for (key, cells) in &groups {
            let (indicator_id, period_start) = key;
            let project_cell = cells
                .iter()
                .find_map(|c| c.project_location.clone())
                .unwrap_or_else(|| cells[0].location.clone());
            let Some(&at) = of_indicator.get(indicator_id.as_str()) else {
                let message = match owners.get(indicator_id) {
                    None => format!("{indicator_id} is not an indicator in Meridian"),
                    Some((project, owner)) if units.contains(owner) => format!(
                        "{period_start} is not a reporting period of {project} (the project of \
                         indicator {indicator_id})"
                    ),
                    Some((project, owner)) => format!(
                        "the indicator {indicator_id} is of {project}, a project of {owner}, not \
                         of {code}: report it in the template of {owner} or of {project}"
                    ),
                };
                plan.problem(&project_cell, message);
                continue;
            };
            let f = &frameworks[at];
            let mut named_wrong = false;
            for c in cells {
                let named = c.project.trim();
                if !named.is_empty() && named != f.project_code {
                    named_wrong = true;
                    plan.problem(
                        c.project_location.as_ref().unwrap_or(&c.location),
                        format!(
                            "expected {}, the project of this row's indicator, found {named:?}: \
                             rows must not be changed or copied between templates; download a \
                             new template",
                            f.project_code
                        ),
                    );
                }
            }
            if named_wrong {
                continue;
            }
            let unit = crate::projects::unit_code(&f.unit)?;
            if let Err(denied) = authorize(org, actor, Action::ReportResults, &unit) {
                plan.problem(
                    &cells[0].location,
                    format!("you may not report values of {}: {denied}", f.project_code),
                );
                continue;
            }
            plan_report(f, &unit, key, cells, &mut plan);
        }
        self.apply_upload(actor, plan).await
    }

    /// Of each indicator id, its project's code and unit (ids not found are left out), 500
    /// ids a statement.
    async fn indicator_owners(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, (String, String)>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT i.id, p.code, p.unit_code FROM indicators i \
                 JOIN projects p ON p.id = i.project_id WHERE i.id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                out.insert(
                    r.try_get::<String, _>("id")?,
                    (r.try_get("code")?, r.try_get("unit_code")?),
                );
            }
        }
        Ok(out)
    }

    /// The frameworks of the projects with a period in `sel`, each with only those periods and
    /// their targets and reports: five statements whatever the number of projects.
    async fn frameworks_of(&self, sel: &Selection) -> Result<Vec<ResultsFramework>, StoreError> {
        let pool = self.pool();
        let cond = &sel.cond;
        let projects_with_periods = format!(
            "SELECT rp.project_id FROM reporting_periods rp JOIN projects p ON p.id = rp.project_id \
             WHERE {cond}"
        );
        // 1. The projects with their settings and the periods selected.
        let mut frameworks: Vec<ResultsFramework> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        for r in sel
            .query(format!(
                "SELECT p.id, p.code, p.title, p.unit_code, p.start_date, p.end_date, \
                 f.frequency, f.version, rp.period_start, rp.period_end, rp.label, rp.locked, \
                 rp.locked_by FROM reporting_periods rp JOIN projects p ON p.id = rp.project_id \
                 LEFT JOIN results_frameworks f ON f.project_id = p.id \
                 WHERE {cond} ORDER BY p.code, rp.period_start"
            ))
            .fetch_all(pool)
            .await?
        {
            let id: String = r.try_get("id")?;
            let i = match at.get(&id) {
                Some(&i) => i,
                None => {
                    if frameworks.len() == MAX_OFFICE_PROJECTS {
                        return Err(StoreError::invalid(
                            "unit",
                            format!(
                                "expected at most {MAX_OFFICE_PROJECTS} projects in one template, \
                                 found more: choose a country office or a smaller unit"
                            ),
                        ));
                    }
                    let frequency: Option<String> = r.try_get("frequency")?;
                    frameworks.push(ResultsFramework {
                        project_id: id.clone(),
                        project_code: r.try_get("code")?,
                        project_title: r.try_get("title")?,
                        unit: r.try_get("unit_code")?,
                        start_date: r.try_get("start_date")?,
                        end_date: r.try_get("end_date")?,
                        frequency: frequency.as_deref().map(corrupt::<Frequency>).transpose()?,
                        version: r.try_get::<Option<i64>, _>("version")?.unwrap_or(0),
                        periods: Vec::new(),
                        results: Vec::new(),
                    });
                    at.insert(id, frameworks.len() - 1);
                    frameworks.len() - 1
                }
            };
            let period: PeriodView = period_view(&r)?;
            frameworks[i].periods.push(period);
        }
        if frameworks.is_empty() {
            return Ok(frameworks);
        }
        // 2. Their results.
        let mut results: Vec<(String, ResultView)> = Vec::new();
        for r in sel
            .query(format!(
                "SELECT project_id, id, level, title, position, srf_codes, gcm_objectives, \
                 sdg_targets, version FROM results WHERE project_id IN ({projects_with_periods}) \
                 ORDER BY project_id, position, id"
            ))
            .fetch_all(pool)
            .await?
        {
            results.push((
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
            ));
        }
        // 3. Their indicators.
        let mut indicators: Vec<IndicatorView> = sel
            .query(format!(
                "SELECT {INDICATOR_COLUMNS} FROM indicators \
                 WHERE project_id IN ({projects_with_periods}) ORDER BY project_id, position, id"
            ))
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
        // 4. The targets of the periods selected.
        for r in sel
            .query(format!(
                "SELECT t.indicator_id, t.period_start, t.disaggregation, t.value_e4, t.num_e4, \
                 t.den_e4 FROM indicator_targets t JOIN indicators i ON i.id = t.indicator_id \
                 JOIN reporting_periods rp ON rp.project_id = i.project_id \
                   AND rp.period_start = t.period_start \
                 JOIN projects p ON p.id = rp.project_id \
                 WHERE {cond} ORDER BY t.period_start, t.disaggregation"
            ))
            .fetch_all(pool)
            .await?
        {
            let id: String = r.try_get("indicator_id")?;
            let Some(&i) = by_id.get(&id) else { continue };
            if let Some(figure) = Figure::from_columns(
                r.try_get("value_e4")?,
                r.try_get("num_e4")?,
                r.try_get("den_e4")?,
                None,
            ) {
                indicators[i].targets.push(TargetView {
                    period_start: r.try_get("period_start")?,
                    disaggregation: r.try_get("disaggregation")?,
                    figure,
                });
            }
        }
        // 5. The reports of the periods selected, with their values.
        for r in sel
            .query(format!(
                "SELECT r.indicator_id, r.period_start, r.status, r.narrative, r.entered_by, \
                 r.submitted_by, r.submitted_at, r.reviewed_by, r.reviewed_at, r.review_note, \
                 r.updated_at, r.version, v.disaggregation, v.value_e4, v.num_e4, v.den_e4, \
                 v.text_value FROM indicator_reports r \
                 JOIN reporting_periods rp ON rp.project_id = r.project_id \
                   AND rp.period_start = r.period_start \
                 JOIN projects p ON p.id = rp.project_id \
                 LEFT JOIN indicator_values v \
                   ON v.indicator_id = r.indicator_id AND v.period_start = r.period_start \
                 WHERE {cond} ORDER BY r.period_start, r.indicator_id, v.disaggregation"
            ))
            .fetch_all(pool)
            .await?
        {
            let id: String = r.try_get("indicator_id")?;
            let Some(&i) = by_id.get(&id) else { continue };
            add_report_row(&mut indicators[i].reports, id, &r)?;
        }
        // Indicators into their results, results into their projects, in order.
        let mut result_at: HashMap<String, (usize, usize)> = HashMap::new();
        for (project_id, result) in results {
            let Some(&p) = at.get(&project_id) else {
                continue;
            };
            result_at.insert(result.id.clone(), (p, frameworks[p].results.len()));
            frameworks[p].results.push(result);
        }
        for ind in indicators {
            if let Some(&(p, r)) = result_at.get(&ind.result_id) {
                frameworks[p].results[r].indicators.push(ind);
            }
        }
        Ok(frameworks)
    }
}
