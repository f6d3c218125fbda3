//! Lazy, bounded pagination over `Bundle.link[next]`.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use fhir_models::{FhirResource, FhirVersion};
use futures_core::Stream;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use http::Method;
use url::Url;

use crate::decode;
use crate::error::{Error, PagingStop, Result};
use crate::session::Session;
use crate::transport::Call;

/// The one stream type of the crate: the pages of a search, the resources across them, the systems of the
/// system-search host, the lines of a bulk-data file and the status events of an export are all `Items`, a
/// lazy [`Stream`] of `Result<T>` (nothing is fetched until it is polled). `K` only tells what kind of items
/// these are, so that pages of FHIR version `V` ([`Pages<V>`]) can offer [`resources`](Items::resources).
#[must_use = "streams do nothing unless polled"]
pub struct Items<T, K = ()> {
    inner: BoxStream<'static, Result<T>>,
    _kind: PhantomData<fn() -> K>,
}

/// The pages (Bundles) of a paginated read of FHIR version `V`. Each poll past the current page fetches the next.
///
/// Bounds:
/// - at most the client's `max_pages` pages (see [`Fhir::with_max_pages`](crate::Fhir::with_max_pages)); past
///   it the stream ends;
/// - a `next` link that repeats a page already read ends the stream with [`Error::Paging`]
///   ([`PagingStop::RepeatedLink`]), after the pages read so far;
/// - a `next` link to another origin than the FHIR base, and not on the client's allow-list
///   ([`ClientBuilder::allow_origin`](crate::ClientBuilder::allow_origin)), ends it with
///   [`PagingStop::ForeignOrigin`]: the bearer token is never sent there;
/// - after any error the stream ends.
pub type Pages<V> = Items<<V as FhirVersion>::Bundle, V>;

/// The resources of a paginated read, one by one (pages are fetched lazily as needed).
pub type Resources<T> = Items<T>;

impl<T, K> std::fmt::Debug for Items<T, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items").field("item", &std::any::type_name::<T>()).finish_non_exhaustive()
    }
}

impl<T, K> Stream for Items<T, K> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T: Send + 'static, K> Items<T, K> {
    pub(crate) fn new(inner: impl Stream<Item = Result<T>> + Send + 'static) -> Self {
        Items { inner: inner.boxed(), _kind: PhantomData }
    }

    /// A stream of one error.
    pub(crate) fn failed(error: Error) -> Self {
        Self::new(stream::once(async move { Err(error) }))
    }
}

/// Where pages come from: the session, the FHIR base the token belongs to, and the bounds.
#[derive(Clone)]
pub(crate) struct PageSource {
    pub session: Session,
    pub home: Url,
    pub max_pages: usize,
    pub strict: bool,
}

impl<V: FhirVersion> Items<V::Bundle, V> {
    pub(crate) fn start(source: PageSource, label: String, first: Url) -> Self {
        let mut walk = Walk::<V>::new(source, label);
        walk.seen.insert(first.to_string());
        walk.next = Some(first);
        walk.into_pages()
    }

    pub(crate) fn after(source: PageSource, label: String, page: &V::Bundle) -> Self {
        let mut walk = Walk::<V>::new(source, label);
        let base = walk.source.home.clone();
        walk.follow(page, &base, "the given page");
        walk.into_pages()
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
        Items::new(inner)
    }
}

/// The walk's state between pages.
struct Walk<V: FhirVersion> {
    source: PageSource,
    label: String,
    next: Option<Url>,
    seen: HashSet<String>,
    fetched: usize,
    stop: Option<Error>,
    done: bool,
    _v: PhantomData<fn() -> V>,
}

impl<V: FhirVersion> Walk<V> {
    fn new(source: PageSource, label: String) -> Self {
        Walk { source, label, next: None, seen: HashSet::new(), fetched: 0, stop: None, done: false, _v: PhantomData }
    }

    fn into_pages(self) -> Pages<V> {
        Items::new(stream::unfold(self, Walk::step))
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
        if self.fetched >= self.source.max_pages {
            tracing::info!(pages = self.fetched, request = %self.label, "page limit reached; paging stops");
            return None;
        }
        self.fetched += 1;
        let label = if self.fetched == 1 { self.label.clone() } else { format!("{} (page {})", self.label, self.fetched) };
        let call = Call::new(label, Method::GET, url.clone()).fhir_accept();
        let request = call.name.clone();
        let result = match self.source.session.send_call(call).await {
            Ok(reply) if reply.is_success() => decode::fhir::<V::Bundle>(&reply, self.source.strict),
            Ok(reply) => Err(decode::fhir_status_error::<V>(&reply)),
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
        if !self.source.session.client().config().may_follow(&self.source.home, &url) {
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
