//! A small XML Schema interpreter: it reads the IATI XSD files shipped in the binary and
//! compiles them into content-model automata, attribute tables and simple types, which
//! [`validator::SchemaValidator`] then runs over a stream of elements.
//!
//! Supported: global and local elements, element refs, named and anonymous complex types,
//! sequence / choice / all with minOccurs / maxOccurs, `xsd:any` and `xsd:anyAttribute`
//! (namespace constraints, strict / lax / skip), attributes (required, optional, prohibited,
//! fixed), attribute groups, model groups, complexContent and simpleContent extension and
//! restriction, mixed content, simple types (restriction with enumeration, pattern, length,
//! min/max facets; list; union) and the built-in types in [`datatypes`].
//! Not supported (none is used by IATI): substitution groups, `xsi:type`, identity
//! constraints (key/unique/keyref), `redefine`, XSD 1.1.

mod compile;
pub(crate) mod content_model;
pub(crate) mod datatypes;
mod parse;
pub(crate) mod validator;

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use self::content_model::Automaton;
use self::datatypes::{Builtin, WhiteSpace, normalize_ws};
use crate::iati::names::{Interner, NameId};

/// The schema files shipped in the binary, by file name (as `schemaLocation` names them).
const SCHEMA_FILES: &[(&str, &str)] = &[
    (
        "iati-activities-schema.xsd",
        include_str!("../../../data/iati/schemas/iati-activities-schema.xsd"),
    ),
    (
        "iati-organisations-schema.xsd",
        include_str!("../../../data/iati/schemas/iati-organisations-schema.xsd"),
    ),
    (
        "iati-common.xsd",
        include_str!("../../../data/iati/schemas/iati-common.xsd"),
    ),
    (
        "xml.xsd",
        include_str!("../../../data/iati/schemas/xml.xsd"),
    ),
];

/// A schema that could not be compiled (a bug in the shipped files or in this interpreter).
#[derive(Debug, thiserror::Error)]
#[error("cannot compile the XML schema: {0}")]
pub struct SchemaError(String);

impl SchemaError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        SchemaError(message.into())
    }
}

/// The activities and organisations schemas compiled together: their global elements do not
/// clash, so one [`Schema`] validates both kinds of file, like `xmllint` given the right XSD.
pub(crate) static IATI_SCHEMA: LazyLock<Result<Schema, SchemaError>> = LazyLock::new(|| {
    compile::compile(
        SCHEMA_FILES,
        &[
            "iati-activities-schema.xsd",
            "iati-organisations-schema.xsd",
        ],
    )
});

