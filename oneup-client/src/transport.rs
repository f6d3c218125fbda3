//! One HTTP exchange with timeouts, bounded retries of idempotent requests, `Retry-After`, a body-size cap and
//! `tracing` events that carry no secret (no header, no body, no query string).

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use http::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::{Method, StatusCode};
use tracing::Instrument;
use url::Url;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::secret::{Redactor, Secret, SECRET_FIELDS};

pub(crate) const FHIR_JSON: &str = "application/fhir+json";
const FORM: &str = "application/x-www-form-urlencoded";
/// The most redirects one download follows.
const MAX_REDIRECTS: usize = 10;

/// One request, described before it is sent (and re-sent on retries).
#[derive(Clone)]
pub(crate) struct Call {
    /// `label (METHOD origin+path)`: what errors and logs call this request. No query string: it may hold
    /// search values or keys.
    pub name: String,
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    pub idempotent: bool,
    /// A timeout for this request instead of the client's (bulk-data downloads take longer).
    pub timeout: Option<Duration>,
    /// Whether redirects are followed (bulk-data downloads); the `Authorization` header is dropped when a
    /// redirect leads to another origin. Other calls never follow a redirect.
    pub follow_redirects: bool,
}

impl Call {
    pub fn new(label: impl fmt::Display, method: Method, url: Url) -> Self {
        let idempotent = matches!(method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS);
        let name = format!("{label} ({method} {})", display_url(&url));
        Call { name, method, url, headers: HeaderMap::new(), body: None, idempotent, timeout: None, follow_redirects: false }
    }

    /// Every secret this call sends (bearer token, secret form fields and query parameters), for cutting them out
    /// of the answer's text.
    pub fn redactor(&self) -> Redactor {
        let mut secrets = Vec::new();
        if let Some(value) = self.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            let token = value.split_once(' ').map_or(value, |(_, t)| t);
            secrets.push(token.trim().to_owned());
        }
        let is_secret = |(k, _): &(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)| SECRET_FIELDS.contains(&k.as_ref());
        secrets.extend(self.url.query_pairs().filter(is_secret).map(|(_, v)| v.into_owned()));
        let is_form = self.headers.get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(FORM.as_bytes()));
        if let (true, Some(body)) = (is_form, &self.body) {
            secrets.extend(url::form_urlencoded::parse(body).filter(is_secret).map(|(_, v)| v.into_owned()));
        }
        Redactor::new(secrets)
    }

    pub fn header(mut self, name: HeaderName, value: &'static str) -> Self {
        self.headers.insert(name, HeaderValue::from_static(value));
        self
    }

    pub fn bearer(mut self, token: &Secret) -> Result<Self> {
        let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose())).map_err(|_| Error::InvalidArgument {
            request: self.name.clone(),
            message: "the access token contains characters that cannot be sent in a header".into(),
        })?;
        value.set_sensitive(true);
        self.headers.insert(AUTHORIZATION, value);
        Ok(self)
    }

    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        self.headers.insert(CONTENT_TYPE, HeaderValue::from_static(FORM));
        self.body = Some(body.into_bytes());
        self
    }

    pub fn fhir_body(mut self, json: String) -> Self {
        self.headers.insert(CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        self.body = Some(json.into_bytes());
        self
    }

    pub fn json_accept(self) -> Self {
        self.header(ACCEPT, "application/json")
    }

    pub fn fhir_accept(self) -> Self {
        self.header(ACCEPT, FHIR_JSON)
    }
}

