//! SMART Backend Services authorization (feature `smart`): OAuth2 `client_credentials` with a signed JWT client
//! assertion (RS384 or ES384), keys from a private JWK(S) or a PKCS#8 PEM. The token request goes through this
//! crate's transport and grant reading, so timeouts, redaction and typed errors are those of every other grant.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use oauth2::{AuthType, ClientId, Scope, TokenUrl};
use serde_json::{json, Map, Value};
use url::Url;

use crate::client::OneUpClient;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::tokens::Tokens;

/// `client_assertion_type` of a JWT client assertion (RFC 7523).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The longest assertion lifetime SMART Backend Services allow (5 minutes).
pub const MAX_ASSERTION_LIFETIME: Duration = Duration::from_secs(300);

/// The JWS algorithms SMART Backend Services name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// ECDSA on P-384 with SHA-384.
    Es384,
}

impl Algorithm {
    /// The JWS name (`RS384`, `ES384`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rs384 => "RS384",
            Algorithm::Es384 => "ES384",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Algorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_uppercase().as_str() {
            "RS384" => Ok(Algorithm::Rs384),
            "ES384" => Ok(Algorithm::Es384),
            _ => Err(key_error("algorithm", format!("`{s}` is not supported (RS384 or ES384)"), None)),
        }
    }
}

enum KeyMaterial {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ec(p384::ecdsa::SigningKey),
}

/// A private key that signs client assertions, with its `kid` and algorithm. `Debug` shows no key material.
///
/// ```
/// use oneup_client::{Algorithm, SigningKey};
/// let pem = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smart/es384.pem")).unwrap();
/// let key = SigningKey::from_pem(&pem, "my-key-1").unwrap();
/// assert_eq!(key.algorithm(), Algorithm::Es384);
/// assert_eq!(key.public_jwk()["crv"], "P-384");
/// ```
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    material: KeyMaterial,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

fn key_error(what: &str, message: String, source: Option<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::SigningKey { what: what.to_owned(), message, source }
}

impl SigningKey {
    /// A PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`): an RSA key signs RS384, a P-384 key ES384. PEM
    /// carries no key id: `kid` is the one registered with the server (the `kid` of the public JWKS).
    pub fn from_pem(pem: &str, kid: impl Into<String>) -> Result<Self> {
        use p384::pkcs8::DecodePrivateKey as _;
        let kid = kid.into();
        if kid.is_empty() {
            return Err(key_error("PEM key", "a key id (`kid`) is required".into(), None));
        }
        let rsa_error = match rsa::RsaPrivateKey::from_pkcs8_pem(pem) {
            Ok(key) => return Ok(SigningKey { kid, alg: Algorithm::Rs384, material: KeyMaterial::Rsa(Box::new(key)) }),
            Err(e) => e,
        };
        match p384::SecretKey::from_pkcs8_pem(pem) {
            Ok(key) => Ok(SigningKey { kid, alg: Algorithm::Es384, material: KeyMaterial::Ec(key.into()) }),
            Err(_) => Err(key_error(
                "PEM key",
                "not a PKCS#8 RSA or P-384 private key (`-----BEGIN PRIVATE KEY-----`)".into(),
                Some(Box::new(rsa_error)),
            )),
        }
    }

