//! FHIR operations (wiremock, typed with `fhir_models::r4`): request shapes, answers, OperationOutcome errors,
//! token refresh on 401, permissions and lazy, bounded paging.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::support::*;
use fhir_models::r4::{Observation, OperationOutcome, Patient, Resource, R4};
use fhir_models::FhirVersion;
use futures_util::{StreamExt, TryStreamExt};
use oneup_client::{AppChosenId, Error, OneUpUserId, PagingStop, Problem, Secret, Session, Tokens};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn observation(id: &str) -> serde_json::Value {
    json!({"resourceType": "Observation", "id": id, "status": "final", "code": {"text": "steps"}})
}

#[tokio::test]
async fn read_sends_the_bearer_token_and_reads_the_resource() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/helloiamatestpatient"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .and(header("accept", "application/fhir+json"))
        .respond_with(fhir_json(200, patient("helloiamatestpatient")))
        .expect(1)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    assert_eq!(fhir.base_url().as_str(), format!("{}/r4", server.uri()));
    let p: Patient = fhir.read("helloiamatestpatient").await.unwrap();
    assert_eq!(p.id.as_deref(), Some("helloiamatestpatient"));
    assert!(p.gender.is_some());
}

#[tokio::test]
async fn ids_are_percent_encoded_and_unusable_ids_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/a%2Fb%20c%3Fd"))
        .respond_with(fhir_json(200, patient("x")))
        .expect(1)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    fhir.read::<Patient>("a/b c?d").await.unwrap();
    for bad in ["", "..", "."] {
        let err = fhir.read::<Patient>(bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{bad:?}: {err:?}");
    }
}

#[tokio::test]
async fn custom_fhir_paths_take_the_version_name() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/fhir/r4/Patient/p1"))
        .respond_with(fhir_json(200, patient("p1")))
        .expect(1)
        .mount(&server)
        .await;
    let client = builder(&server).fhir_path("/fhir/{version}").build().unwrap();
    session(client).fhir::<R4>().read::<Patient>("p1").await.unwrap();
}

