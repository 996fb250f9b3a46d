//! The SRF file: the shipped one parses and has the expected shape; every kind of mistake is
//! refused with the file and the node or indicator named.

use super::*;

const HEADER: &str = "[framework]\ntitle = \"SRF\"\nedition = \"test\"\n";

fn parse(body: &str) -> Result<Srf, SrfError> {
    parse_srf_file("srf.toml", &format!("{HEADER}{body}"))
}

fn node(code: &str, level: &str) -> String {
    format!("[[nodes]]\ncode = \"{code}\"\nlevel = \"{level}\"\ntitle = \"Node {code}\"\n")
}

fn indicator(code: &str, measure: &str, aggregation: &str, extra: &str) -> String {
    format!(
        "[[nodes.indicators]]\ncode = \"{code}\"\ntitle = \"Indicator {code}\"\n\
         measure = \"{measure}\"\naggregation = \"{aggregation}\"\ndirection = \"ascending\"\n{extra}"
    )
}

fn small() -> String {
    [
        node("1", "objective"),
        node("1.1", "long_term_outcome"),
        indicator("1.1-1", "number", "sum", "unit = \"people\"\n"),
        node("1.1.1", "short_term_outcome"),
        node("1.1.1.a", "output"),
        node("1.1.1.b", "output"),
        node("1.2", "long_term_outcome"),
        node("2", "objective"),
    ]
    .concat()
}

fn error(body: &str) -> String {
    parse(body).unwrap_err().to_string()
}

#[test]
fn the_shipped_srf_parses_with_its_objectives_and_sections() {
    let srf = crate::builtin::srf();
    assert_eq!(srf.title, "Strategic Results Framework");
    let roots: Vec<(&str, &str)> = srf
        .roots()
        .map(|n| (n.code.as_str(), n.title.as_str()))
        .collect();
    assert_eq!(
        roots,
        [
            ("1", "Saving lives and protecting people on the move"),
            ("2", "Driving solutions to displacement"),
            ("3", "Facilitating pathways for regular migration"),
            ("CC", "Cross-cutting priorities"),
            ("OE", "Organizational effectiveness"),
        ]
    );
    assert!(
        (40..=70).contains(&srf.nodes().len()),
        "{}",
        srf.nodes().len()
    );
    // Every objective reaches down to outputs, and outputs have indicators.
    for root in srf.roots() {
        let below = srf.descendants(&root.code);
        for level in [
            SrfLevel::LongTermOutcome,
            SrfLevel::ShortTermOutcome,
            SrfLevel::Output,
        ] {
            assert!(
                below.iter().any(|n| n.level == level),
                "{} {level}",
                root.code
            );
        }
    }
    let outputs_without = srf
        .nodes()
        .iter()
        .filter(|n| n.level == SrfLevel::Output && n.indicators.is_empty())
        .count();
    assert_eq!(outputs_without, 0);
    assert!(srf.indicators().count() >= 40);
    // Descending and cumulative indicators are there to exercise the maths.
    assert!(
        srf.indicators()
            .any(|(_, i)| i.direction == Direction::Descending)
    );
    assert!(srf.indicators().any(|(_, i)| i.cumulative));
    assert!(
        srf.indicators()
            .any(|(_, i)| i.measure == Measure::Percentage)
    );
    assert!(
        srf.indicators()
            .any(|(_, i)| i.measure == Measure::Qualitative)
    );
    // Links to the reference lists.
    assert!(srf.node("1.2").unwrap().sdg.contains(&"8.7".to_owned()));
    assert!(srf.node("3.3").unwrap().gcm.contains(&20));
    // Walks.
    assert_eq!(srf.walk().len(), srf.nodes().len());
}

#[test]
fn lookups_and_walks_follow_the_codes() {
    let srf = parse(&small()).unwrap();
    assert_eq!(srf.node("1.1.1.a").unwrap().level, SrfLevel::Output);
    assert_eq!(srf.parent("1.1.1.a").unwrap().code, "1.1.1");
    assert!(srf.parent("1").is_none());
    let up: Vec<&str> = srf
        .ancestors("1.1.1.b")
        .iter()
        .map(|n| n.code.as_str())
        .collect();
    assert_eq!(up, ["1.1.1", "1.1", "1"]);
    let down: Vec<&str> = srf
        .descendants("1")
        .iter()
        .map(|n| n.code.as_str())
        .collect();
    assert_eq!(down, ["1.1", "1.1.1", "1.1.1.a", "1.1.1.b", "1.2"]);
    let kids: Vec<&str> = srf.children("1.1.1").map(|n| n.code.as_str()).collect();
    assert_eq!(kids, ["1.1.1.a", "1.1.1.b"]);
    assert!(srf.descendants("9").is_empty());
    let (n, i) = srf.indicator("1.1-1").unwrap();
    assert_eq!((n.code.as_str(), i.unit.as_str()), ("1.1", "people"));
    assert_eq!(i.rules().aggregation, AggregationType::Sum);
    assert!(srf.indicator("1.1-2").is_none());
    assert_eq!(
        srf.walk()
            .iter()
            .map(|n| n.code.as_str())
            .collect::<Vec<_>>(),
        ["1", "1.1", "1.1.1", "1.1.1.a", "1.1.1.b", "1.2", "2"]
    );
}

