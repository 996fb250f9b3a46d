//! Interned element and attribute names.
//!
//! Element names are compared millions of times while a large file streams past, so each
//! name the schema, the codelist mapping or a ruleset knows is turned into a small integer
//! once and compared as such.

use rustc_hash::FxHashMap;

/// The namespace of the `xml:` prefix, bound in every XML document.
pub(crate) const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// A name turned into a number by an [`Interner`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NameId(pub(crate) u32);

/// The key of a name in the interner: the local name for names in no namespace, `xml:local`
/// for the XML namespace and `{uri}local` for any other namespace.
pub(crate) fn expanded_key(namespace: Option<&str>, local: &str) -> String {
    match namespace {
        None | Some("") => local.to_owned(),
        Some(XML_NS) => format!("xml:{local}"),
        Some(uri) => format!("{{{uri}}}{local}"),
    }
}

/// [`expanded_key`] written into `out` (cleared first), without allocating.
pub(crate) fn expanded_key_into(out: &mut String, namespace: Option<&str>, local: &str) {
    out.clear();
    match namespace {
        None | Some("") => {}
        Some(XML_NS) => out.push_str("xml:"),
        Some(uri) => {
            out.push('{');
            out.push_str(uri);
            out.push('}');
        }
    }
    out.push_str(local);
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Interner {
    ids: FxHashMap<Box<str>, NameId>,
    names: Vec<Box<str>>,
}

impl Interner {
    pub(crate) fn intern(&mut self, key: &str) -> NameId {
        if let Some(id) = self.ids.get(key) {
            return *id;
        }
        let id = NameId(u32::try_from(self.names.len()).unwrap_or(u32::MAX));
        self.names.push(key.into());
        self.ids.insert(key.into(), id);
        id
    }

    pub(crate) fn get(&self, key: &str) -> Option<NameId> {
        self.ids.get(key).copied()
    }

    /// How many names there are: their ids are `0..len`.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    pub(crate) fn name(&self, id: NameId) -> &str {
        self.names.get(id.0 as usize).map_or("?", |n| n)
    }
}
