//! Connecting health systems: finding a system (provider search, the supported-systems list, the system-search
//! host's pages), and the links a user is sent to so that 1upHealth pulls their records from it.

use std::fmt;

use fhir_models::r4::{Bundle, ExtensionValue, Organization, Resource, R4};
use futures_util::stream::{self, StreamExt};
use http::Method;
use serde::{Deserialize, Deserializer};
use url::Url;

use crate::client::{join, OneUpClient};
use crate::decode;
use crate::error::Result;
use crate::paging::Items;
use crate::secret::Secret;
use crate::session::Session;
use crate::transport::Call;
use crate::users::number_or_string;

/// How many systems one page of the system-search host holds.
pub const SYSTEM_SEARCH_PAGE: usize = 20;

/// A 1upHealth health-system id (e.g. `4706`, Epic's sandbox). Sent as a number or a string; both are read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SystemId(String);

impl SystemId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        SystemId(id.into())
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SystemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<u64> for SystemId {
    fn from(id: u64) -> Self {
        SystemId(id.to_string())
    }
}

impl From<String> for SystemId {
    fn from(id: String) -> Self {
        SystemId(id)
    }
}

impl From<&str> for SystemId {
    fn from(id: &str) -> Self {
        SystemId(id.to_owned())
    }
}

impl<'de> Deserialize<'de> for SystemId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        number_or_string(d, "a health-system id").map(SystemId)
    }
}

/// One result of the provider search: the FHIR `Organization` and what the app needs from it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Provider {
    /// The 1upHealth system id: an identifier whose system names 1upHealth, else the Organization's id.
    pub system_id: Option<SystemId>,
    /// `Organization.name`.
    pub name: Option<String>,
    /// The logo URL, from the Organization's logo extension (an extension whose URL names a logo, with a
    /// `valueUrl`, `valueUri`, `valueString` or `valueAttachment.url`).
    pub logo: Option<String>,
    /// The whole Organization.
    pub organization: Organization,
}

impl Provider {
    fn from_organization(organization: Organization) -> Self {
        let from_1up = organization.identifier.iter().find(|i| {
            i.system.as_ref().and_then(|s| s.value.as_deref()).is_some_and(|s| s.to_ascii_lowercase().contains("1up"))
        });
        let system_id = from_1up
            .and_then(|i| Some(i.value.as_ref()?.value.clone()?.into_string()))
            .or_else(|| organization.id.clone())
            .map(SystemId);
        let logo = organization
            .extension
            .iter()
            .filter(|e| e.url.as_deref().is_some_and(|u| u.to_ascii_lowercase().contains("logo")))
            .find_map(|e| match e.value.as_ref()? {
                ExtensionValue::Url(p) | ExtensionValue::Uri(p) | ExtensionValue::String(p) => p.value.clone().map(String::from),
                ExtensionValue::Attachment(a) => a.url.as_ref()?.value.clone().map(String::from),
                _ => None,
            });
        let name = organization.name.as_ref().and_then(|n| n.value.clone()).map(String::from);
        Provider { system_id, name, logo, organization }
    }
}

/// One supported health system, from `GET /connect/system/clinical`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct HealthSystem {
    /// The 1upHealth system id.
    pub id: SystemId,
    /// The system's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The system's FHIR endpoint.
    #[serde(default)]
    pub resource_url: Option<String>,
    /// The FHIR version it serves (`dstu2`, `r4`, …).
    #[serde(default)]
    pub api_version: Option<String>,
    /// Whether the connection works now, as 1upHealth says.
    #[serde(default)]
    pub status: Option<String>,
    /// The logo URL.
    #[serde(default)]
    pub logo: Option<String>,
    /// The system's locations (names and addresses), as sent.
    #[serde(default)]
    pub locations: Vec<serde_json::Value>,
}

/// Which systems `GET /connect/system/clinical` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct ClinicalSystemFilter {
    health_systems_only: bool,
    name: Option<String>,
}

impl ClinicalSystemFilter {
    /// Every supported system.
    pub fn all() -> Self {
        ClinicalSystemFilter::default()
    }
    /// Only health systems (`health_systems_only=true`).
    pub fn health_systems_only(mut self) -> Self {
        self.health_systems_only = true;
        self
    }
    /// Only systems with this name (`name=`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// One result of the system-search host: `{id, name, address}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SystemSummary {
    /// The 1upHealth system id.
    pub id: SystemId,
    /// The system's name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its address, on one line.
    #[serde(default)]
    pub address: Option<String>,
}

