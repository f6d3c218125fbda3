//! Export at scale: a bulk-data export run into a directory that records what was asked, the manifest and each
//! file's state, so that an interrupted run resumes where it stopped, with several files downloaded at once,
//! per-file retries of transient failures and `_since` runs that start from the last run's `transactionTime`.
//!
//! Layout of an export directory:
//!
//! - `export-state.json`: the run in progress (its kick-off parameters, status URL, manifest, and per file its
//!   local name, state, line and byte counts) and the `transactionTime` of the last complete run. Written to a
//!   temporary name and renamed, so it is always whole.
//! - `run-0001/0000-Patient.ndjson`, …, `run-0001/error-0000.ndjson`: the files of each run. A file is written
//!   to `….ndjson.part` and renamed when complete. A partial file (a dropped connection, a killed run) is
//!   continued where it stopped with an HTTP `Range: bytes=N-` request, guarded by `If-Range` with the file's
//!   validator (its strong `ETag`, else `Last-Modified`, recorded in the state) when the server gave one: only a
//!   `206 Partial Content` answer whose `Content-Range` starts at `N` is appended; any other success (a server
//!   without ranges, a file that changed) is written again from its start, and a `416` restarts the file. So no
//!   line is lost or doubled.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fhir_models::FhirVersion;
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use url::Url;

use http::header::{HeaderMap, HeaderValue, CONTENT_RANGE, ETAG, IF_RANGE, LAST_MODIFIED, RANGE};

use crate::bulk::{open_download, Bulk, ExportLevel, ExportRequest, Manifest, OutputFile, Progress};
use crate::decode;
use crate::error::{Error, Result};
use crate::transport::Call;

const STATE_FILE: &str = "export-state.json";

/// How an export run downloads (see [`Bulk::export_to`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportOptions {
    /// Files downloaded at once (at least 1).
    pub parallel_files: usize,
    /// Attempts of one file after the first, on transient failures (5xx, timeouts, dropped connections).
    pub file_retries: u32,
    /// Wait before the first retry of a file; doubled each time, at most `max_backoff`.
    pub initial_backoff: Duration,
    /// Upper bound of the doubled wait.
    pub max_backoff: Duration,
    /// Start a new run at the `transactionTime` of the last complete run in the directory (`_since`), unless
    /// the request sets `_since` itself.
    pub since_last_run: bool,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            parallel_files: 4,
            file_retries: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            since_last_run: false,
        }
    }
}

impl ExportOptions {
    /// The defaults: 4 files at once, 5 retries per file from 0.5 s, no `_since` from the last run.
    pub fn new() -> Self {
        ExportOptions::default()
    }

    /// Files downloaded at once.
    #[must_use]
    pub fn parallel_files(mut self, n: usize) -> Self {
        self.parallel_files = n.max(1);
        self
    }

    /// Retries per file and the first backoff.
    #[must_use]
    pub fn file_retries(mut self, retries: u32, initial_backoff: Duration) -> Self {
        self.file_retries = retries;
        self.initial_backoff = initial_backoff;
        self
    }

    /// Start from the last complete run's `transactionTime`.
    #[must_use]
    pub fn since_last_run(mut self, yes: bool) -> Self {
        self.since_last_run = yes;
        self
    }
}

/// What happened, as an export run reports it to its progress callback (with the running [`ExportTotals`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ExportEvent {
    /// A new export was kicked off (with the `_since` it used, if any).
    KickedOff {
        /// The `_since` sent.
        since: Option<String>,
    },
    /// A run in progress found in the directory is resumed.
    Resumed,
    /// The server is still preparing the export.
    Polled(Progress),
    /// The manifest is in: the files to download are known.
    Manifest,
    /// A piece of a file was written.
    Bytes {
        /// The local file name.
        file: String,
    },
    /// A file is complete.
    FileDone {
        /// The local file name.
        file: String,
        /// Its lines.
        lines: u64,
    },
    /// A file failed transiently and is downloaded again from its start.
    FileRetry {
        /// The local file name.
        file: String,
        /// The attempt that failed (1 = the first).
        attempt: u32,
        /// Why.
        error: String,
    },
}

