//! The definitions a validation needs, found at run time: StructureDefinitions (with snapshots), ValueSets and
//! CodeSystems from FHIR packages (package-cache layout `<id>#<version>/package/*.json`, the same search as the
//! code generator: an explicit directory, else `$FHIR_PACKAGES`, else `~/.fhir/packages`) and from files a user
//! hands in.
//!
//! Packages are indexed through their `.index.json` (or by reading each file when there is none) and a resource
//! is parsed the first time it is asked for, so loading R4 core costs the index, not 4,500 parsed files.
//! Canonical references resolve version-aware: `url|version` picks that version, a bare `url` the latest loaded
//! (by the FHIR version ordering of the `version` strings, files handed in last winning ties).

use fhir_package_cache as cache;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub use cache::PACKAGES_ENV;

/// The resource types a [`Definitions`] store keeps; other resources in a package are skipped.
pub const DEFINITION_TYPES: [&str; 3] = ["StructureDefinition", "ValueSet", "CodeSystem"];

/// Errors while finding or reading definitions.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionsError {
    /// No packages directory could be found.
    /// Definitions another store failed to load, passed on as text (for stores built on a shared one).
    #[error("definitions unavailable: {reason}")]
    Unavailable {
        /// The first store's error.
        reason: String,
    },
    #[error("no FHIR packages directory: pass one, set {PACKAGES_ENV}, or fill ~/.fhir/packages")]
    NoPackagesDir,
    /// A package is not in the packages directory.
    #[error("package {name} not found in {dir} (expected the folder `{name}/package`)")]
    MissingPackage {
        /// `<id>#<version>`.
        name: String,
        /// Where it was looked for.
        dir: PathBuf,
    },
    /// A package file could not be read, or is not JSON (the error names the file).
    #[error(transparent)]
    Read(#[from] fhir_package_cache::Error),
    /// A FHIR XML file could not be read.
    #[error("{path}: {source}")]
    Xml {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: crate::xml::XmlError,
    },
    /// A resource handed in has no `url` (so nothing could refer to it) or is not a definition.
    #[error("{what}: not a StructureDefinition, ValueSet or CodeSystem with a `url`")]
    NotADefinition {
        /// The file or a description of the resource.
        what: String,
    },
}

/// The FHIR version a store holds (it picks the core packages and the primitive rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FhirVersion {
    /// FHIR R4 (4.0.1).
    R4,
    /// FHIR DSTU2 (1.0.2).
    Dstu2,
}

impl FhirVersion {
    /// The core packages (`<id>#<version>`) that define this version: its core and its expansions.
    pub fn core_packages(self) -> &'static [&'static str] {
        match self {
            FhirVersion::R4 => &["hl7.fhir.r4.core#4.0.1", "hl7.fhir.r4.expansions#4.0.1"],
            FhirVersion::Dstu2 => &["hl7.fhir.r2.core#1.0.2", "hl7.fhir.r2.expansions#1.0.2"],
        }
    }

    /// Parses `r4` / `4.0.1` / `dstu2` / `1.0.2`.
    pub fn parse(text: &str) -> Option<FhirVersion> {
        match text.to_ascii_lowercase().as_str() {
            "r4" | "4.0" | "4.0.1" => Some(FhirVersion::R4),
            "dstu2" | "r2" | "1.0" | "1.0.2" => Some(FhirVersion::Dstu2),
            _ => None,
        }
    }
}

/// Where packages come from: the explicit directory, else `$FHIR_PACKAGES`, else `~/.fhir/packages`.
pub fn packages_dir(explicit: Option<&Path>) -> Result<PathBuf, DefinitionsError> {
    cache::packages_dir(explicit).ok_or(DefinitionsError::NoPackagesDir)
}

/// One definition: where it is and, once asked for, its parsed JSON.
#[derive(Debug, Clone)]
struct Entry {
    resource_type: String,
    version: Option<String>,
    file: Option<PathBuf>,
    value: OnceLock<Option<Arc<Value>>>,
    /// Order of loading, so later loads win ties.
    seq: usize,
}

