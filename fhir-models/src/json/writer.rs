//! The JSON writer generated `write_json` functions drive: compact or pretty, FHIR's `_field` layout for
//! primitives, and number text written exactly as it was read.

use super::reader::{has_special, scan_string, Choice};
use super::FhirJson;
use crate::primitives::{ElementParts, Primitive, PrimitiveValue};

/// Appends `,` (when `comma`), `"`, `text` and `tail` (a closing quote, or `":` after a key) to `out` with one
/// test of the capacity: a `push` per piece tests it again each time and keeps the length in memory between
/// pieces, and keys and strings are most of what writing does.
#[inline(always)]
#[allow(unsafe_code)]
fn append_quoted(out: &mut String, comma: bool, text: &str, tail: &'static str) {
    let (len, comma) = (text.len(), usize::from(comma));
    out.reserve(len + tail.len() + 2);
    // SAFETY: `reserve` made room for the comma, the quote, `text` and `tail` after the old length, and only
    // that room is written (the comma's byte always, overwritten by the quote when there is no comma), before
    // the length is set to cover exactly the bytes written. All of them are whole `str`s or ASCII: UTF-8.
    unsafe {
        let v = out.as_mut_vec();
        let start = v.len();
        let p = v.as_mut_ptr().add(start);
        p.write(b',');
        let q = p.add(comma);
        q.write(b'"');
        std::ptr::copy_nonoverlapping(text.as_ptr(), q.add(1), len);
        std::ptr::copy_nonoverlapping(tail.as_ptr(), q.add(1 + len), tail.len());
        v.set_len(start + comma + 1 + len + tail.len());
    }
}

/// Output buffer plus layout state.
pub struct Writer {
    out: String,
    indent: Option<usize>,
    depth: usize,
    first: bool,
}

impl Writer {
    /// A writer of compact JSON.
    pub fn compact() -> Self {
        Writer { out: String::with_capacity(1024), indent: None, depth: 0, first: true }
    }

    /// A writer of JSON indented by `indent` spaces.
    pub fn pretty(indent: usize) -> Self {
        Writer { indent: Some(indent), ..Writer::compact() }
    }

    /// A writer of compact JSON that appends to `out` (whose text is kept): many values written into one
    /// buffer, with no allocation once it is large enough. [`Writer::finish`] gives the buffer back.
    ///
    /// ```
    /// use fhir_models::json::Writer;
    /// let mut w = Writer::compact_into(String::from("[1,"));
    /// w.raw("2");
    /// assert_eq!(w.finish(), "[1,2");
    /// ```
    pub fn compact_into(out: String) -> Self {
        Writer { out, indent: None, depth: 0, first: true }
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.out
    }

    fn newline(&mut self) {
        if let Some(n) = self.indent {
            self.out.push('\n');
            for _ in 0..n * self.depth {
                self.out.push(' ');
            }
        }
    }

    /// Separator before an object member or array item.
    pub(crate) fn sep(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.newline();
    }

    /// `{`
    #[doc(hidden)]
    pub fn begin_object(&mut self) {
        self.out.push('{');
        self.depth += 1;
        self.first = true;
    }

    /// `}`
    #[doc(hidden)]
    pub fn end_object(&mut self) {
        self.depth -= 1;
        if !self.first {
            self.newline();
        }
        self.out.push('}');
        self.first = false;
    }

    pub(crate) fn begin_array(&mut self) {
        self.out.push('[');
        self.depth += 1;
        self.first = true;
    }

    pub(crate) fn end_array(&mut self) {
        self.depth -= 1;
        if !self.first {
            self.newline();
        }
        self.out.push(']');
        self.first = false;
    }

    /// An object key made of up to three parts (`_` + `value` + `String`); FHIR names need no escaping.
    #[inline]
    #[doc(hidden)]
    pub fn key(&mut self, a: &str, b: &str, c: &str) {
        // Nearly every key is one part (a field's name, the other parts empty literals at the call, so this test
        // folds away there): that case has a function of its own, with half the arguments (keys were a fifth of
        // writing's instructions).
        if b.is_empty() && c.is_empty() {
            self.name_key(a);
        } else {
            self.parts_key(a, b, c);
        }
    }

    #[inline(never)]
    fn name_key(&mut self, name: &str) {
        if self.indent.is_none() {
            // Compact output: `,"name":` in one append (a `push` per piece tests the capacity each time).
            append_quoted(&mut self.out, !self.first, name, "\":");
            self.first = false;
        } else {
            self.open_key(name, name.len());
            self.close_key();
        }
    }

    #[inline(never)]
    fn parts_key(&mut self, a: &str, b: &str, c: &str) {
        // One capacity check for the whole key; the parts that are empty are not copied at all.
        self.open_key(a, a.len() + b.len() + c.len());
        if !b.is_empty() {
            self.out.push_str(b);
        }
        if !c.is_empty() {
            self.out.push_str(c);
        }
        self.close_key();
    }