/// Connect calls for the user of a [`Session`] (the user's bearer token); get them with [`Session::connect`].
///
/// ```no_run
/// use futures_util::TryStreamExt;
/// use oneup_client::{ClinicalSystemFilter, Session, SystemSummary};
/// # async fn demo(session: Session) -> oneup_client::Result<()> {
/// let connect = session.connect();
/// let found = connect.provider_search("Michigan Medicine").await?;
/// let epic = connect.clinical_systems(&ClinicalSystemFilter::all().name("Epic")).await?;
/// // Every system of the system-search host, 20 a page, fetched as the stream is read.
/// let all: Vec<SystemSummary> = connect.system_search().try_collect().await?;
/// // The link the user follows to connect their records (it carries the user's token: see ConnectLink).
/// if let Some(id) = found.first().and_then(|p| p.system_id.clone()) {
///     let link = session.connect_link(id).await?;
///     println!("connect here: {}", link.to_url());
/// }
/// # let _ = (epic, all); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Connect {
    session: Session,
}

impl Connect {
    fn client(&self) -> &OneUpClient {
        self.session.client()
    }

    /// `GET {api}/connect/system/provider/search?query=…`: a full-text search of providers and health systems,
    /// answered with a Bundle of `Organization`s.
    pub async fn provider_search(&self, query: &str) -> Result<Vec<Provider>> {
        let mut url = join(self.client().config().api_base(), &["connect", "system", "provider", "search"]);
        url.query_pairs_mut().append_pair("query", query);
        let call = Call::new("provider search", Method::GET, url).fhir_accept();
        let reply = self.session.send_call(call).await?;
        if !reply.is_success() {
            return Err(decode::fhir_status_error::<R4>(&reply));
        }
        let bundle: Bundle = decode::fhir(&reply, self.client().config().strict_reading())?;
        Ok(bundle
            .entry
            .into_iter()
            .filter_map(|e| match e.resource? {
                Resource::Organization(o) => Some(Provider::from_organization(o.into_inner())),
                _ => None,
            })
            .collect())
    }

