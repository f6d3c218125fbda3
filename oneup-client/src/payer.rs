//! Payer endpoints (FHIR R4): the SMART standalone launch of a health plan's member, then read-only FHIR calls.
//!
//! Each health plan has its own base domain and system id; the hosts follow from them:
//! `https://auth.{base}/oauth2/authorize/{system-id}`, `https://auth.{base}/oauth2/token` and
//! `https://api.{base}/r4`. Every one can be set apart (tests point them at local servers).

use std::fmt;

use fhir_models::r4::R4;
use fhir_models::FhirResource;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope};
use url::Url;

use crate::client::{ClientBuilder, OneUpClient};
use crate::error::{AuthorizationProblem, Error, Result};
use crate::fhir::Fhir;
use crate::paging::{Pages, Resources};
use crate::search::SearchParams;
use crate::secret::{AppCredentials, Secret};
use crate::session::Session;
use crate::tokens::Tokens;

/// The scope asked for by default: read access to all of the member's resources.
pub const DEFAULT_PAYER_SCOPE: &str = "user/*.read";

/// A health plan's payer API: the app's keys, the plan's hosts and the launch settings.
///
/// ```
/// use oneup_client::{AppCredentials, Payer};
/// # fn main() -> oneup_client::Result<()> {
/// let payer = Payer::builder(AppCredentials::new("clientid", "clientsecret"), "1updemohealthplan.com", "demoplan")
///     .redirect_uri("https://myapp.example/callback")
///     .build()?;
/// assert_eq!(payer.authorize_endpoint().as_str(), "https://auth.1updemohealthplan.com/oauth2/authorize/demoplan");
/// assert_eq!(payer.token_endpoint().as_str(), "https://auth.1updemohealthplan.com/oauth2/token");
/// assert_eq!(payer.fhir_base().as_str(), "https://api.1updemohealthplan.com/r4");
///
/// // 1. Send the member's browser to `launch.url`; keep `launch` (state and PKCE verifier) for the callback.
/// let launch = payer.authorize();
/// assert!(launch.url().as_str().contains("code_challenge_method=S256"));
/// # Ok(()) }
/// ```
///
/// Then, when the browser comes back to the redirect URI:
///
/// ```no_run
/// use fhir_models::r4::ExplanationOfBenefit;
/// use futures_util::TryStreamExt;
/// # async fn demo(payer: oneup_client::Payer, launch: oneup_client::LaunchRequest, callback_url: &str)
/// #     -> oneup_client::Result<()> {
/// // 2. Check the state, exchange the code (with the PKCE verifier) at the plan's token endpoint.
/// let member = payer.complete(&launch, callback_url).await?;
/// // 3. Read-only FHIR R4 calls with the member's token.
/// let claims: Vec<ExplanationOfBenefit> = member.fhir().search_resources([("_count", "50")]).try_collect().await?;
/// # let _ = claims; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Payer {
    client: OneUpClient,
    authorize_endpoint: Url,
    fhir_base: Url,
    redirect_uri: Option<Url>,
    scope: String,
    aud: Option<String>,
    system_id: String,
}

