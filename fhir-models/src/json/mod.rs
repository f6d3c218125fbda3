//! The JSON runtime shared by every generated type: reading (strict or lenient) and writing.
//!
//! Entry points are the provided methods of [`FhirJson`]: from text ([`FhirJson::from_json`]), from bytes
//! ([`FhirJson::from_json_bytes`], UTF-8 checked as it is read), each strict or lenient; and [`NdjsonReader`] for
//! one resource per line from any `BufRead`. Lenient reading stays linear in the input however many problems it
//! reports: their lines and columns are computed in one pass at the end, from each [`Issue::offset`].

mod error;
mod ndjson;
mod reader;
pub(crate) mod text;
mod writer;

pub use error::{Issue, IssueKind, Lenient, ParseError};
pub use ndjson::{NdjsonError, NdjsonItem, NdjsonReader, NdjsonWriter};
pub(crate) use reader::json_number_len;
pub use reader::{Choice, Reader};
pub use writer::Writer;

/// A generated struct (resource, datatype, backbone element): its members are read in place, into a default value
/// that already sits where it stays (a list's item, a box, a field), never into a temporary that is then moved
/// there. The `Resource` enums are not structs (their variant is known only once `resourceType` is read) and go
/// through [`FhirJson::read_json_into`]. Implemented by generated code; not user API.
#[doc(hidden)]
pub trait FhirStruct: FhirJson + Default {
    /// Reads the members of the object at the reader's position into `v` (a default value). `Ok(false)`: the
    /// value was not an object (reported and skipped in lenient mode), and `v` is unchanged.
    fn read_fields(r: &mut Reader<'_>, v: &mut Self) -> Result<bool, ParseError>;
}

/// A FHIR type that reads and writes FHIR JSON. Implemented by every generated resource, datatype and backbone
/// element, and by each version's `Resource` enum.
///
/// The provided methods are the entry points; they are compiled once in this crate for every model type, so
/// calling them does not instantiate parsing code in the caller's crate.
pub trait FhirJson: Sized {
    /// The FHIR name of the type, the root of the paths in reported problems.
    const TYPE_NAME: &'static str;

    /// Reads one value at the reader's position. `Ok(None)`: in lenient mode the value was unusable (wrong JSON
    /// type); it was skipped and reported.
    fn read_json(r: &mut Reader<'_>) -> Result<Option<Self>, ParseError> {
        let mut slot = None;
        Self::read_json_into(r, &mut slot)?;
        Ok(slot)
    }

    /// Reads one value at the reader's position into `slot` (which is `None`), in place: an element read into
    /// its field is built where it will stay instead of being returned and moved there (FHIR structs are
    /// large; those moves were a tenth of reading time). Leaves `None` when the value was unusable, as
    /// [`FhirJson::read_json`] says. Implemented by generated code; call `read_json`.
    #[doc(hidden)]
    fn read_json_into(r: &mut Reader<'_>, slot: &mut Option<Self>) -> Result<(), ParseError>;

    /// Writes the value as FHIR JSON.
    fn write_json(&self, w: &mut Writer);

    /// Strict reading: the first problem (unknown element, wrong JSON type, invalid value, unknown code, ...) is
    /// the error. A leading UTF-8 byte-order mark is accepted.
    fn from_json(json: &str) -> Result<Self, ParseError> {
        reader::read_document(json, true).map(|(v, _)| v)
    }

    /// Lenient reading: every problem is reported with its FHIR path and reading goes on; unknown codes and
    /// invalid dates are kept in the value, values that cannot be placed are listed with their JSON text. Fails
    /// only when the text is not JSON or holds no usable value.
    fn from_json_lenient(json: &str) -> Result<Lenient<Self>, ParseError> {
        reader::read_document(json, false).map(|(value, issues)| Lenient { value, issues })
    }

    /// Strict reading from bytes, e.g. a response body or a file read with `std::fs::read`: the bytes need not
    /// be checked first, string contents are checked to be UTF-8 as they are read, and invalid UTF-8 is an
    /// [`IssueKind::Syntax`] error with its byte offset ([`Issue::offset`]). Otherwise as [`FhirJson::from_json`].
    ///
    /// ```
    /// # #[cfg(feature = "r4-patient")] {
    /// use fhir_models::{FhirJson, IssueKind, r4::Patient};
    /// let patient = Patient::from_json_bytes(br#"{"resourceType":"Patient","id":"p1"}"#).unwrap();
    /// assert_eq!(patient.id.as_deref(), Some("p1"));
    ///
    /// let e = Patient::from_json_bytes(b"{\"resourceType\":\"Patient\",\"id\":\"p\xff\"}").unwrap_err();
    /// assert_eq!((e.kind(), e.issue.offset), (IssueKind::Syntax, 33));
    /// # }
    /// ```
    fn from_json_bytes(json: &[u8]) -> Result<Self, ParseError> {
        reader::read_document_bytes(json, true, &mut Default::default()).map(|(v, _)| v)
    }

    /// Lenient reading from bytes: as [`FhirJson::from_json_lenient`], with the UTF-8 check of
    /// [`FhirJson::from_json_bytes`] (invalid UTF-8 is an error: text that cannot be decoded cannot be kept).
    fn from_json_bytes_lenient(json: &[u8]) -> Result<Lenient<Self>, ParseError> {
        reader::read_document_bytes(json, false, &mut Default::default()).map(|(value, issues)| Lenient { value, issues })
    }

    /// Compact FHIR JSON.
    fn to_json(&self) -> String {
        let mut w = Writer::compact();
        self.write_json(&mut w);
        w.finish()
    }

    /// Appends the value's compact FHIR JSON to `out`: for writing many values into one buffer (NDJSON, a
    /// response body) without a `String` per value. See also [`NdjsonWriter`].
    ///
    /// ```
    /// # #[cfg(feature = "r4-patient")] {
    /// use fhir_models::{FhirJson, r4::Patient};
    /// let mut out = String::new();
    /// for id in ["a", "b"] {
    ///     let patient = Patient { id: Some(id.into()), ..Default::default() };
    ///     patient.write_json_into(&mut out);
    ///     out.push('\n');
    /// }
    /// assert_eq!(out, "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\",\"id\":\"b\"}\n");
    /// # }
    /// ```
    fn write_json_into(&self, out: &mut String) {
        let mut w = Writer::compact_into(std::mem::take(out));
        self.write_json(&mut w);
        *out = w.finish();
    }

    /// FHIR JSON indented by two spaces.
    fn to_json_pretty(&self) -> String {
        let mut w = Writer::pretty(2);
        self.write_json(&mut w);
        w.finish()
    }
}
