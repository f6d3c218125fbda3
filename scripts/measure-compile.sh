#!/usr/bin/env bash
# Clean release build of a tiny binary that reads a `Resource`, with chosen model features: wall time and peak
# memory (GNU time). Usage: scripts/measure-compile.sh "r4" | "r4-patient,r4-observation" | "dstu2" | "r4,dstu2"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
features="${1:?features, e.g. r4 or r4-patient,r4-observation}"
module="${features%%-*}"; module="${module%%,*}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "tiny"
version = "0.1.0"
edition = "2021"
[dependencies]
fhir-models = { path = "$root/fhir-models", features = [$(echo "$features" | sed 's/[^,][^,]*/"&"/g')] }
[profile.release]
codegen-units = 16
[workspace]
TOML
cat > "$work/src/main.rs" <<RS
use fhir_models::FhirJson;
fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).expect("file")).expect("read");
    match fhir_models::${module}::Resource::from_json(&text) {
        Ok(r) => println!("{} {}", r.resource_type(), r.id().unwrap_or("")),
        Err(e) => eprintln!("{e}"),
    }
}
RS
cd "$work"
cargo fetch -q
/usr/bin/time -v cargo build --release -q 2> "$work/time.txt" || { cat "$work/time.txt"; exit 1; }
wall=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}')
rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
echo "features=$features wall=$wall peak_rss=$((rss / 1024)) MiB"
