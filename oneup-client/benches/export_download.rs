//! Download throughput of `Bulk::export_to` with 1 vs 4 files at once, against a local Bulk Data server
//! (plain tokio on 127.0.0.1): 16 files of 20,000 lines (~1.9 MB each). Two server modes: unthrottled (loopback
//! speed: measures the client's own cost) and throttled per connection to 8 MB/s (a remote server's per-stream
//! bandwidth, where parallel files pay off). Run with `cargo bench -p oneup-client --bench export_download`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fhir_models::r4::R4;
use oneup_client::{AppCredentials, ExportDir, ExportOptions, ExportRequest, OneUpClient, Secret, Session, Tokens};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const FILES: usize = 16;
const LINES: usize = 20_000;

async fn serve(throttle: Option<u64>) -> (String, u64) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}", listener.local_addr().unwrap());
    let body: Arc<Vec<u8>> = Arc::new(
        (0..LINES)
            .flat_map(|j| {
                format!("{{\"resourceType\":\"Observation\",\"id\":\"o{j}\",\"status\":\"final\",\"code\":{{\"text\":\"steps\"}},\"valueInteger\":{j}}}\n")
                    .into_bytes()
            })
            .collect(),
    );
    let total = (body.len() * FILES) as u64;
    let base = uri.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (body, base) = (body.clone(), base.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let target = text.split(' ').nth(1).unwrap_or_default().to_owned();
                let (status, extra, payload): (&str, String, Vec<u8>) = if target.contains("$export") {
                    (
                        "202 Accepted",
                        format!("Content-Location: {base}/status\r\n"),
                        Vec::new(),
                    )
                } else if target.starts_with("/status") {
                    let output: Vec<_> = (0..FILES)
                        .map(|i| serde_json::json!({"type": "Observation", "url": format!("{base}/files/{i}")}))
                        .collect();
                    let m = serde_json::json!({"transactionTime": "2024-01-01T00:00:00Z", "requiresAccessToken": true, "output": output, "error": []});
                    ("200 OK", String::new(), m.to_string().into_bytes())
                } else {
                    ("200 OK", String::new(), Vec::new())
                };
                let is_file = target.starts_with("/files/");
                let len = if is_file { body.len() } else { payload.len() };
                let head = format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\nConnection: close\r\n{extra}\r\n");
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                if !is_file {
                    let _ = socket.write_all(&payload).await;
                    return;
                }
                match throttle {
                    None => {
                        let _ = socket.write_all(&body).await;
                    }
                    Some(bytes_per_sec) => {
                        // 64 KiB pieces, each followed by the time it takes at the throttled rate.
                        let piece = 64 * 1024;
                        let pause = Duration::from_secs_f64(piece as f64 / bytes_per_sec as f64);
                        for chunk in body.chunks(piece) {
                            if socket.write_all(chunk).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(pause).await;
                        }
                    }
                }
            });
        }
    });
    (uri, total)
}

fn session(uri: &str) -> Session {
    let client = OneUpClient::builder(AppCredentials::new("bench", Secret::new("")))
        .api_base(uri)
        .analytics_base(uri)
        .bulk_path("/bulk")
        .build()
        .unwrap();
    Session::new(client, Tokens::new(Secret::new("token"), None))
}

async fn one_run(uri: &str, parallel: usize, run: usize) -> Duration {
    let dir = std::env::temp_dir().join(format!("oneup-bench-{}-{parallel}-{run}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let export_dir = ExportDir::open(&dir).unwrap();
    let options = ExportOptions::new().parallel_files(parallel);
    let started = Instant::now();
    let summary = session(uri)
        .bulk::<R4>()
        .export_to(&export_dir, &ExportRequest::new(), &options, |_, _| {})
        .await
        .expect("export");
    let elapsed = started.elapsed();
    assert_eq!(
        summary.files.iter().map(|f| f.lines).sum::<u64>(),
        (FILES * LINES) as u64
    );
    let _ = std::fs::remove_dir_all(&dir);
    elapsed
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for (label, throttle) in [
            ("unthrottled loopback", None),
            ("8 MB/s per connection", Some(8_000_000)),
        ] {
            let (uri, total) = serve(throttle).await;
            let mut results = Vec::new();
            for parallel in [1, 4] {
                let mut times: Vec<Duration> = Vec::new();
                // Interleaved runs would be fairer still; 3 runs each, the median kept.
                for run in 0..3 {
                    times.push(one_run(&uri, parallel, run).await);
                }
                times.sort();
                let median = times[1];
                let mbps = total as f64 / 1e6 / median.as_secs_f64();
                println!(
                    "{label}: {parallel} file(s) at once: {:.1} MB in {median:.2?} (median of 3) = {mbps:.1} MB/s",
                    total as f64 / 1e6
                );
                results.push(mbps);
            }
            println!("{label}: 4 vs 1 parallel files: {:.2}x", results[1] / results[0]);
        }
    });
}
