//! Finding and reading FHIR packages in the standard package-cache layout (`<id>#<version>/package/*.json`).
//!
//! This is the only module that touches the file system for input; it hands out parsed JSON resources.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The environment variable naming the packages directory (after `--packages`, before `~/.fhir/packages`).
pub const PACKAGES_ENV: &str = "FHIR_PACKAGES";

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
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not valid JSON.
    #[error("{path} is not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

fn list_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no search path (pass a packages directory, set FHIR_PACKAGES or fill ~/.fhir/packages)".to_owned();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// The user's package cache, `~/.fhir/packages` (where the FHIR tools put packages), whether or not it exists.
pub fn user_cache() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".fhir").join("packages"))
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
        let folder = dir.join(format!("{id}#{version}")).join("package");
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
    if let Some(dir) = explicit {
        return Ok(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(PACKAGES_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).ok_or(PackageError::NoPackagesDir)?;
    let dir = home.join(".fhir").join("packages");
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(PackageError::NoPackagesDir)
    }
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

fn read_json(path: &Path) -> Result<Value, PackageError> {
    let bytes = std::fs::read(path).map_err(|source| PackageError::Io { path: path.to_path_buf(), source })?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    serde_json::from_slice(text).map_err(|source| PackageError::Json { path: path.to_path_buf(), source })
}

/// Reads the resources of the given types from package `id#version` under `dir`. Uses `.index.json` to pick the
/// files when it is there; otherwise reads every `*.json` file and looks at its `resourceType`.
pub fn load(dir: &Path, id: &str, version: &str, types: &[&str]) -> Result<Package, PackageError> {
    let root = dir.join(format!("{id}#{version}")).join("package");
    if !root.is_dir() {
        return Err(PackageError::Missing { id: id.into(), version: version.into(), searched: vec![dir.to_path_buf()] });
    }
    let mut files: Vec<(String, Option<String>)> = Vec::new();
    let index = root.join(".index.json");
    if index.is_file() {
        let idx = read_json(&index)?;
        for f in idx["files"].as_array().into_iter().flatten() {
            if let (Some(name), Some(rt)) = (f["filename"].as_str(), f["resourceType"].as_str()) {
                files.push((name.to_owned(), Some(rt.to_owned())));
            }
        }
    } else {
        let entries = std::fs::read_dir(&root).map_err(|source| PackageError::Io { path: root.clone(), source })?;
        for e in entries {
            let e = e.map_err(|source| PackageError::Io { path: root.clone(), source })?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !name.starts_with('.') && name != "package.json" {
                files.push((name, None));
            }
        }
    }
    files.sort();
    let manifest = root.join("package.json");
    let dependencies = if manifest.is_file() { declared_dependencies(&read_json(&manifest)?) } else { Vec::new() };
    let mut pkg = Package { name: format!("{id}#{version}"), dependencies, resources: BTreeMap::new() };
    for (name, rt) in files {
        if let Some(rt) = &rt {
            if !types.contains(&rt.as_str()) {
                continue;
            }
        }
        let value = read_json(&root.join(&name))?;
        let Some(rt) = value["resourceType"].as_str().map(str::to_owned) else { continue };
        if types.contains(&rt.as_str()) {
            pkg.resources.entry(rt).or_default().push(value);
        }
    }
    Ok(pkg)
}

/// The `dependencies` of a `package.json`, in file order.
pub fn declared_dependencies(package_json: &Value) -> Vec<(String, String)> {
    package_json["dependencies"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(id, v)| Some((id.clone(), v.as_str()?.to_owned())))
        .collect()
}

/// Whether package `id#version` is in `dir`.
pub fn exists(dir: &Path, id: &str, version: &str) -> bool {
    dir.join(format!("{id}#{version}")).join("package").is_dir()
}
