// Inside a chain only filters make sense: `_count` and `_sort` belong to the search itself.
use fhir_models::r4::{ObservationSearch, Patient};

fn main() {
    let _ = ObservationSearch::new().subject().chain::<Patient>(|p| p.birthdate().sort_desc());
}
