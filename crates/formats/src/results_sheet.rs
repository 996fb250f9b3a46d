//! Results reporting templates: a pre-filled XLSX or CSV sheet of indicator values for a project
//! or an office and period, filled offline and read back with a per-cell error report.
//!
//! No database and no meaning: the writer lays out what the caller gives it, the reader returns
//! what the user typed, keyed by (indicator id, period start, disaggregation), with the address
//! of each cell so that the store can report its own checks (measure, locked periods, sums) in
//! the same terms.
//!
//! # Layout
//!
//! One row per [`TemplateRow`], in the columns of [`COLUMN_NAMES`] (in that order):
//!
//! - XLSX, sheet "Report" (the name is [`Headers::report_sheet`]): row 1 the title, row 2 the
//!   translated column titles (bold, frozen with the rows above), row 3 **hidden**, holding the
//!   machine column names of [`COLUMN_NAMES`], the data from row 4. The last five columns
//!   (`indicator_id`, `period_start`, `disaggregation`, `measure`, `report_version`) are
//!   hidden. The sheet is
//!   protected: only the input cells of editable rows are unlocked (Value for numbers and texts,
//!   Numerator and Denominator for percentages, Narrative on the total row). A percentage's
//!   Value cell holds a locked formula showing numerator ÷ denominator. A second sheet holds the
//!   instructions.
//! - CSV: one header row with the machine names, then the data; UTF-8 with a BOM (so that
//!   Excel shows accents), `,` as delimiter. A percentage's Value is left empty and its counts
//!   go in Numerator and Denominator.
//!
//! The reader finds the sheet and its header row by the machine column names (not by
//! position), so titles may be translated and columns added or moved in a CSV.
//!
//! `report_version` holds, on every row of a report, the report's version when the template was
//! made (0 when there was no report), so that the upload can refuse a change made in Meridian
//! since (see `Store::upload_reports`). The column is optional on reading: a template made
//! before it existed, or with the cell emptied, reads as `None` (unknown, not checked).
//!
//! Strings beginning with `=`, `+`, `-`, `@`, a tab or a carriage return are neutralised
//! against formula injection: in CSV prefixed with `'`, in XLSX written as text with Excel's
//! quote-prefix style (the cell shows and keeps the exact text, and stays text when edited).
//! The reader removes such a `'` again.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read, Seek};

use calamine::{DataRef, Reader, Xlsx};
use rust_xlsxwriter::utility::row_col_to_cell;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, DocProperties, Format, FormatAlign, FormatBorder,
    Formula, Workbook, Worksheet, XlsxError,
};
use serde::Serialize;

#[cfg(test)]
mod tests;

// ---------------------------------------------------------------------------------------------
// The public model
// ---------------------------------------------------------------------------------------------

/// One line of a template: one indicator × period × disaggregation (the total, an option, or a
/// combination of one option per category when the indicator has several categories).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TemplateRow {
    pub project_code: String,
    /// The indicator's id (a UUID, as stored).
    pub indicator_id: String,
    pub result: String,
    pub indicator: String,
    /// `number`, `percentage` or `qualitative`.
    pub measure: String,
    /// e.g. `people`.
    pub unit: String,
    /// e.g. `2026-Q1`.
    pub period_label: String,
    /// `YYYY-MM-DD`, e.g. `2026-01-01`.
    pub period_start: String,
    /// Empty for the total, else a key such as `sex=female` (see [`is_disaggregation_key`]).
    pub disaggregation: String,
    /// e.g. `Total`, `Sex: Female`.
    pub disaggregation_label: String,
    /// The target as text, may be empty.
    pub target: String,
    /// The current figure as text (`1250`; `30/120` for a percentage; a text), may be empty.
    pub value: String,
    /// Only written on the total row (empty `disaggregation`).
    pub narrative: String,
    /// Shown as given ("not reported", "draft", "submitted", "approved", "returned" or a
    /// translation); never read back.
    pub status: String,
    /// False when the period is locked or the value submitted or approved: the row is greyed and
    /// all its cells locked.
    pub editable: bool,
    /// The version of the report (indicator × period) when the template was made: `Some(0)`
    /// when there was no report yet, `None` to leave the hidden `report_version` cell empty
    /// (unknown). Written in a hidden column and read back as [`FilledValue::report_version`], so
    /// that the upload can tell a concurrent change from the user's own.
    pub report_version: Option<i64>,
}

/// The translated texts of the sheet. `Default` is English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    /// The data sheet's name (at most 31 characters, none of `[]:*?/\`).
    pub report_sheet: String,
    /// The instructions sheet's name.
    pub instructions_sheet: String,
    pub project: String,
    pub result: String,
    pub indicator: String,
    pub unit: String,
    pub period: String,
    pub disaggregation: String,
    pub target: String,
    pub value: String,
    pub numerator: String,
    pub denominator: String,
    pub narrative: String,
    pub status: String,
    /// Title of Excel's message when a figure cell gets something else (at most 32
    /// characters; cut if longer).
    pub figure_rule_title: String,
    /// Text of that message (at most 255 characters; cut if longer).
    pub figure_rule_message: String,
}

impl Default for Headers {
    fn default() -> Self {
        let s = |t: &str| t.to_owned();
        Headers {
            report_sheet: s("Report"),
            instructions_sheet: s("Instructions"),
            project: s("Project"),
            result: s("Result"),
            indicator: s("Indicator"),
            unit: s("Unit"),
            period: s("Period"),
            disaggregation: s("Disaggregation"),
            target: s("Target"),
            value: s("Value"),
            numerator: s("Numerator"),
            denominator: s("Denominator"),
            narrative: s("Narrative"),
            status: s("Status"),
            figure_rule_title: s("A figure is expected"),
            figure_rule_message: s("Enter a number of zero or more, with a decimal point \
                                    and no thousands separator, or leave the cell empty."),
        }
    }
}