#[tokio::test]
async fn create_posts_fhir_json_and_keeps_the_app_chosen_id() {
    let server = MockServer::start().await;
    let answer = json!({"resourceType": "Patient", "id": "helloiamatestpatient", "gender": "female",
        "meta": {"versionId": "9000000000002", "lastUpdated": "2019-03-19T21:10:19.727Z"}});
    Mock::given(method("POST"))
        .and(path("/r4/Patient"))
        .and(header("content-type", "application/fhir+json"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .and(body_string_contains(r#""id":"helloiamatestpatient""#))
        .and(body_string_contains(r#""gender":"female""#))
        .respond_with(fhir_json(201, answer))
        .expect(1)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    let mut p = Patient::from_json_str(r#"{"resourceType":"Patient","id":"helloiamatestpatient","gender":"female"}"#);
    let created = fhir.create_with_id(&p).await.unwrap();
    let meta = created.meta.expect("meta");
    assert_eq!(meta.version_id.and_then(|v| v.value).as_deref(), Some("9000000000002"));
    p.id = None;
    let err = fhir.create_with_id(&p).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err:?}");
}

/// Parses test JSON (the models' `from_json`, named so that the trait import stays local).
trait FromJsonStr: Sized {
    fn from_json_str(s: &str) -> Self;
}
impl<T: fhir_models::FhirJson> FromJsonStr for T {
    fn from_json_str(s: &str) -> Self {
        T::from_json(s).expect("test JSON")
    }
}

#[tokio::test]
async fn create_with_id_can_put_for_standard_servers_and_update_puts() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/r4/Patient/p1"))
        .and(header("content-type", "application/fhir+json"))
        .and(body_string_contains(r#""id":"p1""#))
        .respond_with(fhir_json(201, patient("p1")))
        .expect(2)
        .mount(&server)
        .await;
    let client = builder(&server).app_chosen_id(AppChosenId::Put).build().unwrap();
    let fhir = session(client).fhir::<R4>();
    let p = Patient::from_json_str(r#"{"resourceType":"Patient","id":"p1"}"#);
    fhir.create_with_id(&p).await.unwrap();
    fhir.update(&p).await.unwrap();
    let no_id = Patient::default();
    let err = fhir.update(&no_id).await.unwrap_err();
    assert_eq!(err.to_string(), "update Patient: the resource has no id");
}

#[tokio::test]
async fn delete_reads_an_optional_outcome() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/r4/Patient/p1"))
        .respond_with(fhir_json(200, json!({"resourceType": "OperationOutcome", "issue": [
            {"severity": "information", "code": "informational", "diagnostics": "deleted"}]})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE")).and(path("/r4/Patient/p2")).respond_with(ResponseTemplate::new(204)).mount(&server).await;
    let fhir = session(client(&server)).fhir::<R4>();
    let outcome = fhir.delete::<Patient>("p1").await.unwrap().expect("an outcome");
    assert_eq!(outcome.issue.len(), 1);
    assert!(fhir.delete::<Patient>("p2").await.unwrap().is_none());
}

#[tokio::test]
async fn an_error_answer_carries_the_typed_operation_outcome() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/missing"))
        .respond_with(fhir_json(404, outcome("not-found", "Patient/missing is not known")))
        .mount(&server)
        .await;
    let err = session(client(&server)).fhir::<R4>().read::<Patient>("missing").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    let typed: &OperationOutcome = err.operation_outcome::<R4>().expect("typed outcome");
    assert_eq!(typed.issue[0].diagnostics.as_ref().and_then(|d| d.value.as_deref()), Some("Patient/missing is not known"));
    let text = err.to_string();
    assert!(text.contains(&format!("read Patient/missing (GET {}/r4/Patient/missing): HTTP 404", server.uri())), "{text}");
    assert!(text.contains("error not-found: Patient/missing is not known"), "{text}");
    assert!(matches!(err.problem(), Some(Problem::OperationOutcome(_))));
}

#[tokio::test]
async fn a_resource_of_another_type_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).and(path("/r4/Patient/p1")).respond_with(fhir_json(200, observation("o1"))).mount(&server).await;
    let err = session(client(&server)).fhir::<R4>().read::<Patient>("p1").await.unwrap_err();
    assert!(matches!(err, Error::Fhir { .. }), "{err:?}");
    assert!(err.to_string().contains("Observation"), "{err}");
    // The model's ParseError is the source, and the body is kept.
    let source = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<fhir_models::ParseError>());
    assert_eq!(source.map(|e| e.kind()), Some(fhir_models::IssueKind::UnknownResourceType), "{err:?}");
    assert!(err.body().is_some_and(|b| b.contains("\"Observation\"")), "{err:?}");
}

#[tokio::test]
async fn search_sends_the_pairs_and_caps_count_at_100() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Observation"))
        .and(query_param("code", "http://loinc.org|66334-4"))
        .and(query_param("_count", "100"))
        .respond_with(fhir_json(200, bundle(&[observation("o1"), observation("o2")], None)))
        .expect(2)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    let page = fhir.search::<Observation>([("code", "http://loinc.org|66334-4"), ("_count", "500")]).await.unwrap();
    assert_eq!(<R4 as FhirVersion>::total(&page), Some(2));
    let owned: Vec<(String, String)> = vec![("code".into(), "http://loinc.org|66334-4".into()), ("_count".into(), "100".into())];
    let all: Vec<Observation> = fhir.search_resources::<Observation>(&owned).try_collect().await.unwrap();
    assert_eq!(all.len(), 2);
}

#[tokio::test]
async fn pages_are_fetched_lazily_and_follow_next_links() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/r4/Patient"))
        .and(query_param("_count", "2"))
        .respond_with(fhir_json(200, bundle(&[patient("p1"), patient("p2")], Some(&format!("{base}/r4/Patient?page=2")))))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient"))
        .and(query_param("page", "2"))
        .respond_with(fhir_json(200, bundle(&[patient("p3"), patient("p4")], Some("/r4/Patient?page=3"))))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient"))
        .and(query_param("page", "3"))
        .respond_with(fhir_json(200, bundle(&[patient("p5")], None)))
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    let mut pages = fhir.search_pages::<Patient>([("_count", "2")]);
    assert_eq!(server.received_requests().await.unwrap().len(), 0, "nothing is fetched before polling");
    let first = pages.next().await.unwrap().unwrap();
    assert_eq!(<R4 as FhirVersion>::into_resources(first).len(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "one page per poll");
    let rest: Vec<_> = pages.try_collect().await.unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);

    let ids: Vec<String> = fhir
        .search_resources::<Patient>([("_count", "2")])
        .map_ok(|p| p.id.unwrap_or_default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, ["p1", "p2", "p3", "p4", "p5"]);
}

#[tokio::test]
async fn a_looping_next_link_stops_paging_with_an_error() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/r4/Patient"))
        .and(query_param("page", "1"))
        .respond_with(fhir_json(200, bundle(&[patient("p1")], Some(&format!("{base}/r4/Patient?page=2")))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient"))
        .and(query_param("page", "2"))
        .respond_with(fhir_json(200, bundle(&[patient("p2")], Some(&format!("{base}/r4/Patient?page=1")))))
        .expect(1)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    let items: Vec<Result<Patient, Error>> = fhir.search_resources::<Patient>([("page", "1")]).collect().await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0].as_ref().unwrap().id.as_deref(), Some("p1"));
    assert_eq!(items[1].as_ref().unwrap().id.as_deref(), Some("p2"));
    match &items[2] {
        Err(Error::Paging { reason: PagingStop::RepeatedLink, request }) => assert!(request.contains("page 2"), "{request}"),
        other => panic!("expected a repeated-link stop, got {other:?}"),
    }
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_not_followed() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient"))
        .respond_with(fhir_json(200, bundle(&[patient("p1")], Some(&format!("{}/r4/Patient?page=2", elsewhere.uri())))))
        .expect(1)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    let pages: Vec<_> = fhir.search_pages::<Patient>(()).collect().await;
    assert_eq!(pages.len(), 2);
    assert!(pages[0].is_ok());
    match &pages[1] {
        Err(Error::Paging { reason: PagingStop::ForeignOrigin(origin), .. }) => assert_eq!(origin, &elsewhere.uri()),
        other => panic!("expected a foreign-origin stop, got {other:?}"),
    }
    assert!(elsewhere.received_requests().await.unwrap().is_empty(), "the token went to another origin");
}

#[tokio::test]
async fn paging_stops_at_the_page_limit() {
    let server = MockServer::start().await;
    // Every page links to a new one: only the bound stops it.
    let base = server.uri();
    for n in 1..=5 {
        Mock::given(method("GET"))
            .and(path("/r4/Patient"))
            .and(query_param("page", n.to_string().as_str()))
            .respond_with(fhir_json(200, bundle(&[patient(&format!("p{n}"))], Some(&format!("{base}/r4/Patient?page={}", n + 1)))))
            .mount(&server)
            .await;
    }
    let fhir = session(client(&server)).fhir::<R4>().with_max_pages(3);
    let pages: Vec<_> = fhir.search_pages::<Patient>([("page", "1")]).try_collect().await.unwrap();
    assert_eq!(pages.len(), 3);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn everything_pages_through_all_resource_types_and_delete_everything_reads_the_outcome() {
    let server = MockServer::start().await;
    let base = server.uri();
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1/$everything"))
        .respond_with(fhir_json(200, bundle(&[patient("p1"), observation("o1")], Some(&format!("{base}/r4/Patient/p1/$everything?page=2")))))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1/$everything"))
        .and(query_param("page", "2"))
        .respond_with(fhir_json(200, bundle(&[observation("o2")], None)))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/r4/Patient/p1/$everything"))
        .respond_with(fhir_json(200, json!({"resourceType": "OperationOutcome", "issue": [{"severity": "information",
            "code": "informational", "diagnostics": "All resources for Patient/p1 deleted"}]})))
        .expect(1)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    let all: Vec<Resource> = fhir.everything_resources("p1").try_collect().await.unwrap();
    let kinds: Vec<&str> = all
        .iter()
        .map(|r| match r {
            Resource::Patient(_) => "Patient",
            Resource::Observation(_) => "Observation",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["Patient", "Observation", "Observation"]);
    let outcome = fhir.delete_everything("p1").await.unwrap();
    assert!(R4::outcome_summary(&outcome).contains("All resources for Patient/p1 deleted"));
}

#[tokio::test]
async fn permissions_are_granted_and_revoked_at_the_reference_path() {
    // API reference, "Grant Permission to User": `https://api.1up.health/fhir/dstu2/Patient/patientid/_permission/{oneUpUserId}`,
    // "Form Data Parameters" client_id and client_secret. "Revoke Permissions From User": the same path, "This
    // endpoint receives authentication in the form of a http bearer authentication header" (and no body).
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/fhir/dstu2/Patient/p1/_permission/12345"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .and(FormKeys(&["client_id", "client_secret"]))
        .and(FormField("client_id", CLIENT_ID))
        .and(FormField("client_secret", CLIENT_SECRET))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"oneUpUserId": 12345, "success": true})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/fhir/dstu2/Patient/p1/_permission/12345"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .and(NoBody)
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"oneUpUserId": 12345, "success": true})))
        .expect(1)
        .mount(&server)
        .await;
    // The searches use the default `/{version}`; the permission calls stay at the reference's `/fhir/{version}`.
    let fhir = session(client(&server)).fhir::<fhir_models::dstu2::Dstu2>();
    assert_eq!(fhir.base_url().path(), "/dstu2");
    let user = OneUpUserId::from(12345);
    assert!(fhir.grant_permission("p1", &user).await.unwrap().success);
    let revoked = fhir.revoke_permission("p1", &user).await.unwrap();
    assert_eq!(revoked.oneup_user_id, Some(user));
}

