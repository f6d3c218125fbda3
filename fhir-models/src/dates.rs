//! Dates and times as points and spans of time: ordering by instant, the current time, and (features `chrono`
//! and `time`) conversions to and from those crates' types.
//!
//! A FHIR `date` or `dateTime` without a time of day stands for a span (the whole year, month or day) in no
//! time zone; one with a time of day stands for the span of its last given digit (a second, a millisecond, ...).
//! Two values are ordered when their spans do not overlap; a span without a time zone is widened by 14 hours on
//! each side against one with a zone (FHIR's time zones reach ±14:00), so no answer is ever wrong.

use crate::primitives::{num, DateKind, Date, DateTime, Instant, InvalidDate, Time};
use std::cmp::Ordering;

const NANOS_PER_SEC: i128 = 1_000_000_000;
const NANOS_PER_DAY: i128 = 86_400 * NANOS_PER_SEC;
/// FHIR time zones range over ±14:00.
const MAX_ZONE: i128 = 14 * 3600 * NANOS_PER_SEC;

/// The span of time a value stands for: `[start, end)` in nanoseconds since 1970-01-01T00:00:00Z (for `time`:
/// since midnight), and whether it is anchored by a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: i128,
    end: i128,
    zoned: bool,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if month <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, month, day)
}

/// The parts of a valid value; `None` for text kept by lenient reading although invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts {
    pub year: i64,
    /// `None`: only the year was given.
    pub month: Option<u32>,
    pub day: Option<u32>,
    /// Hour, minute, second (`60` for a leap second).
    pub time: Option<(u32, u32, u32)>,
    /// The fraction of the second in nanoseconds (digits beyond the ninth dropped), and how many digits were
    /// written.
    pub nanos: u32,
    pub fraction_digits: usize,
    /// Offset from UTC in seconds, when there is a time zone.
    pub offset: Option<i32>,
}

/// Hour, minute, second; nanoseconds; fraction digits written; the end of the time.
type TimeParts = ((u32, u32, u32), u32, usize, usize);

/// Reads `hh:mm:ss(.f+)?` at `at` of text the validator accepted.
fn time_parts(b: &[u8], at: usize) -> Option<TimeParts> {
    let hms = (num(b, at, 2)?, num(b, at + 3, 2)?, num(b, at + 6, 2)?);
    let mut i = at + 8;
    let (mut nanos, mut digits) = (0u32, 0usize);
    if b.get(i) == Some(&b'.') {
        i += 1;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            if digits < 9 {
                nanos = nanos * 10 + u32::from(d - b'0');
            }
            digits += 1;
            i += 1;
        }
        nanos *= 10u32.pow(9 - digits.min(9) as u32);
    }
    Some((hms, nanos, digits, i))
}

pub(crate) fn parts(text: &str, kind: DateKind) -> Option<Parts> {
    crate::primitives::check(text, kind).ok()?;
    let b = text.as_bytes();
    if kind == DateKind::Time {
        let (hms, nanos, fraction_digits, _) = time_parts(b, 0)?;
        return Some(Parts { year: 0, month: None, day: None, time: Some(hms), nanos, fraction_digits, offset: None });
    }
    let year = i64::from(num(b, 0, 4)?);
    let month = (b.get(4) == Some(&b'-')).then(|| num(b, 5, 2)).flatten();
    let day = (b.get(7) == Some(&b'-')).then(|| num(b, 8, 2)).flatten();
    let mut p = Parts { year, month, day, time: None, nanos: 0, fraction_digits: 0, offset: None };
    if b.get(10) == Some(&b'T') {
        let (hms, nanos, digits, end) = time_parts(b, 11)?;
        p.time = Some(hms);
        p.nanos = nanos;
        p.fraction_digits = digits;
        p.offset = Some(match b.get(end)? {
            b'Z' => 0,
            sign => {
                let secs = (num(b, end + 1, 2)? * 3600 + num(b, end + 4, 2)? * 60) as i32;
                if *sign == b'-' { -secs } else { secs }
            }
        });
    }
    Some(p)
}