/// A reporting template to write.
#[derive(Debug, Clone, Default)]
pub struct Template {
    /// Shown on top of both sheets and stored as the document title.
    pub title: String,
    pub rows: Vec<TemplateRow>,
    /// Lines of the instructions sheet, already translated (see [`default_instructions`]).
    pub instructions: Vec<String>,
    pub headers: Headers,
}

/// Where a value was read, or what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CellRef {
    /// The sheet's name for XLSX; `CSV` for CSV; empty when the file could not be read at all.
    pub sheet: String,
    /// `H12` for XLSX (`3:3` for a whole row); `row 12, column value` for CSV (`row 12` for a
    /// whole row); empty when the file could not be read at all.
    pub cell: String,
}

impl std::fmt::Display for CellRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.sheet.is_empty(), self.cell.is_empty()) {
            (true, true) => f.write_str("the file"),
            (false, true) => f.write_str(&self.sheet),
            (true, false) => f.write_str(&self.cell),
            (false, false) if self.sheet == CSV_SHEET => write!(f, "{}", self.cell),
            (false, false) => write!(f, "{}!{}", self.sheet, self.cell),
        }
    }
}

/// One wrong cell of an uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    pub location: CellRef,
    /// What was expected and what was found.
    pub message: String,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// A value (or a narrative) read from a filled template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilledValue {
    /// Lowercase, as checked to be a UUID.
    pub indicator_id: String,
    /// The visible Project column as it reads (trimmed; empty when the cell is empty or the
    /// column is missing). Not a key: the indicator id says which project a row is of; a
    /// template over several projects checks that the two agree.
    pub project: String,
    /// The Project cell, when the column is there.
    pub project_location: Option<CellRef>,
    /// `YYYY-MM-DD`.
    pub period_start: String,
    /// Empty for the total.
    pub disaggregation: String,
    /// The figure as text, trimmed and exact (`1250`, `0.1`, a text); `n/d` for a percentage
    /// (each part as typed); empty when only a narrative was given. Never checked against the
    /// measure: that is the store's job.
    pub value: String,
    /// `Some` on the total row (the text of the Narrative cell, trimmed, possibly empty: the
    /// store decides whether an empty narrative clears the stored one); `None` on a
    /// disaggregated row.
    pub narrative: Option<String>,
    /// The cell to blame for the value: Value, or Numerator for a percentage.
    pub location: CellRef,
    /// The Narrative cell, on the total row.
    pub narrative_location: Option<CellRef>,
    /// The hidden `report_version` of the row: the version of the report when the template was
    /// made (0: there was none). `None` when the cell is empty or the column is missing (a
    /// template made before the column existed): unknown, the upload cannot check it.
    pub report_version: Option<i64>,
}

/// The template could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("template row {index}, {field}: expected {expected}, found {found:?}")]
    Row {
        /// Position in `Template::rows`, from 0.
        index: usize,
        field: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error(
        "template row {index}: the indicator, period and disaggregation of row {first} again \
         (each must appear once, or the upload cannot tell them apart)"
    )]
    Duplicate { index: usize, first: usize },
    #[error("cannot write the XLSX file: {0}")]
    Xlsx(String),
    #[error("cannot write the CSV file: {0}")]
    Csv(String),
}

impl From<XlsxError> for SheetError {
    fn from(e: XlsxError) -> Self {
        SheetError::Xlsx(e.to_string())
    }
}

/// The machine column names, in the order of the columns: the header of a CSV and the hidden
/// row 3 of the XLSX. The reader needs `indicator_id`, `period_start`, `disaggregation`,
/// `measure`, `value`, `numerator`, `denominator` and `narrative`; it reads `project` and
/// `report_version` when they are there, and ignores the others.
pub const COLUMN_NAMES: [&str; 17] = [
    "project",
    "result",
    "indicator",
    "unit",
    "period",
    "disaggregation_label",
    "target",
    "value",
    "numerator",
    "denominator",
    "narrative",
    "status",
    "indicator_id",
    "period_start",
    "disaggregation",
    "measure",
    "report_version",
];

/// The `sheet` of a [`CellRef`] in a CSV file.
pub const CSV_SHEET: &str = "CSV";

