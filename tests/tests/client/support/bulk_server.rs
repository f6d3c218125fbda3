//! A scripted Bulk Data server on 127.0.0.1 (plain tokio, one request per connection), for faults wiremock
//! cannot make: a connection dropped in the middle of a file, a file that stalls half-way. The kick-off answers
//! `202` with a status URL; the first poll of each job answers `202`, the next the manifest. Every file's lines
//! are known in advance, so a test can compare what was written with what was served. Files carry a strong
//! `ETag`; with `ranges` the server answers `Range: bytes=N-` with `206 Partial Content` (unless `If-Range`
//! names another ETag, as for the files of `etag_changes`, whose ETag changes after their first request).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Output files of the first job.
    pub files: usize,
    /// Lines in each.
    pub lines_per_file: usize,
    /// Files whose first request answers `500` with an `OperationOutcome`.
    pub fail_500_first: HashSet<usize>,
    /// Files whose first request answers `503` (retried by the transport itself).
    pub fail_503_first: HashSet<usize>,
    /// Files whose first request is cut: all headers, half the body, then the connection closes.
    pub drop_mid_first: HashSet<usize>,
    /// A file whose first request stalls after half its body (until the client goes away).
    pub stall_first: Option<usize>,
    /// Output files of later jobs (kick-offs after the first).
    pub later_files: usize,
    /// The `Retry-After` (seconds) of a job's first status answer (202, in progress); 0 by default.
    pub first_poll_retry_after: u64,
    /// Whether `Range` requests of files are honoured (else they get the whole file, `200`).
    pub ranges: bool,
    /// Files whose `ETag` changes after their first request (an `If-Range` with the old one gets the whole file).
    pub etag_changes: HashSet<usize>,
}

/// A `Range` request of a file, as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRequest {
    pub file: usize,
    /// The first byte asked for.
    pub from: u64,
    /// The `If-Range` header, if any.
    pub if_range: Option<String>,
    /// Whether it was answered `206` (the rest of the file) rather than `200` (all of it).
    pub partial: bool,
}

/// What the server saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// The query string of each kick-off.
    pub kick_offs: Vec<String>,
    /// Requests per file.
    pub file_requests: Vec<u32>,
    /// Status polls.
    pub polls: u32,
    /// `Range` requests of files.
    pub ranges: Vec<RangeRequest>,
}

/// A running server; stopped when dropped.
pub struct BulkServer {
    pub uri: String,
    pub bodies: Arc<Vec<Vec<u8>>>,
    pub seen: Arc<Mutex<Seen>>,
    /// Set once the stalled file has sent its first half.
    pub stalled: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BulkServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The NDJSON of file `i`: `lines` Observations with ids `f{i}-{j}`.
pub fn file_body(i: usize, lines: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(lines * 100);
    for j in 0..lines {
        body.extend_from_slice(
            format!(
                "{{\"resourceType\":\"Observation\",\"id\":\"f{i}-{j}\",\"status\":\"final\",\"code\":{{\"text\":\"steps\"}},\"valueInteger\":{j}}}\n"
            )
            .as_bytes(),
        );
    }
    body
}

pub const ERROR_LINES: &str = concat!(
    r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":"Patient/p9 could not be exported"}]}"#,
    "\n",
    r#"{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"too-costly","diagnostics":"Observation search truncated"}]}"#,
    "\n"
);

impl BulkServer {
    pub async fn start(script: Script) -> BulkServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let uri = format!("http://{}", listener.local_addr().expect("addr"));
        let bodies: Arc<Vec<Vec<u8>>> =
            Arc::new((0..script.files).map(|i| file_body(i, script.lines_per_file)).collect());
        let seen = Arc::new(Mutex::new(Seen {
            file_requests: vec![0; script.files],
            ..Seen::default()
        }));
        let stalled = Arc::new(AtomicBool::new(false));
        let state = Arc::new(ServerState {
            uri: uri.clone(),
            script,
            bodies: bodies.clone(),
            seen: seen.clone(),
            stalled: stalled.clone(),
            jobs: Mutex::new(Vec::new()),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = state.serve(socket).await;
                });
            }
        });
        BulkServer {
            uri,
            bodies,
            seen,
            stalled,
            task,
        }
    }
}

struct ServerState {
    uri: String,
    script: Script,
    bodies: Arc<Vec<Vec<u8>>>,
    seen: Arc<Mutex<Seen>>,
    stalled: Arc<AtomicBool>,
    /// Per job: polls so far.
    jobs: Mutex<Vec<u32>>,
}

async fn respond(socket: &mut TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body).await?;
    socket.flush().await
}

