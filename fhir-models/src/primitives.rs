//! FHIR primitive values: the element wrapper [`Primitive`], exact [`Decimal`]s, dates and times that keep
//! their precision, and the trait behind required-binding code enums. The string-like primitives hold a
//! [`FhirString`](crate::FhirString).

use crate::json::{ParseError, Reader, Writer};
use crate::small_text::SmallText;
use crate::FhirString;
use std::fmt;

/// A primitive element: its value, plus the `id` and `extension` FHIR JSON carries in the `_name` sibling.
///
/// A primitive may have extensions and no value (for example a `data-absent-reason`), so `value` is optional.
/// Each version module names this with its own extension type, e.g. `fhir_models::r4::Primitive<T>`.
///
/// The id, extensions and (DSTU2) comments live in one boxed [`ElementParts`], absent for the great majority
/// of primitives that have none: that keeps every struct small, which makes reading, cloning and dropping
/// faster and the generated code smaller.
#[derive(Debug, Clone, PartialEq)]
pub struct Primitive<T, E> {
    /// The value, when there is one.
    pub value: Option<T>,
    /// The `_name` part: id, extensions, comments. `None` when there is none of them.
    pub element: Option<Box<ElementParts<E>>>,
}

/// The parts of a primitive element that FHIR JSON writes in the `_name` object.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementParts<E> {
    /// `Element.id`.
    pub id: Option<String>,
    /// Extensions.
    pub extension: Vec<E>,
    /// DSTU2 only: `fhir_comments` (XML comments carried in JSON). Always empty in R4.
    pub fhir_comments: Vec<String>,
}

impl<E> Default for ElementParts<E> {
    fn default() -> Self {
        ElementParts { id: None, extension: Vec::new(), fhir_comments: Vec::new() }
    }
}

impl<E> ElementParts<E> {
    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.extension.is_empty() && self.fhir_comments.is_empty()
    }
}

impl<T, E> Default for Primitive<T, E> {
    fn default() -> Self {
        Primitive { value: None, element: None }
    }
}

impl<T, E> Primitive<T, E> {
    /// A primitive holding just a value.
    pub fn new(value: T) -> Self {
        Primitive { value: Some(value), element: None }
    }
    /// The value, when there is one.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }
    /// `Element.id`, from the `_name` object.
    pub fn id(&self) -> Option<&str> {
        self.element.as_ref()?.id.as_deref()
    }
    /// Extensions, from the `_name` object.
    pub fn extension(&self) -> &[E] {
        self.element.as_ref().map_or(&[], |e| e.extension.as_slice())
    }
    /// DSTU2 `fhir_comments` of the `_name` object.
    pub fn fhir_comments(&self) -> &[String] {
        self.element.as_ref().map_or(&[], |e| e.fhir_comments.as_slice())
    }
    /// The `_name` parts, created empty when there are none yet (to add an id or extensions).
    pub fn element_mut(&mut self) -> &mut ElementParts<E> {
        self.element.get_or_insert_with(Default::default)
    }
    /// Adds an extension (builder style).
    pub fn with_extension(mut self, extension: E) -> Self {
        self.element_mut().extension.push(extension);
        self
    }
    /// True when there is neither a value nor an id nor an extension.
    pub fn is_empty(&self) -> bool {
        self.value.is_none() && !self.has_element_part()
    }
    /// True when there is something for the `_name` object: an id, extensions or comments.
    pub fn has_element_part(&self) -> bool {
        self.element.as_ref().is_some_and(|e| !e.is_empty())
    }
}

impl<T, E> From<T> for Primitive<T, E> {
    fn from(value: T) -> Self {
        Primitive::new(value)
    }
}

impl<E> From<&str> for Primitive<FhirString, E> {
    fn from(value: &str) -> Self {
        Primitive::new(value.into())
    }
}

impl<E> From<String> for Primitive<FhirString, E> {
    fn from(value: String) -> Self {
        Primitive::new(value.into())
    }
}

impl<E> Primitive<FhirString, E> {
    /// The string value, when there is one.
    pub fn as_str(&self) -> Option<&str> {
        self.value.as_deref()
    }
}

