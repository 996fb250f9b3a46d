//! A streaming reader of IATI activity files: one [`Activity`] at a time, whatever the file
//! size.
//!
//! ```no_run
//! use std::{fs::File, io::BufReader};
//! use meridian_formats::iati::read::ActivityReader;
//!
//! let mut reader = ActivityReader::new(BufReader::new(File::open("activities.xml")?));
//! for activity in &mut reader {
//!     match activity {
//!         Ok(a) => println!("{}", a.identifier),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The reader does not validate (see [`super::validate`]): it takes what it finds. An
//! activity it cannot make sense of (no `iati-identifier`) is an `Err` and the next one is
//! read; broken XML is an `Err` that ends the iteration. Every error has the line and column
//! and, when known, the activity's identifier.
//!
//! Files older than 2.03 are read too: text written straight into an element (1.x, before
//! narratives) becomes a narrative. [`super::legacy`] renames the old codes.

use std::io::{self, BufRead};

use quick_xml::events::{BytesStart, Event};

use super::activity::{
    Activity, ActivityDate, Budget, Description, DocumentLink, Extra, Location, Narrative, OrgRef,
    ParticipatingOrg, RawElement, Recipient, Sector, Transaction, Value, VocabCode,
};

/// Why an activity (or the rest of the file) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}{}: {message}", activity_text(.activity))]
pub struct ReadError {
    pub kind: ReadErrorKind,
    pub line: u64,
    pub column: u64,
    /// The `iati-identifier` of the activity, when it was read.
    pub activity: Option<String>,
    pub message: String,
}

fn activity_text(activity: &Option<String>) -> String {
    activity
        .as_ref()
        .map(|a| format!(" (activity {a})"))
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// The input could not be read. The iteration ends.
    Io,
    /// The XML is broken (or truncated). The iteration ends.
    Malformed,
    /// This activity lacks what every activity must have; the next one is read.
    Activity,
}

impl ReadError {
    /// Whether reading stopped here (broken XML or I/O) rather than skipping one activity.
    pub fn is_fatal(&self) -> bool {
        self.kind != ReadErrorKind::Activity
    }
}

/// A `BufRead` that counts lines in what its reader consumes.
struct Counting<R> {
    inner: R,
    line: u64,
    line_start: u64,
    offset: u64,
}

impl<R: BufRead> io::Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let used = &buf[..amt.min(buf.len())];
            for at in memchr::memchr_iter(b'\n', used) {
                self.line += 1;
                self.line_start = self.offset + at as u64 + 1;
            }
        }
        self.offset += amt as u64;
        self.inner.consume(amt);
    }
}

/// What the root element says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Root {
    /// `iati-activities`, or `iati-activity` for a lone activity.
    pub name: String,
    /// `@version` (`None` for 1.0x files that leave it out).
    pub version: Option<String>,
    pub generated_datetime: Option<String>,
    pub lang: Option<String>,
}

/// An element read whole, with where it starts.
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
    line: u64,
    column: u64,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An attribute, trimmed (an empty one stays: it is what the file says).
    fn opt(&self, name: &str) -> Option<String> {
        self.attr(name).map(|v| v.trim().to_owned())
    }

    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The element whole, without extension elements and attributes (other namespaces:
    /// their declarations are not kept), which are counted in `extra`.
    fn to_raw(&self, extra: &mut Extra) -> RawElement {
        RawElement {
            name: self.name.clone(),
            attrs: self
                .attrs
                .iter()
                .filter(|(k, _)| {
                    let keep = !k.contains(':') || k.starts_with("xml:");
                    if !keep {
                        extra.add(&format!("{}/@{k}", self.name));
                    }
                    keep
                })
                .cloned()
                .collect(),
            text: self.text.trim().to_owned(),
            children: {
                let mut children = Vec::with_capacity(self.children.len());
                for c in &self.children {
                    if c.name.contains(':') {
                        extra.add(&c.name);
                    } else {
                        children.push(c.to_raw(extra));
                    }
                }
                children
            },
        }
    }
}

