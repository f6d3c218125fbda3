//! The values an expression yields: FHIRPath's system types and JSON nodes of the input.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value as Json;

use crate::types::TypeInfo;

/// An ordered collection of values: what every FHIRPath expression evaluates to.
pub type Collection<'a> = Vec<Value<'a>>;

/// One item of a [`Collection`].
///
/// System values (`Boolean` ... `Quantity`) are what literals, operators and functions produce; `Node` is a part of
/// the input JSON, borrowed, with its FHIR type when the engine knows it (see [`crate::types`]). A primitive node
/// (`Patient.birthDate`) converts to its system value with [`Value::to_system`].
///
/// The enum is `#[non_exhaustive]`: FHIRPath versions add types (`Long` in N2), so match with a `_` arm.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    Boolean(bool),
    Integer(i64),
    /// Exact decimal: `1.50` keeps its two decimal places.
    Decimal(Decimal),
    String(String),
    Date(Temporal),
    DateTime(Temporal),
    Time(Temporal),
    Quantity(Quantity),
    /// A node of the input document.
    Node(Node<'a>),
    /// The result of `type()`: a type's namespace (`System`, `FHIR`) and name; `.namespace` and `.name` read them.
    TypeInfo {
        namespace: &'static str,
        name: String,
    },
}

/// A node of the input JSON, with what the engine knows of its FHIR type.
#[derive(Clone, Debug)]
pub struct Node<'a> {
    /// The JSON value (`null` for a primitive that only has an extension).
    pub json: &'a Json,
    /// The `_name` sibling of a primitive (its `id` and `extension`), if any.
    pub ext: Option<&'a Json>,
    /// The FHIR type, when known (from `resourceType`, a choice suffix or the R4 type table).
    pub type_info: Option<TypeInfo>,
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.json == other.json && self.ext == other.ext
    }
}

pub(crate) static NULL: Json = Json::Null;

impl<'a> Node<'a> {
    /// A node without known type (the type of a resource is read from its `resourceType`).
    pub fn new(json: &'a Json) -> Self {
        let type_info = json
            .get("resourceType")
            .and_then(Json::as_str)
            .and_then(TypeInfo::resource);
        Node {
            json,
            ext: None,
            type_info,
        }
    }

    /// A node of a known FHIR type (an element an invariant is evaluated on: `Node::of_type(name, "HumanName")`);
    /// a type the R4 table does not know leaves the node untyped.
    pub fn of_type(json: &'a Json, type_name: &str) -> Self {
        Node {
            json,
            ext: None,
            type_info: TypeInfo::named(type_name),
        }
    }

    /// The FHIR type name (`"HumanName"`, `"date"`, `"Patient"`), if known.
    pub fn type_name(&self) -> Option<&'static str> {
        self.type_info.map(|t| t.name)
    }
}

