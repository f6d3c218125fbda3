//! Profile views of US Core 3.1.1, CARIN Blue Button 1.1.0, Da Vinci PDex Plan-Net 1.1.0 and US Drug Formulary
//! 2.0.1 (`r4::us_core`, `r4::carin_bb`, `r4::plan_net`, `r4::drug_formulary`): every official example of the IGs that names a generated profile in `meta.profile` (also inside example Bundles) checks
//! against it; typed accessors read real values; hand-made violations are reported with their FHIR paths;
//! converting back is free.

use fhir_models::profile::{ProfileCheck, ProfileError, ViolationKind};
use fhir_models::r4::carin_bb::{self, C4bbExplanationOfBenefitInpatientInstitutional};
use fhir_models::r4::{drug_formulary, plan_net};
use fhir_models::r4::us_core::{self, BirthSex, UsCoreCarePlan, UsCoreCondition, UsCorePatient, UsCoreSmokingStatus};
use fhir_models::r4::{
    CarePlan, Coding, Condition, ExplanationOfBenefit, Extension, HumanName, Identifier, Patient, Primitive, Reference, Resource,
};
use fhir_models::FhirJson;
use fhir_toolkit_tests::packages_dir;

/// Official examples that do not conform to the profile they name, as the profile's snapshot is written, with the
/// violations our checks report. The test fails if one of these starts to conform (or another one stops).
const NONCONFORMANT: &[(&str, &str)] = &[];

