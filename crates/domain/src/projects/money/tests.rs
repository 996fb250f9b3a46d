//! Money as the finance staff see it: amounts typed in forms, rates imported from a file,
//! budgets compared in US dollars.

use super::*;
use proptest::prelude::*;
use time::macros::date;

fn dec(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

fn money(amount: &str, currency: &str) -> Money {
    Money::parse(amount, currency).unwrap()
}

fn rate(currency: &str, effective: Date, usd_per_unit: &str) -> ExchangeRate {
    ExchangeRate {
        currency: Currency::parse(currency).unwrap(),
        effective,
        usd_per_unit: dec(usd_per_unit),
    }
}

// --- currencies ---------------------------------------------------------------------------

#[test]
fn the_shipped_currency_list_has_the_active_iso_4217_currencies() {
    let list = parse_currencies("data/currencies.csv", CURRENCIES_CSV).unwrap();
    assert!(list.len() >= 150, "only {} currencies", list.len());
    for (code, minor_units) in [
        ("USD", 2),
        ("EUR", 2),
        ("CHF", 2),
        ("JPY", 0),
        ("KWD", 3),
        ("XOF", 0),
        ("XAF", 0),
        ("XCD", 2),
        ("XPF", 0),
    ] {
        let currency = Currency::parse(code).unwrap();
        assert_eq!(currency.minor_units(), minor_units, "{code}");
    }
    assert_eq!(Currency::usd().name(), "US Dollar");
    assert_eq!(Currency::parse("CHF").unwrap().name(), "Swiss Franc");
    assert_eq!(Currency::all().count(), list.len());
}

#[test]
fn funds_metals_and_testing_codes_are_not_currencies() {
    for code in ["XAU", "XAG", "XTS", "XXX", "BOV", "USN", "CLF", "XBA"] {
        assert_eq!(
            Currency::parse(code).unwrap_err(),
            format!("{code} is not an active ISO 4217 currency code")
        );
    }
}

#[test]
fn a_currency_code_is_read_in_any_case_and_shown_in_capitals() {
    let currency = Currency::parse(" eur ").unwrap();
    assert_eq!(currency.to_string(), "EUR");
    assert_eq!(currency, Currency::parse("EUR").unwrap());
    assert_eq!(
        Currency::parse("euro").unwrap_err(),
        "expected a three-letter ISO 4217 currency code like USD, found \"euro\""
    );
    assert_eq!(serde_json::to_string(&currency).unwrap(), "\"EUR\"");
    let back: Currency = serde_json::from_str("\"eur\"").unwrap();
    assert_eq!(back, currency);
    assert!(serde_json::from_str::<Currency>("\"XAU\"").is_err());
}

#[test]
fn a_broken_currency_list_names_the_row_and_field() {
    let text = "code,name,minor_units\nUSD,US Dollar,2\nEUR,Euro,two\n";
    assert_eq!(
        parse_currencies("c.csv", text).unwrap_err(),
        "c.csv, row 3, minor_units: expected a number from 0 to 4, found \"two\""
    );
    let text = "code,name,minor_units\nUSD,US Dollar,2\nUSD,Dollar,2\n";
    assert_eq!(
        parse_currencies("c.csv", text).unwrap_err(),
        "c.csv, row 3, code: USD is listed twice"
    );
    let text = "code,name,minor_units\nusd,US Dollar,2\n";
    assert!(
        parse_currencies("c.csv", text)
            .unwrap_err()
            .contains("three capital letters")
    );
}

// --- amounts -------------------------------------------------------------------------------

#[test]
fn an_amount_is_shown_with_thousands_and_the_currencys_decimals() {
    assert_eq!(money("1250.5", "USD").to_string(), "1,250.50 USD");
    assert_eq!(money("1,250.50", "usd").to_string(), "1,250.50 USD");
    assert_eq!(money("0", "USD").to_string(), "0.00 USD");
    assert_eq!(money("999", "USD").to_string(), "999.00 USD");
    assert_eq!(money("1000000", "JPY").to_string(), "1,000,000 JPY");
    assert_eq!(money("12.345", "KWD").to_string(), "12.345 KWD");
    assert_eq!(money("450000000", "XOF").to_string(), "450,000,000 XOF");
    assert_eq!(
        Money::parse_signed("-1234567.8", "EUR")
            .unwrap()
            .to_string(),
        "-1,234,567.80 EUR"
    );
}

#[test]
fn an_amount_that_is_not_a_number_is_refused_in_words() {
    for bad in [
        "abc", "", "1.250,50", "12,34", "1,2345", "1e5", "1.", ".5", "+5", "1 000", "NaN",
    ] {
        assert_eq!(
            Money::parse(bad, "USD").unwrap_err().to_string(),
            format!("expected an amount like 1250.50, found {bad:?}")
        );
    }
}

#[test]
fn more_decimals_than_the_currency_has_are_refused() {
    assert_eq!(
        Money::parse("12.345", "USD").unwrap_err().to_string(),
        "USD amounts have at most 2 decimals, found \"12.345\""
    );
    assert_eq!(
        Money::parse("1000.5", "JPY").unwrap_err().to_string(),
        "JPY amounts have no decimals, found \"1000.5\""
    );
    // Trailing zeros change nothing, so they are accepted.
    assert_eq!(money("1000.00", "JPY").to_string(), "1,000 JPY");
    assert_eq!(money("12.3450", "KWD").amount, dec("12.345"));
    assert_eq!(
        Money::new(dec("0.001"), Currency::usd())
            .unwrap_err()
            .to_string(),
        "USD amounts have at most 2 decimals, found \"0.001\""
    );
}

#[test]
fn negative_amounts_only_where_the_constructor_allows_them() {
    assert_eq!(
        Money::parse("-5", "USD").unwrap_err().to_string(),
        "expected an amount of zero or more, found \"-5\""
    );
    assert_eq!(Money::parse_signed("-5", "USD").unwrap().amount, dec("-5"));
    assert!(Money::new(dec("-5"), Currency::usd()).is_err());
    assert!(Money::new_signed(dec("-5"), Currency::usd()).is_ok());
    // Minus zero is zero.
    assert_eq!(money("-0", "USD").to_string(), "0.00 USD");
}

#[test]
fn an_unknown_currency_or_a_huge_amount_is_refused() {
    assert_eq!(
        Money::parse("5", "ABC").unwrap_err().to_string(),
        "ABC is not an active ISO 4217 currency code"
    );
    assert_eq!(MAX_AMOUNT, Decimal::from(10u64.pow(18)));
    assert!(Money::parse("999999999999999999.99", "USD").is_ok());
    assert_eq!(
        Money::parse("1000000000000000000", "USD")
            .unwrap_err()
            .to_string(),
        "expected an amount below 1,000,000,000,000,000,000, found \"1000000000000000000\""
    );
    assert!(matches!(
        Money::parse("99999999999999999999999999999999", "USD"),
        Err(MoneyError::TooLarge { .. })
    ));
}

#[test]
fn amounts_add_up_in_one_currency_only() {
    let a = money("0.10", "USD");
    let b = money("0.20", "USD");
    assert_eq!(a.checked_add(&b).unwrap(), money("0.30", "USD"));
    assert_eq!(
        a.checked_add(&money("1", "EUR")).unwrap_err().to_string(),
        "cannot add EUR to USD: convert one of them first"
    );
}

#[test]
fn money_travels_as_a_string_amount_and_a_code() {
    let m = money("1250.5", "USD");
    let json = serde_json::to_value(m).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"amount": "1250.50", "currency": "USD"})
    );
    let back: Money = serde_json::from_value(json).unwrap();
    assert_eq!(back, m);
    let refused =
        serde_json::from_value::<Money>(serde_json::json!({"amount": "1.005", "currency": "USD"}))
            .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("USD amounts have at most 2 decimals")
    );
}

