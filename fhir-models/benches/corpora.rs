//! Reading and writing FHIR JSON on corpora that look like what payers and EHRs send, assembled at run time from
//! the official packages (never copied into the repository), each measured in the same run against
//! `serde_json::Value` and against a scan-only `serde::de::IgnoredAny` pass (the lexing limit).
//!
//! Run: `FHIR_PACKAGES=../shared/fhir-packages cargo bench -p fhir-models --features r4,dstu2 --bench corpora`
//! (with fewer features, resources whose types are not compiled in are left out of the corpora, and said so).
//! Arguments (after `--`): a word to keep only corpora whose name contains it; `--rounds N` (default 7);
//! `--size MB`; `--only MEASUREMENT` to run one measurement `rounds` times and print nothing (for profilers);
//! `--memory` to measure instead the peak memory of reading each Bundle corpus, typed against `Value`, each
//! in a fresh process.
//!
//! The corpora (each about `--size` MB, default 4):
//! - `payer`: a searchset Bundle of ExplanationOfBenefit, Claim, ClaimResponse and Coverage examples (R4 core
//!   and CARIN Blue Button), each claim's `item` list grown to at least 12 items (renumbered) so items and their
//!   adjudications dominate, as they do in real claims data; replicated with varied ids.
//! - `clinical`: a searchset Bundle of Observation, Condition and Encounter examples, replicated with varied ids.
//! - `ndjson`: one small resource per line (Patient, Observation, Condition, Encounter, Coverage, ...), read
//!   line by line (typed: [`fhir_models::json::NdjsonReader`]); the types interleaved line by line (the harder
//!   case: consecutive lines go through different readers).
//! - `ndjson by type`: the same lines ordered by resource type (stable), as bulk `$export` writes them (one file
//!   per type); the README's Benchmarks section says what the order changes.
//! - `examples`: a collection Bundle of every official example of the version that its models read strictly.
//!
//! Each timing is the thread's CPU time (not wall time: the machine is shared), the median of the rounds (and,
//! in the last two columns, the fastest round, less disturbed by other work on a busy machine); within a round
//! every measurement of a corpus runs once, in turn, so that a busy machine slows them alike. Ratios are
//! throughput ratios (higher is faster). The `Value` NDJSON baseline reads each line of a `&str` with
//! `serde_json::from_str`; the typed one goes through `NdjsonReader` over bytes (checking UTF-8), so it does
//! more. NDJSON is written into one buffer by both (`serde_json::to_writer`,
//! [`fhir_models::FhirJson::write_json_into`]), as a bulk export writes it.

use fhir_models::json::NdjsonReader;
use fhir_models::{FhirJson, FhirVersion};
use serde_json::Value;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

fn packages_dir() -> PathBuf {
    std::env::var_os("FHIR_PACKAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fhir-packages"))
}

/// The example resources of `package` (its `package/` and `package/example/` folders), parsed, file order.
fn examples(package: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for sub in ["package", "package/example"] {
        let dir = packages_dir().join(package).join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut names: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .filter(|p| p.file_name().is_some_and(|n| n != "package.json" && !n.to_string_lossy().starts_with('.')))
            .collect();
        names.sort();
        for path in names {
            let text = std::fs::read_to_string(&path).unwrap();
            if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) {
                if v.get("resourceType").is_some() {
                    out.push(v);
                }
            }
        }
    }
    if out.is_empty() {
        panic!("no examples in {} (set FHIR_PACKAGES)", packages_dir().join(package).display());
    }
    out
}

fn resource_type(v: &Value) -> &str {
    v.get("resourceType").and_then(Value::as_str).unwrap_or("")
}

/// Keeps the resources this version's models read strictly (the comparison is of like with like), and says how
/// many were left out.
fn readable<V: FhirVersion>(name: &str, resources: Vec<Value>) -> Vec<Value> {
    let total = resources.len();
    let kept: Vec<Value> =
        resources.into_iter().filter(|r| V::Resource::from_json(&r.to_string()).is_ok()).collect();
    if kept.len() < total {
        eprintln!("{name}: {} of {total} resources left out (not read strictly by these models/features)", total - kept.len());
    }
    assert!(!kept.is_empty(), "{name}: no resource is readable with the enabled features");
    kept
}

