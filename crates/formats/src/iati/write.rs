//! Writes IATI 2.03 activity files, streaming, to any `Write`.
//!
//! ```no_run
//! use meridian_formats::iati::{activity::Activity, write::ActivityWriter};
//!
//! let mut out = Vec::new();
//! let mut writer = ActivityWriter::new(&mut out, "2026-01-01T00:00:00Z", None)?;
//! # let activity = Activity::default();
//! writer.write(&activity)?;
//! writer.finish()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Elements come out in the order the 2.03 schema's sequences require; text and attributes
//! are escaped, and characters XML 1.0 does not allow are left out. An activity without what
//! the schema requires (reporting organisation, title, description, participating
//! organisation, status, a date) is refused with [`WriteError::Incomplete`] before anything of
//! it is written.

use std::io::{self, Write};

use super::activity::{Activity, Narrative, OrgRef, RawElement, Recipient, Value};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write: {0}")]
    Io(#[from] io::Error),
    #[error("activity {activity}: {missing}; the 2.03 schema requires it")]
    Incomplete { activity: String, missing: String },
}

/// Writes an `iati-activities` document, one activity at a time.
pub struct ActivityWriter<W: Write> {
    out: W,
    /// Reused for each activity, which is built whole before it is written: an incomplete
    /// one writes nothing.
    buf: String,
    written: u64,
}

impl<W: Write> ActivityWriter<W> {
    /// Writes the XML declaration and the root's start tag. `generated` is an xsd:dateTime
    /// (`2026-01-01T00:00:00Z`); `lang` the file's default language.
    pub fn new(mut out: W, generated: &str, lang: Option<&str>) -> Result<Self, WriteError> {
        let mut head = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        head.push_str("<iati-activities version=\"2.03\"");
        attr(&mut head, "generated-datetime", Some(generated));
        attr(&mut head, "xml:lang", lang);
        head.push_str(">\n");
        out.write_all(head.as_bytes())?;
        Ok(ActivityWriter {
            out,
            buf: String::with_capacity(16 * 1024),
            written: 0,
        })
    }

