//! NDJSON (one resource per line, as bulk `$export` writes it): read from any [`BufRead`] as typed values
//! ([`NdjsonReader`]), written to any [`Write`] ([`NdjsonWriter`]).

use super::error::{Issue, ParseError};
use super::{reader, FhirJson};
use std::io::{BufRead, BufWriter, Write};
use std::marker::PhantomData;

/// Reads NDJSON from any [`BufRead`] (a file, a decompressor, a network body, a byte slice), one typed value per
/// non-blank line, strictly or leniently. Each line is read from bytes, so invalid UTF-8 is reported with its
/// position like any other problem.
///
/// Every item names its line. A line that cannot be read is an [`NdjsonError::Parse`] and the iteration goes on
/// with the next line; an I/O error ends it. A line that lies whole in the input's buffer (always, for a byte
/// slice) is read in place; others are collected into one reused buffer, so memory stays at the longest line
/// whatever the length of the stream.
///
/// ```
/// # #[cfg(feature = "r4-patient")] {
/// use fhir_models::json::NdjsonReader;
/// use fhir_models::r4::Resource;
///
/// let export = b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n\
///                {\"resourceType\":\"Patient\",\"id\":\"b\",\"birthDate\":\"2020-13-45\"}\n";
/// let mut ids = Vec::new();
/// for item in NdjsonReader::<Resource, _>::lenient(&export[..]) {
///     let item = item.unwrap();
///     ids.push(item.value.id().unwrap_or("").to_owned());
///     for issue in &item.issues {
///         // line 2, column 48: invalid value at Patient.birthDate ...
///         assert_eq!((item.line, issue.line, issue.path.as_str()), (2, 2, "Patient.birthDate"));
///     }
/// }
/// assert_eq!(ids, ["a", "b"]);
///
/// // Strict: the bad line is an error naming its line; reading goes on after it.
/// let results: Vec<_> = NdjsonReader::<Resource, _>::strict(&export[..]).collect();
/// assert!(results[0].is_ok());
/// assert!(matches!(&results[1], Err(e) if e.line() == 2));
/// # }
/// ```
pub struct NdjsonReader<T, R> {
    input: R,
    strict: bool,
    buf: Vec<u8>,
    /// The path's room, reused by every line.
    room: reader::PathRoom,
    /// Lines read so far (the 1-based number of the last one).
    line: usize,
    /// Byte offset of the next line in the stream.
    offset: usize,
    done: bool,
    _values: PhantomData<fn() -> T>,
}

/// One line's value, with its line number and (lenient reading) the problems found in it.
#[derive(Debug, Clone, PartialEq)]
pub struct NdjsonItem<T> {
    /// 1-based line number in the stream.
    pub line: usize,
    /// What was read.
    pub value: T,
    /// Problems of this line (always empty in strict mode). Each issue's `line` is the stream's line, its
    /// `column` is within the line and its `offset` is from the start of the stream.
    pub issues: Vec<Issue>,
}

