//! References: what a `Reference.reference` string points at, and finding that resource in a Bundle (by the
//! FHIR rules for `fullUrl`) or among a resource's `contained` resources.
//!
//! ```
//! use fhir_models::reference::{parse_reference, ReferenceTarget};
//! assert_eq!(
//!     parse_reference("http://example.org/fhir/Patient/23/_history/2"),
//!     ReferenceTarget::Absolute { base: "http://example.org/fhir", resource_type: "Patient", id: "23", version: Some("2") }
//! );
//! assert_eq!(parse_reference("Patient/23"), ReferenceTarget::Relative { resource_type: "Patient", id: "23", version: None });
//! assert_eq!(parse_reference("#med1"), ReferenceTarget::Contained("med1"));
//! assert_eq!(parse_reference("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"), ReferenceTarget::Urn("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"));
//! ```
//!
//! Resolving within a Bundle (`r4::Bundle::resolve`, `dstu2::Bundle::resolve`):
//!
//! ```
//! # #[cfg(all(feature = "r4-patient", feature = "r4-observation"))] {
//! use fhir_models::{FhirJson, r4::{Bundle, Resource}};
//! let bundle = Bundle::from_json(r#"{"resourceType":"Bundle","type":"collection","entry":[
//!   {"fullUrl":"http://example.org/fhir/Patient/23","resource":{"resourceType":"Patient","id":"23"}},
//!   {"fullUrl":"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a","resource":{"resourceType":"Patient"}},
//!   {"fullUrl":"http://example.org/fhir/Observation/o","resource":{"resourceType":"Observation","status":"final",
//!     "code":{"text":"x"},"subject":{"reference":"Patient/23"}}}]}"#).unwrap();
//! let from = &bundle.entry[2];
//! let Some(Resource::Observation(o)) = &from.resource else { unreachable!() };
//! let subject = o.subject.as_ref().unwrap();
//! // Relative to the base of the referencing entry's fullUrl.
//! let found = bundle.resolve_reference(subject, Some(from)).unwrap();
//! assert_eq!(found.id(), Some("23"));
//! assert!(bundle.resolve("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", None).is_some());
//! # }
//! ```