#[test]
fn usd_is_rounded_to_cents_only_for_display() {
    assert_eq!(round_usd(dec("1.005")), dec("1.01"));
    assert_eq!(round_usd(dec("-1.005")), dec("-1.01"));
    assert_eq!(round_usd(dec("2")).to_string(), "2.00");
    assert_eq!(format_usd(dec("750000")), "750,000.00 USD");
    assert_eq!(format_usd(dec("1234.5678")), "1,234.57 USD");
}

// --- rates ---------------------------------------------------------------------------------

#[test]
fn the_rate_in_force_is_the_latest_on_or_before_the_day() {
    let table = RateTable::new(vec![
        rate("XOF", date!(2026 - 02 - 01), "0.0017"),
        rate("XOF", date!(2026 - 01 - 01), "0.0016"),
    ]);
    let amount = money("1000000", "XOF");
    assert_eq!(
        table.to_usd(&amount, date!(2026 - 01 - 31)).unwrap(),
        dec("1600")
    );
    assert_eq!(
        table.to_usd(&amount, date!(2026 - 02 - 01)).unwrap(),
        dec("1700")
    );
    assert_eq!(
        table.to_usd(&amount, date!(2027 - 01 - 01)).unwrap(),
        dec("1700")
    );
    assert_eq!(
        table
            .to_usd(&amount, date!(2025 - 12 - 31))
            .unwrap_err()
            .to_string(),
        "no exchange rate for XOF on or before 2025-12-31"
    );
    assert_eq!(
        table
            .to_usd(&money("5", "EUR"), date!(2026 - 03 - 01))
            .unwrap_err()
            .to_string(),
        "no exchange rate for EUR on or before 2026-03-01"
    );
}

