// Patient.gender is bound to AdministrativeGender: a code of another value set does not fit.
use fhir_models::r4::{ObservationStatus, PatientSearch};

fn main() {
    let _ = PatientSearch::new().gender().is(ObservationStatus::Final);
}
