//! Bulk data `$export` against wiremock: the kick-off's request shape, 1upHealth's immediate manifest, the
//! standard 202 → 202 → 200 flow with progress events, failures, cancel, and the NDJSON downloads (token rules,
//! malformed lines, constant memory).

use std::time::{Duration, Instant};

use crate::support::*;
use fhir_models::r4::{OperationOutcome, Patient, Resource, R4};
use fhir_models::FhirVersion;
use futures_util::{StreamExt, TryStreamExt};
use oneup_client::{Error, ExportRequest, ExportStatus, Manifest, PollPolicy};
use serde_json::json;
use wiremock::matchers::{header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const EXPORT: &str = "/bulk-data/r4/$export";

fn manifest(server: &MockServer, requires_token: bool) -> serde_json::Value {
    json!({
        "transactionTime": "2024-05-01T10:00:00Z",
        "request": format!("{}{EXPORT}", server.uri()),
        "requiresAccessToken": requires_token,
        "output": [
            {"type": "Patient", "url": format!("{}/files/Patient.ndjson", server.uri())},
            {"type": "Observation", "url": format!("{}/files/Observation.ndjson", server.uri()), "count": 2}
        ],
        "error": [{"type": "OperationOutcome", "url": format!("{}/files/errors.ndjson", server.uri())}]
    })
}

fn ndjson(lines: &[serde_json::Value]) -> String {
    lines.iter().map(|l| l.to_string() + "\n").collect()
}

fn observation(id: &str) -> serde_json::Value {
    json!({"resourceType": "Observation", "id": id, "status": "final", "code": {"text": "steps"}})
}

async fn mount_file(server: &MockServer, name: &str, body: String) {
    Mock::given(method("GET"))
        .and(path(format!("/files/{name}")))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/fhir+ndjson"))
        .mount(server)
        .await;
}

fn fast_polling() -> PollPolicy {
    PollPolicy { default_interval: Duration::from_millis(20), max_interval: Duration::from_millis(100), max_wait: Duration::from_secs(10) }
}

#[tokio::test]
async fn the_kick_off_sends_type_prefer_and_token_and_takes_an_immediate_manifest() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("_type", "Patient,Observation"))
        .and(query_param("_since", "2024-01-01T00:00:00Z"))
        .and(header("prefer", "respond-async"))
        .and(header("accept", "application/fhir+json"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(manifest(&server, true)))
        .expect(1)
        .mount(&server)
        .await;
    mount_file(&server, "Patient.ndjson", ndjson(&[patient("p1"), patient("p2"), patient("p3")])).await;
    mount_file(&server, "Observation.ndjson", ndjson(&[observation("o1"), observation("o2")])).await;
    let bulk = session(client(&server)).bulk::<R4>();
    assert_eq!(bulk.base_url().as_str(), format!("{}/bulk-data/r4", server.uri()));

    let request = ExportRequest::new().types(["Patient", "Observation"]).since("2024-01-01T00:00:00Z");
    let mut job = bulk.kick_off(&request).await.unwrap();
    assert!(job.status_url().is_none());
    assert!(job.immediate_manifest().is_some());
    let ExportStatus::Complete(manifest) = job.status().await.unwrap() else { panic!("immediate manifest") };
    assert!(manifest.requires_access_token);
    assert_eq!(manifest.output.len(), 2);
    assert_eq!(manifest.output[1].count, Some(2));
    assert_eq!(manifest.error.len(), 1);
    let manifest = job.wait(|_| panic!("no progress for an immediate manifest")).await.unwrap();

    let patients: Vec<Resource> = bulk.resources(&manifest, &manifest.output[0]).try_collect().await.unwrap();
    assert_eq!(patients.len(), 3);
    assert!(patients.iter().all(|r| r.resource_type() == "Patient"));
    let typed: Vec<Patient> = bulk.file_as::<Patient>(&manifest, &manifest.output[0]).try_collect().await.unwrap();
    assert_eq!(typed[2].id.as_deref(), Some("p3"));
    let observations: Vec<Resource> = bulk.resources(&manifest, &manifest.output[1]).try_collect().await.unwrap();
    assert_eq!(observations.len(), 2);

    // Every file request carried the token and asked for NDJSON (same origin, requiresAccessToken).
    let requests = server.received_requests().await.unwrap();
    let files: Vec<&Request> = requests.iter().filter(|r| r.url.path().starts_with("/files/")).collect();
    assert_eq!(files.len(), 3);
    for file in files {
        assert_eq!(file.headers["authorization"], format!("Bearer {ACCESS}").as_str());
        assert_eq!(file.headers["accept"], "application/fhir+ndjson");
    }
}

