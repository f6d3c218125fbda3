// A profile view derefs to its core type read-only: changing it goes through `modify` (which checks again) or
// `into_inner`, so a checked view cannot silently stop conforming.
use fhir_models::r4::us_core::UsCorePatient;

fn change(patient: &mut UsCorePatient) {
    patient.identifier.clear();
}

fn main() {}
