//! Validates a stream of elements against a compiled [`Schema`], one frame per open element.
//!
//! Unlike libxml2, which stops checking an element's content after the first error in it,
//! this validator recovers and goes on, so that one pass reports every problem: an element
//! out of place moves the automaton forward to where it belongs (or leaves it where it is when
//! the element came too late), and unknown elements are skipped. The verdict is the same as
//! libxml2's; only the number of messages differs.

use super::content_model::Term;
use super::{Content, Process, Schema, TypeRef};
use crate::iati::names::NameId;

/// The XML Schema instance namespace: `xsi:` attributes are the validator's business, never
/// the document's.
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// An element as the validator needs it.
pub(crate) struct ElementInfo<'a> {
    pub(crate) namespace: Option<&'a str>,
    pub(crate) local: &'a str,
    /// The name in the schema's interner, when the schema knows it.
    pub(crate) key: Option<NameId>,
    pub(crate) line: u64,
    pub(crate) column: u64,
}

pub(crate) struct AttrInfo<'a> {
    pub(crate) namespace: Option<&'a str>,
    pub(crate) local: &'a str,
    pub(crate) key: Option<NameId>,
    pub(crate) value: &'a str,
}

/// A schema problem, positioned; the caller adds the path and activity.
#[derive(Debug)]
pub(crate) struct SchemaIssue {
    pub(crate) line: u64,
    pub(crate) column: u64,
    pub(crate) message: String,
    /// The attribute the issue is about, if any (for the path).
    pub(crate) attribute: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Mode {
    /// Complex type with element (or mixed / empty) content.
    Complex {
        ct: u32,
        state: u32,
        text_reported: bool,
    },
    /// `xsd:all`: which members were seen.
    All {
        ct: u32,
        seen: Vec<bool>,
        text_reported: bool,
    },
    /// Character data of a simple type; `ct` is the complex type when it has attributes.
    Simple {
        st: u32,
        ct: Option<u32>,
        child_reported: bool,
    },
    /// Under a lax wildcard: validate what has a global declaration, accept the rest.
    Lax,
    /// Not validated (unknown element, skip wildcard, or after a fatal problem at the root).
    Skip,
}

/// An element's name as libxml2 prints it (`title`, `{http://x}foo`): the schema's name
/// when it knows it (no copy), else spelled out.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Label {
    Known(NameId),
    Other(Box<str>),
}

fn label_str<'a>(schema: &'a Schema, label: &'a Label) -> &'a str {
    match label {
        Label::Known(id) => schema.names.name(*id),
        Label::Other(s) => s,
    }
}

#[derive(Debug)]
struct Frame {
    mode: Mode,
    label: Label,
    line: u64,
    column: u64,
}

/// Where a validator stands between two elements: the open elements and how far each one's
/// content has got (positions left out). Two runs in the same state go on alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ValidatorState(Vec<(Mode, Label)>);

pub(crate) struct SchemaValidator<'s> {
    schema: &'s Schema,
    stack: Vec<Frame>,
    /// Character data of the innermost simple-content element.
    text: String,
    /// Scratch space for a namespaced name's key.
    key: String,
}

impl<'s> SchemaValidator<'s> {
    pub(crate) fn new(schema: &'s Schema) -> Self {
        SchemaValidator {
            schema,
            stack: Vec::with_capacity(32),
            text: String::new(),
            key: String::new(),
        }
    }

    /// The state between two elements (see [`ValidatorState`]).
    pub(crate) fn state(&self) -> ValidatorState {
        ValidatorState(
            self.stack
                .iter()
                .map(|f| (f.mode.clone(), f.label.clone()))
                .collect(),
        )
    }

    /// The interned key of a name, as the schema spells it.
    pub(crate) fn key_of(&mut self, namespace: Option<&str>, local: &str) -> Option<NameId> {
        match namespace {
            None => self.schema.names.get(local),
            Some(ns) => {
                crate::iati::names::expanded_key_into(&mut self.key, Some(ns), local);
                self.schema.names.get(&self.key)
            }
        }
    }

