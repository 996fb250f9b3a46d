//! The organization in the store: loading a (new version of the) organization file, and reading
//! the current organization back.
//!
//! Loading is an upsert by code in one transaction: unchanged entries are not touched (so a
//! restart writes nothing), changed ones are updated with their before and after in the audit
//! trail, and units that left the file are marked inactive rather than deleted, so users and
//! records that point at them stay valid.

use crate::audit::record;
use crate::db::{flag, new_id, now_text};
use crate::{Store, StoreError, Tx};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::{
    Coalition, Countries, DataHub, Iso3, OrgDefinition, OrgUnit, Organization, Process,
    ProcessSupport, Synonym, UnitCode, UnitKind,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::HashMap;

/// What a load changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadSummary {
    pub units_added: usize,
    pub units_updated: usize,
    pub units_retired: usize,
    pub countries_changed: usize,
    pub other_changes: usize,
}

impl LoadSummary {
    pub fn is_unchanged(&self) -> bool {
        *self == Self::default()
    }
}

/// The stored form of a unit, also what the audit trail shows before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct UnitRecord {
    code: String,
    name: String,
    kind: String,
    parent: Option<String>,
    location: String,
    summary: String,
    functions: Vec<String>,
    referenced: bool,
    country: Option<String>,
    active: bool,
    position: i64,
}

impl UnitRecord {
    fn from_unit(u: &OrgUnit, position: i64) -> Self {
        Self {
            code: u.code.to_string(),
            name: u.name.clone(),
            kind: u.kind.as_str().to_owned(),
            parent: u.parent.as_ref().map(ToString::to_string),
            location: u.location.clone(),
            summary: u.summary.clone(),
            functions: u.functions.clone(),
            referenced: u.referenced,
            country: u.country.as_ref().map(ToString::to_string),
            active: true,
            position,
        }
    }
}

