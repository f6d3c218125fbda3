//! One session across FHIR bases and clients (one token store, one refresh), the origin allow-list for paging and
//! bulk files, redirects of downloads, the `Session::send` escape hatch, `ResponseValue`, the error accessors, the
//! bounded wait for connected data, the refresh margin, and the redaction of every secret the client sent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::support::*;
use fhir_models::dstu2::Dstu2;
use fhir_models::r4::{Patient, R4};
use futures_util::{StreamExt, TryStreamExt};
use oneup_client::http::Method;
use oneup_client::{Error, ExportRequest, PagingStop, PollPolicy, RetryPolicy, Secret, Session, Tokens};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Answers 401 to the old token and the patient to the new one, on `route`.
async fn mount_rotating(server: &MockServer, route: &str) {
    Mock::given(method("GET"))
        .and(path(route))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(fhir_json(401, outcome("login", "expired")).set_delay(Duration::from_millis(50)))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(route))
        .and(header("authorization", format!("Bearer {NEW_ACCESS}").as_str()))
        .respond_with(fhir_json(200, patient("p1")))
        .mount(server)
        .await;
}

#[tokio::test]
async fn several_bases_and_a_second_client_share_one_session_and_one_refresh() {
    let api = MockServer::start().await;
    let other_host = MockServer::start().await;
    mount_refresh(&api, 1).await;
    mount_rotating(&api, "/r4/Patient/p1").await;
    mount_rotating(&api, "/fhir/r4/Patient/p1").await;
    mount_rotating(&other_host, "/r4/Patient/p1").await;
    let rotations = Arc::new(AtomicUsize::new(0));
    let seen = rotations.clone();
    let session = session(client(&api)).on_rotation(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    // A second client (another API host, same keys) acting with the same tokens.
    let second = session.with_client(builder(&other_host).token_url("http://127.0.0.1:9/never").build().unwrap());
    assert!(second.shares_tokens_with(&session));
    let a = session.fhir::<R4>();
    let b = session.fhir_at::<R4>("/fhir/{version}").unwrap();
    let c = second.fhir::<R4>();
    let (ra, rb, rc) = tokio::join!(a.read::<Patient>("p1"), b.read::<Patient>("p1"), c.read::<Patient>("p1"));
    for read in [ra, rb, rc] {
        assert_eq!(read.unwrap().id.as_deref(), Some("p1"));
    }
    // One refresh (at the first client's token endpoint; the second's is unreachable), seen by every copy.
    assert_eq!(rotations.load(Ordering::SeqCst), 1);
    assert_eq!(second.tokens().await.refresh_token.unwrap().expose(), NEW_REFRESH);
}

#[tokio::test]
async fn paging_follows_another_origin_only_when_it_is_allowed() {
    let server = MockServer::start().await;
    // The same server under another name: `localhost` instead of `127.0.0.1`.
    let port = server.address().port();
    let next = format!("http://localhost:{port}/r4/Patient?page=2");
    Mock::given(method("GET"))
        .and(path("/r4/Patient"))
        .and(query_param("page", "2"))
        .respond_with(fhir_json(200, bundle(&[patient("p2")], None)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient"))
        .and(query_param("gender", "female"))
        .respond_with(fhir_json(200, bundle(&[patient("p1")], Some(&next))))
        .mount(&server)
        .await;
    let stopped: Vec<_> = session(client(&server)).fhir::<R4>().search_resources::<Patient>([("gender", "female")]).collect().await;
    assert!(stopped[0].is_ok());
    let Err(Error::Paging { reason: PagingStop::ForeignOrigin(origin), .. }) = &stopped[1] else { panic!("{stopped:?}") };
    assert_eq!(origin, &format!("http://localhost:{port}"));

    let allowed = builder(&server).allow_origin(format!("http://localhost:{port}")).build().unwrap();
    let all: Vec<Patient> =
        session(allowed).fhir::<R4>().search_resources::<Patient>([("gender", "female")]).try_collect().await.unwrap();
    assert_eq!(all.len(), 2);
}

/// Answers with the request's `Authorization` header, or `none`.
struct EchoAuthorization;

impl Respond for EchoAuthorization {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let auth = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("none");
        let line = json!({"resourceType": "Patient", "id": "p1", "name": [{"text": auth}]});
        ResponseTemplate::new(200).set_body_raw(format!("{line}\n"), "application/fhir+ndjson")
    }
}

#[tokio::test]
async fn downloads_follow_redirects_without_the_token_across_origins() {
    let bulk_host = MockServer::start().await;
    let files = MockServer::start().await;
    for (requires_token, file) in [(false, "open"), (true, "signed")] {
        Mock::given(method("GET"))
            .and(path(format!("/bulk-data/r4/{file}/$export")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "requiresAccessToken": requires_token,
                "output": [
                    {"type": "Patient", "url": format!("{}/files/{file}-here.ndjson", bulk_host.uri())},
                ]
            })))
            .mount(&bulk_host)
            .await;
        // The bulk host redirects once on its origin, then to the file host.
        Mock::given(method("GET"))
            .and(path(format!("/files/{file}-here.ndjson")))
            .respond_with(ResponseTemplate::new(302).insert_header("location", format!("/files/{file}-moved.ndjson")))
            .mount(&bulk_host)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("/files/{file}-moved.ndjson")))
            .respond_with(ResponseTemplate::new(307).insert_header("location", format!("{}/f/{file}.ndjson", files.uri())))
            .mount(&bulk_host)
            .await;
    }
    Mock::given(method("GET")).respond_with(EchoAuthorization).mount(&files).await;
    let session = session(client(&bulk_host));
    for (file, version_path) in [("open", "/bulk-data/{version}/open"), ("signed", "/bulk-data/{version}/signed")] {
        let s = session.with_client(builder(&bulk_host).bulk_path(version_path).build().unwrap());
        let bulk = s.bulk::<R4>();
        let manifest = bulk.kick_off(&ExportRequest::new()).await.unwrap().wait(|_| {}).await.unwrap();
        let lines: Vec<Patient> = bulk.file_as::<Patient>(&manifest, &manifest.output[0]).try_collect().await.unwrap();
        let auth = lines[0].name[0].text.as_ref().and_then(|t| t.value.clone());
        // The file host never sees the token, whether the file needs it on the bulk host or not.
        assert_eq!(auth.as_deref(), Some("none"), "{file}");
    }
    // On the bulk host the token went with the file that requires it.
    let requests = bulk_host.received_requests().await.unwrap();
    let signed: Vec<_> = requests.iter().filter(|r| r.url.path().starts_with("/files/signed")).collect();
    assert_eq!(signed.len(), 2);
    assert!(signed.iter().all(|r| r.headers.get("authorization").is_some()));
    let open: Vec<_> = requests.iter().filter(|r| r.url.path().starts_with("/files/open")).collect();
    assert!(open.iter().all(|r| r.headers.get("authorization").is_none()));
}

