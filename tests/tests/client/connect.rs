//! Connecting health systems against wiremock: provider search (a Bundle of Organizations with the logo
//! extension), the supported-systems list and its filters, the system-search host's pages of 20 as a stream,
//! and the connect link and iframe page URL.

use crate::support::*;
use futures_util::{StreamExt, TryStreamExt};
use oneup_client::{ClinicalSystemFilter, ConnectLink, Error, Secret, SystemId, SystemSummary};
use serde_json::{json, Value};
use wiremock::matchers::{body_string, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn organization(id: &str, name: &str, logo: Option<Value>) -> Value {
    let mut org = json!({"resourceType": "Organization", "id": id, "name": name});
    if let Some(logo) = logo {
        org["extension"] = json!([{"url": "http://example.org/other", "valueString": "not a logo"}, logo]);
    }
    org
}

#[tokio::test]
async fn provider_search_reads_organizations_ids_and_logos() {
    let server = MockServer::start().await;
    let found = bundle(
        &[
            organization("4894", "Michigan Medicine", Some(json!({"url": "https://1up.health/fhir/StructureDefinition/logo", "valueUrl": "https://cdn.example/mm.png"}))),
            organization("4706", "Epic Sandbox", Some(json!({"url": "http://1up.health/logo", "valueAttachment": {"url": "https://cdn.example/epic.png", "contentType": "image/png"}}))),
            {
                let mut org = organization("org-9", "No Logo Clinic", None);
                org["identifier"] = json!([{"system": "https://api.1up.health/system-id", "value": "9001"}]);
                org
            },
            json!({"resourceType": "Location", "id": "l1"}),
        ],
        None,
    );
    Mock::given(method("GET"))
        .and(path("/connect/system/provider/search"))
        .and(query_param("query", "Michigan Medicine & co"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(found))
        .expect(1)
        .mount(&server)
        .await;
    let connect = session(client(&server)).connect();
    let providers = connect.provider_search("Michigan Medicine & co").await.unwrap();
    assert_eq!(providers.len(), 3, "only Organizations");
    assert_eq!(providers[0].system_id, Some(SystemId::new("4894")));
    assert_eq!(providers[0].name.as_deref(), Some("Michigan Medicine"));
    assert_eq!(providers[0].logo.as_deref(), Some("https://cdn.example/mm.png"));
    assert_eq!(providers[1].logo.as_deref(), Some("https://cdn.example/epic.png"));
    assert_eq!(providers[2].system_id, Some(SystemId::new("9001")), "the 1up identifier wins over the id");
    assert_eq!(providers[2].logo, None);
    assert_eq!(providers[2].organization.id.as_deref(), Some("org-9"));
}

#[tokio::test]
async fn provider_search_errors_are_typed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/connect/system/provider/search"))
        .respond_with(ResponseTemplate::new(401).set_body_json(outcome("login", "token refused")))
        .mount(&server)
        .await;
    let client = client(&server);
    let no_refresh = oneup_client::Session::new(client, oneup_client::Tokens::new(ACCESS, None));
    let err = no_refresh.connect().provider_search("x").await.unwrap_err();
    assert!(matches!(err, Error::NoRefreshToken { .. }), "{err:?}");

    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/connect/system/provider/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(patient("p1")))
        .mount(&other)
        .await;
    let err = session(crate::support::client(&other)).connect().provider_search("x").await.unwrap_err();
    assert!(matches!(err, Error::Fhir { .. }), "a Patient is no Bundle: {err:?}");
}