/// What a reference string points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferenceTarget<'a> {
    /// `#id`: a resource contained in the referencing resource (`#` alone: the containing resource itself).
    Contained(&'a str),
    /// `Patient/23`, or versioned `Patient/23/_history/2`: relative to the server's base (in a Bundle, to the
    /// base of the referencing entry's `fullUrl`).
    Relative {
        /// The resource type.
        resource_type: &'a str,
        /// The logical id.
        id: &'a str,
        /// The version, from `/_history/{version}`.
        version: Option<&'a str>,
    },
    /// `http://example.org/fhir/Patient/23[/_history/2]`: a RESTful absolute URL.
    Absolute {
        /// The server's base URL, without a trailing `/`.
        base: &'a str,
        /// The resource type.
        resource_type: &'a str,
        /// The logical id.
        id: &'a str,
        /// The version, from `/_history/{version}`.
        version: Option<&'a str>,
    },
    /// `urn:uuid:...` or `urn:oid:...`: matched against `Bundle.entry.fullUrl` only.
    Urn(&'a str),
    /// Anything else (a URL that is not RESTful, a canonical, a logical reference...): kept as given.
    Other(&'a str),
}

/// FHIR ids: 1 to 64 of `[A-Za-z0-9\-\.]`.
fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Resource type names: an upper-case ASCII letter, then letters.
fn is_type(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase()) && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// `Type/id` or `Type/id/_history/v` at the end of `path`: (what comes before, type, id, version).
fn split_restful(path: &str) -> Option<(&str, &str, &str, Option<&str>)> {
    let (rest, version) = match path.rsplit_once("/_history/") {
        Some((rest, v)) if is_id(v) => (rest, Some(v)),
        Some(_) => return None,
        None => (path, None),
    };
    let (rest, id) = rest.rsplit_once('/')?;
    let (head, ty) = rest.rsplit_once('/').unwrap_or(("", rest));
    (is_type(ty) && is_id(id)).then_some((head, ty, id, version))
}

/// What `reference` (a `Reference.reference` value) points at.
pub fn parse_reference(reference: &str) -> ReferenceTarget<'_> {
    if let Some(id) = reference.strip_prefix('#') {
        return ReferenceTarget::Contained(id);
    }
    if reference.starts_with("urn:uuid:") || reference.starts_with("urn:oid:") {
        return ReferenceTarget::Urn(reference);
    }
    let absolute = reference.starts_with("http://") || reference.starts_with("https://");
    if absolute {
        if let Some((base, resource_type, id, version)) = split_restful(reference) {
            if base.contains("://") {
                return ReferenceTarget::Absolute { base, resource_type, id, version };
            }
        }
        return ReferenceTarget::Other(reference);
    }
    match split_restful(reference) {
        Some(("", resource_type, id, version)) => ReferenceTarget::Relative { resource_type, id, version },
        _ => ReferenceTarget::Other(reference),
    }
}

/// The `meta.versionId` of a resource, read from its JSON (only asked for version-specific references).
fn version_id(json: &str) -> Option<String> {
    use crate::json::text::{Token, Tokens};
    let mut depth = 0usize;
    let mut in_meta = false;
    let mut key = "";
    for token in Tokens::new(json) {
        match token {
            Token::BeginObject | Token::BeginArray => {
                depth += 1;
                if depth == 2 && key == "meta" {
                    in_meta = true;
                }
            }
            Token::EndObject | Token::EndArray => {
                if depth == 2 {
                    in_meta = false;
                }
                depth -= 1;
            }
            Token::Key(k) => {
                key = k;
                continue;
            }
            Token::String(s) if in_meta && depth == 2 && key == "versionId" => return Some(crate::json::text::unescape(s)),
            _ => {}
        }
        key = "";
    }
    None
}

macro_rules! bundle_resolution {
    ($v:ident) => {
        impl crate::$v::Bundle {
            /// The resource `reference` points at, by the FHIR rules for resolving references in a Bundle:
            /// an absolute URL or `urn:` is looked up in `entry.fullUrl`; a relative `Type/id` is made absolute
            /// with the base of `from_full_url` (the `fullUrl` of the entry that holds the reference) when that
            /// is a RESTful URL, and otherwise matched by type and id against entries without a RESTful
            /// `fullUrl`. A version-specific reference (`/_history/2`) also needs `meta.versionId` to match.
            /// `#id` references point into the referencing resource: use [`resolve_contained`](crate::reference::resolve_contained).
            pub fn resolve(&self, reference: &str, from_full_url: Option<&str>) -> Option<&crate::$v::Resource> {
                use crate::reference::{parse_reference, ReferenceTarget as T};
                let full_url = |e: &crate::$v::BundleEntry| e.full_url.as_ref().and_then(|u| u.value.as_deref()).map(|u| u.to_owned());
                let by_url = |url: &str, version: Option<&str>| {
                    self.entry.iter().filter(|e| full_url(e).as_deref() == Some(url)).filter_map(|e| e.resource.as_ref()).find(|r| {
                        version.map_or(true, |v| version_id(&crate::FhirJson::to_json(*r)).as_deref() == Some(v))
                    })
                };
                match parse_reference(reference) {
                    T::Contained(_) => None,
                    T::Urn(urn) | T::Other(urn) => by_url(urn, None),
                    T::Absolute { base, resource_type, id, version } => by_url(&format!("{base}/{resource_type}/{id}"), version),
                    T::Relative { resource_type, id, version } => {
                        let base = from_full_url.and_then(|u| match parse_reference(u) {
                            T::Absolute { base, .. } => Some(base),
                            _ => None,
                        });
                        match base {
                            Some(base) => by_url(&format!("{base}/{resource_type}/{id}"), version),
                            None => self
                                .entry
                                .iter()
                                .filter(|e| !matches!(full_url(e).as_deref().map(parse_reference), Some(T::Absolute { .. })))
                                .filter_map(|e| e.resource.as_ref())
                                .find(|r| {
                                    r.resource_type() == resource_type
                                        && r.id() == Some(id)
                                        && version.map_or(true, |v| version_id(&crate::FhirJson::to_json(*r)).as_deref() == Some(v))
                                }),
                        }
                    }
                }
            }

            /// [`resolve`](Self::resolve) for a `Reference` element held by the resource of entry `from`.
            pub fn resolve_reference(
                &self,
                reference: &crate::$v::Reference,
                from: Option<&crate::$v::BundleEntry>,
            ) -> Option<&crate::$v::Resource> {
                let text = reference.reference.as_ref()?.value.as_deref()?;
                let from_url = from.and_then(|e| e.full_url.as_ref()).and_then(|u| u.value.as_deref());
                self.resolve(text, from_url)
            }
        }
    };
}

#[cfg(feature = "r4-base")]
bundle_resolution!(r4);
#[cfg(feature = "dstu2-base")]
bundle_resolution!(dstu2);

/// The resource a `#id` reference points at among `contained` (the referencing resource's `contained` list);
/// `None` for other references, and for `#` alone (which means the containing resource itself).
///
/// ```
/// # #[cfg(feature = "r4-medication-request")] {
/// use fhir_models::{FhirJson, reference::resolve_contained, r4::MedicationRequest};
/// let m = MedicationRequest::from_json(r##"{"resourceType":"MedicationRequest","contained":[{"resourceType":"Medication","id":"med1"}],
///   "status":"active","intent":"order","medicationReference":{"reference":"#med1"},"subject":{"reference":"Patient/p"}}"##).unwrap();
/// assert_eq!(resolve_contained(&m.contained, "#med1").map(|r| r.resource_type()), Some("Medication"));
/// assert!(resolve_contained(&m.contained, "#other").is_none());
/// # }
/// ```
pub fn resolve_contained<'a, R: ContainedResource>(contained: &'a [R], reference: &str) -> Option<&'a R> {
    let id = reference.strip_prefix('#').filter(|id| !id.is_empty())?;
    contained.iter().find(|r| r.contained_id() == Some(id))
}