/// A Rust type that holds the value of a FHIR primitive.
pub trait PrimitiveValue: Sized {
    /// Reads the JSON value at the reader's position into `slot` (which is `None`); leaves it `None` when
    /// lenient reading reported the value as unusable. The value is built in its slot: returned through a
    /// `Result` and copied there, the inline text of strings, decimals and dates stalled on the copy.
    fn read_value_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError>;
    /// Writes the JSON value.
    fn write_value(&self, w: &mut Writer);
}

impl PrimitiveValue for bool {
    fn read_value_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
        *slot = r.read_bool()?;
        Ok(())
    }
    fn write_value(&self, w: &mut Writer) {
        w.raw(if *self { "true" } else { "false" })
    }
}

impl PrimitiveValue for String {
    fn read_value_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
        *slot = r.read_string("a string")?.map(|s| s.into_owned());
        Ok(())
    }
    fn write_value(&self, w: &mut Writer) {
        w.string(self)
    }
}

fn read_integer<T: std::str::FromStr>(r: &mut Reader<'_>, what: &str) -> Result<Option<T>, ParseError> {
    let start = r.value_start();
    let Some(text) = r.read_number(what)? else { return Ok(None) };
    match text.parse::<T>() {
        Ok(v) => Ok(Some(v)),
        Err(_) => {
            r.invalid_value(start, format!("`{text}` is not {what}"))?;
            Ok(None)
        }
    }
}

/// FHIR `integer` (32-bit signed).
impl PrimitiveValue for i32 {
    fn read_value_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
        *slot = read_integer(r, "a 32-bit integer")?;
        Ok(())
    }
    fn write_value(&self, w: &mut Writer) {
        w.integer(i64::from(*self))
    }
}

/// FHIR `unsignedInt` and `positiveInt`.
impl PrimitiveValue for u32 {
    fn read_value_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
        *slot = read_integer(r, "a non-negative 32-bit integer")?;
        Ok(())
    }
    fn write_value(&self, w: &mut Writer) {
        w.integer(i64::from(*self))
    }
}

/// FHIR `integer64` (R5) and any 64-bit integer.
impl PrimitiveValue for i64 {
    fn read_value_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
        *slot = read_integer(r, "a 64-bit integer")?;
        Ok(())
    }
    fn write_value(&self, w: &mut Writer) {
        w.integer(*self)
    }
}

/// An exact FHIR `decimal`: the number's text as written, so `1.50` stays `1.50` and `1e2` stays `1e2`.
///
/// Equality compares the text (FHIR gives `1.50` a precision `1.5` does not have); use [`Decimal::to_f64`] for
/// arithmetic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal(SmallText<22>);

/// The text is not a JSON number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a decimal number")]
pub struct InvalidDecimal(pub String);

impl Decimal {
    /// A decimal from its text; the text must be a JSON number.
    pub fn new(text: impl Into<String>) -> Result<Self, InvalidDecimal> {
        let text = text.into();
        if is_json_number(&text) {
            Ok(Decimal(SmallText::from_string(text)))
        } else {
            Err(InvalidDecimal(text))
        }
    }
    /// The number's text, exactly as read or given.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
    /// The nearest `f64`.
    pub fn to_f64(&self) -> f64 {
        // The text is a validated JSON number, which Rust's float parser accepts.
        self.0.as_str().parse().unwrap_or(f64::NAN)
    }
}

fn is_json_number(s: &str) -> bool {
    crate::json::json_number_len(s.as_bytes()) == Ok(s.len())
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl std::str::FromStr for Decimal {
    type Err = InvalidDecimal;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::new(s)
    }
}

impl From<i64> for Decimal {
    fn from(v: i64) -> Self {
        Decimal(SmallText::from_string(v.to_string()))
    }
}

impl PrimitiveValue for Decimal {
    fn read_value_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
        // Short number text is kept inline: no allocation for the decimals of real data.
        if let Some(text) = r.read_number("a decimal number")? {
            *slot = Some(Decimal(SmallText::new(text)));
        }
        Ok(())
    }
    fn write_value(&self, w: &mut Writer) {
        w.raw(self.0.as_str())
    }
}

