//! Delegation of authority, as data: who may endorse or approve projects, up to what amount and
//! when, through a chain of sub-delegations that ends at the head of the organization.
//!
//! Authority is delegated to a position (a role in a unit) or to a person, with a limit in a
//! currency and a period of validity. A delegation may be sub-delegated only where it says so,
//! and a sub-delegation only narrows its parent. A decision is allowed when the decider holds a
//! delegation whose whole chain is in force on the decision date and covers the amount; the
//! chain is kept with the decision. Segregation of duties is checked here too: whoever drafted
//! or submitted a project may not decide on it.

use super::money::{Money, RateTable, iso_date};
use crate::authz::{Role, UserActor};
use crate::org::{Organization, UnitCode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use time::Date;

/// What may be delegated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authority {
    EndorseProject,
    ApproveProject,
    ApproveRevision,
}

impl Authority {
    pub const ALL: [Authority; 3] = [
        Authority::EndorseProject,
        Authority::ApproveProject,
        Authority::ApproveRevision,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Authority::EndorseProject => "endorse_project",
            Authority::ApproveProject => "approve_project",
            Authority::ApproveRevision => "approve_revision",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let wanted = raw.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown authority {raw:?}; expected one of {}",
                    Self::ALL.map(Authority::as_str).join(", ")
                )
            })
    }

    /// What the authority allows, in words: "endorse projects".
    pub fn describe(self) -> &'static str {
        match self {
            Authority::EndorseProject => "endorse projects",
            Authority::ApproveProject => "approve projects",
            Authority::ApproveRevision => "approve project revisions",
        }
    }

    /// What the amount of a decision is the amount of.
    fn subject(self) -> &'static str {
        match self {
            Authority::EndorseProject | Authority::ApproveProject => "this project",
            Authority::ApproveRevision => "this revision",
        }
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who holds a delegation: a position (a role in a unit, whoever holds it) or a named person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delegatee {
    Role { role: Role, unit: UnitCode },
    Person { user_id: String },
}

impl Delegatee {
    /// A person's delegation applies to that person. A position's applies to whoever holds the
    /// role in that unit (or a unit below it), for projects within the unit's scope: a
    /// regional office's scope is its region, a headquarters unit's is the whole organization.
    /// The holder must sit in the unit itself: an approver in a country office does not hold
    /// a delegation issued to approvers of a headquarters unit. A unit the organization no
    /// longer has gives no authority.
    pub fn applies_to(
        &self,
        actor: &UserActor,
        project_unit: &UnitCode,
        org: &Organization,
    ) -> bool {
        match self {
            Delegatee::Person { user_id } => *user_id == actor.id,
            Delegatee::Role { role, unit } => {
                if !actor.roles.contains(role) || org.unit(unit.as_str()).is_none() {
                    return false;
                }
                let holds_position = org.ancestors(&actor.unit).any(|u| &u.code == unit);
                holds_position && org.in_scope(&org.scope_of(unit), project_unit)
            }
        }
    }
}

/// `regional_reviewer at RO-NBO`, or `person <user id>`.
impl fmt::Display for Delegatee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Delegatee::Role { role, unit } => write!(f, "{role} at {unit}"),
            Delegatee::Person { user_id } => write!(f, "person {user_id}"),
        }
    }
}

/// One delegation of authority, as issued (and perhaps later revoked; never deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    pub id: String,
    pub authority: Authority,
    pub delegatee: Delegatee,
    /// The largest amount this delegation covers, in its own currency.
    pub limit: Money,
    /// First day in force.
    #[serde(with = "iso_date")]
    pub valid_from: Date,
    /// Last day in force; none for open-ended.
    #[serde(with = "iso_date::option", default)]
    pub valid_to: Option<Date>,
    pub may_subdelegate: bool,
    /// The delegation this one was sub-delegated from; none when issued by the head of the
    /// organization.
    pub parent: Option<String>,
    pub revoked: bool,
}

/// A decision someone wants to take.
#[derive(Debug, Clone, Copy)]
pub struct DecisionRequest<'a> {
    pub authority: Authority,
    pub actor: &'a UserActor,
    /// The office that owns the project.
    pub project_unit: &'a UnitCode,
    /// The amount of the project (or revision).
    pub amount: &'a Money,
    pub on: Date,
}

/// The delegations that allow a decision, from the one the decider holds up to the one the
/// head of the organization issued. Kept with the decision, for audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chain {
    pub links: Vec<ChainLink>,
}