    /// A private JWK (`kty` `RSA` with `n`, `e`, `d`, `p`, `q`; or `EC` on `P-384` with `x`, `y`, `d`), or a
    /// JWKS (`{"keys": [...]}`) holding one private key, or several of which `kid` picks one.
    pub fn from_jwk(json: &str, kid: Option<&str>) -> Result<Self> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| key_error("JWK", "not JSON".into(), Some(Box::new(e))))?;
        let candidates: Vec<&Value> = match value.get("keys") {
            Some(Value::Array(keys)) => keys.iter().collect(),
            Some(_) => return Err(key_error("JWKS", "`keys` is not an array".into(), None)),
            None => vec![&value],
        };
        let private: Vec<&Value> = candidates.into_iter().filter(|k| k.get("d").is_some()).collect();
        let chosen = match kid {
            Some(kid) => private.iter().find(|k| k.get("kid").and_then(Value::as_str) == Some(kid)).copied().ok_or_else(
                || key_error("JWKS", format!("no private key with kid `{kid}`"), None),
            )?,
            None => match private.as_slice() {
                [one] => one,
                [] => return Err(key_error("JWKS", "no private key (a key with `d`)".into(), None)),
                _ => return Err(key_error("JWKS", "several private keys: name one by its kid".into(), None)),
            },
        };
        Self::from_jwk_value(chosen)
    }

    fn from_jwk_value(jwk: &Value) -> Result<Self> {
        let field = |name: &str| -> Result<Vec<u8>> {
            let text = jwk
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| key_error("JWK", format!("`{name}` is missing"), None))?;
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .map_err(|e| key_error("JWK", format!("`{name}` is not base64url"), Some(Box::new(e))))
        };
        let kid = jwk
            .get("kid")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| key_error("JWK", "`kid` is missing: the server finds the public key by it".into(), None))?
            .to_owned();
        let (alg, material) = match jwk.get("kty").and_then(Value::as_str) {
            Some("RSA") => {
                let big = |name: &str| field(name).map(|b| rsa::BigUint::from_bytes_be(&b));
                let primes = match (jwk.get("p"), jwk.get("q")) {
                    (Some(_), Some(_)) => vec![big("p")?, big("q")?],
                    _ => Vec::new(),
                };
                let key = rsa::RsaPrivateKey::from_components(big("n")?, big("e")?, big("d")?, primes)
                    .map_err(|e| key_error("JWK", "not a usable RSA private key".into(), Some(Box::new(e))))?;
                key.validate().map_err(|e| key_error("JWK", "inconsistent RSA key".into(), Some(Box::new(e))))?;
                (Algorithm::Rs384, KeyMaterial::Rsa(Box::new(key)))
            }
            Some("EC") => {
                let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or("");
                if crv != "P-384" {
                    return Err(key_error("JWK", format!("curve `{crv}` is not P-384 (ES384)"), None));
                }
                // Only the members the curve crate reads (it refuses others, such as `kid` and `alg`).
                let bare = json!({ "kty": "EC", "crv": crv, "x": jwk.get("x"), "y": jwk.get("y"), "d": jwk.get("d") });
                let key = p384::SecretKey::from_jwk_str(&bare.to_string())
                    .map_err(|e| key_error("JWK", "not a usable P-384 private key".into(), Some(Box::new(e))))?;
                (Algorithm::Es384, KeyMaterial::Ec(key.into()))
            }
            other => return Err(key_error("JWK", format!("key type {other:?} is not RSA or EC"), None)),
        };
        if let Some(named) = jwk.get("alg").and_then(Value::as_str) {
            if named != alg.as_str() {
                return Err(key_error("JWK", format!("`alg` is {named} but the key signs {alg}"), None));
            }
        }
        Ok(SigningKey { kid, alg, material })
    }

    /// Checks that the key signs `alg` (e.g. the algorithm a command line asked for).
    pub fn expect_algorithm(self, alg: Algorithm) -> Result<Self> {
        if self.alg != alg {
            return Err(key_error("key", format!("{alg} was asked for but the key `{}` signs {}", self.kid, self.alg), None));
        }
        Ok(self)
    }

    /// The key id sent in the JWT header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm the key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The public part as a JWK (`kid`, `alg`, `use: sig`): what to register with the authorization server.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = match &self.material {
            KeyMaterial::Rsa(key) => {
                use rsa::traits::PublicKeyParts as _;
                json!({
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                    "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
                })
            }
            KeyMaterial::Ec(key) => {
                let public = p384::PublicKey::from(key.verifying_key());
                serde_json::from_str(&public.to_jwk_string()).unwrap_or(Value::Null)
            }
        };
        if let Value::Object(map) = &mut jwk {
            map.insert("kid".into(), self.kid.clone().into());
            map.insert("alg".into(), self.alg.as_str().into());
            map.insert("use".into(), "sig".into());
        }
        jwk
    }

    fn sign(&self, input: &[u8]) -> Vec<u8> {
        use rsa::signature::{SignatureEncoding as _, Signer as _};
        match &self.material {
            KeyMaterial::Rsa(key) => {
                let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha384>::new(key.as_ref().clone());
                signer.sign(input).to_vec()
            }
            KeyMaterial::Ec(key) => {
                // JWS wants the fixed-size r || s (96 bytes), which is this encoding.
                let signature: p384::ecdsa::Signature = key.sign(input);
                signature.to_bytes().to_vec()
            }
        }
    }
}

/// SMART Backend Services: a registered client that gets access tokens with `client_credentials` and a JWT
/// assertion signed by its private key. Use it as the token source of a [`Session`](crate::Session) with
/// [`Session::backend_services`](crate::Session::backend_services): a new token is asked for when the current
/// one expires within `min(refresh margin, expires_in / 2)`, or after the server refused it.
///
/// ```no_run
/// # async fn demo() -> oneup_client::Result<()> {
/// use fhir_models::r4::R4;
/// use oneup_client::{AppCredentials, BackendServices, OneUpClient, Session, SigningKey};
/// let key = SigningKey::from_jwk(&std::fs::read_to_string("private.jwks.json").unwrap(), Some("my-key-1"))?;
/// let services = BackendServices::new("my-client-id", "https://auth.example.org/token", key)?
///     .scope("system/*.read");
/// // The app keys are not used by Backend Services; the client gives the hosts and HTTP settings.
/// let client = OneUpClient::builder(AppCredentials::new("my-client-id", ""))
///     .api_base("https://fhir.example.org")
///     .build()?;
/// let session = Session::backend_services(client, services).await?;
/// let r4 = session.fhir::<R4>();
/// # let _ = r4; Ok(()) }
/// ```
pub struct BackendServices {
    client_id: String,
    token_url: Url,
    scope: Option<String>,
    key: SigningKey,
    assertion_lifetime: Duration,
}

