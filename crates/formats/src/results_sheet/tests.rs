//! Tests of the reporting templates: round trips through XLSX and CSV, the protection and
//! validation written into the XLSX, refused tampering, every bad cell reported, number
//! conversion and formula neutralisation.

use std::collections::BTreeMap;

use calamine::Data;

use super::*;

fn id(n: u32) -> String {
    format!("0190e5a2-7c1d-7000-8000-{n:012}")
}

fn row(
    ind: u32,
    measure: &str,
    start: &str,
    dis: &str,
    value: &str,
    narrative: &str,
    editable: bool,
) -> TemplateRow {
    TemplateRow {
        project_code: "P-001".into(),
        indicator_id: id(ind),
        result: "Outcome 1: safe migration".into(),
        indicator: format!("Indicator {ind}"),
        measure: measure.into(),
        unit: if measure == "percentage" {
            "%"
        } else {
            "people"
        }
        .into(),
        period_label: if start == "2026-01-01" {
            "2026-Q1"
        } else {
            "2026-Q2"
        }
        .into(),
        period_start: start.into(),
        disaggregation: dis.into(),
        disaggregation_label: if dis.is_empty() {
            "Total".into()
        } else {
            dis.replace('=', ": ")
        },
        target: "1000".into(),
        value: value.into(),
        narrative: narrative.into(),
        status: if editable { "draft" } else { "approved" }.into(),
        editable,
        report_version: None,
    }
}

const Q1: &str = "2026-01-01";
const Q2: &str = "2026-04-01";

/// Rows covering each case; the comment gives what the reader must return.
fn rows() -> Vec<TemplateRow> {
    vec![
        // 0: number total with narrative → "1250", Some(narrative)
        row(1, "number", Q1, "", "1250", "Good quarter", true),
        // 1: disaggregated figure → "600.5", None
        row(1, "number", Q1, "sex=female", "600.5", "", true),
        // 2: empty → skipped
        row(1, "number", Q1, "sex=male", "", "", true),
        // 3: percentage total → "30/120", Some("")
        row(2, "percentage", Q1, "", "30/120", "", true),
        // 4: percentage 0/0 → "0/0"
        row(2, "percentage", Q1, "sex=female", "0/0", "", true),
        // 5: qualitative text that looks like a formula, narrative too → exact
        row(
            3,
            "qualitative",
            Q1,
            "",
            "=HYPERLINK(\"http://x\")",
            "-5 incidents",
            true,
        ),
        // 6: narrative without a value → "", Some(narrative)
        row(4, "number", Q1, "", "", "@team: no activity", true),
        // 7: locked approved value → returned as it is
        row(5, "number", Q1, "", "42", "", false),
        // 8, 9, 10: float conversions
        row(6, "number", Q1, "", "0.1", "", true),
        row(6, "number", Q1, "sex=female", "0.0001", "", true),
        row(7, "number", Q1, "", "33.333", "", true),
        // 11: not in shortest form → kept as text, exact
        row(8, "number", Q1, "", "1250.50", "", true),
        // 12: locked empty percentage → skipped
        row(2, "percentage", Q2, "", "", "", false),
        // 13: age combination key
        row(
            1,
            "number",
            Q2,
            "sex=female;age_group=age_18_59",
            "7",
            "",
            true,
        ),
    ]
}

fn template() -> Template {
    Template {
        title: "Project P-001 — 2026-Q1".into(),
        rows: rows(),
        instructions: default_instructions(),
        headers: Headers::default(),
    }
}

/// (indicator, period, disaggregation, value, narrative) the reader must return for `rows()`.
fn expected() -> Vec<(
    String,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
)> {
    vec![
        (id(1), Q1, "", "1250", Some("Good quarter")),
        (id(1), Q1, "sex=female", "600.5", None),
        (id(2), Q1, "", "30/120", Some("")),
        (id(2), Q1, "sex=female", "0/0", None),
        (
            id(3),
            Q1,
            "",
            "=HYPERLINK(\"http://x\")",
            Some("-5 incidents"),
        ),
        (id(4), Q1, "", "", Some("@team: no activity")),
        (id(5), Q1, "", "42", Some("")),
        (id(6), Q1, "", "0.1", Some("")),
        (id(6), Q1, "sex=female", "0.0001", None),
        (id(7), Q1, "", "33.333", Some("")),
        (id(8), Q1, "", "1250.50", Some("")),
        (id(1), Q2, "sex=female;age_group=age_18_59", "7", None),
    ]
}

fn summary(v: &[FilledValue]) -> Vec<(String, &str, &str, &str, Option<&str>)> {
    v.iter()
        .map(|f| {
            (
                f.indicator_id.clone(),
                f.period_start.as_str(),
                f.disaggregation.as_str(),
                f.value.as_str(),
                f.narrative.as_deref(),
            )
        })
        .collect()
}

fn cell(sheet: &str, c: &str) -> CellRef {
    CellRef {
        sheet: sheet.into(),
        cell: c.into(),
    }
}

fn csv_cell(row: u32, col: &str) -> CellRef {
    cell(CSV_SHEET, &format!("row {row}, column {col}"))
}

// ---------------------------------------------------------------------------------------------
// Numbers and neutralisation
// ---------------------------------------------------------------------------------------------

