// `name` is a string parameter: it has no comparison prefixes.
use fhir_models::r4::PatientSearch;
use fhir_models::Date;

fn main() {
    let _ = PatientSearch::new().name().ge(Date::new("2020").unwrap());
}
