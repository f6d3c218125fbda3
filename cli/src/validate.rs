//! `fhir validate`: validates JSON files, Bundles and NDJSON against the definitions of FHIR packages.
//!
//! For each document one line of JSON goes to standard output,
//! `{"file": ..., "index": N, "valid": true|false, "outcome": <OperationOutcome>}`, where `index` is the
//! 1-based line of an NDJSON file (a file whose name ends in `.ndjson`, or that holds more than one JSON value
//! one per line) and 0 for a JSON file. A Bundle is one document (its entries are validated inside it). A line
//! that is not JSON is an invalid document with a `fatal` issue. Humans get a summary on standard error.
//! Exit code: 0 when every document is valid, 1 when one is not, 2 on a usage or I/O error (nothing is
//! validated then).

use crate::{EXIT_INVALID, EXIT_OK, EXIT_USAGE, USAGE};
use fhir_validate::{Definitions, FhirVersion, Issue, Outcome, Rule, Severity, Validator};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors that stop `fhir validate` before or while reading its input (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Wrong arguments.
    #[error("{0}")]
    Usage(String),
    /// Definitions could not be loaded.
    #[error(transparent)]
    Definitions(#[from] fhir_validate::DefinitionsError),
    /// A profile named by URL is not loaded.
    #[error(transparent)]
    Profile(#[from] fhir_validate::ValidateError),
    /// An input file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The parsed command line.
#[derive(Debug, Default)]
pub struct Options {
    /// `--version` (default R4).
    pub version: Option<FhirVersion>,
    /// `--profile`: canonical URLs or files.
    pub profiles: Vec<String>,
    /// `--definitions`: files or folders.
    pub definitions: Vec<PathBuf>,
    /// `--packages`: the packages directory (else `$FHIR_PACKAGES`, else `~/.fhir/packages`).
    pub packages: Option<PathBuf>,
    /// The documents.
    pub files: Vec<PathBuf>,
}

impl Options {
    /// Parses the arguments after `validate`.
    pub fn parse(args: &[String]) -> Result<Options, CliError> {
        let mut o = Options::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value =
                |name: &str| it.next().cloned().ok_or_else(|| CliError::Usage(format!("{name} needs a value")));
            match a.as_str() {
                "--version" => {
                    let v = value("--version")?;
                    o.version = Some(
                        FhirVersion::parse(&v)
                            .ok_or_else(|| CliError::Usage(format!("unknown FHIR version '{v}' (r4 or dstu2)")))?,
                    );
                }
                "--profile" => o.profiles.push(value("--profile")?),
                "--definitions" => o.definitions.push(PathBuf::from(value("--definitions")?)),
                "--packages" => o.packages = Some(PathBuf::from(value("--packages")?)),
                "--" => o.files.extend(it.by_ref().map(PathBuf::from)),
                s if s.starts_with("--") => return Err(CliError::Usage(format!("unknown option '{s}'"))),
                s => o.files.push(PathBuf::from(s)),
            }
        }
        if o.files.is_empty() {
            return Err(CliError::Usage("no FILE to validate".into()));
        }
        Ok(o)
    }
}

/// One document of an input file.
struct Document {
    index: usize,
    parsed: Result<Value, String>,
}

fn read_documents(path: &Path) -> Result<Vec<Document>, CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::Io { path: path.to_path_buf(), source })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = String::from_utf8_lossy(bytes);
    let is_ndjson = path.extension().is_some_and(|e| e == "ndjson");
    if !is_ndjson {
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => return Ok(vec![Document { index: 0, parsed: Ok(v) }]),
            // More than one value, one per line: NDJSON under another name.
            Err(e) if !(e.is_syntax() && e.line() > 1 && e.column() <= 2) => {
                return Ok(vec![Document { index: 0, parsed: Err(e.to_string()) }]);
            }
            Err(_) => {}
        }
    }
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Document { index: i + 1, parsed: serde_json::from_str(l).map_err(|e| e.to_string()) })
        .collect())
}

