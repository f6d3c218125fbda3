//! Typed searches against the real FHIR server of the client tests (SEKMET, FHIR R4, started on 127.0.0.1 by
//! `support::servers`; install it with `scripts/install-test-servers.sh`). A small data set goes in by
//! transaction; each typed search goes out through `oneup_client::Fhir::search` (which takes the builder's
//! pairs) and the matches are checked by id.

use crate::support::servers::{client_for, oauth2_server, sekmet};
use fhir_models::r4::{
    AdministrativeGender, Bundle, ConditionSearch, CoverageSearch, ExplanationOfBenefitSearch, Observation,
    ObservationSearch, ObservationStatus, Patient, PatientSearch, Resource, R4,
};
use fhir_models::search::{Reference, Search, Token};
use fhir_models::{DateTime, FhirJson, FhirResource, FhirVersion};
use oneup_client::{Fhir, Secret, Session};
use serde_json::{json, Value};

fn put(resource: Value) -> Value {
    let url = format!("{}/{}", resource["resourceType"].as_str().unwrap(), resource["id"].as_str().unwrap());
    json!({"fullUrl": url, "resource": resource, "request": {"method": "PUT", "url": url}})
}

fn observation(id: &str, patient: &str, loinc: &str, date: &str, status: &str) -> Value {
    put(json!({
        "resourceType": "Observation", "id": id, "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": date
    }))
}

fn data_set() -> Bundle {
    let entries = vec![
        put(json!({"resourceType": "Organization", "id": "payer", "name": "Acme Health Plan"})),
        put(json!({"resourceType": "Patient", "id": "pat-a", "gender": "female", "birthDate": "1974-12-25",
                   "name": [{"family": "O,Brien|Smith", "given": ["Ann"]}]})),
        put(json!({"resourceType": "Patient", "id": "pat-b", "gender": "male", "birthDate": "1980-02-01",
                   "name": [{"family": "Chalmers", "given": ["Peter"]}]})),
        put(json!({"resourceType": "Patient", "id": "pat-c", "gender": "female", "birthDate": "1990-07-14",
                   "name": [{"family": "Chalmers", "given": ["Jane"]}]})),
        observation("obs-1", "pat-a", "29308-4", "2020-03-01T10:00:00Z", "final"),
        observation("obs-2", "pat-a", "8480-6", "2021-05-01T10:00:00Z", "final"),
        observation("obs-3", "pat-b", "29308-4", "2021-06-01T10:00:00Z", "preliminary"),
        observation("obs-4", "pat-c", "29308-4", "2022-01-10T10:00:00Z", "final"),
        put(json!({"resourceType": "Condition", "id": "cond-1", "subject": {"reference": "Patient/pat-b"},
                   "code": {"coding": [{"system": "http://snomed.info/sct", "code": "3928002"}]}})),
        put(json!({"resourceType": "Condition", "id": "cond-2", "subject": {"reference": "Patient/pat-c"},
                   "code": {"coding": [{"system": "http://snomed.info/sct", "code": "195967001"}]}})),
        put(json!({"resourceType": "Coverage", "id": "cov-1", "status": "active",
                   "beneficiary": {"reference": "Patient/pat-a"}, "payor": [{"reference": "Organization/payer"}]})),
        put(json!({"resourceType": "Coverage", "id": "cov-2", "status": "active",
                   "beneficiary": {"reference": "Patient/pat-b"}, "payor": [{"reference": "Organization/payer"}]})),
        put(json!({"resourceType": "ExplanationOfBenefit", "id": "eob-1", "status": "active", "use": "claim",
                   "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
                   "patient": {"reference": "Patient/pat-a"}, "created": "2021-04-01",
                   "insurer": {"reference": "Organization/payer"}, "provider": {"reference": "Organization/payer"},
                   "outcome": "complete", "insurance": [{"focal": true, "coverage": {"reference": "Coverage/cov-1"}}]})),
    ];
    Bundle::from_json(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}).to_string()).unwrap()
}

