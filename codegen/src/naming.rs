//! How FHIR names become Rust names. One rule each, used by the loader:
//!
//! - types: FHIR type names as they are (`HumanName`); backbone elements: the path in UpperCamelCase
//!   (`Patient.contact` → `PatientContact`); choice enums: owning struct + element (`ObservationValue`).
//! - fields: snake_case of the JSON name (`birthDate` → `birth_date`); choice fields drop `[x]`
//!   (`value[x]` → `value`). Rust keywords are escaped one way only: as raw identifiers (`type` → `r#type`),
//!   so the Rust name always reads like the FHIR name.
//! - code enums: UpperCamelCase of the value set's name, acronyms as words (`FHIRDefinedType` →
//!   `FhirDefinedType`); a name the runtime uses (`FhirVersion`, `Resource`, ...) gets `Code`
//!   (`FHIRVersion` → `FhirVersionCode`); value sets that share a name are named by their URL instead
//!   (`medication-status` → `MedicationStatus`, `medication-statement-status` → `MedicationStatementStatus`).
//! - code enum variants: UpperCamelCase of the code (`entered-in-error` → `EnteredInError`); codes that give no
//!   identifier, and codes starting with a digit, use the display (`<=` "Less or Equal to" → `LessOrEqualTo`,
//!   `4` "Minor failure" → `MinorFailure`); when the display gives none either, digits are prefixed with `V`
//!   (`1.0.2` → `V1_0_2`).
//! - profile views: the profile's name without `Profile`, with the word breaks of its title when they spell the
//!   same letters (`USCorePediatricBMIforAgeObservationProfile`, "US Core Pediatric BMI for Age Observation
//!   Profile" → `UsCorePediatricBmiForAgeObservation`).
//! - slice accessors: the element and the slice name, lowercase, without the element's name repeated at its start
//!   (`adjudication` + `adjudicationamounttype` → `adjudication_amounttype`; `SocialHistory` and `socialhistory`
//!   both → `category_socialhistory`).
//! - extension structs: the extension's name without `Extension`, in UpperCamelCase (`USCoreRaceExtension` →
//!   `UsCoreRace`); their fields: snake_case of the sub-extension's URL (`ombCategory` → `omb_category`); their
//!   accessors on a view: the last words of the struct's name that spell the slice name (`UsCoreBirthSex` +
//!   `birthsex` → `birth_sex`).
//! - search builders: `{Resource}Search`; the target marker of a reference parameter:
//!   `{Resource}{Parameter}Targets` (`ObservationSubjectTargets`), numbered when taken.
//! - module constants of value sets: `VS_` and the value set's id in SCREAMING_SNAKE_CASE
//!   (`…/ValueSet/C4BBAdjudication` → `VS_C4BB_ADJUDICATION`).
//! - keywords that cannot be raw identifiers (`self`, `Self`, `super`, `crate`) get a trailing `_`.
//! - cargo features: `{module}-{kebab-case type}` (`r4-explanation-of-benefit`).