#[test]
fn dollars_convert_one_to_one_without_a_rate() {
    let table = RateTable::default();
    let amount = money("1250.50", "USD");
    assert_eq!(
        table.to_usd(&amount, date!(2026 - 01 - 01)).unwrap(),
        dec("1250.50")
    );
}

#[test]
fn conversion_keeps_full_precision() {
    let table = RateTable::new(vec![rate("EUR", date!(2026 - 01 - 01), "1.083317")]);
    let usd = table
        .to_usd(&money("0.01", "EUR"), date!(2026 - 01 - 02))
        .unwrap();
    assert_eq!(usd, dec("0.01083317"));
    assert_eq!(round_usd(usd), dec("0.01"));
}

#[test]
fn a_table_leaves_out_impossible_rates_and_the_later_duplicate_wins() {
    let day = date!(2026 - 01 - 01);
    let table = RateTable::new(vec![
        rate("EUR", day, "1.10"),
        rate("EUR", day, "1.20"),
        rate("CHF", day, "0"),
        rate("USD", day, "2"),
        rate("JPY", day, "1000000"),
    ]);
    assert_eq!(
        table
            .rate_on(Currency::parse("EUR").unwrap(), day)
            .unwrap()
            .usd_per_unit,
        dec("1.20")
    );
    assert!(
        table
            .rate_on(Currency::parse("CHF").unwrap(), day)
            .is_none()
    );
    assert!(
        table
            .rate_on(Currency::parse("JPY").unwrap(), day)
            .is_none()
    );
    assert_eq!(table.to_usd(&money("3", "USD"), day).unwrap(), dec("3"));
}

#[test]
fn a_rate_travels_with_an_iso_date() {
    let r = rate("XOF", date!(2026 - 03 - 01), "0.00165");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"currency": "XOF", "effective": "2026-03-01", "usd_per_unit": "0.00165"})
    );
    assert_eq!(serde_json::from_value::<ExchangeRate>(json).unwrap(), r);
}

// --- rate files ----------------------------------------------------------------------------

fn parse(text: &str) -> Result<Vec<ExchangeRate>, RateCsvError> {
    RateTable::parse_csv("rates.csv", text.as_bytes())
}

