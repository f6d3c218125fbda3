//! Resources kept as JSON text: a resource type that is not compiled in (its cargo feature is off), or in
//! lenient reading one this FHIR version does not define. Nothing of it is lost: it is written back as read.

use crate::json::{text, FhirJson, Lenient, ParseError, Writer};

/// A resource kept whole as its JSON text, in a version's `Resource::Other` variant.
///
/// Reading a `Resource` (or a Bundle, or `contained`) gives this for a resource type that FHIR defines but whose
/// cargo feature is off, in strict and lenient mode alike, so that an app built with `r4-patient` can still read,
/// pass on and write a Bundle holding a `ServiceRequest`. A `resourceType` the FHIR version does not define is an
/// error in strict mode; lenient reading reports it and keeps it here too ([`RawResource::is_known`] is `false`).
///
/// The text is kept compact (white space outside strings removed), so writing compact JSON gives back
/// compact input byte for byte; pretty writing indents it like the rest.
///
/// ```
/// # #[cfg(all(feature = "r4-patient", not(feature = "r4-service-request")))] {
/// use fhir_models::{FhirJson, r4::Resource};
/// let json = r#"{"resourceType":"ServiceRequest","id":"s1","status":"active","intent":"order","subject":{"reference":"Patient/p"}}"#;
/// let Resource::Other(raw) = Resource::from_json(json).unwrap() else { panic!("ServiceRequest is compiled in") };
/// assert_eq!((raw.resource_type(), raw.id()), ("ServiceRequest", Some("s1")));
/// assert!(raw.is_known());
/// assert_eq!(Resource::Other(raw).to_json(), json);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawResource {
    resource_type: String,
    id: Option<String>,
    json: String,
    known: bool,
}

impl RawResource {
    /// Keeps the (valid, already read) JSON text of a resource object.
    pub(crate) fn from_text(resource_type: &str, json: &str, known: bool) -> Self {
        let json = text::minify(json);
        let id = text::top_level_string(&json, "id");
        RawResource { resource_type: resource_type.to_owned(), id, json, known }
    }

    /// The `resourceType`, e.g. `"ServiceRequest"`.
    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    /// The logical id (`Resource.id`), if the JSON has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The resource's JSON text (compact).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// `true` when the FHIR version defines this resource type (it was kept because its feature is off);
    /// `false` for a type the version does not define (kept by lenient reading, and reported).
    pub fn is_known(&self) -> bool {
        self.known
    }

    /// Reads the text as a model type, e.g. `raw.parse::<r4::ServiceRequest>()` in a crate that enables that
    /// resource's feature, or as another crate's profile view.
    pub fn parse<T: FhirJson>(&self) -> Result<T, ParseError> {
        T::from_json(&self.json)
    }

    /// Lenient variant of [`RawResource::parse`].
    pub fn parse_lenient<T: FhirJson>(&self) -> Result<Lenient<T>, ParseError> {
        T::from_json_lenient(&self.json)
    }

    /// Writes the kept JSON (used by the `Resource` enums).
    #[doc(hidden)]
    pub fn write_json(&self, w: &mut Writer) {
        text::write_json_text(w, &self.json);
    }
}
