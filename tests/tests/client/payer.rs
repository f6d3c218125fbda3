//! The payer SMART standalone launch against wiremock: the authorize URL, the redirect checks (state, errors),
//! the code exchange's request shape and refusal, refresh at the plan's token endpoint, and read-only R4 reads.

use std::collections::BTreeMap;

use crate::support::*;
use fhir_models::r4::{ExplanationOfBenefit, Patient};
use futures_util::TryStreamExt;
use oneup_client::{AppCredentials, AuthorizationProblem, Error, LaunchRequest, Payer};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REDIRECT: &str = "https://myapp.example/callback";

fn keys() -> AppCredentials {
    AppCredentials::new(CLIENT_ID, CLIENT_SECRET)
}

/// A payer whose hosts are all on `server`: authorize at `/oauth2/authorize/demoplan`, token at `/oauth2/token`,
/// FHIR at `/r4`.
fn payer(server: &MockServer) -> Payer {
    Payer::builder(keys(), "1updemohealthplan.com", "demoplan")
        .authorize_url(format!("{}/oauth2/authorize/demoplan", server.uri()))
        .token_url(format!("{}/oauth2/token", server.uri()))
        .fhir_base(format!("{}/r4", server.uri()))
        .redirect_uri(REDIRECT)
        .build()
        .unwrap()
}

fn query(launch: &LaunchRequest) -> BTreeMap<String, String> {
    launch.url().query_pairs().into_owned().collect()
}

fn callback(launch: &LaunchRequest, code: &str) -> String {
    format!("{REDIRECT}?code={code}&state={}", launch.state())
}

#[test]
fn the_hosts_follow_from_the_base_domain_and_system_id() {
    let payer = Payer::builder(keys(), "1updemohealthplan.com", "demoplan").build().unwrap();
    assert_eq!(payer.authorize_endpoint().as_str(), "https://auth.1updemohealthplan.com/oauth2/authorize/demoplan");
    assert_eq!(payer.token_endpoint().as_str(), "https://auth.1updemohealthplan.com/oauth2/token");
    assert_eq!(payer.fhir_base().as_str(), "https://api.1updemohealthplan.com/r4");
    assert_eq!(payer.system_id(), "demoplan");
    assert_eq!(payer.client().config().api_base().as_str(), "https://api.1updemohealthplan.com/");
    // System ids are one path segment.
    let odd = Payer::builder(keys(), "plan.example", "a/b c").build().unwrap();
    assert_eq!(odd.authorize_endpoint().as_str(), "https://auth.plan.example/oauth2/authorize/a%2Fb%20c");

    for (base, system) in [("", "demoplan"), ("evil.com/x?", "demoplan"), ("1updemohealthplan.com", "")] {
        let err = Payer::builder(keys(), base, system).build().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }
    let err = Payer::builder(keys(), "plan.example", "p").redirect_uri("not a url").build().unwrap_err();
    assert!(err.to_string().contains("the redirect URI"), "{err}");
    assert_no_secret(&format!("{payer:?}"));
}

#[test]
fn the_authorize_url_carries_client_redirect_scope_state_pkce_and_aud() {
    let payer = Payer::builder(keys(), "1updemohealthplan.com", "demoplan")
        .redirect_uri(REDIRECT)
        .aud_fhir_base()
        .build()
        .unwrap();
    let launch = payer.authorize();
    let url = launch.url();
    assert_eq!(url.origin().ascii_serialization(), "https://auth.1updemohealthplan.com");
    assert_eq!(url.path(), "/oauth2/authorize/demoplan");
    let q = query(&launch);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], REDIRECT);
    assert_eq!(q["scope"], "user/*.read");
    assert_eq!(q["state"], launch.state());
    assert!(launch.state().len() >= 16);
    assert_eq!(q["aud"], "https://api.1updemohealthplan.com/r4");
    assert_eq!(q["code_challenge_method"], "S256");
    // The challenge is BASE64URL(SHA-256(verifier)).
    let verifier = oauth2::PkceCodeVerifier::new(launch.code_verifier().expose().to_owned());
    assert_eq!(q["code_challenge"], oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier).as_str());
    assert!(!q.contains_key("client_secret"));
    assert!(!url.as_str().contains(launch.code_verifier().expose()), "the verifier stays with the app");

    // Each launch has its own state and verifier; Debug shows neither.
    let again = payer.authorize();
    assert_ne!(again.state(), launch.state());
    assert_ne!(again.code_verifier(), launch.code_verifier());
    let debug = format!("{launch:?}");
    assert!(!debug.contains(launch.state()) && !debug.contains(launch.code_verifier().expose()), "{debug}");

    // Other scopes; no aud unless asked for.
    let plain = Payer::builder(keys(), "plan.example", "p").scope("patient/*.read openid").build().unwrap();
    let q = query(&plain.authorize());
    assert_eq!(q["scope"], "patient/*.read openid");
    assert!(!q.contains_key("aud") && !q.contains_key("redirect_uri"));
}

