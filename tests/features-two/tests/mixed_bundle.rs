//! Only `r4-patient` and `r4-observation` are enabled: every other resource type of a Bundle is kept whole
//! (`Resource::Other`), in strict and lenient reading, and written back unchanged.

use fhir_models::r4::{Bundle, Observation, Resource, RESOURCE_TYPES};
use fhir_models::{FhirJson, IssueKind, RawResource};

/// A transaction-response-like searchset: Patient and Observation (compiled in), ServiceRequest, Encounter and
/// Practitioner (not compiled in; ServiceRequest with escapes, decimals and nested arrays), and an Observation
/// that contains a Specimen.
const MIXED: &str = r##"{"resourceType":"Bundle","id":"mixed","type":"searchset","total":5,"entry":[{"fullUrl":"http://example.org/fhir/Patient/p1","resource":{"resourceType":"Patient","id":"p1","name":[{"family":"Chalmers","given":["Peter","James"]}],"birthDate":"1974-12-25"}},{"fullUrl":"http://example.org/fhir/ServiceRequest/sr1","resource":{"resourceType":"ServiceRequest","id":"sr1","status":"active","intent":"order","code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}],"text":"Glucose \"fasting\"\nplease"},"subject":{"reference":"Patient/p1"},"quantityQuantity":{"value":1.50,"unit":"mg"},"note":[{"text":"caf\u00e9"}]},"search":{"mode":"match"}},{"fullUrl":"http://example.org/fhir/Observation/o1","resource":{"resourceType":"Observation","id":"o1","contained":[{"resourceType":"Specimen","id":"sp","type":{"text":"blood"}}],"basedOn":[{"reference":"ServiceRequest/sr1"}],"status":"final","code":{"text":"glucose"},"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":6.30,"unit":"mmol/L"},"specimen":{"reference":"#sp"}}},{"fullUrl":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","resource":{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"}}},{"resource":{"meta":{"versionId":"2"},"resourceType":"Practitioner","id":"dr"}}]}"##;

fn resources(bundle: &Bundle) -> Vec<&Resource> {
    bundle.entry.iter().filter_map(|e| e.resource.as_ref()).collect()
}

fn other(resource: &Resource) -> &RawResource {
    match resource {
        Resource::Other(raw) => raw,
        typed => panic!("{} should not be compiled in with only r4-patient and r4-observation", typed.resource_type()),
    }
}

fn check(bundle: &Bundle) {
    let rs = resources(bundle);
    assert_eq!(rs.len(), 5);
    assert!(matches!(rs[0], Resource::Patient(p) if p.id.as_deref() == Some("p1")));
    let sr = other(rs[1]);
    assert_eq!((sr.resource_type(), sr.id(), sr.is_known()), ("ServiceRequest", Some("sr1"), true));
    let Resource::Observation(o) = rs[2] else { panic!("Observation is compiled in") };
    let specimen = other(&o.contained[0]);
    assert_eq!((specimen.resource_type(), specimen.id()), ("Specimen", Some("sp")));
    assert_eq!(other(rs[3]).resource_type(), "Encounter");
    assert_eq!(other(rs[3]).id(), None);
    // `resourceType` need not come first.
    assert_eq!((rs[4].resource_type(), rs[4].id()), ("Practitioner", Some("dr")));
}

#[test]
fn only_two_resource_features_are_compiled_in() {
    // If cargo unified features with a crate that enables more, this test would not test anything.
    assert!(RESOURCE_TYPES.contains(&"ServiceRequest"));
    let sr = Resource::from_json(r#"{"resourceType":"ServiceRequest","status":"active","intent":"order"}"#).unwrap();
    assert!(matches!(sr, Resource::Other(_)), "ServiceRequest is compiled in: the features were unified");
}

#[test]
fn strict_read_keeps_every_entry_and_writes_the_input_back() {
    let bundle = Bundle::from_json(MIXED).unwrap();
    check(&bundle);
    assert_eq!(bundle.to_json(), MIXED);
}

#[test]
fn lenient_read_keeps_every_entry_and_writes_the_input_back() {
    let l = Bundle::from_json_lenient(MIXED).unwrap();
    assert!(l.is_clean(), "{:?}", l.issues);
    check(&l.value);
    assert_eq!(l.value.to_json(), MIXED);
}

#[test]
fn pretty_output_reads_back_to_the_same_bundle() {
    let bundle = Bundle::from_json(MIXED).unwrap();
    let pretty = bundle.to_json_pretty();
    assert!(pretty.contains("\n      \"resource\": {\n        \"resourceType\": \"ServiceRequest\",\n"), "{pretty}");
    let again = Bundle::from_json(&pretty).unwrap();
    assert_eq!(again, bundle);
    assert_eq!(again.to_json(), MIXED);
}

#[test]
fn white_space_inside_a_kept_resource_is_normalised_not_lost() {
    let spaced = "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[{\"resource\": {\n  \"resourceType\" : \"Device\",\n  \"id\": \"d 1\" }}]}";
    let bundle = Bundle::from_json(spaced).unwrap();
    let raw = other(resources(&bundle)[0]);
    assert_eq!(raw.json(), r#"{"resourceType":"Device","id":"d 1"}"#);
    assert_eq!(bundle.to_json(), r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Device","id":"d 1"}}]}"#);
}

#[test]
fn a_kept_resource_can_be_parsed_later() {
    let bundle = Bundle::from_json(MIXED).unwrap();
    let rs = resources(&bundle);
    // As a type that is compiled in it is refused with the reason (it is not an Observation)...
    let e = other(rs[1]).parse::<Observation>().unwrap_err();
    assert_eq!(e.kind(), IssueKind::UnknownResourceType);
    // ... and the text goes to whichever crate has the feature (here: read again as a `Resource`).
    let again = other(rs[1]).parse::<Resource>().unwrap();
    assert_eq!(other(&again), other(rs[1]));
}

#[test]
fn a_resource_type_fhir_does_not_define_is_an_error_when_strict_and_kept_when_lenient() {
    let json = r#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Spaceship","id":"x","warp":9.50}},{"resource":{"resourceType":"Patient","id":"p"}}]}"#;
    let e = Bundle::from_json(json).unwrap_err();
    assert_eq!(e.kind(), IssueKind::UnknownResourceType);
    assert_eq!(e.path(), "Bundle.entry[0].resource");
    assert!(e.to_string().contains("`Spaceship`"), "{e}");
    let l = Bundle::from_json_lenient(json).unwrap();
    assert_eq!(l.issues.len(), 1);
    assert_eq!(l.issues[0].kind, IssueKind::UnknownResourceType);
    assert_eq!(l.issues[0].path, "Bundle.entry[0].resource");
    let raw = other(resources(&l.value)[0]);
    assert_eq!((raw.resource_type(), raw.is_known()), ("Spaceship", false));
    assert_eq!(l.value.to_json(), json);
}