/// Ids of the matches (search mode `match`, or no mode) and of the included resources, each sorted unless
/// `keep_order`.
async fn run<R: FhirResource<Version = R4>>(fhir: &Fhir<R4>, search: &Search<R>) -> (Vec<String>, Vec<String>) {
    let bundle = fhir.search::<R>(search.pairs()).await.unwrap_or_else(|e| panic!("{}: {e}", search.query_string()));
    let mut matches = Vec::new();
    let mut included = Vec::new();
    for e in &bundle.entry {
        let Some(resource) = &e.resource else { continue };
        let id = format!("{}/{}", resource.resource_type(), resource.id().unwrap_or_default());
        let mode = e.search.as_ref().and_then(|s| s.mode.as_ref()).and_then(|m| m.value.as_ref());
        match mode.map(fhir_models::CodeEnum::code) {
            Some("include") => included.push(id),
            _ => matches.push(id),
        }
    }
    included.sort();
    (matches, included)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_searches_find_what_they_say() {
    let auth = oauth2_server(3600);
    let server = sekmet(Some(&auth));
    let client = client_for(&server, &auth);
    let tokens = client.exchange_code(&Secret::new("any-code")).await.expect("code exchange");
    let fhir = Session::new(client, tokens).fhir::<R4>();
    let loaded = fhir.transaction(&data_set()).await.expect("transaction");
    assert_eq!(loaded.entry.len(), 13);

    // Observation by LOINC code, system and code.
    let q = ObservationSearch::new().code().is(Token::new("http://loinc.org", "29308-4"));
    let (m, _) = run(&fhir, &q).await;
    assert_eq!(sorted(m), ids(&["Observation/obs-1", "Observation/obs-3", "Observation/obs-4"]));

    // ...and with the bound status enum.
    let q = q.status().is(ObservationStatus::Final);
    assert_eq!(sorted(run(&fhir, &q).await.0), ids(&["Observation/obs-1", "Observation/obs-4"]));

    // Condition by SNOMED code.
    let q = ConditionSearch::new().code().is(Token::new("http://snomed.info/sct", "3928002"));
    assert_eq!(run(&fhir, &q).await.0, ids(&["Condition/cond-1"]));
    let q = ConditionSearch::new().subject().is(Reference::to::<Patient>("pat-c"));
    assert_eq!(run(&fhir, &q).await.0, ids(&["Condition/cond-2"]));

    // Patients: bound gender, exact family, OR of given names, birthdate prefix.
    let q = PatientSearch::new().gender().is(AdministrativeGender::Female).family().exact("Chalmers");
    assert_eq!(run(&fhir, &q).await.0, ids(&["Patient/pat-c"]));
    let q = PatientSearch::new().given().any_of(["Peter", "Jane"]);
    assert_eq!(sorted(run(&fhir, &q).await.0), ids(&["Patient/pat-b", "Patient/pat-c"]));
    let q = PatientSearch::new().birthdate().lt(fhir_models::Date::new("1985").unwrap());
    assert_eq!(sorted(run(&fhir, &q).await.0), ids(&["Patient/pat-a", "Patient/pat-b"]));

    // Escaping: a family name with `,` and `|` matches exactly, and is not split into alternatives.
    let q = PatientSearch::new().family().exact("O,Brien|Smith");
    assert_eq!(q.pairs()[0].1, r"O\,Brien\|Smith");
    assert_eq!(run(&fhir, &q).await.0, ids(&["Patient/pat-a"]));

    // Dates with prefixes (AND), newest first.
    let q = ObservationSearch::new()
        .date()
        .ge(DateTime::new("2021").unwrap())
        .date()
        .lt(DateTime::new("2022-12").unwrap())
        .date()
        .sort_desc();
    assert_eq!(run(&fhir, &q).await.0, ids(&["Observation/obs-4", "Observation/obs-3", "Observation/obs-2"]));

    // Chained along a declared target.
    let q = ObservationSearch::new().subject().chain::<Patient>(|p| p.family().is("Chalmers"));
    assert_eq!(sorted(run(&fhir, &q).await.0), ids(&["Observation/obs-3", "Observation/obs-4"]));

    // Coverage by beneficiary, with the payor included.
    let q = CoverageSearch::new().beneficiary().is(Reference::to::<Patient>("pat-a")).payor().include();
    let (m, inc) = run(&fhir, &q).await;
    assert_eq!(m, ids(&["Coverage/cov-1"]));
    assert_eq!(inc, ids(&["Organization/payer"]));

    // ExplanationOfBenefit by patient and date.
    let q = ExplanationOfBenefitSearch::new()
        .patient()
        .is(Reference::to::<Patient>("pat-a"))
        .created()
        .ge(DateTime::new("2021-01-01").unwrap());
    assert_eq!(run(&fhir, &q).await.0, ids(&["ExplanationOfBenefit/eob-1"]));
    let q = ExplanationOfBenefitSearch::new().patient().is(Reference::to::<Patient>("pat-b"));
    assert!(run(&fhir, &q).await.0.is_empty());

    // A patient with everything that points at it.
    let q = PatientSearch::new()
        ._id()
        .is("pat-a")
        ._revinclude(ObservationSearch::select().subject())
        ._revinclude(CoverageSearch::select().beneficiary());
    let (m, inc) = run(&fhir, &q).await;
    assert_eq!(m, ids(&["Patient/pat-a"]));
    assert_eq!(inc, ids(&["Coverage/cov-1", "Observation/obs-1", "Observation/obs-2"]));

    // `_count` pages, and the typed resources come back typed.
    let q = ObservationSearch::new()._count(2).unwrap();
    let first = fhir.search::<Observation>(q.pairs()).await.unwrap();
    assert_eq!(first.entry.len(), 2);
    assert_eq!(R4::total(&first), Some(4));
    let all: Vec<Resource> = R4::into_resources(first);
    assert!(all.iter().all(|r| matches!(r, Resource::Observation(_))));
}