/// Why a line gave no value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NdjsonError {
    /// The line is not a readable value (strict: its first problem; lenient: it is not JSON or holds no usable
    /// value). The issue's position is placed in the stream as for [`NdjsonItem::issues`].
    #[error("NDJSON line {line}: {source}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// The problem.
        #[source]
        source: ParseError,
    },
    /// Reading the input failed; the iteration ends.
    #[error("NDJSON line {line}: reading failed: {source}")]
    Io {
        /// 1-based number of the line being read.
        line: usize,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl NdjsonError {
    /// The 1-based line number of the problem.
    pub fn line(&self) -> usize {
        match self {
            NdjsonError::Parse { line, .. } | NdjsonError::Io { line, .. } => *line,
        }
    }
}

impl<T: FhirJson, R: BufRead> NdjsonReader<T, R> {
    /// Strict reading: a line with any problem is an error ([`FhirJson::from_json_bytes`] per line).
    pub fn strict(input: R) -> Self {
        Self::new(input, true)
    }

    /// Lenient reading: each line's problems come with its value ([`FhirJson::from_json_bytes_lenient`] per line).
    pub fn lenient(input: R) -> Self {
        Self::new(input, false)
    }

    fn new(input: R, strict: bool) -> Self {
        NdjsonReader { input, strict, buf: Vec::new(), room: Default::default(), line: 0, offset: 0, done: false, _values: PhantomData }
    }

    /// The number of lines read so far.
    pub fn lines_read(&self) -> usize {
        self.line
    }

    /// The underlying reader.
    pub fn into_inner(self) -> R {
        self.input
    }

    fn place(&self, issue: &mut Issue, line_offset: usize) {
        issue.line = self.line;
        issue.offset += line_offset;
    }
}

impl<T: FhirJson, R: BufRead> Iterator for NdjsonReader<T, R> {
    type Item = Result<NdjsonItem<T>, NdjsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let line_offset = self.offset;
            // A line that lies whole in the input's buffer (always, for a byte slice; nearly always for a
            // `BufReader`) is read where it is, without copying it into `buf`.
            let read = match self.input.fill_buf() {
                Ok([]) => {
                    self.done = true;
                    continue;
                }
                Ok(available) => match find_newline(available) {
                    Some(end) => {
                        let line = &available[..=end];
                        let read = read_line(line, self.strict, &mut self.room);
                        self.input.consume(end + 1);
                        Some((end + 1, read))
                    }
                    None => None,
                },
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    self.done = true;
                    return Some(Err(NdjsonError::Io { line: self.line + 1, source }));
                }
            };
            let (n, read) = match read {
                Some(done) => done,
                None => {
                    // The line goes on past the buffer (or is the last, without a newline): collect it.
                    self.buf.clear();
                    match self.input.read_until(b'\n', &mut self.buf) {
                        Ok(0) => {
                            self.done = true;
                            continue;
                        }
                        Ok(n) => (n, read_line(&self.buf, self.strict, &mut self.room)),
                        Err(source) => {
                            self.done = true;
                            return Some(Err(NdjsonError::Io { line: self.line + 1, source }));
                        }
                    }
                }
            };
            self.line += 1;
            self.offset += n;
            let read = match read {
                Line::Blank => continue,
                Line::Read(read) => read,
            };
            return Some(match read {
                Ok((value, mut issues)) => {
                    for issue in &mut issues {
                        self.place(issue, line_offset);
                    }
                    Ok(NdjsonItem { line: self.line, value, issues })
                }
                Err(mut source) => {
                    self.place(&mut source.issue, line_offset);
                    Err(NdjsonError::Parse { line: self.line, source })
                }
            });
        }
        None
    }
}

/// One line of the stream, read.
enum Line<T> {
    /// Only white space: no item.
    Blank,
    Read(Result<(T, Vec<Issue>), ParseError>),
}

fn read_line<T: FhirJson>(line: &[u8], strict: bool, room: &mut reader::PathRoom) -> Line<T> {
    if line.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
        Line::Blank
    } else {
        Line::Read(reader::read_document_bytes::<T>(line, strict, room))
    }
}

/// The offset of the first `\n` in `b` (vectorized: lines are long, and every byte of the stream is searched).
fn find_newline(b: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', b)
}

/// Writes NDJSON (one compact resource per line, as bulk `$export` does) to any [`Write`], buffered: each
/// value is written into one reused `String` (no allocation per value once it is large enough), the lines go
/// to the output in large pieces. Dropping the writer writes what is buffered, ignoring errors, as
/// [`std::io::BufWriter`] does; call [`NdjsonWriter::finish`] to see them.
///
/// ```
/// # #[cfg(feature = "r4-patient")] {
/// use fhir_models::json::NdjsonWriter;
/// use fhir_models::r4::Patient;
///
/// let mut ndjson = NdjsonWriter::new(Vec::new());
/// for id in ["a", "b"] {
///     ndjson.write(&Patient { id: Some(id.into()), ..Default::default() }).unwrap();
/// }
/// let bytes = ndjson.finish().unwrap();
/// assert_eq!(bytes, b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\",\"id\":\"b\"}\n");
/// # }
/// ```
pub struct NdjsonWriter<W: Write> {
    output: BufWriter<W>,
    line: String,
}

impl<W: Write> NdjsonWriter<W> {
    /// A writer of NDJSON to `output` (buffered by 64 KiB).
    pub fn new(output: W) -> Self {
        NdjsonWriter { output: BufWriter::with_capacity(64 * 1024, output), line: String::new() }
    }

    /// Writes `value` as one line.
    pub fn write<T: FhirJson>(&mut self, value: &T) -> std::io::Result<()> {
        self.line.clear();
        value.write_json_into(&mut self.line);
        self.line.push('\n');
        self.output.write_all(self.line.as_bytes())
    }

    /// Writes what is buffered and flushes the output.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.output.flush()
    }

    /// Writes what is buffered, flushes, and returns the output.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.output.flush()?;
        self.output.into_inner().map_err(std::io::IntoInnerError::into_error)
    }
}