impl Store {
    /// Loads an organization (a checked file) into the store. Only headquarters administrators
    /// and the operator may do this.
    pub async fn load_organization(
        &self,
        actor: &Actor,
        current: Option<&Organization>,
        org: &Organization,
        countries: &Countries,
    ) -> Result<LoadSummary, StoreError> {
        if let Some(current) = current {
            authorize(
                current,
                actor,
                Action::ReloadOrganization,
                &current.root().code,
            )?;
        } else if !matches!(actor, Actor::Operator { .. }) {
            return Err(StoreError::invalid(
                "organization",
                "the first organization is loaded by the operator (meridian serve or meridian org load)",
            ));
        }
        let mut tx = self.begin().await?;
        let mut summary = LoadSummary::default();
        load_countries(&mut tx, actor, countries, &mut summary).await?;
        let ids = load_units(&mut tx, actor, org, &mut summary).await?;
        load_coverage(&mut tx, actor, org, &ids, &mut summary).await?;
        load_others(&mut tx, actor, org, &ids, &mut summary).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// The organization as stored now (active units only).
    pub async fn organization(&self) -> Result<Organization, StoreError> {
        let pool = self.pool();
        let meta: HashMap<String, String> = sqlx::query("SELECT key, value FROM org_meta")
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("key")?, r.try_get("value")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let Some(name) = meta.get("name").cloned() else {
            return Err(StoreError::not_found("organization", "(none loaded)"));
        };
        let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("{what}: {e}"));

        let mut covers: HashMap<String, Vec<Iso3>> = HashMap::new();
        for r in sqlx::query(
            "SELECT c.iso3, u.code FROM countries c JOIN org_units u ON u.id = c.regional_office_id \
             ORDER BY c.iso3",
        )
        .fetch_all(pool)
        .await?
        {
            let iso3: String = r.try_get("iso3")?;
            covers
                .entry(r.try_get("code")?)
                .or_default()
                .push(Iso3::parse(&iso3).map_err(|e| corrupt("country", e))?);
        }

        let mut units = Vec::new();
        for r in sqlx::query(
            "SELECT u.code, u.name, u.kind, p.code AS parent, u.location, u.summary, u.functions, \
             u.referenced, u.country_iso3 FROM org_units u LEFT JOIN org_units p ON p.id = u.parent_id \
             WHERE u.active = 1 ORDER BY u.position",
        )
        .fetch_all(pool)
        .await?
        {
            let code: String = r.try_get("code")?;
            let kind: String = r.try_get("kind")?;
            let functions: String = r.try_get("functions")?;
            let parent: Option<String> = r.try_get("parent")?;
            let country: Option<String> = r.try_get("country_iso3")?;
            units.push(OrgUnit {
                code: UnitCode::parse(&code).map_err(|e| corrupt("unit", e))?,
                name: r.try_get("name")?,
                kind: UnitKind::parse(&kind).ok_or_else(|| corrupt("unit kind", kind.clone()))?,
                parent: parent
                    .map(|p| UnitCode::parse(&p))
                    .transpose()
                    .map_err(|e| corrupt("unit", e))?,
                location: r.try_get("location")?,
                summary: r.try_get("summary")?,
                functions: serde_json::from_str(&functions)
                    .map_err(|e| corrupt("functions", e.to_string()))?,
                referenced: r.try_get::<i64, _>("referenced")? == 1,
                covers: covers.remove(&code).unwrap_or_default(),
                country: country
                    .map(|c| Iso3::parse(&c))
                    .transpose()
                    .map_err(|e| corrupt("unit", e))?,
            });
        }

        let mut support: HashMap<String, Vec<ProcessSupport>> = HashMap::new();
        for r in sqlx::query(
            "SELECT s.process_code, u.code, s.role FROM org_process_support s \
             JOIN org_units u ON u.id = s.unit_id ORDER BY s.process_code, s.position",
        )
        .fetch_all(pool)
        .await?
        {
            let role: String = r.try_get("role")?;
            let unit: String = r.try_get("code")?;
            support
                .entry(r.try_get("process_code")?)
                .or_default()
                .push(ProcessSupport {
                    unit: UnitCode::parse(&unit).map_err(|e| corrupt("unit", e))?,
                    role: from_text(&role)?,
                });
        }
        let mut processes = Vec::new();
        for r in
            sqlx::query("SELECT code, name, kind, summary FROM org_processes ORDER BY position")
                .fetch_all(pool)
                .await?
        {
            let code: String = r.try_get("code")?;
            let kind: String = r.try_get("kind")?;
            processes.push(Process {
                support: support.remove(&code).unwrap_or_default(),
                code,
                name: r.try_get("name")?,
                kind: from_text(&kind)?,
                summary: r.try_get("summary")?,
            });
        }
        let mut coalitions = Vec::new();
        for r in sqlx::query(
            "SELECT c.code, c.name, u.code AS unit, c.role, c.partners FROM org_coalitions c \
             JOIN org_units u ON u.id = c.unit_id ORDER BY c.position",
        )
        .fetch_all(pool)
        .await?
        {
            let unit: String = r.try_get("unit")?;
            let role: String = r.try_get("role")?;
            let partners: String = r.try_get("partners")?;
            coalitions.push(Coalition {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                unit: UnitCode::parse(&unit).map_err(|e| corrupt("unit", e))?,
                role: from_text(&role)?,
                with: serde_json::from_str(&partners)
                    .map_err(|e| corrupt("partners", e.to_string()))?,
            });
        }
        let mut data_hubs = Vec::new();
        for r in sqlx::query(
            "SELECT h.code, h.name, u.code AS unit, h.summary FROM org_data_hubs h \
             JOIN org_units u ON u.id = h.unit_id ORDER BY h.position",
        )
        .fetch_all(pool)
        .await?
        {
            let unit: String = r.try_get("unit")?;
            data_hubs.push(DataHub {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                unit: UnitCode::parse(&unit).map_err(|e| corrupt("unit", e))?,
                summary: r.try_get("summary")?,
            });
        }
        let synonyms: Vec<Synonym> = match meta.get("synonyms") {
            Some(s) => serde_json::from_str(s).map_err(|e| corrupt("synonyms", e.to_string()))?,
            None => Vec::new(),
        };
        let definition = OrgDefinition {
            name,
            short_name: meta.get("short_name").cloned().unwrap_or_default(),
            units,
            processes,
            coalitions,
            data_hubs,
            synonyms,
        };
        Organization::new(definition).map_err(|e| corrupt("organization", e.to_string()))
    }

