//! A user's session: the tokens, refreshed before they expire and once when the server refuses them; shared by
//! every FHIR base, host and client that acts for that user.

use std::fmt;
use std::sync::{Arc, Mutex as StdMutex};

use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::Method;
use tokio::sync::Mutex;
use url::Url;

use crate::client::{OneUpClient, TokenEndpoint};
use crate::error::{Error, Result};
use crate::response::ResponseValue;
use crate::secret::Secret;
use crate::tokens::Tokens;
use crate::transport::{Call, Opened, Reply};

type RotationHook = Arc<dyn Fn(&Tokens) + Send + Sync>;

/// The tokens of one user, shared by every request made for that user (cheap to clone).
///
/// Every request asks the session for the access token: one that expires within `min(refresh margin,
/// expires_in / 2)` is refreshed first. When the server still refuses a token (401), the request asks the
/// session to renew it, once, and goes again. Concurrent requests share one refresh, whatever FHIR base or
/// client they go through: one token store, one refresh, so a rotated refresh token never strands a second
/// copy. Each new token pair is handed to the hook set with [`Session::on_rotation`], so the app can store it.
///
/// One session serves every FHIR base of the API host ([`Session::fhir`] for the client's FHIR path,
/// [`Session::fhir_at`] for another, e.g. `/fhir/{version}` next to `/{version}`), and a second client (other
/// hosts or settings) can act with the same tokens through [`Session::with_client`]. The token endpoint that
/// refreshes is chosen once ([`Session::refreshed_at`]): the auth host's (`https://auth.1up.health/oauth2/token`,
/// the default) or the API host's (`/fhir/oauth2/token`).
///
/// ```no_run
/// # async fn demo(client: oneup_client::OneUpClient, code: oneup_client::Secret) -> oneup_client::Result<()> {
/// use fhir_models::{dstu2::Dstu2, r4::R4};
/// use oneup_client::Session;
/// let tokens = client.exchange_code(&code).await?;
/// let session = Session::new(client, tokens).on_rotation(|tokens| {
///     // store tokens.access_token.expose() and tokens.refresh_token somewhere safe
///     let _ = tokens;
/// });
/// let r4 = session.fhir::<R4>(); // https://api.1up.health/r4
/// let dstu2 = session.fhir_at::<Dstu2>("/fhir/{version}")?; // https://api.1up.health/fhir/dstu2
/// # let _ = (r4, dstu2); Ok(()) }
/// ```
#[derive(Clone)]
pub struct Session {
    /// The client requests go through (hosts, timeouts, caps).
    client: OneUpClient,
    shared: Arc<Shared>,
}

/// What every copy of a session shares, whichever client it sends through.
struct Shared {
    tokens: Mutex<Tokens>,
    hook: StdMutex<Option<RotationHook>>,
    /// The client whose keys and token endpoint refresh the tokens.
    refresher: OneUpClient,
    endpoint: TokenEndpoint,
    /// SMART Backend Services: new tokens come from a fresh client assertion, not a refresh token.
    #[cfg(feature = "smart")]
    backend: Option<crate::smart::BackendServices>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Session");
        #[cfg(feature = "smart")]
        if let Some(backend) = &self.shared.backend {
            return d.field("backend_services", backend).finish_non_exhaustive();
        }
        d.field("token_endpoint", &self.shared.endpoint).finish_non_exhaustive()
    }
}

impl Session {
    /// A session over `tokens`, refreshed through `client` at its token URL (the auth host's by default).
    pub fn new(client: OneUpClient, tokens: Tokens) -> Self {
        Self::refreshed_at(client, tokens, TokenEndpoint::Auth)
    }

    /// A session over `tokens`, refreshed through `client` at `endpoint` (e.g. [`TokenEndpoint::Api`] when the
    /// code was exchanged at the API host's `/fhir/oauth2/token`).
    pub fn refreshed_at(client: OneUpClient, tokens: Tokens, endpoint: TokenEndpoint) -> Self {
        let shared = Shared {
            tokens: Mutex::new(tokens),
            hook: StdMutex::new(None),
            refresher: client.clone(),
            endpoint,
            #[cfg(feature = "smart")]
            backend: None,
        };
        Session { client, shared: Arc::new(shared) }
    }

