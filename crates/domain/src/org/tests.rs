use super::*;

pub(crate) const COUNTRIES: &str = "\
iso3,iso2,m49,name_en,name_fr,name_es,region,subregion,un_member
KEN,KE,404,Kenya,Kenya,Kenya,Africa,Sub-Saharan Africa,Y
UGA,UG,800,Uganda,Ouganda,Uganda,Africa,Sub-Saharan Africa,Y
THA,TH,764,Thailand,Thaïlande,Tailandia,Asia,South-eastern Asia,Y
";

pub(crate) const ORG: &str = r#"
[organization]
name = "Test Organization"
short_name = "TO"
country_office_code = "CO-{iso3}"
country_office_name = "Country Office in {country}"
country_office_functions = ["project implementation in the country"]

[[synonyms]]
term = "un"
means = "united nations"

[[units]]
code = "EO"
name = "Executive Office"
kind = "executive_office"
functions = ["leadership of the organization"]

[[units]]
code = "DSP"
name = "Department of Strategic Planning"
kind = "department"
parent = "EO"

[[units]]
code = "RMU"
name = "Risk Management Unit"
kind = "unit"
parent = "DSP"
functions = ["risk appetite statements", "risk exposure reporting to the Director General"]

[[units]]
code = "UNPD"
name = "United Nations Partnerships Division"
kind = "division"
parent = "EO"
functions = ["guidance on engagement with United Nations country teams"]

[[units]]
code = "RO-NBO"
name = "Regional Office in Nairobi"
kind = "regional_office"
parent = "EO"
functions = ["project review and endorsement"]
covers = ["KEN", "UGA"]

[[units]]
code = "RO-BKK"
name = "Regional Office in Bangkok"
kind = "regional_office"
parent = "EO"
covers = ["THA"]

[[units]]
code = "SE-X"
name = "Office of a Special Envoy"
kind = "special_office"
parent = "RO-NBO"

[[processes]]
code = "RCP-EA"
name = "East African consultations"
kind = "regional_consultative_process"
support = [{ unit = "RO-NBO", role = "secretariat" }]

[[coalitions]]
code = "IBC"
name = "A coalition"
unit = "RO-BKK"
role = "co-lead"
with = ["UN-Habitat"]

[[data_hubs]]
code = "HUB"
name = "A data hub"
unit = "RO-BKK"
"#;

pub(crate) fn countries() -> Countries {
    Countries::from_csv("countries.csv", COUNTRIES.as_bytes()).unwrap()
}

pub(crate) fn org() -> Organization {
    parse_org_file("org.toml", ORG, &countries()).unwrap()
}

fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap()
}

fn error_for(text: &str) -> OrgFileError {
    parse_org_file("org.toml", text, &countries()).unwrap_err()
}

#[test]
fn country_offices_are_generated_under_their_regional_office() {
    let org = org();
    let kenya = org.country_office(&Iso3::parse("ken").unwrap()).unwrap();
    assert_eq!(kenya.code.as_str(), "CO-KEN");
    assert_eq!(kenya.name, "Country Office in Kenya");
    assert_eq!(kenya.parent.as_ref().unwrap().as_str(), "RO-NBO");
    assert_eq!(kenya.functions, ["project implementation in the country"]);
    assert_eq!(
        org.covering_office(&Iso3::parse("THA").unwrap())
            .unwrap()
            .code
            .as_str(),
        "RO-BKK"
    );
}

#[test]
fn scopes_follow_the_place_in_the_tree() {
    let org = org();
    assert_eq!(org.scope_of(&code("RMU")), Scope::Global);
    assert_eq!(org.scope_of(&code("EO")), Scope::Global);
    assert_eq!(org.scope_of(&code("RO-NBO")), Scope::Region(code("RO-NBO")));
    assert_eq!(org.scope_of(&code("CO-KEN")), Scope::Unit(code("CO-KEN")));
    assert_eq!(org.scope_of(&code("SE-X")), Scope::Unit(code("SE-X")));

    let region = Scope::Region(code("RO-NBO"));
    assert!(org.in_scope(&region, &code("CO-UGA")));
    assert!(org.in_scope(&region, &code("SE-X")));
    assert!(!org.in_scope(&region, &code("CO-THA")));
    assert!(!org.in_scope(&Scope::Unit(code("CO-KEN")), &code("CO-UGA")));
    assert!(org.in_scope(&Scope::Global, &code("CO-THA")));
    let mut in_region: Vec<&str> = org
        .units_in_scope(&region)
        .iter()
        .map(|c| c.as_str())
        .collect();
    in_region.sort();
    assert_eq!(in_region, ["CO-KEN", "CO-UGA", "RO-NBO", "SE-X"]);
}

#[test]
fn an_unknown_parent_is_named() {
    let e = error_for(&ORG.replace("parent = \"DSP\"", "parent = \"NOPE\""));
    assert_eq!(e.entry, "unit RMU");
    assert_eq!(e.message, "unknown parent NOPE");
}

#[test]
fn a_duplicate_code_is_named() {
    let e = error_for(&ORG.replace("code = \"UNPD\"", "code = \"RMU\""));
    assert_eq!(
        (e.entry.as_str(), e.message.as_str()),
        ("unit RMU", "duplicate unit code")
    );
}

#[test]
fn an_unknown_country_is_named() {
    let e = error_for(&ORG.replace("[\"THA\"]", "[\"XYZ\"]"));
    assert_eq!(
        (e.entry.as_str(), e.message.as_str()),
        ("unit RO-BKK", "unknown country XYZ")
    );
}

#[test]
fn a_country_covered_twice_is_named() {
    let e = error_for(&ORG.replace("[\"THA\"]", "[\"THA\", \"KEN\"]"));
    assert_eq!(e.entry, "unit RO-BKK");
    assert_eq!(e.message, "country KEN is covered twice (also by RO-NBO)");
}