/// Reads activities one at a time. See the module documentation.
pub struct ActivityReader<R: BufRead> {
    xml: quick_xml::Reader<Counting<R>>,
    buf: Vec<u8>,
    root: Option<Root>,
    /// The root itself is an activity (d-portal exports): its attributes, and whether it
    /// was an empty tag.
    lone_activity: Option<(Vec<(String, String)>, bool)>,
    finished: bool,
    /// Elements under the root other than activities (e.g. 1.x `registry-record`).
    skipped: Extra,
    /// Activities whose text was written straight into elements (1.x), counted.
    text_as_narrative: u64,
    /// Where the activity last returned (or refused) starts.
    activity_at: (u64, u64),
}

impl<R: BufRead> ActivityReader<R> {
    pub fn new(input: R) -> Self {
        let mut xml = quick_xml::Reader::from_reader(Counting {
            inner: input,
            line: 1,
            line_start: 0,
            offset: 0,
        });
        let config = xml.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        ActivityReader {
            xml,
            buf: Vec::with_capacity(64 * 1024),
            root: None,
            lone_activity: None,
            finished: false,
            skipped: Extra::default(),
            text_as_narrative: 0,
            activity_at: (0, 0),
        }
    }

    /// The root element, once the first activity was asked for (or [`Self::read_root`]).
    pub fn root(&self) -> Option<&Root> {
        self.root.as_ref()
    }

    /// Reads up to the root element, so that [`Self::root`] is known before any activity.
    pub fn read_root(&mut self) -> Result<&Root, ReadError> {
        if self.root.is_none() {
            self.find_root()?;
        }
        Ok(self.root.as_ref().expect("set by find_root"))
    }

    /// Elements under the root that are not activities, skipped.
    pub fn skipped(&self) -> &Extra {
        &self.skipped
    }

    /// How many elements held their text directly instead of in narratives (1.x files).
    pub fn text_as_narrative(&self) -> u64 {
        self.text_as_narrative
    }

    /// Line and column where the activity last returned (or refused) starts.
    pub fn activity_position(&self) -> (u64, u64) {
        self.activity_at
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.xml.get_ref().offset
    }

    fn here(&self) -> (u64, u64) {
        let c = self.xml.get_ref();
        (c.line, c.offset - c.line_start + 1)
    }

    fn error(&self, kind: ReadErrorKind, message: impl Into<String>) -> ReadError {
        let (line, column) = self.here();
        ReadError {
            kind,
            line,
            column,
            activity: None,
            message: message.into(),
        }
    }

    fn xml_error(&self, e: quick_xml::Error) -> ReadError {
        match e {
            quick_xml::Error::Io(io) => self.error(ReadErrorKind::Io, io.to_string()),
            other => self.error(ReadErrorKind::Malformed, format!("broken XML: {other}")),
        }
    }

    fn find_root(&mut self) -> Result<(), ReadError> {
        loop {
            self.buf.clear();
            let event = self.xml.read_event_into(&mut self.buf);
            let event = match event {
                Ok(e) => e.into_owned(),
                Err(e) => return Err(self.xml_error(e)),
            };
            match event {
                ev @ (Event::Start(_) | Event::Empty(_)) => {
                    let empty = matches!(ev, Event::Empty(_));
                    let (Event::Start(start) | Event::Empty(start)) = ev else {
                        unreachable!()
                    };
                    let name = start.name().as_ref().to_owned();
                    let attrs = self.attributes(&start)?;
                    let get = |k: &str| {
                        attrs
                            .iter()
                            .find(|(n, _)| n == k)
                            .map(|(_, v)| v.trim().to_owned())
                            .filter(|v| !v.is_empty())
                    };
                    self.root = Some(Root {
                        name: name.clone(),
                        version: get("version"),
                        generated_datetime: get("generated-datetime"),
                        lang: get("xml:lang"),
                    });
                    if name == "iati-activity" {
                        // A lone activity: read it as the first (and only) one.
                        self.lone_activity = Some((attrs, empty));
                    } else if empty {
                        self.finished = true;
                    } else if name != "iati-activities" {
                        self.finished = true;
                        return Err(self.error(
                            ReadErrorKind::Malformed,
                            format!("expected an iati-activities root element, found {name}"),
                        ));
                    }
                    return Ok(());
                }
                Event::Eof => {
                    self.finished = true;
                    return Err(self.error(ReadErrorKind::Malformed, "the document is empty"));
                }
                Event::Text(t) if !t.chars().all(|c| c.is_ascii_whitespace()) => {
                    self.finished = true;
                    return Err(
                        self.error(ReadErrorKind::Malformed, "text before the root element")
                    );
                }
                _ => {}
            }
        }
    }

