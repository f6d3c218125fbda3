//! Shared helpers for the cross-crate tests: finding the official packages, and comparing JSON documents with
//! numbers compared by their text (so `1.50` and `1.5` differ, as they do in FHIR).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The packages directory: `$FHIR_PACKAGES`, else `../shared/fhir-packages` beside the workspace.
///
/// Panics with a clear message when neither exists: the round-trip tests must not pass without their data.
pub fn packages_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FHIR_PACKAGES").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fhir-packages");
    assert!(
        beside.is_dir(),
        "FHIR packages not found: set FHIR_PACKAGES or put them at {}",
        beside.display()
    );
    beside
}

/// Every resource JSON file of a package (`package/*.json` and `package/example/*.json`), sorted, without
/// `package.json` and `.index.json` (OpenAPI documents live in a subfolder that is not read).
pub fn package_files(package: &str) -> Vec<PathBuf> {
    let root = packages_dir().join(package).join("package");
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("example")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !name.starts_with('.') && name != "package.json" {
                out.push(e.path());
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no JSON files in {}", root.display());
    out
}

/// A JSON value that keeps numbers as their text.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Num(String),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object (keys sorted: key order does not matter in JSON).
    Obj(BTreeMap<String, Json>),
}

impl Json {
    /// Parses JSON text (a leading BOM is skipped). Numbers keep their text; strings are unescaped by
    /// serde_json (an independent parser, so the model crate's reader is not checked against itself).
    pub fn parse(text: &str) -> Result<Json, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut p = Parser { s: text, i: 0 };
        let v = p.value()?;
        p.ws();
        if p.i != text.len() {
            return Err(format!("trailing text at byte {}", p.i));
        }
        Ok(v)
    }

    /// The first difference between two documents, as a path and both sides.
    pub fn diff(&self, other: &Json) -> Option<String> {
        diff_at("$", self, other)
    }
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.as_bytes().get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        let b = self.s.as_bytes();
        match b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut m = BTreeMap::new();
                self.ws();
                if b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Obj(m));
                }
                loop {
                    self.ws();
                    let Json::Str(k) = self.value()? else { return Err(format!("key expected at {}", self.i)) };
                    self.ws();
                    if b.get(self.i) != Some(&b':') {
                        return Err(format!("`:` expected at {}", self.i));
                    }
                    self.i += 1;
                    let v = self.value()?;
                    m.insert(k, v);
                    self.ws();
                    match b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Obj(m));
                        }
                        _ => return Err(format!("`,` or `}}` expected at {}", self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Arr(a));
                }
                loop {
                    a.push(self.value()?);
                    self.ws();
                    match b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Arr(a));
                        }
                        _ => return Err(format!("`,` or `]` expected at {}", self.i)),
                    }
                }
            }
            Some(b'"') => {
                let start = self.i;
                self.i += 1;
                while let Some(&c) = b.get(self.i) {
                    self.i += 1;
                    match c {
                        b'\\' => self.i += 1,
                        b'"' => break,
                        _ => {}
                    }
                }
                serde_json::from_str::<String>(&self.s[start..self.i]).map(Json::Str).map_err(|e| e.to_string())
            }
            Some(b't') if self.s[self.i..].starts_with("true") => {
                self.i += 4;
                Ok(Json::Bool(true))
            }
            Some(b'f') if self.s[self.i..].starts_with("false") => {
                self.i += 5;
                Ok(Json::Bool(false))
            }
            Some(b'n') if self.s[self.i..].starts_with("null") => {
                self.i += 4;
                Ok(Json::Null)
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                while b.get(self.i).is_some_and(|c| matches!(c, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.i += 1;
                }
                Ok(Json::Num(self.s[start..self.i].to_owned()))
            }
            _ => Err(format!("value expected at byte {}", self.i)),
        }
    }
}

fn diff_at(path: &str, a: &Json, b: &Json) -> Option<String> {
    match (a, b) {
        (Json::Obj(x), Json::Obj(y)) => {
            for k in x.keys().chain(y.keys()) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = diff_at(&format!("{path}.{k}"), p, q) {
                            return Some(d);
                        }
                    }
                    (p, q) => return Some(format!("{path}.{k}: {p:?} vs {q:?}")),
                }
            }
            None
        }
        (Json::Arr(x), Json::Arr(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: array of {} vs {}", x.len(), y.len()));
            }
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| diff_at(&format!("{path}[{i}]"), p, q))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a:?} vs {b:?}")),
    }
}

/// Reads every file of `package` as `R` (a version's `Resource` enum), strictly and leniently, writes the lenient
/// value back and compares it with the original as JSON. `invalid` lists the files that are not valid FHIR, with
/// (part of) the message strict reading must give for them. Panics with every failure listed.
pub fn round_trip_package<R: fhir_models::FhirJson>(invalid: &[(&str, &str)], package: &str) {
    let files = package_files(package);
    let mut failures = Vec::new();
    let mut strict_ok = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let original = match Json::parse(&text) {
            Ok(j) => j,
            Err(e) => {
                failures.push(format!("{name}: not JSON: {e}"));
                continue;
            }
        };
        let expected_invalid = invalid.iter().find(|(f, _)| *f == name);
        match (R::from_json(&text), expected_invalid) {
            (Ok(_), None) => strict_ok += 1,
            (Ok(_), Some(_)) => failures.push(format!("{name}: listed as invalid but strict reading accepts it")),
            (Err(e), None) => failures.push(format!("{name}: strict: {e}")),
            (Err(e), Some((_, reason))) => {
                if !e.to_string().contains(reason) {
                    failures.push(format!("{name}: strict error `{e}` does not mention `{reason}`"));
                }
            }
        }
        let lenient = match R::from_json_lenient(&text) {
            Ok(l) => l,
            Err(e) => {
                failures.push(format!("{name}: lenient: {e}"));
                continue;
            }
        };
        if lenient.issues.iter().any(|i| i.dropped.is_some()) {
            continue; // listed above through the strict error
        }
        let written = lenient.value.to_json();
        // Reading the same file from bytes gives the same value and the same issues.
        match R::from_json_bytes_lenient(text.as_bytes()) {
            Ok(b) if b.issues == lenient.issues && b.value.to_json() == written => {}
            Ok(_) => failures.push(format!("{name}: reading from bytes differs from reading the text")),
            Err(e) => failures.push(format!("{name}: from bytes: {e}")),
        }
        match Json::parse(&written) {
            Ok(back) => {
                if let Some(d) = original.diff(&back) {
                    failures.push(format!("{name}: round-trip differs at {d}"));
                }
            }
            Err(e) => failures.push(format!("{name}: written JSON does not parse: {e}")),
        }
    }
    println!("{package}: {} files, {strict_ok} valid and round-tripped, {} listed invalid", files.len(), invalid.len());
    if !failures.is_empty() {
        panic!("{} of {} files failed:\n{}", failures.len(), files.len(), failures.join("\n"));
    }
}