/// The resource's JSON with its keys in FHIR's element order, `resourceType` first, as servers write it.
/// (`serde_json::Value` sorts keys, which would put `resourceType` last and make every reader look ahead.)
fn canonical<V: FhirVersion>(resource: &Value) -> String {
    V::Resource::from_json(&resource.to_string()).expect("filtered by `readable`").to_json()
}

/// Grows a claim's `item` list to at least `n` items by repeating its items (with fresh `sequence` numbers).
fn grow_items(resource: &mut Value, n: usize) {
    let Some(items) = resource.get_mut("item").and_then(Value::as_array_mut) else { return };
    if items.is_empty() {
        return;
    }
    let original = items.clone();
    let mut k = 0;
    while items.len() < n {
        let mut item = original[k % original.len()].clone();
        if let Some(seq) = item.get_mut("sequence") {
            *seq = Value::from(items.len() + 1);
        }
        items.push(item);
        k += 1;
    }
}

/// Copies of `resources` with varied ids (`{id}-{copy}`), in turn, until their JSON reaches `bytes`.
fn replicate(resources: &[Value], bytes: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut size = 0;
    let mut copy = 0;
    while size < bytes {
        for r in resources {
            let mut r = r.clone();
            let id = r.get("id").and_then(Value::as_str).unwrap_or("x").to_owned();
            r["id"] = Value::from(format!("{}-{copy}", &id[..id.len().min(50)]));
            size += r.to_string().len();
            out.push(r);
        }
        copy += 1;
    }
    out
}

