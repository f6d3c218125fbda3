//! The profile views' generated checks (no `validate` feature, as this binary builds `fhir-models`) against the
//! validator (`fhir-validate` on the full packages) on every official example/profile pair of the six IGs and on
//! deliberately broken copies: where they disagree on valid/invalid, each case is listed with its reason, and
//! the list is pinned. With the `validate` feature the views ask the validator, so there they agree by
//! construction (`tests/validate-feature` proves it on the same pairs).

use super::ig_pairs::{broken_copies, official_pairs, validator_outcome, Pair};
use fhir_models::profile::ProfileCheck;

/// Where the generated checks and the validator disagree, `(label, profile, reason)`. The generated checks
/// check what the generator turns into code (cardinality, fixed and pattern values, required bindings it can
/// list, slices by value/pattern, choice types, reference targets); the validator checks everything the
/// snapshot says.
/// In every case the generated checks accept what the validator (rightly) refuses; none the other way round.
const DISAGREEMENTS: &[(&str, &str, &str)] = &[
    (
        "DiagnosticReport-cardiology-report.json",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-diagnosticreport-note|3.1.1",
        "presentedForm.hash 'EQH/..AgME' is not base64: the generated checks do not check primitive formats",
    ),
    (
        "Observation-satO2-fiO2.json",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-pulse-oximetry|3.1.1",
        "component FiO2 in L/min is outside ucum-vitals-common, bound (required) in the vitalsigns base profile on a \
         Quantity's code: the generated checks do not check bindings on Quantity units",
    ),
    (
        "broken: race ombCategory 9999-9",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|3.1.1",
        "the required binding sits on the value of a sub-extension of us-core-race: the generated checks do not go into \
         complex extensions",
    ),
    (
        "broken: name [{}] (us-core-8, empty object)",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|8.0.0",
        "an empty object breaks ele-1 and FHIR JSON: the generated checks see only elements they constrain",
    ),
    (
        "broken: name without family and given (us-core-8)",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|8.0.0",
        "invariant us-core-8 (FHIRPath): the generated checks evaluate no invariant",
    ),
    (
        "broken: id 'a b' (primitive format)",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|3.1.1",
        "the id regex: the generated checks do not check primitive formats (the reader accepts any string)",
    ),
    (
        "broken: identifier system 'urn:a b' (uri format)",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|3.1.1",
        "the uri regex (no whitespace): the generated checks do not check primitive formats",
    ),
    (
        "broken: Observation without status (core cardinality)",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-smokingstatus|3.1.1",
        "status is 1..1 in the core already: the generated checks check only what the profile changes",
    ),
    (
        "broken: problem Condition with an unrelated category (Condition.category:us-core)",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns|8.0.0",
        "the slice is discriminated by a value set on $this (no fixed or pattern value), which the generator skips \
         whole, its 1..* included",
    ),
    (
        "broken: smoking status valueString (invariant us-core-24 over the type slices of value[x])",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-smokingstatus|8.0.0",
        "invariant us-core-24 (FHIRPath): the generated checks evaluate no invariant",
    ),
    (
        "broken: EOB without insurer (core cardinality in a payer profile)",
        "http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Inpatient-Institutional|1.1.0",
        "insurer is 1..1 in the core already: the generated checks check only what the profile changes",
    ),
];

fn generated_verdict(pair: &Pair) -> Result<(), String> {
    match fhir_models::r4::check_profile(&pair.profile, &pair.resource) {
        ProfileCheck::Conforms => Ok(()),
        ProfileCheck::Nonconformant(e) => Err(e.to_string()),
        other => panic!("{}: {} is generated, got {other:?}", pair.label, pair.profile),
    }
}

#[test]
fn generated_checks_and_the_validator_agree_or_are_listed() {
    let mut found = Vec::new();
    let mut pairs = 0;
    for pair in official_pairs() {
        pairs += 1;
        let validator = validator_outcome(&pair);
        let generated = generated_verdict(&pair);
        if generated.is_ok() != validator.is_valid() {
            let v: Vec<String> = validator.errors().map(ToString::to_string).collect();
            eprintln!("{} vs {}: generated {generated:?}; validator {}", pair.label, pair.profile, v.join("; "));
            found.push((pair.label.clone(), pair.profile.clone()));
        }
    }
    assert_eq!(pairs, 429, "official (example, generated profile) pairs of the six IGs");
    let broken = broken_copies();
    for b in &broken {
        let outcome = validator_outcome(&b.pair);
        assert!(
            outcome.errors().any(|i| i.path == b.path && i.rule.code() == b.rule),
            "{}: the validator must refuse it with {} at {}, got:\n{}",
            b.pair.label,
            b.rule,
            b.path,
            outcome.issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
        );
        if let Ok(()) = generated_verdict(&b.pair) {
            eprintln!("{}: generated checks accept it; validator: {} at {}", b.pair.label, b.rule, b.path);
            found.push((b.pair.label.clone(), b.pair.profile.clone()));
        }
    }
    let expected: Vec<(String, String)> =
        DISAGREEMENTS.iter().map(|(l, p, _)| ((*l).to_owned(), (*p).to_owned())).collect();
    assert_eq!(found, expected, "disagreements between the generated checks and the validator changed");
    assert_eq!(DISAGREEMENTS.len(), 11, "pinned: 2 of 429 official pairs and 9 of 14 broken copies");
    assert_eq!(broken.len(), 14);
}
