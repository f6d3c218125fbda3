//! Validation with `fhir-validate` (feature `validate`): the profile views check with the validator, and any
//! model value validates against any profile, also one a user hands in as a StructureDefinition.
//!
//! With this feature a view's `TryFrom`, `check`, `from_json` and the modules' `check_profile` ask the validator
//! for the view's profile (`url|version`), so they give the answer `fhir validate --profile` gives: core and
//! profile cardinality, every primitive's format, required bindings (also inside extensions and on slices),
//! fixed and pattern values of every type, every slicing discriminator, FHIRPath invariants with their
//! severity. Each error or warning of the validator's [`Outcome`] becomes a
//! [`Violation`] with the issue's path and a
//! [`ViolationKind::Issue`] keeping its severity, rule code and message;
//! the resource is handed back in the error as without the feature. Without the feature the views run their
//! generated checks, and this crate does not depend on `fhir-validate` at all.
//!
//! # Where the definitions come from
//!
//! The validator reads StructureDefinitions, ValueSets and CodeSystems at run time, from the FHIR package cache
//! the FHIR tools share (`$FHIR_PACKAGES`, else `~/.fhir/packages`; `fhir-codegen` fills it from a registry):
//! the R4 core packages and, for each profile module, its IG package with the dependencies the cache holds. A
//! view validates over the core and its own module's IG only, so canonicals resolve as its IG resolves them
//! (US Core 3.1.1's views never meet 8.0.0's extensions), as the generator resolves them. The packages are
//! read once, the first time a view of the module checks. Nothing of the spec is compiled into the binary.
//!
//! When the cache does not hold a module's packages, its views keep their generated checks, and
//! [`unavailable`] says why. Users who need other definitions (their own IG, DSTU2, core profiles) call
//! [`set_definitions`] once, before the first validation, with a [`Definitions`] store loaded from packages or
//! files; it replaces the package cache's. A view whose profile is in neither (a profile module generated in
//! the user's own `build.rs` without [`set_definitions`]) keeps its generated checks.
//!
//! ```
//! # #[cfg(feature = "r4-patient")] {
//! use fhir_models::r4::Patient;
//! use fhir_models::FhirJson;
//! let patient = Patient::from_json(r#"{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}]}"#)?;
//! // A profile that was never generated, handed in as a StructureDefinition.
//! let profile = serde_json::json!({
//!     "resourceType": "StructureDefinition", "url": "http://example.org/StructureDefinition/with-birth-date",
//!     "name": "WithBirthDate", "status": "active", "kind": "resource", "abstract": false, "type": "Patient",
//!     "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
//!     "differential": {"element": [{"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}]}
//! });
//! let outcome = fhir_models::validation::validate_against(&patient, &profile)?;
//! assert!(!outcome.is_valid());
//! // A missing element is reported at its parent, with the element in the message.
//! assert!(outcome.errors().any(|i| i.path == "Patient" && i.message.contains("birthDate")));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use fhir_validate::{Definitions, DefinitionsError, FhirVersion, Issue, Outcome, Rule, Severity, ValidateError};

use crate::json::FhirJson;
use crate::profile::{ProfileError, Violation, ViolationKind};
use fhir_validate::Validator;
use std::sync::OnceLock;