#[test]
fn floats_become_exact_decimal_text() {
    assert_eq!(float_to_text(0.1), "0.1");
    assert_eq!(float_to_text(1e-4), "0.0001");
    assert_eq!(float_to_text(1250.0), "1250");
    assert_eq!(float_to_text(33.333), "33.333");
    assert_eq!(float_to_text(0.1 + 0.2), "0.3");
    assert_eq!(float_to_text(-0.0), "0");
    assert_eq!(float_to_text(1e15), "1000000000000000");
    assert_eq!(float_to_text(12.5), "12.5");
    assert_eq!(float_to_text(2.0 / 3.0), "0.666666666666667");
    assert_eq!(exact_number("1250"), Some(1250.0));
    assert_eq!(exact_number("0.1"), Some(0.1));
    assert_eq!(exact_number("1250.50"), None);
    assert_eq!(exact_number("1e5"), None);
    assert_eq!(exact_number("-3"), None);
    assert_eq!(exact_number("inf"), None);
}

#[test]
fn formula_like_text_is_neutralised_and_restored() {
    for s in ["=1+1", "+33", "-5", "@SUM(A1)", "\tx", "\rx"] {
        assert_eq!(guard_csv(s), format!("'{s}"));
    }
    assert_eq!(guard_csv("safe = text"), "safe = text");
    assert_eq!(clean_text(" '=1+1 "), "=1+1");
    assert_eq!(clean_text("'quoted'"), "'quoted'");
}

