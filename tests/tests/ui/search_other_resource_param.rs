// `code` is a parameter of Observation, not of Patient.
use fhir_models::r4::PatientSearch;
use fhir_models::search::Token;

fn main() {
    let _ = PatientSearch::new().code().is(Token::new("http://loinc.org", "29308-4"));
}
