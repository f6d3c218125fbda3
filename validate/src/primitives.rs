//! The value domain of each FHIR primitive type: which JSON kind it is written as, its regular expression (the
//! ones the R4 specification gives on each primitive's `value` element) and its range, plus the checks a regex
//! cannot make (calendar dates, base64 padding, 32-bit integers).

use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

/// Whether `code` names a FHIR primitive type (R4 and DSTU2).
pub fn is_primitive(code: &str) -> bool {
    matches!(
        code,
        "boolean"
            | "integer"
            | "integer64"
            | "unsignedInt"
            | "positiveInt"
            | "decimal"
            | "string"
            | "markdown"
            | "code"
            | "id"
            | "uri"
            | "url"
            | "canonical"
            | "oid"
            | "uuid"
            | "base64Binary"
            | "instant"
            | "date"
            | "dateTime"
            | "time"
            | "xhtml"
    )
}

const YEAR: &str = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)";
const TIME: &str = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?";
const ZONE: &str = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))";

/// One lazily compiled, anchored regex per primitive format. The patterns are constants of this module; a
/// failure to compile one is a bug that this module's tests catch.
macro_rules! formats {
    ($($name:ident => $pattern:expr;)*) => {$(
        fn $name() -> &'static Regex {
            static R: OnceLock<Regex> = OnceLock::new();
            R.get_or_init(|| Regex::new(&format!("^(?:{})$", $pattern)).expect("primitive regex compiles"))
        }
    )*};
}

formats! {
    date_re => format!(r"{YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?");
    date_time_re => format!(r"{YEAR}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T{TIME}{ZONE})?)?)?");
    instant_re => format!(r"{YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T{TIME}{ZONE}");
    time_re => TIME;
    id_re => r"[A-Za-z0-9\-\.]{1,64}";
    code_re => r"[^\s]+( [^\s]+)*";
    oid_re => r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+";
    uuid_re => r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
}

/// Whether the calendar date at the start of `text` (`YYYY`, `YYYY-MM` or `YYYY-MM-DD...`) exists (no 30 February).
fn calendar_ok(text: &str) -> bool {
    let (Some(y), Some(m), Some(d)) = (text.get(0..4), text.get(5..7), text.get(8..10)) else { return true };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<u32>(), m.parse::<u32>(), d.parse::<u32>()) else { return true };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if leap => 29,
        _ => 28,
    };
    d <= days
}

