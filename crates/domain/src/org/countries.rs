//! Countries and territories (ISO 3166-1), loaded from `data/countries.csv`.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;

/// An ISO 3166-1 alpha-3 code, e.g. `AFG`. Kosovo's user-assigned `XKX` is accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iso3(String);

impl Iso3 {
    /// Accepts any case and normalises to uppercase; the code must still be listed in
    /// [`Countries`] to mean anything.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Self(raw.to_ascii_uppercase()))
        } else {
            Err(format!(
                "an ISO 3166-1 alpha-3 code is three letters, found {raw:?}"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Iso3 {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(&value)
    }
}

impl From<Iso3> for String {
    fn from(value: Iso3) -> Self {
        value.0
    }
}

impl fmt::Display for Iso3 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Country {
    pub iso3: Iso3,
    pub iso2: String,
    pub m49: Option<u16>,
    pub name_en: String,
    pub name_fr: String,
    pub name_es: String,
    pub region: String,
    pub subregion: String,
    pub un_member: bool,
}

impl Country {
    /// The name in a UI language (`en`, `fr`, `es`), English otherwise.
    pub fn name(&self, lang: &str) -> &str {
        match lang {
            "fr" if !self.name_fr.is_empty() => &self.name_fr,
            "es" if !self.name_es.is_empty() => &self.name_es,
            _ => &self.name_en,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CountriesError {
    #[error("{file}, row {row}: {message}")]
    Row {
        file: String,
        row: u64,
        message: String,
    },
    #[error("{file}: {source}")]
    Csv {
        file: String,
        #[source]
        source: csv::Error,
    },
}

#[derive(Debug, Deserialize)]
struct CountryRow {
    iso3: String,
    iso2: String,
    m49: String,
    name_en: String,
    name_fr: String,
    name_es: String,
    region: String,
    subregion: String,
    un_member: String,
}

/// The table of countries, by ISO3 code, in file order.
#[derive(Debug, Clone, Default)]
pub struct Countries {
    list: Vec<Country>,
    by_iso3: HashMap<Iso3, usize>,
}

impl Countries {
    /// The list shipped with Meridian.
    pub fn builtin() -> Self {
        Self::from_csv(
            "data/countries.csv",
            crate::builtin::COUNTRIES_CSV.as_bytes(),
        )
        .expect("the shipped countries.csv is valid (checked by a test)")
    }

    pub fn from_csv(file: &str, input: impl std::io::Read) -> Result<Self, CountriesError> {
        let mut reader = csv::Reader::from_reader(input);
        let mut table = Self::default();
        for (i, record) in reader.deserialize::<CountryRow>().enumerate() {
            // Row 1 is the header.
            let row = i as u64 + 2;
            let bad = |message: String| CountriesError::Row {
                file: file.to_owned(),
                row,
                message,
            };
            let record = record.map_err(|source| CountriesError::Csv {
                file: file.to_owned(),
                source,
            })?;
            let iso3 = Iso3::parse(&record.iso3).map_err(|m| bad(format!("iso3: {m}")))?;
            let m49 =
                match record.m49.trim() {
                    "" => None,
                    n => Some(n.parse().map_err(|_| {
                        bad(format!("m49: expected a number up to 999, found {n:?}"))
                    })?),
                };
            let un_member = match record.un_member.as_str() {
                "Y" => true,
                "N" => false,
                other => return Err(bad(format!("un_member: expected Y or N, found {other:?}"))),
            };
            if table.by_iso3.contains_key(&iso3) {
                return Err(bad(format!("iso3: {iso3} is listed twice")));
            }
            table.by_iso3.insert(iso3.clone(), table.list.len());
            table.list.push(Country {
                iso3,
                iso2: record.iso2,
                m49,
                name_en: record.name_en,
                name_fr: record.name_fr,
                name_es: record.name_es,
                region: record.region,
                subregion: record.subregion,
                un_member,
            });
        }
        Ok(table)
    }

    pub fn get(&self, iso3: &Iso3) -> Option<&Country> {
        self.by_iso3.get(iso3).map(|&i| &self.list[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Country> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