    pub(crate) fn start(
        &mut self,
        el: &ElementInfo,
        attrs: &[AttrInfo],
        issues: &mut Vec<SchemaIssue>,
    ) {
        let schema = self.schema;
        let own_label = match (el.namespace, el.key) {
            (None, Some(key)) => Label::Known(key),
            (None, None) => Label::Other(el.local.into()),
            (Some(ns), _) => Label::Other(format!("{{{ns}}}{}", el.local).into()),
        };
        let label = label_str(schema, &own_label);
        let issue = |message: String| SchemaIssue {
            line: el.line,
            column: el.column,
            message,
            attribute: None,
        };
        let global =
            |key: Option<NameId>| key.and_then(|k| schema.global_elements.get(&k).copied());
        let mode = match self.stack.last_mut() {
            None => match global(el.key) {
                Some(decl) => self.mode_for(decl),
                None => {
                    issues.push(issue(format!(
                        "Element '{label}': No matching global declaration available for the validation root."
                    )));
                    Mode::Skip
                }
            },
            Some(parent) => {
                let parent_label = parent.label.clone();
                let parent_label = label_str(schema, &parent_label);
                match &mut parent.mode {
                    Mode::Skip => Mode::Skip,
                    Mode::Lax => match global(el.key) {
                        Some(decl) => self.mode_for(decl),
                        None => Mode::Lax,
                    },
                    Mode::Simple { child_reported, .. } => {
                        if !*child_reported {
                            *child_reported = true;
                            issues.push(issue(format!(
                                "Element '{parent_label}': Element content is not allowed, because the content type is a simple type definition."
                            )));
                        }
                        Mode::Skip
                    }
                    Mode::All { ct, seen, .. } => {
                        let Content::All { members, .. } =
                            &schema.complex_types[*ct as usize].content
                        else {
                            return;
                        };
                        match members
                            .iter()
                            .position(|m| Some(m.name) == el.key && el.namespace.is_none())
                        {
                            Some(i) if !seen[i] => {
                                seen[i] = true;
                                let decl = members[i].decl;
                                self.mode_for(decl)
                            }
                            _ => {
                                issues.push(issue(format!(
                                    "Element '{label}': This element is not expected."
                                )));
                                Mode::Skip
                            }
                        }
                    }
                    Mode::Complex { ct, state, .. } => {
                        let ct = *ct;
                        match &schema.complex_types[ct as usize].content {
                            Content::Elements { automaton, .. } => {
                                let automaton = &schema.automata[*automaton as usize];
                                let allows =
                                    |w: u32| schema.wildcards[w as usize].allows(el.namespace);
                                let name = el.key;
                                match automaton.step(*state, name, allows) {
                                    Some((next, term)) => {
                                        *state = next;
                                        self.mode_for_term(term, el, label, issues)
                                    }
                                    None => {
                                        let (names, wildcards) = automaton.expected(*state);
                                        issues.push(issue(format!(
                                            "Element '{label}': This element is not expected.{}",
                                            expected_text(schema, &names, &wildcards)
                                        )));
                                        match automaton.find_anywhere(*state, name, allows) {
                                            Some((position, term)) => {
                                                if position > *state {
                                                    *state = position;
                                                }
                                                self.mode_for_term(term, el, label, issues)
                                            }
                                            None => match global(el.key) {
                                                Some(decl) => self.mode_for(decl),
                                                None => Mode::Skip,
                                            },
                                        }
                                    }
                                }
                            }
                            Content::Empty => {
                                issues.push(issue(format!(
                                    "Element '{parent_label}': Element content is not allowed, because the content type is empty."
                                )));
                                Mode::Skip
                            }
                            Content::Simple(_) | Content::All { .. } => Mode::Skip,
                        }
                    }
                }
            }
        };
        self.check_attributes(&mode, label, el, attrs, issues);
        if matches!(mode, Mode::Simple { .. }) {
            self.text.clear();
        }
        self.stack.push(Frame {
            mode,
            label: own_label,
            line: el.line,
            column: el.column,
        });
    }

    fn mode_for(&self, decl: u32) -> Mode {
        match self.schema.elements[decl as usize].ty {
            TypeRef::Simple(st) => Mode::Simple {
                st,
                ct: None,
                child_reported: false,
            },
            TypeRef::Complex(ct) => match &self.schema.complex_types[ct as usize].content {
                Content::Simple(st) => Mode::Simple {
                    st: *st,
                    ct: Some(ct),
                    child_reported: false,
                },
                Content::All { members, .. } => Mode::All {
                    ct,
                    seen: vec![false; members.len()],
                    text_reported: false,
                },
                Content::Empty => Mode::Complex {
                    ct,
                    state: 0,
                    text_reported: false,
                },
                Content::Elements { automaton, .. } => Mode::Complex {
                    ct,
                    state: self.schema.automata[*automaton as usize].start(),
                    text_reported: false,
                },
            },
        }
    }