/// Running totals of a run: bytes and lines written, files done (those done by an earlier, interrupted run
/// included), files in the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportTotals {
    /// Bytes written by this run.
    pub bytes: u64,
    /// Complete lines written by this run.
    pub lines: u64,
    /// Files complete.
    pub files_done: usize,
    /// Files in the manifest (output and error files).
    pub files_total: usize,
}

/// What a finished run holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportSummary {
    /// The run's directory (`run-0001`, …) below the export directory.
    pub run_dir: PathBuf,
    /// The manifest.
    pub manifest: Manifest,
    /// Each file: its local path, resource type, whether it is an error file, its lines.
    pub files: Vec<ExportedFile>,
    /// Files downloaded by this call (the others were complete already).
    pub downloaded: usize,
}

/// One downloaded file of an [`ExportSummary`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExportedFile {
    /// Where it is.
    pub path: PathBuf,
    /// The resource type of its lines.
    pub resource_type: String,
    /// An error file (`OperationOutcome`s).
    pub is_error: bool,
    /// Its lines.
    pub lines: u64,
    /// Its bytes.
    pub bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirState {
    /// `transactionTime` of the last complete run.
    #[serde(default)]
    last_transaction_time: Option<String>,
    /// Runs started so far.
    #[serde(default)]
    runs: u32,
    #[serde(default)]
    current: Option<RunState>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunState {
    run_dir: String,
    /// The kick-off parameters, for the record.
    request: Vec<(String, String)>,
    #[serde(default)]
    status_url: Option<String>,
    #[serde(default)]
    manifest: Option<Manifest>,
    #[serde(default)]
    files: Vec<FileState>,
    #[serde(default)]
    complete: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileState {
    name: String,
    #[serde(rename = "type")]
    resource_type: String,
    url: String,
    is_error: bool,
    done: bool,
    lines: u64,
    bytes: u64,
    /// The validator of the file as the server last sent it (a strong `ETag`, else `Last-Modified`), for
    /// `If-Range` when a partial download is continued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    validator: Option<String>,
}

fn io_error<'a>(path: &'a Path, what: &'static str) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::ExportIo {
        path: path.display().to_string(),
        what,
        source,
    }
}

/// Writes `bytes` to `path` by way of a temporary file and a rename, so a reader never sees half of it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut file = fs::File::create(&tmp).map_err(io_error(&tmp, "cannot create"))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_error(&tmp, "cannot write"))?;
    fs::rename(&tmp, path).map_err(io_error(path, "cannot rename into place"))
}

/// An export directory (see the module docs): where [`Bulk::export_to`] writes and what it resumes from.
#[derive(Debug, Clone)]
pub struct ExportDir {
    root: PathBuf,
}

impl ExportDir {
    /// Opens (and creates when missing) the directory.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(io_error(&root, "cannot create"))?;
        Ok(ExportDir { root })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// The `transactionTime` of the last complete run, the `_since` of the next incremental one.
    pub fn last_transaction_time(&self) -> Result<Option<String>> {
        Ok(self.load()?.last_transaction_time)
    }

    /// Whether a run was started and not finished (the next [`Bulk::export_to`] resumes it).
    pub fn has_unfinished_run(&self) -> Result<bool> {
        Ok(self.load()?.current.is_some_and(|run| !run.complete))
    }

    fn state_path(&self) -> PathBuf {
        self.root.join(STATE_FILE)
    }

    fn load(&self) -> Result<DirState> {
        let path = self.state_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::ExportState {
                path: path.display().to_string(),
                message: format!("unreadable state: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DirState::default()),
            Err(e) => Err(io_error(&path, "cannot read")(e)),
        }
    }

    fn save(&self, state: &DirState) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(state).map_err(|e| Error::ExportState {
            path: self.state_path().display().to_string(),
            message: format!("cannot serialize the state: {e}"),
        })?;
        write_atomically(&self.state_path(), &bytes)
    }

