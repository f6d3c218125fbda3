//! Secrets (app keys, tokens, authorization codes) that never show in `Debug`, errors or logs.

use std::fmt;
use std::sync::Arc;

/// A secret string: a client secret, an access or refresh token, an authorization code.
///
/// `Debug` and `Display` print `Secret(***)`; the value is only reachable through [`Secret::expose`], so it cannot
/// end up in a log line or an error message by accident. Cloning is cheap.
///
/// ```
/// use oneup_client::Secret;
/// let token = Secret::new("add72ae475214adc83ea227c21fee0e5");
/// assert_eq!(format!("{token:?}"), "Secret(***)");
/// assert_eq!(token.expose(), "add72ae475214adc83ea227c21fee0e5");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::from(value.into()))
    }

    /// The secret value, for sending it where it belongs (a request body or an `Authorization` header) or for
    /// storing it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// The app's keys from the 1upHealth developer console.
///
/// ```
/// use oneup_client::AppCredentials;
/// let keys = AppCredentials::new("clientidclientidclientid", "clientsecretclientsecret");
/// assert_eq!(keys.client_id(), "clientidclientidclientid");
/// assert!(!format!("{keys:?}").contains("clientsecret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AppCredentials {
    client_id: String,
    client_secret: Secret,
}

impl AppCredentials {
    /// The app's `client_id` and `client_secret`.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<Secret>) -> Self {
        AppCredentials { client_id: client_id.into(), client_secret: client_secret.into() }
    }

    /// The public `client_id`.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The `client_secret`.
    pub fn client_secret(&self) -> &Secret {
        &self.client_secret
    }

    /// The keys as form fields (`client_id`, `client_secret`), as every user-management call sends them.
    pub(crate) fn form_fields(&self) -> [(&'static str, &str); 2] {
        [("client_id", &self.client_id), ("client_secret", self.client_secret.expose())]
    }
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .finish()
    }
}

/// The secrets one request sent (its bearer token; the `client_secret`, `code`, `refresh_token`, `code_verifier`
/// and `access_token` of its form body or query), to be cut out of whatever the server answers before that text
/// reaches an error or a log: a server that echoes a request back must not put a token into a `Display`.
#[derive(Clone, Default)]
pub(crate) struct Redactor(Arc<[String]>);

/// The form fields and query parameters whose values are secrets.
pub(crate) const SECRET_FIELDS: [&str; 7] =
    ["client_secret", "code", "refresh_token", "code_verifier", "access_token", "id_token", "client_assertion"];

/// What a secret is replaced with.
pub(crate) const REDACTED: &str = "***";

impl Redactor {
    /// Secrets shorter than this are not searched for: cutting out every `a` would destroy the text and hide
    /// nothing (real tokens and keys are far longer).
    const MIN_LEN: usize = 6;

    pub(crate) fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut all: Vec<String> = Vec::new();
        for secret in secrets {
            if secret.len() < Self::MIN_LEN {
                continue;
            }
            // The echo may be of the encoded form (a form body, a query string).
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            let escaped = percent_encoding::utf8_percent_encode(&secret, percent_encoding::NON_ALPHANUMERIC).to_string();
            for s in [secret, encoded, escaped] {
                if !all.contains(&s) {
                    all.push(s);
                }
            }
        }
        // Longest first, so that a secret containing another is cut whole.
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor(all.into())
    }

    /// `text` with every secret replaced by `***`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in self.0.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// Whether there is anything to cut.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_cuts_plain_and_encoded_forms() {
        let r = Redactor::new(["s3cr3t/+=value".to_owned(), "abc".to_owned()]);
        let text = "got s3cr3t/+=value and s3cr3t%2F%2B%3Dvalue and abc";
        assert_eq!(r.redact(text), "got *** and *** and abc");
    }
}
