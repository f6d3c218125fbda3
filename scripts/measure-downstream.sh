#!/usr/bin/env bash
# What `fhir-models` costs the crate that uses it: a small app (reads a Bundle from a file, prints its entries,
# writes one resource back) in a temp dir, depending on `<root>/fhir-models` by path. Measures, with GNU time
# (wall and user+sys CPU seconds, so a loaded machine can still be compared):
#   release-2      clean release build with features r4-patient,r4-observation
#   release-r4     clean release build with r4
#   edit-default   release rebuild after a one-line edit of main.rs (r4, default release profile)
#   edit-readme    the same with the README's release settings (`incremental = true` for the app; a dependency
#                  from crates.io is never incremental, so fhir-models keeps `incremental = false` here too)
#   debug-default  debug build (r4, default dev profile) and the binary's size
#   debug-readme   debug build with the README's dev settings and the binary's size
# and, for the app crate alone (release, r4), its `drop_in_place` instantiations: `cargo llvm-lines` (lines of
# unoptimized LLVM IR and copies) and `nm -C --defined-only` of its object code (what the app's crate compiled
# itself, not what it linked from fhir-models), plus `nm -C | grep -c drop_in_place` of the linked binary.
#
# Usage: scripts/measure-downstream.sh [ROOT] (default: this checkout). STEPS="release-2 release-r4 ..." picks
# steps (default all); KEEP=1 keeps the temp dir. Output: one line a step, `step wall=.. cpu=.. (user+sys) ..`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "${1:-$here}" && pwd)"
steps="${STEPS:-release-2 release-r4 edit-default symbols edit-readme debug-default debug-readme}"
shared="${FHIR_SHARED:-$here/../shared}"
bundle="$shared/fhir-packages/hl7.fhir.r4.examples#4.0.1/package/Bundle-bundle-example.json"
[[ -f "$bundle" ]] || { echo "no example Bundle at $bundle" >&2; exit 1; }
work="$(mktemp -d)"
if [[ "${KEEP:-}" == 1 ]]; then echo "work dir: $work"; else trap 'rm -rf "$work"' EXIT; fi
export CARGO_TARGET_DIR="$work/target"
mkdir -p "$work/app/src"
cd "$work/app"

# manifest FEATURES [EXTRA-TOML]
manifest() {
    cat > Cargo.toml <<TOML
[package]
name = "app"
version = "0.1.0"
edition = "2021"
[dependencies]
fhir-models = { path = "$root/fhir-models", features = [$(echo "$1" | sed 's/[^,][^,]*/"&"/g')] }
[workspace]
$2
TOML
}
readme_release='[profile.release]
incremental = true
[profile.release.package.fhir-models]
incremental = false'
readme_dev='[profile.dev]
debug = "line-tables-only"
[profile.dev.package."*"]
debug = false'

cat > src/main.rs <<'RS'
use fhir_models::r4::{Bundle, Resource};
use fhir_models::FhirJson;

fn main() {
    let path = std::env::args().nth(1).expect("usage: app BUNDLE.json");
    let text = std::fs::read_to_string(&path).expect("read the file");
    let bundle = match Bundle::from_json(&text) {
        Ok(bundle) => bundle,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let mut first: Option<Resource> = None;
    for entry in bundle.entry {
        if let Some(resource) = entry.resource {
            println!("{} {}", resource.resource_type(), resource.id().unwrap_or("-"));
            first.get_or_insert(resource);
        }
    }
    if let Some(resource) = first {
        println!("{}", resource.to_json());
    }
    println!("edit 0");
}
RS
edits=0
edit() { edits=$((edits + 1)); sed -i "s/println!(\"edit [0-9]*\")/println!(\"edit $edits\")/" src/main.rs; }

# timed STEP CARGO-ARGS...: runs cargo under GNU time, prints the step's line (without newline)
timed() {
    local step="$1"; shift
    /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" cargo "$@" -q 2> "$work/err.txt" || { cat "$work/err.txt"; exit 1; }
    read -r wall user sys rss < "$work/time.txt"
    printf '%-14s wall=%6.1fs cpu=%6.1fs peak_rss=%4d MiB' "$step" "$wall" "$(echo "$user + $sys" | bc)" $((rss / 1024))
}
check_output() {
    local bin="$1"
    "$bin" "$bundle" > "$work/out.txt"
    grep -q "^edit $edits\$" "$work/out.txt" || { echo "unexpected output of $bin:"; cat "$work/out.txt"; exit 1; }
}
size_of() { stat -c %s "$1" | awk '{printf "%.1f MB", $1 / 1e6}'; }

echo "root=$root ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')) rustc=$(rustc --version | cut -d' ' -f2) load=$(cut -d' ' -f1-3 /proc/loadavg)"
cargo fetch -q 2>/dev/null || true
for step in $steps; do
    case "$step" in
    release-2)
        manifest "r4-patient,r4-observation" ""
        timed "$step" build --release; echo
        check_output "$CARGO_TARGET_DIR/release/app" ;;
    release-r4)
        manifest "r4" ""
        timed "$step" build --release; echo
        check_output "$CARGO_TARGET_DIR/release/app" ;;
    edit-default)
        manifest "r4" ""
        cargo build --release -q
        edit
        timed "$step" build --release; echo
        check_output "$CARGO_TARGET_DIR/release/app" ;;
    symbols)
        manifest "r4" ""
        cargo build --release -q
        bin="$CARGO_TARGET_DIR/release/app"
        linked=$(nm -C "$bin" | grep -c drop_in_place || true)
        # The app crate's own object code: the same build, keeping its object files.
        rm -rf "$work/obj"; mkdir -p "$work/obj"
        cargo rustc --release -q --bin app -- -C save-temps --emit=obj,link -o "$work/obj/app" 2> /dev/null || true
        own=$(find "$work/obj" -name '*.o' ! -name '*.no-opt.*' ! -name '*.pre-link*' -print0 \
            | xargs -0 -r nm -C --defined-only 2> /dev/null | grep -c drop_in_place || true)
        text=$(find "$work/obj" -name '*.o' ! -name '*.no-opt.*' -print0 | xargs -0 -r size -t 2> /dev/null | tail -1 | awk '{print $1}')
        ll=$(cargo llvm-lines --release -q --bin app 2> /dev/null | awk '/\(TOTAL\)/ {total=$1} /drop_in_place/ {dl+=$1; dc+=$4} END {printf "llvm_lines=%s drop_in_place_lines=%s drop_in_place_copies=%s", total, dl, dc}')
        echo "symbols        linked_binary_drop_in_place=$linked app_objects_drop_in_place=$own app_objects_text=${text:-?}B $ll" ;;
    edit-readme)
        manifest "r4" "$readme_release"
        cargo build --release -q
        edit
        timed "$step" build --release; echo
        check_output "$CARGO_TARGET_DIR/release/app" ;;
    debug-default)
        manifest "r4" ""
        timed "$step" build; echo " binary=$(size_of "$CARGO_TARGET_DIR/debug/app")"
        check_output "$CARGO_TARGET_DIR/debug/app" ;;
    debug-readme)
        manifest "r4" "$readme_dev"
        timed "$step" build; echo " binary=$(size_of "$CARGO_TARGET_DIR/debug/app")"
        check_output "$CARGO_TARGET_DIR/debug/app" ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
    esac
done