impl fmt::Debug for Payer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payer")
            .field("system_id", &self.system_id)
            .field("authorize_endpoint", &self.authorize_endpoint.as_str())
            .field("fhir_base", &self.fhir_base.as_str())
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl Payer {
    /// Starts configuring the payer API of the plan at `base_domain` (e.g. `1updemohealthplan.com`) whose
    /// system id is `system_id` (e.g. `demoplan`).
    pub fn builder(credentials: AppCredentials, base_domain: impl Into<String>, system_id: impl Into<String>) -> PayerBuilder {
        PayerBuilder {
            credentials,
            base_domain: base_domain.into(),
            system_id: system_id.into(),
            authorize_url: None,
            token_url: None,
            fhir_base: None,
            redirect_uri: None,
            scope: DEFAULT_PAYER_SCOPE.to_owned(),
            aud: None,
            settings: None,
        }
    }

    /// The authorization endpoint the member is sent to.
    pub fn authorize_endpoint(&self) -> &Url {
        &self.authorize_endpoint
    }

    /// The plan's token endpoint.
    pub fn token_endpoint(&self) -> &Url {
        self.client.config().token_url()
    }

    /// The plan's FHIR R4 base URL.
    pub fn fhir_base(&self) -> &Url {
        &self.fhir_base
    }

    /// The plan's system id.
    pub fn system_id(&self) -> &str {
        &self.system_id
    }

    /// The client that calls the plan's hosts (its token endpoint and FHIR base).
    pub fn client(&self) -> &OneUpClient {
        &self.client
    }

    /// Step 1: a new authorization request. Its [`url`](LaunchRequest::url) carries `response_type=code`,
    /// `client_id`, `redirect_uri` (when set), `scope`, a random `state`, the PKCE `code_challenge` (S256) and,
    /// when set, `aud`. Keep the request (or its [`state`](LaunchRequest::state) and
    /// [`code_verifier`](LaunchRequest::code_verifier), e.g. in the app's session store) for
    /// [`complete`](Payer::complete).
    pub fn authorize(&self) -> LaunchRequest {
        let mut client = oauth2::basic::BasicClient::new(ClientId::new(self.client.credentials().client_id().to_owned()))
            .set_auth_uri(AuthUrl::from_url(self.authorize_endpoint.clone()));
        if let Some(redirect) = &self.redirect_uri {
            client = client.set_redirect_uri(RedirectUrl::from_url(redirect.clone()));
        }
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.scope.split_whitespace().map(|s| Scope::new(s.to_owned())))
            .set_pkce_challenge(challenge);
        if let Some(aud) = &self.aud {
            request = request.add_extra_param("aud", aud.clone());
        }
        let (url, state) = request.url();
        LaunchRequest { url, state: state.secret().clone(), code_verifier: Secret::new(verifier.secret().clone()) }
    }

    /// Steps 2 and 3: reads the redirect back to the app (the full callback URL, or just its query string),
    /// checks that its `state` is the one sent, and exchanges its `code` (with the PKCE verifier and the
    /// redirect URI) for the member's tokens at the plan's token endpoint.
    ///
    /// Errors: [`Error::Authorization`] when the state is missing or differs ([`AuthorizationProblem::StateMismatch`]:
    /// the code is then not used), when the redirect carries an OAuth2 `error`, or has no code;
    /// [`Error::GrantRefused`] when the token endpoint refuses the code.
    pub async fn complete(&self, launch: &LaunchRequest, redirect: &str) -> Result<PayerSession> {
        let code = self.code_from_redirect(launch, redirect)?;
        let tokens = self.client.exchange_launch_code(&code, &launch.code_verifier, self.redirect_uri.as_ref()).await?;
        Ok(self.session(tokens))
    }

    /// A launch request restored from its [`state`](LaunchRequest::state) and
    /// [`code_verifier`](LaunchRequest::code_verifier), kept (e.g. in the app's session store) between the
    /// redirect out and the way back.
    pub fn resume_launch(&self, state: impl Into<String>, code_verifier: impl Into<Secret>) -> LaunchRequest {
        LaunchRequest { url: self.authorize_endpoint.clone(), state: state.into(), code_verifier: code_verifier.into() }
    }

    /// The member's session from tokens kept earlier (refreshed at the plan's token endpoint).
    pub fn session(&self, tokens: Tokens) -> PayerSession {
        PayerSession { session: Session::new(self.client.clone(), tokens) }
    }

    fn code_from_redirect(&self, launch: &LaunchRequest, redirect: &str) -> Result<Secret> {
        let request = "complete payer launch";
        let fail = |problem| Error::Authorization { request: request.to_owned(), problem };
        let redirect = redirect.trim();
        let url = match Url::parse(redirect) {
            Ok(url) => url,
            // Only the query string (what a web framework hands over).
            Err(_) => Url::parse(&format!("http://redirect.invalid/?{}", redirect.trim_start_matches('?')))
                .map_err(|_| fail(AuthorizationProblem::NotTheRedirect("the redirect is not a URL".into())))?,
        };
        if let (Some(expected), true) = (&self.redirect_uri, url.host_str() != Some("redirect.invalid")) {
            if url.origin() != expected.origin() || url.path() != expected.path() {
                let why = format!("it leads to {}{}, not to the redirect URI", url.origin().ascii_serialization(), url.path());
                return Err(fail(AuthorizationProblem::NotTheRedirect(why)));
            }
        }
        let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
        match param("state") {
            None => return Err(fail(AuthorizationProblem::MissingState)),
            Some(state) if !same_secret(&state, &launch.state) => {
                tracing::warn!("payer launch: the redirect's state is not the one sent; the code is not used");
                return Err(fail(AuthorizationProblem::StateMismatch));
            }
            Some(_) => {}
        }
        if let Some(error) = param("error") {
            return Err(fail(AuthorizationProblem::Denied { error, description: param("error_description") }));
        }
        param("code").map(Secret::new).ok_or_else(|| fail(AuthorizationProblem::MissingCode))
    }
}

