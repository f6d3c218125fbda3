//! Building and writing profile views: every profile's constructor (template + required elements) gives a
//! conformant resource, typed constructors and the write accessors of extensions and slices (`set_race`,
//! `set_birth_sex`, `add_adjudication_denialreason`) keep the view valid and the rest of the resource untouched,
//! and US Core 3.1.1 and 8.0.0 read back what the other wrote with their own rules.

use fhir_models::profile::{ProfileCheck, ViolationKind};
use fhir_models::r4::carin_bb::C4bbExplanationOfBenefitInpatientInstitutional;
use fhir_models::r4::us_core::{self, BirthSex, OmbEthnicityCategories, OmbRaceCategories, UsCoreEthnicity, UsCorePatient, UsCoreRace};
use fhir_models::r4::{
    carin_bb, carin_bb_v2, drug_formulary, plan_net, us_core_v8, AdministrativeGender, CodeableConcept, Coding,
    ExplanationOfBenefitItemAdjudication, HumanName, Identifier, Primitive, Resource,
};
use fhir_models::FhirJson;
use fhir_toolkit_tests::packages_dir;
use serde_json::Value;
use std::collections::BTreeMap;

type Constructors = &'static [(&'static str, &'static str, &'static [&'static str])];

/// Each profile module: its package, its constructors and its profiles' versions.
const MODULES: &[(&str, Constructors, &[(&str, &str)])] = &[
    ("hl7.fhir.us.core#3.1.1", us_core::CONSTRUCTORS, us_core::PROFILES),
    ("hl7.fhir.us.core#8.0.0", us_core_v8::CONSTRUCTORS, us_core_v8::PROFILES),
    ("hl7.fhir.us.carin-bb#1.1.0", carin_bb::CONSTRUCTORS, carin_bb::PROFILES),
    ("hl7.fhir.us.carin-bb#2.0.0", carin_bb_v2::CONSTRUCTORS, carin_bb_v2::PROFILES),
    ("hl7.fhir.us.davinci-pdex-plan-net#1.1.0", plan_net::CONSTRUCTORS, plan_net::PROFILES),
    ("hl7.fhir.us.davinci-drug-formulary#2.0.1", drug_formulary::CONSTRUCTORS, drug_formulary::PROFILES),
];

/// Profiles whose constructor cannot be given its arguments generically, or whose template cannot hold what the
/// profile requires, with the reason (15 of 116; the other 101 are built from template and arguments and conform). The test fails when one of them starts to work or another one stops.
const CANNOT: &[(&str, &str)] = &[
    ("hl7.fhir.us.core#8.0.0 http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-sexual-orientation", "no official example claims it, so there is nothing to take the arguments from"),
    ("hl7.fhir.us.core#8.0.0 http://hl7.org/fhir/us/core/StructureDefinition/us-core-vital-signs", "no official example claims it, so there is nothing to take the arguments from"),
    ("hl7.fhir.us.carin-bb#1.1.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit", "no official example claims it, so there is nothing to take the arguments from (the abstract parent of the four EOB profiles)"),
    ("hl7.fhir.us.carin-bb#1.1.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Inpatient-Institutional", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
    ("hl7.fhir.us.carin-bb#1.1.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Pharmacy", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
    ("hl7.fhir.us.carin-bb#1.1.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Patient", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
    ("hl7.fhir.us.carin-bb#2.0.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
    ("hl7.fhir.us.carin-bb#2.0.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Inpatient-Institutional", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
    ("hl7.fhir.us.carin-bb#2.0.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Oral", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
    ("hl7.fhir.us.carin-bb#2.0.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Outpatient-Institutional", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
    ("hl7.fhir.us.carin-bb#2.0.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Pharmacy", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
    ("hl7.fhir.us.carin-bb#2.0.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Professional-NonClinician", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
    ("hl7.fhir.us.carin-bb#2.0.0 http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Patient", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
    ("hl7.fhir.us.davinci-drug-formulary#2.0.1 http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/usdf-FormularyItem", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has (four required extensions, each needing its value)"),
    ("hl7.fhir.us.davinci-drug-formulary#2.0.1 http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/usdf-PayerInsurancePlan", "a required slice whose items the template makes from their discriminator needs more in each item (a value, a timing, a reason, an identifier's system and value) that only the user has"),
];

/// The official examples of a package, Bundle entries included, by the profile URLs they claim (without version).
fn examples(package: &str) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let dir = packages_dir().join(package).join("package/example");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("example dir").flatten().map(|e| e.path()).collect();
    files.sort();
    for path in files.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let Ok(v) = serde_json::from_str::<Value>(&std::fs::read_to_string(&path).unwrap()) else { continue };
        let mut all = vec![v.clone()];
        all.extend(v["entry"].as_array().into_iter().flatten().map(|e| e["resource"].clone()).filter(Value::is_object));
        for r in all {
            for url in r["meta"]["profile"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                out.entry(url.split('|').next().unwrap().to_owned()).or_default().push(r.clone());
            }
        }
    }
    out
}

/// The template with the arguments' elements copied from an example (for `value[x]`, the example's `valueX`).
fn fill(template: &str, args: &[&str], example: &Value) -> Result<String, String> {
    let mut t: Value = serde_json::from_str(template).map_err(|e| format!("template is no JSON: {e}"))?;
    for arg in args {
        let (target, source, name) = match arg.split_once('.') {
            Some((outer, inner)) => (&mut t[outer], &example[outer], inner),
            None => (&mut t, example, *arg),
        };
        let keys: Vec<&String> = match name.strip_suffix("[x]") {
            Some(stem) => source
                .as_object()
                .into_iter()
                .flat_map(|o| o.keys())
                .filter(|k| k.trim_start_matches('_').strip_prefix(stem).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase())))
                .collect(),
            None => source.as_object().into_iter().flat_map(|o| o.keys()).filter(|k| *k == name || k.strip_prefix('_') == Some(name)).collect(),
        };
        if keys.is_empty() {
            return Err(format!("the example has no `{arg}`"));
        }
        for k in keys {
            target[k] = source[k].clone();
        }
    }
    Ok(t.to_string())
}

#[test]
fn every_constructor_gives_a_conformant_resource() {
    let mut failures: Vec<(String, String)> = Vec::new();
    let mut built = 0;
    let mut profiles = 0;
    for (package, constructors, versions) in MODULES {
        let examples = examples(package);
        assert_eq!(constructors.len(), versions.len());
        for ((url, template, args), (url2, version)) in constructors.iter().zip(versions.iter()) {
            assert_eq!(url, url2);
            profiles += 1;
            let claim = format!("{url}|{version}");
            let label = format!("{package} {url}");
            // The template reads, claims the profile in this version and misses nothing but the arguments.
            let t = Resource::from_json(template).unwrap_or_else(|e| panic!("{label}: template does not read: {e}"));
            assert!(template.contains(&format!("\"{claim}\"")), "{label}: meta.profile");
            let base = t.resource_type();
            match fhir_models::r4::check_profile(&claim, &t) {
                ProfileCheck::Conforms => {}
                ProfileCheck::Nonconformant(e) => {
                    let extra: Vec<String> = e
                        .violations
                        .iter()
                        .filter(|v| !args.iter().any(|a| v.path == format!("{base}.{a}") && matches!(v.kind, ViolationKind::TooFew { .. })))
                        .map(|v| v.to_string())
                        .collect();
                    if !extra.is_empty() {
                        failures.push((label.clone(), format!("template: {}", extra.join("; "))));
                        continue;
                    }
                }
                other => panic!("{label}: {other:?}"),
            }
            // With the arguments taken from an official example of the profile, it conforms.
            let Some(example) = examples.get(*url).and_then(|e| e.first()) else {
                if !args.is_empty() {
                    failures.push((label, "no official example to take the arguments from".to_owned()));
                }
                continue;
            };
            let json = match fill(template, args, example) {
                Ok(j) => j,
                Err(why) => {
                    failures.push((label, why));
                    continue;
                }
            };
            let r = Resource::from_json(&json).unwrap_or_else(|e| panic!("{label}: {e}"));
            match fhir_models::r4::check_profile(&claim, &r) {
                ProfileCheck::Conforms => built += 1,
                ProfileCheck::Nonconformant(e) => failures.push((label, e.to_string())),
                other => panic!("{label}: {other:?}"),
            }
        }
    }
    for (l, why) in &failures {
        eprintln!("{l}: {why}");
    }
    eprintln!("{built} of {profiles} profiles built and conformant");
    assert_eq!((built, profiles), (101, 116));
    let failed: Vec<&str> = failures.iter().map(|(l, _)| l.as_str()).collect();
    let expected: Vec<&str> = CANNOT.iter().map(|(l, _)| *l).collect();
    assert_eq!(failed, expected, "profiles whose constructor does not give a conformant resource differ from the known list");
}

fn identifier() -> Identifier {
    Identifier { system: Some("http://hospital.example.org".into()), value: Some("12345".into()), ..Default::default() }
}

fn name() -> HumanName {
    HumanName { family: Some("Shaw".into()), given: vec!["Amy".into()], ..Default::default() }
}

#[test]
fn us_core_patient_new_fills_meta_profile_and_checks() {
    let p = UsCorePatient::new(vec![identifier()], vec![name()], AdministrativeGender::Female).expect("conforms");
    let profiles: Vec<&str> = p.meta.as_ref().unwrap().profile.iter().filter_map(|c| c.value.as_deref()).collect();
    assert_eq!(profiles, [format!("{}|3.1.1", UsCorePatient::PROFILE_URL)]);
    assert_eq!(UsCorePatient::REQUIRED_ARGS, ["identifier", "name", "gender"]);
    // The 8.0.0 view claims its own version.
    let v8 = us_core_v8::UsCorePatient::new(vec![identifier()], vec![name()]).expect("8.0.0 requires no gender");
    assert_eq!(v8.meta.as_ref().unwrap().profile[0].value.as_deref(), Some(&*format!("{}|8.0.0", UsCorePatient::PROFILE_URL)));
    // A missing required element is reported with its path and the resource handed back.
    let err = UsCorePatient::new(Vec::new(), vec![name()], AdministrativeGender::Male).unwrap_err();
    assert_eq!(err.error.paths(), ["Patient.identifier"]);
    assert_eq!(err.resource.name, [name()]);
}

#[test]
fn pulse_oximetry_new_fills_its_category_and_code() {
    use fhir_models::r4::us_core::UsCorePulseOximetry;
    use fhir_models::r4::{ObservationEffective, ObservationStatus, Reference};
    use fhir_models::DateTime;
    assert_eq!(UsCorePulseOximetry::REQUIRED_ARGS, ["status", "subject", "effective[x]"]);
    let subject = Reference { reference: Some("Patient/example".into()), ..Default::default() };
    let when = ObservationEffective::DateTime(Primitive::new(DateTime::new("2024-05-01T10:00:00Z").unwrap()));
    let o = UsCorePulseOximetry::new(ObservationStatus::Final, subject, when).expect("conforms");
    let codes: Vec<&str> = o.code.as_ref().unwrap().coding.iter().filter_map(|c| c.code.as_ref()?.value.as_deref()).collect();
    assert_eq!(codes, ["2708-6", "59408-5"], "the profile's code pattern");
    assert_eq!(o.category_vscat().len(), 1, "the vital-signs category slice");
    // A wrong subject type is reported as for any resource.
    let bad = Reference { reference: Some("Group/1".into()), ..Default::default() };
    let err = UsCorePulseOximetry::new(ObservationStatus::Final, bad, ObservationEffective::DateTime(Primitive::new(DateTime::new("2024").unwrap())))
        .unwrap_err();
    assert_eq!(err.error.paths(), ["Observation.subject"]);
}

fn race(codes: &[OmbRaceCategories], text: &str) -> UsCoreRace {
    let mut r = UsCoreRace::new(text);
    r.omb_category = codes.to_vec();
    r
}

#[test]
fn set_race_ethnicity_birth_sex_and_read_them_back() {
    let mut p = UsCorePatient::new(vec![identifier()], vec![name()], AdministrativeGender::Female).unwrap();
    let before = p.to_json();
    p.set_race(race(&[OmbRaceCategories::White, OmbRaceCategories::Asian], "Mixed"))
        .unwrap()
        .set_ethnicity(UsCoreEthnicity { omb_category: Some(OmbEthnicityCategories::NonHispanicOrLatino), ..UsCoreEthnicity::new("Not Hispanic") })
        .unwrap()
        .set_birth_sex(BirthSex::F)
        .unwrap();
    let r = p.race().expect("race");
    assert_eq!(r.omb_category, [OmbRaceCategories::White, OmbRaceCategories::Asian]);
    assert_eq!(r.text, "Mixed");
    assert_eq!(r.omb_category[0].to_string(), "2106-3");
    assert_eq!(r.omb_category[0].display(), Some("White"));
    assert_eq!(r.omb_category[0].system(), Some("urn:oid:2.16.840.1.113883.6.238"));
    assert_eq!(p.ethnicity().unwrap().omb_category, Some(OmbEthnicityCategories::NonHispanicOrLatino));
    assert_eq!(p.birth_sex(), Some(BirthSex::F));

    // Setting again replaces, in place; the rest of the resource is untouched.
    p.set_race(race(&[OmbRaceCategories::BlackOrAfricanAmerican], "Black")).unwrap();
    let urls: Vec<&str> = p.extension.iter().filter_map(|x| x.url.as_deref()).collect();
    assert_eq!(urls, [UsCoreRace::URL, UsCoreEthnicity::URL, "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"]);
    p.clear_race().unwrap().clear_ethnicity().unwrap().clear_birth_sex().unwrap();
    assert_eq!(p.to_json(), before, "clearing gives back the resource as it was");

    // Through JSON and back: the same view.
    p.set_race(race(&[OmbRaceCategories::White], "White")).unwrap();
    let again = UsCorePatient::from_json(&p.to_json()).expect("conforms after the round trip");
    assert_eq!(again, p);
    assert_eq!(again.race().unwrap().omb_category, [OmbRaceCategories::White]);
}

#[test]
fn unknown_race_codings_are_kept_whole() {
    let other = Coding { system: Some("http://example.org/race".into()), code: Some("X".into()), display: Some("Other".into()), ..Default::default() };
    let with_display = Coding { display: Some("My white".into()), ..OmbRaceCategories::White.to_coding() };
    let mut r = race(&[], "Other");
    r.omb_category = vec![OmbRaceCategories::from_coding(&other), OmbRaceCategories::from_coding(&with_display)];
    assert_eq!(r.omb_category, [OmbRaceCategories::Other(other.clone()), OmbRaceCategories::Other(with_display.clone())]);
    assert_eq!(r.omb_category[0].code(), Some("X"));
    let back = UsCoreRace::from_extension(&r.to_extension());
    assert_eq!(back, r, "written and read back unchanged");
    // A known coding without display is the variant.
    let bare = Coding { display: None, ..OmbRaceCategories::Asian.to_coding() };
    assert_eq!(OmbRaceCategories::from_coding(&bare), OmbRaceCategories::Asian);
}

/// Six OMB categories: US Core 3.1.1 allows five, 8.0.0 six. A write that breaks the profile changes nothing.
#[test]
fn a_set_race_is_read_by_3_1_1_and_8_0_0_each_with_its_own_rules() {
    use OmbRaceCategories::*;
    let mut p = UsCorePatient::new(vec![identifier()], vec![name()], AdministrativeGender::Other).unwrap();
    let six = race(&[AmericanIndianOrAlaskaNative, Asian, BlackOrAfricanAmerican, NativeHawaiianOrOtherPacificIslander, White, Unk], "All");
    let before = p.clone();
    let err = p.set_race(six.clone()).unwrap_err();
    assert_eq!(err.paths(), ["Patient.extension[0].extension:ombCategory"]);
    assert!(matches!(err.violations[0].kind, ViolationKind::TooMany { max: 5, found: 6 }));
    assert_eq!(p, before, "the failed write changed nothing");

    // 8.0.0 allows six; its race keeps its codings as `Coding`s (its value sets are not in the package).
    let mut v8 = us_core_v8::UsCorePatient::new(vec![identifier()], vec![name()]).unwrap();
    let mut r8 = us_core_v8::UsCoreRace::new("All");
    r8.omb_category = six.omb_category.iter().map(OmbRaceCategories::to_coding).collect();
    v8.set_race(r8).expect("8.0.0 allows six categories");
    let resource = v8.into_inner();
    assert!(UsCorePatient::check(&resource).is_err(), "3.1.1 refuses the same resource");

    // A five-category race set by the 3.1.1 view reads in the 8.0.0 view.
    p.set_race(race(&[Asian, White], "Mixed")).unwrap();
    let v8 = us_core_v8::UsCorePatient::try_from(p.into_inner()).expect("8.0.0 accepts it");
    let read = v8.race().unwrap();
    let codes: Vec<&str> = read.omb_category.iter().filter_map(|c| c.code.as_ref()?.value.as_deref()).collect();
    assert_eq!(codes, ["2028-9", "2106-3"]);
}

fn adjudication(system: &str, code: &str) -> ExplanationOfBenefitItemAdjudication {
    ExplanationOfBenefitItemAdjudication {
        category: Some(CodeableConcept { coding: vec![Coding { system: Some(system.into()), code: Some(code.into()), ..Default::default() }], ..Default::default() }),
        reason: Some(CodeableConcept {
            coding: vec![Coding {
                system: Some("https://www.cms.gov/Medicare/Coding/ICD10".into()),
                code: Some("A00".into()),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn carin_adjudication_slice_is_added_by_its_category() {
    let text = std::fs::read_to_string(packages_dir().join("hl7.fhir.us.carin-bb#1.1.0/package/example/ExplanationOfBenefit-EOBInpatient1.json")).unwrap();
    let mut eob = C4bbExplanationOfBenefitInpatientInstitutional::from_json(&text).expect("conforms");
    let discriminator = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator";
    let before = eob.adjudication.len();
    let items_before = eob.item.clone();
    // Not of the slice: refused, nothing changed.
    let err = eob.add_adjudication_denialreason(adjudication("http://terminology.hl7.org/CodeSystem/adjudication", "submitted")).unwrap_err();
    assert_eq!(err.paths(), ["ExplanationOfBenefit.adjudication:denialreason"]);
    assert_eq!(err.violations[0].kind, ViolationKind::NotInSlice);
    assert_eq!(eob.adjudication.len(), before);
    // Of the slice, with a reason from the denial reason value set.
    let denial = fhir_models::r4::carin_bb::C4bbExplanationOfBenefitInpatientInstitutional::adjudication_denialreason;
    // Of the slice but without the reason the slice requires: refused with the path, nothing changed.
    let err = eob.add_adjudication_denialreason(ExplanationOfBenefitItemAdjudication { reason: None, ..adjudication(discriminator, "denialreason") }).unwrap_err();
    assert_eq!(err.paths(), [format!("ExplanationOfBenefit.adjudication[{before}].reason")]);
    assert_eq!(eob.adjudication.len(), before);
    // Of the slice, with its reason: added at the end, found by the slice's accessor.
    eob.add_adjudication_denialreason(adjudication(discriminator, "denialreason")).expect("conforms");
    assert_eq!(denial(&eob).len(), 1);
    assert_eq!(eob.adjudication.len(), before + 1);
    assert_eq!(eob.item, items_before, "the rest is untouched");
    // Replacing the slice's items keeps the others.
    let others = eob.adjudication.len() - denial(&eob).len();
    eob.set_adjudication_denialreason(Vec::new()).unwrap();
    assert_eq!(denial(&eob).len(), 0);
    assert_eq!(eob.adjudication.len(), others);
}
