//! SQL on FHIR views over typed R4 models: `fhir_sql::Runner::push_value` takes a model wrapped in
//! `fhir_models::Fhir`, and the rows equal those of the same resource as JSON.

use fhir_models::r4::Patient;
use fhir_models::{Fhir, FhirJson};

#[test]
fn a_view_over_typed_patients_writes_the_same_rows_as_over_their_json() {
    let json = r#"{"resourceType":"Patient","id":"p1","active":true,"birthDate":"1970-03","name":[{"use":"official","family":"Doe","given":["Ann","Jo"]}]}"#;
    let patient = Patient::from_json(json).unwrap();
    let view = serde_json::json!({"name": "patient", "resource": "Patient", "select": [{"column": [
        {"name": "id", "path": "getResourceKey()"}, {"name": "active", "path": "active", "type": "boolean"},
        {"name": "birth", "path": "birthDate", "type": "date"},
        {"name": "given", "path": "name.where(use = 'official').given", "type": "string", "collection": true}]}]});
    let out = std::env::temp_dir().join(format!("fhir-sql-typed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let views = vec![fhir_sql::View::from_json(&view).unwrap()];
    let mut runner = fhir_sql::Runner::new(views, &out, fhir_sql::Format::Ndjson, Default::default()).unwrap();
    runner.push_value(&Fhir(patient)).unwrap();
    runner.push(&serde_json::from_str(json).unwrap()).unwrap();
    assert_eq!(runner.finish().unwrap().views[0].rows, 2);
    let written = std::fs::read_to_string(out.join("patient/part-00000.ndjson")).unwrap();
    let row = r#"{"id":"p1","active":true,"birth":"1970-03","given":["Ann","Jo"]}"#;
    assert_eq!(written, format!("{row}\n{row}\n"));
    std::fs::remove_dir_all(&out).ok();
}
