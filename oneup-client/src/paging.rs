//! Lazy, bounded pagination over `Bundle.link[next]`.

use std::collections::HashSet;
use std::pin::Pin;
use std::task::{Context, Poll};

use fhir_models::{FhirResource, FhirVersion};
use futures_core::Stream;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use http::Method;
use url::Url;

use crate::error::{Error, PagingStop, Result};
use crate::fhir::{read_fhir, Fhir};
use crate::transport::Call;

/// The pages (Bundles) of a paginated read, as a [`Stream`]. Nothing is fetched until the stream is polled; each
/// poll past the current page fetches the next one.
///
/// Bounds:
/// - at most the client's `max_pages` pages (see [`Fhir::with_max_pages`]); past it the stream ends;
/// - a `next` link that repeats a page already read ends the stream with [`Error::Paging`]
///   ([`PagingStop::RepeatedLink`]), after the pages read so far;
/// - a `next` link to another origin than the FHIR base ends it with [`PagingStop::ForeignOrigin`]: the bearer
///   token is never sent there;
/// - after any error the stream ends.
#[must_use = "streams do nothing unless polled"]
pub struct Pages<V: FhirVersion> {
    inner: BoxStream<'static, Result<V::Bundle>>,
}

impl<V: FhirVersion> std::fmt::Debug for Pages<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

impl<V: FhirVersion> Stream for Pages<V> {
    type Item = Result<V::Bundle>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// The resources of a paginated read, one by one, as a [`Stream`] (pages are fetched lazily as needed).
#[must_use = "streams do nothing unless polled"]
pub struct Resources<T> {
    inner: BoxStream<'static, Result<T>>,
}

impl<T> std::fmt::Debug for Resources<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resources").finish_non_exhaustive()
    }
}

impl<T> Stream for Resources<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<V: FhirVersion> Pages<V> {
    pub(crate) fn start(fhir: Fhir<V>, label: String, first: Url) -> Self {
        let mut walk = Walk::new(fhir, label);
        walk.seen.insert(first.to_string());
        walk.next = Some(first);
        walk.into_pages()
    }

    pub(crate) fn after(fhir: Fhir<V>, label: String, page: &V::Bundle) -> Self {
        let mut walk = Walk::new(fhir, label);
        let base = walk.fhir.base_url().clone();
        walk.follow(page, &base, "the given page");
        walk.into_pages()
    }

    pub(crate) fn failed(error: Error) -> Self {
        Pages { inner: stream::once(async move { Err(error) }).boxed() }
    }

    /// Every resource of every page, in order.
    pub fn resources(self) -> Resources<V::Resource> {
        self.resources_picked(Some)
    }

    /// The resources of type `T`, in order; resources of other types are skipped.
    pub fn resources_of<T: FhirResource<Version = V>>(self) -> Resources<T> {
        self.resources_picked(|r| T::from_resource(r).ok())
    }

    fn resources_picked<T: Send + 'static>(self, pick: fn(V::Resource) -> Option<T>) -> Resources<T> {
        let inner = self
            .map_ok(move |page| stream::iter(V::into_resources(page).into_iter().filter_map(pick).map(Ok)))
            .try_flatten();
        Resources { inner: inner.boxed() }
    }
}

/// The walk's state between pages.
struct Walk<V: FhirVersion> {
    fhir: Fhir<V>,
    label: String,
    next: Option<Url>,
    seen: HashSet<String>,
    fetched: usize,
    stop: Option<Error>,
    done: bool,
}

impl<V: FhirVersion> Walk<V> {
    fn new(fhir: Fhir<V>, label: String) -> Self {
        Walk { fhir, label, next: None, seen: HashSet::new(), fetched: 0, stop: None, done: false }
    }

    fn into_pages(self) -> Pages<V> {
        Pages { inner: stream::unfold(self, Walk::step).boxed() }
    }

    async fn step(mut self) -> Option<(Result<V::Bundle>, Self)> {
        if self.done {
            return None;
        }
        if let Some(error) = self.stop.take() {
            self.done = true;
            return Some((Err(error), self));
        }
        let url = self.next.take()?;
        if self.fetched >= self.fhir.max_pages() {
            tracing::info!(pages = self.fetched, request = %self.label, "page limit reached; paging stops");
            return None;
        }
        self.fetched += 1;
        let label = if self.fetched == 1 { self.label.clone() } else { format!("{} (page {})", self.label, self.fetched) };
        let call = Call::new(label, Method::GET, url.clone()).fhir_accept();
        let request = call.name.clone();
        let result = match self.fhir.send(call).await {
            Ok(reply) if reply.is_success() => read_fhir::<V::Bundle>(&reply, self.fhir.strict()),
            Ok(reply) => Err(self.fhir.status_error(&reply)),
            Err(e) => Err(e),
        };
        match result {
            Ok(page) => {
                self.follow(&page, &url, &request);
                Some((Ok(page), self))
            }
            Err(e) => {
                self.done = true;
                Some((Err(e), self))
            }
        }
    }

    /// Takes the `next` link of `page` (read from `current`), if it is safe to follow.
    fn follow(&mut self, page: &V::Bundle, current: &Url, request: &str) {
        let Some(link) = V::next_link(page) else { return };
        let stop = |reason| Some(Error::Paging { request: request.to_owned(), reason });
        let url = match current.join(link) {
            Ok(url) => url,
            Err(_) => {
                self.stop = stop(PagingStop::InvalidLink);
                return;
            }
        };
        let origin = url.origin();
        if origin != self.fhir.base_url().origin() {
            tracing::warn!(origin = %origin.ascii_serialization(), "next link leads to another origin; not followed");
            self.stop = stop(PagingStop::ForeignOrigin(origin.ascii_serialization()));
            return;
        }
        if !self.seen.insert(url.to_string()) {
            tracing::warn!("next link repeats a page already read; not followed");
            self.stop = stop(PagingStop::RepeatedLink);
            return;
        }
        self.next = Some(url);
    }
}
