//! Optional `serde` support (feature `serde`): [`Fhir<T>`] wraps any model type so it can sit inside your own
//! serde types and go through `serde_json`, still read and written by this crate's lossless FHIR JSON code;
//! [`FhirLenient<T>`] reads leniently and keeps the problems found. Profile views (`r4::us_core::UsCorePatient`,
//! ...) implement `Serialize` and `Deserialize` themselves (deserializing checks the profile).
//!
//! ```
//! # #[cfg(feature = "r4-patient")] {
//! use fhir_models::{r4::Patient, Fhir};
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Message {
//!     kind: String,
//!     patient: Fhir<Patient>,
//! }
//! let m: Message = serde_json::from_str(r#"{"kind":"new","patient":{"resourceType":"Patient","id":"p"}}"#).unwrap();
//! assert_eq!(m.patient.id.as_deref(), Some("p")); // `Fhir<T>` derefs to `T`
//! assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"kind":"new","patient":{"resourceType":"Patient","id":"p"}}"#);
//! let patient: Patient = m.patient.into_inner();
//! # let _ = patient;
//! # }
//! ```
//!
//! It works wherever serde buffers content too: inside `#[serde(flatten)]`, internally tagged
//! (`#[serde(tag = "...")]`) and untagged enums. Exactness there: serde's buffer holds numbers as `f64`, so a
//! decimal in a buffered `Fhir<T>` reads as the shortest text of that `f64` (`1.50` becomes `1.5`) unless
//! `serde_json`'s `arbitrary_precision` feature is on; outside buffered positions decimals are always exact.
//!
//! ```
//! # #[cfg(all(feature = "r4-patient", feature = "r4-observation"))] {
//! use fhir_models::{r4::{Observation, Patient}, Fhir};
//! #[derive(serde::Serialize, serde::Deserialize)]
//! #[serde(tag = "type")]
//! enum Event {
//!     Admitted { patient: Fhir<Patient> },
//!     Measured(Fhir<Observation>),
//! }
//! let json = r#"{"type":"Measured","resourceType":"Observation","status":"final","code":{"text":"t"}}"#;
//! let e: Event = serde_json::from_str(json).unwrap();
//! assert!(matches!(&e, Event::Measured(o) if o.code.is_some()));
//! assert_eq!(serde_json::to_string(&e).unwrap(), json);
//! # }
//! ```

use crate::json::text::{unescape, Token, Tokens};
use crate::json::{FhirJson, Issue, Lenient};
use serde::de::{self, Error as _};
use serde::Serialize as _;
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde_json::value::RawValue;
use std::fmt::{self, Write as _};
use std::ops::{Deref, DerefMut};

/// A model value that implements `serde::Serialize` and `serde::Deserialize` through its FHIR JSON (strict
/// reading: the first problem is the serde error, with its FHIR path).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fhir<T>(pub T);

impl<T> Fhir<T> {
    /// The model value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Fhir<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Fhir<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> From<T> for Fhir<T> {
    fn from(value: T) -> Self {
        Fhir(value)
    }
}

impl<T: FhirJson> serde::Serialize for Fhir<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_json_text(&self.0.to_json(), serializer)
    }
}

impl<'de, T: FhirJson> serde::Deserialize<'de> for Fhir<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = json_text(deserializer)?;
        T::from_json(&text).map(Fhir).map_err(D::Error::custom)
    }
}

/// A model value read leniently through serde: every problem is kept in `issues` (with its FHIR path) instead
/// of failing; only text that is not JSON or holds no usable value is a serde error. Writes `value`.
///
/// ```
/// # #[cfg(feature = "r4-patient")] {
/// use fhir_models::{r4::Patient, FhirLenient};
/// let p: FhirLenient<Patient> = serde_json::from_str(r#"{"resourceType":"Patient","id":"p","shoeSize":44}"#).unwrap();
/// assert_eq!(p.id.as_deref(), Some("p"));
/// assert_eq!(p.issues[0].path, "Patient.shoeSize");
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FhirLenient<T> {
    /// What could be read.
    pub value: T,
    /// Every problem found, in input order.
    pub issues: Vec<Issue>,
}

impl<T> FhirLenient<T> {
    /// The model value.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for FhirLenient<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for FhirLenient<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T> From<Lenient<T>> for FhirLenient<T> {
    fn from(l: Lenient<T>) -> Self {
        FhirLenient { value: l.value, issues: l.issues }
    }
}

impl<T: FhirJson> serde::Serialize for FhirLenient<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_json_text(&self.value.to_json(), serializer)
    }
}

impl<'de, T: FhirJson> serde::Deserialize<'de> for FhirLenient<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = json_text(deserializer)?;
        T::from_json_lenient(&text).map(FhirLenient::from).map_err(D::Error::custom)
    }
}

// ----- JSON text in: from serde_json directly (exact, through `RawValue`) or from serde's buffered content ----

/// serde_json's private names for a raw value and (with `arbitrary_precision`) a number's text.
const RAW_TOKEN: &str = "$serde_json::private::RawValue";
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// The JSON text of the value at the deserializer. serde_json hands over the raw text (asked for by the name
/// of its raw value type); buffered content (flatten, tagged and untagged enums) is written out as JSON.
#[doc(hidden)]
pub fn json_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let mut out = String::new();
    deserializer.deserialize_newtype_struct(RAW_TOKEN, JsonText { out: &mut out })?;
    Ok(out)
}

