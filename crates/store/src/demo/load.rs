//! `Store::load_demo`: a whole demonstration portfolio. Exchange rates, delegations and accounts
//! go through the ordinary store functions; so do the first projects of each status (created,
//! moved through their lifecycle, commented and given transactions as users would); the rest
//! is generated and written in bulk by [`Store::demo_insert_projects`].

use super::generate::{RATE_DATES, World, demo_rates};
use super::{DemoBatch, DemoBatchSummary, DemoRng};
use crate::projects::{BudgetLineInput, DelegationInput, ProjectInput, TransactionInput};
use crate::users::NewUser;
use crate::{Store, StoreError};
use meridian_domain::authz::{Action, Actor, Role, UserActor, authorize};
use meridian_domain::org::{Countries, Organization, Scope, UnitCode, UnitKind};
use meridian_domain::projects::lifecycle::{Status, Transition};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::time::Instant;

/// Projects per unit of scale: scale 1 is a few hundred projects, 1000 is 300,000 (about a
/// hundred times IOM's portfolio).
pub const PROJECTS_PER_SCALE: usize = 300;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub scale: u32,
    pub seed: u64,
    /// Projects per bulk transaction.
    pub batch_size: usize,
    /// Projects of each status that go through the real store functions.
    pub real_per_status: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            scale: 1,
            seed: 2026,
            batch_size: 5_000,
            real_per_status: 2,
        }
    }
}

/// A demo account and its generated password (`None` when the account existed already).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub role: Role,
    pub unit: UnitCode,
    pub email: String,
    pub password: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub accounts: Vec<DemoAccount>,
    pub rates: usize,
    pub delegations: usize,
    /// Projects created through the real store functions.
    pub real_projects: usize,
    /// What the bulk batches wrote.
    pub bulk: DemoBatchSummary,
    pub by_status: BTreeMap<&'static str, usize>,
}

impl DemoReport {
    pub fn projects(&self) -> usize {
        self.real_projects + self.bulk.projects
    }
}

fn email(role: Role, unit: &UnitCode) -> String {
    format!(
        "{}.{}@demo.meridian.local",
        role.as_str().replace('_', "-"),
        unit.as_str().to_lowercase()
    )
}

fn words(role: Role) -> String {
    role.as_str().replace('_', " ")
}

/// Who the demo signs up: every role at headquarters, a reviewer and a developer in every
/// regional office, more roles in three of them, and staff in six country offices. The
/// second element is the regional approver holding the sub-delegation, if any.
fn accounts_plan(org: &Organization) -> (Vec<(Role, UnitCode)>, Option<UnitCode>) {
    use Role::*;
    let root = org.root().code.clone();
    let hq = |code: &str| {
        org.unit(code)
            .map(|u| u.code.clone())
            .filter(|c| org.scope_of(c) == Scope::Global)
            .unwrap_or_else(|| root.clone())
    };
    let mut plan = vec![
        (Administrator, root.clone()),
        (Viewer, root.clone()),
        (Approver, hq("DSPOP-PRIMA")),
        (DataOfficer, hq("DSPOP-PRIMA")),
        (RbmOfficer, hq("DSPOP-RBM")),
        (MeOfficer, hq("DSPOP-ME")),
        (RiskOfficer, hq("DSPOP-RMU")),
        (ComplianceOfficer, hq("DSPOP-OCU")),
        (DonorRelationsOfficer, hq("DER-DRD")),
        (PartnershipsOfficer, hq("DER-IPD")),
    ];
    let regional: Vec<UnitCode> = org.regional_offices().map(|u| u.code.clone()).collect();
    for ro in &regional {
        plan.push((RegionalReviewer, ro.clone()));
        plan.push((ProjectDeveloper, ro.clone()));
    }
    let mut featured: Vec<UnitCode> = ["RO-NBO", "RO-BKK", "RO-DKR"]
        .iter()
        .filter_map(|c| regional.iter().find(|r| r.as_str() == *c).cloned())
        .collect();
    for ro in &regional {
        if featured.len() >= 3 {
            break;
        }
        if !featured.contains(ro) {
            featured.push(ro.clone());
        }
    }
    for ro in &featured {
        plan.extend([
            (Administrator, ro.clone()),
            (Viewer, ro.clone()),
            (MeOfficer, ro.clone()),
        ]);
    }
    let regional_approver = featured
        .iter()
        .find(|r| r.as_str() == "RO-BKK")
        .or(featured.get(1))
        .cloned();
    if let Some(ro) = &regional_approver {
        plan.push((Approver, ro.clone()));
    }
    let mut offices: Vec<UnitCode> = ["CO-KEN", "CO-BGD", "CO-COL", "CO-SEN", "CO-UKR", "CO-EGY"]
        .iter()
        .filter_map(|c| org.unit(c))
        .filter(|u| u.kind == UnitKind::CountryOffice)
        .map(|u| u.code.clone())
        .collect();
    for u in org.units() {
        if offices.len() >= 6 {
            break;
        }
        if u.kind == UnitKind::CountryOffice && !offices.contains(&u.code) {
            offices.push(u.code.clone());
        }
    }
    for (i, co) in offices.iter().enumerate() {
        plan.push((ProjectDeveloper, co.clone()));
        plan.push((Viewer, co.clone()));
        if i == 0 {
            plan.push((Administrator, co.clone()));
            plan.push((MeOfficer, co.clone()));
        }
    }
    (plan, regional_approver)
}

