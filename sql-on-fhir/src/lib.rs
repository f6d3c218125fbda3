//! SQL on FHIR v2: run `ViewDefinition`s over FHIR resources and write the rows as Parquet, CSV or NDJSON.
//!
//! A [`View`] is a checked ViewDefinition (`select`, `column`, `forEach`, `forEachOrNull`, `unionAll`, `repeat`,
//! `where`, `constant`, collection columns, column types). Its FHIRPath is evaluated by the workspace's
//! [`fhir_path`] engine, with SQL on FHIR's `getResourceKey()` and `getReferenceKey([type])`.
//!
//! A [`Runner`] streams resources (NDJSON files, Bundles, single JSON resources, whole directories of them, or
//! values you push) through several views and writes each view to `<out>/<view name>/part-NNNNN.<ext>`. Memory is
//! bounded by the batch size: rows are buffered per view up to `batch_size` and then written (one Parquet row
//! group per batch); resources are read one at a time.
//!
//! ```
//! use fhir_sql::{Format, Options, Runner, View};
//! let view = View::from_json(&serde_json::json!({
//!     "resourceType": "ViewDefinition", "name": "patient", "resource": "Patient",
//!     "select": [{"column": [{"name": "id", "path": "id", "type": "id"},
//!                            {"name": "birth_date", "path": "birthDate", "type": "date"}]}]
//! }))?;
//! let out = std::env::temp_dir().join(format!("fhir-sql-doc-{}", std::process::id()));
//! let mut runner = Runner::new(vec![view], &out, Format::Csv, Options::default())?;
//! runner.push(&serde_json::json!({"resourceType": "Patient", "id": "p1", "birthDate": "1970-03-01"}))?;
//! let summary = runner.finish()?;
//! assert_eq!(summary.views[0].rows, 1);
//! let csv = std::fs::read_to_string(out.join("patient/part-00000.csv")).unwrap();
//! assert_eq!(csv, "id,birth_date\np1,1970-03-01\n");
//! # std::fs::remove_dir_all(&out).ok();
//! # Ok::<(), fhir_sql::Error>(())
//! ```
//!
//! # Reading the output as one table
//!
//! Every view is a directory of parts with one schema, which DuckDB, DataFusion and Spark read as one table:
//! `SELECT * FROM read_parquet('out/patient/*.parquet')` (DuckDB), `CREATE EXTERNAL TABLE patient STORED AS
//! PARQUET LOCATION 'out/patient/'` (DataFusion), `spark.read.parquet("out/patient")`. A later export into the
//! same `--out` adds parts with the next free numbers, so a directory of exports stays one table.
//!
//! # Column types
//!
//! A column's `type` decides its storage: `boolean` -> Boolean, `integer`/`positiveInt`/`unsignedInt` -> Int64,
//! `decimal` -> Float64, everything else (codes, ids, dates with their partial precision, complex values as JSON
//! text) -> Utf8; `collection: true` makes it a list. A column without `type` takes the FHIR type of its first
//! value in the first batch. A value that does not fit its column's type is an error naming view and column,
//! never a silent conversion.

mod output;
#[cfg(feature = "parquet")]
mod parquet_out;
mod source;
mod view;

pub mod cli;

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

pub use output::{ColumnKind, Format, Kind};
pub use source::{read_ndjson, read_path};
pub use view::{Column, Row, View};

/// Everything that can go wrong, naming the view, resource, file or column.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The ViewDefinition is not valid (missing `resource`, bad FHIRPath, mismatched `unionAll` columns, ...).
    #[error("view `{view}` is invalid: {message}")]
    InvalidView { view: String, message: String },
    /// A FHIRPath expression failed on a resource.
    #[error("view `{view}` on {resource}: {source}")]
    Path {
        view: String,
        resource: String,
        #[source]
        source: fhir_path::Error,
    },
    /// A view's rules failed on a resource (several values in a non-collection column, a non-boolean `where`).
    #[error("view `{view}` on {resource}: {message}")]
    Evaluation {
        view: String,
        resource: String,
        message: String,
    },
    /// A value that does not fit its column.
    #[error("view `{view}`, column `{column}`: {message}")]
    Output {
        view: String,
        column: String,
        message: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Input that is not JSON (`line` is the NDJSON line, 0 for a whole JSON file).
    #[error("{} line {line}: {source}", path.display())]
    Json {
        path: PathBuf,
        line: u64,
        #[source]
        source: serde_json::Error,
    },
    #[error("writing {}: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
    /// Bad command-line arguments.
    #[error("{0}")]
    Usage(String),
}