#[tokio::test]
async fn a_401_refreshes_once_then_the_request_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(fhir_json(401, outcome("expired", "Access token expired")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(FormField("grant_type", "refresh_token"))
        .and(FormField("refresh_token", REFRESH))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(NEW_ACCESS, NEW_REFRESH)))
        .expect(1)
        .mount(&server)
        .await;
    mount_read_p1(&server, NEW_ACCESS, 2).await;
    let rotated = Arc::new(Mutex::new(Vec::new()));
    let hook = rotated.clone();
    let session = session(client(&server)).on_rotation(move |t| hook.lock().unwrap().push(t.access_token.clone()));
    let fhir = session.fhir::<R4>();
    let (logs, _guard) = LogCapture::start();
    fhir.read::<Patient>("p1").await.unwrap();
    fhir.read::<Patient>("p1").await.unwrap(); // the new token is used from now on
    assert_eq!(*rotated.lock().unwrap(), [Secret::new(NEW_ACCESS)]);
    assert_no_secret(&logs.text());
}

#[tokio::test]
async fn a_refused_refresh_after_a_401_is_the_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(fhir_json(401, outcome("expired", "Access token expired")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .expect(1)
        .mount(&server)
        .await;
    let err = session(client(&server)).fhir::<R4>().read::<Patient>("p1").await.unwrap_err();
    assert!(matches!(&err, Error::GrantRefused { error, .. } if error == "invalid_grant"), "{err:?}");
}

#[tokio::test]
async fn a_token_refused_again_after_refresh_is_a_401_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(fhir_json(401, outcome("login", "Invalid access token")))
        .expect(2)
        .mount(&server)
        .await;
    mount_refresh(&server, 1).await;
    let err = session(client(&server)).fhir::<R4>().read::<Patient>("p1").await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(err.operation_outcome::<R4>().is_some());
}

