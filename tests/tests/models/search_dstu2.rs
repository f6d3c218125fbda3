//! Typed search builders of the DSTU2 models (`fhir_models::dstu2`): the same runtime as R4, with DSTU2's own
//! parameters (`MedicationOrder`, `datewritten`, DSTU2 code enums), rendered, parsed back and refused as for R4.

use fhir_models::dstu2::{
    AdministrativeGender, MedicationOrderSearch, MedicationOrderStatus, ObservationSearch, ObservationStatus, Patient,
    PatientSearch, Practitioner,
};
use fhir_models::search::{Reference, Search, SearchError, Searchable, Token};
use fhir_models::{Date, FhirResource};

fn pairs<R>(s: &Search<R>) -> Vec<(&str, &str)> {
    s.pairs().iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

fn round_trip<R: Searchable>(s: &Search<R>) {
    let query = s.query_string();
    let back = Search::<R>::from_query(&query).unwrap_or_else(|e| panic!("{query}: {e}"));
    assert_eq!(&back, s, "{query}");
}

#[test]
fn observations_of_a_patient_by_loinc_code_and_status() {
    let q = ObservationSearch::new()
        .patient()
        .is(Reference::to::<Patient>("12345"))
        .code()
        .is(Token::new("http://loinc.org", "29308-4"))
        .status()
        .is(ObservationStatus::Final);
    assert_eq!(pairs(&q), [("patient", "Patient/12345"), ("code", "http://loinc.org|29308-4"), ("status", "final")]);
    round_trip(&q);
}

#[test]
fn medication_orders_are_a_dstu2_resource_with_dstu2_parameters() {
    assert_eq!(<fhir_models::dstu2::MedicationOrder as FhirResource>::RESOURCE_TYPE, "MedicationOrder");
    let q = MedicationOrderSearch::new()
        .patient()
        .is(Reference::to::<Patient>("p1"))
        .status()
        .is(MedicationOrderStatus::Active)
        .datewritten()
        .ge(Date::new("2015-06").unwrap())
        .prescriber()
        .include_only::<Practitioner>()
        .datewritten()
        .sort_desc();
    assert_eq!(
        pairs(&q),
        [
            ("patient", "Patient/p1"),
            ("status", "active"),
            ("datewritten", "ge2015-06"),
            ("_include", "MedicationOrder:prescriber:Practitioner"),
            ("_sort", "-datewritten"),
        ]
    );
    round_trip(&q);
}

#[test]
fn patient_by_dstu2_gender_enum_and_unknown_parameters_refused() {
    let q = PatientSearch::new().gender().is(AdministrativeGender::Female).family().exact("Chalmers");
    assert_eq!(pairs(&q), [("gender", "female"), ("family:exact", "Chalmers")]);
    round_trip(&q);
    // R4-only parameters of Patient do not exist in DSTU2, and the parser says which one it did not know.
    let err = PatientSearch::from_query("general-practitioner=Practitioner/1").unwrap_err();
    assert!(matches!(err, SearchError::UnknownParameter { .. }), "{err:?}");
    assert!(err.to_string().contains("general-practitioner"), "{err}");
}

#[test]
fn dstu2_search_syntax_recurse_and_no_r4_result_parameters() {
    // DSTU2 follows includes through the results with `:recurse`; R4 renamed it `:iterate`.
    let q = ObservationSearch::new()
        .patient()
        .include()
        ._include_iterate(PatientSearch::select().careprovider());
    assert_eq!(pairs(&q), [("_include", "Observation:patient"), ("_include:recurse", "Patient:careprovider")]);
    round_trip(&q);
    let err = ObservationSearch::from_query("_include:iterate=Patient:careprovider").unwrap_err();
    assert!(matches!(err, SearchError::UnknownParameter { .. }), "{err:?}");
    // `_source` and `_total` came with R4: the DSTU2 builders have no such methods, and the parser refuses them.
    for query in ["_total=accurate", "_source=http://example.org"] {
        let err = PatientSearch::from_query(query).unwrap_err();
        assert!(matches!(err, SearchError::UnknownParameter { .. }), "{query}: {err:?}");
    }
    assert!(fhir_models::r4::PatientSearch::from_query("_total=accurate&_source=http://example.org").is_ok());
}
