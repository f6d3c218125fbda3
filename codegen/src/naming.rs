//! How FHIR names become Rust names. One rule each, used by the loader:
//!
//! - types: FHIR type names as they are (`HumanName`); backbone elements: the path in UpperCamelCase
//!   (`Patient.contact` → `PatientContact`); choice enums: owning struct + element (`ObservationValue`).
//! - fields: snake_case of the JSON name (`birthDate` → `birth_date`); choice fields drop `[x]`
//!   (`value[x]` → `value`). Rust keywords are escaped one way only: as raw identifiers (`type` → `r#type`),
//!   so the Rust name always reads like the FHIR name.
//! - code enum variants: UpperCamelCase of the code (`entered-in-error` → `EnteredInError`); codes that give no
//!   identifier use the display (`<=` "Less or Equal to" → `LessOrEqualTo`); codes starting with a digit are
//!   prefixed with `V` (`1.0.2` → `V1_0_2`).
//! - cargo features: `{module}-{kebab-case type}` (`r4-explanation-of-benefit`).

use heck::{ToKebabCase, ToSnakeCase, ToUpperCamelCase};

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in",
    "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super",
    "trait", "true", "type", "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box",
    "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Rust field name for a FHIR element name (`birthDate` → `birth_date`, `type` → `r#type`).
pub fn field(json_name: &str) -> String {
    let snake = json_name.to_snake_case();
    if KEYWORDS.contains(&snake.as_str()) {
        format!("r#{snake}")
    } else {
        snake
    }
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
    let base = if is_ident(&from_code) && code.chars().any(|c| c.is_ascii_alphabetic()) && !code.starts_with(|c: char| c.is_ascii_digit()) {
        from_code
    } else if code.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{}", code.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>())
    } else {
        display.map(|d| d.to_upper_camel_case()).filter(|d| is_ident(d)).unwrap_or_else(|| "Code".to_owned())
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
        assert_eq!(code_variant("Entered-In-Error", None, &mut used), "EnteredInError2");
        assert_eq!(feature("r4", "ExplanationOfBenefit"), "r4-explanation-of-benefit");
    }
}
