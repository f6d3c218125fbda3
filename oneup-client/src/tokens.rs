//! OAuth2 grants at the token endpoint (`authorization_code`, optionally with PKCE, and `refresh_token`), built by
//! the `oauth2` crate and sent through this crate's transport (timeouts, size cap, redacted logs).

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AsyncHttpClient, AuthType, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, StandardRevocableToken, StandardTokenResponse,
    TokenResponse as _, TokenUrl,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::{OneUpClient, TokenEndpoint};
use crate::error::{Error, Result};
use crate::secret::{AppCredentials, Secret};
use crate::transport::{display_url, Call, Transport};

/// A user's tokens, and the context the token endpoint sent with them.
///
/// `Debug` shows no token (and only the names of [`other`](Tokens::other) fields). Persist them (the values are
/// in [`Secret::expose`]) to restore a [`Session`](crate::Session) later with [`Tokens::new`] and
/// [`Tokens::expiring_at`].
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Tokens {
    /// The bearer token.
    pub access_token: Secret,
    /// The refresh token, when the server issued one.
    pub refresh_token: Option<Secret>,
    /// When the access token expires, from `expires_in`; `None` when unknown.
    pub expires_at: Option<SystemTime>,
    /// `expires_in` as sent: how long the access token lives. The session refreshes
    /// `min(refresh margin, lifetime / 2)` before expiry, so a short-lived token is not refreshed on every request.
    pub lifetime: Option<Duration>,
    /// `token_type`, as sent (`bearer`).
    pub token_type: Option<String>,
    /// The granted scope, when sent.
    pub scope: Option<String>,
    /// The OpenID Connect `id_token` (only when the code was asked for with the `openid` scope).
    pub id_token: Option<Secret>,
    /// The SMART launch context `patient`: the FHIR id of the patient the token is for (a payer's token answer
    /// carries it; the payer guide's `GET /r4/Patient/{id}` needs it).
    pub patient: Option<String>,
    /// Every other field of the token answer (SMART `encounter`, `need_patient_banner`, `smart_style_url`, …), as
    /// sent.
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .field("lifetime", &self.lifetime)
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .field("id_token", &self.id_token)
            .field("patient", &self.patient)
            // Values of unknown fields may be secrets too: only their names.
            .field("other", &self.other.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Tokens {
    /// Tokens restored from storage (expiry unknown: the first refusal by the server triggers a refresh).
    pub fn new(access_token: impl Into<Secret>, refresh_token: Option<Secret>) -> Self {
        Tokens {
            access_token: access_token.into(),
            refresh_token,
            expires_at: None,
            lifetime: None,
            token_type: None,
            scope: None,
            id_token: None,
            patient: None,
            other: serde_json::Map::new(),
        }
    }

    /// The same tokens with a known expiry.
    pub fn expiring_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Whether the access token expires within `margin` from now (false when the expiry is unknown).
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_at.is_some_and(|at| at <= SystemTime::now() + margin)
    }

    /// How long before expiry these tokens are refreshed: `min(margin, lifetime / 2)` (just `margin` when the
    /// lifetime is unknown).
    pub fn refresh_margin(&self, margin: Duration) -> Duration {
        self.lifetime.map_or(margin, |lifetime| margin.min(lifetime / 2))
    }
}

/// The fields 1upHealth and SMART servers send next to the OAuth2 ones: `id_token`, `patient`, and the rest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ContextFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "patient_id")]
    patient: Option<String>,
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

/// `patient` as text (some servers send a number).
fn patient_id<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

impl ExtraTokenFields for ContextFields {}

pub(crate) type TokenResponse = StandardTokenResponse<ContextFields, BasicTokenType>;

pub(crate) type GrantClient = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The keys go in the form body (`client_id`, `client_secret`), as the 1upHealth guides send them.
pub(crate) fn grant_client(keys: &AppCredentials, token_url: &Url) -> GrantClient {
    oauth2::Client::new(ClientId::new(keys.client_id().to_owned()))
        .set_client_secret(ClientSecret::new(keys.client_secret().expose().to_owned()))
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(TokenUrl::from_url(token_url.clone()))
}

impl OneUpClient {
    /// Exchanges an authorization code (from [`create_user`](OneUpClient::create_user),
    /// [`new_auth_code`](OneUpClient::new_auth_code) or a redirect) for tokens:
    /// `grant_type=authorization_code` with `code`, `client_id`, `client_secret`.
    pub async fn exchange_code(&self, code: &Secret) -> Result<Tokens> {
        self.exchange_code_at(TokenEndpoint::Auth, code).await
    }

    /// [`exchange_code`](OneUpClient::exchange_code) at a chosen token endpoint (the API reference's
    /// `{api}/fhir/oauth2/token` is [`TokenEndpoint::Api`]). Refresh such tokens with a session made by
    /// [`Session::refreshed_at`](crate::Session::refreshed_at) with the same endpoint.
    pub async fn exchange_code_at(&self, endpoint: TokenEndpoint, code: &Secret) -> Result<Tokens> {
        let request = self.grants(endpoint).exchange_code(AuthorizationCode::new(code.expose().to_owned()));
        let label = "exchange authorization code";
        self.finish_grant(endpoint, label, request.request_async(&self.grant_http(label)).await)
    }

    /// Like [`exchange_code`](OneUpClient::exchange_code), with the PKCE `code_verifier` whose challenge was sent
    /// to the authorization endpoint.
    pub async fn exchange_code_with_pkce(&self, code: &Secret, code_verifier: &Secret) -> Result<Tokens> {
        let request = self
            .grants(TokenEndpoint::Auth)
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.expose().to_owned()));
        let label = "exchange authorization code";
        self.finish_grant(TokenEndpoint::Auth, label, request.request_async(&self.grant_http(label)).await)
    }

    /// The code exchange of a SMART launch: `code`, the PKCE `code_verifier` and the `redirect_uri` the
    /// authorization request named (RFC 6749 §4.1.3 asks for it again), with the app's keys.
    pub(crate) async fn exchange_launch_code(
        &self,
        code: &Secret,
        code_verifier: &Secret,
        redirect_uri: Option<&Url>,
    ) -> Result<Tokens> {
        let mut request = self
            .grants(TokenEndpoint::Auth)
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.expose().to_owned()));
        let redirect = redirect_uri.map(|u| RedirectUrl::from_url(u.clone()));
        if let Some(redirect) = &redirect {
            request = request.set_redirect_uri(std::borrow::Cow::Borrowed(redirect));
        }
        let label = "exchange authorization code";
        self.finish_grant(TokenEndpoint::Auth, label, request.request_async(&self.grant_http(label)).await)
    }

    /// `grant_type=refresh_token`: a new token pair. When the answer has no refresh token, the one sent is kept.
    /// The old refresh token may stop working: store the new one (a [`Session`](crate::Session) hands rotated
    /// tokens to its hook).
    pub async fn refresh_tokens(&self, refresh_token: &Secret) -> Result<Tokens> {
        self.refresh_tokens_at(TokenEndpoint::Auth, refresh_token).await
    }

    /// [`refresh_tokens`](OneUpClient::refresh_tokens) at a chosen token endpoint.
    pub async fn refresh_tokens_at(&self, endpoint: TokenEndpoint, refresh_token: &Secret) -> Result<Tokens> {
        let token = RefreshToken::new(refresh_token.expose().to_owned());
        let request = self.grants(endpoint).exchange_refresh_token(&token);
        let label = "refresh tokens";
        let mut tokens = self.finish_grant(endpoint, label, request.request_async(&self.grant_http(label)).await)?;
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh_token.clone());
        }
        Ok(tokens)
    }

    pub(crate) fn grant_http(&self, label: &'static str) -> GrantHttp {
        GrantHttp { transport: self.transport().clone(), label }
    }

    fn finish_grant(
        &self,
        endpoint: TokenEndpoint,
        label: &str,
        result: std::result::Result<TokenResponse, RequestTokenError<Error, BasicErrorResponse>>,
    ) -> Result<Tokens> {
        let request = format!("{label} (POST {})", display_url(self.token_endpoint_url(endpoint)));
        read_grant(request, result)
    }
}

