//! Golden tests of the generator: each folder under `tests/golden/` is a tiny package set for one construct
//! (backbone element, choice, required binding, contentReference, recursion and boxing, DSTU2 shapes, a profile
//! with slices and extensions) with `spec.json` (a manifest version entry) and the expected generated code under
//! `expected/`; the packages are written by `tests/golden/make_fixtures.py` (run by the test, so `python3` is
//! needed). A difference fails with a line diff. They need no official packages.
//!
//! To accept new output after an intended emitter change:
//!
//! ```text
//! FHIR_CODEGEN_BLESS=1 cargo test -p fhir-codegen --test golden
//! ```

use fhir_codegen::manifest::VersionSpec;
use fhir_codegen::Config;
use std::path::{Path, PathBuf};

#[path = "common/fixtures.rs"]
mod fixtures;
use fixtures::fixtures;

const BLESS: &str = "FHIR_CODEGEN_BLESS";

/// The packages folder of one case.
fn case_packages(case: &Path) -> PathBuf {
    fixtures().join(case.file_name().expect("case folder")).join("packages")
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().flatten().map(|e| e.path()).filter(|p| p.join("spec.json").is_file()).collect();
    out.sort();
    out
}

/// Everything the generator writes for one case: the in-crate files, and for IG modules the single file a
/// `build.rs` gets.
fn generate(case: &Path) -> Vec<(String, String)> {
    let spec: VersionSpec = serde_json::from_str(&std::fs::read_to_string(case.join("spec.json")).unwrap()).expect("spec.json");
    let mut config = Config::from_version_spec(spec);
    config.package_path(case_packages(case)).standard_package_paths(false).download(false);
    let model = config.load(&config.source()).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    let mut files: Vec<(String, String)> = fhir_codegen::emit::emit_version(&model).unwrap().into_iter().map(|f| (f.path, f.content)).collect();
    files.extend(config.emit(&model).unwrap().into_iter().map(|f| (format!("out_dir/{}", f.path), f.content)));
    files.sort();
    files
}

/// A line diff (longest common subsequence) with two lines of context, `-` expected, `+` generated.
fn diff(expected: &str, actual: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut ops) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i], i + 1));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i], i + 1));
            i += 1;
        } else {
            ops.push(('+', b[j], j + 1));
            j += 1;
        }
    }
    let near = |k: usize| ops[k.saturating_sub(2)..(k + 3).min(ops.len())].iter().any(|o| o.0 != ' ');
    let mut out = String::new();
    let mut skipped = false;
    for (k, (op, line, n)) in ops.iter().enumerate() {
        if *op != ' ' || near(k) {
            if skipped {
                out.push_str("   ...\n");
                skipped = false;
            }
            out.push_str(&format!("{op}{n:>5} {line}\n"));
        } else {
            skipped = true;
        }
    }
    out
}

#[test]
fn generated_code_equals_the_expected_files() {
    let bless = std::env::var_os(BLESS).is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    let cases = cases();
    assert_eq!(cases.len(), 7, "golden cases");
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let expected_dir = case.join("expected");
        let files = generate(case);
        if bless {
            let _ = std::fs::remove_dir_all(&expected_dir);
        }
        let mut on_disk = Vec::new();
        collect(&expected_dir, &expected_dir, &mut on_disk);
        for (path, content) in &files {
            let file = expected_dir.join(path);
            if bless {
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(&file, content).unwrap();
                continue;
            }
            match std::fs::read_to_string(&file) {
                Ok(expected) if expected == *content => {}
                Ok(expected) => failures.push(format!("{name}/{path} differs (- expected, + generated):\n{}", diff(&expected, content))),
                Err(_) => failures.push(format!("{name}/{path} is generated but not expected (no {})", file.display())),
            }
        }
        for path in on_disk.iter().filter(|p| !files.iter().any(|(f, _)| f == *p)) {
            failures.push(format!("{name}/{path} is expected but no longer generated"));
        }
    }
    assert!(failures.is_empty(), "{}\n\nIf the change is intended: {BLESS}=1 cargo test -p fhir-codegen --test golden", failures.join("\n"));
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn the_diff_is_readable() {
    let d = diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\n");
    assert_eq!(d, "   ...\n     2 b\n     3 c\n-    4 d\n+    4 D\n     5 e\n     6 f\n");
}

