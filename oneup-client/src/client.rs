//! The app-level client: configuration, hosts and the app's keys.

use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::config::{defaults, AppChosenId, Config, RetryPolicy};
use crate::error::{Error, Result};
use crate::secret::AppCredentials;
use crate::tokens::GrantClient;
use crate::transport::Transport;

/// The client of one 1upHealth app: its keys, the hosts it talks to and the HTTP settings.
///
/// Cheap to clone (the connection pool is shared). User management and token calls are methods of this type;
/// FHIR calls go through a [`Session`](crate::Session) (a user's tokens) and [`Fhir`](crate::Fhir).
///
/// ```
/// use oneup_client::{AppCredentials, OneUpClient};
/// # fn main() -> Result<(), oneup_client::Error> {
/// let client = OneUpClient::builder(AppCredentials::new("clientid", "clientsecret"))
///     .api_base("http://127.0.0.1:8080")
///     .token_url("http://127.0.0.1:8081/token")
///     .fhir_path("/fhir")
///     .build()?;
/// assert_eq!(client.config().api_base().as_str(), "http://127.0.0.1:8080/");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OneUpClient {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    credentials: AppCredentials,
    grants: GrantClient,
    api_grants: GrantClient,
}

/// Which token endpoint a grant goes to. The quick-start guide uses the auth host's
/// (`https://auth.1up.health/oauth2/token`); the API reference names the API host's
/// (`https://api.1up.health/fhir/oauth2/token`). Both serve the same grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenEndpoint {
    /// The client's token URL ([`ClientBuilder::token_url`]; `https://auth.1up.health/oauth2/token` by default).
    #[default]
    Auth,
    /// `{api}/fhir/oauth2/token` on the client's API host.
    Api,
}

impl std::fmt::Debug for OneUpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneUpClient")
            .field("credentials", &self.inner.credentials)
            .field("config", self.config())
            .finish()
    }
}

impl OneUpClient {
    /// A client for the production 1upHealth hosts.
    pub fn new(credentials: AppCredentials) -> Result<Self> {
        Self::builder(credentials).build()
    }

    /// Starts configuring a client; every host defaults to production.
    pub fn builder(credentials: AppCredentials) -> ClientBuilder {
        ClientBuilder::new(credentials)
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        self.inner.transport.config()
    }

    /// The app's keys.
    pub fn credentials(&self) -> &AppCredentials {
        &self.inner.credentials
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    pub(crate) fn grants(&self, endpoint: TokenEndpoint) -> &GrantClient {
        match endpoint {
            TokenEndpoint::Auth => &self.inner.grants,
            TokenEndpoint::Api => &self.inner.api_grants,
        }
    }

    /// The URL of a token endpoint.
    pub fn token_endpoint_url(&self, endpoint: TokenEndpoint) -> &Url {
        match endpoint {
            TokenEndpoint::Auth => &self.config().token_url,
            TokenEndpoint::Api => &self.config().api_token_url,
        }
    }

    /// The user-management host plus path segments (each percent-encoded).
    pub(crate) fn user_url(&self, segments: &[&str]) -> Url {
        join(&self.config().user_management_base, segments)
    }
}

/// `base` with the path template (`/fhir/{version}`) appended, `{version}` replaced by `version`.
pub(crate) fn base_with_path(base: &Url, template: &str, version: &str) -> Url {
    let path = template.replace("{version}", version);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    join(base, &segments)
}

/// `base` with `segments` appended (each percent-encoded as one path segment).
pub(crate) fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// Builds a [`OneUpClient`]. Hosts are checked in [`ClientBuilder::build`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    credentials: AppCredentials,
    api_base: String,
    user_management_base: Option<String>,
    token_url: String,
    analytics_base: String,
    system_search_base: String,
    fhir_path: String,
    permission_path: String,
    bulk_path: String,
    allowed_origins: Vec<String>,
    timeout: Duration,
    download_timeout: Duration,
    connect_timeout: Duration,
    max_response_bytes: u64,
    retry: RetryPolicy,
    max_pages: usize,
    max_count: u32,
    refresh_margin: Duration,
    app_chosen_id: AppChosenId,
    strict_reading: bool,
    user_agent: String,
}

