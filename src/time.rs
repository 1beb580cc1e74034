//! Time arithmetic of the language: calendar months and years, and the
//! cut-off instant that an age comparison is made against.

use crate::ast::{CmpOp, Duration, Unit};
use chrono::{DateTime, Months, TimeDelta, Utc};

pub type Time = DateTime<Utc>;

/// `t` minus a duration, with months and years as calendar units
/// (2026-03-31 minus 1mo is 2026-02-28). `None` only out of chrono's range.
pub fn minus(t: Time, d: Duration) -> Option<Time> {
    let n = i64::from(d.count);
    match d.unit {
        Unit::Hour => t.checked_sub_signed(TimeDelta::try_hours(n)?),
        Unit::Day => t.checked_sub_signed(TimeDelta::try_days(n)?),
        Unit::Week => t.checked_sub_signed(TimeDelta::try_weeks(n)?),
        Unit::Month => t.checked_sub_months(Months::new(d.count)),
        Unit::Year => t.checked_sub_months(Months::new(d.count.checked_mul(12)?)),
    }
}

/// `t` plus a duration, calendar-wise like `minus`.
pub fn plus(t: Time, d: Duration) -> Option<Time> {
    let n = i64::from(d.count);
    match d.unit {
        Unit::Hour => t.checked_add_signed(TimeDelta::try_hours(n)?),
        Unit::Day => t.checked_add_signed(TimeDelta::try_days(n)?),
        Unit::Week => t.checked_add_signed(TimeDelta::try_weeks(n)?),
        Unit::Month => t.checked_add_months(Months::new(d.count)),
        Unit::Year => t.checked_add_months(Months::new(d.count.checked_mul(12)?)),
    }
}

/// An age comparison (`joined > 90d`) as a comparison of the time itself
/// with `as_of - 90d`: older than the duration means earlier than the cut-off.
/// Returns the operator to apply to the time, and the cut-off.
pub fn age_test(op: CmpOp, d: Duration, as_of: Time) -> Option<(CmpOp, Time)> {
    let cutoff = minus(as_of, d)?;
    let flipped = match op {
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        // The checker rejects `==`/`!=` on durations.
        CmpOp::Eq | CmpOp::Ne => return None,
    };
    Some((flipped, cutoff))
}

/// `a op b` for anything ordered.
pub fn compare<T: PartialOrd>(a: &T, op: CmpOp, b: &T) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// RFC 3339, or `YYYY-MM-DD` as 00:00 UTC: how times are read everywhere.
pub fn parse_time(text: &str) -> Option<Time> {
    let text = text.trim();
    if text.len() == 10 {
        return crate::parse::parse_date(text);
    }
    // Users files hold millions of `YYYY-MM-DDTHH:MM:SSZ`: read that form
    // directly, and leave fractions and offsets to chrono.
    utc_seconds(text.as_bytes()).or_else(|| DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc)))
}

/// `YYYY-MM-DDTHH:MM:SSZ` exactly, or `None`.
fn utc_seconds(b: &[u8]) -> Option<Time> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T' | b't', h0, h1, b':', i0, i1, b':', s0, s1, b'Z' | b'z'] = *b
    else {
        return None;
    };
    let num = |digits: &[u8]| {
        digits
            .iter()
            .try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let year = i32::try_from(num(&[y0, y1, y2, y3])?).ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(year, num(&[m0, m1])?, num(&[d0, d1])?)?;
    let time = date.and_hms_opt(num(&[h0, h1])?, num(&[i0, i1])?, num(&[s0, s1])?)?;
    Some(time.and_utc())
}

/// How times are written in plans: RFC 3339 in UTC, to the second.
pub fn format_time(t: Time) -> String {
    Rfc3339::new(t).as_str().to_string()
}

/// A time in plan form (`2026-11-23T08:15:00Z`), on the stack for the
/// four-digit years of real data: plans write millions of these, and
/// chrono's general formatter allocates each time.
pub enum Rfc3339 {
    Fast([u8; 20]),
    Other(String),
}

