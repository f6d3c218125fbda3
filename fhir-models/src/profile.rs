//! Profiles: the small runtime of the generated profile views (`r4::us_core`, `r4::carin_bb`).
//!
//! A profile view (`r4::us_core::UsCorePatient`) is a `#[repr(transparent)]` newtype over the core resource.
//! Converting from the core type runs the profile's generated checks, one call each into the [`Checker`] here,
//! which collects every [`Violation`] with its FHIR path; converting back ([`From`], `into_inner`) is free.
//!
//! With the `validate` feature the views check with the validator instead (`fhir-validate`, see
//! [`crate::validation`]): the violations are then the validator's issues ([`ViolationKind::Issue`]), the same
//! answer `fhir validate --profile` gives.
//!
//! Views are built and written too, never into a resource that breaks the profile:
//!
//! - `new(...)` (e.g. `UsCorePatient::new(identifier, name, gender)`) starts from the profile's *template*: a
//!   resource holding `meta.profile` (`url|version`) and the fixed and pattern values of the profile's required
//!   elements (`Observation.code` of a smoking status, the `category` slices of a vital sign). It takes the
//!   profile's other required elements as arguments, in element order (`REQUIRED_ARGS` names them) and checks the
//!   result like `TryFrom` does.
//! - Write accessors (`set_race`, `clear_birth_sex`, `add_adjudication_denialreason`, ...) change exactly the
//!   extension or slice they name, check the profile again and, on a violation, undo the change and return the
//!   [`ProfileError`]: a view always conforms. `modify` is the escape hatch for other changes (it hands the
//!   resource back when the change breaks the profile); `Deref` stays read-only.

use crate::json::ParseError;
use std::fmt;

/// One constraint of a profile that a resource does not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// FHIR path of the element: `Patient.identifier`, `Patient.identifier[0].system`,
    /// `ExplanationOfBenefit.adjudication:denialreason` (slices are written `element:slice`).
    pub path: String,
    /// What is wrong.
    pub kind: ViolationKind,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.kind)
    }
}

/// The kinds of violations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViolationKind {
    /// Fewer values than the profile's `min`.
    #[error("at least {min} required, found {found}")]
    TooFew {
        /// The profile's minimum.
        min: u32,
        /// How many there are.
        found: usize,
    },
    /// More values than the profile's `max` (`0` forbids the element).
    #[error("at most {max} allowed, found {found}")]
    TooMany {
        /// The profile's maximum.
        max: u32,
        /// How many there are.
        found: usize,
    },
    /// A fixed or pattern value differs.
    #[error("must be `{expected}`, found {}", found.as_deref().map_or("no value".to_owned(), |f| format!("`{f}`")))]
    WrongValue {
        /// The profile's value.
        expected: String,
        /// The value found (`None` when the element has no value, only extensions).
        found: Option<String>,
    },
    /// A code outside the value set the profile binds (required) the element to.
    #[error("code `{found}` is not in the value set {value_set}")]
    CodeNotInValueSet {
        /// The value set.
        value_set: String,
        /// The code found.
        found: String,
    },
    /// A `CodeableConcept` or `Coding` with codings, none from the value set the profile binds (required) it to.
    #[error("no coding from the value set {value_set}")]
    CodingNotInValueSet {
        /// The value set.
        value_set: String,
    },
    /// A `CodeableConcept` or `Coding` without the codings of the profile's pattern.
    #[error("must have the coding {expected}")]
    PatternMismatch {
        /// The pattern's codings, `system|code`.
        expected: String,
    },
    /// A choice element of a type the profile does not allow.
    #[error("type not allowed by the profile (allowed: {allowed})")]
    WrongType {
        /// The allowed types.
        allowed: String,
    },
    /// A value written into a slice (`add_adjudication_denialreason`) is not an item of that slice (its
    /// discriminator, such as the category code, does not match).
    #[error("not an item of this slice")]
    NotInSlice,
    /// A reference to a resource type the profile does not allow.
    #[error("reference to a `{found}` not allowed (allowed: {allowed})")]
    WrongReferenceTarget {
        /// The resource type in the reference.
        found: String,
        /// The allowed types.
        allowed: String,
    },
    /// An issue the validator found (feature `validate` only; see [`crate::validation`]): the path of the
    /// [`Violation`] is the issue's FHIR path as the HL7 validator writes it (`Patient.name[0]`).
    #[error("{severity} [{rule}]: {message}")]
    Issue {
        /// `OperationOutcome.issue.severity`: `fatal`, `error` or `warning`.
        severity: &'static str,
        /// The validator's stable rule code (`cardinality-min`, `binding-required`, `invariant`, ...).
        rule: &'static str,
        /// The validator's message.
        message: String,
    },
}