#[tokio::test]
async fn a_202_202_200_export_reports_progress_honors_a_capped_retry_after_and_ends_with_the_manifest() {
    let server = MockServer::start().await;
    let status_path = "/bulk-status/job-1";
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(
            ResponseTemplate::new(202).insert_header("content-location", format!("{}{status_path}", server.uri())),
        )
        .expect(1)
        .mount(&server)
        .await;
    // Two polls in progress (the second with a Retry-After of an hour, cut to the policy's cap), then done.
    for (progress, retry_after) in [("collecting", "0"), ("50% complete", "3600")] {
        Mock::given(method("GET"))
            .and(path(status_path))
            .respond_with(ResponseTemplate::new(202).insert_header("x-progress", progress).insert_header("retry-after", retry_after))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(status_path))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(manifest(&server, false)))
        .expect(1)
        .mount(&server)
        .await;
    let bulk = session(client(&server)).bulk::<R4>().with_polling(fast_polling());
    let job = bulk.kick_off(&ExportRequest::new()).await.unwrap();
    assert_eq!(job.status_url().unwrap().path(), status_path);

    let started = Instant::now();
    let events: Vec<ExportStatus> = job.events().try_collect().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "Retry-After was capped: {:?}", started.elapsed());
    assert_eq!(events.len(), 3);
    let ExportStatus::InProgress(first) = &events[0] else { panic!("{events:?}") };
    assert_eq!(first.text.as_deref(), Some("collecting"));
    assert_eq!(first.retry_after, Some(Duration::ZERO));
    assert_eq!(first.polls, 1);
    let ExportStatus::InProgress(second) = &events[1] else { panic!("{events:?}") };
    assert_eq!(second.text.as_deref(), Some("50% complete"));
    assert_eq!(second.retry_after, Some(Duration::from_secs(3600)));
    assert!(second.to_string().starts_with("50% complete (poll 2"), "{second}");
    let ExportStatus::Complete(manifest) = &events[2] else { panic!("{events:?}") };
    assert!(!manifest.requires_access_token);
    assert_eq!(manifest.output.len(), 2);
}

#[tokio::test]
async fn wait_calls_back_with_each_progress_event() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(ResponseTemplate::new(202).insert_header("content-location", "/bulk-status/relative"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/bulk-status/relative"))
        .respond_with(ResponseTemplate::new(202).insert_header("x-progress", "working"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/bulk-status/relative"))
        .respond_with(ResponseTemplate::new(200).set_body_json(manifest(&server, true)))
        .mount(&server)
        .await;
    let bulk = session(client(&server)).bulk::<R4>().with_polling(fast_polling());
    let job = bulk.kick_off(&ExportRequest::new()).await.unwrap();
    let mut seen = Vec::new();
    let manifest: Manifest = job.wait(|p| seen.push((p.polls, p.text.clone()))).await.unwrap();
    assert_eq!(seen, [(1, Some("working".to_owned())), (2, Some("working".to_owned()))]);
    assert_eq!(manifest.output[0].resource_type, "Patient");
}

#[tokio::test]
async fn a_kick_off_refused_with_an_operation_outcome_is_a_typed_status_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(ResponseTemplate::new(400).set_body_json(outcome("not-supported", "Unsupported _outputFormat")))
        .expect(1)
        .mount(&server)
        .await;
    let bulk = session(client(&server)).bulk::<R4>();
    let err = bulk.kick_off(&ExportRequest::new().param("_outputFormat", "text/csv")).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
    let outcome: &OperationOutcome = err.operation_outcome::<R4>().expect("the OperationOutcome");
    assert_eq!(outcome.issue.len(), 1);
    let text = err.to_string();
    assert!(text.starts_with(&format!("bulk export kick-off (GET {}{EXPORT})", server.uri())), "{text}");
    assert!(text.contains("Unsupported _outputFormat"), "{text}");
}

#[tokio::test]
async fn an_invalid_type_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(500)).expect(0).mount(&server).await;
    let bulk = session(client(&server)).bulk::<R4>();
    for bad in ["Patients", "patient", "", "Patient,Observation", "Patient\"}"] {
        let err = bulk.kick_off(&ExportRequest::new().types(["Observation", bad])).await.unwrap_err();
        let Error::InvalidArgument { request, message } = &err else { panic!("{err:?}") };
        assert!(request.starts_with("bulk export kick-off"), "{request}");
        assert!(message.contains("is not a FHIR r4 resource type"), "{message}");
    }
    assert!(oneup_client::is_resource_type::<R4>("ExplanationOfBenefit"));
    assert!(!oneup_client::is_resource_type::<R4>("Foo"));
}

