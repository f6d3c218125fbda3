#!/usr/bin/env bash
# Runs every test of the workspace: installs the real test servers (SEKMET, oauth2-mock-server) first, then
# `cargo test` over all crates (unit, integration, round-trips of the official examples, compile-fail, doc tests).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ -z "${FHIR_PACKAGES:-}" ] && [ -d "$root/../shared/fhir-packages" ]; then
  export FHIR_PACKAGES="$root/../shared/fhir-packages"
fi
bash scripts/install-test-servers.sh
# One build from scratch: incremental caches would only add gigabytes of disk (the models are large).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
status=0
cargo test --workspace --no-fail-fast || status=$?
# fhir-models with only `r4-patient,r4-observation` (its own workspace, so that features are not unified).
CARGO_TARGET_DIR="$root/target/features-two" cargo test --manifest-path tests/features-two/Cargo.toml || status=$?
# fhir-models with `validate` and the six profile modules: the views give the validator's answer.
CARGO_TARGET_DIR="$root/target/validate-feature" cargo test --manifest-path tests/validate-feature/Cargo.toml || status=$?
exit "$status"
