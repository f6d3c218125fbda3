//! Bulk data: system-level `$export` on the analytics host, both as 1upHealth answers it (the manifest at once)
//! and as the FHIR Bulk Data standard does (`202 Accepted`, a status URL to poll, then the manifest), and the
//! output files read line by line as typed resources.

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use fhir_models::{FhirJson, FhirVersion};
use futures_util::stream::{self, StreamExt};
use http::header::{HeaderName, ACCEPT, CONTENT_LOCATION};
use http::Method;
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use crate::client::{base_with_path, join};
use crate::config::PollPolicy;
use crate::decode::{self, fhir_status_error};
use crate::error::{Error, Result};
use crate::paging::Items;
use crate::session::Session;
use crate::transport::{display_url, Call, Opened};

const PREFER: HeaderName = HeaderName::from_static("prefer");
const X_PROGRESS: HeaderName = HeaderName::from_static("x-progress");

/// Whether `name` is a resource type of FHIR version `V`, by the version's list of resource names (from the
/// official core package), not by the model features compiled in: `ExplanationOfBenefit` is an R4 type even
/// when the app does not compile `r4-explanation-of-benefit` ([`FhirVersion::RESOURCE_TYPES`]).
///
/// ```
/// use fhir_models::{dstu2::Dstu2, r4::R4};
/// assert!(oneup_client::is_resource_type::<R4>("Patient"));
/// assert!(oneup_client::is_resource_type::<R4>("MedicationRequest"));
/// assert!(!oneup_client::is_resource_type::<Dstu2>("MedicationRequest")); // DSTU2 has MedicationOrder
/// assert!(!oneup_client::is_resource_type::<R4>("Patients"));
/// assert!(!oneup_client::is_resource_type::<R4>("Patient\",\"x\":\"y"));
/// ```
pub fn is_resource_type<V: FhirVersion>(name: &str) -> bool {
    V::RESOURCE_TYPES.binary_search(&name).is_ok()
}

/// What to export: the parameters of the `$export` kick-off.
///
/// ```
/// use oneup_client::ExportRequest;
/// let request = ExportRequest::new().types(["Patient", "Observation"]).since("2024-01-01T00:00:00Z");
/// assert_eq!(request.query_pairs(), [
///     ("_type".to_string(), "Patient,Observation".to_string()),
///     ("_since".to_string(), "2024-01-01T00:00:00Z".to_string()),
/// ]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct ExportRequest {
    level: ExportLevel,
    types: Vec<String>,
    since: Option<String>,
    extra: Vec<(String, String)>,
}

/// Whose data an export holds: the whole system (`/$export`), all patients (`/Patient/$export`) or one group's
/// members (`/Group/{id}/$export`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportLevel {
    /// `[base]/$export`.
    #[default]
    System,
    /// `[base]/Patient/$export`.
    Patient,
    /// `[base]/Group/{id}/$export`.
    Group(String),
}

impl ExportRequest {
    /// Everything the user may see.
    pub fn new() -> Self {
        ExportRequest::default()
    }

