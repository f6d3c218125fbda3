//! User management: list, create, update, new authorization code (the app's keys authenticate these calls).

use std::fmt;

use http::Method;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::client::OneUpClient;
use crate::decode;
use crate::error::{Problem, Result};
use crate::secret::Secret;
use crate::transport::{Call, Reply};

/// A 1upHealth user id. The API sends it as a number in some answers and as a string in others; both are read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OneUpUserId(String);

impl OneUpUserId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        OneUpUserId(id.into())
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OneUpUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<u64> for OneUpUserId {
    fn from(id: u64) -> Self {
        OneUpUserId(id.to_string())
    }
}

impl From<&str> for OneUpUserId {
    fn from(id: &str) -> Self {
        OneUpUserId(id.to_owned())
    }
}

impl<'de> Deserialize<'de> for OneUpUserId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        number_or_string(d, "a user id").map(OneUpUserId)
    }
}

/// An id that 1upHealth sends as a number in some answers and as a string in others, as text.
pub(crate) fn number_or_string<'de, D: Deserializer<'de>>(d: D, what: &str) -> std::result::Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!("{what} must be a number or a string, not {other}"))),
    }
}

/// One user of the app.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// 1upHealth's id of the user.
    pub oneup_user_id: OneUpUserId,
    /// The app's own id of the user.
    #[serde(default)]
    pub app_user_id: Option<String>,
    /// Whether the user is active.
    #[serde(default)]
    pub active: Option<bool>,
}

/// Which users [`OneUpClient::list_users`] asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only the user with this app user id.
    pub app_user_id: Option<String>,
    /// Only the user with this 1upHealth id.
    pub oneup_user_id: Option<OneUpUserId>,
}

impl UserFilter {
    /// Every user of the app.
    pub fn all() -> Self {
        UserFilter::default()
    }
    /// The user with this app user id.
    pub fn app_user_id(id: impl Into<String>) -> Self {
        UserFilter { app_user_id: Some(id.into()), ..UserFilter::default() }
    }
    /// The user with this 1upHealth id.
    pub fn oneup_user_id(id: impl Into<OneUpUserId>) -> Self {
        UserFilter { oneup_user_id: Some(id.into()), ..UserFilter::default() }
    }
}

/// A user with a fresh OAuth2 authorization code (from [`OneUpClient::create_user`] or
/// [`OneUpClient::new_auth_code`]). The code lives 7200 s; exchange it with [`OneUpClient::exchange_code`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssuedCode {
    /// The authorization code (a secret).
    #[serde(deserialize_with = "secret")]
    pub code: Secret,
    /// 1upHealth's id of the user.
    pub oneup_user_id: OneUpUserId,
    /// The app's own id of the user.
    #[serde(default)]
    pub app_user_id: Option<String>,
    /// Whether the user is active.
    #[serde(default)]
    pub active: Option<bool>,
}

fn secret<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

/// What [`OneUpClient::create_user`] got: a new user, or word that the user already exists (not an error: the
/// app can go on with [`OneUpClient::new_auth_code`]).
///
/// Decided by the server's status and `success`, never by the words of the message: a 2xx answer with
/// `"success": true` (or no `success`) and a `code` is [`Created`](CreatedUser::Created); the API reference's
/// "won't fail if the user already exists but rather will return error saying this user already exists" (a 2xx
/// answer with `"success": false`) and what 1upHealth answers in practice (HTTP 400 with an `error`) are
/// [`AlreadyExists`](CreatedUser::AlreadyExists). Any other status is an [`Error::Status`](crate::Error::Status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreatedUser {
    /// The user was created; here is its first authorization code.
    Created(IssuedCode),
    /// A user with this app user id exists already.
    AlreadyExists {
        /// The app user id asked for.
        app_user_id: String,
        /// The server's words (its `error`), for display only.
        message: String,
    },
}

/// The answer of calls that change a user or its permissions: `{"oneUpUserId": …, "success": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Confirmation {
    /// The user concerned (`oneUpUserId`, camelCase in these answers).
    #[serde(rename = "oneUpUserId", alias = "oneup_user_id", default)]
    pub oneup_user_id: Option<OneUpUserId>,
    /// Whether the server did it.
    pub success: bool,
}

