//! Parquet parts (arrow-rs): one row group per batch, Snappy-compressed.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use serde_json::Value as Json;

use crate::output::{ColumnKind, Kind, PartWriter};
use crate::view::{Column, Typed};
use crate::Error;

pub(crate) struct ParquetPart {
    view: String,
    path: PathBuf,
    columns: Vec<Column>,
    kinds: Vec<ColumnKind>,
    schema: SchemaRef,
    writer: ArrowWriter<File>,
}

fn data_type(k: Kind) -> DataType {
    match k {
        Kind::Boolean => DataType::Boolean,
        Kind::Integer => DataType::Int64,
        Kind::Decimal => DataType::Float64,
        Kind::String => DataType::Utf8,
    }
}

/// The Arrow schema of a view's columns.
pub(crate) fn schema(columns: &[Column], kinds: &[ColumnKind]) -> Schema {
    Schema::new(
        columns
            .iter()
            .zip(kinds)
            .map(|(c, k)| {
                let t = data_type(k.kind);
                if k.list {
                    Field::new(
                        &c.name,
                        DataType::List(Arc::new(Field::new("item", t, true))),
                        true,
                    )
                } else {
                    Field::new(&c.name, t, true)
                }
            })
            .collect::<Vec<_>>(),
    )
}

impl ParquetPart {
    pub fn new(
        view: &str,
        path: &Path,
        file: File,
        columns: &[Column],
        kinds: &[ColumnKind],
    ) -> Result<ParquetPart, Error> {
        let schema = Arc::new(schema(columns, kinds));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| {
            Error::Parquet {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        })?;
        Ok(ParquetPart {
            view: view.to_string(),
            path: path.to_path_buf(),
            columns: columns.to_vec(),
            kinds: kinds.to_vec(),
            schema,
            writer,
        })
    }

    fn bad(&self, col: usize, v: &Json, want: &str) -> Error {
        Error::Output {
            view: self.view.clone(),
            column: self.columns[col].name.clone(),
            message: format!("value {v} is not {want} (the column's type); declare the column's `type` to store it as text"),
        }
    }
}

enum Builder {
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
    Str(StringBuilder),
    BoolList(ListBuilder<BooleanBuilder>),
    IntList(ListBuilder<Int64Builder>),
    FloatList(ListBuilder<Float64Builder>),
    StrList(ListBuilder<StringBuilder>),
}

fn as_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl PartWriter for ParquetPart {
    fn write(&mut self, rows: &[Vec<Typed>]) -> Result<(), Error> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for (i, k) in self.kinds.iter().enumerate() {
            let mut b = match (k.kind, k.list) {
                (Kind::Boolean, false) => Builder::Bool(BooleanBuilder::new()),
                (Kind::Integer, false) => Builder::Int(Int64Builder::new()),
                (Kind::Decimal, false) => Builder::Float(Float64Builder::new()),
                (Kind::String, false) => Builder::Str(StringBuilder::new()),
                (Kind::Boolean, true) => Builder::BoolList(ListBuilder::new(BooleanBuilder::new())),
                (Kind::Integer, true) => Builder::IntList(ListBuilder::new(Int64Builder::new())),
                (Kind::Decimal, true) => {
                    Builder::FloatList(ListBuilder::new(Float64Builder::new()))
                }
                (Kind::String, true) => Builder::StrList(ListBuilder::new(StringBuilder::new())),
            };
            for row in rows {
                let v = &row[i].json;
                let items: &[Json] = match v {
                    Json::Array(a) if k.list => a,
                    _ => std::slice::from_ref(v),
                };
                macro_rules! scalar {
                    ($b:expr, $conv:expr, $want:expr) => {
                        for item in items {
                            match item {
                                Json::Null => $b.append_null(),
                                x => {
                                    $b.append_value($conv(x).ok_or_else(|| self.bad(i, x, $want))?)
                                }
                            }
                        }
                    };
                }
                match &mut b {
                    Builder::Bool(b) => scalar!(b, Json::as_bool, "a boolean"),
                    Builder::Int(b) => scalar!(b, Json::as_i64, "an integer"),
                    Builder::Float(b) => scalar!(b, Json::as_f64, "a number"),
                    Builder::Str(b) => scalar!(b, |x: &Json| Some(as_text(x)), "text"),
                    Builder::BoolList(lb) => {
                        scalar!(lb.values(), Json::as_bool, "a boolean");
                        lb.append(true)
                    }
                    Builder::IntList(lb) => {
                        scalar!(lb.values(), Json::as_i64, "an integer");
                        lb.append(true)
                    }
                    Builder::FloatList(lb) => {
                        scalar!(lb.values(), Json::as_f64, "a number");
                        lb.append(true)
                    }
                    Builder::StrList(lb) => {
                        scalar!(lb.values(), |x: &Json| Some(as_text(x)), "text");
                        lb.append(true)
                    }
                }
            }
            arrays.push(match &mut b {
                Builder::Bool(b) => Arc::new(b.finish()),
                Builder::Int(b) => Arc::new(b.finish()),
                Builder::Float(b) => Arc::new(b.finish()),
                Builder::Str(b) => Arc::new(b.finish()),
                Builder::BoolList(b) => ArrayBuilder::finish(b),
                Builder::IntList(b) => ArrayBuilder::finish(b),
                Builder::FloatList(b) => ArrayBuilder::finish(b),
                Builder::StrList(b) => ArrayBuilder::finish(b),
            });
        }
        let batch =
            RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| Error::Parquet {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        self.writer.write(&batch).map_err(|e| Error::Parquet {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        // one row group per batch keeps the writer's memory bounded by the batch size
        self.writer.flush().map_err(|e| Error::Parquet {
            path: self.path.clone(),
            message: e.to_string(),
        })
    }

    fn finish(self: Box<Self>) -> Result<(), Error> {
        let path = self.path.clone();
        self.writer.close().map(|_| ()).map_err(|e| Error::Parquet {
            path,
            message: e.to_string(),
        })
    }
}
