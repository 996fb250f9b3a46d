//! Turns parsed schema documents into a [`Schema`]: resolves references, expands groups and
//! type derivation, and compiles every content model into an automaton.

use std::collections::HashMap;

use regex::Regex;

use super::content_model::{Automaton, Occurs, Particle};
use super::datatypes::{Builtin, WhiteSpace};
use super::parse::{XSD_NS, XsdNode, parse_xsd};
use super::{
    AllMember, AttrUse, ComplexType, Content, ElementDecl, Facets, NsConstraint, Process, Schema,
    SchemaError, SimpleType, TypeRef, Variety, Wildcard,
};
use crate::iati::names::{Interner, expanded_key};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Element,
    ComplexType,
    SimpleType,
    Attribute,
    AttributeGroup,
    Group,
}

struct Doc {
    root: XsdNode,
    target_ns: String,
    elements_qualified: bool,
    attributes_qualified: bool,
}

struct Compiler<'a> {
    docs: &'a [Doc],
    globals: HashMap<(Kind, String), (&'a XsdNode, usize)>,
    schema: Schema,
    /// Particles of complex types, kept for complexContent extension.
    particles: Vec<Option<Particle>>,
    element_memo: HashMap<String, u32>,
    complex_memo: HashMap<String, u32>,
    simple_memo: HashMap<String, u32>,
    attribute_memo: HashMap<String, (crate::iati::names::NameId, u32)>,
    any_type: Option<u32>,
}

pub(super) fn compile(files: &[(&str, &str)], roots: &[&str]) -> Result<Schema, SchemaError> {
    let docs = load(files, roots)?;
    let mut c = Compiler {
        docs: &docs,
        globals: HashMap::new(),
        schema: Schema {
            names: Interner::default(),
            elements: Vec::new(),
            complex_types: Vec::new(),
            simple_types: Vec::new(),
            wildcards: Vec::new(),
            automata: Vec::new(),
            global_elements: HashMap::new(),
            global_attributes: HashMap::new(),
            any_text: Vec::new(),
        },
        particles: Vec::new(),
        element_memo: HashMap::new(),
        complex_memo: HashMap::new(),
        simple_memo: HashMap::new(),
        attribute_memo: HashMap::new(),
        any_type: None,
    };
    for (i, doc) in docs.iter().enumerate() {
        for child in &doc.root.children {
            let kind = match child.kind.as_str() {
                "element" => Kind::Element,
                "complexType" => Kind::ComplexType,
                "simpleType" => Kind::SimpleType,
                "attribute" => Kind::Attribute,
                "attributeGroup" => Kind::AttributeGroup,
                "group" => Kind::Group,
                _ => continue,
            };
            let name = child
                .attr("name")
                .ok_or_else(|| SchemaError::new(format!("a global {} has no name", child.kind)))?;
            c.globals
                .insert((kind, expanded_key(Some(&doc.target_ns), name)), (child, i));
        }
    }
    let mut keys: Vec<(Kind, String)> = c.globals.keys().cloned().collect();
    keys.sort_by(|a, b| a.1.cmp(&b.1));
    for (kind, key) in &keys {
        match kind {
            Kind::Element => {
                let id = c.global_element(key)?;
                let name = c.schema.elements[id as usize].name;
                c.schema.global_elements.insert(name, id);
            }
            Kind::Attribute => {
                let (name, ty) = c.global_attribute(key)?;
                c.schema.global_attributes.insert(name, ty);
            }
            _ => {}
        }
    }
    c.schema.note_any_text();
    Ok(c.schema)
}

