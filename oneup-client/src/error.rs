//! Typed errors. Every error names the request it belongs to (`read Patient/p1 (GET http://…/r4/Patient/p1)`),
//! carries what the server said when it said something (an `OperationOutcome`, a 1upHealth `{"error": …}` body, an
//! OAuth2 error), and never contains a secret: no token, key or authorization code, and no URL query string.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use fhir_models::FhirVersion;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An `OperationOutcome` the server sent with an error, kept typed.
///
/// The outcome's type depends on the FHIR version; [`Outcome::get`] hands it back as that version's type, and
/// [`Outcome::summary`] gives a one-line text of its issues for any version.
#[derive(Clone)]
pub struct Outcome {
    summary: String,
    typed: Arc<dyn Any + Send + Sync>,
}

impl Outcome {
    pub(crate) fn new<V: FhirVersion>(outcome: V::OperationOutcome) -> Self {
        Outcome { summary: V::outcome_summary(&outcome), typed: Arc::new(outcome) }
    }

    /// Severity, code and diagnostics of each issue, on one line.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// The outcome as version `V`'s `OperationOutcome`; `None` when it was read as another version.
    pub fn get<V: FhirVersion>(&self) -> Option<&V::OperationOutcome> {
        self.typed.downcast_ref()
    }
}

impl fmt::Debug for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Outcome").field(&self.summary).finish()
    }
}

/// What the server said was wrong, in the forms the 1upHealth API uses.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Problem {
    /// A FHIR `OperationOutcome`.
    OperationOutcome(Outcome),
    /// A 1upHealth JSON error: `{"success": false, "error": "…"}` or `{"error": "…"}`.
    OneUp {
        /// The `error` text.
        message: String,
    },
    /// An OAuth2 error answer (RFC 6749 §5.2).
    OAuth {
        /// The error code, e.g. `invalid_grant`.
        error: String,
        /// `error_description`, when sent.
        description: Option<String>,
    },
    /// Any other body: its first 200 characters.
    Text(String),
    /// No body.
    Empty,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::OperationOutcome(o) => write!(f, ": OperationOutcome: {}", o.summary()),
            Problem::OneUp { message } => write!(f, ": {message}"),
            Problem::OAuth { error, description: Some(d) } => write!(f, ": {error}: {d}"),
            Problem::OAuth { error, description: None } => write!(f, ": {error}"),
            Problem::Text(text) => write!(f, ": {text}"),
            Problem::Empty => Ok(()),
        }
    }
}

/// Why a paginated read stopped before the server said it was done.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PagingStop {
    /// The `next` link pointed to a page already read: following it would loop forever.
    RepeatedLink,
    /// The `next` link pointed to another origin (scheme, host, port) than the FHIR server; the bearer token is
    /// never sent there. The origin is given, without path or query.
    ForeignOrigin(String),
    /// The `next` link is not a URL.
    InvalidLink,
}

impl fmt::Display for PagingStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PagingStop::RepeatedLink => f.write_str("the `next` link repeats a page already read"),
            PagingStop::ForeignOrigin(o) => {
                write!(f, "the `next` link leads to another origin ({o}); the token is only sent to the FHIR server")
            }
            PagingStop::InvalidLink => f.write_str("the `next` link is not a valid URL"),
        }
    }
}

/// Why the redirect back from an authorization server was not accepted (see
/// [`Payer::complete`](crate::Payer::complete)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizationProblem {
    /// The `state` in the redirect is not the one sent: the redirect may be forged (CSRF); the code is not used.
    StateMismatch,
    /// The redirect has no `state` although one was sent.
    MissingState,
    /// The redirect has neither a `code` nor an `error`.
    MissingCode,
    /// The redirect URL cannot be read, or is not at the app's `redirect_uri`.
    NotTheRedirect(String),
    /// The authorization server (or the member) refused: the redirect carries `error`.
    Denied {
        /// The OAuth2 error code, e.g. `access_denied`.
        error: String,
        /// `error_description`, when sent.
        description: Option<String>,
    },
}

impl fmt::Display for AuthorizationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthorizationProblem::StateMismatch => {
                f.write_str("the `state` of the redirect is not the one sent; the code was not used")
            }
            AuthorizationProblem::MissingState => f.write_str("the redirect has no `state` although one was sent"),
            AuthorizationProblem::MissingCode => f.write_str("the redirect has neither a `code` nor an `error`"),
            AuthorizationProblem::NotTheRedirect(why) => write!(f, "not the redirect expected: {why}"),
            AuthorizationProblem::Denied { error, description: Some(d) } => write!(f, "authorization refused: {error}: {d}"),
            AuthorizationProblem::Denied { error, description: None } => write!(f, "authorization refused: {error}"),
        }
    }
}