    fn attributes(&self, start: &BytesStart<'_>) -> Result<Vec<(String, String)>, ReadError> {
        let mut out = Vec::new();
        for attr in start.attributes() {
            let attr = attr.map_err(|e| {
                self.error(ReadErrorKind::Malformed, format!("broken attribute: {e}"))
            })?;
            let key = attr.key.as_ref().to_owned();
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| self.xml_error(e))?
                .into_owned();
            out.push((key, value));
        }
        Ok(out)
    }

    /// Reads the element that `start` opened, whole.
    fn read_node(
        &mut self,
        start: &BytesStart<'_>,
        empty: bool,
        at: (u64, u64),
    ) -> Result<Node, ReadError> {
        // The events borrow the buffer, not the reader: no copy of each event.
        let mut buf = std::mem::take(&mut self.buf);
        let node = self.read_node_into(&mut buf, start, empty, at);
        self.buf = buf;
        node
    }

    fn read_node_into(
        &mut self,
        buf: &mut Vec<u8>,
        start: &BytesStart<'_>,
        empty: bool,
        at: (u64, u64),
    ) -> Result<Node, ReadError> {
        let root = Node {
            name: start.name().as_ref().to_owned(),
            attrs: self.attributes(start)?,
            text: String::new(),
            children: Vec::new(),
            line: at.0,
            column: at.1,
        };
        if empty {
            return Ok(root);
        }
        let mut stack = vec![root];
        loop {
            let at = self.here();
            buf.clear();
            let event = match self.xml.read_event_into(buf) {
                Ok(e) => e,
                Err(e) => return Err(self.xml_error(e)),
            };
            match event {
                ev @ (Event::Start(_) | Event::Empty(_)) => {
                    let empty = matches!(ev, Event::Empty(_));
                    let (Event::Start(s) | Event::Empty(s)) = ev else {
                        unreachable!()
                    };
                    let node = Node {
                        name: s.name().as_ref().to_owned(),
                        attrs: self.attributes(&s)?,
                        text: String::new(),
                        children: Vec::new(),
                        line: at.0,
                        column: at.1,
                    };
                    if empty {
                        stack.last_mut().expect("open").children.push(node);
                    } else {
                        stack.push(node);
                    }
                }
                Event::End(_) => {
                    let done = stack.pop().expect("open");
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                Event::Text(t) => {
                    let text = t.xml10_content();
                    stack.last_mut().expect("open").text.push_str(&text);
                }
                Event::CData(c) => {
                    let text = c.xml10_content();
                    stack.last_mut().expect("open").text.push_str(&text);
                }
                Event::GeneralRef(r) => {
                    let mut utf8 = [0u8; 4];
                    let text: &str = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.encode_utf8(&mut utf8),
                        Ok(None) => match &*r {
                            "lt" => "<",
                            "gt" => ">",
                            "amp" => "&",
                            "apos" => "'",
                            "quot" => "\"",
                            name => {
                                return Err(self.error(
                                    ReadErrorKind::Malformed,
                                    format!("entity '{name}' is not defined"),
                                ));
                            }
                        },
                        Err(e) => {
                            return Err(self.error(
                                ReadErrorKind::Malformed,
                                format!("bad character reference: {e}"),
                            ));
                        }
                    };
                    stack.last_mut().expect("open").text.push_str(text);
                }
                Event::Eof => {
                    let open = stack.last().map(|n| n.name.clone()).unwrap_or_default();
                    return Err(self.error(
                        ReadErrorKind::Malformed,
                        format!("the file ends inside {open}: it is truncated"),
                    ));
                }
                Event::Comment(_) | Event::PI(_) | Event::DocType(_) | Event::Decl(_) => {}
            }
        }
    }

    fn next_activity(&mut self) -> Option<Result<Activity, ReadError>> {
        if self.finished {
            return None;
        }
        if self.root.is_none()
            && let Err(e) = self.find_root()
        {
            self.finished = true;
            return Some(Err(e));
        }
        if let Some((attrs, empty)) = self.lone_activity.take() {
            return Some(self.read_lone_activity(attrs, empty));
        }
        if self.finished {
            return None;
        }
        loop {
            let at = self.here();
            self.buf.clear();
            let event = match self.xml.read_event_into(&mut self.buf) {
                Ok(e) => e.into_owned(),
                Err(e) => {
                    self.finished = true;
                    return Some(Err(self.xml_error(e)));
                }
            };
            match event {
                ev @ (Event::Start(_) | Event::Empty(_)) => {
                    let empty = matches!(ev, Event::Empty(_));
                    let (Event::Start(s) | Event::Empty(s)) = ev else {
                        unreachable!()
                    };
                    let node = match self.read_node(&s, empty, at) {
                        Ok(n) => n,
                        Err(e) => {
                            self.finished = true;
                            return Some(Err(e));
                        }
                    };
                    if node.name == "iati-activity" {
                        let default_lang = self.root.as_ref().and_then(|r| r.lang.clone());
                        return Some(self.activity(node, default_lang));
                    }
                    self.skipped.add(&node.name);
                }
                Event::End(_) => {
                    // The root closes: anything after it must be whitespace or comments.
                    self.finished = true;
                    return self.expect_end();
                }
                Event::Eof => {
                    self.finished = true;
                    let name = self
                        .root
                        .as_ref()
                        .map(|r| r.name.clone())
                        .unwrap_or_default();
                    return Some(Err(self.error(
                        ReadErrorKind::Malformed,
                        format!("the file ends inside {name}: it is truncated"),
                    )));
                }
                _ => {}
            }
        }
    }

    fn read_lone_activity(
        &mut self,
        attrs: Vec<(String, String)>,
        empty: bool,
    ) -> Result<Activity, ReadError> {
        self.finished = true;
        let start = BytesStart::new("iati-activity");
        let mut node = self.read_node(&start, empty, (1, 1))?;
        node.attrs = attrs;
        let result = self.activity(node, None);
        if let Some(Err(e)) = self.expect_end() {
            return Err(e);
        }
        result
    }

    /// After the root's end: only whitespace, comments and processing instructions.
    fn expect_end(&mut self) -> Option<Result<Activity, ReadError>> {
        loop {
            self.buf.clear();
            match self.xml.read_event_into(&mut self.buf) {
                Ok(Event::Eof) => return None,
                Ok(Event::Text(t)) if t.chars().all(|c| c.is_ascii_whitespace()) => {}
                Ok(Event::Comment(_) | Event::PI(_)) => {}
                Ok(_) => {
                    return Some(Err(self.error(
                        ReadErrorKind::Malformed,
                        "extra content after the root element",
                    )));
                }
                Err(e) => return Some(Err(self.xml_error(e))),
            }
        }
    }

    fn activity(
        &mut self,
        node: Node,
        default_lang: Option<String>,
    ) -> Result<Activity, ReadError> {
        self.activity_at = (node.line, node.column);
        let mut text_as_narrative = false;
        let activity = to_activity(node, default_lang, &mut text_as_narrative);
        if text_as_narrative {
            self.text_as_narrative += 1;
        }
        activity
    }
}

