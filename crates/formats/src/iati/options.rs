//! What a caller can tune about a validation run.

use std::collections::HashSet;
use std::sync::Arc;

use super::rules::Ruleset;

/// Options for [`crate::iati::validate`]. `Default` is what the IATI Validator does, minus
/// its online look-ups.
#[derive(Clone, Debug)]
pub struct ValidateOptions {
    /// Findings stored in the report; the rest are only counted (see `Report::by_rule`).
    pub max_findings: usize,
    /// Organisation identifiers of publishers registered with IATI (the Validator's
    /// `ORG-ID` set). Identifier rules that exempt registered publishers (`idCondition`
    /// `NOT_EXISTING_ORG_ID` / `NOT_EXISTING_ORG_ID_PREFIX`) use it; empty means "nobody is
    /// registered", so those rules apply to everyone.
    pub registered_publishers: HashSet<String>,
    /// The date "now" is for rules about the future (`YYYY-MM-DD`); `None` uses the system
    /// clock.
    pub today: Option<String>,
    /// The ruleset to apply; `None` is the IATI standard ruleset.
    pub ruleset: Option<Arc<Ruleset>>,
    /// Leave the ruleset out (schema and codelists only). The import does: what it refuses
    /// rests on the schema, and `meridian iati validate` gives the ruleset's findings.
    pub skip_rules: bool,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            max_findings: 10_000,
            registered_publishers: HashSet::new(),
            today: None,
            ruleset: None,
            skip_rules: false,
        }
    }
}
