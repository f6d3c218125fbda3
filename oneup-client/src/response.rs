//! A successful answer with its status and headers next to the typed body (after progenitor's `ResponseValue`).

use std::ops::{Deref, DerefMut};

use http::header::{HeaderMap, CONTENT_LOCATION, ETAG, LAST_MODIFIED, LOCATION};
use http::StatusCode;

/// The typed body of a successful answer, with the answer's status and headers (`ETag`, `Location`,
/// `Last-Modified`, …). Derefs to the body.
///
/// ```no_run
/// use fhir_models::r4::{Patient, R4};
/// # async fn demo(session: oneup_client::Session) -> oneup_client::Result<()> {
/// let answer = session.fhir::<R4>().read_response::<Patient>("helloiamatestpatient").await?;
/// println!("{} etag={:?} last modified={:?}", answer.status(), answer.etag(), answer.last_modified());
/// let patient: Patient = answer.into_inner();
/// # let _ = patient; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ResponseValue<T> {
    status: StatusCode,
    headers: HeaderMap,
    inner: T,
}

impl<T> ResponseValue<T> {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, inner: T) -> Self {
        ResponseValue { status, headers, inner }
    }

    /// The HTTP status (2xx).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Every header of the answer.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// A header as text, when present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// `ETag` (e.g. `W/"2"`, the resource's version).
    pub fn etag(&self) -> Option<&str> {
        self.headers.get(ETAG)?.to_str().ok()
    }

    /// `Location` (a created resource's versioned URL), else `Content-Location`.
    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).or_else(|| self.headers.get(CONTENT_LOCATION))?.to_str().ok()
    }

    /// `Last-Modified`, as sent.
    pub fn last_modified(&self) -> Option<&str> {
        self.headers.get(LAST_MODIFIED)?.to_str().ok()
    }

    /// The body.
    pub fn body(&self) -> &T {
        &self.inner
    }

    /// The body, without status and headers.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Status, headers and body.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, T) {
        (self.status, self.headers, self.inner)
    }

    /// The same answer with its body changed by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> ResponseValue<U> {
        ResponseValue { status: self.status, headers: self.headers, inner: f(self.inner) }
    }
}

impl<T> Deref for ResponseValue<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for ResponseValue<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}
