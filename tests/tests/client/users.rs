//! User management against a scripted 1upHealth (wiremock): request shapes and answer parsing.

use crate::support::*;
use oneup_client::{CreatedUser, Error, OneUpUserId, Problem, UserFilter};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const USER_PATH: &str = "/user-management/v1/user";

#[tokio::test]
async fn create_user_posts_the_form_and_reads_the_code() {
    // Quick start: `curl -X POST "https://api.1up.health/user-management/v1/user" -d "app_user_id=myappsuserid"
    // -d "client_id=clientidclientidclientid" -d "client_secret=clientsecretclientsecret"`
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(USER_PATH))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(FormKeys(&["app_user_id", "client_id", "client_secret"]))
        .and(FormField("app_user_id", "myappsuserid"))
        .and(FormField("client_id", CLIENT_ID))
        .and(FormField("client_secret", CLIENT_SECRET))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "code": "accesscodeaccesscodeaccesscode", "oneup_user_id": 251,
            "app_user_id": "myappsuserid", "active": true
        })))
        .expect(1)
        .mount(&server)
        .await;

    let created = client(&server).create_user("myappsuserid").await.unwrap();
    let CreatedUser::Created(user) = created else { panic!("expected a new user, got {created:?}") };
    assert_eq!(user.code.expose(), "accesscodeaccesscodeaccesscode");
    assert_eq!(user.oneup_user_id, OneUpUserId::from(251));
    assert_eq!(user.app_user_id.as_deref(), Some("myappsuserid"));
    assert_eq!(user.active, Some(true));
    assert_no_secret(&format!("{user:?}"));
}

#[tokio::test]
async fn an_existing_user_is_an_outcome_not_an_error() {
    for status in [200, 400] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(USER_PATH))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(json!({"success": false, "error": "this user already exists"})),
            )
            .mount(&server)
            .await;
        match client(&server).create_user("myappsuserid").await.unwrap() {
            CreatedUser::AlreadyExists { app_user_id, message } => {
                assert_eq!(app_user_id, "myappsuserid");
                assert_eq!(message, "this user already exists");
            }
            other => panic!("status {status}: expected AlreadyExists, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_refused_create_is_a_typed_error_naming_the_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(USER_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"success": false, "error": "invalid client"})))
        .mount(&server)
        .await;
    let err = client(&server).create_user("u1").await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(matches!(err.problem(), Some(Problem::OneUp { message }) if message == "invalid client"), "{err:?}");
    let text = err.to_string();
    assert!(text.starts_with(&format!("create user (POST {}{USER_PATH}): HTTP 401", server.uri())), "{text}");
    assert_no_secret(&text);
    assert_no_secret(&format!("{err:?}"));
}

#[tokio::test]
async fn list_users_sends_a_bearer_and_reads_the_entry_array() {
    // API reference, "Get Users": "This endpoint receives authentication in the form of a http bearer
    // authentication header." No secret in the query string. 1upHealth answers `{"success": true, "entry": [...]}`.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(USER_PATH))
        .and(header("authorization", format!("Bearer {CLIENT_SECRET}").as_str()))
        .and(query_param("client_id", CLIENT_ID))
        .and(query_param_is_missing("client_secret"))
        .and(query_param_is_missing("app_user_id"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true, "entry": [
            {"oneup_user_id": "251", "app_user_id": "a", "active": true},
            {"oneup_user_id": 252, "app_user_id": "b", "active": false}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let users = client(&server).list_users(&UserFilter::all()).await.unwrap();
    let ids: Vec<&str> = users.iter().map(|u| u.oneup_user_id.as_str()).collect();
    assert_eq!(ids, ["251", "252"]);
    assert_eq!(users[1].active, Some(false));
}

#[tokio::test]
async fn list_users_filters_and_no_match_is_empty() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(USER_PATH))
        .and(query_param("app_user_id", "someone"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"oneup_user_id": 7, "app_user_id": "someone"}])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(USER_PATH))
        .and(query_param("oneup_user_id", "999"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"error": "Could not find a user matching this query."})),
        )
        .mount(&server)
        .await;
    let client = client(&server);
    let found = client.list_users(&UserFilter::app_user_id("someone")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].oneup_user_id.as_str(), "7");
    let none = client.list_users(&UserFilter::oneup_user_id(999u64)).await.unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn list_users_with_a_malformed_answer_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(USER_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"entry\": [", "application/json"))
        .mount(&server)
        .await;
    let err = client(&server).list_users(&UserFilter::all()).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert!(err.to_string().contains("list users (GET"), "{err}");
    assert!(err.to_string().contains("malformed JSON"), "{err}");
    assert_no_secret(&err.to_string());
}

#[tokio::test]
async fn update_user_puts_the_form_and_reads_camel_case() {
    // API reference, "Update User": "Can be used to modify an existing user object. It is possible to modify
    // the app_user_id" … "User successfully updated. {"oneUpUserId" : 123456789, "success" : true}"
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(USER_PATH))
        .and(FormKeys(&["oneup_user_id", "app_user_id", "client_id", "client_secret"]))
        .and(FormField("oneup_user_id", "123456789"))
        .and(FormField("app_user_id", "renamed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"oneUpUserId": 123456789, "success": true})))
        .expect(1)
        .mount(&server)
        .await;
    let done = client(&server).update_user(&OneUpUserId::from(123456789), "renamed").await.unwrap();
    assert_eq!(done.oneup_user_id, Some(OneUpUserId::from(123456789)));
    assert!(done.success);
}

#[tokio::test]
async fn update_user_with_success_false_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path(USER_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"oneUpUserId": 1, "success": false})))
        .mount(&server)
        .await;
    let err = client(&server).update_user(&OneUpUserId::new("1"), "x").await.unwrap_err();
    assert!(err.to_string().contains("update user (PUT"), "{err}");
    assert!(err.to_string().contains("success: false"), "{err}");
}

#[tokio::test]
async fn new_auth_code_posts_to_auth_code() {
    // API reference, "Generate User Authorization Code": `https://api.1up.health/user-management/v1/user/auth-code`,
    // `{"client_id" : "string", "app_user_id" : "string", "client_secret" : "string"}` as form data.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{USER_PATH}/auth-code")))
        .and(FormKeys(&["app_user_id", "client_id", "client_secret"]))
        .and(FormField("app_user_id", "myappsuserid"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "success": true, "code": "accesscodeaccesscodeaccesscode", "oneup_user_id": "251", "app_user_id": "myappsuserid"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let issued = client(&server).new_auth_code("myappsuserid").await.unwrap();
    assert_eq!(issued.code.expose(), "accesscodeaccesscodeaccesscode");
    assert_eq!(issued.oneup_user_id.as_str(), "251");
}

#[tokio::test]
async fn new_auth_code_for_an_unknown_user_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{USER_PATH}/auth-code")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": false, "error": "no such user"})))
        .mount(&server)
        .await;
    let err = client(&server).new_auth_code("ghost").await.unwrap_err();
    assert!(matches!(err.problem(), Some(Problem::OneUp { message }) if message == "no such user"), "{err:?}");
}
