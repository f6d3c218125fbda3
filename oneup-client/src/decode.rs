//! Reading answers: the one place where a [`Reply`] becomes a typed value or a typed error. FHIR bodies (strict or
//! lenient, the model's `ParseError` kept as the source), `OperationOutcome`s of error answers, the JSON of the
//! user-management, connect and bulk-data calls, and 1upHealth's `{"success": …, "error": …}` shapes.
//!
//! Error bodies arrive here with every secret the request sent already cut out (see [`Reply`]).

use fhir_models::{FhirJson, FhirVersion, IssueKind, ParseError};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Outcome, Problem, Result};
use crate::transport::Reply;

/// How much of an unreadable answer's body a decode error keeps.
pub(crate) const BODY_EXCERPT: usize = 4096;

/// Reads a FHIR answer, strictly or leniently. Lenient problems are logged by kind and path (no values); a
/// resource of another type than expected, or text that is not FHIR JSON, is an [`Error::Fhir`] either way.
pub(crate) fn fhir<T: FhirJson>(reply: &Reply, strict: bool) -> Result<T> {
    let text = reply.text()?;
    if text.trim().is_empty() {
        return Err(reply.decode_error(format!("the answer has no body; a {} was expected", T::TYPE_NAME)));
    }
    fhir_text(text, strict).map_err(|e| reply.fhir_error(e))
}

/// Reads one FHIR JSON text as a `T` (see [`fhir`]); the error is the first problem that makes the text unusable.
pub(crate) fn fhir_text<T: FhirJson>(text: &str, strict: bool) -> std::result::Result<T, ParseError> {
    if strict {
        return T::from_json(text);
    }
    let read = T::from_json_lenient(text)?;
    // `Patient.resourceType` (another type than asked for) or `Resource` (a type not compiled in), not nested.
    let at_root = |path: &str| match path.split_once('.') {
        None => !path.contains('['),
        Some((root, rest)) => rest == "resourceType" && !root.contains('['),
    };
    if let Some(wrong) = read.issues.iter().find(|i| i.kind == IssueKind::UnknownResourceType && at_root(&i.path)) {
        return Err(ParseError { issue: Box::new(wrong.clone()) });
    }
    if !read.issues.is_empty() {
        let paths: Vec<&str> = read.issues.iter().take(5).map(|i| i.path.as_str()).collect();
        tracing::warn!(count = read.issues.len(), paths = ?paths, "the answer has elements this model could not take as they are");
    }
    Ok(read.value)
}

/// An error answer as [`Error::Status`], with its version-`V` `OperationOutcome` when the body is one.
pub(crate) fn fhir_status_error<V: FhirVersion>(reply: &Reply) -> Error {
    let problem = match outcome_in::<V>(reply) {
        Some(outcome) => Problem::OperationOutcome(Outcome::new::<V>(outcome)),
        None => reply.plain_problem(),
    };
    reply.status_error(problem)
}

/// The body's `OperationOutcome`, when it is one.
fn outcome_in<V: FhirVersion>(reply: &Reply) -> Option<V::OperationOutcome> {
    let value = reply.json().ok()?;
    if value.get("resourceType")?.as_str()? != "OperationOutcome" {
        return None;
    }
    fhir::<V::OperationOutcome>(reply, false).ok()
}

/// A JSON answer read as `T`; an error status becomes [`Error::Status`] with what the body says.
pub(crate) fn json<T: DeserializeOwned>(reply: &Reply) -> Result<T> {
    if !reply.is_success() {
        return Err(reply.status_error(reply.plain_problem()));
    }
    serde_json::from_slice(&reply.body).map_err(|e| reply.decode_error(format!("unexpected answer: {e}")))
}

/// The body as JSON; when it is not JSON, an error status becomes [`Error::Status`] and a success a decode
/// error.
pub(crate) fn json_value(reply: &Reply) -> Result<Value> {
    match reply.json() {
        Ok(v) => Ok(v),
        Err(_) if !reply.is_success() => Err(reply.status_error(reply.plain_problem())),
        Err(e) => Err(e),
    }
}