use heck::{ToKebabCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in",
    "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
    "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box",
    "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that `r#` cannot escape.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Names the runtime (or every version module) already uses: a code enum never takes them.
const RESERVED_TYPES: &[&str] = &["FhirVersion", "FhirResource", "FhirJson", "CodeEnum", "Primitive", "Resource", "Choice"];

/// Rust field name for a FHIR element name (`birthDate` → `birth_date`, `type` → `r#type`, `self` → `self_`).
pub fn field(json_name: &str) -> String {
    let snake = json_name.to_snake_case();
    if NOT_RAW.contains(&snake.as_str()) {
        format!("{snake}_")
    } else if KEYWORDS.contains(&snake.as_str()) {
        format!("r#{snake}")
    } else {
        snake
    }
}

/// The name of a code enum from its value set's computable name (`FHIRVersion` → `FhirVersionCode`).
pub fn code_enum(value_set_name: &str) -> String {
    let base = value_set_name.replace([' ', '-', '.'], "_").to_upper_camel_case();
    let base = if base.starts_with(|c: char| c.is_ascii_alphabetic()) { base } else { format!("Code{base}") };
    if RESERVED_TYPES.contains(&base.as_str()) {
        format!("{base}Code")
    } else {
        base
    }
}

/// The name of a code enum beside names already taken: a taken name gets `Code`, then a number
/// (`Status` → `StatusCode` → `StatusCode3`).
pub fn unique_code_enum(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut name = base.to_owned();
    let mut n = 2;
    while taken(&name) {
        name = if n == 2 { format!("{base}Code") } else { format!("{base}Code{n}") };
        n += 1;
    }
    name
}

/// The name of a profile module's code or coding enum from its value set's computable name: [`code_enum`], with
/// `Code` when that would shadow a name of the core module or a view of the module (`BirthSex`).
pub fn profile_code_enum(value_set_name: &str, taken: impl Fn(&str) -> bool) -> String {
    let name = code_enum(value_set_name);
    if taken(&name) {
        format!("{name}Code")
    } else {
        name
    }
}

/// The name of a choice enum: the owning struct and the element without `[x]` (`Observation` + `value` →
/// `ObservationValue`).
pub fn choice_enum(owner: &str, element: &str) -> String {
    format!("{owner}{}", upper_camel(element))
}

/// The struct read from a complex extension, from the extension's name (`USCoreRaceExtension` → `UsCoreRace`).
pub fn extension_struct(extension_name: &str) -> String {
    extension_name.strip_suffix("Extension").unwrap_or(extension_name).to_upper_camel_case()
}

/// The field of an extension struct for a sub-extension (`ombCategory` → `omb_category`).
pub fn extension_field(sub_extension: &str) -> String {
    field(&sub_extension.to_snake_case())
}

/// The accessor of an extension slice: the last words of the extension struct's name that spell the slice name
/// (`birthsex` in `UsCoreBirthSex` → `birth_sex`), else the slice name in snake case.
pub fn extension_accessor(struct_name: &str, slice: &str) -> String {
    let words: Vec<String> = struct_name.to_snake_case().split('_').map(str::to_owned).collect();
    let method = (0..words.len())
        .map(|i| words[i..].join("_"))
        .find(|w| w.replace('_', "") == slice.to_lowercase())
        .unwrap_or_else(|| slice.to_snake_case());
    field(&method)
}

/// The search builder alias of a resource (`Patient` → `PatientSearch`).
pub fn search_alias(resource: &str) -> String {
    format!("{resource}Search")
}

/// The marker type of a reference search parameter's targets (`Observation` + `subject` →
/// `ObservationSubjectTargets`, `based-on` → `BasedOn`), numbered from 2 while `taken` says the name is used.
pub fn search_targets_marker(resource: &str, code: &str, taken: impl Fn(&str) -> bool) -> String {
    let base = format!("{resource}{}Targets", backbone(&code.replace('-', ".")));
    let mut name = base.clone();
    let mut n = 2;
    while taken(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    name
}

/// The module constant listing a value set's codings, from its URL (`…/ValueSet/C4BBAdjudication` →
/// `VS_C4BB_ADJUDICATION`).
pub fn value_set_const(url: &str) -> String {
    format!("VS_{}", url.rsplit('/').next().unwrap_or(url).to_shouty_snake_case())
}

/// The binding of the values at nesting depth `depth` of a generated profile check (`v1`, `v2`, ...): each level
/// of loops binds its own, so a nested check can still name its parent's value.
pub fn check_binding(depth: usize) -> String {
    format!("v{depth}")
}

/// The name of a code enum from its value set's URL, for value sets that share a computable name
/// (`http://hl7.org/fhir/ValueSet/medication-statement-status` → `MedicationStatementStatus`).
pub fn code_enum_from_url(url: &str) -> String {
    code_enum(url.trim_end_matches('/').rsplit('/').next().unwrap_or(url))
}

/// The name of a profile view (see the module docs).
pub fn profile_view(name: &str, title: Option<&str>) -> String {
    let strip = |s: &str| s.strip_suffix("Profile").unwrap_or(s).trim().to_owned();
    let from_name = strip(name).to_upper_camel_case();
    let Some(title) = title else { return from_name };
    let from_title: String = strip(title).split_whitespace().map(|w| w.to_upper_camel_case()).collect();
    let letters = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
    if is_ident(&from_title) && letters(&from_title) == letters(&from_name) {
        from_title
    } else {
        from_name
    }
}

/// The accessor of a named slice (see the module docs); `owner` is the field of the resource the sliced element
/// is in, for slices one level down (`item` → `item_adjudication_...`).
pub fn slice_accessor(owner: Option<&str>, field_json: &str, slice_name: &str) -> String {
    let elem = field_json.to_snake_case();
    let slice: String = slice_name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect::<String>().to_lowercase().replace('-', "_");
    let flat = elem.replace('_', "");
    let slice = match slice.strip_prefix(&flat) {
        Some(rest) if !rest.trim_start_matches('_').is_empty() => rest.trim_start_matches('_').to_owned(),
        _ => slice,
    };
    let prefix = owner.map(|o| format!("{}_", o.to_snake_case())).unwrap_or_default();
    field(&format!("{prefix}{elem}_{slice}"))
}

/// A write accessor of a profile view from its read accessor and a verb (`set` + `race` → `set_race`, `add` +
/// `adjudication_denialreason` → `add_adjudication_denialreason`; a raw or escaped name loses its escape).
pub fn write_accessor(verb: &str, read_accessor: &str) -> String {
    let base = read_accessor.strip_prefix("r#").unwrap_or(read_accessor);
    let base = if NOT_RAW.iter().any(|k| base.strip_suffix('_') == Some(k)) { base.trim_end_matches('_') } else { base };
    format!("{verb}_{base}")
}

/// Rust module / file name for a type (`ExplanationOfBenefit` → `explanation_of_benefit`).
pub fn module(type_name: &str) -> String {
    let snake = type_name.to_snake_case();
    if KEYWORDS.contains(&snake.as_str()) {
        format!("{snake}_")
    } else {
        snake
    }
}

/// Cargo feature of a resource (`r4`, `ExplanationOfBenefit` → `r4-explanation-of-benefit`).
pub fn feature(module: &str, type_name: &str) -> String {
    format!("{module}-{}", type_name.to_kebab_case())
}

/// Cargo feature of a profile module (`r4`, `us-core` → `r4-us-core`).
pub fn profile_feature(version_module: &str, suffix: &str) -> String {
    format!("{version_module}-{suffix}")
}

/// The feature suffix of a profile module (`us_core_v8` → `us-core-v8`, behind `r4-us-core-v8` in `fhir-models`).
pub fn feature_suffix(module: &str) -> String {
    module.replace('_', "-")
}

/// The module name of an IG release generated beside others of the same IG: the first release generated keeps
/// the IG's plain name (`us_core`, `carin_bb`: a name never changes meaning once published), every later one gets
/// its major version (`us_core_v8`, `carin_bb_v2`), and its minor version as well when two releases share a major
/// (`us_core_v6_1`).
pub fn versioned_module(base: &str, version: &str, others: &[&str]) -> String {
    let mut parts = version.split(['.', '-']);
    let major = parts.next().unwrap_or(version);
    let minor = parts.next();
    let same_major = others.iter().filter(|o| o.split('.').next() == Some(major)).count() > 1;
    match minor {
        Some(minor) if same_major => format!("{base}_v{major}_{minor}"),
        _ => format!("{base}_v{major}"),
    }
}

/// UpperCamelCase of one FHIR path segment or type code (`dateTime` → `DateTime`, `contact` → `Contact`).
pub fn upper_camel(segment: &str) -> String {
    let mut chars = segment.chars();
    match chars.next() {
        // Keep inner capitals as FHIR writes them (`CodeableConcept`, `dateTime` → `DateTime`).
        Some(c) if segment.chars().all(|c| c.is_ascii_alphanumeric()) => c.to_ascii_uppercase().to_string() + chars.as_str(),
        _ => segment.to_upper_camel_case(),
    }
}

/// Struct name of a backbone element from its path (`Patient.contact` → `PatientContact`).
pub fn backbone(path: &str) -> String {
    path.split('.').map(upper_camel).collect()
}

fn is_ident(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&s)
}

/// Variant name for a code (see the module docs); `used` holds the names taken so far in the enum.
pub fn code_variant(code: &str, display: Option<&str>, used: &mut Vec<String>) -> String {
    let from_code = code.to_upper_camel_case();
    let from_display = display.map(|d| d.to_upper_camel_case()).filter(|d| is_ident(d) && d.starts_with(|c: char| c.is_ascii_alphabetic()));
    let base = if is_ident(&from_code) && code.chars().any(|c| c.is_ascii_alphabetic()) && !code.starts_with(|c: char| c.is_ascii_digit()) {
        from_code
    } else if let Some(d) = from_display {
        d
    } else if code.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{}", code.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>())
    } else {
        "Code".to_owned()
    };
    let mut name = base.clone();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    used.push(name.clone());
    name
}

