//! Validation against the official packages: every R4 core example (the ones that are not valid listed with
//! the reason), IG examples against their declared profiles, and deliberately broken copies of real examples,
//! one per rule kind, refused with the right path and rule.

use fhir_validate::{Definitions, FhirVersion, Outcome, Rule, Severity, Validator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

fn packages() -> PathBuf {
    if let Some(p) = std::env::var_os("FHIR_PACKAGES").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fhir-packages");
    assert!(beside.is_dir(), "set FHIR_PACKAGES to the FHIR packages directory (tried {})", beside.display());
    beside
}

fn package(name: &str) -> PathBuf {
    packages().join(name).join("package")
}

/// R4 core and its expansions only.
fn core() -> &'static Definitions {
    static D: OnceLock<Definitions> = OnceLock::new();
    D.get_or_init(|| Definitions::core(FhirVersion::R4, Some(&packages())).expect("R4 core packages"))
}

/// R4 core, its expansions and US Core 3.1.1.
fn defs() -> &'static Definitions {
    static D: OnceLock<Definitions> = OnceLock::new();
    D.get_or_init(|| {
        let dir = packages();
        let mut d = Definitions::core(FhirVersion::R4, Some(&dir)).expect("R4 core packages");
        d.load_package_named(Some(&dir), "hl7.fhir.us.core#3.1.1").expect("US Core 3.1.1");
        d
    })
}

fn us_core_8() -> &'static Definitions {
    static D: OnceLock<Definitions> = OnceLock::new();
    D.get_or_init(|| {
        let dir = packages();
        let mut d = Definitions::core(FhirVersion::R4, Some(&dir)).expect("R4 core packages");
        d.load_package_named(Some(&dir), "hl7.fhir.us.core#8.0.0").expect("US Core 8.0.0");
        d
    })
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn example(file: &str) -> Value {
    read(&package("hl7.fhir.r4.examples#4.0.1").join(file))
}

fn rules(outcome: &Outcome) -> Vec<&'static str> {
    let mut r: Vec<&str> = outcome.errors().map(|i| i.rule.code()).collect();
    r.sort_unstable();
    r.dedup();
    r
}

/// The R4 examples that are not valid, with the rule they break and why. Everything else must be valid.
const R4_EXAMPLES_NOT_VALID: [(&str, &[&str], &str); 23] = [
    (
        "Basic-classModel.json",
        &["unknown-extension"],
        "extension http://example.org/do-not-use/... is published nowhere",
    ),
    (
        "Basic-referral.json",
        &["unknown-extension"],
        "extensions http://example.org/do-not-use/fhir-extensions/referral#... are published nowhere",
    ),
    (
        "Bundle-10bb101f-a121-4264-a920-67be9cb82c74.json",
        &["unknown-extension"],
        "extension http://example.org/Profile/administrative-status is published nowhere",
    ),
    (
        "Bundle-3a0707d3-549e-4467-b8b8-5a2ab3800efe.json",
        &["unknown-extension"],
        "extension http://example.org/Profile/administrative-status is published nowhere",
    ),
    (
        "Bundle-b248b1b2-1686-4b94-9936-37d7a5f94b51.json",
        &["unknown-extension"],
        "extension http://example.org/Profile/administrative-status is published nowhere",
    ),
    ("Bundle-f001.json", &["unknown-extension"], "extension http://example.org/bodysitecode is published nowhere"),
    (
        "CarePlan-integrate.json",
        &["unknown-extension"],
        "extension http://example.org/fhir/StructureDefinition/RevisionDate is published nowhere",
    ),
    (
        "CarePlan-preg.json",
        &["unknown-extension"],
        "extensions http://example.org/fhir/StructureDefinition/careplan#... are published nowhere",
    ),
    ("DeviceMetric-example.json", &["type"], "DeviceMetric.parent refers to a DeviceDefinition; R4 allows only Device"),
    (
        "DeviceUseStatement-example.json",
        &["type"],
        "reasonReference refers to a Procedure, which R4 does not allow there",
    ),
    (
        "Group-herd1.json",
        &["unknown-extension"],
        "extension http://example.org/fhir/StructureDefinition/owner is published nowhere",
    ),
    (
        "ImplementationGuide-fhir.json",
        &["cardinality-min"],
        "the spec's own IG resource has no name and no status (both 1..1)",
    ),
    (
        "Media-1.2.840.11361907579238403408700.3.1.04.19970327150033.json",
        &["unknown-extension"],
        "DICOM extensions http://nema.org/fhir/extensions#... are published nowhere",
    ),
    (
        "MedicationRequest-medrx0301.json",
        &["type"],
        "dispenseRequest.performer refers to a Practitioner; R4 allows only Organization",
    ),
    ("Observation-clinical-gender.json", &["type"], "performer refers to an Encounter, which R4 does not allow"),
    (
        "Patient-dicom.json",
        &["unknown-extension"],
        "DICOM extensions http://nema.org/fhir/extensions#... are published nowhere",
    ),
    (
        "Patient-glossy.json",
        &["unknown-extension"],
        "extension http://example.org/StructureDefinition/trials is published nowhere",
    ),
    (
        "Patient-pat2.json",
        &["unknown-extension"],
        "extension http://example.org/Profile/administrative-status is published nowhere",
    ),
    (
        "PlanDefinition-KDN5.json",
        &["unknown-extension"],
        "extension http://example.org/fhir/AUC-dose is published nowhere",
    ),
    ("Questionnaire-qs1.json", &["cardinality-min"], "nested items without linkId (1..1)"),
    (
        "Questionnaire-zika-virus-exposure-assessment.json",
        &["unknown-extension"],
        "extension http://example.org/additional-information is published nowhere",
    ),
    (
        "RequestGroup-kdn5-example.json",
        &["unknown-extension"],
        "extension http://example.org/fhir/AUC-dose is published nowhere",
    ),
    ("ig-r4.json", &["cardinality-min"], "a copy of ImplementationGuide-fhir.json: no name, no status"),
];