impl<R: BufRead> Iterator for ActivityReader<R> {
    type Item = Result<Activity, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_activity()
    }
}

/// The narratives of an element; text written straight into it (1.x) becomes one.
fn narratives(node: &Node, legacy_text: &mut bool) -> Vec<Narrative> {
    let mut out: Vec<Narrative> = node
        .children
        .iter()
        .filter(|c| c.name == "narrative")
        .map(|c| Narrative {
            lang: c.opt("xml:lang"),
            text: c.text.trim().to_owned(),
        })
        .collect();
    let direct = node.text.trim();
    if out.is_empty() && !direct.is_empty() {
        *legacy_text = true;
        out.push(Narrative {
            lang: node.opt("xml:lang"),
            text: direct.to_owned(),
        });
    }
    out
}

fn code(node: &Node) -> String {
    node.opt("code")
        .unwrap_or_else(|| node.text.trim().to_owned())
}

fn iso_date(node: Option<&Node>) -> String {
    node.map(|n| {
        n.opt("iso-date")
            .unwrap_or_else(|| n.text.trim().to_owned())
    })
    .unwrap_or_default()
}

fn org_ref(node: &Node, activity_id_attr: &str, legacy: &mut bool) -> OrgRef {
    OrgRef {
        r#ref: node.opt("ref"),
        r#type: node.opt("type"),
        secondary_reporter: node.opt("secondary-reporter"),
        activity_id: node.opt(activity_id_attr),
        narratives: narratives(node, legacy),
    }
}