#[tokio::test]
async fn a_download_that_redirects_forever_stops_with_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/bulk-data/r4/$export"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "requiresAccessToken": false, "output": [{"type": "Patient", "url": format!("{}/loop", server.uri())}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/loop"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/loop"))
        .expect(11)
        .mount(&server)
        .await;
    let bulk = session(client(&server)).bulk::<R4>();
    let manifest = bulk.kick_off(&ExportRequest::new()).await.unwrap().wait(|_| {}).await.unwrap();
    let lines: Vec<_> = bulk.resources(&manifest, &manifest.output[0]).collect().await;
    assert_eq!(lines.len(), 1);
    let Err(err @ Error::Decode { .. }) = &lines[0] else { panic!("{lines:?}") };
    assert!(err.to_string().contains("more than 10 redirects"), "{err}");
}

#[tokio::test]
async fn bulk_types_are_checked_against_the_versions_names() {
    // API reference, "$export": "Note the request will fail if an invalid resource type is requested."
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/bulk-data/dstu2/$export"))
        .and(query_param("_type", "MedicationOrder,DeviceComponent"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"output": []})))
        .expect(1)
        .mount(&server)
        .await;
    let bulk = session(client(&server)).bulk::<Dstu2>();
    bulk.kick_off(&ExportRequest::new().types(["MedicationOrder", "DeviceComponent"])).await.unwrap();
    // An R4-only type is no DSTU2 type, and nothing is sent.
    let err = bulk.kick_off(&ExportRequest::new().types(["MedicationRequest"])).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    assert!(err.to_string().contains("`MedicationRequest` is not a FHIR dstu2 resource type"), "{err}");
}

#[tokio::test]
async fn send_is_an_authenticated_escape_hatch_with_status_and_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/metadata"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(fhir_json(401, outcome("login", "expired")))
        .expect(1)
        .mount(&server)
        .await;
    mount_refresh(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/r4/metadata"))
        .and(query_param("_summary", "true"))
        .and(header("authorization", format!("Bearer {NEW_ACCESS}").as_str()))
        .respond_with(fhir_json(200, json!({"resourceType": "CapabilityStatement"})).insert_header("etag", "W/\"7\""))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/custom/op"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "120").set_body_string("busy"))
        .mount(&server)
        .await;
    let session = session(client(&server));
    let answer = session.send(Method::GET, "/r4/metadata?_summary=true", None).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.etag(), Some("W/\"7\""));
    assert!(String::from_utf8_lossy(answer.body()).contains("CapabilityStatement"));
    // A POST is not retried; the 503's Retry-After is on the error.
    let err = session.send(Method::POST, "/custom/op", Some(("application/json", b"{}".to_vec()))).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert!(err.is_transient() && !err.is_unauthorized());
    // A URL elsewhere is refused before anything is sent; on the allow-list it is fine.
    let err = session.send(Method::GET, "https://elsewhere.example/x", None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    let allowed = session.with_client(builder(&server).allow_origin("https://elsewhere.example").build().unwrap());
    let err = allowed.send(Method::GET, "https://elsewhere.example:1/x", None).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "another port is another origin: {err}");
}

