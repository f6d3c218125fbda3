//! Writing rows: one directory per view, `part-NNNNN.<ext>` files in it, in batches.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::view::{Column, Typed};
use crate::Error;

/// Output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Apache Parquet (needs the `parquet` feature), one row group per batch.
    Parquet,
    /// CSV with a header line; lists and objects as JSON text, null as an empty field.
    Csv,
    /// One JSON object per row.
    Ndjson,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Ndjson => "ndjson",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Format, Error> {
        match s {
            "parquet" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            "ndjson" | "json" => Ok(Format::Ndjson),
            other => Err(Error::Usage(format!(
                "unknown format `{other}` (parquet, csv or ndjson)"
            ))),
        }
    }
}

/// The storage type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Boolean,
    Integer,
    /// FHIR `decimal`, stored as a 64-bit float (Parquet), text as read (CSV, NDJSON).
    Decimal,
    /// Everything else (codes, dates with their partial precision, complex values as JSON text).
    String,
}

/// A column's storage type and whether it holds a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnKind {
    pub kind: Kind,
    pub list: bool,
}

fn kind_of(fhir_type: &str) -> Kind {
    match fhir_type {
        "boolean" => Kind::Boolean,
        "integer" | "positiveInt" | "unsignedInt" | "integer64" => Kind::Integer,
        "decimal" => Kind::Decimal,
        _ => Kind::String,
    }
}

/// Column kinds: the declared `type`, else the FHIR type of the first value in the first batch.
fn infer_kinds(columns: &[Column], rows: &[Vec<Typed>]) -> Vec<ColumnKind> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let kind = match &c.fhir_type {
                Some(t) => kind_of(t),
                None => rows
                    .iter()
                    .find_map(|r| r[i].fhir_type.filter(|_| !r[i].json.is_null()))
                    .map(kind_of)
                    .unwrap_or(Kind::String),
            };
            ColumnKind {
                kind,
                list: c.collection,
            }
        })
        .collect()
}

pub(crate) trait PartWriter {
    fn write(&mut self, rows: &[Vec<Typed>]) -> Result<(), Error>;
    fn finish(self: Box<Self>) -> Result<(), Error>;
}

/// Writes the rows of one view into `<out>/<view>/part-NNNNN.<ext>`, buffering at most `batch_size` rows.
pub(crate) struct ViewWriter {
    view: String,
    dir: PathBuf,
    format: Format,
    columns: Vec<Column>,
    kinds: Option<Vec<ColumnKind>>,
    part: Option<Box<dyn PartWriter>>,
    rows_in_part: usize,
    next_part: usize,
    max_rows_per_part: usize,
    buffer: Vec<Vec<Typed>>,
    batch_size: usize,
    pub rows: u64,
    pub files: Vec<PathBuf>,
}

