//! The organization model: units in a tree, what each is for (functions), which countries a
//! regional office covers, and the processes, coalitions and data hubs offices take part in.
//!
//! An [`Organization`] is built from an [`OrgDefinition`] — plain data that comes either from the
//! organization file (`file.rs`) or back from the store — and checked on construction, so every
//! `Organization` in the program is consistent: one root, known parents, no cycles, each country
//! covered by at most one regional office.

mod countries;
mod file;
mod search;

pub use countries::{Countries, CountriesError, Country, Iso3};
pub use file::{OrgFileError, parse_org_file};
pub use search::{FocalPoint, FocalPointIndex};

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// A unit's stable code, e.g. `RO-BKK` or `CO-AFG`: uppercase ASCII letters, digits and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

impl UnitCode {
    pub const MAX_LEN: usize = 16;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let ok_len = !raw.is_empty() && raw.len() <= Self::MAX_LEN;
        let ok_chars = raw
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-');
        if ok_len && ok_chars && !raw.starts_with('-') && !raw.ends_with('-') {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "a unit code is 1 to {} uppercase letters, digits or '-' (not at either end), found {raw:?}",
                Self::MAX_LEN
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UnitCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<UnitCode> for String {
    fn from(value: UnitCode) -> Self {
        value.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of unit this is. The kind decides where a unit's staff see data from (see
/// [`Organization::scope_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    ExecutiveOffice,
    Department,
    Division,
    Unit,
    Office,
    RegionalOffice,
    CountryOffice,
    SpecialOffice,
}

impl UnitKind {
    pub const ALL: [UnitKind; 8] = [
        UnitKind::ExecutiveOffice,
        UnitKind::Department,
        UnitKind::Division,
        UnitKind::Unit,
        UnitKind::Office,
        UnitKind::RegionalOffice,
        UnitKind::CountryOffice,
        UnitKind::SpecialOffice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::ExecutiveOffice => "executive_office",
            UnitKind::Department => "department",
            UnitKind::Division => "division",
            UnitKind::Unit => "unit",
            UnitKind::Office => "office",
            UnitKind::RegionalOffice => "regional_office",
            UnitKind::CountryOffice => "country_office",
            UnitKind::SpecialOffice => "special_office",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// IOM's role in a consultative process or mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessRole {
    Member,
    Partner,
    Observer,
    Secretariat,
    TechnicalSecretariat,
    ServiceProvider,
}

impl ProcessRole {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessRole::Member => "member",
            ProcessRole::Partner => "partner",
            ProcessRole::Observer => "observer",
            ProcessRole::Secretariat => "secretariat",
            ProcessRole::TechnicalSecretariat => "technical_secretariat",
            ProcessRole::ServiceProvider => "service_provider",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcessKind {
    RegionalConsultativeProcess,
    InterregionalForum,
    RegionalIntegrationBody,
    UnMechanism,
    Network,
}

impl ProcessKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessKind::RegionalConsultativeProcess => "regional_consultative_process",
            ProcessKind::InterregionalForum => "interregional_forum",
            ProcessKind::RegionalIntegrationBody => "regional_integration_body",
            ProcessKind::UnMechanism => "un_mechanism",
            ProcessKind::Network => "network",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoalitionRole {
    CoLead,
    CoChair,
    CoConvener,
}

impl CoalitionRole {
    pub fn as_str(self) -> &'static str {
        match self {
            CoalitionRole::CoLead => "co-lead",
            CoalitionRole::CoChair => "co-chair",
            CoalitionRole::CoConvener => "co-convener",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgUnit {
    pub code: UnitCode,
    pub name: String,
    pub kind: UnitKind,
    pub parent: Option<UnitCode>,
    pub location: String,
    pub summary: String,
    pub functions: Vec<String>,
    /// Named only in passing by the organization's own description.
    pub referenced: bool,
    /// Regional offices: the countries they cover.
    pub covers: Vec<Iso3>,
    /// Country offices: their country.
    pub country: Option<Iso3>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessSupport {
    pub unit: UnitCode,
    pub role: ProcessRole,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Process {
    pub code: String,
    pub name: String,
    pub kind: ProcessKind,
    pub summary: String,
    pub support: Vec<ProcessSupport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coalition {
    pub code: String,
    pub name: String,
    pub unit: UnitCode,
    pub role: CoalitionRole,
    pub with: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataHub {
    pub code: String,
    pub name: String,
    pub unit: UnitCode,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Synonym {
    pub term: String,
    pub means: String,
}

/// Everything the organization file says, as plain data, before consistency checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgDefinition {
    pub name: String,
    pub short_name: String,
    pub units: Vec<OrgUnit>,
    pub processes: Vec<Process>,
    pub coalitions: Vec<Coalition>,
    pub data_hubs: Vec<DataHub>,
    pub synonyms: Vec<Synonym>,
}

/// Where a unit's staff may see and act: their own unit, their region, or everywhere.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "level", content = "unit", rename_all = "snake_case")]
pub enum Scope {
    /// A country office (or a special office): itself and anything below it.
    Unit(UnitCode),
    /// A regional office: itself, its country offices and its special offices.
    Region(UnitCode),
    /// Headquarters: the whole organization.
    Global,
}

/// A consistent organization: a tree with an index by code.
#[derive(Debug, Clone)]
pub struct Organization {
    definition: OrgDefinition,
    by_code: HashMap<UnitCode, usize>,
    children: Vec<Vec<usize>>,
    root: usize,
    covering_office: HashMap<Iso3, usize>,
    country_office: HashMap<Iso3, usize>,
}

/// A consistency problem, naming the entry at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entry}: {message}")]
pub struct OrgInconsistency {
    pub entry: String,
    pub message: String,
}

fn inconsistency(entry: impl Into<String>, message: impl Into<String>) -> OrgInconsistency {
    OrgInconsistency {
        entry: entry.into(),
        message: message.into(),
    }
}

impl Organization {
    /// Checks the definition and indexes it. Every problem names the entry it is about.
    pub fn new(definition: OrgDefinition) -> Result<Self, OrgInconsistency> {
        let units = &definition.units;
        let mut by_code = HashMap::with_capacity(units.len());
        for (i, unit) in units.iter().enumerate() {
            if by_code.insert(unit.code.clone(), i).is_some() {
                return Err(inconsistency(
                    format!("unit {}", unit.code),
                    "duplicate unit code",
                ));
            }
        }
        let mut children = vec![Vec::new(); units.len()];
        let mut roots = Vec::new();
        for (i, unit) in units.iter().enumerate() {
            match &unit.parent {
                None => roots.push(i),
                Some(parent) => {
                    let Some(&p) = by_code.get(parent) else {
                        return Err(inconsistency(
                            format!("unit {}", unit.code),
                            format!("unknown parent {parent}"),
                        ));
                    };
                    children[p].push(i);
                }
            }
        }
        let root = match roots.as_slice() {
            [root] => *root,
            [] => {
                return Err(inconsistency(
                    "units",
                    "no root unit (one unit has no parent)",
                ));
            }
            [a, b, ..] => {
                return Err(inconsistency(
                    format!("unit {}", units[*b].code),
                    format!(
                        "second unit without a parent ({} is already the root)",
                        units[*a].code
                    ),
                ));
            }
        };
        // Every unit must be reachable from the root, otherwise parents form a cycle.
        let mut seen = vec![false; units.len()];
        let mut stack = vec![root];
        while let Some(i) = stack.pop() {
            seen[i] = true;
            stack.extend(children[i].iter().copied());
        }
        if let Some(i) = seen.iter().position(|s| !s) {
            return Err(inconsistency(
                format!("unit {}", units[i].code),
                "its parents form a cycle",
            ));
        }
        for siblings in &mut children {
            siblings.sort_by(|&a, &b| {
                (kind_rank(units[a].kind), &units[a].name)
                    .cmp(&(kind_rank(units[b].kind), &units[b].name))
            });
        }

        let mut covering_office: HashMap<Iso3, usize> = HashMap::new();
        let mut country_office: HashMap<Iso3, usize> = HashMap::new();
        for (i, unit) in units.iter().enumerate() {
            if !unit.covers.is_empty() && unit.kind != UnitKind::RegionalOffice {
                return Err(inconsistency(
                    format!("unit {}", unit.code),
                    "only regional offices cover countries",
                ));
            }
            for iso3 in &unit.covers {
                if let Some(&other) = covering_office.get(iso3) {
                    return Err(inconsistency(
                        format!("unit {}", unit.code),
                        format!(
                            "country {iso3} is covered twice (also by {})",
                            units[other].code
                        ),
                    ));
                }
                covering_office.insert(iso3.clone(), i);
            }
            if let Some(iso3) = &unit.country
                && country_office.insert(iso3.clone(), i).is_some()
            {
                return Err(inconsistency(
                    format!("unit {}", unit.code),
                    format!("a second country office for {iso3}"),
                ));
            }
        }

        let check_unit = |entry: String, code: &UnitCode| match by_code.contains_key(code) {
            true => Ok(()),
            false => Err(inconsistency(entry, format!("unknown unit {code}"))),
        };
        let mut codes = std::collections::HashSet::new();
        for p in &definition.processes {
            if !codes.insert(("process", p.code.as_str())) {
                return Err(inconsistency(
                    format!("process {}", p.code),
                    "duplicate code",
                ));
            }
            for s in &p.support {
                check_unit(format!("process {}", p.code), &s.unit)?;
            }
        }
        for c in &definition.coalitions {
            if !codes.insert(("coalition", c.code.as_str())) {
                return Err(inconsistency(
                    format!("coalition {}", c.code),
                    "duplicate code",
                ));
            }
            check_unit(format!("coalition {}", c.code), &c.unit)?;
        }
        for h in &definition.data_hubs {
            if !codes.insert(("data hub", h.code.as_str())) {
                return Err(inconsistency(
                    format!("data hub {}", h.code),
                    "duplicate code",
                ));
            }
            check_unit(format!("data hub {}", h.code), &h.unit)?;
        }

        Ok(Self {
            definition,
            by_code,
            children,
            root,
            covering_office,
            country_office,
        })
    }

    pub fn definition(&self) -> &OrgDefinition {
        &self.definition
    }

    pub fn name(&self) -> &str {
        &self.definition.name
    }

    pub fn units(&self) -> &[OrgUnit] {
        &self.definition.units
    }

    pub fn root(&self) -> &OrgUnit {
        &self.definition.units[self.root]
    }

    pub fn unit(&self, code: &str) -> Option<&OrgUnit> {
        let code = UnitCode::parse(code).ok()?;
        self.by_code.get(&code).map(|&i| &self.definition.units[i])
    }

    pub fn children(&self, code: &UnitCode) -> impl Iterator<Item = &OrgUnit> {
        let idx = self.by_code.get(code).copied();
        idx.into_iter()
            .flat_map(|i| self.children[i].iter())
            .map(|&c| &self.definition.units[c])
    }

    /// The unit and its ancestors, from the unit up to the root.
    pub fn ancestors<'a>(&'a self, code: &UnitCode) -> impl Iterator<Item = &'a OrgUnit> + 'a {
        let mut next = self.by_code.get(code).map(|&i| &self.definition.units[i]);
        std::iter::from_fn(move || {
            let current = next?;
            next = current
                .parent
                .as_ref()
                .and_then(|p| self.by_code.get(p))
                .map(|&i| &self.definition.units[i]);
            Some(current)
        })
    }

    /// The regional office that covers a country: it reviews and endorses the country's projects.
    pub fn covering_office(&self, iso3: &Iso3) -> Option<&OrgUnit> {
        self.covering_office
            .get(iso3)
            .map(|&i| &self.definition.units[i])
    }

    pub fn country_office(&self, iso3: &Iso3) -> Option<&OrgUnit> {
        self.country_office
            .get(iso3)
            .map(|&i| &self.definition.units[i])
    }

    /// Where a unit's staff see and act. A unit inside a regional office's subtree is scoped to
    /// the nearest country or special office, else to the region; anything else is headquarters.
    pub fn scope_of(&self, code: &UnitCode) -> Scope {
        let mut local = None;
        for unit in self.ancestors(code) {
            match unit.kind {
                UnitKind::CountryOffice | UnitKind::SpecialOffice if local.is_none() => {
                    local = Some(unit.code.clone());
                }
                UnitKind::RegionalOffice => {
                    return match local {
                        Some(local) => Scope::Unit(local),
                        None => Scope::Region(unit.code.clone()),
                    };
                }
                _ => {}
            }
        }
        match local {
            Some(local) => Scope::Unit(local),
            None => Scope::Global,
        }
    }

    /// Whether `target` lies within `scope`.
    pub fn in_scope(&self, scope: &Scope, target: &UnitCode) -> bool {
        match scope {
            Scope::Global => self.by_code.contains_key(target),
            Scope::Region(top) | Scope::Unit(top) => self.ancestors(target).any(|u| &u.code == top),
        }
    }

    /// The codes of every unit within a scope, for filtering queries.
    pub fn units_in_scope(&self, scope: &Scope) -> Vec<&UnitCode> {
        let top = match scope {
            Scope::Global => self.root,
            Scope::Region(code) | Scope::Unit(code) => match self.by_code.get(code) {
                Some(&i) => i,
                None => return Vec::new(),
            },
        };
        let mut out = Vec::new();
        let mut stack = vec![top];
        while let Some(i) = stack.pop() {
            out.push(&self.definition.units[i].code);
            stack.extend(self.children[i].iter().rev().copied());
        }
        out
    }

    pub fn processes_of(&self, code: &UnitCode) -> impl Iterator<Item = (&Process, ProcessRole)> {
        self.definition.processes.iter().flat_map(move |p| {
            p.support
                .iter()
                .filter(move |s| &s.unit == code)
                .map(move |s| (p, s.role))
        })
    }

    pub fn coalitions_of(&self, code: &UnitCode) -> impl Iterator<Item = &Coalition> {
        self.definition
            .coalitions
            .iter()
            .filter(move |c| &c.unit == code)
    }

    pub fn data_hubs_of(&self, code: &UnitCode) -> impl Iterator<Item = &DataHub> {
        self.definition
            .data_hubs
            .iter()
            .filter(move |h| &h.unit == code)
    }

    /// Special offices a regional office coordinates (its special-office children).
    pub fn special_offices_of(&self, code: &UnitCode) -> impl Iterator<Item = &OrgUnit> {
        self.children(code)
            .filter(|u| u.kind == UnitKind::SpecialOffice)
    }

    pub fn regional_offices(&self) -> impl Iterator<Item = &OrgUnit> {
        self.definition
            .units
            .iter()
            .filter(|u| u.kind == UnitKind::RegionalOffice)
    }
}

/// Siblings are listed departments first, then divisions, units, offices, regional offices and
/// country offices, each group by name.
fn kind_rank(kind: UnitKind) -> u8 {
    match kind {
        UnitKind::ExecutiveOffice => 0,
        UnitKind::Department => 1,
        UnitKind::Division => 2,
        UnitKind::Unit => 3,
        UnitKind::Office => 4,
        UnitKind::RegionalOffice => 5,
        UnitKind::SpecialOffice => 6,
        UnitKind::CountryOffice => 7,
    }
}

#[cfg(test)]
pub(crate) mod tests;