/// Origin and path of a URL: what may appear in errors and logs.
pub(crate) fn display_url(url: &Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

/// A complete answer. The body of an error answer (not 2xx) has had every secret the request sent cut out
/// already (see [`Redactor`]): whatever is read from it for an error is safe to show.
pub(crate) struct Reply {
    pub request: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub redactor: Redactor,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    pub fn retry_after(&self) -> Option<Duration> {
        parse_retry_after(self.headers.get(RETRY_AFTER)?.to_str().ok()?)
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// How one attempt ended, before retry decisions.
enum Attempt {
    Answered(reqwest::Response),
    ConnectFailed(reqwest::Error),
    Failed(Error),
}

/// An answer whose status and headers have arrived and whose body has not been read yet: what
/// [`Transport::open`] hands back so that large bodies (bulk-data files) can be read piece by piece.
pub(crate) struct Opened {
    pub request: String,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub response: reqwest::Response,
    /// The timeout in force for this request (for errors raised while reading the body).
    pub timeout: Duration,
    /// The secrets the request sent.
    pub redactor: Redactor,
}

impl Opened {
    /// The next piece of the body (`None` at its end), with read errors typed.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>> {
        match self.response.chunk().await {
            Ok(chunk) => Ok(chunk),
            Err(e) if e.is_timeout() => Err(Error::Timeout { request: self.request.clone(), timeout: self.timeout }),
            Err(e) => Err(Error::Transport {
                request: self.request.clone(),
                what: "the answer's body was cut short",
                source: e.without_url(),
            }),
        }
    }

    /// Reads the whole body, at most `limit` bytes.
    pub async fn read_all(mut self, limit: u64) -> Result<Reply> {
        if self.response.content_length().is_some_and(|len| len > limit) {
            return Err(Error::ResponseTooLarge { request: self.request, limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = self.chunk().await? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(Error::ResponseTooLarge { request: self.request, limit });
            }
            body.extend_from_slice(&chunk);
        }
        if !self.status.is_success() && !self.redactor.is_empty() {
            body = self.redactor.redact(&String::from_utf8_lossy(&body)).into_bytes();
        }
        Ok(Reply { request: self.request, status: self.status, headers: self.headers, body, redactor: self.redactor })
    }

}

/// The HTTP client shared by every call of a [`OneUpClient`](crate::OneUpClient).
#[derive(Clone)]
pub(crate) struct Transport {
    http: reqwest::Client,
    cfg: std::sync::Arc<Config>,
}

impl Transport {
    pub fn new(cfg: std::sync::Arc<Config>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(cfg.user_agent.clone())
            // A redirect could carry the bearer token elsewhere; the 1upHealth API does not redirect API calls.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {}", e.without_url())))?;
        Ok(Transport { http, cfg })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Sends `call`, retrying as the policy allows, and reads the whole answer (any status).
    pub async fn send(&self, call: &Call) -> Result<Reply> {
        let span = tracing::debug_span!("oneup_request", request = %call.name);
        async {
            let started = Instant::now();
            let opened = self.open_inner(call).await?;
            let reply = opened.read_all(self.cfg.max_response_bytes).await;
            match &reply {
                Ok(reply) => tracing::debug!(
                    status = reply.status.as_u16(),
                    bytes = reply.body.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "answered"
                ),
                Err(error) => tracing::debug!(error = %error, "failed"),
            }
            reply
        }
        .instrument(span)
        .await
    }

    /// Sends `call`, retrying as the policy allows, and hands back the answer once its status and headers have
    /// arrived; the body is left to the caller (see [`Opened::chunk`]). When the call follows redirects, each
    /// hop is a new request; one to another origin goes without the `Authorization` header.
    pub async fn open(&self, call: &Call) -> Result<Opened> {
        let span = tracing::debug_span!("oneup_request", request = %call.name);
        async {
            let mut hop = call.clone();
            let mut hops = 0;
            loop {
                let opened = self.open_inner(&hop).await?;
                let location = opened.headers.get(LOCATION).and_then(|v| v.to_str().ok());
                let (true, true, Some(location)) = (hop.follow_redirects, opened.status.is_redirection(), location)
                else {
                    return Ok(opened);
                };
                if opened.status == StatusCode::NOT_MODIFIED {
                    return Ok(opened);
                }
                let next = match hop.url.join(location.trim()) {
                    Ok(url) if matches!(url.scheme(), "http" | "https") => url,
                    _ => {
                        let reply = opened.read_all(self.cfg.max_response_bytes).await?;
                        return Err(reply.decode_error("the redirect's Location is not an http(s) URL"));
                    }
                };
                if hops >= MAX_REDIRECTS {
                    let reply = opened.read_all(self.cfg.max_response_bytes).await?;
                    return Err(reply.decode_error(format!("more than {MAX_REDIRECTS} redirects")));
                }
                if next.origin() != hop.url.origin() && hop.headers.remove(AUTHORIZATION).is_some() {
                    tracing::debug!(origin = %next.origin().ascii_serialization(), "redirect to another origin; the Authorization header is not sent there");
                }
                if opened.status == StatusCode::SEE_OTHER {
                    hop.method = Method::GET;
                    hop.body = None;
                }
                tracing::debug!(status = opened.status.as_u16(), to = %display_url(&next), "following a redirect");
                hop.name = format!("{} (redirected to {})", call.name, display_url(&next));
                hop.url = next;
                hops += 1;
            }
        }
        .instrument(span)
        .await
    }

    async fn open_inner(&self, call: &Call) -> Result<Opened> {
        let policy = &self.cfg.retry;
        let timeout = call.timeout.unwrap_or(self.cfg.timeout);
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let attempt = self.attempt(call, timeout).await;
            let may_retry = call.idempotent && attempts <= policy.max_retries;
            let backoff = policy
                .initial_backoff
                .saturating_mul(1u32 << (attempts - 1).min(16))
                .min(policy.max_backoff);
            match attempt {
                Attempt::Answered(mut response) => {
                    let status = response.status();
                    let headers = std::mem::take(response.headers_mut());
                    let redactor = call.redactor();
                    let opened = Opened { request: call.name.clone(), status, headers, response, timeout, redactor };
                    if !(may_retry && retryable_status(status)) {
                        return Ok(opened);
                    }
                    let retry_after = opened.headers.get(RETRY_AFTER).and_then(|v| parse_retry_after(v.to_str().ok()?));
                    let wait = match retry_after {
                        Some(wait) if wait > policy.max_retry_after => {
                            tracing::warn!(status = status.as_u16(), retry_after_s = wait.as_secs(), "Retry-After is longer than allowed; not retrying");
                            return Ok(opened);
                        }
                        Some(wait) => wait,
                        None => backoff,
                    };
                    drop(opened);
                    tracing::warn!(status = status.as_u16(), wait_ms = wait.as_millis() as u64, attempts, "retrying");
                    tokio::time::sleep(wait).await;
                }
                Attempt::ConnectFailed(source) => {
                    if !may_retry {
                        return Err(Error::Connect { request: call.name.clone(), attempts, source });
                    }
                    tracing::warn!(error = %source, wait_ms = backoff.as_millis() as u64, attempts, "could not connect; retrying");
                    tokio::time::sleep(backoff).await;
                }
                Attempt::Failed(error) => {
                    tracing::debug!(error = %error, "failed");
                    return Err(error);
                }
            }
        }
    }

    async fn attempt(&self, call: &Call, timeout: Duration) -> Attempt {
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .headers(call.headers.clone())
            .timeout(timeout);
        if let Some(body) = &call.body {
            request = request.body(body.clone());
        }
        match request.send().await {
            Ok(response) => Attempt::Answered(response),
            Err(e) => Attempt::from_send_error(call, e.without_url(), timeout),
        }
    }
}

impl Attempt {
    fn from_send_error(call: &Call, e: reqwest::Error, timeout: Duration) -> Attempt {
        if e.is_timeout() {
            Attempt::Failed(Error::Timeout { request: call.name.clone(), timeout })
        } else if e.is_connect() {
            Attempt::ConnectFailed(e)
        } else {
            Attempt::Failed(Error::Transport { request: call.name.clone(), what: "the request failed", source: e })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
        let wait = parse_retry_after(&later).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120), "{wait:?}");
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn names_hide_the_query() {
        let url = Url::parse("https://api.1up.health/user-management/v1/user?client_secret=s3cr3t").unwrap();
        let call = Call::new("list users", Method::GET, url);
        assert_eq!(call.name, "list users (GET https://api.1up.health/user-management/v1/user)");
        assert!(call.idempotent);
        assert!(!Call::new("x", Method::POST, Url::parse("http://h/").unwrap()).idempotent);
    }
}