/// How much of a date or time was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    /// `2024`
    Year,
    /// `2024-03`
    Month,
    /// `2024-03-15`
    Day,
    /// `2024-03-15T10:30:00+01:00`, or a time `10:30:00`
    Second,
    /// With a fraction of a second.
    Fraction,
}

/// The text is not a valid FHIR date, dateTime, instant or time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid FHIR {kind}: {reason}")]
pub struct InvalidDate {
    /// The text.
    pub text: String,
    /// `date`, `dateTime`, `instant` or `time`.
    pub kind: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DateKind {
    Date,
    DateTime,
    Instant,
    Time,
}

impl DateKind {
    fn name(self) -> &'static str {
        match self {
            DateKind::Date => "date",
            DateKind::DateTime => "dateTime",
            DateKind::Instant => "instant",
            DateKind::Time => "time",
        }
    }
}

pub(crate) fn num(b: &[u8], at: usize, len: usize) -> Option<u32> {
    let part = b.get(at..at + len)?;
    part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
}

#[allow(clippy::manual_is_multiple_of)] // `u32::is_multiple_of` is newer than the crate's rust-version (1.80)
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `hh:mm:ss(.f+)?` at `at`; returns the end and whether a fraction was present.
fn check_time(b: &[u8], at: usize) -> Result<(usize, bool), &'static str> {
    let h = num(b, at, 2).ok_or("hours must be two digits")?;
    let m = (b.get(at + 2) == Some(&b':')).then(|| num(b, at + 3, 2)).flatten().ok_or("minutes must be `:mm`")?;
    let s = (b.get(at + 5) == Some(&b':')).then(|| num(b, at + 6, 2)).flatten().ok_or("seconds must be `:ss`")?;
    if h > 23 || m > 59 || s > 60 {
        return Err("time out of range");
    }
    let mut i = at + 8;
    let mut fraction = false;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return Err("digits must follow the decimal point of the seconds");
        }
        fraction = true;
    }
    Ok((i, fraction))
}

pub(crate) fn check(text: &str, kind: DateKind) -> Result<Precision, InvalidDate> {
    let err = |reason| InvalidDate { text: text.to_owned(), kind: kind.name(), reason };
    let b = text.as_bytes();
    if kind == DateKind::Time {
        let (end, fraction) = check_time(b, 0).map_err(err)?;
        if end != b.len() {
            return Err(err("unexpected text after the time"));
        }
        return Ok(if fraction { Precision::Fraction } else { Precision::Second });
    }
    let year = num(b, 0, 4).ok_or_else(|| err("the year must be four digits"))?;
    let mut precision = Precision::Year;
    let mut i = 4;
    if b.get(i) == Some(&b'-') {
        let month = num(b, 5, 2).filter(|m| (1..=12).contains(m)).ok_or_else(|| err("the month must be 01 to 12"))?;
        precision = Precision::Month;
        i = 7;
        if b.get(i) == Some(&b'-') {
            let day = num(b, 8, 2)
                .filter(|d| *d >= 1 && *d <= days_in_month(year, month))
                .ok_or_else(|| err("the day is not in the month"))?;
            let _ = day;
            precision = Precision::Day;
            i = 10;
        }
    }
    if b.get(i) == Some(&b'T') && kind != DateKind::Date && precision == Precision::Day {
        let (end, fraction) = check_time(b, i + 1).map_err(err)?;
        precision = if fraction { Precision::Fraction } else { Precision::Second };
        i = end;
        match b.get(i) {
            Some(b'Z') => i += 1,
            Some(b'+' | b'-') => {
                let h = num(b, i + 1, 2);
                let m = (b.get(i + 3) == Some(&b':')).then(|| num(b, i + 4, 2)).flatten();
                match (h, m) {
                    (Some(h), Some(m)) if h <= 14 && m <= 59 => i += 6,
                    _ => return Err(err("the time zone must be `Z` or `+hh:mm`")),
                }
            }
            _ => return Err(err("a time of day needs a time zone")),
        }
    }
    if i != b.len() {
        return Err(err("unexpected text"));
    }
    if kind == DateKind::Instant && precision < Precision::Second {
        return Err(err("an instant needs a time of day and a time zone"));
    }
    Ok(precision)
}

