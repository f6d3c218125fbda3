//! Every request of the 1upHealth guides (`../shared/seeds/`) as the guide writes it, against scripted servers
//! (wiremock) that accept only that request; each test quotes the guide line it follows. The shapes 1upHealth
//! really answers are read right too (`{"success": true, "entry": [...]}`, HTTP 400 for an existing user).

use std::time::Duration;

use crate::support::*;
use fhir_models::dstu2::{AdministrativeGender, Dstu2, Patient};
use oneup_client::{CreatedUser, Error, OneUpUserId, Session, TokenEndpoint, Tokens, UserFilter};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USER_PATH: &str = "/user-management/v1/user";
const CODE: &str = "accesscodeaccesscodeaccesscode";

/// The quick-start guide, all five steps, in DSTU2 as it writes them.
#[tokio::test]
async fn the_quick_start_guide_step_by_step_in_dstu2() {
    let server = MockServer::start().await;
    // 1. `curl -X POST "https://api.1up.health/user-management/v1/user" -d "app_user_id=myappsuserid"
    //    -d "client_id=clientidclientidclientid" -d "client_secret=clientsecretclientsecret"`
    Mock::given(method("POST"))
        .and(path(USER_PATH))
        .and(FormKeys(&["app_user_id", "client_id", "client_secret"]))
        .and(FormField("app_user_id", "myappsuserid"))
        .and(FormField("client_id", CLIENT_ID))
        .and(FormField("client_secret", CLIENT_SECRET))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "code": CODE, "oneup_user_id": 251, "app_user_id": "1499270216467", "active": true
        })))
        .expect(1)
        .mount(&server)
        .await;
    // 2. `curl -X POST https://auth.1up.health/oauth2/token -d "client_id=…" -d "client_secret=…"
    //    -d "code=accesscodeaccesscodeaccesscode" -d "grant_type=authorization_code"`
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(FormKeys(&["client_id", "client_secret", "code", "grant_type"]))
        .and(FormField("grant_type", "authorization_code"))
        .and(FormField("code", CODE))
        .and(FormField("client_id", CLIENT_ID))
        .and(FormField("client_secret", CLIENT_SECRET))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(ACCESS, REFRESH)))
        .expect(1)
        .mount(&server)
        .await;
    // 3. `curl -X POST https://auth.1up.health/oauth2/token -d "client_id=…" -d "client_secret=…"
    //    -d "refresh_token=b23ae107a6584fecab17826537f464cf" -d "grant_type=refresh_token"`
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(FormKeys(&["client_id", "client_secret", "refresh_token", "grant_type"]))
        .and(FormField("grant_type", "refresh_token"))
        .and(FormField("refresh_token", REFRESH))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(NEW_ACCESS, NEW_REFRESH)))
        .expect(1)
        .mount(&server)
        .await;
    // 4. `curl -X POST "https://api.1up.health/dstu2/Patient" -H "Content-Type: application/json"
    //    -H "Authorization: Bearer …" -d '{"resourceType": "Patient", "id": "helloiamatestpatient", "gender": "female"}'`
    let stored = json!({"resourceType": "Patient", "id": "helloiamatestpatient",
        "meta": {"versionId": "9000000000002", "lastUpdated": "2019-03-19T21:10:19.727Z"}, "gender": "female"});
    Mock::given(method("POST"))
        .and(path("/dstu2/Patient"))
        .and(header("authorization", format!("Bearer {NEW_ACCESS}").as_str()))
        .and(body_string_contains("\"id\":\"helloiamatestpatient\""))
        .and(body_string_contains("\"gender\":\"female\""))
        .respond_with(fhir_json(201, stored.clone()))
        .expect(1)
        .mount(&server)
        .await;
    // 5. `curl -X GET "https://api.1up.health/dstu2/Patient/helloiamatestpatient" -H "Authorization: Bearer …"`
    Mock::given(method("GET"))
        .and(path("/dstu2/Patient/helloiamatestpatient"))
        .and(header("authorization", format!("Bearer {NEW_ACCESS}").as_str()))
        .respond_with(fhir_json(200, stored))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    let CreatedUser::Created(user) = client.create_user("myappsuserid").await.unwrap() else { panic!("created") };
    assert_eq!(user.oneup_user_id, OneUpUserId::from(251));
    let tokens = client.exchange_code(&user.code).await.unwrap();
    assert_eq!(tokens.lifetime, Some(Duration::from_secs(7200)));
    assert_eq!(tokens.token_type.as_deref(), Some("bearer"));
    let session = Session::new(client, tokens);
    session.refresh().await.unwrap();
    let fhir = session.fhir::<Dstu2>();
    let patient = Patient {
        id: Some("helloiamatestpatient".into()),
        gender: Some(AdministrativeGender::Female.into()),
        ..Patient::default()
    };
    let created = fhir.create_with_id(&patient).await.unwrap();
    let version = created.meta.as_ref().and_then(|m| m.version_id.as_ref()?.value.clone());
    assert_eq!(version.as_deref(), Some("9000000000002"));
    let read: Patient = fhir.read("helloiamatestpatient").await.unwrap();
    assert_eq!(read.id.as_deref(), Some("helloiamatestpatient"));
}