impl Chain {
    /// The decider's own delegation.
    pub fn holder(&self) -> &ChainLink {
        &self.links[0]
    }

    /// The delegation issued by the head of the organization.
    pub fn root(&self) -> &ChainLink {
        &self.links[self.links.len() - 1]
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainLink {
    pub delegation_id: String,
    /// `regional_reviewer at RO-NBO` or `person <user id>`.
    pub delegatee: String,
    pub limit: Money,
    /// The limit in US dollars at the decision date's rates, unrounded.
    pub limit_usd: Decimal,
}

/// Finds the chain of delegations that allows `request`, or says why none does.
///
/// A delegation counts when it is for the request's authority and applies to the actor
/// ([`Delegatee::applies_to`]). Its chain is valid when every link is in force on the decision
/// date (not revoked, within its validity, both days inclusive) and covers the amount in US
/// dollars at that date's rates, every parent exists, delegates the same authority and may be
/// sub-delegated, and the chain ends at a delegation issued by the head of the organization.
/// Of the valid chains, the one whose first link has the smallest sufficient limit is used
/// (then the smallest id). Otherwise the refusal explains the closest chain.
pub fn find_chain(
    delegations: &[Delegation],
    request: &DecisionRequest,
    org: &Organization,
    rates: &RateTable,
) -> Result<Chain, DelegationRefusal> {
    let mut by_id: HashMap<&str, &Delegation> = HashMap::with_capacity(delegations.len());
    for d in delegations {
        by_id.entry(d.id.as_str()).or_insert(d);
    }
    let mut candidates: Vec<&Delegation> = delegations
        .iter()
        .filter(|d| d.authority == request.authority)
        .filter(|d| {
            d.delegatee
                .applies_to(request.actor, request.project_unit, org)
        })
        .collect();
    if candidates.is_empty() {
        return Err(DelegationRefusal::NotDelegated {
            authority: request.authority,
        });
    }
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    let amount_usd = rates.to_usd(request.amount, request.on)?;

    let mut best: Option<Chain> = None;
    let mut closest: Option<((usize, u8), DelegationRefusal)> = None;
    for candidate in candidates {
        match walk(candidate, &by_id, request, amount_usd, rates) {
            Ok(chain) => {
                let smaller = best
                    .as_ref()
                    .is_none_or(|b| chain.holder().limit_usd < b.holder().limit_usd);
                if smaller {
                    best = Some(chain);
                }
            }
            Err(problems) => {
                let worst = problems.iter().map(|p| p.distance()).max().unwrap_or(0);
                let key = (problems.len(), worst);
                let first = problems
                    .into_iter()
                    .next()
                    .expect("a failed chain has a problem");
                if closest.as_ref().is_none_or(|(k, _)| key < *k) {
                    closest = Some((key, first));
                }
            }
        }
    }
    match (best, closest) {
        (Some(chain), _) => Ok(chain),
        (None, Some((_, refusal))) => Err(refusal),
        (None, None) => unreachable!("there was at least one candidate"),
    }
}

/// Follows `holder` up to the root. Returns the chain, or every problem found on the way (the
/// walk stops where the chain is broken: a missing parent, a cycle, another authority).
fn walk(
    holder: &Delegation,
    by_id: &HashMap<&str, &Delegation>,
    request: &DecisionRequest,
    amount_usd: Decimal,
    rates: &RateTable,
) -> Result<Chain, Vec<DelegationRefusal>> {
    let on = request.on;
    let mut problems = Vec::new();
    let mut links = Vec::new();
    let mut seen = HashSet::new();
    let mut current = holder;
    loop {
        seen.insert(current.id.as_str());
        let via = (current.id != holder.id).then(|| holder.id.clone());
        let delegation = current.id.clone();
        if current.revoked {
            problems.push(DelegationRefusal::Revoked {
                delegation: delegation.clone(),
                via: via.clone(),
            });
        }
        if on < current.valid_from {
            problems.push(DelegationRefusal::NotYetValid {
                delegation: delegation.clone(),
                via: via.clone(),
                valid_from: current.valid_from,
            });
        }
        if let Some(valid_to) = current.valid_to.filter(|&to| to < on) {
            problems.push(DelegationRefusal::Expired {
                delegation: delegation.clone(),
                via: via.clone(),
                valid_to,
            });
        }
        match rates.to_usd(&current.limit, on) {
            Err(missing) => problems.push(missing.into()),
            Ok(limit_usd) if limit_usd < amount_usd => {
                problems.push(DelegationRefusal::LimitTooLow(Box::new(LimitTooLow {
                    delegation: delegation.clone(),
                    via: via.clone(),
                    authority: request.authority,
                    limit: current.limit,
                    limit_usd,
                    amount: *request.amount,
                    amount_usd,
                })))
            }
            Ok(limit_usd) => links.push(ChainLink {
                delegation_id: delegation.clone(),
                delegatee: current.delegatee.to_string(),
                limit: current.limit,
                limit_usd,
            }),
        }

        let Some(parent_id) = &current.parent else {
            break;
        };
        let Some(&parent) = by_id.get(parent_id.as_str()) else {
            problems.push(DelegationRefusal::UnknownParent {
                child: delegation,
                parent: parent_id.clone(),
                via,
            });
            break;
        };
        if seen.contains(parent.id.as_str()) {
            problems.push(DelegationRefusal::Cycle {
                delegation: parent.id.clone(),
                via: (parent.id != holder.id).then(|| holder.id.clone()),
            });
            break;
        }
        if parent.authority != current.authority {
            problems.push(DelegationRefusal::AuthorityMismatch {
                child: delegation,
                parent: parent.id.clone(),
                authority: current.authority,
                parent_authority: parent.authority,
                via,
            });
            break;
        }
        if !parent.may_subdelegate {
            problems.push(DelegationRefusal::NotSubdelegable {
                child: delegation,
                parent: parent.id.clone(),
                via,
            });
        }
        current = parent;
    }
    if problems.is_empty() {
        Ok(Chain { links })
    } else {
        Err(problems)
    }
}

/// Checks that `child` may be sub-delegated from `parent`: a sub-delegation only narrows. It
/// keeps the authority, comes from a delegation that is not revoked and may be sub-delegated,
/// allows no more (compared in US dollars at the rates of the child's first day) and lies
/// within the parent's validity.
pub fn check_subdelegation(
    parent: &Delegation,
    child: &Delegation,
    rates: &RateTable,
) -> Result<(), DelegationRefusal> {
    if child.parent.as_deref() != Some(parent.id.as_str()) {
        return Err(DelegationRefusal::NotItsParent {
            child: child.id.clone(),
            parent: parent.id.clone(),
        });
    }
    if child.authority != parent.authority {
        return Err(DelegationRefusal::OtherAuthority {
            child: child.id.clone(),
            parent: parent.id.clone(),
            authority: child.authority,
            parent_authority: parent.authority,
        });
    }
    if parent.revoked {
        return Err(DelegationRefusal::Revoked {
            delegation: parent.id.clone(),
            via: None,
        });
    }
    if !parent.may_subdelegate {
        return Err(DelegationRefusal::ParentNotSubdelegable {
            parent: parent.id.clone(),
        });
    }
    if child.valid_from < parent.valid_from {
        return Err(DelegationRefusal::StartsBeforeParent {
            child: child.id.clone(),
            parent: parent.id.clone(),
            valid_from: child.valid_from,
            parent_valid_from: parent.valid_from,
        });
    }
    if let Some(parent_valid_to) = parent.valid_to
        && child.valid_to.is_none_or(|to| to > parent_valid_to)
    {
        return Err(DelegationRefusal::EndsAfterParent {
            child: child.id.clone(),
            parent: parent.id.clone(),
            valid_to: child.valid_to,
            parent_valid_to,
        });
    }
    let on = child.valid_from;
    let limit_usd = rates.to_usd(&child.limit, on)?;
    let parent_limit_usd = rates.to_usd(&parent.limit, on)?;
    if limit_usd > parent_limit_usd {
        return Err(DelegationRefusal::AboveParentLimit(Box::new(
            AboveParentLimit {
                child: child.id.clone(),
                parent: parent.id.clone(),
                limit: child.limit,
                limit_usd,
                parent_limit: parent.limit,
                parent_limit_usd,
                on,
            },
        )));
    }
    Ok(())
}

/// Whoever drafted or submitted a project may not endorse or approve it.
pub fn segregation_of_duties(
    actor_id: &str,
    drafted_by: &str,
    submitted_by: Option<&str>,
) -> Result<(), DelegationRefusal> {
    if actor_id == drafted_by {
        return Err(DelegationRefusal::DraftedByYou);
    }
    if submitted_by == Some(actor_id) {
        return Err(DelegationRefusal::SubmittedByYou);
    }
    Ok(())
}

mod refusal;
pub use refusal::{AboveParentLimit, DelegationRefusal, LimitTooLow};

#[cfg(test)]
mod tests;