/// Loads the definitions and profiles the options name; returns the store and the profile URLs.
pub fn load(o: &Options, err: &mut dyn Write) -> Result<(Definitions, Vec<String>), CliError> {
    let version = o.version.unwrap_or(FhirVersion::R4);
    let mut defs = Definitions::core(version, o.packages.as_deref())?;
    for d in &o.definitions {
        if defs.load_path(d)? == 0 {
            let _ = writeln!(
                err,
                "fhir validate: warning: {} holds no StructureDefinition, ValueSet or CodeSystem",
                d.display()
            );
        }
    }
    let mut urls = Vec::new();
    for p in &o.profiles {
        let path = Path::new(p);
        if !p.contains("://") || path.is_file() {
            let value = defs.read_file(path)?;
            let url =
                value["url"].as_str().filter(|_| value["resourceType"] == "StructureDefinition").map(str::to_owned);
            let url = url.ok_or_else(|| CliError::Usage(format!("{p}: not a StructureDefinition with a url")))?;
            defs.add_resource(value)?;
            urls.push(url);
        } else {
            urls.push(p.clone());
        }
    }
    Ok((defs, urls))
}

/// The outcome of one parsed document (or the fatal issue of one that is not JSON).
pub fn validate_document(
    validator: &Validator<'_>,
    profiles: &[&str],
    parsed: Result<&Value, &str>,
) -> Result<Outcome, CliError> {
    match parsed {
        Ok(v) => Ok(validator.validate_against(v, profiles)?),
        Err(e) => Ok(Outcome {
            issues: vec![Issue {
                path: String::new(),
                severity: Severity::Fatal,
                rule: Rule::Structure,
                message: format!("not JSON: {e}"),
            }],
        }),
    }
}

/// Runs `fhir validate` with the arguments after `validate`.
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match run_inner(args, out, err) {
        Ok(all_valid) => {
            if all_valid {
                EXIT_OK
            } else {
                EXIT_INVALID
            }
        }
        Err(e) => {
            let _ = writeln!(err, "fhir validate: {e}");
            if matches!(e, CliError::Usage(_)) {
                let _ = write!(err, "\n{USAGE}");
            }
            EXIT_USAGE
        }
    }
}

fn run_inner(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> Result<bool, CliError> {
    let o = Options::parse(args)?;
    let (defs, urls) = load(&o, err)?;
    let validator = Validator::new(&defs);
    let profiles: Vec<&str> = urls.iter().map(String::as_str).collect();
    // Fail on an unknown --profile before printing anything.
    for p in &profiles {
        validator.unchecked_value_sets(p)?;
    }
    // Read every file first: an I/O error is exit 2 with nothing validated.
    let mut inputs = Vec::new();
    for f in &o.files {
        inputs.push((f, read_documents(f)?));
    }
    let (mut docs, mut invalid) = (0usize, 0usize);
    for (file, documents) in inputs {
        for d in documents {
            let outcome = validate_document(&validator, &profiles, d.parsed.as_ref().map_err(String::as_str))?;
            let valid = outcome.is_valid();
            docs += 1;
            // Written by hand to keep the documented key order (serde_json's map sorts keys).
            let line = format!(
                "{{\"file\":{},\"index\":{},\"valid\":{valid},\"outcome\":{}}}",
                Value::String(file.display().to_string()),
                d.index,
                outcome.to_operation_outcome()
            );
            let _ = writeln!(out, "{line}");
            let errors = outcome.errors().count();
            let warnings = outcome.issues.iter().filter(|i| i.severity == Severity::Warning).count();
            let place =
                if d.index > 0 { format!("{}:{}", file.display(), d.index) } else { file.display().to_string() };
            if valid {
                let _ = writeln!(err, "{place}: valid ({warnings} warnings)");
            } else {
                invalid += 1;
                let _ = writeln!(err, "{place}: INVALID ({errors} errors, {warnings} warnings)");
                for i in outcome.errors().take(10) {
                    let _ = writeln!(err, "  {i}");
                }
                if errors > 10 {
                    let _ = writeln!(err, "  ... and {} more errors", errors - 10);
                }
            }
        }
    }
    let _ = writeln!(err, "{docs} documents: {} valid, {invalid} invalid", docs - invalid);
    Ok(invalid == 0)
}
