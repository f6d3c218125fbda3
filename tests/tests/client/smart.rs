//! SMART Backend Services against a real authorization server: oidc-provider (npm) on 127.0.0.1, which verifies
//! each `private_key_jwt` client assertion (signature with the registered public key, iss/sub, aud, exp, jti)
//! before it issues a token. The token is then used on requests to a scripted FHIR server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::servers::{oidc_provider, smart_key};
use crate::support::*;
use fhir_models::r4::{Patient, R4};
use oneup_client::{Algorithm, BackendServices, Error, Session, SigningKey};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

/// The oidc-provider clients: the id is also the `kid` of the registered key (as in `private.jwks.json`).
const RS_CLIENT: &str = "rs384-key";
const ES_CLIENT: &str = "es384-key";

fn provider(ttl: u64) -> crate::support::servers::Server {
    oidc_provider(ttl, &[(RS_CLIENT, &smart_key("rs384.pem")), (ES_CLIENT, &smart_key("es384.pem"))])
}

fn pem(file: &str, kid: &str) -> SigningKey {
    SigningKey::from_pem(&std::fs::read_to_string(smart_key(file)).unwrap(), kid).unwrap()
}

fn jwks_key(kid: &str) -> SigningKey {
    SigningKey::from_jwk(&std::fs::read_to_string(smart_key("private.jwks.json")).unwrap(), Some(kid)).unwrap()
}

#[tokio::test]
async fn rs384_and_es384_assertions_get_tokens_that_are_used_on_fhir_requests() {
    let auth = provider(3600);
    let fhir = MockServer::start().await;
    let cases = [(RS_CLIENT, pem("rs384.pem", RS_CLIENT), Algorithm::Rs384), (ES_CLIENT, jwks_key(ES_CLIENT), Algorithm::Es384)];
    for (client_id, key, alg) in cases {
        assert_eq!(key.algorithm(), alg);
        let services = BackendServices::new(client_id, &auth.get("token_url"), key).unwrap().scope("system/*.read");
        let session = Session::backend_services(client(&fhir), services).await.unwrap();
        let tokens = session.tokens().await;
        assert_eq!(tokens.lifetime, Some(Duration::from_secs(3600)), "{alg}");
        assert_eq!(tokens.scope.as_deref(), Some("system/*.read"), "{alg}");
        assert!(tokens.refresh_token.is_none(), "client credentials have no refresh token");
        let bearer = format!("Bearer {}", tokens.access_token.expose());
        let _mock = Mock::given(method("GET"))
            .and(path("/r4/Patient/p1"))
            .and(header("authorization", bearer.as_str()))
            .respond_with(fhir_json(200, patient("p1")))
            .expect(1)
            .mount_as_scoped(&fhir)
            .await;
        let read = session.fhir::<R4>().read::<Patient>("p1").await.unwrap();
        assert_eq!(read.id.as_deref(), Some("p1"), "{alg}");
    }
}

#[tokio::test]
async fn a_key_the_server_does_not_know_is_refused_with_a_typed_error() {
    let auth = provider(3600);
    let fhir = MockServer::start().await;
    // Right client id and kid, another private key; then an ES384 key for the RS384 client.
    for key in [pem("wrong-rs384.pem", RS_CLIENT), pem("es384.pem", RS_CLIENT)] {
        let services = BackendServices::new(RS_CLIENT, &auth.get("token_url"), key).unwrap();
        let err = Session::backend_services(client(&fhir), services).await.unwrap_err();
        match &err {
            Error::GrantRefused { error, request, .. } => {
                assert_eq!(error, "invalid_client", "{err}");
                assert!(request.contains("/token"), "{request}");
            }
            other => panic!("expected GrantRefused, got {other:?}"),
        }
        assert!(err.is_unauthorized());
        assert!(!err.to_string().contains("eyJ"), "no JWT in the error: {err}");
        assert!(!format!("{err:?}").contains("eyJ"), "no JWT in the error: {err:?}");
    }
}

#[tokio::test]
async fn a_near_expiry_or_refused_token_is_replaced_with_a_new_assertion() {
    // Tokens live 4 s: the session asks for a new one min(60 s, 4 s / 2) = 2 s before expiry.
    let auth = provider(4);
    let fhir = MockServer::start().await;
    let services = BackendServices::new(ES_CLIENT, &auth.get("token_url"), jwks_key(ES_CLIENT)).unwrap();
    let rotations = Arc::new(AtomicUsize::new(0));
    let seen = rotations.clone();
    let session = Session::backend_services(client(&fhir), services).await.unwrap().on_rotation(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    let first = session.tokens().await.access_token;
    Mock::given(method("GET")).and(path("/r4/Patient/p1")).respond_with(fhir_json(200, patient("p1"))).mount(&fhir).await;

    // Still fresh: the same token, no new grant.
    session.fhir::<R4>().read::<Patient>("p1").await.unwrap();
    assert_eq!(session.tokens().await.access_token, first);
    assert_eq!(rotations.load(Ordering::SeqCst), 0);

    // Within the margin: replaced before the request.
    tokio::time::sleep(Duration::from_millis(2300)).await;
    session.fhir::<R4>().read::<Patient>("p1").await.unwrap();
    let second = session.tokens().await.access_token;
    assert_ne!(second, first);
    assert_eq!(rotations.load(Ordering::SeqCst), 1);
    let sent: Vec<String> = fhir
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.headers.get("authorization").unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(sent, [format!("Bearer {}", first.expose()), format!("Bearer {}", second.expose())]);

    // Refused by the resource server (401) although fresh: one new token, and the request goes again.
    let _refuse = Mock::given(method("GET"))
        .and(path("/r4/Patient/p1"))
        .and(header("authorization", format!("Bearer {}", second.expose()).as_str()))
        .respond_with(fhir_json(401, outcome("login", "revoked")))
        .with_priority(1)
        .expect(1)
        .mount_as_scoped(&fhir)
        .await;
    session.fhir::<R4>().read::<Patient>("p1").await.unwrap();
    let third = session.tokens().await.access_token;
    assert_ne!(third, second);
    assert_eq!(rotations.load(Ordering::SeqCst), 2);
}
