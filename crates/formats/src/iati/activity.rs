//! An IATI activity as Meridian keeps it: plain data, read by [`super::read`], written by
//! [`super::write`].
//!
//! Only what Meridian stores is modelled. Every other element of an activity is counted in
//! [`Extra`] (by element name), so a caller can say what was left out instead of losing it
//! silently. Results are kept whole, as a tree of [`RawElement`]s, until Meridian's results
//! module models them.
//!
//! Codes and amounts are kept as the text the file has (trimmed): the formats layer does not
//! interpret them; the store parses amounts exactly and checks codes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One `narrative`: a text in a language (`xml:lang`; `None` is the activity's default).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrative {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    pub text: String,
}

impl Narrative {
    pub fn new(lang: Option<&str>, text: impl Into<String>) -> Self {
        Narrative {
            lang: lang.map(str::to_owned),
            text: text.into(),
        }
    }
}

/// The narrative to show in `lang`: the one in that language, else the one in the
/// activity's default language (no `xml:lang`), else the first.
pub fn pick_narrative<'a>(
    narratives: &'a [Narrative],
    lang: Option<&str>,
) -> Option<&'a Narrative> {
    narratives
        .iter()
        .find(|n| lang.is_some() && n.lang.as_deref() == lang)
        .or_else(|| narratives.iter().find(|n| n.lang.is_none()))
        .or_else(|| narratives.first())
}

/// `reporting-org`, and the organisation parts of `provider-org` / `receiver-org`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// `reporting-org/@secondary-reporter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_reporter: Option<String>,
    /// `provider-org/@provider-activity-id` or `receiver-org/@receiver-activity-id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narratives: Vec<Narrative>,
}

/// `participating-org`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipatingOrg {
    /// 1 funding, 2 accountable, 3 extending, 4 implementing (OrganisationRole).
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crs_channel_code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narratives: Vec<Narrative>,
}

/// `description` (type 1 general, 2 objectives, 3 target groups, 4 other).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    pub narratives: Vec<Narrative>,
}

/// `activity-date` (type 1 planned start, 2 actual start, 3 planned end, 4 actual end).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityDate {
    pub r#type: String,
    pub iso_date: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narratives: Vec<Narrative>,
}

/// `recipient-country` (ISO 3166-1 alpha-2) or `recipient-region`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub code: String,
    /// Regions only: RegionVocabulary (1 OECD DAC, 2 UN M49, 99 reporting organisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocabulary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocabulary_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narratives: Vec<Narrative>,
}

/// `sector`, with its vocabulary (1 DAC 5-digit when absent).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sector {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocabulary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocabulary_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narratives: Vec<Narrative>,
}

/// A code with its vocabulary: `location-id`, `administrative` (with `level`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VocabCode {
    pub vocabulary: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}

/// `location`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
    /// `location-reach/@code` (1 activity, 2 beneficiaries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<VocabCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name: Vec<Narrative>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub description: Vec<Narrative>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activity_description: Vec<Narrative>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub administratives: Vec<VocabCode>,
    /// `point/@srsName` and `point/pos` ("latitude longitude").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srs_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exactness: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_designation: Option<String>,
}

/// `value`: an amount as written, with its currency (else the activity's default) and the
/// date its exchange rate is taken on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    pub amount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_date: Option<String>,
}

/// `budget` (type 1 original, 2 revised; status 1 indicative, 2 committed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    pub period_start: String,
    pub period_end: String,
    pub value: Value,
}

/// `transaction`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub humanitarian: Option<String>,
    /// TransactionType (1 incoming funds, 2 outgoing commitment, 3 disbursement,
    /// 4 expenditure, …).
    pub r#type: String,
    pub date: String,
    pub value: Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub description: Vec<Narrative>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<OrgRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<OrgRef>,
    /// Child elements of the transaction Meridian does not model (sector, flow-type, …),
    /// kept whole, in order; they are written back after `receiver-org`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<RawElement>,
}

/// `document-link`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLink {
    pub url: String,
    pub format: String,
    pub title: Vec<Narrative>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub description: Vec<Narrative>,
    /// DocumentCategory codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_date: Option<String>,
}

/// An element kept whole: its name, attributes (in order), text and children. Used for
/// results (until Meridian models them) and for the parts of a transaction it does not model.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawElement {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attrs: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<RawElement>,
}

impl RawElement {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child(&self, name: &str) -> Option<&RawElement> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Elements in this tree, this one included.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(RawElement::count).sum::<usize>()
    }
}

/// What an activity had that Meridian does not keep: element name → how many (each
/// element counted once, with its subtree).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extra {
    pub elements: BTreeMap<String, u64>,
}

impl Extra {
    pub fn add(&mut self, name: &str) {
        *self.elements.entry(name.to_owned()).or_default() += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    pub fn total(&self) -> u64 {
        self.elements.values().sum()
    }

    pub fn merge(&mut self, other: &Extra) {
        for (k, v) in &other.elements {
            *self.elements.entry(k.clone()).or_default() += v;
        }
    }
}

/// One `iati-activity`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub identifier: String,
    /// `xml:lang`: the language of narratives without their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub humanitarian: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hierarchy: Option<String>,
    pub reporting_org: OrgRef,
    pub titles: Vec<Narrative>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub descriptions: Vec<Description>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participating_orgs: Vec<ParticipatingOrg>,
    /// ActivityStatus (1 pipeline, 2 implementation, 3 finalisation, 4 closed, 5 cancelled,
    /// 6 suspended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<ActivityDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_countries: Vec<Recipient>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_regions: Vec<Recipient>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<Sector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<Budget>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transactions: Vec<Transaction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub document_links: Vec<DocumentLink>,
    /// `result` elements, whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<RawElement>,
    /// What was left out.
    #[serde(default, skip_serializing_if = "Extra::is_empty")]
    pub extra: Extra,
}

impl Activity {
    /// The title in `lang` (see [`pick_narrative`]).
    pub fn title(&self, lang: Option<&str>) -> Option<&str> {
        pick_narrative(&self.titles, lang).map(|n| n.text.as_str())
    }
}