#[cfg(test)]
mod version_tests {
    use super::*;

    #[test]
    fn versioned_modules() {
        assert_eq!(versioned_module("us_core", "8.0.0", &["3.1.1", "8.0.0"]), "us_core_v8");
        assert_eq!(versioned_module("us_core", "6.1.0", &["6.1.0", "6.0.0"]), "us_core_v6_1");
        assert_eq!(feature_suffix("carin_bb_v2"), "carin-bb-v2");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_keywords() {
        assert_eq!(field("birthDate"), "birth_date");
        assert_eq!(field("type"), "r#type");
        assert_eq!(field("abstract"), "r#abstract");
        assert_eq!(field("modifierExtension"), "modifier_extension");
    }

    #[test]
    fn types_and_variants() {
        assert_eq!(backbone("Patient.contact"), "PatientContact");
        assert_eq!(backbone("MedicationKnowledge.administrationGuidelines"), "MedicationKnowledgeAdministrationGuidelines");
        assert_eq!(upper_camel("dateTime"), "DateTime");
        assert_eq!(upper_camel("CodeableConcept"), "CodeableConcept");
        let mut used = vec![];
        assert_eq!(code_variant("entered-in-error", None, &mut used), "EnteredInError");
        assert_eq!(code_variant("<=", Some("Less or Equal to"), &mut used), "LessOrEqualTo");
        assert_eq!(code_variant("1.0.2", None, &mut used), "V1_0_2");
        assert_eq!(code_variant("0.01", Some("0.01"), &mut used), "V0_01");
        assert_eq!(code_variant("4", Some("Minor failure"), &mut used), "MinorFailure");
        assert_eq!(field("self"), "self_");
        assert_eq!(code_enum("FHIRVersion"), "FhirVersionCode");
        assert_eq!(code_enum("FHIRDefinedType"), "FhirDefinedType");
        assert_eq!(code_enum_from_url("http://hl7.org/fhir/ValueSet/medication-statement-status"), "MedicationStatementStatus");
        assert_eq!(
            profile_view("USCorePediatricBMIforAgeObservationProfile", Some("US Core Pediatric BMI for Age Observation Profile")),
            "UsCorePediatricBmiForAgeObservation"
        );
        assert_eq!(profile_view("C4BBPatient", Some("C4BB Patient")), "C4bbPatient");
        assert_eq!(profile_view("USCorePatientProfile", Some("Something else")), "UsCorePatient");
        assert_eq!(slice_accessor(None, "adjudication", "adjudicationamounttype"), "adjudication_amounttype");
        assert_eq!(slice_accessor(None, "category", "SocialHistory"), slice_accessor(None, "category", "socialhistory"));
        assert_eq!(slice_accessor(Some("item"), "adjudication", "denialreason"), "item_adjudication_denialreason");
        assert_eq!(slice_accessor(None, "supportingInfo", "admissionperiod"), "supporting_info_admissionperiod");
        assert_eq!(code_variant("Entered-In-Error", None, &mut used), "EnteredInError2");
        assert_eq!(feature("r4", "ExplanationOfBenefit"), "r4-explanation-of-benefit");
    }

    #[test]
    fn profile_items() {
        assert_eq!(extension_struct("USCoreRaceExtension"), "UsCoreRace");
        assert_eq!(extension_field("ombCategory"), "omb_category");
        assert_eq!(extension_accessor("UsCoreBirthSex", "birthsex"), "birth_sex");
        assert_eq!(extension_accessor("UsCoreRace", "race"), "race");
        assert_eq!(extension_accessor("SomethingElse", "otherName"), "other_name");
        assert_eq!(profile_code_enum("BirthSex", |n| n == "BirthSex"), "BirthSexCode");
        assert_eq!(unique_code_enum("Status", |n| n == "Status" || n == "StatusCode"), "StatusCode3");
        assert_eq!(choice_enum("Observation", "value"), "ObservationValue");
        assert_eq!(value_set_const("http://x/ValueSet/C4BBAdjudication"), "VS_C4BB_ADJUDICATION");
        assert_eq!(search_alias("Patient"), "PatientSearch");
        assert_eq!(search_targets_marker("Observation", "based-on", |n| n == "ObservationBasedOnTargets"), "ObservationBasedOnTargets2");
        assert_eq!(profile_feature("r4", "us-core"), "r4-us-core");
        assert_eq!(check_binding(1), "v1");
    }
}
