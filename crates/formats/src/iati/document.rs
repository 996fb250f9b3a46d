//! Streams an XML document as start / text / end calls, with namespaces resolved, entities
//! expanded, positions attached, and the well-formedness checks quick-xml leaves to its
//! caller (one root, nothing but markup around it, every element closed, known entities,
//! UTF-8).

use std::io::{self, BufRead};
use std::ops::Range;

use quick_xml::Reader as QuickReader;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesEnd, BytesRef, BytesStart, BytesText, Event};
use quick_xml::name::{NamespaceResolver, ResolveResult};

use super::names::XML_NS;
use super::position::{LineCounter, Source, TextCounter};

/// The namespace of an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AttrNs {
    None,
    Xml,
    /// A namespace URI, as a range of the arena.
    Other(Range<usize>),
}

/// An attribute of the current start tag; names and values are ranges of the tag's own text
/// or, past its end, of [`StartTag::arena`] (see [`StartTag::text`]).
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
    /// The tag's attributes as written.
    pub(crate) raw: &'a str,
    /// Namespaces and normalized values, at offsets from the end of `raw`.
    pub(crate) arena: &'a str,
    pub(crate) line: u64,
    pub(crate) column: u64,
}

impl StartTag<'_> {
    pub(crate) fn attr_namespace(&self, a: &RawAttr) -> Option<&str> {
        match &a.ns {
            AttrNs::None => None,
            AttrNs::Xml => Some(XML_NS),
            AttrNs::Other(r) => Some(self.text(r)),
        }
    }

    pub(crate) fn attr_local(&self, a: &RawAttr) -> &str {
        self.text(&a.local)
    }

    pub(crate) fn attr_value(&self, a: &RawAttr) -> &str {
        self.text(&a.value)
    }

    /// A range of the tag's text, or past its end, of the arena.
    fn text(&self, r: &Range<usize>) -> &str {
        match r.start.checked_sub(self.raw.len()) {
            Some(start) => &self.arena[start..r.end - self.raw.len()],
            None => &self.raw[r.clone()],
        }
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
///
/// Two tokenizers share the work. The fast one reads the common markup (start, empty and end
/// tags, text, entity and character references, comments) straight out of the input buffer,
/// without copying, and hands quick-xml's own event types to the code below; anything else
/// — the XML declaration, DOCTYPE, CDATA, processing instructions, invalid UTF-8, a token
/// longer than the buffer, the end of the input, anything malformed — is read by quick-xml
/// itself, one event at a time from the same buffer. Both end up in [`Reader::dispatch`], so
/// what the handler sees, and every error message and position, is quick-xml's.
#[cfg(test)]
pub(crate) fn read_document<R: BufRead, H: Handler>(
    input: R,
    handler: &mut H,
) -> io::Result<Option<Malformed>> {
    read_extent(input, handler, Extent::Document).map(|ending| ending.malformed)
}

/// How much of a document the input holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extent {
    /// All of it: the input ends after the root element.
    Document,
    /// Its start up to some point inside the root element: ending there, with only the root
    /// open, is not an error (see [`Ending::inside_root`]).
    Part,
}

/// How a read ended.
#[derive(Debug)]
pub(crate) struct Ending {
    /// The XML is broken here (for [`Extent::Part`], also when the input ended anywhere but
    /// directly inside the root element).
    pub(crate) malformed: Option<Malformed>,
    /// Line and column after the last byte read.
    pub(crate) position: (u64, u64),
    /// [`Extent::Part`] only: the input ended between two children of the root element.
    pub(crate) inside_root: bool,
}

/// [`read_document`], for a whole document or the start of one.
pub(crate) fn read_extent<R: BufRead, H: Handler>(
    input: R,
    handler: &mut H,
    extent: Extent,
) -> io::Result<Ending> {
    read_source(LineCounter::new(input), handler, extent)
}

/// [`read_extent`] for text in memory.
pub(crate) fn read_text<H: Handler>(text: &str, handler: &mut H, extent: Extent) -> Ending {
    match read_source(TextCounter::new(text), handler, extent) {
        Ok(ending) => ending,
        // Reading memory cannot fail.
        Err(e) => unreachable!("reading text in memory failed: {e}"),
    }
}