/// One core package with the resources of several golden cases (`Widget`, `Gauge`, `Lamp`, `Pet`) and the IG
/// that profiles `Pet`, in a fresh directory.
fn combined_packages(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let dir = std::env::temp_dir().join(format!("fhir-codegen-resources-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (case, package) in [
        ("backbone", "golden.core#0.0.1"),
        ("choice", "golden.core#0.0.1"),
        ("required_binding", "golden.core#0.0.1"),
        ("profile", "golden.core#0.0.1"),
        ("profile", "golden.ig#1.0.0"),
    ] {
        let to = dir.join(package).join("package");
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(case_packages(&root.join(case)).join(package).join("package")).unwrap().flatten() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    dir
}

fn combined_config(packages: &Path) -> Config {
    let spec = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/profile/spec.json")).unwrap();
    let mut config = Config::from_version_spec(serde_json::from_str(&spec).unwrap());
    config.package_path(packages).standard_package_paths(false).download(false);
    config
}

fn resource_names(model: &fhir_codegen::model::VersionModel) -> Vec<&str> {
    model.resources.iter().map(|t| t.name.as_str()).collect()
}

#[test]
fn only_the_configured_resources_are_generated() {
    let packages = combined_packages("some");
    let all = combined_config(&packages).load(&combined_config(&packages).source()).unwrap();
    assert_eq!(resource_names(&all), ["Gauge", "Lamp", "Pet", "Widget"]);

    let mut config = combined_config(&packages);
    config.resources(["Widget", "Pet"]);
    let model = config.load(&config.source()).unwrap();
    assert_eq!(resource_names(&model), ["Pet", "Widget"]);
    assert!(model.warnings.is_empty(), "{:?}", model.warnings);
    let files = fhir_codegen::emit::emit_version(&model).unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"src/golden/widget.rs") && !paths.contains(&"src/golden/gauge.rs"), "{paths:?}");
    let root = &files.iter().find(|f| f.path == "src/golden/mod.rs").unwrap().content;
    assert!(root.contains("Widget(crate::ResourceBox<Widget>)") && root.contains("Pet(crate::ResourceBox<Pet>)"), "{root}");
    assert!(!root.contains("Gauge(crate::ResourceBox<Gauge>)") && !root.contains("Lamp(crate::ResourceBox<Lamp>)"), "{root}");
    // Left-out types are still resource types of the version: read into `Resource::Other`, not rejected.
    assert!(root.contains(r#"&["Gauge", "Lamp", "Pet", "Widget"]"#), "{root}");
    let features = fhir_codegen::emit::features(std::slice::from_ref(&model));
    assert!(features.contains("golden-widget") && features.contains("golden-pet"), "{features}");
    assert!(!features.contains("golden-gauge") && !features.contains("golden-lamp"), "{features}");
    // The IG's profile of `Pet` is generated as before.
    assert_eq!(model.profiles.len(), 1);
    assert!(model.profiles[0].resources.contains("Pet"));
    let _ = std::fs::remove_dir_all(&packages);
}

#[test]
fn a_profile_of_a_left_out_resource_is_skipped_with_a_warning() {
    let packages = combined_packages("skip");
    let mut config = combined_config(&packages);
    config.resources(["Widget"]);
    let model = config.load(&config.source()).unwrap();
    assert_eq!(resource_names(&model), ["Widget"]);
    assert!(model.profiles[0].profiles.is_empty());
    assert_eq!(model.warnings.len(), 1, "{:?}", model.warnings);
    assert!(model.warnings[0].contains("golden.ig#1.0.0") && model.warnings[0].contains("Pet"), "{}", model.warnings[0]);
    let _ = std::fs::remove_dir_all(&packages);
}

#[test]
fn an_unknown_resource_name_is_an_error_naming_it() {
    let packages = combined_packages("unknown");
    let mut config = combined_config(&packages);
    config.resources(["Widget", "Patient", "Gadget"]);
    let err = config.load(&config.source()).unwrap_err();
    assert!(
        matches!(&err, fhir_codegen::Error::Load(fhir_codegen::load::LoadError::UnknownResources { names, .. }) if names == &["Patient", "Gadget"]),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "golden.core#0.0.1 defines no resource Patient, Gadget");
    let _ = std::fs::remove_dir_all(&packages);
}