/// Parses the root schema files and everything they include or import.
fn load(files: &[(&str, &str)], roots: &[&str]) -> Result<Vec<Doc>, SchemaError> {
    let text_of = |location: &str| {
        let file = location.rsplit('/').next().unwrap_or(location);
        files
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, text)| *text)
            .ok_or_else(|| SchemaError::new(format!("schema file '{location}' is not shipped")))
    };
    let mut loaded: Vec<String> = Vec::new();
    let mut pending: Vec<String> = roots.iter().map(|r| (*r).to_owned()).collect();
    let mut docs = Vec::new();
    while let Some(location) = pending.pop() {
        let file = location.rsplit('/').next().unwrap_or(&location).to_owned();
        if loaded.contains(&file) {
            continue;
        }
        let root = parse_xsd(text_of(&file)?)?;
        if root.kind != "schema" {
            return Err(SchemaError::new(format!("'{file}' is not an XML schema")));
        }
        for child in &root.children {
            match child.kind.as_str() {
                "include" | "import" => {
                    if let Some(loc) = child.attr("schemaLocation") {
                        pending.push(loc.to_owned());
                    }
                }
                "redefine" | "override" => {
                    return Err(SchemaError::new(format!(
                        "'{}' is not supported",
                        child.kind
                    )));
                }
                _ => {}
            }
        }
        docs.push(Doc {
            target_ns: root.attr("targetNamespace").unwrap_or("").to_owned(),
            elements_qualified: root.attr("elementFormDefault") == Some("qualified"),
            attributes_qualified: root.attr("attributeFormDefault") == Some("qualified"),
            root,
        });
        loaded.push(file);
    }
    Ok(docs)
}

fn occurs_of(node: &XsdNode) -> Result<Occurs, SchemaError> {
    let parse = |v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| SchemaError::new(format!("bad occurrence bound '{v}'")))
    };
    let min = node.attr("minOccurs").map(parse).transpose()?.unwrap_or(1);
    let max = match node.attr("maxOccurs") {
        Some("unbounded") => None,
        Some(v) => Some(parse(v)?),
        None => Some(1),
    };
    Ok(Occurs { min, max })
}

impl<'a> Compiler<'a> {
    fn lookup(&self, kind: Kind, key: &str) -> Result<(&'a XsdNode, usize), SchemaError> {
        self.globals
            .get(&(kind, key.to_owned()))
            .copied()
            .ok_or_else(|| SchemaError::new(format!("{kind:?} '{key}' is not declared")))
    }

    fn qname_key(node: &XsdNode, attr: &str) -> Result<Option<(String, String)>, SchemaError> {
        node.qname_attr(attr)
    }

    fn global_element(&mut self, key: &str) -> Result<u32, SchemaError> {
        if let Some(id) = self.element_memo.get(key) {
            return Ok(*id);
        }
        let (node, doc) = self.lookup(Kind::Element, key)?;
        let name = self.schema.names.intern(key);
        let id = self.schema.elements.len() as u32;
        self.schema.elements.push(ElementDecl {
            name,
            ty: TypeRef::Simple(0),
        });
        self.element_memo.insert(key.to_owned(), id);
        let ty = self.element_type(node, doc)?;
        self.schema.elements[id as usize].ty = ty;
        Ok(id)
    }

    fn local_element(&mut self, node: &'a XsdNode, doc: usize) -> Result<u32, SchemaError> {
        let local = node
            .attr("name")
            .ok_or_else(|| SchemaError::new("a local element has neither name nor ref"))?;
        let d = &self.docs[doc];
        let qualified = match node.attr("form") {
            Some(form) => form == "qualified",
            None => d.elements_qualified,
        };
        let ns = if qualified { d.target_ns.as_str() } else { "" };
        let name = self.schema.names.intern(&expanded_key(Some(ns), local));
        let id = self.schema.elements.len() as u32;
        self.schema.elements.push(ElementDecl {
            name,
            ty: TypeRef::Simple(0),
        });
        let ty = self.element_type(node, doc)?;
        self.schema.elements[id as usize].ty = ty;
        Ok(id)
    }

