//! The (document, profile) pairs on which the profile views and the validator are compared: every official
//! example of the six generated IGs with each generated profile it names in `meta.profile` (Bundle entries
//! included), and deliberately broken copies of real examples, one per rule kind of issue 9. Shared (through
//! `#[path]`) by `tests/tests/models/validator_agreement.rs` (views without the `validate` feature) and
//! `tests/validate-feature` (views with it).

#![allow(dead_code)]

use fhir_models::r4::Resource;
use fhir_models::FhirJson;
use fhir_validate::{Definitions, FhirVersion, Validator};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The six IGs that have profile modules, as `<id>#<version>`.
pub const IGS: [&str; 6] = [
    "hl7.fhir.us.core#3.1.1",
    "hl7.fhir.us.core#8.0.0",
    "hl7.fhir.us.carin-bb#1.1.0",
    "hl7.fhir.us.carin-bb#2.0.0",
    "hl7.fhir.us.davinci-pdex-plan-net#1.1.0",
    "hl7.fhir.us.davinci-drug-formulary#2.0.1",
];

/// The packages directory: `$FHIR_PACKAGES`, else `shared/fhir-packages` beside the workspace.
pub fn packages() -> PathBuf {
    if let Some(d) = std::env::var_os("FHIR_PACKAGES").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let mut dir = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    while !dir.join("shared/fhir-packages").is_dir() {
        assert!(dir.pop(), "FHIR packages not found: set FHIR_PACKAGES");
    }
    dir.join("shared/fhir-packages")
}

/// One document checked against one profile.
pub struct Pair {
    /// `file`, `file#entry[i]` or `file (broken: what)`.
    pub label: String,
    /// The IG whose profile it is.
    pub package: &'static str,
    /// The profile, `url|version` of the IG's version.
    pub profile: String,
    /// The document.
    pub resource: Resource,
}

fn version_of(package: &str) -> &str {
    package.split_once('#').map_or("", |(_, v)| v)
}

fn generated_urls() -> &'static [(&'static str, &'static str)] {
    use fhir_models::r4::*;
    static ALL: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    ALL.get_or_init(|| {
        [us_core::PROFILES, us_core_v8::PROFILES, carin_bb::PROFILES, carin_bb_v2::PROFILES, plan_net::PROFILES, drug_formulary::PROFILES]
            .concat()
    })
}

fn profiles_of(resource: &Resource) -> Vec<String> {
    let value: Value = serde_json::from_str(&resource.to_json()).expect("own JSON");
    value["meta"]["profile"].as_array().into_iter().flatten().filter_map(|p| p.as_str().map(str::to_owned)).collect()
}

/// The official examples of `package` (`<id>#<version>`), read as R4 resources in file order, each followed by the
/// resources of its Bundle entries: `(label, resource)` with label `file` or `file#entry[i]`.
pub fn example_documents(package: &str) -> Vec<(String, Resource)> {
    let dir = packages().join(package).join("package/example");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("example dir").flatten().map(|e| e.path()).collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.starts_with('.') {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let resource = Resource::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Resource::Bundle(b) = &resource {
            let entries: Vec<(String, Resource)> = b
                .entry
                .iter()
                .enumerate()
                .filter_map(|(i, entry)| Some((format!("{name}#entry[{i}]"), entry.resource.clone()?)))
                .collect();
            out.push((name, resource));
            out.extend(entries);
        } else {
            out.push((name, resource));
        }
    }
    out
}

/// Every official example of the six IGs with each generated profile (of the example's IG version) it names.
pub fn official_pairs() -> Vec<Pair> {
    let mut out = Vec::new();
    for package in IGS {
        let version = version_of(package);
        for (label, r) in example_documents(package) {
            for url in profiles_of(&r) {
                let url = url.split('|').next().unwrap_or_default().to_owned();
                if generated_urls().iter().any(|(u, v)| *u == url && *v == version) {
                    out.push(Pair { label: label.clone(), package, profile: format!("{url}|{version}"), resource: r.clone() });
                }
            }
        }
    }
    out
}