/// A grant's answer as [`Tokens`], or the typed error: a refusal by the server is [`Error::GrantRefused`]; an
/// unreadable answer an [`Error::Decode`] without its body (it may hold tokens). `request` names the call.
pub(crate) fn read_grant(
    request: String,
    result: std::result::Result<TokenResponse, RequestTokenError<Error, BasicErrorResponse>>,
) -> Result<Tokens> {
    let response = result.map_err(|e| match e {
        RequestTokenError::Request(e) => e,
        RequestTokenError::ServerResponse(r) => Error::GrantRefused {
            request: request.clone(),
            error: r.error().to_string(),
            description: r.error_description().cloned(),
        },
        // The body is not repeated: it may hold tokens.
        RequestTokenError::Parse(e, _body) => {
            Error::Decode { request: request.clone(), message: format!("unexpected token answer: {e}"), body: None }
        }
        RequestTokenError::Other(message) => Error::Decode { request: request.clone(), message, body: None },
    })?;
    let extra = response.extra_fields().clone();
    Ok(Tokens {
        access_token: Secret::new(response.access_token().secret().clone()),
        refresh_token: response.refresh_token().map(|t| Secret::new(t.secret().clone())),
        expires_at: response.expires_in().map(|d| SystemTime::now() + d),
        lifetime: response.expires_in(),
        token_type: Some(response.token_type().as_ref().to_owned()),
        scope: response
            .scopes()
            .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
        id_token: extra.id_token.map(Secret::new),
        patient: extra.patient,
        other: extra.other,
    })
}

/// The HTTP client `oauth2` sends grant requests through: this crate's transport. It owns its (cheap) transport
/// handle so that its futures are `Send + 'static`.
pub(crate) struct GrantHttp {
    transport: Transport,
    label: &'static str,
}

impl<'c> AsyncHttpClient<'c> for GrantHttp {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(send_grant(self.transport.clone(), self.label, request))
    }
}

/// Sends one grant request built by `oauth2`. A non-2xx answer that is not an OAuth2 error body becomes
/// [`Error::Status`] here, so that the status is not lost in a parse error.
async fn send_grant(transport: Transport, label: &'static str, req: oauth2::HttpRequest) -> Result<oauth2::HttpResponse> {
    let (parts, body) = req.into_parts();
    let url =
        Url::parse(&parts.uri.to_string()).map_err(|e| Error::Config(format!("the token URL is not a URL: {e}")))?;
    let mut call = Call::new(label, parts.method, url);
    call.headers = parts.headers;
    call.body = Some(body);
    call.idempotent = false; // a code is single-use; a refresh may rotate the refresh token
    let reply = transport.send(&call).await?;
    if !reply.is_success() {
        let is_oauth_error = reply.json().ok().is_some_and(|v| v.get("error").and_then(|e| e.as_str()).is_some());
        if !is_oauth_error {
            return Err(reply.status_error(reply.plain_problem()));
        }
    }
    let mut response = http::Response::new(reply.body);
    *response.status_mut() = reply.status;
    *response.headers_mut() = reply.headers;
    Ok(response)
}
