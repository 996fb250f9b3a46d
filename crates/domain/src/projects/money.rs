//! Money and exchange rates: exact decimal amounts in ISO 4217 currencies, and their value in
//! US dollars on a given date.
//!
//! Amounts are `rust_decimal::Decimal`, never floating point. Conversions keep full precision;
//! only display rounds (to cents, with [`round_usd`] / [`format_usd`]), so a sum of converted
//! amounts equals the converted sum.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;
use time::Date;

/// The active ISO 4217 currencies, with their names and minor units.
pub const CURRENCIES_CSV: &str = include_str!("../../../../data/currencies.csv");

/// The constructors refuse amounts from this (10^18) up: no budget comes near it, and with rates
/// below [`MAX_USD_PER_UNIT`] every conversion then fits in a `Decimal`.
const MAX_AMOUNT: Decimal = Decimal::from_parts(0xA764_0000, 0x0DE0_B6B3, 0, false, 0);
/// Rates must stay below a million US dollars per unit: no currency comes near it, so a larger
/// figure is a mistake (typically units per dollar instead of dollars per unit).
const MAX_USD_PER_UNIT: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

// Dates travel as `2026-03-01` in files and JSON.
time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

// ---------------------------------------------------------------------------------------------
// Currency

#[derive(Debug)]
struct CurrencyInfo {
    code: String,
    name: String,
    minor_units: u32,
}

static CURRENCIES: LazyLock<Vec<CurrencyInfo>> = LazyLock::new(|| {
    parse_currencies("data/currencies.csv", CURRENCIES_CSV)
        .expect("the shipped currencies.csv is valid (checked by a test)")
});

#[derive(Deserialize)]
struct CurrencyRow {
    code: String,
    name: String,
    minor_units: String,
}

fn parse_currencies(file: &str, text: &str) -> Result<Vec<CurrencyInfo>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut list = Vec::new();
    let mut seen = HashSet::new();
    for (i, row) in reader.deserialize::<CurrencyRow>().enumerate() {
        // Row 1 is the header.
        let at = format!("{file}, row {}", i + 2);
        let row = row.map_err(|e| format!("{at}: {e}"))?;
        if row.code.len() != 3 || !row.code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "{at}, code: expected three capital letters, found {:?}",
                row.code
            ));
        }
        let minor_units = match row.minor_units.parse::<u32>() {
            Ok(n) if n <= 4 => n,
            _ => {
                return Err(format!(
                    "{at}, minor_units: expected a number from 0 to 4, found {:?}",
                    row.minor_units
                ));
            }
        };
        if row.name.trim().is_empty() {
            return Err(format!(
                "{at}, name: expected the currency's name, found nothing"
            ));
        }
        if !seen.insert(row.code.clone()) {
            return Err(format!("{at}, code: {} is listed twice", row.code));
        }
        list.push(CurrencyInfo {
            code: row.code,
            name: row.name,
            minor_units,
        });
    }
    Ok(list)
}

/// An active ISO 4217 currency, e.g. `USD`. Only the codes in `data/currencies.csv` exist.
#[derive(Clone, Copy)]
pub struct Currency(&'static CurrencyInfo);

impl Currency {
    /// Accepts any case (`usd` → `USD`) and refuses codes that are not active ISO 4217
    /// currencies (funds, metals and testing codes included).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "expected a three-letter ISO 4217 currency code like USD, found {raw:?}"
            ));
        }
        CURRENCIES
            .iter()
            .find(|c| c.code == code)
            .map(Currency)
            .ok_or_else(|| format!("{code} is not an active ISO 4217 currency code"))
    }

    /// The US dollar, in which limits are compared.
    pub fn usd() -> Self {
        Self::parse("USD").expect("USD is in currencies.csv (checked by a test)")
    }

    /// Every known currency, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().map(Currency)
    }

    pub fn code(self) -> &'static str {
        &self.0.code
    }

    /// The ISO 4217 name, e.g. "Swiss Franc".
    pub fn name(self) -> &'static str {
        &self.0.name
    }

    /// Decimal places of the currency: 2 for USD, 0 for JPY, 3 for KWD.
    pub fn minor_units(self) -> u32 {
        self.0.minor_units
    }

    pub fn is_usd(self) -> bool {
        self.code() == "USD"
    }
}

impl PartialEq for Currency {
    fn eq(&self, other: &Self) -> bool {
        self.code() == other.code()
    }
}

impl Eq for Currency {}

impl Hash for Currency {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.code().hash(state);
    }
}