#[tokio::test]
async fn without_a_refresh_token_a_401_is_no_refresh_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .respond_with(fhir_json(401, outcome("expired", "Access token expired")))
        .mount(&server)
        .await;
    let session = Session::new(client(&server), Tokens::new(ACCESS, None));
    let err = session.fhir::<R4>().read::<Patient>("p1").await.unwrap_err();
    assert!(matches!(err, Error::NoRefreshToken { .. }), "{err:?}");
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_the_request() {
    let server = MockServer::start().await;
    mount_refresh(&server, 1).await;
    mount_read_p1(&server, NEW_ACCESS, 1).await;
    let tokens = Tokens::new(ACCESS, Some(Secret::new(REFRESH))).expiring_at(SystemTime::now() + Duration::from_secs(10));
    let session = Session::new(client(&server), tokens);
    session.fhir::<R4>().read::<Patient>("p1").await.unwrap();
    let now = session.tokens().await;
    assert_eq!(now.access_token.expose(), NEW_ACCESS);
    assert!(!now.expires_within(Duration::from_secs(60)));
}

#[tokio::test]
async fn typed_search_skips_included_resources_of_other_types() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Observation"))
        .and(query_param("_include", "Observation:subject"))
        .respond_with(fhir_json(200, bundle(&[observation("o1"), patient("p1"), observation("o2")], None)))
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    let obs: Vec<Observation> = fhir.search_resources::<Observation>([("_include", "Observation:subject")]).try_collect().await.unwrap();
    assert_eq!(obs.len(), 2);
    let all: Vec<Resource> = fhir.search_pages::<Observation>([("_include", "Observation:subject")]).resources().try_collect().await.unwrap();
    assert_eq!(all.len(), 3);
}

