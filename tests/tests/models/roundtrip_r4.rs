//! Every official R4 example and every resource of the R4 core package: parse into the typed `Resource`, write
//! back, compare with the original as JSON (numbers by their text).

use fhir_models::r4::Resource;
use fhir_toolkit_tests::round_trip_package;

/// Files of the official packages that are not valid FHIR R4, with the reason strict reading gives. They are
/// still read leniently, and still round-trip wherever nothing had to be dropped.
const INVALID: &[(&str, &str)] = &[];

#[test]
fn r4_examples_round_trip() {
    round_trip_package::<Resource>(INVALID, "hl7.fhir.r4.examples#4.0.1");
}

#[test]
fn r4_core_package_round_trip() {
    round_trip_package::<Resource>(INVALID, "hl7.fhir.r4.core#4.0.1");
}
