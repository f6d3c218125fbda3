//! Integration tests against real servers started on 127.0.0.1 for each test and killed afterwards: SEKMET's
//! asynchronous `$export` (kick-off, polling, manifest, NDJSON files behind bearer auth) and the payer SMART
//! standalone launch driven headlessly against oauth2-mock-server, then reading the payer resources from SEKMET
//! with the launch's token. Install the servers first with `scripts/install-test-servers.sh`; without them these
//! tests fail and say so.

use std::collections::BTreeMap;

use crate::support::servers::{client_for, oauth2_server, sekmet, Server};
use crate::support::{CLIENT_ID, CLIENT_SECRET};
use fhir_models::r4::{
    Bundle, Coverage, ExplanationOfBenefit, Organization, Patient, Practitioner, Resource, R4,
};
use fhir_models::FhirJson;
use futures_util::{StreamExt, TryStreamExt};
use oneup_client::{
    AppCredentials, AuthorizationProblem, Error, ExportRequest, Payer, PollPolicy, Secret, Session,
};
use serde_json::{json, Value};

fn transaction(resources: Vec<Value>) -> Bundle {
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let url = format!("{}/{}", r["resourceType"].as_str().unwrap(), r["id"].as_str().unwrap());
            json!({"fullUrl": url, "resource": r, "request": {"method": "PUT", "url": url}})
        })
        .collect();
    Bundle::from_json(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}).to_string()).unwrap()
}

