//! Writes the definitions sets `fhir-models` embeds behind its `validate` feature into
//! `fhir-models/definitions/` (see `fhir_validate::compact::model_sets`). Run from the workspace:
//! `FHIR_PACKAGES=../shared/fhir-packages cargo run -p fhir-validate --release --example model-definitions`.

use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(workspace.join("spec/manifest.json"))?)?;
    let packages = fhir_validate::packages_dir(None)?;
    let out = workspace.join("fhir-models/definitions");
    std::fs::create_dir_all(&out)?;
    for (name, text) in fhir_validate::compact::model_sets(&manifest, &packages)? {
        println!("{name}: {} bytes", text.len());
        std::fs::write(out.join(name), text)?;
    }
    Ok(())
}