/// Compares in time that does not depend on where the texts differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Builds a [`Payer`]; every host defaults from the base domain and system id.
#[must_use]
pub struct PayerBuilder {
    credentials: AppCredentials,
    base_domain: String,
    system_id: String,
    authorize_url: Option<String>,
    token_url: Option<String>,
    fhir_base: Option<String>,
    redirect_uri: Option<String>,
    scope: String,
    aud: Option<String>,
    settings: Option<Box<dyn FnOnce(ClientBuilder) -> ClientBuilder + Send>>,
}

impl fmt::Debug for PayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PayerBuilder")
            .field("credentials", &self.credentials)
            .field("base_domain", &self.base_domain)
            .field("system_id", &self.system_id)
            .finish_non_exhaustive()
    }
}

impl PayerBuilder {
    /// The authorization endpoint (default `https://auth.{base}/oauth2/authorize/{system-id}`).
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }
    /// The token endpoint (default `https://auth.{base}/oauth2/token`).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }
    /// The FHIR R4 base URL (default `https://api.{base}/r4`).
    pub fn fhir_base(mut self, url: impl Into<String>) -> Self {
        self.fhir_base = Some(url.into());
        self
    }
    /// The app's redirect URI, as registered with 1upHealth. When set, it is sent in the authorization request
    /// and the code exchange, and the redirect handed to [`Payer::complete`] must lead there.
    pub fn redirect_uri(mut self, url: impl Into<String>) -> Self {
        self.redirect_uri = Some(url.into());
        self
    }
    /// The scopes asked for, space-separated (default `user/*.read`).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }
    /// The SMART `aud` parameter: the FHIR base the token is meant for (not sent unless set).
    pub fn aud(mut self, aud: impl Into<String>) -> Self {
        self.aud = Some(aud.into());
        self
    }
    /// Sends `aud` set to the FHIR base URL.
    pub fn aud_fhir_base(self) -> Self {
        self.aud(String::new())
    }
    /// HTTP settings of the underlying client (timeouts, retries, caps, strict reading): `settings` gets a
    /// [`ClientBuilder`] and hands it back changed. The hosts are set by this builder afterwards.
    pub fn client_settings(mut self, settings: impl FnOnce(ClientBuilder) -> ClientBuilder + Send + 'static) -> Self {
        self.settings = Some(Box::new(settings));
        self
    }

    /// Checks the settings and builds the payer client.
    pub fn build(self) -> Result<Payer> {
        let base = self.base_domain.trim().trim_end_matches('/');
        let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
        if !plain(base) {
            return Err(Error::Config(format!("the payer base domain `{base}` is not a domain name")));
        }
        if self.system_id.is_empty() {
            return Err(Error::Config("the payer system id is empty".into()));
        }
        let parse = |what: &str, value: &str| -> Result<Url> {
            let url = Url::parse(value).map_err(|e| Error::Config(format!("{what} `{value}` is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || url.host().is_none() {
                return Err(Error::Config(format!("{what} `{value}` is not an http(s) URL")));
            }
            Ok(url)
        };
        let mut authorize = match &self.authorize_url {
            Some(url) => parse("the payer authorize URL", url)?,
            None => parse("the payer authorize URL", &format!("https://auth.{base}/oauth2/authorize"))?,
        };
        if self.authorize_url.is_none() {
            if let Ok(mut path) = authorize.path_segments_mut() {
                path.push(&self.system_id);
            }
        }
        let token_url = self.token_url.clone().unwrap_or_else(|| format!("https://auth.{base}/oauth2/token"));
        let fhir_base = parse(
            "the payer FHIR base",
            self.fhir_base.as_deref().unwrap_or(&format!("https://api.{base}/r4")),
        )?;
        let redirect_uri = self.redirect_uri.as_deref().map(|u| parse("the redirect URI", u)).transpose()?;
        let mut builder = OneUpClient::builder(self.credentials);
        if let Some(settings) = self.settings {
            builder = settings(builder);
        }
        let path = fhir_base.path().trim_end_matches('/');
        let client = builder
            .api_base(fhir_base.origin().ascii_serialization())
            .fhir_path(if path.is_empty() { "/" } else { path })
            .token_url(token_url)
            .build()?;
        let aud = self.aud.map(|a| if a.is_empty() { fhir_base.as_str().trim_end_matches('/').to_owned() } else { a });
        Ok(Payer { client, authorize_endpoint: authorize, fhir_base, redirect_uri, scope: self.scope, aud, system_id: self.system_id })
    }
}

/// One authorization request of a launch: the URL to send the member to, and what checks the way back.
///
/// `Debug` shows neither the state nor the PKCE verifier.
#[derive(Clone)]
pub struct LaunchRequest {
    url: Url,
    state: String,
    code_verifier: Secret,
}

impl fmt::Debug for LaunchRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LaunchRequest").field("url", &crate::transport::display_url(&self.url)).finish_non_exhaustive()
    }
}

