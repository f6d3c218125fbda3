//! A bulk-data `$export`: kick it off, show its progress on one line, write each output file as NDJSON (read and
//! written line by line, in constant memory) and print how many resources of each type arrived.
//!
//! Runs against local servers by default (see this crate's README.md, "Running the examples locally"): SEKMET
//! serves the standard asynchronous `$export` at its FHIR base, oauth2-mock-server issues the token.
//!
//! | variable | local default | 1upHealth |
//! | --- | --- | --- |
//! | `ONEUP_ANALYTICS` | `http://127.0.0.1:8090` (SEKMET) | `https://analytics.1up.health` |
//! | `ONEUP_BULK_PATH` | `/fhir` | `/bulk-data/{version}` |
//! | `ONEUP_TOKEN_URL` | `http://127.0.0.1:8081/token` | `https://auth.1up.health/oauth2/token` |
//! | `ONEUP_CODE` | `any-code` (the mock server takes any) | a user's authorization code |
//! | `ONEUP_ACCESS_TOKEN` | unset | or a user's access token, instead of a code |
//! | `ONEUP_EXPORT_TYPES` | unset (everything) | e.g. `Patient,Observation` |
//! | `ONEUP_EXPORT_DIR` | `target/bulk-export` | |
//! | `ONEUP_LOAD_SAMPLE` | `1`: first loads 60 Patients and 60 Observations | `0` |
//! | `ONEUP_CLIENT_ID`, `ONEUP_CLIENT_SECRET` | the guide's sample keys | your app's keys |
//!
//! ```text
//! cargo run -p oneup-client --example bulk_export
//! ```

use std::collections::BTreeMap;
use std::io::Write;

use fhir_models::r4::{Bundle, R4};
use fhir_models::FhirJson;
use futures_util::StreamExt;
use oneup_client::{AppCredentials, ExportRequest, OneUpClient, Secret, Session, Tokens};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys = AppCredentials::new(
        env("ONEUP_CLIENT_ID", "clientidclientidclientid"),
        env("ONEUP_CLIENT_SECRET", "clientsecretclientsecret"),
    );
    let analytics = env("ONEUP_ANALYTICS", "http://127.0.0.1:8090");
    let bulk_path = env("ONEUP_BULK_PATH", "/fhir");
    let client = OneUpClient::builder(keys)
        .analytics_base(&analytics)
        .bulk_path(&bulk_path)
        // Locally the FHIR API is the same SEKMET (for loading the sample).
        .api_base(&analytics)
        .fhir_path(&bulk_path)
        .token_url(env("ONEUP_TOKEN_URL", "http://127.0.0.1:8081/token"))
        .build()?;
    let tokens = match std::env::var("ONEUP_ACCESS_TOKEN") {
        Ok(token) => Tokens::new(token, None),
        Err(_) => client.exchange_code(&Secret::new(env("ONEUP_CODE", "any-code"))).await?,
    };
    let session = Session::new(client, tokens);

    if env("ONEUP_LOAD_SAMPLE", "1") == "1" {
        let loaded = session.fhir::<R4>().transaction(&sample(60)?).await?;
        println!("loaded {} sample resources", loaded.entry.len());
    }

    // 1. Kick-off (the requested types are checked against the models before anything is sent).
    let bulk = session.bulk::<R4>();
    let mut request = ExportRequest::new();
    if let Ok(types) = std::env::var("ONEUP_EXPORT_TYPES") {
        request = request.types(types.split(',').map(str::trim).filter(|t| !t.is_empty()));
    }
    let job = bulk.kick_off(&request).await?;
    match job.status_url() {
        Some(_) => println!("export accepted; polling its status"),
        None => println!("the server answered with the manifest at once"),
    }

    // 2. Progress on one line until the manifest.
    let manifest = job
        .wait(|progress| {
            print!("\r  {progress:<60}");
            let _ = std::io::stdout().flush();
        })
        .await?;
    println!("\rexport complete at {}{:40}", manifest.transaction_time.as_deref().unwrap_or("?"), "");

    // 3. Each file, line by line, written out again as NDJSON.
    let dir = std::path::PathBuf::from(env("ONEUP_EXPORT_DIR", "target/bulk-export"));
    std::fs::create_dir_all(&dir)?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut skipped = 0usize;
    for (n, file) in manifest.output.iter().enumerate() {
        let path = dir.join(format!("{}-{n}.ndjson", file.resource_type));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let mut lines = bulk.resources(&manifest, file);
        while let Some(line) = lines.next().await {
            match line {
                Ok(resource) => {
                    writeln!(out, "{}", resource.to_json())?;
                    *counts.entry(resource.resource_type().to_owned()).or_default() += 1;
                }
                Err(e) if e.is_line_error() => {
                    eprintln!("  skipped: {e}");
                    skipped += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
        out.flush()?;
        println!("  wrote {}", path.display());
    }
    for file in &manifest.error {
        let outcomes = bulk.errors(&manifest, file).filter(|o| std::future::ready(o.is_ok())).count().await;
        println!("  the server reported {outcomes} problem(s) in {}", file.url);
    }

    println!("resources per type:");
    for (resource_type, count) in &counts {
        println!("  {resource_type:<24} {count:>6}");
    }
    println!("  {:<24} {:>6}", "total", counts.values().sum::<usize>());
    if skipped > 0 {
        println!("  {:<24} {skipped:>6}", "unreadable lines");
    }
    Ok(())
}

/// A transaction of `n` Patients, each with one step-count Observation.
fn sample(n: usize) -> Result<Bundle, fhir_models::ParseError> {
    let mut entries = Vec::new();
    for i in 0..n {
        let patient = serde_json::json!({"resourceType": "Patient", "id": format!("bulk-pt-{i}"),
                                          "gender": if i % 2 == 0 { "female" } else { "male" }});
        let observation = serde_json::json!({"resourceType": "Observation", "id": format!("bulk-obs-{i}"), "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "66334-4", "display": "Steps"}]},
            "subject": {"reference": format!("Patient/bulk-pt-{i}")}, "valueQuantity": {"value": 1000 + i, "unit": "steps"}});
        for resource in [patient, observation] {
            let url = format!("{}/{}", resource["resourceType"].as_str().unwrap_or(""), resource["id"].as_str().unwrap_or(""));
            entries.push(serde_json::json!({"fullUrl": url, "resource": resource, "request": {"method": "PUT", "url": url}}));
        }
    }
    Bundle::from_json(&serde_json::json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}).to_string())
}
