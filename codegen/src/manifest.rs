//! `spec/manifest.json`: which packages are generated into which module.

use serde::Deserialize;
use std::path::Path;

/// The whole manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Manifest {
    /// One entry per FHIR version module.
    pub versions: Vec<VersionSpec>,
}

/// One FHIR version generated into one module.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VersionSpec {
    /// Module name and feature prefix (`r4`).
    pub module: String,
    /// Version marker type (`R4`).
    pub marker: String,
    /// FHIR version (`4.0.1`).
    pub fhir_version: String,
    /// Core package, `id#version`.
    pub core: String,
    /// Pre-expanded value sets package, `id#version`.
    #[serde(default)]
    pub expansions: Option<String>,
    /// Resources compiled whenever the module is.
    #[serde(default)]
    pub base_resources: Vec<String>,
    /// The core resources generated, by name (`Patient`), besides `base_resources` (always generated); `None`
    /// for every resource of the core package. A name the core package does not define is an error.
    #[serde(default)]
    pub resources: Option<Vec<String>>,
    /// The version's JSON may carry `fhir_comments` in any object (DSTU2): every struct gets that field.
    #[serde(default)]
    pub fhir_comments: bool,
    /// Implementation guides whose resource profiles are generated into submodules.
    #[serde(default)]
    pub profiles: Vec<ProfileSpec>,
    /// IG packages (`<id>#<version>`) whose SearchParameters join the core ones on each base resource's search
    /// builder. A code the core (or an earlier package) already defines on that base keeps its first definition.
    #[serde(default)]
    pub search_parameters: Vec<String>,
    /// Packages (`id#version`) every IG resolves canonicals in after its own declared dependencies, without
    /// generating anything from them.
    #[serde(default)]
    pub resolution_packages: Vec<String>,
}

/// One implementation guide's profiles, generated into `<version module>::<module>` behind
/// `<version module>-<feature>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileSpec {
    /// The IG package, `id#version` (it must ship snapshots).
    pub package: String,
    /// Submodule name (`us_core`).
    pub module: String,
    /// Feature suffix (`us-core` → `r4-us-core`).
    pub feature: String,
}

/// Errors reading the manifest.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read manifest {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid manifest.
    #[error("invalid manifest {path}: {source}")]
    Invalid {
        /// The file.
        path: String,
        /// The cause.
        source: serde_json::Error,
    },
}

impl Manifest {
    /// Reads `spec/manifest.json` (or another path).
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ManifestError::Io { path: path.display().to_string(), source })?;
        serde_json::from_str(&text).map_err(|source| ManifestError::Invalid { path: path.display().to_string(), source })
    }
}