#[tokio::test]
async fn codes_are_asked_for_with_a_scope_and_the_id_token_comes_back() {
    // API reference, "Generate Access Token": "The id_token is only returned if you include the openid scope
    // when requesting for a code."
    let server = MockServer::start().await;
    for (route, answer) in [
        (USER_PATH.to_owned(), json!({"success": true, "code": CODE, "oneup_user_id": 251, "app_user_id": "u", "active": true})),
        (format!("{USER_PATH}/auth-code"), json!({"success": true, "code": CODE, "oneup_user_id": "251", "app_user_id": "u"})),
    ] {
        Mock::given(method("POST"))
            .and(path(route))
            .and(FormKeys(&["app_user_id", "client_id", "client_secret", "scope"]))
            .and(FormField("scope", "openid user/*.*"))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .expect(1)
            .mount(&server)
            .await;
    }
    // "Returns an access_token, refresh_token and optionally an id_token … "scope" : "string", "id_token" : "string""
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS, "refresh_token": REFRESH, "token_type": "bearer", "expires_in": 7200,
            "scope": "openid user/*.*", "id_token": "eyJhbGciOiJSUzI1NiJ9.idtokenbody.signature",
            "patient": "helloiamatestpatient", "need_patient_banner": false, "encounter": "e1"
        })))
        .mount(&server)
        .await;
    let client = client(&server);
    let CreatedUser::Created(user) = client.create_user_with_scope("u", "openid user/*.*").await.unwrap() else {
        panic!("created")
    };
    let again = client.new_auth_code_with_scope("u", "openid user/*.*").await.unwrap();
    assert_eq!(again.oneup_user_id, user.oneup_user_id);
    let tokens = client.exchange_code(&again.code).await.unwrap();
    assert_eq!(tokens.scope.as_deref(), Some("openid user/*.*"));
    assert_eq!(tokens.id_token.as_ref().map(|t| t.expose()), Some("eyJhbGciOiJSUzI1NiJ9.idtokenbody.signature"));
    // The SMART launch context: `patient`, and every other field as sent.
    assert_eq!(tokens.patient.as_deref(), Some("helloiamatestpatient"));
    assert_eq!(tokens.other.get("need_patient_banner"), Some(&json!(false)));
    assert_eq!(tokens.other.get("encounter"), Some(&json!("e1")));
    assert!(!tokens.other.contains_key("access_token") && !tokens.other.contains_key("id_token"));
    let debug = format!("{tokens:?}");
    assert_no_secret(&debug);
    assert!(!debug.contains("idtokenbody") && debug.contains("encounter"), "{debug}");
}

#[tokio::test]
async fn a_refresh_keeps_the_smart_context_the_refresh_answer_leaves_out() {
    let server = MockServer::start().await;
    mount_refresh(&server, 1).await;
    let mut tokens = Tokens::new(ACCESS, Some(oneup_client::Secret::new(REFRESH)));
    tokens.patient = Some("member-1".into());
    let session = Session::new(client(&server), tokens);
    let fresh = session.refresh().await.unwrap();
    assert_eq!(fresh.access_token.expose(), NEW_ACCESS);
    assert_eq!(fresh.patient.as_deref(), Some("member-1"));
}

