//! A user's session: the tokens, refreshed before they expire and once when the server refuses them.

use std::fmt;
use std::sync::{Arc, Mutex as StdMutex};

use tokio::sync::Mutex;

use crate::bulk::Bulk;
use crate::client::OneUpClient;
use crate::error::{Error, Result};
use crate::fhir::Fhir;
use crate::secret::Secret;
use crate::tokens::Tokens;
use crate::transport::{Call, Opened, Reply};
use fhir_models::FhirVersion;

type RotationHook = Arc<dyn Fn(&Tokens) + Send + Sync>;

/// The tokens of one user, shared by every request made for that user (cheap to clone).
///
/// Every request asks the session for the access token: one that expires within the client's refresh margin is
/// refreshed first. When the server still refuses a token (401), the request's caller asks the session to renew
/// it, once, and retries. Concurrent requests share one refresh. Each new token pair is handed to the hook set
/// with [`Session::on_rotation`], so the app can store it (the old refresh token may no longer work).
///
/// ```no_run
/// # async fn demo(client: oneup_client::OneUpClient, code: oneup_client::Secret) -> oneup_client::Result<()> {
/// use oneup_client::Session;
/// let tokens = client.exchange_code(&code).await?;
/// let session = Session::new(client, tokens).on_rotation(|tokens| {
///     // store tokens.access_token.expose() and tokens.refresh_token somewhere safe
///     let _ = tokens;
/// });
/// # let _ = session; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    client: OneUpClient,
    tokens: Mutex<Tokens>,
    hook: StdMutex<Option<RotationHook>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

impl Session {
    /// A session over `tokens`, refreshed through `client`.
    pub fn new(client: OneUpClient, tokens: Tokens) -> Self {
        Session { inner: Arc::new(Inner { client, tokens: Mutex::new(tokens), hook: StdMutex::new(None) }) }
    }

    /// Sets the hook called with every new token pair (after a refresh). It runs while the session is locked:
    /// keep it short (hand the tokens to a channel or a store) and do not use the session from inside it.
    #[must_use]
    pub fn on_rotation(self, hook: impl Fn(&Tokens) + Send + Sync + 'static) -> Self {
        *self.inner.hook.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(hook));
        self
    }

    /// The client this session refreshes through.
    pub fn client(&self) -> &OneUpClient {
        &self.inner.client
    }

    /// FHIR calls of version `V` (e.g. `fhir_models::r4::R4`) with this session's token.
    pub fn fhir<V: FhirVersion>(&self) -> Fhir<V> {
        Fhir::new(self.clone())
    }

    /// Bulk-data `$export` of version `V` with this session's token.
    pub fn bulk<V: FhirVersion>(&self) -> Bulk<V> {
        Bulk::new(self.clone())
    }

    /// A copy of the current tokens.
    pub async fn tokens(&self) -> Tokens {
        self.inner.tokens.lock().await.clone()
    }

    /// The access token to send now, refreshed first when it expires within the client's refresh margin.
    pub async fn access_token(&self) -> Result<Secret> {
        let mut tokens = self.inner.tokens.lock().await;
        let margin = self.inner.client.config().refresh_margin;
        if tokens.expires_within(margin) && tokens.refresh_token.is_some() {
            tracing::debug!("access token expires soon; refreshing");
            self.refresh_locked(&mut tokens).await?;
        }
        Ok(tokens.access_token.clone())
    }

    /// Sends `call` with the bearer token and reads the answer; on 401, renews the token once and sends again.
    pub(crate) async fn send(&self, call: Call) -> Result<Reply> {
        let transport = self.client().transport();
        let token = self.access_token().await?;
        let reply = transport.send(&call.clone().bearer(&token)?).await?;
        if reply.status != 401 {
            return Ok(reply);
        }
        let token = self.renew_after_rejection(&token, &call.name).await?;
        transport.send(&call.bearer(&token)?).await
    }

    /// Like [`send`](Session::send), but hands the answer back before its body is read.
    pub(crate) async fn open(&self, call: Call) -> Result<Opened> {
        let transport = self.client().transport();
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
        let mut tokens = self.inner.tokens.lock().await;
        self.refresh_locked(&mut tokens).await?;
        Ok(tokens.clone())
    }

    /// After the server refused `rejected` (401): a new access token. When another request has refreshed in the
    /// meantime, its token is used without a second refresh.
    pub(crate) async fn renew_after_rejection(&self, rejected: &Secret, request: &str) -> Result<Secret> {
        let mut tokens = self.inner.tokens.lock().await;
        if tokens.access_token != *rejected {
            return Ok(tokens.access_token.clone());
        }
        if tokens.refresh_token.is_none() {
            return Err(Error::NoRefreshToken { request: request.to_owned() });
        }
        tracing::debug!("access token refused; refreshing once");
        self.refresh_locked(&mut tokens).await?;
        Ok(tokens.access_token.clone())
    }

    async fn refresh_locked(&self, tokens: &mut Tokens) -> Result<()> {
        let refresh = match &tokens.refresh_token {
            Some(r) => r.clone(),
            None => return Err(Error::NoRefreshToken { request: "refresh tokens".into() }),
        };
        *tokens = self.inner.client.refresh_tokens(&refresh).await?;
        let hook = self.inner.hook.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(hook) = hook {
            hook(tokens);
        }
        Ok(())
    }
}
