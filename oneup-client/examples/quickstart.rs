//! The 1upHealth quick-start guide, end to end: create a user, exchange its code for tokens, refresh them,
//! create a Patient with an id of your choosing and read it back.
//!
//! Runs against local servers by default (see this crate's README.md, "Running the quick start locally"); every
//! host comes from the environment, so the same program runs against 1upHealth itself:
//!
//! | variable | local default | 1upHealth |
//! | --- | --- | --- |
//! | `ONEUP_API` | `http://127.0.0.1:8090` (SEKMET) | `https://api.1up.health` |
//! | `ONEUP_FHIR_PATH` | `/fhir` | `/{version}` |
//! | `ONEUP_TOKEN_URL` | `http://127.0.0.1:8081/token` | `https://auth.1up.health/oauth2/token` |
//! | `ONEUP_USER_API` | `http://127.0.0.1:8081` (stand-in) | `https://api.1up.health` |
//! | `ONEUP_APP_CHOSEN_ID` | `put` | `post` |
//! | `ONEUP_CLIENT_ID`, `ONEUP_CLIENT_SECRET` | the guide's sample keys | your app's keys |
//!
//! ```text
//! cargo run -p oneup-client --example quickstart
//! ```

use fhir_models::r4::{AdministrativeGender, Patient, R4};
use fhir_models::FhirJson;
use oneup_client::{AppChosenId, AppCredentials, CreatedUser, OneUpClient, Session};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys = AppCredentials::new(
        env("ONEUP_CLIENT_ID", "clientidclientidclientid"),
        env("ONEUP_CLIENT_SECRET", "clientsecretclientsecret"),
    );
    let app_chosen_id = match env("ONEUP_APP_CHOSEN_ID", "put").as_str() {
        "post" => AppChosenId::PostWithId,
        _ => AppChosenId::Put,
    };
    let client = OneUpClient::builder(keys)
        .api_base(env("ONEUP_API", "http://127.0.0.1:8090"))
        .fhir_path(env("ONEUP_FHIR_PATH", "/fhir"))
        .token_url(env("ONEUP_TOKEN_URL", "http://127.0.0.1:8081/token"))
        .user_management_base(env("ONEUP_USER_API", "http://127.0.0.1:8081"))
        .app_chosen_id(app_chosen_id)
        .build()?;

    // 1. Create a user; its first authorization code comes with it. If the user exists, ask for a new code.
    let app_user_id = env("ONEUP_APP_USER_ID", "myappsuserid");
    let code = match client.create_user(&app_user_id).await? {
        CreatedUser::Created(user) => {
            println!("1. created user {app_user_id}: oneup_user_id {}", user.oneup_user_id);
            user.code
        }
        CreatedUser::AlreadyExists { message, .. } => {
            let issued = client.new_auth_code(&app_user_id).await?;
            println!("1. user {app_user_id} exists ({message}); new code for oneup_user_id {}", issued.oneup_user_id);
            issued.code
        }
        other => return Err(format!("unexpected answer: {other:?}").into()),
    };

    // 2. Exchange the code for the user's tokens (never printed: they are secrets).
    let tokens = client.exchange_code(&code).await?;
    println!("2. exchanged the code: {tokens:?}");

    // 3. Refresh them, as the guide does after 7200 s; a Session does this by itself before expiry or on a 401,
    //    and hands each new pair to this hook so the app can store it.
    let session = Session::new(client, tokens)
        .on_rotation(|tokens| println!("   new tokens to store (expire at {:?})", tokens.expires_at));
    session.refresh().await?;
    println!("3. refreshed the tokens");

    // 4. Create a Patient with our own id.
    let fhir = session.fhir::<R4>();
    let patient = Patient {
        id: Some("helloiamatestpatient".into()),
        gender: Some(AdministrativeGender::Female.into()),
        ..Patient::default()
    };
    let created = fhir.create_with_id(&patient).await?;
    let version = created.meta.as_ref().and_then(|m| m.version_id.as_ref()?.value.clone());
    println!("4. created Patient/{} (version {})", created.id.as_deref().unwrap_or("?"), version.as_deref().unwrap_or("?"));

    // 5. Read it back.
    let read: Patient = fhir.read("helloiamatestpatient").await?;
    println!("5. read it back: {}", read.to_json());
    Ok(())
}
