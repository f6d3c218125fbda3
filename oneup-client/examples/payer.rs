//! The payer SMART standalone launch, step by step, then a read of the member's ExplanationOfBenefit claims,
//! each checked against the CARIN Blue Button profile it claims (`fhir_models::r4::carin_bb`).
//!
//! Runs against local servers by default (see this crate's README.md, "Running the examples locally"):
//! oauth2-mock-server is the plan's authorization server (it approves at once, so the "browser" step is one HTTP
//! request whose redirect is read), SEKMET the plan's FHIR API. Pointed at a real plan, the example prints the
//! authorization URL and reads the callback URL from standard input after you log in with a browser.
//!
//! | variable | local default | a real plan |
//! | --- | --- | --- |
//! | `PAYER_LOCAL` | `1`: the three hosts below default to the local servers | `0`: they follow from the base |
//! | `PAYER_BASE`, `PAYER_SYSTEM_ID` | `1updemohealthplan.com`, `demoplan` | the plan's |
//! | `PAYER_AUTHORIZE_URL` | `http://127.0.0.1:8081/authorize` | unset: `https://auth.{base}/oauth2/authorize/{system-id}` |
//! | `PAYER_TOKEN_URL` | `http://127.0.0.1:8081/token` | unset: `https://auth.{base}/oauth2/token` |
//! | `PAYER_FHIR_BASE` | `http://127.0.0.1:8090/fhir` | unset: `https://api.{base}/r4` |
//! | `PAYER_REDIRECT_URI` | `http://127.0.0.1:8765/callback` | your app's registered redirect URI |
//! | `PAYER_FOLLOW_AUTHORIZE` | `1`: follow the authorize redirect headlessly | `0`: paste the callback URL |
//! | `PAYER_LOAD_SAMPLE` | `1`: first loads a member with two claims | `0` |
//! | `ONEUP_CLIENT_ID`, `ONEUP_CLIENT_SECRET` | the guide's sample keys | your app's keys |
//!
//! ```text
//! cargo run -p oneup-client --example payer
//! ```