/// A resource does not conform to a profile: every violation found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not conformant to {profile}: {}", list(violations))]
pub struct ProfileError {
    /// The profile's canonical URL.
    pub profile: &'static str,
    /// Every violation, in element order.
    pub violations: Vec<Violation>,
}

fn list(violations: &[Violation]) -> String {
    violations.iter().map(Violation::to_string).collect::<Vec<_>>().join("; ")
}

impl ProfileError {
    /// The paths of the violations, in order (a path appears once per violation).
    pub fn paths(&self) -> Vec<&str> {
        self.violations.iter().map(|v| v.path.as_str()).collect()
    }
}

/// What checking a resource against a profile named by its canonical URL found (`r4::check_profile`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum ProfileCheck {
    /// The resource conforms to the profile.
    Conforms,
    /// The resource does not conform: every violation.
    Nonconformant(ProfileError),
    /// The profile is generated, but not in the claimed version: nothing was checked (another version's rules
    /// are not the claimed version's).
    VersionNotGenerated {
        /// The canonical URL without its version.
        url: String,
        /// The version claimed (`url|version`).
        claimed: String,
        /// The versions of the profile that are generated and compiled.
        generated: Vec<&'static str>,
    },
    /// No compiled profile module has a profile with this URL for this resource type.
    NotGenerated,
}

impl ProfileCheck {
    /// Whether the resource was checked and conforms.
    pub fn conforms(&self) -> bool {
        matches!(self, Self::Conforms)
    }

    /// Whether the resource was checked at all (against exactly the claimed version).
    pub fn was_checked(&self) -> bool {
        matches!(self, Self::Conforms | Self::Nonconformant(_))
    }
}

impl From<Result<(), ProfileError>> for ProfileCheck {
    fn from(result: Result<(), ProfileError>) -> Self {
        match result {
            Ok(()) => Self::Conforms,
            Err(e) => Self::Nonconformant(e),
        }
    }
}

/// A conversion into a profile view failed: the resource, handed back unchanged, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct Nonconformant<T: fmt::Debug> {
    /// The resource that was to be converted.
    pub resource: T,
    /// The violations.
    pub error: ProfileError,
}

