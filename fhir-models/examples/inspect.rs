//! Reads FHIR R4 JSON files leniently and reports what is in them: resource types, ids, every problem with its
//! FHIR path, and whether writing the value back gives the same JSON.
//!
//! `cargo run -p fhir-models --features r4 --example inspect -- FILE...`

use fhir_models::r4::Resource;
use fhir_models::FhirJson;
use std::collections::BTreeMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: inspect FILE...");
        return ExitCode::from(2);
    }
    let mut failed = false;
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{file}: {e}");
                failed = true;
                continue;
            }
        };
        let read = match Resource::from_json_lenient(&text) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{file}: {e}");
                failed = true;
                continue;
            }
        };
        let resource = &read.value;
        println!("{file}: {} {}", resource.resource_type(), resource.id().unwrap_or("(no id)"));
        if let Resource::Bundle(bundle) = resource {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for entry in &bundle.entry {
                if let Some(r) = &entry.resource {
                    *counts.entry(r.resource_type()).or_default() += 1;
                }
            }
            for (rt, n) in counts {
                println!("  {n:>5} {rt}");
            }
        }
        for issue in &read.issues {
            println!("  problem: {issue}");
        }
        let same = Resource::from_json_lenient(&resource.to_json()).is_ok_and(|again| again.value == *resource);
        println!("  written back and read again: {}", if same { "identical" } else { "DIFFERENT" });
        failed |= !same;
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