    /// The separator, the opening quote and the key's first part, with room for `len` bytes of key and what
    /// surrounds it in compact output (one capacity check for the whole key there).
    #[inline(always)]
    fn open_key(&mut self, first: &str, len: usize) {
        self.out.reserve(len + 5);
        self.sep();
        self.out.push('"');
        self.out.push_str(first);
    }

    /// `":`, and the space after it in pretty output: stores of known length (choosing between `": ` and `":`
    /// as one string was a `memcpy` call for every key).
    #[inline(always)]
    fn close_key(&mut self) {
        self.out.push_str("\":");
        if self.indent.is_some() {
            self.out.push(' ');
        }
    }

    /// A string value, escaped. A string without escapes, nearly every FHIR string, is tested whole
    /// ([`has_special`], in a word or two when short) and copied at once. Otherwise runs of bytes that need no
    /// escape are found many bytes at a time (the reader's [`scan_string`]: the bytes that end a plain run there
    /// are exactly those JSON must escape) and copied run by run.
    #[doc(hidden)]
    pub fn string(&mut self, s: &str) {
        let out = &mut self.out;
        let bytes = s.as_bytes();
        if !has_special(bytes) {
            append_quoted(out, false, s, "\"");
            return;
        }
        out.reserve(s.len() + 2);
        out.push('"');
        let mut run = 0;
        loop {
            let i = scan_string(bytes, run);
            if i == bytes.len() {
                break;
            }
            let b = bytes[i];
            out.push_str(&s[run..i]);
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                b'\t' => out.push_str("\\t"),
                _ => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.push_str("\\u00");
                    out.push(HEX[(b >> 4) as usize] as char);
                    out.push(HEX[(b & 15) as usize] as char);
                }
            }
            run = i + 1;
        }
        out.push_str(&s[run..]);
        out.push('"');
    }

    /// An integer value.
    #[doc(hidden)]
    pub fn integer(&mut self, v: i64) {
        // Digits from the end of a buffer, without `fmt`'s machinery.
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        let mut n = v.unsigned_abs();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if v < 0 {
            self.out.push('-');
        }
        for &d in &digits[at..] {
            self.out.push(char::from(d));
        }
    }

    /// A value written as is (numbers, `true`, `false`, `null`).
    #[doc(hidden)]
    pub fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }

    // ----- element writers used by generated code ----------------------------------------------------------------

    /// `"resourceType": "X"`
    #[doc(hidden)]
    pub fn resource_type(&mut self, name: &str) {
        self.key("resourceType", "", "");
        self.string(name);
    }

    // Element writers are called for every field of every struct, present or not: the presence check is
    // inlined at the call site, the writing itself is out of line (one copy per type, not per field).

    /// A plain string element without extensions.
    #[inline]
    #[doc(hidden)]
    pub fn plain_string(&mut self, name: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.plain_string_at(name, v);
        }
    }

    #[inline(never)]
    fn plain_string_at(&mut self, name: &str, value: &str) {
        self.key(name, "", "");
        self.string(value);
    }

    /// A complex element.
    #[inline]
    #[doc(hidden)]
    pub fn complex<T: FhirJson>(&mut self, name: &str, value: &Option<T>) {
        if let Some(v) = value {
            self.complex_parts(name, "", v);
        }
    }

    /// A boxed complex element.
    #[inline]
    #[doc(hidden)]
    pub fn boxed<T: FhirJson>(&mut self, name: &str, value: &Option<Box<T>>) {
        if let Some(v) = value {
            self.complex_parts(name, "", v.as_ref());
        }
    }

    /// A list of complex elements (nothing when empty).
    #[inline]
    #[doc(hidden)]
    pub fn complex_list<T: FhirJson>(&mut self, name: &str, values: &[T]) {
        if !values.is_empty() {
            self.complex_items(name, values);
        }
    }

    #[inline(never)]
    fn complex_items<T: FhirJson>(&mut self, name: &str, values: &[T]) {
        self.key(name, "", "");
        self.begin_array();
        for v in values {
            self.sep();
            v.write_json(self);
        }
        self.end_array();
    }

    /// A choice element (`valueQuantity`, `valueString` + `_valueString`...).
    #[inline]
    #[doc(hidden)]
    pub fn choice<C: Choice>(&mut self, name: &str, value: &Option<C>) {
        if let Some(v) = value {
            v.write_variant(self, name);
        }
    }

    /// A complex value under the key `{name}{suffix}` (choice variants).
    #[inline(never)]
    #[doc(hidden)]
    pub fn complex_parts<T: FhirJson>(&mut self, name: &str, suffix: &str, value: &T) {
        self.key(name, suffix, "");
        value.write_json(self);
    }

    /// A primitive element: `"name": value` and, when it has an id or extensions, `"_name": {...}`.
    #[inline]
    #[doc(hidden)]
    pub fn primitive<T: PrimitiveValue, E: FhirJson>(&mut self, name: &str, value: &Option<Primitive<T, E>>) {
        if let Some(p) = value {
            self.primitive_parts(name, "", p);
        }
    }

    /// A primitive under the key `{name}{suffix}` (choice variants pass the type as suffix).
    #[inline(never)]
    #[doc(hidden)]
    pub fn primitive_parts<T: PrimitiveValue, E: FhirJson>(&mut self, name: &str, suffix: &str, p: &Primitive<T, E>) {
        if let Some(v) = &p.value {
            self.key(name, suffix, "");
            v.write_value(self);
        }
        if let Some(e) = &p.element {
            self.element_part(name, suffix, e);
        }
    }

    /// The `"_name{suffix}": {...}` object of a primitive, when it holds anything (one copy per extension
    /// type, not one per value type).
    #[inline(never)]
    fn element_part<E: FhirJson>(&mut self, name: &str, suffix: &str, e: &ElementParts<E>) {
        if !e.is_empty() {
            self.key("_", name, suffix);
            self.element_object(e);
        }
    }

    #[inline(never)]
    fn element_object<E: FhirJson>(&mut self, e: &ElementParts<E>) {
        self.begin_object();
        self.plain_string_list("fhir_comments", &e.fhir_comments);
        self.plain_string("id", &e.id);
        self.complex_list("extension", &e.extension);
        self.end_object();
    }

    /// A list of plain strings (DSTU2 `fhir_comments`), nothing when empty.
    #[inline]
    #[doc(hidden)]
    pub fn plain_string_list(&mut self, name: &str, values: &[String]) {
        if !values.is_empty() {
            self.plain_string_items(name, values);
        }
    }

    #[inline(never)]
    fn plain_string_items(&mut self, name: &str, values: &[String]) {
        self.key(name, "", "");
        self.begin_array();
        for v in values {
            self.sep();
            self.string(v);
        }
        self.end_array();
    }

    /// A list of primitives, with `null` where an item has only extensions, and the aligned `_name` list.
    #[inline]
    #[doc(hidden)]
    pub fn primitive_list<T: PrimitiveValue, E: FhirJson>(&mut self, name: &str, values: &[Primitive<T, E>]) {
        if !values.is_empty() {
            self.primitive_items(name, values);
        }
    }

    #[inline(never)]
    fn primitive_items<T: PrimitiveValue, E: FhirJson>(&mut self, name: &str, values: &[Primitive<T, E>]) {
        let with_parts = values.iter().any(Primitive::has_element_part);
        // Items with neither part (read from `[null]`) are still written, as `null`, so no item is lost.
        if values.iter().any(|p| p.value.is_some()) || !with_parts {
            self.key(name, "", "");
            self.begin_array();
            for p in values {
                self.sep();
                match &p.value {
                    Some(v) => v.write_value(self),
                    None => self.raw("null"),
                }
            }
            self.end_array();
        }
        if with_parts {
            self.key("_", name, "");
            self.begin_array();
            for p in values {
                self.sep();
                match &p.element {
                    Some(e) if !e.is_empty() => self.element_object(e),
                    _ => self.raw("null"),
                }
            }
            self.end_array();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Writer;

    #[test]
    fn integers_are_written_as_rust_formats_them() {
        for v in [0, 1, -1, 9, 10, -10, 99, 100, 12345, -2147483648, 4294967295, i64::MAX, i64::MIN, i64::MIN + 1] {
            let mut w = Writer::compact();
            w.integer(v);
            assert_eq!(w.finish(), v.to_string());
        }
    }

    #[test]
    fn keys_of_up_to_three_parts() {
        let mut w = Writer::compact_into("x".to_owned());
        w.begin_object();
        w.key("_", "value", "String");
        w.raw("1");
        w.key("a", "", "");
        w.raw("2");
        w.end_object();
        assert_eq!(w.finish(), r#"x{"_valueString":1,"a":2}"#);
    }

    /// `append_quoted` writes into reserved room: keys with and without a comma and strings with and without
    /// escapes, into a buffer that is full at the start (so every append must grow it) and into a roomy one.
    #[test]
    fn keys_and_strings_appended_in_place() {
        let expected = r#"{"a":"","name":"Zoë \"x\"","b":"plain","c":["é","\n"]}"#;
        for start in [String::new(), String::with_capacity(1), String::with_capacity(4096)] {
            let mut w = Writer::compact_into(start);
            w.begin_object();
            w.name_key("a");
            w.string("");
            w.name_key("name");
            w.string("Zoë \"x\"");
            w.name_key("b");
            w.string("plain");
            w.name_key("c");
            w.begin_array();
            w.sep();
            w.string("é");
            w.sep();
            w.string("\n");
            w.end_array();
            w.end_object();
            assert_eq!(w.finish(), expected);
        }
        let mut w = Writer::pretty(1);
        w.begin_object();
        w.name_key("a");
        w.string("b");
        w.name_key("c");
        w.string("d");
        w.end_object();
        assert_eq!(w.finish(), "{\n \"a\": \"b\",\n \"c\": \"d\"\n}");
    }
}