/// Reading a profile view from JSON failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProfileJsonError {
    /// The JSON is not a valid resource of the base type.
    #[error(transparent)]
    Json(#[from] ParseError),
    /// The resource does not conform to the profile.
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

/// Collects violations while the generated checks walk a resource. The generated code is a list of calls into
/// it; each call names the element (`identifier`, `extension:race`) relative to the current path.
#[derive(Debug)]
pub struct Checker {
    path: String,
    violations: Vec<Violation>,
}

impl Checker {
    /// A checker at the root of a resource (`Patient`).
    pub fn new(root: &str) -> Self {
        Self { path: root.to_owned(), violations: Vec::new() }
    }

    fn push(&mut self, label: &str, kind: ViolationKind) {
        self.violations.push(Violation { path: format!("{}.{label}", self.path), kind });
    }

    /// Goes down into a value of an element (`identifier`, index 0 → `Patient.identifier[0]`); returns the mark
    /// for [`Checker::leave`].
    pub fn enter(&mut self, name: &str, index: Option<usize>) -> usize {
        let mark = self.path.len();
        self.path.push('.');
        self.path.push_str(name);
        if let Some(i) = index {
            self.path.push_str(&format!("[{i}]"));
        }
        mark
    }

    /// Comes back up from [`Checker::enter`].
    pub fn leave(&mut self, mark: usize) {
        self.path.truncate(mark);
    }

    /// The element (or slice) has `found` values; the profile allows `min..=max` (`u32::MAX`: unbounded).
    pub fn count(&mut self, label: &str, found: usize, min: u32, max: u32) {
        if found < min as usize {
            self.push(label, ViolationKind::TooFew { min, found });
        } else if found > max as usize {
            self.push(label, ViolationKind::TooMany { max, found });
        }
    }

    /// A primitive with a fixed (or pattern) value.
    pub fn fixed(&mut self, label: &str, found: Option<&str>, expected: &str) {
        if found != Some(expected) {
            self.push(label, ViolationKind::WrongValue { expected: expected.to_owned(), found: found.map(str::to_owned) });
        }
    }

    /// A `CodeableConcept` or `Coding` with a pattern; `ok` is whether it matched, `expected` the pattern.
    pub fn pattern(&mut self, label: &str, ok: bool, expected: &str) {
        if !ok {
            self.push(label, ViolationKind::PatternMismatch { expected: expected.to_owned() });
        }
    }

    /// A code bound (required) to a value set of the listed codes. A code without a value (only extensions) is
    /// not checked.
    pub fn code_in(&mut self, label: &str, found: Option<&str>, codes: &[&str], value_set: &str) {
        if let Some(code) = found {
            if !codes.contains(&code) {
                self.push(label, ViolationKind::CodeNotInValueSet { value_set: value_set.to_owned(), found: code.to_owned() });
            }
        }
    }

    /// A `CodeableConcept` or `Coding` bound (required) to a value set; `ok` is whether it has a coding from it.
    pub fn binding(&mut self, label: &str, ok: bool, value_set: &str) {
        if !ok {
            self.push(label, ViolationKind::CodingNotInValueSet { value_set: value_set.to_owned() });
        }
    }

    /// A choice element; `ok` is whether its type is one of `allowed`.
    pub fn choice(&mut self, label: &str, ok: bool, allowed: &str) {
        if !ok {
            self.push(label, ViolationKind::WrongType { allowed: allowed.to_owned() });
        }
    }

    /// A reference whose target types the profile narrows. Only references that show their type
    /// (`Patient/1`, `https://server/fhir/Patient/1/_history/2`) are checked; contained (`#x`), `urn:` and
    /// logical references are accepted.
    pub fn reference(&mut self, label: &str, reference: Option<&str>, targets: &[&str]) {
        let Some(found) = reference.and_then(reference_type) else { return };
        if !targets.contains(&found) {
            self.push(label, ViolationKind::WrongReferenceTarget { found: found.to_owned(), allowed: targets.join(", ") });
        }
    }

    /// The violations collected; `Ok` when there are none.
    pub fn finish(self, profile: &'static str) -> Result<(), ProfileError> {
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(ProfileError { profile, violations: self.violations })
        }
    }
}

/// Replaces the items of `list` that `is_item` picks by `new`, placed where the first of them was (appended when
/// there was none); the other items keep their order.
#[doc(hidden)]
pub fn replace_items<T>(list: &mut Vec<T>, is_item: impl Fn(&T) -> bool, new: impl IntoIterator<Item = T>) {
    // No item before `at` is picked, so removing the picked ones keeps `at` in place.
    let at = list.iter().position(&is_item).unwrap_or(list.len());
    list.retain(|x| !is_item(x));
    list.splice(at..at, new);
}

/// Changes one part of a resource (`slot`: its extensions, one sliced list) and checks the profile again; on a
/// violation the part is put back as it was.
#[doc(hidden)]
pub fn write_checked<R, L: Clone>(
    resource: &mut R,
    slot: fn(&mut R) -> &mut L,
    write: impl FnOnce(&mut L),
    check: impl Fn(&R) -> Result<(), ProfileError>,
) -> Result<(), ProfileError> {
    let saved = slot(resource).clone();
    write(slot(resource));
    check(resource).inspect_err(|_| *slot(resource) = saved)
}

/// Pushes `item` onto `list` when it is an item of the slice at `path` (`is`).
#[doc(hidden)]
pub fn push_slice_item<T>(profile: &'static str, path: &str, list: &mut Vec<T>, is: fn(&T) -> bool, item: T) -> Result<(), ProfileError> {
    if !is(&item) {
        return Err(not_in_slice(profile, path));
    }
    list.push(item);
    Ok(())
}

/// The error of writing a value that is not an item of the slice at `path` into it.
#[doc(hidden)]
pub fn not_in_slice(profile: &'static str, path: &str) -> ProfileError {
    ProfileError { profile, violations: vec![Violation { path: path.to_owned(), kind: ViolationKind::NotInSlice }] }
}

/// The resource a profile's constructor starts from, read from the JSON the generator wrote for it (its
/// `meta.profile` and required fixed values). Every template is read in the tests; it is generated data, not
/// input, so a failure here is a generator bug and panics with the profile's name.
#[doc(hidden)]
pub fn template<T: crate::json::FhirJson>(profile: &str, json: &str) -> T {
    T::from_json(json).unwrap_or_else(|e| panic!("fhir-codegen wrote a template for {profile} that does not read: {e}"))
}