/// English instructions, for callers without a translation.
pub fn default_instructions() -> Vec<String> {
    [
        "How to fill this template",
        "",
        "1. Enter the figures in the yellow cells of the Report sheet; grey rows are locked \
         (the period is closed or the value already submitted or approved).",
        "2. Numbers: digits with a decimal point, no thousands separators, no % sign \
         (1250, 12.5). Leave a cell empty when there is nothing to report: empty is not zero.",
        "3. Percentages: enter the numerator and the denominator (30 and 120), not the ratio; \
         the Value column shows the percentage.",
        "4. Qualitative indicators: enter the text in the Value column.",
        "5. The narrative goes on the Total row of each indicator.",
        "6. Do not add, remove, move or copy rows or columns, and do not rename the sheets: \
         the upload recognises each row by hidden columns.",
        "7. Upload the file: if any cell is wrong, nothing is saved and each wrong cell is \
         listed with its address.",
        "8. If someone changed a figure in Meridian after you downloaded this file and your \
         file says otherwise, nothing is saved and the cell is listed with who changed it and \
         when: download the template again and enter your figures there.",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

// ---------------------------------------------------------------------------------------------
// Columns, measures, keys
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Col {
    Project,
    Result,
    Indicator,
    Unit,
    Period,
    DisaggregationLabel,
    Target,
    Value,
    Numerator,
    Denominator,
    Narrative,
    Status,
    IndicatorId,
    PeriodStart,
    Disaggregation,
    Measure,
    ReportVersion,
}

const COLS: [Col; 17] = [
    Col::Project,
    Col::Result,
    Col::Indicator,
    Col::Unit,
    Col::Period,
    Col::DisaggregationLabel,
    Col::Target,
    Col::Value,
    Col::Numerator,
    Col::Denominator,
    Col::Narrative,
    Col::Status,
    Col::IndicatorId,
    Col::PeriodStart,
    Col::Disaggregation,
    Col::Measure,
    Col::ReportVersion,
];

/// The columns the reader needs.
const REQUIRED: [Col; 8] = [
    Col::IndicatorId,
    Col::PeriodStart,
    Col::Disaggregation,
    Col::Measure,
    Col::Value,
    Col::Numerator,
    Col::Denominator,
    Col::Narrative,
];

impl Col {
    fn index(self) -> u16 {
        self as u16
    }

    fn name(self) -> &'static str {
        COLUMN_NAMES[self as usize]
    }

    fn hidden(self) -> bool {
        matches!(
            self,
            Col::IndicatorId
                | Col::PeriodStart
                | Col::Disaggregation
                | Col::Measure
                | Col::ReportVersion
        )
    }

    fn width(self) -> f64 {
        match self {
            Col::Project => 14.0,
            Col::Result => 30.0,
            Col::Indicator => 40.0,
            Col::Unit => 12.0,
            Col::Period => 10.0,
            Col::DisaggregationLabel => 22.0,
            Col::Target => 12.0,
            Col::Value => 14.0,
            Col::Numerator | Col::Denominator => 13.0,
            Col::Narrative => 50.0,
            Col::Status => 14.0,
            Col::IndicatorId => 38.0,
            Col::PeriodStart => 12.0,
            Col::Disaggregation => 24.0,
            Col::Measure | Col::ReportVersion => 12.0,
        }
    }

    fn wraps(self) -> bool {
        matches!(self, Col::Result | Col::Indicator | Col::Narrative)
    }

    fn title(self, h: &Headers) -> &str {
        match self {
            Col::Project => &h.project,
            Col::Result => &h.result,
            Col::Indicator => &h.indicator,
            Col::Unit => &h.unit,
            Col::Period => &h.period,
            Col::DisaggregationLabel => &h.disaggregation,
            Col::Target => &h.target,
            Col::Value => &h.value,
            Col::Numerator => &h.numerator,
            Col::Denominator => &h.denominator,
            Col::Narrative => &h.narrative,
            Col::Status => &h.status,
            // Hidden; not the machine names, which mark the hidden row.
            Col::IndicatorId => "Indicator ID",
            Col::PeriodStart => "Period start",
            Col::Disaggregation => "Disaggregation key",
            Col::Measure => "Measure",
            Col::ReportVersion => "Report version",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Measure {
    Number,
    Percentage,
    Qualitative,
}

impl Measure {
    fn parse(s: &str) -> Option<Measure> {
        match s {
            "number" => Some(Measure::Number),
            "percentage" => Some(Measure::Percentage),
            "qualitative" => Some(Measure::Qualitative),
            _ => None,
        }
    }
}

/// Whether `s` is an id as the store writes them: a UUID in its 36-character text form
/// (either case).
pub fn is_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether `s` is a calendar date written `YYYY-MM-DD`.
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Whether `s` can be a disaggregation key: empty (the total), or at most 500 characters of
/// ASCII letters, digits and `_ - . = ; , & | : /`, with at least one `=` (`sex=female`,
/// `sex=female;age_group=age_18_59`). The store gives the keys their meaning.
pub fn is_disaggregation_key(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 500
            && s.contains('=')
            && s.bytes().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'_' | b'-' | b'.' | b'=' | b';' | b',' | b'&' | b'|' | b':' | b'/'
                    )
            }))
}

// ---------------------------------------------------------------------------------------------
// Numbers and formula injection
// ---------------------------------------------------------------------------------------------

/// A spreadsheet number as exact decimal text: rounded to the 15 significant digits Excel
/// keeps and shows (so `0.1 + 0.2` computed in a cell gives `0.3`, not `0.30000000000000004`),
/// then the shortest text that reads back as that number, never in exponent form and without a
/// trailing `.0`: `0.1` → "0.1", `1e-4` → "0.0001", `1250.0` → "1250", `-0.0` → "0".
pub fn float_to_text(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let rounded: f64 = format!("{x:.14e}").parse().unwrap_or(x);
    let mut s = format!("{rounded}");
    if let Some(stripped) = s.strip_suffix(".0") {
        s = stripped.to_owned();
    }
    if s == "-0" { "0".to_owned() } else { s }
}

/// The number to write in a cell for `text`, when writing it as a number reads back as
/// exactly `text` (plain digits with an optional decimal point, in the shortest form).
fn exact_number(text: &str) -> Option<f64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let plain = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if !plain {
        return None;
    }
    let x: f64 = text.parse().ok()?;
    (float_to_text(x) == text).then_some(x)
}

/// Whether a spreadsheet could take `s` for a formula.
fn needs_guard(s: &str) -> bool {
    matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'))
}

fn guard_csv(s: &str) -> Cow<'_, str> {
    if needs_guard(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// Trims `s` and removes the `'` that neutralised a formula-like text.
fn clean_text(s: &str) -> String {
    let t = s.trim();
    match t.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest.to_owned(),
        _ => t.to_owned(),
    }
}

/// `30/120` → ("30", "120"); anything without `/` goes whole to the numerator.
fn split_ratio(value: &str) -> (&str, &str) {
    match value.split_once('/') {
        Some((n, d)) => (n.trim(), d.trim()),
        None => (value.trim(), ""),
    }
}

// ---------------------------------------------------------------------------------------------
// Checking the template before writing it
// ---------------------------------------------------------------------------------------------

fn check_rows(rows: &[TemplateRow]) -> Result<Vec<Measure>, SheetError> {
    let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::with_capacity(rows.len());
    let mut measures = Vec::with_capacity(rows.len());
    for (index, r) in rows.iter().enumerate() {
        let bad = |field, expected, found: &str| SheetError::Row {
            index,
            field,
            expected,
            found: found.to_owned(),
        };
        if !is_id(&r.indicator_id) {
            return Err(bad("indicator_id", "a UUID", &r.indicator_id));
        }
        if !is_iso_date(&r.period_start) {
            return Err(bad("period_start", "a date YYYY-MM-DD", &r.period_start));
        }
        if !is_disaggregation_key(&r.disaggregation) {
            return Err(bad(
                "disaggregation",
                "empty or a key such as sex=female",
                &r.disaggregation,
            ));
        }
        let Some(m) = Measure::parse(&r.measure) else {
            return Err(bad(
                "measure",
                "number, percentage or qualitative",
                &r.measure,
            ));
        };
        measures.push(m);
        let key = (
            r.indicator_id.as_str(),
            r.period_start.as_str(),
            r.disaggregation.as_str(),
        );
        if let Some(first) = seen.insert(key, index) {
            return Err(SheetError::Duplicate { index, first });
        }
    }
    Ok(measures)
}