fn read_source<S: Source, H: Handler>(
    mut counter: S,
    handler: &mut H,
    extent: Extent,
) -> io::Result<Ending> {
    let mut reader = Reader {
        buf: Vec::with_capacity(16 * 1024),
        arena: String::with_capacity(1024),
        attrs: Vec::with_capacity(16),
        spans: Vec::with_capacity(16),
        open: OpenElements::default(),
        resolver: NamespaceResolver::default(),
        no_bindings: BytesStart::new("x"),
        xmlns: memchr::memmem::Finder::new(b"xmlns"),
        root_seen: false,
        part: extent == Extent::Part,
        inside_root: false,
        may_hold_cr: counter.may_hold_cr(),
    };
    loop {
        let (line, column) = counter.position();
        let flow = match fast_token(&counter) {
            Token::Event(event, len) => {
                let flow = reader.dispatch(event, line, column, handler);
                counter.consume(len);
                flow
            }
            Token::NeedMore => {
                if !counter.fill_more()? {
                    reader.slow_event(&mut counter, handler)?
                } else {
                    Flow::Continue
                }
            }
            Token::Slow => reader.slow_event(&mut counter, handler)?,
        };
        if let Flow::Finish(malformed) = flow {
            return Ok(Ending {
                malformed,
                position: counter.position(),
                inside_root: reader.inside_root,
            });
        }
    }
}

/// What the fast tokenizer found at the start of the unread input.
enum Token<'a> {
    /// An event and the number of bytes it spans.
    Event(Event<'a>, usize),
    /// The token may go on past the buffered input.
    NeedMore,
    /// A token for quick-xml to read.
    Slow,
}

enum Flow {
    Continue,
    Finish(Option<Malformed>),
}

/// The next token, when it is one the fast path reads exactly as quick-xml would.
fn fast_token<S: Source>(counter: &S) -> Token<'_> {
    // The start of the document (byte-order mark, XML declaration) is quick-xml's.
    if counter.offset() == 0 {
        return Token::Slow;
    }
    let input = counter.available();
    let known = counter.available_text();
    // Token text: sliced from text known to be UTF-8, else checked.
    let text = |from: usize, to: usize| -> Option<&str> {
        match known {
            Some(text) => text.get(from..to),
            None => std::str::from_utf8(&input[from..to]).ok(),
        }
    };
    let Some(&first) = input.first() else {
        return Token::NeedMore;
    };
    match first {
        b'<' => match input.get(1) {
            None => Token::NeedMore,
            Some(b'/') => match tag_end(input, 2) {
                None => Token::NeedMore,
                Some(gt) => match text(2, gt) {
                    // Closing names are compared without trailing whitespace (unless
                    // there is nothing else, as quick-xml does).
                    Some(content) => {
                        let trimmed = content.trim_end_matches(is_xml_space);
                        let name = if trimmed.is_empty() { content } else { trimmed };
                        Token::Event(Event::End(BytesEnd::new(name)), gt + 1)
                    }
                    None => Token::Slow,
                },
            },
            Some(b'!') => {
                if input.len() < 4 {
                    return Token::NeedMore;
                }
                if !input.starts_with(b"<!--") {
                    return Token::Slow;
                }
                // Ends at the first `-->` after `<!--` (so `<!-->` is not a comment).
                match memchr::memmem::find(&input[4..], b"-->") {
                    None => Token::NeedMore,
                    Some(at) => {
                        let len = 4 + at + 3;
                        match text(0, len) {
                            Some(_) => {
                                Token::Event(Event::Comment(BytesText::from_escaped("")), len)
                            }
                            None => Token::Slow,
                        }
                    }
                }
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b':' => {
                match tag_end(input, 1) {
                    None => Token::NeedMore,
                    Some(gt) => match text(1, gt) {
                        Some(content) => {
                            let event = match content.strip_suffix('/') {
                                Some(inner) => {
                                    Event::Empty(BytesStart::from_content(inner, name_len(inner)))
                                }
                                None => Event::Start(BytesStart::from_content(
                                    content,
                                    name_len(content),
                                )),
                            };
                            Token::Event(event, gt + 1)
                        }
                        None => Token::Slow,
                    },
                }
            }
            Some(_) => Token::Slow,
        },
        b'&' => match memchr::memchr3(b';', b'&', b'<', &input[1..]) {
            None => Token::NeedMore,
            Some(at) if input[1 + at] == b';' => match text(1, 1 + at) {
                Some(name) => Token::Event(Event::GeneralRef(BytesRef::new(name)), at + 2),
                None => Token::Slow,
            },
            // A lone `&`: quick-xml says what is wrong.
            Some(_) => Token::Slow,
        },
        _ => match memchr::memchr2(b'<', b'&', input) {
            None => Token::NeedMore,
            Some(end) => match text(0, end) {
                Some(text) => Token::Event(Event::Text(BytesText::from_escaped(text)), end),
                None => Token::Slow,
            },
        },
    }
}