fn example(package: &str, file: &str) -> String {
    let path = packages_dir().join(package).join("package/example").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The profile check of every compiled module; `None` when no module generates the profile (at the claimed
/// version, when one is claimed).
fn check(url: &str, resource: &Resource) -> Option<Result<(), ProfileError>> {
    match fhir_models::r4::check_profile(url, resource) {
        ProfileCheck::Conforms => Some(Ok(())),
        ProfileCheck::Nonconformant(e) => Some(Err(e)),
        ProfileCheck::VersionNotGenerated { .. } | ProfileCheck::NotGenerated => None,
    }
}

fn profiles_of(resource: &Resource) -> Vec<String> {
    // Read `meta.profile` generically through JSON: every resource has it in the same place.
    let json = resource.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).expect("own JSON");
    value["meta"]["profile"].as_array().into_iter().flatten().filter_map(|p| p.as_str().map(str::to_owned)).collect()
}

#[test]
fn official_examples_conform_to_the_profiles_they_name() {
    let mut checked = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for package in [
        "hl7.fhir.us.core#3.1.1",
        "hl7.fhir.us.core#8.0.0",
        "hl7.fhir.us.carin-bb#1.1.0",
        "hl7.fhir.us.carin-bb#2.0.0",
        "hl7.fhir.us.davinci-pdex-plan-net#1.1.0",
        "hl7.fhir.us.davinci-drug-formulary#2.0.1",
    ] {
        let checked = checked.entry(package).or_insert(0);
        for (label, r) in super::ig_pairs::example_documents(package) {
            for url in profiles_of(&r) {
                let Some(result) = check(&url, &r) else { continue };
                *checked += 1;
                if let Err(e) = result {
                    failures.push((label.clone(), e.to_string()));
                }
            }
        }
    }
    for (label, why) in &failures {
        eprintln!("{label}: {why}");
    }
    let failed: Vec<&str> = failures.iter().map(|(l, _)| l.as_str()).collect();
    let expected: Vec<&str> = NONCONFORMANT.iter().map(|(l, _)| *l).collect();
    assert_eq!(failed, expected, "examples not conforming to their profiles differ from the known list");
    // Every (example, named profile) pair of the six IGs whose profile is generated, Bundle entries included.
    eprintln!("{checked:?}");
    let old: usize = ["hl7.fhir.us.core#3.1.1", "hl7.fhir.us.carin-bb#1.1.0", "hl7.fhir.us.davinci-pdex-plan-net#1.1.0", "hl7.fhir.us.davinci-drug-formulary#2.0.1"]
        .iter()
        .map(|p| checked[p])
        .sum();
    assert_eq!(old, 178, "(example, profile) pairs checked in the four IGs generated before");
    assert_eq!(checked["hl7.fhir.us.core#8.0.0"], 219, "(example, profile) pairs checked in US Core 8.0.0");
    assert_eq!(checked["hl7.fhir.us.carin-bb#2.0.0"], 32, "(example, profile) pairs checked in CARIN BB 2.0.0");
}

#[test]
fn us_core_patient_race_ethnicity_birth_sex() {
    let text = example("hl7.fhir.us.core#3.1.1", "Patient-example.json");
    let p = UsCorePatient::from_json(&text).expect("the US Core example patient conforms");
    let race = p.race().expect("race");
    let omb: Vec<&str> = race.omb_category.iter().filter_map(|c| c.code()).collect();
    assert_eq!(omb, ["2106-3", "1002-5", "2028-9"]);
    assert_eq!(race.omb_category[0], us_core::OmbRaceCategories::White);
    assert_eq!(race.omb_category[0].system(), Some("urn:oid:2.16.840.1.113883.6.238"));
    assert_eq!(race.text, "Mixed");
    let ethnicity = p.ethnicity().expect("ethnicity");
    assert_eq!(ethnicity.omb_category.as_ref().and_then(|c| c.code()), Some("2135-2"));
    assert_eq!(p.birth_sex(), Some(BirthSex::F));
    // Deref: the core type's fields, read-only.
    assert_eq!(p.id.as_deref(), Some("example"));
    assert_eq!(UsCorePatient::PROFILE_URL, "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient");
}

#[test]
fn carin_eob_slices() {
    let text = example("hl7.fhir.us.carin-bb#1.1.0", "ExplanationOfBenefit-EOBInpatient1.json");
    let eob = C4bbExplanationOfBenefitInpatientInstitutional::from_json(&text).expect("conforms");
    let admission = eob.supporting_info_admissionperiod();
    assert_eq!(admission.len(), 1);
    let total = eob.total_adjudicationamounttype();
    assert!(!total.is_empty());
    let status = eob.total_benefitpaymentstatus();
    assert_eq!(status.len(), 1);
    let codes: Vec<&str> = eob
        .adjudication_amounttype()
        .iter()
        .chain(eob.item.iter().flat_map(C4bbExplanationOfBenefitInpatientInstitutional::item_adjudication_amounttype).collect::<Vec<_>>().iter())
        .filter_map(|a| a.category.as_ref()?.coding.first()?.code.as_ref()?.value.as_deref())
        .collect();
    assert!(!codes.is_empty(), "adjudication amount slices found");
}

fn minimal_patient() -> Patient {
    Patient {
        identifier: vec![Identifier {
            system: Some(Primitive::new("http://hospital.example.org".into())),
            value: Some(Primitive::new("1032702".into())),
            ..Default::default()
        }],
        name: vec![HumanName { family: Some(Primitive::new("Shaw".into())), ..Default::default() }],
        gender: Some(Primitive::new(fhir_models::r4::AdministrativeGender::Female)),
        ..Default::default()
    }
}

#[test]
fn missing_identifier_name_and_gender_are_all_reported() {
    let err = UsCorePatient::try_from(Patient::default()).expect_err("an empty patient is not US Core");
    assert_eq!(err.error.paths(), ["Patient.identifier", "Patient.name", "Patient.gender"]);
    assert!(matches!(err.error.violations[0].kind, ViolationKind::TooFew { min: 1, found: 0 }));
    // The resource comes back unchanged.
    assert_eq!(err.resource, Patient::default());
    assert!(UsCorePatient::try_from(minimal_patient()).is_ok());
}

#[test]
fn nested_and_extension_violations_have_indexed_paths() {
    let mut p = minimal_patient();
    p.identifier.push(Identifier { value: Some(Primitive::new("x".into())), ..Default::default() });
    // A race extension without its required `text` sub-extension, and a value the complex extension must not have.
    p.extension.push(Extension {
        url: Some("http://hl7.org/fhir/us/core/StructureDefinition/us-core-race".to_owned()),
        value: Some(fhir_models::r4::ExtensionValue::String(Primitive::new("x".into()))),
        ..Default::default()
    });
    let err = UsCorePatient::check(&p).expect_err("violations");
    assert_eq!(err.paths(), ["Patient.extension[0].extension:text", "Patient.extension[0].value[x]", "Patient.identifier[1].system"]);
}

#[test]
fn wrong_fixed_code_is_reported() {
    let text = example("hl7.fhir.us.carin-bb#1.1.0", "ExplanationOfBenefit-EOBInpatient1.json");
    let mut eob = ExplanationOfBenefit::from_json(&text).unwrap();
    assert!(C4bbExplanationOfBenefitInpatientInstitutional::check(&eob).is_ok());
    // `use` has the pattern `claim`; `type` the pattern claim-type#institutional.
    eob.r#use = Some(Primitive::new(fhir_models::r4::Use::Preauthorization));
    eob.r#type.as_mut().unwrap().coding[0].code = Some(Primitive::new("pharmacy".into()));
    let err = C4bbExplanationOfBenefitInpatientInstitutional::try_from(eob).expect_err("violations").error;
    assert_eq!(err.paths(), ["ExplanationOfBenefit.type", "ExplanationOfBenefit.use"]);
    assert_eq!(
        err.violations[1].kind,
        ViolationKind::WrongValue { expected: "claim".to_owned(), found: Some("preauthorization".to_owned()) }
    );
}

#[test]
fn removing_a_required_slice_is_reported() {
    let text = example("hl7.fhir.us.carin-bb#1.1.0", "ExplanationOfBenefit-EOBInpatient1.json");
    let eob = C4bbExplanationOfBenefitInpatientInstitutional::from_json(&text).unwrap();
    let err = eob
        .modify(|e| {
            e.supporting_info.retain(|s| {
                !s.category.as_ref().is_some_and(|c| c.coding.iter().any(|c| c.code.as_ref().and_then(|x| x.value.as_deref()) == Some("admissionperiod")))
            })
        })
        .expect_err("admission period is required");
    assert_eq!(err.error.paths(), ["ExplanationOfBenefit.supportingInfo:admissionperiod"]);
}

#[test]
fn reference_to_a_non_target_type_is_reported() {
    let text = example("hl7.fhir.us.core#3.1.1", "Condition-example.json");
    let condition = Condition::from_json(&text).unwrap();
    assert!(UsCoreCondition::check(&condition).is_ok());
    let mut bad = condition.clone();
    bad.subject = Some(Reference { reference: Some(Primitive::new("Practitioner/123".into())), ..Default::default() });
    let err = UsCoreCondition::check(&bad).expect_err("subject must be a US Core Patient");
    assert_eq!(err.paths(), ["Condition.subject"]);
    assert_eq!(
        err.violations[0].kind,
        ViolationKind::WrongReferenceTarget { found: "Practitioner".to_owned(), allowed: "Patient".to_owned() }
    );
    // Contained and urn: references cannot show their type and are accepted.
    let mut contained = condition;
    contained.subject = Some(Reference { reference: Some(Primitive::new("urn:uuid:1".into())), ..Default::default() });
    assert!(UsCoreCondition::check(&contained).is_ok());
}

#[test]
fn converting_back_is_free_and_lossless() {
    let text = example("hl7.fhir.us.core#3.1.1", "Patient-example.json");
    let core = Patient::from_json(&text).unwrap();
    let view = UsCorePatient::try_from(core.clone()).unwrap();
    assert_eq!(std::mem::size_of::<UsCorePatient>(), std::mem::size_of::<Patient>());
    assert_eq!(view.to_json(), core.to_json());
    let back: &Patient = view.as_ref();
    assert_eq!(back, &core);
    assert_eq!(view.into_inner(), core);
    let again = UsCorePatient::from_json(&core.to_json()).unwrap();
    assert_eq!(Patient::from(again).to_json(), core.to_json());
    let _ = Coding::default();
}

#[test]
fn code_outside_a_narrowed_required_binding_is_reported() {
    let text = example("hl7.fhir.us.core#3.1.1", "CarePlan-colonoscopy.json");
    let plan = UsCoreCarePlan::from_json(&text).expect("conforms");
    // Core allows `empty` and `extensions` too; US Core narrows `text.status` to `generated | additional`.
    let err = plan
        .modify(|p| p.text.as_mut().unwrap().status = Some(Primitive::new(fhir_models::r4::NarrativeStatus::Empty)))
        .expect_err("narrowed binding");
    assert_eq!(err.error.paths(), ["CarePlan.text.status"]);
    assert_eq!(
        err.error.violations[0].kind,
        ViolationKind::CodeNotInValueSet {
            value_set: "http://hl7.org/fhir/us/core/ValueSet/us-core-narrative-status".to_owned(),
            found: "empty".to_owned()
        }
    );
    let _: &CarePlan = &err.resource;
}

#[test]
fn choice_of_a_type_the_profile_excludes_is_reported() {
    let text = example("hl7.fhir.us.core#3.1.1", "Observation-some-day-smoker.json");
    let obs = UsCoreSmokingStatus::from_json(&text).expect("conforms");
    let err = obs
        .modify(|o| o.value = Some(fhir_models::r4::ObservationValue::String(Primitive::new("sometimes".into()))))
        .expect_err("value must be a CodeableConcept");
    assert_eq!(err.error.paths(), ["Observation.value[x]"]);
    assert_eq!(err.error.violations[0].kind, ViolationKind::WrongType { allowed: "CodeableConcept".to_owned() });
}

#[test]
fn coding_outside_a_required_binding_is_reported() {
    let text = example("hl7.fhir.us.carin-bb#1.1.0", "ExplanationOfBenefit-EOBInpatient1.json");
    let eob = C4bbExplanationOfBenefitInpatientInstitutional::from_json(&text).unwrap();
    // subType: pattern C4BBInstitutionalClaimSubType#inpatient, and bound (required) to that code system's value set.
    let err = eob
        .modify(|e| e.sub_type.as_mut().unwrap().coding[0].code = Some(Primitive::new("bogus".into())))
        .expect_err("not an institutional claim subtype");
    assert_eq!(err.error.paths(), ["ExplanationOfBenefit.subType", "ExplanationOfBenefit.subType"]);
    assert!(matches!(err.error.violations[0].kind, ViolationKind::PatternMismatch { .. }));
    assert_eq!(
        err.error.violations[1].kind,
        ViolationKind::CodingNotInValueSet {
            value_set: "http://hl7.org/fhir/us/carin-bb/ValueSet/C4BBInstitutionalClaimSubType".to_owned()
        }
    );
}

#[test]
fn identifier_slices_by_pattern() {
    let text = example("hl7.fhir.us.carin-bb#1.1.0", "Practitioner-Practitioner1.json");
    let practitioner = carin_bb::C4bbPractitioner::from_json(&text).expect("conforms");
    // `identifier:NPI` is the identifier with the pattern system us-npi and type C4BBIdentifierType#npi.
    let npi: Vec<&str> = practitioner.identifier_npi().iter().filter_map(|i| i.value.as_ref()?.value.as_deref()).collect();
    assert_eq!(npi, ["6667778880"]);
    assert!(practitioner.identifier_tax().is_empty());
    // At most one NPI.
    let err = practitioner
        .modify(|p| {
            let again = p.identifier[0].clone();
            p.identifier.push(again);
        })
        .expect_err("two NPIs");
    assert_eq!(err.error.paths(), ["Practitioner.identifier:NPI"]);
    assert_eq!(err.error.violations[0].kind, ViolationKind::TooMany { max: 1, found: 2 });
}

#[test]
fn plan_net_and_formulary_extension_accessors() {
    let text = example("hl7.fhir.us.davinci-pdex-plan-net#1.1.0", "PractitionerRole-HansSoloRole1.json");
    let role = plan_net::PlanNetPractitionerRole::from_json(&text).expect("conforms");
    let network = role.network_reference().expect("network-reference extension");
    assert_eq!(network.reference.as_ref().and_then(|r| r.value.as_deref()), Some("Organization/AcmeofCTStdNet"));

    let text = example("hl7.fhir.us.davinci-drug-formulary#2.0.1", "Basic-FormularyItem-D1002-1000091.json");
    let item = drug_formulary::FormularyItem::from_json(&text).expect("conforms");
    let formulary = item.usdf_formulary_reference_extension().expect("formulary reference");
    assert_eq!(formulary.reference.as_ref().and_then(|r| r.value.as_deref()), Some("InsurancePlan/FormularyD1002"));
    let benefit = item.usdf_pharmacy_benefit_type_extension();
    assert_eq!(benefit[0].coding[0].code.as_ref().and_then(|c| c.value.as_deref()), Some("1-month-in-retail"));
    assert!(item.usdf_drug_tier_id_extension().is_some());
    // A code bound to a core value set reads into the core's enum (not a copy of it in the IG module).
    assert_eq!(item.usdf_availability_status_extension(), Some(fhir_models::r4::PublicationStatus::Active));
    // A FormularyItem without its formulary reference (1..1) is refused, with the slice's path.
    let mut basic = item.into_inner();
    basic.extension.retain(|e| !e.url.as_deref().is_some_and(|u| u.ends_with("usdf-FormularyReference-extension")));
    let err = drug_formulary::FormularyItem::try_from(basic).unwrap_err();
    assert!(err.error.paths().iter().any(|p| *p == "Basic.extension:usdf-FormularyReference-extension"), "{}", err.error);
}

/// A patient whose race extension has six OMB categories: US Core 3.1.1 allows at most five, 8.0.0 six. Each view
/// applies its own version's rules to the same resource, and a versioned claim is checked by that version only.
#[test]
fn us_core_3_1_1_and_8_0_0_apply_their_own_race_rules() {
    use fhir_models::r4::us_core_v8;
    use fhir_models::r4::{ExtensionValue, Primitive as P};
    let omb = |code: &str| Extension {
        url: Some("ombCategory".to_owned()),
        value: Some(ExtensionValue::Coding(Box::new(Coding {
            system: Some(P::new("urn:oid:2.16.840.1.113883.6.238".into())),
            code: Some(P::new(code.into())),
            ..Default::default()
        }))),
        ..Default::default()
    };
    let mut race = Extension { url: Some(us_core::UsCoreRace::URL.to_owned()), ..Default::default() };
    race.extension = ["1002-5", "2028-9", "2054-5", "2076-8", "2106-3", "2106-3"].into_iter().map(omb).collect();
    race.extension.push(Extension {
        url: Some("text".to_owned()),
        value: Some(ExtensionValue::String(P::new("Mixed".into()))),
        ..Default::default()
    });
    let mut patient = minimal_patient();
    patient.extension.push(race);

    let old = us_core::UsCorePatient::check(&patient).expect_err("3.1.1 allows five OMB race categories");
    assert_eq!(old.paths(), ["Patient.extension[0].extension:ombCategory"]);
    assert!(matches!(old.violations[0].kind, ViolationKind::TooMany { max: 5, found: 6 }));
    us_core_v8::UsCorePatient::check(&patient).expect("8.0.0 allows six");

    // The same resource through versioned canonical claims.
    let r = Resource::from(patient);
    let url = us_core::UsCorePatient::PROFILE_URL;
    assert!(matches!(fhir_models::r4::check_profile(&format!("{url}|3.1.1"), &r), ProfileCheck::Nonconformant(_)));
    assert_eq!(fhir_models::r4::check_profile(&format!("{url}|8.0.0"), &r), ProfileCheck::Conforms);
    assert_eq!(
        fhir_models::r4::check_profile(&format!("{url}|6.1.0"), &r),
        ProfileCheck::VersionNotGenerated { url: url.to_owned(), claimed: "6.1.0".to_owned(), generated: vec!["3.1.1", "8.0.0"] }
    );
    // Without a version the first module that generates the profile checks it (as before: `us_core`).
    assert!(matches!(fhir_models::r4::check_profile(url, &r), ProfileCheck::Nonconformant(_)));
    assert_eq!(us_core_v8::check_profile(&format!("{url}|3.1.1"), &r), None, "8.0.0's module never checks a 3.1.1 claim");
}

/// CARIN BB 2.0.0 depends on US Core 3.1.1: its patient checks race with 3.1.1's rules (five OMB categories at
/// most), not with those of US Core 8.0.0 generated beside it.
#[test]
fn carin_bb_2_0_0_resolves_us_core_race_in_its_dependency() {
    use fhir_models::r4::carin_bb_v2::C4bbPatient;
    use fhir_models::r4::{ExtensionValue, Primitive as P};
    let text = example("hl7.fhir.us.carin-bb#2.0.0", "Patient-Patient1.json");
    let mut p = Patient::from_json(&text).unwrap();
    C4bbPatient::check(&p).expect("the official example conforms");
    p.extension.retain(|x| x.url.as_deref() != Some(us_core::UsCoreRace::URL));
    let mut race = Extension { url: Some(us_core::UsCoreRace::URL.to_owned()), ..Default::default() };
    for code in ["1002-5", "2028-9", "2054-5", "2076-8", "2106-3", "2106-3"] {
        race.extension.push(Extension {
            url: Some("ombCategory".to_owned()),
            value: Some(ExtensionValue::Coding(Box::new(Coding {
                system: Some(P::new("urn:oid:2.16.840.1.113883.6.238".into())),
                code: Some(P::new(code.into())),
                ..Default::default()
            }))),
            ..Default::default()
        });
    }
    race.extension.push(Extension { url: Some("text".to_owned()), value: Some(ExtensionValue::String(P::new("Mixed".into()))), ..Default::default() });
    let at = p.extension.len();
    p.extension.push(race);
    let err = C4bbPatient::check(&p).expect_err("US Core 3.1.1's race allows five OMB categories");
    assert_eq!(err.paths(), [format!("Patient.extension[{at}].extension:ombCategory")]);
}