#[tokio::test]
async fn error_accessors_classify_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(fhir_json(401, outcome("login", "refused")))
        .mount(&server)
        .await;
    let no_refresh = Session::new(client(&server), Tokens::new(ACCESS, None));
    let err = no_refresh.fhir::<R4>().read::<Patient>("p1").await.unwrap_err();
    assert!(err.is_unauthorized() && !err.is_transient(), "{err:?}");
    let down = builder(&server).api_base("http://127.0.0.1:9").retry(RetryPolicy::none()).build().unwrap();
    let err = session(down).fhir::<R4>().read::<Patient>("p1").await.unwrap_err();
    assert!(err.is_transient() && !err.is_unauthorized() && err.retry_after().is_none(), "{err:?}");
}

#[tokio::test]
async fn reads_and_creates_expose_status_and_headers() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(
            fhir_json(200, patient("p1"))
                .insert_header("etag", "W/\"3\"")
                .insert_header("last-modified", "Tue, 19 Mar 2019 21:10:19 GMT"),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/r4/Patient"))
        .respond_with(fhir_json(201, patient("p9")).insert_header("location", "http://x/r4/Patient/p9/_history/1"))
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    let read = fhir.read_response::<Patient>("p1").await.unwrap();
    assert_eq!((read.status().as_u16(), read.etag(), read.last_modified()), (200, Some("W/\"3\""), Some("Tue, 19 Mar 2019 21:10:19 GMT")));
    assert_eq!(read.id.as_deref(), Some("p1"));
    let created = fhir.create_response(&Patient::default()).await.unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.location(), Some("http://x/r4/Patient/p9/_history/1"));
    assert_eq!(created.into_inner().id.as_deref(), Some("p9"));
}

/// Empty searchsets `empty` times, then one with a Patient.
struct ArrivesAfter {
    empty: usize,
    calls: AtomicUsize,
}

impl Respond for ArrivesAfter {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let found: Vec<serde_json::Value> = if call < self.empty { vec![] } else { vec![patient("p1")] };
        fhir_json(200, bundle(&found, None))
    }
}

#[tokio::test]
async fn the_wait_for_connected_data_is_bounded() {
    // Connect guide: "The 1upHealth backend process retrieves the connected systems data into your user's
    // permissions. This process can take a few moments to complete."
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/dstu2/Patient"))
        .respond_with(ArrivesAfter { empty: 2, calls: AtomicUsize::new(0) })
        .expect(3)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<Dstu2>();
    let quick = PollPolicy { default_interval: Duration::from_millis(20), max_interval: Duration::from_secs(1), max_wait: Duration::from_secs(5) };
    let page = fhir.wait_for_data::<fhir_models::dstu2::Patient>((), &quick).await.unwrap();
    assert_eq!(page.entry.len(), 1);

    let never = MockServer::start().await;
    Mock::given(method("GET")).and(path("/dstu2/AuditEvent")).respond_with(fhir_json(200, bundle(&[], None))).mount(&never).await;
    let short = PollPolicy { max_wait: Duration::from_millis(150), ..quick };
    let err = session(client(&never)).fhir::<Dstu2>().wait_for_data::<fhir_models::dstu2::AuditEvent>((), &short).await.unwrap_err();
    let Error::DataNotReady { polls, waited, .. } = &err else { panic!("{err:?}") };
    assert!(*polls >= 2 && *waited < Duration::from_secs(2), "{err}");
}

#[tokio::test]
async fn short_lived_tokens_are_refreshed_at_half_their_life_not_on_every_request() {
    let server = MockServer::start().await;
    mount_refresh(&server, 0).await;
    mount_read_p1(&server, ACCESS, 3).await;
    // expires_in 30 s: the margin is min(60 s, 15 s) = 15 s, so a fresh token is used as it is.
    let mut tokens = Tokens::new(ACCESS, Some(Secret::new(REFRESH))).expiring_at(SystemTime::now() + Duration::from_secs(30));
    tokens.lifetime = Some(Duration::from_secs(30));
    let session = Session::new(client(&server), tokens);
    for _ in 0..3 {
        session.fhir::<R4>().read::<Patient>("p1").await.unwrap();
    }
    // Within half its life of expiry it is refreshed first.
    let soon = MockServer::start().await;
    mount_refresh(&soon, 1).await;
    mount_read_p1(&soon, NEW_ACCESS, 1).await;
    let mut tokens = Tokens::new(ACCESS, Some(Secret::new(REFRESH))).expiring_at(SystemTime::now() + Duration::from_secs(10));
    tokens.lifetime = Some(Duration::from_secs(30));
    Session::new(client(&soon), tokens).fhir::<R4>().read::<Patient>("p1").await.unwrap();
}