// ---------------------------------------------------------------------------------------------
// XLSX writing
// ---------------------------------------------------------------------------------------------

/// Row (from 0) of the title, the translated titles, the hidden machine names, the first data.
const TITLE_ROW: u32 = 0;
const HEADER_ROW: u32 = 1;
const KEY_ROW: u32 = 2;
const FIRST_DATA_ROW: u32 = 3;

/// Whether the user may type in this cell: the input cells of an editable row.
fn is_input(editable: bool, total: bool, measure: Measure, col: Col) -> bool {
    editable
        && match col {
            Col::Value => measure != Measure::Percentage,
            Col::Numerator | Col::Denominator => measure == Measure::Percentage,
            Col::Narrative => total,
            _ => false,
        }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Style {
    unlocked: bool,
    grey: bool,
    input: bool,
    quote: bool,
    text: bool,
    percent: bool,
    wrap: bool,
    header: bool,
    title: bool,
}

impl Style {
    fn format(self) -> Format {
        let mut f = Format::new().set_align(FormatAlign::Top);
        if self.unlocked {
            f = f.set_unlocked();
        }
        if self.grey {
            f = f
                .set_background_color(Color::RGB(0xEDEDED))
                .set_font_color(Color::RGB(0x595959));
        } else if self.input {
            f = f.set_background_color(Color::RGB(0xFFF5CC));
        }
        if self.header {
            f = f
                .set_bold()
                .set_background_color(Color::RGB(0xD9E1F2))
                .set_border_bottom(FormatBorder::Thin);
        }
        if self.title {
            f = f.set_bold().set_font_size(14);
        }
        if self.quote {
            f = f.set_quote_prefix();
        }
        if self.text {
            f = f.set_num_format("@");
        }
        if self.percent {
            f = f.set_num_format("0.0%");
        }
        if self.wrap {
            f = f.set_text_wrap();
        }
        f
    }
}

enum Content<'a> {
    Blank,
    Text(&'a str),
    Number(f64),
    Formula(Formula),
}

fn text(s: &str) -> Content<'_> {
    if s.is_empty() {
        Content::Blank
    } else {
        Content::Text(s)
    }
}

/// A cell's text as a number when that is exact, else as text.
fn figure(text: &str) -> Content<'_> {
    if text.is_empty() {
        Content::Blank
    } else if let Some(x) = exact_number(text) {
        Content::Number(x)
    } else {
        Content::Text(text)
    }
}

struct Formats(HashMap<Style, Format>);

impl Formats {
    fn get(&mut self, s: Style) -> &Format {
        self.0.entry(s).or_insert_with(|| s.format())
    }

    fn put(
        &mut self,
        ws: &mut Worksheet,
        row: u32,
        col: u16,
        content: Content<'_>,
        mut style: Style,
    ) -> Result<(), XlsxError> {
        match content {
            Content::Blank => {
                if style != Style::default() {
                    ws.write_blank(row, col, self.get(style))?;
                }
            }
            Content::Text(t) => {
                style.quote = needs_guard(t);
                ws.write_string_with_format(row, col, t, self.get(style))?;
            }
            Content::Number(x) => {
                ws.write_number_with_format(row, col, x, self.get(style))?;
            }
            Content::Formula(f) => {
                ws.write_formula_with_format(row, col, f, self.get(style))?;
            }
        }
        Ok(())
    }
}

/// Cuts `s` to at most `max` UTF-16 code units (Excel's limits on validation messages).
fn cut_utf16(s: &str, max: usize) -> String {
    let mut n = 0;
    s.chars()
        .take_while(|c| {
            n += c.len_utf16();
            n <= max
        })
        .collect()
}

/// Merges sorted row numbers into runs of consecutive rows.
fn runs(rows: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &r in rows {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == r => *last = r,
            _ => out.push((r, r)),
        }
    }
    out
}

