//! `fhir-codegen [--packages DIR] [--workspace DIR] [--check]`
//!
//! Regenerates `fhir-models` from the packages named in `spec/manifest.json`. Packages come from `--packages`,
//! else `$FHIR_PACKAGES`, else `~/.fhir/packages`. With `--check`, writes nothing and fails when the committed
//! code differs from a fresh generation.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut packages = None;
    let mut workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--packages" => packages = args.next().map(PathBuf::from),
            "--workspace" => workspace = args.next().map(PathBuf::from).unwrap_or(workspace),
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: fhir-codegen [--packages DIR] [--workspace DIR] [--check]");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("fhir-codegen: unknown argument `{other}` (see --help)");
                return ExitCode::from(2);
            }
        }
    }
    let dir = match fhir_codegen::packages::packages_dir(packages.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("fhir-codegen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let files = match fhir_codegen::generate(&workspace, &dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("fhir-codegen: {e}");
            return ExitCode::FAILURE;
        }
    };
    if check {
        let drift = fhir_codegen::drift(&workspace, &files);
        if drift.is_empty() {
            println!("fhir-codegen: generated code is up to date ({} files)", files.len());
            return ExitCode::SUCCESS;
        }
        for d in drift {
            eprintln!("fhir-codegen: {d}");
        }
        eprintln!("fhir-codegen: run `cargo run -p fhir-codegen --release` and commit the result");
        return ExitCode::FAILURE;
    }
    match fhir_codegen::write(&workspace, &files) {
        Ok(()) => {
            println!("fhir-codegen: wrote {} files from {}", files.len(), dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fhir-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}
