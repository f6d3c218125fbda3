//! `fhir export`: a Bulk Data `$export` from any FHIR R4 server into an export directory: kick-off, wait,
//! download several files at once, resume. Run it again on the same directory after an interruption and it goes
//! on where it stopped (no finished file is downloaded again); run it with `--since-last` and it asks only for
//! what changed since the last complete run. Progress: a one-line bar on a terminal, plain lines otherwise.
//!
//! ```text
//! fhir export --base https://fhir.example.org/r4 --out exports/claims --type ExplanationOfBenefit,Coverage
//! ```

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fhir_models::r4::R4;
use oneup_client::{
    Algorithm, AppCredentials, BackendServices, ExportDir, ExportEvent, ExportOptions, ExportRequest, ExportTotals, OneUpClient, Secret, Session,
    SigningKey, Tokens,
};
use url::Url;

use crate::{EXIT_OK, EXIT_USAGE};

/// Exit code: the export failed (the server refused, a file could not be downloaded); the directory can be
/// resumed.
pub const EXIT_FAILED: i32 = 3;

/// The usage text of `fhir export`.
pub const USAGE: &str = "\
usage: fhir export --base URL --out DIR [--token TOKEN | SMART] [--type T1,T2] [--since INSTANT | --since-last]
                   [--type-filter QUERY]... [--output-format MIME] [--patient | --group ID] [--parallel N]
                   [--retries N] [--progress bar|lines] [--cancel]
  Bulk Data $export (R4) into DIR; run again to resume an interrupted export. The token is --token or the
  FHIR_TOKEN environment variable (sent only to the server's origin). Exit 0 done, 2 usage or I/O error,
  3 export failed (resumable).
  SMART Backend Services instead of a token: --client-id ID --key FILE --token-url URL [--kid KID]
  [--alg RS384|ES384] [--scope SCOPE]; FILE is a PKCS#8 PEM private key (then --kid is required) or a private
  JWK / JWKS (--kid picks the key). Tokens are asked for with a signed JWT assertion and renewed before expiry.";

#[derive(Debug, Default)]
struct Args {
    base: Option<String>,
    out: Option<String>,
    token: Option<String>,
    request: ExportRequest,
    since_last: bool,
    parallel: Option<usize>,
    retries: Option<u32>,
    progress: Option<bool>,
    cancel: bool,
    smart: SmartArgs,
}

/// The SMART Backend Services options.
#[derive(Debug, Default)]
struct SmartArgs {
    client_id: Option<String>,
    key: Option<String>,
    kid: Option<String>,
    alg: Option<Algorithm>,
    token_url: Option<String>,
    scope: Option<String>,
}

impl SmartArgs {
    fn any(&self) -> bool {
        self.client_id.is_some() || self.key.is_some() || self.token_url.is_some() || self.kid.is_some()
            || self.alg.is_some() || self.scope.is_some()
    }

    /// The Backend Services client the options describe, with its key read from the file.
    fn services(&self) -> Result<BackendServices, String> {
        let (Some(client_id), Some(key_file), Some(token_url)) = (&self.client_id, &self.key, &self.token_url) else {
            return Err("SMART Backend Services need --client-id, --key and --token-url together".into());
        };
        let text = std::fs::read_to_string(key_file).map_err(|e| format!("--key {key_file}: {e}"))?;
        let key = if text.trim_start().starts_with("-----BEGIN") {
            let kid = self.kid.as_deref().ok_or("--kid is required with a PEM key (PEM carries no key id)")?;
            SigningKey::from_pem(&text, kid)
        } else {
            SigningKey::from_jwk(&text, self.kid.as_deref())
        }
        .map_err(|e| format!("--key {key_file}: {e}"))?;
        let key = match self.alg {
            Some(alg) => key.expect_algorithm(alg).map_err(|e| format!("--key {key_file}: {e}"))?,
            None => key,
        };
        let services = BackendServices::new(client_id.clone(), token_url, key).map_err(|e| e.to_string())?;
        Ok(match &self.scope {
            Some(scope) => services.scope(scope.clone()),
            None => services,
        })
    }
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut parsed = Args::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--base" => parsed.base = Some(value("--base")?),
            "--out" => parsed.out = Some(value("--out")?),
            "--token" => parsed.token = Some(value("--token")?),
            "--type" => {
                let v = value("--type")?;
                parsed.request = parsed
                    .request
                    .types(v.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned));
            }
            "--since" => parsed.request = parsed.request.since(value("--since")?),
            "--since-last" => parsed.since_last = true,
            "--type-filter" => parsed.request = parsed.request.type_filter(value("--type-filter")?),
            "--output-format" => parsed.request = parsed.request.output_format(value("--output-format")?),
            "--patient" => parsed.request = parsed.request.patients(),
            "--group" => parsed.request = parsed.request.group(value("--group")?),
            "--parallel" => {
                let v = value("--parallel")?;
                parsed.parallel = Some(
                    v.parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or(format!("--parallel `{v}` is not a positive number"))?,
                );
            }
            "--retries" => {
                let v = value("--retries")?;
                parsed.retries = Some(v.parse().map_err(|_| format!("--retries `{v}` is not a number"))?);
            }
            "--progress" => {
                parsed.progress = Some(match value("--progress")?.as_str() {
                    "bar" => true,
                    "lines" => false,
                    other => return Err(format!("--progress must be bar or lines, not `{other}`")),
                })
            }
            "--cancel" => parsed.cancel = true,
            "--client-id" => parsed.smart.client_id = Some(value("--client-id")?),
            "--key" => parsed.smart.key = Some(value("--key")?),
            "--kid" => parsed.smart.kid = Some(value("--kid")?),
            "--alg" => {
                let v = value("--alg")?;
                parsed.smart.alg = Some(v.parse().map_err(|_| format!("--alg must be RS384 or ES384, not `{v}`"))?);
            }
            "--token-url" => parsed.smart.token_url = Some(value("--token-url")?),
            "--scope" => parsed.smart.scope = Some(value("--scope")?),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(parsed)
}

