//! The Strategic Results Framework (SRF) as data: the organization's objectives, the
//! long-term and short-term outcomes under them and the outputs under those, each with
//! institutional indicators that projects' indicators contribute to. It lives in a file
//! (`data/srf.toml`) so that RBM officers change it by editing data, reviewed like code, and
//! every office reports against the same codes.
//!
//! Codes carry the tree: `1` (objective) → `1.2` (long-term outcome) → `1.2.3` (short-term
//! outcome) → `1.2.3.a` (output). Sections outside the numbered objectives (cross-cutting
//! priorities, organizational effectiveness) use letters at the top: `CC`, `CC.1`, `CC.1.1`,
//! `CC.1.1.a`. Indicator codes are the node's code, a dash and a number: `1.2-1`.

use super::aggregate::Rules;
use super::model::{AggregationType, Direction, DisaggregationCategory, Measure, text_enum};
use super::reference;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

text_enum!(
    /// The four levels of the SRF, top down.
    SrfLevel, "SRF level" {
        Objective = "objective",
        LongTermOutcome = "long_term_outcome",
        ShortTermOutcome = "short_term_outcome",
        Output = "output",
    }
);

impl SrfLevel {
    /// 1 for objectives … 4 for outputs: the number of segments in the code.
    pub fn depth(self) -> usize {
        SrfLevel::ALL.iter().position(|l| *l == self).unwrap_or(0) + 1
    }

    fn at_depth(depth: usize) -> Option<SrfLevel> {
        SrfLevel::ALL.get(depth.checked_sub(1)?).copied()
    }
}

/// An institutional indicator of an SRF node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrfIndicator {
    /// `1.2-1`: the node's code, a dash, a number.
    pub code: String,
    pub title: String,
    pub measure: Measure,
    pub aggregation: AggregationType,
    pub direction: Direction,
    /// What is counted (`people`, `countries`, `%`); empty for qualitative indicators.
    pub unit: String,
    /// Values are running totals (people reached since the start), see
    /// [`super::aggregate`].
    pub cumulative: bool,
    /// The categories contributions are expected to be split by.
    pub disaggregate_by: Vec<DisaggregationCategory>,
}

impl SrfIndicator {
    /// How contributions to this indicator aggregate.
    pub fn rules(&self) -> Rules {
        Rules {
            aggregation: self.aggregation,
            measure: self.measure,
            cumulative: self.cumulative,
        }
    }
}

/// One node of the SRF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrfNode {
    pub code: String,
    pub level: SrfLevel,
    /// English title; the UI translates.
    pub title: String,
    /// The code of the node above; `None` for objectives and sections.
    pub parent: Option<String>,
    /// GCM objectives (1–23) this node contributes to.
    pub gcm: Vec<u8>,
    /// SDG targets (`10.7`) this node contributes to.
    pub sdg: Vec<String>,
    pub indicators: Vec<SrfIndicator>,
}

/// The checked SRF: a tree of nodes in file order, with lookups by code.
#[derive(Debug, Clone, Serialize)]
pub struct Srf {
    pub title: String,
    /// Which edition of the framework this is, e.g. `2026 working model`.
    pub edition: String,
    nodes: Vec<SrfNode>,
    #[serde(skip)]
    by_code: HashMap<String, usize>,
    #[serde(skip)]
    children: Vec<Vec<usize>>,
    #[serde(skip)]
    roots: Vec<usize>,
    #[serde(skip)]
    indicators: HashMap<String, (usize, usize)>,
}

impl Srf {
    /// Every node, in file order.
    pub fn nodes(&self) -> &[SrfNode] {
        &self.nodes
    }

    /// The objectives and sections, in file order.
    pub fn roots(&self) -> impl Iterator<Item = &SrfNode> {
        self.roots.iter().map(|&i| &self.nodes[i])
    }

    pub fn node(&self, code: &str) -> Option<&SrfNode> {
        self.by_code.get(code).map(|&i| &self.nodes[i])
    }

    /// The nodes directly under `code`, in file order (empty for an unknown code).
    pub fn children(&self, code: &str) -> impl Iterator<Item = &SrfNode> {
        let list = match self.by_code.get(code) {
            Some(&i) => self.children[i].as_slice(),
            None => &[],
        };
        list.iter().map(|&i| &self.nodes[i])
    }

    pub fn parent(&self, code: &str) -> Option<&SrfNode> {
        self.node(code)?
            .parent
            .as_deref()
            .and_then(|p| self.node(p))
    }

    /// The nodes above `code`, nearest first (an output's short-term outcome, then its
    /// long-term outcome, then its objective): where a contribution to `code` also counts.
    pub fn ancestors(&self, code: &str) -> Vec<&SrfNode> {
        let mut out = Vec::new();
        let mut at = self.parent(code);
        while let Some(node) = at {
            out.push(node);
            at = self.parent(&node.code);
        }
        out
    }