impl Parts {
    fn span(&self) -> Span {
        let Some((h, m, s)) = self.time else {
            let (start, end) = match (self.month, self.day) {
                (Some(month), Some(day)) => {
                    let d = days_from_civil(self.year, month, day);
                    (d, d + 1)
                }
                (Some(month), None) => {
                    let next = if month == 12 { (self.year + 1, 1) } else { (self.year, month + 1) };
                    (days_from_civil(self.year, month, 1), days_from_civil(next.0, next.1, 1))
                }
                _ => (days_from_civil(self.year, 1, 1), days_from_civil(self.year + 1, 1, 1)),
            };
            return Span { start: i128::from(start) * NANOS_PER_DAY, end: i128::from(end) * NANOS_PER_DAY, zoned: false };
        };
        let day = match (self.month, self.day) {
            (Some(month), Some(day)) => i128::from(days_from_civil(self.year, month, day)) * NANOS_PER_DAY,
            _ => 0, // a `time`: since midnight
        };
        let offset = i128::from(self.offset.unwrap_or(0)) * NANOS_PER_SEC;
        let start = day + (i128::from(h) * 3600 + i128::from(m) * 60 + i128::from(s)) * NANOS_PER_SEC
            + i128::from(self.nanos)
            - offset;
        // The last written digit's unit; digits beyond nanoseconds count as one nanosecond (a wider span only
        // makes answers rarer, never wrong).
        let unit = 10i128.pow(9 - self.fraction_digits.min(9) as u32);
        Span { start, end: start + unit, zoned: self.offset.is_some() || self.month.is_none() }
    }
}

fn compare_spans(a: Span, b: Span) -> Option<Ordering> {
    let widen = |s: Span, other: Span| {
        if !s.zoned && other.zoned { (s.start - MAX_ZONE, s.end + MAX_ZONE) } else { (s.start, s.end) }
    };
    let (a0, a1) = widen(a, b);
    let (b0, b1) = widen(b, a);
    if a1 <= b0 {
        Some(Ordering::Less)
    } else if b1 <= a0 {
        Some(Ordering::Greater)
    } else if (a0, a1) == (b0, b1) && a.zoned == b.zoned {
        Some(Ordering::Equal)
    } else {
        None
    }
}

macro_rules! ordered_by_instant {
    ($name:ident, $kind:expr, $cmp_doc:literal) => {
        impl $name {
            #[doc = $cmp_doc]
            /// `None` also for a value kept by lenient reading although invalid.
            pub fn instant_cmp(&self, other: &Self) -> Option<Ordering> {
                compare_spans(parts(self.as_str(), $kind)?.span(), parts(other.as_str(), $kind)?.span())
            }
        }

        /// By instant or span of time (see `instant_cmp`), consistently with `==`, which compares the text:
        /// the same instant written differently is neither `<`, `>` nor `==`, so `partial_cmp` is `None` for it.
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                if self == other {
                    return Some(Ordering::Equal);
                }
                self.instant_cmp(other).filter(|o| *o != Ordering::Equal)
            }
        }
    };
}

