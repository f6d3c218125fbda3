//! Reading resources: NDJSON streams, JSON files (a resource or a Bundle), directories of them.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::Error;

fn is_ndjson(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("ndjson" | "jsonl")
    )
}

fn is_json(p: &Path) -> bool {
    is_ndjson(p) || p.extension().and_then(|e| e.to_str()) == Some("json")
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::Io {
            path: dir.to_path_buf(),
            source: e,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out)?;
        } else if is_json(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Calls `f` with every resource of a file or directory (see [`crate::Runner::push_path`]); returns the bytes read.
pub fn read_path(path: &Path, f: &mut dyn FnMut(Json) -> Result<(), Error>) -> Result<u64, Error> {
    let mut files = Vec::new();
    if path.is_dir() {
        files_under(path, &mut files)?;
    } else {
        files.push(path.to_path_buf());
    }
    let mut bytes = 0;
    for file in files {
        let open = File::open(&file).map_err(|e| Error::Io {
            path: file.clone(),
            source: e,
        })?;
        if is_ndjson(&file) {
            bytes += read_ndjson(BufReader::with_capacity(1 << 16, open), &file, f)?;
        } else {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::Io {
                path: file.clone(),
                source: e,
            })?;
            bytes += text.len() as u64;
            let v: Json = serde_json::from_str(&text).map_err(|e| Error::Json {
                path: file.clone(),
                line: 0,
                source: e,
            })?;
            f(v)?;
        }
    }
    Ok(bytes)
}

/// Calls `f` with the resource of every non-blank line of an NDJSON stream; returns the bytes read. `name` is
/// used in errors.
pub fn read_ndjson(
    mut reader: impl BufRead,
    name: &Path,
    f: &mut dyn FnMut(Json) -> Result<(), Error>,
) -> Result<u64, Error> {
    let mut line = String::new();
    let mut n = 0u64;
    let mut bytes = 0u64;
    loop {
        line.clear();
        let read = reader.read_line(&mut line).map_err(|e| Error::Io {
            path: name.to_path_buf(),
            source: e,
        })?;
        if read == 0 {
            return Ok(bytes);
        }
        bytes += read as u64;
        n += 1;
        if line.trim().is_empty() {
            continue;
        }
        let v: Json = serde_json::from_str(&line).map_err(|e| Error::Json {
            path: name.to_path_buf(),
            line: n,
            source: e,
        })?;
        f(v)?;
    }
}