/// A client for a plain Bulk Data server at `base`: its origin as the host, its path as the bulk path (1upHealth
/// keys are not used by `$export`).
fn client_for(base: &str) -> Result<OneUpClient, String> {
    let url = Url::parse(base).map_err(|e| format!("--base `{base}` is not a URL: {e}"))?;
    let origin = url.origin().ascii_serialization();
    let path = if url.path().is_empty() { "/" } else { url.path() };
    OneUpClient::builder(AppCredentials::new("fhir-cli", Secret::new("")))
        .api_base(origin.clone())
        .analytics_base(origin)
        .bulk_path(path)
        .build()
        .map_err(|e| e.to_string())
}

/// One line of progress text.
fn describe(event: &ExportEvent, totals: &ExportTotals) -> Option<String> {
    Some(match event {
        ExportEvent::KickedOff { since: Some(since) } => format!("export: kicked off (_since={since})"),
        ExportEvent::KickedOff { since: None } => "export: kicked off".to_owned(),
        ExportEvent::Resumed => "export: resuming the unfinished run in the directory".to_owned(),
        ExportEvent::Polled(progress) => format!("export: server preparing: {progress}"),
        ExportEvent::Manifest => format!(
            "export: {} file(s), {} already complete",
            totals.files_total, totals.files_done
        ),
        ExportEvent::FileDone { file, lines } => {
            format!(
                "export: {file}: {lines} lines ({}/{} files)",
                totals.files_done, totals.files_total
            )
        }
        ExportEvent::FileRetry { file, attempt, error } => {
            format!("export: {file}: attempt {attempt} failed, retrying: {error}")
        }
        _ => return None,
    })
}

fn bar(totals: &ExportTotals) -> String {
    format!(
        "\r{}/{} files, {} lines, {:.1} MB",
        totals.files_done,
        totals.files_total,
        totals.lines,
        totals.bytes as f64 / 1e6
    )
}

