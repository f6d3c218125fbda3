//! The tricky cases of FHIR JSON, one test each, on the generated R4 models.

use fhir_models::r4::{
    AdministrativeGender, Bundle, Observation, ObservationValue, Patient, Primitive, Resource,
};
use fhir_models::{CodeEnum, Decimal, FhirJson, IssueKind, PrimitiveStrExt};

fn round_trip<T: FhirJson>(json: &str) -> T {
    let v = T::from_json(json).unwrap_or_else(|e| panic!("strict read failed: {e}"));
    assert_eq!(v.to_json(), json, "written JSON differs");
    v
}

#[test]
fn primitive_with_only_an_extension() {
    let json = r#"{"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}"#;
    let p: Patient = round_trip(json);
    let birth = p.birth_date.as_ref().unwrap();
    assert!(birth.value.is_none());
    assert_eq!(birth.extension()[0].url.as_deref(), Some("http://hl7.org/fhir/StructureDefinition/data-absent-reason"));
}

#[test]
fn primitive_with_value_id_and_extension() {
    let json = r#"{"resourceType":"Patient","active":true,"_active":{"id":"a1","extension":[{"url":"http://example.org/x","valueString":"y"}]}}"#;
    let p: Patient = round_trip(json);
    let active = p.active.as_ref().unwrap();
    assert_eq!(active.value, Some(true));
    assert_eq!(active.id(), Some("a1"));
}

