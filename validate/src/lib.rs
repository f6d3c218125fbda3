//! Validation of FHIR resources a user can trust, as an `OperationOutcome`.
//!
//! # Design
//!
//! - **Separate from reading.** Validation works on the JSON tree (`serde_json::Value`), not on the typed
//!   models of `fhir-models`: a document that breaks its profile still reads, and any document can be
//!   validated, also of resource types whose model feature is off. This crate does not depend on
//!   `fhir-models`, so a user who only reads and writes pays nothing for it in compile time.
//! - **Definitions are data, found at run time.** A [`Definitions`] store holds StructureDefinition
//!   snapshots, ValueSets and CodeSystems from FHIR packages (the same search as the code generator:
//!   an explicit folder, `$FHIR_PACKAGES`, `~/.fhir/packages`) and from files a user hands in; canonical
//!   references resolve version-aware (`url|version`). So "validate this against that profile file" works for
//!   a profile that was never generated, and the generated profile views can call the same checks with their
//!   profile's canonical URL ([`Validator::validate_against`]).
//! - **What is checked**: cardinality (`min`/`max`, including the core's: an Observation without `status`),
//!   the JSON shape (arrays for repeating elements, `_x` partners aligned), every primitive's value domain
//!   (regex and range: `positiveInt` > 0, `id` pattern and length, base64Binary, real calendar dates, ...),
//!   empty strings, objects and arrays and `null`s without their `_x` partner, unknown elements, required
//!   bindings to value sets that can be listed from the packages (extensible ones as warnings; the others
//!   reported as not checked), `fixed[x]` and `pattern[x]` of every type, `minValue`/`maxValue`/`maxLength`,
//!   slicing (value, pattern, type, profile and exists discriminators, `$this` with a binding, type slices of
//!   choices, extension slices by url) with each slice's cardinality and closed slicing, extensions against
//!   their definitions (bindings on extension values included), `meta.profile` when the profile is loaded,
//!   contained resources and Bundle entries recursively, and FHIRPath invariants (`constraint`, with their key
//!   and severity) through an [`InvariantEngine`].
//! - **Every issue** has the FHIR path the HL7 validator writes in `issue.expression`
//!   (`Patient.name[0].given[1]`, `Observation.value.ofType(Quantity)`, `Bundle.entry[0].resource.id`), a
//!   [`Severity`], a stable [`Rule`] code and a message, and an [`Outcome`] converts to an `OperationOutcome`.
//!
//! - **For the generated profile views** (`fhir-models`' `TryFrom` checks): a view calls the same checks by
//!   its profile's canonical URL on the JSON form of the core value,
//!   `validator.validate_against(&json, &[UsCorePatient::PROFILE_URL])`, with a process-wide
//!   `Definitions` of the IG package (e.g. behind a `validate` feature of `fhir-models` that depends on this
//!   crate and keeps a `OnceLock<Definitions>`); then `TryFrom` and `fhir validate --profile` give the same
//!   answer, and [`Validator::unchecked_value_sets`] lists what neither can check.
//!
//! ```no_run
//! use fhir_validate::{Definitions, FhirVersion, Validator};
//! let mut defs = Definitions::core(FhirVersion::R4, None)?;
//! defs.load_package_named(None, "hl7.fhir.us.core#3.1.1")?;
//! let validator = Validator::new(&defs);
//! let patient = serde_json::json!({"resourceType": "Patient", "id": "a b"});
//! let outcome = validator
//!     .validate_against(&patient, &["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"])
//!     .expect("US Core is loaded");
//! assert!(outcome.errors().any(|i| i.path == "Patient.id"));
//! # Ok::<(), fhir_validate::DefinitionsError>(())
//! ```

mod definitions;
#[cfg(feature = "fhirpath")]
mod invariants;
mod outcome;
mod primitives;
mod snapshot;
mod structure;
mod terminology;
mod validator;
mod xml;

pub use definitions::{packages_dir, Definitions, DefinitionsError, FhirVersion, DEFINITION_TYPES, PACKAGES_ENV};
#[cfg(feature = "fhirpath")]
pub use invariants::FhirPathInvariants;
pub use outcome::{Issue, Outcome, Rule, Severity, RULE_SYSTEM};
pub use validator::{InvariantEngine, ValidateError, Validator};
pub use xml::{xml_to_json, XmlError};