/// A session of the app at these servers, with a token from the OAuth2 server.
async fn app_session(server: &Server, auth: &Server) -> Session {
    let client = client_for(server, auth);
    let tokens = client.exchange_code(&Secret::new("any-code")).await.expect("code exchange");
    Session::new(client, tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sekmet_exports_280_resources_asynchronously_and_every_ndjson_line_is_read() {
    let auth = oauth2_server(3600);
    let server = sekmet(Some(&auth));
    let session = app_session(&server, &auth).await;
    let mut resources = Vec::new();
    for i in 0..200 {
        resources.push(json!({"resourceType": "Patient", "id": format!("pt-{i:04}"), "gender": if i % 2 == 0 { "female" } else { "male" }}));
    }
    for i in 0..80 {
        resources.push(json!({"resourceType": "Observation", "id": format!("obs-{i:04}"), "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "66334-4"}]},
            "subject": {"reference": format!("Patient/pt-{:04}", i % 200)}, "valueQuantity": {"value": i, "unit": "steps"}}));
    }
    resources.push(json!({"resourceType": "Organization", "id": "org-1", "name": "Not exported"}));
    let loaded = session.fhir::<R4>().transaction(&transaction(resources)).await.expect("transaction");
    assert_eq!(loaded.entry.len(), 281);

    let bulk = session.bulk::<R4>().with_polling(PollPolicy {
        default_interval: std::time::Duration::from_millis(200),
        ..PollPolicy::default()
    });
    let job = bulk.kick_off(&ExportRequest::new().types(["Patient", "Observation"])).await.expect("kick-off");
    assert!(job.status_url().is_some(), "SEKMET answers 202 with a status URL");
    let mut progress = Vec::new();
    let manifest = job.wait(|p| progress.push(p.text.clone())).await.expect("export");
    assert!(!progress.is_empty(), "SEKMET reports progress before the manifest");
    assert!(progress.iter().all(|p| p.is_some()), "{progress:?}");
    assert!(manifest.requires_access_token);
    assert_eq!(manifest.output.len(), 2);

    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut patients_with_gender = 0;
    for file in &manifest.output {
        let mut lines = bulk.resources(&manifest, file);
        while let Some(line) = lines.next().await {
            let resource = line.unwrap_or_else(|e| panic!("every line is a resource: {e}"));
            if let Resource::Patient(p) = &resource {
                patients_with_gender += usize::from(p.gender.is_some());
            }
            *counts.entry(resource.resource_type().to_owned()).or_default() += 1;
        }
        assert_eq!(file.count.map(|c| c as usize), counts.get(&file.resource_type).copied(), "{file:?}");
    }
    assert_eq!(counts, BTreeMap::from([("Observation".to_owned(), 80), ("Patient".to_owned(), 200)]));
    assert_eq!(patients_with_gender, 200);
    let typed: Vec<Patient> = bulk.file_as::<Patient>(&manifest, &manifest.output[1]).try_collect().await.unwrap();
    assert_eq!(typed.len(), 200);

    // Without the token, SEKMET refuses the files (the manifest's requiresAccessToken is real).
    let raw = reqwest::get(&manifest.output[0].url).await.unwrap();
    assert_eq!(raw.status(), 401);

    // A second export, cancelled: SEKMET forgets it.
    let job = bulk.kick_off(&ExportRequest::new()).await.expect("kick-off");
    let mut probe = job.clone();
    job.cancel().await.expect("cancel");
    let err = probe.status().await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");

    // An unknown type never reaches the server.
    let err = bulk.kick_off(&ExportRequest::new().types(["Patient", "Claims"])).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payer_launch_runs_headlessly_and_reads_the_member_resources() {
    let auth = oauth2_server(3600);
    let server = sekmet(Some(&auth));
    // The plan's data, loaded by the app's own session.
    let plan = json!([
        {"resourceType": "Patient", "id": "member-1", "name": [{"family": "Member", "given": ["Mia"]}], "gender": "female"},
        {"resourceType": "Organization", "id": "plan", "name": "1up Demo Health Plan"},
        {"resourceType": "Practitioner", "id": "dr-1", "name": [{"family": "Doctor"}]},
        {"resourceType": "Coverage", "id": "cov-1", "status": "active", "beneficiary": {"reference": "Patient/member-1"},
         "payor": [{"reference": "Organization/plan"}]},
        {"resourceType": "ExplanationOfBenefit", "id": "eob-1", "status": "active", "use": "claim", "outcome": "complete",
         "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
         "patient": {"reference": "Patient/member-1"}, "created": "2024-03-01T00:00:00Z",
         "insurer": {"reference": "Organization/plan"}, "provider": {"reference": "Practitioner/dr-1"},
         "insurance": [{"focal": true, "coverage": {"reference": "Coverage/cov-1"}}]},
        {"resourceType": "ExplanationOfBenefit", "id": "eob-2", "status": "active", "use": "claim", "outcome": "complete",
         "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "pharmacy"}]},
         "patient": {"reference": "Patient/member-1"}, "created": "2024-04-01T00:00:00Z",
         "insurer": {"reference": "Organization/plan"}, "provider": {"reference": "Practitioner/dr-1"},
         "insurance": [{"focal": true, "coverage": {"reference": "Coverage/cov-1"}}]}
    ]);
    let app = app_session(&server, &auth).await;
    app.fhir::<R4>().transaction(&transaction(plan.as_array().unwrap().clone())).await.expect("load the plan");

    let redirect_uri = "http://127.0.0.1:9/callback";
    let payer = Payer::builder(AppCredentials::new(CLIENT_ID, CLIENT_SECRET), "1updemohealthplan.com", "demoplan")
        .authorize_url(auth.get("authorize_url"))
        .token_url(auth.get("token_url"))
        .fhir_base(server.get("base_url"))
        .redirect_uri(redirect_uri)
        .aud_fhir_base()
        .build()
        .unwrap();

    // 1. The authorization request; the "browser" follows it and oauth2-mock-server approves at once.
    let launch = payer.authorize();
    let query: BTreeMap<String, String> = launch.url().query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], redirect_uri);
    assert_eq!(query["scope"], "user/*.read");
    assert_eq!(query["state"], launch.state());
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["aud"], server.get("base_url"));
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = browser.get(launch.url().clone()).send().await.expect("authorize");
    assert!(answer.status().is_redirection(), "authorize answered {}", answer.status());
    let callback = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(redirect_uri), "{callback}");

    // A forged callback (another state) is refused before the code is used...
    let forged = callback.replace(&format!("state={}", launch.state()), "state=forged");
    let err = payer.complete(&launch, &forged).await.unwrap_err();
    assert!(matches!(err, Error::Authorization { problem: AuthorizationProblem::StateMismatch, .. }), "{err:?}");
    // ...and the real one is exchanged with the PKCE verifier (the server checks it against the challenge).
    let member = payer.complete(&launch, &callback).await.expect("code exchange");
    let first = member.tokens().await;
    assert!(first.refresh_token.is_some());
    // The same code and state restored from storage, but with a wrong verifier: refused by the token endpoint.
    let wrong = payer.resume_launch(launch.state(), Secret::new("x".repeat(50)));
    let err = payer.complete(&wrong, &callback).await.unwrap_err();
    assert!(matches!(err, Error::GrantRefused { .. } | Error::Status { .. }), "{err:?}");

    // 2. Refresh at the plan's token endpoint (a second later: a JWT issued in the same second would be the same).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let refreshed = member.refresh().await.expect("refresh");
    assert_ne!(refreshed.access_token, first.access_token);

    // 3. Read-only FHIR R4 with the member's token.
    let fhir = member.fhir();
    assert_eq!(fhir.base_url().as_str(), server.get("base_url"));
    let patient: Patient = fhir.read("member-1").await.unwrap();
    assert_eq!(patient.name[0].family.as_ref().and_then(|f| f.value.as_deref()), Some("Member"));
    let claims: Vec<ExplanationOfBenefit> =
        fhir.search_resources([("patient", "Patient/member-1"), ("_count", "1")]).try_collect().await.unwrap();
    assert_eq!(claims.len(), 2, "two EOBs over two pages");
    let coverage: Vec<Coverage> = fhir.search_resources([("beneficiary", "Patient/member-1")]).try_collect().await.unwrap();
    assert_eq!(coverage.len(), 1);
    let insurer: Organization = fhir.read("plan").await.unwrap();
    assert_eq!(insurer.name.as_ref().and_then(|n| n.value.as_deref()), Some("1up Demo Health Plan"));
    let practitioners: Vec<Practitioner> = fhir.search_resources(()).try_collect().await.unwrap();
    assert_eq!(practitioners.len(), 1);
}
