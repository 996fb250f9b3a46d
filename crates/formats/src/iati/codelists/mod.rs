//! The IATI 2.03 codelists (embedded and non-embedded), shipped in the binary in the compact
//! form `build.rs` makes of `data/iati/codelists/xml/`, and the checks of which attribute
//! takes which codelist (IATI's `mapping.xml`).

mod mapping;

use std::collections::HashMap;
use std::sync::LazyLock;

use rustc_hash::FxHashSet;

pub(crate) use mapping::{CODELIST_CHECKS, CodelistChecks};

/// One codelist: its codes, and what IATI says about it.
#[derive(Debug, Default)]
pub(crate) struct Codelist {
    /// Part of the standard itself (changes need a new version) rather than replicated from
    /// another body (countries, currencies, sectors …).
    pub(crate) embedded: bool,
    codes: FxHashSet<Box<str>>,
}

impl Codelist {
    /// Withdrawn codes still count: the IATI Validator accepts them, since old activities
    /// legitimately use them.
    pub(crate) fn contains(&self, code: &str) -> bool {
        self.codes.contains(code)
    }

    pub(crate) fn codes(&self) -> impl Iterator<Item = &str> {
        self.codes.iter().map(|c| &**c)
    }
}

pub(crate) static CODELISTS: LazyLock<HashMap<String, Codelist>> = LazyLock::new(|| {
    let compact = include_str!(concat!(env!("OUT_DIR"), "/codelists.txt"));
    let mut lists: HashMap<String, Codelist> = HashMap::new();
    let mut current: Option<String> = None;
    for line in compact.lines() {
        if let Some(header) = line.strip_prefix('=') {
            let mut fields = header.split('\t');
            let name = fields.next().unwrap_or_default().to_owned();
            let embedded = fields.next() == Some("1");
            lists.insert(
                name.clone(),
                Codelist {
                    embedded,
                    codes: FxHashSet::default(),
                },
            );
            current = Some(name);
        } else if let Some(list) = current.as_ref().and_then(|n| lists.get_mut(n)) {
            list.codes.insert(line.trim_start_matches('~').into());
        }
    }
    lists
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_codelists_hold_their_codes() {
        let sectors = &CODELISTS["Sector"];
        assert!(!sectors.embedded);
        assert!(sectors.contains("11110"));
        assert!(sectors.contains("11321"), "withdrawn codes stay valid");
        assert!(!sectors.contains("99999"));
        assert!(CODELISTS["ActivityStatus"].embedded);
        assert!(CODELISTS["Currency"].contains("EUR"));
        assert!(CODELISTS.len() >= 57);
    }
}
