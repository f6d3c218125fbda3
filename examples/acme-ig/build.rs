//! Writes the fixture IG `example.fhir.acme#0.1.0` (`fixture.rs`) into `OUT_DIR/packages` and generates its views
//! into `OUT_DIR/acme.rs`. The core package
//! (`hl7.fhir.r4.core#4.0.1`) comes from `$FHIR_PACKAGES`, `~/.fhir/packages`, or the repository's
//! `../shared/fhir-packages`.

use std::path::PathBuf;

#[path = "fixture.rs"]
mod fixture;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    println!("cargo:rerun-if-changed=fixture.rs");
    let packages = fixture::write_package(&PathBuf::from(std::env::var("OUT_DIR")?).join("packages"))?;
    let generated = fhir_codegen::Config::new()
        .package_path(packages)
        .package_path(dir.join("../../../shared/fhir-packages"))
        .ig("example.fhir.acme#0.1.0", "acme")
        .generate()?;
    for w in &generated.warnings {
        println!("cargo:warning={w}");
    }
    // The features are declared in Cargo.toml; this keeps the two in step.
    for f in &generated.features {
        let declared = include_str!("Cargo.toml").contains(&format!("\"{f}\""));
        if !declared {
            return Err(format!("the generated views need the fhir-models feature `{f}`: add it in Cargo.toml").into());
        }
    }
    Ok(())
}