/// A store of StructureDefinitions, ValueSets and CodeSystems, resolved by canonical URL (`url` or
/// `url|version`).
///
/// ```no_run
/// use fhir_validate::{Definitions, FhirVersion};
/// // R4 core and its expansions from `$FHIR_PACKAGES` (or ~/.fhir/packages).
/// let mut defs = Definitions::core(FhirVersion::R4, None)?;
/// // US Core on top, and a profile file a user hands in.
/// defs.load_package_named(None, "hl7.fhir.us.core#3.1.1")?;
/// defs.load_path(std::path::Path::new("my-profile.json"))?;
/// assert!(defs.structure_definition("http://hl7.org/fhir/StructureDefinition/Patient").is_some());
/// # Ok::<(), fhir_validate::DefinitionsError>(())
/// ```
///
/// A clone shares the parsed resources (they are reference-counted), so cloning a store to add a few
/// definitions for one validation is cheap.
#[derive(Debug, Clone)]
pub struct Definitions {
    version: FhirVersion,
    by_url: HashMap<String, Vec<Entry>>,
    seq: usize,
}

/// Compares two business versions: numeric parts numerically, else as text.
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| s.split(['.', '-']).map(str::to_owned).collect::<Vec<_>>();
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

impl Definitions {
    /// An empty store for one FHIR version.
    pub fn new(version: FhirVersion) -> Definitions {
        Definitions { version, by_url: HashMap::new(), seq: 0 }
    }

    /// A store holding the core packages of `version` (see [`FhirVersion::core_packages`]) from the packages
    /// directory (`dir`, else `$FHIR_PACKAGES`, else `~/.fhir/packages`). A missing expansions package is not an
    /// error (fewer value sets can then be listed); a missing core package is.
    pub fn core(version: FhirVersion, dir: Option<&Path>) -> Result<Definitions, DefinitionsError> {
        let mut defs = Definitions::new(version);
        let dir = packages_dir(dir)?;
        for (i, name) in version.core_packages().iter().enumerate() {
            match defs.load_package_named(Some(&dir), name) {
                Err(DefinitionsError::MissingPackage { .. }) if i > 0 => {}
                other => other?,
            }
        }
        Ok(defs)
    }

    /// The FHIR version of this store.
    pub fn version(&self) -> FhirVersion {
        self.version
    }

    /// Loads package `<id>#<version>` from the packages directory (`dir`, else `$FHIR_PACKAGES`, else
    /// `~/.fhir/packages`).
    pub fn load_package_named(&mut self, dir: Option<&Path>, name: &str) -> Result<(), DefinitionsError> {
        let dir = packages_dir(dir)?;
        let root = cache::package_root(&dir, name);
        if !root.is_dir() {
            return Err(DefinitionsError::MissingPackage { name: name.to_owned(), dir });
        }
        self.load_folder(&root)
    }

    /// Loads package `<id>#<version>` after those of its declared dependencies (its `package.json`) that the
    /// packages directory holds and this store has not loaded yet (e.g. US Core 3.1.1 under CARIN BB 1.1.0), so
    /// its canonicals resolve as the IG resolves them. A dependency missing from the directory is skipped: its
    /// canonicals stay unresolved and are reported as such when a validation needs them.
    pub fn load_package_with_dependencies(&mut self, dir: Option<&Path>, name: &str) -> Result<(), DefinitionsError> {
        let dir = packages_dir(dir)?;
        for (id, ver) in cache::manifest_dependencies(&cache::package_root(&dir, name))? {
            let dep = format!("{id}#{ver}");
            if !self.core_packages_loaded(&dep) && cache::exists(&dir, &id, &ver) {
                self.load_package_named(Some(&dir), &dep)?;
            }
        }
        self.load_package_named(Some(&dir), name)
    }

    /// Whether `name` is one of this version's core packages (loaded by [`Definitions::core`]).
    fn core_packages_loaded(&self, name: &str) -> bool {
        self.version.core_packages().contains(&name)
    }

