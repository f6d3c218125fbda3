//! The real servers of the integration tests, started on 127.0.0.1 at ports the OS picks and stopped (killed)
//! when dropped: SEKMET (FHIR R4) from `.venv`, oauth2-mock-server from `.test-servers`. Both are installed by
//! `scripts/install-test-servers.sh`; when they are missing the tests fail and say so.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const INSTALL: &str = "run `scripts/install-test-servers.sh` from the repository root to install the test servers";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate is inside the repository").to_path_buf()
}

/// A started server process; killed when dropped.
pub struct Server {
    pub name: &'static str,
    child: Child,
    /// The JSON line the launcher printed once it served.
    pub info: Value,
    cleanup: Option<PathBuf>,
}

impl Server {
    pub fn get(&self, key: &str) -> String {
        self.info[key].as_str().unwrap_or_else(|| panic!("{} did not say its {key}: {}", self.name, self.info)).to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.cleanup {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn start(name: &'static str, mut command: Command, cleanup: Option<PathBuf>) -> Server {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}; {INSTALL}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut server = Server { name, child, info: Value::Null, cleanup };
    let line = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(line) => line,
        Err(_) => panic!("{name} did not start within 60 s"),
    };
    server.info = serde_json::from_str(&line)
        .unwrap_or_else(|_| panic!("{name} did not start (it printed {line:?}); see its output above; {INSTALL}"));
    server
}

/// oauth2-mock-server; access tokens issued for an authorization code live `code_token_ttl` seconds.
pub fn oauth2_server(code_token_ttl: u64) -> Server {
    oauth2_command(&["--code-token-ttl", &code_token_ttl.to_string()])
}

/// oauth2-mock-server with the launcher's stand-in for 1upHealth's user-management API.
pub fn oauth2_server_with_users() -> Server {
    oauth2_command(&["--user-management"])
}

fn oauth2_command(extra: &[&str]) -> Server {
    let root = repo_root();
    let package = root.join(".test-servers/node_modules/oauth2-mock-server/package.json");
    assert!(package.exists(), "oauth2-mock-server is not installed ({} is missing); {INSTALL}", package.display());
    let mut command = Command::new("node");
    command
        .arg(root.join("scripts/oauth2-mock-server.mjs"))
        .args(["--port", "0"])
        .args(extra);
    start("oauth2-mock-server", command, None)
}

/// oidc-provider (SMART Backend Services): each `(client_id, PEM file)` is registered with `private_key_jwt` and the
/// PEM's public key (`kid` = the client id); access tokens live `ttl` seconds.
pub fn oidc_provider(ttl: u64, clients: &[(&str, &Path)]) -> Server {
    let root = repo_root();
    let package = root.join(".test-servers/node_modules/oidc-provider/package.json");
    assert!(package.exists(), "oidc-provider is not installed ({} is missing); {INSTALL}", package.display());
    let mut command = Command::new("node");
    command.arg(root.join("scripts/oidc-provider.mjs")).args(["--port", "0", "--ttl", &ttl.to_string()]);
    for (id, pem) in clients {
        command.arg("--client").arg(format!("{id}={}", pem.display()));
    }
    start("oidc-provider", command, None)
}

/// A test key of `oneup-client/tests/fixtures/smart/`.
pub fn smart_key(file: &str) -> PathBuf {
    repo_root().join("oneup-client/tests/fixtures/smart").join(file)
}

/// SEKMET; with `trusted` (the OAuth2 server), bearer JWTs from that issuer are required.
pub fn sekmet(trusted: Option<&Server>) -> Server {
    let root = repo_root();
    let python = root.join(".venv/bin/python");
    assert!(python.exists(), "the virtualenv with SEKMET is missing ({}); {INSTALL}", python.display());
    let data = std::env::temp_dir().join(format!("sekmet-test-{}-{}", std::process::id(), unique()));
    let mut command = Command::new(python);
    command.arg(root.join("scripts/sekmet-serve.py")).args(["--port", "0", "--data-dir"]).arg(&data);
    if let Some(auth) = trusted {
        command.args(["--jwks-url", &auth.get("jwks_url"), "--issuer", &auth.get("issuer")]);
    }
    start("SEKMET", command, Some(data))
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// `http://127.0.0.1:PORT/fhir` → (`http://127.0.0.1:PORT`, `/fhir`).
pub fn split_base(base_url: &str) -> (String, String) {
    let url = url::Url::parse(base_url).expect("SEKMET's base URL");
    (url.origin().ascii_serialization(), url.path().to_owned())
}

/// A client of the app `CLIENT_ID` for these servers: the API and FHIR path from SEKMET's base URL, the token
/// endpoint of the OAuth2 server, bulk data at SEKMET's FHIR base, app-chosen ids by PUT (SEKMET assigns its own ids on POST).
pub fn client_for(fhir: &Server, auth: &Server) -> oneup_client::OneUpClient {
    let (api, path) = split_base(&fhir.get("base_url"));
    oneup_client::OneUpClient::builder(oneup_client::AppCredentials::new(super::CLIENT_ID, super::CLIENT_SECRET))
        .api_base(&api)
        .fhir_path(&path)
        // SEKMET serves `$export` at its FHIR base, on the same origin.
        .analytics_base(api)
        .bulk_path(path)
        .token_url(auth.get("token_url"))
        .app_chosen_id(oneup_client::AppChosenId::Put)
        .build()
        .expect("client")
}
