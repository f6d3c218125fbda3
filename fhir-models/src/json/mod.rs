//! The JSON runtime shared by every generated type: reading (strict or lenient) and writing.

mod error;
mod reader;
pub(crate) mod text;
mod writer;

pub use error::{Issue, IssueKind, Lenient, ParseError};
pub(crate) use reader::json_number_len;
pub use reader::{Choice, Reader};
pub use writer::Writer;

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
    fn read_json(r: &mut Reader<'_>) -> Result<Option<Self>, ParseError>;

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

    /// Compact FHIR JSON.
    fn to_json(&self) -> String {
        let mut w = Writer::compact();
        self.write_json(&mut w);
        w.finish()
    }

    /// FHIR JSON indented by two spaces.
    fn to_json_pretty(&self) -> String {
        let mut w = Writer::pretty(2);
        self.write_json(&mut w);
        w.finish()
    }
}