    /// Activities written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn write(&mut self, a: &Activity) -> Result<(), WriteError> {
        check(a)?;
        self.buf.clear();
        activity(&mut self.buf, a);
        self.out.write_all(self.buf.as_bytes())?;
        self.written += 1;
        Ok(())
    }

    /// Closes the root and flushes; returns the output.
    pub fn finish(mut self) -> Result<W, WriteError> {
        self.out.write_all(b"</iati-activities>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// The output, for callers that stream it in chunks (take what was written so far).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

fn check(a: &Activity) -> Result<(), WriteError> {
    let missing = if a.reporting_org.r#ref.is_none() || a.reporting_org.r#type.is_none() {
        Some("reporting-org needs @ref and @type")
    } else if a.titles.is_empty() {
        Some("no title")
    } else if a.descriptions.is_empty() {
        Some("no description")
    } else if a.descriptions.iter().any(|d| d.narratives.is_empty()) {
        Some("a description without narrative")
    } else if a.participating_orgs.is_empty() {
        Some("no participating-org")
    } else if a.participating_orgs.iter().any(|p| p.role.is_empty()) {
        Some("a participating-org has no role")
    } else if a.status.is_none() {
        Some("no activity-status")
    } else if a.dates.is_empty() {
        Some("no activity-date")
    } else if a.budgets.iter().any(|b| b.value.value_date.is_none()) {
        Some("a budget value has no value-date")
    } else if a.transactions.iter().any(|t| t.value.value_date.is_none()) {
        Some("a transaction value has no value-date")
    } else if a
        .document_links
        .iter()
        .any(|d| d.title.is_empty() || d.categories.is_empty())
    {
        Some("a document-link needs a title and a category")
    } else {
        None
    };
    match missing {
        Some(m) => Err(WriteError::Incomplete {
            activity: a.identifier.clone(),
            missing: m.to_owned(),
        }),
        None => Ok(()),
    }
}

/// Whether XML 1.0 allows the character at all.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn escape_into(out: &mut String, text: &str, in_attr: bool) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' if in_attr => out.push_str("&quot;"),
            '\n' if in_attr => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if in_attr => out.push_str("&#9;"),
            c if xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

fn attr(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        escape_into(out, v, true);
        out.push('"');
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// `<name attrs/>` or `<name attrs>` + newline; `attrs` as (name, value) pairs.
fn open(out: &mut String, depth: usize, name: &str, attrs: &[(&str, Option<&str>)], empty: bool) {
    indent(out, depth);
    out.push('<');
    out.push_str(name);
    for (k, v) in attrs {
        attr(out, k, *v);
    }
    out.push_str(if empty { "/>\n" } else { ">\n" });
}

fn close(out: &mut String, depth: usize, name: &str) {
    indent(out, depth);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn text_element(
    out: &mut String,
    depth: usize,
    name: &str,
    attrs: &[(&str, Option<&str>)],
    text: &str,
) {
    indent(out, depth);
    out.push('<');
    out.push_str(name);
    for (k, v) in attrs {
        attr(out, k, *v);
    }
    out.push('>');
    escape_into(out, text, false);
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn narratives(out: &mut String, depth: usize, ns: &[Narrative]) {
    for n in ns {
        text_element(
            out,
            depth,
            "narrative",
            &[("xml:lang", n.lang.as_deref())],
            &n.text,
        );
    }
}

/// An element whose content is narratives only (empty tag when there are none).
fn with_narratives(
    out: &mut String,
    depth: usize,
    name: &str,
    attrs: &[(&str, Option<&str>)],
    ns: &[Narrative],
) {
    open(out, depth, name, attrs, ns.is_empty());
    if !ns.is_empty() {
        narratives(out, depth + 1, ns);
        close(out, depth, name);
    }
}

fn org(out: &mut String, depth: usize, name: &str, o: &OrgRef, activity_id_attr: &str) {
    let mut attrs = vec![("ref", o.r#ref.as_deref())];
    if !activity_id_attr.is_empty() {
        attrs.push((activity_id_attr, o.activity_id.as_deref()));
    }
    attrs.push(("type", o.r#type.as_deref()));
    if name == "reporting-org" {
        attrs.push(("secondary-reporter", o.secondary_reporter.as_deref()));
    }
    with_narratives(out, depth, name, &attrs, &o.narratives);
}

fn value(out: &mut String, depth: usize, v: &Value) {
    text_element(
        out,
        depth,
        "value",
        &[
            ("currency", v.currency.as_deref()),
            ("value-date", v.value_date.as_deref()),
        ],
        &v.amount,
    );
}

fn recipient(out: &mut String, name: &str, r: &Recipient) {
    with_narratives(
        out,
        2,
        name,
        &[
            ("code", Some(&r.code)),
            ("vocabulary", r.vocabulary.as_deref()),
            ("vocabulary-uri", r.vocabulary_uri.as_deref()),
            ("percentage", r.percentage.as_deref()),
        ],
        &r.narratives,
    );
}

fn raw(out: &mut String, depth: usize, e: &RawElement) {
    let attrs: Vec<(&str, Option<&str>)> = e
        .attrs
        .iter()
        .map(|(k, v)| (k.as_str(), Some(v.as_str())))
        .collect();
    if e.children.is_empty() {
        if e.text.is_empty() {
            open(out, depth, &e.name, &attrs, true);
        } else {
            text_element(out, depth, &e.name, &attrs, &e.text);
        }
        return;
    }
    open(out, depth, &e.name, &attrs, false);
    if !e.text.is_empty() {
        indent(out, depth + 1);
        escape_into(out, &e.text, false);
        out.push('\n');
    }
    for c in &e.children {
        raw(out, depth + 1, c);
    }
    close(out, depth, &e.name);
}

/// The activity, children in the order of the 2.03 schema's `iati-activity` sequence.
fn activity(out: &mut String, a: &Activity) {
    open(
        out,
        1,
        "iati-activity",
        &[
            ("last-updated-datetime", a.last_updated.as_deref()),
            ("xml:lang", a.lang.as_deref()),
            ("default-currency", a.default_currency.as_deref()),
            ("humanitarian", a.humanitarian.as_deref()),
            ("hierarchy", a.hierarchy.as_deref()),
        ],
        false,
    );
    text_element(out, 2, "iati-identifier", &[], &a.identifier);
    org(out, 2, "reporting-org", &a.reporting_org, "");
    with_narratives(out, 2, "title", &[], &a.titles);
    for d in &a.descriptions {
        with_narratives(
            out,
            2,
            "description",
            &[("type", d.r#type.as_deref())],
            &d.narratives,
        );
    }
    for p in &a.participating_orgs {
        with_narratives(
            out,
            2,
            "participating-org",
            &[
                ("ref", p.r#ref.as_deref()),
                ("type", p.r#type.as_deref()),
                ("role", Some(&p.role)),
                ("activity-id", p.activity_id.as_deref()),
                ("crs-channel-code", p.crs_channel_code.as_deref()),
            ],
            &p.narratives,
        );
    }
    open(
        out,
        2,
        "activity-status",
        &[("code", a.status.as_deref())],
        true,
    );
    for d in &a.dates {
        with_narratives(
            out,
            2,
            "activity-date",
            &[("iso-date", Some(&d.iso_date)), ("type", Some(&d.r#type))],
            &d.narratives,
        );
    }
    for r in &a.recipient_countries {
        recipient(out, "recipient-country", r);
    }
    for r in &a.recipient_regions {
        recipient(out, "recipient-region", r);
    }
    for l in &a.locations {
        open(out, 2, "location", &[("ref", l.r#ref.as_deref())], false);
        if let Some(reach) = &l.reach {
            open(out, 3, "location-reach", &[("code", Some(reach))], true);
        }
        for id in &l.ids {
            open(
                out,
                3,
                "location-id",
                &[
                    ("vocabulary", Some(&id.vocabulary)),
                    ("code", Some(&id.code)),
                ],
                true,
            );
        }
        if !l.name.is_empty() {
            with_narratives(out, 3, "name", &[], &l.name);
        }
        if !l.description.is_empty() {
            with_narratives(out, 3, "description", &[], &l.description);
        }
        if !l.activity_description.is_empty() {
            with_narratives(out, 3, "activity-description", &[], &l.activity_description);
        }
        for ad in &l.administratives {
            open(
                out,
                3,
                "administrative",
                &[
                    ("vocabulary", Some(&ad.vocabulary)),
                    ("level", ad.level.as_deref()),
                    ("code", Some(&ad.code)),
                ],
                true,
            );
        }
        if l.pos.is_some() || l.srs_name.is_some() {
            open(
                out,
                3,
                "point",
                &[("srsName", l.srs_name.as_deref())],
                l.pos.is_none(),
            );
            if let Some(pos) = &l.pos {
                text_element(out, 4, "pos", &[], pos);
                close(out, 3, "point");
            }
        }
        if let Some(x) = &l.exactness {
            open(out, 3, "exactness", &[("code", Some(x))], true);
        }
        if let Some(x) = &l.class {
            open(out, 3, "location-class", &[("code", Some(x))], true);
        }
        if let Some(x) = &l.feature_designation {
            open(out, 3, "feature-designation", &[("code", Some(x))], true);
        }
        close(out, 2, "location");
    }
    for s in &a.sectors {
        with_narratives(
            out,
            2,
            "sector",
            &[
                ("code", Some(&s.code)),
                ("vocabulary", s.vocabulary.as_deref()),
                ("vocabulary-uri", s.vocabulary_uri.as_deref()),
                ("percentage", s.percentage.as_deref()),
            ],
            &s.narratives,
        );
    }
    for b in &a.budgets {
        open(
            out,
            2,
            "budget",
            &[
                ("type", b.r#type.as_deref()),
                ("status", b.status.as_deref()),
            ],
            false,
        );
        open(
            out,
            3,
            "period-start",
            &[("iso-date", Some(&b.period_start))],
            true,
        );
        open(
            out,
            3,
            "period-end",
            &[("iso-date", Some(&b.period_end))],
            true,
        );
        value(out, 3, &b.value);
        close(out, 2, "budget");
    }
    for t in &a.transactions {
        open(
            out,
            2,
            "transaction",
            &[
                ("ref", t.r#ref.as_deref()),
                ("humanitarian", t.humanitarian.as_deref()),
            ],
            false,
        );
        open(
            out,
            3,
            "transaction-type",
            &[("code", Some(&t.r#type))],
            true,
        );
        open(
            out,
            3,
            "transaction-date",
            &[("iso-date", Some(&t.date))],
            true,
        );
        value(out, 3, &t.value);
        if !t.description.is_empty() {
            with_narratives(out, 3, "description", &[], &t.description);
        }
        if let Some(p) = &t.provider {
            org(out, 3, "provider-org", p, "provider-activity-id");
        }
        if let Some(r) = &t.receiver {
            org(out, 3, "receiver-org", r, "receiver-activity-id");
        }
        for o in &t.other {
            raw(out, 3, o);
        }
        close(out, 2, "transaction");
    }
    for d in &a.document_links {
        open(
            out,
            2,
            "document-link",
            &[("url", Some(&d.url)), ("format", Some(&d.format))],
            false,
        );
        with_narratives(out, 3, "title", &[], &d.title);
        if !d.description.is_empty() {
            with_narratives(out, 3, "description", &[], &d.description);
        }
        for c in &d.categories {
            open(out, 3, "category", &[("code", Some(c))], true);
        }
        for l in &d.languages {
            open(out, 3, "language", &[("code", Some(l))], true);
        }
        if let Some(date) = &d.document_date {
            open(out, 3, "document-date", &[("iso-date", Some(date))], true);
        }
        close(out, 2, "document-link");
    }
    for r in &a.results {
        raw(out, 2, r);
    }
    close(out, 1, "iati-activity");
}

/// One activity as a complete 2.03 document (tests, previews).
pub fn to_document(activities: &[Activity], generated: &str) -> Result<Vec<u8>, WriteError> {
    let mut w = ActivityWriter::new(Vec::new(), generated, None)?;
    for a in activities {
        w.write(a)?;
    }
    w.finish()
}
