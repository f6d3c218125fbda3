//! Async client for the [1upHealth](https://1up.health) API, typed with [`fhir_models`].
//!
//! - [`OneUpClient`]: the app's keys ([`AppCredentials`]), the hosts (all configurable; production by default)
//!   and the HTTP settings; user management ([`OneUpClient::create_user`], [`OneUpClient::list_users`], …) and the
//!   OAuth2 grants ([`OneUpClient::exchange_code`], [`OneUpClient::refresh_tokens`]).
//! - [`Session`]: one user's [`Tokens`] (with the SMART context: `patient`, `scope`, `id_token`, …), refreshed
//!   `min(60 s, expires_in / 2)` before expiry and once after a 401, with a hook that hands rotated tokens to the
//!   app. One session serves several FHIR bases ([`Session::fhir_at`]), either token endpoint
//!   ([`TokenEndpoint`]) and a second client ([`Session::with_client`]), with one refresh for all;
//!   [`Session::send`] is the authenticated escape hatch for calls not wrapped here.
//! - [`Fhir`]: read, create, update, delete, search, `$everything` and permissions, generic over the FHIR version;
//!   paginated reads are lazy, bounded [`Stream`](futures_core::Stream)s; every stream of the crate is one
//!   generic [`Items`] ([`Pages`], [`Resources`], [`SystemSearch`], [`NdjsonStream`], [`ExportEvents`]).
//!   `*_response` calls give a [`ResponseValue`] with status and headers (`ETag`, `Location`, `Last-Modified`);
//!   [`Fhir::wait_for_data`] waits, bounded, for data a connected health system is still delivering.
//! - [`Connect`]: provider search, supported health systems, the system-search stream; [`ConnectLink`] (it
//!   carries the user's token) and [`OneUpClient::connect_page_url`].
//! - [`Bulk`]: `$export` (1upHealth's immediate manifest or the standard 202 flow), progress events, cancel, and
//!   each output file as an [`NdjsonStream`] of typed resources read line by line; system, patient and group
//!   level ([`ExportLevel`]). [`Bulk::export_to`] runs an export into an [`ExportDir`]: several files at once,
//!   per-file retries, resume after an interruption without a lost or doubled line, `_since` from the last run.
//! - SMART Backend Services (feature `smart`): `BackendServices` signs `client_credentials` assertions (RS384,
//!   ES384) with a `SigningKey` from a private JWK(S) or PKCS#8 PEM; `Session::backend_services` uses it as the
//!   session's token source, renewed before expiry and after a 401.
//! - [`Payer`]: a health plan's SMART standalone launch (state, PKCE S256) and the read-only [`PayerFhir`].
//!
//! Transport hygiene: timeouts on by default; only idempotent requests are retried, on 429/502/503/504 and
//! connection failures, honoring `Retry-After`, a bounded number of times; answers are capped in size; ids are
//! percent-encoded; the token only goes to the client's hosts and an explicit allow-list
//! ([`ClientBuilder::allow_origin`]); downloads follow redirects without the `Authorization` header across
//! origins. Secrets never appear in `Debug`, errors or `tracing` events: every secret a request sent (bearer
//! token, refresh token, code, client secret, PKCE verifier, client assertion) is cut out of the server's text before that text
//! enters an error. Errors tell [`is_transient`](Error::is_transient), [`is_unauthorized`](Error::is_unauthorized)
//! and [`retry_after`](Error::retry_after); unreadable FHIR keeps the model's `ParseError` as the source and the
//! body (capped).
//!
//! ```no_run
//! use oneup_client::{AppCredentials, CreatedUser, OneUpClient, Session};
//! # async fn demo() -> oneup_client::Result<()> {
//! let client = OneUpClient::new(AppCredentials::new("clientid", "clientsecret"))?;
//! let code = match client.create_user("myappsuserid").await? {
//!     CreatedUser::Created(user) => user.code,
//!     // The user exists already: ask for a new code.
//!     CreatedUser::AlreadyExists { .. } => client.new_auth_code("myappsuserid").await?.code,
//! };
//! let tokens = client.exchange_code(&code).await?;
//! let session = Session::new(client, tokens);
//! # let _ = session; Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bulk;
mod client;
mod config;
mod connect;
mod decode;
mod error;
mod export;
mod fhir;
mod paging;
mod response;
mod payer;
mod search;
mod secret;
mod session;
#[cfg(feature = "smart")]
mod smart;
mod tokens;
mod transport;
mod users;

/// The `http` crate, whose `Method`, `StatusCode` and header types [`Session::send`] and [`ResponseValue`] use.
pub use http;

pub use bulk::{
    is_resource_type, Bulk, ExportEvents, ExportJob, ExportLevel, ExportRequest, ExportStatus, Manifest, NdjsonStream, OutputFile,
    Progress,
};
pub use client::{ClientBuilder, OneUpClient, TokenEndpoint};
pub use connect::{
    ClinicalSystemFilter, Connect, ConnectLink, HealthSystem, Provider, SystemId, SystemSearch, SystemSummary,
    SYSTEM_SEARCH_PAGE,
};
pub use config::{defaults, AppChosenId, Config, PollPolicy, RetryPolicy};
pub use error::{AuthorizationProblem, Error, Outcome, PagingStop, Problem, Result};
pub use export::{ExportDir, ExportEvent, ExportOptions, ExportSummary, ExportTotals, ExportedFile};
pub use fhir::Fhir;
pub use paging::{Items, Pages, Resources};
pub use response::ResponseValue;
pub use payer::{LaunchRequest, Payer, PayerBuilder, PayerFhir, PayerSession, DEFAULT_PAYER_SCOPE};
pub use search::SearchParams;
pub use secret::{AppCredentials, Secret};
pub use session::Session;
#[cfg(feature = "smart")]
pub use smart::{Algorithm, BackendServices, SigningKey, JWT_BEARER_ASSERTION, MAX_ASSERTION_LIFETIME};
pub use tokens::Tokens;
pub use users::{Confirmation, CreatedUser, IssuedCode, OneUpUserId, User, UserFilter};