macro_rules! date_type {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        ///
        /// Holds the text as written (precision and time zone kept); validated when read or built with `new`.
        /// `==` compares the text; `<` and `>` compare the instants or spans of time (`PartialOrd`, see
        /// `instant_cmp`).
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(pub(crate) SmallText<22>);

        impl $name {
            /// Validates `text`.
            pub fn new(text: impl Into<String>) -> Result<Self, InvalidDate> {
                let text = text.into();
                check(&text, $kind)?;
                Ok($name(SmallText::from_string(text)))
            }
            /// The text, exactly as read or given.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
            /// How much was given. `None` for a value kept by lenient reading although invalid.
            pub fn precision(&self) -> Option<Precision> {
                check(self.as_str(), $kind).ok()
            }
            /// The year (`None` for a time, or an invalid value).
            pub fn year(&self) -> Option<u32> {
                if $kind == DateKind::Time { None } else { num(self.as_str().as_bytes(), 0, 4) }
            }
            /// The month, when given.
            pub fn month(&self) -> Option<u32> {
                if $kind == DateKind::Time || self.as_str().as_bytes().get(4) != Some(&b'-') { None } else { num(self.as_str().as_bytes(), 5, 2) }
            }
            /// The day of the month, when given.
            pub fn day(&self) -> Option<u32> {
                if $kind == DateKind::Time || self.as_str().as_bytes().get(7) != Some(&b'-') { None } else { num(self.as_str().as_bytes(), 8, 2) }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidDate;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::new(s)
            }
        }

        impl PrimitiveValue for $name {
            fn read_value_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
                *slot = read_date(r, $kind)?.map($name);
                Ok(())
            }
            fn write_value(&self, w: &mut Writer) {
                w.string(self.as_str())
            }
        }
    };
}

/// Reads a date-like string; an invalid one is reported and, in lenient mode, kept as written. Dates of up to
/// 22 bytes (`2024-03-15T10:30:00Z`) are kept inline, without an allocation.
fn read_date(r: &mut Reader<'_>, kind: DateKind) -> Result<Option<SmallText<22>>, ParseError> {
    let start = r.value_start();
    let Some(text) = r.read_string(kind.name())? else { return Ok(None) };
    if let Err(e) = check(&text, kind) {
        r.invalid_value(start, e.to_string())?;
    }
    Ok(Some(SmallText::new(&text)))
}

date_type!(
    /// A FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    Date, DateKind::Date
);
date_type!(
    /// A FHIR `dateTime`: a date, or a date and time of day with time zone.
    DateTime, DateKind::DateTime
);
date_type!(
    /// A FHIR `instant`: a date and time to the second at least, with time zone.
    Instant, DateKind::Instant
);
date_type!(
    /// A FHIR `time`: `hh:mm:ss` with optional fraction.
    Time, DateKind::Time
);

/// Reads a code, for every code enum (one copy, not one per enum): `known(code)` makes the enum's variant for
/// a code of the value set and answers whether there is one. A code that is not in `value_set` is reported and
/// returned, for the enum's unrecognized variant.
#[inline(never)]
fn read_code(
    r: &mut Reader<'_>,
    value_set: &str,
    known: &mut dyn FnMut(&str) -> bool,
) -> Result<Option<String>, ParseError> {
    let start = r.value_start();
    let Some(text) = r.read_string("a code")? else { return Ok(None) };
    if known(&text) {
        return Ok(None);
    }
    r.unknown_code(start, &text, value_set)?;
    Ok(Some(text.into_owned()))
}

/// A code enum generated for a `required` binding. Unknown codes are kept (wire-compatible) and reported.
pub trait CodeEnum: Sized {
    /// Canonical URL of the value set.
    const VALUE_SET: &'static str;
    /// The variant for a code of the value set.
    fn from_code(code: &str) -> Option<Self>;
    /// A code outside the value set (the enum's `Unrecognized` variant).
    fn unrecognized(code: String) -> Self;
    /// The code, as on the wire. (`Display` writes it too.)
    fn code(&self) -> &str;
    /// The value set's display text for the code (`"Female"` for `female`), when it has one; `None` for an
    /// unrecognized code.
    fn display(&self) -> Option<&'static str> {
        None
    }
}

