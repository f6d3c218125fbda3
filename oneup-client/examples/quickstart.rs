//! The 1upHealth quick-start guide ("Intro FHIR Queries with OAuth2"), step by step and in DSTU2, as the guide
//! writes it:
//!
//! 1. `POST https://api.1up.health/user-management/v1/user` with `app_user_id`, `client_id`, `client_secret`:
//!    the user's `code` (an existing user gets a new code from `/user-management/v1/user/auth-code`);
//! 2. `POST https://auth.1up.health/oauth2/token` with `grant_type=authorization_code`: the tokens;
//! 3. the same endpoint with `grant_type=refresh_token`: a new pair;
//! 4. `POST https://api.1up.health/dstu2/Patient` with `{"resourceType": "Patient", "id": "helloiamatestpatient",
//!    "gender": "female"}` and the bearer token;
//! 5. `GET https://api.1up.health/dstu2/Patient/helloiamatestpatient`.
//!
//! The hosts are the guide's by default; each can be changed through the environment (e.g. to run against a
//! local stand-in):
//!
//! | variable | default (the guide) |
//! | --- | --- |
//! | `ONEUP_API` | `https://api.1up.health` |
//! | `ONEUP_FHIR_PATH` | `/{version}` (so `/dstu2`) |
//! | `ONEUP_TOKEN_URL` | `https://auth.1up.health/oauth2/token` |
//! | `ONEUP_USER_API` | the API host |
//! | `ONEUP_APP_CHOSEN_ID` | `post` (the guide POSTs the id); `put` for a standard FHIR server |
//! | `ONEUP_CLIENT_ID`, `ONEUP_CLIENT_SECRET` | the guide's sample keys |
//!
//! ```text
//! ONEUP_CLIENT_ID=... ONEUP_CLIENT_SECRET=... cargo run -p oneup-client --example quickstart
//! ```

use fhir_models::dstu2::{AdministrativeGender, Dstu2, Patient};
use fhir_models::FhirJson;
use oneup_client::{defaults, AppChosenId, AppCredentials, CreatedUser, OneUpClient, Session};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Setup: "client_id = 'clientidclientidclientid', client_secret = 'clientsecretclientsecret'".
    let keys = AppCredentials::new(
        env("ONEUP_CLIENT_ID", "clientidclientidclientid"),
        env("ONEUP_CLIENT_SECRET", "clientsecretclientsecret"),
    );
    let app_chosen_id = match env("ONEUP_APP_CHOSEN_ID", "post").as_str() {
        "put" => AppChosenId::Put,
        _ => AppChosenId::PostWithId,
    };
    let api = env("ONEUP_API", defaults::API_BASE);
    let client = OneUpClient::builder(keys)
        .api_base(api.clone())
        .fhir_path(env("ONEUP_FHIR_PATH", defaults::FHIR_PATH))
        .token_url(env("ONEUP_TOKEN_URL", defaults::TOKEN_URL))
        .user_management_base(env("ONEUP_USER_API", &api))
        .app_chosen_id(app_chosen_id)
        .build()?;

    // 1. "First, create a user on 1upHealth." The answer carries the user's first authorization code. A user
    //    that exists already gets a new code.
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
    };

    // 2. "You will exchange the 'code' to get the OAuth2 access token." (Tokens are secrets: Debug hides them.)
    let tokens = client.exchange_code(&code).await?;
    println!("2. exchanged the code: {tokens:?}");

    // 3. "Once 7200 seconds passes, the access_token will no longer be valid ... use your refresh token." A
    //    Session does this by itself before expiry or after a 401, and hands each new pair to this hook.
    let session = Session::new(client, tokens)
        .on_rotation(|tokens| println!("   new tokens to store (expire at {:?})", tokens.expires_at));
    session.refresh().await?;
    println!("3. refreshed the tokens");

    // 4. "Create FHIR® resources and associate with the user ... You get to define your own ID value."
    let fhir = session.fhir::<Dstu2>();
    let patient = Patient {
        id: Some("helloiamatestpatient".into()),
        gender: Some(AdministrativeGender::Female.into()),
        ..Patient::default()
    };
    let created = fhir.create_with_id(&patient).await?;
    let version = created.meta.as_ref().and_then(|m| m.version_id.as_ref()?.value.clone());
    println!("4. created Patient/{} (version {})", created.id.as_deref().unwrap_or("?"), version.as_deref().unwrap_or("?"));

    // 5. "Query the user resource for Patient that you just created by using its ID and the user token."
    let read: Patient = fhir.read("helloiamatestpatient").await?;
    println!("5. read it back: {}", read.to_json());
    Ok(())
}
