//! Parquet written by `fhir view run` (through `fhir_sql::cli::run`) is read back by DuckDB (PyPI `duckdb` in the
//! workspace's `.venv`, installed by `scripts/install-test-servers.sh`) as one table over the view's directory of
//! parts, with the same rows and the column types the view declares.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value as Json};

fn python() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/install-test-servers.sh (it installs duckdb)",
        p.display()
    );
    p
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fhir-sql-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn view() -> Json {
    json!({
        "resourceType": "ViewDefinition", "name": "obs", "resource": "Observation", "status": "active",
        "select": [
            {"column": [
                {"name": "id", "path": "getResourceKey()", "type": "id"},
                {"name": "status", "path": "status", "type": "code"},
                {"name": "has_value", "path": "value.exists()", "type": "boolean"},
                {"name": "value", "path": "value.ofType(Quantity).value", "type": "decimal"},
                {"name": "components", "path": "component.count()", "type": "integer"},
                {"name": "effective", "path": "effective.ofType(dateTime)", "type": "dateTime"},
                {"name": "codes", "path": "code.coding.code", "type": "code", "collection": true},
                {"name": "subject", "path": "subject.getReferenceKey(Patient)", "type": "string"}
            ]}
        ]
    })
}

fn observations(n: usize) -> Vec<Json> {
    (0..n)
        .map(|i| {
            let mut o = json!({
                "resourceType": "Observation", "id": format!("o{i}"), "status": if i % 3 == 0 { "final" } else { "amended" },
                "code": {"coding": (0..(i % 3)).map(|k| json!({"system": "http://loinc.org", "code": format!("{k}-{i}")})).collect::<Vec<_>>()},
                "subject": {"reference": format!("Patient/p{}", i % 7)},
                "component": (0..(i % 4)).map(|_| json!({"code": {"text": "c"}})).collect::<Vec<_>>()
            });
            if i % 5 != 0 {
                o["valueQuantity"] = json!({"value": i as f64 + 0.25, "unit": "mg"});
            }
            if i % 2 == 0 {
                o["effectiveDateTime"] = json!(format!("2020-01-{:02}T10:00:00Z", i % 28 + 1));
            }
            o
        })
        .collect()
}

const READ_BACK: &str = r#"
import duckdb, json, sys
con = duckdb.connect()
rel = con.sql("SELECT * FROM read_parquet('" + sys.argv[1] + "/*.parquet') ORDER BY id")
types = [str(t) for t in rel.types]
rows = [list(r) for r in rel.fetchall()]
print(json.dumps({"columns": rel.columns, "types": types, "rows": rows}, default=str))
"#;

fn duckdb_read(dir: &Path) -> Json {
    let out = Command::new(python())
        .arg("-c")
        .arg(READ_BACK)
        .arg(dir)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("duckdb printed JSON")
}

#[test]
fn duckdb_reads_the_parquet_parts_as_one_table_with_the_same_rows_and_types() {
    let dir = temp_dir("duckdb");
    let input = dir.join("Observation.ndjson");
    let resources = observations(250);
    let ndjson: String = resources.iter().map(|r| r.to_string() + "\n").collect();
    std::fs::write(&input, ndjson).unwrap();
    let view_file = dir.join("obs.json");
    std::fs::write(&view_file, view().to_string()).unwrap();
    let out = dir.join("out");
    // small batches and parts: several row groups and three part files
    let args = [
        view_file.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "parquet",
        "--batch-size",
        "40",
        "--rows-per-part",
        "100",
    ];
    let summary = fhir_sql::cli::run(args.iter().map(|s| s.to_string())).expect("view runs");
    assert_eq!(summary.resources, 250);
    assert_eq!(summary.views[0].rows, 250);
    assert_eq!(
        summary.views[0].files.len(),
        3,
        "{:?}",
        summary.views[0].files
    );

    let table = duckdb_read(&out.join("obs"));
    assert_eq!(
        table["columns"],
        json!([
            "id",
            "status",
            "has_value",
            "value",
            "components",
            "effective",
            "codes",
            "subject"
        ])
    );
    assert_eq!(
        table["types"],
        json!([
            "VARCHAR",
            "VARCHAR",
            "BOOLEAN",
            "DOUBLE",
            "BIGINT",
            "VARCHAR",
            "VARCHAR[]",
            "VARCHAR"
        ])
    );

    // the same rows as the view gives in memory
    let view = fhir_sql::View::from_json(&view()).unwrap();
    let mut expected: Vec<Vec<Json>> = resources
        .iter()
        .flat_map(|r| view.rows(r).unwrap())
        .collect();
    expected.sort_by(|a, b| a[0].as_str().cmp(&b[0].as_str()));
    let got = table["rows"].as_array().unwrap();
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        let g = g.as_array().unwrap();
        for (c, (gv, ev)) in g.iter().zip(e).enumerate() {
            let same = match (gv, ev) {
                (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
                (a, b) => a == b,
            };
            assert!(same, "row {}, column {c}: duckdb {gv}, view {ev}", e[0]);
        }
    }
    // spot checks of what the view computes
    assert_eq!(
        got[0],
        json!([
            "o0",
            "final",
            false,
            null,
            0,
            "2020-01-01T10:00:00Z",
            [],
            "p0"
        ])
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_second_export_into_the_same_directory_adds_parts_to_the_same_table() {
    let dir = temp_dir("append");
    let out = dir.join("out");
    for batch in [observations(10), observations(15)] {
        let views = vec![fhir_sql::View::from_json(&view()).unwrap()];
        let mut runner =
            fhir_sql::Runner::new(views, &out, fhir_sql::Format::Parquet, Default::default())
                .unwrap();
        for r in &batch {
            runner.push(r).unwrap();
        }
        runner.finish().unwrap();
    }
    let table = duckdb_read(&out.join("obs"));
    assert_eq!(table["rows"].as_array().unwrap().len(), 25);
    assert!(out.join("obs/part-00001.parquet").exists());
    std::fs::remove_dir_all(&dir).ok();
}
