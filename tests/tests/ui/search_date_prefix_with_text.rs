// `date` is a date parameter: its prefixes take a `Date`, `DateTime` or `Instant`, not text (issue 10: the
// message must say so, not that a date parameter has no prefixes).
use fhir_models::r4::ObservationSearch;

fn main() {
    let _ = ObservationSearch::new().date().ge("2023-01-01");
}