    /// Loads a file (one resource, or a Bundle of them; JSON or XML) or a folder: a package folder
    /// (`<id>#<ver>`, or its `package/`) or any folder of `*.json` files (not recursive). Resources other than
    /// definitions are skipped. Returns how many definitions were added (0 tells a caller that the file held
    /// none).
    pub fn load_path(&mut self, path: &Path) -> Result<usize, DefinitionsError> {
        let before = self.seq;
        if path.is_dir() {
            let inner = path.join("package");
            self.load_folder(if inner.is_dir() { &inner } else { path })?;
        } else {
            let value = self.read_file(path)?;
            self.add_value(value, Some(path))?;
        }
        Ok(self.seq - before)
    }

    /// Reads a FHIR resource from a JSON file, or from an XML file (`*.xml`), which is converted to FHIR JSON
    /// with the definitions already loaded (see [`crate::xml_to_json`]).
    pub fn read_file(&self, path: &Path) -> Result<Value, DefinitionsError> {
        if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml")) {
            let bytes =
                std::fs::read(path).map_err(|source| cache::Error::Io { path: path.to_path_buf(), source })?;
            let text = String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes)).into_owned();
            return crate::xml::xml_to_json(self, &text)
                .map_err(|source| DefinitionsError::Xml { path: path.to_path_buf(), source });
        }
        Ok(cache::read_json(path)?)
    }

    /// The number of definitions held.
    pub fn len(&self) -> usize {
        self.by_url.values().map(Vec::len).sum()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.by_url.is_empty()
    }

    fn load_folder(&mut self, root: &Path) -> Result<(), DefinitionsError> {
        let listing = cache::package_files(root)?;
        for f in listing.files {
            if !listing.indexed {
                let path = root.join(&f.file);
                let value = cache::read_json(&path)?;
                self.add_value(value, Some(&path))?;
                continue;
            }
            let (Some(rt), Some(url)) = (f.resource_type.as_deref(), f.url.as_deref()) else { continue };
            if DEFINITION_TYPES.contains(&rt) {
                self.insert(url, rt, f.version, Some(root.join(&f.file)), OnceLock::new());
            }
        }
        Ok(())
    }

    /// Adds a resource handed in as JSON (a definition, or a Bundle whose entries are definitions; others are
    /// skipped).
    pub fn add_resource(&mut self, value: Value) -> Result<(), DefinitionsError> {
        self.add_value(value, None)
    }

    fn add_value(&mut self, value: Value, file: Option<&Path>) -> Result<(), DefinitionsError> {
        let rt = value["resourceType"].as_str().unwrap_or_default().to_owned();
        if rt == "Bundle" {
            if let Value::Object(mut bundle) = value {
                if let Some(Value::Array(entries)) = bundle.remove("entry") {
                    for mut e in entries {
                        if let Some(r) = e.get_mut("resource").map(Value::take) {
                            self.add_value(r, None)?;
                        }
                    }
                }
            }
            return Ok(());
        }
        if !DEFINITION_TYPES.contains(&rt.as_str()) {
            return Ok(());
        }
        let Some(url) = value["url"].as_str().map(str::to_owned) else {
            return Err(DefinitionsError::NotADefinition {
                what: file.map_or_else(|| format!("a {rt} without url"), |f| f.display().to_string()),
            });
        };
        let version = value["version"].as_str().map(str::to_owned);
        let cell = OnceLock::new();
        let _ = cell.set(Some(Arc::new(value)));
        self.insert(&url, &rt, version, file.map(Path::to_path_buf), cell);
        Ok(())
    }

    fn insert(
        &mut self,
        url: &str,
        rt: &str,
        version: Option<String>,
        file: Option<PathBuf>,
        value: OnceLock<Option<Arc<Value>>>,
    ) {
        self.seq += 1;
        let entry = Entry { resource_type: rt.to_owned(), version, file, value, seq: self.seq };
        let list = self.by_url.entry(url.to_owned()).or_default();
        // A later load of the same url and version replaces the earlier one.
        list.retain(|e| !(e.version == entry.version && e.resource_type == entry.resource_type));
        list.push(entry);
    }

    /// Resolves a canonical reference (`url` or `url|version`) to a resource of type `resource_type`. Files that
    /// cannot be read any more resolve to `None` (they were readable when indexed).
    pub fn resolve(&self, resource_type: &str, canonical: &str) -> Option<Arc<Value>> {
        let (url, version) = match canonical.split_once('|') {
            Some((u, v)) => (u, Some(v)),
            None => (canonical, None),
        };
        let list = self.by_url.get(url)?;
        let candidates = list.iter().filter(|e| e.resource_type == resource_type);
        let entry = match version {
            Some(v) => candidates
                .filter(|e| e.version.as_deref().is_some_and(|ev| ev == v || ev.starts_with(&format!("{v}."))))
                .max_by(|a, b| {
                    version_cmp(a.version.as_deref().unwrap_or(""), b.version.as_deref().unwrap_or(""))
                        .then(a.seq.cmp(&b.seq))
                })?,
            None => candidates.max_by(|a, b| {
                version_cmp(a.version.as_deref().unwrap_or(""), b.version.as_deref().unwrap_or(""))
                    .then(a.seq.cmp(&b.seq))
            })?,
        };
        entry.value.get_or_init(|| entry.file.as_deref().and_then(|f| cache::read_json(f).ok()).map(Arc::new)).clone()
    }

    /// The canonicals (`url|version`, or `url` for a definition without a version) of every definition of
    /// `resource_type` held, sorted.
    pub fn canonicals(&self, resource_type: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .by_url
            .iter()
            .flat_map(|(url, list)| {
                list.iter().filter(|e| e.resource_type == resource_type).map(move |e| match &e.version {
                    Some(v) => format!("{url}|{v}"),
                    None => url.clone(),
                })
            })
            .collect();
        out.sort();
        out
    }

    /// A StructureDefinition by canonical URL.
    pub fn structure_definition(&self, canonical: &str) -> Option<Arc<Value>> {
        self.resolve("StructureDefinition", canonical)
    }

    /// The base StructureDefinition of a type or resource name (`Patient`, `HumanName`, `string`).
    pub fn type_definition(&self, type_name: &str) -> Option<Arc<Value>> {
        if type_name.contains("://") {
            return self.structure_definition(type_name);
        }
        self.structure_definition(&format!("http://hl7.org/fhir/StructureDefinition/{type_name}"))
    }

    /// A ValueSet by canonical URL.
    pub fn value_set(&self, canonical: &str) -> Option<Arc<Value>> {
        self.resolve("ValueSet", canonical)
    }

    /// A CodeSystem by canonical URL.
    pub fn code_system(&self, canonical: &str) -> Option<Arc<Value>> {
        self.resolve("CodeSystem", canonical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_numerically() {
        assert_eq!(version_cmp("3.1.1", "3.10.0"), std::cmp::Ordering::Less);
        assert_eq!(version_cmp("8.0.0", "3.1.1"), std::cmp::Ordering::Greater);
    }

    #[test]
    fn resolves_by_version_and_latest() {
        let mut d = Definitions::new(FhirVersion::R4);
        for v in ["1.0.0", "2.0.0"] {
            d.add_resource(serde_json::json!({"resourceType":"ValueSet","url":"http://x/vs","version":v})).unwrap();
        }
        assert_eq!(d.value_set("http://x/vs").unwrap()["version"], "2.0.0");
        assert_eq!(d.value_set("http://x/vs|1.0.0").unwrap()["version"], "1.0.0");
        assert_eq!(d.value_set("http://x/vs|1.0").unwrap()["version"], "1.0.0");
        assert!(d.value_set("http://x/vs|3").is_none());
        assert!(d.code_system("http://x/vs").is_none());
        let err = d.add_resource(serde_json::json!({"resourceType":"ValueSet"})).unwrap_err();
        assert!(matches!(err, DefinitionsError::NotADefinition { .. }));
    }
}
