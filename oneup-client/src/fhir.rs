//! FHIR operations for one user, typed with `fhir-models` and generic over the FHIR version.

use std::marker::PhantomData;

use fhir_models::{FhirJson, FhirResource, FhirVersion};
use http::header::HeaderName;
use http::Method;
use url::Url;

use crate::client::{base_with_path, join};
use crate::config::{AppChosenId, PollPolicy};
use crate::decode;
use crate::error::{Error, Result};
use crate::paging::{PageSource, Pages, Resources};
use crate::response::ResponseValue;
use crate::search::SearchParams;
use crate::session::Session;
use crate::transport::{display_url, Call, Reply};
use crate::users::{confirmation, Confirmation, OneUpUserId};

/// FHIR calls of version `V` for the user of a [`Session`]; get one with [`Session::fhir`].
///
/// The base URL is the client's API host plus its FHIR path with `{version}` replaced by `V::NAME`
/// (`https://api.1up.health/r4`). Each request asks the session for the bearer token; a 401 makes the session
/// refresh once and the request go again. Answers are read leniently (problems are logged with their FHIR path,
/// never with values); an error answer becomes [`Error::Status`] carrying the server's `OperationOutcome`.
///
/// ```no_run
/// use fhir_models::r4::{Patient, Resource, R4};
/// use futures_util::TryStreamExt;
/// # async fn demo(session: oneup_client::Session) -> oneup_client::Result<()> {
/// let fhir = session.fhir::<R4>();
/// let patient: Patient = fhir.read("helloiamatestpatient").await?;
/// // Every female patient, 100 a page, pages fetched lazily as the stream is read.
/// let women: Vec<Patient> =
///     fhir.search_resources::<Patient>([("gender", "female"), ("_count", "100")]).try_collect().await?;
/// // Everything about one patient, whatever the resource type.
/// let everything: Vec<Resource> = fhir.everything_resources("helloiamatestpatient").try_collect().await?;
/// # let _ = (patient, women, everything); Ok(()) }
/// ```
pub struct Fhir<V: FhirVersion> {
    session: Session,
    base: Url,
    max_pages: usize,
    _version: PhantomData<fn() -> V>,
}

impl<V: FhirVersion> Clone for Fhir<V> {
    fn clone(&self) -> Self {
        Fhir { session: self.session.clone(), base: self.base.clone(), max_pages: self.max_pages, _version: PhantomData }
    }
}

impl<V: FhirVersion> std::fmt::Debug for Fhir<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fhir").field("version", &V::NAME).field("base", &self.base.as_str()).finish()
    }
}

const PREFER: HeaderName = HeaderName::from_static("prefer");

/// `{base}/{segments…}`; ids are checked and percent-encoded.
fn checked_join(base: &Url, label: &str, segments: &[&str]) -> Result<Url> {
    if let Some(bad) = segments.iter().find(|s| s.is_empty() || **s == "." || **s == "..") {
        return Err(Error::InvalidArgument {
            request: format!("{label} ({base})"),
            message: format!("`{bad}` is not a usable id"),
        });
    }
    Ok(join(base, segments))
}

impl Session {
    /// FHIR calls of version `V` (e.g. `fhir_models::r4::R4`) with this session's token, at the client's FHIR
    /// path (`https://api.1up.health/r4` by default).
    pub fn fhir<V: FhirVersion>(&self) -> Fhir<V> {
        let config = self.client().config();
        Fhir::at(self.clone(), base_with_path(&config.api_base, &config.fhir_path, V::NAME))
    }