ordered_by_instant!(
    DateTime,
    DateKind::DateTime,
    "Compares the points or spans of time the two values stand for: `Some(Equal)` also for the same instant \
     written differently (`10:00:00+05:00` and `05:00:00Z`), `None` when the spans overlap (`2024` and \
     `2024-03`, a date without time zone against a time within 14 hours of it).\n\n```\n\
     use fhir_models::DateTime;\n\
     let a = DateTime::new(\"2024-01-01T10:00:00+05:00\").unwrap();\n\
     let b = DateTime::new(\"2024-01-01T06:00:00Z\").unwrap();\n\
     assert!(a < b); // 05:00Z is before 06:00Z\n\
     ```\n"
);
ordered_by_instant!(
    Instant,
    DateKind::Instant,
    "Compares the instants (each the span of its last written digit); `Some(Equal)` also for the same instant \
     written differently, `None` when the spans overlap (`10:00:00Z` and `10:00:00.5Z`)."
);
ordered_by_instant!(
    Date,
    DateKind::Date,
    "Compares the days, months or years the two dates stand for; `None` when they overlap (`2024` and `2024-03`)."
);
ordered_by_instant!(
    Time,
    DateKind::Time,
    "Compares the times of day; `None` when their spans overlap (`10:00:00` and `10:00:00.5`)."
);

/// `YYYY-MM-DDThh:mm:ss[.fff]` + zone from UTC nanoseconds since 1970 and an offset in seconds; the fraction is
/// written with 3, 6 or 9 digits as needed.
pub(crate) fn format_date_time(utc_nanos: i128, offset_secs: i32) -> String {
    let local = utc_nanos + i128::from(offset_secs) * NANOS_PER_SEC;
    let days = local.div_euclid(NANOS_PER_DAY);
    let in_day = local.rem_euclid(NANOS_PER_DAY);
    let (y, mo, d) = civil_from_days(days as i64);
    let secs = (in_day / NANOS_PER_SEC) as u32;
    let nanos = (in_day % NANOS_PER_SEC) as u32;
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    push_fraction(&mut out, nanos);
    push_zone(&mut out, offset_secs);
    out
}

#[allow(clippy::manual_is_multiple_of)] // `u32::is_multiple_of` is newer than the crate's rust-version (1.80)
fn push_fraction(out: &mut String, nanos: u32) {
    if nanos == 0 {
    } else if nanos % 1_000_000 == 0 {
        out.push_str(&format!(".{:03}", nanos / 1_000_000));
    } else if nanos % 1_000 == 0 {
        out.push_str(&format!(".{:06}", nanos / 1_000));
    } else {
        out.push_str(&format!(".{nanos:09}"));
    }
}

fn push_zone(out: &mut String, offset_secs: i32) {
    if offset_secs == 0 {
        out.push('Z');
    } else {
        let sign = if offset_secs < 0 { '-' } else { '+' };
        let a = offset_secs.unsigned_abs();
        out.push_str(&format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60));
    }
}