/// Options of a [`Runner`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Rows buffered per view before they are written (one Parquet row group). Default 10 000.
    pub batch_size: usize,
    /// Rows per part file before the next part starts. Default 1 000 000.
    pub max_rows_per_part: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch_size: 10_000,
            max_rows_per_part: 1_000_000,
        }
    }
}

/// What a run wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Resources read.
    pub resources: u64,
    /// Bytes of input read by [`Runner::push_path`].
    pub input_bytes: u64,
    pub views: Vec<ViewSummary>,
}

/// Rows and files of one view.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSummary {
    pub name: String,
    pub rows: u64,
    pub files: Vec<PathBuf>,
}

/// Runs views over a stream of resources and writes their rows.
pub struct Runner {
    views: Vec<(View, output::ViewWriter)>,
    resources: u64,
    input_bytes: u64,
}

impl Runner {
    /// Prepares the output directories `<out>/<view name>/`. Two views may not share a name.
    pub fn new(
        views: Vec<View>,
        out: &Path,
        format: Format,
        options: Options,
    ) -> Result<Runner, Error> {
        let mut names = std::collections::HashSet::new();
        let mut v = Vec::new();
        for view in views {
            if !names.insert(view.name().to_string()) {
                return Err(Error::Usage(format!(
                    "two views are named `{}`; output directories are named by view",
                    view.name()
                )));
            }
            let w = output::ViewWriter::new(
                view.name(),
                view.columns(),
                out,
                format,
                options.batch_size,
                options.max_rows_per_part,
            )?;
            v.push((view, w));
        }
        Ok(Runner {
            views: v,
            resources: 0,
            input_bytes: 0,
        })
    }