fn base64_ok(text: &str) -> bool {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !compact.len().is_multiple_of(4) {
        return false;
    }
    let pad = compact.iter().rev().take_while(|&&b| b == b'=').count();
    if pad > 2 {
        return false;
    }
    compact[..compact.len() - pad].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

/// Checks one primitive JSON value against its type. `Ok(())` when it conforms, else the reason (for the issue
/// message); the caller knows the path. `Err((true, ..))` means the JSON kind itself is wrong.
pub fn check(code: &str, value: &Value) -> Result<(), (bool, String)> {
    let kind = |what: &str| Err((true, format!("a {code} is written as a JSON {what}, not {}", json_kind(value))));
    match code {
        "boolean" => return if value.is_boolean() { Ok(()) } else { kind("boolean") },
        "integer" | "unsignedInt" | "positiveInt" => {
            let Some(n) = value.as_i64().or_else(|| value.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            else {
                return if value.is_number() {
                    Err((false, format!("{value} is not a whole number")))
                } else {
                    kind("number")
                };
            };
            if value.as_i64().is_none() {
                return Err((
                    false,
                    format!("{value} is written with a fraction or exponent; an {code} is a whole number"),
                ));
            }
            let (lo, name) = match code {
                "unsignedInt" => (0, "at least 0"),
                "positiveInt" => (1, "at least 1"),
                _ => (i64::from(i32::MIN), "a 32-bit integer"),
            };
            if n < lo || n > i64::from(i32::MAX) {
                return Err((false, format!("{n} is out of range: a {code} is {name} and at most 2147483647")));
            }
            return Ok(());
        }
        "decimal" => return if value.is_number() { Ok(()) } else { kind("number") },
        "integer64" => {
            return match value.as_str() {
                Some(s) if s.parse::<i64>().is_ok() => Ok(()),
                Some(s) => Err((false, format!("'{s}' is not a 64-bit integer"))),
                None => kind("string"),
            }
        }
        _ => {}
    }
    let Some(s) = value.as_str() else { return kind("string") };
    if s.is_empty() {
        return Err((false, "an empty string is not a value (leave the element out)".to_owned()));
    }
    let ok = match code {
        "string" | "markdown" | "xhtml" => !s.trim().is_empty(),
        "id" => id_re().is_match(s),
        "code" => code_re().is_match(s),
        "uri" | "url" | "canonical" => !s.chars().any(char::is_whitespace),
        "oid" => oid_re().is_match(s),
        "uuid" => uuid_re().is_match(s),
        "base64Binary" => base64_ok(s),
        "date" => date_re().is_match(s) && calendar_ok(s),
        "dateTime" => date_time_re().is_match(s) && calendar_ok(s),
        "instant" => instant_re().is_match(s) && calendar_ok(s),
        "time" => time_re().is_match(s),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        let hint = match code {
            "id" => " (1 to 64 of A-Z, a-z, 0-9, '-' and '.')",
            "dateTime" => " (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz, a real calendar date)",
            "date" => " (YYYY, YYYY-MM or YYYY-MM-DD, a real calendar date)",
            "instant" => " (YYYY-MM-DDThh:mm:ss with a time zone)",
            "code" => " (no leading, trailing or double whitespace)",
            "base64Binary" => " (base64: groups of 4 of A-Z a-z 0-9 + / with = padding)",
            "string" | "markdown" => " (not only whitespace)",
            _ => "",
        };
        Err((false, format!("'{s}' is not a valid {code}{hint}")))
    }
}

/// The JSON kind of a value, for messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(code: &str, v: Value) -> bool {
        check(code, &v).is_ok()
    }

    #[test]
    fn numbers_have_their_ranges() {
        assert!(!ok("positiveInt", json!(0)));
        assert!(ok("positiveInt", json!(1)));
        assert!(ok("unsignedInt", json!(0)));
        assert!(!ok("unsignedInt", json!(-1)));
        assert!(!ok("integer", json!(2147483648i64)));
        assert!(!ok("integer", json!(1.5)));
        assert!(!ok("integer", json!("1")));
        assert!(ok("decimal", json!(1.50)));
        assert!(!ok("boolean", json!("true")));
    }

    #[test]
    fn strings_have_their_formats() {
        assert!(!ok("id", json!("a b")));
        assert!(!ok("id", json!("a".repeat(65))));
        assert!(ok("id", json!("a".repeat(64))));
        assert!(!ok("string", json!("")));
        assert!(!ok("string", json!("  ")));
        assert!(ok("base64Binary", json!("aGVsbG8=")));
        assert!(!ok("base64Binary", json!("aGVsbG8")));
        assert!(!ok("base64Binary", json!("a$==")));
        assert!(ok("date", json!("2024-02-29")));
        assert!(!ok("date", json!("2023-02-29")));
        assert!(!ok("date", json!("2023-13")));
        assert!(ok("dateTime", json!("2015-02-07T13:28:17.239+02:00")));
        assert!(!ok("dateTime", json!("2015-02-07T13:28:17")));
        assert!(!ok("instant", json!("2015-02-07")));
        assert!(ok("time", json!("23:59:60")));
        assert!(!ok("code", json!(" a")));
        assert!(ok("uri", json!("urn:oid:1.2")));
        assert!(!ok("uri", json!("a b")));
        assert!(!ok("oid", json!("urn:oid:1.02")));
    }
}