impl Store {
    /// Loads a demonstration portfolio of about `300 × scale` projects into a database that
    /// has the organization and no projects yet. Deterministic for a given seed (apart from
    /// the identifiers and times of what goes through the real store functions).
    pub async fn load_demo(
        &self,
        org: &Organization,
        countries: &Countries,
        actor: &Actor,
        options: &DemoOptions,
        progress: &mut (dyn FnMut(&str) + Send),
    ) -> Result<DemoReport, StoreError> {
        authorize(org, actor, Action::ReloadOrganization, &org.root().code)?;
        let existing = self.project_count().await?;
        if existing > 0 {
            return Err(StoreError::Conflict(format!(
                "the database already has {existing} projects; the demo loads into a portfolio without projects (use a fresh database)"
            )));
        }
        let mut report = DemoReport::default();

        let rates = demo_rates();
        report.rates = self.put_exchange_rates(org, actor, &rates).await?;
        progress(&format!(
            "exchange rates: {} (from {} to {})",
            report.rates,
            RATE_DATES[0],
            RATE_DATES[RATE_DATES.len() - 1]
        ));

        let (plan, regional_approver) = accounts_plan(org);
        let mut people: Vec<UserActor> = Vec::with_capacity(plan.len());
        for (role, unit) in plan {
            let email = email(role, &unit);
            let (user, password) = match self.find_user_by_email(&email).await? {
                Some(user) => (user, None),
                None => {
                    let created = self
                        .create_user(
                            org,
                            actor,
                            NewUser {
                                email: email.clone(),
                                name: format!("Demo {}, {unit}", words(role)),
                                unit: unit.clone(),
                                roles: vec![role],
                                password: None,
                            },
                        )
                        .await?;
                    (created.user, created.generated_password)
                }
            };
            if let Actor::User(u) = user.actor() {
                people.push(u);
            }
            report.accounts.push(DemoAccount {
                role,
                unit,
                email,
                password,
            });
        }
        progress(&format!("accounts: {}", report.accounts.len()));

        report.delegations = self
            .demo_delegations(org, actor, regional_approver.as_ref())
            .await?;
        progress(&format!("delegations: {}", report.delegations));

        let sub_limit = Decimal::from(2_000_000);
        let world = World::new(
            org,
            countries,
            people,
            self.rate_table().await?,
            regional_approver.map(|u| (u, sub_limit, SUBDELEGATION_FROM)),
        )
        .map_err(|m| StoreError::invalid("organization", m))?;

        let total = PROJECTS_PER_SCALE * options.scale.max(1) as usize;
        let mut rng = DemoRng::new(options.seed);
        // The real path: the first projects of each status, as users would make them.
        let started = Instant::now();
        let mut real_rng = rng.fork();
        if world.has_featured_offices() {
            'real: for status in Status::ALL {
                for _ in 0..options.real_per_status {
                    if report.real_projects >= total {
                        break 'real;
                    }
                    self.real_project(org, &world, &mut real_rng, *status)
                        .await?;
                    report.real_projects += 1;
                    *report.by_status.entry(status.as_str()).or_default() += 1;
                }
            }
        }
        progress(&format!(
            "projects through the store functions: {} in {:.1} s",
            report.real_projects,
            started.elapsed().as_secs_f64()
        ));