    fn element_type(&mut self, node: &'a XsdNode, doc: usize) -> Result<TypeRef, SchemaError> {
        if let Some(q) = Self::qname_key(node, "type")? {
            return self.resolve_type(&q);
        }
        if let Some(ct) = node.child("complexType") {
            return Ok(TypeRef::Complex(self.complex_type(ct, doc, None)?));
        }
        if let Some(st) = node.child("simpleType") {
            return Ok(TypeRef::Simple(self.simple_type(st, doc, None)?));
        }
        Ok(TypeRef::Complex(self.any_type()?))
    }

    fn resolve_type(&mut self, (ns, local): &(String, String)) -> Result<TypeRef, SchemaError> {
        if ns == XSD_NS {
            if local == "anyType" {
                return Ok(TypeRef::Complex(self.any_type()?));
            }
            return Ok(TypeRef::Simple(self.builtin(local)?));
        }
        let key = expanded_key(Some(ns), local);
        if self.globals.contains_key(&(Kind::ComplexType, key.clone())) {
            if let Some(id) = self.complex_memo.get(&key) {
                return Ok(TypeRef::Complex(*id));
            }
            let (node, doc) = self.lookup(Kind::ComplexType, &key)?;
            return Ok(TypeRef::Complex(self.complex_type(node, doc, Some(key))?));
        }
        Ok(TypeRef::Simple(self.named_simple_type(&key)?))
    }

    fn resolve_simple(&mut self, q: &(String, String)) -> Result<u32, SchemaError> {
        match self.resolve_type(q)? {
            TypeRef::Simple(id) => Ok(id),
            TypeRef::Complex(id) => match self
                .schema
                .complex_types
                .get(id as usize)
                .map(|c| &c.content)
            {
                Some(Content::Simple(st)) => Ok(*st),
                _ => Err(SchemaError::new(format!("'{}' is not a simple type", q.1))),
            },
        }
    }

    fn builtin(&mut self, local: &str) -> Result<u32, SchemaError> {
        let key = format!("{{{XSD_NS}}}{local}");
        if let Some(id) = self.simple_memo.get(&key) {
            return Ok(*id);
        }
        let builtin = Builtin::from_name(local).ok_or_else(|| {
            SchemaError::new(format!("built-in type xs:{local} is not supported"))
        })?;
        let id = self.push_simple(SimpleType {
            label: builtin.xs_name().to_owned(),
            variety: Variety::Builtin(builtin),
            facets: Facets::default(),
        });
        self.simple_memo.insert(key, id);
        Ok(id)
    }

    fn push_simple(&mut self, st: SimpleType) -> u32 {
        self.schema.simple_types.push(st);
        self.schema.simple_types.len() as u32 - 1
    }

    /// `xs:anyType`: anything, validated laxly.
    fn any_type(&mut self) -> Result<u32, SchemaError> {
        if let Some(id) = self.any_type {
            return Ok(id);
        }
        let wildcard = self.push_wildcard(Wildcard {
            namespaces: NsConstraint::Any,
            process: Process::Lax,
        });
        let particle = Particle::Any {
            wildcard,
            occurs: Occurs { min: 0, max: None },
        };
        let automaton = self.push_automaton(Some(&particle));
        self.schema.complex_types.push(ComplexType {
            attributes: Vec::new(),
            attribute_wildcard: Some(wildcard),
            content: Content::Elements {
                automaton,
                mixed: true,
            },
        });
        self.particles.push(Some(particle));
        let id = self.schema.complex_types.len() as u32 - 1;
        self.any_type = Some(id);
        Ok(id)
    }

    fn push_wildcard(&mut self, w: Wildcard) -> u32 {
        self.schema.wildcards.push(w);
        self.schema.wildcards.len() as u32 - 1
    }

    fn push_automaton(&mut self, particle: Option<&Particle>) -> u32 {
        self.schema.automata.push(Automaton::build(particle));
        self.schema.automata.len() as u32 - 1
    }