impl fmt::Debug for BackendServices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendServices")
            .field("client_id", &self.client_id)
            .field("token_url", &crate::transport::display_url(&self.token_url))
            .field("scope", &self.scope)
            .field("key", &self.key)
            .finish()
    }
}

impl BackendServices {
    /// The client `client_id`, registered at the token endpoint `token_url` with the public part of `key`.
    pub fn new(client_id: impl Into<String>, token_url: &str, key: SigningKey) -> Result<Self> {
        let token_url = Url::parse(token_url)
            .map_err(|e| Error::Config(format!("the token URL `{token_url}` is not a URL: {e}")))?;
        let client_id = client_id.into();
        if client_id.is_empty() {
            return Err(Error::Config("the client id of SMART Backend Services is empty".into()));
        }
        Ok(BackendServices { client_id, token_url, scope: None, key, assertion_lifetime: MAX_ASSERTION_LIFETIME })
    }

    /// The scope asked for (e.g. `system/*.read`); none by default (the server's default).
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// How long an assertion is valid (`exp - iat`): 5 minutes by default, cut to 5 minutes at most.
    #[must_use]
    pub fn assertion_lifetime(mut self, lifetime: Duration) -> Self {
        self.assertion_lifetime = lifetime.min(MAX_ASSERTION_LIFETIME);
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// A fresh signed client assertion: header `alg`, `typ: JWT`, `kid`; claims `iss` = `sub` = client id,
    /// `aud` = token URL, `iat`, `exp` (at most 5 minutes later) and a unique `jti`.
    pub fn client_assertion(&self) -> Result<Secret> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut jti = [0u8; 16];
        getrandom::getrandom(&mut jti)
            .map_err(|e| key_error("assertion", "no randomness for the `jti`".into(), Some(Box::new(e))))?;
        let header = json!({ "alg": self.key.alg.as_str(), "typ": "JWT", "kid": self.key.kid });
        let mut claims = Map::new();
        claims.insert("iss".into(), self.client_id.clone().into());
        claims.insert("sub".into(), self.client_id.clone().into());
        claims.insert("aud".into(), self.token_url.as_str().into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + self.assertion_lifetime.as_secs().max(1)).into());
        claims.insert("jti".into(), jti.iter().map(|b| format!("{b:02x}")).collect::<String>().into());
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string())
        );
        let signature = URL_SAFE_NO_PAD.encode(self.key.sign(input.as_bytes()));
        Ok(Secret::new(format!("{input}.{signature}")))
    }

    /// `grant_type=client_credentials` with a new assertion, sent through `client`'s transport. A refusal is
    /// [`Error::GrantRefused`] (e.g. `invalid_client` for a key the server does not know); the assertion never
    /// appears in an error.
    pub async fn request_token(&self, client: &OneUpClient) -> Result<Tokens> {
        let assertion = self.client_assertion()?;
        let grants = oauth2::Client::<
            oauth2::basic::BasicErrorResponse,
            crate::tokens::TokenResponse,
            oauth2::basic::BasicTokenIntrospectionResponse,
            oauth2::StandardRevocableToken,
            oauth2::basic::BasicRevocationErrorResponse,
        >::new(ClientId::new(self.client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::from_url(self.token_url.clone()));
        let mut request = grants
            .exchange_client_credentials()
            .add_extra_param("client_assertion_type", JWT_BEARER_ASSERTION)
            .add_extra_param("client_assertion", assertion.expose().to_owned());
        if let Some(scope) = &self.scope {
            request = request.add_scopes(scope.split_whitespace().map(|s| Scope::new(s.to_owned())));
        }
        let label = "SMART backend services token";
        let result = request.request_async(&client.grant_http(label)).await;
        crate::tokens::read_grant(format!("{label} (POST {})", crate::transport::display_url(&self.token_url)), result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::signature::Verifier as _;

    const RS_PEM: &str = include_str!("../tests/fixtures/smart/rs384.pem");
    const ES_PEM: &str = include_str!("../tests/fixtures/smart/es384.pem");
    const JWKS: &str = include_str!("../tests/fixtures/smart/private.jwks.json");

    fn parts(jwt: &str) -> (Value, Value, Vec<u8>, String) {
        let pieces: Vec<&str> = jwt.split('.').collect();
        assert_eq!(pieces.len(), 3, "a JWS compact serialization");
        let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).expect("base64url");
        let header = serde_json::from_slice(&decode(pieces[0])).expect("header JSON");
        let claims = serde_json::from_slice(&decode(pieces[1])).expect("claims JSON");
        (header, claims, decode(pieces[2]), format!("{}.{}", pieces[0], pieces[1]))
    }

    fn check_claims(header: &Value, claims: &Value, alg: &str, kid: &str) {
        assert_eq!(header["alg"], alg);
        assert_eq!(header["typ"], "JWT");
        assert_eq!(header["kid"], kid);
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["sub"], "client-1");
        assert_eq!(claims["aud"], "https://auth.example.org/token");
        let (iat, exp) = (claims["iat"].as_u64().unwrap(), claims["exp"].as_u64().unwrap());
        assert!(exp > iat && exp - iat <= 300, "exp {exp} within 5 minutes of iat {iat}");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(iat.abs_diff(now) <= 5);
        assert_eq!(claims["jti"].as_str().unwrap().len(), 32);
    }

    #[test]
    fn rs384_assertion_has_the_smart_shape_and_verifies_with_the_public_key() {
        let key = SigningKey::from_pem(RS_PEM, "rs-kid").unwrap();
        let public = match &key.material {
            KeyMaterial::Rsa(k) => k.to_public_key(),
            KeyMaterial::Ec(_) => panic!("an RSA PEM read as EC"),
        };
        let services = BackendServices::new("client-1", "https://auth.example.org/token", key).unwrap();
        let jwt = services.client_assertion().unwrap();
        let (header, claims, signature, input) = parts(jwt.expose());
        check_claims(&header, &claims, "RS384", "rs-kid");
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(public);
        let signature = rsa::pkcs1v15::Signature::try_from(signature.as_slice()).unwrap();
        verifier.verify(input.as_bytes(), &signature).expect("RS384 signature verifies");
        assert!(verifier.verify(b"tampered", &signature).is_err());
        let second = services.client_assertion().unwrap();
        assert_ne!(parts(second.expose()).1["jti"], claims["jti"], "each assertion has its own jti");
    }

    #[test]
    fn es384_assertion_verifies_with_the_public_jwk() {
        let key = SigningKey::from_jwk(JWKS, Some("es384-key")).unwrap();
        assert_eq!(key.algorithm(), Algorithm::Es384);
        let jwk = key.public_jwk();
        let bare = json!({ "kty": "EC", "crv": "P-384", "x": jwk["x"], "y": jwk["y"] });
        let public = p384::PublicKey::from_jwk_str(&bare.to_string()).unwrap();
        let services = BackendServices::new("client-1", "https://auth.example.org/token", key)
            .unwrap()
            .assertion_lifetime(Duration::from_secs(3600));
        let jwt = services.client_assertion().unwrap();
        let (header, claims, signature, input) = parts(jwt.expose());
        check_claims(&header, &claims, "ES384", "es384-key");
        assert_eq!(signature.len(), 96, "JWS ECDSA signatures are r || s");
        let verifier = p384::ecdsa::VerifyingKey::from(public);
        let signature = p384::ecdsa::Signature::from_slice(&signature).unwrap();
        verifier.verify(input.as_bytes(), &signature).expect("ES384 signature verifies");
    }

    #[test]
    fn keys_from_jwk_pem_agree_and_bad_keys_are_typed_errors() {
        let from_jwk = SigningKey::from_jwk(JWKS, Some("rs384-key")).unwrap();
        let from_pem = SigningKey::from_pem(RS_PEM, "rs384-key").unwrap();
        assert_eq!(from_jwk.public_jwk(), from_pem.public_jwk());
        assert_eq!(SigningKey::from_pem(ES_PEM, "k").unwrap().algorithm(), Algorithm::Es384);
        assert!(matches!(SigningKey::from_jwk(JWKS, None), Err(Error::SigningKey { .. })), "two keys, no kid");
        assert!(matches!(SigningKey::from_jwk(JWKS, Some("nope")), Err(Error::SigningKey { .. })));
        assert!(matches!(SigningKey::from_pem("not a key", "k"), Err(Error::SigningKey { .. })));
        let public_only = json!({ "keys": [from_pem.public_jwk()] }).to_string();
        assert!(matches!(SigningKey::from_jwk(&public_only, None), Err(Error::SigningKey { .. })));
        let wrong = SigningKey::from_pem(ES_PEM, "k").unwrap().expect_algorithm(Algorithm::Rs384);
        assert!(wrong.unwrap_err().to_string().contains("RS384"));
        assert!(!format!("{from_pem:?}").contains("MII"), "Debug shows no key material");
    }
}