/// Writes the template as an XLSX workbook.
pub fn write_xlsx(t: &Template) -> Result<Vec<u8>, SheetError> {
    let measures = check_rows(&t.rows)?;
    let h = &t.headers;
    let mut wb = Workbook::new();
    wb.set_properties(&DocProperties::new().set_title(&t.title));
    let mut formats = Formats(HashMap::new());

    let ws = wb.add_worksheet();
    ws.set_name(&h.report_sheet)?;
    ws.set_active(true);
    formats.put(
        ws,
        TITLE_ROW,
        0,
        if t.title.is_empty() {
            Content::Blank
        } else {
            Content::Text(&t.title)
        },
        Style {
            title: true,
            ..Style::default()
        },
    )?;
    for col in COLS {
        let c = col.index();
        ws.set_column_width(c, col.width())?;
        if col.hidden() {
            ws.set_column_hidden(c)?;
        }
        let header = Style {
            header: true,
            wrap: true,
            ..Style::default()
        };
        formats.put(ws, HEADER_ROW, c, Content::Text(col.title(h)), header)?;
        ws.write_string(KEY_ROW, c, col.name())?;
    }
    ws.set_row_hidden(KEY_ROW)?;
    ws.set_freeze_panes(FIRST_DATA_ROW, 0)?;

    let mut figure_cells = Vec::new();
    let mut count_cells = Vec::new();
    for (i, (r, &m)) in t.rows.iter().zip(&measures).enumerate() {
        let row = FIRST_DATA_ROW + u32::try_from(i).map_err(|_| XlsxError::RowColumnLimitError)?;
        let total = r.disaggregation.is_empty();
        let (num, den) = if m == Measure::Percentage {
            split_ratio(&r.value)
        } else {
            ("", "")
        };
        if r.editable {
            match m {
                Measure::Number => figure_cells.push(row),
                Measure::Percentage => count_cells.push(row),
                Measure::Qualitative => {}
            }
        }
        for col in COLS {
            let input = is_input(r.editable, total, m, col);
            let mut style = Style {
                unlocked: input,
                input,
                grey: !r.editable,
                wrap: col.wraps(),
                ..Style::default()
            };
            let content = match col {
                Col::Project => text(&r.project_code),
                Col::Result => text(&r.result),
                Col::Indicator => text(&r.indicator),
                Col::Unit => text(&r.unit),
                Col::Period => text(&r.period_label),
                Col::DisaggregationLabel => text(&r.disaggregation_label),
                Col::Target => figure(&r.target),
                Col::Value => match m {
                    Measure::Number => figure(&r.value),
                    Measure::Qualitative => {
                        style.text = true;
                        text(&r.value)
                    }
                    Measure::Percentage => {
                        style.percent = true;
                        let n = row_col_to_cell(row, Col::Numerator.index());
                        let d = row_col_to_cell(row, Col::Denominator.index());
                        let result = match (exact_number(num), exact_number(den)) {
                            (Some(n), Some(d)) if d > 0.0 => float_to_text(n / d),
                            _ => String::new(),
                        };
                        Content::Formula(
                            Formula::new(format!(
                                "=IF(AND(ISNUMBER({n}),ISNUMBER({d}),{d}>0),{n}/{d},\"\")"
                            ))
                            .set_result(result),
                        )
                    }
                },
                Col::Numerator => figure(num),
                Col::Denominator => figure(den),
                Col::Narrative if total => text(&r.narrative),
                Col::Narrative => Content::Blank,
                Col::Status => text(&r.status),
                Col::IndicatorId => text(&r.indicator_id),
                Col::PeriodStart => text(&r.period_start),
                Col::Disaggregation => text(&r.disaggregation),
                Col::Measure => text(&r.measure),
                Col::ReportVersion => match r.report_version {
                    // Exact: versions stay far below 2^53.
                    #[allow(clippy::cast_precision_loss)]
                    Some(v) => Content::Number(v as f64),
                    None => Content::Blank,
                },
            };
            formats.put(ws, row, col.index(), content, style)?;
        }
    }

    let rule = DataValidation::new()
        .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0))
        .set_error_title(cut_utf16(&h.figure_rule_title, 32))?
        .set_error_message(cut_utf16(&h.figure_rule_message, 255))?;
    for (first, last) in runs(&figure_cells) {
        let c = Col::Value.index();
        ws.add_data_validation(first, c, last, c, &rule)?;
    }
    for (first, last) in runs(&count_cells) {
        let (c1, c2) = (Col::Numerator.index(), Col::Denominator.index());
        ws.add_data_validation(first, c1, last, c2, &rule)?;
    }
    ws.protect();

    let ins = wb.add_worksheet();
    ins.set_name(&h.instructions_sheet)?;
    ins.set_column_width(0, 110)?;
    let title = Style {
        title: true,
        ..Style::default()
    };
    if !t.title.is_empty() {
        formats.put(ins, 0, 0, Content::Text(&t.title), title)?;
    }
    let line = Style {
        wrap: true,
        ..Style::default()
    };
    for (i, l) in t.instructions.iter().enumerate() {
        let row = 2 + u32::try_from(i).map_err(|_| XlsxError::RowColumnLimitError)?;
        if !l.is_empty() {
            formats.put(ins, row, 0, Content::Text(l), line)?;
        }
    }
    ins.protect();

    Ok(wb.save_to_buffer()?)
}

