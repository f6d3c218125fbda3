// Coverage.beneficiary points at Patient only.
use fhir_models::r4::{CoverageSearch, Organization};
use fhir_models::search::Reference;

fn main() {
    let _ = CoverageSearch::new().beneficiary().is(Reference::to::<Organization>("o1"));
}