    fn mode_for_term(
        &self,
        term: Term,
        el: &ElementInfo,
        label: &str,
        issues: &mut Vec<SchemaIssue>,
    ) -> Mode {
        match term {
            Term::Element { decl, .. } => self.mode_for(decl),
            Term::Any { wildcard } => {
                let global = el
                    .key
                    .and_then(|k| self.schema.global_elements.get(&k).copied());
                match (self.schema.wildcards[wildcard as usize].process, global) {
                    (Process::Skip, _) => Mode::Skip,
                    (_, Some(decl)) => self.mode_for(decl),
                    (Process::Lax, None) => Mode::Lax,
                    (Process::Strict, None) => {
                        issues.push(SchemaIssue {
                            line: el.line,
                            column: el.column,
                            message: format!(
                                "Element '{label}': No matching global element declaration available, but demanded by the strict wildcard."
                            ),
                            attribute: None,
                        });
                        Mode::Skip
                    }
                }
            }
        }
    }

    fn check_attributes(
        &self,
        mode: &Mode,
        label: &str,
        el: &ElementInfo,
        attrs: &[AttrInfo],
        issues: &mut Vec<SchemaIssue>,
    ) {
        let schema = self.schema;
        let mut problem = |attr: Option<&AttrInfo>, message: String| {
            issues.push(SchemaIssue {
                line: el.line,
                column: el.column,
                message,
                attribute: attr.map(|a| match a.namespace {
                    None => a.local.to_owned(),
                    Some(crate::iati::names::XML_NS) => format!("xml:{}", a.local),
                    Some(ns) => format!("{{{ns}}}{}", a.local),
                }),
            })
        };
        let attr_label = |a: &AttrInfo| match a.namespace {
            None => a.local.to_owned(),
            Some(ns) => format!("{{{ns}}}{}", a.local),
        };
        let check_global = |a: &AttrInfo, problem: &mut dyn FnMut(Option<&AttrInfo>, String)| {
            if let Some(ty) = a.key.and_then(|k| schema.global_attributes.get(&k))
                && let Err(reason) = schema.check_simple(*ty, a.value)
            {
                problem(
                    Some(a),
                    format!("Element '{label}', attribute '{}': {reason}", attr_label(a)),
                );
            }
        };
        let ct = match mode {
            Mode::Skip => return,
            Mode::Lax => {
                for a in attrs.iter().filter(|a| a.namespace != Some(XSI_NS)) {
                    check_global(a, &mut problem);
                }
                return;
            }
            Mode::Complex { ct, .. } | Mode::All { ct, .. } => Some(*ct),
            Mode::Simple { ct, .. } => *ct,
        };
        let Some(ct) = ct else {
            // An element of a simple type has no attributes.
            for a in attrs.iter().filter(|a| a.namespace != Some(XSI_NS)) {
                problem(
                    Some(a),
                    format!(
                        "Element '{label}', attribute '{0}': The attribute '{0}' is not allowed.",
                        attr_label(a)
                    ),
                );
            }
            return;
        };
        let ct = &schema.complex_types[ct as usize];
        for a in attrs.iter().filter(|a| a.namespace != Some(XSI_NS)) {
            if let Some(declared) = ct.attributes.iter().find(|u| Some(u.name) == a.key) {
                if let Err(reason) = schema.check_simple(declared.ty, a.value) {
                    problem(
                        Some(a),
                        format!("Element '{label}', attribute '{}': {reason}", attr_label(a)),
                    );
                } else if let Some(fixed) = &declared.fixed
                    && fixed != a.value
                {
                    problem(
                        Some(a),
                        format!(
                            "Element '{label}', attribute '{}': The value '{}' does not match the fixed value constraint '{fixed}'.",
                            attr_label(a),
                            a.value
                        ),
                    );
                }
                continue;
            }
            let wildcard = ct
                .attribute_wildcard
                .map(|w| &schema.wildcards[w as usize])
                .filter(|w| w.allows(a.namespace));
            match wildcard.map(|w| w.process) {
                Some(Process::Skip) => {}
                Some(Process::Lax) => check_global(a, &mut problem),
                Some(Process::Strict) => match a.key.and_then(|k| schema.global_attributes.get(&k))
                {
                    Some(_) => check_global(a, &mut problem),
                    None => problem(
                        Some(a),
                        format!(
                            "Element '{label}', attribute '{}': No matching global attribute declaration available, but demanded by the strict wildcard.",
                            attr_label(a)
                        ),
                    ),
                },
                None => problem(
                    Some(a),
                    format!(
                        "Element '{label}', attribute '{0}': The attribute '{0}' is not allowed.",
                        attr_label(a)
                    ),
                ),
            }
        }
        for required in ct.attributes.iter().filter(|u| u.required) {
            if !attrs.iter().any(|a| a.key == Some(required.name)) {
                let name = schema.names.name(required.name);
                problem(
                    None,
                    format!("Element '{label}': The attribute '{name}' is required but missing."),
                );
            }
        }
    }