impl ViewWriter {
    pub fn new(
        view: &str,
        columns: &[Column],
        out: &Path,
        format: Format,
        batch_size: usize,
        max_rows_per_part: usize,
    ) -> Result<ViewWriter, Error> {
        let dir = out.join(view);
        std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
            path: dir.clone(),
            source: e,
        })?;
        // parts already there (an earlier export) stay; new parts take the next free numbers, so the directory
        // reads as one table
        let mut next_part = 0;
        while dir
            .join(format!("part-{next_part:05}.{}", format.extension()))
            .exists()
        {
            next_part += 1;
        }
        Ok(ViewWriter {
            view: view.to_string(),
            dir,
            format,
            columns: columns.to_vec(),
            kinds: None,
            part: None,
            rows_in_part: 0,
            next_part,
            max_rows_per_part: max_rows_per_part.max(1),
            buffer: Vec::new(),
            batch_size: batch_size.max(1),
            rows: 0,
            files: Vec::new(),
        })
    }

    pub fn push(&mut self, rows: Vec<Vec<Typed>>) -> Result<(), Error> {
        self.rows += rows.len() as u64;
        self.buffer.extend(rows);
        if self.buffer.len() >= self.batch_size {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let kinds = self
            .kinds
            .get_or_insert_with(|| infer_kinds(&self.columns, &self.buffer))
            .clone();
        let buffer = std::mem::take(&mut self.buffer);
        let mut rest: &[Vec<Typed>] = &buffer;
        while !rest.is_empty() {
            if self.part.is_none() {
                let path = self.dir.join(format!(
                    "part-{:05}.{}",
                    self.next_part,
                    self.format.extension()
                ));
                self.next_part += 1;
                self.part = Some(open_part(
                    &self.view,
                    &path,
                    self.format,
                    &self.columns,
                    &kinds,
                )?);
                self.files.push(path);
                self.rows_in_part = 0;
            }
            let room = self.max_rows_per_part - self.rows_in_part;
            let (now, later) = rest.split_at(room.min(rest.len()));
            if let Some(p) = self.part.as_mut() {
                p.write(now)?;
            }
            self.rows_in_part += now.len();
            rest = later;
            if self.rows_in_part >= self.max_rows_per_part {
                if let Some(p) = self.part.take() {
                    p.finish()?;
                }
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<(u64, Vec<PathBuf>), Error> {
        self.flush()?;
        if let Some(p) = self.part.take() {
            p.finish()?;
        }
        if self.files.is_empty() {
            // a view without rows still gets a (header-only / empty) file, so readers see its columns
            let path = self.dir.join(format!(
                "part-{:05}.{}",
                self.next_part,
                self.format.extension()
            ));
            let kinds = self
                .kinds
                .unwrap_or_else(|| infer_kinds(&self.columns, &[]));
            open_part(&self.view, &path, self.format, &self.columns, &kinds)?.finish()?;
            self.files.push(path);
        }
        Ok((self.rows, self.files))
    }
}

fn open_part(
    view: &str,
    path: &Path,
    format: Format,
    columns: &[Column],
    kinds: &[ColumnKind],
) -> Result<Box<dyn PartWriter>, Error> {
    let file = File::create(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(match format {
        Format::Csv => {
            let mut w = TextPart {
                path: path.to_path_buf(),
                out: BufWriter::new(file),
                columns: columns.to_vec(),
                csv: true,
            };
            let header: Vec<String> = columns.iter().map(|c| csv_field(&c.name)).collect();
            w.line(&header.join(","))?;
            Box::new(w)
        }
        Format::Ndjson => Box::new(TextPart {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            columns: columns.to_vec(),
            csv: false,
        }),
        #[cfg(feature = "parquet")]
        Format::Parquet => Box::new(crate::parquet_out::ParquetPart::new(
            view, path, file, columns, kinds,
        )?),
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => {
            let _ = (view, kinds);
            return Err(Error::Usage(
                "Parquet output needs the `parquet` feature of fhir-sql".into(),
            ));
        }
    })
}

struct TextPart {
    path: PathBuf,
    out: BufWriter<File>,
    columns: Vec<Column>,
    csv: bool,
}

impl TextPart {
    fn line(&mut self, s: &str) -> Result<(), Error> {
        self.out
            .write_all(s.as_bytes())
            .and_then(|_| self.out.write_all(b"\n"))
            .map_err(|e| Error::Io {
                path: self.path.clone(),
                source: e,
            })
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl PartWriter for TextPart {
    fn write(&mut self, rows: &[Vec<Typed>]) -> Result<(), Error> {
        for row in rows {
            let line = if self.csv {
                let fields: Vec<String> = row
                    .iter()
                    .map(|t| match &t.json {
                        Json::Null => String::new(),
                        Json::String(s) => csv_field(s),
                        other => csv_field(&other.to_string()),
                    })
                    .collect();
                fields.join(",")
            } else {
                let mut m = serde_json::Map::new();
                for (c, t) in self.columns.iter().zip(row) {
                    m.insert(c.name.clone(), t.json.clone());
                }
                Json::Object(m).to_string()
            };
            self.line(&line)?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), Error> {
        self.out.flush().map_err(|e| Error::Io {
            path: self.path.clone(),
            source: e,
        })
    }
}
