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