// ---------------------------------------------------------------------------------------------
// CSV writing
// ---------------------------------------------------------------------------------------------

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes the template as CSV: a UTF-8 BOM, the header of [`COLUMN_NAMES`], one line per row.
pub fn write_csv(t: &Template) -> Result<Vec<u8>, SheetError> {
    let measures = check_rows(&t.rows)?;
    let csv_err = |e: csv::Error| SheetError::Csv(e.to_string());
    let mut w = csv::Writer::from_writer(BOM.to_vec());
    w.write_record(COLUMN_NAMES).map_err(csv_err)?;
    for (r, &m) in t.rows.iter().zip(&measures) {
        let (num, den) = if m == Measure::Percentage {
            split_ratio(&r.value)
        } else {
            ("", "")
        };
        let total = r.disaggregation.is_empty();
        let version = r.report_version.map(|v| v.to_string()).unwrap_or_default();
        let field = |col: Col| -> &str {
            match col {
                Col::Project => &r.project_code,
                Col::Result => &r.result,
                Col::Indicator => &r.indicator,
                Col::Unit => &r.unit,
                Col::Period => &r.period_label,
                Col::DisaggregationLabel => &r.disaggregation_label,
                Col::Target => &r.target,
                Col::Value if m == Measure::Percentage => "",
                Col::Value => &r.value,
                Col::Numerator => num,
                Col::Denominator => den,
                Col::Narrative if total => &r.narrative,
                Col::Narrative => "",
                Col::Status => &r.status,
                Col::IndicatorId => &r.indicator_id,
                Col::PeriodStart => &r.period_start,
                Col::Disaggregation => &r.disaggregation,
                Col::Measure => &r.measure,
                Col::ReportVersion => &version,
            }
        };
        w.write_record(COLS.map(|c| guard_csv(field(c)).into_owned()))
            .map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| SheetError::Csv(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Reading: a sparse grid of cells from either format
// ---------------------------------------------------------------------------------------------

/// Cells beyond this column are ignored (a template has 16).
const MAX_COL: u32 = 255;
/// The header row must be within the first rows.
const KEY_ROW_SEARCH: u32 = 50;
/// A bound on memory for hostile files (a template of 100,000 rows has 1.6 million cells).
const MAX_CELLS: usize = 5_000_000;

#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(String),
    Number(f64),
    Bool(bool),
    /// Not a usable value; the message says what was found.
    Bad(String),
}

#[derive(Default)]
struct Grid {
    /// Row → (column, cell), columns in the order read.
    rows: BTreeMap<u32, Vec<(u32, Cell)>>,
    cells: usize,
}

impl Grid {
    fn push(&mut self, row: u32, col: u32, cell: Cell) -> Result<(), String> {
        if col > MAX_COL {
            return Ok(());
        }
        self.cells += 1;
        if self.cells > MAX_CELLS {
            return Err(format!(
                "expected a reporting template, found more than {MAX_CELLS} cells"
            ));
        }
        self.rows.entry(row).or_default().push((col, cell));
        Ok(())
    }

    fn get(&self, row: u32, col: u32) -> Option<&Cell> {
        self.rows
            .get(&row)?
            .iter()
            .rev()
            .find(|(c, _)| *c == col)
            .map(|(_, cell)| cell)
    }

    /// The first row holding at least three of the column names the reader needs (so that a
    /// file missing one of them is told which).
    fn key_row(&self) -> Option<u32> {
        self.rows
            .range(..KEY_ROW_SEARCH)
            .find(|(_, cells)| {
                REQUIRED
                    .iter()
                    .filter(|col| {
                        cells
                            .iter()
                            .any(|(_, c)| matches!(c, Cell::Text(t) if t.trim() == col.name()))
                    })
                    .count()
                    >= 3
            })
            .map(|(r, _)| *r)
    }
}

/// How cells are named in messages.
enum Place {
    Xlsx { sheet: String },
    Csv { names: HashMap<u32, String> },
}

impl Place {
    fn at(&self, row: u32, col: u32) -> CellRef {
        match self {
            Place::Xlsx { sheet } => CellRef {
                sheet: sheet.clone(),
                cell: row_col_to_cell(row, u16::try_from(col).unwrap_or(u16::MAX)),
            },
            Place::Csv { names } => CellRef {
                sheet: CSV_SHEET.to_owned(),
                cell: match names.get(&col) {
                    Some(n) if !n.is_empty() => format!("row {}, column {n}", row + 1),
                    _ => format!("row {}, column {}", row + 1, col + 1),
                },
            },
        }
    }

    fn row(&self, row: u32) -> CellRef {
        match self {
            Place::Xlsx { sheet } => CellRef {
                sheet: sheet.clone(),
                cell: format!("{0}:{0}", row + 1),
            },
            Place::Csv { .. } => CellRef {
                sheet: CSV_SHEET.to_owned(),
                cell: format!("row {}", row + 1),
            },
        }
    }
}

fn file_error(message: String) -> Vec<CellError> {
    vec![CellError {
        location: CellRef {
            sheet: String::new(),
            cell: String::new(),
        },
        message,
    }]
}

fn cell_text(cell: Option<&Cell>) -> Result<String, String> {
    match cell {
        None => Ok(String::new()),
        Some(Cell::Text(s)) => Ok(clean_text(s)),
        Some(Cell::Number(x)) => Ok(float_to_text(*x)),
        Some(Cell::Bool(b)) => Ok(if *b { "TRUE" } else { "FALSE" }.to_owned()),
        Some(Cell::Bad(m)) => Err(m.clone()),
    }
}

/// Which columns a reader takes for a percentage.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// The Value of a percentage is the template's formula and is ignored.
    Xlsx,
    /// The Value of a percentage may hold `n/d` instead of the two counts.
    Csv,
}

fn read_grid(
    grid: &Grid,
    key_row: u32,
    place: &Place,
    flavor: Flavor,
) -> Result<Vec<FilledValue>, Vec<CellError>> {
    let mut errors = Vec::new();
    let mut cols: HashMap<Col, u32> = HashMap::new();
    for (c, cell) in grid.rows.get(&key_row).map(Vec::as_slice).unwrap_or(&[]) {
        let Cell::Text(name) = cell else { continue };
        let Some(col) = COLS.iter().copied().find(|k| k.name() == name.trim()) else {
            continue;
        };
        if let Some(first) = cols.insert(col, *c) {
            errors.push(CellError {
                location: place.at(key_row, *c),
                message: format!(
                    "expected each column once, found the column {:?} a second time (first in \
                     {}); download a new template",
                    col.name(),
                    place.at(key_row, first).cell
                ),
            });
        }
    }
    for col in REQUIRED {
        if !cols.contains_key(&col) {
            errors.push(CellError {
                location: place.row(key_row),
                message: format!(
                    "expected the column {:?} in the header row (row {}), found it missing: \
                     the template's structure was changed; download a new template",
                    col.name(),
                    key_row + 1
                ),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let at = |row: u32, col: Col| place.at(row, cols[&col]);

    let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
    let mut out = Vec::new();
    for (&r, _) in grid.rows.range(key_row + 1..) {
        let before = errors.len();
        let mut field = |col: Col| -> String {
            match cell_text(grid.get(r, cols[&col])) {
                Ok(s) => s,
                Err(message) => {
                    errors.push(CellError {
                        location: at(r, col),
                        message,
                    });
                    String::new()
                }
            }
        };
        let id = field(Col::IndicatorId);
        let start = field(Col::PeriodStart);
        let dis = field(Col::Disaggregation);
        let measure = field(Col::Measure);
        // Optional: a template made before the column existed has none (unknown).
        let version_cell = cols
            .get(&Col::ReportVersion)
            .map(|&c| cell_text(grid.get(r, c)));
        if id.is_empty() && start.is_empty() && dis.is_empty() && measure.is_empty() {
            // A row outside the template: it must hold no input.
            for col in [Col::Value, Col::Numerator, Col::Denominator, Col::Narrative] {
                let v = field(col);
                if !v.is_empty() {
                    errors.push(CellError {
                        location: at(r, col),
                        message: format!(
                            "expected values only in the template's rows, found {v:?} in a \
                             row without an indicator id"
                        ),
                    });
                    break;
                }
            }
            continue;
        }
        let mut key_error = |col: Col, message: String| {
            errors.push(CellError {
                location: at(r, col),
                message,
            })
        };
        const CHANGED: &str = "the hidden key columns must not be changed; download a new template";
        if !is_id(&id) {
            key_error(
                Col::IndicatorId,
                format!("expected an indicator id (a UUID), found {id:?}; {CHANGED}"),
            );
        }
        if !is_iso_date(&start) {
            let hint = if start.contains('/') || start.contains('.') {
                " (a spreadsheet may have turned it into a local date: keep this column as \
                 text, or use the XLSX template)"
            } else {
                ""
            };
            key_error(
                Col::PeriodStart,
                format!(
                    "expected a period start date YYYY-MM-DD, found {start:?}{hint}; {CHANGED}"
                ),
            );
        }
        if !is_disaggregation_key(&dis) {
            key_error(
                Col::Disaggregation,
                format!(
                    "expected a disaggregation key such as \"sex=female\" (or empty for the \
                     total), found {dis:?}; {CHANGED}"
                ),
            );
        }
        let m = Measure::parse(&measure);
        if m.is_none() {
            key_error(
                Col::Measure,
                format!("expected number, percentage or qualitative, found {measure:?}; {CHANGED}"),
            );
        }
        let report_version = match version_cell {
            None => None,
            Some(Err(message)) => {
                key_error(Col::ReportVersion, message);
                None
            }
            Some(Ok(version_text)) if version_text.is_empty() => None,
            Some(Ok(version_text)) => match version_text.parse::<i64>() {
                Ok(v) if v >= 0 => Some(v),
                _ => {
                    key_error(
                        Col::ReportVersion,
                        format!(
                            "expected a report version (a whole number of 0 or more, or empty), \
                             found {version_text:?}; {CHANGED}"
                        ),
                    );
                    None
                }
            },
        };
        let Some(m) = m else { continue };
        if errors.len() > before {
            continue;
        }
        let id = id.to_ascii_lowercase();
        let total = dis.is_empty();
        match seen.entry((id.clone(), start.clone(), dis.clone())) {
            std::collections::hash_map::Entry::Occupied(first) => {
                errors.push(CellError {
                    location: at(r, Col::IndicatorId),
                    message: format!(
                        "expected each indicator, period and disaggregation once, found the \
                         row of row {} again; rows must not be copied",
                        first.get() + 1
                    ),
                });
                continue;
            }
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(r);
            }
        }

        let mut field = |col: Col| -> String {
            match cell_text(grid.get(r, cols[&col])) {
                Ok(s) => s,
                Err(message) => {
                    errors.push(CellError {
                        location: at(r, col),
                        message,
                    });
                    String::new()
                }
            }
        };
        let narrative = field(Col::Narrative);
        let mut row_errors = Vec::new();
        if !total && !narrative.is_empty() {
            row_errors.push(CellError {
                location: at(r, Col::Narrative),
                message: format!(
                    "expected the narrative on the total row of the indicator, found {narrative:?} \
                     on a disaggregated row"
                ),
            });
        }
        let (value, location) = match m {
            Measure::Percentage => {
                let n = field(Col::Numerator);
                let d = field(Col::Denominator);
                let v = match flavor {
                    Flavor::Csv => field(Col::Value),
                    Flavor::Xlsx => String::new(),
                };
                match (n.is_empty(), d.is_empty()) {
                    (false, true) => {
                        row_errors.push(CellError {
                            location: at(r, Col::Denominator),
                            message: format!(
                                "expected a denominator with the numerator {n}, found an empty \
                                 cell"
                            ),
                        });
                        (String::new(), at(r, Col::Numerator))
                    }
                    (true, false) => {
                        row_errors.push(CellError {
                            location: at(r, Col::Numerator),
                            message: format!(
                                "expected a numerator with the denominator {d}, found an empty \
                                 cell"
                            ),
                        });
                        (String::new(), at(r, Col::Numerator))
                    }
                    (false, false) => {
                        if !v.is_empty() {
                            row_errors.push(CellError {
                                location: at(r, Col::Value),
                                message: format!(
                                    "expected Value empty when Numerator and Denominator are \
                                     given, found {v:?}"
                                ),
                            });
                        }
                        (format!("{n}/{d}"), at(r, Col::Numerator))
                    }
                    (true, true) if flavor == Flavor::Csv => (v, at(r, Col::Value)),
                    (true, true) => (String::new(), at(r, Col::Numerator)),
                }
            }
            Measure::Number | Measure::Qualitative => {
                for col in [Col::Numerator, Col::Denominator] {
                    let x = field(col);
                    if !x.is_empty() {
                        row_errors.push(CellError {
                            location: at(r, col),
                            message: format!(
                                "expected an empty cell (only percentages have a {}; this \
                                 indicator's value goes in Value), found {x:?}",
                                col.name()
                            ),
                        });
                    }
                }
                (field(Col::Value), at(r, Col::Value))
            }
        };
        errors.extend(row_errors);
        if errors.len() > before || (value.is_empty() && narrative.is_empty()) {
            continue;
        }
        let project = match cols.get(&Col::Project) {
            Some(&c) => cell_text(grid.get(r, c)).unwrap_or_default(),
            None => String::new(),
        };
        out.push(FilledValue {
            indicator_id: id,
            project,
            project_location: cols.get(&Col::Project).map(|_| at(r, Col::Project)),
            period_start: start,
            disaggregation: dis,
            value,
            narrative: total.then_some(narrative),
            location,
            narrative_location: total.then(|| at(r, Col::Narrative)),
            report_version,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// XLSX reading
// ---------------------------------------------------------------------------------------------

fn xlsx_grid<RS: Read + Seek>(wb: &mut Xlsx<RS>, sheet: &str) -> Result<Grid, String> {
    let unreadable = |e: calamine::XlsxError| {
        format!("expected a readable sheet {sheet:?}, found a broken one: {e}")
    };
    let mut cells = wb.worksheet_cells_reader(sheet).map_err(unreadable)?;
    let mut grid = Grid::default();
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        let (row, col) = cell.get_position();
        let value = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::String(s) => Cell::Text(s.clone()),
            DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
            DataRef::Float(x) => Cell::Number(*x),
            // Not written by spreadsheets for .xlsx (numbers are floats); exact below 2^53.
            DataRef::Int(i) => Cell::Number(*i as f64),
            DataRef::Bool(b) => Cell::Bool(*b),
            DataRef::DateTime(_) | DataRef::DateTimeIso(_) | DataRef::DurationIso(_) => Cell::Bad(
                "expected a figure or a text, found a date or time (a spreadsheet turns \
                     entries such as 3/4 into dates): enter a plain number, or text"
                    .to_owned(),
            ),
            DataRef::Error(e) => {
                Cell::Bad(format!("expected a value, found the spreadsheet error {e}"))
            }
        };
        if value == Cell::Text(String::new()) {
            continue;
        }
        grid.push(row, col, value)?;
    }
    Ok(grid)
}

/// Reads a filled XLSX template (any sheet holding the hidden header row; the sheet named
/// `Report` is tried first). Every wrong cell is reported; nothing is returned if any is wrong.
pub fn read_xlsx(bytes: &[u8]) -> Result<Vec<FilledValue>, Vec<CellError>> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        file_error(format!(
            "expected an XLSX workbook (Excel 2007 or later, not password-protected), found a \
             file that cannot be opened as one: {e}"
        ))
    })?;
    let mut names = wb.sheet_names();
    names.sort_by_key(|n| n != "Report");
    for name in &names {
        let grid = xlsx_grid(&mut wb, name).map_err(|message| {
            vec![CellError {
                location: CellRef {
                    sheet: name.clone(),
                    cell: String::new(),
                },
                message,
            }]
        })?;
        if let Some(key_row) = grid.key_row() {
            let place = Place::Xlsx {
                sheet: name.clone(),
            };
            return read_grid(&grid, key_row, &place, Flavor::Xlsx);
        }
    }
    Err(vec![CellError {
        location: CellRef {
            sheet: names.first().cloned().unwrap_or_default(),
            cell: "A1".to_owned(),
        },
        message: format!(
            "expected a sheet with the template's hidden header row (the column names {} in \
             one of its first {KEY_ROW_SEARCH} rows), found none: this is not a reporting template, or its structure was changed; download a \
             new template",
            REQUIRED.map(Col::name).join(", ")
        ),
    }])
}

// ---------------------------------------------------------------------------------------------
// CSV reading
// ---------------------------------------------------------------------------------------------

fn csv_grid(body: &[u8], delimiter: u8, max_records: Option<usize>) -> Result<Grid, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body);
    let mut grid = Grid::default();
    let mut record = csv::ByteRecord::new();
    // Rows are numbered as a spreadsheet shows them: the csv crate skips blank lines, which a
    // spreadsheet shows as empty rows, so they are counted back. A record's position is where
    // the previous one ended, before the blank lines.
    let mut row: u32 = 0;
    let mut records = 0usize;
    loop {
        if max_records.is_some_and(|m| records >= m) {
            break;
        }
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(format!(
                    "expected CSV, found an unreadable row {}: {e}",
                    row + 1
                ));
            }
        }
        records += 1;
        let mut p = record.position().map_or(0, |p| p.byte()) as usize;
        // After a "\r\n" terminator the position may fall between the two.
        if p > 0 && body.get(p - 1) == Some(&b'\r') && body.get(p) == Some(&b'\n') {
            p += 1;
        }
        while let Some(rest) = body.get(p..) {
            let step = match rest {
                [b'\r', b'\n', ..] => 2,
                [b'\n' | b'\r', ..] => 1,
                _ => break,
            };
            p += step;
            row = row.saturating_add(1);
        }
        for (col, raw) in record.iter().enumerate() {
            let col = u32::try_from(col).unwrap_or(u32::MAX);
            let cell = match std::str::from_utf8(raw) {
                Ok("") => continue,
                Ok(s) => Cell::Text(s.to_owned()),
                Err(_) => Cell::Bad(
                    "expected UTF-8 text, found bytes in another encoding: save the file as \
                     \"CSV UTF-8\""
                        .to_owned(),
                ),
            };
            grid.push(row, col, cell)?;
        }
        row = row
            .checked_add(1)
            .ok_or_else(|| "expected a reporting template, found too many rows".to_owned())?;
    }
    Ok(grid)
}