#[tokio::test]
async fn clinical_systems_are_listed_with_their_filters() {
    let server = MockServer::start().await;
    let systems = json!([
        {"id": 4706, "name": "Epic Sandbox", "resource_url": "https://fhir.epic.com/api/FHIR/DSTU2", "api_version": "dstu2",
         "status": "online", "logo": "https://cdn.example/epic.png", "locations": [{"name": "Verona", "address": {"city": "Verona"}}]},
        {"id": "4894", "name": "Michigan Medicine", "resource_url": null, "api_version": "r4", "status": "online", "logo": null, "locations": []}
    ]);
    Mock::given(method("GET"))
        .and(path("/connect/system/clinical"))
        .and(query_param("health_systems_only", "true"))
        .and(query_param("name", "Epic Sandbox"))
        .respond_with(ResponseTemplate::new(200).set_body_json(systems.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/connect/system/clinical"))
        .and(query_param_is_missing("health_systems_only"))
        .and(query_param_is_missing("name"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(systems))
        .expect(1)
        .mount(&server)
        .await;
    let connect = session(client(&server)).connect();
    let filtered = connect
        .clinical_systems(&ClinicalSystemFilter::all().health_systems_only().name("Epic Sandbox"))
        .await
        .unwrap();
    assert_eq!(filtered[0].id, SystemId::from(4706));
    assert_eq!(filtered[0].api_version.as_deref(), Some("dstu2"));
    assert_eq!(filtered[0].locations.len(), 1);
    assert_eq!(filtered[1].id.as_str(), "4894");
    assert_eq!(filtered[1].resource_url, None);
    let all = connect.clinical_systems(&ClinicalSystemFilter::all()).await.unwrap();
    assert_eq!(all.len(), 2);
    let raw = server.received_requests().await.unwrap();
    assert_eq!(raw[1].url.query(), None, "no empty query string");
}

#[tokio::test]
async fn clinical_system_errors_say_what_1up_said() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/connect/system/clinical"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"success": false, "error": "app not allowed"})))
        .mount(&server)
        .await;
    let err = session(client(&server)).connect().clinical_systems(&ClinicalSystemFilter::all()).await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(err.to_string().contains("app not allowed"), "{err}");
    assert!(err.to_string().starts_with("list clinical systems (GET"), "{err}");
}

fn systems_page(from: usize, count: usize) -> Value {
    Value::Array(
        (from..from + count)
            .map(|i| json!({"id": 1000 + i, "name": format!("System {i}"), "address": format!("{i} Main St")}))
            .collect(),
    )
}

#[tokio::test]
async fn system_search_streams_pages_of_20_until_a_short_page() {
    let server = MockServer::start().await;
    for (offset, count) in [(0, 20), (20, 20), (40, 7)] {
        Mock::given(method("POST"))
            .and(path("/api/search"))
            .and(query_param("offset", offset.to_string()))
            .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
            .and(body_string(""))
            .respond_with(ResponseTemplate::new(200).set_body_json(systems_page(offset, count)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let connect = session(client(&server)).connect();
    let all: Vec<SystemSummary> = connect.system_search().try_collect().await.unwrap();
    assert_eq!(all.len(), 47);
    assert_eq!(all[0].id, SystemId::from(1000));
    assert_eq!(all[46].name.as_deref(), Some("System 46"));
    assert_eq!(all[46].address.as_deref(), Some("46 Main St"));
    // Lazily: taking 5 fetches only the first page.
    let server2 = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(systems_page(0, 20)))
        .expect(1)
        .mount(&server2)
        .await;
    let some: Vec<_> = session(client(&server2)).connect().system_search().take(5).collect().await;
    assert_eq!(some.len(), 5);
}

#[tokio::test]
async fn system_search_stops_on_a_repeated_page_on_the_page_bound_and_after_an_error() {
    // A server that ignores `offset`: the second page repeats the first; the stream stops there.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(systems_page(0, 20)))
        .expect(2)
        .mount(&server)
        .await;
    let all: Vec<SystemSummary> = session(client(&server)).connect().system_search().try_collect().await.unwrap();
    assert_eq!(all.len(), 20);

    // Full pages forever: bounded by max_pages.
    let endless = MockServer::start().await;
    for page in 0..5usize {
        Mock::given(method("POST"))
            .and(path("/api/search"))
            .and(query_param("offset", (page * 20).to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(systems_page(page * 20, 20)))
            .mount(&endless)
            .await;
    }
    let bounded = session(builder(&endless).max_pages(3).build().unwrap());
    let all: Vec<SystemSummary> = bounded.connect().system_search().try_collect().await.unwrap();
    assert_eq!(all.len(), 60);

    // A 503 is retried (the search POST only reads); a 500 ends the stream with the error.
    let failing = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/search"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&failing)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/search"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(systems_page(0, 20)))
        .mount(&failing)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/search"))
        .and(query_param("offset", "20"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": "search is down"})))
        .mount(&failing)
        .await;
    let items: Vec<_> = session(client(&failing)).connect().system_search().collect().await;
    assert_eq!(items.len(), 21);
    let err = items[20].as_ref().unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.to_string().starts_with("system search from 20 (POST"), "{err}");
}

#[tokio::test]
async fn the_connect_link_carries_client_id_token_and_version_and_the_iframe_page_is_at_connect() {
    let server = MockServer::start().await;
    let client = client(&server);
    let link = ConnectLink::new(&client, 4706u64, Secret::new(ACCESS));
    let url = link.to_url();
    assert_eq!(url.path(), "/connect/system/clinical/4706");
    let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(q, [("client_id".to_owned(), CLIENT_ID.to_owned()), ("access_token".to_owned(), ACCESS.to_owned())]);
    let versioned = link.clone().fhir_version("dstu2").to_url();
    assert!(versioned.as_str().ends_with("&fhirVersion=dstu2"), "{versioned}");
    assert_no_secret(&format!("{link:?}"));
    assert_eq!(client.connect_page_url().as_str(), format!("{}/connect", server.uri()));

    // From a session: its current token (refreshed first when about to expire).
    mount_refresh(&server, 1).await;
    let expiring = oneup_client::Tokens::new(ACCESS, Some(Secret::new(REFRESH)))
        .expiring_at(std::time::SystemTime::now() + std::time::Duration::from_secs(5));
    let session = oneup_client::Session::new(client, expiring);
    let link = session.connect_link("4894").await.unwrap();
    assert_eq!(link.system_id().as_str(), "4894");
    assert!(link.to_url().as_str().contains(&format!("access_token={NEW_ACCESS}")));
}