    fn wildcard(&mut self, node: &XsdNode, doc: usize) -> Result<u32, SchemaError> {
        let tns = self.docs[doc].target_ns.clone();
        let namespaces = match node.attr("namespace").map(str::trim).unwrap_or("##any") {
            "##any" => NsConstraint::Any,
            "##other" => {
                let mut not = vec![String::new()];
                if !tns.is_empty() {
                    not.push(tns);
                }
                NsConstraint::Not(not)
            }
            list => NsConstraint::Only(
                list.split_whitespace()
                    .map(|t| match t {
                        "##targetNamespace" => tns.clone(),
                        "##local" => String::new(),
                        other => other.to_owned(),
                    })
                    .collect(),
            ),
        };
        let process = match node.attr("processContents").unwrap_or("strict") {
            "lax" => Process::Lax,
            "skip" => Process::Skip,
            _ => Process::Strict,
        };
        Ok(self.push_wildcard(Wildcard {
            namespaces,
            process,
        }))
    }

    fn complex_type(
        &mut self,
        node: &'a XsdNode,
        doc: usize,
        key: Option<String>,
    ) -> Result<u32, SchemaError> {
        let id = self.schema.complex_types.len() as u32;
        self.schema.complex_types.push(ComplexType {
            attributes: Vec::new(),
            attribute_wildcard: None,
            content: Content::Empty,
        });
        self.particles.push(None);
        if let Some(key) = key {
            self.complex_memo.insert(key, id);
        }
        let mut mixed = node.attr("mixed") == Some("true");
        let mut attributes = Vec::new();
        let mut wildcard = None;
        let mut particle_node: Option<&'a XsdNode> = None;
        let mut base_particle: Option<Particle> = None;
        let mut simple_content: Option<u32> = None;

        if let Some(sc) = node.child("simpleContent") {
            let derivation = sc
                .child("extension")
                .or_else(|| sc.child("restriction"))
                .ok_or_else(|| {
                    SchemaError::new("simpleContent without extension or restriction")
                })?;
            let base_q = Self::qname_key(derivation, "base")?
                .ok_or_else(|| SchemaError::new("simpleContent derivation without base"))?;
            let base = self.resolve_type(&base_q)?;
            let base_simple = match base {
                TypeRef::Simple(st) => st,
                TypeRef::Complex(ct) => {
                    let base_ct = &self.schema.complex_types[ct as usize];
                    attributes = base_ct.attributes.clone();
                    wildcard = base_ct.attribute_wildcard;
                    match base_ct.content {
                        Content::Simple(st) => st,
                        _ => self.builtin("string")?,
                    }
                }
            };
            simple_content = Some(if derivation.kind == "restriction" {
                self.restricted_simple(derivation, doc, base_simple, None)?
            } else {
                base_simple
            });
            self.collect_attributes(derivation, doc, &mut attributes, &mut wildcard)?;
        } else if let Some(cc) = node.child("complexContent") {
            mixed |= cc.attr("mixed") == Some("true");
            let derivation = cc
                .child("extension")
                .or_else(|| cc.child("restriction"))
                .ok_or_else(|| {
                    SchemaError::new("complexContent without extension or restriction")
                })?;
            let base_q = Self::qname_key(derivation, "base")?
                .ok_or_else(|| SchemaError::new("complexContent derivation without base"))?;
            if let TypeRef::Complex(base) = self.resolve_type(&base_q)? {
                let base_ct = &self.schema.complex_types[base as usize];
                attributes = base_ct.attributes.clone();
                wildcard = base_ct.attribute_wildcard;
                if derivation.kind == "extension" {
                    base_particle = self.particles[base as usize].clone();
                    if let Content::Elements { mixed: true, .. } = base_ct.content {
                        mixed = true;
                    }
                }
            }
            particle_node = Self::particle_child(derivation);
            self.collect_attributes(derivation, doc, &mut attributes, &mut wildcard)?;
        } else {
            particle_node = Self::particle_child(node);
            self.collect_attributes(node, doc, &mut attributes, &mut wildcard)?;
        }

        let content = if let Some(st) = simple_content {
            Content::Simple(st)
        } else if let Some(all) = particle_node.filter(|p| p.kind == "all") {
            let mut members = Vec::new();
            for child in all.children_of("element") {
                let decl = self.element_particle_decl(child, doc)?;
                let occurs = occurs_of(child)?;
                members.push(AllMember {
                    name: self.schema.elements[decl as usize].name,
                    decl,
                    required: occurs.min > 0,
                });
            }
            Content::All {
                members,
                mixed,
                optional: occurs_of(all)?.min == 0,
            }
        } else {
            let own = match particle_node {
                Some(p) => self.particle(p, doc)?,
                None => None,
            };
            let particle = match (base_particle, own) {
                (Some(b), Some(o)) => Some(Particle::Sequence(vec![b, o], Occurs::ONCE)),
                (Some(b), None) => Some(b),
                (None, o) => o,
            };
            if particle.is_none() && !mixed {
                Content::Empty
            } else {
                let automaton = self.push_automaton(particle.as_ref());
                self.particles[id as usize] = particle;
                Content::Elements { automaton, mixed }
            }
        };
        let ct = &mut self.schema.complex_types[id as usize];
        ct.attributes = attributes;
        ct.attribute_wildcard = wildcard;
        ct.content = content;
        Ok(id)
    }