    /// The `OperationOutcome`s of the error files of a run, read as version `V`; a line that is not one is an
    /// [`Error::NdjsonLine`] naming the file and line.
    pub fn read_outcomes<V: FhirVersion>(summary: &ExportSummary) -> Result<Vec<V::OperationOutcome>> {
        let mut outcomes = Vec::new();
        for file in summary.files.iter().filter(|f| f.is_error) {
            let text = fs::read_to_string(&file.path).map_err(io_error(&file.path, "cannot read"))?;
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let outcome = decode::fhir_text::<V::OperationOutcome>(line, false).map_err(|e| Error::NdjsonLine {
                    file: file.path.display().to_string(),
                    line: i as u64 + 1,
                    message: e.to_string(),
                })?;
                outcomes.push(outcome);
            }
        }
        Ok(outcomes)
    }
}

/// A file name part made of the resource type's letters and digits only.
fn safe_type(name: &str) -> String {
    let kept: String = name.chars().filter(char::is_ascii_alphanumeric).take(64).collect();
    if kept.is_empty() {
        "file".into()
    } else {
        kept
    }
}

fn file_states(manifest: &Manifest) -> Vec<FileState> {
    let entry = |i: usize, f: &OutputFile, is_error: bool| FileState {
        name: if is_error {
            format!("error-{i:04}-{}.ndjson", safe_type(&f.resource_type))
        } else {
            format!("{i:04}-{}.ndjson", safe_type(&f.resource_type))
        },
        resource_type: f.resource_type.clone(),
        url: f.url.clone(),
        is_error,
        done: false,
        lines: 0,
        bytes: 0,
        validator: None,
    };
    let outputs = manifest.output.iter().enumerate().map(|(i, f)| entry(i, f, false));
    let errors = manifest.error.iter().enumerate().map(|(i, f)| entry(i, f, true));
    outputs.chain(errors).collect()
}

/// The progress callback of a run.
type OnProgress = Box<dyn Fn(&ExportEvent, &ExportTotals) + Send + Sync>;

/// The shared state of a run while its files download.
struct Shared {
    dir: ExportDir,
    state: Mutex<(DirState, ExportTotals)>,
    on_progress: OnProgress,
}

impl Shared {
    fn report(&self, event: ExportEvent, update: impl FnOnce(&mut ExportTotals)) {
        let totals = {
            let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
            update(&mut guard.1);
            guard.1.clone()
        };
        (self.on_progress)(&event, &totals);
    }

    fn update_run(&self, update: impl FnOnce(&mut RunState)) -> Result<()> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(run) = guard.0.current.as_mut() {
            update(run);
        }
        self.dir.save(&guard.0)
    }
}