#[test]
fn keys_are_checked() {
    assert!(is_id(&id(1)));
    assert!(is_id(&id(1).to_uppercase()));
    assert!(!is_id("0190e5a2-7c1d-7000-8000-00000000000"));
    assert!(!is_id("0190e5a2x7c1d-7000-8000-000000000001"));
    assert!(is_iso_date("2024-02-29"));
    assert!(!is_iso_date("2026-02-29"));
    assert!(!is_iso_date("01/01/2026"));
    assert!(!is_iso_date("2026-13-01"));
    assert!(is_disaggregation_key(""));
    assert!(is_disaggregation_key("sex=female;age_group=age_18_59"));
    assert!(!is_disaggregation_key("female"));
    assert!(!is_disaggregation_key("sex = female"));
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

#[test]
fn xlsx_round_trip_returns_what_was_filled() {
    let bytes = write_xlsx(&template()).unwrap();
    let got = read_xlsx(&bytes).unwrap();
    assert_eq!(summary(&got), expected());
    // Data starts on row 4; Value H, Numerator I, Narrative K.
    assert_eq!(got[0].location, cell("Report", "H4"));
    assert_eq!(got[0].narrative_location, Some(cell("Report", "K4")));
    assert_eq!(got[1].location, cell("Report", "H5"));
    assert_eq!(got[1].narrative_location, None);
    assert_eq!(
        got[2].location,
        cell("Report", "I7"),
        "a percentage is blamed on its numerator"
    );
    assert_eq!(got[5].location, cell("Report", "H10"));
    // The visible Project column is read back with its cell (column A).
    assert_eq!(got[0].project, "P-001");
    assert_eq!(got[1].project_location, Some(cell("Report", "A5")));
}

#[test]
fn csv_round_trip_returns_what_was_filled() {
    let bytes = write_csv(&template()).unwrap();
    assert!(bytes.starts_with(BOM));
    let got = read_csv(&bytes).unwrap();
    assert_eq!(summary(&got), expected());
    assert_eq!(got[0].location, csv_cell(2, "value"));
    assert_eq!(got[0].narrative_location, Some(csv_cell(2, "narrative")));
    assert_eq!(got[2].location, csv_cell(5, "numerator"));
    assert_eq!(got[0].project, "P-001");
    assert_eq!(got[0].project_location, Some(csv_cell(2, "project")));
}

#[test]
fn csv_is_read_without_bom_with_semicolons_and_moved_columns() {
    let text = String::from_utf8(write_csv(&template()).unwrap()).unwrap();
    let plain = text.strip_prefix('\u{feff}').unwrap();
    assert_eq!(summary(&read_csv(plain.as_bytes()).unwrap()), expected());

    // Reordered columns and an extra column, `;`-separated as French Excel writes it.
    let t = format!(
        "note;value;indicator_id;period_start;disaggregation;measure;numerator;denominator;narrative\n\
         x;12;{};{Q1};;number;;;Fine\n\
         ;;{};{Q1};;percentage;3;4;\n",
        id(1),
        id(2)
    );
    let got = read_csv(t.as_bytes()).unwrap();
    assert_eq!(
        summary(&got),
        vec![
            (id(1), Q1, "", "12", Some("Fine")),
            (id(2), Q1, "", "3/4", Some("")),
        ]
    );
    assert_eq!(got[1].location, csv_cell(3, "numerator"));
    // Without a project column, the project reads empty and has no cell.
    assert_eq!(
        (got[0].project.as_str(), got[0].project_location.clone()),
        ("", None)
    );
}

#[test]
fn csv_formulas_are_neutralised_in_the_file() {
    let text = String::from_utf8(write_csv(&template()).unwrap()).unwrap();
    assert!(text.contains(r#""'=HYPERLINK(""http://x"")""#), "{text}");
    assert!(text.contains(",'-5 incidents,"), "{text}");
    assert!(text.contains(",'@team: no activity,"), "{text}");
    assert!(!text.contains(",=HYPERLINK"));
    let header = text.lines().next().unwrap().trim_start_matches('\u{feff}');
    assert_eq!(header, COLUMN_NAMES.join(","));
}

// ---------------------------------------------------------------------------------------------
// The XLSX as written: protection, hidden keys, validation, quote prefix
// ---------------------------------------------------------------------------------------------

/// A minimal inflate (RFC 1951, after zlib's `puff`), to look at the XML inside the XLSX
/// without a zip dependency.
mod inflate {
    struct Bits<'a> {
        data: &'a [u8],
        pos: usize,
        buf: u32,
        count: u32,
    }

    impl Bits<'_> {
        fn take(&mut self, n: u32) -> u32 {
            while self.count < n {
                self.buf |= u32::from(self.data[self.pos]) << self.count;
                self.pos += 1;
                self.count += 8;
            }
            let v = self.buf & ((1u32 << n) - 1);
            self.buf = if n == 32 { 0 } else { self.buf >> n };
            self.count -= n;
            v
        }
    }

    struct Huffman {
        count: [i32; 16],
        symbol: Vec<i32>,
    }

    impl Huffman {
        fn new(lengths: &[u8]) -> Huffman {
            let mut count = [0i32; 16];
            for &l in lengths {
                count[usize::from(l)] += 1;
            }
            let mut offs = [0usize; 16];
            for len in 1..15 {
                offs[len + 1] = offs[len] + count[len] as usize;
            }
            let mut symbol = vec![0; lengths.len()];
            for (sym, &l) in lengths.iter().enumerate() {
                if l != 0 {
                    symbol[offs[usize::from(l)]] = sym as i32;
                    offs[usize::from(l)] += 1;
                }
            }
            count[0] = 0;
            Huffman { count, symbol }
        }

        fn decode(&self, bits: &mut Bits<'_>) -> usize {
            let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
            for len in 1..16 {
                code |= bits.take(1) as i32;
                let count = self.count[len];
                if code - count < first {
                    return self.symbol[(index + (code - first)) as usize] as usize;
                }
                index += count;
                first += count;
                first <<= 1;
                code <<= 1;
            }
            panic!("bad Huffman code");
        }
    }

    const LBASE: [usize; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const LEXT: [u32; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DBASE: [usize; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DEXT: [u32; 30] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
        13, 13,
    ];

    pub fn inflate(data: &[u8]) -> Vec<u8> {
        let mut bits = Bits {
            data,
            pos: 0,
            buf: 0,
            count: 0,
        };
        let mut out = Vec::new();
        loop {
            let last = bits.take(1) == 1;
            match bits.take(2) {
                0 => {
                    bits.buf = 0;
                    bits.count = 0;
                    let p = bits.pos;
                    let len = usize::from(u16::from_le_bytes([data[p], data[p + 1]]));
                    out.extend_from_slice(&data[p + 4..p + 4 + len]);
                    bits.pos = p + 4 + len;
                }
                kind @ (1 | 2) => {
                    let (lit, dist) = if kind == 1 {
                        let mut l = [8u8; 288];
                        l[144..256].fill(9);
                        l[256..280].fill(7);
                        (Huffman::new(&l), Huffman::new(&[5u8; 30]))
                    } else {
                        let nlen = bits.take(5) as usize + 257;
                        let ndist = bits.take(5) as usize + 1;
                        let ncode = bits.take(4) as usize + 4;
                        const ORDER: [usize; 19] = [
                            16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                        ];
                        let mut cl = [0u8; 19];
                        for &o in &ORDER[..ncode] {
                            cl[o] = bits.take(3) as u8;
                        }
                        let code = Huffman::new(&cl);
                        let mut lengths = Vec::with_capacity(nlen + ndist);
                        while lengths.len() < nlen + ndist {
                            match code.decode(&mut bits) {
                                s @ 0..=15 => lengths.push(s as u8),
                                16 => {
                                    let prev = *lengths.last().unwrap();
                                    let n = 3 + bits.take(2) as usize;
                                    lengths.extend(std::iter::repeat_n(prev, n));
                                }
                                17 => {
                                    let n = 3 + bits.take(3) as usize;
                                    lengths.extend(std::iter::repeat_n(0, n));
                                }
                                _ => {
                                    let n = 11 + bits.take(7) as usize;
                                    lengths.extend(std::iter::repeat_n(0, n));
                                }
                            }
                        }
                        (
                            Huffman::new(&lengths[..nlen]),
                            Huffman::new(&lengths[nlen..]),
                        )
                    };
                    loop {
                        let sym = lit.decode(&mut bits);
                        if sym < 256 {
                            out.push(sym as u8);
                        } else if sym == 256 {
                            break;
                        } else {
                            let i = sym - 257;
                            let len = LBASE[i] + bits.take(LEXT[i]) as usize;
                            let d = dist.decode(&mut bits);
                            let back = DBASE[d] + bits.take(DEXT[d]) as usize;
                            for _ in 0..len {
                                out.push(out[out.len() - back]);
                            }
                        }
                    }
                }
                _ => panic!("bad block type"),
            }
            if last {
                return out;
            }
        }
    }
}

/// The content of one file of the zip.
fn unzip(zip: &[u8], name: &str) -> String {
    let mut i = 0;
    while i + 30 <= zip.len() {
        if zip[i..i + 4] != [0x50, 0x4b, 0x03, 0x04] {
            i += 1;
            continue;
        }
        let u16_at = |o: usize| usize::from(u16::from_le_bytes([zip[o], zip[o + 1]]));
        let method = u16_at(i + 8);
        let name_len = u16_at(i + 26);
        let extra_len = u16_at(i + 28);
        let data = i + 30 + name_len + extra_len;
        if &zip[i + 30..i + 30 + name_len] != name.as_bytes() {
            i = data;
            continue;
        }
        assert_eq!(method, 8, "deflated");
        return String::from_utf8(inflate::inflate(&zip[data..])).unwrap();
    }
    panic!("{name} not in the zip");
}

/// For each cell address of the Report sheet: (locked, quote prefix), from the styles.
fn cell_styles(zip: &[u8]) -> HashMap<String, (bool, bool)> {
    let styles = unzip(zip, "xl/styles.xml");
    let xfs = styles
        .split("<cellXfs")
        .nth(1)
        .unwrap()
        .split("</cellXfs>")
        .next()
        .unwrap();
    let xf: Vec<(bool, bool)> = xfs
        .split("<xf ")
        .skip(1)
        .map(|x| {
            (
                !x.contains(r#"locked="0""#),
                x.contains(r#"quotePrefix="1""#),
            )
        })
        .collect();
    let sheet = unzip(zip, "xl/worksheets/sheet1.xml");
    let re = regex::Regex::new(r#"<c r="([A-Z]+[0-9]+)"( s="([0-9]+)")?"#).unwrap();
    re.captures_iter(&sheet)
        .map(|c| {
            let s = c.get(3).map_or(0, |m| m.as_str().parse::<usize>().unwrap());
            (c[1].to_owned(), xf[s])
        })
        .collect()
}

#[test]
fn only_input_cells_of_editable_rows_are_unlocked() {
    let t = template();
    let zip = write_xlsx(&t).unwrap();
    let styles = cell_styles(&zip);
    let locked = |c: &str| styles.get(c).is_none_or(|s| s.0);
    for (i, r) in t.rows.iter().enumerate() {
        let n = i + 4;
        let pct = r.measure == "percentage";
        let total = r.disaggregation.is_empty();
        let want = [
            ("H", r.editable && !pct),
            ("I", r.editable && pct),
            ("J", r.editable && pct),
            ("K", r.editable && total),
        ];
        for (col, unlocked) in want {
            assert_eq!(!locked(&format!("{col}{n}")), unlocked, "{col}{n} of {r:?}");
        }
        for col in ["A", "B", "C", "D", "E", "F", "G", "L", "M", "N", "O", "P"] {
            assert!(locked(&format!("{col}{n}")), "{col}{n}");
        }
    }
    // Concrete spot checks against the list in rows().
    assert!(!locked("H4") && !locked("K4") && locked("K5"));
    assert!(locked("H7") && !locked("I7") && !locked("J7"));
    assert!(locked("H11") && locked("K11"), "the approved row is locked");
    // Text that looks like a formula is written with a quote prefix, other text is not.
    assert!(styles["H9"].1, "=HYPERLINK in Value");
    assert!(styles["K9"].1, "-5 in Narrative");
    assert!(!styles["C4"].1);

    let sheet = unzip(&zip, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<sheetProtection"), "protected");
    // The five key columns (M..Q = 13..17) are hidden, not deleted.
    assert!(sheet.contains(r#"<col min="13" max="13""#) && sheet.contains(r#"hidden="1""#));
    // (Adjacent columns of the same width share one <col min max> element.)
    let cols = regex::Regex::new(r#"<col min="(\d+)" max="(\d+)"[^>]*hidden="1""#).unwrap();
    let hidden: Vec<(u32, u32)> = cols
        .captures_iter(&sheet)
        .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap()))
        .collect();
    for n in 13..=17 {
        assert!(
            hidden.iter().any(|&(lo, hi)| lo <= n && n <= hi),
            "column {n} hidden: {hidden:?}"
        );
    }
    assert!(hidden.iter().all(|&(lo, _)| lo >= 13), "{hidden:?}");
    assert!(sheet.contains(r#"<row r="3""#));
    assert!(
        regex::Regex::new(r#"<row r="3"[^>]*hidden="1""#)
            .unwrap()
            .is_match(&sheet)
    );
    assert!(sheet.contains(r#"<pane ySplit="3""#), "frozen header");
    // Decimal ≥ 0 validation on the figures of editable rows: numbers in H, counts in I:J.
    let dv = regex::Regex::new(r#"<dataValidation type="decimal"[^>]*sqref="([^"]+)""#).unwrap();
    assert!(sheet.contains(r#"operator="greaterThanOrEqual""#));
    let mut sqrefs: Vec<&str> = dv
        .captures_iter(&sheet)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    sqrefs.sort_unstable();
    assert_eq!(
        sqrefs,
        ["H10", "H12:H15", "H17", "H4:H6", "I7:J8"],
        "{sheet}"
    );

    let workbook = unzip(&zip, "xl/workbook.xml");
    assert!(workbook.contains(r#"name="Report""#) && workbook.contains(r#"name="Instructions""#));
    let core = unzip(&zip, "docProps/core.xml");
    assert!(core.contains("<dc:title>Project P-001 — 2026-Q1</dc:title>"));
}

#[test]
fn instructions_and_translated_titles_are_written() {
    let mut t = template();
    t.headers.value = "Valeur".into();
    t.headers.report_sheet = "Rapport".into();
    t.headers.instructions_sheet = "Mode d'emploi".into();
    t.instructions = vec!["Saisissez les valeurs.".into(), "=pas une formule".into()];
    let bytes = write_xlsx(&t).unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(wb.sheet_names(), ["Rapport", "Mode d'emploi"]);
    let report = wb.worksheet_range("Rapport").unwrap();
    assert_eq!(
        report.get_value((1, 7)),
        Some(&Data::String("Valeur".into()))
    );
    assert_eq!(
        report.get_value((2, 7)),
        Some(&Data::String("value".into()))
    );
    let ins = wb.worksheet_range("Mode d'emploi").unwrap();
    assert_eq!(
        ins.get_value((2, 0)),
        Some(&Data::String("Saisissez les valeurs.".into()))
    );
    assert_eq!(
        ins.get_value((3, 0)),
        Some(&Data::String("=pas une formule".into()))
    );
    // The translated workbook reads back the same: columns are found by their machine names.
    let got = read_xlsx(&bytes).unwrap();
    assert_eq!(summary(&got), expected());
    assert_eq!(got[0].location, cell("Rapport", "H4"));
}

#[test]
fn writing_refuses_rows_the_reader_could_not_key() {
    let mut t = template();
    t.rows[3].indicator_id = "42".into();
    let e = write_xlsx(&t).unwrap_err();
    assert!(
        matches!(
            e,
            SheetError::Row {
                index: 3,
                field: "indicator_id",
                ..
            }
        ),
        "{e}"
    );
    let mut t = template();
    t.rows[5].measure = "ratio".into();
    assert!(matches!(
        write_csv(&t),
        Err(SheetError::Row {
            index: 5,
            field: "measure",
            ..
        })
    ));
    let mut t = template();
    t.rows.push(t.rows[1].clone());
    let e = write_xlsx(&t).unwrap_err();
    assert!(
        matches!(
            e,
            SheetError::Duplicate {
                index: 14,
                first: 1
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("row 1"));
}

#[test]
fn an_empty_template_is_written_and_read() {
    let t = Template {
        title: String::new(),
        rows: vec![],
        instructions: vec![],
        headers: Headers::default(),
    };
    assert_eq!(read_xlsx(&write_xlsx(&t).unwrap()).unwrap(), vec![]);
    assert_eq!(read_csv(&write_csv(&t).unwrap()).unwrap(), vec![]);
}

// ---------------------------------------------------------------------------------------------
// Filled files: a user's edits, simulated by rewriting the template's cells
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum V {
    S(String),
    N(f64),
    Date,
}

fn report_cells(bytes: &[u8]) -> BTreeMap<(u32, u16), V> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("Report").unwrap();
    let mut out = BTreeMap::new();
    for (r, c, v) in range.used_cells() {
        let (r0, c0) = range.start().unwrap();
        let pos = (r0 + r as u32, (c0 as usize + c) as u16);
        match v {
            Data::String(s) => out.insert(pos, V::S(s.clone())),
            Data::Float(x) => out.insert(pos, V::N(*x)),
            other => panic!("unexpected {other:?}"),
        };
    }
    out
}

/// A workbook with one sheet holding `cells`, as a user's spreadsheet program might save it.
fn workbook(sheet: &str, cells: &BTreeMap<(u32, u16), V>) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    for (&(r, c), v) in cells {
        match v {
            V::S(s) => ws.write_string(r, c, s).map(|_| ()),
            V::N(x) => ws.write_number(r, c, *x).map(|_| ()),
            V::Date => ws
                .write_datetime_with_format(
                    r,
                    c,
                    rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 3, 4).unwrap(),
                    &Format::new().set_num_format("dd/mm/yyyy"),
                )
                .map(|_| ()),
        }
        .unwrap();
    }
    wb.save_to_buffer().unwrap()
}

/// Column letters → index.
fn col(letter: &str) -> u16 {
    u16::from(letter.as_bytes()[0] - b'A')
}

fn filled(edit: impl FnOnce(&mut BTreeMap<(u32, u16), V>)) -> Vec<u8> {
    let mut cells = report_cells(&write_xlsx(&template()).unwrap());
    edit(&mut cells);
    workbook("Report", &cells)
}

#[test]
fn typed_values_are_read_exactly() {
    let bytes = filled(|c| {
        // Row 6 (sex=male, was empty): a typed figure; row 4: a new total.
        c.insert((5, col("H")), V::N(0.1 + 0.2));
        c.insert((3, col("H")), V::N(1e-4));
        // Row 7, the percentage total: new counts.
        c.insert((6, col("I")), V::N(33.0));
        c.insert((6, col("J")), V::N(99.0));
        // Free text in a figure cell is returned as typed, trimmed, for the store to refuse.
        c.insert((14, col("H")), V::S("  about 40  ".into()));
        // A narrative typed with the apostrophe Excel users put before "=".
        c.insert((3, col("K")), V::S("'=see annex".into()));
    });
    let got = read_xlsx(&bytes).unwrap();
    let find = |i: u32, dis: &str| {
        got.iter()
            .find(|f| f.indicator_id == id(i) && f.disaggregation == dis && f.period_start == Q1)
            .unwrap()
    };
    assert_eq!(find(1, "").value, "0.0001");
    assert_eq!(find(1, "").narrative.as_deref(), Some("=see annex"));
    assert_eq!(find(1, "sex=male").value, "0.3");
    assert_eq!(find(1, "sex=male").location, cell("Report", "H6"));
    assert_eq!(find(2, "").value, "33/99");
    assert_eq!(find(8, "").value, "about 40");
}

#[test]
fn every_bad_cell_is_reported_and_nothing_returned() {
    let bytes = filled(|c| {
        // Numerator without denominator (row 7) and denominator without numerator (row 8).
        c.insert((6, col("I")), V::N(5.0));
        c.remove(&(6, col("J")));
        c.remove(&(7, col("I")));
        // A date where a figure was typed (row 12).
        c.insert((11, col("H")), V::Date);
        // A narrative on a disaggregated row (row 5).
        c.insert((4, col("K")), V::S("why".into()));
        // A count on a number indicator (row 4).
        c.insert((3, col("J")), V::N(3.0));
        // A value typed in a row added below the template.
        c.insert((40, col("H")), V::N(9.0));
    });
    let errors = read_xlsx(&bytes).unwrap_err();
    let at: Vec<&str> = errors.iter().map(|e| e.location.cell.as_str()).collect();
    assert_eq!(at, ["J4", "K5", "J7", "I8", "H12", "H41"], "{errors:#?}");
    assert!(errors.iter().all(|e| e.location.sheet == "Report"));
    assert!(errors[2].message.contains("denominator") && errors[2].message.contains('5'));
    assert!(errors[4].message.contains("date"), "{}", errors[4].message);
    assert!(errors[5].message.contains("without an indicator id"));
}

#[test]
fn a_removed_key_column_is_refused_with_the_header_row() {
    let bytes = filled(|c| {
        c.retain(|&(_, cc), _| cc != col("N"));
    });
    let errors = read_xlsx(&bytes).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].location, cell("Report", "3:3"));
    assert!(
        errors[0].message.contains("\"period_start\""),
        "{}",
        errors[0].message
    );

    // Without indicator_id.
    let bytes = filled(|c| c.retain(|&(_, cc), _| cc != col("M")));
    let errors = read_xlsx(&bytes).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].location, cell("Report", "3:3"));
    assert!(errors[0].message.contains("\"indicator_id\""));

    // A sheet without the hidden header row at all.
    let bytes = filled(|c| c.retain(|&(r, _), _| r != 2));
    let errors = read_xlsx(&bytes).unwrap_err();
    assert_eq!(errors[0].location, cell("Report", "A1"));
    assert!(errors[0].message.contains("hidden header row"));
}

#[test]
fn a_duplicated_row_or_changed_key_is_refused_with_its_cell() {
    let bytes = filled(|c| {
        // Row 5 copied over row 6 (keys included), and a broken id on row 9.
        for cc in 0..16 {
            match c.get(&(4, cc)).cloned() {
                Some(v) => c.insert((5, cc), v),
                None => c.remove(&(5, cc)),
            };
        }
        c.insert((8, col("M")), V::S("indicator-3".into()));
        c.insert((9, col("N")), V::S("01/01/2026".into()));
        c.insert((10, col("P")), V::S("ratio".into()));
    });
    let errors = read_xlsx(&bytes).unwrap_err();
    let at: Vec<&str> = errors.iter().map(|e| e.location.cell.as_str()).collect();
    assert_eq!(at, ["M6", "M9", "N10", "P11"], "{errors:#?}");
    assert!(errors[0].message.contains("row 5"), "{}", errors[0].message);
    assert!(errors[1].message.contains("\"indicator-3\""));
    assert!(errors[2].message.contains("local date"));
}

#[test]
fn a_file_that_is_not_xlsx_is_refused() {
    let errors = read_xlsx(b"not a zip").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.starts_with("expected an XLSX workbook"));
    assert_eq!(errors[0].location.to_string(), "the file");
}

// ---------------------------------------------------------------------------------------------
// CSV errors
// ---------------------------------------------------------------------------------------------

#[test]
fn csv_errors_name_row_and_column() {
    let h = COLUMN_NAMES.join(",");
    let line = |ind: u32, dis: &str, measure: &str, value: &str, n: &str, d: &str, narr: &str| {
        format!(
            ",,,,,,,{value},{n},{d},{narr},,{},{Q1},{dis},{measure}\n",
            id(ind)
        )
    };
    let text = format!(
        "{h}\n{}{}{}{}{}",
        line(1, "", "number", "10", "", "", ""),
        line(2, "", "percentage", "", "4", "", ""),
        line(2, "sex=female", "percentage", "1/2", "1", "2", ""),
        line(1, "", "number", "11", "", "", ""),
        line(3, "", "number", "", "", "", "") + "\n,,,,,,,5\n",
    );
    let errors = read_csv(text.as_bytes()).unwrap_err();
    let at: Vec<String> = errors.iter().map(|e| e.location.to_string()).collect();
    assert_eq!(
        at,
        [
            "row 3, column denominator",
            "row 4, column value",
            "row 5, column indicator_id",
            "row 8, column value",
        ],
        "{errors:#?}"
    );
    assert!(errors[2].message.contains("row 2"));
    // A narrative over several lines is one spreadsheet row.
    let multi = text.replacen(",,,,,,,10,,,,", ",,,,,,,10,,,\"two\nlines\",", 1);
    assert_ne!(multi, text);
    assert_eq!(read_csv(multi.as_bytes()).unwrap_err(), errors);
    // The same with Windows line ends.
    let crlf = read_csv(text.replace('\n', "\r\n").as_bytes()).unwrap_err();
    assert_eq!(crlf, errors);

    // A percentage typed as n/d in Value is accepted in CSV.
    let text = format!("{h}\n{}", line(2, "", "percentage", "30/120", "", "", ""));
    assert_eq!(read_csv(text.as_bytes()).unwrap()[0].value, "30/120");

    let mut latin1 = format!("{h}\n").into_bytes();
    latin1.extend(line(1, "", "qualitative", "caf\u{e9}", "", "", "").bytes());
    let bad = latin1.windows(2).position(|w| w == [0xc3, 0xa9]).unwrap();
    latin1.splice(bad..bad + 2, [0xe9]);
    let errors = read_csv(&latin1).unwrap_err();
    assert_eq!(errors[0].location, csv_cell(2, "value"));
    assert!(errors[0].message.contains("UTF-8"));

    let errors = read_csv(b"a,b\n1,2\n").unwrap_err();
    assert_eq!(errors[0].location, cell(CSV_SHEET, "row 1"));
    let errors = read_csv(b"\xff\xfea\x00").unwrap_err();
    assert!(errors[0].message.contains("UTF-16"));

    // A missing required column.
    let h2 = h.replace(",narrative,", ",notes,");
    let errors = read_csv(format!("{h2}\n").as_bytes()).unwrap_err();
    assert_eq!(errors[0].location, cell(CSV_SHEET, "row 1"));
    assert!(errors[0].message.contains("\"narrative\""));
}

#[test]
fn a_large_office_template_round_trips() {
    // 100 projects × 10 indicators × 4 rows (total + 3 options) = 4,000 rows.
    const PROJECTS: u32 = 100;
    const N: usize = PROJECTS as usize * 40;
    let mut rows = Vec::new();
    for p in 0..PROJECTS {
        for i in 0..10u32 {
            let ind = p * 10 + i;
            let measure = if i % 3 == 0 { "percentage" } else { "number" };
            for (k, dis) in ["", "sex=female", "sex=male", "sex=other_unknown"]
                .iter()
                .enumerate()
            {
                let value = if measure == "percentage" {
                    format!("{k}/{}", ind + 10)
                } else {
                    format!("{}.{k}", ind + 1)
                };
                let mut r = row(ind, measure, Q1, dis, &value, "", i != 9);
                r.project_code = format!("P-{p:04}");
                rows.push(r);
            }
        }
    }
    let t = Template {
        title: "Office".into(),
        rows,
        instructions: default_instructions(),
        headers: Headers::default(),
    };
    let clock = std::time::Instant::now();
    let xlsx = write_xlsx(&t).unwrap();
    let written = clock.elapsed();
    let got = read_xlsx(&xlsx).unwrap();
    let read = clock.elapsed() - written;
    let csv = write_csv(&t).unwrap();
    let from_csv = read_csv(&csv).unwrap();
    eprintln!(
        "{N} rows: XLSX {} KB written in {written:?}, read in {read:?}; CSV {} KB; total {:?}",
        xlsx.len() / 1024,
        csv.len() / 1024,
        clock.elapsed()
    );
    assert_eq!(got.len(), N);
    assert_eq!(got, {
        // Same values; CSV locations differ.
        let mut v = from_csv.clone();
        for (a, b) in v.iter_mut().zip(&got) {
            a.location = b.location.clone();
            a.narrative_location = b.narrative_location.clone();
            a.project_location = b.project_location.clone();
        }
        v
    });
    assert_eq!(got[4].value, "2.0", "kept as typed text");
    assert_eq!(got[5].value, "2.1");
    assert_eq!(got[1].value, "1/10");
    assert_eq!(got[N - 1].value, format!("3/{}", PROJECTS * 10 - 1 + 10));
    assert_eq!(got[N - 1].location, cell("Report", &format!("I{}", N + 3)));
}

// ---------------------------------------------------------------------------------------------
// Combinations
// ---------------------------------------------------------------------------------------------

/// The nine keys of sex × age group, as the store writes them (categories sorted).
fn nine_keys() -> Vec<String> {
    let mut out = Vec::new();
    for sex in ["female", "male", "other_unknown"] {
        for age in ["age_0_17", "age_18_59", "age_60_plus"] {
            out.push(format!("age_group={age};sex={sex}"));
        }
    }
    out
}

/// A number indicator (1) and a percentage indicator (2) disaggregated by sex × age group:
/// per period the total, then the nine combinations, Q1 filled, Q2 empty.
fn combination_template() -> Template {
    let mut rows = Vec::new();
    for (ind, measure) in [(1, "number"), (2, "percentage")] {
        for start in [Q1, Q2] {
            let value = |i: usize| match (start, measure) {
                (Q2, _) => String::new(),
                (_, "number") => (i * 10).to_string(),
                _ => format!("{i}/{}", i * 2 + 1),
            };
            rows.push(row(ind, measure, start, "", &value(45), "", true));
            for (i, k) in nine_keys().iter().enumerate() {
                rows.push(row(ind, measure, start, k, &value(i + 1), "", true));
            }
        }
    }
    Template {
        title: "combinations".into(),
        rows,
        instructions: default_instructions(),
        headers: Headers::default(),
    }
}

#[test]
fn a_template_per_combination_round_trips_through_xlsx_and_csv() {
    let t = combination_template();
    assert_eq!(t.rows.len(), 2 * 2 * 10, "indicator × period × (total + 9)");
    let mut want: Vec<(String, &str, String, String)> = Vec::new();
    for (ind, pct) in [(1, false), (2, true)] {
        let value = |i: usize| {
            if pct {
                format!("{i}/{}", i * 2 + 1)
            } else {
                (i * 10).to_string()
            }
        };
        want.push((id(ind), Q1, String::new(), value(45)));
        for (i, k) in nine_keys().into_iter().enumerate() {
            want.push((id(ind), Q1, k, value(i + 1)));
        }
    }
    let got_of = |v: Vec<FilledValue>| -> Vec<(String, &str, String, String)> {
        v.into_iter()
            .filter(|f| !f.value.is_empty())
            .map(|f| {
                (
                    f.indicator_id,
                    if f.period_start == Q1 { Q1 } else { Q2 },
                    f.disaggregation,
                    f.value,
                )
            })
            .collect()
    };
    let xlsx = read_xlsx(&write_xlsx(&t).unwrap()).unwrap();
    assert_eq!(xlsx[1].location, cell("Report", "H5"), "first combination");
    assert_eq!(got_of(xlsx), want);
    let csv = read_csv(&write_csv(&t).unwrap()).unwrap();
    assert_eq!(got_of(csv), want);

    // Figures typed in Q2's combinations come back under their keys; a narrative typed on a
    // combination row is refused at its cell.
    let mut cells = report_cells(&write_xlsx(&t).unwrap());
    // Rows (from 0): 3 Q1 total of indicator 1, 13 Q2 total, 14.. its combinations.
    cells.insert((13, col("H")), V::N(3.0));
    cells.insert((15, col("H")), V::N(2.0));
    cells.insert((22, col("H")), V::N(1.0));
    let got = read_xlsx(&workbook("Report", &cells)).unwrap();
    let q2: Vec<(&str, &str)> = got
        .iter()
        .filter(|f| f.period_start == Q2 && !f.value.is_empty())
        .map(|f| (f.disaggregation.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(
        q2,
        [
            ("", "3"),
            ("age_group=age_18_59;sex=female", "2"),
            ("age_group=age_60_plus;sex=other_unknown", "1")
        ]
    );
    cells.insert((16, col("K")), V::S("why".into()));
    let errors = read_xlsx(&workbook("Report", &cells)).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].location, cell("Report", "K17"));
}

// ---------------------------------------------------------------------------------------------
// The report version in the hidden key columns
// ---------------------------------------------------------------------------------------------

fn versioned() -> Template {
    let mut t = template();
    for (i, r) in t.rows.iter_mut().enumerate() {
        // Rows 0-1 of indicator 1 at version 7, row 3 without a report yet, the rest unknown.
        r.report_version = match i {
            0 | 1 => Some(7),
            3 => Some(0),
            _ => None,
        };
    }
    t
}

fn versions(got: &[FilledValue]) -> Vec<(String, String, Option<i64>)> {
    got.iter()
        .map(|f| {
            (
                f.indicator_id.clone(),
                f.disaggregation.clone(),
                f.report_version,
            )
        })
        .collect()
}

#[test]
fn the_report_version_round_trips_through_xlsx_and_csv() {
    let want = |got: &[FilledValue]| {
        let v = versions(got);
        assert_eq!(v[0], (id(1), String::new(), Some(7)));
        assert_eq!(v[1], (id(1), "sex=female".to_owned(), Some(7)));
        assert_eq!(v[2], (id(2), String::new(), Some(0)));
        assert!(v[3..].iter().all(|(_, _, v)| v.is_none()), "{v:?}");
    };
    let xlsx = write_xlsx(&versioned()).unwrap();
    // Hidden column Q, written as a number.
    let cells = report_cells(&xlsx);
    assert!(matches!(cells.get(&(2, col("Q"))), Some(V::S(s)) if s == "report_version"));
    assert!(matches!(cells.get(&(3, col("Q"))), Some(V::N(x)) if *x == 7.0));
    assert!(!cells.contains_key(&(7, col("Q"))), "unknown: empty");
    want(&read_xlsx(&xlsx).unwrap());
    let csv = write_csv(&versioned()).unwrap();
    want(&read_csv(&csv).unwrap());
}

#[test]
fn a_template_without_the_report_version_column_reads_as_unknown() {
    // An XLSX made before the column existed.
    let bytes = {
        let mut cells = report_cells(&write_xlsx(&versioned()).unwrap());
        cells.retain(|&(_, c), _| c != col("Q"));
        workbook("Report", &cells)
    };
    let got = read_xlsx(&bytes).unwrap();
    assert_eq!(got.len(), expected().len());
    assert!(got.iter().all(|f| f.report_version.is_none()));
    // A CSV of the 16 old columns.
    let text = String::from_utf8(write_csv(&versioned()).unwrap()).unwrap();
    let old: String = text
        .lines()
        .map(|l| {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(l.as_bytes());
            let rec = r.records().next().unwrap().unwrap();
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(rec.iter().take(16)).unwrap();
            String::from_utf8(w.into_inner().unwrap()).unwrap()
        })
        .collect();
    assert!(!old.contains("report_version"));
    let got = read_csv(old.as_bytes()).unwrap();
    assert_eq!(got.len(), expected().len());
    assert!(got.iter().all(|f| f.report_version.is_none()));
}

#[test]
fn a_changed_report_version_is_refused_with_its_cell() {
    let bytes = {
        let mut cells = report_cells(&write_xlsx(&versioned()).unwrap());
        cells.insert((3, col("Q")), V::S("seven".into()));
        cells.insert((4, col("Q")), V::N(-1.0));
        workbook("Report", &cells)
    };
    let errors = read_xlsx(&bytes).unwrap_err();
    let at: Vec<&str> = errors.iter().map(|e| e.location.cell.as_str()).collect();
    assert_eq!(at, ["Q4", "Q5"], "{errors:#?}");
    assert!(
        errors[0].message.contains("\"seven\""),
        "{}",
        errors[0].message
    );
}
