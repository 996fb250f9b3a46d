//! Reads an XSD file into a small tree. Schema files are a few hundred kilobytes at most, so
//! a tree is the simple choice here (unlike for the instance documents, which stream).

use std::collections::HashMap;
use std::rc::Rc;

use quick_xml::NsReader;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

use super::SchemaError;
use crate::iati::names::XML_NS;

pub(crate) const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";

/// One element of a schema document.
#[derive(Debug)]
pub(crate) struct XsdNode {
    /// Local name when the element is in the XML Schema namespace; anything else (e.g.
    /// `documentation` content) is dropped while reading.
    pub(crate) kind: String,
    attrs: Vec<(String, String)>,
    pub(crate) children: Vec<XsdNode>,
    /// Prefix bindings in scope, to resolve QName-valued attributes such as `type="xsd:string"`.
    scope: Rc<HashMap<String, String>>,
}

impl XsdNode {
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Resolves a QName-valued attribute into (namespace, local name).
    pub(crate) fn qname_attr(&self, name: &str) -> Result<Option<(String, String)>, SchemaError> {
        self.attr(name).map(|v| self.resolve_qname(v)).transpose()
    }

    /// Resolves a QName written in this element's scope into (namespace, local name).
    pub(crate) fn resolve_qname(&self, value: &str) -> Result<(String, String), SchemaError> {
        let value = value.trim();
        let (prefix, local) = match value.split_once(':') {
            Some((p, l)) => (p, l),
            None => ("", value),
        };
        let namespace = if prefix == "xml" {
            XML_NS.to_owned()
        } else {
            match self.scope.get(prefix) {
                Some(ns) => ns.clone(),
                None if prefix.is_empty() => String::new(),
                None => {
                    return Err(SchemaError::new(format!(
                        "prefix '{prefix}' of '{value}' is not declared"
                    )));
                }
            }
        };
        Ok((namespace, local.to_owned()))
    }

    pub(crate) fn children_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a XsdNode> {
        self.children.iter().filter(move |c| c.kind == kind)
    }

    pub(crate) fn child(&self, kind: &str) -> Option<&XsdNode> {
        self.children.iter().find(|c| c.kind == kind)
    }
}

/// Parses a schema document; returns its `schema` element.
pub(crate) fn parse_xsd(text: &str) -> Result<XsdNode, SchemaError> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<XsdNode> = Vec::new();
    let mut scopes: Vec<Rc<HashMap<String, String>>> = vec![Rc::new(HashMap::new())];
    // Depth inside non-XSD content (documentation), which is skipped.
    let mut foreign_depth = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| SchemaError::new(format!("schema is not well-formed: {e}")))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                if foreign_depth > 0 {
                    if !is_empty {
                        foreign_depth += 1;
                    }
                    continue;
                }
                let (ns, local) = reader.resolver().resolve_element(e.name());
                let in_xsd = matches!(ns, ResolveResult::Bound(n) if n.0 == XSD_NS);
                if !in_xsd {
                    if !is_empty {
                        foreign_depth = 1;
                    }
                    continue;
                }
                let parent_scope = scopes.last().cloned().unwrap_or_default();
                let scope = scope_of(e, &parent_scope)?;
                let node = XsdNode {
                    kind: local.as_ref().to_owned(),
                    attrs: plain_attrs(e)?,
                    children: Vec::new(),
                    scope: scope.clone(),
                };
                if is_empty {
                    attach(&mut stack, node);
                } else {
                    scopes.push(scope);
                    stack.push(node);
                }
            }
            Event::End(_) => {
                if foreign_depth > 0 {
                    foreign_depth -= 1;
                    continue;
                }
                scopes.pop();
                if let Some(node) = stack.pop() {
                    if stack.is_empty() {
                        return Ok(node);
                    }
                    attach(&mut stack, node);
                }
            }
            Event::Eof => return Err(SchemaError::new("schema ended before its root closed")),
            _ => {}
        }
    }
}

fn attach(stack: &mut [XsdNode], node: XsdNode) {
    if let Some(parent) = stack.last_mut() {
        parent.children.push(node);
    }
}

fn plain_attrs(e: &BytesStart) -> Result<Vec<(String, String)>, SchemaError> {
    let mut out = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| SchemaError::new(format!("bad attribute: {err}")))?;
        let key = attr.key.as_ref();
        if key.starts_with("xmlns") || key.contains(':') {
            continue;
        }
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|err| SchemaError::new(format!("bad attribute value: {err}")))?;
        out.push((key.to_owned(), value.into_owned()));
    }
    Ok(out)
}

fn scope_of(
    e: &BytesStart,
    parent: &Rc<HashMap<String, String>>,
) -> Result<Rc<HashMap<String, String>>, SchemaError> {
    let mut declared = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| SchemaError::new(format!("bad attribute: {err}")))?;
        let key = attr.key.as_ref();
        if key == "xmlns" {
            declared.push((String::new(), attr.value.into_owned()));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            declared.push((prefix.to_owned(), attr.value.into_owned()));
        }
    }
    if declared.is_empty() {
        return Ok(parent.clone());
    }
    let mut scope = (**parent).clone();
    scope.extend(declared);
    Ok(Rc::new(scope))
}
