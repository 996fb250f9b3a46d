//! The project lifecycle as a checked state machine, and the lifecycle of a revision.
//!
//! ```text
//! draft ─submit→ submitted ─start_review→ under_review ─endorse→ endorsed ─submit_to_donor→
//!   submitted_to_donor ─approve→ approved ─activate→ active ─close_operationally→
//!   operationally_closed ─close_financially→ financially_closed
//! under_review ─return→ returned_for_revision ─resubmit→ under_review
//! under_review | submitted_to_donor ─reject→ rejected
//! draft | submitted | returned_for_revision | endorsed | submitted_to_donor ─withdraw→ withdrawn
//! active ─suspend→ suspended ─resume→ active
//! ```

use crate::authz::Action;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw.trim()).ok_or_else(|| {
                    format!(
                        "unknown {} {raw:?}; expected one of {}",
                        stringify!($name).to_lowercase(),
                        Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    )
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

named_enum!(
    /// Where a project is in its life.
    Status {
        Draft = "draft",
        Submitted = "submitted",
        UnderReview = "under_review",
        ReturnedForRevision = "returned_for_revision",
        Endorsed = "endorsed",
        SubmittedToDonor = "submitted_to_donor",
        Approved = "approved",
        Active = "active",
        Suspended = "suspended",
        OperationallyClosed = "operationally_closed",
        FinanciallyClosed = "financially_closed",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
    }
);

named_enum!(
    /// What someone does to a project's status.
    Transition {
        Submit = "submit",
        StartReview = "start_review",
        Return = "return",
        Resubmit = "resubmit",
        Endorse = "endorse",
        SubmitToDonor = "submit_to_donor",
        Approve = "approve",
        Activate = "activate",
        Suspend = "suspend",
        Resume = "resume",
        CloseOperationally = "close_operationally",
        CloseFinancially = "close_financially",
        Reject = "reject",
        Withdraw = "withdraw",
    }
);

/// A transition that the state machine does not allow from where the project is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a project that is {from}; allowed now: {}", allowed_text(.allowed))]
pub struct IllegalTransition {
    pub from: Status,
    pub action: Transition,
    pub allowed: Vec<Transition>,
}

fn allowed_text(allowed: &[Transition]) -> String {
    if allowed.is_empty() {
        "nothing (the project is closed)".to_owned()
    } else {
        allowed
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The one table of the lifecycle.
const EDGES: &[(Status, Transition, Status)] = {
    use Status::*;
    use Transition::*;
    &[
        (Draft, Submit, Submitted),
        (Draft, Withdraw, Withdrawn),
        (Submitted, StartReview, UnderReview),
        (Submitted, Withdraw, Withdrawn),
        (UnderReview, Return, ReturnedForRevision),
        (UnderReview, Endorse, Endorsed),
        (UnderReview, Reject, Rejected),
        (ReturnedForRevision, Resubmit, UnderReview),
        (ReturnedForRevision, Withdraw, Withdrawn),
        (Endorsed, SubmitToDonor, SubmittedToDonor),
        (Endorsed, Withdraw, Withdrawn),
        (SubmittedToDonor, Approve, Approved),
        (SubmittedToDonor, Reject, Rejected),
        (SubmittedToDonor, Withdraw, Withdrawn),
        (Approved, Activate, Active),
        (Active, Suspend, Suspended),
        (Suspended, Resume, Active),
        (Active, CloseOperationally, OperationallyClosed),
        (OperationallyClosed, CloseFinancially, FinanciallyClosed),
    ]
};

impl Status {
    /// The transitions allowed from here, in the table's order.
    pub fn allowed(self) -> Vec<Transition> {
        EDGES
            .iter()
            .filter(|(from, _, _)| *from == self)
            .map(|(_, t, _)| *t)
            .collect()
    }

    pub fn apply(self, action: Transition) -> Result<Status, IllegalTransition> {
        EDGES
            .iter()
            .find(|(from, t, _)| *from == self && *t == action)
            .map(|(_, _, to)| *to)
            .ok_or_else(|| IllegalTransition {
                from: self,
                action,
                allowed: self.allowed(),
            })
    }

    /// Content (title, budget, …) may be edited only before review or when returned.
    pub fn is_editable(self) -> bool {
        matches!(self, Status::Draft | Status::ReturnedForRevision)
    }

    /// Waiting for the regional office.
    pub fn awaits_review(self) -> bool {
        matches!(self, Status::Submitted | Status::UnderReview)
    }

    /// Revisions are requested only for a running project.
    pub fn accepts_revisions(self) -> bool {
        matches!(self, Status::Active | Status::Suspended)
    }

    /// The pipeline order used for the portfolio's stage chart.
    pub fn stage(self) -> usize {
        Status::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

impl Transition {
    /// The permission each transition needs (checked in the project's office scope).
    pub fn action(self) -> Action {
        use Transition::*;
        match self {
            Submit | Resubmit | Withdraw | SubmitToDonor | Activate | Suspend | Resume
            | CloseOperationally | CloseFinancially => Action::ManageProject,
            StartReview | Return => Action::ReviewProject,
            Endorse => Action::EndorseProject,
            Approve => Action::ApproveProject,
            // Rejecting is the reviewer's at review and the approver's at the donor stage;
            // the store decides which from the status.
            Reject => Action::ReviewProject,
        }
    }

    /// Decisions that need a delegation of authority covering the amount, and that the drafter
    /// or submitter may never take (segregation of duties).
    pub fn is_decision(self) -> bool {
        matches!(self, Transition::Endorse | Transition::Approve)
    }
}

named_enum!(
    /// Kinds of revision of an active project.
    RevisionKind {
        BudgetRevision = "budget_revision",
        NoCostExtension = "no_cost_extension",
        ScopeChange = "scope_change",
    }
);

named_enum!(
    RevisionStatus {
        Draft = "draft",
        Submitted = "submitted",
        Returned = "returned",
        Approved = "approved",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
    }
);

named_enum!(
    RevisionTransition {
        Submit = "submit",
        Return = "return",
        Resubmit = "resubmit",
        Approve = "approve",
        Reject = "reject",
        Withdraw = "withdraw",
    }
);

const REVISION_EDGES: &[(RevisionStatus, RevisionTransition, RevisionStatus)] = {
    use RevisionStatus::*;
    use RevisionTransition::*;
    &[
        (Draft, Submit, Submitted),
        (Draft, Withdraw, Withdrawn),
        (Submitted, Return, Returned),
        (Submitted, Approve, Approved),
        (Submitted, Reject, Rejected),
        (Returned, Resubmit, Submitted),
        (Returned, Withdraw, Withdrawn),
    ]
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a revision that is {from}; allowed now: {}", revision_allowed_text(.allowed))]
pub struct IllegalRevisionTransition {
    pub from: RevisionStatus,
    pub action: RevisionTransition,
    pub allowed: Vec<RevisionTransition>,
}

fn revision_allowed_text(allowed: &[RevisionTransition]) -> String {
    if allowed.is_empty() {
        "nothing (the revision is decided)".to_owned()
    } else {
        allowed
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl RevisionStatus {
    pub fn allowed(self) -> Vec<RevisionTransition> {
        REVISION_EDGES
            .iter()
            .filter(|(from, _, _)| *from == self)
            .map(|(_, t, _)| *t)
            .collect()
    }

    pub fn apply(
        self,
        action: RevisionTransition,
    ) -> Result<RevisionStatus, IllegalRevisionTransition> {
        REVISION_EDGES
            .iter()
            .find(|(from, t, _)| *from == self && *t == action)
            .map(|(_, _, to)| *to)
            .ok_or_else(|| IllegalRevisionTransition {
                from: self,
                action,
                allowed: self.allowed(),
            })
    }

    pub fn is_editable(self) -> bool {
        matches!(self, RevisionStatus::Draft | RevisionStatus::Returned)
    }
}

impl RevisionTransition {
    pub fn action(self) -> Action {
        match self {
            RevisionTransition::Submit
            | RevisionTransition::Resubmit
            | RevisionTransition::Withdraw => Action::ManageProject,
            RevisionTransition::Return | RevisionTransition::Reject => Action::ReviewProject,
            RevisionTransition::Approve => Action::ApproveRevision,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_runs_from_draft_to_financial_closure() {
        use Transition::*;
        let mut status = Status::Draft;
        for t in [
            Submit,
            StartReview,
            Return,
            Resubmit,
            Endorse,
            SubmitToDonor,
            Approve,
            Activate,
            Suspend,
            Resume,
            CloseOperationally,
            CloseFinancially,
        ] {
            status = status.apply(t).unwrap();
        }
        assert_eq!(status, Status::FinanciallyClosed);
        assert!(status.allowed().is_empty());
    }

    #[test]
    fn an_illegal_transition_names_what_is_allowed() {
        let e = Status::Draft.apply(Transition::Approve).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot approve a project that is draft; allowed now: submit, withdraw"
        );
        let e = Status::Rejected.apply(Transition::Resubmit).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot resubmit a project that is rejected; allowed now: nothing (the project is closed)"
        );
    }

    #[test]
    fn every_status_is_reachable_from_draft_and_every_edge_is_unique() {
        let mut seen = vec![Status::Draft];
        let mut frontier = vec![Status::Draft];
        while let Some(s) = frontier.pop() {
            for t in s.allowed() {
                let next = s.apply(t).unwrap();
                if !seen.contains(&next) {
                    seen.push(next);
                    frontier.push(next);
                }
            }
        }
        assert_eq!(seen.len(), Status::ALL.len());
        for (i, a) in EDGES.iter().enumerate() {
            for b in &EDGES[i + 1..] {
                assert!(!(a.0 == b.0 && a.1 == b.1), "{a:?} twice");
            }
        }
    }

    #[test]
    fn only_decisions_need_delegated_authority() {
        let decisions: Vec<Transition> = Transition::ALL
            .iter()
            .copied()
            .filter(|t| t.is_decision())
            .collect();
        assert_eq!(decisions, [Transition::Endorse, Transition::Approve]);
    }

    #[test]
    fn revisions_are_returned_resubmitted_and_decided() {
        use RevisionTransition::*;
        let s = RevisionStatus::Draft
            .apply(Submit)
            .unwrap()
            .apply(Return)
            .unwrap()
            .apply(Resubmit)
            .unwrap();
        assert_eq!(s.apply(Approve).unwrap(), RevisionStatus::Approved);
        assert!(
            RevisionStatus::Approved
                .apply(Reject)
                .unwrap_err()
                .to_string()
                .contains("decided")
        );
        assert!(Status::Active.accepts_revisions() && !Status::Draft.accepts_revisions());
    }

    #[test]
    fn names_parse_back() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Ok(*s));
        }
        assert!(
            Transition::parse("teleport")
                .unwrap_err()
                .contains("submit_to_donor")
        );
    }
}
