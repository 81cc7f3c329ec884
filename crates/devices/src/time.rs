//! Calendar arithmetic for device timestamps: civil UTC date-time → Unix milliseconds, and a
//! small RFC 3339 / ISO 8601 parser. Pure; rejects impossible dates (month 13, 31 April, 30
//! February, hour 24) and anything before 1970, since `Fix::time_ms` is unsigned.

/// A civil date-time in UTC; seconds may include a millisecond part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Civil {
    /// Unix milliseconds, or `None` for an impossible date or one before 1970 / after 9999.
    pub fn to_unix_ms(self, offset_minutes: i64) -> Option<u64> {
        if !(1970..=9999).contains(&self.year)
            || !(1..=12).contains(&self.month)
            || self.day == 0
            || self.day > days_in_month(self.year, self.month)
            || self.hour > 23
            || self.minute > 59
            // 60 admits a leap second, which Unix time folds into the next second.
            || self.second > 60
            || self.millis > 999
        {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - offset_minutes * 60;
        let ms = secs.checked_mul(1000)?.checked_add(i64::from(self.millis))?;
        u64::try_from(ms).ok()
    }
}

/// The civil UTC date and time of Unix milliseconds (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_unix_ms(ms: u64) -> Civil {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let tod = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    // Bounded by the arithmetic above: day 1..=31, month 1..=12, tod < 86400.
    Civil {
        year: yoe + era * 400 + i64::from(month <= 2),
        month: month as u32,
        day: day as u32,
        hour: (tod / 3600) as u32,
        minute: (tod / 60 % 60) as u32,
        second: (tod % 60) as u32,
        millis: (ms % 1000) as u32,
    }
}

fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = s.get(at..at + n)?;
    part.iter().try_fold(0u32, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0')))
}

/// Parses `YYYY-MM-DD[T ]hh:mm:ss[.fraction][Z|±hh:mm|±hhmm|±hh]`. A missing zone means UTC
/// (Traccar Client always sends `Z`; the space form is what OsmAnd's `yyyy-MM-dd HH:mm:ss`
/// becomes after form decoding). Fractions beyond milliseconds are truncated.
pub(crate) fn parse_rfc3339(text: &str) -> Option<u64> {
    let s = text.trim().as_bytes();
    if s.len() < 19 || s.len() > 40 {
        return None;
    }
    let sep_ok =
        s[4] == b'-' && s[7] == b'-' && matches!(s[10], b'T' | b't' | b' ') && s[13] == b':' && s[16] == b':';
    if !sep_ok {
        return None;
    }
    let mut civil = Civil {
        year: i64::from(digits(s, 0, 4)?),
        month: digits(s, 5, 2)?,
        day: digits(s, 8, 2)?,
        hour: digits(s, 11, 2)?,
        minute: digits(s, 14, 2)?,
        second: digits(s, 17, 2)?,
        millis: 0,
    };
    let mut i = 19;
    if s.get(i) == Some(&b'.') || s.get(i) == Some(&b',') {
        i += 1;
        let start = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 3 {
                civil.millis = civil.millis * 10 + u32::from(s[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..3 {
            civil.millis *= 10;
        }
    }
    let offset_minutes = match s.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == s.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &s[i + 1..];
            let (h, m) = match rest.len() {
                2 => (digits(rest, 0, 2)?, 0),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let total = i64::from(h * 60 + m);
            if sign == b'-' { -total } else { total }
        }
        _ => return None,
    };
    civil.to_unix_ms(offset_minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for ms in [0u64, 951_782_400_000, 1_700_000_000_123, 4_102_444_799_000] {
            assert_eq!(civil_from_unix_ms(ms).to_unix_ms(0), Some(ms));
        }
        let c = civil_from_unix_ms(951_782_400_000); // 2000-02-29T00:00:00Z
        assert_eq!((c.year, c.month, c.day), (2000, 2, 29));
    }

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        // 2016-01-27T18:55:47Z, from Traccar's OsmAndProtocolDecoderTest.
        assert_eq!(parse_rfc3339("2016-01-27T18:55:47Z"), Some(1_453_920_947_000));
        assert_eq!(parse_rfc3339("2025-06-15T13:45:12.862Z"), Some(1_749_995_112_862));
        assert_eq!(parse_rfc3339("2026-11-22T10:15:30Z"), Some(1_795_342_530_000));
        assert_eq!(parse_rfc3339("2026-11-22T11:15:30+01:00"), Some(1_795_342_530_000));
        assert_eq!(parse_rfc3339("2026-11-22T05:15:30-0500"), Some(1_795_342_530_000));
        assert_eq!(parse_rfc3339("2026-11-22 10:15:30"), Some(1_795_342_530_000));
        assert_eq!(parse_rfc3339("2026-11-22T10:15:30.5Z"), Some(1_795_342_530_500));
        assert_eq!(parse_rfc3339("2026-11-22T10:15:30.123456789Z"), Some(1_795_342_530_123));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in [
            "2023-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-11-22T10:15:30.Z",
            "2026-11-22T10:15:30Zjunk",
            "2026-11-22T10:15:30+25:00",
            "2026-11-22",
            "２026-11-22T10:15:30Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