/// The index of the `>` closing a tag whose content starts at `from`, skipping quoted
/// attribute values (quick-xml's `ElementParser`).
pub(crate) fn tag_end(input: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for i in memchr::memchr3_iter(b'>', b'\'', b'"', &input[from..]) {
        let at = from + i;
        match (quote, input[at]) {
            (None, b'>') => return Some(at),
            (None, q) => quote = Some(q),
            (Some(q), c) if q == c => quote = None,
            _ => {}
        }
    }
    None
}

/// Length of the element name at the start of a tag's content (up to whitespace).
fn name_len(content: &str) -> usize {
    content
        .bytes()
        .position(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .unwrap_or(content.len())
}

/// Feeds a fresh quick-xml reader the rest of the input, hiding the first buffered byte's
/// successors on the first look so that it cannot mistake text for a byte-order mark.
struct MidDocument<'a, S> {
    inner: &'a mut S,
    first_look: bool,
}

impl<S: Source> io::Read for MidDocument<'_, S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.first_look = false;
        self.inner.read(out)
    }
}

impl<S: Source> BufRead for MidDocument<'_, S> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let first = std::mem::replace(&mut self.first_look, false);
        let available = self.inner.fill_buf()?;
        Ok(if first && available.len() > 1 {
            &available[..1]
        } else {
            available
        })
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
    }
}

/// Document state shared by both tokenizers.
struct Reader {
    buf: Vec<u8>,
    arena: String,
    attrs: Vec<RawAttr>,
    /// Scratch space for the attributes' spans.
    spans: AttrSpans,
    open: OpenElements,
    resolver: NamespaceResolver,
    /// A start tag without attributes.
    no_bindings: BytesStart<'static>,
    xmlns: memchr::memmem::Finder<'static>,
    root_seen: bool,
    /// Reading [`Extent::Part`].
    part: bool,
    /// The part ended with only the root element open.
    inside_root: bool,
    /// The input may hold a `\r` (see [`Source::may_hold_cr`]).
    may_hold_cr: bool,
}

impl Reader {
    /// Reads one event with quick-xml from where the fast path stopped.
    fn slow_event<S: Source, H: Handler>(
        &mut self,
        counter: &mut S,
        handler: &mut H,
    ) -> io::Result<Flow> {
        let (line, column) = counter.position();
        let at_start = counter.offset() == 0;
        self.buf.clear();
        let mut buf = std::mem::take(&mut self.buf);
        let event = if at_start {
            slow_reader(&mut *counter).read_event_into(&mut buf)
        } else {
            slow_reader(MidDocument {
                inner: counter,
                first_look: true,
            })
            .read_event_into(&mut buf)
        };
        let flow = match event {
            Ok(event) => self.dispatch(event, line, column, handler),
            Err(quick_xml::Error::Io(e)) => {
                return Err(io::Error::new(e.kind(), e.to_string()));
            }
            // Reported where the broken construct starts.
            Err(e) => Flow::Finish(Some(Malformed {
                line,
                column,
                message: xml_error_text(&e, &self.open),
            })),
        };
        self.buf = buf;
        Ok(flow)
    }

