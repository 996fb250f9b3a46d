//! Meridian's domain: pure types and rules, no I/O.
//!
//! - [`org`]: the organization model (units, functions, coverage, processes) and the
//!   focal-point search;
//! - [`authz`]: roles, actions and the one permission check every module calls;
//! - [`audit`]: the shape of an audit-trail entry;
//! - [`projects`]: the project lifecycle, money and delegation of authority;
//! - [`results`]: results-based management: indicators, aggregation, the SRF.
//! - [`evaluations`]: the evaluation registry's vocabularies, follow-up rules and deadlines.

pub mod audit;
pub mod authz;
pub mod evaluations;
pub mod org;
pub mod projects;
pub mod results;

/// Data files shipped inside the binary.
pub mod builtin {
    /// The default organization (IOM's structure).
    pub const ORGANIZATION_TOML: &str = include_str!("../../../data/organization.toml");
    /// ISO 3166 countries and territories with their names and UN membership.
    pub const COUNTRIES_CSV: &str = include_str!("../../../data/countries.csv");
    /// The Strategic Results Framework: objectives, outcomes, outputs and institutional
    /// indicators (a working model, edited by RBM officers).
    pub const SRF_TOML: &str = include_str!("../../../data/srf.toml");
    /// The 23 objectives of the Global Compact for Migration.
    pub const GCM_OBJECTIVES_CSV: &str = include_str!("../../../data/gcm-objectives.csv");
    /// The migration-related SDG targets.
    pub const SDG_MIGRATION_TARGETS_CSV: &str =
        include_str!("../../../data/sdg-migration-targets.csv");

    /// The default organization, parsed and checked.
    pub fn organization() -> crate::org::Organization {
        crate::org::parse_org_file(
            "data/organization.toml",
            ORGANIZATION_TOML,
            &crate::org::Countries::builtin(),
        )
        .expect("the shipped organization file is valid (checked by a test)")
    }

    /// The shipped Strategic Results Framework, parsed and checked.
    pub fn srf() -> crate::results::srf::Srf {
        crate::results::srf::parse_srf_file("data/srf.toml", SRF_TOML)
            .expect("the shipped SRF file is valid (checked by a test)")
    }
}
