//! The activity being read, as a small tree the codelist and rule checks can walk.
//!
//! Only one activity (or organisation) is held at a time, under a copy of the root element,
//! which is how the IATI Validator evaluates its rules too. Buffers are reused from one
//! activity to the next, so a file of any size runs in the memory of its largest activity.

use std::ops::Range;

use rustc_hash::FxHashMap;

use super::document::StartTag;
use super::names::{Interner, NameId, expanded_key, expanded_key_into};
use super::xsd::validator::AttrInfo;

pub(crate) const NONE: u32 = u32::MAX;
/// The document node (parent of the root element).
pub(crate) const DOCUMENT: u32 = 0;

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) name: NameId,
    pub(crate) parent: u32,
    pub(crate) first_child: u32,
    pub(crate) last_child: u32,
    pub(crate) next_sibling: u32,
    pub(crate) attrs: Range<u32>,
    /// Character data directly inside the element, pieces joined.
    pub(crate) text: Range<u32>,
    /// The last node of its subtree, once the element is closed (nodes are numbered in
    /// document order, so its descendants are the nodes after it up to this one).
    last_descendant: u32,
    pub(crate) line: u64,
    pub(crate) column: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct Attr {
    pub(crate) name: NameId,
    pub(crate) owner: u32,
    pub(crate) value: Range<u32>,
}

/// One activity under its root element; node 0 is the document node, node 1 the root.
#[derive(Clone)]
pub(crate) struct Tree<'n> {
    base: &'n Interner,
    /// Names the base interner does not know (extension elements, stray attributes), numbered
    /// after the base ones.
    extra_ids: FxHashMap<String, NameId>,
    extra_names: Vec<String>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) attrs: Vec<Attr>,
    strings: String,
    /// Open elements and the text collected for each.
    open: Vec<u32>,
    text_stack: Vec<String>,
    /// Sizes to truncate back to when an activity is done (the root stays).
    keep: (usize, usize, usize),
    /// The children of one element (the activity the rules run on) sorted by name, then
    /// document order, so that `child::name` from it is a binary search.
    indexed: u32,
    child_index: Vec<(NameId, u32)>,
    /// Where each base name's children are in `child_index` (`from..to`; empty when there
    /// are none), so that a look-up is one index; extension names are searched for.
    child_runs: Vec<(u32, u32)>,
    /// The names whose entry in `child_runs` is set.
    runs_set: Vec<NameId>,
    /// Scratch space for a namespaced name's key.
    scratch: String,
}

impl<'n> Tree<'n> {
    pub(crate) fn new(base: &'n Interner) -> Self {
        let document = Node {
            name: NameId(u32::MAX),
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            attrs: 0..0,
            text: 0..0,
            last_descendant: NONE,
            line: 1,
            column: 1,
        };
        Tree {
            base,
            extra_ids: FxHashMap::default(),
            extra_names: Vec::new(),
            nodes: vec![document],
            attrs: Vec::new(),
            strings: String::new(),
            open: Vec::new(),
            text_stack: Vec::new(),
            keep: (1, 0, 0),
            indexed: NONE,
            child_index: Vec::new(),
            child_runs: vec![(0, 0); base.len()],
            runs_set: Vec::new(),
            scratch: String::new(),
        }
    }

    /// The id of a name key (see [`expanded_key`]); `None` if no node could have it.
    pub(crate) fn lookup(&self, key: &str) -> Option<NameId> {
        self.base
            .get(key)
            .or_else(|| self.extra_ids.get(key).copied())
    }

    pub(crate) fn name(&self, id: NameId) -> &str {
        match (id.0 as usize).checked_sub(BASE_LIMIT) {
            None => self.base.name(id),
            Some(extra) => self.extra_names.get(extra).map_or("", String::as_str),
        }
    }

