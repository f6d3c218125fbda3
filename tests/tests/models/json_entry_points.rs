//! Reading from bytes (UTF-8 checked while lexing), NDJSON over `BufRead`, and lenient reading that stays linear
//! in the input whatever the number of issues, with every issue's position right.

use fhir_models::json::{NdjsonError, NdjsonReader, NdjsonWriter};
use fhir_models::r4::{Bundle, Patient, Resource};
use fhir_models::{FhirJson, IssueKind};
use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

// ----- bytes -----------------------------------------------------------------------------------------------------

#[test]
fn bytes_read_like_text() {
    let json = r#"{"resourceType":"Patient","id":"p1","name":[{"family":"Müller","given":["Zoë","\u00e9\n"]}]}"#;
    let from_text = Patient::from_json(json).unwrap();
    let from_bytes = Patient::from_json_bytes(json.as_bytes()).unwrap();
    assert_eq!(from_text, from_bytes);
    assert_eq!(from_bytes.name[0].given[1].value.as_deref(), Some("é\n"));
    // A byte-order mark is skipped; positions stay those of the bytes given.
    let with_bom = [b"\xEF\xBB\xBF".as_slice(), br#"{"resourceType":"Patient","gender":"robot"}"#].concat();
    let e = Patient::from_json_bytes(&with_bom).unwrap_err();
    assert_eq!((e.kind(), e.issue.offset, e.issue.line, e.issue.column), (IssueKind::UnknownCode, 38, 1, 39));
    assert_eq!(&with_bom[38..45], b"\"robot\"");
}

#[test]
fn invalid_utf8_is_an_error_with_its_byte_offset() {
    // A lone continuation byte in a value (also after an escape), a truncated sequence in a key, an overlong
    // encoding, a surrogate encoded in UTF-8: each is a syntax error at the first bad byte, strict and lenient.
    let cases: [(&[u8], usize); 5] = [
        (b"{\"resourceType\":\"Patient\",\"id\":\"ab\x80\"}", 34),
        (b"{\"resourceType\":\"Patient\",\"id\":\"a\\nb\x80\"}", 36),
        (b"{\"resourceType\":\"Patient\",\"\xE2\x82\":1}", 27),
        (b"{\"resourceType\":\"Patient\",\"id\":\"\xC0\xAF\"}", 32),
        (b"{\"resourceType\":\"Patient\",\"id\":\"x\xED\xA0\x80\"}", 33),
    ];
    for (bytes, offset) in cases {
        for e in [Patient::from_json_bytes(bytes).unwrap_err(), Patient::from_json_bytes_lenient(bytes).unwrap_err()] {
            assert_eq!(e.kind(), IssueKind::Syntax, "{e}");
            assert_eq!(e.issue.offset, offset, "{e}");
            assert_eq!((e.issue.line, e.issue.column), (1, offset + 1));
            assert!(e.to_string().contains(&format!("invalid UTF-8 at byte {offset}")), "{e}");
        }
    }
    // Outside strings any non-ASCII byte is no JSON at all.
    let e = Patient::from_json_bytes(b"{\"resourceType\":\"Patient\"\xC3\xA9}").unwrap_err();
    assert_eq!((e.kind(), e.issue.offset), (IssueKind::Syntax, 25));
    // Valid multi-byte text and escapes next to the check.
    let ok = "{\"resourceType\":\"Patient\",\"id\":\"x\",\"name\":[{\"text\":\"日本語 \\\"q\\\" 🙂\"}]}";
    assert_eq!(Patient::from_json_bytes(ok.as_bytes()).unwrap().name[0].text.as_ref().unwrap().as_str(), Some("日本語 \"q\" 🙂"));
}

// ----- NDJSON ----------------------------------------------------------------------------------------------------

const EXPORT: &str = concat!(
    r#"{"resourceType":"Patient","id":"a"}"#,
    "\n\n",
    r#"{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50}}"#,
    "\r\n",
    r#"{"resourceType":"Patient","id":"b","birthDate":"2020-13-45","colour":"blue"}"#,
    "\n",
    r#"{"resourceType":"Patient","id":"c""#,
    "\n   \n",
    r#"{"resourceType":"Patient","id":"d"}"#,
);

#[test]
fn ndjson_lenient_gives_each_line_with_its_issues() {
    let items: Vec<_> = NdjsonReader::<Resource, _>::lenient(EXPORT.as_bytes()).collect();
    assert_eq!(items.len(), 5);
    let ok: Vec<_> = items.iter().filter_map(|i| i.as_ref().ok()).collect();
    assert_eq!(ok.iter().map(|i| (i.line, i.value.id().unwrap())).collect::<Vec<_>>(), [(1, "a"), (3, "o"), (4, "b"), (7, "d")]);
    assert!(ok[0].issues.is_empty() && ok[1].issues.is_empty());
    // Line 4: the invalid date (kept) and the unknown element (dropped, its text kept in the issue).
    let issues = &ok[2].issues;
    assert_eq!(issues.iter().map(|i| (i.kind, i.path.as_str())).collect::<Vec<_>>(), [
        (IssueKind::InvalidValue, "Patient.birthDate"),
        (IssueKind::UnknownElement, "Patient.colour")
    ]);
    let line4 = EXPORT.lines().nth(3).unwrap();
    let line4_start = EXPORT.find(line4).unwrap();
    for (issue, needle) in issues.iter().zip([r#""2020-13-45""#, r#""blue""#]) {
        assert_eq!(issue.line, 4);
        assert_eq!(issue.column, line4.find(needle).unwrap() + 1);
        assert_eq!(issue.offset, line4_start + line4.find(needle).unwrap());
    }
    // Line 5 is cut short: an error naming its line; reading went on with line 7.
    match &items[3] {
        Err(NdjsonError::Parse { line: 5, source }) => {
            assert_eq!(source.kind(), IssueKind::Syntax);
            assert_eq!(source.issue.line, 5);
        }
        other => panic!("{other:?}"),
    }
    // The value of line 3 kept its decimal text.
    assert!(ok[1].value.to_json().contains(r#""value":1.50"#));
}

#[test]
fn ndjson_strict_refuses_lines_with_problems() {
    let results: Vec<_> = NdjsonReader::<Resource, _>::strict(EXPORT.as_bytes()).collect();
    let summary: Vec<_> = results
        .iter()
        .map(|r| match r {
            Ok(item) => (item.line, None),
            Err(e) => (e.line(), Some(e.to_string())),
        })
        .collect();
    assert_eq!(summary.len(), 5);
    assert_eq!(summary[0], (1, None));
    assert_eq!(summary[1], (3, None));
    assert_eq!(summary[2].0, 4);
    assert!(summary[2].1.as_deref().unwrap().contains("Patient.birthDate"), "{summary:?}");
    assert_eq!(summary[3].0, 5);
    assert_eq!(summary[4], (7, None));
    // A typed reader of one resource type: another type on a line is a problem of that line.
    let patients: Vec<_> = NdjsonReader::<Patient, _>::strict(EXPORT.as_bytes()).collect();
    assert!(matches!(&patients[1], Err(e) if e.line() == 3 && e.to_string().contains("Observation")));
}

/// A reader that serves some bytes, then fails.
struct Failing(&'static [u8]);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::other("connection reset"));
        }
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn ndjson_io_errors_end_the_stream_with_the_line() {
    let input = BufReader::with_capacity(8, Failing(b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\""));
    let mut reader = NdjsonReader::<Resource, _>::lenient(input);
    assert_eq!(reader.next().unwrap().unwrap().value.id(), Some("a"));
    match reader.next() {
        Some(Err(NdjsonError::Io { line: 2, source })) => assert_eq!(source.to_string(), "connection reset"),
        other => panic!("{other:?}"),
    }
    assert!(reader.next().is_none());
    assert_eq!(reader.lines_read(), 1);
}

#[test]
fn ndjson_reports_invalid_utf8_with_its_stream_position() {
    let input: &[u8] = b"{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Patient\",\"id\":\"\xFF\"}\n";
    let items: Vec<_> = NdjsonReader::<Resource, _>::lenient(input).collect();
    match &items[1] {
        Err(NdjsonError::Parse { line: 2, source }) => {
            assert_eq!((source.kind(), source.issue.line, source.issue.column), (IssueKind::Syntax, 2, 33));
            let line2_start = input.iter().position(|&b| b == b'\n').unwrap() + 1;
            assert_eq!(source.issue.offset, line2_start + 32);
            assert_eq!(input[source.issue.offset], 0xFF);
        }
        other => panic!("{other:?}"),
    }
    fn assert_buf_read<R: BufRead>(_: &R) {}
    assert_buf_read(&input);
}

/// What a lenient NDJSON read gives, comparable across inputs: each line's number and id or error, with the
/// issues' kinds, paths and positions.
fn ndjson_summary<R: BufRead>(input: R) -> Vec<String> {
    NdjsonReader::<Resource, _>::lenient(input)
        .map(|item| match item {
            Ok(i) => format!(
                "{} {} {:?}",
                i.line,
                i.value.to_json(),
                i.issues.iter().map(|x| (x.kind, x.path.clone(), x.offset, x.line, x.column)).collect::<Vec<_>>()
            ),
            Err(NdjsonError::Parse { line, source }) => {
                let i = &source.issue;
                format!("{line} error {:?} {} {} {}", source.kind(), i.offset, i.line, i.column)
            }
            Err(e) => format!("{e}"),
        })
        .collect()
}

#[test]
fn ndjson_reads_alike_whatever_the_input_buffer() {
    // Lines that lie in the reader's buffer are read in place, the others collected: the results must not
    // depend on which (buffers shorter than a line, cutting lines and line ends anywhere; no final newline).
    let expected = ndjson_summary(EXPORT.as_bytes());
    assert_eq!(expected.len(), 5);
    for capacity in [1, 2, 7, 16, 40, 64, 100, 4096] {
        let read = ndjson_summary(BufReader::with_capacity(capacity, EXPORT.as_bytes()));
        assert_eq!(read, expected, "capacity {capacity}");
    }
    let with_final_newline = format!("{EXPORT}\n");
    assert_eq!(ndjson_summary(with_final_newline.as_bytes()), expected);
    assert!(ndjson_summary(&b"\n \r\n\t\n"[..]).is_empty());
}

#[test]
fn ndjson_writer_writes_what_the_reader_reads() {
    let values: Vec<Resource> =
        NdjsonReader::<Resource, _>::lenient(EXPORT.as_bytes()).filter_map(Result::ok).map(|i| i.value).collect();
    let mut writer = NdjsonWriter::new(Vec::new());
    for v in &values {
        writer.write(v).unwrap();
    }
    let bytes = writer.finish().unwrap();
    let expected: String = values.iter().map(|v| v.to_json() + "\n").collect();
    assert_eq!(String::from_utf8(bytes.clone()).unwrap(), expected);
    // (Lenient again: line 4's invalid date was kept as written.)
    let again: Vec<Resource> =
        NdjsonReader::<Resource, _>::lenient(&bytes[..]).map(|i| i.unwrap().value).collect();
    assert_eq!(again, values);
    // Dropping the writer writes what is buffered.
    let mut out = Vec::new();
    {
        let mut writer = NdjsonWriter::new(&mut out);
        writer.write(&values[0]).unwrap();
    }
    assert_eq!(out, format!("{}\n", values[0].to_json()).as_bytes());
}

#[test]
fn write_json_into_appends() {
    let patient = Patient::from_json(r#"{"resourceType":"Patient","id":"p","multipleBirthInteger":-12}"#).unwrap();
    let mut out = String::from("[");
    patient.write_json_into(&mut out);
    out.push(',');
    patient.write_json_into(&mut out);
    out.push(']');
    let one = patient.to_json();
    assert_eq!(one, r#"{"resourceType":"Patient","id":"p","multipleBirthInteger":-12}"#);
    assert_eq!(out, format!("[{one},{one}]"));
}

// ----- lenient reading stays linear -------------------------------------------------------------------------------

/// A Bundle of `n` Patients with an invalid birth date each, one entry per line.
fn bad_bundle(n: usize) -> String {
    let mut out = String::from("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[\n");
    for i in 0..n {
        if i > 0 {
            out.push_str(",\n");
        }
        // Varying indentation, so that columns differ from line to line.
        out.push_str(&" ".repeat(i % 7));
        out.push_str(r#"{"resource":{"resourceType":"Patient","birthDate":"2020-13-45"}}"#);
    }
    out.push_str("\n]}");
    out
}

fn lenient_read_time(json: &str) -> Duration {
    let t = Instant::now();
    let l = Bundle::from_json_lenient(json).unwrap();
    let took = t.elapsed();
    assert_eq!(l.value.entry.len(), l.issues.len());
    took
}

/// Reading ten times as many bad entries takes about ten times as long, not a hundred: a check of complexity
/// (line and column are no longer found by rescanning the input for each issue), not of speed. The two sizes
/// are read in turn a few times and the fastest time of each is compared, so that other tests running at the
/// same time (the suite runs in parallel on two cores) cannot make linear reading look quadratic.
#[test]
fn lenient_reading_is_linear_in_the_number_of_issues() {
    let small = bad_bundle(1_600);
    let large = bad_bundle(16_000);
    lenient_read_time(&small); // warm up
    let (mut t_small, mut t_large) = (Duration::MAX, Duration::MAX);
    // The fastest of many rounds: on a loaded machine a long read is more often preempted than a short one, and
    // only the least disturbed rounds compare the work itself.
    for _ in 0..12 {
        t_small = t_small.min(lenient_read_time(&small)).min(lenient_read_time(&small));
        t_large = t_large.min(lenient_read_time(&large));
    }
    let ratio = t_large.as_secs_f64() / t_small.as_secs_f64();
    println!("lenient reading: 1,600 issues {t_small:?}, 16,000 issues {t_large:?}: ratio {ratio:.1}");
    // Linear gives about 10, quadratic about 100.
    assert!(ratio < 30.0, "16,000 issues took {ratio:.1} times as long as 1,600 ({t_large:?} vs {t_small:?})");
}

#[test]
fn positions_of_many_issues_are_right() {
    let json = bad_bundle(2_000);
    let lenient = Bundle::from_json_lenient(&json).unwrap();
    assert_eq!(lenient.issues.len(), 2_000);
    for (i, issue) in lenient.issues.iter().enumerate() {
        assert_eq!(issue.kind, IssueKind::InvalidValue);
        assert_eq!(issue.path, format!("Bundle.entry[{i}].resource.birthDate"));
        assert_eq!(issue.line, i + 2, "{issue}");
        let line = json.lines().nth(i + 1).unwrap();
        assert_eq!(issue.column, line.find(r#""2020-13-45""#).unwrap() + 1, "{issue}");
        assert!(json[issue.offset..].starts_with(r#""2020-13-45""#), "{issue}");
    }
    // The invalid dates are kept as written.
    assert!(lenient.value.to_json().matches("2020-13-45").count() == 2_000);
}
