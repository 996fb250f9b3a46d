//! The built-in XML Schema datatypes that the IATI schemas use, checked the way libxml2 checks
//! them (lexical form and value range).

/// A built-in simple type of XML Schema 1.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    AnySimpleType,
    String,
    NormalizedString,
    Token,
    Language,
    Name,
    NcName,
    NmToken,
    NmTokens,
    Id,
    IdRef,
    AnyUri,
    QName,
    Boolean,
    Decimal,
    Float,
    Double,
    Integer,
    Long,
    Int,
    Short,
    Byte,
    NonNegativeInteger,
    PositiveInteger,
    NonPositiveInteger,
    NegativeInteger,
    UnsignedLong,
    UnsignedInt,
    UnsignedShort,
    UnsignedByte,
    Date,
    DateTime,
    Time,
    GYear,
    GYearMonth,
}

/// How the type treats whitespace before checking the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WhiteSpace {
    Preserve,
    Replace,
    Collapse,
}

impl Builtin {
    pub(crate) fn from_name(local: &str) -> Option<Builtin> {
        use Builtin::*;
        Some(match local {
            "anySimpleType" => AnySimpleType,
            "string" => String,
            "normalizedString" => NormalizedString,
            "token" => Token,
            "language" => Language,
            "Name" => Name,
            "NCName" => NcName,
            "NMTOKEN" => NmToken,
            "NMTOKENS" => NmTokens,
            "ID" => Id,
            "IDREF" => IdRef,
            "anyURI" => AnyUri,
            "QName" => QName,
            "boolean" => Boolean,
            "decimal" => Decimal,
            "float" => Float,
            "double" => Double,
            "integer" => Integer,
            "long" => Long,
            "int" => Int,
            "short" => Short,
            "byte" => Byte,
            "nonNegativeInteger" => NonNegativeInteger,
            "positiveInteger" => PositiveInteger,
            "nonPositiveInteger" => NonPositiveInteger,
            "negativeInteger" => NegativeInteger,
            "unsignedLong" => UnsignedLong,
            "unsignedInt" => UnsignedInt,
            "unsignedShort" => UnsignedShort,
            "unsignedByte" => UnsignedByte,
            "date" => Date,
            "dateTime" => DateTime,
            "time" => Time,
            "gYear" => GYear,
            "gYearMonth" => GYearMonth,
            _ => return None,
        })
    }

    /// The name libxml2 uses in its messages (`xs:date`).
    pub(crate) fn xs_name(self) -> &'static str {
        use Builtin::*;
        match self {
            AnySimpleType => "xs:anySimpleType",
            String => "xs:string",
            NormalizedString => "xs:normalizedString",
            Token => "xs:token",
            Language => "xs:language",
            Name => "xs:Name",
            NcName => "xs:NCName",
            NmToken => "xs:NMTOKEN",
            NmTokens => "xs:NMTOKENS",
            Id => "xs:ID",
            IdRef => "xs:IDREF",
            AnyUri => "xs:anyURI",
            QName => "xs:QName",
            Boolean => "xs:boolean",
            Decimal => "xs:decimal",
            Float => "xs:float",
            Double => "xs:double",
            Integer => "xs:integer",
            Long => "xs:long",
            Int => "xs:int",
            Short => "xs:short",
            Byte => "xs:byte",
            NonNegativeInteger => "xs:nonNegativeInteger",
            PositiveInteger => "xs:positiveInteger",
            NonPositiveInteger => "xs:nonPositiveInteger",
            NegativeInteger => "xs:negativeInteger",
            UnsignedLong => "xs:unsignedLong",
            UnsignedInt => "xs:unsignedInt",
            UnsignedShort => "xs:unsignedShort",
            UnsignedByte => "xs:unsignedByte",
            Date => "xs:date",
            DateTime => "xs:dateTime",
            Time => "xs:time",
            GYear => "xs:gYear",
            GYearMonth => "xs:gYearMonth",
        }
    }

    pub(crate) fn white_space(self) -> WhiteSpace {
        match self {
            Builtin::String | Builtin::AnySimpleType => WhiteSpace::Preserve,
            Builtin::NormalizedString => WhiteSpace::Replace,
            _ => WhiteSpace::Collapse,
        }
    }

    /// Checks a value already normalized for whitespace.
    pub(crate) fn accepts(self, v: &str) -> bool {
        use Builtin::*;
        match self {
            AnySimpleType | String | NormalizedString | Token => true,
            Language => is_language(v),
            Name => is_name(v, true),
            NcName | Id | IdRef => is_name(v, false),
            NmToken => !v.is_empty() && v.chars().all(is_name_char),
            NmTokens => {
                !v.is_empty()
                    && v.split(' ')
                        .all(|t| !t.is_empty() && t.chars().all(is_name_char))
            }
            AnyUri => is_any_uri(v),
            QName => match v.split_once(':') {
                Some((p, l)) => is_name(p, false) && is_name(l, false),
                None => is_name(v, false),
            },
            Boolean => matches!(v, "true" | "false" | "1" | "0"),
            Decimal => is_decimal(v),
            Float | Double => is_float(v),
            Integer => integer_in(v, None, None),
            Long => integer_in(v, Some(i64::MIN as i128), Some(i64::MAX as i128)),
            Int => integer_in(v, Some(i32::MIN as i128), Some(i32::MAX as i128)),
            Short => integer_in(v, Some(i16::MIN as i128), Some(i16::MAX as i128)),
            Byte => integer_in(v, Some(i8::MIN as i128), Some(i8::MAX as i128)),
            NonNegativeInteger => integer_in(v, Some(0), None),
            PositiveInteger => integer_in(v, Some(1), None),
            NonPositiveInteger => integer_in(v, None, Some(0)),
            NegativeInteger => integer_in(v, None, Some(-1)),
            UnsignedLong => integer_in(v, Some(0), Some(u64::MAX as i128)),
            UnsignedInt => integer_in(v, Some(0), Some(u32::MAX as i128)),
            UnsignedShort => integer_in(v, Some(0), Some(u16::MAX as i128)),
            UnsignedByte => integer_in(v, Some(0), Some(u8::MAX as i128)),
            Date => parse_date_part(v).is_some_and(is_timezone),
            DateTime => is_date_time(v),
            Time => is_time_tz(v),
            GYear => parse_year(v).is_some_and(|(_, rest)| is_timezone(rest)),
            GYearMonth => parse_year(v).is_some_and(|(_, rest)| {
                rest.strip_prefix('-')
                    .and_then(two_digits)
                    .is_some_and(|(m, r)| (1..=12).contains(&m) && is_timezone(r))
            }),
        }
    }
}