fn now_nanos() -> i128 {
    let now = std::time::SystemTime::now();
    match now.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

impl Instant {
    /// The current time in UTC, to the millisecond (`2024-03-15T10:30:00.123Z`), from the system clock.
    pub fn now() -> Self {
        let millis = now_nanos().div_euclid(1_000_000) * 1_000_000;
        Instant::new(format_date_time(millis, 0)).expect("a formatted instant is valid")
    }

    /// Nanoseconds since 1970-01-01T00:00:00Z, and the offset of its time zone in seconds. `None` for a value
    /// kept by lenient reading although invalid.
    pub fn to_unix_nanos(&self) -> Option<(i128, i32)> {
        let p = parts(self.as_str(), DateKind::Instant)?;
        Some((p.span().start, p.offset?))
    }
}

impl DateTime {
    /// The current time in UTC, to the millisecond, from the system clock.
    pub fn now() -> Self {
        DateTime::new(Instant::now().as_str()).expect("an instant is a valid dateTime")
    }
}

/// A value that the target type cannot hold (too little precision, out of its range), or an invalid value kept
/// by lenient reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` cannot be converted to {target}: {reason}")]
pub struct DateConversionError {
    /// The text of the value (or the other crate's value, formatted).
    pub text: String,
    /// The type converted to.
    pub target: &'static str,
    /// Why not.
    pub reason: &'static str,
}

#[allow(dead_code)] // used by the `chrono` and `time` conversions
fn conversion_error(text: &str, target: &'static str, reason: &'static str) -> DateConversionError {
    DateConversionError { text: text.to_owned(), target, reason }
}

#[allow(dead_code)]
fn full_parts(text: &str, kind: DateKind, target: &'static str) -> Result<Parts, DateConversionError> {
    let p = parts(text, kind).ok_or_else(|| conversion_error(text, target, "the value is not valid"))?;
    if kind != DateKind::Time && p.day.is_none() {
        return Err(conversion_error(text, target, "the value has no day (only a year or month)"));
    }
    Ok(p)
}

#[allow(dead_code)]
fn invalid(e: InvalidDate) -> DateConversionError {
    DateConversionError { text: e.text, target: e.kind, reason: e.reason }
}

#[cfg(feature = "chrono")]
mod chrono_conversions {
    //! `chrono` conversions (feature `chrono`).
    use super::*;
    use chrono::{Datelike, FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone, Timelike};

    fn to_chrono(text: &str, kind: DateKind) -> Result<chrono::DateTime<FixedOffset>, DateConversionError> {
        const T: &str = "chrono::DateTime<FixedOffset>";
        let p = full_parts(text, kind, T)?;
        let ((h, m, s), offset) = match (p.time, p.offset) {
            (Some(t), Some(o)) => (t, o),
            _ => return Err(conversion_error(text, T, "the value has no time of day")),
        };
        let date = NaiveDate::from_ymd_opt(p.year as i32, p.month.unwrap_or(1), p.day.unwrap_or(1))
            .ok_or_else(|| conversion_error(text, T, "date out of range"))?;
        // chrono writes a leap second as second 59 with more than 1e9 nanoseconds.
        let (s, nanos) = if s == 60 { (59, p.nanos + 1_000_000_000) } else { (s, p.nanos) };
        let naive = date.and_time(
            NaiveTime::from_hms_nano_opt(h, m, s, nanos).ok_or_else(|| conversion_error(text, T, "time out of range"))?,
        );
        let zone = FixedOffset::east_opt(offset).ok_or_else(|| conversion_error(text, T, "time zone out of range"))?;
        zone.from_local_datetime(&naive).single().ok_or_else(|| conversion_error(text, T, "time out of range"))
    }

    fn from_chrono<Tz: TimeZone>(value: &chrono::DateTime<Tz>) -> String {
        let offset = value.offset().fix().local_minus_utc();
        let nanos = i128::from(value.timestamp()) * NANOS_PER_SEC + i128::from(value.timestamp_subsec_nanos() % 1_000_000_000);
        format_date_time(nanos, offset)
    }

    macro_rules! chrono_date_time {
        ($name:ident, $kind:expr) => {
            /// Exact to the nanosecond, with the value's time zone (a whole-minute offset within ±14:00).
            impl<Tz: TimeZone> TryFrom<chrono::DateTime<Tz>> for $name {
                type Error = DateConversionError;
                fn try_from(value: chrono::DateTime<Tz>) -> Result<Self, Self::Error> {
                    $name::new(from_chrono(&value)).map_err(invalid)
                }
            }
            /// Needs a time of day (with its time zone, which FHIR requires then).
            impl TryFrom<&$name> for chrono::DateTime<FixedOffset> {
                type Error = DateConversionError;
                fn try_from(value: &$name) -> Result<Self, Self::Error> {
                    to_chrono(value.as_str(), $kind)
                }
            }
        };
    }
    chrono_date_time!(Instant, DateKind::Instant);
    chrono_date_time!(DateTime, DateKind::DateTime);

    impl TryFrom<NaiveDate> for Date {
        type Error = DateConversionError;
        fn try_from(value: NaiveDate) -> Result<Self, Self::Error> {
            Date::new(format!("{:04}-{:02}-{:02}", value.year(), value.month(), value.day())).map_err(invalid)
        }
    }
    /// Needs a full date (`YYYY-MM-DD`).
    impl TryFrom<&Date> for NaiveDate {
        type Error = DateConversionError;
        fn try_from(value: &Date) -> Result<Self, Self::Error> {
            const T: &str = "chrono::NaiveDate";
            let p = full_parts(value.as_str(), DateKind::Date, T)?;
            NaiveDate::from_ymd_opt(p.year as i32, p.month.unwrap_or(1), p.day.unwrap_or(1))
                .ok_or_else(|| conversion_error(value.as_str(), T, "date out of range"))
        }
    }
    impl From<NaiveTime> for Time {
        fn from(value: NaiveTime) -> Self {
            let mut text = format!("{:02}:{:02}:{:02}", value.hour(), value.minute(), value.second());
            push_fraction(&mut text, value.nanosecond() % 1_000_000_000);
            Time::new(text).expect("a formatted time is valid")
        }
    }
    impl TryFrom<&Time> for NaiveTime {
        type Error = DateConversionError;
        fn try_from(value: &Time) -> Result<Self, Self::Error> {
            const T: &str = "chrono::NaiveTime";
            let p = full_parts(value.as_str(), DateKind::Time, T)?;
            let (h, m, s) = p.time.unwrap_or_default();
            let (s, nanos) = if s == 60 { (59, p.nanos + 1_000_000_000) } else { (s, p.nanos) };
            NaiveTime::from_hms_nano_opt(h, m, s, nanos).ok_or_else(|| conversion_error(value.as_str(), T, "time out of range"))
        }
    }
}

#[cfg(feature = "time")]
mod time_conversions {
    //! `time` conversions (feature `time`).
    use super::*;

    fn to_offset_date_time(text: &str, kind: DateKind) -> Result<time::OffsetDateTime, DateConversionError> {
        const T: &str = "time::OffsetDateTime";
        let p = full_parts(text, kind, T)?;
        let ((h, m, s), offset) = match (p.time, p.offset) {
            (Some(t), Some(o)) => (t, o),
            _ => return Err(conversion_error(text, T, "the value has no time of day")),
        };
        if s == 60 {
            return Err(conversion_error(text, T, "`time` has no leap seconds"));
        }
        let range = |_| conversion_error(text, T, "out of range");
        let date = time::Date::from_calendar_date(
            p.year as i32,
            time::Month::try_from(p.month.unwrap_or(1) as u8).map_err(range)?,
            p.day.unwrap_or(1) as u8,
        )
        .map_err(range)?;
        let t = time::Time::from_hms_nano(h as u8, m as u8, s as u8, p.nanos).map_err(range)?;
        let zone = time::UtcOffset::from_whole_seconds(offset).map_err(range)?;
        Ok(time::PrimitiveDateTime::new(date, t).assume_offset(zone))
    }

    macro_rules! time_date_time {
        ($name:ident, $kind:expr) => {
            /// Exact to the nanosecond, with the value's offset (a whole-minute offset within ±14:00).
            impl TryFrom<time::OffsetDateTime> for $name {
                type Error = DateConversionError;
                fn try_from(value: time::OffsetDateTime) -> Result<Self, Self::Error> {
                    $name::new(format_date_time(value.unix_timestamp_nanos(), value.offset().whole_seconds()))
                        .map_err(invalid)
                }
            }
            /// Needs a time of day (with its time zone, which FHIR requires then).
            impl TryFrom<&$name> for time::OffsetDateTime {
                type Error = DateConversionError;
                fn try_from(value: &$name) -> Result<Self, Self::Error> {
                    to_offset_date_time(value.as_str(), $kind)
                }
            }
        };
    }
    time_date_time!(Instant, DateKind::Instant);
    time_date_time!(DateTime, DateKind::DateTime);

    impl TryFrom<time::Date> for Date {
        type Error = DateConversionError;
        fn try_from(value: time::Date) -> Result<Self, Self::Error> {
            Date::new(format!("{:04}-{:02}-{:02}", value.year(), u8::from(value.month()), value.day())).map_err(invalid)
        }
    }
    /// Needs a full date (`YYYY-MM-DD`).
    impl TryFrom<&Date> for time::Date {
        type Error = DateConversionError;
        fn try_from(value: &Date) -> Result<Self, Self::Error> {
            const T: &str = "time::Date";
            let p = full_parts(value.as_str(), DateKind::Date, T)?;
            let range = |_| conversion_error(value.as_str(), T, "out of range");
            time::Date::from_calendar_date(
                p.year as i32,
                time::Month::try_from(p.month.unwrap_or(1) as u8).map_err(range)?,
                p.day.unwrap_or(1) as u8,
            )
            .map_err(range)
        }
    }
    impl From<time::Time> for Time {
        fn from(value: time::Time) -> Self {
            let mut text = format!("{:02}:{:02}:{:02}", value.hour(), value.minute(), value.second());
            push_fraction(&mut text, value.nanosecond());
            Time::new(text).expect("a formatted time is valid")
        }
    }
    impl TryFrom<&Time> for time::Time {
        type Error = DateConversionError;
        fn try_from(value: &Time) -> Result<Self, Self::Error> {
            const T: &str = "time::Time";
            let p = full_parts(value.as_str(), DateKind::Time, T)?;
            let (h, m, s) = p.time.unwrap_or_default();
            time::Time::from_hms_nano(h as u8, m as u8, s.min(59) as u8, p.nanos)
                .map_err(|_| conversion_error(value.as_str(), T, "out of range"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> DateTime {
        DateTime::new(s).unwrap()
    }

    #[test]
    fn the_issue_example_orders_by_instant() {
        assert!(dt("2024-01-01T10:00:00+05:00") < dt("2024-01-01T06:00:00Z"));
        assert!(dt("2024-01-01T06:00:00Z") > dt("2024-01-01T10:00:00+05:00"));
    }

    #[test]
    fn spans_order_only_when_they_do_not_overlap() {
        use Ordering::*;
        let cases = [
            ("2023", "2024-03", Some(Less)),
            ("2024", "2024-03", None),
            ("2024-02", "2024-03-01", Some(Less)),
            ("2024-03-01", "2024-03-01", Some(Equal)),
            // Same instant, written differently: equal instants, but not `==`.
            ("2024-01-01T10:00:00+05:00", "2024-01-01T05:00:00Z", Some(Equal)),
            ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00.000Z", None),
            ("2024-01-01T10:00:00.001Z", "2024-01-01T10:00:00.002Z", Some(Less)),
            // A date has no time zone: within 14 hours of its day no answer, beyond that one.
            ("2024-01-01", "2024-01-01T12:00:00Z", None),
            ("2024-01-01", "2024-01-02T13:00:00Z", None),
            ("2024-01-01", "2024-01-02T14:00:00Z", Some(Less)),
            ("2024-01-03", "2024-01-01T23:00:00Z", Some(Greater)),
            ("2023-12-31T23:59:60Z", "2024-01-01T00:00:01Z", Some(Less)),
        ];
        for (a, b, want) in cases {
            assert_eq!(dt(a).instant_cmp(&dt(b)), want, "{a} vs {b}");
            assert_eq!(dt(b).instant_cmp(&dt(a)), want.map(Ordering::reverse), "{b} vs {a}");
            let partial = if want == Some(Equal) && a != b { None } else { want };
            assert_eq!(dt(a).partial_cmp(&dt(b)), partial, "{a} vs {b}");
        }
        assert!(Date::new("2023").unwrap() < Date::new("2024-03").unwrap());
        assert_eq!(Date::new("2024").unwrap().partial_cmp(&Date::new("2024-03").unwrap()), None);
        assert!(Time::new("09:59:59.999").unwrap() < Time::new("10:00:00").unwrap());
        assert!(Instant::new("2024-01-01T00:00:00-14:00").unwrap() > Instant::new("2024-01-01T13:59:59Z").unwrap());
    }

    #[test]
    fn invalid_values_are_unordered() {
        let bad = DateTime(crate::small_text::SmallText::new("yesterday"));
        assert_eq!(bad.partial_cmp(&dt("2024")), None);
        assert_eq!(bad.partial_cmp(&bad.clone()), Some(Ordering::Equal));
    }

    #[test]
    fn calendar_arithmetic_round_trips() {
        for days in [-719_468 - 366, -1, 0, 1, 59, 60, 365, 10_957, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(format_date_time(1_700_000_000_123_000_000, 0), "2023-11-14T22:13:20.123Z");
        assert_eq!(format_date_time(1_700_000_000_000_000_000, 5 * 3600 + 1800), "2023-11-15T03:43:20+05:30");
        assert_eq!(format_date_time(1_700_000_000_000_000_500, -3600), "2023-11-14T21:13:20.000000500-01:00");
    }

    #[test]
    fn now_is_a_valid_instant_close_to_the_clock() {
        let before = now_nanos();
        let now = Instant::now();
        let (nanos, offset) = now.to_unix_nanos().unwrap();
        assert_eq!(offset, 0);
        assert!(now.as_str().ends_with('Z'));
        assert!((nanos - before).abs() < 60 * NANOS_PER_SEC, "{now}");
        assert!(DateTime::now().precision() >= Some(crate::Precision::Second));
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn chrono_conversions() {
        use chrono::{FixedOffset, NaiveDate, NaiveTime, TimeZone};
        let zone = FixedOffset::east_opt(5 * 3600).unwrap();
        let c = zone.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).unwrap() + chrono::Duration::milliseconds(250);
        let i = Instant::try_from(c).unwrap();
        assert_eq!(i.as_str(), "2024-01-01T10:00:00.250+05:00");
        assert_eq!(chrono::DateTime::<FixedOffset>::try_from(&i).unwrap(), c);
        let utc = chrono::Utc.with_ymd_and_hms(2024, 1, 1, 5, 0, 0).unwrap();
        assert_eq!(DateTime::try_from(utc).unwrap().as_str(), "2024-01-01T05:00:00Z");
        let e = chrono::DateTime::<FixedOffset>::try_from(&dt("2024-01")).unwrap_err();
        assert!(e.to_string().contains("no day"), "{e}");
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(NaiveDate::try_from(&Date::try_from(d).unwrap()).unwrap(), d);
        assert!(NaiveDate::try_from(&Date::new("2024").unwrap()).is_err());
        let t = NaiveTime::from_hms_milli_opt(23, 59, 1, 5).unwrap();
        assert_eq!(Time::from(t).as_str(), "23:59:01.005");
        assert_eq!(NaiveTime::try_from(&Time::from(t)).unwrap(), t);
    }

    #[cfg(feature = "time")]
    #[test]
    fn time_conversions() {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_000_000)
            .unwrap()
            .to_offset(time::UtcOffset::from_hms(-3, -30, 0).unwrap());
        let i = Instant::try_from(t).unwrap();
        assert_eq!(i.as_str(), "2023-11-14T18:43:20.123-03:30");
        assert_eq!(time::OffsetDateTime::try_from(&i).unwrap(), t);
        assert!(time::OffsetDateTime::try_from(&dt("2024-01-01")).is_err());
        let d = time::Date::from_calendar_date(2024, time::Month::March, 15).unwrap();
        assert_eq!(time::Date::try_from(&Date::try_from(d).unwrap()).unwrap(), d);
        let tt = time::Time::from_hms_micro(1, 2, 3, 4).unwrap();
        assert_eq!(Time::from(tt).as_str(), "01:02:03.000004");
        assert_eq!(time::Time::try_from(&Time::from(tt)).unwrap(), tt);
    }
}