impl ClientBuilder {
    fn new(credentials: AppCredentials) -> Self {
        ClientBuilder {
            credentials,
            api_base: defaults::API_BASE.into(),
            user_management_base: None,
            token_url: defaults::TOKEN_URL.into(),
            analytics_base: defaults::ANALYTICS_BASE.into(),
            system_search_base: defaults::SYSTEM_SEARCH_BASE.into(),
            fhir_path: defaults::FHIR_PATH.into(),
            permission_path: defaults::PERMISSION_PATH.into(),
            bulk_path: defaults::BULK_PATH.into(),
            allowed_origins: Vec::new(),
            timeout: Duration::from_secs(30),
            download_timeout: Duration::from_secs(30 * 60),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: 32 * 1024 * 1024,
            retry: RetryPolicy::default(),
            max_pages: 1000,
            max_count: 100,
            refresh_margin: Duration::from_secs(60),
            app_chosen_id: AppChosenId::default(),
            strict_reading: false,
            user_agent: concat!("oneup-client/", env!("CARGO_PKG_VERSION")).into(),
        }
    }

    /// The API host: FHIR, user management, connect (default `https://api.1up.health`). For a payer, `https://api.{base}`.
    pub fn api_base(mut self, url: impl Into<String>) -> Self {
        self.api_base = url.into();
        self
    }
    /// The host of the user-management calls, when it is not the API host (1upHealth serves both from the API
    /// host; a local stand-in may live elsewhere).
    pub fn user_management_base(mut self, url: impl Into<String>) -> Self {
        self.user_management_base = Some(url.into());
        self
    }
    /// The OAuth2 token endpoint (default `https://auth.1up.health/oauth2/token`).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }
    /// The bulk-data host (default `https://analytics.1up.health`).
    pub fn analytics_base(mut self, url: impl Into<String>) -> Self {
        self.analytics_base = url.into();
        self
    }
    /// The health-system search host (default `https://system-search.1up.health`).
    pub fn system_search_base(mut self, url: impl Into<String>) -> Self {
        self.system_search_base = url.into();
        self
    }
    /// The FHIR base path below the API host; `{version}` stands for the version's name. Default `/{version}`
    /// (`/r4`, `/dstu2`); the API reference also uses `/fhir/{version}`; a single-version server may be `/fhir`.
    pub fn fhir_path(mut self, path: impl Into<String>) -> Self {
        self.fhir_path = path.into();
        self
    }
    /// The base path of the permission calls below the API host; `{version}` stands for the version's name.
    /// Default `/fhir/{version}`: the API reference's `https://api.1up.health/fhir/dstu2/Patient/{id}/_permission/{oneUpUserId}`,
    /// whatever FHIR path the searches use.
    pub fn permission_path(mut self, path: impl Into<String>) -> Self {
        self.permission_path = path.into();
        self
    }
    /// Allows paging links, bulk-data status URLs and files, and [`Session::send`](crate::Session::send) URLs on
    /// `origin` (scheme, host and port; any path is ignored) besides the client's own hosts. The bearer token
    /// is sent there. Example: the same test server as `localhost` and `127.0.0.1`, or a CDN serving export
    /// files that need the token.
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }
    /// The bulk-data base path below the analytics host; `{version}` stands for the version's name and
    /// `$export` is appended. Default `/bulk-data/{version}` (1upHealth); a standard FHIR server serves
    /// `$export` at its FHIR base (e.g. `/fhir`).
    pub fn bulk_path(mut self, path: impl Into<String>) -> Self {
        self.bulk_path = path.into();
        self
    }
    /// Time allowed to download one bulk-data file, body included (default 30 min): files are read piece by
    /// piece, so this only bounds a stalled or endless download.
    pub fn download_timeout(mut self, timeout: Duration) -> Self {
        self.download_timeout = timeout;
        self
    }
    /// Time allowed for one attempt of a request, body included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Time allowed to connect (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
    /// The largest answer read, in bytes (default 32 MiB).
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.max_response_bytes = bytes;
        self
    }
    /// Retries of idempotent requests (default: 3, backoff from 250 ms, `Retry-After` up to 60 s).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }
    /// The most pages one paginated read fetches (default 1000).
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages;
        self
    }
    /// The largest `_count` sent; larger values are lowered to it (default 100, the 1upHealth maximum).
    pub fn max_count(mut self, count: u32) -> Self {
        self.max_count = count;
        self
    }
    /// How long before its expiry an access token is refreshed (default 60 s).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }
    /// How resources with an app-chosen id are created (default: POST with the id, as 1upHealth does).
    pub fn app_chosen_id(mut self, how: AppChosenId) -> Self {
        self.app_chosen_id = how;
        self
    }
    /// Read FHIR answers strictly: the first problem (an unknown element, an invalid value, an unknown code) is an
    /// [`Error::Decode`] naming its FHIR path. By default answers are read leniently, as real servers send
    /// extensions of the rules: what the models cannot hold is reported in a `tracing` warning by FHIR path.
    pub fn strict_reading(mut self, strict: bool) -> Self {
        self.strict_reading = strict;
        self
    }
    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<OneUpClient> {
        let url = |what: &str, value: &str| -> Result<Url> {
            let url = Url::parse(value).map_err(|e| Error::Config(format!("{what} `{value}` is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() || url.host().is_none() {
                return Err(Error::Config(format!("{what} `{value}` is not an http(s) URL")));
            }
            Ok(url)
        };
        for (what, path) in
            [("FHIR path", &self.fhir_path), ("permission path", &self.permission_path), ("bulk-data path", &self.bulk_path)]
        {
            if !path.starts_with('/') || path.contains(['?', '#']) {
                return Err(Error::Config(format!("the {what} `{path}` must be a path starting with `/`")));
            }
        }
        if self.max_count == 0 || self.max_pages == 0 || self.max_response_bytes == 0 {
            return Err(Error::Config("max_count, max_pages and max_response_bytes must be above 0".into()));
        }
        let api_base = url("the API base", &self.api_base)?;
        let user_management_base = match &self.user_management_base {
            Some(u) => url("the user-management base", u)?,
            None => api_base.clone(),
        };
        let allowed_origins = self
            .allowed_origins
            .iter()
            .map(|o| url("an allowed origin", o).map(|u| u.origin()))
            .collect::<Result<Vec<_>>>()?;
        let api_token_url = base_with_path(&api_base, defaults::API_TOKEN_PATH, "");
        let config = Config {
            api_token_url,
            allowed_origins,
            permission_path: self.permission_path,
            api_base,
            user_management_base,
            token_url: url("the token URL", &self.token_url)?,
            analytics_base: url("the analytics base", &self.analytics_base)?,
            system_search_base: url("the system-search base", &self.system_search_base)?,
            fhir_path: self.fhir_path,
            bulk_path: self.bulk_path,
            timeout: self.timeout,
            download_timeout: self.download_timeout,
            connect_timeout: self.connect_timeout,
            max_response_bytes: self.max_response_bytes,
            retry: self.retry,
            max_pages: self.max_pages,
            max_count: self.max_count,
            refresh_margin: self.refresh_margin,
            app_chosen_id: self.app_chosen_id,
            strict_reading: self.strict_reading,
            user_agent: self.user_agent,
        };
        let grants = crate::tokens::grant_client(&self.credentials, &config.token_url);
        let api_grants = crate::tokens::grant_client(&self.credentials, &config.api_token_url);
        let transport = Transport::new(Arc::new(config))?;
        Ok(OneUpClient { inner: Arc::new(Inner { transport, credentials: self.credentials, grants, api_grants }) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_encodes_each_segment() {
        let base = Url::parse("http://h:1/fhir/").unwrap();
        assert_eq!(join(&base, &["Patient", "a/b c?"]).as_str(), "http://h:1/fhir/Patient/a%2Fb%20c%3F");
        let base = Url::parse("http://h:1").unwrap();
        assert_eq!(join(&base, &["r4", "Patient", "$everything"]).as_str(), "http://h:1/r4/Patient/$everything");
    }

    #[test]
    fn bad_hosts_are_config_errors() {
        let keys = AppCredentials::new("a", "b");
        let err = OneUpClient::builder(keys.clone()).api_base("not a url").build().unwrap_err();
        assert!(err.to_string().contains("the API base `not a url` is not a URL"), "{err}");
        let err = OneUpClient::builder(keys.clone()).token_url("mailto:x@y").build().unwrap_err();
        assert!(matches!(err, Error::Config(_)));
        let err = OneUpClient::builder(keys).fhir_path("r4").build().unwrap_err();
        assert!(err.to_string().contains("must be a path"), "{err}");
    }
}
