//! `fhir view run VIEW.json... --input DIR-or-FILE --out DIR --format parquet|csv|ndjson`: SQL on FHIR v2
//! ViewDefinitions over NDJSON, Bundles and JSON files, rows written as one table directory per view (see
//! [`fhir_sql::cli`] for the flags and the directory layout).

use std::io::Write;

use crate::{EXIT_OK, EXIT_USAGE};

/// Runs `fhir view <args>`; prints one line per view (rows and files) on stdout. Exit code 0 when every view
/// ran, 1 when a view or the data failed (the error names the view, resource or column), 2 on a usage or I/O
/// error.
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match args.first().map(String::as_str) {
        Some("run") => {}
        Some("help" | "--help" | "-h") | None => {
            let _ = writeln!(out, "{}", fhir_sql::cli::USAGE);
            return if args.is_empty() { EXIT_USAGE } else { EXIT_OK };
        }
        Some(other) => {
            let _ = writeln!(err, "fhir view: unknown command '{other}'\n{}", fhir_sql::cli::USAGE);
            return EXIT_USAGE;
        }
    }
    match fhir_sql::cli::run(args[1..].iter().cloned()) {
        Ok(summary) => {
            for v in &summary.views {
                let _ = writeln!(out, "{}: {} rows in {} files", v.name, v.rows, v.files.len());
            }
            let _ = writeln!(err, "fhir view: {} resources, {} bytes read", summary.resources, summary.input_bytes);
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "fhir view: {e}");
            match e {
                fhir_sql::Error::Usage(_) | fhir_sql::Error::Io { .. } => EXIT_USAGE,
                // The views or the data they met: an invalid view, an expression that fails on a resource, a
                // value its column cannot hold, an unreadable input line.
                _ => crate::EXIT_INVALID,
            }
        }
    }
}