#[tokio::test]
async fn concurrent_401s_share_one_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(fhir_json(401, outcome("expired", "Access token expired")).set_delay(Duration::from_millis(100)))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(token_answer(NEW_ACCESS, NEW_REFRESH))
                .set_delay(Duration::from_millis(100)),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_read_p1(&server, NEW_ACCESS, 2).await;
    let fhir = session(client(&server)).fhir::<R4>();
    let (a, b) = tokio::join!(fhir.read::<Patient>("p1"), fhir.read::<Patient>("p1"));
    a.unwrap();
    b.unwrap();
}

#[test]
fn debug_output_of_clients_and_sessions_hides_the_keys() {
    let server_less = oneup_client::OneUpClient::builder(oneup_client::AppCredentials::new(CLIENT_ID, CLIENT_SECRET))
        .build()
        .unwrap();
    let text = format!("{server_less:?} {:?}", session(server_less.clone()));
    assert!(text.contains(CLIENT_ID), "{text}");
    assert_no_secret(&text);
}

#[tokio::test]
async fn unknown_elements_are_read_leniently_unless_strict_reading_is_asked_for() {
    let server = MockServer::start().await;
    let odd = json!({"resourceType": "Patient", "id": "p1", "gender": "female", "favouriteColour": "green"});
    Mock::given(method("GET")).and(path("/r4/Patient/p1")).respond_with(fhir_json(200, odd)).mount(&server).await;
    let (logs, _guard) = LogCapture::start();
    let lenient: Patient = session(client(&server)).fhir::<R4>().read("p1").await.unwrap();
    assert_eq!(lenient.id.as_deref(), Some("p1"));
    let warned = logs.text();
    assert!(warned.contains("Patient.favouriteColour"), "{warned}");
    assert!(!warned.contains("green"), "values stay out of logs: {warned}");
    let strict = builder(&server).strict_reading(true).build().unwrap();
    let err = session(strict).fhir::<R4>().read::<Patient>("p1").await.unwrap_err();
    assert!(matches!(err, Error::Fhir { .. }), "{err:?}");
    let source = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<fhir_models::ParseError>());
    assert_eq!(source.map(|e| e.path()), Some("Patient.favouriteColour"), "{err:?}");
    assert!(err.to_string().contains("Patient.favouriteColour"), "{err}");
}