#[tokio::test]
async fn a_file_on_another_origin_without_requires_access_token_gets_no_token() {
    let server = MockServer::start().await;
    let storage = MockServer::start().await; // e.g. a presigned object-store URL
    Mock::given(method("GET"))
        .and(path("/store/Patient.ndjson"))
        .respond_with(ResponseTemplate::new(200).set_body_string(ndjson(&[patient("p1"), patient("p2")])))
        .expect(1)
        .mount(&storage)
        .await;
    let bulk = session(client(&server)).bulk::<R4>();
    let remote: Manifest = serde_json::from_value(json!({
        "transactionTime": "2024-05-01T10:00:00Z", "request": "x", "requiresAccessToken": false,
        "output": [{"type": "Patient", "url": format!("{}/store/Patient.ndjson?X-Sig=abc", storage.uri())}]
    }))
    .unwrap();
    let read: Vec<Resource> = bulk.resources(&remote, &remote.output[0]).try_collect().await.unwrap();
    assert_eq!(read.len(), 2);
    let requests = storage.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].headers.get("authorization").is_none(), "the token went to another origin");

    // A file there that does need the token is refused without a request: the token stays home.
    let mut needs_token = remote.clone();
    needs_token.requires_access_token = true;
    let err = bulk.resources(&needs_token, &needs_token.output[0]).next().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
    assert!(err.to_string().contains("another origin"), "{err}");
    assert!(!err.to_string().contains("X-Sig"), "no query in errors: {err}");
    assert_eq!(storage.received_requests().await.unwrap().len(), 1);

    // On the bulk-data origin without requiresAccessToken: no token either.
    mount_file(&server, "Patient.ndjson", ndjson(&[patient("p1")])).await;
    let local: Manifest = serde_json::from_value(manifest(&server, false)).unwrap();
    let read: Vec<Resource> = bulk.resources(&local, &local.output[0]).try_collect().await.unwrap();
    assert_eq!(read.len(), 1);
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| r.headers.get("authorization").is_none()));
}