#[test]
fn children_may_come_before_their_parent_in_the_file() {
    let body = [node("1.1", "long_term_outcome"), node("1", "objective")].concat();
    let srf = parse(&body).unwrap();
    assert_eq!(srf.roots().count(), 1);
    assert_eq!(srf.children("1").count(), 1);
}

#[test]
fn structural_mistakes_name_the_node() {
    assert_eq!(
        error(&[node("1", "objective"), node("1", "objective")].concat()),
        "srf.toml: node 1: code 1 is used twice"
    );
    assert_eq!(
        error(&[node("1", "objective"), node("1.2.1", "short_term_outcome")].concat()),
        "srf.toml: node 1.2.1: its parent 1.2 is not in the file"
    );
    assert_eq!(
        error(&node("1.1", "output")),
        "srf.toml: node 1.1: listed as output but its code puts it at long_term_outcome level \
         (levels go objective → long_term_outcome → short_term_outcome → output)"
    );
    assert_eq!(
        error(&node("1.1.1.1", "output")),
        "srf.toml: node 1.1.1.1: expected a code such as 1, 1.2, 1.2.3 or 1.2.3.a (or CC, \
         CC.1, … for a section), found \"1.1.1.1\""
    );
    for bad in ["1.a", "01", "a", "1..2", "1.1.1.a.b", "", "CC.a"] {
        assert!(
            error(&node(bad, "objective")).contains("expected a code"),
            "{bad}"
        );
    }
    assert_eq!(
        error(&node("1", "goal")),
        "srf.toml: node 1: unknown SRF level \"goal\"; expected one of objective, \
         long_term_outcome, short_term_outcome, output"
    );
    assert_eq!(
        error(&format!("{}gcm = [24]\n", node("1", "objective"))),
        "srf.toml: node 1: unknown GCM objective 24; expected 1 to 23"
    );
    assert!(
        error(&format!("{}sdg = [\"1.1\"]\n", node("1", "objective")))
            .starts_with("srf.toml: node 1: SDG target \"1.1\" is not on the list")
    );
    assert_eq!(error(""), "srf.toml: file: no nodes: add [[nodes]] entries");
}

#[test]
fn indicator_mistakes_name_the_indicator() {
    let with = |ind: String| format!("{}{ind}", node("1", "objective"));
    assert_eq!(
        error(&with(indicator("2-1", "number", "sum", "unit = \"x\"\n"))),
        "srf.toml: indicator 2-1: expected a code made of the node's code, a dash and a number, \
         such as 1-1"
    );
    assert_eq!(
        error(&with(indicator("1-1", "count", "sum", ""))),
        "srf.toml: indicator 1-1: unknown measure \"count\"; expected one of number, \
         percentage, qualitative"
    );
    assert!(
        error(&with(indicator("1-1", "number", "total", "unit = \"x\"\n")))
            .starts_with("srf.toml: indicator 1-1: unknown aggregation type \"total\"")
    );
    assert_eq!(
        error(&with(indicator("1-1", "qualitative", "sum", ""))),
        "srf.toml: indicator 1-1: a qualitative indicator cannot be aggregated by sum; use none"
    );
    assert_eq!(
        error(&with(indicator(
            "1-1",
            "number",
            "none",
            "unit = \"x\"\ncumulative = true\n"
        ))),
        "srf.toml: indicator 1-1: a number indicator aggregated by none cannot be cumulative"
    );
    assert_eq!(
        error(&with(indicator("1-1", "number", "sum", ""))),
        "srf.toml: indicator 1-1: a number indicator needs a unit (people, households, \
         countries, …)"
    );
    assert_eq!(
        error(&with(indicator(
            "1-1",
            "number",
            "sum",
            "unit = \"x\"\ndisaggregate_by = [\"sex\", \"sex\"]\n"
        ))),
        "srf.toml: indicator 1-1: category sex is listed twice"
    );
    let twice = [
        indicator("1-1", "number", "sum", "unit = \"x\"\n"),
        indicator("1-1", "number", "sum", "unit = \"x\"\n"),
    ]
    .concat();
    assert_eq!(
        error(&with(twice)),
        "srf.toml: indicator 1-1: code 1-1 is used twice"
    );
    let srf = parse(&with(indicator(
        "1-1",
        "percentage",
        "sum",
        "disaggregate_by = [\"sex\", \"nationality\"]\n",
    )))
    .unwrap();
    let (_, i) = srf.indicator("1-1").unwrap();
    assert_eq!(
        i.disaggregate_by,
        [
            DisaggregationCategory::Sex,
            DisaggregationCategory::Custom("nationality".into())
        ]
    );
}

#[test]
fn unknown_keys_and_syntax_errors_give_line_and_column() {
    let e = error(&format!("{}colour = \"red\"\n", node("1", "objective")));
    assert!(
        e.starts_with("srf.toml: line 8, column 1: unknown field `colour`"),
        "{e}"
    );
    let e = parse_srf_file("srf.toml", "[framework]\ntitle = \"x\"\nedition = \n").unwrap_err();
    assert_eq!(e.entry, "line 3, column 11");
    let e = parse_srf_file(
        "srf.toml",
        "[[nodes]]\ncode = \"1\"\nlevel = \"objective\"\ntitle = \"t\"\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("missing field `framework`"), "{e}");
}
