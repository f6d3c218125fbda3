//! Finding and reading FHIR packages in the package-cache layout the FHIR tools use: a directory holding one
//! folder per package, `<id>#<version>/package/`, with the package's resources as `*.json` files, its
//! `package.json` manifest and, usually, an `.index.json` listing the files.
//!
//! This is the one place the workspace's code generator (`fhir-codegen`) and validator (`fhir-validate`) share
//! for where packages are and how a package folder is listed; each builds its own reading on top.
//!
//! ```
//! use fhir_package_cache::{package_files, package_root, packages_dir};
//! # let dir = tempfile_dir();
//! # std::fs::create_dir_all(dir.join("example.ig#1.0.0/package")).unwrap();
//! # std::fs::write(dir.join("example.ig#1.0.0/package/ValueSet-a.json"), r#"{"resourceType":"ValueSet","url":"http://example.org/a"}"#).unwrap();
//! // The explicit directory wins over `$FHIR_PACKAGES` and `~/.fhir/packages`.
//! let dir = packages_dir(Some(&dir)).expect("a packages directory");
//! let listing = package_files(&package_root(&dir, "example.ig#1.0.0"))?;
//! assert!(!listing.indexed); // no `.index.json`: the folder was listed
//! assert_eq!(listing.files[0].file, "ValueSet-a.json");
//! # fn tempfile_dir() -> std::path::PathBuf {
//! #     let d = std::env::temp_dir().join(format!("fhir-package-cache-doc-{}", std::process::id()));
//! #     let _ = std::fs::remove_dir_all(&d);
//! #     d
//! # }
//! # Ok::<(), fhir_package_cache::Error>(())
//! ```

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The environment variable naming the packages directory (after an explicit one, before `~/.fhir/packages`).
pub const PACKAGES_ENV: &str = "FHIR_PACKAGES";

/// Errors while reading a package folder.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or folder.
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

/// The user's package cache, `~/.fhir/packages` (where the FHIR tools put packages), whether or not it exists.
pub fn user_cache() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".fhir").join("packages"))
}

/// The one packages directory to use: `explicit`, else `$FHIR_PACKAGES`, else `~/.fhir/packages` when it
/// exists. `None` when there is none of them (each caller says so in its own words).
pub fn packages_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_path_buf());
    }
    if let Some(dir) = std::env::var_os(PACKAGES_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    user_cache().filter(|d| d.is_dir())
}

/// The folder of package `name` (`<id>#<version>`) under `dir`: `dir/<id>#<version>/package`.
pub fn package_root(dir: &Path, name: &str) -> PathBuf {
    dir.join(name).join("package")
}

/// Whether package `id#version` is in `dir`.
pub fn exists(dir: &Path, id: &str, version: &str) -> bool {
    package_root(dir, &format!("{id}#{version}")).is_dir()
}

/// Reads a JSON file, skipping a leading byte-order mark (some published packages have one).
pub fn read_json(path: &Path) -> Result<Value, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    serde_json::from_slice(text).map_err(|source| Error::Json { path: path.to_path_buf(), source })
}

/// The `dependencies` of a `package.json`, as `(id, version)` in file order.
pub fn declared_dependencies(package_json: &Value) -> Vec<(String, String)> {
    package_json["dependencies"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(id, v)| Some((id.clone(), v.as_str()?.to_owned())))
        .collect()
}

/// The dependencies declared by the `package.json` in package folder `root`; none when it has no manifest.
pub fn manifest_dependencies(root: &Path) -> Result<Vec<(String, String)>, Error> {
    let manifest = root.join("package.json");
    if !manifest.is_file() {
        return Ok(Vec::new());
    }
    Ok(declared_dependencies(&read_json(&manifest)?))
}