/// 1upHealth's verdict in a user-management body: `success`, when the body has a boolean one.
pub(crate) fn success_flag(body: &Value) -> Option<bool> {
    body.get("success").and_then(Value::as_bool)
}

/// The `error` text of a 1upHealth body of `reply` (`{"error": "…"}`, possibly with `"success": false`), with
/// the secrets the request sent cut out (a 2xx body is not redacted as a whole: it is data); `None` when there is
/// none or the body says `"success": true`.
pub(crate) fn one_up_error(reply: &Reply, body: &Value) -> Option<String> {
    let error = body.get("error")?;
    if success_flag(body) == Some(true) {
        return None;
    }
    Some(match error {
        Value::String(s) => reply.redactor.redact(s),
        Value::Null => String::new(),
        other => reply.redactor.redact(&other.to_string()),
    })
}

/// A 2xx answer read as `T` from `body`; any other status is an [`Error::Status`] with what the body says.
pub(crate) fn success_body<T: DeserializeOwned>(reply: &Reply, body: Value) -> Result<T> {
    if !reply.is_success() {
        return Err(reply.status_error(problem_of(reply, &body)));
    }
    serde_json::from_value(body).map_err(|e| reply.decode_error(format!("unexpected answer: {e}")))
}

/// What a JSON error body says: 1upHealth's `error` when present, else the plain reading.
pub(crate) fn problem_of(reply: &Reply, body: &Value) -> Problem {
    match one_up_error(reply, body) {
        Some(message) if !message.is_empty() => Problem::OneUp { message },
        _ => reply.plain_problem(),
    }
}

/// The raw readings of an answer every decoder above builds on.
impl Reply {
    /// The body as UTF-8 text.
    pub(crate) fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.body).map_err(|e| self.decode_error(format!("the body is not UTF-8: {e}")))
    }

    pub(crate) fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| self.decode_error(format!("malformed JSON: {e}")))
    }

    pub(crate) fn decode_error(&self, message: impl Into<String>) -> Error {
        Error::Decode { request: self.request.clone(), message: message.into(), body: self.body_excerpt() }
    }

    /// The model's error reading the body, kept as the source, with the body.
    pub(crate) fn fhir_error(&self, mut source: fhir_models::ParseError) -> Error {
        let issue = &mut source.issue;
        issue.message = self.redactor.redact(&issue.message);
        issue.path = self.redactor.redact(&issue.path);
        issue.dropped = issue.dropped.as_deref().map(|d| self.redactor.redact(d));
        Error::Fhir { request: self.request.clone(), source, body: self.body_excerpt() }
    }

    /// The first [`BODY_EXCERPT`] characters of the body, secrets cut out; `None` for an empty body.
    pub(crate) fn body_excerpt(&self) -> Option<String> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let text = self.redactor.redact(&String::from_utf8_lossy(&self.body));
        Some(text.chars().take(BODY_EXCERPT).collect())
    }

    /// An [`Error::Status`] for this answer, with `problem` read from the body.
    pub(crate) fn status_error(&self, problem: Problem) -> Error {
        Error::Status {
            request: self.request.clone(),
            status: self.status.as_u16(),
            problem,
            retry_after: self.retry_after(),
        }
    }

    /// What a non-FHIR error body says: an OAuth2 error, a 1upHealth `{"error": …}`, or text.
    pub(crate) fn plain_problem(&self) -> Problem {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Problem::Empty;
        }
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(&self.body) {
            let text = |key: &str| map.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            if let Some(error) = text("error") {
                return match text("error_description") {
                    Some(description) => Problem::OAuth { error, description: Some(description) },
                    None => Problem::OneUp { message: error },
                };
            }
            if let Some(message) = text("message") {
                return Problem::OneUp { message };
            }
        }
        // Cut the secrets out before shortening, so that no half of one is left.
        Problem::Text(self.redactor.redact(&String::from_utf8_lossy(&self.body)).chars().take(200).collect())
    }
}
