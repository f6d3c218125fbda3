//! Optional `serde` support (feature `serde`): [`Fhir<T>`] wraps any model type so it can sit inside your own
//! serde types and go through `serde_json`, still read and written by this crate's lossless FHIR JSON code.
//!
//! Works with `serde_json` (it passes the FHIR JSON through as a raw value); other serde formats are not
//! FHIR JSON and are not supported.
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
//! assert_eq!(m.patient.0.id.as_deref(), Some("p"));
//! assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"kind":"new","patient":{"resourceType":"Patient","id":"p"}}"#);
//! # }
//! ```

use crate::json::FhirJson;
use serde::de::Error as _;
use serde::ser::Error as _;
use serde_json::value::RawValue;

/// A model value that implements `serde::Serialize` and `serde::Deserialize` through its FHIR JSON.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fhir<T>(pub T);

impl<T: FhirJson> serde::Serialize for Fhir<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.0.to_json()).map_err(S::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de, T: FhirJson> serde::Deserialize<'de> for Fhir<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Box<RawValue> = serde::Deserialize::deserialize(deserializer)?;
        T::from_json(raw.get()).map(Fhir).map_err(D::Error::custom)
    }
}
