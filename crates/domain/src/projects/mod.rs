//! Projects (the PRIMA core): the lifecycle state machine, project codes, money and exchange
//! rates, and delegation of authority with segregation of duties.

pub mod delegation;
pub mod documents;
pub mod lifecycle;
pub mod money;

/// The thematic areas a project is filed under (codes; the UI translates them).
pub const THEMATIC_AREAS: &[&str] = &[
    "migration_governance",
    "labour_mobility",
    "counter_trafficking",
    "migrant_protection",
    "displacement_and_crisis_response",
    "migration_health",
    "return_and_reintegration",
    "resettlement_and_movement",
    "immigration_and_border_governance",
    "climate_and_environmental_migration",
    "migration_data",
    "diaspora_and_development",
];