/// Errors of a validation request (the resource's own problems are the [`Outcome`]'s issues).
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// The StructureDefinition handed in cannot be used (it has no `url`, or is not a StructureDefinition).
    #[error("the profile handed in cannot be used: {0}")]
    Definition(#[from] DefinitionsError),
    /// The profile is not in the definitions (or has neither a snapshot nor a differential on a known base).
    #[error(transparent)]
    Validate(#[from] ValidateError),
}

static DEFINITIONS: OnceLock<Definitions> = OnceLock::new();
static VALIDATOR: OnceLock<Validator<'static>> = OnceLock::new();
/// Whether [`DEFINITIONS`] holds a user's store (from [`set_definitions`]) rather than the package cache's.
static USER_DEFINITIONS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The IG package of each enabled profile module, with the profiles the module generates.
#[cfg(feature = "r4-base")]
const MODULE_PACKAGES: &[(&[(&str, &str)], &str)] = &[
    #[cfg(feature = "r4-us-core")]
    (crate::r4::us_core::PROFILES, "hl7.fhir.us.core#3.1.1"),
    #[cfg(feature = "r4-us-core-v8")]
    (crate::r4::us_core_v8::PROFILES, "hl7.fhir.us.core#8.0.0"),
    #[cfg(feature = "r4-carin-bb")]
    (crate::r4::carin_bb::PROFILES, "hl7.fhir.us.carin-bb#1.1.0"),
    #[cfg(feature = "r4-carin-bb-v2")]
    (crate::r4::carin_bb_v2::PROFILES, "hl7.fhir.us.carin-bb#2.0.0"),
    #[cfg(feature = "r4-plan-net")]
    (crate::r4::plan_net::PROFILES, "hl7.fhir.us.davinci-pdex-plan-net#1.1.0"),
    #[cfg(feature = "r4-drug-formulary")]
    (crate::r4::drug_formulary::PROFILES, "hl7.fhir.us.davinci-drug-formulary#2.0.1"),
];
#[cfg(not(feature = "r4-base"))]
const MODULE_PACKAGES: &[(&[(&str, &str)], &str)] = &[];

/// The R4 core packages from the package cache, read once (the module stores share its parsed resources), or
/// why they could not be read.
fn core_definitions() -> Result<&'static Definitions, &'static DefinitionsError> {
    static CORE: OnceLock<Result<Definitions, DefinitionsError>> = OnceLock::new();
    CORE.get_or_init(|| Definitions::core(FhirVersion::R4, None)).as_ref()
}

/// The definitions of the enabled features from the package cache (`$FHIR_PACKAGES`, else `~/.fhir/packages`),
/// in one new store (R4): the core packages and every enabled profile module's IG package with its
/// dependencies. Where two modules define the same canonical in different versions (US Core 3.1.1 and 8.0.0), a
/// bare `url` resolves to the latest; `url|version` picks one.
pub fn package_definitions() -> Result<Definitions, DefinitionsError> {
    let mut defs = Definitions::core(FhirVersion::R4, None)?;
    for (_, package) in MODULE_PACKAGES {
        defs.load_package_with_dependencies(None, package)?;
    }
    Ok(defs)
}

/// Why the views of the module generating `url|version` cannot validate (their packages are not in the package
/// cache), so that they check with their generated checks: `None` when they validate, or when no module
/// generates that profile.
pub fn unavailable(url: &str, version: &str) -> Option<&'static DefinitionsError> {
    if USER_DEFINITIONS.load(std::sync::atomic::Ordering::Acquire) {
        return None;
    }
    module_validator(url, version)?.err()
}

/// The validator of the profile module that generates `url|version`, over the core packages and that module's
/// IG package (with its dependencies) only: inside a module, canonicals resolve as its IG resolves them (the
/// generator does the same), so US Core 3.1.1's views never meet 8.0.0's extensions or profiles. Built the
/// first time a view of the module checks; `Err` when the packages cannot be read.
fn module_validator(url: &str, version: &str) -> Option<Result<&'static Validator<'static>, &'static DefinitionsError>> {
    static CELLS: OnceLock<Vec<OnceLock<Validator<'static>>>> = OnceLock::new();
    static STORES: OnceLock<Vec<OnceLock<Result<Definitions, DefinitionsError>>>> = OnceLock::new();
    let i = MODULE_PACKAGES.iter().position(|(profiles, _)| profiles.iter().any(|(u, v)| *u == url && *v == version))?;
    let stores = STORES.get_or_init(|| MODULE_PACKAGES.iter().map(|_| OnceLock::new()).collect());
    let defs = stores[i].get_or_init(|| {
        let mut defs = core_definitions().map_err(clone_error)?.clone();
        defs.load_package_with_dependencies(None, MODULE_PACKAGES[i].1)?;
        Ok(defs)
    });
    let defs: &'static Definitions = match defs {
        Ok(d) => d,
        Err(e) => return Some(Err(e)),
    };
    let cells = CELLS.get_or_init(|| MODULE_PACKAGES.iter().map(|_| OnceLock::new()).collect());
    Some(Ok(cells[i].get_or_init(|| Validator::new(defs))))
}

/// The shared core error, for one module's store (the error types keep their sources, so they are not `Clone`).
fn clone_error(e: &DefinitionsError) -> DefinitionsError {
    DefinitionsError::Unavailable { reason: e.to_string() }
}

/// Sets the definitions every validation of this process uses (the views' checks included), instead of the
/// package cache's: e.g. R4 core and a user's own IG, loaded from packages. Call it once, before the first
/// validation; afterwards (or on a second call) the store is handed back unused.
///
/// ```no_run
/// use fhir_models::validation::{set_definitions, Definitions, FhirVersion};
/// let mut defs = Definitions::core(FhirVersion::R4, None)?; // from $FHIR_PACKAGES or ~/.fhir/packages
/// defs.load_path(std::path::Path::new("my-ig/package"))?;
/// set_definitions(defs).expect("set before the first validation");
/// # Ok::<(), fhir_models::validation::DefinitionsError>(())
/// ```
pub fn set_definitions(definitions: Definitions) -> Result<(), Definitions> {
    DEFINITIONS.set(definitions)?;
    USER_DEFINITIONS.store(true, std::sync::atomic::Ordering::Release);
    Ok(())
}