    /// Handles one event that starts at `line`:`column`.
    fn dispatch<H: Handler>(
        &mut self,
        event: Event,
        line: u64,
        column: u64,
        handler: &mut H,
    ) -> Flow {
        let malformed = |message: String| {
            Flow::Finish(Some(Malformed {
                line,
                column,
                message,
            }))
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                // What quick-xml's NsReader does before it returns a start tag.
                // A tag that declares no namespace only opens a level (the resolver would
                // walk its attributes to find none).
                let declares = self.xmlns.find(e.attributes_raw().as_bytes()).is_some();
                let pushed = if declares {
                    self.resolver.push(e)
                } else {
                    self.resolver.push(&self.no_bindings)
                };
                if let Err(err) = pushed {
                    return malformed(xml_error_text(
                        &quick_xml::Error::Namespace(err),
                        &self.open,
                    ));
                }
                if self.open.is_empty() && self.root_seen {
                    return malformed("Extra content at the end of the document".into());
                }
                self.root_seen = true;
                if let Err(message) = collect_attributes(
                    &self.resolver,
                    e,
                    &mut self.arena,
                    &mut self.attrs,
                    &mut self.spans,
                ) {
                    return malformed(message);
                }
                let qname = e.name();
                let (resolved, local) = self.resolver.resolve_element(qname);
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
                let tag = StartTag {
                    namespace,
                    local: local.as_ref(),
                    qname: qname.as_ref(),
                    attrs: &self.attrs,
                    raw: e.attributes_raw(),
                    arena: &self.arena,
                    line,
                    column,
                };
                for a in tag.attrs {
                    if tag.attr_namespace(a) == Some("urn:meridian:undeclared-prefix") {
                        handler.namespace_problem(
                            format!(
                                "Namespace prefix of attribute {} on {} is not defined",
                                tag.attr_local(a),
                                local.as_ref()
                            ),
                            line,
                            column,
                        );
                    }
                }
                handler.start(&tag);
                if empty {
                    handler.end(line, column);
                    self.resolver.pop();
                } else {
                    self.open.push(qname.as_ref());
                }
            }
            Event::End(e) => {
                // quick-xml's end-name check (its own is off: it only sees some events).
                let qname = e.name();
                let name: &str = qname.as_ref();
                match self.open.last() {
                    None => return malformed(format!("Unexpected end tag : {name}")),
                    Some(expected) if expected != name => {
                        return malformed(format!(
                            "Opening and ending tag mismatch: {expected} and {name}"
                        ));
                    }
                    Some(_) => {}
                }
                self.open.pop();
                self.resolver.pop();
                handler.end(line, column);
            }
            Event::Text(t) => {
                // Line ends are normalized only where there may be a `\r` to normalize.
                let content = if self.may_hold_cr {
                    t.xml10_content()
                } else {
                    std::borrow::Cow::Borrowed(&*t)
                };
                if self.open.is_empty() {
                    if !content.chars().all(is_xml_space) {
                        let message = if self.root_seen {
                            "Extra content at the end of the document"
                        } else {
                            "Start tag expected, '<' not found"
                        };
                        return malformed(message.into());
                    }
                } else {
                    handler.text(&content, line, column);
                }
            }
            Event::CData(c) => {
                if self.open.is_empty() {
                    return malformed("CDATA outside the root element".into());
                }
                handler.text(&c.xml10_content(), line, column);
            }
            Event::GeneralRef(r) => {
                if self.open.is_empty() {
                    return malformed("Entity reference outside the root element".into());
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
                        name => return malformed(format!("Entity '{name}' not defined")),
                    },
                    Err(e) => return malformed(format!("Bad character reference: {e}")),
                };
                handler.text(text, line, column);
            }
            Event::Decl(d) => {
                if let Some(Ok(encoding)) = d.encoding() {
                    let enc = encoding.to_ascii_lowercase();
                    if !matches!(enc.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
                        return malformed(format!(
                            "Unsupported encoding {encoding}: convert the file to UTF-8"
                        ));
                    }
                }
            }
            Event::Eof => {
                if self.part && self.open.starts.len() == 1 {
                    self.inside_root = true;
                    return Flow::Finish(None);
                }
                if !self.root_seen {
                    return malformed("Document is empty".into());
                }
                if let Some(name) = self.open.last() {
                    return malformed(format!("Premature end of data in tag {name}"));
                }
                return Flow::Finish(None);
            }
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
        Flow::Continue
    }
}

