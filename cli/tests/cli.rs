//! `fhir validate`: the HL7 validator's R4 test cases run through the command's own code path
//! ([`fhir_cli::run`], which `main` calls), with the agreement with the Java validator pinned; and the command's
//! contract (output lines, NDJSON indexes, exit codes) on the real binary.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared")
}

fn packages() -> PathBuf {
    std::env::var_os("FHIR_PACKAGES")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| shared().join("fhir-packages"))
}

fn cases_dir() -> PathBuf {
    shared().join("fhir-test-cases/validator-r4")
}

/// Runs `fhir <args>` in-process; returns (exit code, stdout lines as JSON, stderr).
fn fhir(args: &[String]) -> (i32, Vec<Value>, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut full = args.to_vec();
    full.insert(1, packages().display().to_string());
    full.insert(1, "--packages".into());
    let code = fhir_cli::run(&full, &mut out, &mut err);
    let lines = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (code, lines, String::from_utf8(err).unwrap())
}

/// The Java validator's verdict: invalid when it reports an error or fatal issue.
fn java_valid(outcome: &Value) -> bool {
    if let Some(n) = outcome["errorCount"].as_u64() {
        return n == 0;
    }
    let file = cases_dir().join("outcomes").join(outcome.as_str().expect("an outcome file"));
    let oo: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    !oo["issue"].as_array().into_iter().flatten().any(|i| i["severity"] == "error" || i["severity"] == "fatal")
}

/// Where `fhir validate` and the Java validator disagree, by case and run (`base`, or `profile` for the
/// validation against `profile.source`), with the reason.
const DISAGREEMENTS: [(&str, &str, &str); 8] = [
    ("qr-vr", "base", "QuestionnaireResponse against its Questionnaire (linkIds, answer types) is not validated"),
    ("bb-obs-value-is-not-in-valueset", "profile", "the case's value set bb-vs.json is missing from the suite, so the binding is reported as not checked"),
    ("obs-temp-bad", "base", "the Java validator applies the vital-signs profiles by LOINC/SNOMED code (\"magic codes\"); we validate meta.profile only"),
    ("contained-resource-bad-id-ignore", "base", "the case sets the Java option validateContains=IGNORE; we always validate contained resources (the 65-character id is invalid)"),
    ("encounter-period", "base", "per-1 compares a date with a dateTime: FHIRPath defines that as empty (it holds for us); the Java validator fails it"),
    ("StructureDefinition-Slice23", "base", "checks of a StructureDefinition's own slicing definitions (discriminator paths) are not made"),
    ("res-inv-example-bad", "profile", "the case's supporting profiles res-inv-profile-ep.json / -org.json are missing from the suite"),
    ("additional-bindings-observation-2", "profile", "the additional-binding extension is not checked, and its value set file is missing from the suite"),
];

