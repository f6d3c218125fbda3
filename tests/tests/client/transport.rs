//! Transport faults (wiremock and a raw TCP peer): retries of idempotent requests only, `Retry-After`, timeouts,
//! cut bodies, malformed JSON, the size cap and unreachable hosts.

use std::time::{Duration, Instant};

use crate::support::*;
use fhir_models::r4::{Patient, R4};
use oneup_client::{Error, RetryPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fhir_patient(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(patient(id).to_string(), "application/fhir+json")
}

async fn read_p1(client: oneup_client::OneUpClient) -> Result<Patient, Error> {
    session(client).fhir::<R4>().read::<Patient>("p1").await
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_then_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/r4/Patient/p1")).respond_with(fhir_patient("p1")).expect(1).mount(&server).await;
    let started = Instant::now();
    read_p1(client(&server)).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(950), "Retry-After was not honored: {:?}", started.elapsed());
}

#[tokio::test]
async fn a_retry_after_beyond_the_allowed_wait_is_returned_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let err = read_p1(client(&server)).await.unwrap_err();
    match err {
        Error::Status { status: 429, retry_after, .. } => assert_eq!(retry_after, Some(Duration::from_secs(3600))),
        other => panic!("expected a 429, got {other:?}"),
    }
}

#[tokio::test]
async fn a_503_is_retried_with_backoff_and_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/r4/Patient/p1")).respond_with(fhir_patient("p1")).expect(1).mount(&server).await;
    read_p1(client(&server)).await.unwrap();
}

#[tokio::test]
async fn retries_are_bounded() {
    let server = MockServer::start().await;
    for status in [502u16, 504] {
        server.reset().await;
        Mock::given(method("GET"))
            .and(path("/r4/Patient/p1"))
            .respond_with(ResponseTemplate::new(status))
            .expect(3) // the first try and max_retries = 2
            .mount(&server)
            .await;
        let err = read_p1(client(&server)).await.unwrap_err();
        assert_eq!(err.status(), Some(status));
        server.verify().await;
    }
    server.reset().await;
    Mock::given(method("GET")).and(path("/r4/Patient/p1")).respond_with(ResponseTemplate::new(503)).expect(1).mount(&server).await;
    let no_retries = builder(&server).retry(RetryPolicy::none()).build().unwrap();
    assert_eq!(read_p1(no_retries).await.unwrap_err().status(), Some(503));
}

#[tokio::test]
async fn a_post_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/r4/Patient"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "0"))
        .expect(1)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    let p = <Patient as fhir_models::FhirJson>::from_json(r#"{"resourceType":"Patient","id":"p1"}"#).unwrap();
    let err = fhir.create(&p).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    Mock::given(method("POST"))
        .and(path("/user-management/v1/user"))
        .respond_with(ResponseTemplate::new(429))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).create_user("u").await.unwrap_err();
    assert_eq!(err.status(), Some(429));
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(fhir_patient("p1").set_delay(Duration::from_secs(3)))
        .expect(1) // timeouts are not retried
        .mount(&server)
        .await;
    let client = builder(&server).timeout(Duration::from_millis(300)).build().unwrap();
    let started = Instant::now();
    let err = read_p1(client).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.to_string().contains("read Patient/p1 (GET"), "{err}");
}

/// A peer that answers every connection with `response` and closes it.
async fn raw_peer(response: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(&response).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

fn raw_client(base: &str) -> oneup_client::OneUpClient {
    oneup_client::OneUpClient::builder(oneup_client::AppCredentials::new(CLIENT_ID, CLIENT_SECRET))
        .api_base(base)
        .token_url(format!("{base}/token"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_truncated_body_is_a_transport_error() {
    let body = r#"{"resourceType":"Patient","id":"p1","gen"#;
    let response = format!("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nContent-Length: 400\r\nConnection: close\r\n\r\n{body}");
    let base = raw_peer(response.into_bytes()).await;
    let err = read_p1(raw_client(&base)).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains("cut short"), "{err}");
}

#[tokio::test]
async fn malformed_json_is_a_decode_error_with_its_position() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"resourceType\":\"Patient\",\n\"id\": }", "application/fhir+json"))
        .mount(&server)
        .await;
    let err = read_p1(client(&server)).await.unwrap_err();
    assert!(matches!(err, Error::Fhir { .. }), "{err:?}");
    assert!(err.to_string().contains("line 2"), "{err}");
    assert!(err.body().is_some_and(|b| b.contains("\"id\": }")), "the body is kept: {err:?}");
}

#[tokio::test]
async fn answers_over_the_size_cap_are_refused() {
    // Announced by Content-Length...
    let server = MockServer::start().await;
    let big = format!(r#"{{"resourceType":"Patient","id":"p1","gender":"female","text":{{"status":"generated","div":"{}"}}}}"#, "x".repeat(5000));
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(big.clone(), "application/fhir+json"))
        .mount(&server)
        .await;
    let capped = builder(&server).max_response_bytes(1024).build().unwrap();
    let err = read_p1(capped).await.unwrap_err();
    assert!(matches!(err, Error::ResponseTooLarge { limit: 1024, .. }), "{err:?}");
    // ...or only found while reading a chunked body.
    let chunked = format!("HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n", big.len());
    let base = raw_peer(chunked.into_bytes()).await;
    let capped = oneup_client::OneUpClient::builder(oneup_client::AppCredentials::new(CLIENT_ID, CLIENT_SECRET))
        .api_base(&base)
        .max_response_bytes(1024)
        .build()
        .unwrap();
    let err = read_p1(capped).await.unwrap_err();
    assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unreachable_host_is_retried_then_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener); // nothing listens there now
    let client = oneup_client::OneUpClient::builder(oneup_client::AppCredentials::new(CLIENT_ID, CLIENT_SECRET))
        .api_base(&base)
        .retry(RetryPolicy { max_retries: 2, initial_backoff: Duration::from_millis(5), ..RetryPolicy::default() })
        .build()
        .unwrap();
    let err = read_p1(client.clone()).await.unwrap_err();
    match &err {
        Error::Connect { attempts, .. } => assert_eq!(*attempts, 3),
        other => panic!("expected a connect error, got {other:?}"),
    }
    // A POST is tried once only.
    match client.create_user("u").await.unwrap_err() {
        Error::Connect { attempts, .. } => assert_eq!(attempts, 1),
        other => panic!("expected a connect error, got {other:?}"),
    }
    assert_no_secret(&format!("{err} {err:?}"));
}