    /// Only these resource types (`_type`). Each is checked against the models' resource types before the
    /// request is sent: an unknown one is an [`Error::InvalidArgument`], as the server would refuse it.
    pub fn types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.types.extend(types.into_iter().map(Into::into));
        self
    }

    /// Only resources changed since this instant (`_since`, e.g. `2024-01-01T00:00:00Z`).
    pub fn since(mut self, instant: impl Into<String>) -> Self {
        self.since = Some(instant.into());
        self
    }

    /// A patient-level export (`Patient/$export`).
    pub fn patients(mut self) -> Self {
        self.level = ExportLevel::Patient;
        self
    }

    /// A group-level export (`Group/{id}/$export`); the id is percent-encoded into the path.
    ///
    /// ```
    /// use oneup_client::{ExportLevel, ExportRequest};
    /// let request = ExportRequest::new().group("g 1").type_filter("Observation?category=laboratory");
    /// assert_eq!(request.level(), &ExportLevel::Group("g 1".into()));
    /// assert_eq!(request.query_pairs()[0].0, "_typeFilter");
    /// ```
    pub fn group(mut self, id: impl Into<String>) -> Self {
        self.level = ExportLevel::Group(id.into());
        self
    }

    /// A `_typeFilter` (a FHIR search such as `MedicationRequest?status=active`); may be given several times.
    pub fn type_filter(self, query: impl Into<String>) -> Self {
        self.param("_typeFilter", query)
    }

    /// The `_outputFormat` (`application/fhir+ndjson` is the default of servers).
    pub fn output_format(self, format: impl Into<String>) -> Self {
        self.param("_outputFormat", format)
    }

    /// Whose data is exported.
    pub fn level(&self) -> &ExportLevel {
        &self.level
    }

    /// The `_since` instant, when set.
    pub fn since_instant(&self) -> Option<&str> {
        self.since.as_deref()
    }

    /// Any other kick-off parameter, sent as given.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// The requested types.
    pub fn requested_types(&self) -> &[String] {
        &self.types
    }

    /// The query pairs sent.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        if !self.types.is_empty() {
            pairs.push(("_type".to_owned(), self.types.join(",")));
        }
        if let Some(since) = &self.since {
            pairs.push(("_since".to_owned(), since.clone()));
        }
        pairs.extend(self.extra.iter().cloned());
        pairs
    }
}

/// The manifest of a finished export: where the files are.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Manifest {
    /// When the server took the snapshot.
    #[serde(default)]
    pub transaction_time: Option<String>,
    /// The kick-off request URL, as the server saw it.
    #[serde(default)]
    pub request: Option<String>,
    /// Whether the files need the bearer token. When false, no token is sent to them.
    #[serde(default, deserialize_with = "flexible_bool")]
    pub requires_access_token: bool,
    /// The files of exported resources, one resource type each.
    #[serde(default)]
    pub output: Vec<OutputFile>,
    /// Files of `OperationOutcome`s about what could not be exported.
    #[serde(default)]
    pub error: Vec<OutputFile>,
}

/// One file of a [`Manifest`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct OutputFile {
    /// The resource type of the file's lines.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Where to download it.
    pub url: String,
    /// How many resources it holds, when the server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// `true`, or the text `"true"` (both are seen).
fn flexible_bool<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Ok(b),
        serde_json::Value::String(s) => Ok(s.eq_ignore_ascii_case("true")),
        serde_json::Value::Null => Ok(false),
        other => Err(serde::de::Error::custom(format!("requiresAccessToken must be a boolean, not {other}"))),
    }
}

/// Where a running export is, as the server's status answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The server's `X-Progress` text (e.g. `"50% complete"`), when sent.
    pub text: Option<String>,
    /// The server's `Retry-After`, when sent.
    pub retry_after: Option<Duration>,
    /// Status polls so far, this one included.
    pub polls: u32,
    /// Time since the kick-off.
    pub elapsed: Duration,
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.text.as_deref().unwrap_or("in progress");
        write!(f, "{text} (poll {}, {:.0?} elapsed)", self.polls, self.elapsed)
    }
}

/// One answer of the status endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportStatus {
    /// Still running (`202 Accepted`).
    InProgress(Progress),
    /// Done: the manifest (`200`).
    Complete(Manifest),
}