impl ServerState {
    async fn serve(&self, mut socket: TcpStream) -> std::io::Result<()> {
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            head.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&head).to_string();
        let header = |name: &str| {
            text.lines().skip(1).find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
        };
        let request_line = text.lines().next().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default().to_owned();
        let target = parts.next().unwrap_or_default().to_owned();
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        if path.ends_with("/$export") && method == "GET" {
            let job = {
                let mut jobs = self.jobs.lock().unwrap();
                jobs.push(0);
                jobs.len() - 1
            };
            self.seen.lock().unwrap().kick_offs.push(query.to_owned());
            let location = format!("{}/status/{job}", self.uri);
            return respond(&mut socket, "202 Accepted", &[("Content-Location", location)], b"").await;
        }
        if let Some(job) = path.strip_prefix("/status/").and_then(|j| j.parse::<usize>().ok()) {
            if method == "DELETE" {
                return respond(&mut socket, "202 Accepted", &[], b"").await;
            }
            let polls = self.jobs.lock().unwrap().get_mut(job).map(|polls| {
                *polls += 1;
                *polls
            });
            let Some(polls) = polls else {
                return respond(&mut socket, "404 Not Found", &[], b"").await;
            };
            self.seen.lock().unwrap().polls += 1;
            if polls == 1 {
                let headers = [
                    ("X-Progress", "50% done".to_owned()),
                    ("Retry-After", self.script.first_poll_retry_after.to_string()),
                ];
                return respond(&mut socket, "202 Accepted", &headers, b"").await;
            }
            let count = if job == 0 {
                self.script.files
            } else {
                self.script.later_files
            };
            let output: Vec<serde_json::Value> = (0..count)
                .map(|i| serde_json::json!({"type": "Observation", "url": format!("{}/files/{i}.ndjson", self.uri)}))
                .collect();
            let manifest = serde_json::json!({
                "transactionTime": format!("2024-06-0{}T00:00:00Z", job + 1),
                "request": format!("{}/bulk/$export", self.uri),
                "requiresAccessToken": true,
                "output": output,
                "error": [{"type": "OperationOutcome", "url": format!("{}/errors/0.ndjson", self.uri)}],
            });
            let headers = [("Content-Type", "application/json".to_owned())];
            return respond(&mut socket, "200 OK", &headers, manifest.to_string().as_bytes()).await;
        }
        if path == "/errors/0.ndjson" {
            let headers = [("Content-Type", "application/fhir+ndjson".to_owned())];
            return respond(&mut socket, "200 OK", &headers, ERROR_LINES.as_bytes()).await;
        }
        if let Some(i) = path
            .strip_prefix("/files/")
            .and_then(|f| f.strip_suffix(".ndjson"))
            .and_then(|i| i.parse::<usize>().ok())
        {
            let Some(body) = self.bodies.get(i) else {
                return respond(&mut socket, "404 Not Found", &[], b"").await;
            };
            let nth = {
                let mut seen = self.seen.lock().unwrap();
                seen.file_requests[i] += 1;
                seen.file_requests[i]
            };
            let first = nth == 1;
            if first && self.script.fail_500_first.contains(&i) {
                let outcome = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient","diagnostics":"storage busy"}]}"#;
                let headers = [("Content-Type", "application/fhir+json".to_owned())];
                return respond(&mut socket, "500 Internal Server Error", &headers, outcome.as_bytes()).await;
            }
            if first && self.script.fail_503_first.contains(&i) {
                return respond(
                    &mut socket,
                    "503 Service Unavailable",
                    &[("Retry-After", "0".to_owned())],
                    b"",
                )
                .await;
            }
            let cut = first && self.script.drop_mid_first.contains(&i);
            let stall = first && self.script.stall_first == Some(i);
            if cut || stall {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/fhir+ndjson\r\nETag: \"file-{i}\"\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                socket.write_all(head.as_bytes()).await?;
                // Half the body, cut in the middle of a line.
                socket.write_all(&body[..body.len() / 2 + 7]).await?;
                socket.flush().await?;
                if stall {
                    self.stalled.store(true, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
                return Ok(()); // the connection closes short of Content-Length
            }
            let etag = if nth > 1 && self.script.etag_changes.contains(&i) {
                format!("\"file-{i}-v2\"")
            } else {
                format!("\"file-{i}\"")
            };
            let from = header("Range")
                .and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse::<u64>().ok());
            if let Some(from) = from {
                let if_range = header("If-Range");
                let partial = self.script.ranges
                    && if_range.as_ref().map_or(true, |v| *v == etag)
                    && (from as usize) < body.len();
                self.seen.lock().unwrap().ranges.push(RangeRequest { file: i, from, if_range, partial });
                if partial {
                    let headers = [
                        ("Content-Type", "application/fhir+ndjson".to_owned()),
                        ("ETag", etag),
                        ("Content-Range", format!("bytes {from}-{}/{}", body.len() - 1, body.len())),
                    ];
                    return respond(&mut socket, "206 Partial Content", &headers, &body[from as usize..]).await;
                }
            }
            let headers = [("Content-Type", "application/fhir+ndjson".to_owned()), ("ETag", etag)];
            return respond(&mut socket, "200 OK", &headers, body).await;
        }
        respond(&mut socket, "404 Not Found", &[], b"").await
    }
}
