//! Streams an XML document as start / text / end calls, with namespaces resolved, entities
//! expanded, positions attached, and the well-formedness checks quick-xml leaves to its
//! caller (one root, nothing but markup around it, every element closed, known entities,
//! UTF-8).

use std::io::{self, BufRead};
use std::ops::Range;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use super::names::XML_NS;
use super::position::LineCounter;

/// The namespace of an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AttrNs {
    None,
    Xml,
    /// A namespace URI, as a range of the arena.
    Other(Range<usize>),
}

/// An attribute of the current start tag; names and values live in [`StartTag::arena`].
#[derive(Clone, Debug)]
pub(crate) struct RawAttr {
    pub(crate) ns: AttrNs,
    pub(crate) local: Range<usize>,
    pub(crate) value: Range<usize>,
}

/// A start tag, borrowed for the duration of a [`Handler::start`] call.
pub(crate) struct StartTag<'a> {
    /// `None` for no namespace.
    pub(crate) namespace: Option<&'a str>,
    pub(crate) local: &'a str,
    /// The name as written (`iati-activity`, `me:feedback`).
    pub(crate) qname: &'a str,
    pub(crate) attrs: &'a [RawAttr],
    pub(crate) arena: &'a str,
    pub(crate) line: u64,
    pub(crate) column: u64,
}

impl StartTag<'_> {
    pub(crate) fn attr_namespace(&self, a: &RawAttr) -> Option<&str> {
        match &a.ns {
            AttrNs::None => None,
            AttrNs::Xml => Some(XML_NS),
            AttrNs::Other(r) => Some(&self.arena[r.clone()]),
        }
    }

    pub(crate) fn attr_local(&self, a: &RawAttr) -> &str {
        &self.arena[a.local.clone()]
    }

    pub(crate) fn attr_value(&self, a: &RawAttr) -> &str {
        &self.arena[a.value.clone()]
    }
}

/// What the document reader reports.
pub(crate) trait Handler {
    fn start(&mut self, tag: &StartTag);
    /// Character data directly inside the current element, entities already expanded and line
    /// ends normalized. May come in several pieces.
    fn text(&mut self, text: &str, line: u64, column: u64);
    fn end(&mut self, line: u64, column: u64);
    /// A namespace prefix that is not declared: libxml2 reports it and goes on.
    fn namespace_problem(&mut self, message: String, line: u64, column: u64);
}

/// The XML is broken: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed {
    pub(crate) line: u64,
    pub(crate) column: u64,
    pub(crate) message: String,
}