/// Runs `fhir export` with `args` (after the word `export`).
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        let _ = writeln!(out, "{USAGE}");
        return EXIT_OK;
    }
    let args = match parse(args) {
        Ok(args) => args,
        Err(message) => {
            let _ = writeln!(err, "fhir export: {message}\n\n{USAGE}");
            return EXIT_USAGE;
        }
    };
    let (Some(base), Some(out_dir)) = (args.base.as_deref(), args.out.as_deref()) else {
        let _ = writeln!(err, "fhir export: --base and --out are required\n\n{USAGE}");
        return EXIT_USAGE;
    };
    if args.smart.any() && args.token.is_some() {
        let _ = writeln!(err, "fhir export: --token and SMART Backend Services (--client-id, --key) exclude each other");
        return EXIT_USAGE;
    }
    let services = match args.smart.any().then(|| args.smart.services()).transpose() {
        Ok(services) => services,
        Err(message) => {
            let _ = writeln!(err, "fhir export: {message}");
            return EXIT_USAGE;
        }
    };
    let client = match client_for(base) {
        Ok(client) => client,
        Err(message) => {
            let _ = writeln!(err, "fhir export: {message}");
            return EXIT_USAGE;
        }
    };
    let dir = match ExportDir::open(out_dir) {
        Ok(dir) => dir,
        Err(e) => {
            let _ = writeln!(err, "fhir export: {e}");
            return EXIT_USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "fhir export: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let session = match services {
        Some(services) => match runtime.block_on(Session::backend_services(client, services)) {
            Ok(session) => session,
            Err(e) => {
                let _ = writeln!(err, "fhir export: {e}");
                return EXIT_FAILED;
            }
        },
        None => {
            // A plain bearer token (no refresh).
            let token = args.token.clone().or_else(|| std::env::var("FHIR_TOKEN").ok()).unwrap_or_default();
            Session::new(client, Tokens::new(Secret::new(token), None))
        }
    };
    let bulk = session.bulk::<R4>();
    if args.cancel {
        return match runtime.block_on(bulk.cancel_export_in(&dir)) {
            Ok(()) => {
                let _ = writeln!(err, "export: cancelled");
                EXIT_OK
            }
            Err(e) => {
                let _ = writeln!(err, "fhir export: {e}");
                EXIT_FAILED
            }
        };
    }
    let mut options = ExportOptions::new().since_last_run(args.since_last);
    if let Some(n) = args.parallel {
        options = options.parallel_files(n);
    }
    if let Some(retries) = args.retries {
        let backoff = options.initial_backoff;
        options = options.file_retries(retries, backoff);
    }
    let as_bar = args.progress.unwrap_or_else(|| std::io::stderr().is_terminal());
    // Progress goes through a channel to this thread, which owns `err`.
    let (tx, rx) = mpsc::channel::<(Option<String>, ExportTotals)>();
    let tx = std::sync::Mutex::new(tx);
    let request = args.request.clone();
    let task = runtime.spawn(async move {
        bulk.export_to(&dir, &request, &options, move |event, totals| {
            let line = describe(event, totals);
            if let Ok(tx) = tx.lock() {
                let _ = tx.send((line, totals.clone()));
            }
        })
        .await
    });
    let mut last_bar = Instant::now() - Duration::from_secs(1);
    for (line, totals) in rx {
        if as_bar {
            if line.is_some() || last_bar.elapsed() >= Duration::from_millis(100) {
                let _ = write!(err, "{}", bar(&totals));
                last_bar = Instant::now();
            }
        } else if let Some(line) = line {
            let _ = writeln!(err, "{line}");
        }
    }
    if as_bar {
        let _ = writeln!(err);
    }
    match runtime.block_on(task) {
        Ok(Ok(summary)) => {
            for file in &summary.files {
                let kind = if file.is_error { "error" } else { "output" };
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::json!({"file": file.path.display().to_string(), "type": file.resource_type, "kind": kind, "lines": file.lines, "bytes": file.bytes})
                );
            }
            let lines: u64 = summary.files.iter().filter(|f| !f.is_error).map(|f| f.lines).sum();
            let _ = writeln!(
                err,
                "export: done: {} files ({} downloaded now), {lines} resource lines in {}",
                summary.files.len(),
                summary.downloaded,
                summary.run_dir.display()
            );
            EXIT_OK
        }
        Ok(Err(e)) => {
            let _ = writeln!(err, "fhir export: {e}\n(run the same command again to resume)");
            EXIT_FAILED
        }
        Err(e) => {
            let _ = writeln!(err, "fhir export: the export task failed: {e}");
            EXIT_FAILED
        }
    }
}