#[tokio::test]
async fn typed_search_builders_render_to_the_query() {
    use fhir_models::r4::{AdministrativeGender, PatientSearch};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Patient"))
        .and(query_param("gender", "female"))
        .and(query_param("family", "Tester"))
        .and(query_param("_count", "100"))
        .respond_with(fhir_json(200, bundle(&[patient("p1"), patient("p2")], None)))
        .expect(2)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<R4>();
    let search = PatientSearch::new()
        .gender()
        .is(AdministrativeGender::Female)
        .family()
        .is("Tester")
        ._count(500)
        .unwrap();
    let found: Vec<Patient> = fhir.find(&search).try_collect().await.unwrap();
    assert_eq!(found.len(), 2);
    let first = fhir.search::<Patient>(&search).await.unwrap();
    assert_eq!(first.entry.len(), 2);
}

#[tokio::test]
async fn the_same_client_speaks_dstu2() {
    use fhir_models::dstu2::{Dstu2, Patient as Dstu2Patient};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/dstu2/Patient/helloiamatestpatient"))
        .respond_with(fhir_json(200, patient("helloiamatestpatient")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/dstu2/Patient/missing"))
        .respond_with(fhir_json(404, outcome("not-found", "no such patient")))
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<Dstu2>();
    let p: Dstu2Patient = fhir.read("helloiamatestpatient").await.unwrap();
    assert_eq!(p.id.as_deref(), Some("helloiamatestpatient"));
    let err = fhir.read::<Dstu2Patient>("missing").await.unwrap_err();
    assert!(err.operation_outcome::<Dstu2>().is_some());
    assert!(err.operation_outcome::<R4>().is_none(), "an outcome is typed by the version that read it");
}

#[tokio::test]
async fn dstu2_typed_search_pages_through_a_dstu2_bundle() {
    use fhir_models::dstu2::{Dstu2, MedicationOrder, MedicationOrderSearch, MedicationOrderStatus, Patient as P2};
    use fhir_models::search::Reference;
    let server = MockServer::start().await;
    let order = |id: &str| json!({"resourceType": "MedicationOrder", "id": id, "status": "active",
        "medicationCodeableConcept": {"text": "aspirin"}, "patient": {"reference": "Patient/p1"}});
    let next = format!("{}/dstu2/MedicationOrder?page=2", server.uri());
    Mock::given(method("GET"))
        .and(path("/dstu2/MedicationOrder"))
        .and(query_param("patient", "Patient/p1"))
        .and(query_param("status", "active"))
        .respond_with(fhir_json(200, bundle(&[order("m1"), order("m2")], Some(&next))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/dstu2/MedicationOrder"))
        .and(query_param("page", "2"))
        .respond_with(fhir_json(200, bundle(&[order("m3")], None)))
        .expect(1)
        .mount(&server)
        .await;
    let fhir = session(client(&server)).fhir::<Dstu2>();
    let search =
        MedicationOrderSearch::new().patient().is(Reference::to::<P2>("p1")).status().is(MedicationOrderStatus::Active);
    let orders: Vec<MedicationOrder> = fhir.find(&search).try_collect().await.unwrap();
    let ids: Vec<_> = orders.iter().filter_map(|o| o.id.as_deref()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    assert_eq!(orders[0].status.as_ref().and_then(|s| s.value.clone()), Some(MedicationOrderStatus::Active));
}

/// Errors go into `Box<dyn Error + Send + Sync>`, and the futures and streams can be spawned on a multi-threaded
/// runtime.
#[test]
fn errors_futures_and_streams_are_send() {
    fn send_sync_static<T: Send + Sync + 'static>() {}
    fn send<T: Send>(_: &T) {}
    send_sync_static::<Error>();
    send_sync_static::<oneup_client::Session>();
    send_sync_static::<oneup_client::Fhir<R4>>();
    let client = oneup_client::OneUpClient::new(oneup_client::AppCredentials::new("a", "b")).unwrap();
    let fhir = session(client.clone()).fhir::<R4>();
    send(&fhir.read::<Patient>("x"));
    send(&fhir.search_pages::<Patient>(()));
    send(&fhir.everything_resources("x"));
    send(&client.exchange_code(&Secret::new("c")));
    send(&client.create_user("u"));
}
