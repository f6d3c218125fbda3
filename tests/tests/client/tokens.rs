//! OAuth2 grants at the token endpoint (wiremock): request shapes, answers, refusals and redaction.

use std::time::{Duration, SystemTime};

use crate::support::*;
use oneup_client::{Error, Secret, Session, Tokens};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CODE: &str = "accesscodeaccesscodeaccesscode";

#[tokio::test]
async fn exchange_code_sends_the_grant_in_the_form() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(FormKeys(&["grant_type", "code", "client_id", "client_secret"]))
        .and(FormField("grant_type", "authorization_code"))
        .and(FormField("code", CODE))
        .and(FormField("client_id", CLIENT_ID))
        .and(FormField("client_secret", CLIENT_SECRET))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(ACCESS, REFRESH)))
        .expect(1)
        .mount(&server)
        .await;

    let before = SystemTime::now();
    let tokens = client(&server).exchange_code(&Secret::new(CODE)).await.unwrap();
    assert_eq!(tokens.access_token.expose(), ACCESS);
    assert_eq!(tokens.refresh_token.as_ref().map(Secret::expose), Some(REFRESH));
    let expires = tokens.expires_at.expect("expires_in was sent");
    assert!(expires >= before + Duration::from_secs(7199) && expires <= SystemTime::now() + Duration::from_secs(7200));
    assert!(!tokens.expires_within(Duration::from_secs(60)));
    assert_no_secret(&format!("{tokens:?}"));
}

#[tokio::test]
async fn exchange_code_with_pkce_sends_the_verifier() {
    let server = MockServer::start().await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(FormKeys(&["grant_type", "code", "code_verifier", "client_id", "client_secret"]))
        .and(FormField("code_verifier", verifier))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": ACCESS, "refresh_token": REFRESH, "token_type": "Bearer", "expires_in": 3600,
            "scope": "openid user/*.read", "id_token": "header.payload.signature"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let tokens =
        client(&server).exchange_code_with_pkce(&Secret::new(CODE), &Secret::new(verifier)).await.unwrap();
    assert_eq!(tokens.scope.as_deref(), Some("openid user/*.read"));
    assert_eq!(tokens.id_token.as_ref().map(Secret::expose), Some("header.payload.signature"));
}

#[tokio::test]
async fn refresh_sends_the_refresh_grant_and_keeps_an_unrotated_refresh_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(FormKeys(&["grant_type", "refresh_token", "client_id", "client_secret"]))
        .and(FormField("grant_type", "refresh_token"))
        .and(FormField("refresh_token", REFRESH))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": NEW_ACCESS, "token_type": "bearer", "expires_in": 7200})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let tokens = client(&server).refresh_tokens(&Secret::new(REFRESH)).await.unwrap();
    assert_eq!(tokens.access_token.expose(), NEW_ACCESS);
    assert_eq!(tokens.refresh_token.as_ref().map(Secret::expose), Some(REFRESH));
}

#[tokio::test]
async fn a_refused_refresh_is_grant_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "invalid_grant", "error_description": "refresh token expired"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server).refresh_tokens(&Secret::new(REFRESH)).await.unwrap_err();
    match &err {
        Error::GrantRefused { error, description, .. } => {
            assert_eq!(error, "invalid_grant");
            assert_eq!(description.as_deref(), Some("refresh token expired"));
        }
        other => panic!("expected GrantRefused, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.starts_with("refresh tokens (POST "), "{text}");
    assert!(text.contains("invalid_grant: refresh token expired"), "{text}");
    assert_no_secret(&text);
}

#[tokio::test]
async fn a_token_endpoint_outage_keeps_its_status_and_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>maintenance</html>"))
        .expect(1) // POST: never retried
        .mount(&server)
        .await;
    let err = client(&server).exchange_code(&Secret::new(CODE)).await.unwrap_err();
    assert_eq!(err.status(), Some(503), "{err:?}");
}

#[tokio::test]
async fn a_token_answer_without_access_token_is_a_decode_error_without_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"refresh_token": REFRESH, "token_type": "bearer"})))
        .mount(&server)
        .await;
    let err = client(&server).exchange_code(&Secret::new(CODE)).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn session_refresh_hands_rotated_tokens_to_the_hook() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(FormField("refresh_token", REFRESH))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(NEW_ACCESS, NEW_REFRESH)))
        .expect(1)
        .mount(&server)
        .await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let hook_seen = seen.clone();
    let session = Session::new(client(&server), Tokens::new(ACCESS, Some(Secret::new(REFRESH))))
        .on_rotation(move |t: &Tokens| hook_seen.lock().unwrap().push(t.clone()));
    let tokens = session.refresh().await.unwrap();
    assert_eq!(tokens.access_token.expose(), NEW_ACCESS);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].refresh_token.as_ref().map(Secret::expose), Some(NEW_REFRESH));
    assert_eq!(session.tokens().await, tokens);
}

#[tokio::test]
async fn no_secret_reaches_tracing_output() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(FormField("grant_type", "authorization_code"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_answer(ACCESS, REFRESH)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(FormField("grant_type", "refresh_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    let (logs, _guard) = LogCapture::start();
    let client = client(&server);
    let tokens = client.exchange_code(&Secret::new(CODE)).await.unwrap();
    let session = Session::new(client, tokens);
    let err = session.refresh().await.unwrap_err();
    tracing::error!(error = %err, debug = ?err, session = ?session, "for the capture");
    let text = logs.text();
    assert!(text.contains("exchange authorization code"), "the capture saw nothing:\n{text}");
    assert_no_secret(&text);
}
