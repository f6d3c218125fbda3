#!/usr/bin/env bash
# The main job: regenerate the models from the FHIR packages, then read an official example Bundle with them.
# Packages: $FHIR_PACKAGES, else ../shared/fhir-packages beside this checkout, else ~/.fhir/packages.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ -z "${FHIR_PACKAGES:-}" ] && [ -d "$root/../shared/fhir-packages" ]; then
  export FHIR_PACKAGES="$root/../shared/fhir-packages"
fi
cargo run -p fhir-codegen --release
pkg="${FHIR_PACKAGES:-$HOME/.fhir/packages}"
cargo run -p fhir-models --features r4 --release --example inspect -- \
  "$pkg/hl7.fhir.r4.examples#4.0.1/package/Bundle-bundle-transaction.json" \
  "$pkg/hl7.fhir.r4.examples#4.0.1/package/Patient-example.json"
