//! Reading helpers: the value of an optional primitive in one call, and lookups in `Coding` and
//! `CodeableConcept` by system and code. `use fhir_models::prelude::*;` brings the traits into scope.
//!
//! ```
//! # #[cfg(feature = "r4-patient")] {
//! use fhir_models::prelude::*;
//! use fhir_models::r4::Patient;
//! let p = Patient::from_json(r#"{"resourceType":"Patient","birthDate":"1974-12","gender":"female",
//!   "maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M"}]}}"#).unwrap();
//! assert_eq!(p.birth_date.value().map(|d| d.as_str()), Some("1974-12"));
//! assert_eq!(p.gender.value().map(|g| g.to_string()), Some("female".to_owned()));
//! assert_eq!(p.gender.value().and_then(|g| g.display()), Some("Female"));
//! let marital = p.marital_status.as_ref().unwrap();
//! assert!(marital.has_code("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "M"));
//! assert_eq!(marital.code_in("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"), Some("M"));
//! # }
//! ```

use crate::primitives::Primitive;

/// The value of an optional primitive element in one call: `patient.birth_date.value()` instead of
/// `patient.birth_date.as_ref().and_then(|p| p.value.as_ref())`.
pub trait PrimitiveValueExt<T> {
    /// The value, when the element is present and has one (it may carry only extensions).
    fn value(&self) -> Option<&T>;
}

impl<T, E> PrimitiveValueExt<T> for Option<Primitive<T, E>> {
    fn value(&self) -> Option<&T> {
        self.as_ref()?.value.as_ref()
    }
}

/// The text of an optional string-like primitive (`string`, `code`, `uri`, `id`, ...) in one call:
/// `name.family.as_str()`.
pub trait PrimitiveStrExt {
    /// The string value, when the element is present and has one.
    fn as_str(&self) -> Option<&str>;
}

impl<E> PrimitiveStrExt for Option<Primitive<crate::FhirString, E>> {
    fn as_str(&self) -> Option<&str> {
        self.as_ref()?.value.as_deref()
    }
}

macro_rules! coding_helpers {
    ($v:ident) => {
        impl crate::$v::Coding {
            /// A coding of `code` in `system`.
            pub fn new(system: impl Into<crate::FhirString>, code: impl Into<crate::FhirString>) -> Self {
                crate::$v::Coding {
                    system: Some(Primitive::new(system.into())),
                    code: Some(Primitive::new(code.into())),
                    ..Default::default()
                }
            }
            /// Adds the display text (builder style).
            pub fn with_display(mut self, display: impl Into<crate::FhirString>) -> Self {
                self.display = Some(Primitive::new(display.into()));
                self
            }
            /// The system's value.
            pub fn system_str(&self) -> Option<&str> {
                self.system.as_ref()?.value.as_deref()
            }
            /// The code's value.
            pub fn code_str(&self) -> Option<&str> {
                self.code.as_ref()?.value.as_deref()
            }
            /// The display's value.
            pub fn display_str(&self) -> Option<&str> {
                self.display.as_ref()?.value.as_deref()
            }
            /// Whether this is `code` of `system` (both compared exactly, as FHIR codes are case-sensitive).
            pub fn is(&self, system: &str, code: &str) -> bool {
                self.system_str() == Some(system) && self.code_str() == Some(code)
            }
        }

        impl crate::$v::CodeableConcept {
            /// A concept with one coding.
            pub fn from_coding(coding: crate::$v::Coding) -> Self {
                crate::$v::CodeableConcept { coding: vec![coding], ..Default::default() }
            }
            /// The first coding of `system`.
            pub fn coding_in(&self, system: &str) -> Option<&crate::$v::Coding> {
                self.coding.iter().find(|c| c.system_str() == Some(system))
            }
            /// The code of the first coding of `system`.
            pub fn code_in(&self, system: &str) -> Option<&str> {
                self.coding_in(system)?.code_str()
            }
            /// Whether any coding is `code` of `system`.
            pub fn has_code(&self, system: &str, code: &str) -> bool {
                self.coding.iter().any(|c| c.is(system, code))
            }
            /// Whether any coding is one of `codes` of `system` (e.g. a value set's codes).
            pub fn has_any_code(&self, system: &str, codes: &[&str]) -> bool {
                self.coding.iter().any(|c| c.system_str() == Some(system) && c.code_str().is_some_and(|x| codes.contains(&x)))
            }
            /// `text`, else the display of the first coding that has one: what to show a person.
            pub fn text_or_display(&self) -> Option<&str> {
                self.text.as_ref().and_then(|t| t.value.as_deref()).or_else(|| self.coding.iter().find_map(|c| c.display_str()))
            }
        }

        impl From<crate::$v::Coding> for crate::$v::CodeableConcept {
            fn from(coding: crate::$v::Coding) -> Self {
                crate::$v::CodeableConcept::from_coding(coding)
            }
        }
    };
}

#[cfg(feature = "r4-base")]
coding_helpers!(r4);
#[cfg(feature = "dstu2-base")]
coding_helpers!(dstu2);

#[cfg(all(test, feature = "r4-base"))]
mod tests {
    use super::*;
    use crate::r4::{CodeableConcept, Coding};

    #[test]
    fn concept_lookups() {
        let c = CodeableConcept {
            coding: vec![Coding::new("http://loinc.org", "2345-7").with_display("Glucose"), Coding::new("http://snomed.info/sct", "33747003")],
            ..Default::default()
        };
        assert!(c.has_code("http://loinc.org", "2345-7"));
        assert!(!c.has_code("http://loinc.org", "33747003"));
        assert!(!c.has_code("http://LOINC.org", "2345-7"));
        assert!(c.has_any_code("http://snomed.info/sct", &["1", "33747003"]));
        assert_eq!(c.code_in("http://snomed.info/sct"), Some("33747003"));
        assert_eq!(c.coding_in("http://example.org"), None);
        assert_eq!(c.text_or_display(), Some("Glucose"));
        let mut with_text = c.clone();
        with_text.text = Some("Blood sugar".into());
        assert_eq!(with_text.text_or_display(), Some("Blood sugar"));
        let one: CodeableConcept = Coding::new("s", "c").into();
        assert_eq!(one.coding.len(), 1);
        let mut missing: Option<crate::r4::Primitive<crate::FhirString>> = None;
        assert_eq!(missing.as_str(), None);
        missing = Some(Primitive::default());
        assert_eq!(missing.value(), None);
        missing = Some("x".into());
        assert_eq!(missing.as_str(), Some("x"));
    }
}
