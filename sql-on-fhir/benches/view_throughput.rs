//! View evaluation throughput: `cargo bench -p fhir-sql --bench view_throughput`.
//!
//! Builds a large NDJSON (default 200 MB; `FHIR_SQL_BENCH_MB`) from the official R4 examples
//! (`$FHIR_PACKAGES/hl7.fhir.r4.examples#4.0.1`, default `../shared/fhir-packages`; Bundles are unpacked, every copy
//! gets a fresh id), then measures in the same run:
//! 1. baseline: reading and parsing the NDJSON only (serde_json, no view);
//! 2. four typical views (patient, observation with forEach over codings, condition, medication request) to
//!    Parquet, to CSV and to NDJSON.
//!
//! Prints MB/s of NDJSON in, rows/s out, the ratio to the parse baseline, and the process's peak resident memory
//! (VmHWM) after each phase.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use fhir_sql::{Format, Options, Runner, View};
use serde_json::{json, Value as Json};

fn packages() -> PathBuf {
    std::env::var_os("FHIR_PACKAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fhir-packages")
        })
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn build_ndjson(target: &Path, mb: u64) -> u64 {
    let dir = packages().join("hl7.fhir.r4.examples#4.0.1/package");
    let mut examples = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("package.json"))
        .collect();
    files.sort();
    for f in files {
        let Ok(v) = serde_json::from_str::<Json>(&std::fs::read_to_string(&f).unwrap()) else {
            continue;
        };
        if v.get("resourceType").and_then(Json::as_str) == Some("Bundle") {
            for e in v
                .get("entry")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(r) = e.get("resource") {
                    examples.push(r.clone());
                }
            }
        } else if v.get("resourceType").is_some() {
            examples.push(v);
        }
    }
    let mut out = BufWriter::new(std::fs::File::create(target).unwrap());
    let mut bytes = 0u64;
    let mut copy = 0u64;
    while bytes < mb * 1_000_000 {
        for e in &examples {
            let mut r = e.clone();
            let id = r
                .get("id")
                .and_then(Json::as_str)
                .unwrap_or("x")
                .to_string();
            r["id"] = json!(format!("{id}-{copy}"));
            let line = r.to_string();
            bytes += line.len() as u64 + 1;
            out.write_all(line.as_bytes()).unwrap();
            out.write_all(b"\n").unwrap();
        }
        copy += 1;
    }
    out.flush().unwrap();
    bytes
}

fn views() -> Vec<View> {
    let defs = [
        json!({"name": "patient", "resource": "Patient", "select": [
            {"column": [{"name": "id", "path": "getResourceKey()"}, {"name": "gender", "path": "gender"},
                        {"name": "birth_date", "path": "birthDate", "type": "date"}, {"name": "active", "path": "active", "type": "boolean"},
                        {"name": "family", "path": "name.where(use = 'official').family.first()", "type": "string"},
                        {"name": "given", "path": "name.given", "type": "string", "collection": true}]},
            {"forEachOrNull": "address.first()", "column": [{"name": "city", "path": "city", "type": "string"}, {"name": "postal_code", "path": "postalCode", "type": "string"}]}]}),
        json!({"name": "observation", "resource": "Observation", "select": [
            {"column": [{"name": "id", "path": "getResourceKey()"}, {"name": "status", "path": "status"},
                        {"name": "patient", "path": "subject.getReferenceKey(Patient)", "type": "string"},
                        {"name": "effective", "path": "effective.ofType(dateTime)", "type": "dateTime"},
                        {"name": "value", "path": "value.ofType(Quantity).value", "type": "decimal"},
                        {"name": "unit", "path": "value.ofType(Quantity).code", "type": "code"}]},
            {"forEach": "code.coding", "column": [{"name": "system", "path": "system", "type": "uri"}, {"name": "code", "path": "code", "type": "code"}]}]}),
        json!({"name": "condition", "resource": "Condition", "where": [{"path": "code.exists()"}], "select": [
            {"column": [{"name": "id", "path": "getResourceKey()"}, {"name": "patient", "path": "subject.getReferenceKey()", "type": "string"},
                        {"name": "clinical_status", "path": "clinicalStatus.coding.code.first()", "type": "code"},
                        {"name": "onset", "path": "onset.ofType(dateTime)", "type": "dateTime"},
                        {"name": "code", "path": "code.coding.first().code", "type": "code"}]}]}),
        json!({"name": "medication_request", "resource": "MedicationRequest", "select": [
            {"column": [{"name": "id", "path": "getResourceKey()"}, {"name": "status", "path": "status"}, {"name": "intent", "path": "intent"},
                        {"name": "authored", "path": "authoredOn", "type": "dateTime"},
                        {"name": "medication", "path": "medication.ofType(CodeableConcept).coding.code.first()", "type": "code"}]},
            {"forEachOrNull": "dosageInstruction", "column": [{"name": "dosage", "path": "text", "type": "string"}]}]}),
    ];
    defs.iter().map(|d| View::from_json(d).unwrap()).collect()
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: only run when benchmarking
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let mb: u64 = std::env::var("FHIR_SQL_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let dir = std::env::temp_dir().join(format!("fhir-sql-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("r4-examples.ndjson");
    let t = Instant::now();
    let bytes = build_ndjson(&input, mb);
    let in_mb = bytes as f64 / 1e6;
    println!(
        "built {in_mb:.1} MB of NDJSON from the R4 examples in {:.1} s; peak RSS {:.0} MB",
        t.elapsed().as_secs_f64(),
        peak_rss_mb()
    );

    // 1. baseline: parse only
    let t = Instant::now();
    let mut resources = 0u64;
    let reader = BufReader::with_capacity(1 << 16, std::fs::File::open(&input).unwrap());
    for line in reader.lines() {
        let line = line.unwrap();
        let v: Json = serde_json::from_str(&line).unwrap();
        resources += v.is_object() as u64;
    }
    let base = t.elapsed().as_secs_f64();
    println!(
        "baseline (read + parse): {resources} resources, {:.1} MB/s; peak RSS {:.0} MB",
        in_mb / base,
        peak_rss_mb()
    );

    // 2. the views, per format
    for format in [Format::Parquet, Format::Csv, Format::Ndjson] {
        let out = dir.join(format!("out-{}", format.extension()));
        let t = Instant::now();
        let mut runner = Runner::new(views(), &out, format, Options::default()).unwrap();
        runner.push_path(&input).unwrap();
        let summary = runner.finish().unwrap();
        let secs = t.elapsed().as_secs_f64();
        let rows: u64 = summary.views.iter().map(|v| v.rows).sum();
        let per_view: Vec<String> = summary
            .views
            .iter()
            .map(|v| format!("{} {}", v.name, v.rows))
            .collect();
        println!(
            "4 views -> {:<7}: {:.1} MB/s in, {:.0} rows/s out ({rows} rows: {}), {:.2}x the parse baseline's time; peak RSS {:.0} MB",
            format.extension(),
            in_mb / secs,
            rows as f64 / secs,
            per_view.join(", "),
            secs / base,
            peak_rss_mb()
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