fn value(node: Option<&Node>) -> Value {
    match node {
        Some(n) => Value {
            amount: n.text.trim().to_owned(),
            currency: n.opt("currency"),
            value_date: n.opt("value-date"),
        },
        None => Value::default(),
    }
}

/// Counts the children of `node` not in `known` as `parent/child` in `extra`.
fn count_unknown(node: &Node, known: &[&str], extra: &mut Extra) {
    for c in &node.children {
        if !known.contains(&c.name.as_str()) {
            extra.add(&format!("{}/{}", node.name, c.name));
        }
    }
}

fn to_activity(
    node: Node,
    default_lang: Option<String>,
    legacy: &mut bool,
) -> Result<Activity, ReadError> {
    let identifier = node
        .child("iati-identifier")
        .map(|n| n.text.trim().to_owned());
    let Some(identifier) = identifier else {
        return Err(ReadError {
            kind: ReadErrorKind::Activity,
            line: node.line,
            column: node.column,
            activity: None,
            message: "this iati-activity has no iati-identifier".into(),
        });
    };
    let mut a = Activity {
        identifier,
        lang: node.opt("xml:lang").or(default_lang),
        default_currency: node.opt("default-currency"),
        last_updated: node.opt("last-updated-datetime"),
        humanitarian: node.opt("humanitarian"),
        hierarchy: node.opt("hierarchy"),
        ..Activity::default()
    };
    for c in &node.children {
        match c.name.as_str() {
            "iati-identifier" => {}
            "reporting-org" => a.reporting_org = org_ref(c, "", legacy),
            "title" => a.titles.extend(narratives(c, legacy)),
            "description" => a.descriptions.push(Description {
                r#type: c.opt("type"),
                narratives: narratives(c, legacy),
            }),
            "participating-org" => a.participating_orgs.push(ParticipatingOrg {
                role: c.opt("role").unwrap_or_default(),
                r#ref: c.opt("ref"),
                r#type: c.opt("type"),
                activity_id: c.opt("activity-id"),
                crs_channel_code: c.opt("crs-channel-code"),
                narratives: narratives(c, legacy),
            }),
            "activity-status" => a.status = Some(code(c)).filter(|s| !s.is_empty()),
            "activity-date" => a.dates.push(ActivityDate {
                r#type: c.opt("type").unwrap_or_default(),
                iso_date: iso_date(Some(c)),
                narratives: c
                    .children
                    .iter()
                    .filter(|n| n.name == "narrative")
                    .map(|n| Narrative {
                        lang: n.opt("xml:lang"),
                        text: n.text.trim().to_owned(),
                    })
                    .collect(),
            }),
            "recipient-country" | "recipient-region" => {
                let r = Recipient {
                    code: code(c),
                    vocabulary: c.opt("vocabulary"),
                    vocabulary_uri: c.opt("vocabulary-uri"),
                    percentage: c.opt("percentage"),
                    narratives: c
                        .children
                        .iter()
                        .filter(|n| n.name == "narrative")
                        .map(|n| Narrative {
                            lang: n.opt("xml:lang"),
                            text: n.text.trim().to_owned(),
                        })
                        .collect(),
                };
                if c.name == "recipient-country" {
                    a.recipient_countries.push(r);
                } else {
                    a.recipient_regions.push(r);
                }
            }
            "location" => a.locations.push(location(c, legacy, &mut a.extra)),
            "sector" => a.sectors.push(Sector {
                code: code(c),
                vocabulary: c.opt("vocabulary"),
                vocabulary_uri: c.opt("vocabulary-uri"),
                percentage: c.opt("percentage"),
                narratives: c
                    .children
                    .iter()
                    .filter(|n| n.name == "narrative")
                    .map(|n| Narrative {
                        lang: n.opt("xml:lang"),
                        text: n.text.trim().to_owned(),
                    })
                    .collect(),
            }),
            "budget" => {
                count_unknown(c, &["period-start", "period-end", "value"], &mut a.extra);
                a.budgets.push(Budget {
                    r#type: c.opt("type"),
                    status: c.opt("status"),
                    period_start: iso_date(c.child("period-start")),
                    period_end: iso_date(c.child("period-end")),
                    value: value(c.child("value")),
                });
            }
            "transaction" => a.transactions.push(transaction(c, legacy, &mut a.extra)),
            "document-link" => {
                count_unknown(
                    c,
                    &[
                        "title",
                        "description",
                        "category",
                        "language",
                        "document-date",
                    ],
                    &mut a.extra,
                );
                a.document_links.push(DocumentLink {
                    url: c.opt("url").unwrap_or_default(),
                    format: c.opt("format").unwrap_or_default(),
                    title: c
                        .child("title")
                        .map(|t| narratives(t, legacy))
                        .unwrap_or_default(),
                    description: c
                        .child("description")
                        .map(|t| narratives(t, legacy))
                        .unwrap_or_default(),
                    categories: c
                        .children
                        .iter()
                        .filter(|n| n.name == "category")
                        .map(code)
                        .collect(),
                    languages: c
                        .children
                        .iter()
                        .filter(|n| n.name == "language")
                        .map(code)
                        .collect(),
                    document_date: c.child("document-date").map(|d| iso_date(Some(d))),
                });
            }
            "result" => a.results.push(c.to_raw(&mut a.extra)),
            other => a.extra.add(other),
        }
    }
    Ok(a)
}

