//! With the `validate` feature, a view's check is the validator's answer: on every official example/profile
//! pair of the six IGs and on the broken copies, `r4::check_profile` (what `TryFrom`, `check` and `from_json`
//! call) reports exactly the validator's errors and warnings, with their paths, severities and rule codes,
//! the views reading their packages from the package cache as `fhir-models` does at run time, and the
//! reference validator here loading them itself. So `TryFrom` equals "validate this against that profile" by
//! construction.

#[path = "../../tests/models/ig_pairs.rs"]
mod ig_pairs;

use fhir_models::profile::{ProfileCheck, Violation, ViolationKind};
use fhir_models::r4::us_core::UsCorePatient;
use fhir_models::r4::us_core_v8::UsCorePatient as UsCorePatientV8;
use fhir_models::r4::{Patient, Resource};
use fhir_models::FhirJson;
use fhir_validate::Severity;
use ig_pairs::{broken_copies, official_pairs, validator_outcome, Pair};

/// The validator's issues as a view reports them (errors and warnings; `None` when valid).
fn expected(pair: &Pair) -> Option<Vec<(String, &'static str, &'static str, String)>> {
    let outcome = validator_outcome(pair);
    if outcome.is_valid() {
        return None;
    }
    Some(
        outcome
            .issues
            .iter()
            .filter(|i| i.severity != Severity::Information)
            .map(|i| (i.path.clone(), i.severity.code(), i.rule.code(), i.message.clone()))
            .collect(),
    )
}

fn reported(pair: &Pair) -> Option<Vec<(String, &'static str, &'static str, String)>> {
    match fhir_models::r4::check_profile(&pair.profile, &pair.resource) {
        ProfileCheck::Conforms => None,
        ProfileCheck::Nonconformant(e) => Some(
            e.violations
                .iter()
                .map(|Violation { path, kind }| match kind {
                    ViolationKind::Issue { severity, rule, message } => (path.clone(), *severity, *rule, message.clone()),
                    other => panic!("{}: a generated check ran with the `validate` feature: {other:?}", pair.label),
                })
                .collect(),
        ),
        other => panic!("{}: {} is generated, got {other:?}", pair.label, pair.profile),
    }
}

#[test]
fn views_report_the_validators_issues_on_every_pair() {
    let pairs = official_pairs();
    assert_eq!(pairs.len(), 429, "official (example, generated profile) pairs of the six IGs");
    let mut differ = Vec::new();
    let mut invalid = 0;
    for pair in pairs.iter().chain(broken_copies().iter().map(|b| &b.pair)) {
        let (want, got) = (expected(pair), reported(pair));
        invalid += usize::from(got.is_some());
        if want != got {
            differ.push(format!("{} ({}):\n  validator {want:?}\n  view      {got:?}", pair.label, pair.profile));
        }
    }
    assert!(differ.is_empty(), "{} pairs differ:\n{}", differ.len(), differ.join("\n"));
    // The two official examples the validator rightly refuses (listed in tests/tests/models/validator_agreement.rs).
    assert_eq!(invalid, broken_copies().len() + 2, "every broken copy and two official examples are refused");
}

#[test]
fn try_from_hands_the_resource_back_with_the_validators_issues() {
    let mut patient = Patient::from_json(r#"{"resourceType":"Patient","id":"a b","name":[{}]}"#).unwrap();
    let err = UsCorePatient::try_from(patient.clone()).unwrap_err();
    assert_eq!(err.resource, patient);
    let paths = err.error.paths();
    for p in ["Patient.id", "Patient.name[0]", "Patient"] {
        assert!(paths.contains(&p), "{p} in {paths:?}");
    }
    assert!(err.error.violations.iter().all(|v| matches!(v.kind, ViolationKind::Issue { .. })));
    // The generated checks are still there (and see less: not the id format, not the empty name).
    let generated = UsCorePatient::check_generated(&patient).unwrap_err();
    assert!(!generated.paths().contains(&"Patient.id"));
    patient = Patient::from_json(&std::fs::read_to_string(ig_pairs::packages().join("hl7.fhir.us.core#3.1.1/package/example/Patient-example.json")).unwrap()).unwrap();
    assert!(UsCorePatient::try_from(patient).is_ok());
}

#[test]
fn a_profile_handed_in_gives_the_same_answer_as_its_generated_view() {
    // US Core Patient 8.0.0's StructureDefinition as a file a user hands in, under another URL. (Its extensions
    // are named without versions: over the definitions of both US Core modules they resolve to the latest,
    // 8.0.0's, as in the view's own module.)
    let path = ig_pairs::packages().join("hl7.fhir.us.core#8.0.0/package/StructureDefinition-us-core-patient.json");
    let mut sd: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    sd["url"] = serde_json::json!("http://example.org/StructureDefinition/my-patient");
    let mut checked = 0;
    for pair in official_pairs().iter().chain(broken_copies().iter().map(|b| &b.pair)) {
        if !pair.profile.ends_with("us-core-patient|8.0.0") {
            continue;
        }
        checked += 1;
        let Resource::Patient(p) = pair.resource.clone() else { panic!("{}", pair.label) };
        let p = p.into_inner();
        let by_file = fhir_models::validation::validate_against(&p, &sd).unwrap();
        assert_eq!(by_file.is_valid(), UsCorePatientV8::try_from(p).is_ok(), "{}", pair.label);
    }
    assert!(checked >= 6, "{checked} US Core 8.0.0 patients");
}
