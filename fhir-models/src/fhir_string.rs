//! [`FhirString`]: the value of the string-like FHIR primitives, short text inline.

use crate::json::{ParseError, Reader, Writer};
use crate::primitives::PrimitiveValue;
use crate::small_text::SmallText;
use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// The most bytes of text a [`FhirString`] holds without allocating.
const INLINE: usize = 22;

/// The value of a string-like FHIR primitive (`string`, `code`, `id`, `uri`, `url`, `canonical`, `oid`,
/// `uuid`, `markdown`, `base64Binary`, `xhtml`): text that reads like a `&str`, stored without an allocation
/// when it is short.
///
/// Most string values of real FHIR data are short (about three in four are at most 22 bytes: codes, ids,
/// systems' short forms, names, dates as text), and one heap allocation for each was the largest allocator cost
/// of reading a big Bundle. A `FhirString` is as big as a `String` (24 bytes); text of up to 22 bytes (UTF-8)
/// lives in the value itself, longer text in one heap buffer. Its equality, order and hash are those of `str`,
/// so it compares with `&str` and `String` and works as a `HashMap` key looked up by `&str`.
///
/// ```
/// use fhir_models::FhirString;
/// use std::collections::HashMap;
///
/// let code = FhirString::from("final");
/// assert_eq!(code, "final");
/// assert_eq!(code.len(), 5); // `str`'s methods, through `Deref`
/// assert!(code.starts_with("fin"));
///
/// let text: FhirString = String::from("a longer text that lives on the heap").into();
/// let back: String = text.into(); // the heap buffer moves, no copy
/// assert_eq!(back, "a longer text that lives on the heap");
///
/// let mut counts: HashMap<FhirString, u32> = HashMap::new();
/// counts.insert("amended".into(), 2);
/// assert_eq!(counts.get("amended"), Some(&2));
/// ```
///
/// In the models it is the value of a [`Primitive`](crate::Primitive):
///
/// ```
/// # #[cfg(feature = "r4-patient")] {
/// use fhir_models::{FhirJson, prelude::*, r4::{HumanName, Patient}};
/// let patient = Patient { name: vec![HumanName { family: Some("Chalmers".into()), ..Default::default() }], ..Default::default() };
/// assert_eq!(patient.name[0].family.as_str(), Some("Chalmers"));
/// let family: &str = patient.name[0].family.value().unwrap();
/// assert_eq!(family, "Chalmers");
/// # }
/// ```
#[derive(Clone)]
pub struct FhirString(SmallText<INLINE>);

impl FhirString {
    /// The empty string (no allocation).
    pub const fn new() -> Self {
        FhirString(SmallText::empty())
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The text as a `String`; long text gives up its heap buffer without a copy.
    pub fn into_string(self) -> String {
        self.0.into_string()
    }

    /// Appends text. Short results stay inline; appending to long text reallocates its buffer, so build long
    /// text in a `String` and convert it once.
    pub fn push_str(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let len = self.len() + text.len();
        if len <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..self.len()].copy_from_slice(self.as_bytes());
            buf[self.len()..len].copy_from_slice(text.as_bytes());
            // Both parts are whole `str`s, so the concatenation is UTF-8.
            self.0 = SmallText::new(std::str::from_utf8(&buf[..len]).unwrap_or_default());
        } else {
            let mut s = String::with_capacity(len);
            s.push_str(self.as_str());
            s.push_str(text);
            self.0 = SmallText::from_string(s);
        }
    }

    /// Appends one character.
    pub fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0u8; 4]))
    }

    #[cfg(test)]
    fn is_inline(&self) -> bool {
        self.0.is_inline()
    }
}

impl Default for FhirString {
    fn default() -> Self {
        FhirString::new()
    }
}

