//! Every official R4 example and every resource of the R4 core package: parse into the typed `Resource`, write
//! back, compare with the original as JSON (numbers by their text).

use fhir_models::r4::Resource;
use fhir_models::FhirJson;
use fhir_toolkit_tests::{package_files, Json};

/// Files of the official packages that are not valid FHIR R4, with the reason strict reading gives. They are
/// still read leniently, and still round-trip wherever nothing had to be dropped.
const INVALID: &[(&str, &str)] = &[];

fn run(package: &str) {
    let files = package_files(package);
    let mut failures = Vec::new();
    let mut strict_ok = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let original = match Json::parse(&text) {
            Ok(j) => j,
            Err(e) => {
                failures.push(format!("{name}: not JSON: {e}"));
                continue;
            }
        };
        let expected_invalid = INVALID.iter().find(|(f, _)| *f == name);
        match (Resource::from_json(&text), expected_invalid) {
            (Ok(_), None) => strict_ok += 1,
            (Ok(_), Some(_)) => failures.push(format!("{name}: listed as invalid but strict reading accepts it")),
            (Err(e), None) => failures.push(format!("{name}: strict: {e}")),
            (Err(e), Some((_, reason))) => {
                if !e.to_string().contains(reason) {
                    failures.push(format!("{name}: strict error `{e}` does not mention `{reason}`"));
                }
            }
        }
        let lenient = match Resource::from_json_lenient(&text) {
            Ok(l) => l,
            Err(e) => {
                failures.push(format!("{name}: lenient: {e}"));
                continue;
            }
        };
        if lenient.issues.iter().any(|i| i.dropped.is_some()) {
            continue; // listed above through the strict error
        }
        let written = lenient.value.to_json();
        match Json::parse(&written) {
            Ok(back) => {
                if let Some(d) = original.diff(&back) {
                    failures.push(format!("{name}: round-trip differs at {d}"));
                }
            }
            Err(e) => failures.push(format!("{name}: written JSON does not parse: {e}")),
        }
    }
    println!("{package}: {} files, {strict_ok} valid and round-tripped, {} listed invalid", files.len(), INVALID.len());
    if !failures.is_empty() {
        panic!("{} of {} files failed:\n{}", failures.len(), files.len(), failures.join("\n"));
    }
}

#[test]
fn r4_examples_round_trip() {
    run("hl7.fhir.r4.examples#4.0.1");
}

#[test]
fn r4_core_package_round_trip() {
    run("hl7.fhir.r4.core#4.0.1");
}