    /// A session of a SMART Backend Services client (feature `smart`): the first token is asked for now
    /// (`client_credentials` with a signed assertion, through `client`'s transport), and a new one, with a new
    /// assertion, whenever the current one expires within `min(refresh margin, expires_in / 2)` or is refused
    /// (401). The rotation hook sees each new token. See [`BackendServices`](crate::BackendServices).
    #[cfg(feature = "smart")]
    pub async fn backend_services(client: OneUpClient, services: crate::smart::BackendServices) -> Result<Self> {
        let tokens = services.request_token(&client).await?;
        let shared = Shared {
            tokens: Mutex::new(tokens),
            hook: StdMutex::new(None),
            refresher: client.clone(),
            endpoint: TokenEndpoint::Auth,
            backend: Some(services),
        };
        Ok(Session { client, shared: Arc::new(shared) })
    }

    /// Whether new tokens can be had without the user: a refresh token, or Backend Services' assertion.
    fn can_renew(&self, tokens: &Tokens) -> bool {
        #[cfg(feature = "smart")]
        if self.shared.backend.is_some() {
            return true;
        }
        tokens.refresh_token.is_some()
    }

    /// The same session (the same tokens, the same single refresh) sending its requests through `client`:
    /// another host, FHIR path or timeout. Refreshes still go through the client the session was made with.
    #[must_use]
    pub fn with_client(&self, client: OneUpClient) -> Session {
        Session { client, shared: self.shared.clone() }
    }