        // The rest in bulk.
        let bulk = total - report.real_projects;
        let size = options.batch_size.max(1);
        let batches = bulk.div_ceil(size);
        let started = Instant::now();
        for b in 0..batches {
            let n = size.min(bulk - b * size);
            let mut batch_rng = rng.fork();
            let mut projects = Vec::with_capacity(n);
            for _ in 0..n {
                let status = world.status(&mut batch_rng);
                *report.by_status.entry(status.as_str()).or_default() += 1;
                projects.push(world.project(&mut batch_rng, status, false));
            }
            let batch = DemoBatch {
                label: format!(
                    "demo portfolio, scale {}, seed {}: batch {} of {batches}",
                    options.scale,
                    options.seed,
                    b + 1
                ),
                seed: batch_rng.next_u64(),
                people: world.people.clone(),
                projects,
            };
            let written = self.demo_insert_projects(org, actor, &batch).await?;
            report.bulk.add(&written);
            let elapsed = started.elapsed().as_secs_f64();
            progress(&format!(
                "bulk: batch {}/{batches}, {} projects ({} rows) in {:.1} s",
                b + 1,
                report.bulk.projects,
                report.bulk.rows(),
                elapsed
            ));
        }
        let evaluations = self.demo_evaluations(org, actor, &world.people).await?;
        progress(&format!("evaluations: {evaluations}"));
        self.demo_analyze().await?;
        Ok(report)
    }

    /// Endorsement for every regional office's reviewers, approval at headquarters, and one
    /// sub-delegation of approval to a regional approver. Reuses those already there.
    async fn demo_delegations(
        &self,
        org: &Organization,
        actor: &Actor,
        regional_approver: Option<&UnitCode>,
    ) -> Result<usize, StoreError> {
        let existing = self.list_delegations().await?;
        let mut count = 0;
        let mut ensure = async |authority: &str,
                                role: Role,
                                unit: &UnitCode,
                                limit: &str,
                                currency: &str,
                                from: &str,
                                may_subdelegate: bool,
                                parent: Option<String>|
               -> Result<String, StoreError> {
            count += 1;
            if let Some(d) = existing.iter().find(|d| {
                d.authority == authority
                    && d.role.as_deref() == Some(role.as_str())
                    && d.unit.as_deref() == Some(unit.as_str())
                    && !d.revoked
            }) {
                return Ok(d.id.clone());
            }
            Ok(self
                .create_delegation(
                    org,
                    actor,
                    &DelegationInput {
                        authority: authority.into(),
                        role: Some(role.as_str().into()),
                        unit: Some(unit.to_string()),
                        person: None,
                        limit_amount: limit.into(),
                        limit_currency: currency.into(),
                        valid_from: from.into(),
                        valid_to: None,
                        may_subdelegate,
                        parent,
                    },
                )
                .await?
                .id)
        };
        for ro in org.regional_offices() {
            // One office's limit is set in euros, to show limits in other currencies.
            let (limit, currency) = if ro.code.as_str() == "RO-BRU" {
                ("9000000", "EUR")
            } else {
                ("10000000", "USD")
            };
            ensure(
                "endorse_project",
                Role::RegionalReviewer,
                &ro.code,
                limit,
                currency,
                "2015-01-01",
                false,
                None,
            )
            .await?;
        }
        let hq = org
            .unit("DSPOP-PRIMA")
            .map(|u| u.code.clone())
            .filter(|c| org.scope_of(c) == Scope::Global)
            .unwrap_or_else(|| org.root().code.clone());
        let approve = ensure(
            "approve_project",
            Role::Approver,
            &hq,
            "50000000",
            "USD",
            "2015-01-01",
            true,
            None,
        )
        .await?;
        ensure(
            "approve_revision",
            Role::Approver,
            &hq,
            "20000000",
            "USD",
            "2015-01-01",
            false,
            None,
        )
        .await?;
        if let Some(ro) = regional_approver {
            ensure(
                "approve_project",
                Role::Approver,
                ro,
                "2000000",
                "USD",
                &SUBDELEGATION_FROM.to_string(),
                false,
                Some(approve),
            )
            .await?;
        }
        Ok(count)
    }

    /// One project through the real store functions, as its users would do it.
    async fn real_project(
        &self,
        org: &Organization,
        world: &World,
        rng: &mut DemoRng,
        status: Status,
    ) -> Result<(), StoreError> {
        let p = world.project(rng, status, true);
        let person = |i: usize| Actor::User(world.people[i].clone());
        let input = ProjectInput {
            title: p.title.clone(),
            summary: p.summary.clone(),
            thematic_area: p.thematic_area.clone(),
            unit: p.unit.to_string(),
            primary_country: p.primary_country.to_string(),
            countries: p.countries.iter().map(|c| c.to_string()).collect(),
            admin_areas: p.admin_areas.clone(),
            start_date: p.start.to_string(),
            end_date: p.end.to_string(),
            currency: p.currency.to_string(),
            budget_lines: p
                .lines
                .iter()
                .map(|l| BudgetLineInput {
                    category: l.category.clone(),
                    description: l.description.clone(),
                    currency: l.amount.currency.to_string(),
                    amount: l.amount.amount.to_string(),
                })
                .collect(),
            donors: p.donors.clone(),
            partners: p.partners.clone(),
            restricted: p.restricted,
        };
        let project = self
            .create_project(org, &person(p.drafted_by), &input)
            .await?;
        for step in &p.steps {
            self.transition_project(
                org,
                &person(step.by),
                &project.id,
                step.transition,
                &step.comment,
            )
            .await?;
            if step.transition == Transition::StartReview {
                let mut previous: Option<String> = None;
                for c in &p.comments {
                    let reply_to = if c.reply_to_previous {
                        previous.clone()
                    } else {
                        None
                    };
                    let posted = self
                        .comment_on_project(
                            org,
                            &person(c.by),
                            &project.id,
                            &c.section,
                            &c.body,
                            reply_to.as_deref(),
                        )
                        .await?;
                    previous = Some(posted.id);
                }
            }
        }
        for t in &p.transactions {
            self.add_transaction(
                org,
                &person(t.by),
                &project.id,
                &TransactionInput {
                    kind: t.kind.as_str().into(),
                    date: t.date.to_string(),
                    currency: t.amount.currency.to_string(),
                    amount: t.amount.amount.to_string(),
                    provider: t.provider.clone(),
                    receiver: t.receiver.clone(),
                    description: t.description.clone(),
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// The regional approver's sub-delegation is in force from this day.
const SUBDELEGATION_FROM: time::Date = time::macros::date!(2024 - 01 - 01);