/// Bulk-data calls of version `V` for the user of a [`Session`]; get one with [`Session::bulk`].
///
/// The base URL is the client's analytics host plus its bulk path (`https://analytics.1up.health/bulk-data/r4`);
/// `$export` is appended. The bearer token is only ever sent to that origin.
///
/// ```no_run
/// use fhir_models::r4::{Resource, R4};
/// use futures_util::StreamExt;
/// use oneup_client::{ExportRequest, Session};
/// # async fn demo(session: Session) -> oneup_client::Result<()> {
/// let bulk = session.bulk::<R4>();
/// let job = bulk.kick_off(&ExportRequest::new().types(["Patient", "Observation"])).await?;
/// let manifest = job.wait(|progress| eprintln!("export: {progress}")).await?;
/// for file in &manifest.output {
///     let mut lines = bulk.resources(&manifest, file);
///     while let Some(line) = lines.next().await {
///         match line {
///             Ok(resource) => println!("{}", resource.resource_type()),
///             Err(e) if e.is_line_error() => eprintln!("skipped: {e}"), // one bad line; the rest follows
///             Err(e) => return Err(e),
///         }
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Bulk<V: FhirVersion> {
    session: Session,
    base: Url,
    polling: PollPolicy,
    _version: PhantomData<fn() -> V>,
}

impl<V: FhirVersion> Clone for Bulk<V> {
    fn clone(&self) -> Self {
        Bulk { session: self.session.clone(), base: self.base.clone(), polling: self.polling.clone(), _version: PhantomData }
    }
}

impl<V: FhirVersion> fmt::Debug for Bulk<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bulk").field("version", &V::NAME).field("base", &self.base.as_str()).finish()
    }
}

impl Session {
    /// Bulk-data `$export` of version `V` with this session's token, at the client's analytics host and bulk
    /// path (`https://analytics.1up.health/bulk-data/r4` by default).
    pub fn bulk<V: FhirVersion>(&self) -> Bulk<V> {
        let config = self.client().config();
        let base = base_with_path(&config.analytics_base, &config.bulk_path, V::NAME);
        Bulk { session: self.clone(), base, polling: PollPolicy::default(), _version: PhantomData }
    }
}

impl<V: FhirVersion> Bulk<V> {
    /// The session the calls use.
    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    /// A job to follow at a status URL recorded earlier (a resumed export); the URL must be on the bulk-data
    /// origin or the allow-list, since the token goes there.
    pub(crate) fn job_at(&self, status_url: Url) -> Result<ExportJob<V>> {
        if !self.may_send_token(&status_url) {
            return Err(Error::InvalidArgument {
                request: format!("bulk export status (GET {})", display_url(&status_url)),
                message: "the recorded status URL is not on the bulk-data origin or the allow-list".into(),
            });
        }
        Ok(ExportJob { bulk: self.clone(), status_url: Some(status_url), manifest: None, started: Instant::now(), polls: 0, last_progress: String::new() })
    }

    /// The download request of one file of `manifest`, and whether it carries the token (see
    /// [`file_as`](Bulk::file_as) for the rules).
    pub(crate) fn download_call(&self, manifest: &Manifest, file: &OutputFile) -> Result<(Call, bool)> {
        let url = match self.base.join(&file.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            _ => {
                return Err(Error::InvalidArgument {
                    request: format!("download {} file", file.resource_type),
                    message: "the file URL in the manifest is not an http(s) URL".into(),
                });
            }
        };
        let label = format!("download {} file", file.resource_type);
        let mut call = Call::new(label, Method::GET, url.clone()).header(ACCEPT, "application/fhir+ndjson");
        call.timeout = Some(self.session.client().config().download_timeout);
        // A file server may redirect (to a signed URL, a CDN): followed, without the token across origins.
        call.follow_redirects = true;
        let with_token = manifest.requires_access_token;
        if with_token && !self.may_send_token(&url) {
            return Err(Error::InvalidArgument {
                request: call.name,
                message: format!(
                    "the file needs the access token but is on another origin ({}), not on the allow-list; the token is not sent there",
                    url.origin().ascii_serialization()
                ),
            });
        }
        Ok((call, with_token))
    }

    /// The bulk-data base URL (`$export` is below it).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The same calls with another polling policy.
    #[must_use]
    pub fn with_polling(mut self, polling: PollPolicy) -> Self {
        self.polling = polling;
        self
    }