impl<'a> Value<'a> {
    /// The value as a system value: a primitive node becomes its Boolean, Integer, Decimal, String, Date,
    /// DateTime or Time (by its FHIR type when known); system values and complex nodes are returned unchanged.
    pub fn to_system(&self) -> Value<'a> {
        match self {
            Value::Node(n) => node_to_system(n).unwrap_or_else(|| self.clone()),
            v => v.clone(),
        }
    }

    /// The JSON node, if this is one.
    pub fn as_node(&self) -> Option<&Node<'a>> {
        match self {
            Value::Node(n) => Some(n),
            _ => None,
        }
    }

    /// The value as a string if it is (or is a node holding) a string-like primitive.
    pub fn as_str(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Value::String(s) => Some(s.as_str().into()),
            Value::Node(n) => n.json.as_str().map(Into::into),
            _ => None,
        }
    }

    /// The name of this value's type as FHIRPath's `type()`/`is` see it: `System.Integer`, `FHIR.HumanName`, ...
    pub fn type_name(&self) -> (&'static str, Option<&'static str>) {
        match self {
            Value::Boolean(_) => ("System", Some("Boolean")),
            Value::Integer(_) => ("System", Some("Integer")),
            Value::Decimal(_) => ("System", Some("Decimal")),
            Value::String(_) => ("System", Some("String")),
            Value::Date(_) => ("System", Some("Date")),
            Value::DateTime(_) => ("System", Some("DateTime")),
            Value::Time(_) => ("System", Some("Time")),
            Value::Quantity(_) => ("System", Some("Quantity")),
            Value::Node(n) => ("FHIR", n.type_name()),
            Value::TypeInfo { .. } => ("System", Some("TypeInfo")),
        }
    }

    /// The value as JSON (system values to their FHIR JSON form; nodes cloned).
    pub fn to_json(&self) -> Json {
        match self {
            Value::Boolean(b) => Json::Bool(*b),
            Value::Integer(i) => Json::from(*i),
            Value::Decimal(d) => d.to_json(),
            Value::String(s) => Json::String(s.clone()),
            Value::Date(t) | Value::DateTime(t) | Value::Time(t) => Json::String(t.to_string()),
            Value::Quantity(q) => {
                let mut m = serde_json::Map::new();
                m.insert("value".into(), q.value.to_json());
                m.insert("unit".into(), Json::String(q.unit.clone()));
                Json::Object(m)
            }
            Value::Node(n) => n.json.clone(),
            Value::TypeInfo { namespace, name } => {
                serde_json::json!({"namespace": namespace, "name": name})
            }
        }
    }
}

fn node_to_system<'a>(n: &Node<'a>) -> Option<Value<'a>> {
    let ty = n.type_name();
    match n.json {
        Json::Bool(b) => Some(Value::Boolean(*b)),
        Json::Number(num) => {
            let text = num.to_string();
            if ty == Some("decimal") || text.contains(['.', 'e', 'E']) {
                Decimal::parse(&text).map(Value::Decimal)
            } else {
                text.parse().ok().map(Value::Integer)
            }
        }
        Json::String(s) => Some(match ty {
            Some("date") => Temporal::parse_date(s)
                .map(Value::Date)
                .unwrap_or_else(|| Value::String(s.clone())),
            Some("dateTime") | Some("instant") => Temporal::parse_datetime(s)
                .map(Value::DateTime)
                .unwrap_or_else(|| Value::String(s.clone())),
            Some("time") => Temporal::parse_time(s)
                .map(Value::Time)
                .unwrap_or_else(|| Value::String(s.clone())),
            Some("integer") | Some("positiveInt") | Some("unsignedInt") => s
                .parse()
                .map(Value::Integer)
                .unwrap_or_else(|_| Value::String(s.clone())),
            Some("decimal") => Decimal::parse(s)
                .map(Value::Decimal)
                .unwrap_or_else(|| Value::String(s.clone())),
            _ => Value::String(s.clone()),
        }),
        Json::Object(_)
            if ty == Some("Quantity")
                || ty == Some("Age")
                || ty == Some("Duration")
                || ty == Some("Distance")
                || ty == Some("Count")
                || ty == Some("SimpleQuantity")
                || ty == Some("MoneyQuantity") =>
        {
            Quantity::from_json(n.json).map(Value::Quantity)
        }
        _ => None,
    }
}

// ---- Decimal ------------------------------------------------------------------------------------------------------

/// An exact decimal number: `mantissa * 10^-scale`. The scale is kept, so `1.50` has two decimal places.
#[derive(Clone, Copy, Debug)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

const MAX_SCALE: u32 = 28;