    /// Runs every view over one resource; a Bundle's entries are run one by one.
    pub fn push(&mut self, resource: &Json) -> Result<(), Error> {
        if resource.get("resourceType").and_then(Json::as_str) == Some("Bundle") {
            for e in resource
                .get("entry")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(r) = e.get("resource") {
                    self.push(r)?;
                }
            }
            return Ok(());
        }
        self.resources += 1;
        for (view, writer) in &mut self.views {
            let rows = view.typed_rows(resource)?;
            if !rows.is_empty() {
                writer.push(rows)?;
            }
        }
        Ok(())
    }

    /// Runs every view over a typed value: anything `serde::Serialize` that writes FHIR JSON, e.g. a typed model
    /// from `fhir-models` (feature `serde`) wrapped as `fhir_models::Fhir(patient)`.
    pub fn push_value<T: serde::Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let json = serde_json::to_value(value).map_err(|e| Error::Json {
            path: PathBuf::from("(typed value)"),
            line: 0,
            source: e,
        })?;
        self.push(&json)
    }

    /// Reads a file (NDJSON by `.ndjson`/`.jsonl`, else one JSON resource or Bundle) or every such file of a
    /// directory (recursively, in name order) and runs the views over each resource.
    pub fn push_path(&mut self, path: &Path) -> Result<(), Error> {
        let bytes = source::read_path(path, &mut |r| self.push(&r))?;
        self.input_bytes += bytes;
        Ok(())
    }

    /// Writes what is buffered, closes the files and says what was written.
    pub fn finish(self) -> Result<Summary, Error> {
        let mut views = Vec::new();
        for (view, writer) in self.views {
            let (rows, files) = writer.finish()?;
            views.push(ViewSummary {
                name: view.name().to_string(),
                rows,
                files,
            });
        }
        Ok(Summary {
            resources: self.resources,
            input_bytes: self.input_bytes,
            views,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("fhir-sql-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn names_view() -> View {
        View::from_json(&json!({"name": "names", "resource": "Patient", "select": [
            {"column": [{"name": "id", "path": "id"}]},
            {"forEach": "name", "column": [{"name": "family", "path": "family"}, {"name": "given", "path": "given", "collection": true}]}]}))
        .unwrap()
    }

    #[test]
    fn ndjson_and_bundles_in_csv_out_with_quoting() {
        let dir = temp("csv");
        let bundle = json!({"resourceType": "Bundle", "entry": [
            {"resource": {"resourceType": "Patient", "id": "b1", "name": [{"family": "Comma, \"Quoted\"", "given": ["x"]}]}},
            {"resource": {"resourceType": "Observation", "id": "o1"}}]});
        std::fs::write(dir.join("b.json"), bundle.to_string()).unwrap();
        std::fs::write(
            dir.join("p.ndjson"),
            "{\"resourceType\":\"Patient\",\"id\":\"n1\",\"name\":[{\"family\":\"F\"}]}\n\n",
        )
        .unwrap();
        let out = dir.join("out");
        let mut r = Runner::new(vec![names_view()], &out, Format::Csv, Options::default()).unwrap();
        r.push_path(&dir).unwrap();
        let s = r.finish().unwrap();
        assert_eq!((s.resources, s.views[0].rows), (3, 2));
        let csv = std::fs::read_to_string(out.join("names/part-00000.csv")).unwrap();
        assert_eq!(
            csv,
            "id,family,given\nb1,\"Comma, \"\"Quoted\"\"\",\"[\"\"x\"\"]\"\nn1,F,[]\n"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_bad_ndjson_line_is_reported_with_its_number() {
        let dir = temp("badline");
        std::fs::write(
            dir.join("p.ndjson"),
            "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{oops\n",
        )
        .unwrap();
        let mut r = Runner::new(
            vec![names_view()],
            &dir.join("out"),
            Format::Ndjson,
            Options::default(),
        )
        .unwrap();
        match r.push_path(&dir.join("p.ndjson")) {
            Err(Error::Json { line, path, .. }) => {
                assert_eq!((line, path.ends_with("p.ndjson")), (2, true))
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn several_values_in_a_single_column_are_an_error_naming_view_and_resource() {
        let v = View::from_json(&json!({"name": "v", "resource": "Patient", "select": [{"column": [{"name": "g", "path": "name.given"}]}]})).unwrap();
        let err = v
            .rows(&json!({"resourceType": "Patient", "id": "p9", "name": [{"given": ["a", "b"]}]}))
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`v`")
                && text.contains("Patient/p9")
                && text.contains("collection: true"),
            "{text}"
        );
    }

    #[cfg(feature = "parquet")]
    #[test]
    fn a_value_that_does_not_fit_the_inferred_parquet_type_is_an_error() {
        let dir = temp("mismatch");
        // no declared type: the first batch makes `v` an integer column; a later string does not fit
        let v = View::from_json(&json!({"name": "v", "resource": "Basic", "select": [{"column": [{"name": "v", "path": "extension.value"}]}]})).unwrap();
        let mut r = Runner::new(
            vec![v],
            &dir,
            Format::Parquet,
            Options {
                batch_size: 1,
                max_rows_per_part: 10,
            },
        )
        .unwrap();
        r.push(&json!({"resourceType": "Basic", "extension": [{"url": "u", "valueInteger": 1}]}))
            .unwrap();
        let err = r
            .push(
                &json!({"resourceType": "Basic", "extension": [{"url": "u", "valueString": "x"}]}),
            )
            .unwrap_err();
        assert!(
            matches!(&err, Error::Output { column, .. } if column == "v"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn views_are_checked_before_any_resource_is_read() {
        for (def, why) in [
            (json!({"name": "x", "select": []}), "resource"),
            (
                json!({"name": "x", "resource": "Patient", "select": [{"column": [{"name": "a b", "path": "id"}]}]}),
                "database name",
            ),
            (
                json!({"name": "x", "resource": "Patient", "select": [{"column": [{"name": "a", "path": "id"}, {"name": "a", "path": "id"}]}]}),
                "twice",
            ),
            (
                json!({"name": "x", "resource": "Patient", "select": [{"column": [{"name": "a", "path": "name.where(use = %nope)"}]}]}),
                "%nope",
            ),
            (
                json!({"name": "x", "resource": "Patient", "select": [{"forEach": "name", "forEachOrNull": "name"}]}),
                "at most one",
            ),
        ] {
            let err = View::from_json(&def).unwrap_err().to_string();
            assert!(err.contains(why), "{err} should mention {why}");
        }
    }
}