/// A quick-xml reader for one event: end names are checked by [`Reader::dispatch`], which
/// knows every open element.
fn slow_reader<B: BufRead>(input: B) -> QuickReader<B> {
    let mut reader = QuickReader::from_reader(input);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    reader
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

fn collect_attributes(
    resolver: &NamespaceResolver,
    e: &BytesStart,
    arena: &mut String,
    attrs: &mut Vec<RawAttr>,
    spans: &mut AttrSpans,
) -> Result<(), String> {
    arena.clear();
    attrs.clear();
    let raw = e.attributes_raw();
    let arena = &mut Arena {
        text: arena,
        base: raw.len(),
    };
    if plain_attributes(raw, spans) {
        // The names and values are ranges of the tag's own text; only namespaces and values
        // that normalization changes go to the arena.
        for (key, value) in spans.drain(..) {
            let name = &raw[key.clone()];
            if name == "xmlns" || name.starts_with("xmlns:") {
                continue;
            }
            // An attribute without a prefix is in no namespace (XML Namespaces §6.2): no
            // look-up needed.
            let (ns, local) = if name.contains(':') {
                let (resolved, local) = resolver.resolve_attribute(quick_xml::name::QName(name));
                (
                    attr_namespace(resolved, arena),
                    key.end - local.as_ref().len()..key.end,
                )
            } else {
                (AttrNs::None, key.clone())
            };
            let text = &raw[value.clone()];
            let value = if text
                .bytes()
                .any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
            {
                let attr = quick_xml::events::attributes::Attribute {
                    key: quick_xml::name::QName(name),
                    value: std::borrow::Cow::Borrowed(text),
                };
                let normalized = attr
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|err| format!("Bad value of attribute {name}: {err}"))?;
                arena.push(&normalized)
            } else {
                value
            };
            attrs.push(RawAttr { ns, local, value });
        }
        return Ok(());
    }
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("Malformed attribute: {err}"))?;
        add_attribute(resolver, &attr, arena, attrs)?;
    }
    Ok(())
}

fn add_attribute(
    resolver: &NamespaceResolver,
    attr: &quick_xml::events::attributes::Attribute,
    arena: &mut Arena,
    attrs: &mut Vec<RawAttr>,
) -> Result<(), String> {
    let key = attr.key.as_ref();
    if key == "xmlns" || key.starts_with("xmlns:") {
        return Ok(());
    }
    let (resolved, local) = resolver.resolve_attribute(attr.key);
    let ns = attr_namespace(resolved, arena);
    let local = arena.push(local.as_ref());
    let value = attr
        .normalized_value(XmlVersion::Implicit1_0)
        .map_err(|err| format!("Bad value of attribute {key}: {err}"))?;
    let value = arena.push(&value);
    attrs.push(RawAttr { ns, local, value });
    Ok(())
}

/// (name, raw value) spans of a tag's attributes.
type AttrSpans = Vec<(Range<usize>, Range<usize>)>;

/// The (name, raw value) spans of attributes written the plain way — whitespace, an ASCII
/// name, `=`, a quoted value without `<`, whitespace or the end — with no name twice: what
/// quick-xml's attribute iterator reads the same way without complaint. `None` for anything
/// else, which is then left to quick-xml.
fn plain_attributes(raw: &str, out: &mut AttrSpans) -> bool {
    out.clear();
    plain_spans(raw, out).is_some()
}

