//! Audit events: what changed, before and after. The store appends one in the same transaction
//! as every change it records; nothing ever updates or deletes one.

use serde::Serialize;
use serde_json::Value;

use crate::org::UnitCode;

/// A change about to be recorded, without the who and when (the store adds those).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// What was done, `entity.verb`, e.g. `user.create`, `org_unit.update`.
    pub action: String,
    /// The kind of record, e.g. `user`, `org_unit`.
    pub entity: &'static str,
    /// The record's identifier (a UUID, or a code for organization records).
    pub entity_id: String,
    /// The unit that owns the record, for scoping who may read the history.
    pub unit: Option<UnitCode>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change {
    pub fn new(entity: &'static str, verb: &str, entity_id: impl Into<String>) -> Self {
        Self {
            action: format!("{entity}.{verb}"),
            entity,
            entity_id: entity_id.into(),
            unit: None,
            before: None,
            after: None,
        }
    }

    pub fn unit(mut self, unit: &UnitCode) -> Self {
        self.unit = Some(unit.clone());
        self
    }

    pub fn before(mut self, value: impl Serialize) -> Self {
        self.before = Some(serde_json::to_value(value).expect("audit values serialize"));
        self
    }

    pub fn after(mut self, value: impl Serialize) -> Self {
        self.after = Some(serde_json::to_value(value).expect("audit values serialize"));
        self
    }
}