    /// The id of an active unit, by code.
    pub async fn unit_id(&self, code: &UnitCode) -> Result<String, StoreError> {
        unit_id(self.pool(), code).await
    }
}

pub(crate) async fn unit_id<'e, E>(executor: E, code: &UnitCode) -> Result<String, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query("SELECT id FROM org_units WHERE code = $1 AND active = 1")
        .bind(code.as_str())
        .fetch_optional(executor)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?
        .ok_or_else(|| StoreError::invalid("unit", format!("unknown unit code {code}")))
}

/// Enum values are stored as their serde names.
fn from_text<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|e| StoreError::Corrupt(format!("value {s:?}: {e}")))
}

async fn load_countries(
    tx: &mut Tx,
    actor: &Actor,
    countries: &Countries,
    summary: &mut LoadSummary,
) -> Result<(), StoreError> {
    let existing: HashMap<String, (String, String, String, i64)> =
        sqlx::query("SELECT iso3, name_en, name_fr, name_es, un_member FROM countries")
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("iso3")?,
                    (
                        r.try_get("name_en")?,
                        r.try_get("name_fr")?,
                        r.try_get("name_es")?,
                        r.try_get("un_member")?,
                    ),
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?;
    for c in countries.iter() {
        let now = (
            c.name_en.clone(),
            c.name_fr.clone(),
            c.name_es.clone(),
            i64::from(c.un_member),
        );
        let before = existing.get(c.iso3.as_str());
        if before == Some(&now) {
            continue;
        }
        let verb = if before.is_some() { "update" } else { "create" };
        sqlx::query(
            "INSERT INTO countries (iso3, iso2, m49, name_en, name_fr, name_es, region, subregion, un_member) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (iso3) DO UPDATE SET iso2 = $2, m49 = $3, name_en = $4, name_fr = $5, \
             name_es = $6, region = $7, subregion = $8, un_member = $9",
        )
        .bind(c.iso3.as_str())
        .bind(&c.iso2)
        .bind(c.m49.map(i64::from))
        .bind(&c.name_en)
        .bind(&c.name_fr)
        .bind(&c.name_es)
        .bind(&c.region)
        .bind(&c.subregion)
        .bind(flag(c.un_member))
        .execute(&mut **tx)
        .await?;
        let mut change = Change::new("country", verb, c.iso3.as_str()).after(c);
        if let Some(b) = before {
            change = change.before(b);
        }
        record(tx, actor, change).await?;
        summary.countries_changed += 1;
    }
    Ok(())
}