/// Finds the entry of a coding enum's table (`(system, code, display)`) that a `Coding` is: same system and
/// code, a display that is absent or the table's, and nothing else (id, extensions, version, `userSelected`),
/// so that writing the entry back loses nothing but may add the display.
#[doc(hidden)]
pub fn coding_index(
    system: Option<&str>,
    code: Option<&str>,
    display: Option<&str>,
    bare: bool,
    table: &[(Option<&str>, &str, Option<&str>)],
) -> Option<usize> {
    if !bare {
        return None;
    }
    table.iter().position(|(s, c, d)| *s == system && Some(*c) == code && (display.is_none() || display == *d))
}

/// The resource type named by a literal reference, when it names one.
pub fn reference_type(reference: &str) -> Option<&str> {
    if reference.starts_with('#') || reference.starts_with("urn:") {
        return None;
    }
    let reference = reference.split(['?', '#']).next().unwrap_or(reference);
    let mut segments: Vec<&str> = reference.split('/').collect();
    if segments.len() >= 4 && segments[segments.len() - 2] == "_history" {
        segments.truncate(segments.len() - 2);
    }
    if segments.len() < 2 {
        return None;
    }
    let ty = segments[segments.len() - 2];
    (ty.starts_with(|c: char| c.is_ascii_uppercase()) && ty.chars().all(|c| c.is_ascii_alphanumeric())).then_some(ty)
}

/// The check behind every view's `check` (generated code calls it through `profile_view!`): with the `validate`
/// feature the validator's answer for `url|version` when the definitions hold that profile, else (and without
/// the feature) the generated checks `generated`.
#[doc(hidden)]
pub fn run_check<T: crate::json::FhirJson>(
    resource: &T,
    url: &'static str,
    version: &'static str,
    generated: fn(&T, &mut Checker),
) -> Result<(), ProfileError> {
    #[cfg(feature = "validate")]
    if let Some(result) = crate::validation::check_view(resource, url, version) {
        return result;
    }
    let _ = version;
    run_generated(resource, url, generated)
}

/// The generated checks of a view alone (also with the `validate` feature, to compare them with the validator).
#[doc(hidden)]
pub fn run_generated<T: crate::json::FhirJson>(
    resource: &T,
    url: &'static str,
    generated: fn(&T, &mut Checker),
) -> Result<(), ProfileError> {
    let mut c = Checker::new(T::TYPE_NAME);
    generated(resource, &mut c);
    c.finish(url)
}

