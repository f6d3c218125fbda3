//! The official FHIRPath R4 test suite (`../shared/fhir-test-cases/fhirpath-r4/tests-fhir-r4.xml`, 937 tests, inputs
//! are the JSON files of the same names) run against the engine, with the pass rate pinned: a drop fails.
//!
//! A test passes when the expression yields exactly the expected outputs (in order unless `ordered="false"`), or,
//! for a test marked `invalid`, when parsing or evaluation fails.

use std::collections::BTreeMap;
use std::path::PathBuf;

use fhir_path::{Env, Expression, Value};

/// Tests that must pass (of 935). Raise it when the engine improves; never lower it without saying why.
///
/// The 29 failures (measured 2026-12-01), by category:
/// - 12: the input file is not in the suite's copy (`valueset-example-expansion`, `parameters-example-types`,
///   `patient-example-period`).
/// - 6: strict-mode semantic errors the suite expects from a type-checking compiler (`name.given1`,
///   `Patient.name` on an Observation, `$this` ordering, `(value as Period).unit`, polymorphic `value.unit`):
///   this engine evaluates unknown elements to empty, as FHIRPath's non-strict mode does.
/// - 3: `is Age` / `is Quantity` / `is Duration` on an extension the JSON input does not have (the XML one does).
/// - 3: `lowBoundary`/`highBoundary` of ±0.0034 at precision 1 (the suite expects a signed 0.0).
/// - 2: `conformsTo()` needs profiles (the validation work supplies them).
/// - 2: `'1 \'mo\''.toQuantity() = 1 month` and the year twin: the suite expects empty.
/// - 1: `unescape('json')` of a string holding a quote.
const PINNED_PASSES: usize = 906;

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fhir-test-cases/fhirpath-r4")
}

struct Outcome {
    group: String,
    name: String,
    reason: Option<String>,
}

fn render(v: &Value<'_>) -> (String, String) {
    let s = v.to_system();
    let ty = match &s {
        Value::Boolean(_) => "boolean",
        Value::Integer(_) => "integer",
        Value::Decimal(_) => "decimal",
        Value::String(_) => "string",
        Value::Date(_) => "date",
        Value::DateTime(_) => "dateTime",
        Value::Time(_) => "time",
        Value::Quantity(_) => "Quantity",
        Value::Node(n) => n.type_name().unwrap_or("node"),
        _ => "other",
    };
    let text = match &s {
        Value::Date(t) | Value::DateTime(t) => format!("@{t}"),
        Value::Time(t) => format!("@T{t}"),
        other => other.to_string(),
    };
    (ty.to_string(), text)
}

fn type_matches(expected: &str, actual: &str) -> bool {
    expected == actual
        || matches!(
            (expected, actual),
            ("code" | "id" | "string" | "uri", "string")
        )
        || (actual != "boolean"
            && !matches!(
                actual,
                "integer" | "decimal" | "string" | "date" | "dateTime" | "time" | "Quantity"
            ))
}

fn run_test(
    test: roxmltree::Node<'_, '_>,
    inputs: &mut BTreeMap<String, serde_json::Value>,
) -> Option<String> {
    let expr_node = test.children().find(|c| c.has_tag_name("expression"))?;
    let text = expr_node.text().unwrap_or("");
    let invalid = expr_node.attribute("invalid").is_some();
    let input_name = test
        .attribute("inputfile")
        .map(|f| f.replace(".xml", ".json"));
    let input = match &input_name {
        Some(f) => {
            if !inputs.contains_key(f) {
                let p = suite_dir().join("input").join(f);
                match std::fs::read_to_string(&p) {
                    Ok(text) => {
                        let json = serde_json::from_str(&text)
                            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                        inputs.insert(f.clone(), json);
                    }
                    // the suite names a few inputs its copy does not ship
                    Err(_) => return Some(format!("input file {f} is not in the suite")),
                }
            }
            inputs[f].clone()
        }
        None => serde_json::json!({}),
    };
    let result = Expression::parse(text).and_then(|e| {
        e.evaluate(&input, &Env::new())
            .map(|c| c.iter().map(render).collect::<Vec<_>>())
    });
    let mut actual = match (result, invalid) {
        (Err(_), true) => return None,
        (Ok(out), true) => return Some(format!("expected an error, got {out:?}")),
        (Err(e), false) => return Some(format!("error: {e}")),
        (Ok(out), false) => out,
    };
    if test.attribute("predicate") == Some("true") {
        actual = vec![("boolean".into(), (!actual.is_empty()).to_string())];
    }
    let mut expected: Vec<(String, String)> = test
        .children()
        .filter(|c| c.has_tag_name("output"))
        .map(|o| {
            (
                o.attribute("type").unwrap_or("").to_string(),
                o.text().unwrap_or("").to_string(),
            )
        })
        .collect();
    if test.attribute("ordered") == Some("false") {
        actual.sort_by(|a, b| a.1.cmp(&b.1));
        expected.sort_by(|a, b| a.1.cmp(&b.1));
    }
    let ok = actual.len() == expected.len()
        && actual
            .iter()
            .zip(&expected)
            .all(|(a, e)| a.1 == e.1 && (e.0.is_empty() || type_matches(&e.0, &a.0)));
    if ok {
        None
    } else {
        Some(format!("expected {expected:?}, got {actual:?}"))
    }
}

#[test]
fn official_fhirpath_r4_suite() {
    let path = suite_dir().join("tests-fhir-r4.xml");
    let xml = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&xml).expect("suite XML parses");
    let mut inputs = BTreeMap::new();
    let mut outcomes = Vec::new();
    for group in doc
        .root_element()
        .children()
        .filter(|g| g.has_tag_name("group"))
    {
        let gname = group.attribute("name").unwrap_or("").to_string();
        for test in group.children().filter(|t| t.has_tag_name("test")) {
            let name = test.attribute("name").unwrap_or("(unnamed)").to_string();
            let reason = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_test(test, &mut inputs)
            }))
            .unwrap_or_else(|_| Some("panicked".into()));
            outcomes.push(Outcome {
                group: gname.clone(),
                name,
                reason,
            });
        }
    }
    let total = outcomes.len();
    let passed = outcomes.iter().filter(|o| o.reason.is_none()).count();
    let mut by_group: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
    for o in outcomes.iter().filter(|o| o.reason.is_some()) {
        by_group.entry(o.group.as_str()).or_default().push(o);
    }
    for (g, fails) in &by_group {
        eprintln!("{g}: {} failing", fails.len());
        for f in fails {
            eprintln!("    {}: {}", f.name, f.reason.as_deref().unwrap_or(""));
        }
    }
    eprintln!("FHIRPath R4 suite: {passed}/{total} pass");
    assert_eq!(
        total, 935,
        "the suite has 935 <test> elements (and 2 <modeTest>s for lenient modes, not run)"
    );
    assert!(
        passed >= PINNED_PASSES,
        "FHIRPath R4 suite: {passed}/{total} pass, pinned at {PINNED_PASSES}"
    );
}
