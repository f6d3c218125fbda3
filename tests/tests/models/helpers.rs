//! Issue 10's helpers on the generated R4 models: conversions, code display, reading helpers, references in
//! Bundles and `contained`, dates ordered by instant, and `Fhir<T>` wherever serde puts it.

use fhir_models::prelude::*;
use fhir_models::r4::{
    AdministrativeGender, Bundle, CodeableConcept, Coding, Observation, ObservationStatus, ObservationValue, Patient,
    Quantity, Reference, Resource,
};
use fhir_models::reference::resolve_contained;
use fhir_models::{DateTime, Decimal, Fhir, FhirLenient, Instant};

#[test]
fn from_and_into_for_primitives_choices_and_resources() {
    let mut o = Observation {
        status: Some(ObservationStatus::Final.into()),
        code: Some(Coding::new("http://loinc.org", "2345-7").into()),
        ..Default::default()
    };
    // Choice variants: the boxing is done by `From`.
    o.value = Some(Quantity { value: Some(Decimal::new("6.30").unwrap().into()), ..Default::default() }.into());
    assert!(matches!(&o.value, Some(ObservationValue::Quantity(q)) if q.value.value().map(Decimal::as_str) == Some("6.30")));
    o.value = Some(true.into());
    assert!(matches!(o.value, Some(ObservationValue::Boolean(_))));
    o.effective = Some(DateTime::new("2024-01-01T10:00:00Z").unwrap().into());
    let r: Resource = o.into();
    assert_eq!(
        r.to_json(),
        r#"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},"effectiveDateTime":"2024-01-01T10:00:00Z","valueBoolean":true}"#
    );
    let p: Resource = Patient::default().into();
    assert_eq!(p.resource_type(), "Patient");
}

#[test]
fn code_enums_display_their_wire_code_and_have_display_text() {
    assert_eq!(AdministrativeGender::Female.to_string(), "female");
    assert_eq!(format!("{}", ObservationStatus::EnteredInError), "entered-in-error");
    assert_eq!(ObservationStatus::EnteredInError.display(), Some("Entered in Error"));
    assert_eq!(AdministrativeGender::Unrecognized("x-other".into()).to_string(), "x-other");
    assert_eq!(AdministrativeGender::Unrecognized("x-other".into()).display(), None);
}

#[test]
fn optional_primitives_read_in_one_call() {
    let p = Patient::from_json(r#"{"resourceType":"Patient","active":true,"name":[{"family":"Chalmers"}],"_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}"#).unwrap();
    assert_eq!(p.active.value(), Some(&true));
    assert_eq!(p.name[0].family.as_str(), Some("Chalmers"));
    assert!(p.birth_date.is_some());
    assert_eq!(p.birth_date.value(), None); // only an extension
    assert_eq!(p.gender.value(), None);
}

#[test]
fn codeable_concept_lookups() {
    let o = Observation::from_json(r#"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://snomed.info/sct","code":"27113001","display":"Body weight"},{"system":"http://loinc.org","code":"29463-7"}]}}"#).unwrap();
    let code: &CodeableConcept = o.code.as_ref().unwrap();
    assert!(code.has_code("http://loinc.org", "29463-7"));
    assert!(!code.has_code("http://loinc.org", "27113001"));
    assert_eq!(code.code_in("http://snomed.info/sct"), Some("27113001"));
    assert_eq!(code.coding_in("http://loinc.org").and_then(Coding::display_str), None);
    assert_eq!(code.text_or_display(), Some("Body weight"));
}

const BUNDLE: &str = r##"{"resourceType":"Bundle","type":"transaction","entry":[
 {"fullUrl":"http://a.org/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1","meta":{"versionId":"7"}}},
 {"fullUrl":"http://b.org/fhir/Patient/1","resource":{"resourceType":"Patient","id":"1","gender":"male"}},
 {"fullUrl":"urn:uuid:9d4c3b7e-7a1f-4a55-9d2e-3f1a4c8e0b11","resource":{"resourceType":"Practitioner"}},
 {"fullUrl":"http://a.org/fhir/Observation/o","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},
   "subject":{"reference":"Patient/1"},"performer":[{"reference":"urn:uuid:9d4c3b7e-7a1f-4a55-9d2e-3f1a4c8e0b11"},{"reference":"http://b.org/fhir/Patient/1"}],
   "contained":[{"resourceType":"Patient","id":"c"}],"focus":[{"reference":"#c"}]}},
 {"resource":{"resourceType":"Patient","id":"2"}}]}"##;

#[test]
fn references_resolve_in_a_bundle_by_full_url() {
    let b = Bundle::from_json(BUNDLE).unwrap();
    let from = &b.entry[3];
    let Some(Resource::Observation(o)) = &from.resource else { panic!() };
    // Relative: against the base of the referencing entry's fullUrl (a.org, not b.org).
    let subject = b.resolve_reference(o.subject.as_ref().unwrap(), Some(from)).unwrap();
    assert!(matches!(subject, Resource::Patient(p) if p.gender.is_none()));
    // urn:uuid and absolute.
    assert_eq!(b.resolve_reference(&o.performer[0], Some(from)).unwrap().resource_type(), "Practitioner");
    assert!(matches!(b.resolve_reference(&o.performer[1], Some(from)).unwrap(), Resource::Patient(p) if p.gender.is_some()));
    // Versioned: meta.versionId must match.
    assert!(b.resolve("http://a.org/fhir/Patient/1/_history/7", None).is_some());
    assert!(b.resolve("http://a.org/fhir/Patient/1/_history/6", None).is_none());
    assert!(b.resolve("Patient/1/_history/7", Some("http://a.org/fhir/Observation/o")).is_some());
    // Without a RESTful fullUrl to take a base from: by type and id among entries without one.
    assert_eq!(b.resolve("Patient/2", None).and_then(Resource::id), Some("2"));
    assert!(b.resolve("Patient/1", None).is_none());
    assert!(b.resolve("Patient/3", Some("http://a.org/fhir/Observation/o")).is_none());
    // `#c` is not looked up in the Bundle but in the resource's contained list.
    assert!(b.resolve("#c", None).is_none());
    let focus: &Reference = &o.focus[0];
    let text = focus.reference.as_str().unwrap();
    assert_eq!(resolve_contained(&o.contained, text).and_then(Resource::id), Some("c"));
    assert!(resolve_contained(&o.contained, "#").is_none());
}

