//! Dates as the IATI Validator reads them in rules (JavaScript's `new Date(text)` on ISO
//! strings), as milliseconds since 1970-01-01 UTC.

use crate::iati::xsd::datatypes::days_in_month;

pub(crate) const DAY_MS: i64 = 86_400_000;

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &str, n: usize) -> Option<(i64, &str)> {
    if s.len() < n || !s.as_bytes()[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM]`. A date-time without offset is
/// taken as UTC (JavaScript would take the server's local time).
pub(crate) fn parse_js_date(text: &str) -> Option<i64> {
    let (year, rest) = digits(text, 4)?;
    let (month, rest) = digits(rest.strip_prefix('-')?, 2)?;
    let (day, rest) = digits(rest.strip_prefix('-')?, 2)?;
    let (month, day) = (u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * DAY_MS;
    if rest.is_empty() {
        return Some(ms);
    }
    let rest = rest.strip_prefix('T')?;
    let (hour, rest) = digits(rest, 2)?;
    let (minute, mut rest) = digits(rest.strip_prefix(':')?, 2)?;
    let mut second = 0;
    let mut millis = 0;
    if let Some(r) = rest.strip_prefix(':') {
        let (s, r) = digits(r, 2)?;
        second = s;
        rest = r;
        if let Some(frac) = rest.strip_prefix('.') {
            let len = frac.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return None;
            }
            let padded = format!("{:0<3}", &frac[..len.min(3)]);
            millis = padded.parse().ok()?;
            rest = &frac[len..];
        }
    }
    if hour > 24 || minute > 59 || second > 59 {
        return None;
    }
    ms += ((hour * 60 + minute) * 60 + second) * 1000 + millis;
    match rest {
        "" | "Z" => Some(ms),
        offset => {
            let sign = match offset.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, r) = digits(&offset[1..], 2)?;
            let (om, r) = digits(r.strip_prefix(':').unwrap_or(r), 2)?;
            if !r.is_empty() {
                return None;
            }
            Some(ms - sign * (oh * 60 + om) * 60_000)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_from_the_epoch() {
        assert_eq!(parse_js_date("1970-01-01"), Some(0));
        assert_eq!(parse_js_date("1970-01-02"), Some(DAY_MS));
        assert_eq!(
            parse_js_date("2000-03-01").map(|m| m / DAY_MS),
            Some(11_017)
        );
        assert_eq!(parse_js_date("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_js_date("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(parse_js_date("2019-02-30"), None);
        assert_eq!(parse_js_date("not a date"), None);
        assert_eq!(parse_js_date(""), None);
    }
}
