//! Shared helpers of the `client_*` tests: clients pointed at a wiremock server, FHIR JSON builders, and a
//! `tracing` capture to check that secrets stay out of logs; `servers` starts the real test servers.
#![allow(dead_code)]

pub mod bulk_server;
pub mod servers;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oneup_client::{AppCredentials, ClientBuilder, OneUpClient, RetryPolicy, Secret, Session, Tokens};
use serde_json::{json, Value};
use wiremock::MockServer;

pub const CLIENT_ID: &str = "clientidclientidclientid";
pub const CLIENT_SECRET: &str = "clientsecretclientsecret";
pub const ACCESS: &str = "add72ae475214adc83ea227c21fee0e5";
pub const REFRESH: &str = "b23ae107a6584fecab17826537f464cf";
pub const NEW_ACCESS: &str = "6fe79505699b471a91187864212a111b";
pub const NEW_REFRESH: &str = "691d984c43ef4a0593ea997750a2d4c3";

/// A builder with every host at `server`, short backoffs and the 1up FHIR path `/r4`.
pub fn builder(server: &MockServer) -> ClientBuilder {
    OneUpClient::builder(AppCredentials::new(CLIENT_ID, CLIENT_SECRET))
        .api_base(server.uri())
        .token_url(format!("{}/oauth2/token", server.uri()))
        .analytics_base(server.uri())
        .system_search_base(server.uri())
        .retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
        })
}

pub fn client(server: &MockServer) -> OneUpClient {
    builder(server).build().expect("client")
}

/// A session with `ACCESS`/`REFRESH` and unknown expiry.
pub fn session(client: OneUpClient) -> Session {
    Session::new(client, Tokens::new(ACCESS, Some(Secret::new(REFRESH))))
}

/// A FHIR JSON answer.
pub fn fhir_json(status: u16, body: Value) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/fhir+json")
}

/// `GET /r4/Patient/p1` with `token` answers the patient, `expect` times.
pub async fn mount_read_p1(server: &MockServer, token: &str, expect: u64) {
    use wiremock::matchers::{header, method, path};
    wiremock::Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(fhir_json(200, patient("p1")))
        .expect(expect)
        .mount(server)
        .await;
}

/// The token endpoint's success answer.
pub fn token_answer(access: &str, refresh: &str) -> Value {
    json!({"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": 7200})
}

pub fn patient(id: &str) -> Value {
    json!({"resourceType": "Patient", "id": id, "gender": "female"})
}

/// A searchset Bundle of `resources`, with a `next` link when given.
pub fn bundle(resources: &[Value], next: Option<&str>) -> Value {
    let entries: Vec<Value> = resources.iter().map(|r| json!({"resource": r})).collect();
    let mut links = vec![json!({"relation": "self", "url": "http://example.org/self"})];
    if let Some(next) = next {
        links.push(json!({"relation": "next", "url": next}));
    }
    json!({"resourceType": "Bundle", "type": "searchset", "total": resources.len(), "link": links, "entry": entries})
}

pub fn outcome(code: &str, diagnostics: &str) -> Value {
    json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}]})
}

/// Collects everything `tracing` writes (all levels) while the guard lives, on this thread.
///
/// One global subscriber serves the whole test binary and writes to the capture of the current thread. (A
/// scoped `set_default` per test is flaky when tests run in parallel: call sites hit first on a thread with no
/// subscriber cache "not interested" for everyone.)
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CURRENT_CAPTURE: std::cell::RefCell<Option<LogCapture>> = const { std::cell::RefCell::new(None) };
}

/// Ends the capture of this thread when dropped.
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CURRENT_CAPTURE.with(|c| c.borrow_mut().take());
    }
}

/// Writes to the current thread's capture, if any.
struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CURRENT_CAPTURE.with(|c| {
            if let Some(capture) = c.borrow_mut().as_mut() {
                capture.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    pub fn start() -> (LogCapture, CaptureGuard) {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(|| ThreadWriter)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber in tests");
        });
        let capture = LogCapture::default();
        CURRENT_CAPTURE.with(|c| *c.borrow_mut() = Some(capture.clone()));
        (capture, CaptureGuard(()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Fails when any secret of these tests shows in `text`.
pub fn assert_no_secret(text: &str) {
    for secret in [CLIENT_SECRET, ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH, "accesscodeaccesscodeaccesscode"] {
        assert!(!text.contains(secret), "a secret leaked: {secret} in\n{text}");
    }
}

/// Matches a form-encoded body holding `name=value` (among other fields).
pub struct FormField(pub &'static str, pub &'static str);

impl wiremock::Match for FormField {
    fn matches(&self, request: &wiremock::Request) -> bool {
        url::form_urlencoded::parse(&request.body).any(|(k, v)| k == self.0 && v == self.1)
    }
}

/// Matches a form-encoded body with exactly these field names (in any order).
pub struct FormKeys(pub &'static [&'static str]);

impl wiremock::Match for FormKeys {
    fn matches(&self, request: &wiremock::Request) -> bool {
        let mut keys: Vec<String> = url::form_urlencoded::parse(&request.body).map(|(k, _)| k.into_owned()).collect();
        keys.sort();
        let mut want: Vec<&str> = self.0.to_vec();
        want.sort();
        keys == want
    }
}

/// Matches a request without a body.
pub struct NoBody;

impl wiremock::Match for NoBody {
    fn matches(&self, request: &wiremock::Request) -> bool {
        request.body.is_empty() && request.headers.get("content-type").is_none()
    }
}

/// The form fields of a recorded request.
pub fn form(request: &wiremock::Request) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body).into_owned().collect()
}

/// The token endpoint answers `NEW_ACCESS`/`NEW_REFRESH`, `expect` times.
pub async fn mount_refresh(server: &MockServer, expect: u64) {
    use wiremock::matchers::{method, path};
    wiremock::Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(token_answer(NEW_ACCESS, NEW_REFRESH)))
        .expect(expect)
        .mount(server)
        .await;
}