/// Compiles schema texts (for tests of the interpreter itself).
#[cfg(test)]
pub(crate) fn compile_texts(files: &[(&str, &str)], roots: &[&str]) -> Result<Schema, SchemaError> {
    compile::compile(files, roots)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Process {
    Strict,
    Lax,
    Skip,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NsConstraint {
    Any,
    /// Any namespace except these ("" stands for no namespace).
    Not(Vec<String>),
    /// Only these namespaces ("" stands for no namespace).
    Only(Vec<String>),
}

#[derive(Clone, Debug)]
pub(crate) struct Wildcard {
    pub(crate) namespaces: NsConstraint,
    pub(crate) process: Process,
}

impl Wildcard {
    pub(crate) fn allows(&self, namespace: Option<&str>) -> bool {
        let ns = namespace.unwrap_or("");
        match &self.namespaces {
            NsConstraint::Any => true,
            NsConstraint::Not(list) => !list.iter().any(|n| n == ns),
            NsConstraint::Only(list) => list.iter().any(|n| n == ns),
        }
    }

    pub(crate) fn describe(&self) -> &'static str {
        match self.namespaces {
            NsConstraint::Any => "##any",
            NsConstraint::Not(_) => "##other",
            NsConstraint::Only(_) => "##list",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TypeRef {
    Complex(u32),
    Simple(u32),
}

#[derive(Debug)]
pub(crate) struct ElementDecl {
    pub(crate) name: NameId,
    pub(crate) ty: TypeRef,
}

#[derive(Clone, Debug)]
pub(crate) struct AttrUse {
    pub(crate) name: NameId,
    pub(crate) ty: u32,
    pub(crate) required: bool,
    pub(crate) fixed: Option<String>,
}

#[derive(Debug)]
pub(crate) enum Content {
    /// No children, no character data.
    Empty,
    /// Character data of a simple type, no children.
    Simple(u32),
    /// Children following an automaton; character data only when mixed.
    Elements { automaton: u32, mixed: bool },
    /// `xsd:all`: each member at most once, in any order.
    All {
        members: Vec<AllMember>,
        mixed: bool,
        optional: bool,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct AllMember {
    pub(crate) name: NameId,
    pub(crate) decl: u32,
    pub(crate) required: bool,
}

#[derive(Debug)]
pub(crate) struct ComplexType {
    pub(crate) attributes: Vec<AttrUse>,
    pub(crate) attribute_wildcard: Option<u32>,
    pub(crate) content: Content,
}

#[derive(Debug)]
pub(crate) enum Variety {
    Builtin(Builtin),
    Restriction { base: u32 },
    List { item: u32 },
    Union { members: Vec<u32> },
}

#[derive(Debug, Default)]
pub(crate) struct Facets {
    pub(crate) enumeration: Option<Vec<String>>,
    pub(crate) patterns: Vec<(String, Regex)>,
    pub(crate) length: Option<usize>,
    pub(crate) min_length: Option<usize>,
    pub(crate) max_length: Option<usize>,
    pub(crate) min_inclusive: Option<f64>,
    pub(crate) max_inclusive: Option<f64>,
    pub(crate) min_exclusive: Option<f64>,
    pub(crate) max_exclusive: Option<f64>,
    pub(crate) white_space: Option<WhiteSpace>,
}

#[derive(Debug)]
pub(crate) struct SimpleType {
    /// For messages: `xs:date`, or `local atomic type` like libxml2 says.
    pub(crate) label: String,
    pub(crate) variety: Variety,
    pub(crate) facets: Facets,
}

/// A compiled schema.
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) names: Interner,
    pub(crate) elements: Vec<ElementDecl>,
    pub(crate) complex_types: Vec<ComplexType>,
    pub(crate) simple_types: Vec<SimpleType>,
    pub(crate) wildcards: Vec<Wildcard>,
    pub(crate) automata: Vec<Automaton>,
    pub(crate) global_elements: HashMap<NameId, u32>,
    pub(crate) global_attributes: HashMap<NameId, u32>,
    /// For each simple type, whether every text is a valid value of it (a string type
    /// without facets, like a narrative's): its text need not be kept or checked.
    pub(crate) any_text: Vec<bool>,
}

impl Schema {
    /// Checks a value against a simple type; `Err` carries the reason, worded like libxml2.
    pub(crate) fn check_simple(&self, ty: u32, raw: &str) -> Result<(), String> {
        if self.any_text.get(ty as usize) == Some(&true) {
            return Ok(());
        }
        self.check_value(ty, raw)
    }

    /// [`Schema::check_simple`] without the short cut for types that take any text.
    fn check_value(&self, ty: u32, raw: &str) -> Result<(), String> {
        let Some(st) = self.simple_types.get(ty as usize) else {
            return Ok(());
        };
        let value = normalize_ws(raw, self.white_space(ty));
        match &st.variety {
            Variety::Builtin(b) => {
                if !b.accepts(&value) {
                    return Err(format!(
                        "'{value}' is not a valid value of the atomic type '{}'.",
                        st.label
                    ));
                }
            }
            Variety::Restriction { base } => {
                self.check_simple(*base, &value).map_err(|reason| {
                    if st.label.starts_with("local") {
                        reason
                    } else {
                        format!(
                            "'{value}' is not a valid value of the atomic type '{}'.",
                            st.label
                        )
                    }
                })?;
            }
            Variety::List { item } => {
                for token in value.split(' ').filter(|t| !t.is_empty()) {
                    self.check_simple(*item, token)?;
                }
            }
            Variety::Union { members } => {
                if !members.iter().any(|m| self.check_simple(*m, raw).is_ok()) {
                    return Err(format!(
                        "'{value}' is not a valid value of the {}.",
                        st.label
                    ));
                }
            }
        }
        self.check_facets(ty, &value)
    }

    /// Whether [`Schema::check_value`] accepts every text for `ty` (see [`Schema::any_text`]).
    fn takes_any_text(&self, ty: u32) -> bool {
        let Some(st) = self.simple_types.get(ty as usize) else {
            return true;
        };
        let f = &st.facets;
        let no_facets = f.enumeration.is_none()
            && f.patterns.is_empty()
            && f.length.is_none()
            && f.min_length.is_none()
            && f.max_length.is_none()
            && f.min_inclusive.is_none()
            && f.max_inclusive.is_none()
            && f.min_exclusive.is_none()
            && f.max_exclusive.is_none();
        no_facets
            && match &st.variety {
                Variety::Builtin(b) => matches!(
                    b,
                    Builtin::AnySimpleType
                        | Builtin::String
                        | Builtin::NormalizedString
                        | Builtin::Token
                ),
                Variety::Restriction { base } => self.takes_any_text(*base),
                Variety::List { .. } | Variety::Union { .. } => false,
            }
    }

    /// Fills [`Schema::any_text`] once the simple types are compiled.
    pub(crate) fn note_any_text(&mut self) {
        self.any_text = (0..self.simple_types.len() as u32)
            .map(|ty| self.takes_any_text(ty))
            .collect();
    }

    fn check_facets(&self, ty: u32, value: &str) -> Result<(), String> {
        let st = &self.simple_types[ty as usize];
        let f = &st.facets;
        if let Some(values) = &f.enumeration
            && !values.iter().any(|v| v == value)
        {
            let set = values
                .iter()
                .map(|v| format!("'{v}'"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(format!(
                "[facet 'enumeration'] The value '{value}' is not an element of the set {{{set}}}."
            ));
        }
        if !f.patterns.is_empty() && !f.patterns.iter().any(|(_, re)| re.is_match(value)) {
            let pattern = &f.patterns[0].0;
            return Err(format!(
                "[facet 'pattern'] The value '{value}' is not accepted by the pattern '{pattern}'."
            ));
        }
        // Counted only for a type that limits it (narratives are long and have no limit).
        let has_length = f.length.is_some() || f.min_length.is_some() || f.max_length.is_some();
        let length = if !has_length {
            0
        } else if matches!(st.variety, Variety::List { .. }) {
            value.split(' ').filter(|t| !t.is_empty()).count()
        } else {
            value.chars().count()
        };
        if has_length
            && (f.length.is_some_and(|l| length != l)
                || f.min_length.is_some_and(|l| length < l)
                || f.max_length.is_some_and(|l| length > l))
        {
            return Err(format!(
                "[facet 'length'] The value '{value}' has a length of {length}, which breaks the allowed length."
            ));
        }
        let has_bounds = f.min_inclusive.is_some()
            || f.max_inclusive.is_some()
            || f.min_exclusive.is_some()
            || f.max_exclusive.is_some();
        if has_bounds {
            let n: f64 = value.parse().unwrap_or(f64::NAN);
            let ok = f.min_inclusive.is_none_or(|m| n >= m)
                && f.max_inclusive.is_none_or(|m| n <= m)
                && f.min_exclusive.is_none_or(|m| n > m)
                && f.max_exclusive.is_none_or(|m| n < m);
            if !ok {
                return Err(format!(
                    "[facet 'range'] The value '{value}' is out of the allowed range."
                ));
            }
        }
        Ok(())
    }

    /// The whitespace handling of a simple type: its own facet, else its base's.
    fn white_space(&self, ty: u32) -> WhiteSpace {
        let st = &self.simple_types[ty as usize];
        if let Some(ws) = st.facets.white_space {
            return ws;
        }
        match &st.variety {
            Variety::Builtin(b) => b.white_space(),
            Variety::Restriction { base } => self.white_space(*base),
            Variety::List { .. } => WhiteSpace::Collapse,
            Variety::Union { .. } => WhiteSpace::Preserve,
        }
    }
}

#[cfg(test)]
mod tests;