/// The definitions of this process: those of [`set_definitions`], else [`package_definitions`]; an empty R4
/// store when the package cache cannot be read (then every validation names what it could not resolve, and
/// [`package_definitions`] says why).
pub fn definitions() -> &'static Definitions {
    DEFINITIONS.get_or_init(|| package_definitions().unwrap_or_else(|_| Definitions::new(FhirVersion::R4)))
}

/// The validator over [`definitions`] (it caches compiled profiles and value sets for the process).
pub fn validator() -> &'static Validator<'static> {
    VALIDATOR.get_or_init(|| Validator::new(definitions()))
}

fn json_of<T: FhirJson>(resource: &T) -> serde_json::Value {
    serde_json::from_str(&resource.to_json()).expect("the model writes valid JSON")
}

/// Validates a model value against its base definition, its `meta.profile`s and `profiles` (canonical `url` or
/// `url|version`) with the process's definitions.
///
/// ```
/// # #[cfg(feature = "r4-observation")] {
/// use fhir_models::{r4::Observation, FhirJson};
/// let obs = Observation::from_json(r#"{"resourceType":"Observation"}"#)?; // reads...
/// let outcome = fhir_models::validation::validate(&obs, &[])?;
/// assert!(!outcome.is_valid()); // ...but `status` and `code` are missing
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn validate<T: FhirJson>(resource: &T, profiles: &[&str]) -> Result<Outcome, ValidationError> {
    Ok(validator().validate_against(&json_of(resource), profiles)?)
}

/// Validates a model value against a profile a user hands in as a StructureDefinition (JSON; a snapshot, or a
/// differential on a base the definitions hold), on top of the process's definitions: the same checks the
/// views run, for a profile that was never generated. See the module docs for an example.
///
/// Canonicals the profile names without a version (its extensions, its base) resolve to the latest version the
/// definitions hold: over the package cache's definitions with both US Core modules enabled, US Core 8.0.0's. To resolve them
/// as one IG does, call [`set_definitions`] with exactly the packages the profile depends on.
pub fn validate_against<T: FhirJson>(resource: &T, profile: &serde_json::Value) -> Result<Outcome, ValidationError> {
    let (Some(url), "StructureDefinition") = (profile["url"].as_str(), profile["resourceType"].as_str().unwrap_or_default())
    else {
        return Err(DefinitionsError::NotADefinition { what: "the profile handed in".into() }.into());
    };
    let canonical = match profile["version"].as_str() {
        Some(v) => format!("{url}|{v}"),
        None => url.to_owned(),
    };
    let mut defs = definitions().clone();
    defs.add_resource(profile.clone())?;
    let validator = Validator::new(&defs);
    let outcome = validator.validate_against(&json_of(resource), &[&canonical])?;
    Ok(outcome)
}

/// The issues of an outcome as a view's error: every error and warning (information issues, such as value sets
/// that could not be listed, are left out), `None` when the outcome is valid.
fn to_profile_error(outcome: &Outcome, profile: &'static str) -> Option<ProfileError> {
    if outcome.is_valid() {
        return None;
    }
    let violations = outcome
        .issues
        .iter()
        .filter(|i| i.severity != Severity::Information)
        .map(|i| Violation {
            path: i.path.clone(),
            kind: ViolationKind::Issue { severity: i.severity.code(), rule: i.rule.code(), message: i.message.clone() },
        })
        .collect();
    Some(ProfileError { profile, violations })
}

/// A view's check through the validator: over the definitions of [`set_definitions`] when they were set,
/// else over the packages of the view's module; `None` when those do not hold the profile `url|version`
/// (the view then runs its generated checks).
pub(crate) fn check_view<T: FhirJson>(resource: &T, url: &'static str, version: &str) -> Option<Result<(), ProfileError>> {
    let canonical = format!("{url}|{version}");
    let validator = if USER_DEFINITIONS.load(std::sync::atomic::Ordering::Acquire) {
        validator()
    } else {
        module_validator(url, version)?.ok()?
    };
    let outcome = validator.validate_against(&json_of(resource), &[&canonical]).ok()?;
    Some(to_profile_error(&outcome, url).map_or(Ok(()), Err))
}