/// An error answer that repeats the whole request: its headers and body, as some servers do.
struct EchoRequest(u16);

impl Respond for EchoRequest {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let headers: Vec<String> = request.headers.iter().map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or(""))).collect();
        let text = format!("bad request {} {} {} {}", request.url, headers.join("; "), String::from_utf8_lossy(&request.body),
            url::form_urlencoded::parse(&request.body).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "));
        // 1upHealth's user management says it in `error`; OAuth2 servers in `error_description`.
        let error = if request.url.path().starts_with("/user-management") { text.clone() } else { "invalid_request".into() };
        let body = json!({"success": false, "error": error, "error_description": text, "message": text,
            "resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid", "diagnostics": text}]});
        ResponseTemplate::new(self.0).set_body_json(body)
    }
}

const VERIFIER: &str = "pkceverifierpkceverifierpkceverifier0123456789";

#[tokio::test]
async fn no_secret_the_client_sent_reaches_an_error_or_a_log_when_the_server_echoes_it() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any()).respond_with(EchoRequest(400)).mount(&server).await;
    let (logs, _guard) = LogCapture::start();
    let client = client(&server);
    let session = session(client.clone());
    let mut errors: Vec<Error> = vec![
        session.fhir::<R4>().read::<Patient>("p1").await.unwrap_err(),
        session.fhir_at::<R4>("/fhir/{version}").unwrap().search::<Patient>([("name", "x")]).await.unwrap_err(),
        session.send(Method::GET, "/r4/metadata", None).await.unwrap_err(),
        session.bulk::<R4>().kick_off(&ExportRequest::new()).await.unwrap_err(),
        session.connect().provider_search("x").await.unwrap_err(),
        client.exchange_code(&Secret::new("accesscodeaccesscodeaccesscode")).await.unwrap_err(),
        client.exchange_code_with_pkce(&Secret::new("accesscodeaccesscodeaccesscode"), &Secret::new(VERIFIER)).await.unwrap_err(),
        client.refresh_tokens(&Secret::new(REFRESH)).await.unwrap_err(),
        client.new_auth_code("myappsuserid").await.unwrap_err(),
        client.list_users(&oneup_client::UserFilter::all()).await.unwrap_err(),
    ];
    // The refresh a 401 triggers, with the refresh token echoed back.
    let refused = MockServer::start().await;
    Mock::given(method("GET")).respond_with(fhir_json(401, outcome("login", "expired"))).mount(&refused).await;
    Mock::given(method("POST")).respond_with(EchoRequest(400)).mount(&refused).await;
    errors.push(crate::support::session(crate::support::client(&refused)).fhir::<R4>().read::<Patient>("p1").await.unwrap_err());
    assert_eq!(errors.len(), 11);
    // A 400 to "create user" reads as an existing user; its message is the server's text, redacted too.
    let created = client.create_user("myappsuserid").await;
    let Ok(oneup_client::CreatedUser::AlreadyExists { message, .. }) = &created else { panic!("{created:?}") };
    assert!(message.contains("client_secret=***"), "{message}");
    assert_no_secret(&format!("{created:?}"));
    // The reference's other form, a 2xx with `"success": false`: its `error` is cut too.
    let ok = MockServer::start().await;
    Mock::given(method("POST")).respond_with(EchoRequest(200)).mount(&ok).await;
    let again = crate::support::client(&ok).create_user("myappsuserid").await;
    let Ok(oneup_client::CreatedUser::AlreadyExists { message, .. }) = &again else { panic!("{again:?}") };
    assert!(message.contains("client_secret=***"), "{message}");
    let code = crate::support::client(&ok).new_auth_code("myappsuserid").await.unwrap_err();
    assert!(code.to_string().contains("client_secret=***"), "{code}");
    assert_no_secret(&format!("{again:?} {code} {code:?}"));
    let mut echoed = 0;
    for err in &errors {
        let text = format!("{err}\n{err:?}\n{}", err.body().unwrap_or(""));
        assert_no_secret(&text);
        assert!(!text.contains(VERIFIER), "{text}");
        echoed += usize::from(text.contains("***"));
    }
    // The server's words are kept, with the secrets cut out (not the whole text dropped).
    assert_eq!(echoed, errors.len(), "{echoed} of {} errors show the redacted echo:\n{errors:#?}", errors.len());
    let logged = logs.text();
    assert_no_secret(&logged);
    assert!(!logged.contains(VERIFIER));
}