impl Rfc3339 {
    pub fn new(t: Time) -> Self {
        use chrono::{Datelike, Timelike};
        // The fields of the UTC date and time, read once: through `Time`
        // itself each would add the (zero) offset again.
        let n = t.naive_utc();
        let Ok(year) = u32::try_from(n.year()) else {
            return Rfc3339::Other(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        };
        if year > 9999 {
            return Rfc3339::Other(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        let mut buf = *b"0000-00-00T00:00:00Z";
        put(&mut buf, 0, year, 4);
        put(&mut buf, 5, n.month(), 2);
        put(&mut buf, 8, n.day(), 2);
        put(&mut buf, 11, n.hour(), 2);
        put(&mut buf, 14, n.minute(), 2);
        put(&mut buf, 17, n.second(), 2);
        Rfc3339::Fast(buf)
    }

    pub fn as_str(&self) -> &str {
        match self {
            // Only ASCII digits and separators are ever written.
            Rfc3339::Fast(buf) => std::str::from_utf8(buf).unwrap_or(""),
            Rfc3339::Other(s) => s,
        }
    }
}

/// Writes `n` as `width` decimal digits at `at`.
fn put(buf: &mut [u8; 20], at: usize, mut n: u32, width: usize) {
    for i in (0..width).rev() {
        if let Some(b) = buf.get_mut(at + i) {
            *b = b'0' + (n % 10) as u8;
        }
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The plan's time text is chrono's RFC 3339 to the second, for
        /// every year chrono can hold.
        #[test]
        fn plan_times_are_rfc3339(secs in -8_000_000_000_000_i64..8_000_000_000_000) {
            let t = Time::from_timestamp(secs, 0).unwrap();
            let fast = Rfc3339::new(t);
            proptest::prop_assert_eq!(fast.as_str(), t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
    }

    fn t(s: &str) -> Time {
        parse_time(s).unwrap()
    }

    fn dur(count: u32, unit: Unit) -> Duration {
        Duration { count, unit }
    }

    #[test]
    fn calendar_months_clamp_to_the_end_of_the_month() {
        assert_eq!(minus(t("2026-03-31"), dur(1, Unit::Month)), Some(t("2026-02-28")));
        assert_eq!(minus(t("2024-03-31"), dur(1, Unit::Month)), Some(t("2024-02-29")));
        assert_eq!(minus(t("2024-02-29"), dur(1, Unit::Year)), Some(t("2023-02-28")));
        assert_eq!(minus(t("2026-11-23"), dur(12, Unit::Month)), Some(t("2025-11-23")));
        assert_eq!(minus(t("2026-11-23"), dur(2, Unit::Week)), Some(t("2026-11-09")));
        assert_eq!(
            minus(t("2026-11-23"), dur(36, Unit::Hour)),
            Some(t("2026-11-21T12:00:00Z"))
        );
    }

    #[test]
    fn age_boundaries_are_strict_for_greater_than() {
        let as_of = t("2026-11-23");
        let (op, cutoff) = age_test(CmpOp::Gt, dur(90, Unit::Day), as_of).unwrap();
        let exactly = t("2026-08-25"); // as-of minus 90 days
        assert_eq!(cutoff, exactly);
        assert!(
            !compare(&exactly, op, &cutoff),
            "exactly 90 days is not more than 90 days"
        );
        assert!(compare(&t("2026-08-24T23:59:59Z"), op, &cutoff));
        let (op, cutoff) = age_test(CmpOp::Ge, dur(90, Unit::Day), as_of).unwrap();
        assert!(compare(&exactly, op, &cutoff), ">= includes the boundary");
        let (op, cutoff) = age_test(CmpOp::Lt, dur(90, Unit::Day), as_of).unwrap();
        assert!(!compare(&exactly, op, &cutoff));
        let (op, cutoff) = age_test(CmpOp::Le, dur(90, Unit::Day), as_of).unwrap();
        assert!(compare(&exactly, op, &cutoff));
    }

    #[test]
    fn plan_times_match_chrono() {
        for text in ["2024-01-31T08:05:09Z", "0999-12-31T23:59:59Z", "2026-11-23T00:00:00Z"] {
            let at = t(text);
            assert_eq!(format_time(at), at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        let far = minus(
            t("0001-01-01"),
            Duration {
                count: 5,
                unit: Unit::Year,
            },
        )
        .unwrap();
        assert_eq!(format_time(far), far.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    }

    #[test]
    fn reads_dates_and_rfc3339() {
        assert_eq!(format_time(t("2024-01-31")), "2024-01-31T00:00:00Z");
        assert_eq!(format_time(t("2024-01-31T10:00:00+02:00")), "2024-01-31T08:00:00Z");
        assert_eq!(parse_time("2024-02-30"), None);
        assert_eq!(parse_time("2024-02-30T00:00:00Z"), None);
        assert_eq!(parse_time("2024-01-31T24:00:00Z"), None);
        assert_eq!(
            parse_time("2024-01-31T10:00:00.5Z").map(format_time).as_deref(),
            Some("2024-01-31T10:00:00Z")
        );
        assert_eq!(parse_time("2024-01-31t10:00:00z"), Some(t("2024-01-31T10:00:00Z")));
        assert_eq!(parse_time("yesterday"), None);
    }
}
