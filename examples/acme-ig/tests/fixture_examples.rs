//! The fixture IG's examples through the views generated in `build.rs`: the good one conforms, the bad one
//! fails with one violation per broken rule, each with its FHIR path.

use acme_ig::acme::{self, AcmeColors, AcmePatient};
use fhir_models::profile::ViolationKind;
use fhir_models::r4::{Patient, Resource};
use fhir_models::{CodeEnum, FhirJson};

fn example(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/examples/");
    std::fs::read_to_string(format!("{path}{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn the_good_example_conforms_and_reads_typed() {
    let p = AcmePatient::from_json(&example("Patient-good.json")).expect("conforms");
    assert_eq!(p.favorite_color(), Some(AcmeColors::Green));
    let ids = p.identifier_acmeid();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].value.as_ref().and_then(|v| v.value.as_deref()), Some("A-1001"));
    // The versioned claim in `meta.profile` is the generated version.
    let r = Resource::from_json(&example("Patient-good.json")).unwrap();
    assert_eq!(acme::check_profile("http://acme.example/fhir/StructureDefinition/acme-patient|0.1.0", &r), Some(Ok(())));
    assert_eq!(acme::check_profile("http://acme.example/fhir/StructureDefinition/acme-patient|9.9.9", &r), None);
}

#[test]
fn the_bad_example_fails_with_every_path() {
    let patient = Patient::from_json(&example("Patient-bad.json")).unwrap();
    let err = AcmePatient::check(&patient).expect_err("the bad example breaks the profile");
    for v in &err.violations {
        eprintln!("{v}");
    }
    assert_eq!(
        err.paths(),
        [
            "Patient.active",               // fixed `true`, found `false` (a boolean fixed value)
            "Patient.deceased[x]",          // 0..0
            "Patient.extension[0].value[x]", // `purple` is not in the required value set
            "Patient.identifier[0].system", // fixed uri
            "Patient.name[0].use",          // fixed code
        ]
    );
    let kind = |path: &str| &err.violations.iter().find(|v| v.path == path).unwrap().kind;
    assert_eq!(*kind("Patient.active"), ViolationKind::WrongValue { expected: "true".into(), found: Some("false".into()) });
    assert!(matches!(kind("Patient.extension[0].value[x]"), ViolationKind::CodeNotInValueSet { found, .. } if found == "purple"));
    assert!(matches!(kind("Patient.deceased[x]"), ViolationKind::TooMany { max: 0, found: 1 }));
    // The accessor keeps a code outside the value set instead of dropping it.
    let view = AcmePatient::try_from(Patient { active: None, ..Patient::default() }).unwrap_err();
    assert_eq!(view.error.paths(), ["Patient.identifier", "Patient.identifier:acmeId", "Patient.active", "Patient.name"]);
}

#[test]
fn a_color_outside_the_value_set_is_reported_and_kept() {
    let json = example("Patient-good.json").replace("\"green\"", "\"purple\"");
    let patient = Patient::from_json(&json).unwrap();
    let err = AcmePatient::check(&patient).unwrap_err();
    assert_eq!(err.paths(), ["Patient.extension[0].value[x]"]);
    // The code enum of the extension's required binding, with its fallback for codes outside the value set.
    assert_eq!(AcmeColors::VALUE_SET, "http://acme.example/fhir/ValueSet/acme-colors");
    assert_eq!(AcmeColors::from_code("purple"), None);
    assert_eq!(AcmeColors::unrecognized("purple".into()).code(), "purple");
}

/// The views generated into this crate get fhir-models' serde impls (its `serde` feature, not this crate's):
/// written as the resource's FHIR JSON, read back with the profile checked.
#[test]
fn views_go_through_serde_when_fhir_models_has_the_feature() {
    let good = AcmePatient::from_json(&example("Patient-good.json")).expect("conforms");
    let value = serde_json::to_value(&good).unwrap();
    assert_eq!(value["resourceType"], "Patient");
    let back: AcmePatient = serde_json::from_value(value).unwrap();
    assert_eq!(back.to_json(), good.to_json());
    let bad = serde_json::from_str::<AcmePatient>(&example("Patient-bad.json")).expect_err("breaks the profile");
    assert!(bad.to_string().contains("Patient.active"), "{bad}");
}