fn location(c: &Node, legacy: &mut bool, extra: &mut Extra) -> Location {
    count_unknown(
        c,
        &[
            "location-reach",
            "location-id",
            "name",
            "description",
            "activity-description",
            "administrative",
            "point",
            "exactness",
            "location-class",
            "feature-designation",
        ],
        extra,
    );
    Location {
        r#ref: c.opt("ref"),
        reach: c.child("location-reach").map(code),
        ids: c
            .children
            .iter()
            .filter(|n| n.name == "location-id")
            .map(|n| VocabCode {
                vocabulary: n.opt("vocabulary").unwrap_or_default(),
                code: code(n),
                level: None,
            })
            .collect(),
        name: c
            .child("name")
            .map(|n| narratives(n, legacy))
            .unwrap_or_default(),
        description: c
            .child("description")
            .map(|n| narratives(n, legacy))
            .unwrap_or_default(),
        activity_description: c
            .child("activity-description")
            .map(|n| narratives(n, legacy))
            .unwrap_or_default(),
        administratives: c
            .children
            .iter()
            .filter(|n| n.name == "administrative")
            .map(|n| VocabCode {
                vocabulary: n.opt("vocabulary").unwrap_or_default(),
                code: code(n),
                level: n.opt("level"),
            })
            .collect(),
        srs_name: c.child("point").and_then(|p| p.opt("srsName")),
        pos: c
            .child("point")
            .and_then(|p| p.child("pos"))
            .map(|p| p.text.split_whitespace().collect::<Vec<_>>().join(" ")),
        exactness: c.child("exactness").map(code),
        class: c.child("location-class").map(code),
        feature_designation: c.child("feature-designation").map(code),
    }
}

fn transaction(c: &Node, legacy: &mut bool, extra: &mut Extra) -> Transaction {
    let mut t = Transaction {
        r#ref: c.opt("ref"),
        humanitarian: c.opt("humanitarian"),
        ..Transaction::default()
    };
    for n in &c.children {
        match n.name.as_str() {
            "transaction-type" => t.r#type = code(n),
            "transaction-date" => t.date = iso_date(Some(n)),
            "value" => t.value = value(Some(n)),
            "description" => t.description = narratives(n, legacy),
            "provider-org" => t.provider = Some(org_ref(n, "provider-activity-id", legacy)),
            "receiver-org" => t.receiver = Some(org_ref(n, "receiver-activity-id", legacy)),
            name if name.contains(':') => extra.add(name),
            _ => t.other.push(n.to_raw(extra)),
        }
    }
    t
}

/// Reads every activity of a file held in memory (tests, small files).
pub fn read_all(input: &[u8]) -> Result<Vec<Activity>, ReadError> {
    ActivityReader::new(input).collect()
}
