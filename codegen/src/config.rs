//! The build-time API, in the manner of `prost-build`: say where the packages are, which core and which IG
//! packages, and where the output goes; [`Config::generate`] writes one self-contained file per IG module.
//!
//! From a `build.rs`:
//!
//! ```no_run
//! // build.rs of a crate that depends on `fhir-models` (features: see `Generated::features`)
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let generated = fhir_codegen::Config::new()
//!         .package_path("fixtures/packages")       // searched first; then $FHIR_PACKAGES, ~/.fhir/packages
//!         .ig("example.fhir.acme#0.1.0", "acme")   // generates `acme.rs` into OUT_DIR
//!         .generate()?;                            // prints cargo:rerun-if-changed for every package read
//!     for w in &generated.warnings {
//!         println!("cargo:warning={w}");
//!     }
//!     Ok(())
//! }
//! ```
//!
//! and in the crate: `pub mod acme { include!(concat!(env!("OUT_DIR"), "/acme.rs")); }`. The generated code
//! names everything by absolute paths (`::fhir_models::r4::Patient`, `::fhir_models::__private::Checker`) and
//! fails to compile, with a message saying so, against another `fhir-models` version than the one it was made
//! for.

use crate::emit::{self, GeneratedFile, Layout};
use crate::manifest::{ProfileSpec, VersionSpec};
use crate::model::VersionModel;
use crate::packages::{self, PackageSource};
use crate::{load, naming, Error};
use std::path::{Path, PathBuf};

/// What one generation wants; build it with the methods, run it with [`Config::generate`].
#[derive(Debug, Clone)]
pub struct Config {
    paths: Vec<PathBuf>,
    standard_paths: bool,
    spec: VersionSpec,
    out_dir: Option<PathBuf>,
    header: Option<String>,
    cargo_metadata: Option<bool>,
    download: bool,
    registry: Option<String>,
    cache: Option<PathBuf>,
}

