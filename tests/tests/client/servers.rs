//! Integration tests against real servers started on 127.0.0.1 for each test and killed afterwards: SEKMET
//! (FHIR R4, PyPI sekmet-fhir 0.1.1) and oauth2-mock-server (npm 9.3.0). Install them first with
//! `scripts/install-test-servers.sh`; without them these tests fail and say so.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::servers::{client_for, oauth2_server, sekmet, split_base, Server};
use crate::support::{CLIENT_ID, CLIENT_SECRET};
use fhir_models::r4::{Bundle, Observation, Patient, Resource, R4};
use fhir_models::{FhirJson, FhirVersion};
use futures_util::TryStreamExt;
use oneup_client::{AppChosenId, AppCredentials, Error, OneUpClient, Secret, Session, Tokens};
use serde_json::json;

/// The browser part of the authorization-code flow with PKCE: the authorization server redirects to the app
/// with a code (and the state, which is checked).
async fn authorize_with_pkce(auth: &Server) -> (Secret, Secret) {
    let (challenge, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let mut url = url::Url::parse(&auth.get("authorize_url")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", "http://127.0.0.1/callback")
        .append_pair("scope", "user/*.*")
        .append_pair("state", "st4te")
        .append_pair("code_challenge", challenge.as_str())
        .append_pair("code_challenge_method", "S256");
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = browser.get(url).send().await.expect("authorize");
    assert!(answer.status().is_redirection(), "authorize answered {}", answer.status());
    let location = answer.headers()["location"].to_str().unwrap();
    let back = url::Url::parse(location).unwrap();
    let param = |name: &str| back.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    assert_eq!(param("state").as_deref(), Some("st4te"));
    (Secret::new(param("code").expect("a code")), Secret::new(verifier.secret().clone()))
}

fn patients_transaction(count: usize) -> Bundle {
    let entries: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            let id = format!("pt-{i:04}");
            json!({
                "fullUrl": format!("Patient/{id}"),
                "resource": {"resourceType": "Patient", "id": id, "gender": if i % 2 == 0 { "female" } else { "male" },
                             "name": [{"family": "Tester", "given": [format!("N{i}")]}]},
                "request": {"method": "PUT", "url": format!("Patient/{id}")}
            })
        })
        .collect();
    Bundle::from_json(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}).to_string()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_token_is_refused_refreshed_and_the_search_pages_through_260_patients() {
    let auth = oauth2_server(1); // tokens for a code live 1 s, though the answer says 3600
    let server = sekmet(Some(&auth));
    let client = client_for(&server, &auth);

    let (code, verifier) = authorize_with_pkce(&auth).await;
    let tokens = client.exchange_code_with_pkce(&code, &verifier).await.expect("code exchange");
    assert!(tokens.refresh_token.is_some());
    assert!(!tokens.expires_within(Duration::from_secs(600)), "the client believes the token fresh");
    tokio::time::sleep(Duration::from_millis(2100)).await;

    // The FHIR server refuses the stale token: 401 with an OperationOutcome saying it expired...
    let raw = reqwest::Client::new()
        .get(format!("{}/Patient", server.get("base_url")))
        .bearer_auth(tokens.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    assert!(raw.text().await.unwrap().contains("expired"));
    // ...so a session that cannot refresh fails...
    let stuck = Session::new(client.clone(), Tokens::new(tokens.access_token.clone(), None));
    let err = stuck.fhir::<R4>().search::<Patient>(()).await.unwrap_err();
    assert!(matches!(err, Error::NoRefreshToken { .. }), "{err:?}");

    // ...and one that can refreshes once, hands the new pair to the app, and goes on.
    let rotations = Arc::new(AtomicUsize::new(0));
    let counter = rotations.clone();
    let session = Session::new(client, tokens.clone()).on_rotation(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let fhir = session.fhir::<R4>();
    let loaded = fhir.transaction(&patients_transaction(260)).await.expect("transaction");
    assert_eq!(loaded.entry.len(), 260);
    assert_eq!(rotations.load(Ordering::SeqCst), 1);
    assert_ne!(session.tokens().await.access_token, tokens.access_token);

    // Paging: `_count` 500 is sent as 100, so 3 pages; every patient exactly once.
    let first = fhir.search::<Patient>([("_count", "500")]).await.unwrap();
    assert_eq!(R4::total(&first), Some(260));
    assert_eq!(first.entry.len(), 100);
    let pages: Vec<Bundle> = fhir.search_pages::<Patient>([("_count", "500")]).try_collect().await.unwrap();
    assert_eq!(pages.iter().map(|p| p.entry.len()).collect::<Vec<_>>(), [100, 100, 60]);
    let women = fhir_models::r4::PatientSearch::new()
        .gender()
        .is(fhir_models::r4::AdministrativeGender::Female)
        ._count(100)
        .unwrap();
    let mut ids: Vec<String> = fhir
        .find(&women)
        .map_ok(|p| p.id.unwrap_or_default())
        .try_collect()
        .await
        .unwrap();
    ids.sort();
    assert_eq!(ids.len(), 130);
    assert_eq!(ids.first().map(String::as_str), Some("pt-0000"));
    let all: Vec<Patient> = fhir.search_resources::<Patient>([("_count", "100")]).try_collect().await.unwrap();
    assert_eq!(all.len(), 260);
    assert_eq!(rotations.load(Ordering::SeqCst), 1, "the refreshed token served every page");

    // A page bound cuts the walk short.
    let bounded: Vec<Bundle> =
        fhir.clone().with_max_pages(2).search_pages::<Patient>([("_count", "100")]).try_collect().await.unwrap();
    assert_eq!(bounded.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_everything_and_errors_against_sekmet() {
    let auth = oauth2_server(3600);
    let server = sekmet(Some(&auth));
    let client = client_for(&server, &auth);
    let tokens = client.exchange_code(&Secret::new("any-code")).await.expect("code exchange");
    let fhir = Session::new(client, tokens).fhir::<R4>();

    // POST: the server assigns the id.
    let anonymous = Patient::from_json(r#"{"resourceType":"Patient","gender":"male"}"#).unwrap();
    let created = fhir.create(&anonymous).await.unwrap();
    assert!(created.id.as_deref().is_some_and(|id| !id.is_empty()));
    // An app-chosen id (PUT on a standard server), read back.
    let mine = Patient::from_json(r#"{"resourceType":"Patient","id":"helloiamatestpatient","gender":"female"}"#).unwrap();
    let stored = fhir.create_with_id(&mine).await.unwrap();
    assert_eq!(stored.id.as_deref(), Some("helloiamatestpatient"));
    assert_eq!(stored.meta.as_ref().and_then(|m| m.version_id.as_ref()?.value.as_deref()), Some("1"));
    let read: Patient = fhir.read("helloiamatestpatient").await.unwrap();
    assert_eq!(read.gender, mine.gender);
    let mut changed = read.clone();
    changed.gender = anonymous.gender.clone();
    let updated = fhir.update(&changed).await.unwrap();
    assert_eq!(updated.meta.as_ref().and_then(|m| m.version_id.as_ref()?.value.as_deref()), Some("2"));

    // $everything: the patient and what refers to it.
    for n in 0..3 {
        let obs = Observation::from_json(
            &json!({"resourceType": "Observation", "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "66334-4"}], "text": format!("steps {n}")},
                    "subject": {"reference": "Patient/helloiamatestpatient"}})
            .to_string(),
        )
        .unwrap();
        fhir.create(&obs).await.unwrap();
    }
    let everything: Vec<Resource> = fhir.everything_resources("helloiamatestpatient").try_collect().await.unwrap();
    let observations = everything.iter().filter(|r| matches!(r, Resource::Observation(_))).count();
    assert_eq!(observations, 3, "{everything:?}");
    assert!(everything.iter().any(|r| matches!(r, Resource::Patient(_))));
    let steps: Vec<Observation> = fhir
        .search_resources::<Observation>([("code", "http://loinc.org|66334-4"), ("subject", "Patient/helloiamatestpatient")])
        .try_collect()
        .await
        .unwrap();
    assert_eq!(steps.len(), 3);

    // Errors carry the server's OperationOutcome.
    let err = fhir.read::<Patient>("nobody-here").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.operation_outcome::<R4>().is_some(), "{err:?}");
    assert!(err.to_string().contains("not found"), "{err}");
    let outcome = fhir.delete::<Patient>(created.id.as_deref().unwrap()).await.unwrap();
    assert!(outcome.is_some_and(|o| R4::outcome_summary(&o).contains("Deleted")));
    let gone = fhir.read::<Patient>(created.id.as_deref().unwrap()).await.unwrap_err();
    assert_eq!(gone.status(), Some(410));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_start_runs_against_local_servers() {
    let auth = crate::support::servers::oauth2_server_with_users();
    let server = sekmet(Some(&auth));
    let (api, path) = split_base(&server.get("base_url"));
    let client = OneUpClient::builder(AppCredentials::new(CLIENT_ID, CLIENT_SECRET))
        .api_base(api)
        .fhir_path(path)
        .token_url(auth.get("token_url"))
        .user_management_base(auth.get("issuer")) // the launcher's user-management stand-in
        .app_chosen_id(AppChosenId::Put)
        .build()
        .unwrap();

    // 1. create a user (a second time: it exists, and a new code is asked for)
    let oneup_client::CreatedUser::Created(user) = client.create_user("myappsuserid").await.unwrap() else {
        panic!("the user should be new");
    };
    assert!(matches!(
        client.create_user("myappsuserid").await.unwrap(),
        oneup_client::CreatedUser::AlreadyExists { .. }
    ));
    let again = client.new_auth_code("myappsuserid").await.unwrap();
    assert_eq!(again.oneup_user_id, user.oneup_user_id);
    let listed = client.list_users(&oneup_client::UserFilter::app_user_id("myappsuserid")).await.unwrap();
    assert_eq!(listed.len(), 1);
    // 2-3. exchange the code, refresh
    let tokens = client.exchange_code(&user.code).await.unwrap();
    let session = Session::new(client, tokens);
    session.refresh().await.unwrap();
    // 4-5. create a Patient with our own id, read it back
    let fhir = session.fhir::<R4>();
    let mine = Patient::from_json(r#"{"resourceType":"Patient","id":"helloiamatestpatient","gender":"female"}"#).unwrap();
    fhir.create_with_id(&mine).await.unwrap();
    let read: Patient = fhir.read("helloiamatestpatient").await.unwrap();
    assert_eq!(read.gender, mine.gender);
}