impl PartialOrd for Currency {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Currency {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.code().cmp(other.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Currency::parse(&raw).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------------------------
// Money

/// An exact amount in a currency.
///
/// The constructors ([`Money::parse`], [`Money::new`], …) refuse more decimals than the
/// currency has and keep the amount at the currency's scale, so `1250.5 USD` is stored and
/// shown as `1,250.50 USD`. The fields are public for reading, and for values the code computes
/// itself, such as an unrounded US-dollar total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "MoneyFields", into = "MoneyFields")]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

/// What was wrong with an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("expected an amount like 1250.50, found {found:?}")]
    NotAnAmount { found: String },
    #[error("{currency} amounts have {}, found {found:?}", decimals(*minor_units))]
    TooManyDecimals {
        currency: Currency,
        minor_units: u32,
        found: String,
    },
    #[error("expected an amount of zero or more, found {found:?}")]
    Negative { found: String },
    #[error("expected an amount below 1,000,000,000,000,000,000, found {found:?}")]
    TooLarge { found: String },
    #[error("{0}")]
    Currency(String),
    #[error("cannot add {right} to {left}: convert one of them first")]
    CurrencyMismatch { left: Currency, right: Currency },
}

fn decimals(minor_units: u32) -> String {
    match minor_units {
        0 => "no decimals".to_owned(),
        1 => "at most 1 decimal".to_owned(),
        n => format!("at most {n} decimals"),
    }
}

impl Money {
    /// Parses an amount of zero or more, as typed in a form or a file: `1250.50` or
    /// `1,250.50`. Trailing zeros past the currency's decimals are accepted (`1000.00 JPY`).
    pub fn parse(amount: &str, currency: &str) -> Result<Self, MoneyError> {
        let money = Self::parse_signed(amount, currency)?;
        if money.amount.is_sign_negative() {
            return Err(MoneyError::Negative {
                found: amount.to_owned(),
            });
        }
        Ok(money)
    }

    /// Like [`Money::parse`], but also accepts negative amounts (`-1250.50`), for changes
    /// such as a budget revision that lowers a line.
    pub fn parse_signed(amount: &str, currency: &str) -> Result<Self, MoneyError> {
        let currency = Currency::parse(currency).map_err(MoneyError::Currency)?;
        let value = parse_amount(amount, currency)?;
        Self::checked(value, currency, amount)
    }

    /// An amount of zero or more from a decimal already at hand.
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative {
                found: amount.to_string(),
            });
        }
        Self::new_signed(amount, currency)
    }

    /// Like [`Money::new`], but also accepts negative amounts.
    pub fn new_signed(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        if amount.normalize().scale() > currency.minor_units() {
            return Err(MoneyError::TooManyDecimals {
                currency,
                minor_units: currency.minor_units(),
                found: amount.to_string(),
            });
        }
        Self::checked(amount, currency, &amount.to_string())
    }

    pub fn zero(currency: Currency) -> Self {
        Self::checked(Decimal::ZERO, currency, "0").expect("zero is a valid amount")
    }

    fn checked(mut amount: Decimal, currency: Currency, found: &str) -> Result<Self, MoneyError> {
        if amount.abs() >= MAX_AMOUNT {
            return Err(MoneyError::TooLarge {
                found: found.to_owned(),
            });
        }
        if amount.is_zero() {
            amount.set_sign_positive(true);
        }
        amount.rescale(currency.minor_units());
        Ok(Self { amount, currency })
    }

    /// The sum of two amounts in the same currency.
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        let sum = self.amount + other.amount;
        Self::checked(sum, self.currency, &sum.to_string())
    }
}

/// `1,250.50 USD`: thousands separated by commas, the currency's decimals, then the code.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = group_thousands(self.amount, self.currency.minor_units());
        write!(f, "{text} {}", self.currency)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoneyFields {
    amount: String,
    currency: String,
}

impl TryFrom<MoneyFields> for Money {
    type Error = MoneyError;
    fn try_from(fields: MoneyFields) -> Result<Self, MoneyError> {
        Money::parse_signed(&fields.amount, &fields.currency)
    }
}

impl From<Money> for MoneyFields {
    fn from(money: Money) -> Self {
        MoneyFields {
            amount: money.amount.to_string(),
            currency: money.currency.code().to_owned(),
        }
    }
}

/// Reads `-1,250.50`, `1250.5` or `1250`; commas only as thousands separators in groups of
/// three, so a European `1.250,50` is refused rather than misread.
fn parse_amount(raw: &str, currency: Currency) -> Result<Decimal, MoneyError> {
    let not_amount = || MoneyError::NotAnAmount {
        found: raw.to_owned(),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let text = raw.trim();
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) if digits(fraction) => (whole, fraction),
        Some(_) => return Err(not_amount()),
        None => (unsigned, ""),
    };
    let mut groups = whole.split(',');
    let first = groups.next().unwrap_or_default();
    let grouped = whole.contains(',');
    if !digits(first) || (grouped && first.len() > 3) {
        return Err(not_amount());
    }
    if !groups.all(|g| g.len() == 3 && digits(g)) {
        return Err(not_amount());
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > currency.minor_units() as usize {
        return Err(MoneyError::TooManyDecimals {
            currency,
            minor_units: currency.minor_units(),
            found: raw.to_owned(),
        });
    }
    let whole = whole.replace(',', "");
    let normal = match fraction {
        "" => format!("{sign}{whole}"),
        f => format!("{sign}{whole}.{f}"),
    };
    Decimal::from_str_exact(&normal).map_err(|_| MoneyError::TooLarge {
        found: raw.to_owned(),
    })
}

