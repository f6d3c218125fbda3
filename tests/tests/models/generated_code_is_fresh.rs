//! The committed generated code equals a fresh generation from the packages named in `spec/manifest.json`.

use std::path::Path;

#[test]
fn committed_models_equal_a_fresh_generation() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = fhir_codegen::generate(&workspace, &fhir_toolkit_tests::packages_dir()).expect("generation failed");
    assert!(files.iter().any(|f| f.path == "src/r4/patient.rs"));
    let drift = fhir_codegen::drift(&workspace, &files);
    assert!(
        drift.is_empty(),
        "generated code is stale; run `cargo run -p fhir-codegen --release` and commit:\n{}",
        drift.join("\n")
    );
}

#[test]
fn drift_is_detected() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = fhir_codegen::generate(&workspace, &fhir_toolkit_tests::packages_dir()).expect("generation failed");
    let patient = files.iter_mut().find(|f| f.path == "src/r4/patient.rs").unwrap();
    patient.content.push_str("// changed\n");
    files.push(fhir_codegen::emit::GeneratedFile { path: "src/r4/new_file.rs".into(), content: String::new() });
    let drift = fhir_codegen::drift(&workspace, &files);
    assert_eq!(drift, ["src/r4/new_file.rs is missing", "src/r4/patient.rs differs from a fresh generation"]);
}
