//! The permission layer: one function, [`authorize`], that every module calls.
//!
//! A decision has two halves. The *role* half: does any of the actor's roles grant the action
//! (the matrix in [`Role::grants`])? The *scope* half: does the target unit lie within the
//! actor's scope — their own office for a country office, their region for a regional office,
//! everything for headquarters? Some actions also need a global scope (headquarters) whatever
//! the target.

use crate::org::{Organization, Scope, UnitCode};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    Viewer,
    ProjectDeveloper,
    RegionalReviewer,
    Approver,
    RbmOfficer,
    MeOfficer,
    RiskOfficer,
    ComplianceOfficer,
    DonorRelationsOfficer,
    PartnershipsOfficer,
    DataOfficer,
}

impl Role {
    pub const ALL: [Role; 12] = [
        Role::Administrator,
        Role::Viewer,
        Role::ProjectDeveloper,
        Role::RegionalReviewer,
        Role::Approver,
        Role::RbmOfficer,
        Role::MeOfficer,
        Role::RiskOfficer,
        Role::ComplianceOfficer,
        Role::DonorRelationsOfficer,
        Role::PartnershipsOfficer,
        Role::DataOfficer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Viewer => "viewer",
            Role::ProjectDeveloper => "project_developer",
            Role::RegionalReviewer => "regional_reviewer",
            Role::Approver => "approver",
            Role::RbmOfficer => "rbm_officer",
            Role::MeOfficer => "me_officer",
            Role::RiskOfficer => "risk_officer",
            Role::ComplianceOfficer => "compliance_officer",
            Role::DonorRelationsOfficer => "donor_relations_officer",
            Role::PartnershipsOfficer => "partnerships_officer",
            Role::DataOfficer => "data_officer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let wanted = raw.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown role {raw:?}; expected one of {}",
                    Self::ALL.map(Role::as_str).join(", ")
                )
            })
    }

    /// The role half of the permission matrix.
    pub fn grants(self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        match action {
            // Anyone signed in, whatever their roles, may see the organization and the
            // projects within their scope.
            ViewOrganization | ViewProjects | ViewEvaluations => true,
            ViewUsers | ManageUsers | ViewAuditTrail | ReloadOrganization | ManageDelegations => {
                self == Administrator
            }
            DraftProject | ManageProject => self == ProjectDeveloper,
            ReviewProject | EndorseProject => self == RegionalReviewer,
            ApproveProject | ApproveRevision => self == Approver,
            ManageExchangeRates => matches!(self, Administrator | DonorRelationsOfficer),
            EditResultsFramework => matches!(self, ProjectDeveloper | MeOfficer),
            ReportResults => matches!(self, ProjectDeveloper | MeOfficer | DataOfficer),
            ApproveResults | LockReportingPeriods => matches!(self, MeOfficer | RbmOfficer),
            ManageStrategicFramework => self == RbmOfficer,
            ManageProgrammes => matches!(self, ProjectDeveloper | MeOfficer | RbmOfficer),
            ViewRestrictedProjectFields => matches!(
                self,
                Administrator
                    | ProjectDeveloper
                    | RegionalReviewer
                    | Approver
                    | DonorRelationsOfficer
            ),
            // M&E officers keep the registry; a head of office (approver) or an M&E officer
            // answers for the unit a recommendation is addressed to.
            ManageEvaluations => self == MeOfficer,
            RespondToEvaluations => matches!(self, MeOfficer | Approver),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an actor wants to do. Each later module adds its own actions here, so the whole
/// permission matrix stays in one place and one test file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    ViewOrganization,
    /// See the user accounts of a unit (its administration pages).
    ViewUsers,
    /// Create, change or disable accounts of a unit, issue their API tokens.
    ManageUsers,
    /// Search the audit trail of records of a unit.
    ViewAuditTrail,
    /// Load a new version of the organization file.
    ReloadOrganization,
    /// See the projects of a unit (summary fields).
    ViewProjects,
    /// See budgets, donors, transactions and documents of restricted projects.
    ViewRestrictedProjectFields,
    /// Create and edit project drafts.
    DraftProject,
    /// Submit, withdraw, send to donor, activate, suspend, close; transactions; revisions.
    ManageProject,
    /// Take a submitted project into review, comment, return, reject.
    ReviewProject,
    /// Endorse a reviewed project (also needs a delegation of authority).
    EndorseProject,
    /// Approve a project (also needs a delegation of authority).
    ApproveProject,
    /// Approve a revision of an active project (also needs a delegation of authority).
    ApproveRevision,
    /// Issue, sub-delegate and revoke delegations of authority.
    ManageDelegations,
    /// Maintain the exchange-rate table.
    ManageExchangeRates,
    /// Edit a project's results matrix: results, indicators, baselines, targets, periods.
    EditResultsFramework,
    /// Enter and submit actual values of indicators.
    ReportResults,
    /// Approve or return submitted values (never one's own).
    ApproveResults,
    /// Lock and unlock reporting periods.
    LockReportingPeriods,
    /// Edit the Strategic Results Framework (headquarters only).
    ManageStrategicFramework,
    /// Create programmes (groups of projects) and choose their members.
    ManageProgrammes,
    /// See the evaluations of a unit, their recommendations, responses and key actions.
    ViewEvaluations,
    /// Register and edit evaluations and their recommendations, attach reports (headquarters
    /// and regional offices).
    ManageEvaluations,
    /// Record management responses and key actions for a unit, and update their progress.
    RespondToEvaluations,
}

impl Action {
    pub const ALL: [Action; 24] = [
        Action::ViewOrganization,
        Action::ViewUsers,
        Action::ManageUsers,
        Action::ViewAuditTrail,
        Action::ReloadOrganization,
        Action::ViewProjects,
        Action::ViewRestrictedProjectFields,
        Action::DraftProject,
        Action::ManageProject,
        Action::ReviewProject,
        Action::EndorseProject,
        Action::ApproveProject,
        Action::ApproveRevision,
        Action::ManageDelegations,
        Action::ManageExchangeRates,
        Action::EditResultsFramework,
        Action::ReportResults,
        Action::ApproveResults,
        Action::LockReportingPeriods,
        Action::ManageStrategicFramework,
        Action::ManageProgrammes,
        Action::ViewEvaluations,
        Action::ManageEvaluations,
        Action::RespondToEvaluations,
    ];

    /// Actions that only headquarters may take, whatever the target.
    fn needs_global_scope(self) -> bool {
        matches!(
            self,
            Action::ReloadOrganization
                | Action::ManageDelegations
                | Action::ManageExchangeRates
                | Action::ManageStrategicFramework
        )
    }

    /// Actions that a country office may not take, even on its own records.
    fn needs_regional_scope(self) -> bool {
        matches!(self, Action::ManageEvaluations)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ViewOrganization => "view the organization",
            Action::ViewUsers => "view user accounts",
            Action::ManageUsers => "manage user accounts",
            Action::ViewAuditTrail => "view the audit trail",
            Action::ReloadOrganization => "reload the organization",
            Action::ViewProjects => "view projects",
            Action::ViewRestrictedProjectFields => "view restricted project fields",
            Action::DraftProject => "draft projects",
            Action::ManageProject => "manage projects",
            Action::ReviewProject => "review projects",
            Action::EndorseProject => "endorse projects",
            Action::ApproveProject => "approve projects",
            Action::ApproveRevision => "approve project revisions",
            Action::ManageDelegations => "manage delegations of authority",
            Action::ManageExchangeRates => "maintain exchange rates",
            Action::EditResultsFramework => "edit results frameworks",
            Action::ReportResults => "report indicator values",
            Action::ApproveResults => "approve indicator values",
            Action::LockReportingPeriods => "lock reporting periods",
            Action::ManageStrategicFramework => "edit the Strategic Results Framework",
            Action::ManageProgrammes => "manage programmes",
            Action::ViewEvaluations => "view evaluations",
            Action::ManageEvaluations => "register and edit evaluations",
            Action::RespondToEvaluations => "record management responses and key actions",
        }
    }
}