fn searchset<V: FhirVersion>(resources: &[Value]) -> String {
    let mut out = format!(r#"{{"resourceType":"Bundle","type":"searchset","total":{},"entry":["#, resources.len());
    for (i, r) in resources.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let full_url = format!("https://example.org/fhir/{}/{}", resource_type(r), r["id"].as_str().unwrap_or(""));
        out.push_str(&format!(r#"{{"fullUrl":{full_url:?},"resource":{},"search":{{"mode":"match"}}}}"#, canonical::<V>(r)));
    }
    out.push_str("]}");
    out
}

enum Input {
    /// One JSON document (a Bundle).
    Document(String),
    /// One resource per line.
    Ndjson(String),
}

struct Corpus {
    name: String,
    input: Input,
}

impl Corpus {
    fn len(&self) -> usize {
        match &self.input {
            Input::Document(s) | Input::Ndjson(s) => s.len(),
        }
    }
}

fn corpora<V: FhirVersion>(version: &str, core: &str, payer_igs: &[&str], size: usize) -> Vec<Corpus> {
    let all = examples(core);
    let of = |types: &[&str], max_len: usize| -> Vec<Value> {
        all.iter().filter(|r| types.contains(&resource_type(r)) && r.to_string().len() <= max_len).cloned().collect()
    };

    let mut payer = of(&["ExplanationOfBenefit", "Claim", "ClaimResponse", "Coverage"], usize::MAX);
    for ig in payer_igs {
        payer.extend(
            examples(ig)
                .into_iter()
                .filter(|r| ["ExplanationOfBenefit", "Claim", "Coverage"].contains(&resource_type(r))),
        );
    }
    for r in &mut payer {
        grow_items(r, 12);
    }
    let payer = readable::<V>(&format!("{version} payer"), payer);
    let clinical = readable::<V>(&format!("{version} clinical"), of(&["Observation", "Condition", "Encounter"], usize::MAX));
    let small = readable::<V>(
        &format!("{version} ndjson"),
        of(
            &[
                "Patient", "Observation", "Condition", "Encounter", "Coverage", "Practitioner", "Organization",
                "MedicationRequest", "MedicationOrder", "Immunization", "AllergyIntolerance", "Procedure",
            ],
            4096,
        ),
    );
    let everything = readable::<V>(&format!("{version} examples"), all.clone());
    // Each line is written once; the by-type stream is the same lines, stably sorted.
    let stream = replicate(&small, size);
    let mut lines: Vec<(&str, String)> = stream.iter().map(|r| (resource_type(r), canonical::<V>(r) + "\n")).collect();
    let ndjson: String = lines.iter().map(|(_, line)| line.as_str()).collect();
    lines.sort_by_key(|&(rt, _)| rt);
    let ndjson_by_type: String = lines.into_iter().map(|(_, line)| line).collect();
    let mut everything_bundle = String::from(r#"{"resourceType":"Bundle","type":"collection","entry":["#);
    for (i, r) in everything.iter().enumerate() {
        if i > 0 {
            everything_bundle.push(',');
        }
        everything_bundle.push_str(&format!(r#"{{"resource":{}}}"#, canonical::<V>(r)));
    }
    everything_bundle.push_str("]}");
    vec![
        Corpus { name: format!("{version} payer"), input: Input::Document(searchset::<V>(&replicate(&payer, size))) },
        Corpus { name: format!("{version} clinical"), input: Input::Document(searchset::<V>(&replicate(&clinical, size))) },
        Corpus { name: format!("{version} ndjson"), input: Input::Ndjson(ndjson) },
        Corpus { name: format!("{version} ndjson by type"), input: Input::Ndjson(ndjson_by_type) },
        Corpus { name: format!("{version} examples"), input: Input::Document(everything_bundle) },
    ]
}

// ----- the measurements ----------------------------------------------------------------------------------------

type Run<'a> = Box<dyn FnMut() -> Duration + 'a>;

/// The CPU time `f` takes on this thread: on a shared machine wall time would count other processes' work too
/// (and whether this one got a core at all).
fn timed(mut f: impl FnMut()) -> Duration {
    let t = thread_cpu_time();
    f();
    thread_cpu_time().saturating_sub(t)
}

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `clock_gettime` only writes the `timespec` it is given, which lives for the call.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').filter(|l| !l.trim().is_empty())
}

/// The measurements of one corpus, by name. Each closure runs once and says how long it took.
fn measurements<'a, V: FhirVersion>(corpus: &'a Corpus) -> Vec<(&'static str, Run<'a>)> {
    let mut out: Vec<(&'static str, Run<'a>)> = Vec::new();
    match &corpus.input {
        Input::Document(text) => {
            let text = text.as_str();
            let value: Value = serde_json::from_str(text).unwrap();
            let typed = V::Bundle::from_json(text).unwrap();
            assert!(V::Bundle::from_json_lenient(text).unwrap().is_clean());
            out.push(("scan (IgnoredAny)", Box::new(move || timed(|| {
                black_box(serde_json::from_str::<serde::de::IgnoredAny>(black_box(text)).unwrap());
            }))));
            out.push(("Value parse", Box::new(move || timed(|| {
                black_box(serde_json::from_str::<Value>(black_box(text)).unwrap());
            }))));
            out.push(("Value serialize", Box::new(move || timed(|| {
                black_box(serde_json::to_string(black_box(&value)).unwrap());
            }))));
            out.push(("Value parse+serialize", Box::new(move || timed(|| {
                let v: Value = serde_json::from_str(black_box(text)).unwrap();
                black_box(serde_json::to_string(&v).unwrap());
            }))));
            out.push(("typed parse strict", Box::new(move || timed(|| {
                black_box(V::Bundle::from_json(black_box(text)).unwrap());
            }))));
            out.push(("typed parse strict, bytes", Box::new(move || timed(|| {
                black_box(V::Bundle::from_json_bytes(black_box(text.as_bytes())).unwrap());
            }))));
            out.push(("typed parse lenient", Box::new(move || timed(|| {
                black_box(V::Bundle::from_json_lenient(black_box(text)).unwrap());
            }))));
            out.push(("typed serialize", Box::new(move || timed(|| {
                black_box(black_box(&typed).to_json());
            }))));
            out.push(("typed parse+serialize strict", Box::new(move || timed(|| {
                black_box(V::Bundle::from_json(black_box(text)).unwrap().to_json());
            }))));
            out.push(("typed parse+serialize lenient", Box::new(move || timed(|| {
                black_box(V::Bundle::from_json_lenient(black_box(text)).unwrap().value.to_json());
            }))));
        }
        Input::Ndjson(text) => {
            let text = text.as_str();
            let values: Vec<Value> = lines(text).map(|l| serde_json::from_str(l).unwrap()).collect();
            let typed: Vec<V::Resource> = lines(text).map(|l| V::Resource::from_json(l).unwrap()).collect();
            out.push(("scan (IgnoredAny)", Box::new(move || timed(|| {
                for l in lines(black_box(text)) {
                    black_box(serde_json::from_str::<serde::de::IgnoredAny>(l).unwrap());
                }
            }))));
            out.push(("Value parse", Box::new(move || timed(|| {
                for l in lines(black_box(text)) {
                    black_box(serde_json::from_str::<Value>(l).unwrap());
                }
            }))));
            out.push(("Value serialize", Box::new(move || timed(|| {
                let mut out = Vec::new();
                for v in black_box(&values) {
                    serde_json::to_writer(&mut out, v).unwrap();
                    out.push(b'\n');
                }
                black_box(out);
            }))));
            out.push(("Value parse+serialize", Box::new(move || timed(|| {
                let mut out = Vec::new();
                for l in lines(black_box(text)) {
                    let v: Value = serde_json::from_str(l).unwrap();
                    serde_json::to_writer(&mut out, &v).unwrap();
                    out.push(b'\n');
                }
                black_box(out);
            }))));
            out.push(("typed parse strict", Box::new(move || timed(|| {
                for item in NdjsonReader::<V::Resource, _>::strict(black_box(text.as_bytes())) {
                    black_box(item.unwrap());
                }
            }))));
            out.push(("typed parse lenient", Box::new(move || timed(|| {
                for item in NdjsonReader::<V::Resource, _>::lenient(black_box(text.as_bytes())) {
                    black_box(item.unwrap());
                }
            }))));
            out.push(("typed serialize", Box::new(move || timed(|| {
                let mut out = String::new();
                for r in black_box(&typed) {
                    r.write_json_into(&mut out);
                    out.push('\n');
                }
                black_box(out);
            }))));
            out.push(("typed parse+serialize strict", Box::new(move || timed(|| ndjson_round_trip::<V>(text, true)))));
            out.push(("typed parse+serialize lenient", Box::new(move || timed(|| ndjson_round_trip::<V>(text, false)))));
        }
    }
    out
}

/// Reads NDJSON with [`NdjsonReader`] and writes every value back, one per line.
fn ndjson_round_trip<V: FhirVersion>(text: &str, strict: bool) {
    let reader = if strict {
        NdjsonReader::<V::Resource, _>::strict(black_box(text.as_bytes()))
    } else {
        NdjsonReader::<V::Resource, _>::lenient(black_box(text.as_bytes()))
    };
    let mut out = String::new();
    for item in reader {
        item.unwrap().value.write_json_into(&mut out);
        out.push('\n');
    }
    black_box(out);
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn run<V: FhirVersion>(corpus: &Corpus, rounds: usize, only: Option<&str>) {
    let mut ms = measurements::<V>(corpus);
    if let Some(only) = only {
        // For profiling: the one measurement, many times, no table.
        ms.retain(|(name, _)| *name == only);
        for _ in 0..rounds {
            for (_, m) in ms.iter_mut() {
                m();
            }
        }
        return;
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); ms.len()];
    for (_, m) in ms.iter_mut() {
        m(); // warm up
    }
    for _ in 0..rounds {
        for (i, (_, m)) in ms.iter_mut().enumerate() {
            times[i].push(m());
        }
    }
    let min: Vec<Duration> = times.iter().map(|t| *t.iter().min().unwrap()).collect();
    let med: Vec<Duration> = times.into_iter().map(median).collect();
    let at_min = |name: &str| min[ms.iter().position(|(n, _)| *n == name).unwrap()];
    let at = |name: &str| med[ms.iter().position(|(n, _)| *n == name).unwrap()];
    let mb = corpus.len() as f64 / 1e6;
    println!("\n{} ({:.2} MB, median of {rounds})", corpus.name, mb);
    println!(
        "  {:<32} {:>9} {:>9} {:>10} {:>10}   {:>9} {:>10}",
        "", "ms", "MB/s", "x Value", "x scan", "min ms", "x Value"
    );
    let scan = at("scan (IgnoredAny)");
    for (i, (name, _)) in ms.iter().enumerate() {
        let baseline = if name.contains("parse+serialize") {
            "Value parse+serialize"
        } else if name.contains("serialize") {
            "Value serialize"
        } else {
            "Value parse"
        };
        let t = med[i].as_secs_f64();
        let t_min = min[i].as_secs_f64();
        println!(
            "  {:<32} {:>9.1} {:>9.0} {:>9.2}x {:>9.2}x   {:>9.1} {:>9.2}x",
            name,
            t * 1e3,
            mb / t,
            at(baseline).as_secs_f64() / t,
            scan.as_secs_f64() / t,
            t_min * 1e3,
            at_min(baseline).as_secs_f64() / t_min
        );
    }
}

// ----- peak memory ---------------------------------------------------------------------------------------------

fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// In a fresh process that has allocated nothing else: reads the file, resets the peak, parses it once (typed,
/// strict or lenient, or as `Value`) and prints how far the peak rose above the resident size before, in KiB.
fn memory_child<V: FhirVersion>(path: &str, how: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak (Linux /proc/self/clear_refs)");
    let before = status_kib("VmRSS:").unwrap();
    match how {
        "typed" => drop(black_box(V::Bundle::from_json(&text).unwrap())),
        "lenient" => drop(black_box(V::Bundle::from_json_lenient(&text).unwrap())),
        _ => drop(black_box(serde_json::from_str::<Value>(&text).unwrap())),
    }
    let peak = status_kib("VmHWM:").unwrap();
    println!("{}", peak.saturating_sub(before));
}

fn memory_parent(version: &str, corpus: &Corpus) {
    let Input::Document(text) = &corpus.input else { return };
    let path = std::env::temp_dir().join(format!("fhir-models-bench-{}.json", corpus.name.replace(' ', "-")));
    std::fs::write(&path, text).unwrap();
    let exe = std::env::current_exe().unwrap();
    let measure = |how: &str| -> u64 {
        let out = std::process::Command::new(&exe)
            .args(["--memory-child", how, path.to_str().unwrap(), version])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or_else(|_| panic!("child: {out:?}"))
    };
    // The smallest of three runs each: the peak of one process is exact, but page-fault timing varies a little.
    let best = |how: &str| (0..3).map(|_| measure(how)).min().unwrap();
    let (value, typed, lenient) = (best("value"), best("typed"), best("lenient"));
    let _ = std::fs::remove_file(&path);
    println!(
        "{:<16} {:>6.2} MB input: peak growth Value {:>7.1} MiB, typed strict {:>7.1} MiB ({:+.0} %), lenient {:>7.1} MiB ({:+.0} %)",
        corpus.name,
        corpus.len() as f64 / 1e6,
        value as f64 / 1024.0,
        typed as f64 / 1024.0,
        (typed as f64 / value as f64 - 1.0) * 100.0,
        lenient as f64 / 1024.0,
        (lenient as f64 / value as f64 - 1.0) * 100.0
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).map(|i| args.get(i + 1).cloned().unwrap_or_default());
    let rounds = flag("--rounds").and_then(|n| n.parse().ok()).unwrap_or(7);
    let size = flag("--size").and_then(|n| n.parse::<f64>().ok()).unwrap_or(4.0);
    let size = (size * 1e6) as usize;
    if let Some(i) = args.iter().position(|a| a == "--memory-child") {
        let (how, path, version) = (&args[i + 1], &args[i + 2], args[i + 3].as_str());
        match version {
            #[cfg(feature = "r4-bundle")]
            "r4" => memory_child::<fhir_models::r4::R4>(path, how),
            #[cfg(feature = "dstu2-bundle")]
            "dstu2" => memory_child::<fhir_models::dstu2::Dstu2>(path, how),
            _ => panic!("unknown version {version}"),
        }
        return;
    }
    let only = flag("--only");
    let memory = args.iter().any(|a| a == "--memory");
    let filter: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            let is_flag_value = *i > 0 && ["--rounds", "--size", "--only"].contains(&args[i - 1].as_str());
            !a.starts_with("--") && !is_flag_value
        })
        .map(|(_, a)| a)
        .collect();
    let wanted = |name: &str| {
        filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()))
    };

    macro_rules! version {
        ($v:ty, $version:literal, $core:literal, $igs:expr) => {
            // Skip building a version's corpora when the filter words all name the other version.
            let other = if $version == "r4" { "dstu2" } else { "r4" };
            if filter.is_empty() || filter.iter().any(|f| !f.starts_with(other)) {
                for corpus in corpora::<$v>($version, $core, $igs, size) {
                    if !wanted(&corpus.name) {
                        continue;
                    }
                    if memory {
                        memory_parent($version, &corpus);
                    } else {
                        run::<$v>(&corpus, rounds, only.as_deref());
                    }
                }
            }
        };
    }
    #[cfg(feature = "r4-bundle")]
    version!(fhir_models::r4::R4, "r4", "hl7.fhir.r4.examples#4.0.1", &["hl7.fhir.us.carin-bb#1.1.0"]);
    #[cfg(feature = "dstu2-bundle")]
    version!(fhir_models::dstu2::Dstu2, "dstu2", "hl7.fhir.r2.examples#1.0.2", &[]);
}
