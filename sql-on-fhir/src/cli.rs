//! The `fhir view run` command, for the `fhir` command-line tool to call.
//!
//! ```text
//! fhir view run VIEW.json... --input DIR-or-FILE [--input ...] --out DIR
//!               [--format parquet|csv|ndjson] [--batch-size N] [--rows-per-part N]
//! ```
//!
//! - `VIEW.json`: one or more ViewDefinition files (a file may also hold a Bundle or array of them).
//! - `--input`: NDJSON files (`.ndjson`, `.jsonl`), JSON files (a resource or a Bundle), or directories of them
//!   (read recursively, in name order). Repeatable; at least one.
//! - `--out`: output directory; each view writes `<out>/<view name>/part-NNNNN.<ext>`.
//! - `--format`: `parquet` (default), `csv` or `ndjson`.
//! - `--batch-size`: rows buffered per view before a write (default 10 000); bounds memory.
//! - `--rows-per-part`: rows per part file (default 1 000 000).
//!
//! ```no_run
//! let args = ["patient.json", "--input", "export/", "--out", "tables/", "--format", "csv"];
//! let summary = fhir_sql::cli::run(args.iter().map(|s| s.to_string()))?;
//! for v in &summary.views {
//!     eprintln!("{}: {} rows in {} files", v.name, v.rows, v.files.len());
//! }
//! # Ok::<(), fhir_sql::Error>(())
//! ```

use std::path::PathBuf;

use serde_json::Value as Json;

use crate::{Error, Format, Options, Runner, Summary, View};

/// Usage text of `fhir view run`.
pub const USAGE: &str =
    "usage: fhir view run VIEW.json... --input DIR-or-FILE [--input ...] --out DIR \
[--format parquet|csv|ndjson] [--batch-size N] [--rows-per-part N]";

/// Parsed arguments of `fhir view run`.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    pub views: Vec<PathBuf>,
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub format: Format,
    pub options_batch_size: usize,
    pub options_rows_per_part: usize,
}

impl Args {
    /// Parses the arguments after `fhir view run`.
    pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Args, Error> {
        let usage = |m: &str| Error::Usage(format!("{m}\n{USAGE}"));
        let mut views = Vec::new();
        let mut inputs = Vec::new();
        let mut out = None;
        let mut format = Format::Parquet;
        let defaults = Options::default();
        let (mut batch, mut per_part) = (defaults.batch_size, defaults.max_rows_per_part);
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            let mut value = |flag: &str| {
                it.next()
                    .ok_or_else(|| usage(&format!("{flag} needs a value")))
            };
            match a.as_str() {
                "--input" | "-i" => inputs.push(PathBuf::from(value("--input")?)),
                "--out" | "-o" => out = Some(PathBuf::from(value("--out")?)),
                "--format" | "-f" => format = value("--format")?.parse()?,
                "--batch-size" => {
                    batch = value("--batch-size")?
                        .parse()
                        .map_err(|_| usage("--batch-size needs a positive number"))?
                }
                "--rows-per-part" => {
                    per_part = value("--rows-per-part")?
                        .parse()
                        .map_err(|_| usage("--rows-per-part needs a positive number"))?
                }
                "-h" | "--help" => return Err(Error::Usage(USAGE.to_string())),
                flag if flag.starts_with("--") => {
                    return Err(usage(&format!("unknown option {flag}")))
                }
                view => views.push(PathBuf::from(view)),
            }
        }
        if views.is_empty() {
            return Err(usage("no ViewDefinition given"));
        }
        if inputs.is_empty() {
            return Err(usage("no --input given"));
        }
        if batch == 0 || per_part == 0 {
            return Err(usage("--batch-size and --rows-per-part must be positive"));
        }
        let out = out.ok_or_else(|| usage("no --out directory given"))?;
        Ok(Args {
            views,
            inputs,
            out,
            format,
            options_batch_size: batch,
            options_rows_per_part: per_part,
        })
    }
}

/// Reads the ViewDefinitions of a file: one, an array of them, or a Bundle of them.
pub fn load_views(path: &std::path::Path) -> Result<Vec<View>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let json: Json = serde_json::from_str(&text).map_err(|e| Error::Json {
        path: path.to_path_buf(),
        line: 0,
        source: e,
    })?;
    let defs: Vec<&Json> = match &json {
        Json::Array(a) => a.iter().collect(),
        j if j.get("resourceType").and_then(Json::as_str) == Some("Bundle") => j
            .get("entry")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("resource"))
            .collect(),
        j => vec![j],
    };
    defs.into_iter().map(View::from_json).collect()
}

/// Runs `fhir view run` with the arguments after `view run`.
pub fn run<I: IntoIterator<Item = String>>(args: I) -> Result<Summary, Error> {
    let args = Args::parse(args)?;
    let mut views = Vec::new();
    for p in &args.views {
        views.extend(load_views(p)?);
    }
    let options = Options {
        batch_size: args.options_batch_size,
        max_rows_per_part: args.options_rows_per_part,
    };
    let mut runner = Runner::new(views, &args.out, args.format, options)?;
    for input in &args.inputs {
        runner.push_path(input)?;
    }
    runner.finish()
}