/// Reads the whole document into `handler`. `Ok(Some(_))` means the XML is not well-formed
/// (the handler got everything before the break); `Err` is an I/O failure.
pub(crate) fn read_document<R: BufRead, H: Handler>(
    input: R,
    handler: &mut H,
) -> io::Result<Option<Malformed>> {
    let mut reader = NsReader::from_reader(LineCounter::new(input));
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut arena = String::with_capacity(1024);
    let mut attrs: Vec<RawAttr> = Vec::with_capacity(16);
    let mut open = OpenElements::default();
    let mut root_seen = false;
    loop {
        let (line, column) = reader.get_ref().position();
        let malformed = |message: String| Malformed {
            line,
            column,
            message,
        };
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(quick_xml::Error::Io(e)) => {
                return Err(io::Error::new(e.kind(), e.to_string()));
            }
            // Reported where the broken construct starts.
            Err(e) => return Ok(Some(malformed(xml_error_text(&e, &open)))),
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                if open.is_empty() && root_seen {
                    return Ok(Some(malformed(
                        "Extra content at the end of the document".into(),
                    )));
                }
                root_seen = true;
                if let Err(message) = collect_attributes(&reader, e, &mut arena, &mut attrs) {
                    return Ok(Some(malformed(message)));
                }
                let qname = e.name();
                let (resolved, local) = reader.resolver().resolve_element(qname);
                let namespace = match resolved {
                    ResolveResult::Bound(ns) => Some(ns.0),
                    ResolveResult::Unbound => None,
                    ResolveResult::Unknown(prefix) => {
                        handler.namespace_problem(
                            format!(
                                "Namespace prefix {prefix} on {} is not defined",
                                local.as_ref()
                            ),
                            line,
                            column,
                        );
                        Some("urn:meridian:undeclared-prefix")
                    }
                };
                for a in &attrs {
                    if let AttrNs::Other(r) = &a.ns
                        && &arena[r.clone()] == "urn:meridian:undeclared-prefix"
                    {
                        handler.namespace_problem(
                            format!(
                                "Namespace prefix of attribute {} on {} is not defined",
                                &arena[a.local.clone()],
                                local.as_ref()
                            ),
                            line,
                            column,
                        );
                    }
                }
                let tag = StartTag {
                    namespace,
                    local: local.as_ref(),
                    qname: qname.as_ref(),
                    attrs: &attrs,
                    arena: &arena,
                    line,
                    column,
                };
                handler.start(&tag);
                if empty {
                    handler.end(line, column);
                } else {
                    open.push(qname.as_ref());
                }
            }
            Event::End(_) => {
                open.pop();
                handler.end(line, column);
            }
            Event::Text(t) => {
                let content = t.xml10_content();
                if open.is_empty() {
                    if !content.chars().all(is_xml_space) {
                        let message = if root_seen {
                            "Extra content at the end of the document"
                        } else {
                            "Start tag expected, '<' not found"
                        };
                        return Ok(Some(malformed(message.into())));
                    }
                } else {
                    handler.text(&content, line, column);
                }
            }
            Event::CData(c) => {
                if open.is_empty() {
                    return Ok(Some(malformed("CDATA outside the root element".into())));
                }
                handler.text(&c.xml10_content(), line, column);
            }
            Event::GeneralRef(r) => {
                if open.is_empty() {
                    return Ok(Some(malformed(
                        "Entity reference outside the root element".into(),
                    )));
                }
                let mut utf8 = [0u8; 4];
                let text: &str = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.encode_utf8(&mut utf8),
                    Ok(None) => match &*r {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "apos" => "'",
                        "quot" => "\"",
                        name => return Ok(Some(malformed(format!("Entity '{name}' not defined")))),
                    },
                    Err(e) => return Ok(Some(malformed(format!("Bad character reference: {e}")))),
                };
                handler.text(text, line, column);
            }
            Event::Decl(d) => {
                if let Some(Ok(encoding)) = d.encoding() {
                    let enc = encoding.to_ascii_lowercase();
                    if !matches!(enc.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
                        return Ok(Some(malformed(format!(
                            "Unsupported encoding {encoding}: convert the file to UTF-8"
                        ))));
                    }
                }
            }
            Event::Eof => {
                if !root_seen {
                    return Ok(Some(malformed("Document is empty".into())));
                }
                if let Some(name) = open.last() {
                    return Ok(Some(malformed(format!(
                        "Premature end of data in tag {name}"
                    ))));
                }
                return Ok(None);
            }
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
}

/// The names of the open elements, as written, in one buffer.
#[derive(Default)]
struct OpenElements {
    names: String,
    starts: Vec<usize>,
}

impl OpenElements {
    fn push(&mut self, name: &str) {
        self.starts.push(self.names.len());
        self.names.push_str(name);
    }

    fn pop(&mut self) {
        if let Some(start) = self.starts.pop() {
            self.names.truncate(start);
        }
    }

    fn last(&self) -> Option<&str> {
        self.starts.last().map(|s| &self.names[*s..])
    }

    fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn collect_attributes<R>(
    reader: &NsReader<R>,
    e: &BytesStart,
    arena: &mut String,
    attrs: &mut Vec<RawAttr>,
) -> Result<(), String> {
    arena.clear();
    attrs.clear();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("Malformed attribute: {err}"))?;
        let key = attr.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let (resolved, local) = reader.resolver().resolve_attribute(attr.key);
        let ns = match resolved {
            ResolveResult::Unbound => AttrNs::None,
            ResolveResult::Bound(ns) if ns.0 == XML_NS => AttrNs::Xml,
            ResolveResult::Bound(ns) => push(arena, ns.0).map_or(AttrNs::None, AttrNs::Other),
            ResolveResult::Unknown(_) => {
                AttrNs::Other(push(arena, "urn:meridian:undeclared-prefix").unwrap_or(0..0))
            }
        };
        let local = push(arena, local.as_ref()).unwrap_or(0..0);
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| format!("Bad value of attribute {key}: {err}"))?;
        let value = push(arena, &value).unwrap_or(0..0);
        attrs.push(RawAttr { ns, local, value });
    }
    Ok(())
}

fn push(arena: &mut String, s: &str) -> Option<Range<usize>> {
    let start = arena.len();
    arena.push_str(s);
    Some(start..arena.len())
}

fn xml_error_text(e: &quick_xml::Error, open: &OpenElements) -> String {
    use quick_xml::errors::IllFormedError;
    match e {
        quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
            format!("Opening and ending tag mismatch: {expected} and {found}")
        }
        quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(name)) => {
            format!("Unexpected end tag : {name}")
        }
        quick_xml::Error::Syntax(_) if !open.is_empty() => {
            format!("{e} (inside {})", open.last().unwrap_or(""))
        }
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Trace(Vec<String>);

    impl Handler for Trace {
        fn start(&mut self, tag: &StartTag) {
            let attrs: Vec<String> = tag
                .attrs
                .iter()
                .map(|a| format!("{}={}", tag.attr_local(a), tag.attr_value(a)))
                .collect();
            self.0.push(format!(
                "<{}@{}:{} {}>",
                tag.local,
                tag.line,
                tag.column,
                attrs.join(",")
            ));
        }
        fn text(&mut self, text: &str, _: u64, _: u64) {
            self.0.push(text.to_owned());
        }
        fn end(&mut self, _: u64, _: u64) {
            self.0.push("</>".into());
        }
        fn namespace_problem(&mut self, message: String, _: u64, _: u64) {
            self.0.push(message);
        }
    }

    fn read(xml: &str) -> (Vec<String>, Option<Malformed>) {
        let mut t = Trace::default();
        let result = read_document(xml.as_bytes(), &mut t).unwrap();
        (t.0, result)
    }

    #[test]
    fn positions_point_at_the_start_tag() {
        let (trace, result) = read("<a>\n  <b x=\"1 &amp; 2\"/>\n</a>");
        assert_eq!(result, None);
        assert_eq!(trace[2], "<b@2:3 x=1 & 2>");
    }

    #[test]
    fn broken_documents_say_where() {
        let (_, result) = read("<a>\n<b></c>\n</a>");
        let m = result.unwrap();
        assert_eq!(m.line, 2);
        assert!(m.message.contains("mismatch"), "{}", m.message);
        assert!(
            read("<a><b></b>")
                .1
                .unwrap()
                .message
                .contains("Premature end")
        );
        assert!(
            read("not xml")
                .1
                .unwrap()
                .message
                .contains("Start tag expected")
        );
        assert!(
            read("<a/><b/>")
                .1
                .unwrap()
                .message
                .contains("Extra content")
        );
        assert!(read("<a>&nbsp;</a>").1.unwrap().message.contains("nbsp"));
        assert!(read("").1.is_some());
    }

    #[test]
    fn entities_and_cdata_become_text() {
        let (trace, result) = read("<a>x &lt; &#65;<![CDATA[<y>]]></a>");
        assert_eq!(result, None);
        assert_eq!(trace[1..trace.len() - 1].concat(), "x < A<y>");
    }
}