    /// Whether the token may go to `url`: the bulk-data origin, or one on the client's allow-list.
    fn may_send_token(&self, url: &Url) -> bool {
        self.session.client().config().may_follow(&self.base, url)
    }

    /// `GET {base}/$export?_type=…` with `Prefer: respond-async`: starts a system-level export.
    ///
    /// The requested types are checked first (see [`is_resource_type`]). A `200` answer is 1upHealth's
    /// immediate manifest (the job is complete at once); a `202` carries the status URL in `Content-Location`
    /// (which must be on the bulk-data origin, since the token goes there). Any other answer is an
    /// [`Error::Status`] with the server's `OperationOutcome`.
    pub async fn kick_off(&self, request: &ExportRequest) -> Result<ExportJob<V>> {
        let mut url = match &request.level {
            ExportLevel::System => join(&self.base, &["$export"]),
            ExportLevel::Patient => join(&self.base, &["Patient", "$export"]),
            ExportLevel::Group(id) => join(&self.base, &["Group", id, "$export"]),
        };
        let label = "bulk export kick-off";
        let name = format!("{label} (GET {})", display_url(&url));
        if let Some(bad) = request.types.iter().find(|t| !is_resource_type::<V>(t)) {
            return Err(Error::InvalidArgument {
                request: name,
                message: format!(
                    "`{bad}` is not a FHIR {} resource type",
                    V::NAME
                ),
            });
        }
        let pairs = request.query_pairs();
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(&pairs);
        }
        let call = Call::new(label, Method::GET, url.clone()).fhir_accept().header(PREFER, "respond-async");
        let reply = self.session.send_call(call).await?;
        let started = Instant::now();
        match reply.status.as_u16() {
            200 => {
                let manifest = decode::json::<Manifest>(&reply)?;
                Ok(ExportJob { bulk: self.clone(), status_url: None, manifest: Some(manifest), started, polls: 0, last_progress: String::new() })
            }
            202 => {
                let location = reply
                    .headers
                    .get(CONTENT_LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| reply.decode_error("the 202 answer has no Content-Location to poll"))?;
                let status_url = url
                    .join(location.trim())
                    .map_err(|e| reply.decode_error(format!("the Content-Location is not a URL: {e}")))?;
                if !self.may_send_token(&status_url) {
                    return Err(reply.decode_error(format!(
                        "the status URL is on another origin ({}), not on the allow-list; the token is not sent there",
                        status_url.origin().ascii_serialization()
                    )));
                }
                Ok(ExportJob { bulk: self.clone(), status_url: Some(status_url), manifest: None, started, polls: 0, last_progress: String::new() })
            }
            _ if reply.is_success() => Err(reply.decode_error(format!("unexpected status {} for a kick-off", reply.status))),
            _ => Err(fhir_status_error::<V>(&reply)),
        }
    }

    /// The resources of one output file of `manifest`, read line by line (see [`NdjsonStream`]).
    pub fn resources(&self, manifest: &Manifest, file: &OutputFile) -> NdjsonStream<V::Resource> {
        self.file_as(manifest, file)
    }

    /// The `OperationOutcome`s of one error file of `manifest`.
    pub fn errors(&self, manifest: &Manifest, file: &OutputFile) -> NdjsonStream<V::OperationOutcome> {
        self.file_as(manifest, file)
    }

    /// The lines of one file of `manifest` read as `T` (a concrete resource type such as `r4::Patient`, when
    /// the file holds only that type).
    ///
    /// The bearer token is sent only when the manifest says `requiresAccessToken` and only when the file is on
    /// the bulk-data origin; a file elsewhere that needs the token is refused with [`Error::InvalidArgument`]
    /// rather than leaking the token.
    pub fn file_as<T: FhirJson + Send + 'static>(&self, manifest: &Manifest, file: &OutputFile) -> NdjsonStream<T> {
        let (call, with_token) = match self.download_call(manifest, file) {
            Ok(call) => call,
            Err(error) => return NdjsonStream::failed(error),
        };
        let read = Lines::<V, T> {
            session: self.session.clone(),
            call: Some(call),
            with_token,
            file: String::new(),
            opened: None,
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            line: 0,
            eof: false,
            done: false,
            max_line: self.session.client().config().max_response_bytes,
            strict: self.session.client().config().strict_reading,
            _t: PhantomData,
        };
        Items::new(stream::unfold(read, Lines::step))
    }
}