/// Everything that can go wrong. `request` names the call, e.g. `create user (POST http://…/user-management/v1/user)`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client was configured with something unusable (a host that is not a URL, …).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An argument cannot be sent (an empty resource id, a resource without the id the call needs, …).
    #[error("{request}: {message}")]
    InvalidArgument {
        /// The call.
        request: String,
        /// What is wrong with the argument.
        message: String,
    },
    /// No complete answer within the configured timeout.
    #[error("{request}: no complete answer within {timeout:?}")]
    Timeout {
        /// The call.
        request: String,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// The server could not be reached (after the retries allowed for this request).
    #[error("{request}: could not connect after {attempts} attempt(s): {source}")]
    Connect {
        /// The call.
        request: String,
        /// How many times the request was tried.
        attempts: u32,
        /// The underlying error (without the URL).
        #[source]
        source: reqwest::Error,
    },
    /// The exchange failed half-way: the connection closed early, the body was cut short, ….
    #[error("{request}: {what}: {source}")]
    Transport {
        /// The call.
        request: String,
        /// What was going on.
        what: &'static str,
        /// The underlying error (without the URL).
        #[source]
        source: reqwest::Error,
    },
    /// The answer was larger than the configured cap; it was not read further.
    #[error("{request}: the answer is larger than the {limit}-byte cap")]
    ResponseTooLarge {
        /// The call.
        request: String,
        /// The cap, in bytes.
        limit: u64,
    },
    /// The server answered with an error status.
    #[error("{request}: HTTP {status}{problem}")]
    Status {
        /// The call.
        request: String,
        /// The HTTP status.
        status: u16,
        /// What the body said.
        problem: Problem,
        /// The server's `Retry-After`, when it sent one (after the retries allowed were spent).
        retry_after: Option<Duration>,
    },
    /// The OAuth2 token endpoint refused the grant (a used or expired code, a revoked refresh token, bad keys).
    #[error("{request}: the token endpoint refused the grant: {error}{}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    GrantRefused {
        /// The call.
        request: String,
        /// The OAuth2 error code, e.g. `invalid_grant`.
        error: String,
        /// `error_description`, when sent.
        description: Option<String>,
    },
    /// The answer arrived but is not what the call expects (malformed JSON, not the shape the guides give, …).
    #[error("{request}: unreadable answer: {message}")]
    Decode {
        /// The call.
        request: String,
        /// What is wrong, with the JSON position when known.
        message: String,
        /// The body as received (its first 4096 characters, every secret the request sent cut out); `None` when
        /// empty or not from an answer.
        body: Option<String>,
    },
    /// A FHIR answer the models could not read (strictly: the first problem; leniently: text that is not FHIR
    /// JSON, or a resource of another type than asked for). The model's [`ParseError`](fhir_models::ParseError)
    /// is the source, with its FHIR path.
    #[error("{request}: unreadable FHIR answer: {source}")]
    Fhir {
        /// The call.
        request: String,
        /// What the model found, with the FHIR path, line and column.
        #[source]
        source: fhir_models::ParseError,
        /// The body as received (its first 4096 characters, secrets cut out).
        body: Option<String>,
    },
    /// A SMART Backend Services signing key (PEM or JWK) or algorithm that cannot be used. The message names what
    /// is wrong, never key material.
    #[error("signing key ({what}): {message}")]
    SigningKey {
        /// What was being read: `PEM key`, `JWK`, `JWKS`, `algorithm`, ….
        what: String,
        /// What is wrong.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The access token was refused or has expired and there is no refresh token to renew it.
    #[error("{request}: the access token is no longer valid and there is no refresh token to renew it")]
    NoRefreshToken {
        /// The call.
        request: String,
    },
    /// The redirect back from the authorization server was not accepted (state mismatch, refusal, no code).
    #[error("{request}: {problem}")]
    Authorization {
        /// The step, e.g. `complete payer launch`.
        request: String,
        /// What is wrong.
        problem: AuthorizationProblem,
    },
    /// One line of a bulk-data NDJSON file could not be read as a resource. Only that line is lost: the stream
    /// of the file goes on with the next line.
    #[error("{file}, line {line}: {message}")]
    NdjsonLine {
        /// The file: its resource type and URL (without query).
        file: String,
        /// The line number, from 1.
        line: u64,
        /// What is wrong with the line, with the FHIR path or JSON position when known.
        message: String,
    },
    /// A bulk-data export was still running when the client stopped waiting for it. The export goes on on the
    /// server: wait again, or cancel it.
    #[error("{request}: the export was not complete after {waited:?} ({polls} status polls; last progress: {progress})")]
    ExportNotReady {
        /// The status request.
        request: String,
        /// How long the client waited.
        waited: Duration,
        /// How many times the status was asked for.
        polls: u32,
        /// The last `X-Progress` the server sent (empty when none).
        progress: String,
    },
    /// Connected data had not arrived when the client stopped waiting for it (see
    /// [`Fhir::wait_for_data`](crate::Fhir::wait_for_data)): 1upHealth may still be pulling it from the health
    /// system.
    #[error("{request}: no data after {waited:?} ({polls} searches)")]
    DataNotReady {
        /// The search that was repeated.
        request: String,
        /// How long the client waited.
        waited: Duration,
        /// How many times it searched.
        polls: u32,
    },
    /// A paginated read stopped because following the server's `next` link would be unsafe or endless.
    #[error("{request}: paging stopped: {reason}")]
    Paging {
        /// The call that returned the page with the link.
        request: String,
        /// Why.
        reason: PagingStop,
    },
    /// An export directory could not be read or written (see [`Bulk::export_to`](crate::Bulk::export_to)).
    #[error("export directory {path}: {what}: {source}")]
    ExportIo {
        /// The file or directory.
        path: String,
        /// What was being done.
        what: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An export directory's state file cannot be used (unreadable JSON, or from another export).
    #[error("export directory {path}: {message}")]
    ExportState {
        /// The state file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// The HTTP status, for [`Error::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// What the server said, for [`Error::Status`].
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Status { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The server's `Retry-After`: on [`Error::Status`] when the server sent one (after the retries allowed were
    /// spent, or when it asked for a longer wait than the client's `max_retry_after`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether the credentials were refused: HTTP 401 or 403, a token endpoint that refused the grant
    /// (`invalid_grant`, `invalid_client`, …), or a refused token with no refresh token to renew it. The user
    /// (or the app's keys) must authorize again; retrying will not help.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, Error::Status { status: 401 | 403, .. } | Error::GrantRefused { .. } | Error::NoRefreshToken { .. })
    }

    /// Whether the same request may work later: a timeout, a connection failure, a cut-short answer, or HTTP
    /// 408, 429, 500, 502, 503, 504 (see [`retry_after`](Error::retry_after) for how long the server asked to
    /// wait).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Timeout { .. }
                | Error::Connect { .. }
                | Error::Transport { .. }
                | Error::Status { status: 408 | 429 | 500 | 502 | 503 | 504, .. }
        )
    }

    /// The body of an unreadable answer ([`Error::Decode`], [`Error::Fhir`]): its first 4096 characters, with
    /// every secret the request sent cut out.
    pub fn body(&self) -> Option<&str> {
        match self {
            Error::Decode { body, .. } | Error::Fhir { body, .. } => body.as_deref(),
            _ => None,
        }
    }

    /// The server's `OperationOutcome` as version `V`'s type, when the error carries one.
    pub fn operation_outcome<V: FhirVersion>(&self) -> Option<&V::OperationOutcome> {
        match self.problem() {
            Some(Problem::OperationOutcome(o)) => o.get::<V>(),
            _ => None,
        }
    }

    /// Whether this error concerns one NDJSON line only ([`Error::NdjsonLine`]): the stream it came from goes on.
    pub fn is_line_error(&self) -> bool {
        matches!(self, Error::NdjsonLine { .. })
    }

    /// The request this error belongs to, when there is one.
    pub fn request(&self) -> Option<&str> {
        match self {
            Error::Config(_) | Error::SigningKey { .. } | Error::ExportIo { .. } | Error::ExportState { .. } => None,
            Error::InvalidArgument { request, .. }
            | Error::Timeout { request, .. }
            | Error::Connect { request, .. }
            | Error::Transport { request, .. }
            | Error::ResponseTooLarge { request, .. }
            | Error::Status { request, .. }
            | Error::GrantRefused { request, .. }
            | Error::Decode { request, .. }
            | Error::Fhir { request, .. }
            | Error::NoRefreshToken { request }
            | Error::Paging { request, .. }
            | Error::Authorization { request, .. }
            | Error::ExportNotReady { request, .. }
            | Error::DataNotReady { request, .. } => Some(request),
            Error::NdjsonLine { file, .. } => Some(file),
        }
    }
}