impl<V: FhirVersion> Bulk<V> {
    /// Runs an export into `dir`: resumes the run the directory records as unfinished (polling its status URL,
    /// or downloading the files not complete yet), or kicks off a new one with `request` (with `_since` from
    /// the last complete run when [`ExportOptions::since_last_run`]), then downloads `options.parallel_files`
    /// files at once, retrying each on transient failures from its start. `on_progress` is called with each
    /// [`ExportEvent`] and the running totals. When every file is complete, the run's `transactionTime` becomes
    /// the directory's [`last_transaction_time`](ExportDir::last_transaction_time).
    ///
    /// Dropping the future (a killed run) loses nothing: the next call resumes.
    ///
    /// ```no_run
    /// use fhir_models::r4::R4;
    /// use oneup_client::{ExportDir, ExportOptions, ExportRequest, Session};
    /// # async fn demo(session: Session) -> oneup_client::Result<()> {
    /// let dir = ExportDir::open("exports/claims")?;
    /// let options = ExportOptions::new().parallel_files(4).since_last_run(true);
    /// let request = ExportRequest::new().types(["ExplanationOfBenefit", "Coverage"]);
    /// let summary = session
    ///     .bulk::<R4>()
    ///     .export_to(&dir, &request, &options, |_event, totals| {
    ///         eprintln!("{} / {} files, {} lines", totals.files_done, totals.files_total, totals.lines)
    ///     })
    ///     .await?;
    /// println!("{} files in {}", summary.files.len(), summary.run_dir.display());
    /// # Ok(()) }
    /// ```
    pub async fn export_to(
        &self,
        dir: &ExportDir,
        request: &ExportRequest,
        options: &ExportOptions,
        on_progress: impl Fn(&ExportEvent, &ExportTotals) + Send + Sync + 'static,
    ) -> Result<ExportSummary> {
        let mut state = dir.load()?;
        let resuming = state.current.as_ref().is_some_and(|run| !run.complete);
        let mut events: Vec<ExportEvent> = Vec::new();
        if !resuming {
            let mut request = request.clone();
            let since = match (
                request.since_instant(),
                options.since_last_run,
                &state.last_transaction_time,
            ) {
                (None, true, Some(last)) => Some(last.clone()),
                _ => None,
            };
            if let Some(since) = &since {
                request = request.since(since.clone());
            }
            state.runs += 1;
            let run_dir = format!("run-{:04}", state.runs);
            let job = self.kick_off(&request).await?;
            state.current = Some(RunState {
                run_dir,
                request: request_record(&request),
                status_url: job.status_url().map(|u| u.to_string()),
                manifest: job.immediate_manifest().cloned(),
                files: Vec::new(),
                complete: false,
            });
            dir.save(&state)?;
            events.push(ExportEvent::KickedOff {
                since: request.since_instant().map(str::to_owned),
            });
        } else {
            events.push(ExportEvent::Resumed);
        }
        let shared = Arc::new(Shared {
            dir: dir.clone(),
            state: Mutex::new((state, ExportTotals::default())),
            on_progress: Box::new(on_progress),
        });
        for event in events {
            shared.report(event, |_| {});
        }
        let run = current(&shared)?;
        let manifest = match run.manifest {
            Some(manifest) => manifest,
            None => {
                let url = run.status_url.as_deref().unwrap_or_default();
                let url = Url::parse(url).map_err(|e| Error::ExportState {
                    path: dir.state_path().display().to_string(),
                    message: format!("the recorded status URL is not a URL: {e}"),
                })?;
                let job = self.job_at(url)?;
                let reporter = shared.clone();
                let manifest = job
                    .wait(move |p| reporter.report(ExportEvent::Polled(p.clone()), |_| {}))
                    .await?;
                shared.update_run(|run| run.manifest = Some(manifest.clone()))?;
                manifest
            }
        };
        if current(&shared)?.files.is_empty() {
            let files = file_states(&manifest);
            shared.update_run(|run| run.files = files)?;
        }
        let run = current(&shared)?;
        let run_dir = dir.root.join(&run.run_dir);
        fs::create_dir_all(&run_dir).map_err(io_error(&run_dir, "cannot create"))?;
        let done = run
            .files
            .iter()
            .filter(|f| f.done && run_dir.join(&f.name).is_file())
            .count();
        shared.report(ExportEvent::Manifest, |t| {
            t.files_total = run.files.len();
            t.files_done = done;
        });
        let pending: Vec<usize> = (0..run.files.len())
            .filter(|&i| !(run.files[i].done && run_dir.join(&run.files[i].name).is_file()))
            .collect();
        let downloaded = pending.len();
        let results: Vec<Result<()>> = stream::iter(pending)
            .map(|i| self.download_file(&shared, &manifest, &run_dir, i, options))
            .buffer_unordered(options.parallel_files.max(1))
            .collect()
            .await;
        results.into_iter().collect::<Result<Vec<()>>>()?;
        let run = current(&shared)?;
        {
            let mut guard = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(run) = guard.0.current.as_mut() {
                run.complete = true;
            }
            if manifest.transaction_time.is_some() {
                guard.0.last_transaction_time = manifest.transaction_time.clone();
            }
            dir.save(&guard.0)?;
        }
        let files = run
            .files
            .iter()
            .map(|f| ExportedFile {
                path: run_dir.join(&f.name),
                resource_type: f.resource_type.clone(),
                is_error: f.is_error,
                lines: f.lines,
                bytes: f.bytes,
            })
            .collect();
        Ok(ExportSummary {
            run_dir,
            manifest,
            files,
            downloaded,
        })
    }

    /// Cancels the unfinished run recorded in `dir` (a `DELETE` on its status URL) and forgets it; nothing is
    /// sent when the run has no status URL (an immediate manifest). The files already written stay.
    pub async fn cancel_export_in(&self, dir: &ExportDir) -> Result<()> {
        let mut state = dir.load()?;
        let Some(run) = state.current.take().filter(|run| !run.complete) else {
            return Ok(());
        };
        if let Some(url) = run.status_url.as_deref().and_then(|u| Url::parse(u).ok()) {
            self.job_at(url)?.cancel().await?;
        }
        dir.save(&state)
    }

