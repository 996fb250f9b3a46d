//! The reference lists results are linked to: the 23 objectives of the Global Compact for Safe,
//! Orderly and Regular Migration (GCM) and the migration-related targets of the Sustainable
//! Development Goals. Donors and Member States ask what a project contributes to in these
//! terms, so results matrices and the SRF cite them by number (`GCM 8`, `SDG 10.7`).
//!
//! Both lists ship in the binary (`data/gcm-objectives.csv`, `data/sdg-migration-targets.csv`,
//! titles in the official English wording) and are parsed once.

use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// One GCM objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcmObjective {
    /// 1 to 23.
    pub number: u8,
    /// A few words for tables and chips, e.g. `Save lives`.
    pub short_label: String,
    pub title: String,
}

/// One SDG target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdgTarget {
    /// e.g. `10.7`, `10.c`.
    pub target: String,
    /// Why the target concerns migration, e.g. `remittances`.
    pub theme: String,
    pub title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GcmRow {
    number: String,
    short_label: String,
    title: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SdgRow {
    target: String,
    theme: String,
    title: String,
}

/// Parses the GCM objectives file: numbers 1 to 23, each once, in order, with non-empty labels
/// and titles. Errors name the file and the row.
pub fn parse_gcm_csv(file: &str, text: &str) -> Result<Vec<GcmObjective>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut list: Vec<GcmObjective> = Vec::new();
    for (i, row) in reader.deserialize::<GcmRow>().enumerate() {
        let at = format!("{file}, row {}", i + 2);
        let row = row.map_err(|e| format!("{at}: {e}"))?;
        let expected = list.len() + 1;
        let number: u8 = row
            .number
            .trim()
            .parse()
            .ok()
            .filter(|n| usize::from(*n) == expected)
            .ok_or_else(|| {
                format!(
                    "{at}: expected objective number {expected}, found {:?}",
                    row.number
                )
            })?;
        if row.short_label.trim().is_empty() || row.title.trim().is_empty() {
            return Err(format!(
                "{at}: the short label and the title must not be empty"
            ));
        }
        list.push(GcmObjective {
            number,
            short_label: row.short_label.trim().to_owned(),
            title: row.title.trim().to_owned(),
        });
    }
    if list.len() != 23 {
        return Err(format!(
            "{file}: expected the 23 GCM objectives, found {}",
            list.len()
        ));
    }
    Ok(list)
}

/// Whether `code` looks like an SDG target: goal 1–17, a dot, then a number or a letter
/// (`10.7`, `10.c`).
pub fn is_sdg_target_code(code: &str) -> bool {
    let Some((goal, target)) = code.split_once('.') else {
        return false;
    };
    let goal_ok = goal
        .parse::<u8>()
        .is_ok_and(|g| (1..=17).contains(&g) && !goal.starts_with('0'));
    let target_ok = (target.len() == 1 && target.as_bytes()[0].is_ascii_lowercase())
        || (!target.is_empty()
            && target.len() <= 2
            && !target.starts_with('0')
            && target.bytes().all(|b| b.is_ascii_digit()));
    goal_ok && target_ok
}

/// Parses the SDG targets file: well-formed, unique target codes with non-empty titles.
pub fn parse_sdg_csv(file: &str, text: &str) -> Result<Vec<SdgTarget>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut list: Vec<SdgTarget> = Vec::new();
    for (i, row) in reader.deserialize::<SdgRow>().enumerate() {
        let at = format!("{file}, row {}", i + 2);
        let row = row.map_err(|e| format!("{at}: {e}"))?;
        let target = row.target.trim();
        if !is_sdg_target_code(target) {
            return Err(format!(
                "{at}: expected an SDG target such as 10.7 or 10.c, found {:?}",
                row.target
            ));
        }
        if list.iter().any(|t| t.target == target) {
            return Err(format!("{at}: target {target} is listed twice"));
        }
        if row.title.trim().is_empty() {
            return Err(format!("{at}: the title of target {target} is empty"));
        }
        list.push(SdgTarget {
            target: target.to_owned(),
            theme: row.theme.trim().to_owned(),
            title: row.title.trim().to_owned(),
        });
    }
    Ok(list)
}

