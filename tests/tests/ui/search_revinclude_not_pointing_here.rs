// Coverage.payor points at Organization, Patient or RelatedPerson, never at a Practitioner.
use fhir_models::r4::{CoverageSearch, PractitionerSearch};

fn main() {
    let _ = PractitionerSearch::new()._revinclude(CoverageSearch::select().payor());
}