fn plain_spans(raw: &str, out: &mut AttrSpans) -> Option<()> {
    let bytes = raw.as_bytes();
    let space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let mut i = 0;
    loop {
        let before = i;
        while i < bytes.len() && space(bytes[i]) {
            i += 1;
        }
        if i == bytes.len() {
            return Some(());
        }
        // Attributes are separated by whitespace (quick-xml would not insist).
        if i == before {
            return None;
        }
        let key_start = i;
        if !(bytes[i].is_ascii_alphabetic() || matches!(bytes[i], b'_' | b':')) {
            return None;
        }
        while i < bytes.len()
            && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b':' | b'.' | b'-'))
        {
            i += 1;
        }
        let key = key_start..i;
        while i < bytes.len() && space(bytes[i]) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            return None;
        }
        i += 1;
        while i < bytes.len() && space(bytes[i]) {
            i += 1;
        }
        let quote = *bytes.get(i)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + 1;
        let len = memchr::memchr2(quote, b'<', &bytes[value_start..])?;
        if bytes[value_start + len] != quote {
            return None;
        }
        let value = value_start..value_start + len;
        i = value.end + 1;
        if out
            .iter()
            .any(|(k, _)| bytes[k.clone()] == bytes[key.clone()])
        {
            return None;
        }
        out.push((key, value));
    }
}

/// An attribute's namespace, its URI added to the arena.
fn attr_namespace(resolved: ResolveResult, arena: &mut Arena) -> AttrNs {
    match resolved {
        ResolveResult::Unbound => AttrNs::None,
        ResolveResult::Bound(ns) if ns.0 == XML_NS => AttrNs::Xml,
        ResolveResult::Bound(ns) => AttrNs::Other(arena.push(ns.0)),
        ResolveResult::Unknown(_) => AttrNs::Other(arena.push("urn:meridian:undeclared-prefix")),
    }
}

/// The arena of a start tag, with ranges counted from the end of the tag's text.
struct Arena<'a> {
    text: &'a mut String,
    base: usize,
}

impl Arena<'_> {
    fn push(&mut self, s: &str) -> Range<usize> {
        let start = self.base + self.text.len();
        self.text.push_str(s);
        start..start + s.len()
    }
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
    fn tokens_across_buffer_refills_read_the_same() {
        // Far more than one buffer: elements, attributes, references and comments straddle
        // the refills, and one text is longer than the whole buffer.
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<root>");
        for i in 0..20_000 {
            xml.push_str(&format!(
                "<e n=\"{i}\" t='a&amp;b'>x &lt; {i}<!-- c --></e>\n"
            ));
        }
        xml.push_str(&"y".repeat(300_000));
        xml.push_str("</root>");
        let (trace, result) = read(&xml);
        assert_eq!(result, None);
        let starts = trace.iter().filter(|t| t.starts_with("<e@")).count();
        assert_eq!(starts, 20_000);
        assert!(
            trace.contains(&"<e@2:7 n=0,t=a&b>".to_owned()),
            "{:?}",
            &trace[..4]
        );
        assert!(trace.contains(&"<e@20001:1 n=19999,t=a&b>".to_owned()));
        let text: String = trace
            .iter()
            .filter(|t| !t.starts_with('<') || *t == "<")
            .cloned()
            .collect();
        assert!(text.contains("x < 19999"));
        assert_eq!(text.matches('y').count(), 300_000);
    }

    #[test]
    fn a_mismatched_end_tag_is_found_by_either_tokenizer() {
        let (_, result) = read("<a>\n<b></c>\n</a>");
        let m = result.unwrap();
        assert_eq!((m.line, m.column), (2, 4));
        assert_eq!(m.message, "Opening and ending tag mismatch: b and c");
        let (_, result) = read("<a></a></a>");
        assert_eq!(result.unwrap().message, "Unexpected end tag : a");
        let (_, result) = read("<a x='1' x='2'/>");
        assert!(result.unwrap().message.contains("Malformed attribute"));
        let (_, result) = read("<a>&bogus;</a>");
        assert_eq!(result.unwrap().message, "Entity 'bogus' not defined");
    }

    #[test]
    fn entities_and_cdata_become_text() {
        let (trace, result) = read("<a>x &lt; &#65;<![CDATA[<y>]]></a>");
        assert_eq!(result, None);
        assert_eq!(trace[1..trace.len() - 1].concat(), "x < A<y>");
    }
}