static GCM: LazyLock<Vec<GcmObjective>> = LazyLock::new(|| {
    parse_gcm_csv(
        "data/gcm-objectives.csv",
        crate::builtin::GCM_OBJECTIVES_CSV,
    )
    .expect("the shipped GCM objectives are valid (checked by a test)")
});

static SDG: LazyLock<Vec<SdgTarget>> = LazyLock::new(|| {
    parse_sdg_csv(
        "data/sdg-migration-targets.csv",
        crate::builtin::SDG_MIGRATION_TARGETS_CSV,
    )
    .expect("the shipped SDG targets are valid (checked by a test)")
});

/// The 23 GCM objectives, in order.
pub fn gcm_objectives() -> &'static [GcmObjective] {
    &GCM
}

/// GCM objective `number` (1–23).
pub fn gcm_objective(number: u8) -> Option<&'static GcmObjective> {
    GCM.iter().find(|o| o.number == number)
}

/// The migration-related SDG targets, in the file's order.
pub fn sdg_targets() -> &'static [SdgTarget] {
    &SDG
}

/// The SDG target with this code (`10.7`), if it is on the list.
pub fn sdg_target(code: &str) -> Option<&'static SdgTarget> {
    SDG.iter().find(|t| t.target == code.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_23_gcm_objectives_are_there_in_order() {
        let list = gcm_objectives();
        assert_eq!(list.len(), 23);
        assert_eq!(
            gcm_objective(8).unwrap().title,
            "Save lives and establish coordinated international efforts on missing migrants"
        );
        assert_eq!(
            gcm_objective(23).unwrap().short_label,
            "International cooperation"
        );
        assert!(gcm_objective(24).is_none());
        assert!(gcm_objective(0).is_none());
    }

    #[test]
    fn the_migration_sdg_targets_named_by_the_issue_are_there_with_titles() {
        for code in ["10.7", "10.c", "5.2", "8.7", "8.8", "16.2", "17.18", "4.b"] {
            let t = sdg_target(code).unwrap_or_else(|| panic!("{code} missing"));
            assert!(
                t.title.len() > 60,
                "{code} has no real title: {:?}",
                t.title
            );
            assert!(!t.title.contains("not copied"), "{code}");
        }
        assert!(
            sdg_target("17.18")
                .unwrap()
                .title
                .contains("migratory status")
        );
        assert!(sdg_target("10.c").unwrap().title.contains("remittances"));
        assert_eq!(sdg_targets().len(), 8);
    }

    #[test]
    fn sdg_codes_are_checked() {
        for good in ["10.7", "10.c", "4.b", "17.18", "1.1"] {
            assert!(is_sdg_target_code(good), "{good}");
        }
        for bad in [
            "10", "18.1", "0.1", "10.07", "10.C", "10.cc", "x.1", "10.", "10.123",
        ] {
            assert!(!is_sdg_target_code(bad), "{bad}");
        }
    }

    #[test]
    fn bad_reference_rows_are_named() {
        let e = parse_gcm_csv("g.csv", "number,short_label,title\n1,Data,Collect\n3,X,Y\n")
            .unwrap_err();
        assert_eq!(e, "g.csv, row 3: expected objective number 2, found \"3\"");
        let e = parse_gcm_csv("g.csv", "number,short_label,title\n1,Data,Collect\n").unwrap_err();
        assert_eq!(e, "g.csv: expected the 23 GCM objectives, found 1");
        let e = parse_sdg_csv("s.csv", "target,theme,title\n10.7,a,T\n10.7,b,T\n").unwrap_err();
        assert_eq!(e, "s.csv, row 3: target 10.7 is listed twice");
        let e = parse_sdg_csv("s.csv", "target,theme,title\nSDG 10,a,T\n").unwrap_err();
        assert!(e.starts_with("s.csv, row 2: expected an SDG target"), "{e}");
        let e = parse_sdg_csv("s.csv", "target,theme,title,extra\n10.7,a,T,x\n").unwrap_err();
        assert!(e.starts_with("s.csv, row 2:"), "{e}");
    }
}