#[test]
fn every_r4_core_example_is_valid_or_listed_with_its_reason() {
    let dir = package("hl7.fhir.r4.examples#4.0.1");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name().is_some_and(|n| n != "package.json" && !n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    assert!(files.len() >= 700, "{} examples", files.len());
    let validator = Validator::new(core());
    let start = Instant::now();
    // Two threads: the validator is shared (its caches are behind locks).
    let validator = &validator;
    let run = move |part: &[PathBuf]| {
        part.iter()
            .map(|f| (f.file_name().unwrap().to_string_lossy().into_owned(), validator.validate(&read(f))))
            .collect::<Vec<_>>()
    };
    let results: Vec<(String, Outcome)> = std::thread::scope(|s| {
        let (a, b) = files.split_at(files.len() / 2);
        let h = s.spawn(move || run(b));
        let mut r = run(a);
        r.extend(h.join().unwrap());
        r
    });
    eprintln!("validated {} R4 examples in {:?}", results.len(), start.elapsed());
    let mut wrong = Vec::new();
    for (name, outcome) in &results {
        match R4_EXAMPLES_NOT_VALID.iter().find(|(n, _, _)| n == name) {
            Some((_, expected, _)) => {
                if rules(outcome) != *expected {
                    wrong.push(format!("{name}: expected to break {expected:?}, breaks {:?}", rules(outcome)));
                }
            }
            None => {
                if !outcome.is_valid() {
                    wrong.push(format!(
                        "{name}: {}",
                        outcome.errors().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} examples differ:\n{}", wrong.len(), wrong.join("\n"));
    let valid = results.iter().filter(|(_, o)| o.is_valid()).count();
    assert_eq!(valid, results.len() - R4_EXAMPLES_NOT_VALID.len());
}

/// IG examples that do not conform to the profile they declare, with the reason.
const IG_EXAMPLES_NOT_VALID: [(&str, &str, &str); 2] = [
    (
        "Observation-satO2-fiO2.json",
        "binding-required",
        "component FiO2 in L/min: not in ucum-vitals-common, which the vitalsigns profile binds required",
    ),
    ("DiagnosticReport-cardiology-report.json", "primitive-format", "presentedForm.hash 'EQH/..AgME' is not base64"),
];

/// US Core 3.1.1 and 8.0.0 examples against the profiles they declare in `meta.profile`.
#[test]
fn us_core_examples_conform_to_their_declared_profiles() {
    for (defs, pkg) in [(defs(), "hl7.fhir.us.core#3.1.1"), (us_core_8(), "hl7.fhir.us.core#8.0.0")] {
        let validator = Validator::new(defs);
        let dir = package(pkg);
        let dir = if dir.join("example").is_dir() { dir.join("example") } else { dir };
        let mut checked = 0;
        let mut wrong = Vec::new();
        for f in std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()) {
            if f.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let v = read(&f);
            let profiles = v["meta"]["profile"].as_array().cloned().unwrap_or_default();
            if !profiles.iter().any(|p| p.as_str().is_some_and(|p| p.contains("/us/core/"))) {
                continue;
            }
            checked += 1;
            let outcome = validator.validate(&v);
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if let Some((_, rule, _)) =
                IG_EXAMPLES_NOT_VALID.iter().find(|(n, _, _)| pkg.ends_with("3.1.1") && *n == name)
            {
                if rules(&outcome) != [*rule] {
                    wrong.push(format!("{name}: expected to break {rule}, breaks {:?}", rules(&outcome)));
                }
                continue;
            }
            if !outcome.is_valid() {
                wrong.push(format!(
                    "{}: {}",
                    f.display(),
                    outcome.errors().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                ));
            }
        }
        eprintln!("{pkg}: {checked} examples with a US Core meta.profile");
        assert!(checked > 20, "{pkg}: only {checked} examples");
        assert!(wrong.is_empty(), "{pkg}: {} examples refused:\n{}", wrong.len(), wrong.join("\n"));
    }
}

/// Validates `doc` (against `profiles` too) and asserts an issue of `rule` at `path` with severity error.
#[track_caller]
fn refused(defs: &Definitions, doc: &Value, profiles: &[&str], rule: Rule, path: &str) {
    let outcome = Validator::new(defs).validate_against(doc, profiles).unwrap();
    assert!(
        outcome.issues.iter().any(|i| i.rule == rule && i.path == path && i.severity.is_error()),
        "expected {} at {path}, got:\n{}",
        rule.code(),
        outcome.issues.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    );
    let oo = outcome.to_operation_outcome();
    assert!(oo["issue"].as_array().unwrap().iter().any(|i| i["expression"][0] == path));
}

#[test]
fn broken_copies_are_refused_with_the_right_path() {
    let d = defs();
    let patient = example("Patient-example.json");
    let obs = example("Observation-example.json");
    assert!(Validator::new(d).validate(&patient).is_valid());
    assert!(Validator::new(d).validate(&obs).is_valid());
    let with = |base: &Value, f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        v
    };
    // cardinality (core): an Observation without status; the read would still succeed
    refused(
        d,
        &with(&obs, &|v| drop(v.as_object_mut().unwrap().remove("status"))),
        &[],
        Rule::CardinalityMin,
        "Observation",
    );
    // JSON shape: a repeating element as a single value, a single one as an array
    refused(d, &with(&patient, &|v| v["name"] = json!({"family": "X"})), &[], Rule::ArrayShape, "Patient.name");
    refused(d, &with(&patient, &|v| v["gender"] = json!(["male"])), &[], Rule::ArrayShape, "Patient.gender");
    // primitives: id pattern and length, dates, booleans, base64, positiveInt
    refused(d, &with(&patient, &|v| v["id"] = json!("a b")), &[], Rule::PrimitiveFormat, "Patient.id");
    refused(d, &with(&patient, &|v| v["id"] = json!("x".repeat(65))), &[], Rule::PrimitiveFormat, "Patient.id");
    refused(
        d,
        &with(&patient, &|v| v["birthDate"] = json!("1974-02-30")),
        &[],
        Rule::PrimitiveFormat,
        "Patient.birthDate",
    );
    refused(d, &with(&patient, &|v| v["active"] = json!("true")), &[], Rule::JsonType, "Patient.active");
    refused(
        d,
        &with(&patient, &|v| v["name"][0]["given"][1] = json!(" ")),
        &[],
        Rule::PrimitiveFormat,
        "Patient.name[0].given[1]",
    );
    refused(
        d,
        &with(&patient, &|v| v["photo"] = json!([{"contentType": "image/png", "data": "abc"}])),
        &[],
        Rule::PrimitiveFormat,
        "Patient.photo[0].data",
    );
    let mut med = example("MedicationRequest-medrx0302.json");
    med["dosageInstruction"][0]["timing"]["repeat"]["count"] = json!(0);
    refused(d, &med, &[], Rule::PrimitiveFormat, "MedicationRequest.dosageInstruction[0].timing.repeat.count");
    // empty values and nulls without their _x partner
    refused(d, &with(&patient, &|v| v["birthDate"] = json!("")), &[], Rule::Empty, "Patient.birthDate");
    refused(d, &with(&patient, &|v| v["maritalStatus"] = json!({})), &[], Rule::Empty, "Patient.maritalStatus");
    refused(d, &with(&patient, &|v| v["address"] = json!([])), &[], Rule::Empty, "Patient.address");
    refused(
        d,
        &with(&patient, &|v| v["name"][0]["given"] = json!([null, "Jim"])),
        &[],
        Rule::Empty,
        "Patient.name[0].given[0]",
    );
    let aligned = with(&patient, &|v| {
        v["name"][0]["given"] = json!([null, "Jim"]);
        v["name"][0]["_given"] = json!([{"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]}, null]);
    });
    assert!(Validator::new(d).validate(&aligned).is_valid(), "{:?}", Validator::new(d).validate(&aligned));
    // unknown elements
    refused(d, &with(&patient, &|v| v["nickname"] = json!("Jim")), &[], Rule::UnknownElement, "Patient.nickname");
    // required binding; extensible ones only warn
    refused(d, &with(&patient, &|v| v["gender"] = json!("X")), &[], Rule::BindingRequired, "Patient.gender");
    refused(d, &with(&obs, &|v| v["status"] = json!("done")), &[], Rule::BindingRequired, "Observation.status");
    let ext = Validator::new(d)
        .validate(&with(&patient, &|v| v["maritalStatus"] = json!({"coding": [{"system": "http://x", "code": "y"}]})));
    assert!(
        ext.is_valid()
            && ext.issues.iter().any(|i| i.rule == Rule::BindingExtensible && i.severity == Severity::Warning)
    );
    // choice elements: two types at once
    refused(
        d,
        &with(&patient, &|v| {
            v["deceasedBoolean"] = json!(false);
            v["deceasedDateTime"] = json!("2020-01-01");
        }),
        &[],
        Rule::Type,
        "Patient",
    );
    // invariants (FHIRPath): Period per-1, Patient pat-1
    let mut enc = example("Encounter-example.json");
    enc["period"] = json!({"start": "2020-01-02", "end": "2020-01-01"});
    refused(d, &enc, &[], Rule::Invariant, "Encounter.period");
    refused(
        d,
        &with(&patient, &|v| v["contact"] = json!([{"gender": "male"}])),
        &[],
        Rule::Invariant,
        "Patient.contact[0]",
    );
    // contained resources and Bundle entries, recursively
    refused(
        d,
        &with(&patient, &|v| v["contained"] = json!([{"resourceType": "Organization", "id": "a b"}])),
        &[],
        Rule::PrimitiveFormat,
        "Patient.contained[0].id",
    );
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "http://x.org/fhir/Patient/example", "resource": with(&patient, &|v| v["gender"] = json!("X"))},
        {"fullUrl": "Observation/1", "resource": obs.clone()}]});
    refused(d, &bundle, &[], Rule::BindingRequired, "Bundle.entry[0].resource.gender");
    refused(d, &bundle, &[], Rule::Resource, "Bundle.entry[1]");
    // reference targets
    refused(
        d,
        &with(&obs, &|v| v["subject"] = json!({"reference": "Medication/m1"})),
        &[],
        Rule::Type,
        "Observation.subject",
    );
    // unknown extensions outside the core namespace
    refused(
        d,
        &with(&patient, &|v| v["extension"] = json!([{"url": "http://example.org/x", "valueString": "y"}])),
        &[],
        Rule::UnknownExtension,
        "Patient.extension[0]",
    );
    // an extension's own definition: the value type it allows
    refused(
        d,
        &with(&patient, &|v| {
            v["extension"] =
                json!([{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueString": "Paris"}])
        }),
        &[],
        Rule::UnknownElement,
        "Patient.extension[0].valueString",
    );
}

/// A profile handed in at run time (never generated): cardinality, fixed and pattern values of several types,
/// minValue, closed slicing by value.
#[test]
fn profiles_handed_in_at_run_time() {
    let mut d = Definitions::core(FhirVersion::R4, Some(&packages())).unwrap();
    d.add_resource(json!({
        "resourceType": "StructureDefinition", "url": "http://example.org/sd/strict-patient", "name": "StrictPatient",
        "status": "draft", "kind": "resource", "abstract": false, "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
        "differential": {"element": [
            {"id": "Patient.active", "path": "Patient.active", "min": 1, "fixedBoolean": true},
            {"id": "Patient.name", "path": "Patient.name", "max": "3"},
            {"id": "Patient.maritalStatus", "path": "Patient.maritalStatus",
             "patternCodeableConcept": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]}},
            {"id": "Patient.multipleBirth[x]", "path": "Patient.multipleBirth[x]", "type": [{"code": "integer"}], "minValueInteger": 1},
            {"id": "Patient.identifier", "path": "Patient.identifier",
             "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "closed"}},
            {"id": "Patient.identifier:mrn", "path": "Patient.identifier", "sliceName": "mrn", "min": 1, "max": "1"},
            {"id": "Patient.identifier:mrn.system", "path": "Patient.identifier.system", "min": 1, "fixedUri": "urn:oid:1.2.36.146.595.217.0.1"}
        ]}
    })).unwrap();
    let p = "http://example.org/sd/strict-patient";
    let patient = example("Patient-example.json");
    let ok = Validator::new(&d).validate_against(&patient, &[p]).unwrap();
    assert!(ok.is_valid(), "{:?}", ok.errors().collect::<Vec<_>>());
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = patient.clone();
        f(&mut v);
        v
    };
    refused(&d, &with(&|v| v["active"] = json!(false)), &[p], Rule::Fixed, "Patient.active");
    refused(&d, &with(&|v| drop(v.as_object_mut().unwrap().remove("active"))), &[p], Rule::CardinalityMin, "Patient");
    refused(
        &d,
        &with(&|v| v["name"] = json!([{"family": "A"}, {"family": "B"}, {"family": "C"}, {"family": "D"}])),
        &[p],
        Rule::CardinalityMax,
        "Patient.name",
    );
    refused(
        &d,
        &with(&|v| v["maritalStatus"] = json!({"text": "married"})),
        &[p],
        Rule::Pattern,
        "Patient.maritalStatus",
    );
    refused(
        &d,
        &with(&|v| v["multipleBirthInteger"] = json!(0)),
        &[p],
        Rule::Range,
        "Patient.multipleBirth.ofType(integer)",
    );
    refused(
        &d,
        &with(&|v| v["multipleBirthBoolean"] = json!(true)),
        &[p],
        Rule::UnknownElement,
        "Patient.multipleBirthBoolean",
    );
    refused(&d, &with(&|v| v["identifier"][0]["system"] = json!("urn:x")), &[p], Rule::SliceCardinality, "Patient");
    refused(
        &d,
        &with(&|v| v["identifier"][0]["system"] = json!("urn:x")),
        &[p],
        Rule::SliceClosed,
        "Patient.identifier[0]",
    );
    // the same profile named by a version that is not loaded is an error of the request, not of the document
    assert!(Validator::new(&d).validate_against(&patient, &["http://example.org/sd/strict-patient|9"]).is_err());
}

/// US Core: required bindings inside extensions, `$this` slices with a binding, type slices of a choice,
/// the IG's invariants, `meta.profile`, and the value sets left unchecked listed per profile.
#[test]
fn us_core_profiles_are_complete() {
    let d = defs();
    let pat = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient";
    let dir = package("hl7.fhir.us.core#3.1.1");
    let dir = if dir.join("example").is_dir() { dir.join("example") } else { dir };
    let patient = read(&dir.join("Patient-example.json"));
    let ok = Validator::new(d).validate_against(&patient, &[pat]).unwrap();
    assert!(ok.is_valid(), "{:?}", ok.errors().collect::<Vec<_>>());
    let mut birthsex = patient.clone();
    let exts = birthsex["extension"].as_array_mut().unwrap();
    let i = exts.iter().position(|e| e["url"].as_str().unwrap().ends_with("us-core-birthsex")).unwrap();
    exts[i]["valueCode"] = json!("X");
    refused(d, &birthsex, &[pat], Rule::BindingRequired, &format!("Patient.extension[{i}].value.ofType(code)"));
    let mut race = patient.clone();
    let exts = race["extension"].as_array_mut().unwrap();
    let i = exts.iter().position(|e| e["url"].as_str().unwrap().ends_with("us-core-race")).unwrap();
    let j = exts[i]["extension"].as_array().unwrap().iter().position(|e| e["url"] == "ombCategory").unwrap();
    exts[i]["extension"][j]["valueCoding"]["code"] = json!("9999-9");
    refused(
        d,
        &race,
        &[pat],
        Rule::BindingRequired,
        &format!("Patient.extension[{i}].extension[{j}].value.ofType(Coding)"),
    );
    // meta.profile is honoured without asking: a US Core patient without identifier
    let mut no_id = patient.clone();
    no_id.as_object_mut().unwrap().remove("identifier");
    refused(d, &no_id, &[], Rule::CardinalityMin, "Patient");
    // us-core-8 is an invariant of the IG (family or given)
    let mut nameless = patient.clone();
    nameless["name"] = json!([{"use": "official"}]);
    refused(d, &nameless, &[pat], Rule::Invariant, "Patient.name[0]");
    // what stays unchecked is listed per profile
    let unchecked = Validator::new(d)
        .unchecked_value_sets("http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition")
        .unwrap();
    assert!(unchecked.iter().any(|(el, _)| el == "Condition.code"), "{unchecked:?}");

    // US Core 8.0.0: Condition.category:us-core ($this with a binding) and the smoking status type slices
    let d8 = us_core_8();
    let dir8 = package("hl7.fhir.us.core#8.0.0");
    let dir8 = if dir8.join("example").is_dir() { dir8.join("example") } else { dir8 };
    let mut smoking = 0;
    for f in std::fs::read_dir(&dir8).unwrap().map(|e| e.unwrap().path()) {
        let v = read(&f);
        if v["meta"]["profile"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p.as_str().is_some_and(|p| p.contains("us-core-smokingstatus"))))
        {
            let o = Validator::new(d8).validate(&v);
            assert!(o.is_valid(), "{}: {:?}", f.display(), o.errors().collect::<Vec<_>>());
            smoking += 1;
        }
    }
    assert!(smoking >= 2, "{smoking} smoking status examples");
    let problem = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns";
    let condition = std::fs::read_dir(&dir8)
        .unwrap()
        .map(|e| read(&e.unwrap().path()))
        .find(|v| {
            v["meta"]["profile"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p.as_str().is_some_and(|p| p.starts_with(problem))))
        })
        .expect("a problem Condition example");
    assert!(Validator::new(d8).validate(&condition).is_valid());
    let mut unrelated = condition.clone();
    unrelated["category"] = json!([{"coding": [{"system": "http://example.org/cat", "code": "other"}]}]);
    refused(d8, &unrelated, &[], Rule::SliceCardinality, "Condition");
}

/// CARIN Blue Button 1.1.0 and 2.0.0, Plan-Net 1.1.0 and the Drug Formulary 2.0.1 (each on US Core 3.1.1): every
/// example that declares a profile conforms to it, and a broken copy of a CARIN EOB is refused.
#[test]
fn payer_ig_examples_conform_to_their_declared_profiles() {
    let dir = packages();
    let mut total = 0;
    for ig in [
        "hl7.fhir.us.carin-bb#1.1.0",
        "hl7.fhir.us.carin-bb#2.0.0",
        "hl7.fhir.us.davinci-pdex-plan-net#1.1.0",
        "hl7.fhir.us.davinci-drug-formulary#2.0.1",
    ] {
        let mut d = Definitions::core(FhirVersion::R4, Some(&dir)).unwrap();
        d.load_package_named(Some(&dir), "hl7.fhir.us.core#3.1.1").unwrap();
        d.load_package_named(Some(&dir), ig).unwrap();
        let validator = Validator::new(&d);
        let pkg = package(ig);
        let examples = if pkg.join("example").is_dir() { pkg.join("example") } else { pkg };
        let mut wrong = Vec::new();
        let mut checked = 0;
        for f in std::fs::read_dir(&examples).unwrap().map(|e| e.unwrap().path()) {
            if f.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let v = read(&f);
            if v["meta"]["profile"].as_array().is_none_or(|p| p.is_empty()) {
                continue;
            }
            checked += 1;
            let o = validator.validate(&v);
            if !o.is_valid() {
                wrong.push(format!(
                    "{}: {}",
                    f.display(),
                    o.errors().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                ));
            }
            if ig.ends_with("carin-bb#1.1.0")
                && f.file_name().is_some_and(|n| n == "ExplanationOfBenefit-EOBInpatient1.json")
            {
                let mut broken = v.clone();
                broken.as_object_mut().unwrap().remove("insurer");
                broken["type"] = json!({"text": "x"});
                refused(&d, &broken, &[], Rule::CardinalityMin, "ExplanationOfBenefit");
                refused(&d, &broken, &[], Rule::Pattern, "ExplanationOfBenefit.type");
            }
        }
        eprintln!("{ig}: {checked} examples with a meta.profile");
        assert!(checked >= 20, "{ig}: {checked}");
        assert!(wrong.is_empty(), "{ig}:\n{}", wrong.join("\n"));
        total += checked;
    }
    assert_eq!(total, 128);
}

/// Every key of some real examples replaced by values of every JSON kind, at the top level and one level down:
/// the validator never panics, and every replacement by an empty or null value is refused.
#[test]
fn mutated_documents_never_panic() {
    let validator = Validator::new(core());
    let kinds = [
        json!(null),
        json!(0),
        json!(-1.5),
        json!(""),
        json!([]),
        json!({}),
        json!([null]),
        json!(true),
        json!("x"),
        json!([{}]),
        json!({"resourceType": "Patient"}),
    ];
    let mut runs = 0;
    for file in
        ["Patient-example.json", "Observation-example.json", "Bundle-bundle-example.json", "Questionnaire-f201.json"]
    {
        let base = example(file);
        let mut targets: Vec<Vec<String>> = Vec::new();
        for (k, v) in base.as_object().unwrap() {
            targets.push(vec![k.clone()]);
            if let Some(o) = v.as_object().or_else(|| v.get(0).and_then(Value::as_object)) {
                targets.extend(o.keys().map(|k2| vec![k.clone(), k2.clone()]));
            }
        }
        for t in targets {
            for kind in &kinds {
                let mut v = base.clone();
                let slot = match t.as_slice() {
                    [a] => &mut v[a.as_str()],
                    [a, b] => {
                        let outer = &mut v[a.as_str()];
                        if outer.is_array() {
                            &mut outer[0][b.as_str()]
                        } else {
                            &mut outer[b.as_str()]
                        }
                    }
                    _ => unreachable!(),
                };
                *slot = kind.clone();
                let outcome = validator.validate(&v);
                let _ = outcome.to_operation_outcome();
                let emptied = kind.is_null()
                    || kind == &json!("")
                    || kind == &json!([])
                    || kind == &json!({})
                    || kind == &json!([null]);
                if emptied && t[0] != "resourceType" {
                    assert!(!outcome.is_valid(), "{file}: {t:?} = {kind} passes");
                }
                runs += 1;
            }
        }
    }
    assert!(runs > 500, "{runs}");
}
