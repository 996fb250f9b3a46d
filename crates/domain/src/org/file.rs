//! The organization file (`data/organization.toml`): parsing and checking.
//!
//! Country offices are not written in the file: one is generated for every covered country from
//! the `country_office_*` templates, so coverage and country offices can never disagree.

use super::{
    Coalition, CoalitionRole, Countries, DataHub, Iso3, OrgDefinition, OrgUnit, Organization,
    Process, ProcessKind, ProcessRole, ProcessSupport, Synonym, UnitCode, UnitKind,
};
use serde::Deserialize;

/// What is wrong with an organization file, naming the file and the offending entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {entry}: {message}")]
pub struct OrgFileError {
    pub file: String,
    /// e.g. `unit RO-BKK`, `process COLOMBO`, or `line 12, column 3` for syntax errors.
    pub entry: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileOrg {
    organization: FileHeader,
    #[serde(default)]
    synonyms: Vec<Synonym>,
    units: Vec<FileUnit>,
    #[serde(default)]
    processes: Vec<FileProcess>,
    #[serde(default)]
    coalitions: Vec<FileCoalition>,
    #[serde(default)]
    data_hubs: Vec<FileHub>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHeader {
    name: String,
    short_name: String,
    country_office_code: String,
    country_office_name: String,
    #[serde(default)]
    country_office_functions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileUnit {
    code: String,
    name: String,
    kind: String,
    parent: Option<String>,
    #[serde(default)]
    location: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    functions: Vec<String>,
    #[serde(default)]
    referenced: bool,
    #[serde(default)]
    covers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProcess {
    code: String,
    name: String,
    kind: ProcessKind,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    support: Vec<FileSupport>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSupport {
    unit: String,
    role: ProcessRole,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCoalition {
    code: String,
    name: String,
    unit: String,
    role: CoalitionRole,
    #[serde(default)]
    with: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHub {
    code: String,
    name: String,
    unit: String,
    #[serde(default)]
    summary: String,
}

/// Parses and checks an organization file against the country table.
pub fn parse_org_file(
    file: &str,
    text: &str,
    countries: &Countries,
) -> Result<Organization, OrgFileError> {
    let fail = |entry: String, message: String| OrgFileError {
        file: file.to_owned(),
        entry,
        message,
    };
    let raw: FileOrg = toml::from_str(text).map_err(|e| {
        let entry = match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                format!("line {line}, column {column}")
            }
            None => "file".to_owned(),
        };
        fail(entry, e.message().to_owned())
    })?;

    let code = |entry: &str, raw: &str| UnitCode::parse(raw).map_err(|m| fail(entry.to_owned(), m));
    let mut units = Vec::with_capacity(raw.units.len() + 250);
    for u in raw.units {
        let entry = format!("unit {}", u.code);
        let kind = UnitKind::parse(&u.kind).ok_or_else(|| {
            fail(
                entry.clone(),
                format!(
                    "unknown kind {:?}; expected one of {}",
                    u.kind,
                    UnitKind::ALL.map(UnitKind::as_str).join(", ")
                ),
            )
        })?;
        if kind == UnitKind::CountryOffice {
            return Err(fail(
                entry,
                "country offices are generated from coverage; do not list them".to_owned(),
            ));
        }
        if u.name.trim().is_empty() {
            return Err(fail(entry, "name is empty".to_owned()));
        }
        let mut covers = Vec::with_capacity(u.covers.len());
        for c in &u.covers {
            let iso3 = Iso3::parse(c).map_err(|m| fail(entry.clone(), m))?;
            if countries.get(&iso3).is_none() {
                return Err(fail(entry, format!("unknown country {iso3}")));
            }
            covers.push(iso3);
        }
        units.push(OrgUnit {
            code: code(&entry, &u.code)?,
            parent: u.parent.as_deref().map(|p| code(&entry, p)).transpose()?,
            name: u.name,
            kind,
            location: u.location,
            summary: u.summary,
            functions: u.functions,
            referenced: u.referenced,
            covers,
            country: None,
        });
    }

    // One country office per covered country, under its regional office.
    let header = &raw.organization;
    let mut generated = Vec::new();
    let mut covered_by: std::collections::HashMap<&Iso3, &UnitCode> = Default::default();
    for office in units.iter().filter(|u| u.kind == UnitKind::RegionalOffice) {
        for iso3 in &office.covers {
            if let Some(other) = covered_by.insert(iso3, &office.code) {
                return Err(fail(
                    format!("unit {}", office.code),
                    format!("country {iso3} is covered twice (also by {other})"),
                ));
            }
            let country = countries
                .get(iso3)
                .expect("covers were checked against the country table above");
            let entry = format!("country office for {iso3}");
            generated.push(OrgUnit {
                code: code(
                    &entry,
                    &header.country_office_code.replace("{iso3}", iso3.as_str()),
                )?,
                name: header
                    .country_office_name
                    .replace("{country}", &country.name_en),
                kind: UnitKind::CountryOffice,
                parent: Some(office.code.clone()),
                location: country.name_en.clone(),
                summary: String::new(),
                functions: header.country_office_functions.clone(),
                referenced: false,
                covers: Vec::new(),
                country: Some(iso3.clone()),
            });
        }
    }
    units.extend(generated);

    let processes = raw
        .processes
        .into_iter()
        .map(|p| {
            let entry = format!("process {}", p.code);
            Ok(Process {
                support: p
                    .support
                    .iter()
                    .map(|s| {
                        Ok(ProcessSupport {
                            unit: code(&entry, &s.unit)?,
                            role: s.role,
                        })
                    })
                    .collect::<Result<_, OrgFileError>>()?,
                code: p.code,
                name: p.name,
                kind: p.kind,
                summary: p.summary,
            })
        })
        .collect::<Result<_, OrgFileError>>()?;
    let coalitions = raw
        .coalitions
        .into_iter()
        .map(|c| {
            Ok(Coalition {
                unit: code(&format!("coalition {}", c.code), &c.unit)?,
                code: c.code,
                name: c.name,
                role: c.role,
                with: c.with,
            })
        })
        .collect::<Result<_, OrgFileError>>()?;
    let data_hubs = raw
        .data_hubs
        .into_iter()
        .map(|h| {
            Ok(DataHub {
                unit: code(&format!("data hub {}", h.code), &h.unit)?,
                code: h.code,
                name: h.name,
                summary: h.summary,
            })
        })
        .collect::<Result<_, OrgFileError>>()?;

    let definition = OrgDefinition {
        name: raw.organization.name,
        short_name: raw.organization.short_name,
        units,
        processes,
        coalitions,
        data_hubs,
        synonyms: raw.synonyms,
    };
    Organization::new(definition).map_err(|e| fail(e.entry, e.message))
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