use fhir_models::r4::carin_bb::{self, C4bbExplanationOfBenefit};
use fhir_models::r4::{Bundle, Coverage, ExplanationOfBenefit, Patient, Resource, R4};
use fhir_models::FhirJson;
use futures_util::TryStreamExt;
use oneup_client::{AppCredentials, OneUpClient, Payer, Secret, Session};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// `Some(value)` when set; the local default when `PAYER_LOCAL` is not `0`; otherwise `None` (the plan's host).
fn host(name: &str, local: &str) -> Option<String> {
    std::env::var(name).ok().or_else(|| (env("PAYER_LOCAL", "1") == "1").then(|| local.to_owned()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys = AppCredentials::new(
        env("ONEUP_CLIENT_ID", "clientidclientidclientid"),
        env("ONEUP_CLIENT_SECRET", "clientsecretclientsecret"),
    );
    let mut builder = Payer::builder(keys.clone(), env("PAYER_BASE", "1updemohealthplan.com"), env("PAYER_SYSTEM_ID", "demoplan"))
        .redirect_uri(env("PAYER_REDIRECT_URI", "http://127.0.0.1:8765/callback"));
    if let Some(url) = host("PAYER_AUTHORIZE_URL", "http://127.0.0.1:8081/authorize") {
        builder = builder.authorize_url(url);
    }
    if let Some(url) = host("PAYER_TOKEN_URL", "http://127.0.0.1:8081/token") {
        builder = builder.token_url(url);
    }
    if let Some(url) = host("PAYER_FHIR_BASE", "http://127.0.0.1:8090/fhir") {
        builder = builder.fhir_base(url);
    }
    let payer = builder.build()?;
    println!("plan {}: FHIR at {}", payer.system_id(), payer.fhir_base());

    if env("PAYER_LOAD_SAMPLE", "1") == "1" {
        load_sample(&payer, keys).await?;
    }

    // 1. The authorization request: client_id, redirect_uri, scope, a random state, PKCE S256.
    let launch = payer.authorize();
    println!("1. send the member to {}", launch.url());

    // The member logs in; the authorization server redirects to the app with ?code=…&state=….
    let callback = if env("PAYER_FOLLOW_AUTHORIZE", "1") == "1" {
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        let answer = browser.get(launch.url().clone()).send().await?;
        let location = answer.headers().get("location").ok_or("the authorization server did not redirect")?;
        location.to_str()?.to_owned()
    } else {
        println!("   log in, then paste the URL the browser was sent back to:");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim().to_owned()
    };
    println!("   the member came back to the redirect URI");

    // 2. Check the state, exchange the code with the PKCE verifier at the plan's token endpoint.
    let member = payer
        .complete(&launch, &callback)
        .await?
        .on_rotation(|tokens| println!("   new tokens to store (expire at {:?})", tokens.expires_at));
    let tokens = member.tokens().await;
    println!("2. exchanged the code: {tokens:?}");
    member.refresh().await?;
    println!("   refreshed the tokens");

    // 3. Read-only FHIR R4: the member's claims, coverage and record.
    let fhir = member.fhir();
    let claims: Vec<ExplanationOfBenefit> = fhir.search_resources([("_count", "50")]).try_collect().await?;
    println!("3. {} ExplanationOfBenefit resource(s):", claims.len());
    for eob in &claims {
        let kind = eob.r#type.as_ref().and_then(|t| t.coding.first()).and_then(|c| c.code.as_ref()?.value.clone());
        let created = eob.created.as_ref().and_then(|c| c.value.as_ref()).map(|d| d.to_string());
        println!(
            "   {} {} created {}",
            eob.id.as_deref().unwrap_or("?"),
            kind.as_deref().unwrap_or("?"),
            created.as_deref().unwrap_or("?")
        );
    }
    let coverage: Vec<Coverage> = fhir.search_resources(()).try_collect().await?;
    let members: Vec<Patient> = fhir.search_resources(()).try_collect().await?;
    println!("   {} Coverage, {} Patient", coverage.len(), members.len());

    // 4. Each claim against the CARIN BB profile it claims in `meta.profile` (else the base CARIN EOB profile):
    //    every violation with its FHIR path, or the typed slices of a conformant claim.
    println!("4. CARIN Blue Button conformance:");
    for eob in claims {
        let id = eob.id.clone().unwrap_or_default();
        let claimed = eob.meta.as_ref().and_then(|m| m.profile.first()).and_then(|p| p.value.clone());
        let url = claimed.unwrap_or_else(|| C4bbExplanationOfBenefit::PROFILE_URL.into());
        match carin_bb::check_profile(&url, &Resource::from(eob.clone())) {
            None => println!("   {id}: {url} is not a CARIN BB 1.1.0 profile"),
            Some(Ok(())) => println!("   {id}: conforms to {url}"),
            Some(Err(e)) => {
                println!("   {id}: {} violation(s) of {url}", e.violations.len());
                for v in e.violations.iter().take(5) {
                    println!("     {v}");
                }
            }
        }
    }
    Ok(())
}

/// Loads a member, the plan, a practitioner, a coverage and two claims into the local FHIR server (with an app
/// token from the same authorization server), so that step 3 has something to read.
async fn load_sample(payer: &Payer, keys: AppCredentials) -> Result<(), Box<dyn std::error::Error>> {
    let base = payer.fhir_base();
    let app = OneUpClient::builder(keys)
        .api_base(base.origin().ascii_serialization())
        .fhir_path(base.path())
        .token_url(payer.token_endpoint().as_str())
        .build()?;
    let tokens = app.exchange_code(&Secret::new("sample-loader")).await?;
    let claim = |id: &str, kind: &str, created: &str| {
        serde_json::json!({"resourceType": "ExplanationOfBenefit", "id": id, "status": "active", "use": "claim",
            "outcome": "complete", "created": created,
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": kind}]},
            "patient": {"reference": "Patient/member-1"}, "insurer": {"reference": "Organization/plan"},
            "provider": {"reference": "Practitioner/dr-1"},
            "insurance": [{"focal": true, "coverage": {"reference": "Coverage/cov-1"}}]})
    };
    let resources = [
        serde_json::json!({"resourceType": "Patient", "id": "member-1", "name": [{"family": "Member", "given": ["Mia"]}]}),
        serde_json::json!({"resourceType": "Organization", "id": "plan", "name": "1up Demo Health Plan"}),
        serde_json::json!({"resourceType": "Practitioner", "id": "dr-1", "name": [{"family": "Doctor"}]}),
        serde_json::json!({"resourceType": "Coverage", "id": "cov-1", "status": "active",
            "beneficiary": {"reference": "Patient/member-1"}, "payor": [{"reference": "Organization/plan"}]}),
        claim("eob-1", "professional", "2024-03-01T00:00:00Z"),
        claim("eob-2", "pharmacy", "2024-04-01T00:00:00Z"),
    ];
    let entries: Vec<serde_json::Value> = resources
        .into_iter()
        .map(|r| {
            let url = format!("{}/{}", r["resourceType"].as_str().unwrap_or(""), r["id"].as_str().unwrap_or(""));
            serde_json::json!({"fullUrl": url, "resource": r, "request": {"method": "PUT", "url": url}})
        })
        .collect();
    let bundle = Bundle::from_json(&serde_json::json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}).to_string())?;
    Session::new(app, tokens).fhir::<R4>().transaction(&bundle).await?;
    println!("loaded a sample member with two claims");
    Ok(())
}
