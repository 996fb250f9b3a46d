//! Evaluations: the registry's vocabularies and rules, and the follow-up chain
//! evaluation → recommendations → management response → key actions.
//!
//! Following UNEG's norms (evaluation use and follow-up) and UNDP's Evaluation Resource Centre:
//! every recommendation of a completed evaluation gets a management response (agree, partially
//! agree, disagree) within [`MANAGEMENT_RESPONSE_DAYS`] of completion, and the responses that
//! accept it carry key actions with an owner, a due date and a status. Whether a key action is
//! *overdue* and whether a response is *late* are derived from dates here, never stored.

use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, Duration};

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident ($what:literal) { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Reads the code; an unknown one is refused, naming the accepted ones.
            pub fn parse(raw: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw.trim()).ok_or_else(|| {
                    format!(
                        "expected {} {}, found {raw:?}",
                        $what,
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

/// How long management has to respond to an evaluation's recommendations, counted from the
/// evaluation's completion (its actual end date). UNDP's evaluation policy asks for a
/// management response within about four weeks.
pub const MANAGEMENT_RESPONSE_DAYS: i64 = 28;

named_enum!(
    /// What is evaluated.
    EvaluationType ("one of") {
        Project = "project",
        Programme = "programme",
        Thematic = "thematic",
        CountryProgramme = "country_programme",
        Strategic = "strategic",
        RealTime = "real_time",
        Meta = "meta",
    }
);

named_enum!(
    /// The OECD DAC evaluation criteria (revised 2019; coherence is the new one).
    Criterion ("criteria among") {
        Relevance = "relevance",
        Coherence = "coherence",
        Effectiveness = "effectiveness",
        Efficiency = "efficiency",
        Impact = "impact",
        Sustainability = "sustainability",
    }
);

named_enum!(
    /// Who conducts it: the organization's own staff, independent evaluators, or jointly
    /// with partners.
    Independence ("one of") {
        Internal = "internal",
        Independent = "independent",
        Joint = "joint",
    }
);

named_enum!(
    /// Where an evaluation is.
    EvaluationStatus ("one of") {
        Planned = "planned",
        Ongoing = "ongoing",
        Completed = "completed",
        Cancelled = "cancelled",
    }
);

named_enum!(
    /// The quality assessment of a completed evaluation's report.
    QualityRating ("one of") {
        HighlySatisfactory = "highly_satisfactory",
        Satisfactory = "satisfactory",
        Unsatisfactory = "unsatisfactory",
        HighlyUnsatisfactory = "highly_unsatisfactory",
    }
);

named_enum!(
    /// How urgent a recommendation is.
    Priority ("one of") {
        High = "high",
        Medium = "medium",
        Low = "low",
    }
);

named_enum!(
    /// Management's answer to a recommendation.
    ResponseKind ("one of") {
        Agree = "agree",
        PartiallyAgree = "partially_agree",
        Disagree = "disagree",
    }
);

named_enum!(
    /// Where a key action is.
    ActionStatus ("one of") {
        NotStarted = "not_started",
        Initiated = "initiated",
        Completed = "completed",
        NoLongerApplicable = "no_longer_applicable",
    }
);

/// The moves between statuses an edit may make (besides keeping the status).
const STATUS_EDGES: &[(EvaluationStatus, EvaluationStatus)] = {
    use EvaluationStatus::*;
    &[
        (Planned, Ongoing),
        (Planned, Cancelled),
        (Ongoing, Completed),
        (Ongoing, Cancelled),
        (Ongoing, Planned),
        (Cancelled, Planned),
    ]
};

impl EvaluationStatus {
    /// The statuses an edit may move to from here, in the table's order.
    pub fn next(self) -> Vec<EvaluationStatus> {
        STATUS_EDGES
            .iter()
            .filter(|(from, _)| *from == self)
            .map(|(_, to)| *to)
            .collect()
    }

    /// Whether an edit may move an evaluation from `self` to `to`; a completed evaluation stays
    /// completed (its recommendations and responses hang on its completion date).
    pub fn may_become(self, to: EvaluationStatus) -> Result<(), String> {
        if self == to || STATUS_EDGES.contains(&(self, to)) {
            return Ok(());
        }
        let next = self.next();
        Err(format!(
            "an evaluation that is {self} cannot become {to}; it may become {}",
            if next.is_empty() {
                format!("nothing else (it is {self})")
            } else {
                next.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ))
    }

    /// Recommendations come from the (draft or final) report.
    pub fn takes_recommendations(self) -> bool {
        matches!(
            self,
            EvaluationStatus::Ongoing | EvaluationStatus::Completed
        )
    }
}

impl ResponseKind {
    /// Key actions follow an accepted (wholly or partly) recommendation.
    pub fn takes_actions(self) -> bool {
        !matches!(self, ResponseKind::Disagree)
    }
}

impl ActionStatus {
    /// Still to be done: not started or initiated.
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::NotStarted | ActionStatus::Initiated)
    }
}

/// A key action is overdue when its due date has passed and it is still open (neither
/// completed nor no longer applicable).
pub fn is_overdue(due: Date, status: ActionStatus, today: Date) -> bool {
    status.is_open() && due < today
}

/// The day by which management should have responded to an evaluation completed on `completed`.
pub fn response_due(completed: Date) -> Date {
    completed.saturating_add(Duration::days(MANAGEMENT_RESPONSE_DAYS))
}

/// Whether a management response is late: given after its due day, or still missing after it.
/// Evaluations that are not completed (no `completed` date) have no due day yet.
pub fn response_is_late(completed: Option<Date>, responded: Option<Date>, today: Date) -> bool {
    let Some(completed) = completed else {
        return false;
    };
    let due = response_due(completed);
    match responded {
        Some(on) => on > due,
        None => today > due,
    }
}

/// An evaluation's dates, status and rating, as typed, to be checked together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub status: EvaluationStatus,
    pub planned_start: Date,
    pub planned_end: Date,
    pub actual_start: Option<Date>,
    pub actual_end: Option<Date>,
    pub quality: Option<QualityRating>,
}

/// What is wrong with a schedule: the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ScheduleError {
    pub field: &'static str,
    pub message: String,
}

fn wrong(field: &'static str, message: impl Into<String>) -> ScheduleError {
    ScheduleError {
        field,
        message: message.into(),
    }
}

impl Schedule {
    /// The rules that tie dates, status and rating together: ends after starts; an ongoing
    /// evaluation has started; a completed one has started and ended, not in the future; a
    /// planned one has no actual dates; only a completed evaluation is rated.
    pub fn check(&self, today: Date) -> Result<(), ScheduleError> {
        use EvaluationStatus::*;
        if self.planned_end < self.planned_start {
            return Err(wrong(
                "planned_end",
                format!(
                    "the planned end ({}) is before the planned start ({})",
                    self.planned_end, self.planned_start
                ),
            ));
        }
        if let (Some(start), Some(end)) = (self.actual_start, self.actual_end)
            && end < start
        {
            return Err(wrong(
                "actual_end",
                format!("the actual end ({end}) is before the actual start ({start})"),
            ));
        }
        match self.status {
            Planned => {
                if self.actual_start.is_some() || self.actual_end.is_some() {
                    let field = if self.actual_start.is_some() {
                        "actual_start"
                    } else {
                        "actual_end"
                    };
                    return Err(wrong(
                        field,
                        "a planned evaluation has no actual dates yet; set the status to ongoing or completed",
                    ));
                }
            }
            Ongoing => {
                if self.actual_start.is_none() {
                    return Err(wrong(
                        "actual_start",
                        "an ongoing evaluation has started: give the actual start date",
                    ));
                }
                if self.actual_end.is_some() {
                    return Err(wrong(
                        "actual_end",
                        "an ongoing evaluation has not ended; set the status to completed",
                    ));
                }
            }
            Completed => {
                if self.actual_start.is_none() {
                    return Err(wrong(
                        "actual_start",
                        "a completed evaluation has an actual start date",
                    ));
                }
                match self.actual_end {
                    None => {
                        return Err(wrong(
                            "actual_end",
                            "a completed evaluation has an actual end date (its completion, from which the management response is due)",
                        ));
                    }
                    Some(end) if end > today => {
                        return Err(wrong(
                            "actual_end",
                            format!(
                                "a completed evaluation ended on or before today ({today}), found {end}"
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
            Cancelled => {}
        }
        if self.quality.is_some() && self.status != Completed {
            return Err(wrong(
                "quality_rating",
                "only a completed evaluation is rated",
            ));
        }
        Ok(())
    }

    /// The completion date of a completed evaluation.
    pub fn completed_on(&self) -> Option<Date> {
        (self.status == EvaluationStatus::Completed)
            .then_some(self.actual_end)
            .flatten()
    }
}

/// Reads a list of criteria, refusing unknown ones; duplicates are dropped, the DAC order kept.
pub fn parse_criteria(raw: &[String]) -> Result<Vec<Criterion>, String> {
    let mut out = Vec::new();
    for c in raw.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        let criterion = Criterion::parse(c)?;
        if !out.contains(&criterion) {
            out.push(criterion);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 06 - 15);

    fn schedule(status: EvaluationStatus) -> Schedule {
        Schedule {
            status,
            planned_start: date!(2026 - 01 - 01),
            planned_end: date!(2026 - 04 - 30),
            actual_start: None,
            actual_end: None,
            quality: None,
        }
    }

    #[test]
    fn an_action_is_overdue_only_while_open_and_past_its_due_date() {
        let due = date!(2026 - 06 - 14);
        assert!(is_overdue(due, ActionStatus::NotStarted, TODAY));
        assert!(is_overdue(due, ActionStatus::Initiated, TODAY));
        assert!(!is_overdue(due, ActionStatus::Completed, TODAY));
        assert!(!is_overdue(due, ActionStatus::NoLongerApplicable, TODAY));
        // Due today is not yet overdue.
        assert!(!is_overdue(TODAY, ActionStatus::NotStarted, TODAY));
    }

    #[test]
    fn a_response_is_due_four_weeks_after_completion_and_late_after_that() {
        let completed = date!(2026 - 05 - 01);
        assert_eq!(response_due(completed), date!(2026 - 05 - 29));
        // Given in time, given late, still missing after the due day, or not yet due.
        assert!(!response_is_late(
            Some(completed),
            Some(date!(2026 - 05 - 29)),
            TODAY
        ));
        assert!(response_is_late(
            Some(completed),
            Some(date!(2026 - 05 - 30)),
            TODAY
        ));
        assert!(response_is_late(Some(completed), None, TODAY));
        assert!(!response_is_late(Some(date!(2026 - 06 - 01)), None, TODAY));
        assert!(!response_is_late(None, None, TODAY));
    }

    #[test]
    fn the_schedule_ties_status_dates_and_rating_together() {
        use EvaluationStatus::*;
        assert_eq!(schedule(Planned).check(TODAY), Ok(()));
        let mut s = schedule(Planned);
        s.planned_end = date!(2025 - 12 - 31);
        assert_eq!(s.check(TODAY).unwrap_err().field, "planned_end");

        let mut s = schedule(Ongoing);
        assert_eq!(s.check(TODAY).unwrap_err().field, "actual_start");
        s.actual_start = Some(date!(2026 - 01 - 10));
        assert_eq!(s.check(TODAY), Ok(()));

        let mut s = schedule(Completed);
        s.actual_start = Some(date!(2026 - 01 - 10));
        let e = s.check(TODAY).unwrap_err();
        assert_eq!(e.field, "actual_end");
        assert!(e.message.contains("management response"), "{e}");
        s.actual_end = Some(date!(2026 - 01 - 09));
        assert_eq!(s.check(TODAY).unwrap_err().field, "actual_end");
        s.actual_end = Some(date!(2026 - 07 - 01));
        assert!(s.check(TODAY).unwrap_err().message.contains("today"));
        s.actual_end = Some(date!(2026 - 05 - 20));
        s.quality = Some(QualityRating::Satisfactory);
        assert_eq!(s.check(TODAY), Ok(()));
        assert_eq!(s.completed_on(), Some(date!(2026 - 05 - 20)));

        let mut s = schedule(Planned);
        s.quality = Some(QualityRating::Satisfactory);
        assert_eq!(s.check(TODAY).unwrap_err().field, "quality_rating");
        let mut s = schedule(Planned);
        s.actual_end = Some(date!(2026 - 05 - 20));
        assert_eq!(s.check(TODAY).unwrap_err().field, "actual_end");
        assert_eq!(schedule(Cancelled).check(TODAY), Ok(()));
        assert_eq!(schedule(Ongoing).completed_on(), None);
    }

    #[test]
    fn status_edits_follow_the_table_and_completion_is_final() {
        use EvaluationStatus::*;
        assert!(Planned.may_become(Ongoing).is_ok());
        assert!(Ongoing.may_become(Completed).is_ok());
        assert!(Completed.may_become(Completed).is_ok());
        let e = Planned.may_become(Completed).unwrap_err();
        assert_eq!(
            e,
            "an evaluation that is planned cannot become completed; it may become ongoing, cancelled"
        );
        assert!(
            Completed
                .may_become(Ongoing)
                .unwrap_err()
                .contains("nothing else")
        );
        assert!(!Planned.takes_recommendations() && Completed.takes_recommendations());
    }

    #[test]
    fn codes_parse_and_unknown_ones_name_the_choices() {
        assert_eq!(
            EvaluationType::parse("country_programme"),
            Ok(EvaluationType::CountryProgramme)
        );
        let e = ResponseKind::parse("maybe").unwrap_err();
        assert_eq!(
            e,
            "expected one of agree, partially_agree, disagree, found \"maybe\""
        );
        assert_eq!(
            parse_criteria(&[
                "sustainability".into(),
                " relevance".into(),
                "relevance".into(),
                "".into()
            ]),
            Ok(vec![Criterion::Relevance, Criterion::Sustainability])
        );
        assert!(
            parse_criteria(&["beauty".into()])
                .unwrap_err()
                .contains("coherence")
        );
        assert!(!ResponseKind::Disagree.takes_actions());
        assert!(ResponseKind::PartiallyAgree.takes_actions());
    }
}
