//! Exchange-rate files: `currency,date,usd_per_unit`, read all or nothing.

use super::{Currency, ExchangeRate, rate_in_range};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use time::Date;
use time::macros::format_description;

/// How many problems a refused rate file lists; the rest are counted.
pub const MAX_LISTED_PROBLEMS: usize = 100;

const RATE_COLUMNS: [&str; 3] = ["currency", "date", "usd_per_unit"];

/// One wrong field of a rate file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// The line of the file, the header being line 1.
    pub row: u64,
    pub field: &'static str,
    pub expected: String,
    pub found: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {}, {}: expected {}, found {:?}",
            self.row, self.field, self.expected, self.found
        )
    }
}

/// Why a rate file was refused. Nothing from a refused file is imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateCsvError {
    #[error("{file}, row 1: expected the header currency,date,usd_per_unit, found {found:?}")]
    Header { file: String, found: String },
    #[error("{file}: the file could not be read: {message}")]
    Unreadable { file: String, message: String },
    #[error("{}", rows_message(file, problems, *more))]
    Rows {
        file: String,
        /// The first [`MAX_LISTED_PROBLEMS`] problems, in file order.
        problems: Vec<RowProblem>,
        /// How many more problems there were.
        more: usize,
    },
}

fn rows_message(file: &str, problems: &[RowProblem], more: usize) -> String {
    let total = problems.len() + more;
    let noun = if total == 1 { "problem" } else { "problems" };
    let mut out = format!("{file}: {total} {noun}, nothing was imported:");
    for problem in problems {
        out.push_str(&format!("\n  {file}, {problem}"));
    }
    if more > 0 {
        out.push_str(&format!("\n  … and {more} more"));
    }
    out
}

pub(super) fn parse(
    file: &str,
    input: impl std::io::Read,
) -> Result<Vec<ExchangeRate>, RateCsvError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let unreadable = |e: csv::Error| RateCsvError::Unreadable {
        file: file.to_owned(),
        message: e.to_string(),
    };
    let header = reader.byte_headers().map_err(unreadable)?.clone();
    let names: Vec<String> = header
        .iter()
        .map(|h| {
            String::from_utf8_lossy(h)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_ascii_lowercase()
        })
        .collect();
    // Column positions of currency, date and usd_per_unit, in any order.
    let columns: Option<Vec<usize>> = RATE_COLUMNS
        .iter()
        .map(|c| names.iter().position(|n| n == c))
        .collect();
    let columns = match columns {
        Some(columns) if names.len() == RATE_COLUMNS.len() => columns,
        _ => {
            return Err(RateCsvError::Header {
                file: file.to_owned(),
                found: names.join(","),
            });
        }
    };

    let mut rates = Vec::new();
    let mut problems = Vec::new();
    let mut more = 0;
    let mut first_row_of: HashMap<(Currency, Date), u64> = HashMap::new();
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).map_err(unreadable)? {
        let row = record.position().map_or(0, |p| p.line());
        let mut report = |field: &'static str, expected: String, found: &str| {
            if problems.len() < MAX_LISTED_PROBLEMS {
                problems.push(RowProblem {
                    row,
                    field,
                    expected,
                    found: found.to_owned(),
                });
            } else {
                more += 1;
            }
        };
        if record.len() != RATE_COLUMNS.len() {
            let found: Vec<_> = record.iter().map(String::from_utf8_lossy).collect();
            let found = found.join(",");
            report(
                "row",
                "3 fields: currency,date,usd_per_unit".to_owned(),
                &found,
            );
            continue;
        }
        let field = |name: usize| {
            let bytes = &record[columns[name]];
            std::str::from_utf8(bytes)
                .map(|s| s.trim().to_owned())
                .map_err(|_| String::from_utf8_lossy(bytes).into_owned())
        };
        let (currency, date, rate) = match (field(0), field(1), field(2)) {
            (Ok(c), Ok(d), Ok(r)) => (c, d, r),
            (c, d, r) => {
                for (name, value) in RATE_COLUMNS.into_iter().zip([c, d, r]) {
                    if let Err(found) = value {
                        report(name, "UTF-8 text".to_owned(), &found);
                    }
                }
                continue;
            }
        };

        let currency_value = Currency::parse(&currency)
            .map_err(|_| "an active ISO 4217 currency code like USD, EUR or XOF".to_owned());
        let date_value = Date::parse(&date, format_description!("[year]-[month]-[day]"))
            .map_err(|_| "a date like 2026-03-01 (YYYY-MM-DD)".to_owned());
        let rate_value = parse_rate(&rate, currency_value.as_ref().ok().copied());
        if let Err(expected) = &currency_value {
            report("currency", expected.clone(), &currency);
        }
        if let Err(expected) = &date_value {
            report("date", expected.clone(), &date);
        }
        if let Err(expected) = &rate_value {
            report("usd_per_unit", expected.clone(), &rate);
        }
        let (Ok(currency_value), Ok(effective), Ok(usd_per_unit)) =
            (currency_value, date_value, rate_value)
        else {
            continue;
        };
        if let Some(&first) = first_row_of.get(&(currency_value, effective)) {
            report(
                "date",
                format!(
                    "one rate per currency and date (row {first} already gives {currency_value} \
                     from {effective})"
                ),
                &date,
            );
            continue;
        }
        first_row_of.insert((currency_value, effective), row);
        rates.push(ExchangeRate {
            currency: currency_value,
            effective,
            usd_per_unit,
        });
    }
    if problems.is_empty() {
        Ok(rates)
    } else {
        Err(RateCsvError::Rows {
            file: file.to_owned(),
            problems,
            more,
        })
    }
}

fn parse_rate(raw: &str, currency: Option<Currency>) -> Result<Decimal, String> {
    let expected = "a number of US dollars per unit above 0 and below 1000000, like 0.00165";
    let plain = !raw.is_empty()
        && raw.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && raw.bytes().filter(|&b| b == b'.').count() <= 1
        && !raw.starts_with('.')
        && !raw.ends_with('.');
    let rate = match Decimal::from_str_exact(raw) {
        Ok(rate) if plain && rate_in_range(rate) => rate,
        _ => return Err(expected.to_owned()),
    };
    if currency.is_some_and(Currency::is_usd) && rate != Decimal::ONE {
        return Err("1 (USD is the base currency)".to_owned());
    }
    Ok(rate)
}