/// The common items of every profile view (`pub struct UsCorePatient(Patient)`, declared by the generated code
/// with its docs): conversions, `Deref`, JSON. The generated code calls it once per profile, next to a
/// `check_into` of its own.
#[doc(hidden)]
#[macro_export]
macro_rules! __profile_view {
    ($name:ident, $base:ident, $url:expr, $version:expr) => {
        impl $name {
            /// Canonical URL of the profile.
            pub const PROFILE_URL: &'static str = $url;

            /// Checks a resource against the profile without taking it: every violation, each with its FHIR path
            /// (with the `validate` feature, the validator's issues; see [`fhir_models::profile`](crate::profile)).
            pub fn check(resource: &$base) -> Result<(), $crate::profile::ProfileError> {
                $crate::profile::run_check(resource, $url, $version, Self::check_into)
            }

            #[doc(hidden)]
            pub fn check_generated(resource: &$base) -> Result<(), $crate::profile::ProfileError> {
                $crate::profile::run_generated(resource, $url, Self::check_into)
            }

            /// The resource, unwrapped (free).
            pub fn into_inner(self) -> $base {
                self.0
            }

            /// Changes the resource and checks it again; on violations the changed resource is handed back in
            /// the error.
            pub fn modify(self, f: impl FnOnce(&mut $base)) -> Result<Self, $crate::profile::Nonconformant<$base>> {
                let mut resource = self.0;
                f(&mut resource);
                Self::try_from(resource)
            }

            /// Reads the base resource from JSON (strictly), then checks the profile.
            pub fn from_json(json: &str) -> Result<Self, $crate::profile::ProfileJsonError> {
                let resource = <$base as $crate::json::FhirJson>::from_json(json)?;
                Self::check(&resource)?;
                Ok(Self(resource))
            }

            /// The resource as compact JSON.
            pub fn to_json(&self) -> String {
                $crate::json::FhirJson::to_json(&self.0)
            }

            /// Writes one part of the resource (see [`write_checked`]($crate::profile::write_checked)).
            #[doc(hidden)]
            fn write_part<L: Clone>(
                &mut self,
                slot: fn(&mut $base) -> &mut L,
                write: impl FnOnce(&mut L),
            ) -> Result<&mut Self, $crate::profile::ProfileError> {
                $crate::profile::write_checked(&mut self.0, slot, write, Self::check)?;
                Ok(self)
            }

            /// Adds an item to a slice (`is`) of a list and checks the profile again.
            #[doc(hidden)]
            fn add_slice_item<T: Clone>(
                &mut self,
                slot: fn(&mut $base) -> &mut Vec<T>,
                is: fn(&T) -> bool,
                path: &str,
                item: T,
            ) -> Result<&mut Self, $crate::profile::ProfileError> {
                if !is(&item) {
                    return Err($crate::profile::not_in_slice($url, path));
                }
                self.write_part(slot, |list| list.push(item))
            }

            /// Replaces the items of a slice (`is`) of a list and checks the profile again.
            #[doc(hidden)]
            fn set_slice_items<T: Clone>(
                &mut self,
                slot: fn(&mut $base) -> &mut Vec<T>,
                is: fn(&T) -> bool,
                path: &str,
                items: Vec<T>,
            ) -> Result<&mut Self, $crate::profile::ProfileError> {
                if !items.iter().all(is) {
                    return Err($crate::profile::not_in_slice($url, path));
                }
                self.write_part(slot, |list| $crate::profile::replace_items(list, is, items))
            }
        }

        impl TryFrom<$base> for $name {
            type Error = $crate::profile::Nonconformant<$base>;
            fn try_from(resource: $base) -> Result<Self, Self::Error> {
                match Self::check(&resource) {
                    Ok(()) => Ok(Self(resource)),
                    Err(error) => Err($crate::profile::Nonconformant { resource, error }),
                }
            }
        }

        impl From<$name> for $base {
            fn from(view: $name) -> $base {
                view.0
            }
        }

        impl AsRef<$base> for $name {
            fn as_ref(&self) -> &$base {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = $base;
            fn deref(&self) -> &$base {
                &self.0
            }
        }

        $crate::__profile_view_serde!($name);
    };
}

/// The serde impls of a profile view, when `fhir-models` has its `serde` feature. Decided here, where the macro
/// is defined: a `#[cfg(feature = "serde")]` inside `profile_view!` would test the features of the crate the
/// view is expanded in (a user's crate including views from `OUT_DIR`), not this crate's.
#[cfg(feature = "serde")]
#[doc(hidden)]
#[macro_export]
macro_rules! __profile_view_serde {
    ($name:ident) => {
        /// The resource's FHIR JSON (feature `serde` of `fhir-models`; see `fhir_models::Fhir`).
        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                $crate::serde_support::serialize_json_text(&$crate::json::FhirJson::to_json(&self.0), serializer)
            }
        }

        /// Reads the resource strictly, then checks the profile: a violation is the serde error (feature `serde`
        /// of `fhir-models`).
        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = $crate::serde_support::json_text(deserializer)?;
                Self::from_json(&text).map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
            }
        }
    };
}

/// Without the `serde` feature a view has no serde impls.
#[cfg(not(feature = "serde"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __profile_view_serde {
    ($name:ident) => {};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_types() {
        assert_eq!(reference_type("Patient/1"), Some("Patient"));
        assert_eq!(reference_type("https://x.org/fhir/Organization/o1/_history/2"), Some("Organization"));
        assert_eq!(reference_type("#p1"), None);
        assert_eq!(reference_type("urn:uuid:1234"), None);
        assert_eq!(reference_type("p1"), None);
    }

    #[test]
    fn checker_paths() {
        let mut c = Checker::new("Patient");
        c.count("identifier", 0, 1, u32::MAX);
        let m = c.enter("name", Some(1));
        c.fixed("use", Some("old"), "official");
        c.leave(m);
        c.reference("managingOrganization", Some("Patient/2"), &["Organization"]);
        let e = c.finish("http://example.org/p").unwrap_err();
        assert_eq!(e.paths(), ["Patient.identifier", "Patient.name[1].use", "Patient.managingOrganization"]);
    }
}