impl Decimal {
    /// Parses `-12.340`, `1e3` style text (no `NaN`/`Infinity`).
    pub fn parse(s: &str) -> Option<Decimal> {
        let s = s.trim();
        let (base, exp) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
            None => (s, 0),
        };
        let (neg, digits) = match base.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, base.strip_prefix('+').unwrap_or(base)),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int.is_empty() && frac.is_empty()
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut mantissa: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa.checked_mul(10)?.checked_add((b - b'0') as i128)?;
        }
        let mut scale = frac.len() as i32 - exp;
        while scale < 0 {
            mantissa = mantissa.checked_mul(10)?;
            scale += 1;
        }
        let mut d = Decimal {
            mantissa: if neg { -mantissa } else { mantissa },
            scale: scale as u32,
        };
        while d.scale > MAX_SCALE {
            d = d.rescale_round(d.scale - 1);
        }
        Some(d)
    }

    pub fn from_i64(i: i64) -> Decimal {
        Decimal {
            mantissa: i as i128,
            scale: 0,
        }
    }

    /// Number of digits after the decimal point.
    pub fn scale(&self) -> u32 {
        self.scale
    }

    pub fn is_integer(&self) -> bool {
        self.mantissa % 10i128.pow(self.scale) == 0
    }

    pub fn to_f64(&self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    pub fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        let d = Decimal::parse(&format!("{f}"))?;
        Some(d)
    }

    /// The integer part, truncated toward zero, if it fits in an `i64`.
    pub fn trunc_i64(&self) -> Option<i64> {
        i64::try_from(self.mantissa / 10i128.pow(self.scale)).ok()
    }

    fn with_scale(&self, scale: u32) -> Option<i128> {
        if scale >= self.scale {
            self.mantissa
                .checked_mul(10i128.checked_pow(scale - self.scale)?)
        } else {
            Some(self.mantissa / 10i128.pow(self.scale - scale))
        }
    }

    /// Rounds half away from zero to `scale` places.
    pub fn rescale_round(&self, scale: u32) -> Decimal {
        if scale >= self.scale {
            return match self.with_scale(scale) {
                Some(m) => Decimal { mantissa: m, scale },
                None => *self,
            };
        }
        let div = 10i128.pow(self.scale - scale);
        let q = self.mantissa / div;
        let r = self.mantissa % div;
        let q = if r.abs() * 2 >= div {
            q + self.mantissa.signum()
        } else {
            q
        };
        Decimal { mantissa: q, scale }
    }

    /// Drops trailing zeros of the fraction.
    pub fn normalized(&self) -> Decimal {
        let mut d = *self;
        while d.scale > 0 && d.mantissa % 10 == 0 {
            d.mantissa /= 10;
            d.scale -= 1;
        }
        d
    }

    pub fn add(&self, o: &Decimal) -> Option<Decimal> {
        let s = self.scale.max(o.scale);
        Some(Decimal {
            mantissa: self.with_scale(s)?.checked_add(o.with_scale(s)?)?,
            scale: s,
        })
    }

    pub fn sub(&self, o: &Decimal) -> Option<Decimal> {
        self.add(&o.neg())
    }

    pub fn neg(&self) -> Decimal {
        Decimal {
            mantissa: -self.mantissa,
            scale: self.scale,
        }
    }

    pub fn abs(&self) -> Decimal {
        Decimal {
            mantissa: self.mantissa.abs(),
            scale: self.scale,
        }
    }

    pub fn mul(&self, o: &Decimal) -> Option<Decimal> {
        let mut d = Decimal {
            mantissa: self.mantissa.checked_mul(o.mantissa)?,
            scale: self.scale + o.scale,
        };
        while d.scale > MAX_SCALE {
            d = d.rescale_round(d.scale - 1);
        }
        Some(d)
    }

    /// Division with 8 decimal places (trailing zeros dropped); `None` on division by zero.
    pub fn div(&self, o: &Decimal) -> Option<Decimal> {
        if o.mantissa == 0 {
            return None;
        }
        // self / o = (m1 / 10^s1) / (m2 / 10^s2); compute with 9 extra digits then round to 8.
        let target = 9u32;
        let num = self
            .mantissa
            .checked_mul(10i128.checked_pow(target + o.scale)?)?;
        let q = num / o.mantissa; // scale = target + self.scale
        let d = Decimal {
            mantissa: q,
            scale: target + self.scale,
        };
        Some(d.rescale_round(8.min(d.scale)).normalized())
    }

    /// Truncated division (`div`).
    pub fn div_trunc(&self, o: &Decimal) -> Option<Decimal> {
        if o.mantissa == 0 {
            return None;
        }
        let s = self.scale.max(o.scale);
        Some(Decimal {
            mantissa: self.with_scale(s)? / o.with_scale(s)?,
            scale: 0,
        })
    }

    /// Remainder of truncated division (`mod`).
    pub fn rem(&self, o: &Decimal) -> Option<Decimal> {
        if o.mantissa == 0 {
            return None;
        }
        let s = self.scale.max(o.scale);
        Some(Decimal {
            mantissa: self.with_scale(s)? % o.with_scale(s)?,
            scale: s,
        })
    }

    pub fn floor(&self) -> Decimal {
        let div = 10i128.pow(self.scale);
        let q = self.mantissa.div_euclid(div);
        Decimal {
            mantissa: q,
            scale: 0,
        }
    }

    pub fn ceil(&self) -> Decimal {
        let div = 10i128.pow(self.scale);
        let q = -((-self.mantissa).div_euclid(div));
        Decimal {
            mantissa: q,
            scale: 0,
        }
    }

    /// Divides an integral decimal by 10^p exactly (the result has `p` decimal places).
    pub fn div_exact_pow10(&self, p: u32) -> Decimal {
        Decimal {
            mantissa: self.mantissa,
            scale: self.scale + p,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    pub fn signum(&self) -> i32 {
        self.mantissa.signum() as i32
    }

    fn to_json(self) -> Json {
        if self.scale == 0 {
            if let Ok(i) = i64::try_from(self.mantissa) {
                return Json::from(i);
            }
        }
        serde_json::Number::from_f64(self.to_f64())
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }
}

impl PartialEq for Decimal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Decimal {}
impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        let s = self.scale.max(other.scale);
        match (self.with_scale(s), other.with_scale(s)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self
                .to_f64()
                .partial_cmp(&other.to_f64())
                .unwrap_or(Ordering::Equal),
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.mantissa < 0;
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let (int, frac) = if digits.len() > scale {
            (
                digits[..digits.len() - scale].to_string(),
                digits[digits.len() - scale..].to_string(),
            )
        } else {
            (
                "0".to_string(),
                format!("{}{}", "0".repeat(scale - digits.len()), digits),
            )
        };
        if neg {
            f.write_str("-")?;
        }
        f.write_str(&int)?;
        if scale > 0 {
            write!(f, ".{frac}")?;
        }
        Ok(())
    }
}

