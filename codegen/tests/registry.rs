//! Downloading missing packages: a registry served by the test on 127.0.0.1 (npm-style metadata and tarballs it
//! builds from the golden `profile` fixture) fills an empty package cache with the IG and the core package it
//! depends on, and the generation runs on what was downloaded.
#![cfg(feature = "download")]

#[path = "common/fixtures.rs"]
mod fixtures;
use fhir_codegen::Config;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A `.tgz` of a package folder, entries under `package/` as in registry tarballs.
fn tarball(package_dir: &Path) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    builder.append_dir_all("package", package_dir).unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

/// Serves `GET /<id>` (metadata with `versions.<v>.dist.tarball`) and `GET /<id>/-/<id>-<v>.tgz`; 404 otherwise.
fn serve(packages: Vec<(String, String, Vec<u8>)>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let (log, base) = (requests.clone(), url.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            log.lock().unwrap().push(path.clone());
            let body: Option<Vec<u8>> = packages.iter().find_map(|(id, v, tgz)| {
                if path == format!("/{id}") {
                    let tarball = format!("{base}/{id}/-/{id}-{v}.tgz");
                    Some(serde_json::json!({"name": id, "versions": {v: {"dist": {"tarball": tarball}}}}).to_string().into_bytes())
                } else if path == format!("/{id}/-/{id}-{v}.tgz") {
                    Some(tgz.clone())
                } else {
                    None
                }
            });
            let (status, body) = match body {
                Some(b) => ("200 OK", b),
                None => ("404 Not Found", b"not found".to_vec()),
            };
            let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body));
        }
    });
    Server { url, requests }
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fhir-codegen-registry-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn missing_packages_and_their_dependencies_are_downloaded_into_the_cache() {
    let fixture = fixtures::fixtures().join("profile/packages");
    let server = serve(vec![
        ("golden.ig".into(), "1.0.0".into(), tarball(&fixture.join("golden.ig#1.0.0/package"))),
        ("golden.core".into(), "0.0.1".into(), tarball(&fixture.join("golden.core#0.0.1/package"))),
    ]);
    let (cache, out) = (temp("cache"), temp("out"));
    let generated = Config::new()
        .standard_package_paths(false)
        .registry(&server.url)
        .package_cache(&cache)
        .core("golden.core#0.0.1", None, "golden")
        .ig("golden.ig#1.0.0", "golden_ig")
        .out_dir(&out)
        .cargo_metadata(false)
        .generate()
        .expect("generation from downloaded packages");
    // The small core has no `Bundle`/`OperationOutcome` (base resources by default): said, not silently skipped.
    assert!(
        generated.warnings.iter().any(|w| w.contains("base resource `Bundle` is not defined in golden.core#0.0.1")),
        "{:?}",
        generated.warnings
    );
    // Both packages are in the cache in the standard layout, and the output is the golden one.
    assert!(cache.join("golden.ig#1.0.0/package/StructureDefinition-golden-pet.json").is_file());
    assert!(cache.join("golden.core#0.0.1/package/package.json").is_file());
    let expected = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/profile/expected/out_dir/golden_ig.rs")).unwrap();
    assert_eq!(std::fs::read_to_string(out.join("golden_ig.rs")).unwrap(), expected);
    assert_eq!(generated.files, [out.join("golden_ig.rs")]);
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests, ["/golden.core", "/golden.core/-/golden.core-0.0.1.tgz", "/golden.ig", "/golden.ig/-/golden.ig-1.0.0.tgz"]);

    // A second run finds everything in the cache: no request.
    Config::new().standard_package_paths(false).registry(&server.url).package_cache(&cache).core("golden.core#0.0.1", None, "golden")
        .ig("golden.ig#1.0.0", "golden_ig").out_dir(&out).cargo_metadata(false).generate().unwrap();
    assert_eq!(server.requests.lock().unwrap().len(), 4);
    let _ = (std::fs::remove_dir_all(&cache), std::fs::remove_dir_all(&out));
}

#[test]
fn a_package_the_registry_does_not_have_is_a_clear_error() {
    let server = serve(Vec::new());
    let cache = temp("missing");
    let err = Config::new()
        .standard_package_paths(false)
        .registry(&server.url)
        .package_cache(&cache)
        .core("golden.core#0.0.1", None, "golden")
        .out_dir(&cache)
        .cargo_metadata(false)
        .generate()
        .expect_err("nothing to download");
    let text = err.to_string();
    assert!(text.contains("golden.core#0.0.1") && text.contains("not found"), "{text}");
    assert!(!cache.join("golden.core#0.0.1").exists(), "nothing half-written");
    let _ = std::fs::remove_dir_all(&cache);
}
