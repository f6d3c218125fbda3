//! Every official DSTU2 example and every resource of the DSTU2 core package: parse into the typed `Resource`,
//! write back, compare with the original as JSON (numbers by their text).

use fhir_models::dstu2::Resource;
use fhir_toolkit_tests::round_trip_package;

/// Files of the official packages that are not valid FHIR DSTU2, with the reason strict reading gives. They are
/// still read leniently, and still round-trip wherever nothing had to be dropped.
const INVALID: &[(&str, &str)] = &[];

#[test]
fn dstu2_examples_round_trip() {
    round_trip_package::<Resource>(INVALID, "hl7.fhir.r2.examples#1.0.2");
}

#[test]
fn dstu2_core_package_round_trip() {
    round_trip_package::<Resource>(INVALID, "hl7.fhir.r2.core#1.0.2");
}