// ---- Date, DateTime, Time -----------------------------------------------------------------------------------------

/// How much of a date/time is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Precision {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
}

/// A date, date-time or time with its precision and optional time-zone offset (minutes east of UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Temporal {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub millis: u16,
    /// Precision of the date part (`Year`..`Day`), or of the time for a time-only value.
    pub precision: Precision,
    pub tz_minutes: Option<i16>,
    /// A `Time` (no date part).
    pub time_only: bool,
    /// A `DateTime` literal written with a `T` (the `@2014T` form), even when it only has a date.
    pub has_t: bool,
}

fn num<T: std::str::FromStr>(s: &str, len: usize) -> Option<T> {
    if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

impl Temporal {
    /// 0000-01-01T00:00:00.000 at year precision, no zone: the base of the parsers.
    pub(crate) fn empty() -> Temporal {
        Temporal {
            year: 0,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
            precision: Precision::Year,
            tz_minutes: None,
            time_only: false,
            has_t: false,
        }
    }

    pub fn has_time(&self) -> bool {
        self.precision >= Precision::Hour
    }

    /// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`.
    pub fn parse_date(s: &str) -> Option<Temporal> {
        let mut t = Temporal::empty();
        let parts: Vec<&str> = s.split('-').collect();
        t.year = num(parts.first()?, 4)?;
        if parts.len() > 3 {
            return None;
        }
        if let Some(m) = parts.get(1) {
            t.month = num(m, 2)?;
            if !(1..=12).contains(&t.month) {
                return None;
            }
            t.precision = Precision::Month;
        }
        if let Some(d) = parts.get(2) {
            t.day = num(d, 2)?;
            if t.day < 1 || t.day > days_in_month(t.year, t.month) {
                return None;
            }
            t.precision = Precision::Day;
        }
        Some(t)
    }

    /// A date, optionally followed by `T` and a time with an optional zone (`Z`, `+hh:mm`).
    pub fn parse_datetime(s: &str) -> Option<Temporal> {
        let (date, rest) = match s.find('T') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        };
        let mut t = Temporal::parse_date(date)?;
        if let Some(rest) = rest {
            t.has_t = true;
            if rest.is_empty() {
                return Some(t);
            }
            if t.precision != Precision::Day {
                return None;
            }
            let (time, tz) = split_tz(rest)?;
            let tt = Temporal::parse_time(time)?;
            t.hour = tt.hour;
            t.minute = tt.minute;
            t.second = tt.second;
            t.millis = tt.millis;
            t.precision = tt.precision;
            t.tz_minutes = tz;
        } else if date.len() > 10 {
            return None;
        }
        Some(t)
    }

    /// `hh`, `hh:mm`, `hh:mm:ss`, `hh:mm:ss.fff`.
    pub fn parse_time(s: &str) -> Option<Temporal> {
        let mut t = Temporal::empty();
        t.time_only = true;
        let (hms, frac) = match s.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let parts: Vec<&str> = hms.split(':').collect();
        if parts.len() > 3 {
            return None;
        }
        t.hour = num(parts.first()?, 2)?;
        t.precision = Precision::Hour;
        if t.hour > 23 {
            return None;
        }
        if let Some(m) = parts.get(1) {
            t.minute = num(m, 2)?;
            t.precision = Precision::Minute;
            if t.minute > 59 {
                return None;
            }
        }
        if let Some(sec) = parts.get(2) {
            t.second = num(sec, 2)?;
            t.precision = Precision::Second;
            if t.second > 59 {
                return None;
            }
        }
        if let Some(frac) = frac {
            if t.precision != Precision::Second
                || frac.is_empty()
                || !frac.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let ms: String = frac.chars().chain("000".chars()).take(3).collect();
            t.millis = ms.parse().ok()?;
            t.precision = Precision::Millisecond;
        }
        Some(t)
    }

    /// Components as a comparable vector, zone-normalized to UTC when the value has a zone.
    fn key(&self) -> [i64; 7] {
        let mut t = *self;
        if let Some(tz) = t.tz_minutes {
            if t.precision >= Precision::Hour && !t.time_only {
                t = t.add_minutes(-(tz as i64));
            }
        }
        [
            t.year as i64,
            t.month as i64,
            t.day as i64,
            t.hour as i64,
            t.minute as i64,
            t.second as i64,
            t.millis as i64,
        ]
    }

    fn add_minutes(&self, minutes: i64) -> Temporal {
        let mut t = *self;
        let total = t.hour as i64 * 60 + t.minute as i64 + minutes;
        let days = total.div_euclid(1440);
        let rem = total.rem_euclid(1440);
        t.hour = (rem / 60) as u8;
        t.minute = (rem % 60) as u8;
        if days != 0 && !t.time_only {
            t = t.add_days(days);
        }
        t
    }

    fn add_days(&self, days: i64) -> Temporal {
        let mut t = *self;
        let n = days_from_civil(t.year as i64, t.month as i64, t.day as i64) + days;
        let (y, m, d) = civil_from_days(n);
        t.year = y as i32;
        t.month = m as u8;
        t.day = d as u8;
        t
    }

    /// Adds a calendar amount (`unit` = year, month, week, day, hour, minute, second, millisecond). Amounts below
    /// the value's precision are truncated as FHIRPath requires.
    pub fn add(&self, amount: i64, unit: &str) -> Option<Temporal> {
        let mut t = *self;
        match unit {
            "year" => t.year = t.year.checked_add(i32::try_from(amount).ok()?)?,
            "month" => {
                if t.precision < Precision::Month {
                    return Some(t);
                }
                let m = t.year as i64 * 12 + (t.month as i64 - 1) + amount;
                t.year = m.div_euclid(12) as i32;
                t.month = (m.rem_euclid(12) + 1) as u8;
            }
            "week" => return self.add(amount * 7, "day"),
            "day" => {
                if t.precision < Precision::Day {
                    return Some(t);
                }
                t = t.add_days(amount);
            }
            "hour" => return self.add(amount * 60, "minute"),
            "minute" => {
                if !t.time_only && t.precision < Precision::Hour {
                    return Some(t);
                }
                t = t.add_minutes(amount);
            }
            "second" => return self.add(amount * 1000, "millisecond"),
            "millisecond" => {
                let total = (t.second as i64 * 1000 + t.millis as i64) + amount;
                let mins = total.div_euclid(60_000);
                let rem = total.rem_euclid(60_000);
                t.second = (rem / 1000) as u8;
                t.millis = (rem % 1000) as u16;
                t = t.add_minutes(mins);
            }
            _ => return None,
        }
        if !t.time_only && t.precision >= Precision::Day {
            let dim = days_in_month(t.year, t.month);
            if t.day > dim {
                t.day = dim;
            }
        }
        if !(1..=9999).contains(&t.year) && !t.time_only {
            return None;
        }
        Some(t)
    }

    fn precision_rank(&self) -> u8 {
        // seconds and milliseconds are one precision for comparisons
        match self.precision {
            Precision::Millisecond => Precision::Second as u8,
            p => p as u8,
        }
    }

    /// Compares two values; `None` when the answer depends on digits one of them does not have.
    pub fn partial_compare(&self, other: &Temporal) -> Option<Ordering> {
        // a time-zone on one side only: the order is unknown
        if !self.time_only
            && self.has_time()
            && other.has_time()
            && self.tz_minutes.is_some() != other.tz_minutes.is_some()
        {
            return None;
        }
        let a = self.key();
        let b = other.key();
        let offset = if self.time_only { 3 } else { 0 };
        let pa = self.precision_rank() as usize;
        let pb = other.precision_rank() as usize;
        let common = pa.min(pb);
        for i in offset..=common.min(6) {
            let idx = if i == Precision::Second as usize {
                5
            } else {
                i
            };
            if a[idx] != b[idx] {
                return Some(a[idx].cmp(&b[idx]));
            }
        }
        if common >= Precision::Second as usize {
            return Some(a[6].cmp(&b[6]));
        }
        if pa != pb {
            return None;
        }
        Some(Ordering::Equal)
    }

    /// The `Value::Date` for a date-only value, `Value::DateTime` otherwise.
    pub fn precision(&self) -> Precision {
        self.precision
    }
}