    /// `GET {api}/connect/system/clinical`: the supported health systems, filtered.
    pub async fn clinical_systems(&self, filter: &ClinicalSystemFilter) -> Result<Vec<HealthSystem>> {
        let mut url = join(self.client().config().api_base(), &["connect", "system", "clinical"]);
        {
            let mut query = url.query_pairs_mut();
            if filter.health_systems_only {
                query.append_pair("health_systems_only", "true");
            }
            if let Some(name) = &filter.name {
                query.append_pair("name", name);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        let call = Call::new("list clinical systems", Method::GET, url).json_accept();
        let reply = self.session.send_call(call).await?;
        decode::json(&reply)
    }

    /// `POST {system-search}/api/search?offset=N`: one page of (at most 20) systems from `offset` on.
    ///
    /// The POST only reads, so it is retried like a GET.
    pub async fn system_search_page(&self, offset: usize) -> Result<Vec<SystemSummary>> {
        let mut url = join(self.client().config().system_search_base(), &["api", "search"]);
        url.query_pairs_mut().append_pair("offset", &offset.to_string());
        let mut call = Call::new(format!("system search from {offset}"), Method::POST, url).json_accept();
        call.idempotent = true;
        let reply = self.session.send_call(call).await?;
        decode::json(&reply)
    }

    /// Every system of the system-search host, one by one, fetching pages of 20 lazily (offset 0, 20, 40, …).
    /// The stream ends after a page of fewer than 20, after the client's `max_pages` pages, when a page repeats
    /// the one before (a server that ignores `offset`), or after an error.
    pub fn system_search(&self) -> SystemSearch {
        let max_pages = self.client().config().max_pages();
        let state = (self.clone(), 0usize, None::<Vec<SystemSummary>>, false);
        let pages = stream::unfold(state, move |(connect, page, previous, done)| async move {
            if done || page >= max_pages {
                return None;
            }
            match connect.system_search_page(page * SYSTEM_SEARCH_PAGE).await {
                Ok(items) => {
                    let repeated = previous.as_ref().is_some_and(|p| !items.is_empty() && *p == items);
                    if repeated {
                        tracing::warn!(page, "the system search repeats its previous page; stopping");
                        return None;
                    }
                    let last = items.len() < SYSTEM_SEARCH_PAGE;
                    Some((Ok(items.clone()), (connect, page + 1, Some(items), last)))
                }
                Err(e) => Some((Err(e), (connect, page + 1, None, true))),
            }
        });
        let items = pages.flat_map(|page| match page {
            Ok(items) => stream::iter(items.into_iter().map(Ok).collect::<Vec<_>>()),
            Err(e) => stream::iter(vec![Err(e)]),
        });
        Items::new(items)
    }
}

/// The systems of the system-search host, one by one (see [`Connect::system_search`]).
pub type SystemSearch = Items<SystemSummary>;

/// The link that sends a user to connect a health system:
/// `{api}/connect/system/clinical/{system_id}?client_id=…&access_token=…[&fhirVersion=…]`.
///
/// **The link carries the user's access token** in its query string: whoever has the link can act as the user
/// until the token expires. Hand it only to that user's browser (a redirect or a button), over HTTPS; do not log
/// it, store it or send it by e-mail. For that reason `Debug` hides the token, and the URL is only built by
/// [`ConnectLink::to_url`].
///
/// ```
/// use oneup_client::{AppCredentials, ConnectLink, OneUpClient, Secret};
/// # fn main() -> oneup_client::Result<()> {
/// let client = OneUpClient::new(AppCredentials::new("clientidclientidclientid", "secret"))?;
/// let link = ConnectLink::new(&client, 4706u64, Secret::new("accesstokenaccesstoken")).fhir_version("r4");
/// assert_eq!(
///     link.to_url().as_str(),
///     "https://api.1up.health/connect/system/clinical/4706?client_id=clientidclientidclientid&access_token=accesstokenaccesstoken&fhirVersion=r4"
/// );
/// assert!(!format!("{link:?}").contains("accesstoken"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct ConnectLink {
    api_base: Url,
    client_id: String,
    system_id: SystemId,
    access_token: Secret,
    fhir_version: Option<String>,
}

impl fmt::Debug for ConnectLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectLink")
            .field("system_id", &self.system_id)
            .field("client_id", &self.client_id)
            .field("access_token", &self.access_token)
            .field("fhir_version", &self.fhir_version)
            .finish()
    }
}

impl ConnectLink {
    /// The link to `system_id` for the app of `client` and the user whose token is `access_token`.
    pub fn new(client: &OneUpClient, system_id: impl Into<SystemId>, access_token: Secret) -> Self {
        ConnectLink {
            api_base: client.config().api_base().clone(),
            client_id: client.credentials().client_id().to_owned(),
            system_id: system_id.into(),
            access_token,
            fhir_version: None,
        }
    }

    /// Only resources of this FHIR version are pulled (`fhirVersion`, e.g. `dstu2`, `r4`).
    pub fn fhir_version(mut self, version: impl Into<String>) -> Self {
        self.fhir_version = Some(version.into());
        self
    }

    /// The system the link connects.
    pub fn system_id(&self) -> &SystemId {
        &self.system_id
    }

    /// The URL, token included: see the warning on [`ConnectLink`].
    pub fn to_url(&self) -> Url {
        let mut url = join(&self.api_base, &["connect", "system", "clinical", self.system_id.as_str()]);
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("client_id", &self.client_id).append_pair("access_token", self.access_token.expose());
            if let Some(version) = &self.fhir_version {
                query.append_pair("fhirVersion", version);
            }
        }
        url
    }
}

impl OneUpClient {
    /// `{api}/connect`: the HTML page 1upHealth serves for an iframe in the app, where the user picks a health
    /// system to connect.
    pub fn connect_page_url(&self) -> Url {
        join(self.config().api_base(), &["connect"])
    }
}

impl Session {
    /// Connect calls with this session's token.
    pub fn connect(&self) -> Connect {
        Connect { session: self.clone() }
    }

    /// The [`ConnectLink`] to `system_id` with this session's current access token (refreshed first when it
    /// is about to expire, so that the link works for as long as possible).
    pub async fn connect_link(&self, system_id: impl Into<SystemId>) -> Result<ConnectLink> {
        let token = self.access_token().await?;
        Ok(ConnectLink::new(self.client(), system_id, token))
    }
}