#[test]
fn syntax_errors_and_unknown_keys_give_the_line() {
    let e = error_for(&ORG.replace("short_name = \"TO\"", "short_name = \"TO\"\ncolour = 1"));
    assert!(e.entry.starts_with("line 5,"), "{e}");
    assert!(e.message.contains("colour"), "{e}");
    let e = error_for("[organization\n");
    assert!(e.entry.starts_with("line 1"), "{e}");
}

#[test]
fn parents_in_a_cycle_are_refused() {
    let text = ORG.replace(
        "code = \"DSP\"\nname = \"Department of Strategic Planning\"\nkind = \"department\"\nparent = \"EO\"",
        "code = \"DSP\"\nname = \"Department of Strategic Planning\"\nkind = \"department\"\nparent = \"RMU\"",
    );
    let e = error_for(&text);
    assert!(e.message.contains("cycle"), "{e}");
}

#[test]
fn references_from_processes_must_be_units() {
    let e = error_for(&ORG.replace("unit = \"RO-NBO\", role", "unit = \"RO-XX\", role"));
    assert_eq!(
        (e.entry.as_str(), e.message.as_str()),
        ("process RCP-EA", "unknown unit RO-XX")
    );
}

#[test]
fn focal_point_search_ranks_by_function_and_expands_synonyms() {
    let org = org();
    let index = FocalPointIndex::new(&org);
    let hits = index.search("Who handles risk appetite?", 5);
    assert_eq!(hits[0].code.as_str(), "RMU");
    assert_eq!(hits[0].matched_functions[0], "risk appetite statements");
    let hits = index.search("UN country teams", 5);
    assert_eq!(hits[0].code.as_str(), "UNPD");
    // Country offices are not focal points for organization-wide functions.
    assert!(
        index
            .search("project implementation", 10)
            .iter()
            .all(|h| !h.code.as_str().starts_with("CO-"))
    );
    assert!(index.search("the of and", 5).is_empty());
}

#[test]
fn unit_codes_are_checked() {
    assert!(UnitCode::parse("RO-BKK").is_ok());
    for bad in ["", "ro-bkk", "-RO", "RO-", "A B", "ABCDEFGHIJKLMNOPQ"] {
        assert!(UnitCode::parse(bad).is_err(), "{bad}");
    }
}

mod shipped {
    //! The organization Meridian ships: the brief's structure.
    use super::*;
    use crate::builtin;

    #[test]
    fn every_un_member_state_is_covered_by_exactly_one_regional_office() {
        let countries = Countries::builtin();
        let org = builtin::organization();
        let members: Vec<&Country> = countries.iter().filter(|c| c.un_member).collect();
        assert_eq!(members.len(), 193);
        let uncovered: Vec<&str> = members
            .iter()
            .filter(|c| org.covering_office(&c.iso3).is_none())
            .map(|c| c.iso3.as_str())
            .collect();
        assert!(uncovered.is_empty(), "not covered: {uncovered:?}");
        assert_eq!(org.regional_offices().count(), 9);
    }

    #[test]
    fn every_unit_the_brief_names_is_present() {
        let org = builtin::organization();
        let names: Vec<&str> = org.units().iter().map(|u| u.name.as_str()).collect();
        for wanted in [
            "Department of External Relations",
            "International Partnerships Division",
            "United Nations Partnerships Division",
            "Donor Relations Division",
            "Global Compact on Migration Unit",
            "Department of Strategic Planning and Organizational Performance",
            "Internal Governance Framework Unit",
            "Risk Management Unit",
            "Results-based Management Unit",
            "Monitoring and Evaluation Unit",
            "Operational Compliance Unit",
            "PRIMA Unit",
            "Department of Operations and Emergencies",
        ] {
            assert!(names.contains(&wanted), "missing {wanted}");
        }
        for city in [
            "Bangkok",
            "Brussels",
            "Vienna",
            "Buenos Aires",
            "San José",
            "Cairo",
            "Pretoria",
            "Nairobi",
            "Dakar",
        ] {
            assert!(
                org.regional_offices().any(|u| u.name.contains(city)),
                "no regional office in {city}"
            );
        }
    }

    #[test]
    fn the_brief_s_focal_point_questions_have_the_right_answer() {
        let org = builtin::organization();
        let index = FocalPointIndex::new(&org);
        for (query, unit) in [
            ("risk appetite", "Risk Management Unit"),
            ("audit recommendations", "Operational Compliance Unit"),
            ("unearmarked funds", "Donor Relations Division"),
            ("project lifecycle system", "PRIMA Unit"),
            ("UN country teams", "United Nations Partnerships Division"),
        ] {
            let hits = index.search(query, 3);
            assert_eq!(
                hits.first().map(|h| h.name.as_str()),
                Some(unit),
                "{query}: {hits:?}"
            );
        }
    }

    #[test]
    fn regional_offices_hold_processes_with_iom_s_role() {
        let org = builtin::organization();
        let mut seen = std::collections::HashSet::new();
        for ro in org.regional_offices() {
            for (p, role) in org.processes_of(&ro.code) {
                seen.insert((p.name.clone(), role));
            }
        }
        for name in [
            "Colombo Process",
            "Almaty Process",
            "Budapest Process",
            "Prague Process",
            "Abu Dhabi Dialogue",
        ] {
            assert!(seen.iter().any(|(n, _)| n.contains(name)), "missing {name}");
        }
        assert!(
            seen.contains(&(
                "Almaty Process".to_owned(),
                ProcessRole::TechnicalSecretariat
            )) || seen
                .iter()
                .any(|(n, r)| n.contains("Almaty") && *r == ProcessRole::TechnicalSecretariat)
        );
    }
}