    fn particle_child(node: &XsdNode) -> Option<&XsdNode> {
        node.children
            .iter()
            .find(|c| matches!(c.kind.as_str(), "sequence" | "choice" | "all" | "group"))
    }

    fn element_particle_decl(&mut self, node: &'a XsdNode, doc: usize) -> Result<u32, SchemaError> {
        match Self::qname_key(node, "ref")? {
            Some((ns, local)) => self.global_element(&expanded_key(Some(&ns), &local)),
            None => self.local_element(node, doc),
        }
    }

    /// The particle of a sequence / choice / element / any / group; `None` when it can match
    /// nothing but the empty sequence.
    fn particle(&mut self, node: &'a XsdNode, doc: usize) -> Result<Option<Particle>, SchemaError> {
        let occurs = occurs_of(node)?;
        Ok(match node.kind.as_str() {
            "element" => {
                let decl = self.element_particle_decl(node, doc)?;
                Some(Particle::Element {
                    name: self.schema.elements[decl as usize].name,
                    decl,
                    occurs,
                })
            }
            "any" => Some(Particle::Any {
                wildcard: self.wildcard(node, doc)?,
                occurs,
            }),
            "sequence" | "choice" => {
                let mut items = Vec::new();
                for child in &node.children {
                    if matches!(
                        child.kind.as_str(),
                        "element" | "any" | "sequence" | "choice" | "group"
                    ) && let Some(p) = self.particle(child, doc)?
                    {
                        items.push(p);
                    }
                }
                if items.is_empty() {
                    None
                } else if node.kind == "sequence" {
                    Some(Particle::Sequence(items, occurs))
                } else {
                    Some(Particle::Choice(items, occurs))
                }
            }
            "group" => {
                let (ns, local) = Self::qname_key(node, "ref")?
                    .ok_or_else(|| SchemaError::new("a group reference without ref"))?;
                let (group, group_doc) =
                    self.lookup(Kind::Group, &expanded_key(Some(&ns), &local))?;
                match Self::particle_child(group) {
                    Some(inner) if inner.kind == "all" => {
                        return Err(SchemaError::new("a group holding xsd:all is not supported"));
                    }
                    Some(inner) => self
                        .particle(inner, group_doc)?
                        .map(|p| Particle::Sequence(vec![p], occurs)),
                    None => None,
                }
            }
            "all" => {
                return Err(SchemaError::new(
                    "xsd:all is only supported as a whole content model",
                ));
            }
            other => {
                return Err(SchemaError::new(format!(
                    "unexpected '{other}' in a content model"
                )));
            }
        })
    }