/// Upserts units parents-first and retires those no longer in the file. Returns code → id.
async fn load_units(
    tx: &mut Tx,
    actor: &Actor,
    org: &Organization,
    summary: &mut LoadSummary,
) -> Result<HashMap<String, String>, StoreError> {
    let mut existing: HashMap<String, (String, UnitRecord)> = HashMap::new();
    for r in sqlx::query(
        "SELECT u.id, u.code, u.name, u.kind, p.code AS parent, u.location, u.summary, u.functions, \
         u.referenced, u.country_iso3, u.active, u.position \
         FROM org_units u LEFT JOIN org_units p ON p.id = u.parent_id",
    )
    .fetch_all(&mut **tx)
    .await?
    {
        let functions: String = r.try_get("functions")?;
        let record = UnitRecord {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            parent: r.try_get("parent")?,
            location: r.try_get("location")?,
            summary: r.try_get("summary")?,
            functions: serde_json::from_str(&functions)
                .map_err(|e| StoreError::Corrupt(format!("functions: {e}")))?,
            referenced: r.try_get::<i64, _>("referenced")? == 1,
            country: r.try_get("country_iso3")?,
            active: r.try_get::<i64, _>("active")? == 1,
            position: r.try_get("position")?,
        };
        existing.insert(record.code.clone(), (r.try_get("id")?, record));
    }

    // Parents first, so every parent_id points at a row that exists.
    let mut order = Vec::with_capacity(org.units().len());
    let mut stack = vec![org.root()];
    while let Some(unit) = stack.pop() {
        order.push(unit);
        let mut children: Vec<&OrgUnit> = org.children(&unit.code).collect();
        children.reverse();
        stack.extend(children);
    }
    let position: HashMap<&UnitCode, i64> = org
        .units()
        .iter()
        .enumerate()
        .map(|(i, u)| (&u.code, i as i64))
        .collect();

    let mut ids: HashMap<String, String> = HashMap::new();
    let now = now_text();
    for unit in order {
        let wanted = UnitRecord::from_unit(unit, position[&unit.code]);
        let parent_id = wanted.parent.as_ref().map(|p| ids[p.as_str()].clone());
        let functions = serde_json::to_string(&wanted.functions).expect("strings serialize");
        match existing.remove(&wanted.code) {
            Some((id, before)) if before == wanted => {
                ids.insert(wanted.code.clone(), id);
            }
            Some((id, before)) => {
                sqlx::query(
                    "UPDATE org_units SET name = $2, kind = $3, parent_id = $4, location = $5, \
                     summary = $6, functions = $7, referenced = $8, country_iso3 = $9, active = 1, \
                     position = $10, version = version + 1, updated_at = $11 WHERE id = $1",
                )
                .bind(&id)
                .bind(&wanted.name)
                .bind(&wanted.kind)
                .bind(parent_id)
                .bind(&wanted.location)
                .bind(&wanted.summary)
                .bind(functions)
                .bind(flag(wanted.referenced))
                .bind(wanted.country.clone())
                .bind(wanted.position)
                .bind(&now)
                .execute(&mut **tx)
                .await?;
                // A pure reordering is not worth an audit entry or a count.
                let moved_only = UnitRecord {
                    position: wanted.position,
                    ..before.clone()
                } == wanted;
                if !moved_only {
                    record(
                        tx,
                        actor,
                        Change::new("org_unit", "update", &wanted.code)
                            .unit(&unit.code)
                            .before(&before)
                            .after(&wanted),
                    )
                    .await?;
                    summary.units_updated += 1;
                }
                ids.insert(wanted.code.clone(), id);
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO org_units (id, code, name, kind, parent_id, location, summary, \
                     functions, referenced, country_iso3, active, position, version, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, 1, $12)",
                )
                .bind(&id)
                .bind(&wanted.code)
                .bind(&wanted.name)
                .bind(&wanted.kind)
                .bind(parent_id)
                .bind(&wanted.location)
                .bind(&wanted.summary)
                .bind(functions)
                .bind(flag(wanted.referenced))
                .bind(wanted.country.clone())
                .bind(wanted.position)
                .bind(&now)
                .execute(&mut **tx)
                .await?;
                record(
                    tx,
                    actor,
                    Change::new("org_unit", "create", &wanted.code)
                        .unit(&unit.code)
                        .after(&wanted),
                )
                .await?;
                summary.units_added += 1;
                ids.insert(wanted.code.clone(), id);
            }
        }
    }
    for (code, (id, before)) in existing {
        if !before.active {
            continue;
        }
        sqlx::query(
            "UPDATE org_units SET active = 0, version = version + 1, updated_at = $2 WHERE id = $1",
        )
        .bind(&id)
        .bind(&now)
        .execute(&mut **tx)
        .await?;
        let after = UnitRecord {
            active: false,
            ..before.clone()
        };
        record(
            tx,
            actor,
            Change::new("org_unit", "retire", &code)
                .before(&before)
                .after(&after),
        )
        .await?;
        summary.units_retired += 1;
    }
    Ok(ids)
}

async fn load_coverage(
    tx: &mut Tx,
    actor: &Actor,
    org: &Organization,
    ids: &HashMap<String, String>,
    summary: &mut LoadSummary,
) -> Result<(), StoreError> {
    let current: HashMap<String, Option<String>> = sqlx::query(
        "SELECT c.iso3, u.code FROM countries c LEFT JOIN org_units u ON u.id = c.regional_office_id",
    )
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("iso3")?, r.try_get("code")?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let mut wanted: HashMap<&str, &str> = HashMap::new();
    for office in org.regional_offices() {
        for iso3 in &office.covers {
            wanted.insert(iso3.as_str(), office.code.as_str());
        }
    }
    for (iso3, before) in &current {
        let after = wanted.get(iso3.as_str()).copied();
        if before.as_deref() == after {
            continue;
        }
        sqlx::query("UPDATE countries SET regional_office_id = $2 WHERE iso3 = $1")
            .bind(iso3)
            .bind(after.map(|code| ids[code].clone()))
            .execute(&mut **tx)
            .await?;
        record(
            tx,
            actor,
            Change::new("country", "coverage", iso3)
                .before(serde_json::json!({ "regional_office": before }))
                .after(serde_json::json!({ "regional_office": after })),
        )
        .await?;
        summary.countries_changed += 1;
    }
    Ok(())
}