    /// Whether `other` shares this session's tokens (made from it with [`with_client`](Session::with_client) or
    /// cloned).
    pub fn shares_tokens_with(&self, other: &Session) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Sets the hook called with every new token pair (after a refresh), for every copy of the session. It
    /// runs while the session is locked: keep it short (hand the tokens to a channel or a store) and do not use
    /// the session from inside it.
    #[must_use]
    pub fn on_rotation(self, hook: impl Fn(&Tokens) + Send + Sync + 'static) -> Self {
        *self.shared.hook.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(hook));
        self
    }

    /// The client this session sends its requests through.
    pub fn client(&self) -> &OneUpClient {
        &self.client
    }

    /// A copy of the current tokens.
    pub async fn tokens(&self) -> Tokens {
        self.shared.tokens.lock().await.clone()
    }

    /// The access token to send now, refreshed first when it expires within `min(refresh margin, lifetime / 2)`.
    pub async fn access_token(&self) -> Result<Secret> {
        let mut tokens = self.shared.tokens.lock().await;
        let margin = tokens.refresh_margin(self.shared.refresher.config().refresh_margin);
        if tokens.expires_within(margin) && self.can_renew(&tokens) {
            tracing::debug!("access token expires soon; refreshing");
            self.refresh_locked(&mut tokens).await?;
        }
        Ok(tokens.access_token.clone())
    }

    /// An authenticated request the crate does not wrap: `method` on `target`, a path on the API host
    /// (`/r4/Patient?name=x`) or a URL on one of the client's hosts or its allow-list
    /// ([`ClientBuilder::allow_origin`](crate::ClientBuilder::allow_origin)). It gets the same bearer token,
    /// refresh and single retry after a 401, retries of idempotent methods, timeouts, size cap and redaction as
    /// every other call; a non-2xx answer is an [`Error::Status`].
    ///
    /// ```no_run
    /// # async fn demo(session: oneup_client::Session) -> oneup_client::Result<()> {
    /// use http::Method;
    /// let answer = session.send(Method::GET, "/r4/metadata", None).await?;
    /// println!("{} {:?}", answer.status(), answer.etag());
    /// let capability: serde_json::Value = serde_json::from_slice(answer.body()).unwrap();
    /// # let _ = capability; Ok(()) }
    /// ```
    pub async fn send(
        &self,
        method: Method,
        target: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<ResponseValue<Vec<u8>>> {
        self.send_with_headers(method, target, &[], body).await
    }

    /// Like [`send`](Session::send) with extra request headers (`Accept`, `If-None-Match`, `Prefer`, …).
    pub async fn send_with_headers(
        &self,
        method: Method,
        target: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<ResponseValue<Vec<u8>>> {
        let url = self.resolve(&method, target)?;
        let mut call = Call::new(format!("{method} request"), method, url);
        for (name, value) in headers {
            call.headers.insert(name.clone(), value.clone());
        }
        if let Some((content_type, bytes)) = body {
            let value = HeaderValue::from_str(content_type).map_err(|_| Error::InvalidArgument {
                request: call.name.clone(),
                message: format!("`{content_type}` is not a usable Content-Type"),
            })?;
            call.headers.insert(CONTENT_TYPE, value);
            call.body = Some(bytes);
        }
        let reply = self.send_call(call).await?;
        if !reply.is_success() {
            return Err(reply.status_error(reply.plain_problem()));
        }
        Ok(ResponseValue::new(reply.status, reply.headers, reply.body))
    }

    /// `target` as a URL: a path (and query) on the API host, or an absolute URL on an allowed origin.
    fn resolve(&self, method: &Method, target: &str) -> Result<Url> {
        let config = self.client.config();
        let refuse = |message: String| Error::InvalidArgument { request: format!("{method} request"), message };
        match Url::parse(target) {
            Ok(url) => {
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(refuse("only http(s) URLs can be sent".into()));
                }
                if !config.is_known_origin(&url) {
                    return Err(refuse(format!(
                        "{} is not one of the client's hosts nor on its allow-list; the token is not sent there",
                        url.origin().ascii_serialization()
                    )));
                }
                Ok(url)
            }
            Err(url::ParseError::RelativeUrlWithoutBase) if target.starts_with('/') => {
                let mut base = config.api_base().clone();
                base.set_query(None);
                let url = base.join(target).map_err(|e| refuse(format!("`{target}` is not a usable path: {e}")))?;
                Ok(url)
            }
            Err(_) => Err(refuse(format!("`{target}` is neither a path starting with `/` nor a URL"))),
        }
    }

    /// Sends `call` with the bearer token and reads the answer; on 401, renews the token once and sends again.
    pub(crate) async fn send_call(&self, call: Call) -> Result<Reply> {
        let transport = self.client.transport();
        let token = self.access_token().await?;
        let reply = transport.send(&call.clone().bearer(&token)?).await?;
        if reply.status != 401 {
            return Ok(reply);
        }
        let token = self.renew_after_rejection(&token, &call.name).await?;
        transport.send(&call.bearer(&token)?).await
    }

    /// Like [`send_call`](Session::send_call), but hands the answer back before its body is read.
    pub(crate) async fn open_call(&self, call: Call) -> Result<Opened> {
        let transport = self.client.transport();
        let token = self.access_token().await?;
        let opened = transport.open(&call.clone().bearer(&token)?).await?;
        if opened.status != 401 {
            return Ok(opened);
        }
        drop(opened);
        let token = self.renew_after_rejection(&token, &call.name).await?;
        transport.open(&call.bearer(&token)?).await
    }

    /// Refreshes now, whatever the expiry.
    pub async fn refresh(&self) -> Result<Tokens> {
        let mut tokens = self.shared.tokens.lock().await;
        self.refresh_locked(&mut tokens).await?;
        Ok(tokens.clone())
    }

    /// After the server refused `rejected` (401): a new access token. When another request has refreshed in the
    /// meantime, its token is used without a second refresh.
    pub(crate) async fn renew_after_rejection(&self, rejected: &Secret, request: &str) -> Result<Secret> {
        let mut tokens = self.shared.tokens.lock().await;
        if tokens.access_token != *rejected {
            return Ok(tokens.access_token.clone());
        }
        if !self.can_renew(&tokens) {
            return Err(Error::NoRefreshToken { request: request.to_owned() });
        }
        tracing::debug!("access token refused; refreshing once");
        self.refresh_locked(&mut tokens).await?;
        Ok(tokens.access_token.clone())
    }

    async fn refresh_locked(&self, tokens: &mut Tokens) -> Result<()> {
        let fresh = self.fetch_tokens(tokens).await?;
        *tokens = keep_context(fresh, tokens);
        let hook = self.shared.hook.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(hook) = hook {
            hook(tokens);
        }
        Ok(())
    }

    /// New tokens from the session's source: Backend Services' assertion, or the refresh token.
    async fn fetch_tokens(&self, tokens: &Tokens) -> Result<Tokens> {
        #[cfg(feature = "smart")]
        if let Some(backend) = &self.shared.backend {
            tracing::debug!("asking for a new SMART backend services token");
            return backend.request_token(&self.shared.refresher).await;
        }
        let refresh = match &tokens.refresh_token {
            Some(r) => r.clone(),
            None => return Err(Error::NoRefreshToken { request: "refresh tokens".into() }),
        };
        self.shared.refresher.refresh_tokens_at(self.shared.endpoint, &refresh).await
    }
}

/// The SMART context of `old` where a refresh answer does not repeat it (servers often send `patient` and
/// `id_token` only with the code exchange).
fn keep_context(mut fresh: Tokens, old: &Tokens) -> Tokens {
    if fresh.patient.is_none() {
        fresh.patient = old.patient.clone();
    }
    if fresh.id_token.is_none() {
        fresh.id_token = old.id_token.clone();
    }
    if fresh.scope.is_none() {
        fresh.scope = old.scope.clone();
    }
    fresh
}
