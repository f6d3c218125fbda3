//! The `fhir` command-line tool, as a library so its commands can be tested through the same code path as the
//! binary.
//!
//! `main` only collects the arguments and calls [`run`], which dispatches on the first argument to one module
//! per subcommand (`validate`, `export`, and `view` with the `view` feature, on by default), each a module with
//! a `run(args, stdout, stderr) -> exit code` and one arm in [`run`].
//!
//! ```
//! let mut out = Vec::new();
//! let mut err = Vec::new();
//! assert_eq!(fhir_cli::run(&["help".to_owned()], &mut out, &mut err), 0);
//! assert!(String::from_utf8(out).unwrap().contains("fhir validate"));
//! ```

use std::io::Write;

pub mod export;
pub mod validate;
#[cfg(feature = "view")]
pub mod view;

/// Exit code: everything valid / the command succeeded.
pub const EXIT_OK: i32 = 0;
/// Exit code: at least one document is invalid.
pub const EXIT_INVALID: i32 = 1;
/// Exit code: a usage or I/O error.
pub const EXIT_USAGE: i32 = 2;

/// The top-level usage text.
pub const USAGE: &str = "\
usage: fhir <command> [args]

commands:
  fhir validate [--version r4|dstu2] [--profile URL-or-FILE]... [--definitions FILE-or-DIR]... [--packages DIR] FILE...
      validate JSON files, Bundles and NDJSON; one JSON line per document on stdout, a summary on stderr;
      exit 0 all valid, 1 one invalid, 2 usage or I/O error
  fhir export --base URL --out DIR [--type T1,T2] [--since INSTANT | --since-last] [--patient | --group ID] ...
      Bulk Data $export into DIR, several files at once; run again to resume; `fhir export --help` for all options
  fhir view run VIEW.json... --input DIR-or-FILE --out DIR --format parquet|csv|ndjson
      run SQL on FHIR v2 ViewDefinitions, writing one table directory per view (feature `view`)
  fhir help
      this text
";

/// Runs the tool with `args` (without the program name), writing to `out` and `err`; returns the exit code.
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match args.first().map(String::as_str) {
        Some("validate") => validate::run(&args[1..], out, err),
        Some("export") => export::run(&args[1..], out, err),
        #[cfg(feature = "view")]
        Some("view") => view::run(&args[1..], out, err),
        Some("help" | "--help" | "-h") => {
            let _ = out.write_all(USAGE.as_bytes());
            EXIT_OK
        }
        Some(other) => {
            let _ = writeln!(err, "fhir: unknown command '{other}'\n\n{USAGE}");
            EXIT_USAGE
        }
        None => {
            let _ = err.write_all(USAGE.as_bytes());
            EXIT_USAGE
        }
    }
}