#[test]
fn hl7_validator_cases_agree_with_the_java_verdict() {
    let dir = cases_dir();
    let manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let cases = dir.join("cases");
    let existing = |files: &Value| -> Vec<String> {
        files
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|f| cases.join(f))
            .filter(|p| p.is_file()) // some cases name files the suite does not ship (see DISAGREEMENTS)
            .map(|p| p.display().to_string())
            .collect()
    };
    let (mut runs, mut agree, mut seen) = (0, 0, Vec::new());
    let mut unexpected = Vec::new();
    for case in manifest["test-cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut definitions = existing(&case["supporting"]);
        definitions.extend(existing(&case["profiles"]));
        let mut variants = vec![("base", None, &case["java"], definitions.clone())];
        if let Some(p) = case.get("profile") {
            let mut defs = definitions.clone();
            defs.extend(existing(&p["supporting"]));
            variants.push(("profile", p["source"].as_str(), &p["java"], defs));
        }
        for (run, profile, java, defs) in variants {
            let mut args = vec!["validate".to_owned()];
            for d in defs {
                args.extend(["--definitions".to_owned(), d]);
            }
            if let Some(p) = profile {
                args.extend(["--profile".to_owned(), cases.join(p).display().to_string()]);
            }
            args.push(cases.join(case["file"].as_str().unwrap()).display().to_string());
            let (code, lines, err) = fhir(&args);
            assert_ne!(code, 2, "{name} ({run}): usage or I/O error: {err}");
            assert_eq!(lines.len(), 1, "{name}: one document, one line");
            let ours = lines[0]["valid"].as_bool().unwrap();
            assert_eq!(ours, code == 0);
            let theirs = java_valid(java);
            runs += 1;
            let listed = DISAGREEMENTS.iter().any(|(n, r, _)| *n == name && *r == run);
            if ours == theirs {
                agree += 1;
                if listed {
                    unexpected.push(format!("{name} ({run}) now agrees: remove it from DISAGREEMENTS"));
                }
            } else if listed {
                seen.push((name, run));
            } else {
                unexpected.push(format!("{name} ({run}): Java says valid={theirs}, we say valid={ours}\n{err}"));
            }
        }
    }
    eprintln!("HL7 validator R4 cases: {agree} of {runs} verdicts agree with the Java validator");
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n"));
    assert_eq!(seen.len(), DISAGREEMENTS.len());
    assert_eq!(runs, 82, "62 cases, 20 of them with a profile");
    assert_eq!(agree, 74, "agreement pinned at 74/82 (90.2 %)");
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn output_lines_indexes_and_exit_codes() {
    let tmp = std::env::temp_dir().join(format!("fhir-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let good = write(&tmp, "good.json", r#"{"resourceType":"Patient","id":"a","active":true}"#);
    let ndjson = write(
        &tmp,
        "many.ndjson",
        "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n{\"resourceType\":\"Observation\"}\nnot json\n",
    );
    let bin = env!("CARGO_BIN_EXE_fhir");
    let run = |args: &[&str]| Command::new(bin).args(args).env("FHIR_PACKAGES", packages()).output().unwrap();

    let o = run(&["validate", &good]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let line = String::from_utf8(o.stdout).unwrap();
    assert!(
        line.starts_with(&format!(
            "{{\"file\":{},\"index\":0,\"valid\":true,\"outcome\":",
            Value::String(good.clone())
        )),
        "{line}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 documents: 1 valid, 0 invalid"));

    let o = run(&["validate", &good, &ndjson]);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<Value> =
        String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let got: Vec<(u64, bool)> =
        lines.iter().map(|l| (l["index"].as_u64().unwrap(), l["valid"].as_bool().unwrap())).collect();
    assert_eq!(got, [(0, true), (1, true), (2, false), (3, false)]);
    assert_eq!(lines[2]["outcome"]["issue"][0]["expression"][0], "Observation");
    assert_eq!(lines[3]["outcome"]["issue"][0]["severity"], "fatal");
    let summary = String::from_utf8_lossy(&o.stderr);
    assert!(
        summary.contains("many.ndjson:2: INVALID") && summary.contains("4 documents: 2 valid, 2 invalid"),
        "{summary}"
    );

    // usage and I/O errors: exit 2, nothing on stdout
    for args in [
        vec!["validate"],
        vec!["validate", "--version", "r9", &good],
        vec!["validate", "/nonexistent.json"],
        vec!["nope"],
        vec!["validate", "--profile", "http://example.org/not-loaded", &good],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }

    // --profile FILE (a run-time profile), and --definitions
    let profile = write(
        &tmp,
        "p.json",
        r#"{"resourceType":"StructureDefinition","url":"http://example.org/sd/p","name":"P","status":"draft",
        "kind":"resource","abstract":false,"type":"Patient","baseDefinition":"http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation":"constraint","differential":{"element":[{"id":"Patient.gender","path":"Patient.gender","min":1}]}}"#,
    );
    let o = run(&["validate", "--profile", &profile, &good]);
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["validate", "--definitions", &profile, "--profile", "http://example.org/sd/p", &good]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Patient.gender: minimum required = 1"));
    // meta.profile is honoured when the profile is loaded
    let declared =
        write(&tmp, "declared.json", r#"{"resourceType":"Patient","meta":{"profile":["http://example.org/sd/p"]}}"#);
    assert_eq!(run(&["validate", &declared]).status.code(), Some(0));
    assert_eq!(run(&["validate", "--definitions", &profile, &declared]).status.code(), Some(1));
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn dstu2_documents_validate_against_dstu2() {
    let examples = packages().join("hl7.fhir.r2.examples#1.0.2/package");
    let patient = examples.join("Patient-f001.json").display().to_string();
    let (code, lines, err) = fhir(&["validate".into(), "--version".into(), "dstu2".into(), patient.clone()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines[0]["valid"], true);
    // the same DSTU2 patient is not an R4 one (DSTU2's Patient.animal is gone in R4)
    let tmp = std::env::temp_dir().join(format!("fhir-cli-dstu2-{}.json", std::process::id()));
    std::fs::write(&tmp, r#"{"resourceType":"Patient","animal":{"species":{"text":"dog"}}}"#).unwrap();
    let f = tmp.display().to_string();
    assert_eq!(fhir(&["validate".into(), "--version".into(), "dstu2".into(), f.clone()]).0, 0);
    let (code, lines, _) = fhir(&["validate".into(), f]);
    assert_eq!(code, 1);
    assert_eq!(lines[0]["outcome"]["issue"][0]["expression"][0], "Patient.animal");
    std::fs::remove_file(&tmp).unwrap();
}

/// `fhir view run`: a ViewDefinition over an NDJSON file, rows written as CSV in the view's table directory;
/// a view with a bad FHIRPath fails with exit code 1 and names the view, a missing `--out` is a usage error.
#[test]
fn view_run_writes_one_table_directory_per_view() {
    let dir = std::env::temp_dir().join(format!("fhir-cli-view-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let view = write(
        &dir,
        "patients.json",
        r#"{"resourceType":"ViewDefinition","name":"patients","resource":"Patient","status":"active",
            "select":[{"column":[{"name":"id","path":"getResourceKey()"},{"name":"family","path":"name.first().family"}]}]}"#,
    );
    let input = write(
        &dir,
        "in.ndjson",
        "{\"resourceType\":\"Patient\",\"id\":\"a\",\"name\":[{\"family\":\"Chalmers\"}]}\n\
         {\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}\n\
         {\"resourceType\":\"Patient\",\"id\":\"b\"}\n",
    );
    let out_dir = dir.join("out").display().to_string();
    let args: Vec<String> =
        ["view", "run", &view, "--input", &input, "--out", &out_dir, "--format", "csv"].map(String::from).to_vec();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(fhir_cli::run(&args, &mut out, &mut err), 0, "{}", String::from_utf8_lossy(&err));
    assert_eq!(String::from_utf8(out).unwrap().trim(), "patients: 2 rows in 1 files");
    let table = dir.join("out/patients");
    let files: Vec<_> = std::fs::read_dir(&table).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1);
    let csv = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(csv.lines().collect::<Vec<_>>(), ["id,family", "a,Chalmers", "b,"]);

    let bad = write(
        &dir,
        "bad.json",
        r#"{"resourceType":"ViewDefinition","name":"bad","resource":"Patient","status":"active",
            "select":[{"column":[{"name":"x","path":"name.where("}]}]}"#,
    );
    let args: Vec<String> =
        ["view", "run", &bad, "--input", &input, "--out", &out_dir, "--format", "csv"].map(String::from).to_vec();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(fhir_cli::run(&args, &mut out, &mut err), 1);
    assert!(String::from_utf8(err).unwrap().contains("bad"));
    let args: Vec<String> = ["view", "run", &view, "--input", &input].map(String::from).to_vec();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    assert_eq!(fhir_cli::run(&args, &mut out, &mut err), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `fhir export` against a scripted Bulk Data server: a file that fails (404) makes the run exit 3 with the
/// directory resumable; the second run downloads only that file, writes exactly the server's lines and prints one
/// JSON line per file.
#[test]
fn fhir_export_fails_resumably_then_resumes_without_downloading_finished_files_again() {
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let server = rt.block_on(MockServer::start());
    let uri = server.uri();
    let body = |name: &str, n: usize| -> String {
        (0..n).map(|i| format!("{{\"resourceType\":\"Patient\",\"id\":\"{name}-{i}\"}}\n")).collect()
    };
    let manifest = serde_json::json!({
        "transactionTime": "2024-07-01T00:00:00Z",
        "request": format!("{uri}/fhir/Group/g1/$export"),
        "requiresAccessToken": true,
        "output": [
            {"type": "Patient", "url": format!("{uri}/files/a.ndjson")},
            {"type": "Patient", "url": format!("{uri}/files/b.ndjson")},
            {"type": "Patient", "url": format!("{uri}/files/c.ndjson")},
        ],
        "error": []
    });
    rt.block_on(async {
        Mock::given(method("GET"))
            .and(path("/fhir/Group/g1/$export"))
            .and(query_param("_type", "Patient"))
            .and(header("authorization", "Bearer tok123"))
            .respond_with(ResponseTemplate::new(202).insert_header("content-location", format!("{uri}/fhir/status/1")))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/fhir/status/1"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(manifest.to_string(), "application/json"))
            .mount(&server)
            .await;
        for (name, n) in [("a", 1000), ("b", 2000)] {
            Mock::given(method("GET"))
                .and(path(format!("/files/{name}.ndjson")))
                .and(header("authorization", "Bearer tok123"))
                .respond_with(ResponseTemplate::new(200).set_body_raw(body(name, n), "application/fhir+ndjson"))
                .expect(1)
                .mount(&server)
                .await;
        }
        Mock::given(method("GET"))
            .and(path("/files/c.ndjson"))
            .respond_with(ResponseTemplate::new(404))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/files/c.ndjson"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body("c", 3000), "application/fhir+ndjson"))
            .mount(&server)
            .await;
    });
    let dir = std::env::temp_dir().join(format!("fhir-cli-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let args: Vec<String> = [
        "export", "--base", &format!("{uri}/fhir"), "--out", &dir.display().to_string(), "--type", "Patient", "--group",
        "g1", "--token", "tok123", "--parallel", "2", "--progress", "lines",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = |args: &[String]| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = fhir_cli::run(args, &mut out, &mut err);
        (code, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
    };
    let (code, _, err) = run(&args);
    assert_eq!(code, fhir_cli::export::EXIT_FAILED, "{err}");
    assert!(err.contains("HTTP 404") && err.contains("resume"), "{err}");
    assert!(err.contains("export: kicked off"), "{err}");

    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("resuming") && err.contains("downloaded now"), "{err}");
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines.iter().map(|l| l["lines"].as_u64().unwrap()).collect::<Vec<_>>(), [1000, 2000, 3000]);
    for (i, (name, n)) in [("a", 1000), ("b", 2000), ("c", 3000)].into_iter().enumerate() {
        let written = std::fs::read_to_string(dir.join(format!("run-0001/{i:04}-Patient.ndjson"))).unwrap();
        assert_eq!(written, body(name, n));
    }
    rt.block_on(server.verify());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `fhir export` with SMART Backend Services: the CLI signs an ES384 assertion with a key from a JWKS, gets a token
/// from a real oidc-provider on 127.0.0.1 (installed by `scripts/install-test-servers.sh`) and sends it on every
/// Bulk Data request; a PEM without `--kid` is a usage error; an unknown key is refused (exit 3, `invalid_client`).
#[test]
fn fhir_export_authorizes_with_smart_backend_services() {
    use std::io::{BufRead, BufReader};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let keys = root.join("oneup-client/tests/fixtures/smart");
    assert!(
        root.join(".test-servers/node_modules/oidc-provider/package.json").exists(),
        "oidc-provider is not installed: run scripts/install-test-servers.sh"
    );
    let mut provider = Command::new("node")
        .arg(root.join("scripts/oidc-provider.mjs"))
        .args(["--port", "0", "--client"])
        .arg(format!("es384-key={}", keys.join("es384.pem").display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = provider.stdout.take().unwrap();
    /// Stops the provider even when an assertion fails.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _provider = Kill(provider);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let token_url = serde_json::from_str::<Value>(&line).unwrap()["token_url"].as_str().unwrap().to_owned();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let server = rt.block_on(MockServer::start());
    let uri = server.uri();
    let manifest = serde_json::json!({
        "transactionTime": "2024-07-01T00:00:00Z",
        "request": format!("{uri}/fhir/$export"),
        "requiresAccessToken": true,
        "output": [{"type": "Patient", "url": format!("{uri}/files/a.ndjson")}],
        "error": []
    });
    rt.block_on(async {
        Mock::given(method("GET"))
            .and(path("/fhir/$export"))
            .respond_with(ResponseTemplate::new(202).insert_header("content-location", format!("{uri}/fhir/status/1")))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/fhir/status/1"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(manifest.to_string(), "application/json"))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/files/a.ndjson"))
            .respond_with(ResponseTemplate::new(200).set_body_raw("{\"resourceType\":\"Patient\",\"id\":\"a\"}\n", "application/fhir+ndjson"))
            .mount(&server)
            .await;
    });
    let dir = std::env::temp_dir().join(format!("fhir-cli-smart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |key: &str, extra: &[&str]| {
        let mut args: Vec<String> = ["export", "--base", &format!("{uri}/fhir"), "--out", &dir.display().to_string()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(["--client-id", "es384-key", "--token-url", &token_url, "--progress", "lines"].map(String::from));
        args.extend(["--key".to_owned(), keys.join(key).display().to_string()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = fhir_cli::run(&args, &mut out, &mut err);
        (code, String::from_utf8(err).unwrap())
    };
    let (code, err) = run("es384.pem", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--kid is required"), "{err}");
    let (code, err) = run("wrong-rs384.pem", &["--kid", "es384-key"]);
    assert_eq!(code, fhir_cli::export::EXIT_FAILED, "{err}");
    assert!(err.contains("invalid_client"), "{err}");
    let (code, err) = run("private.jwks.json", &["--kid", "es384-key", "--alg", "ES384", "--scope", "system/*.read"]);
    assert_eq!(code, 0, "{err}");
    let requests = rt.block_on(server.received_requests()).unwrap();
    assert_eq!(requests.len(), 3, "kick-off, status, file");
    let bearers: Vec<&str> = requests.iter().map(|r| r.headers.get("authorization").unwrap().to_str().unwrap()).collect();
    assert!(bearers[0].len() > "Bearer ".len() + 10 && bearers[0].starts_with("Bearer "), "{bearers:?}");
    assert!(bearers.iter().all(|b| *b == bearers[0]), "the one token on every request: {bearers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
