//! Parse + serialize of a large Bundle built from the official examples: the typed models against
//! `serde_json::Value` on the same input, in the same run.
//!
//! Run: `FHIR_PACKAGES=../shared/fhir-packages cargo bench -p fhir-models --features r4,dstu2`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use fhir_models::FhirJson;
use std::path::PathBuf;

fn packages_dir() -> PathBuf {
    std::env::var_os("FHIR_PACKAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fhir-packages"))
}

/// A `collection` Bundle with one entry per example resource of the package (file order).
fn bundle_of_examples(package: &str) -> String {
    let dir = packages_dir().join(package).join("package");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (set FHIR_PACKAGES)", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| p.file_name().is_some_and(|n| n != "package.json" && !n.to_string_lossy().starts_with('.')))
        .collect();
    names.sort();
    let mut out = String::from(r#"{"resourceType":"Bundle","type":"collection","entry":["#);
    let mut first = true;
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.trim_start_matches('\u{feff}');
        // Only resources this version's models read strictly (the bench compares like with like).
        if !text.trim_start().starts_with('{') {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(r#"{"resource":"#);
        out.push_str(text.trim());
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn compare<T: FhirJson>(c: &mut Criterion, name: &str, json: &str) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(json.len() as u64));
    g.sample_size(20);
    g.bench_function("typed parse+serialize", |b| {
        b.iter(|| {
            let v = T::from_json(black_box(json)).unwrap();
            black_box(v.to_json())
        })
    });
    g.bench_function("serde_json::Value parse+serialize", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_str(black_box(json)).unwrap();
            black_box(serde_json::to_string(&v).unwrap())
        })
    });
    g.bench_function("typed parse", |b| b.iter(|| black_box(T::from_json(black_box(json)).unwrap())));
    g.bench_function("serde_json::Value parse", |b| {
        b.iter(|| black_box(serde_json::from_str::<serde_json::Value>(black_box(json)).unwrap()))
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let r4 = bundle_of_examples("hl7.fhir.r4.examples#4.0.1");
    compare::<fhir_models::r4::Bundle>(c, "r4 examples bundle", &r4);
    #[cfg(feature = "dstu2")]
    {
        let dstu2 = bundle_of_examples("hl7.fhir.r2.examples#1.0.2");
        compare::<fhir_models::dstu2::Bundle>(c, "dstu2 examples bundle", &dstu2);
    }
}

criterion_group!(bundle, benches);
criterion_main!(bundle);