    /// The nodes below `code`, depth first in file order, without `code` itself.
    pub fn descendants(&self, code: &str) -> Vec<&SrfNode> {
        let mut out = Vec::new();
        if let Some(&i) = self.by_code.get(code) {
            self.walk_from(i, &mut out);
        }
        out
    }

    fn walk_from<'a>(&'a self, i: usize, out: &mut Vec<&'a SrfNode>) {
        for &c in &self.children[i] {
            out.push(&self.nodes[c]);
            self.walk_from(c, out);
        }
    }

    /// Every node, depth first: each objective followed by everything under it.
    pub fn walk(&self) -> Vec<&SrfNode> {
        let mut out = Vec::with_capacity(self.nodes.len());
        for &r in &self.roots {
            out.push(&self.nodes[r]);
            self.walk_from(r, &mut out);
        }
        out
    }

    /// An indicator by its code, with its node.
    pub fn indicator(&self, code: &str) -> Option<(&SrfNode, &SrfIndicator)> {
        let &(n, i) = self.indicators.get(code)?;
        let node = &self.nodes[n];
        Some((node, &node.indicators[i]))
    }

    /// Every indicator with its node, in file order.
    pub fn indicators(&self) -> impl Iterator<Item = (&SrfNode, &SrfIndicator)> {
        self.nodes
            .iter()
            .flat_map(|n| n.indicators.iter().map(move |i| (n, i)))
    }
}

