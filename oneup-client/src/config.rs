//! Hosts, timeouts, caps and retry settings. Built with [`ClientBuilder`](crate::ClientBuilder).

use std::time::Duration;

use url::Url;

/// Production hosts, from the 1upHealth guides.
pub mod defaults {
    /// FHIR API, user management and connect pages.
    pub const API_BASE: &str = "https://api.1up.health";
    /// OAuth2 token endpoint.
    pub const TOKEN_URL: &str = "https://auth.1up.health/oauth2/token";
    /// Bulk data.
    pub const ANALYTICS_BASE: &str = "https://analytics.1up.health";
    /// Health-system search.
    pub const SYSTEM_SEARCH_BASE: &str = "https://system-search.1up.health";
    /// FHIR base path below the API host; `{version}` is replaced by the version's name (`r4`, `dstu2`).
    pub const FHIR_PATH: &str = "/{version}";
    /// Base path of the permission calls below the API host, as the API reference writes them
    /// (`/fhir/dstu2/Patient/{id}/_permission/{oneUpUserId}`).
    pub const PERMISSION_PATH: &str = "/fhir/{version}";
    /// The API host's token endpoint (the API reference's "Generate Access Token").
    pub const API_TOKEN_PATH: &str = "/fhir/oauth2/token";
    /// Bulk-data base path below the analytics host; `$export` is appended to it.
    pub const BULK_PATH: &str = "/bulk-data/{version}";
}

/// When and how often an idempotent request is tried again.
///
/// Only idempotent requests (GET, HEAD, PUT, DELETE) are retried, and only after a connection failure or an
/// answer of 429, 502, 503 or 504. A `Retry-After` from the server is honored when it is no longer than
/// `max_retry_after`; otherwise the error is returned at once (with the server's `Retry-After` in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry).
    pub max_retries: u32,
    /// Wait before the first retry when the server gave no `Retry-After`; doubled each time.
    pub initial_backoff: Duration,
    /// Upper bound of the doubled wait.
    pub max_backoff: Duration,
    /// The longest `Retry-After` the client waits for.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..RetryPolicy::default() }
    }
}

/// How [`Fhir::create_with_id`](crate::Fhir::create_with_id) sends a resource whose id the app chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppChosenId {
    /// `POST {base}/{type}` with the id in the body: what the 1upHealth API does (its quick-start guide creates
    /// `Patient/helloiamatestpatient` this way). The default.
    #[default]
    PostWithId,
    /// `PUT {base}/{type}/{id}`, FHIR's update-as-create: what standard servers (HAPI, SEKMET, …) need, since they
    /// assign their own id on POST.
    Put,
}

/// How a long-running wait polls: a bulk-data export's status ([`ExportJob`](crate::ExportJob)), or the
/// arrival of connected data ([`Fhir::wait_for_data`](crate::Fhir::wait_for_data)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollPolicy {
    /// Wait between two polls when the server sends no `Retry-After` (default 2 s).
    pub default_interval: Duration,
    /// The longest wait between two polls: a longer `Retry-After` is cut to it (default 60 s).
    pub max_interval: Duration,
    /// How long to wait for the export in all before giving up with
    /// [`Error::ExportNotReady`](crate::Error::ExportNotReady) or [`Error::DataNotReady`](crate::Error::DataNotReady)
    /// (default 1 h).
    pub max_wait: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            default_interval: Duration::from_secs(2),
            max_interval: Duration::from_secs(60),
            max_wait: Duration::from_secs(3600),
        }
    }
}

/// The settings of a [`OneUpClient`](crate::OneUpClient).
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) api_base: Url,
    pub(crate) user_management_base: Url,
    pub(crate) token_url: Url,
    pub(crate) api_token_url: Url,
    pub(crate) allowed_origins: Vec<url::Origin>,
    pub(crate) permission_path: String,
    pub(crate) analytics_base: Url,
    pub(crate) system_search_base: Url,
    pub(crate) fhir_path: String,
    pub(crate) bulk_path: String,
    pub(crate) timeout: Duration,
    pub(crate) download_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_response_bytes: u64,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_pages: usize,
    pub(crate) max_count: u32,
    pub(crate) refresh_margin: Duration,
    pub(crate) app_chosen_id: AppChosenId,
    pub(crate) strict_reading: bool,
    pub(crate) user_agent: String,
}

impl Config {
    /// The API host (FHIR, user management, connect).
    pub fn api_base(&self) -> &Url {
        &self.api_base
    }
    /// The user-management host (the API host unless set apart).
    pub fn user_management_base(&self) -> &Url {
        &self.user_management_base
    }
    /// The OAuth2 token endpoint.
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }
    /// The API host's token endpoint (`{api}/fhir/oauth2/token`).
    pub fn api_token_url(&self) -> &Url {
        &self.api_token_url
    }
    /// The permission calls' base path template (`/fhir/{version}`).
    pub fn permission_path(&self) -> &str {
        &self.permission_path
    }
    /// The origins allowed besides the client's own hosts (see
    /// [`ClientBuilder::allow_origin`](crate::ClientBuilder::allow_origin)).
    pub fn allowed_origins(&self) -> &[url::Origin] {
        &self.allowed_origins
    }
    /// Whether the token may follow a link to `url` found in an answer from `home`: the same origin as `home`,
    /// or one on the allow-list.
    pub fn may_follow(&self, home: &Url, url: &Url) -> bool {
        let origin = url.origin();
        origin == home.origin() || self.allowed_origins.contains(&origin)
    }
    /// Whether `url` is on one of the client's hosts (API, user management, bulk data, system search) or on the
    /// allow-list.
    pub fn is_known_origin(&self, url: &Url) -> bool {
        let origin = url.origin();
        [&self.api_base, &self.user_management_base, &self.analytics_base, &self.system_search_base]
            .iter()
            .any(|host| host.origin() == origin)
            || self.allowed_origins.contains(&origin)
    }
    /// The bulk-data host.
    pub fn analytics_base(&self) -> &Url {
        &self.analytics_base
    }
    /// The health-system search host.
    pub fn system_search_base(&self) -> &Url {
        &self.system_search_base
    }
    /// The FHIR base path template (`/{version}`, `/fhir/{version}`, `/fhir`).
    pub fn fhir_path(&self) -> &str {
        &self.fhir_path
    }
    /// The bulk-data base path template (`/bulk-data/{version}`; `/fhir` for a standard server).
    pub fn bulk_path(&self) -> &str {
        &self.bulk_path
    }
    /// Time allowed to download one bulk-data file.
    pub fn download_timeout(&self) -> Duration {
        self.download_timeout
    }
    /// Total time allowed for one attempt of a request, body included.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// The largest answer body read, in bytes.
    pub fn max_response_bytes(&self) -> u64 {
        self.max_response_bytes
    }
    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }
    /// The most pages one paginated read fetches.
    pub fn max_pages(&self) -> usize {
        self.max_pages
    }
    /// Whether FHIR answers are read strictly (the first problem is an error) rather than leniently.
    pub fn strict_reading(&self) -> bool {
        self.strict_reading
    }
    /// The largest `_count` sent (1upHealth serves at most 100 a page).
    pub fn max_count(&self) -> u32 {
        self.max_count
    }
}