    fn collect_attributes(
        &mut self,
        node: &'a XsdNode,
        doc: usize,
        attributes: &mut Vec<AttrUse>,
        wildcard: &mut Option<u32>,
    ) -> Result<(), SchemaError> {
        for child in &node.children {
            match child.kind.as_str() {
                "attribute" => {
                    let (name, ty) = match Self::qname_key(child, "ref")? {
                        Some((ns, local)) => {
                            self.global_attribute(&expanded_key(Some(&ns), &local))?
                        }
                        None => {
                            let local = child.attr("name").ok_or_else(|| {
                                SchemaError::new("an attribute without name or ref")
                            })?;
                            let d = &self.docs[doc];
                            let qualified = match child.attr("form") {
                                Some(form) => form == "qualified",
                                None => d.attributes_qualified,
                            };
                            let ns = if qualified {
                                d.target_ns.clone()
                            } else {
                                String::new()
                            };
                            let name = self.schema.names.intern(&expanded_key(Some(&ns), local));
                            (name, self.attribute_type(child, doc)?)
                        }
                    };
                    attributes.retain(|a| a.name != name);
                    match child.attr("use") {
                        Some("prohibited") => {}
                        other => attributes.push(AttrUse {
                            name,
                            ty,
                            required: other == Some("required"),
                            fixed: child.attr("fixed").map(str::to_owned),
                        }),
                    }
                }
                "attributeGroup" => {
                    let (ns, local) = Self::qname_key(child, "ref")?.ok_or_else(|| {
                        SchemaError::new("an attributeGroup reference without ref")
                    })?;
                    let (group, group_doc) =
                        self.lookup(Kind::AttributeGroup, &expanded_key(Some(&ns), &local))?;
                    self.collect_attributes(group, group_doc, attributes, wildcard)?;
                }
                "anyAttribute" => *wildcard = Some(self.wildcard(child, doc)?),
                _ => {}
            }
        }
        Ok(())
    }

    fn attribute_type(&mut self, node: &'a XsdNode, doc: usize) -> Result<u32, SchemaError> {
        if let Some(q) = Self::qname_key(node, "type")? {
            return self.resolve_simple(&q);
        }
        if let Some(st) = node.child("simpleType") {
            return self.simple_type(st, doc, None);
        }
        self.builtin("anySimpleType")
    }

    fn global_attribute(
        &mut self,
        key: &str,
    ) -> Result<(crate::iati::names::NameId, u32), SchemaError> {
        if let Some(found) = self.attribute_memo.get(key) {
            return Ok(*found);
        }
        let (node, doc) = self.lookup(Kind::Attribute, key)?;
        let name = self.schema.names.intern(key);
        let ty = self.attribute_type(node, doc)?;
        self.attribute_memo.insert(key.to_owned(), (name, ty));
        Ok((name, ty))
    }

    fn named_simple_type(&mut self, key: &str) -> Result<u32, SchemaError> {
        if let Some(id) = self.simple_memo.get(key) {
            return Ok(*id);
        }
        let (node, doc) = self.lookup(Kind::SimpleType, key)?;
        let label = node.attr("name").unwrap_or(key).to_owned();
        let id = self.simple_type(node, doc, Some(label))?;
        self.simple_memo.insert(key.to_owned(), id);
        Ok(id)
    }