impl Deref for FhirString {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for FhirString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for FhirString {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for FhirString {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for FhirString {
    #[inline]
    fn from(text: &str) -> Self {
        FhirString(SmallText::new(text))
    }
}

impl From<&String> for FhirString {
    fn from(text: &String) -> Self {
        FhirString::from(text.as_str())
    }
}

/// Long text keeps the `String`'s buffer (no copy); short text moves inline and the buffer is freed.
impl From<String> for FhirString {
    fn from(text: String) -> Self {
        FhirString(SmallText::from_string(text))
    }
}

impl From<Box<str>> for FhirString {
    fn from(text: Box<str>) -> Self {
        FhirString::from(text.into_string())
    }
}

impl From<Cow<'_, str>> for FhirString {
    #[inline]
    fn from(text: Cow<'_, str>) -> Self {
        match text {
            Cow::Borrowed(s) => FhirString::from(s),
            Cow::Owned(s) => FhirString::from(s),
        }
    }
}

impl From<char> for FhirString {
    fn from(c: char) -> Self {
        FhirString::from(&*c.encode_utf8(&mut [0u8; 4]))
    }
}

impl From<FhirString> for String {
    fn from(text: FhirString) -> Self {
        text.into_string()
    }
}

impl From<&FhirString> for String {
    fn from(text: &FhirString) -> Self {
        text.as_str().to_owned()
    }
}

impl std::str::FromStr for FhirString {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(FhirString::from(s))
    }
}

impl PartialEq for FhirString {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for FhirString {}

macro_rules! eq_str {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for FhirString {
            #[inline]
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<FhirString> for $other {
            #[inline]
            fn eq(&self, other: &FhirString) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}
eq_str!(str, &str, String, Cow<'_, str>);

impl PartialOrd for FhirString {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FhirString {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// The hash of the text as a `str` (so lookups by `&str` through `Borrow` find it).
impl Hash for FhirString {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Display for FhirString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for FhirString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<'a> Extend<&'a str> for FhirString {
    fn extend<I: IntoIterator<Item = &'a str>>(&mut self, iter: I) {
        for s in iter {
            self.push_str(s);
        }
    }
}

impl Extend<char> for FhirString {
    fn extend<I: IntoIterator<Item = char>>(&mut self, iter: I) {
        let mut s = std::mem::take(self).into_string();
        s.extend(iter);
        *self = FhirString::from(s);
    }
}

impl<'a> FromIterator<&'a str> for FhirString {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        FhirString::from(iter.into_iter().collect::<String>())
    }
}

impl FromIterator<char> for FhirString {
    fn from_iter<I: IntoIterator<Item = char>>(iter: I) -> Self {
        FhirString::from(iter.into_iter().collect::<String>())
    }
}

impl PrimitiveValue for FhirString {
    /// Text without escapes is borrowed from the input: short text is copied inline, no allocation.
    #[inline]
    fn read_value_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError> {
        if let Some(text) = r.read_string("a string")? {
            *slot = Some(FhirString::from(text));
        }
        Ok(())
    }
    fn write_value(&self, w: &mut Writer) {
        w.string(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for FhirString {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for FhirString {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = FhirString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FhirString, E> {
                Ok(FhirString::from(v))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<FhirString, E> {
                Ok(FhirString::from(v))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::FhirString;
    use std::collections::{BTreeSet, HashMap};

    #[test]
    fn short_text_is_inline_long_text_on_the_heap() {
        for text in ["", "a", "final", "http://loinc.org", "exactly-22-bytes-long!", "é-ü-漢字", "twenty-three bytes long"] {
            let s = FhirString::from(text);
            assert_eq!(s, text);
            assert_eq!(s.is_inline(), text.len() <= 22, "{text}");
            assert_eq!(FhirString::from(text.to_owned()), s);
            assert_eq!(s.clone().into_string(), text);
        }
        assert_eq!(std::mem::size_of::<FhirString>(), std::mem::size_of::<String>());
        assert_eq!(std::mem::size_of::<Option<FhirString>>(), std::mem::size_of::<String>());
    }

    #[test]
    fn a_long_string_keeps_its_buffer_both_ways() {
        let text = String::from("a longer text that lives on the heap");
        let ptr = text.as_ptr();
        let s = FhirString::from(text);
        assert_eq!(s.as_ptr(), ptr);
        let back = String::from(s);
        assert_eq!(back.as_ptr(), ptr);
    }

    #[test]
    fn compares_orders_and_hashes_like_str() {
        let s = FhirString::from("final");
        // Both directions, with `&str`, `str` and `String`.
        let owned = String::from("final");
        assert_eq!(s, "final");
        assert_eq!("final", s);
        assert_eq!(s, *"final");
        assert_eq!(*"final", s);
        assert_eq!(s, owned);
        assert_eq!(owned, s);
        assert!(s != "Final");
        let set: BTreeSet<FhirString> = ["b", "a", "c"].into_iter().map(FhirString::from).collect();
        assert_eq!(set.iter().map(|s| s.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        let mut map = HashMap::new();
        map.insert(FhirString::from("a key longer than twenty-two bytes"), 1);
        map.insert(FhirString::from("short"), 2);
        assert_eq!(map.get("a key longer than twenty-two bytes"), Some(&1));
        assert_eq!(map.get("short"), Some(&2));
        assert_eq!(format!("{s} {s:?}"), "final \"final\"");
        assert_eq!("x".parse::<FhirString>().unwrap(), "x");
        assert_eq!(FhirString::default(), "");
    }

    #[test]
    fn pushing_moves_to_the_heap_when_the_text_grows() {
        let mut s = FhirString::new();
        s.push_str("0123456789");
        s.push('é');
        s.extend(["abc", "def"]);
        assert!(s.is_inline());
        assert_eq!(s, "0123456789éabcdef");
        s.extend("ghijklmnop".chars());
        assert!(!s.is_inline());
        assert_eq!(s, "0123456789éabcdefghijklmnop");
        s.push_str("!");
        assert_eq!(s, "0123456789éabcdefghijklmnop!");
        assert_eq!(["a", "b"].into_iter().collect::<FhirString>(), "ab");
    }

    #[cfg(feature = "r4-base")]
    #[test]
    fn the_reader_keeps_short_values_inline_escaped_or_not() {
        use crate::FhirJson;
        let c = crate::r4::Coding::from_json(
            r#"{"system":"http://loinc.org","code":"a\"b","display":"Glucose [Mass/volume] in Serum or Plasma"}"#,
        )
        .unwrap();
        let value = |p: &Option<crate::r4::Primitive<FhirString>>| p.as_ref().unwrap().value.clone().unwrap();
        assert!(value(&c.system).is_inline() && value(&c.system) == "http://loinc.org");
        assert!(value(&c.code).is_inline() && value(&c.code) == "a\"b");
        assert!(!value(&c.display).is_inline() && value(&c.display) == "Glucose [Mass/volume] in Serum or Plasma");
        assert_eq!(c.to_json(), r#"{"system":"http://loinc.org","code":"a\"b","display":"Glucose [Mass/volume] in Serum or Plasma"}"#);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_reads_and_writes_the_text() {
        let s: FhirString = serde_json::from_str(r#""a\"b""#).unwrap();
        assert_eq!(s, "a\"b");
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""a\"b""#);
        assert!(serde_json::from_str::<FhirString>("1").is_err());
    }
}