/// A version's `Resource` enum, as found in `contained` lists (for [`resolve_contained`]).
pub trait ContainedResource {
    /// The resource's logical id.
    fn contained_id(&self) -> Option<&str>;
}

#[cfg(feature = "r4-base")]
impl ContainedResource for crate::r4::Resource {
    fn contained_id(&self) -> Option<&str> {
        self.id()
    }
}

#[cfg(feature = "dstu2-base")]
impl ContainedResource for crate::dstu2::Resource {
    fn contained_id(&self) -> Option<&str> {
        self.id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReferenceTarget as T;

    #[test]
    fn parses_every_form() {
        let cases = [
            ("Patient/23", T::Relative { resource_type: "Patient", id: "23", version: None }),
            ("Patient/23/_history/4", T::Relative { resource_type: "Patient", id: "23", version: Some("4") }),
            (
                "https://example.org/fhir/R4/Observation/a.b-c",
                T::Absolute { base: "https://example.org/fhir/R4", resource_type: "Observation", id: "a.b-c", version: None },
            ),
            (
                "http://x.org/Patient/1/_history/2",
                T::Absolute { base: "http://x.org", resource_type: "Patient", id: "1", version: Some("2") },
            ),
            ("#c1", T::Contained("c1")),
            ("#", T::Contained("")),
            ("urn:oid:1.2.3", T::Urn("urn:oid:1.2.3")),
            ("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", T::Urn("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0")),
            ("http://example.org/some/page", T::Other("http://example.org/some/page")),
            ("http://Patient/1", T::Other("http://Patient/1")),
            ("patient/1", T::Other("patient/1")),
            ("Patient/", T::Other("Patient/")),
            ("Patient/a b", T::Other("Patient/a b")),
            ("base/Patient/1", T::Other("base/Patient/1")),
        ];
        for (text, want) in cases {
            assert_eq!(parse_reference(text), want, "{text}");
        }
    }

    #[test]
    fn version_id_is_read_from_meta_only() {
        assert_eq!(version_id(r#"{"resourceType":"Patient","meta":{"versionId":"3"},"id":"p"}"#).as_deref(), Some("3"));
        assert_eq!(version_id(r#"{"resourceType":"Patient","contained":[{"meta":{"versionId":"9"}}]}"#), None);
        assert_eq!(version_id(r#"{"versionId":"1","meta":{}}"#), None);
    }
}