const USER_PATH: [&str; 3] = ["user-management", "v1", "user"];

impl OneUpClient {
    /// `GET /user-management/v1/user`: the app's users, optionally filtered by `app_user_id` or `oneup_user_id`.
    /// No match is an empty list.
    ///
    /// As the API reference says ("receives authentication in the form of a http bearer authentication
    /// header"), the app authenticates with `Authorization: Bearer {client_secret}`; only the public `client_id`
    /// and the filter are in the query string, so the secret never lands in access logs or proxies. Both
    /// answers are read: the reference's user objects and what 1upHealth sends in practice,
    /// `{"success": true, "entry": [...]}`.
    pub async fn list_users(&self, filter: &UserFilter) -> Result<Vec<User>> {
        let mut url = self.user_url(&USER_PATH);
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("client_id", self.credentials().client_id());
            if let Some(id) = &filter.app_user_id {
                query.append_pair("app_user_id", id);
            }
            if let Some(id) = &filter.oneup_user_id {
                query.append_pair("oneup_user_id", id.as_str());
            }
        }
        let call = Call::new("list users", Method::GET, url).json_accept().bearer(self.credentials().client_secret())?;
        let reply = self.transport().send(&call).await?;
        let body = decode::json_value(&reply)?;
        if reply.is_success() || reply.status == 404 {
            if let Some(found) = users_in(&body) {
                return found.map_err(|e| reply.decode_error(format!("unexpected user entry: {e}")));
            }
        }
        match decode::one_up_error(&reply, &body) {
            // "Could not find a user matching this query."
            Some(_) if reply.is_success() || reply.status == 404 => Ok(Vec::new()),
            Some(_) => Err(reply.status_error(decode::problem_of(&reply, &body))),
            None if !reply.is_success() => Err(reply.status_error(reply.plain_problem())),
            None => Err(reply.decode_error("neither users nor an error")),
        }
    }

    /// `POST /user-management/v1/user` (form: `app_user_id`, `client_id`, `client_secret`, as the quick-start
    /// guide's curl sends them): creates a user and hands back its first authorization code. A user that exists
    /// already is [`CreatedUser::AlreadyExists`], not an error (see [`CreatedUser`] for how that is decided).
    pub async fn create_user(&self, app_user_id: &str) -> Result<CreatedUser> {
        self.create_user_inner(app_user_id, None).await
    }

    /// [`create_user`](OneUpClient::create_user) with a `scope` form field for the first code, e.g.
    /// `"openid user/*.*"`: the token endpoint only returns an `id_token` "if you include the openid scope when
    /// requesting for a code".
    pub async fn create_user_with_scope(&self, app_user_id: &str, scope: &str) -> Result<CreatedUser> {
        self.create_user_inner(app_user_id, Some(scope)).await
    }

    async fn create_user_inner(&self, app_user_id: &str, scope: Option<&str>) -> Result<CreatedUser> {
        let call = Call::new("create user", Method::POST, self.user_url(&USER_PATH))
            .json_accept()
            .form(&self.user_form(app_user_id, scope));
        let reply = self.transport().send(&call).await?;
        let body = decode::json_value(&reply)?;
        let success = decode::success_flag(&body);
        let exists = match reply.status.as_u16() {
            200..=299 => success == Some(false),
            400 => success != Some(true) && body.get("error").is_some(),
            _ => false,
        };
        if exists {
            let message = decode::one_up_error(&reply, &body).unwrap_or_default();
            return Ok(CreatedUser::AlreadyExists { app_user_id: app_user_id.to_owned(), message });
        }
        decode::success_body(&reply, body).map(CreatedUser::Created)
    }

    /// `PUT /user-management/v1/user` (form: `oneup_user_id`, the new `app_user_id`, the keys): changes the app
    /// user id of a user. The 1upHealth id cannot change.
    pub async fn update_user(&self, oneup_user_id: &OneUpUserId, new_app_user_id: &str) -> Result<Confirmation> {
        let keys = self.credentials().form_fields();
        let call = Call::new("update user", Method::PUT, self.user_url(&USER_PATH)).json_accept().form(&[
            ("oneup_user_id", oneup_user_id.as_str()),
            ("app_user_id", new_app_user_id),
            keys[0],
            keys[1],
        ]);
        let reply = self.transport().send(&call).await?;
        confirmation(&reply)
    }

    /// `POST /user-management/v1/user/auth-code` (form: `app_user_id`, the keys): a new authorization code for an
    /// existing user (valid 7200 s).
    pub async fn new_auth_code(&self, app_user_id: &str) -> Result<IssuedCode> {
        self.new_auth_code_inner(app_user_id, None).await
    }

    /// [`new_auth_code`](OneUpClient::new_auth_code) with a `scope` form field, e.g. `"openid user/*.*"` (the
    /// `id_token` is only returned when the code was asked for with the `openid` scope).
    pub async fn new_auth_code_with_scope(&self, app_user_id: &str, scope: &str) -> Result<IssuedCode> {
        self.new_auth_code_inner(app_user_id, Some(scope)).await
    }

    async fn new_auth_code_inner(&self, app_user_id: &str, scope: Option<&str>) -> Result<IssuedCode> {
        let url = self.user_url(&[USER_PATH[0], USER_PATH[1], USER_PATH[2], "auth-code"]);
        let call = Call::new("new auth code", Method::POST, url).json_accept().form(&self.user_form(app_user_id, scope));
        let reply = self.transport().send(&call).await?;
        let body = decode::json_value(&reply)?;
        if decode::success_flag(&body) == Some(false) || (reply.is_success() && decode::one_up_error(&reply, &body).is_some()) {
            return Err(reply.status_error(decode::problem_of(&reply, &body)));
        }
        decode::success_body(&reply, body)
    }

    /// `app_user_id`, the keys and, when given, `scope`.
    fn user_form<'a>(&'a self, app_user_id: &'a str, scope: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
        let keys = self.credentials().form_fields();
        let mut form = vec![("app_user_id", app_user_id), keys[0], keys[1]];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        form
    }
}