/// Processes, coalitions, data hubs and the header: replaced wholesale when they differ.
async fn load_others(
    tx: &mut Tx,
    actor: &Actor,
    org: &Organization,
    ids: &HashMap<String, String>,
    summary: &mut LoadSummary,
) -> Result<(), StoreError> {
    let def = org.definition();
    let wanted_meta = [
        ("name", def.name.clone()),
        ("short_name", def.short_name.clone()),
        (
            "synonyms",
            serde_json::to_string(&def.synonyms).expect("synonyms serialize"),
        ),
        (
            "processes",
            serde_json::to_string(&def.processes).expect("processes serialize"),
        ),
        (
            "coalitions",
            serde_json::to_string(&def.coalitions).expect("coalitions serialize"),
        ),
        (
            "data_hubs",
            serde_json::to_string(&def.data_hubs).expect("hubs serialize"),
        ),
    ];
    // The serialized lists in org_meta are a fingerprint: the tables are rewritten only when
    // the file's lists changed.
    let mut lists_changed = false;
    for (key, value) in &wanted_meta {
        let before: Option<String> = sqlx::query("SELECT value FROM org_meta WHERE key = $1")
            .bind(*key)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get("value"))
            .transpose()?;
        if before.as_deref() == Some(value.as_str()) {
            continue;
        }
        sqlx::query(
            "INSERT INTO org_meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = $2",
        )
        .bind(*key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
        let parse = |s: &str| {
            serde_json::from_str::<serde_json::Value>(s)
                .unwrap_or_else(|_| serde_json::Value::String(s.to_owned()))
        };
        let mut change = Change::new("organization", "update", *key).after(parse(value));
        if let Some(b) = before {
            change = change.before(parse(&b));
        }
        record(tx, actor, change).await?;
        summary.other_changes += 1;
        lists_changed |= matches!(*key, "processes" | "coalitions" | "data_hubs");
    }
    if !lists_changed {
        return Ok(());
    }
    for table in [
        "org_process_support",
        "org_processes",
        "org_coalitions",
        "org_data_hubs",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
            .execute(&mut **tx)
            .await?;
    }
    for (i, p) in def.processes.iter().enumerate() {
        sqlx::query(
            "INSERT INTO org_processes (code, name, kind, summary, position) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&p.code)
        .bind(&p.name)
        .bind(p.kind.as_str())
        .bind(&p.summary)
        .bind(i as i64)
        .execute(&mut **tx)
        .await?;
        for (j, s) in p.support.iter().enumerate() {
            sqlx::query(
                "INSERT INTO org_process_support (process_code, unit_id, role, position) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&p.code)
            .bind(&ids[s.unit.as_str()])
            .bind(s.role.as_str())
            .bind(j as i64)
            .execute(&mut **tx)
            .await?;
        }
    }
    for (i, c) in def.coalitions.iter().enumerate() {
        sqlx::query(
            "INSERT INTO org_coalitions (code, name, unit_id, role, partners, position) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.code)
        .bind(&c.name)
        .bind(&ids[c.unit.as_str()])
        .bind(c.role.as_str())
        .bind(serde_json::to_string(&c.with).expect("strings serialize"))
        .bind(i as i64)
        .execute(&mut **tx)
        .await?;
    }
    for (i, h) in def.data_hubs.iter().enumerate() {
        sqlx::query(
            "INSERT INTO org_data_hubs (code, name, unit_id, summary, position) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&h.code)
        .bind(&h.name)
        .bind(&ids[h.unit.as_str()])
        .bind(&h.summary)
        .bind(i as i64)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