#[test]
fn extension_part_before_the_value() {
    let json = r#"{"resourceType":"Patient","_gender":{"id":"g"},"gender":"female"}"#;
    let p = Patient::from_json(json).unwrap();
    let g = p.gender.as_ref().unwrap();
    assert_eq!(g.value, Some(AdministrativeGender::Female));
    assert_eq!(g.id(), Some("g"));
    // Written in canonical order: value first.
    assert_eq!(p.to_json(), r#"{"resourceType":"Patient","gender":"female","_gender":{"id":"g"}}"#);
}

#[test]
fn null_padded_primitive_arrays() {
    let json = r#"{"resourceType":"Patient","name":[{"given":["A",null,"C"],"_given":[null,{"extension":[{"url":"http://example.org/n","valueString":"B"}]},null]}]}"#;
    let p: Patient = round_trip(json);
    let given = &p.name[0].given;
    assert_eq!(given.len(), 3);
    assert_eq!(given[0].as_str(), Some("A"));
    assert!(given[1].value.is_none());
    assert_eq!(given[1].extension().len(), 1);
    assert!(given[0].element.is_none(), "no `_given` part for the first name");
    assert_eq!(given[2].as_str(), Some("C"));
}

#[test]
fn extension_array_longer_than_values() {
    // `_given` may carry entries past the end of `given`: they become extension-only items.
    let json = r#"{"resourceType":"Patient","name":[{"given":["A"],"_given":[null,{"id":"x"}]}]}"#;
    let p = Patient::from_json(json).unwrap();
    assert_eq!(p.name[0].given.len(), 2);
    assert_eq!(p.to_json(), r#"{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"id":"x"}]}]}"#);
}

#[test]
fn decimals_keep_their_text() {
    for text in ["1.50", "1e2", "-0.000", "100", "3.14159265358979323846264338327950288", "1E-7"] {
        let json = format!(r#"{{"resourceType":"Observation","status":"final","code":{{"text":"x"}},"valueQuantity":{{"value":{text},"unit":"mg"}}}}"#);
        let o: Observation = round_trip(&json);
        let Some(ObservationValue::Quantity(q)) = &o.value else { panic!("not a quantity") };
        assert_eq!(q.value.as_ref().unwrap().value.as_ref().unwrap().as_str(), text);
    }
    assert_ne!(Decimal::new("1.50").unwrap(), Decimal::new("1.5").unwrap());
    assert_eq!(Decimal::new("1.50").unwrap().to_f64(), 1.5);
    assert!(Decimal::new("1.").is_err());
}

#[test]
fn choice_types_read_and_write_by_type() {
    let o: Observation = round_trip(r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"positive"}"#);
    assert!(matches!(&o.value, Some(ObservationValue::String(s)) if s.as_str() == Some("positive")));
    let o: Observation = round_trip(r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueBoolean":false,"_valueBoolean":{"id":"b"}}"#);
    assert!(matches!(&o.value, Some(ObservationValue::Boolean(b)) if b.value == Some(false)));
    let o: Observation = round_trip(r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectivePeriod":{"start":"2020-01-01"}}"#);
    assert!(o.effective.is_some());
}

#[test]
fn two_types_for_one_choice_element() {
    let json = r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","valueBoolean":true}"#;
    let e = Observation::from_json(json).unwrap_err();
    assert_eq!(e.kind(), IssueKind::Duplicate);
    assert_eq!(e.path(), "Observation.value[x]");
    let l = Observation::from_json_lenient(json).unwrap();
    assert!(matches!(&l.value.value, Some(ObservationValue::String(_))));
    assert_eq!(l.issues[0].dropped.as_deref(), Some("true"));
}

#[test]
fn contained_resources() {
    let json = r##"{"resourceType":"Observation","contained":[{"resourceType":"Patient","id":"p","gender":"male"},{"id":"o2","resourceType":"Observation","status":"final","code":{"text":"y"}}],"status":"final","code":{"text":"x"},"subject":{"reference":"#p"}}"##;
    let o = Observation::from_json(json).unwrap();
    assert_eq!(o.contained.len(), 2);
    let Resource::Patient(p) = &o.contained[0] else { panic!("not a patient") };
    assert_eq!(p.id.as_deref(), Some("p"));
    // `resourceType` after `id`: still read, and written first.
    assert_eq!(o.contained[1].resource_type(), "Observation");
    assert!(o.to_json().contains(r#"{"resourceType":"Observation","id":"o2","#));
}

#[test]
fn resource_type_not_first_at_top_level() {
    let json = r#"{"id":"x","gender":"other","resourceType":"Patient"}"#;
    let r = Resource::from_json(json).unwrap();
    assert_eq!(r.resource_type(), "Patient");
    assert_eq!(r.id(), Some("x"));
}

#[test]
fn unknown_codes_are_kept() {
    let json = r#"{"resourceType":"Patient","gender":"robot"}"#;
    let e = Patient::from_json(json).unwrap_err();
    assert_eq!(e.kind(), IssueKind::UnknownCode);
    assert_eq!(e.path(), "Patient.gender");
    let l = Patient::from_json_lenient(json).unwrap();
    let g = l.value.gender.as_ref().unwrap().value.as_ref().unwrap();
    assert_eq!(g, &AdministrativeGender::Unrecognized("robot".into()));
    assert_eq!(g.code(), "robot");
    assert_eq!(l.value.to_json(), json);
}

#[test]
fn unknown_elements_strict_and_lenient() {
    let json = r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"component":[{"code":{"text":"a"}},{"code":{"text":"b"}},{"code":{"text":"c"},"flavour":{"sweet":[1,2]}}]}"#;
    let e = Observation::from_json(json).unwrap_err();
    assert_eq!(e.kind(), IssueKind::UnknownElement);
    assert_eq!(e.path(), "Observation.component[2].flavour");
    // Line and column point at the dropped value.
    assert_eq!((e.issue.line, e.issue.column), (1, json.find(r#"{"sweet""#).unwrap() + 1));
    let l = Observation::from_json_lenient(json).unwrap();
    assert_eq!(l.value.component.len(), 3);
    assert_eq!(l.issues.len(), 1);
    assert_eq!(l.issues[0].dropped.as_deref(), Some(r#"{"sweet":[1,2]}"#));
}

#[test]
fn invalid_dates() {
    for bad in ["2020-13-01", "2020-02-30", "20200101", "2020-01-01T10:00:00", "2020-01-01T25:00:00Z", "yesterday"] {
        let json = format!(r#"{{"resourceType":"Patient","birthDate":"{bad}"}}"#);
        let e = Patient::from_json(&json).unwrap_err();
        assert_eq!(e.kind(), IssueKind::InvalidValue, "{bad}");
        assert_eq!(e.path(), "Patient.birthDate");
        // Lenient keeps the text, so nothing is lost.
        let l = Patient::from_json_lenient(&json).unwrap();
        assert_eq!(l.value.birth_date.as_ref().unwrap().value.as_ref().unwrap().as_str(), bad);
        assert_eq!(l.value.to_json(), json);
    }
    let p = Patient::from_json(r#"{"resourceType":"Patient","birthDate":"1974-12"}"#).unwrap();
    let d = p.birth_date.unwrap().value.unwrap();
    assert_eq!((d.year(), d.month(), d.day()), (Some(1974), Some(12), None));
    assert_eq!(d.precision(), Some(fhir_models::Precision::Month));
    let o: Observation = round_trip(r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2015-02-07T13:28:17.239+02:00"}"#);
    assert!(o.effective.is_some());
}

#[test]
fn byte_order_mark_is_accepted() {
    let p = Patient::from_json("\u{feff}{\"resourceType\":\"Patient\",\"id\":\"b\"}").unwrap();
    assert_eq!(p.id.as_deref(), Some("b"));
}

#[test]
fn wrong_json_types() {
    let cases = [
        (r#"{"resourceType":"Patient","active":"yes"}"#, "Patient.active", "expected a boolean, found a string"),
        (r#"{"resourceType":"Patient","name":{"family":"X"}}"#, "Patient.name", "expected an array, found an object"),
        (r#"{"resourceType":"Patient","name":[{"family":1}]}"#, "Patient.name[0].family", "expected a string, found a number"),
        (r#"{"resourceType":"Patient","multipleBirthInteger":1.5}"#, "Patient.multipleBirth[x]", "not a 32-bit integer"),
        (r#"{"resourceType":"Patient","maritalStatus":"M"}"#, "Patient.maritalStatus", "expected an object, found a string"),
    ];
    for (json, path, message) in cases {
        let e = Patient::from_json(json).unwrap_err();
        assert_eq!(e.path(), path, "{json}");
        assert!(e.to_string().contains(message), "{e}");
        let l = Patient::from_json_lenient(json).unwrap();
        assert_eq!(l.issues.len(), 1, "{json}");
    }
}

#[test]
fn null_items_of_object_lists_are_reported_and_skipped() {
    let json = r#"{"resourceType":"Patient","name":[null,{"family":"X"}],"identifier":[null],"contained":[null]}"#;
    let e = Patient::from_json(json).unwrap_err();
    assert_eq!((e.kind(), e.path()), (IssueKind::WrongType, "Patient.name[0]"), "{e}");
    assert!(e.to_string().contains("expected an object, found null"), "{e}");
    let l = Patient::from_json_lenient(json).unwrap();
    let paths: Vec<&str> = l.issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["Patient.name[0]", "Patient.identifier[0]", "Patient.contained[0]"]);
    assert!(l.issues.iter().all(|i| i.kind == IssueKind::WrongType));
    assert_eq!(l.value.name.len(), 1);
    assert_eq!(l.value.name[0].family.as_str(), Some("X"));
    assert!(l.value.identifier.is_empty() && l.value.contained.is_empty());
}

#[test]
fn wrong_resource_type() {
    let e = Patient::from_json(r#"{"resourceType":"Observation"}"#).unwrap_err();
    assert_eq!(e.kind(), IssueKind::UnknownResourceType);
    let e = Resource::from_json(r#"{"resourceType":"Spaceship"}"#).unwrap_err();
    assert!(e.to_string().contains("Spaceship"), "{e}");
    let e = Resource::from_json(r#"{"id":"1"}"#).unwrap_err();
    assert!(e.to_string().contains("no `resourceType`"), "{e}");
}

#[test]
fn malformed_json_never_panics() {
    let text = std::fs::read_to_string(
        fhir_toolkit_tests::packages_dir().join("hl7.fhir.r4.examples#4.0.1/package/Bundle-bundle-transaction.json"),
    )
    .unwrap();
    // Every prefix of a real document, and every single-byte corruption at a sample of positions.
    for end in (0..text.len()).step_by(7) {
        if text.is_char_boundary(end) {
            assert!(Resource::from_json(&text[..end]).is_err());
            let _ = Resource::from_json_lenient(&text[..end]);
        }
    }
    for (i, junk) in (0..text.len()).step_by(13).zip([b'{', b']', b'"', b'\\', b',', b'x', b'0'].iter().cycle()) {
        let mut bytes = text.clone().into_bytes();
        bytes[i] = *junk;
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Resource::from_json(s);
            let _ = Resource::from_json_lenient(s);
        }
    }
    let deep = "[".repeat(100_000);
    let e = Resource::from_json(&format!(r#"{{"resourceType":"Patient","x":{deep}}}"#)).unwrap_err();
    assert_eq!(e.kind(), IssueKind::UnknownElement);
    let e = Resource::from_json_lenient(&format!(r#"{{"resourceType":"Patient","x":{deep}}}"#)).unwrap_err();
    assert_eq!(e.kind(), IssueKind::Syntax);
    for bad in ["", "{", r#"{"resourceType":"Patient""#, r#"{"resourceType":"Patient",}"#, "nul", r#""\ud800""#, "{} x"] {
        assert!(Patient::from_json(bad).is_err(), "{bad}");
    }
}

#[test]
fn typed_fields_of_official_examples() {
    let dir = fhir_toolkit_tests::packages_dir().join("hl7.fhir.r4.examples#4.0.1/package");
    let text = std::fs::read_to_string(dir.join("Patient-example.json")).unwrap();
    let p = Patient::from_json(&text).unwrap();
    assert_eq!(p.id.as_deref(), Some("example"));
    assert_eq!(p.name[0].family.as_ref().unwrap().as_str(), Some("Chalmers"));
    assert_eq!(p.gender.as_ref().unwrap().value, Some(AdministrativeGender::Male));
    assert_eq!(p.birth_date.as_ref().unwrap().value.as_ref().unwrap().as_str(), "1974-12-25");
    assert_eq!(p.birth_date.as_ref().unwrap().extension()[0].url.as_deref(), Some("http://hl7.org/fhir/StructureDefinition/patient-birthTime"));

    let text = std::fs::read_to_string(dir.join("Observation-example.json")).unwrap();
    let o = Observation::from_json(&text).unwrap();
    assert_eq!(o.code.as_ref().unwrap().coding[0].code.as_ref().unwrap().as_str(), Some("29463-7"));
    let Some(ObservationValue::Quantity(q)) = &o.value else { panic!("valueQuantity expected") };
    assert_eq!(q.value.as_ref().unwrap().value.as_ref().unwrap().as_str(), "185");
    assert_eq!(q.unit.as_ref().unwrap().as_str(), Some("lbs"));

    let text = std::fs::read_to_string(dir.join("Bundle-bundle-example.json")).unwrap();
    let b = Bundle::from_json(&text).unwrap();
    assert!(b.entry.iter().any(|e| matches!(e.resource, Some(Resource::MedicationRequest(_)))));
    assert_eq!(b.total.as_ref().and_then(|t| t.value), Some(3));
}

#[test]
fn building_values_in_code() {
    let p = Patient {
        id: Some("new".into()),
        active: Some(Primitive::new(true)),
        gender: Some(AdministrativeGender::Female.into()),
        ..Patient::default()
    };
    assert_eq!(p.to_json(), r#"{"resourceType":"Patient","id":"new","active":true,"gender":"female"}"#);
    assert_eq!(Patient::from_json(&p.to_json_pretty()).unwrap(), p);
}

#[test]
fn strings_are_escaped_and_unescaped() {
    let json = r#"{"resourceType":"Patient","id":"e","name":[{"text":"q\"b\\s\n\r\t\u0001 é 😀 \/ \ud83d\ude00"}]}"#;
    let p = Patient::from_json(json).unwrap();
    let text = p.name[0].text.as_ref().unwrap().as_str().unwrap();
    assert_eq!(text, "q\"b\\s\n\r\t\u{1} é 😀 / 😀");
    assert_eq!(p.to_json(), r#"{"resourceType":"Patient","id":"e","name":[{"text":"q\"b\\s\n\r\t\u0001 é 😀 / 😀"}]}"#);
    assert_eq!(Patient::from_json(&p.to_json()).unwrap(), p);
}

/// Found by fuzzing (`fuzz/`): a primitive whose only part is dropped in lenient mode is no element at all, so
/// the lenient value writes and reads back to itself.
#[test]
fn lenient_reading_leaves_no_empty_primitives() {
    for json in [
        r#"{"resourceType":"Patient","_birthDate":[{"id":"x"}]}"#,
        r#"{"resourceType":"Patient","birthDate":{"a":1}}"#,
        r#"{"resourceType":"Observation","_valueString":true}"#,
        r#"{"resourceType":"Observation","valueString":7}"#,
    ] {
        let read = Resource::from_json_lenient(json).unwrap();
        assert_eq!(read.issues.len(), 1, "{json}: {:?}", read.issues);
        let written = read.value.to_json();
        assert_eq!(Resource::from_json_lenient(&written).unwrap().value, read.value, "{json} → {written}");
        match &read.value {
            Resource::Patient(p) => assert!(p.birth_date.is_none(), "{json}"),
            Resource::Observation(o) => assert!(o.value.is_none(), "{json}"),
            other => panic!("{other:?}"),
        }
    }
}

/// Choice keys go to the choice enum by their type suffix: a type the element does not allow is an unknown element
/// at `value[x]` (its JSON kept in lenient mode), and exact field names that start like a choice element are still
/// their own fields (`Questionnaire.item.answerValueSet` next to `enableWhen.answer[x]`).
#[test]
fn choice_keys_by_type_suffix() {
    let json = r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueSpaceship":{"a":1}}"#;
    let e = Observation::from_json(json).unwrap_err();
    assert_eq!(e.kind(), IssueKind::UnknownElement);
    assert_eq!(e.path(), "Observation.value[x]");
    let l = Observation::from_json_lenient(json).unwrap();
    assert!(l.value.value.is_none());
    assert_eq!(l.issues[0].dropped.as_deref(), Some(r#"{"a":1}"#));
    let q = r#"{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"choice","enableWhen":[{"question":"0","operator":"exists","answerBoolean":true}],"answerValueSet":"http://x.org/vs"}]}"#;
    let r = round_trip::<fhir_models::r4::Questionnaire>(q);
    assert_eq!(r.item[0].answer_value_set.as_ref().and_then(|p| p.value.as_deref()), Some("http://x.org/vs"));
}

#[test]
fn empty_arrays_are_an_error_or_a_reported_issue() {
    // A list of complex elements, a list of primitives and the `_x` extension list of primitives.
    let cases = [
        (r#"{"resourceType":"Patient","id":"e","name":[]}"#, "Patient.name"),
        (r#"{"resourceType":"Patient","id":"e","name":[{"given":[]}]}"#, "Patient.name[0].given"),
        (r#"{"resourceType":"Patient","id":"e","name":[{"given":["A"],"_given":[]}]}"#, "Patient.name[0]._given"),
    ];
    for (json, path) in cases {
        let e = Patient::from_json(json).unwrap_err();
        assert_eq!(e.kind(), IssueKind::EmptyArray, "{json}");
        assert_eq!(e.path(), path.replace("._given", ".given"), "{json}");
        assert_eq!(e.issue.column, json.find("[]").unwrap() + 1);
        let l = Patient::from_json_lenient(json).unwrap();
        assert_eq!(l.issues.len(), 1, "{json}");
        assert_eq!(l.issues[0].kind, IssueKind::EmptyArray);
        assert_eq!(l.issues[0].dropped.as_deref(), Some("[]"));
        assert_eq!(l.value.id.as_deref(), Some("e"));
    }
}