    fn intern(&mut self, key: &str) -> NameId {
        if let Some(id) = self.base.get(key) {
            return id;
        }
        if let Some(id) = self.extra_ids.get(key) {
            return *id;
        }
        let id = NameId((BASE_LIMIT + self.extra_names.len()) as u32);
        self.extra_names.push(key.to_owned());
        self.extra_ids.insert(key.to_owned(), id);
        id
    }

    /// Opens an element under the current one (or as the root). `attrs` are the tag's
    /// attributes with the schema's ids for their names, as the schema validator got them.
    pub(crate) fn start(&mut self, tag: &StartTag, key: Option<NameId>, attrs: &[AttrInfo]) {
        let name = match key {
            Some(k) => k,
            None => {
                let mut scratch = std::mem::take(&mut self.scratch);
                expanded_key_into(&mut scratch, tag.namespace, tag.local);
                let id = self.intern(&scratch);
                self.scratch = scratch;
                id
            }
        };
        let attrs_start = self.attrs.len() as u32;
        let index = self.nodes.len() as u32;
        for a in attrs {
            let attr_name = match a.key {
                Some(id) => id,
                None => match a.namespace {
                    None => self.intern(a.local),
                    Some(crate::iati::names::XML_NS) if a.local == "lang" => {
                        self.intern("xml:lang")
                    }
                    ns => self.intern(&expanded_key(ns, a.local)),
                },
            };
            let start = self.strings.len() as u32;
            self.strings.push_str(a.value);
            self.attrs.push(Attr {
                name: attr_name,
                owner: index,
                value: start..self.strings.len() as u32,
            });
        }
        let parent = self.open.last().copied().unwrap_or(DOCUMENT);
        self.nodes.push(Node {
            name,
            parent,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            attrs: attrs_start..self.attrs.len() as u32,
            text: 0..0,
            last_descendant: NONE,
            line: tag.line,
            column: tag.column,
        });
        let p = &mut self.nodes[parent as usize];
        if p.last_child == NONE {
            p.first_child = index;
        } else {
            let last = p.last_child as usize;
            self.nodes[last].next_sibling = index;
        }
        self.nodes[parent as usize].last_child = index;
        let depth = self.open.len();
        if self.text_stack.len() <= depth {
            self.text_stack.push(String::new());
        }
        self.text_stack[depth].clear();
        self.open.push(index);
    }

    pub(crate) fn text(&mut self, text: &str) {
        let depth = self.open.len();
        if depth > 0 {
            self.text_stack[depth - 1].push_str(text);
        }
    }

    /// Closes the current element; returns its index.
    pub(crate) fn end(&mut self) -> u32 {
        let Some(index) = self.open.pop() else {
            return NONE;
        };
        let depth = self.open.len();
        let start = self.strings.len() as u32;
        self.strings.push_str(&self.text_stack[depth]);
        let last = self.nodes.len() as u32 - 1;
        let node = &mut self.nodes[index as usize];
        node.text = start..self.strings.len() as u32;
        node.last_descendant = last;
        index
    }

    /// The nodes below `node`, in document order, as a range of node numbers. An element
    /// still open (the root, the document) has every node after it below it.
    pub(crate) fn descendant_range(&self, node: u32) -> std::ops::Range<u32> {
        let last = match self.nodes.get(node as usize) {
            Some(n) if n.last_descendant != NONE => n.last_descendant,
            _ => self.nodes.len() as u32 - 1,
        };
        node + 1..last + 1
    }

    /// Called once the root element's start tag is in: everything up to here stays.
    pub(crate) fn keep_root(&mut self) {
        self.keep = (self.nodes.len(), self.attrs.len(), self.strings.len());
    }

