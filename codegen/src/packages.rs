//! Finding and reading FHIR packages in the standard package-cache layout (`<id>#<version>/package/*.json`).
//!
//! This is the only module that touches the file system for input; it hands out parsed JSON resources. Where
//! packages are and how a package folder is listed is shared with `fhir-validate` (crate `fhir-package-cache`).

use fhir_package_cache as cache;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use cache::{declared_dependencies, exists, user_cache, PACKAGES_ENV};

/// Errors while finding or reading packages.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// No packages directory could be found.
    #[error("no FHIR packages directory: pass --packages DIR, set {PACKAGES_ENV}, or fill ~/.fhir/packages")]
    NoPackagesDir,
    /// A package is in none of the search paths.
    #[error("package {id}#{version} not found in {} (expected the folder `{id}#{version}/package`)", list_paths(.searched))]
    Missing {
        /// Package id.
        id: String,
        /// Package version.
        version: String,
        /// Where it was looked for.
        searched: Vec<PathBuf>,
    },
    /// Downloading a missing package failed.
    #[cfg(feature = "download")]
    #[error(transparent)]
    Download(#[from] crate::registry::RegistryError),
    /// A package file could not be read, or is not JSON (the error names the file).
    #[error(transparent)]
    Read(#[from] fhir_package_cache::Error),
}

fn list_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no search path (pass a packages directory, set FHIR_PACKAGES or fill ~/.fhir/packages)".to_owned();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Where packages are looked for: several directories in the package-cache layout, searched in order, and the
/// package folders read so far (for `cargo:rerun-if-changed`).
#[derive(Debug, Default)]
pub struct PackageSource {
    paths: Vec<PathBuf>,
    read: std::cell::RefCell<Vec<PathBuf>>,
    /// Where a package in no search path is downloaded from, and the cache it goes into.
    #[cfg(feature = "download")]
    download: Option<(crate::registry::Registry, PathBuf)>,
}

impl PackageSource {
    /// Searches exactly these directories, in order.
    pub fn new(paths: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut out = Self::default();
        for p in paths {
            if !out.paths.contains(&p) {
                out.paths.push(p);
            }
        }
        out
    }

    /// Downloads a package that is in no search path from `registry` into `cache` (which is then searched
    /// last).
    #[cfg(feature = "download")]
    pub fn with_download(mut self, registry: crate::registry::Registry, cache: PathBuf) -> Self {
        if !self.paths.contains(&cache) {
            self.paths.push(cache.clone());
        }
        self.download = Some((registry, cache));
        self
    }

    /// Whether package `id#version` is available: in a search path, or downloaded now (when a registry is
    /// configured; a package the registry does not have is `Ok(false)`).
    pub fn ensure(&self, id: &str, version: &str) -> Result<bool, PackageError> {
        if self.locate(id, version).is_some() {
            return Ok(true);
        }
        #[cfg(feature = "download")]
        if let Some((registry, cache)) = &self.download {
            return match registry.download(id, version, cache) {
                Ok(_) => Ok(true),
                Err(crate::registry::RegistryError::NotFound { .. }) => Ok(false),
                Err(e) => Err(e.into()),
            };
        }
        Ok(false)
    }

    /// The search paths.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The search path that holds package `id#version`.
    pub fn locate(&self, id: &str, version: &str) -> Option<&Path> {
        self.paths.iter().map(PathBuf::as_path).find(|d| exists(d, id, version))
    }

    /// Reads the resources of the given types from package `id#version`, from the first search path that has it.
    pub fn load(&self, id: &str, version: &str, types: &[&str]) -> Result<Package, PackageError> {
        self.ensure(id, version)?;
        let dir = self
            .locate(id, version)
            .ok_or_else(|| PackageError::Missing { id: id.into(), version: version.into(), searched: self.paths.clone() })?;
        let folder = cache::package_root(dir, &format!("{id}#{version}"));
        let pkg = load(dir, id, version, types)?;
        let mut read = self.read.borrow_mut();
        if !read.contains(&folder) {
            read.push(folder);
        }
        Ok(pkg)
    }

    /// The package folders read so far, in the order first read.
    pub fn read(&self) -> Vec<PathBuf> {
        self.read.borrow().clone()
    }
}

/// Where packages come from: the explicit directory, else `$FHIR_PACKAGES`, else `~/.fhir/packages`.
pub fn packages_dir(explicit: Option<&Path>) -> Result<PathBuf, PackageError> {
    cache::packages_dir(explicit).ok_or(PackageError::NoPackagesDir)
}

/// The resources of one package, grouped by `resourceType`.
#[derive(Debug, Default)]
pub struct Package {
    /// `<id>#<version>`.
    pub name: String,
    /// The packages it declares in `package.json` (`dependencies`), as `(id, version)` in file order.
    pub dependencies: Vec<(String, String)>,
    /// Resources by type, each in file-name order.
    pub resources: BTreeMap<String, Vec<Value>>,
}

impl Package {
    /// The resources of one type.
    pub fn of_type(&self, resource_type: &str) -> &[Value] {
        self.resources.get(resource_type).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Reads the resources of the given types from package `id#version` under `dir`. Uses `.index.json` to pick the
/// files when it is there; otherwise reads every `*.json` file and looks at its `resourceType`.
pub fn load(dir: &Path, id: &str, version: &str, types: &[&str]) -> Result<Package, PackageError> {
    let name = format!("{id}#{version}");
    let root = cache::package_root(dir, &name);
    if !root.is_dir() {
        return Err(PackageError::Missing { id: id.into(), version: version.into(), searched: vec![dir.to_path_buf()] });
    }
    let dependencies = cache::manifest_dependencies(&root)?;
    let mut pkg = Package { name, dependencies, resources: BTreeMap::new() };
    for f in cache::package_files(&root)?.files {
        if f.resource_type.as_deref().is_some_and(|rt| !types.contains(&rt)) {
            continue;
        }
        let value = cache::read_json(&root.join(&f.file))?;
        let Some(rt) = value["resourceType"].as_str().map(str::to_owned) else { continue };
        if types.contains(&rt.as_str()) {
            pkg.resources.entry(rt).or_default().push(value);
        }
    }
    Ok(pkg)
}