/// A started export. Poll it with [`status`](ExportJob::status), follow it with [`events`](ExportJob::events)
/// or [`wait`](ExportJob::wait), stop it with [`cancel`](ExportJob::cancel). Cheap to clone: keep a clone to
/// cancel while another follows the events.
pub struct ExportJob<V: FhirVersion> {
    bulk: Bulk<V>,
    status_url: Option<Url>,
    manifest: Option<Manifest>,
    started: Instant,
    polls: u32,
    last_progress: String,
}

impl<V: FhirVersion> Clone for ExportJob<V> {
    fn clone(&self) -> Self {
        ExportJob {
            bulk: self.bulk.clone(),
            status_url: self.status_url.clone(),
            manifest: self.manifest.clone(),
            started: self.started,
            polls: self.polls,
            last_progress: self.last_progress.clone(),
        }
    }
}

impl<V: FhirVersion> fmt::Debug for ExportJob<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportJob")
            .field("status_url", &self.status_url.as_ref().map(display_url))
            .field("immediate", &self.manifest.is_some())
            .finish()
    }
}

impl<V: FhirVersion> ExportJob<V> {
    /// The status URL to poll; `None` when the server answered the kick-off with the manifest at once.
    pub fn status_url(&self) -> Option<&Url> {
        self.status_url.as_ref()
    }

    /// The manifest when the kick-off already carried it (1upHealth's immediate answer).
    pub fn immediate_manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// Asks the status endpoint once: `202` → [`ExportStatus::InProgress`] (with `X-Progress` and
    /// `Retry-After`), `200` → [`ExportStatus::Complete`]; an error answer (a failed export) is an
    /// [`Error::Status`] with the server's `OperationOutcome`.
    pub async fn status(&mut self) -> Result<ExportStatus> {
        let Some(url) = self.status_url.clone() else {
            let manifest = self.manifest.clone().unwrap_or_else(|| Manifest {
                transaction_time: None,
                request: None,
                requires_access_token: false,
                output: Vec::new(),
                error: Vec::new(),
            });
            return Ok(ExportStatus::Complete(manifest));
        };
        self.polls += 1;
        let call = Call::new("bulk export status", Method::GET, url).json_accept();
        let reply = self.bulk.session.send_call(call).await?;
        match reply.status.as_u16() {
            202 => {
                let text = reply.headers.get(X_PROGRESS).and_then(|v| v.to_str().ok()).map(str::to_owned);
                self.last_progress = text.clone().unwrap_or_default();
                tracing::debug!(polls = self.polls, progress = text.as_deref().unwrap_or(""), "export in progress");
                Ok(ExportStatus::InProgress(Progress {
                    text,
                    retry_after: reply.retry_after(),
                    polls: self.polls,
                    elapsed: self.started.elapsed(),
                }))
            }
            200 => {
                let manifest = decode::json::<Manifest>(&reply)?;
                self.manifest = Some(manifest.clone());
                Ok(ExportStatus::Complete(manifest))
            }
            _ if reply.is_success() => Err(reply.decode_error(format!("unexpected status {} while polling", reply.status))),
            _ => Err(fhir_status_error::<V>(&reply)),
        }
    }