    /// FHIR calls of version `V` at another base of the same session (same tokens, same refresh): a path
    /// template below the API host (`"/fhir/{version}"`, `{version}` replaced by `V::NAME`) or an absolute URL
    /// on one of the client's hosts or its allow-list.
    pub fn fhir_at<V: FhirVersion>(&self, base: &str) -> Result<Fhir<V>> {
        let config = self.client().config();
        let refuse = |message: String| Error::Config(format!("the FHIR base `{base}` {message}"));
        let url = if base.starts_with('/') {
            if base.contains(['?', '#']) {
                return Err(refuse("must be a path without query".into()));
            }
            base_with_path(&config.api_base, base, V::NAME)
        } else {
            let url = Url::parse(&base.replace("{version}", V::NAME)).map_err(|e| refuse(format!("is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") || !config.is_known_origin(&url) {
                return Err(refuse("is not on one of the client's hosts nor on its allow-list".into()));
            }
            url
        };
        Ok(Fhir::at(self.clone(), url))
    }
}

impl<V: FhirVersion> Fhir<V> {
    fn at(session: Session, base: Url) -> Self {
        let max_pages = session.client().config().max_pages;
        Fhir { session, base, max_pages, _version: PhantomData }
    }

    /// The FHIR base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The session whose token is sent.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The same calls with another bound on the pages one paginated read fetches.
    #[must_use]
    pub fn with_max_pages(mut self, pages: usize) -> Self {
        self.max_pages = pages.max(1);
        self
    }

    fn page_source(&self) -> PageSource {
        PageSource { session: self.session.clone(), home: self.base.clone(), max_pages: self.max_pages, strict: self.strict() }
    }

    pub(crate) fn strict(&self) -> bool {
        self.session.client().config().strict_reading
    }

    /// `{base}/{segments…}`; ids are checked and percent-encoded.
    fn url(&self, label: &str, segments: &[&str]) -> Result<Url> {
        checked_join(&self.base, label, segments)
    }

    /// Sends `call` with the bearer token; on 401, renews the token once and sends it again.
    pub(crate) async fn send(&self, call: Call) -> Result<Reply> {
        self.session.send_call(call).await
    }

    /// Sends and reads a `T` from a successful answer.
    async fn exchange<T: FhirJson>(&self, call: Call) -> Result<T> {
        self.exchange_response(call).await.map(ResponseValue::into_inner)
    }

    /// Sends and reads a `T` from a successful answer, with the answer's status and headers.
    async fn exchange_response<T: FhirJson>(&self, call: Call) -> Result<ResponseValue<T>> {
        let reply = self.send(call).await?;
        if !reply.is_success() {
            return Err(self.status_error(&reply));
        }
        let value = decode::fhir(&reply, self.strict())?;
        Ok(ResponseValue::new(reply.status, reply.headers, value))
    }

    /// An error answer as [`Error::Status`], with its `OperationOutcome` when the body is one.
    pub(crate) fn status_error(&self, reply: &Reply) -> Error {
        decode::fhir_status_error::<V>(reply)
    }

    /// `GET {base}/{type}/{id}`.
    pub async fn read<T: FhirResource<Version = V>>(&self, id: &str) -> Result<T> {
        self.read_response(id).await.map(ResponseValue::into_inner)
    }

    /// [`read`](Fhir::read), with the answer's status and headers (`ETag`, `Last-Modified`).
    pub async fn read_response<T: FhirResource<Version = V>>(&self, id: &str) -> Result<ResponseValue<T>> {
        let label = format!("read {}/{id}", T::RESOURCE_TYPE);
        let url = self.url(&label, &[T::RESOURCE_TYPE, id])?;
        self.exchange_response(Call::new(label, Method::GET, url).fhir_accept()).await
    }

    /// `POST {base}/{type}`: creates the resource; the server's copy (with `id` and `meta`) comes back.
    /// 1upHealth keeps an `id` set by the app; standard servers assign their own (see
    /// [`create_with_id`](Fhir::create_with_id)). Not retried (POST is not idempotent).
    pub async fn create<T: FhirResource<Version = V>>(&self, resource: &T) -> Result<T> {
        self.create_response(resource).await.map(ResponseValue::into_inner)
    }

    /// [`create`](Fhir::create), with the answer's status and headers (`Location`, `ETag`).
    pub async fn create_response<T: FhirResource<Version = V>>(&self, resource: &T) -> Result<ResponseValue<T>> {
        let label = format!("create {}", T::RESOURCE_TYPE);
        let url = self.url(&label, &[T::RESOURCE_TYPE])?;
        let call = Call::new(label, Method::POST, url).fhir_accept().fhir_body(resource.to_json());
        self.exchange_response(call.header(PREFER, "return=representation")).await
    }

    /// Creates a resource under the id the app chose (`resource.id`), as the client's
    /// [`AppChosenId`] setting says: POST with the id (1upHealth), or PUT to `{type}/{id}` (standard FHIR).
    pub async fn create_with_id<T: FhirResource<Version = V>>(&self, resource: &T) -> Result<T> {
        match self.session.client().config().app_chosen_id {
            AppChosenId::PostWithId => {
                if !matches!(resource.resource_id(), Some(id) if !id.is_empty()) {
                    let label = format!("create {} with an app-chosen id", T::RESOURCE_TYPE);
                    return Err(Error::InvalidArgument { request: label, message: "the resource has no id".into() });
                }
                self.create(resource).await
            }
            AppChosenId::Put => self.update(resource).await,
        }
    }

    /// `PUT {base}/{type}/{id}` with `resource.id`: updates (or, on servers that allow it, creates) the resource.
    pub async fn update<T: FhirResource<Version = V>>(&self, resource: &T) -> Result<T> {
        self.update_response(resource).await.map(ResponseValue::into_inner)
    }

    /// [`update`](Fhir::update), with the answer's status and headers (`ETag`, `Location`).
    pub async fn update_response<T: FhirResource<Version = V>>(&self, resource: &T) -> Result<ResponseValue<T>> {
        let id = match resource.resource_id() {
            Some(id) if !id.is_empty() => id,
            _ => {
                let request = format!("update {}", T::RESOURCE_TYPE);
                return Err(Error::InvalidArgument { request, message: "the resource has no id".into() });
            }
        };
        let label = format!("update {}/{id}", T::RESOURCE_TYPE);
        let url = self.url(&label, &[T::RESOURCE_TYPE, id])?;
        let call = Call::new(label, Method::PUT, url).fhir_accept().fhir_body(resource.to_json());
        self.exchange_response(call.header(PREFER, "return=representation")).await
    }

    /// `DELETE {base}/{type}/{id}`; the `OperationOutcome` when the server sent one.
    pub async fn delete<T: FhirResource<Version = V>>(&self, id: &str) -> Result<Option<V::OperationOutcome>> {
        let label = format!("delete {}/{id}", T::RESOURCE_TYPE);
        let url = self.url(&label, &[T::RESOURCE_TYPE, id])?;
        let reply = self.send(Call::new(label, Method::DELETE, url).fhir_accept()).await?;
        if !reply.is_success() {
            return Err(self.status_error(&reply));
        }
        if reply.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        decode::fhir(&reply, self.strict()).map(Some)
    }

    /// `POST {base}` with a `transaction` (or `batch`) Bundle; the response Bundle comes back.
    pub async fn transaction(&self, bundle: &V::Bundle) -> Result<V::Bundle> {
        let url = self.url("transaction", &[])?;
        let call = Call::new("transaction", Method::POST, url).fhir_accept().fhir_body(bundle.to_json());
        self.exchange(call).await
    }

    /// `GET {base}/{type}?params`: the first page of the search, as a Bundle. Follow its `next` link with
    /// [`pages_after`](Fhir::pages_after), or page from the start with [`search_pages`](Fhir::search_pages).
    /// A `_count` above the client's maximum (100) is lowered to it.
    pub async fn search<T: FhirResource<Version = V>>(&self, params: impl SearchParams) -> Result<V::Bundle> {
        let label = format!("search {}", T::RESOURCE_TYPE);
        let url = self.search_url(&label, T::RESOURCE_TYPE, &params)?;
        self.exchange(Call::new(label, Method::GET, url).fhir_accept()).await
    }

    /// Waits, within `policy`, until a search for `T` finds something, and hands back that first page: the
    /// connect guide's "The 1upHealth backend process retrieves the connected systems data into your user's
    /// permissions. This process can take a few moments to complete." Search for the data itself (e.g.
    /// `Patient`, `Condition`) or for the `AuditEvent`s of the transfer.
    ///
    /// Searches at once, then every `policy.default_interval` (a `Retry-After` of the server, up to
    /// `policy.max_interval`, is honored by the transport's retries); after `policy.max_wait` without a result it
    /// gives up with [`Error::DataNotReady`]. Errors of the search end the wait at once.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use fhir_models::dstu2::{Dstu2, Patient};
    /// use oneup_client::PollPolicy;
    /// # async fn demo(session: oneup_client::Session) -> oneup_client::Result<()> {
    /// let policy = PollPolicy { default_interval: Duration::from_secs(5), max_wait: Duration::from_secs(300), ..PollPolicy::default() };
    /// let first = session.fhir::<Dstu2>().wait_for_data::<Patient>([("_count", "10")], &policy).await?;
    /// # let _ = first; Ok(()) }
    /// ```
    pub async fn wait_for_data<T: FhirResource<Version = V>>(
        &self,
        params: impl SearchParams,
        policy: &PollPolicy,
    ) -> Result<V::Bundle> {
        let started = std::time::Instant::now();
        let interval = policy.default_interval.min(policy.max_interval);
        let mut polls = 0u32;
        loop {
            polls += 1;
            let page = self.search::<T>(&params).await?;
            let found = V::into_resources(page.clone()).into_iter().any(|r| T::from_resource(r).is_ok());
            if found {
                tracing::debug!(polls, elapsed_ms = started.elapsed().as_millis() as u64, "connected data arrived");
                return Ok(page);
            }
            if started.elapsed() + interval > policy.max_wait {
                let label = format!("wait for {}", T::RESOURCE_TYPE);
                let url = self.search_url(&label, T::RESOURCE_TYPE, &params)?;
                return Err(Error::DataNotReady {
                    request: format!("{label} (GET {})", display_url(&url)),
                    waited: started.elapsed(),
                    polls,
                });
            }
            tracing::debug!(polls, "no data yet; waiting");
            tokio::time::sleep(interval).await;
        }
    }

    /// The pages of a search, fetched lazily as the stream is polled (see [`Pages`] for the bounds).
    pub fn search_pages<T: FhirResource<Version = V>>(&self, params: impl SearchParams) -> Pages<V> {
        let label = format!("search {}", T::RESOURCE_TYPE);
        match self.search_url(&label, T::RESOURCE_TYPE, &params) {
            Ok(url) => Pages::<V>::start(self.page_source(), label, url),
            Err(e) => Pages::<V>::failed(e),
        }
    }

    /// The `T` resources of a search across all its pages, lazily. Entries of other types (from `_include`) are
    /// skipped: use `search_pages(..).resources()` to get them too.
    pub fn search_resources<T: FhirResource<Version = V>>(&self, params: impl SearchParams) -> Resources<T> {
        self.search_pages::<T>(params).resources_of::<T>()
    }

    /// The resources of a typed search (`PatientSearch`, `ObservationSearch`, … from `fhir-models`), across all
    /// pages, lazily: the resource type comes from the search.
    ///
    /// ```no_run
    /// use fhir_models::r4::{AdministrativeGender, Patient, PatientSearch, R4};
    /// use futures_util::TryStreamExt;
    /// # async fn demo(session: oneup_client::Session) -> oneup_client::Result<()> {
    /// let women = PatientSearch::new().gender().is(AdministrativeGender::Female);
    /// let found: Vec<Patient> = session.fhir::<R4>().find(&women).try_collect().await?;
    /// # let _ = found; Ok(()) }
    /// ```
    pub fn find<T: FhirResource<Version = V>>(&self, search: &fhir_models::search::Search<T>) -> Resources<T> {
        self.search_resources::<T>(search)
    }

    /// The pages after `page`, following its `next` link (nothing when it has none).
    pub fn pages_after(&self, page: &V::Bundle) -> Pages<V> {
        Pages::<V>::after(self.page_source(), "next page".into(), page)
    }

    /// `GET {base}/Patient/{id}/$everything`: every resource of the patient, page by page, lazily.
    pub fn everything(&self, patient_id: &str) -> Pages<V> {
        let label = format!("Patient/{patient_id}/$everything");
        match self.url(&label, &["Patient", patient_id, "$everything"]) {
            Ok(url) => Pages::<V>::start(self.page_source(), label, url),
            Err(e) => Pages::<V>::failed(e),
        }
    }

    /// The resources of [`everything`](Fhir::everything), one by one.
    pub fn everything_resources(&self, patient_id: &str) -> Resources<V::Resource> {
        self.everything(patient_id).resources()
    }

    /// `DELETE {base}/Patient/{id}/$everything`: deletes all of the patient's data; the server's
    /// `OperationOutcome` comes back.
    pub async fn delete_everything(&self, patient_id: &str) -> Result<V::OperationOutcome> {
        let label = format!("delete Patient/{patient_id}/$everything");
        let url = self.url(&label, &["Patient", patient_id, "$everything"])?;
        self.exchange(Call::new(label, Method::DELETE, url).fhir_accept()).await
    }

    /// `PUT {api}/fhir/{version}/Patient/{id}/_permission/{user}` with the app's keys as form data (the API
    /// reference's "Grant Permission to User": `https://api.1up.health/fhir/dstu2/Patient/patientid/_permission/{oneUpUserId}`,
    /// "Form Data Parameters" `client_id`, `client_secret`): lets another 1upHealth user see this patient's
    /// resources. The path is below the client's permission path (`/fhir/{version}`), whatever FHIR base this
    /// `Fhir` searches.
    pub async fn grant_permission(&self, patient_id: &str, user: &OneUpUserId) -> Result<Confirmation> {
        let keys = self.session.client().credentials().form_fields();
        let call = self.permission_call(Method::PUT, "grant", patient_id, user)?.form(&keys);
        confirmation(&self.send(call).await?)
    }

    /// `DELETE {api}/fhir/{version}/Patient/{id}/_permission/{user}` with the bearer header and no body (the API
    /// reference's "Revoke Permissions From User" lists only the bearer header): takes that access back.
    pub async fn revoke_permission(&self, patient_id: &str, user: &OneUpUserId) -> Result<Confirmation> {
        let call = self.permission_call(Method::DELETE, "revoke", patient_id, user)?;
        confirmation(&self.send(call).await?)
    }

    fn permission_call(&self, method: Method, verb: &str, patient_id: &str, user: &OneUpUserId) -> Result<Call> {
        let label = format!("{verb} permission on Patient/{patient_id} to user {user}");
        let config = self.session.client().config();
        let base = base_with_path(&config.api_base, &config.permission_path, V::NAME);
        let url = checked_join(&base, &label, &["Patient", patient_id, "_permission", user.as_str()])?;
        Ok(Call::new(label, method, url).json_accept())
    }

    fn search_url(&self, label: &str, resource_type: &str, params: &dyn SearchParams) -> Result<Url> {
        let mut url = self.url(label, &[resource_type])?;
        let pairs = params.query_pairs();
        if !pairs.is_empty() {
            let max = self.session.client().config().max_count;
            let mut query = url.query_pairs_mut();
            for (name, value) in &pairs {
                match value.trim().parse::<u64>() {
                    Ok(count) if name == "_count" && count > u64::from(max) => {
                        tracing::debug!(asked = count, sent = max, "_count lowered to the server's maximum");
                        query.append_pair(name, &max.to_string());
                    }
                    _ => {
                        query.append_pair(name, value);
                    }
                }
            }
        }
        Ok(url)
    }
}