#[tokio::test]
async fn an_existing_user_is_decided_by_status_and_success_not_by_words() {
    // API reference, "Create User": "The request won't fail if the user already exists but rather will return
    // error saying this user already exists". In practice 1upHealth answers HTTP 400 "this user already exists".
    let cases = [
        (400, json!({"error": "this user already exists"}), true),
        (400, json!({"success": false, "error": "Benutzer ist bereits vorhanden"}), true),
        (200, json!({"success": false, "error": "duplicate app_user_id"}), true),
        // The word "exist" alone decides nothing: a 401 is an error whatever it says.
        (401, json!({"error": "no user exists for these keys"}), false),
        (500, json!({"success": false, "error": "user exists?"}), false),
    ];
    for (status, body, exists) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(USER_PATH))
            .respond_with(ResponseTemplate::new(status).set_body_json(body.clone()))
            .mount(&server)
            .await;
        let answer = client(&server).create_user("myappsuserid").await;
        // `CreatedUser` is exhaustive: no `_` arm.
        match (answer, exists) {
            (Ok(CreatedUser::AlreadyExists { app_user_id, message }), true) => {
                assert_eq!(app_user_id, "myappsuserid");
                assert_eq!(message, body["error"].as_str().unwrap());
            }
            (Ok(CreatedUser::Created(_)), _) => panic!("{status} {body}: not a new user"),
            (Err(e), false) => assert_eq!(e.status(), Some(status), "{e}"),
            (other, _) => panic!("{status} {body}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn user_lists_read_the_reference_shape_and_the_entry_shape() {
    // API reference, "Get Users": `{"oneup_user_id": "string", "app_user_id": "string", "active": "boolean"}`;
    // 1upHealth in practice: `{"success": true, "entry": [...]}`; "Could not find a user matching this query.
    // {"error": "string"}".
    for (status, body, want) in [
        (200, json!({"oneup_user_id": "251", "app_user_id": "a", "active": true}), vec!["251"]),
        (200, json!({"success": true, "entry": [{"oneup_user_id": 251, "app_user_id": "a"}, {"oneup_user_id": "252"}]}), vec!["251", "252"]),
        (200, json!({"success": true, "entry": []}), vec![]),
        (404, json!({"error": "Could not find a user matching this query."}), vec![]),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(USER_PATH))
            .and(query_param("app_user_id", "a"))
            .and(header("authorization", format!("Bearer {CLIENT_SECRET}").as_str()))
            .and(NoSecretInQuery)
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
        let users = client(&server).list_users(&UserFilter::app_user_id("a")).await.unwrap();
        let ids: Vec<&str> = users.iter().map(|u| u.oneup_user_id.as_str()).collect();
        assert_eq!(ids, want);
    }
}

/// Matches a request whose query string holds no secret of the tests.
struct NoSecretInQuery;

impl wiremock::Match for NoSecretInQuery {
    fn matches(&self, request: &wiremock::Request) -> bool {
        let query = request.url.query().unwrap_or("");
        !query.contains(CLIENT_SECRET) && !query.contains("client_secret")
    }
}

#[tokio::test]
async fn the_api_hosts_token_endpoint_serves_the_exchange_and_the_session_refreshes_there() {
    // API reference, "Generate Access Token": `https://api.1up.health/fhir/oauth2/token`.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/fhir/oauth2/token"))
        .and(FormField("grant_type", "authorization_code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(ACCESS, REFRESH)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/fhir/oauth2/token"))
        .and(FormField("grant_type", "refresh_token"))
        .and(FormField("refresh_token", REFRESH))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(NEW_ACCESS, NEW_REFRESH)))
        .expect(1)
        .mount(&server)
        .await;
    // Nothing may go to the auth host's endpoint.
    Mock::given(method("POST")).and(path("/oauth2/token")).respond_with(ResponseTemplate::new(500)).expect(0).mount(&server).await;
    let client = client(&server);
    assert_eq!(client.token_endpoint_url(TokenEndpoint::Api).as_str(), format!("{}/fhir/oauth2/token", server.uri()));
    let tokens = client.exchange_code_at(TokenEndpoint::Api, &CODE.into()).await.unwrap();
    let session = Session::refreshed_at(client, tokens, TokenEndpoint::Api);
    assert_eq!(session.refresh().await.unwrap().access_token.expose(), NEW_ACCESS);
}

#[tokio::test]
async fn the_connect_guides_queries_go_where_the_guide_sends_them() {
    // Connect guide: `curl -X GET https://api.1up.health/dstu2/Condition?code=3928002 -H "Authorization: Bearer …"`,
    // and `/fhir/{fhirVersion}/{resourceType}` of the API reference, both from one session.
    let server = MockServer::start().await;
    let condition = json!({"resourceType": "Condition", "id": "c1", "patient": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "3928002"}]}, "verificationStatus": "confirmed"});
    let page = json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": condition}]});
    for route in ["/dstu2/Condition", "/fhir/dstu2/Condition"] {
        Mock::given(method("GET"))
            .and(path(route))
            .and(query_param("code", "3928002"))
            .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
            .respond_with(fhir_json(200, page.clone()))
            .expect(1)
            .mount(&server)
            .await;
    }
    let session = session(client(&server));
    let short = session.fhir::<Dstu2>();
    let long = session.fhir_at::<Dstu2>("/fhir/{version}").unwrap();
    assert_eq!(long.base_url().as_str(), format!("{}/fhir/dstu2", server.uri()));
    for fhir in [short, long] {
        let found = fhir.search::<fhir_models::dstu2::Condition>([("code", "3928002")]).await.unwrap();
        assert_eq!(found.entry.len(), 1);
    }
    assert!(matches!(session.fhir_at::<Dstu2>("https://elsewhere.example/fhir"), Err(Error::Config(_))));
}