#[test]
fn a_good_rate_file_is_read_whole() {
    let rates = parse(
        "\u{feff}currency,date,usd_per_unit\n\
         XOF,2026-01-01,0.0016\n\
         eur, 2026-01-01 , 1.08\n\
         \n\
         USD,2026-01-01,1\n",
    )
    .unwrap();
    assert_eq!(
        rates,
        vec![
            rate("XOF", date!(2026 - 01 - 01), "0.0016"),
            rate("EUR", date!(2026 - 01 - 01), "1.08"),
            rate("USD", date!(2026 - 01 - 01), "1"),
        ]
    );
    // Columns may come in any order.
    let rates = parse("date,usd_per_unit,currency\n2026-01-01,0.0016,XOF\n").unwrap();
    assert_eq!(rates, vec![rate("XOF", date!(2026 - 01 - 01), "0.0016")]);
}

#[test]
fn a_wrong_header_is_refused_naming_what_was_expected() {
    assert_eq!(
        parse("code,day,rate\nXOF,2026-01-01,0.0016\n")
            .unwrap_err()
            .to_string(),
        "rates.csv, row 1: expected the header currency,date,usd_per_unit, found \"code,day,rate\""
    );
    assert!(matches!(parse(""), Err(RateCsvError::Header { .. })));
    assert!(matches!(
        parse("currency,date,usd_per_unit,source\n"),
        Err(RateCsvError::Header { .. })
    ));
}

#[test]
fn every_bad_row_is_listed_and_nothing_is_imported() {
    let error = parse(
        "currency,date,usd_per_unit\n\
         XOF,2026-01-01,0.0016\n\
         XYZ,2026-01-01,0.5\n\
         EUR,01/03/2026,1.08\n\
         EUR,2026-02-01,-1\n\
         EUR,2026-02-01,1e3\n\
         CHF,2026-02-01\n\
         XOF,2026-01-01,0.0017\n\
         USD,2026-02-01,1.1\n\
         JPY,2026-13-01,abc\n",
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "rates.csv: 9 problems, nothing was imported:\n  \
         rates.csv, row 3, currency: expected an active ISO 4217 currency code like USD, EUR or XOF, found \"XYZ\"\n  \
         rates.csv, row 4, date: expected a date like 2026-03-01 (YYYY-MM-DD), found \"01/03/2026\"\n  \
         rates.csv, row 5, usd_per_unit: expected a number of US dollars per unit above 0 and below 1000000, like 0.00165, found \"-1\"\n  \
         rates.csv, row 6, usd_per_unit: expected a number of US dollars per unit above 0 and below 1000000, like 0.00165, found \"1e3\"\n  \
         rates.csv, row 7, row: expected 3 fields: currency,date,usd_per_unit, found \"CHF,2026-02-01\"\n  \
         rates.csv, row 8, date: expected one rate per currency and date (row 2 already gives XOF from 2026-01-01), found \"2026-01-01\"\n  \
         rates.csv, row 9, usd_per_unit: expected 1 (USD is the base currency), found \"1.1\"\n  \
         rates.csv, row 10, date: expected a date like 2026-03-01 (YYYY-MM-DD), found \"2026-13-01\"\n  \
         rates.csv, row 10, usd_per_unit: expected a number of US dollars per unit above 0 and below 1000000, like 0.00165, found \"abc\""
    );
}

#[test]
fn a_file_with_many_bad_rows_lists_the_first_hundred_and_counts_the_rest() {
    let mut text = String::from("currency,date,usd_per_unit\n");
    for _ in 0..130 {
        text.push_str("XOF,2026-01-01,zero\n");
    }
    let RateCsvError::Rows { problems, more, .. } = parse(&text).unwrap_err() else {
        panic!("expected row problems");
    };
    assert_eq!(problems.len(), MAX_LISTED_PROBLEMS);
    assert_eq!(more, 30);
    assert_eq!(problems[0].row, 2);
    assert_eq!(problems[99].row, 101);
    let message = parse(&text).unwrap_err().to_string();
    assert!(message.starts_with("rates.csv: 130 problems, nothing was imported:"));
    assert!(message.ends_with("\n  … and 30 more"));
}