    /// Indexes the children of `node` by name (see [`Tree::children_named`]).
    pub(crate) fn index_children(&mut self, node: u32) {
        self.child_index.clear();
        let mut c = self
            .nodes
            .get(node as usize)
            .map_or(NONE, |n| n.first_child);
        while c != NONE {
            let n = &self.nodes[c as usize];
            self.child_index.push((n.name, c));
            c = n.next_sibling;
        }
        self.child_index.sort_unstable();
        self.indexed = node;
        for name in self.runs_set.drain(..) {
            self.child_runs[name.0 as usize] = (0, 0);
        }
        let mut from = 0;
        while let Some(&(name, _)) = self.child_index.get(from) {
            let to = from
                + self.child_index[from..]
                    .iter()
                    .take_while(|(n, _)| *n == name)
                    .count();
            if let Some(run) = self.child_runs.get_mut(name.0 as usize) {
                *run = (from as u32, to as u32);
                self.runs_set.push(name);
            }
            from = to;
        }
    }

    /// The children of `node` named `name`, in document order, when `node` is the indexed
    /// element; `None` otherwise (walk the children then).
    pub(crate) fn children_named(&self, node: u32, name: NameId) -> Option<&[(NameId, u32)]> {
        if node != self.indexed {
            return None;
        }
        if let Some(&(from, to)) = self.child_runs.get(name.0 as usize) {
            return Some(&self.child_index[from as usize..to as usize]);
        }
        let from = self.child_index.partition_point(|(n, _)| *n < name);
        let to = self.child_index.partition_point(|(n, _)| *n <= name);
        Some(&self.child_index[from..to])
    }

    /// Drops the finished activity, keeping the root element.
    pub(crate) fn clear_unit(&mut self) {
        self.indexed = NONE;
        self.child_index.clear();
        let (nodes, attrs, strings) = self.keep;
        self.nodes.truncate(nodes);
        self.attrs.truncate(attrs);
        self.strings.truncate(strings);
        if let Some(root) = self.nodes.get_mut(1) {
            root.first_child = NONE;
            root.last_child = NONE;
        }
    }

    pub(crate) fn str(&self, range: &Range<u32>) -> &str {
        self.strings
            .get(range.start as usize..range.end as usize)
            .unwrap_or("")
    }

    pub(crate) fn children(&self, node: u32) -> Children<'_, 'n> {
        let first = self
            .nodes
            .get(node as usize)
            .map_or(NONE, |n| n.first_child);
        Children {
            tree: self,
            next: first,
        }
    }

    pub(crate) fn attr(&self, node: u32, name: NameId) -> Option<&str> {
        let n = self.nodes.get(node as usize)?;
        self.attrs[n.attrs.start as usize..n.attrs.end as usize]
            .iter()
            .find(|a| a.name == name)
            .map(|a| self.str(&a.value))
    }

    /// The text directly inside an element.
    pub(crate) fn own_text(&self, node: u32) -> &str {
        self.nodes
            .get(node as usize)
            .map_or("", |n| self.str(&n.text))
    }

    /// XPath string value: all text inside, in document order (own text first for the rare
    /// mixed-content case).
    pub(crate) fn string_value(&self, node: u32) -> String {
        let mut out = String::new();
        self.collect_text(node, &mut out);
        out
    }

    fn collect_text(&self, node: u32, out: &mut String) {
        out.push_str(self.own_text(node));
        for child in self.children(node) {
            self.collect_text(child, out);
        }
    }

    /// `/iati-activities/iati-activity/...` for a node.
    pub(crate) fn path(&self, node: u32) -> String {
        let mut names = Vec::new();
        let mut n = node;
        while n != DOCUMENT && n != NONE {
            names.push(self.name(self.nodes[n as usize].name));
            n = self.nodes[n as usize].parent;
        }
        names.reverse();
        let mut out = String::new();
        for name in names {
            out.push('/');
            out.push_str(name);
        }
        out
    }
}

/// Extra (non-schema) names are numbered from here, well above any base id.
const BASE_LIMIT: usize = 1 << 24;

pub(crate) struct Children<'t, 'n> {
    tree: &'t Tree<'n>,
    next: u32,
}

impl Iterator for Children<'_, '_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.next == NONE {
            return None;
        }
        let current = self.next;
        self.next = self.tree.nodes[current as usize].next_sibling;
        Some(current)
    }
}