#[test]
fn dates_order_by_instant() {
    let a = DateTime::new("2024-01-01T10:00:00+05:00").unwrap();
    let b = DateTime::new("2024-01-01T06:00:00Z").unwrap();
    assert!(a < b, "05:00Z is before 06:00Z");
    assert_eq!(DateTime::new("2024").unwrap().partial_cmp(&DateTime::new("2024-06").unwrap()), None);
    let now = Instant::now();
    assert!(Instant::new("2020-01-01T00:00:00Z").unwrap() < now);
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    patient: Fhir<Patient>,
    #[serde(flatten)]
    extra: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind")]
enum Tagged {
    One { patient: Fhir<Patient> },
    Whole(Fhir<Observation>),
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Untagged {
    Number(u32),
    Patient(Fhir<Patient>),
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Flattened {
    id: String,
    #[serde(flatten)]
    resource: Fhir<Patient>,
}

#[test]
fn fhir_in_flatten_tagged_and_untagged_positions() {
    let json = r#"{"patient":{"resourceType":"Patient","id":"p","gender":"female"},"n":1,"source":"x"}"#;
    let e: Envelope = serde_json::from_str(json).unwrap();
    assert_eq!(e.patient.id.as_deref(), Some("p"));
    assert_eq!(e.extra.len(), 2);
    assert_eq!(serde_json::to_string(&e).unwrap(), json);

    let json = r#"{"kind":"One","patient":{"resourceType":"Patient","id":"p"}}"#;
    let t: Tagged = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_string(&t).unwrap(), json);
    let json = r#"{"kind":"Whole","resourceType":"Observation","status":"final","code":{"text":"w"},"valueQuantity":{"value":72}}"#;
    let t: Tagged = serde_json::from_str(json).unwrap();
    assert!(matches!(&t, Tagged::Whole(o) if o.value.is_some()));
    assert_eq!(serde_json::to_string(&t).unwrap(), json);

    let u: Untagged = serde_json::from_str(r#"{"resourceType":"Patient","id":"u"}"#).unwrap();
    assert!(matches!(&u, Untagged::Patient(p) if p.id.as_deref() == Some("u")));
    assert!(matches!(serde_json::from_str::<Untagged>("3").unwrap(), Untagged::Number(3)));

    // Flattening the resource itself: its members sit beside `id`... which a Patient has too, so use another key.
    let f: Flattened = serde_json::from_str(r#"{"id":"outer","resourceType":"Patient","active":true}"#).unwrap();
    assert_eq!(f.resource.active.value(), Some(&true));
    assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"id":"outer","resourceType":"Patient","active":true}"#);

    // A wrong FHIR value is a serde error naming the FHIR path.
    let err = serde_json::from_str::<Envelope>(r#"{"patient":{"resourceType":"Patient","gender":"f"}}"#).err().unwrap();
    assert!(err.to_string().contains("Patient.gender"), "{err}");
}

#[test]
fn decimals_stay_exact_where_serde_does_not_buffer() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Plain {
        obs: Fhir<Observation>,
    }
    let json = r#"{"obs":{"resourceType":"Observation","status":"final","code":{"text":"w"},"valueQuantity":{"value":72.50}}}"#;
    let p: Plain = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), json);
    let v = serde_json::to_value(&p).unwrap();
    assert!(v["obs"]["valueQuantity"]["value"].is_number());
}

#[test]
fn lenient_fhir_keeps_the_issues_and_profile_views_are_serde_values() {
    let l: FhirLenient<Patient> = serde_json::from_str(r#"{"resourceType":"Patient","id":"l","shoeSize":44}"#).unwrap();
    assert_eq!(l.issues.len(), 1);
    assert_eq!(l.issues[0].path, "Patient.shoeSize");
    assert_eq!(serde_json::to_string(&l).unwrap(), r#"{"resourceType":"Patient","id":"l"}"#);
    assert!(serde_json::from_str::<Fhir<Patient>>(r#"{"resourceType":"Patient","shoeSize":44}"#).is_err());

    use fhir_models::r4::us_core::UsCorePatient;
    let json = r#"{"resourceType":"Patient","identifier":[{"system":"http://h.org","value":"1"}],"name":[{"family":"Shaw"}],"gender":"female"}"#;
    let view: UsCorePatient = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_string(&view).unwrap(), json);
    let err = serde_json::from_str::<UsCorePatient>(r#"{"resourceType":"Patient"}"#).err().unwrap();
    assert!(err.to_string().contains("Patient.identifier"), "{err}");
}
