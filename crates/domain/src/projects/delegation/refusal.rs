//! Why a decision or a sub-delegation is refused, in words the person can act on.

use super::Authority;
use crate::projects::money::{MissingRate, Money, format_usd};
use rust_decimal::Decimal;
use time::Date;

/// Why a decision or a sub-delegation is refused, in words the person can act on. Where the
/// problem lies in a delegation above the decider's own, `via` names the decider's delegation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelegationRefusal {
    #[error("no delegation of authority to {} covers you", .authority.describe())]
    NotDelegated { authority: Authority },
    #[error("{}", limit_message(.0))]
    LimitTooLow(Box<LimitTooLow>),
    #[error("delegation {delegation} expired on {valid_to}{}", derived(.via))]
    Expired {
        delegation: String,
        via: Option<String>,
        valid_to: Date,
    },
    #[error("delegation {delegation} starts on {valid_from}{}", derived(.via))]
    NotYetValid {
        delegation: String,
        via: Option<String>,
        valid_from: Date,
    },
    #[error("delegation {delegation} was revoked{}", derived(.via))]
    Revoked {
        delegation: String,
        via: Option<String>,
    },
    #[error(
        "delegation {child} was sub-delegated from {parent}, which may not be sub-delegated{}",
        derived(.via)
    )]
    NotSubdelegable {
        child: String,
        parent: String,
        via: Option<String>,
    },
    #[error(
        "delegation {child} was sub-delegated from {parent}, which does not exist{}",
        derived(.via)
    )]
    UnknownParent {
        child: String,
        parent: String,
        via: Option<String>,
    },
    #[error(
        "delegation {child} was sub-delegated from {parent}, which delegates the authority to \
         {}, not to {}{}",
        .parent_authority.describe(), .authority.describe(), derived(.via)
    )]
    AuthorityMismatch {
        child: String,
        parent: String,
        authority: Authority,
        parent_authority: Authority,
        via: Option<String>,
    },
    #[error(
        "delegation {delegation} leads back to itself through its parents and never reaches \
         the head of the organization{}",
        derived(.via)
    )]
    Cycle {
        delegation: String,
        via: Option<String>,
    },
    #[error(transparent)]
    NoRate(#[from] MissingRate),

    // Creating a sub-delegation.
    #[error("delegation {child} is not sub-delegated from {parent}")]
    NotItsParent { child: String, parent: String },
    #[error(
        "a sub-delegation keeps its parent's authority: {parent} delegates the authority to {}, \
         so {child} cannot delegate the authority to {}",
        .parent_authority.describe(), .authority.describe()
    )]
    OtherAuthority {
        child: String,
        parent: String,
        authority: Authority,
        parent_authority: Authority,
    },
    #[error("delegation {parent} may not be sub-delegated")]
    ParentNotSubdelegable { parent: String },
    #[error(
        "sub-delegation {} would allow up to {}, more than its parent {} allows ({}) on {}",
        .0.child, with_usd(&.0.limit, &.0.limit_usd), .0.parent,
        with_usd(&.0.parent_limit, &.0.parent_limit_usd), .0.on
    )]
    AboveParentLimit(Box<AboveParentLimit>),
    #[error(
        "sub-delegation {child} starts on {valid_from}, before its parent {parent} starts \
         ({parent_valid_from})"
    )]
    StartsBeforeParent {
        child: String,
        parent: String,
        valid_from: Date,
        parent_valid_from: Date,
    },
    #[error("{}", ends_after_message(.child, .parent, .valid_to, .parent_valid_to))]
    EndsAfterParent {
        child: String,
        parent: String,
        valid_to: Option<Date>,
        parent_valid_to: Date,
    },

    // Segregation of duties.
    #[error("you drafted this project: segregation of duties forbids you to endorse or approve it")]
    DraftedByYou,
    #[error(
        "you submitted this project: segregation of duties forbids you to endorse or approve it"
    )]
    SubmittedByYou,
}

/// A delegation in the chain does not cover the amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitTooLow {
    pub delegation: String,
    /// The decider's own delegation, when this one is above it.
    pub via: Option<String>,
    pub authority: Authority,
    pub limit: Money,
    pub limit_usd: Decimal,
    pub amount: Money,
    pub amount_usd: Decimal,
}

/// A sub-delegation would allow more than its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AboveParentLimit {
    pub child: String,
    pub parent: String,
    pub limit: Money,
    pub limit_usd: Decimal,
    pub parent_limit: Money,
    pub parent_limit_usd: Decimal,
    /// The day the limits were compared at: the sub-delegation's first day.
    pub on: Date,
}

fn derived(via: &Option<String>) -> String {
    match via {
        Some(holder) => format!(" (your delegation {holder} derives from it)"),
        None => String::new(),
    }
}

/// `500,000.00 USD (250,000.00 EUR)`, or `500,000.00 USD` for dollars.
fn with_usd(money: &Money, usd: &Decimal) -> String {
    if money.currency.is_usd() {
        format_usd(*usd)
    } else {
        format!("{} ({money})", format_usd(*usd))
    }
}

fn limit_message(low: &LimitTooLow) -> String {
    let whose = match low.via {
        None => "your delegation",
        Some(_) => "delegation",
    };
    format!(
        "{whose} {} allows up to {}; {} is {}{}",
        low.delegation,
        with_usd(&low.limit, &low.limit_usd),
        low.authority.subject(),
        with_usd(&low.amount, &low.amount_usd),
        derived(&low.via)
    )
}

fn ends_after_message(
    child: &str,
    parent: &str,
    valid_to: &Option<Date>,
    parent_valid_to: &Date,
) -> String {
    match valid_to {
        Some(to) => format!(
            "sub-delegation {child} runs until {to}, after its parent {parent} ends \
             ({parent_valid_to})"
        ),
        None => format!(
            "sub-delegation {child} has no end date, but its parent {parent} ends on \
             {parent_valid_to}"
        ),
    }
}

impl DelegationRefusal {
    /// How far a failed chain is from allowing the decision, for choosing which refusal to
    /// explain: a delegation that is only too small is closer than one that expired, which is
    /// closer than a broken chain.
    pub(super) fn distance(&self) -> u8 {
        use DelegationRefusal::*;
        match self {
            LimitTooLow(_) => 0,
            NoRate(_) => 1,
            NotYetValid { .. } => 2,
            Expired { .. } => 3,
            Revoked { .. } => 4,
            NotSubdelegable { .. } | AuthorityMismatch { .. } => 5,
            _ => 6,
        }
    }
}
