//! "Who is the focal point for X?": a ranked search over what units are for.
//!
//! BM25 over each unit's name, functions and summary, with English stemming and the
//! organization's own synonyms ("un" → "united nations"). Country offices are left out: they all
//! share the same generic functions and would drown the units that hold a function
//! organization-wide.

use super::{OrgUnit, Organization, UnitCode, UnitKind};
use rust_stemmers::{Algorithm, Stemmer};
use serde::Serialize;
use std::collections::HashMap;

const K1: f64 = 1.2;
const B: f64 = 0.75;
const NAME_WEIGHT: f64 = 2.0;
const FUNCTION_WEIGHT: f64 = 1.0;
const SUMMARY_WEIGHT: f64 = 0.5;
/// Added when a single function holds every term of the query: that function *is* the answer.
const WHOLE_FUNCTION_BONUS: f64 = 1.5;

const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "is", "it", "of", "on", "or",
    "the", "to", "with", "who", "what", "which", "whom", "does", "do", "focal", "point",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FocalPoint {
    pub code: UnitCode,
    pub name: String,
    pub score: f64,
    /// The unit's functions that contain at least one of the query's terms, best first.
    pub matched_functions: Vec<String>,
}

struct Doc {
    unit: usize,
    /// Weighted term frequencies.
    terms: HashMap<String, f64>,
    length: f64,
    /// Stemmed terms of each function, to find the functions a query matches.
    functions: Vec<Vec<String>>,
}

/// An index over an organization's units, built once per organization snapshot.
pub struct FocalPointIndex {
    docs: Vec<Doc>,
    document_frequency: HashMap<String, usize>,
    average_length: f64,
    synonyms: Vec<(Vec<String>, Vec<String>)>,
    units: Vec<OrgUnit>,
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '&'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

fn terms(stemmer: &Stemmer, text: &str) -> Vec<String> {
    words(text)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| stemmer.stem(&w).into_owned())
        .collect()
}

impl FocalPointIndex {
    pub fn new(org: &Organization) -> Self {
        let stemmer = Stemmer::create(Algorithm::English);
        let units: Vec<OrgUnit> = org.units().to_vec();
        let mut docs = Vec::new();
        let mut document_frequency: HashMap<String, usize> = HashMap::new();
        for (i, unit) in units.iter().enumerate() {
            if unit.kind == UnitKind::CountryOffice {
                continue;
            }
            let mut tf: HashMap<String, f64> = HashMap::new();
            let mut add = |text: &str, weight: f64| {
                for t in terms(&stemmer, text) {
                    *tf.entry(t).or_default() += weight;
                }
            };
            add(&unit.name, NAME_WEIGHT);
            add(&unit.summary, SUMMARY_WEIGHT);
            for f in &unit.functions {
                add(f, FUNCTION_WEIGHT);
            }
            for t in tf.keys() {
                *document_frequency.entry(t.clone()).or_default() += 1;
            }
            let length = tf.values().sum();
            docs.push(Doc {
                unit: i,
                terms: tf,
                length,
                functions: unit.functions.iter().map(|f| terms(&stemmer, f)).collect(),
            });
        }
        let average_length = match docs.len() {
            0 => 1.0,
            n => docs.iter().map(|d| d.length).sum::<f64>() / n as f64,
        };
        let synonyms = org
            .definition()
            .synonyms
            .iter()
            .map(|s| (words(&s.term).collect(), terms(&stemmer, &s.means)))
            .collect();
        Self {
            docs,
            document_frequency,
            average_length,
            synonyms,
            units,
        }
    }

    /// Units ranked by relevance to the query, at most `limit`, only those that match at all.
    pub fn search(&self, query: &str, limit: usize) -> Vec<FocalPoint> {
        let stemmer = Stemmer::create(Algorithm::English);
        let query_words: Vec<String> = words(query).collect();
        let mut query_terms = terms(&stemmer, query);
        // A synonym replaces the words it matches ("un" → "united nations").
        for (term, means) in &self.synonyms {
            if term.is_empty() {
                continue;
            }
            if query_words
                .windows(term.len())
                .any(|w| w == term.as_slice())
            {
                let stems: Vec<String> =
                    term.iter().map(|t| stemmer.stem(t).into_owned()).collect();
                query_terms.retain(|t| !stems.contains(t));
                query_terms.extend(means.iter().cloned());
            }
        }
        query_terms.sort();
        query_terms.dedup();
        if query_terms.is_empty() {
            return Vec::new();
        }

        let n = self.docs.len() as f64;
        let mut hits: Vec<FocalPoint> = self
            .docs
            .iter()
            .filter_map(|doc| {
                let mut score = 0.0;
                for t in &query_terms {
                    let Some(&tf) = doc.terms.get(t) else {
                        continue;
                    };
                    let df = self.document_frequency.get(t).copied().unwrap_or(0) as f64;
                    let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                    let norm = K1 * (1.0 - B + B * doc.length / self.average_length);
                    score += idf * tf * (K1 + 1.0) / (tf + norm);
                }
                if score <= 0.0 {
                    return None;
                }
                let unit = &self.units[doc.unit];
                let mut matched: Vec<(usize, &String)> = doc
                    .functions
                    .iter()
                    .zip(&unit.functions)
                    .filter_map(|(stems, text)| {
                        let hits = query_terms.iter().filter(|t| stems.contains(t)).count();
                        (hits > 0).then_some((hits, text))
                    })
                    .collect();
                if matched.iter().any(|(hits, _)| *hits == query_terms.len()) {
                    score += WHOLE_FUNCTION_BONUS;
                }
                matched.sort_by_key(|m| std::cmp::Reverse(m.0));
                Some(FocalPoint {
                    code: unit.code.clone(),
                    name: unit.name.clone(),
                    score,
                    matched_functions: matched.into_iter().map(|(_, f)| f.clone()).collect(),
                })
            })
            .collect();
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.name.cmp(&b.name))
        });
        hits.truncate(limit);
        hits
    }
}