/// What is wrong with an SRF file, naming the file and the node or indicator (or the line and
/// column of a syntax error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {entry}: {message}")]
pub struct SrfError {
    pub file: String,
    /// `node 1.2`, `indicator 1.2-1`, `line 12, column 3` or `file`.
    pub entry: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSrf {
    framework: FileHeader,
    #[serde(default)]
    nodes: Vec<FileNode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHeader {
    title: String,
    edition: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNode {
    code: String,
    level: String,
    title: String,
    #[serde(default)]
    gcm: Vec<u8>,
    #[serde(default)]
    sdg: Vec<String>,
    #[serde(default)]
    indicators: Vec<FileIndicator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIndicator {
    code: String,
    title: String,
    measure: String,
    aggregation: String,
    direction: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    cumulative: bool,
    #[serde(default)]
    disaggregate_by: Vec<String>,
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

/// Checks a node code's shape and returns its depth (1–4).
fn code_depth(code: &str) -> Result<usize, String> {
    let bad = || {
        format!(
            "expected a code such as 1, 1.2, 1.2.3 or 1.2.3.a (or CC, CC.1, … for a \
             section), found {code:?}"
        )
    };
    let number = |s: &str| {
        !s.is_empty()
            && s.len() <= 3
            && !s.starts_with('0')
            && s.bytes().all(|b| b.is_ascii_digit())
    };
    let segments: Vec<&str> = code.split('.').collect();
    if segments.len() > 4 {
        return Err(bad());
    }
    for (i, s) in segments.iter().enumerate() {
        let ok = match i {
            0 => {
                number(s) || (2..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase())
            }
            1 | 2 => number(s),
            _ => s.len() == 1 && s.as_bytes()[0].is_ascii_lowercase(),
        };
        if !ok {
            return Err(bad());
        }
    }
    Ok(segments.len())
}

/// Parses and checks an SRF file: unknown keys are refused; codes are well formed, unique and
/// nest under a parent that is in the file; each node's level is the one its code's depth says
/// (objective → long-term outcome → short-term outcome → output); GCM objectives and SDG
/// targets are on the reference lists; indicators have unique codes under their node, known
/// measures, aggregation types and directions that fit together.
pub fn parse_srf_file(file: &str, text: &str) -> Result<Srf, SrfError> {
    let fail = |entry: String, message: String| SrfError {
        file: file.to_owned(),
        entry,
        message,
    };
    let raw: FileSrf = toml::from_str(text).map_err(|e| {
        let entry = match e.span() {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                format!("line {line}, column {column}")
            }
            None => "file".to_owned(),
        };
        fail(entry, e.message().trim().to_owned())
    })?;
    if raw.framework.title.trim().is_empty() {
        return Err(fail("framework".into(), "the title is empty".into()));
    }
    if raw.nodes.is_empty() {
        return Err(fail(
            "file".into(),
            "no nodes: add [[nodes]] entries".into(),
        ));
    }

    let mut nodes: Vec<SrfNode> = Vec::with_capacity(raw.nodes.len());
    let mut by_code: HashMap<String, usize> = HashMap::new();
    let mut indicators: HashMap<String, (usize, usize)> = HashMap::new();
    for raw_node in raw.nodes {
        let code = raw_node.code.trim().to_owned();
        let entry = format!("node {code}");
        let depth = code_depth(&code).map_err(|m| fail(entry.clone(), m))?;
        let level =
            SrfLevel::from_str(&raw_node.level).map_err(|e| fail(entry.clone(), e.to_string()))?;
        let expected = SrfLevel::at_depth(depth).expect("depth is 1 to 4");
        if level != expected {
            return Err(fail(
                entry,
                format!(
                    "listed as {level} but its code puts it at {expected} level (levels go \
                     objective → long_term_outcome → short_term_outcome → output)"
                ),
            ));
        }
        if by_code.contains_key(&code) {
            return Err(fail(entry, format!("code {code} is used twice")));
        }
        if raw_node.title.trim().is_empty() {
            return Err(fail(entry, "the title is empty".into()));
        }
        let parent = code.rsplit_once('.').map(|(p, _)| p.to_owned());
        for g in &raw_node.gcm {
            if reference::gcm_objective(*g).is_none() {
                return Err(fail(
                    entry,
                    format!("unknown GCM objective {g}; expected 1 to 23"),
                ));
            }
        }
        let mut sdg = Vec::with_capacity(raw_node.sdg.len());
        for t in &raw_node.sdg {
            let t = t.trim();
            if reference::sdg_target(t).is_none() {
                return Err(fail(
                    entry,
                    format!(
                        "SDG target {t:?} is not on the list of migration-related targets ({})",
                        reference::sdg_targets()
                            .iter()
                            .map(|t| t.target.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            sdg.push(t.to_owned());
        }

        let index = nodes.len();
        let mut list = Vec::with_capacity(raw_node.indicators.len());
        for raw_ind in raw_node.indicators {
            let ind = check_indicator(&code, raw_ind).map_err(|(e, m)| fail(e, m))?;
            if indicators.contains_key(&ind.code) {
                return Err(fail(
                    format!("indicator {}", ind.code),
                    format!("code {} is used twice", ind.code),
                ));
            }
            indicators.insert(ind.code.clone(), (index, list.len()));
            list.push(ind);
        }
        by_code.insert(code.clone(), index);
        nodes.push(SrfNode {
            code,
            level,
            title: raw_node.title.trim().to_owned(),
            parent,
            gcm: raw_node.gcm,
            sdg,
            indicators: list,
        });
    }

    let mut children = vec![Vec::new(); nodes.len()];
    let mut roots = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        match &node.parent {
            None => roots.push(i),
            Some(p) => match by_code.get(p) {
                Some(&pi) => children[pi].push(i),
                None => {
                    return Err(fail(
                        format!("node {}", node.code),
                        format!("its parent {p} is not in the file"),
                    ));
                }
            },
        }
    }

    Ok(Srf {
        title: raw.framework.title.trim().to_owned(),
        edition: raw.framework.edition.trim().to_owned(),
        nodes,
        by_code,
        children,
        roots,
        indicators,
    })
}

fn check_indicator(node: &str, raw: FileIndicator) -> Result<SrfIndicator, (String, String)> {
    let code = raw.code.trim().to_owned();
    let entry = format!("indicator {code}");
    let err = |m: String| (entry.clone(), m);
    let numbered = code
        .strip_prefix(node)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|n| {
            !n.is_empty()
                && n.len() <= 3
                && !n.starts_with('0')
                && n.bytes().all(|b| b.is_ascii_digit())
        });
    if !numbered {
        return Err(err(format!(
            "expected a code made of the node's code, a dash and a number, such as {node}-1"
        )));
    }
    if raw.title.trim().is_empty() {
        return Err(err("the title is empty".into()));
    }
    let measure = Measure::from_str(&raw.measure).map_err(|e| err(e.to_string()))?;
    let aggregation =
        AggregationType::from_str(&raw.aggregation).map_err(|e| err(e.to_string()))?;
    let direction = Direction::from_str(&raw.direction).map_err(|e| err(e.to_string()))?;
    if !aggregation.fits(measure) {
        return Err(err(format!(
            "a {measure} indicator cannot be aggregated by {aggregation}; use none"
        )));
    }
    if raw.cumulative && !(measure.is_quantitative() && aggregation.is_aggregatable()) {
        return Err(err(format!(
            "a {measure} indicator aggregated by {aggregation} cannot be cumulative"
        )));
    }
    let unit = raw.unit.trim().to_owned();
    if measure == Measure::Number && unit.is_empty() {
        return Err(err(
            "a number indicator needs a unit (people, households, countries, …)".into(),
        ));
    }
    let mut disaggregate_by: Vec<DisaggregationCategory> = Vec::new();
    for c in &raw.disaggregate_by {
        let category = DisaggregationCategory::from_str(c).map_err(err)?;
        if disaggregate_by.contains(&category) {
            return Err(err(format!("category {category} is listed twice")));
        }
        disaggregate_by.push(category);
    }
    if measure == Measure::Qualitative && !disaggregate_by.is_empty() {
        return Err(err("qualitative indicators are not disaggregated".into()));
    }
    Ok(SrfIndicator {
        code,
        title: raw.title.trim().to_owned(),
        measure,
        aggregation,
        direction,
        unit,
        cumulative: raw.cumulative,
        disaggregate_by,
    })
}

impl fmt::Display for SrfNode {
    /// `1.2 Migrants … are protected`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.title)
    }
}

#[cfg(test)]
mod tests;