/// One resource file of a package folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// The file name, relative to the package folder.
    pub file: String,
    /// Its `resourceType`, `url` and `version` as `.index.json` gives them (`None` when the folder was listed
    /// without an index: read the file to know).
    pub resource_type: Option<String>,
    /// The resource's canonical `url`, from the index.
    pub url: Option<String>,
    /// The resource's business `version`, from the index.
    pub version: Option<String>,
}

/// The resource files of a package folder, sorted by name.
#[derive(Debug, Clone, Default)]
pub struct PackageFiles {
    /// Whether they come from `.index.json` (with types and URLs) rather than a listing of the folder.
    pub indexed: bool,
    /// The files.
    pub files: Vec<PackageFile>,
}

/// Lists the resource files of package folder `root`: from its `.index.json` when it has one, else every
/// `*.json` file but `package.json` and hidden files.
pub fn package_files(root: &Path) -> Result<PackageFiles, Error> {
    let index = root.join(".index.json");
    let (indexed, mut files) = if index.is_file() {
        let idx = read_json(&index)?;
        let text = |f: &Value, key: &str| f[key].as_str().map(str::to_owned);
        let files = idx["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                Some(PackageFile {
                    file: f["filename"].as_str()?.to_owned(),
                    resource_type: text(f, "resourceType"),
                    url: text(f, "url"),
                    version: text(f, "version"),
                })
            })
            .collect();
        (true, files)
    } else {
        let io = |source| Error::Io { path: root.to_path_buf(), source };
        let mut files = Vec::new();
        for e in std::fs::read_dir(root).map_err(io)? {
            let name = e.map_err(io)?.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !name.starts_with('.') && name != "package.json" {
                files.push(PackageFile { file: name, resource_type: None, url: None, version: None });
            }
        }
        (false, files)
    };
    files.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(PackageFiles { indexed, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fhir-package-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("p#1.0.0/package")).unwrap();
        d
    }

    #[test]
    fn an_index_gives_types_and_urls_and_a_listing_skips_the_manifest_and_hidden_files() {
        let d = scratch("list");
        let root = package_root(&d, "p#1.0.0");
        for f in ["b.json", "a.json", "package.json", ".hidden.json", "notes.txt"] {
            std::fs::write(root.join(f), "{}").unwrap();
        }
        let listed = package_files(&root).unwrap();
        assert!(!listed.indexed);
        assert_eq!(listed.files.iter().map(|f| f.file.as_str()).collect::<Vec<_>>(), ["a.json", "b.json"]);

        std::fs::write(
            root.join(".index.json"),
            r#"{"files":[{"filename":"z.json","resourceType":"ValueSet","url":"http://x/z","version":"2"},
                         {"filename":"a.json","resourceType":"CodeSystem"},{"resourceType":"no file name"}]}"#,
        )
        .unwrap();
        let indexed = package_files(&root).unwrap();
        assert!(indexed.indexed);
        assert_eq!(indexed.files.len(), 2);
        assert_eq!(indexed.files[1].url.as_deref(), Some("http://x/z"));
        assert_eq!(indexed.files[1].version.as_deref(), Some("2"));
        assert_eq!(indexed.files[0].resource_type.as_deref(), Some("CodeSystem"));
        assert!(exists(&d, "p", "1.0.0") && !exists(&d, "p", "2.0.0"));
    }

    #[test]
    fn json_errors_name_the_file_and_a_byte_order_mark_is_skipped() {
        let d = scratch("json");
        let root = package_root(&d, "p#1.0.0");
        std::fs::write(root.join("package.json"), b"\xEF\xBB\xBF{\"dependencies\":{\"a\":\"1\",\"b\":2}}").unwrap();
        assert_eq!(manifest_dependencies(&root).unwrap(), [("a".to_owned(), "1".to_owned())]);
        std::fs::write(root.join("bad.json"), "{").unwrap();
        let err = read_json(&root.join("bad.json")).unwrap_err();
        assert!(err.to_string().contains("bad.json"), "{err}");
        assert!(manifest_dependencies(&d).unwrap().is_empty());
    }
}