fn example(package: &str, file: &str) -> Value {
    let path = packages().join(package).join("package/example").join(file);
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// A broken copy, with the path the validator must refuse it at.
pub struct Broken {
    pub pair: Pair,
    /// The issue path the validator reports (an error).
    pub path: &'static str,
    /// The validator's rule code there.
    pub rule: &'static str,
}

/// Deliberately broken copies of real examples: one per rule kind, and the cases issue 9 names.
pub fn broken_copies() -> Vec<Broken> {
    const US3: &str = "hl7.fhir.us.core#3.1.1";
    const US8: &str = "hl7.fhir.us.core#8.0.0";
    const CARIN: &str = "hl7.fhir.us.carin-bb#1.1.0";
    let patient3 = || example(US3, "Patient-example.json");
    let p3 = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|3.1.1";
    let p8 = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|8.0.0";
    let cases: Vec<(&str, &'static str, &str, Value, &'static str, &'static str)> = vec![
        ("birthsex X", US3, p3, { let mut v = patient3(); v["extension"][2]["valueCode"] = json!("X"); v },
            "Patient.extension[2].value.ofType(code)", "binding-required"),
        ("race ombCategory 9999-9", US3, p3, { let mut v = patient3(); v["extension"][0]["extension"][0]["valueCoding"]["code"] = json!("9999-9"); v },
            "Patient.extension[0].extension[0].value.ofType(Coding)", "binding-required"),
        ("name [{}] (us-core-8, empty object)", US8, p8, { let mut v = example(US8, "Patient-example.json"); v["name"] = json!([{}]); v },
            "Patient.name[0]", "empty"),
        ("name without family and given (us-core-8)", US8, p8, { let mut v = example(US8, "Patient-example.json"); v["name"] = json!([{"use": "official"}]); v },
            "Patient.name[0]", "invariant"),
        ("id 'a b' (primitive format)", US3, p3, { let mut v = patient3(); v["id"] = json!("a b"); v },
            "Patient.id", "primitive-format"),
        ("identifier system 'urn:a b' (uri format)", US3, p3, { let mut v = patient3(); v["identifier"][0]["system"] = json!("urn:a b"); v },
            "Patient.identifier[0].system", "primitive-format"),
        ("no identifier (profile cardinality)", US3, p3, { let mut v = patient3(); v.as_object_mut().unwrap().remove("identifier"); v },
            "Patient", "cardinality-min"),
        ("Network active false (fixedBoolean true)", "hl7.fhir.us.davinci-pdex-plan-net#1.1.0",
            "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-Network|1.1.0",
            { let mut v = example("hl7.fhir.us.davinci-pdex-plan-net#1.1.0", "Organization-AcmeofCTPremNet.json"); v["active"] = json!(false); v },
            "Organization.active", "fixed"),
        ("Observation without status (core cardinality)", US3, "http://hl7.org/fhir/us/core/StructureDefinition/us-core-smokingstatus|3.1.1",
            { let mut v = example(US3, "Observation-some-day-smoker.json"); v.as_object_mut().unwrap().remove("status"); v },
            "Observation", "cardinality-min"),
        ("problem Condition with an unrelated category (Condition.category:us-core)", US8,
            "http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition-problems-health-concerns|8.0.0",
            { let mut v = example(US8, "Condition-health-concern-example.json");
              v["category"] = json!([{"coding": [{"system": "http://example.org/cs", "code": "other"}]}]); v },
            "Condition", "slice-cardinality"),
        ("smoking status valueString (invariant us-core-24 over the type slices of value[x])", US8, "http://hl7.org/fhir/us/core/StructureDefinition/us-core-smokingstatus|8.0.0",
            { let mut v = example(US8, "Observation-some-day-smoker.json");
              let o = v.as_object_mut().unwrap(); o.retain(|k, _| !k.starts_with("value")); o.insert("valueString".into(), json!("some days")); v },
            "Observation", "invariant"),
        ("EOB without insurer (core cardinality in a payer profile)", CARIN,
            "http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Inpatient-Institutional|1.1.0",
            { let mut v = example(CARIN, "ExplanationOfBenefit-EOBInpatient1.json"); v.as_object_mut().unwrap().remove("insurer"); v },
            "ExplanationOfBenefit", "cardinality-min"),
        ("EOB type without the pattern coding", CARIN,
            "http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Inpatient-Institutional|1.1.0",
            { let mut v = example(CARIN, "ExplanationOfBenefit-EOBInpatient1.json"); v["type"] = json!({"text": "x"}); v },
            "ExplanationOfBenefit.type", "pattern"),
        ("Condition subject a Group (reference target)", US3, "http://hl7.org/fhir/us/core/StructureDefinition/us-core-condition|3.1.1",
            { let mut v = example(US3, "Condition-example.json"); v["subject"] = json!({"reference": "Group/g1"}); v },
            "Condition.subject", "type"),
    ];
    cases
        .into_iter()
        .map(|(what, package, profile, doc, path, rule)| {
            let resource = Resource::from_json(&doc.to_string()).unwrap_or_else(|e| panic!("{what}: {e}"));
            Broken { pair: Pair { label: format!("broken: {what}"), package, profile: profile.to_owned(), resource }, path, rule }
        })
        .collect()
}

/// R4 core, its expansions, the IG's dependencies found in the packages directory and the IG: what the views of
/// its module validate over with the `validate` feature.
pub fn full_definitions(package: &str) -> &'static Definitions {
    static ALL: OnceLock<BTreeMap<&'static str, Definitions>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        let dir = packages();
        let core = Definitions::core(FhirVersion::R4, Some(&dir)).expect("R4 core");
        IGS.iter()
            .map(|ig| {
                let mut d = core.clone();
                d.load_package_with_dependencies(Some(&dir), ig).unwrap();
                (*ig, d)
            })
            .collect()
    });
    &all[package]
}

/// The validator over [`full_definitions`].
pub fn full_validator(package: &str) -> &'static Validator<'static> {
    static ALL: OnceLock<BTreeMap<&'static str, Validator<'static>>> = OnceLock::new();
    let all = ALL.get_or_init(|| IGS.iter().map(|ig| (*ig, Validator::new(full_definitions(ig)))).collect());
    &all[package]
}

/// The validator's outcome for a pair (on the full packages).
pub fn validator_outcome(pair: &Pair) -> fhir_validate::Outcome {
    let json: Value = serde_json::from_str(&pair.resource.to_json()).expect("own JSON");
    full_validator(pair.package).validate_against(&json, &[&pair.profile]).expect("profile loaded")
}