    /// Character data (already unescaped) directly inside the current element.
    pub(crate) fn text(
        &mut self,
        text: &str,
        line: u64,
        column: u64,
        issues: &mut Vec<SchemaIssue>,
    ) {
        let schema = self.schema;
        let Some(frame) = self.stack.last_mut() else {
            return;
        };
        let (ct, text_reported) = match &mut frame.mode {
            Mode::Simple { st, .. } => {
                if !schema.any_text.get(*st as usize).copied().unwrap_or(false) {
                    self.text.push_str(text);
                }
                return;
            }
            Mode::Lax | Mode::Skip => return,
            Mode::Complex {
                ct, text_reported, ..
            }
            | Mode::All {
                ct, text_reported, ..
            } => (*ct, text_reported),
        };
        if *text_reported
            || text
                .bytes()
                .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        {
            return;
        }
        let message = match &schema.complex_types[ct as usize].content {
            Content::Elements { mixed: true, .. } | Content::All { mixed: true, .. } => return,
            Content::Empty => format!(
                "Element '{}': Character content is not allowed, because the content type is empty.",
                label_str(schema, &frame.label)
            ),
            _ => format!(
                "Element '{}': Character content other than whitespace is not allowed because the content type is 'element-only'.",
                label_str(schema, &frame.label)
            ),
        };
        *text_reported = true;
        issues.push(SchemaIssue {
            line,
            column,
            message,
            attribute: None,
        });
    }

    pub(crate) fn end(&mut self, issues: &mut Vec<SchemaIssue>) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let schema = self.schema;
        let issue = |message: String| SchemaIssue {
            line: frame.line,
            column: frame.column,
            message,
            attribute: None,
        };
        match &frame.mode {
            Mode::Simple { st, .. } => {
                // A type any text is valid for kept none.
                let any_text = schema.any_text.get(*st as usize).copied().unwrap_or(false);
                if !any_text && let Err(reason) = schema.check_simple(*st, &self.text) {
                    issues.push(issue(format!(
                        "Element '{}': {reason}",
                        label_str(schema, &frame.label)
                    )));
                }
                self.text.clear();
            }
            Mode::Complex { ct, state, .. } => {
                if let Content::Elements { automaton, .. } =
                    &schema.complex_types[*ct as usize].content
                {
                    let automaton = &schema.automata[*automaton as usize];
                    if !automaton.is_accepting(*state) {
                        let (names, wildcards) = automaton.expected(*state);
                        issues.push(issue(format!(
                            "Element '{}': Missing child element(s).{}",
                            label_str(schema, &frame.label),
                            expected_text(schema, &names, &wildcards)
                        )));
                    }
                }
            }
            Mode::All { ct, seen, .. } => {
                if let Content::All {
                    members, optional, ..
                } = &schema.complex_types[*ct as usize].content
                {
                    let nothing_seen = !seen.iter().any(|s| *s);
                    let missing: Vec<NameId> = members
                        .iter()
                        .zip(seen)
                        .filter(|(m, s)| m.required && !**s)
                        .map(|(m, _)| m.name)
                        .collect();
                    if !(missing.is_empty() || nothing_seen && *optional) {
                        issues.push(issue(format!(
                            "Element '{}': Missing child element(s).{}",
                            label_str(schema, &frame.label),
                            expected_text(schema, &missing, &[])
                        )));
                    }
                }
            }
            Mode::Lax | Mode::Skip => {}
        }
    }
}

fn expected_text(schema: &Schema, names: &[NameId], wildcards: &[u32]) -> String {
    let mut items: Vec<String> = names
        .iter()
        .map(|n| schema.names.name(*n).to_owned())
        .collect();
    items.extend(
        wildcards
            .iter()
            .map(|w| format!("{}*", schema.wildcards[*w as usize].describe())),
    );
    match items.len() {
        0 => String::new(),
        1 => format!(" Expected is ( {} ).", items[0]),
        _ => format!(" Expected is one of ( {} ).", items.join(", ")),
    }
}