    /// The status answers, one per poll, until the manifest (the last item) or an error. Between two polls the
    /// stream waits as the server's `Retry-After` says, cut to the policy's `max_interval`, or the
    /// `default_interval`; past the policy's `max_wait` it ends with [`Error::ExportNotReady`]. Each
    /// [`ExportStatus::InProgress`] is a progress event an app can show.
    pub fn events(self) -> ExportEvents {
        let state = (self, None::<Duration>, false);
        let inner = stream::unfold(state, |(mut job, wait, done)| async move {
            if done {
                return None;
            }
            if let Some(wait) = wait {
                let policy = &job.bulk.polling;
                if job.started.elapsed() + wait > policy.max_wait {
                    let error = Error::ExportNotReady {
                        request: format!(
                            "bulk export status (GET {})",
                            job.status_url.as_ref().map(display_url).unwrap_or_default()
                        ),
                        waited: job.started.elapsed(),
                        polls: job.polls,
                        progress: job.last_progress.clone(),
                    };
                    return Some((Err(error), (job, None, true)));
                }
                tokio::time::sleep(wait).await;
            }
            match job.status().await {
                Ok(ExportStatus::InProgress(progress)) => {
                    let policy = &job.bulk.polling;
                    let next = progress.retry_after.unwrap_or(policy.default_interval).min(policy.max_interval);
                    Some((Ok(ExportStatus::InProgress(progress)), (job, Some(next), false)))
                }
                Ok(complete) => Some((Ok(complete), (job, None, true))),
                Err(e) => Some((Err(e), (job, None, true))),
            }
        });
        Items::new(inner)
    }

    /// Polls until the manifest, calling `on_progress` with each progress event (see
    /// [`events`](ExportJob::events) for the waits and bounds).
    pub async fn wait(self, mut on_progress: impl FnMut(&Progress)) -> Result<Manifest> {
        let mut events = self.events();
        while let Some(event) = events.next().await {
            match event? {
                ExportStatus::InProgress(progress) => on_progress(&progress),
                ExportStatus::Complete(manifest) => return Ok(manifest),
            }
        }
        Err(Error::Decode { request: "bulk export status".into(), message: "the status stream ended early".into(), body: None })
    }

    /// `DELETE` on the status URL: asks the server to stop the export and drop its files. Nothing is sent for
    /// an immediate manifest (there is no job to stop).
    pub async fn cancel(self) -> Result<()> {
        let Some(url) = self.status_url else { return Ok(()) };
        let call = Call::new("cancel bulk export", Method::DELETE, url).json_accept();
        let reply = self.bulk.session.send_call(call).await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(fhir_status_error::<V>(&reply))
        }
    }
}

/// The progress events of an export (see [`ExportJob::events`]).
/// The status answers of an export, one per poll, ending with [`ExportStatus::Complete`] or an error (see
/// [`ExportJob::events`]).
pub type ExportEvents = Items<ExportStatus>;

/// The lines of one bulk-data file, read as `T` one by one while the file downloads, so a large file never
/// sits in memory whole. A line that cannot be read is an [`Error::NdjsonLine`] item and the stream goes on;
/// any other error ends it. Lines longer than the client's response cap end it with
/// [`Error::ResponseTooLarge`].
pub type NdjsonStream<T> = Items<T>;

/// Sends a download request: with the session's token (refreshed once on 401) or with none; an error status is
/// an [`Error::Status`] with the server's `OperationOutcome`.
pub(crate) async fn open_download<V: FhirVersion>(session: &Session, call: Call, with_token: bool) -> Result<Opened> {
    let opened = if with_token { session.open_call(call).await? } else { session.client().transport().open(&call).await? };
    if opened.status.is_success() {
        return Ok(opened);
    }
    let limit = session.client().config().max_response_bytes;
    let reply = opened.read_all(limit).await?;
    Err(fhir_status_error::<V>(&reply))
}

struct Lines<V, T> {
    session: Session,
    call: Option<Call>,
    with_token: bool,
    /// `download Patient file (GET origin/path)`: what errors call the file.
    file: String,
    opened: Option<Opened>,
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts.
    start: usize,
    /// How far past `start` no newline was found.
    scanned: usize,
    line: u64,
    eof: bool,
    done: bool,
    max_line: u64,
    strict: bool,
    _t: PhantomData<fn() -> (V, T)>,
}