#[test]
fn text_that_is_not_utf8_is_named_as_such() {
    let mut bytes = b"currency,date,usd_per_unit\nEUR,2026-01-01,".to_vec();
    bytes.extend_from_slice(&[0xff, b'1', b'\n']);
    let error = RateTable::parse_csv("rates.csv", bytes.as_slice()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("rates.csv, row 2, usd_per_unit: expected UTF-8 text"),
        "{error}"
    );
}

// --- properties ----------------------------------------------------------------------------

fn any_cents() -> impl Strategy<Value = Decimal> {
    (0i64..10_000_000_000_000).prop_map(|cents| Decimal::new(cents, 2))
}

fn any_rate() -> impl Strategy<Value = Decimal> {
    // Up to 10 significant digits, from 10^-18 to 10^4 USD per unit.
    (1i64..10_000_000_000, 6u32..=18).prop_map(|(mantissa, scale)| Decimal::new(mantissa, scale))
}

fn any_day() -> impl Strategy<Value = Date> {
    (0i64..3_650).prop_map(|n| date!(2020 - 01 - 01) + time::Duration::days(n))
}

proptest! {
    #[test]
    fn the_converted_sum_is_the_sum_of_the_conversions(
        a in any_cents(), b in any_cents(), r in any_rate(), on in any_day(),
    ) {
        let eur = Currency::parse("EUR").unwrap();
        let table = RateTable::new(vec![ExchangeRate {
            currency: eur,
            effective: date!(2020 - 01 - 01),
            usd_per_unit: r,
        }]);
        let a = Money::new(a, eur).unwrap();
        let b = Money::new(b, eur).unwrap();
        let sum = a.checked_add(&b).unwrap();
        prop_assert_eq!(
            table.to_usd(&sum, on).unwrap(),
            table.to_usd(&a, on).unwrap() + table.to_usd(&b, on).unwrap()
        );
    }

    #[test]
    fn the_rate_picked_never_goes_back_in_time(
        days in proptest::collection::vec((any_day(), any_rate()), 1..20),
        d1 in any_day(), d2 in any_day(),
    ) {
        let xof = Currency::parse("XOF").unwrap();
        let rates: Vec<ExchangeRate> = days
            .iter()
            .map(|&(effective, usd_per_unit)| ExchangeRate { currency: xof, effective, usd_per_unit })
            .collect();
        let table = RateTable::new(rates.clone());
        let (early, late) = if d1 <= d2 { (d1, d2) } else { (d2, d1) };
        let picked = |on: Date| table.rate_on(xof, on).map(|r| r.effective);
        if let Some(e) = picked(early) {
            // The latest rate on or before the day, and a later day never picks an older rate.
            prop_assert!(e <= early);
            prop_assert_eq!(Some(e), rates.iter().map(|r| r.effective).filter(|&d| d <= early).max());
            prop_assert!(picked(late).unwrap() >= e);
        } else {
            prop_assert!(rates.iter().all(|r| r.effective > early));
        }
    }

    #[test]
    fn what_is_shown_reads_back_as_the_same_money(cents in -10_000_000_000_000i64..10_000_000_000_000) {
        let m = Money::new_signed(Decimal::new(cents, 2), Currency::usd()).unwrap();
        let shown = m.to_string();
        let (amount, code) = shown.rsplit_once(' ').unwrap();
        prop_assert_eq!(Money::parse_signed(amount, code).unwrap(), m);
        let json = serde_json::to_string(&m).unwrap();
        prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
    }

    #[test]
    fn a_rate_file_reads_back_what_was_written(
        days in proptest::collection::btree_map(any_day(), any_rate(), 1..30),
    ) {
        let mut text = String::from("currency,date,usd_per_unit\n");
        for (day, r) in &days {
            text.push_str(&format!("KES,{day},{r}\n"));
        }
        let rates = RateTable::parse_csv("r.csv", text.as_bytes()).unwrap();
        prop_assert_eq!(rates.len(), days.len());
        for (rate, (day, r)) in rates.iter().zip(&days) {
            prop_assert_eq!(rate.effective, *day);
            prop_assert_eq!(rate.usd_per_unit, *r);
        }
    }
}