/// What [`Config::generate`] wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The files written, one per IG module (`<out_dir>/<module>.rs`).
    pub files: Vec<PathBuf>,
    /// The `fhir-models` features the output needs (the profiled resources' and `profile`).
    pub features: Vec<String>,
    /// The package folders read.
    pub packages_read: Vec<PathBuf>,
    /// What could not be resolved and did not stop the generation (a declared dependency that is in no search
    /// path); a `build.rs` should pass these on as `cargo:warning`.
    pub warnings: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// FHIR R4 (`hl7.fhir.r4.core#4.0.1` with its expansions), no IG yet, the standard search paths.
    pub fn new() -> Self {
        Self {
            paths: Vec::new(),
            standard_paths: true,
            spec: VersionSpec {
                module: "r4".into(),
                marker: "R4".into(),
                fhir_version: "4.0.1".into(),
                core: "hl7.fhir.r4.core#4.0.1".into(),
                expansions: Some("hl7.fhir.r4.expansions#4.0.1".into()),
                base_resources: vec!["Bundle".into(), "OperationOutcome".into()],
                resources: None,
                fhir_comments: false,
                profiles: Vec::new(),
                search_parameters: Vec::new(),
                resolution_packages: Vec::new(),
            },
            out_dir: None,
            header: None,
            cargo_metadata: None,
            download: cfg!(feature = "download"),
            registry: None,
            cache: None,
        }
    }

    /// The configuration of one version module of the repository's manifest (`spec/manifest.json`).
    pub fn from_version_spec(spec: VersionSpec) -> Self {
        Self { spec, ..Self::new() }
    }

    /// Adds a directory in the package-cache layout (`<id>#<version>/package/`), searched before the ones added
    /// later and before the standard ones.
    pub fn package_path(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.paths.push(dir.into());
        self
    }

    /// Whether `$FHIR_PACKAGES` and `~/.fhir/packages` are searched after the added paths (default: yes).
    pub fn standard_package_paths(&mut self, on: bool) -> &mut Self {
        self.standard_paths = on;
        self
    }

    /// The core package (`id#version`), its pre-expanded value sets (`None` for none) and the FHIR version's
    /// module in `fhir-models` (`r4`).
    pub fn core(&mut self, package: &str, expansions: Option<&str>, module: &str) -> &mut Self {
        self.spec.core = package.to_owned();
        self.spec.expansions = expansions.map(str::to_owned);
        self.spec.module = module.to_owned();
        self
    }

    /// An IG package (`id#version`) whose profiles are generated as the module `module`.
    pub fn ig(&mut self, package: &str, module: &str) -> &mut Self {
        let feature = naming::feature_suffix(module);
        self.spec.profiles.push(ProfileSpec { package: package.to_owned(), module: module.to_owned(), feature });
        self
    }

    /// Generates only these core resources (by name, `"Patient"`), besides the version's base resources
    /// (`Bundle`, `OperationOutcome`), which are always generated; by default every resource of the core package.
    /// The `Resource` enum and the features then hold only these; profiles of other resources are skipped, each
    /// with a warning in [`Generated::warnings`]. A name the core package does not define makes [`Config::load`]
    /// fail with [`LoadError::UnknownResources`](crate::load::LoadError::UnknownResources) naming it.
    ///
    /// ```
    /// let mut config = fhir_codegen::Config::new();
    /// config.resources(["Patient", "Observation"]).ig("hl7.fhir.us.core#8.0.0", "us_core_v8");
    /// ```
    pub fn resources<I, S>(&mut self, names: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.spec.resources = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// A package every IG resolves canonicals in (after the dependencies its `package.json` declares, which are
    /// always used), without generating anything from it.
    pub fn dependency(&mut self, package: &str) -> &mut Self {
        self.spec.resolution_packages.push(package.to_owned());
        self
    }

    /// Where the files go (default: `$OUT_DIR`).
    pub fn out_dir(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// A comment put at the top of every file (default: what generated it, from which packages).
    pub fn header(&mut self, text: &str) -> &mut Self {
        self.header = Some(text.to_owned());
        self
    }

    /// Whether a package in no search path is downloaded, with the packages it depends on, into the package
    /// cache (default: yes, with the feature `download`). Without it, a missing IG or core package is an error
    /// and a missing dependency a warning.
    pub fn download(&mut self, on: bool) -> &mut Self {
        self.download = on && cfg!(feature = "download");
        self
    }

    /// The registry to download from (default: `$FHIR_PACKAGE_REGISTRY`, else `https://packages.fhir.org`).
    pub fn registry(&mut self, url: &str) -> &mut Self {
        self.registry = Some(url.to_owned());
        self
    }

    /// The package cache downloads go into (default: `~/.fhir/packages`); it is searched after the other paths.
    pub fn package_cache(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.cache = Some(dir.into());
        self
    }

    /// Whether `cargo:rerun-if-changed` lines are printed (default: when `$OUT_DIR` is set, as in a `build.rs`).
    pub fn cargo_metadata(&mut self, on: bool) -> &mut Self {
        self.cargo_metadata = Some(on);
        self
    }

    /// The packages searched, in order.
    pub fn source(&self) -> PackageSource {
        let mut paths = self.paths.clone();
        if self.standard_paths {
            if let Some(d) = std::env::var_os(packages::PACKAGES_ENV).filter(|d| !d.is_empty()) {
                paths.push(PathBuf::from(d));
            }
            paths.extend(packages::user_cache());
        }
        let src = PackageSource::new(paths);
        #[cfg(feature = "download")]
        if self.download {
            if let Some(cache) = self.cache.clone().or_else(packages::user_cache) {
                let registry = match &self.registry {
                    Some(url) => crate::registry::Registry::new(url),
                    None => crate::registry::Registry::from_env(),
                };
                return src.with_download(registry, cache);
            }
        }
        src
    }

    /// Loads the packages into the model (core types, and the IGs' profiles).
    pub fn load(&self, src: &PackageSource) -> Result<VersionModel, Error> {
        Ok(load::load_version(src, &self.spec)?)
    }

    /// Generates one self-contained file per IG module into the output directory and prints
    /// `cargo:rerun-if-changed` for the package folders read.
    pub fn generate(&self) -> Result<Generated, Error> {
        let out_dir = match &self.out_dir {
            Some(d) => d.clone(),
            None => std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or(Error::NoOutDir)?,
        };
        let src = self.source();
        let model = self.load(&src)?;
        let files = self.emit(&model)?;
        let mut written = Vec::new();
        std::fs::create_dir_all(&out_dir).map_err(|source| Error::Io { path: out_dir.clone(), source })?;
        for f in &files {
            let path = out_dir.join(&f.path);
            write_if_changed(&path, &f.content)?;
            written.push(path);
        }
        let packages_read = src.read();
        if self.cargo_metadata.unwrap_or_else(|| std::env::var_os("OUT_DIR").is_some()) {
            for p in &packages_read {
                println!("cargo:rerun-if-changed={}", p.display());
            }
            for p in &self.paths {
                println!("cargo:rerun-if-changed={}", p.display());
            }
            println!("cargo:rerun-if-env-changed={}", packages::PACKAGES_ENV);
        }
        Ok(Generated { files: written, features: features_needed(&model), packages_read, warnings: model.warnings })
    }

    /// The files of the IG modules, as [`Config::generate`] writes them (paths relative to the output directory).
    pub fn emit(&self, model: &VersionModel) -> Result<Vec<GeneratedFile>, Error> {
        let mut files = Vec::new();
        for m in &model.profiles {
            let header = match &self.header {
                Some(h) => h.lines().map(|l| format!("// {l}\n")).collect::<String>() + "\n",
                None => format!(
                    "// @generated by fhir-codegen {} from {} over `fhir_models::{}` ({}).\n// Needs the fhir-models features: {}.\n\n",
                    emit::FHIR_MODELS_VERSION,
                    m.package,
                    model.module,
                    model.sources.join(", "),
                    module_features(model, m).join(", ")
                ),
            };
            files.extend(emit::profile_module(model, m, &header, Layout::SingleFile)?);
        }
        Ok(files)
    }
}

fn module_features(model: &VersionModel, m: &crate::model::ProfileModule) -> Vec<String> {
    let mut out = vec!["profile".to_owned(), format!("{}-base", model.module)];
    out.extend(m.resources.iter().filter_map(|r| model.resources.iter().find(|t| &t.name == r)?.feature.clone()));
    out
}

fn features_needed(model: &VersionModel) -> Vec<String> {
    let mut out: Vec<String> = model.profiles.iter().flat_map(|m| module_features(model, m)).collect();
    out.sort();
    out.dedup();
    out
}

fn write_if_changed(path: &Path, content: &str) -> Result<(), Error> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(content) {
        return Ok(());
    }
    std::fs::write(path, content).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}
