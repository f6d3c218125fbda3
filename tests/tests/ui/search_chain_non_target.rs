// Observation.subject points at Patient, Group, Device or Location: not at Practitioner.
use fhir_models::r4::{ObservationSearch, Practitioner};

fn main() {
    let _ = ObservationSearch::new().subject().chain::<Practitioner>(|p| p.name().is("Smith"));
}
