//! Find a health system and print the link that connects a user's records from it.
//!
//! Runs against local servers by default (see this crate's README.md, "Running the examples locally"): the OAuth2
//! launcher started with `--user-management --connect` stands in for 1upHealth's user management, token endpoint,
//! connect endpoints and health-system search, with a few sample systems.
//!
//! | variable | local default | 1upHealth |
//! | --- | --- | --- |
//! | `ONEUP_API` | `http://127.0.0.1:8081` (stand-in) | `https://api.1up.health` |
//! | `ONEUP_SYSTEM_SEARCH` | `http://127.0.0.1:8081` (stand-in) | `https://system-search.1up.health` |
//! | `ONEUP_TOKEN_URL` | `http://127.0.0.1:8081/token` | `https://auth.1up.health/oauth2/token` |
//! | `ONEUP_QUERY` | `Epic` | the health system to look for |
//! | `ONEUP_APP_USER_ID` | `connect-example-user` | your app's user |
//! | `ONEUP_CLIENT_ID`, `ONEUP_CLIENT_SECRET` | the guide's sample keys | your app's keys |
//!
//! ```text
//! cargo run -p oneup-client --example connect
//! ```

use futures_util::{StreamExt, TryStreamExt};
use oneup_client::{AppCredentials, ClinicalSystemFilter, CreatedUser, OneUpClient, Session, SystemSummary};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys = AppCredentials::new(
        env("ONEUP_CLIENT_ID", "clientidclientidclientid"),
        env("ONEUP_CLIENT_SECRET", "clientsecretclientsecret"),
    );
    let client = OneUpClient::builder(keys)
        .api_base(env("ONEUP_API", "http://127.0.0.1:8081"))
        .system_search_base(env("ONEUP_SYSTEM_SEARCH", "http://127.0.0.1:8081"))
        .token_url(env("ONEUP_TOKEN_URL", "http://127.0.0.1:8081/token"))
        .build()?;

    // The user whose records will be connected, and their token.
    let app_user_id = env("ONEUP_APP_USER_ID", "connect-example-user");
    let code = match client.create_user(&app_user_id).await? {
        CreatedUser::Created(user) => user.code,
        _ => client.new_auth_code(&app_user_id).await?.code,
    };
    let session = Session::new(client.clone(), client.exchange_code(&code).await?);
    let connect = session.connect();

    // 1. Provider search: Organizations with their 1up system id and logo.
    let query = env("ONEUP_QUERY", "Epic");
    let providers = connect.provider_search(&query).await?;
    println!("1. provider search for {query:?}: {} result(s)", providers.len());
    for provider in providers.iter().take(5) {
        println!(
            "   {:>6}  {}  (logo {})",
            provider.system_id.as_ref().map(|id| id.as_str()).unwrap_or("?"),
            provider.name.as_deref().unwrap_or("?"),
            provider.logo.as_deref().unwrap_or("none")
        );
    }

    // 2. The supported health systems, filtered by name.
    let systems = connect.clinical_systems(&ClinicalSystemFilter::all().health_systems_only().name(&query)).await?;
    println!("2. supported systems named like {query:?}: {}", systems.len());
    for system in systems.iter().take(3) {
        println!("   {:>6}  {}  {}", system.id, system.name.as_deref().unwrap_or("?"), system.api_version.as_deref().unwrap_or("?"));
    }

    // 3. The system-search host, 20 a page, read as one stream.
    let first: Vec<SystemSummary> = connect.system_search().take(3).try_collect().await?;
    let total = connect.system_search().try_fold(0usize, |n, _| async move { Ok(n + 1) }).await?;
    println!("3. system search: {total} systems; the first: {}", first.iter().map(|s| s.name.as_deref().unwrap_or("?")).collect::<Vec<_>>().join(", "));

    // 4. The connect link for the first provider found. It carries the user's access token: give it to that user's
    //    browser only (a redirect or a button), never to logs.
    let Some(system_id) = providers.first().and_then(|p| p.system_id.clone()) else {
        println!("4. nothing found to connect");
        return Ok(());
    };
    let link = session.connect_link(system_id).await?.fhir_version("r4");
    println!("4. send the user to (secret: it holds their token):\n   {}", link.to_url());
    println!("   or show the connect page in an iframe: {}", client.connect_page_url());
    Ok(())
}