/// Reads a `{oneUpUserId, success}` answer; `success: false` (or an error status) is an error.
pub(crate) fn confirmation(reply: &Reply) -> Result<Confirmation> {
    let body = decode::json_value(reply)?;
    if !reply.is_success() || decode::one_up_error(reply, &body).is_some() {
        return Err(reply.status_error(decode::problem_of(reply, &body)));
    }
    let answer: Confirmation = decode::success_body(reply, body)?;
    if !answer.success {
        return Err(reply.status_error(Problem::OneUp { message: "the server answered success: false".into() }));
    }
    Ok(answer)
}

/// The users in a list answer: an array, `{"entry": [...]}`, or a single user object.
fn users_in(body: &Value) -> Option<std::result::Result<Vec<User>, serde_json::Error>> {
    let list = match body {
        Value::Array(_) => body,
        Value::Object(map) if map.contains_key("entry") => &map["entry"],
        Value::Object(map) if map.contains_key("oneup_user_id") => {
            return Some(User::deserialize(body).map(|u| vec![u]));
        }
        _ => return None,
    };
    Some(Vec::<User>::deserialize(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_read_from_numbers_and_strings() {
        let u: User = serde_json::from_str(r#"{"oneup_user_id": 251, "app_user_id": "a", "active": true}"#).unwrap();
        assert_eq!(u.oneup_user_id.as_str(), "251");
        let u: User = serde_json::from_str(r#"{"oneup_user_id": "251"}"#).unwrap();
        assert_eq!(u.oneup_user_id, OneUpUserId::from(251));
        assert!(serde_json::from_str::<User>(r#"{"oneup_user_id": true}"#).is_err());
    }

    #[test]
    fn issued_codes_hide_the_code() {
        let c: IssuedCode = serde_json::from_str(r#"{"success":true,"code":"accesscode","oneup_user_id":251}"#).unwrap();
        assert_eq!(c.code.expose(), "accesscode");
        assert!(!format!("{c:?}").contains("accesscode"));
    }
}
