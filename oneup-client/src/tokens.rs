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

use crate::client::OneUpClient;
use crate::error::{Error, Result};
use crate::secret::{AppCredentials, Secret};
use crate::transport::{display_url, Call, Transport};

/// A user's tokens.
///
/// `Debug` shows no token. Persist them (the values are in [`Secret::expose`]) to restore a
/// [`Session`](crate::Session) later with [`Tokens::new`] and [`Tokens::expiring_at`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The bearer token.
    pub access_token: Secret,
    /// The refresh token, when the server issued one.
    pub refresh_token: Option<Secret>,
    /// When the access token expires, from `expires_in`; `None` when unknown.
    pub expires_at: Option<SystemTime>,
    /// The granted scope, when sent.
    pub scope: Option<String>,
    /// The OpenID Connect `id_token` (only with the `openid` scope).
    pub id_token: Option<Secret>,
}

impl Tokens {
    /// Tokens restored from storage (expiry unknown: the first refusal by the server triggers a refresh).
    pub fn new(access_token: impl Into<Secret>, refresh_token: Option<Secret>) -> Self {
        Tokens { access_token: access_token.into(), refresh_token, expires_at: None, scope: None, id_token: None }
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
}

/// The extra field 1upHealth may send with tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

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
        let request = self.grants().exchange_code(AuthorizationCode::new(code.expose().to_owned()));
        let label = "exchange authorization code";
        self.finish_grant(label, request.request_async(&self.grant_http(label)).await)
    }

    /// Like [`exchange_code`](OneUpClient::exchange_code), with the PKCE `code_verifier` whose challenge was sent
    /// to the authorization endpoint.
    pub async fn exchange_code_with_pkce(&self, code: &Secret, code_verifier: &Secret) -> Result<Tokens> {
        let request = self
            .grants()
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.expose().to_owned()));
        let label = "exchange authorization code";
        self.finish_grant(label, request.request_async(&self.grant_http(label)).await)
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
            .grants()
            .exchange_code(AuthorizationCode::new(code.expose().to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.expose().to_owned()));
        let redirect = redirect_uri.map(|u| RedirectUrl::from_url(u.clone()));
        if let Some(redirect) = &redirect {
            request = request.set_redirect_uri(std::borrow::Cow::Borrowed(redirect));
        }
        let label = "exchange authorization code";
        self.finish_grant(label, request.request_async(&self.grant_http(label)).await)
    }

    /// `grant_type=refresh_token`: a new token pair. When the answer has no refresh token, the one sent is kept.
    /// The old refresh token may stop working: store the new one (a [`Session`](crate::Session) hands rotated
    /// tokens to its hook).
    pub async fn refresh_tokens(&self, refresh_token: &Secret) -> Result<Tokens> {
        let token = RefreshToken::new(refresh_token.expose().to_owned());
        let request = self.grants().exchange_refresh_token(&token);
        let label = "refresh tokens";
        let mut tokens = self.finish_grant(label, request.request_async(&self.grant_http(label)).await)?;
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh_token.clone());
        }
        Ok(tokens)
    }

    fn grant_http(&self, label: &'static str) -> GrantHttp {
        GrantHttp { transport: self.transport().clone(), label }
    }

    fn finish_grant(
        &self,
        label: &str,
        result: std::result::Result<TokenResponse, RequestTokenError<Error, BasicErrorResponse>>,
    ) -> Result<Tokens> {
        let request = format!("{label} (POST {})", display_url(&self.config().token_url));
        let response = result.map_err(|e| match e {
            RequestTokenError::Request(e) => e,
            RequestTokenError::ServerResponse(r) => Error::GrantRefused {
                request: request.clone(),
                error: r.error().to_string(),
                description: r.error_description().cloned(),
            },
            // The body is not repeated: it may hold tokens.
            RequestTokenError::Parse(e, _body) => {
                Error::Decode { request: request.clone(), message: format!("unexpected token answer: {e}") }
            }
            RequestTokenError::Other(message) => Error::Decode { request: request.clone(), message },
        })?;
        Ok(Tokens {
            access_token: Secret::new(response.access_token().secret().clone()),
            refresh_token: response.refresh_token().map(|t| Secret::new(t.secret().clone())),
            expires_at: response.expires_in().map(|d| SystemTime::now() + d),
            scope: response
                .scopes()
                .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")),
            id_token: response.extra_fields().id_token.clone().map(Secret::new),
        })
    }
}

/// The HTTP client `oauth2` sends grant requests through: this crate's transport. It owns its (cheap) transport
/// handle so that its futures are `Send + 'static`.
struct GrantHttp {
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
