// `:contains` is a modifier of string parameters; `birthdate` is a date, `code` a token.
use fhir_models::r4::{ObservationSearch, PatientSearch};

fn main() {
    let _ = PatientSearch::new().birthdate().contains("1974");
    let _ = ObservationSearch::new().code().exact("29308-4");
}
