//! Downloading packages from a FHIR package registry, as the FHIR tools do: the npm-style protocol
//! (`GET <registry>/<id>` gives the package's versions with their `dist.tarball`; else
//! `GET <registry>/<id>/<version>` is the tarball), unpacked into the package cache (`~/.fhir/packages`) as
//! `<id>#<version>/package/...`.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The registry the FHIR tools use by default.
pub const DEFAULT_REGISTRY: &str = "https://packages.fhir.org";
/// The environment variable that names another registry.
pub const REGISTRY_ENV: &str = "FHIR_PACKAGE_REGISTRY";
/// Largest tarball accepted (the biggest official packages are ~60 MB).
const MAX_TARBALL: u64 = 512 * 1024 * 1024;

/// Errors while downloading a package.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A request failed (connection, or a status other than 200).
    #[error("package {package}: GET {url}: {message}")]
    Http {
        /// `id#version`.
        package: String,
        /// The URL.
        url: String,
        /// What the client or the server said.
        message: String,
    },
    /// The registry does not have the package in that version.
    #[error("package {package} is not in the registry {registry}")]
    NotFound {
        /// `id#version`.
        package: String,
        /// The registry URL.
        registry: String,
    },
    /// The tarball could not be unpacked into the cache.
    #[error("package {package}: cannot unpack into {dir}: {source}")]
    Unpack {
        /// `id#version`.
        package: String,
        /// The cache folder.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// A FHIR package registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    url: String,
}

impl Registry {
    /// The registry at `url` (`https://packages.fhir.org`, `http://127.0.0.1:4873`).
    pub fn new(url: &str) -> Self {
        Self { url: url.trim_end_matches('/').to_owned() }
    }

    /// `$FHIR_PACKAGE_REGISTRY`, else [`DEFAULT_REGISTRY`].
    pub fn from_env() -> Self {
        Self::new(&std::env::var(REGISTRY_ENV).ok().filter(|u| !u.is_empty()).unwrap_or_else(|| DEFAULT_REGISTRY.to_owned()))
    }

    /// The registry's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Downloads package `id#version` into `cache` (as `<id>#<version>/package/...`) and returns its folder. The
    /// package is unpacked beside and renamed into place, so a failed download leaves no half package behind.
    pub fn download(&self, id: &str, version: &str, cache: &Path) -> Result<PathBuf, RegistryError> {
        let package = format!("{id}#{version}");
        let tarball = self.tarball_url(id, version, &package)?;
        let bytes = self.get(&tarball, &package)?.ok_or_else(|| RegistryError::NotFound { package: package.clone(), registry: self.url.clone() })?;
        let target = cache.join(&package);
        let unpack = |source| RegistryError::Unpack { package: package.clone(), dir: target.clone(), source };
        std::fs::create_dir_all(cache).map_err(unpack)?;
        let tmp = cache.join(format!(".{package}.download-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let result = (|| {
            std::fs::create_dir_all(&tmp)?;
            // `unpack_in` refuses entries that would land outside the folder (`..`, absolute paths).
            let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
            for entry in archive.entries()? {
                entry?.unpack_in(&tmp)?;
            }
            if !tmp.join("package").join("package.json").is_file() {
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the tarball has no package/package.json"));
            }
            if target.exists() {
                std::fs::remove_dir_all(&target)?;
            }
            std::fs::rename(&tmp, &target)
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result.map_err(unpack)?;
        Ok(target)
    }

    /// The tarball of `id#version`: from the package's metadata (`versions[v].dist.tarball`), else the
    /// registry's `<id>/<version>` URL.
    fn tarball_url(&self, id: &str, version: &str, package: &str) -> Result<String, RegistryError> {
        let meta_url = format!("{}/{id}", self.url);
        let Some(meta) = self.get(&meta_url, package)? else {
            return Err(RegistryError::NotFound { package: package.to_owned(), registry: self.url.clone() });
        };
        let meta: serde_json::Value = serde_json::from_slice(&meta).unwrap_or_default();
        if meta["versions"].is_object() && meta["versions"][version].is_null() {
            return Err(RegistryError::NotFound { package: package.to_owned(), registry: self.url.clone() });
        }
        Ok(meta["versions"][version]["dist"]["tarball"].as_str().map(str::to_owned).unwrap_or_else(|| format!("{}/{id}/{version}", self.url)))
    }

    /// The body of a GET; `None` on 404.
    fn get(&self, url: &str, package: &str) -> Result<Option<Vec<u8>>, RegistryError> {
        let http = |message: String| RegistryError::Http { package: package.to_owned(), url: url.to_owned(), message };
        let agent = ureq::AgentBuilder::new().timeout_connect(std::time::Duration::from_secs(30)).timeout(std::time::Duration::from_secs(600)).build();
        match agent.get(url).call() {
            Ok(resp) => {
                let mut body = Vec::new();
                resp.into_reader().take(MAX_TARBALL + 1).read_to_end(&mut body).map_err(|e| http(e.to_string()))?;
                if body.len() as u64 > MAX_TARBALL {
                    return Err(http(format!("larger than {MAX_TARBALL} bytes")));
                }
                Ok(Some(body))
            }
            Err(ureq::Error::Status(404, _)) => Ok(None),
            Err(ureq::Error::Status(code, _)) => Err(http(format!("status {code}"))),
            Err(e) => Err(http(e.to_string())),
        }
    }
}