    /// Downloads file `index` of the run, retrying transient failures from the start of the file.
    async fn download_file(
        &self,
        shared: &Shared,
        manifest: &Manifest,
        run_dir: &Path,
        index: usize,
        options: &ExportOptions,
    ) -> Result<()> {
        let entry = current(shared)?.files[index].clone();
        let file = OutputFile {
            resource_type: entry.resource_type.clone(),
            url: entry.url.clone(),
            count: None,
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.download_once(shared, manifest, &file, run_dir, index).await {
                Ok((lines, bytes)) => {
                    shared.update_run(|run| {
                        let f = &mut run.files[index];
                        (f.done, f.lines, f.bytes) = (true, lines, bytes);
                    })?;
                    shared.report(
                        ExportEvent::FileDone {
                            file: entry.name.clone(),
                            lines,
                        },
                        |t| t.files_done += 1,
                    );
                    return Ok(());
                }
                Err((e, written)) if e.is_transient() && attempt <= options.file_retries => {
                    tracing::debug!(file = %entry.name, attempt, error = %e, "download failed; trying the file again");
                    let (bytes, lines) = written;
                    shared.report(
                        ExportEvent::FileRetry {
                            file: entry.name.clone(),
                            attempt,
                            error: e.to_string(),
                        },
                        |t| {
                            t.bytes -= bytes;
                            t.lines -= lines;
                        },
                    );
                    let backoff = options
                        .initial_backoff
                        .saturating_mul(1u32 << (attempt - 1).min(16))
                        .min(options.max_backoff);
                    let wait = e.retry_after().map_or(backoff, |r| r.min(options.max_backoff));
                    tokio::time::sleep(wait).await;
                }
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// One attempt: the file written to `name.part` (continuing a partial one, see the module docs), counted,
    /// and renamed to `name`. On failure, the bytes and lines this attempt had reported (they are taken back from
    /// the totals).
    async fn download_once(
        &self,
        shared: &Shared,
        manifest: &Manifest,
        file: &OutputFile,
        run_dir: &Path,
        index: usize,
    ) -> std::result::Result<(u64, u64), (Error, (u64, u64))> {
        let entry = current(shared).map_err(|e| (e, (0, 0)))?.files[index].clone();
        let name = entry.name.as_str();
        let part = run_dir.join(format!("{name}.part"));
        let target = run_dir.join(name);
        let kept = fs::metadata(&part).map_or(0, |m| m.len());
        let (call, with_token) = self.download_call(manifest, file).map_err(|e| (e, (0, 0)))?;
        let ranged = kept > 0;
        let opened = match open_download::<V>(self.session(), with_range(call.clone(), kept, &entry.validator), with_token).await {
            // The part is longer than the file now is: start again.
            Err(e) if ranged && e.status() == Some(416) => {
                tracing::debug!(file = %name, kept, "range not satisfiable; downloading the file from its start");
                open_download::<V>(self.session(), call.clone(), with_token).await
            }
            other => other,
        };
        let mut opened = opened.map_err(|e| (e, (0, 0)))?;
        let continues = ranged && opened.status.as_u16() == 206 && content_range_start(&opened.headers) == Some(kept);
        if opened.status.as_u16() == 206 && !continues {
            // A part of the file that does not start where the local part ends cannot be used: the whole file.
            tracing::debug!(file = %name, kept, "unusable partial answer; downloading the file from its start");
            opened = open_download::<V>(self.session(), call, with_token).await.map_err(|e| (e, (0, 0)))?;
        }
        let validator = validator_of(&opened.headers);
        if validator.is_some() && validator != entry.validator {
            shared.update_run(|run| run.files[index].validator = validator.clone()).map_err(|e| (e, (0, 0)))?;
        }
        let created = if continues {
            fs::OpenOptions::new().append(true).open(&part).map_err(io_error(&part, "cannot open"))
        } else {
            fs::File::create(&part).map_err(io_error(&part, "cannot create"))
        };
        let mut out = BufWriter::with_capacity(256 * 1024, created.map_err(|e| (e, (0, 0)))?);
        let (mut bytes, mut lines, mut last) = (0u64, 0u64, b'\n');
        if continues {
            (lines, last) = count_lines(&part).map_err(|e| (e, (0, 0)))?;
            bytes = kept;
            tracing::debug!(file = %name, kept, "continuing a partial download");
            shared.report(ExportEvent::Bytes { file: name.to_owned() }, |t| {
                t.bytes += bytes;
                t.lines += lines;
            });
        }
        loop {
            let chunk = match opened.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return Err((e, (bytes, lines))),
            };
            if chunk.is_empty() {
                continue;
            }
            out.write_all(&chunk)
                .map_err(|e| (io_error(&part, "cannot write")(e), (bytes, lines)))?;
            let new_lines = chunk.iter().filter(|&&b| b == b'\n').count() as u64;
            (bytes, lines, last) = (bytes + chunk.len() as u64, lines + new_lines, chunk[chunk.len() - 1]);
            shared.report(ExportEvent::Bytes { file: name.to_owned() }, |t| {
                t.bytes += chunk.len() as u64;
                t.lines += new_lines;
            });
        }
        if last != b'\n' {
            // A last line without its newline is a line too; it is ended so that files can be concatenated.
            out.write_all(b"\n")
                .map_err(|e| (io_error(&part, "cannot write")(e), (bytes, lines)))?;
            lines += 1;
            bytes += 1;
            shared.report(ExportEvent::Bytes { file: name.to_owned() }, |t| {
                t.lines += 1;
                t.bytes += 1;
            });
        }
        let file = out
            .into_inner()
            .map_err(|e| (io_error(&part, "cannot write")(e.into_error()), (bytes, lines)))?;
        file.sync_all()
            .map_err(|e| (io_error(&part, "cannot write")(e), (bytes, lines)))?;
        fs::rename(&part, &target).map_err(|e| (io_error(&target, "cannot rename into place")(e), (bytes, lines)))?;
        Ok((lines, bytes))
    }
}

/// `call` asking for the file from byte `from` on (nothing added when `from` is 0), only if it is still the
/// file `validator` names.
fn with_range(mut call: Call, from: u64, validator: &Option<String>) -> Call {
    if from > 0 {
        if let Ok(range) = HeaderValue::try_from(format!("bytes={from}-")) {
            call.headers.insert(RANGE, range);
            if let Some(v) = validator.as_deref().and_then(|v| HeaderValue::try_from(v).ok()) {
                call.headers.insert(IF_RANGE, v);
            }
        }
    }
    call
}

/// A validator `If-Range` may carry: a strong `ETag` (a weak one may not be used), else `Last-Modified`.
fn validator_of(headers: &HeaderMap) -> Option<String> {
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::trim);
    text(ETAG)
        .filter(|e| e.starts_with('"'))
        .or_else(|| text(LAST_MODIFIED))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The first byte of a `Content-Range: bytes FIRST-LAST/LENGTH` answer.
fn content_range_start(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    range.split_once('-')?.0.trim().parse().ok()
}

/// The newlines in a partial file and its last byte (`\n` when empty), to continue counting after it.
fn count_lines(path: &Path) -> Result<(u64, u8)> {
    use std::io::Read;
    let mut file = fs::File::open(path).map_err(io_error(path, "cannot read"))?;
    let (mut lines, mut last, mut buf) = (0u64, b'\n', vec![0u8; 256 * 1024]);
    loop {
        let n = file.read(&mut buf).map_err(io_error(path, "cannot read"))?;
        if n == 0 {
            return Ok((lines, last));
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
}

/// The run being downloaded (set by `export_to` before anything else; its absence is a state error, not a panic).
fn current(shared: &Shared) -> Result<RunState> {
    let guard = shared.state.lock().unwrap_or_else(|p| p.into_inner());
    guard.0.current.clone().ok_or_else(|| Error::ExportState {
        path: shared.dir.state_path().display().to_string(),
        message: "no run is recorded".into(),
    })
}

fn request_record(request: &ExportRequest) -> Vec<(String, String)> {
    let level = match request.level() {
        ExportLevel::System => "system".to_owned(),
        ExportLevel::Patient => "patient".to_owned(),
        ExportLevel::Group(id) => format!("group:{id}"),
    };
    let mut record = vec![("level".to_owned(), level)];
    record.extend(request.query_pairs());
    record
}
