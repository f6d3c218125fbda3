//! The SQL on FHIR v2 test suite (`../shared/fhir-test-cases/sql-on-fhir/*.json`): every test's view over its
//! resources must give exactly the expected rows (compared as a multiset: the spec leaves row order open; values
//! compared as JSON, numbers by value), the expected columns when `expectColumns` is given, or an error when
//! `expectError` is set. The pass count is pinned; failures are printed with their reasons.

use std::path::PathBuf;

use fhir_sql::View;
use serde_json::Value as Json;

/// Tests that must pass. Raise it when the implementation improves; never lower it without saying why.
const PINNED_PASSES: usize = 101;

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fhir-test-cases/sql-on-fhir")
}

fn canonical(v: &Json) -> Json {
    match v {
        Json::Number(n) => serde_json::Number::from_f64(n.as_f64().unwrap_or(f64::NAN))
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Json::Array(a) => Json::Array(a.iter().map(canonical).collect()),
        Json::Object(o) => Json::Object(o.iter().map(|(k, v)| (k.clone(), canonical(v))).collect()),
        other => other.clone(),
    }
}

fn run(test: &Json, resources: &[Json]) -> Result<(), String> {
    let expect_error = test
        .get("expectError")
        .is_some_and(|e| e != &Json::Bool(false));
    let view = match View::from_json(&test["view"]) {
        Ok(v) => v,
        Err(e) if expect_error => {
            return if e.to_string().is_empty() {
                Err("empty error".into())
            } else {
                Ok(())
            }
        }
        Err(e) => return Err(format!("view refused: {e}")),
    };
    let mut rows = Vec::new();
    for r in resources {
        match view.rows(r) {
            Ok(rs) => rows.extend(rs),
            Err(e) if expect_error => {
                return if e.to_string().is_empty() {
                    Err("empty error".into())
                } else {
                    Ok(())
                }
            }
            Err(e) => return Err(format!("evaluation failed: {e}")),
        }
    }
    if expect_error {
        return Err(format!("expected an error, got {} rows", rows.len()));
    }
    let names: Vec<&str> = view.columns().iter().map(|c| c.name.as_str()).collect();
    if let Some(cols) = test.get("expectColumns").and_then(Json::as_array) {
        let want: Vec<&str> = cols.iter().filter_map(Json::as_str).collect();
        if want != names {
            return Err(format!("columns {names:?}, expected {want:?}"));
        }
    }
    let mut actual: Vec<String> = rows
        .iter()
        .map(|r| {
            let obj: serde_json::Map<String, Json> = names
                .iter()
                .zip(r)
                .map(|(n, v)| (n.to_string(), canonical(v)))
                .collect();
            Json::Object(obj).to_string()
        })
        .collect();
    let mut expected: Vec<String> = test["expect"]
        .as_array()
        .ok_or("test has neither expect nor expectError")?
        .iter()
        .map(|row| {
            // expected rows name their columns; put them in the view's column order
            let mut obj = serde_json::Map::new();
            for n in &names {
                obj.insert(n.to_string(), canonical(row.get(*n).unwrap_or(&Json::Null)));
            }
            for (k, _) in row.as_object().into_iter().flatten() {
                if !names.contains(&k.as_str()) {
                    obj.insert(
                        k.clone(),
                        Json::String("<column missing from the view>".into()),
                    );
                }
            }
            Json::Object(obj).to_string()
        })
        .collect();
    actual.sort();
    expected.sort();
    if actual == expected {
        Ok(())
    } else {
        Err(format!(
            "rows differ:\n        got      {actual:?}\n        expected {expected:?}"
        ))
    }
}

#[test]
fn sql_on_fhir_v2_suite() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(suite_dir())
        .unwrap_or_else(|e| panic!("{}: {e}", suite_dir().display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("tests.schema.json"))
        .collect();
    files.sort();
    let (mut total, mut passed) = (0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let suite: Json = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let resources = suite["resources"].as_array().cloned().unwrap_or_default();
        for t in suite["tests"].as_array().into_iter().flatten() {
            total += 1;
            let title = t["title"].as_str().unwrap_or("?");
            match run(t, &resources) {
                Ok(()) => passed += 1,
                Err(reason) => failures.push(format!(
                    "{} / {title}: {reason}",
                    f.file_name().unwrap().to_string_lossy()
                )),
            }
        }
    }
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    eprintln!("SQL on FHIR v2 suite: {passed}/{total} pass");
    assert_eq!(
        total,
        101,
        "the suite in {} has 101 tests",
        suite_dir().display()
    );
    assert!(
        passed >= PINNED_PASSES,
        "SQL on FHIR suite: {passed}/{total} pass, pinned at {PINNED_PASSES}"
    );
}

/// The comparison can fail: a wrong row, a missing row and an unexpected success are each reported.
#[test]
fn the_comparison_detects_differences() {
    let patient =
        serde_json::json!({"resourceType": "Patient", "id": "p1", "name": [{"family": "F"}]});
    let view = serde_json::json!({"resource": "Patient", "select": [{"column": [{"name": "id", "path": "id"}]}]});
    assert!(run(
        &serde_json::json!({"view": view, "expect": [{"id": "p1"}]}),
        std::slice::from_ref(&patient)
    )
    .is_ok());
    assert!(run(
        &serde_json::json!({"view": view, "expect": [{"id": "p2"}]}),
        std::slice::from_ref(&patient)
    )
    .is_err());
    assert!(run(
        &serde_json::json!({"view": view, "expect": [{"id": "p1"}, {"id": "p1"}]}),
        std::slice::from_ref(&patient)
    )
    .is_err());
    assert!(run(
        &serde_json::json!({"view": view, "expectError": true}),
        std::slice::from_ref(&patient)
    )
    .is_err());
    assert!(run(
        &serde_json::json!({"view": view, "expect": [{"id": "p1"}], "expectColumns": ["x"]}),
        &[patient]
    )
    .is_err());
}