fn split_tz(s: &str) -> Option<(&str, Option<i16>)> {
    if let Some(t) = s.strip_suffix('Z') {
        return Some((t, Some(0)));
    }
    if let Some(i) = s.rfind(['+', '-']) {
        let (t, z) = s.split_at(i);
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let (h, m) = z[1..].split_once(':')?;
        let h: i16 = num(h, 2)?;
        let m: i16 = num(m, 2)?;
        return Some((t, Some(sign * (h * 60 + m))));
    }
    Some((s, None))
}

pub(crate) fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Temporal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.time_only {
            write!(f, "{:04}", self.year)?;
            if self.precision >= Precision::Month {
                write!(f, "-{:02}", self.month)?;
            }
            if self.precision >= Precision::Day {
                write!(f, "-{:02}", self.day)?;
            }
            if self.precision >= Precision::Hour {
                f.write_str("T")?;
            } else if self.has_t {
                return f.write_str("T");
            }
        }
        if self.precision >= Precision::Hour {
            write!(f, "{:02}", self.hour)?;
        }
        if self.precision >= Precision::Minute {
            write!(f, ":{:02}", self.minute)?;
        }
        if self.precision >= Precision::Second {
            write!(f, ":{:02}", self.second)?;
        }
        if self.precision >= Precision::Millisecond {
            write!(f, ".{:03}", self.millis)?;
        }
        if let (Some(tz), false) = (self.tz_minutes, self.time_only) {
            if self.precision >= Precision::Hour {
                if tz == 0 {
                    f.write_str("Z")?;
                } else {
                    let sign = if tz < 0 { '-' } else { '+' };
                    write!(f, "{sign}{:02}:{:02}", tz.abs() / 60, tz.abs() % 60)?;
                }
            }
        }
        Ok(())
    }
}