/// Who is acting: a signed-in user, or the operator at the command line (who has the machine,
/// and so everything).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    User(UserActor),
    Operator { label: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserActor {
    pub id: String,
    pub email: String,
    pub unit: UnitCode,
    pub roles: Vec<Role>,
}

impl Actor {
    /// The label written into the audit trail.
    pub fn label(&self) -> String {
        match self {
            Actor::User(u) => u.email.clone(),
            Actor::Operator { label } => format!("operator:{label}"),
        }
    }

    pub fn user_id(&self) -> Option<&str> {
        match self {
            Actor::User(u) => Some(&u.id),
            Actor::Operator { .. } => None,
        }
    }

    pub fn scope(&self, org: &Organization) -> Scope {
        match self {
            Actor::User(u) => org.scope_of(&u.unit),
            Actor::Operator { .. } => Scope::Global,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        match self {
            Actor::User(u) => u.roles.contains(&role),
            Actor::Operator { .. } => true,
        }
    }
}

/// Why an action was refused; the message says what would have been needed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("you need one of the roles {needed} to {action}")]
    Role {
        action: &'static str,
        needed: String,
    },
    #[error("{target} is outside your scope ({scope}); you may {action} only within it")]
    Scope {
        action: &'static str,
        target: UnitCode,
        scope: String,
    },
    #[error("only headquarters staff may {action}")]
    HeadquartersOnly { action: &'static str },
    #[error("only headquarters and regional office staff may {action}")]
    RegionalOrHeadquartersOnly { action: &'static str },
    /// A rule of the module refuses it: segregation of duties, delegated authority, …
    #[error("{0}")]
    Rule(String),
}

/// The one permission check: may `actor` take `action` on records of `target`?
pub fn authorize(
    org: &Organization,
    actor: &Actor,
    action: Action,
    target: &UnitCode,
) -> Result<(), Denied> {
    let user = match actor {
        Actor::Operator { .. } => return Ok(()),
        Actor::User(user) => user,
    };
    let open_to_all = matches!(
        action,
        Action::ViewOrganization | Action::ViewProjects | Action::ViewEvaluations
    );
    if !open_to_all && !user.roles.iter().any(|r| r.grants(action)) {
        let needed: Vec<&str> = Role::ALL
            .into_iter()
            .filter(|r| r.grants(action))
            .map(Role::as_str)
            .collect();
        return Err(Denied::Role {
            action: action.as_str(),
            needed: needed.join(", "),
        });
    }
    let scope = org.scope_of(&user.unit);
    if action.needs_global_scope() && scope != Scope::Global {
        return Err(Denied::HeadquartersOnly {
            action: action.as_str(),
        });
    }
    if action.needs_regional_scope() && matches!(scope, Scope::Unit(_)) {
        return Err(Denied::RegionalOrHeadquartersOnly {
            action: action.as_str(),
        });
    }
    if !org.in_scope(&scope, target) {
        return Err(Denied::Scope {
            action: action.as_str(),
            target: target.clone(),
            scope: describe(&scope),
        });
    }
    Ok(())
}

fn describe(scope: &Scope) -> String {
    match scope {
        Scope::Global => "the whole organization".to_owned(),
        Scope::Region(code) => format!("the region of {code}"),
        Scope::Unit(code) => format!("{code}"),
    }
}

#[cfg(test)]
mod tests;
