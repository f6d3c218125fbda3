//! `fhir-codegen`: generates the `fhir-models` crate from FHIR packages.
//!
//! The pipeline has four separate stages, one module each:
//! [`packages`] finds and reads package files, [`load`] turns StructureDefinitions and terminology into the
//! version-agnostic [`model`], [`emit`] turns the model into formatted Rust, and [`generate`] ties them together
//! and writes (or checks) the files.

pub mod config;
pub mod emit;
pub mod load;
pub mod manifest;
pub mod model;
pub mod naming;
pub mod packages;
#[cfg(feature = "download")]
pub mod registry;

pub use config::{Config, Generated};

use std::path::{Path, PathBuf};

/// Errors of a whole generation run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The manifest is missing or invalid.
    #[error(transparent)]
    Manifest(#[from] manifest::ManifestError),
    /// Packages could not be read or understood.
    #[error(transparent)]
    Load(#[from] load::LoadError),
    /// Code could not be emitted.
    #[error(transparent)]
    Emit(#[from] emit::EmitError),
    /// No output directory: none configured and `$OUT_DIR` is not set (outside a `build.rs`).
    #[error("no output directory: call Config::out_dir, or run from a build.rs (which sets OUT_DIR)")]
    NoOutDir,
    /// Writing output failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Everything one run of the repository's own generation produces (the manifest's versions, each through a
/// [`Config`]): files relative to the model crate, `Cargo.toml` included, and the loader's warnings.
pub fn generate_models(workspace: &Path, packages_dir: &Path) -> Result<(Vec<emit::GeneratedFile>, Vec<String>), Error> {
    let manifest = manifest::Manifest::read(&workspace.join("spec/manifest.json"))?;
    let mut models = Vec::new();
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    for v in &manifest.versions {
        let mut config = Config::from_version_spec(v.clone());
        // Exactly the given directory: the committed code must not depend on what else a machine has.
        config.package_path(packages_dir).standard_package_paths(false).download(false);
        let model = config.load(&config.source())?;
        files.extend(emit::emit_version(&model)?);
        warnings.extend(model.warnings.iter().cloned());
        models.push(model);
    }
    let cargo_path = workspace.join("fhir-models/Cargo.toml");
    let cargo = std::fs::read_to_string(&cargo_path).map_err(|source| Error::Io { path: cargo_path, source })?;
    files.push(emit::GeneratedFile {
        path: "Cargo.toml".to_owned(),
        content: emit::splice_features(&cargo, &emit::features(&models)),
    });
    Ok((files, warnings))
}

/// The files of [`generate_models`], without its warnings.
pub fn generate(workspace: &Path, packages_dir: &Path) -> Result<Vec<emit::GeneratedFile>, Error> {
    generate_models(workspace, packages_dir).map(|(files, _)| files)
}

/// Generated files whose content differs from what is on disk (or that are missing), and generated-looking
/// files on disk that a fresh run would not produce.
pub fn drift(workspace: &Path, files: &[emit::GeneratedFile]) -> Vec<String> {
    let crate_dir = workspace.join("fhir-models");
    let mut out = Vec::new();
    for f in files {
        match std::fs::read_to_string(crate_dir.join(&f.path)) {
            Ok(on_disk) if on_disk == f.content => {}
            Ok(_) => out.push(format!("{} differs from a fresh generation", f.path)),
            Err(_) => out.push(format!("{} is missing", f.path)),
        }
    }
    for dir in generated_dirs(files) {
        let Ok(entries) = std::fs::read_dir(crate_dir.join(&dir)) else { continue };
        for e in entries.flatten().filter(|e| !e.path().is_dir()) {
            let rel = format!("{dir}/{}", e.file_name().to_string_lossy());
            if !files.iter().any(|f| f.path == rel) {
                out.push(format!("{rel} is not produced by the generator any more"));
            }
        }
    }
    out.sort();
    out
}

fn generated_dirs(files: &[emit::GeneratedFile]) -> Vec<String> {
    let mut dirs: Vec<String> = files.iter().filter_map(|f| f.path.rsplit_once('/').map(|(d, _)| d.to_owned())).collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// Writes the files into the model crate, removing stale files in the generated directories.
pub fn write(workspace: &Path, files: &[emit::GeneratedFile]) -> Result<(), Error> {
    let crate_dir = workspace.join("fhir-models");
    for dir in generated_dirs(files) {
        if let Ok(entries) = std::fs::read_dir(crate_dir.join(&dir)) {
            for e in entries.flatten().filter(|e| !e.path().is_dir()) {
                let rel = format!("{dir}/{}", e.file_name().to_string_lossy());
                if !files.iter().any(|f| f.path == rel) {
                    std::fs::remove_file(e.path()).map_err(|source| Error::Io { path: e.path(), source })?;
                }
            }
        }
    }
    for f in files {
        let path = crate_dir.join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| Error::Io { path: parent.to_path_buf(), source })?;
        }
        if std::fs::read_to_string(&path).ok().as_deref() != Some(f.content.as_str()) {
            std::fs::write(&path, &f.content).map_err(|source| Error::Io { path, source })?;
        }
    }
    Ok(())
}