// ---- Quantity -----------------------------------------------------------------------------------------------------

/// A quantity: an exact value and a unit (a UCUM code, or a calendar duration keyword such as `year`).
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    pub value: Decimal,
    pub unit: String,
}

impl Quantity {
    /// Reads a FHIR Quantity (`{"value": 5, "unit": "mg", "code": "mg", "system": "http://unitsofmeasure.org"}`).
    pub fn from_json(j: &Json) -> Option<Quantity> {
        let value = Decimal::parse(&j.get("value")?.as_number()?.to_string())?;
        let ucum = j.get("system").and_then(Json::as_str) == Some("http://unitsofmeasure.org");
        let unit = match (
            j.get("code").and_then(Json::as_str),
            j.get("unit").and_then(Json::as_str),
        ) {
            (Some(c), _) if ucum => c,
            (_, Some(u)) => u,
            (Some(c), None) => c,
            (None, None) => "1",
        };
        Some(Quantity {
            value,
            unit: unit.to_string(),
        })
    }

    /// The calendar keyword for a unit (`years` -> `year`, UCUM `a` -> `year` only when `ucum_too`).
    pub fn calendar_unit(unit: &str, ucum_too: bool) -> Option<&'static str> {
        let keyword = match unit.trim_end_matches('s') {
            "year" => Some("year"),
            "month" => Some("month"),
            "week" => Some("week"),
            "day" => Some("day"),
            "hour" => Some("hour"),
            "minute" => Some("minute"),
            "second" => Some("second"),
            "millisecond" => Some("millisecond"),
            _ => None,
        };
        if keyword.is_some() || !ucum_too {
            return keyword;
        }
        match unit {
            "a" => Some("year"),
            "mo" => Some("month"),
            "wk" => Some("week"),
            "d" => Some("day"),
            "h" => Some("hour"),
            "min" => Some("minute"),
            "s" => Some("second"),
            "ms" => Some("millisecond"),
            _ => None,
        }
    }

    /// Expresses the quantity in a base unit, for comparing `1 'g'` with `1000 'mg'`.
    pub(crate) fn canonical(&self) -> (Decimal, String) {
        let unit = Quantity::calendar_unit(&self.unit, true).map(|u| match u {
            "week" => "wk",
            "day" => "d",
            "hour" => "h",
            "minute" => "min",
            "second" => "s",
            "millisecond" => "ms",
            "year" => "a",
            _ => "mo",
        });
        let unit = unit.unwrap_or(self.unit.as_str());
        let (factor, base) = match unit {
            "mg" => ("0.001", "g"),
            "ug" => ("0.000001", "g"),
            "kg" => ("1000", "g"),
            "cm" => ("0.01", "m"),
            "mm" => ("0.001", "m"),
            "km" => ("1000", "m"),
            "ms" => ("0.001", "s"),
            "min" => ("60", "s"),
            "h" => ("3600", "s"),
            "d" => ("86400", "s"),
            "wk" => ("604800", "s"),
            "mL" => ("0.001", "L"),
            "dL" => ("0.1", "L"),
            "[in_i]" => ("0.0254", "m"),
            "[lb_av]" => ("453.59237", "g"),
            other => ("1", other),
        };
        let f = Decimal::parse(factor).unwrap_or(Decimal::from_i64(1));
        (self.value.mul(&f).unwrap_or(self.value), base.to_string())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if Quantity::calendar_unit(&self.unit, false).is_some() {
            write!(f, "{} {}", self.value, self.unit)
        } else {
            write!(f, "{} '{}'", self.value, self.unit)
        }
    }
}

impl fmt::Display for Value<'_> {
    /// The `toString()` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Boolean(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::String(s) => f.write_str(s),
            Value::Date(t) | Value::DateTime(t) | Value::Time(t) => write!(f, "{t}"),
            Value::Quantity(q) => write!(f, "{q}"),
            Value::Node(n) => match n.json {
                Json::String(s) => f.write_str(s),
                j => write!(f, "{j}"),
            },
            Value::TypeInfo { namespace, name } => write!(f, "{namespace}.{name}"),
        }
    }
}