/// Writes whatever serde value it is given as JSON text into `out`.
struct JsonText<'o> {
    out: &'o mut String,
}

impl<'de> de::DeserializeSeed<'de> for JsonText<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

fn push_json_string(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

impl<'de> de::Visitor<'de> for JsonText<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a FHIR JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        let _ = write!(self.out, "{v}");
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        let _ = write!(self.out, "{v}");
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        let n = serde_json::Number::from_f64(v).ok_or_else(|| E::custom("a number that is not finite is not JSON"))?;
        let _ = write!(self.out, "{n}");
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        push_json_string(self.out, v);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.out.push_str("null");
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_newtype_struct<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.out.push('[');
        let mut first = true;
        loop {
            let len = self.out.len();
            if !first {
                self.out.push(',');
            }
            if seq.next_element_seed(JsonText { out: self.out })?.is_none() {
                self.out.truncate(len);
                break;
            }
            first = false;
        }
        self.out.push(']');
        Ok(())
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            self.out.push_str("{}");
            return Ok(());
        };
        if first == RAW_TOKEN || first == NUMBER_TOKEN {
            // serde_json's raw text of the whole value, or (arbitrary_precision) a number's exact text.
            self.out.push_str(&map.next_value::<String>()?);
            return Ok(());
        }
        self.out.push('{');
        let mut key = Some(first);
        while let Some(k) = key {
            if self.out.len() > 1 && !self.out.ends_with('{') {
                self.out.push(',');
            }
            push_json_string(self.out, &k);
            self.out.push(':');
            map.next_value_seed(JsonText { out: self.out })?;
            key = map.next_key::<String>()?;
        }
        self.out.push('}');
        Ok(())
    }
}

// ----- JSON text out: as serde calls, so that it can be flattened or tagged; numbers keep their text ----------

/// A JSON value of this crate's output, as a tree of slices of the text.
enum Tree<'a> {
    Object(Vec<(&'a str, Tree<'a>)>),
    Array(Vec<Tree<'a>>),
    String(&'a str),
    Scalar(&'a str),
}

fn tree(json: &str) -> Option<Tree<'_>> {
    let mut stack: Vec<(Option<&str>, Tree<'_>)> = Vec::new();
    let mut key: Option<&str> = None;
    let mut done = None;
    for token in Tokens::new(json) {
        let value = match token {
            Token::BeginObject => {
                stack.push((key.take(), Tree::Object(Vec::new())));
                continue;
            }
            Token::BeginArray => {
                stack.push((key.take(), Tree::Array(Vec::new())));
                continue;
            }
            Token::Key(k) => {
                key = Some(k);
                continue;
            }
            Token::EndObject | Token::EndArray => {
                let (k, t) = stack.pop()?;
                key = k;
                t
            }
            Token::String(s) => Tree::String(s),
            Token::Scalar(s) => Tree::Scalar(s),
        };
        match stack.last_mut() {
            Some((_, Tree::Object(members))) => members.push((key.take()?, value)),
            Some((_, Tree::Array(items))) => items.push(value),
            Some(_) => return None,
            None => done = Some(value),
        }
    }
    done
}

impl serde::Serialize for Tree<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Tree::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    if k.contains('\\') {
                        map.serialize_entry(&unescape(&format!("\"{k}\"")), v)?;
                    } else {
                        map.serialize_entry(k, v)?;
                    }
                }
                map.end()
            }
            Tree::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Tree::String(s) => serializer.serialize_str(&unescape(s)),
            Tree::Scalar("true") => serializer.serialize_bool(true),
            Tree::Scalar("false") => serializer.serialize_bool(false),
            Tree::Scalar("null") => serializer.serialize_unit(),
            // A number: its exact text, which serde_json writes as is.
            Tree::Scalar(n) => RawValue::from_string((*n).to_owned()).map_err(S::Error::custom)?.serialize(serializer),
        }
    }
}

/// Serializes JSON text written by this crate as serde data (maps, sequences, strings; numbers as raw text).
#[doc(hidden)]
pub fn serialize_json_text<S: serde::Serializer>(json: &str, serializer: S) -> Result<S::Ok, S::Error> {
    tree(json).ok_or_else(|| S::Error::custom("invalid FHIR JSON from the writer"))?.serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_content_is_written_back_as_json() {
        let v: serde_json::Value = serde_json::from_str(r#"{"a":[1,-2,1.5,"x\"y",null,true,{}],"b":{"c":[]}}"#).unwrap();
        let text = json_text(v).unwrap();
        assert_eq!(text, r#"{"a":[1,-2,1.5,"x\"y",null,true,{}],"b":{"c":[]}}"#);
    }

    #[test]
    fn serialized_text_keeps_numbers_and_escapes() {
        let json = r#"{"a":[1.50,"x\"\u00e9",null,true,{"k\"":0}],"b":{}}"#;
        let mut out = Vec::new();
        serialize_json_text(json, &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), r#"{"a":[1.50,"x\"é",null,true,{"k\"":0}],"b":{}}"#);
    }
}