impl<V: FhirVersion, T: FhirJson + Send + 'static> Lines<V, T> {
    async fn step(mut self) -> Option<(Result<T>, Self)> {
        if self.done {
            return None;
        }
        if let Some(call) = self.call.take() {
            self.file = call.name.clone();
            match self.open(call).await {
                Ok(opened) => self.opened = Some(opened),
                Err(e) => {
                    self.done = true;
                    return Some((Err(e), self));
                }
            }
        }
        loop {
            let unread = &self.buf[self.start..];
            if let Some(offset) = unread[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.start + self.scanned + offset;
                if (end - self.start) as u64 > self.max_line {
                    return Some((Err(self.line_too_long()), self));
                }
                let item = self.take_line(self.start, end);
                self.start = end + 1;
                self.scanned = 0;
                match item {
                    Some(item) => return Some((item, self)),
                    None => continue,
                }
            }
            self.scanned = unread.len();
            if self.eof {
                self.done = true;
                let (start, end) = (self.start, self.buf.len());
                self.start = end;
                return self.take_line(start, end).map(|item| (item, self));
            }
            if self.scanned as u64 > self.max_line {
                return Some((Err(self.line_too_long()), self));
            }
            // Keep only the unread part, then read the next piece.
            self.buf.drain(..self.start);
            self.start = 0;
            let Some(opened) = self.opened.as_mut() else {
                self.eof = true;
                continue;
            };
            match opened.chunk().await {
                Ok(Some(chunk)) => self.buf.extend_from_slice(&chunk),
                Ok(None) => self.eof = true,
                Err(e) => {
                    self.done = true;
                    return Some((Err(e), self));
                }
            }
        }
    }

    async fn open(&self, call: Call) -> Result<Opened> {
        open_download::<V>(&self.session, call, self.with_token).await
    }

    /// The line being read is longer than the cap: the stream ends.
    fn line_too_long(&mut self) -> Error {
        self.done = true;
        Error::ResponseTooLarge { request: format!("{}, line {}", self.file, self.line + 1), limit: self.max_line }
    }

    /// Reads line `buf[start..end]` (its number is counted here); `None` for a blank line.
    fn take_line(&mut self, start: usize, end: usize) -> Option<Result<T>> {
        self.line += 1;
        let bytes = &self.buf[start..end];
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let result = match std::str::from_utf8(bytes) {
            Ok(text) => decode::fhir_text::<T>(text, self.strict).map_err(|e| e.to_string()),
            Err(e) => Err(format!("the line is not UTF-8: {e}")),
        };
        Some(result.map_err(|message| {
            tracing::warn!(line = self.line, "an NDJSON line could not be read; going on with the next");
            Error::NdjsonLine { file: self.file.clone(), line: self.line, message }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhir_models::{dstu2::Dstu2, r4::R4};

    #[test]
    fn types_come_from_the_versions_names_not_the_compiled_models() {
        // This crate compiles a handful of R4 models (its features), yet every R4 type is a valid `_type`.
        for name in ["ImmunizationEvaluation", "MedicinalProductIngredient", "Patient", "ExplanationOfBenefit"] {
            assert!(is_resource_type::<R4>(name), "{name}");
        }
        assert!(is_resource_type::<Dstu2>("DiagnosticOrder") && !is_resource_type::<R4>("DiagnosticOrder"));
        for bad in ["", "patient", "Patients", "Resource", "DomainResource", "Patient,Observation"] {
            assert!(!is_resource_type::<R4>(bad), "{bad}");
        }
        let names = ExportRequest::new().types(["ImmunizationEvaluation"]);
        assert!(names.requested_types().iter().all(|t| is_resource_type::<R4>(t)));
    }
}