/// The codes of one code enum, in variant order, with a hash index built on first use: generated
/// `CodeEnum::from_code` finds the variant's index here in about one comparison, however many codes the value
/// set has (a `match` on strings compares them one after another: 180 for `Currencies`).
///
/// ```
/// use fhir_models::__private::CodeTable;
/// static CODES: CodeTable = CodeTable::new(&["active", "inactive", "entered-in-error"]);
/// assert_eq!(CODES.index("entered-in-error"), Some(2));
/// assert_eq!(CODES.index("Active"), None);
/// ```
#[doc(hidden)]
pub struct CodeTable {
    codes: &'static [&'static str],
    /// Open addressing: `slots[hash & mask]` holds `index + 1` of a code (0: empty), a power of two at least
    /// twice the number of codes long.
    slots: std::sync::OnceLock<Box<[u16]>>,
}

/// Up to this many codes a table is searched in order (cheaper than hashing the code).
const LINEAR_CODES: usize = 4;

impl CodeTable {
    /// A table of `codes` (distinct, at most `u16::MAX - 1` of them), the index of each its variant's.
    pub const fn new(codes: &'static [&'static str]) -> Self {
        CodeTable { codes, slots: std::sync::OnceLock::new() }
    }

    /// The index of `code` in the table.
    #[inline(never)]
    pub fn index(&self, code: &str) -> Option<usize> {
        if self.codes.len() <= LINEAR_CODES {
            return self.codes.iter().position(|c| *c == code);
        }
        let slots = self.slots.get_or_init(|| self.build());
        let mask = slots.len() - 1;
        let mut at = code_hash(code.as_bytes()) & mask;
        loop {
            match slots[at] {
                0 => return None,
                k => {
                    let i = usize::from(k) - 1;
                    if self.codes[i] == code {
                        return Some(i);
                    }
                }
            }
            at = (at + 1) & mask;
        }
    }

    fn build(&self) -> Box<[u16]> {
        let len = (self.codes.len() * 2).next_power_of_two();
        let mut slots = vec![0u16; len].into_boxed_slice();
        for (i, code) in self.codes.iter().enumerate() {
            let mut at = code_hash(code.as_bytes()) & (len - 1);
            while slots[at] != 0 {
                at = (at + 1) & (len - 1);
            }
            // `new` documents the bound; a longer table would only make lookups of its last codes fail.
            slots[at] = u16::try_from(i + 1).unwrap_or(0);
        }
        slots
    }
}

/// A fast hash of a short code (FxHash's mixing, a word at a time).
#[inline]
fn code_hash(b: &[u8]) -> usize {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(K);
    // The multiplication carries every input bit into the high bits, which the table's mask must see.
    (h >> 40) as usize
}

impl<C: CodeEnum> PrimitiveValue for C {
    fn read_value_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
        if let Some(unknown) = read_code(r, C::VALUE_SET, &mut |code| {
            *slot = C::from_code(code);
            slot.is_some()
        })? {
            *slot = Some(C::unrecognized(unknown));
        }
        Ok(())
    }
    fn write_value(&self, w: &mut Writer) {
        w.string(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::CodeTable;

    #[test]
    fn code_tables_find_every_code_and_only_those() {
        // Sizes on both sides of the linear search, and a table as large as the largest value sets (with codes
        // that differ in one byte, share prefixes, or are longer than a word).
        let long: Vec<&'static str> = (0..600)
            .map(|i| &*Box::leak(format!("{}{}", ["A", "code-", "urn:iso:std:iso:4217:"][i % 3], i).into_boxed_str()))
            .collect();
        let long: &'static [&'static str] = Box::leak(long.into_boxed_slice());
        for codes in [&["a"][..], &["a", "b", "c", "d"], &["AED", "AFN", "ALL", "AMD", "ANG"], long] {
            let table = CodeTable::new(codes);
            for (i, code) in codes.iter().enumerate() {
                assert_eq!(table.index(code), Some(i), "{code}");
            }
            for absent in ["", "e", "AE", "AEDX", "aed", "code-", "urn:iso:std:iso:4217:600", "code-1 "] {
                assert_eq!(table.index(absent), None, "{absent}");
            }
        }
    }
}