#[tokio::test]
async fn the_code_is_exchanged_with_the_verifier_then_fhir_is_read_and_tokens_refreshed() {
    let (logs, _guard) = LogCapture::start();
    let server = MockServer::start().await;
    let payer = payer(&server);
    let launch = payer.authorize();
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(FormField("grant_type", "authorization_code"))
        .and(FormField("code", "accesscodeaccesscodeaccesscode"))
        .and(FormField("redirect_uri", REDIRECT))
        .and(FormField("client_id", CLIENT_ID))
        .and(FormField("client_secret", CLIENT_SECRET))
        .and(FormKeys(&["grant_type", "code", "code_verifier", "redirect_uri", "client_id", "client_secret"]))
        .respond_with(ResponseTemplate::new(200).set_body_json({
            let mut answer = token_answer(ACCESS, REFRESH);
            answer["patient"] = json!("member-1"); // the SMART launch context
            answer
        }))
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
    Mock::given(method("GET"))
        .and(path("/r4/Patient/member-1"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(patient("member-1")))
        .expect(1)
        .mount(&server)
        .await;
    let eob = json!({"resourceType": "ExplanationOfBenefit", "id": "eob-1", "status": "active", "use": "claim",
                     "patient": {"reference": "Patient/member-1"}});
    Mock::given(method("GET"))
        .and(path("/r4/ExplanationOfBenefit"))
        .and(query_param("patient", "member-1"))
        .and(header("authorization", format!("Bearer {NEW_ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(bundle(&[eob], None)))
        .expect(1)
        .mount(&server)
        .await;

    let member = payer.complete(&launch, &callback(&launch, "accesscodeaccesscodeaccesscode")).await.unwrap();
    let sent = server.received_requests().await.unwrap();
    let verifier = form(&sent[0]).into_iter().find(|(k, _)| k == "code_verifier").unwrap().1;
    assert_eq!(verifier, launch.code_verifier().expose());

    let fhir = member.fhir();
    assert_eq!(fhir.base_url().as_str(), format!("{}/r4", server.uri()));
    // Payer guide, step 3: `GET 'https://api.{base-url}/r4/Patient/{patient_id}'`, the id from the token answer.
    let patient_id = member.patient_id().await.expect("the token answer's patient");
    let patient: Patient = fhir.read(&patient_id).await.unwrap();
    assert_eq!(patient.id.as_deref(), Some("member-1"));
    let tokens = member.refresh().await.unwrap();
    assert_eq!(tokens.access_token.expose(), NEW_ACCESS);
    assert_eq!(tokens.patient.as_deref(), Some("member-1"), "kept across the refresh");
    let claims: Vec<ExplanationOfBenefit> =
        fhir.search_resources([("patient", "member-1")]).try_collect().await.unwrap();
    assert_eq!(claims.len(), 1);
    assert_no_secret(&logs.text());
    assert_no_secret(&format!("{member:?} {fhir:?}"));
}

#[tokio::test]
async fn a_state_mismatch_or_an_error_redirect_never_reaches_the_token_endpoint() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).expect(0).mount(&server).await;
    let payer = payer(&server);
    let launch = payer.authorize();
    let state = launch.state().to_owned();
    let cases = [
        (format!("{REDIRECT}?code=c&state=someoneelse"), AuthorizationProblem::StateMismatch),
        (format!("{REDIRECT}?code=c&state={state}x"), AuthorizationProblem::StateMismatch),
        (format!("{REDIRECT}?code=c"), AuthorizationProblem::MissingState),
        (format!("{REDIRECT}?state={state}"), AuthorizationProblem::MissingCode),
        (
            format!("{REDIRECT}?error=access_denied&error_description=The+member+said+no&state={state}"),
            AuthorizationProblem::Denied { error: "access_denied".into(), description: Some("The member said no".into()) },
        ),
    ];
    for (redirect, problem) in cases {
        let err = payer.complete(&launch, &redirect).await.unwrap_err();
        match &err {
            Error::Authorization { request, problem: got } => {
                assert_eq!(got, &problem, "{redirect}");
                assert_eq!(request, "complete payer launch");
            }
            other => panic!("{redirect}: {other:?}"),
        }
        assert!(!err.to_string().contains(&state), "the state is not repeated: {err}");
    }
    // A callback at another place than the redirect URI.
    let err = payer.complete(&launch, &format!("https://evil.example/callback?code=c&state={state}")).await.unwrap_err();
    assert!(matches!(err, Error::Authorization { problem: AuthorizationProblem::NotTheRedirect(_), .. }), "{err:?}");
    // Mismatch when the launch was restored with another state.
    let other = payer.resume_launch("restored-state", launch.code_verifier().clone());
    let err = payer.complete(&other, &callback(&launch, "c")).await.unwrap_err();
    assert!(matches!(err, Error::Authorization { problem: AuthorizationProblem::StateMismatch, .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_code_exchange_is_a_typed_grant_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant", "error_description": "code expired or already used"})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let payer = payer(&server);
    let launch = payer.authorize();
    let err = payer.complete(&launch, &callback(&launch, "accesscodeaccesscodeaccesscode")).await.unwrap_err();
    let Error::GrantRefused { request, error, description } = &err else { panic!("{err:?}") };
    assert_eq!(error, "invalid_grant");
    assert_eq!(description.as_deref(), Some("code expired or already used"));
    assert_eq!(request, &format!("exchange authorization code (POST {}/oauth2/token)", server.uri()));
    assert_no_secret(&err.to_string());

    // Only the query string, as a web framework hands it over, is accepted too.
    let query_only = format!("?code=accesscodeaccesscodeaccesscode&state={}", launch.state());
    let err = payer.complete(&launch, &query_only).await.unwrap_err();
    assert!(matches!(err, Error::GrantRefused { .. }), "{err:?}");
}

#[tokio::test]
async fn the_payer_client_is_read_only_and_its_errors_carry_the_outcome() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/r4/Coverage/nope"))
        .respond_with(ResponseTemplate::new(404).set_body_json(outcome("not-found", "Coverage/nope is not known")))
        .mount(&server)
        .await;
    let payer = payer(&server);
    let member = payer.session(oneup_client::Tokens::new(ACCESS, None));
    let err = member.fhir().read::<fhir_models::r4::Coverage>("nope").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.operation_outcome::<fhir_models::r4::R4>().is_some());
    assert!(err.to_string().starts_with(&format!("read Coverage/nope (GET {}/r4/Coverage/nope)", server.uri())), "{err}");
}