#[tokio::test]
async fn one_malformed_line_is_reported_with_file_and_line_and_the_rest_is_read() {
    let server = MockServer::start().await;
    let body = format!(
        "{}\n{}\n\n{}\r\n{{\"resourceType\": \"Patient\", \"id\": \n{}\n{}",
        patient("p1"),
        patient("p2"),
        patient("p3"),
        json!({"resourceType": "NoSuchType", "id": "x"}),
        patient("p6") // the last line has no newline
    );
    mount_file(&server, "Patient.ndjson", body).await;
    let bulk = session(client(&server)).bulk::<R4>();
    let manifest: Manifest = serde_json::from_value(manifest(&server, true)).unwrap();
    let items: Vec<oneup_client::Result<Resource>> = bulk.resources(&manifest, &manifest.output[0]).collect().await;
    assert_eq!(items.len(), 6, "{items:?}");
    let ids: Vec<String> = items
        .iter()
        .filter_map(|i| match i.as_ref().ok()? {
            Resource::Patient(p) => p.id.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(ids, ["p1", "p2", "p3", "p6"]);
    let errors: Vec<&Error> = items.iter().filter_map(|i| i.as_ref().err()).collect();
    assert_eq!(errors.len(), 2);
    for (error, line) in errors.iter().zip([5, 6]) {
        assert!(error.is_line_error());
        let Error::NdjsonLine { file, line: at, message } = error else { panic!("{error:?}") };
        assert_eq!(*at, line, "{error}");
        assert_eq!(file, &format!("download Patient file (GET {}/files/Patient.ndjson)", server.uri()));
        assert!(!message.is_empty());
    }
    assert!(errors[1].to_string().contains("NoSuchType"), "{}", errors[1]);
}

#[tokio::test]
async fn files_are_read_in_pieces_past_the_body_cap_but_a_line_longer_than_it_fails() {
    let server = MockServer::start().await;
    let lines: Vec<serde_json::Value> = (0..400).map(|i| patient(&format!("patient-{i:05}"))).collect();
    let big = ndjson(&lines);
    assert!(big.len() > 16 * 1024);
    mount_file(&server, "Patient.ndjson", big).await;
    let long_line = json!({"resourceType": "Patient", "id": "x", "name": [{"text": "a".repeat(8000)}]}).to_string();
    mount_file(&server, "Observation.ndjson", format!("{}\n{long_line}\n", observation("o1"))).await;
    let bulk = session(builder(&server).max_response_bytes(4096).build().unwrap()).bulk::<R4>();
    let manifest: Manifest = serde_json::from_value(manifest(&server, true)).unwrap();
    let count = bulk.resources(&manifest, &manifest.output[0]).try_fold(0usize, |n, _| async move { Ok(n + 1) }).await;
    assert_eq!(count.unwrap(), 400);
    let items: Vec<_> = bulk.resources(&manifest, &manifest.output[1]).collect().await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert!(matches!(items[1], Err(Error::ResponseTooLarge { limit: 4096, .. })), "{:?}", items[1].as_ref().err());
}

#[tokio::test]
async fn the_error_files_are_read_as_operation_outcomes() {
    let server = MockServer::start().await;
    mount_file(&server, "errors.ndjson", ndjson(&[outcome("not-found", "Patient/p9 is gone"), outcome("too-costly", "x")])).await;
    let bulk = session(client(&server)).bulk::<R4>();
    let manifest: Manifest = serde_json::from_value(manifest(&server, true)).unwrap();
    let outcomes: Vec<OperationOutcome> = bulk.errors(&manifest, &manifest.error[0]).try_collect().await.unwrap();
    assert_eq!(outcomes.len(), 2);
    assert!(R4::outcome_summary(&outcomes[0]).contains("Patient/p9 is gone"));
}

#[tokio::test]
async fn a_failed_export_a_missing_file_and_a_cancel() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .respond_with(ResponseTemplate::new(202).insert_header("content-location", "/bulk-status/j2"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/bulk-status/j2"))
        .respond_with(ResponseTemplate::new(500).set_body_json(outcome("exception", "disk full")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/bulk-status/j2"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(202).set_body_json(outcome("informational", "Export cancelled")))
        .expect(1)
        .mount(&server)
        .await;
    let bulk = session(client(&server)).bulk::<R4>().with_polling(fast_polling());
    let job = bulk.kick_off(&ExportRequest::new()).await.unwrap();
    let keep = job.clone();
    let err = job.wait(|_| {}).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.to_string().contains("disk full"), "{err}");
    keep.cancel().await.unwrap();

    // A file that is gone: the status error, as the stream's only item.
    let manifest: Manifest = serde_json::from_value(manifest(&server, true)).unwrap();
    let items: Vec<_> = bulk.resources(&manifest, &manifest.output[0]).collect().await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap_err().status(), Some(404));
}

#[tokio::test]
async fn polling_gives_up_after_max_wait_and_a_foreign_status_url_is_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("_type", "Patient"))
        .respond_with(ResponseTemplate::new(202).insert_header("content-location", "/bulk-status/slow"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/bulk-status/slow"))
        .respond_with(ResponseTemplate::new(202).insert_header("x-progress", "still going"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(EXPORT))
        .and(query_param("_type", "Observation"))
        .respond_with(ResponseTemplate::new(202).insert_header("content-location", "https://elsewhere.example/status/1"))
        .mount(&server)
        .await;
    let policy = PollPolicy { max_wait: Duration::from_millis(200), ..fast_polling() };
    let bulk = session(client(&server)).bulk::<R4>().with_polling(policy);
    let job = bulk.kick_off(&ExportRequest::new().types(["Patient"])).await.unwrap();
    let err = job.wait(|_| {}).await.unwrap_err();
    let Error::ExportNotReady { polls, progress, .. } = &err else { panic!("{err:?}") };
    assert!(*polls >= 2, "{err}");
    assert_eq!(progress, "still going");

    let err = bulk.kick_off(&ExportRequest::new().types(["Observation"])).await.unwrap_err();
    assert!(err.to_string().contains("another origin (https://elsewhere.example)"), "{err}");
}

#[tokio::test]
async fn a_file_refused_with_401_is_fetched_again_after_a_refresh_and_no_secret_is_logged() {
    let (logs, _guard) = LogCapture::start();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/files/Patient.ndjson"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(401).set_body_json(outcome("expired", "Access token expired")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/files/Patient.ndjson"))
        .and(header("authorization", format!("Bearer {NEW_ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_string(ndjson(&[patient("p1")])))
        .expect(1)
        .mount(&server)
        .await;
    mount_refresh(&server, 1).await;
    let bulk = session(client(&server)).bulk::<R4>();
    let manifest: Manifest = serde_json::from_value(manifest(&server, true)).unwrap();
    let read: Vec<Resource> = bulk.resources(&manifest, &manifest.output[0]).try_collect().await.unwrap();
    assert_eq!(read.len(), 1);
    assert_no_secret(&logs.text());
    assert_no_secret(&format!("{bulk:?} {manifest:?}"));
}