fn group_thousands(amount: Decimal, decimals: u32) -> String {
    let mut value = amount.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
    value.rescale(decimals);
    let text = value.abs().to_string();
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + whole.len() / 3 + 1);
    if value.is_sign_negative() && !value.is_zero() {
        out.push('-');
    }
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A US-dollar value rounded to cents, half away from zero. For display only: compare and add
/// the unrounded values.
pub fn round_usd(usd: Decimal) -> Decimal {
    let mut rounded = usd.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    rounded
}

/// `750,000.00 USD`, rounded to cents.
pub fn format_usd(usd: Decimal) -> String {
    format!("{} USD", group_thousands(usd, 2))
}

// ---------------------------------------------------------------------------------------------
// Exchange rates

/// How many US dollars one unit of `currency` is worth from `effective` on (until the next
/// rate for that currency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRate {
    pub currency: Currency,
    #[serde(with = "iso_date")]
    pub effective: Date,
    pub usd_per_unit: Decimal,
}

/// No rate for the currency is in force on the date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no exchange rate for {currency} on or before {on}")]
pub struct MissingRate {
    pub currency: Currency,
    pub on: Date,
}

/// Exchange rates by currency and date; the rate in force on a date is the latest one
/// effective on or before it.
#[derive(Debug, Clone, Default)]
pub struct RateTable {
    // Per currency, sorted by `effective`, one rate per date.
    by_currency: HashMap<Currency, Vec<ExchangeRate>>,
}

impl RateTable {
    /// Builds the table. USD needs no rate (it converts 1:1), so USD rows are left out, and so
    /// are rates not above 0 and below 1,000,000 (converting with them would be wrong; the
    /// currency then has no rate, which is refused where it matters). If two rates are given
    /// for the same currency and date, the later in `rates` wins. [`RateTable::parse_csv`]
    /// refuses all of these in an import file.
    pub fn new(rates: Vec<ExchangeRate>) -> Self {
        let mut by_currency: HashMap<Currency, Vec<ExchangeRate>> = HashMap::new();
        for rate in rates {
            if rate.currency.is_usd() || !rate_in_range(rate.usd_per_unit) {
                continue;
            }
            by_currency.entry(rate.currency).or_default().push(rate);
        }
        for list in by_currency.values_mut() {
            // A stable sort keeps the given order within a date; keep the last of each date.
            list.sort_by_key(|r| r.effective);
            list.reverse();
            list.dedup_by_key(|r| r.effective);
            list.reverse();
        }
        Self { by_currency }
    }

    /// The rate in force for `currency` on `on`: the latest effective on or before it.
    pub fn rate_on(&self, currency: Currency, on: Date) -> Option<&ExchangeRate> {
        let list = self.by_currency.get(&currency)?;
        let after = list.partition_point(|r| r.effective <= on);
        after.checked_sub(1).map(|i| &list[i])
    }

    /// The value of `money` in US dollars on `on`, unrounded. USD needs no rate.
    pub fn to_usd(&self, money: &Money, on: Date) -> Result<Decimal, MissingRate> {
        if money.currency.is_usd() {
            return Ok(money.amount);
        }
        let rate = self.rate_on(money.currency, on).ok_or(MissingRate {
            currency: money.currency,
            on,
        })?;
        // Only an amount built by hand beyond 10^22 can overflow; past every real sum, it
        // saturates rather than fail.
        Ok(money.amount.checked_mul(rate.usd_per_unit).unwrap_or(
            if money.amount.is_sign_negative() {
                Decimal::MIN
            } else {
                Decimal::MAX
            },
        ))
    }

    /// Reads an exchange-rate CSV file with the header `currency,date,usd_per_unit`.
    /// All or nothing: if any row is wrong, the error lists every wrong field (up to
    /// [`MAX_LISTED_PROBLEMS`]) and no rate is returned.
    pub fn parse_csv(
        file_name: &str,
        reader: impl std::io::Read,
    ) -> Result<Vec<ExchangeRate>, RateCsvError> {
        rate_file::parse(file_name, reader)
    }
}

fn rate_in_range(usd_per_unit: Decimal) -> bool {
    usd_per_unit > Decimal::ZERO && usd_per_unit < MAX_USD_PER_UNIT
}

mod rate_file;
pub use rate_file::{MAX_LISTED_PROBLEMS, RateCsvError, RowProblem};

#[cfg(test)]
mod tests;
