//! DSTU2 specifics on the generated `dstu2` models, and the two versions side by side.

use fhir_models::dstu2::{self, Dstu2};
use fhir_models::{FhirJson, FhirResource, FhirVersion};

#[test]
fn fhir_comments_are_kept_on_objects_and_primitives() {
    let json = r#"{"resourceType":"Patient","fhir_comments":["top"],"active":true,"_active":{"fhir_comments":["on a primitive"]},"name":[{"fhir_comments":["in a name"],"family":["Doe"]}]}"#;
    let p = dstu2::Patient::from_json(json).unwrap();
    assert_eq!(p.fhir_comments, ["top"]);
    assert_eq!(p.active.as_ref().unwrap().fhir_comments(), ["on a primitive"]);
    assert_eq!(p.name[0].fhir_comments, ["in a name"]);
    // DSTU2 HumanName.family is a list.
    assert_eq!(p.name[0].family[0].as_str(), Some("Doe"));
    assert_eq!(p.to_json(), json);
}

#[test]
fn official_example_typed_fields() {
    let dir = fhir_toolkit_tests::packages_dir().join("hl7.fhir.r2.examples#1.0.2/package");
    let text = std::fs::read_to_string(dir.join("Patient-example.json")).unwrap();
    let p = dstu2::Patient::from_json(&text).unwrap();
    assert_eq!(p.resource_id(), Some("example"));
    assert_eq!(p.gender.as_ref().unwrap().value, Some(dstu2::AdministrativeGender::Male));
    assert_eq!(p.name[0].family[0].as_str(), Some("Chalmers"));
}

#[test]
fn versions_do_not_clash_and_share_the_runtime() {
    let r4 = fhir_models::r4::Patient::from_json(r#"{"resourceType":"Patient","id":"a"}"#).unwrap();
    let d2 = dstu2::Patient::from_json(r#"{"resourceType":"Patient","id":"a"}"#).unwrap();
    assert_eq!(r4.to_json(), d2.to_json());
    assert_eq!(<Dstu2 as FhirVersion>::NAME, "dstu2");
    let bundle = dstu2::Bundle::from_json(
        r#"{"resourceType":"Bundle","type":"searchset","total":1,"link":[{"relation":"next","url":"http://x/dstu2/Patient?page=2"}],"entry":[{"resource":{"resourceType":"Patient","id":"p"}}]}"#,
    )
    .unwrap();
    assert_eq!(Dstu2::next_link(&bundle), Some("http://x/dstu2/Patient?page=2"));
    assert_eq!(Dstu2::total(&bundle), Some(1));
    let resources = Dstu2::into_resources(bundle);
    assert_eq!(dstu2::Patient::from_resource(resources[0].clone()).unwrap().resource_id(), Some("p"));
}

#[test]
fn resource_types_of_each_version() {
    // `Conformance` exists in DSTU2 only; `CapabilityStatement` in R4 only.
    assert!(dstu2::Resource::from_json(r#"{"resourceType":"Conformance","status":"draft"}"#).is_ok());
    let e = dstu2::Resource::from_json(r#"{"resourceType":"CapabilityStatement"}"#).unwrap_err();
    assert_eq!(e.kind(), fhir_models::IssueKind::UnknownResourceType);
}

/// Found by fuzzing (`fuzz/`): an item of a primitive list with neither value nor extension (`[null]`, or a value
/// of the wrong type dropped in lenient mode) is written back as `null`, so the list keeps its length.
#[test]
fn empty_items_of_primitive_lists_are_kept() {
    use fhir_models::dstu2::Resource;
    use fhir_models::FhirJson;
    let json = r#"{"resourceType":"RelatedPerson","name":{"family":[null]}}"#;
    let read = Resource::from_json_lenient(json).unwrap();
    assert_eq!(read.value.to_json(), json);
    let read = Resource::from_json_lenient(r#"{"resourceType":"RelatedPerson","name":{"family":[5]}}"#).unwrap();
    assert_eq!(read.issues.len(), 1);
    let written = read.value.to_json();
    assert_eq!(written, json);
    assert_eq!(Resource::from_json_lenient(&written).unwrap().value, read.value);
}