impl LaunchRequest {

    /// The authorization URL to send the member's browser to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `state` sent; the redirect back must carry the same.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The PKCE code verifier (a secret: keep it server-side).
    pub fn code_verifier(&self) -> &Secret {
        &self.code_verifier
    }
}

/// A member's session at a payer: the tokens (refreshed at the plan's token endpoint) and read-only FHIR calls.
#[derive(Debug, Clone)]
pub struct PayerSession {
    session: Session,
}

impl PayerSession {
    /// Read-only FHIR R4 calls with the member's token.
    pub fn fhir(&self) -> PayerFhir {
        PayerFhir { fhir: self.session.fhir::<R4>() }
    }

    /// Sets the hook called with every new token pair after a refresh, so the app can store it (see
    /// [`Session::on_rotation`]).
    #[must_use]
    pub fn on_rotation(self, hook: impl Fn(&Tokens) + Send + Sync + 'static) -> Self {
        PayerSession { session: self.session.on_rotation(hook) }
    }

    /// A copy of the current tokens, to store.
    pub async fn tokens(&self) -> Tokens {
        self.session.tokens().await
    }

    /// The member's FHIR `Patient` id, from the SMART launch context (`patient`) of the token answer: what the
    /// payer guide's `GET https://api.{base-url}/r4/Patient/{patient_id}` needs. `None` when the plan did not
    /// send it.
    pub async fn patient_id(&self) -> Option<String> {
        self.session.tokens().await.patient
    }

    /// Refreshes the tokens now at the plan's token endpoint.
    pub async fn refresh(&self) -> Result<Tokens> {
        self.session.refresh().await
    }
}

/// The read-only FHIR R4 calls a payer API allows: read and search of `Patient`, `Coverage`,
/// `ExplanationOfBenefit`, `Organization`, `Practitioner` and the clinical resources (`AllergyIntolerance`,
/// `MedicationRequest`, …): any resource type compiled into `fhir-models`. Profiles (CARIN Blue Button, US Core,
/// Da Vinci PDex Plan-Net and US Drug Formulary) are read as their core R4 types.
#[derive(Debug, Clone)]
pub struct PayerFhir {
    fhir: Fhir<R4>,
}

impl PayerFhir {
    /// The FHIR base URL.
    pub fn base_url(&self) -> &Url {
        self.fhir.base_url()
    }

    /// `GET {base}/{type}/{id}`.
    pub async fn read<T: FhirResource<Version = R4>>(&self, id: &str) -> Result<T> {
        self.fhir.read(id).await
    }

    /// `GET {base}/{type}?params`: the first page, as a Bundle.
    pub async fn search<T: FhirResource<Version = R4>>(&self, params: impl SearchParams) -> Result<fhir_models::r4::Bundle> {
        self.fhir.search::<T>(params).await
    }

    /// The pages of a search, lazily (see [`Pages`]).
    pub fn search_pages<T: FhirResource<Version = R4>>(&self, params: impl SearchParams) -> Pages<R4> {
        self.fhir.search_pages::<T>(params)
    }

    /// The `T` resources of a search across all its pages, lazily.
    pub fn search_resources<T: FhirResource<Version = R4>>(&self, params: impl SearchParams) -> Resources<T> {
        self.fhir.search_resources::<T>(params)
    }

    /// The resources of a typed search from `fhir-models` (`CoverageSearch`, …), lazily.
    pub fn find<T: FhirResource<Version = R4>>(&self, search: &fhir_models::search::Search<T>) -> Resources<T> {
        self.fhir.find(search)
    }

    /// The pages after `page`, following its `next` link.
    pub fn pages_after(&self, page: &fhir_models::r4::Bundle) -> Pages<R4> {
        self.fhir.pages_after(page)
    }
}