/// Reads a filled CSV template: UTF-8 with or without a BOM, `,` as delimiter (`;` and tab are
/// recognised too, as some spreadsheets write them). Every wrong cell is reported; nothing is
/// returned if any is wrong.
pub fn read_csv(bytes: &[u8]) -> Result<Vec<FilledValue>, Vec<CellError>> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(file_error(
            "expected CSV in UTF-8, found UTF-16: save the file as \"CSV UTF-8\"".to_owned(),
        ));
    }
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let whole = |message: String| {
        vec![CellError {
            location: CellRef {
                sheet: CSV_SHEET.to_owned(),
                cell: String::new(),
            },
            message,
        }]
    };
    for delimiter in [b',', b';', b'\t'] {
        let head = csv_grid(body, delimiter, Some(KEY_ROW_SEARCH as usize)).map_err(whole)?;
        if head.key_row().is_none() {
            continue;
        }
        let grid = csv_grid(body, delimiter, None).map_err(whole)?;
        let Some(key_row) = grid.key_row() else {
            continue;
        };
        let names = grid
            .rows
            .get(&key_row)
            .into_iter()
            .flatten()
            .filter_map(|(c, cell)| match cell {
                Cell::Text(t) => Some((*c, t.trim().to_owned())),
                _ => None,
            })
            .collect();
        return read_grid(&grid, key_row, &Place::Csv { names }, Flavor::Csv);
    }
    Err(vec![CellError {
        location: CellRef {
            sheet: CSV_SHEET.to_owned(),
            cell: "row 1".to_owned(),
        },
        message: format!(
            "expected a header row with the template's column names ({}), found none in the \
             first {KEY_ROW_SEARCH} rows: this is not a reporting template, or its header was \
             changed; download a new template",
            REQUIRED.map(Col::name).join(", ")
        ),
    }])
}
