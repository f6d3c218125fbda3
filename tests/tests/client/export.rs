//! Export at scale (`Bulk::export_to`) against the scripted bulk server: 300,000 lines over 60 files with
//! transient 500s and 503s, connections dropped mid-file, and a run killed (its task aborted) with one file
//! half-written and restarted; partial files are continued with `Range` requests (one whose ETag changed is
//! downloaded again whole); the final files hold exactly the server's lines. Then a `_since` run from the
//! recorded `transactionTime`, cancel of a recorded run, and the error file read as OperationOutcomes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::bulk_server::{BulkServer, Script};
use crate::support::*;
use fhir_models::r4::R4;
use oneup_client::{ExportDir, ExportEvent, ExportOptions, ExportRequest, OneUpClient, RetryPolicy, Session};

fn session_at(uri: &str) -> Session {
    let client = OneUpClient::builder(oneup_client::AppCredentials::new(CLIENT_ID, CLIENT_SECRET))
        .api_base(uri)
        .token_url(format!("{uri}/oauth2/token"))
        .analytics_base(uri)
        .system_search_base(uri)
        .bulk_path("/bulk")
        .retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(1),
        })
        .build()
        .expect("client");
    session(client)
}

fn options() -> ExportOptions {
    ExportOptions::new()
        .parallel_files(4)
        .file_retries(3, Duration::from_millis(5))
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("oneup-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_faulty_export_resumes_and_holds_exactly_the_servers_lines() {
    const FILES: usize = 60;
    const LINES: usize = 5_000;
    let script = Script {
        files: FILES,
        lines_per_file: LINES,
        fail_500_first: [3, 7, 11, 40].into(),
        fail_503_first: [5, 41].into(),
        drop_mid_first: [13, 17, 42].into(),
        stall_first: Some(30),
        later_files: 2,
        first_poll_retry_after: 0,
        ranges: true,
        etag_changes: [42].into(),
    };
    let server = BulkServer::start(script).await;
    let bulk = session_at(&server.uri).bulk::<R4>();
    let root = temp_dir("faults");
    let dir = ExportDir::open(&root).expect("dir");

    // Run 1: killed once file 30 is half-written and 20 files are complete.
    let done_in_run_1 = Arc::new(Mutex::new(Vec::<String>::new()));
    let retries_in_run_1 = Arc::new(AtomicUsize::new(0));
    let run_1 = {
        let (bulk, dir, done, retries) = (
            bulk.clone(),
            dir.clone(),
            done_in_run_1.clone(),
            retries_in_run_1.clone(),
        );
        tokio::spawn(async move {
            bulk.export_to(
                &dir,
                &ExportRequest::new().types(["Observation"]),
                &options(),
                move |event, _| match event {
                    ExportEvent::FileDone { file, .. } => done.lock().unwrap().push(file.clone()),
                    ExportEvent::FileRetry { .. } => {
                        retries.fetch_add(1, Ordering::SeqCst);
                    }
                    _ => {}
                },
            )
            .await
        })
    };
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        // The server has sent half of file 30 and stalls; the client has 20 files and has written that half (it
        // may reach the disk a little after the server marks the stall, on a loaded machine).
        let part = root.join("run-0001/0030-Observation.ndjson.part");
        while !(server.stalled.load(Ordering::SeqCst) && done_in_run_1.lock().unwrap().len() >= 20 && part.is_file()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "run 1 never reached the point where it is killed");
    run_1.abort();
    assert!(run_1.await.expect_err("aborted").is_cancelled());
    assert!(dir.has_unfinished_run().expect("state"));
    let done_1: Vec<String> = done_in_run_1.lock().unwrap().clone();
    let requests_before: Vec<u32> = server.seen.lock().unwrap().file_requests.clone();
    assert!(
        root.join("run-0001/0030-Observation.ndjson.part").is_file(),
        "the stalled file is half-written"
    );
    assert!(!root.join("run-0001/0030-Observation.ndjson").exists());

    // Run 2: resumes; no new kick-off, finished files are not downloaded again.
    let resumed = Arc::new(AtomicUsize::new(0));
    let last_totals = Arc::new(Mutex::new(None));
    let summary = {
        let (resumed, last) = (resumed.clone(), last_totals.clone());
        bulk.export_to(&dir, &ExportRequest::new(), &options(), move |event, totals| {
            if matches!(event, ExportEvent::Resumed) {
                resumed.fetch_add(1, Ordering::SeqCst);
            }
            *last.lock().unwrap() = Some(totals.clone());
        })
        .await
        .expect("run 2")
    };
    assert_eq!(resumed.load(Ordering::SeqCst), 1);
    let seen = server.seen.lock().unwrap();
    assert_eq!(seen.kick_offs.len(), 1, "the resumed run does not kick off again");
    for name in &done_1 {
        let i: usize = name[..4].parse().unwrap_or(usize::MAX);
        if i < FILES {
            assert_eq!(
                seen.file_requests[i], requests_before[i],
                "{name} was complete and was downloaded again"
            );
        }
    }
    // Every faulty file needed more than one request (the transport retried the 503s itself).
    for i in [3, 7, 11, 13, 17, 30, 40, 41, 42] {
        assert!(
            seen.file_requests[i] >= 2,
            "file {i}: {} request(s)",
            seen.file_requests[i]
        );
    }
    // The cut and the stalled files were continued where their parts ended, guarded by their ETag; file 42,
    // whose ETag changed, was answered whole.
    for i in [13, 17, 30, 42] {
        let asked: Vec<_> = seen.ranges.iter().filter(|r| r.file == i).collect();
        assert_eq!(asked.len(), 1, "file {i}: range requests {asked:?}");
        let r = asked[0];
        assert!(r.from > 0 && r.from <= (server.bodies[i].len() / 2 + 7) as u64, "file {i}: from {}", r.from);
        assert_eq!(r.if_range.as_deref(), Some(format!("\"file-{i}\"").as_str()), "file {i}");
        assert_eq!(r.partial, i != 42, "file {i}");
    }
    // The other range requests are for the files in flight when run 1 was killed: continued too.
    for r in seen.ranges.iter().filter(|r| ![13, 17, 30, 42].contains(&r.file)) {
        assert!(!done_1.contains(&format!("{:04}-Observation.ndjson", r.file)), "{r:?}: the file was complete");
        assert!(r.partial && r.from > 0 && (r.from as usize) < server.bodies[r.file].len(), "{r:?}");
    }
    drop(seen);
    assert_eq!(
        summary.downloaded,
        FILES + 1 - done_1.len(),
        "only the unfinished files are downloaded"
    );
    let totals = last_totals.lock().unwrap().clone().expect("progress");
    assert_eq!((totals.files_done, totals.files_total), (FILES + 1, FILES + 1));

    // Exactly the server's lines, none lost or doubled.
    let mut lines = 0;
    for (i, body) in server.bodies.iter().enumerate() {
        let path = root.join(format!("run-0001/{i:04}-Observation.ndjson"));
        let written = std::fs::read(&path).expect("file");
        assert!(
            written == *body,
            "{} differs from the server's file ({} vs {} bytes)",
            path.display(),
            written.len(),
            body.len()
        );
        lines += summary.files[i].lines;
    }
    assert_eq!(lines, (FILES * LINES) as u64);
    assert!(!root.join("run-0001/0030-Observation.ndjson.part").exists());
    assert!(!dir.has_unfinished_run().expect("state"));

    // The error file, read as OperationOutcomes.
    let outcomes = ExportDir::read_outcomes::<R4>(&summary).expect("outcomes");
    assert_eq!(outcomes.len(), 2);
    assert_eq!(
        outcomes[0].issue[0]
            .diagnostics
            .as_ref()
            .and_then(|d| d.value.as_deref()),
        Some("Patient/p9 could not be exported")
    );

    // An incremental run starts at the recorded transactionTime.
    assert_eq!(
        dir.last_transaction_time().expect("state").as_deref(),
        Some("2024-06-01T00:00:00Z")
    );
    let incremental = bulk
        .export_to(&dir, &ExportRequest::new(), &options().since_last_run(true), |_, _| {})
        .await
        .expect("incremental run");
    assert_eq!(incremental.run_dir, root.join("run-0002"));
    assert_eq!(incremental.files.len(), 3);
    assert_eq!(
        server.seen.lock().unwrap().kick_offs[1],
        "_since=2024-06-01T00%3A00%3A00Z"
    );
    assert_eq!(
        dir.last_transaction_time().expect("state").as_deref(),
        Some("2024-06-02T00:00:00Z")
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn a_run_killed_while_polling_is_recorded_and_cancelled() {
    let server = BulkServer::start(Script {
        files: 1,
        lines_per_file: 3,
        later_files: 1,
        // The job stays in progress for 30 s after the first poll, so the run is surely still polling when it
        // is killed (with `Retry-After: 0` it could finish first on a loaded machine).
        first_poll_retry_after: 30,
        ..Script::default()
    })
    .await;
    let bulk = session_at(&server.uri).bulk::<R4>();
    let root = temp_dir("cancel");
    let dir = ExportDir::open(&root).expect("dir");
    // Kill the run while it polls.
    let polling = oneup_client::PollPolicy {
        default_interval: Duration::from_secs(30),
        max_interval: Duration::from_secs(30),
        max_wait: Duration::from_secs(60),
    };
    let slow = bulk.clone().with_polling(polling);
    let run = tokio::spawn({
        let dir = dir.clone();
        async move {
            slow.export_to(&dir, &ExportRequest::new().patients(), &options(), |_, _| {})
                .await
        }
    });
    while server.seen.lock().unwrap().polls == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    run.abort();
    let _ = run.await;
    assert!(dir.has_unfinished_run().expect("state"));
    bulk.cancel_export_in(&dir).await.expect("cancel");
    assert!(!dir.has_unfinished_run().expect("state"));

    let state = std::fs::read_to_string(root.join("export-state.json")).expect("state file");
    assert!(state.contains("\"runs\": 1"), "{state}");
    let _ = std::fs::remove_dir_all(&root);
}