/// Applies a whitespace facet.
pub(crate) fn normalize_ws(value: &str, ws: WhiteSpace) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    match ws {
        WhiteSpace::Preserve => Cow::Borrowed(value),
        WhiteSpace::Replace => {
            if value.contains(['\t', '\n', '\r']) {
                Cow::Owned(value.replace(['\t', '\n', '\r'], " "))
            } else {
                Cow::Borrowed(value)
            }
        }
        WhiteSpace::Collapse => {
            let trimmed = value.trim_matches(is_xml_space);
            let needs_work = trimmed.contains(['\t', '\n', '\r']) || trimmed.contains("  ");
            if needs_work {
                Cow::Owned(
                    trimmed
                        .split(is_xml_space)
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            } else {
                Cow::Borrowed(trimmed)
            }
        }
    }
}

pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == ':'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.' | '\u{B7}') || is_combining(c)
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

fn is_name(v: &str, allow_colon: bool) -> bool {
    let mut chars = v.chars();
    match chars.next() {
        Some(c) if is_name_start(c) && (allow_colon || c != ':') => {}
        _ => return false,
    }
    chars.all(|c| is_name_char(c) && (allow_colon || c != ':'))
}

fn is_language(v: &str) -> bool {
    let mut parts = v.split('-');
    let first = parts.next().unwrap_or("");
    (1..=8).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// libxml2 escapes a URI before parsing it, so almost anything passes; what it refuses are
/// malformed percent escapes and a few characters that stay illegal after escaping.
fn is_any_uri(v: &str) -> bool {
    let bytes = v.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let ok = bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    // A scheme, if present, must be well-formed.
    if let Some(colon) = v.find(':') {
        let scheme = &v[..colon];
        let looks_like_scheme = !scheme.is_empty() && !scheme.contains(['/', '?', '#']);
        if looks_like_scheme {
            let mut c = scheme.chars();
            let first_ok = c.next().is_some_and(|c| c.is_ascii_alphabetic());
            let rest_ok = c.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if !(first_ok && rest_ok) {
                return false;
            }
        }
    }
    true
}

fn is_decimal(v: &str) -> bool {
    let v = v.strip_prefix(['+', '-']).unwrap_or(v);
    let (int, frac) = match v.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (v, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    match frac {
        None => !int.is_empty() && digits(int),
        Some(f) => (!int.is_empty() || !f.is_empty()) && digits(int) && digits(f),
    }
}

fn is_float(v: &str) -> bool {
    if matches!(v, "INF" | "-INF" | "NaN" | "+INF") {
        return true;
    }
    let (mantissa, exp) = match v.find(['e', 'E']) {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    is_decimal(mantissa)
        && exp.is_none_or(|e| {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        })
}

fn integer_in(v: &str, min: Option<i128>, max: Option<i128>) -> bool {
    let (negative, digits) = match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 30 {
        // Beyond i128 only unbounded types can hold it.
        return matches!((negative, min, max), (true, None, _) | (false, _, None));
    }
    let magnitude: i128 = significant.parse().unwrap_or(0);
    let value = if negative { -magnitude } else { magnitude };
    min.is_none_or(|m| value >= m) && max.is_none_or(|m| value <= m)
}

fn two_digits(s: &str) -> Option<(u32, &str)> {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_digit() && b[1].is_ascii_digit() {
        Some((
            u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0'),
            &s[2..],
        ))
    } else {
        None
    }
}

/// `-?YYYY+` (at least four digits, no year 0000); returns the year and the rest.
fn parse_year(v: &str) -> Option<(i64, &str)> {
    let (negative, body) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let len = body.bytes().take_while(u8::is_ascii_digit).count();
    if len < 4 || (len > 4 && body.starts_with('0')) {
        return None;
    }
    let year: i64 = body[..len].parse().ok()?;
    if year == 0 {
        return None;
    }
    Some((if negative { -year } else { year }, &body[len..]))
}

fn is_leap(year: i64) -> bool {
    // Years before 1 are counted astronomically minus one, as XML Schema 1.0 does.
    let y = if year < 0 { year + 1 } else { year };
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// `YYYY-MM-DD`; returns what follows.
fn parse_date_part(v: &str) -> Option<&str> {
    let (year, rest) = parse_year(v)?;
    let (month, rest) = two_digits(rest.strip_prefix('-')?)?;
    let (day, rest) = two_digits(rest.strip_prefix('-')?)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(rest)
}

fn is_timezone(v: &str) -> bool {
    if v.is_empty() || v == "Z" {
        return true;
    }
    let Some(rest) = v.strip_prefix(['+', '-']) else {
        return false;
    };
    let Some((h, rest)) = two_digits(rest) else {
        return false;
    };
    let Some((m, rest)) = rest.strip_prefix(':').and_then(two_digits) else {
        return false;
    };
    rest.is_empty() && (h < 14 && m < 60 || h == 14 && m == 0)
}

/// `hh:mm:ss(.s+)?` with an optional timezone.
fn is_time_tz(v: &str) -> bool {
    let Some((h, rest)) = two_digits(v) else {
        return false;
    };
    let Some((m, rest)) = rest.strip_prefix(':').and_then(two_digits) else {
        return false;
    };
    let Some((s, mut rest)) = rest.strip_prefix(':').and_then(two_digits) else {
        return false;
    };
    let mut fraction_is_zero = true;
    if let Some(frac) = rest.strip_prefix('.') {
        let len = frac.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return false;
        }
        fraction_is_zero = frac[..len].bytes().all(|b| b == b'0');
        rest = &frac[len..];
    }
    let in_range =
        (h < 24 && m < 60 && s < 60) || (h == 24 && m == 0 && s == 0 && fraction_is_zero);
    in_range && is_timezone(rest)
}

fn is_date_time(v: &str) -> bool {
    match parse_date_part(v) {
        Some(rest) => rest.strip_prefix('T').is_some_and(is_time_tz),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_calendar() {
        assert!(Builtin::Date.accepts("2024-02-29"));
        assert!(!Builtin::Date.accepts("2023-02-29"));
        assert!(Builtin::Date.accepts("2020-01-01Z"));
        assert!(Builtin::Date.accepts("2020-01-01+05:30"));
        assert!(!Builtin::Date.accepts("2020-1-01"));
        assert!(!Builtin::Date.accepts("0000-01-01"));
        assert!(!Builtin::Date.accepts(""));
        assert!(!Builtin::Date.accepts("2020-01-01T00:00:00"));
    }

    #[test]
    fn date_times_need_a_time() {
        assert!(Builtin::DateTime.accepts("2014-09-10T07:15:37Z"));
        assert!(Builtin::DateTime.accepts("2014-09-10T07:15:37.123+01:00"));
        assert!(Builtin::DateTime.accepts("2014-09-10T24:00:00"));
        assert!(!Builtin::DateTime.accepts("2014-09-10T24:00:01"));
        assert!(!Builtin::DateTime.accepts("2018-11-07"));
        assert!(!Builtin::DateTime.accepts("2014-09-10 07:15:37"));
    }

    #[test]
    fn numbers_respect_their_ranges() {
        assert!(Builtin::Decimal.accepts("-1.5"));
        assert!(Builtin::Decimal.accepts(".5"));
        assert!(Builtin::Decimal.accepts("5."));
        assert!(!Builtin::Decimal.accepts("1e3"));
        assert!(!Builtin::Decimal.accepts("."));
        assert!(!Builtin::Decimal.accepts("1,000"));
        assert!(Builtin::PositiveInteger.accepts("+7"));
        assert!(!Builtin::PositiveInteger.accepts("0"));
        assert!(Builtin::NonNegativeInteger.accepts("0"));
        assert!(!Builtin::NonNegativeInteger.accepts("-1"));
        assert!(Builtin::Int.accepts("2147483647"));
        assert!(!Builtin::Int.accepts("2147483648"));
        assert!(Builtin::Boolean.accepts("1"));
        assert!(!Builtin::Boolean.accepts("yes"));
    }

    #[test]
    fn whitespace_collapses() {
        assert_eq!(normalize_ws("  a \n b  ", WhiteSpace::Collapse), "a b");
        assert_eq!(normalize_ws("a b", WhiteSpace::Collapse), "a b");
        assert_eq!(normalize_ws("a\tb", WhiteSpace::Replace), "a b");
    }
}