    fn simple_type(
        &mut self,
        node: &'a XsdNode,
        doc: usize,
        label: Option<String>,
    ) -> Result<u32, SchemaError> {
        if let Some(r) = node.child("restriction") {
            let base = match Self::qname_key(r, "base")? {
                Some(q) => self.resolve_simple(&q)?,
                None => match r.child("simpleType") {
                    Some(inline) => self.simple_type(inline, doc, None)?,
                    None => return Err(SchemaError::new("a restriction without base")),
                },
            };
            return self.restricted_simple(r, doc, base, label);
        }
        if let Some(l) = node.child("list") {
            let item = match Self::qname_key(l, "itemType")? {
                Some(q) => self.resolve_simple(&q)?,
                None => match l.child("simpleType") {
                    Some(inline) => self.simple_type(inline, doc, None)?,
                    None => return Err(SchemaError::new("a list without item type")),
                },
            };
            return Ok(self.push_simple(SimpleType {
                label: label.unwrap_or_else(|| "local list type".to_owned()),
                variety: Variety::List { item },
                facets: Facets::default(),
            }));
        }
        if let Some(u) = node.child("union") {
            let mut members = Vec::new();
            if let Some(list) = u.attr("memberTypes") {
                for token in list.split_whitespace() {
                    let q = u.resolve_qname(token)?;
                    members.push(self.resolve_simple(&q)?);
                }
            }
            for inline in u.children_of("simpleType") {
                members.push(self.simple_type(inline, doc, None)?);
            }
            return Ok(self.push_simple(SimpleType {
                label: label.unwrap_or_else(|| "local union type".to_owned()),
                variety: Variety::Union { members },
                facets: Facets::default(),
            }));
        }
        Err(SchemaError::new(
            "a simpleType without restriction, list or union",
        ))
    }

    fn restricted_simple(
        &mut self,
        r: &XsdNode,
        _doc: usize,
        base: u32,
        label: Option<String>,
    ) -> Result<u32, SchemaError> {
        let mut facets = Facets::default();
        for f in &r.children {
            let value = f.attr("value").unwrap_or("");
            let number = || {
                value
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| SchemaError::new(format!("bad numeric facet '{value}'")))
            };
            let count = || {
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| SchemaError::new(format!("bad length facet '{value}'")))
            };
            match f.kind.as_str() {
                "enumeration" => facets
                    .enumeration
                    .get_or_insert_with(Vec::new)
                    .push(value.to_owned()),
                "pattern" => facets.patterns.push((value.to_owned(), xsd_regex(value)?)),
                "length" => facets.length = Some(count()?),
                "minLength" => facets.min_length = Some(count()?),
                "maxLength" => facets.max_length = Some(count()?),
                "minInclusive" => facets.min_inclusive = Some(number()?),
                "maxInclusive" => facets.max_inclusive = Some(number()?),
                "minExclusive" => facets.min_exclusive = Some(number()?),
                "maxExclusive" => facets.max_exclusive = Some(number()?),
                "whiteSpace" => {
                    facets.white_space = Some(match value {
                        "preserve" => WhiteSpace::Preserve,
                        "replace" => WhiteSpace::Replace,
                        _ => WhiteSpace::Collapse,
                    })
                }
                // Digits facets only narrow decimals further; IATI uses none.
                _ => {}
            }
        }
        Ok(self.push_simple(SimpleType {
            label: label.unwrap_or_else(|| "local atomic type".to_owned()),
            variety: Variety::Restriction { base },
            facets,
        }))
    }
}

/// Translates an XML Schema regular expression into an anchored Rust one.
fn xsd_regex(pattern: &str) -> Result<Regex, SchemaError> {
    if pattern.contains("-[") {
        return Err(SchemaError::new(format!(
            "character class subtraction in pattern '{pattern}' is not supported"
        )));
    }
    let translated = pattern
        .replace("\\i", "[\\p{L}_:]")
        .replace("\\I", "[^\\p{L}_:]")
        .replace("\\c", "[\\p{L}\\p{N}._:\\-]")
        .replace("\\C", "[^\\p{L}\\p{N}._:\\-]");
    Regex::new(&format!("^(?:{translated})$"))
        .map_err(|e| SchemaError::new(format!("pattern '{pattern}': {e}")))
}
