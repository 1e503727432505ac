//! `connect folder://DROP`: a watched drop folder. A file is taken once it is complete (its size and
//! modification time unchanged for the settle time), ingested as one commit through the ingest use case,
//! then moved to `DROP/done/`, or to `DROP/failed/` with `NAME.reason.txt` beside it.
//!
//! What was taken is remembered in the lake itself: each commit's report keeps the file's name, size and
//! xxh3, so a restart (even one after a crash between the commit and the move) takes no file twice.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use millwright_connect::ConnectEvent;
use millwright_data::clean::CleanConfig;
use millwright_data::lake::{Lake, WriteMode};
use serde::Serialize;

use crate::data::{ingest_hashed, IngestRequest};
use crate::error::{AppError, Result};
use crate::{Event, Home, Observer};

/// Where finished files go, inside the drop folder.
pub const DONE_DIR: &str = "done";
pub const FAILED_DIR: &str = "failed";

#[derive(Debug, Clone)]
pub struct FolderRequest {
    pub folder: PathBuf,
    pub dataset: String,
    /// Which file names are taken (`*.csv`); files starting with `.` never are.
    pub pattern: String,
    /// How long a file's size and modification time must stay unchanged before it is taken.
    pub settle_ms: u64,
    pub clean: Option<CleanConfig>,
}

/// What one run of the drop-folder connector did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FolderResult {
    pub dataset: String,
    /// Files ingested and moved to `done/`.
    pub files: u64,
    pub rows: u64,
    /// Files moved to `failed/`.
    pub failed: u64,
    /// Files found already stored (same name, size and hash) and moved to `done/` without an ingest.
    pub already_stored: u64,
    pub latest_version: Option<i64>,
}

/// A file seen in the folder: what it looked like, and since when.
struct Seen {
    size: u64,
    modified: Option<SystemTime>,
    since: Instant,
}

/// Watches the folder until `shutdown`; a file being ingested when it comes is finished first.
pub async fn folder(
    home: &Home,
    req: &FolderRequest,
    observer: &Observer,
    shutdown: impl Future<Output = ()>,
) -> Result<FolderResult> {
    // A new file's rows go to the dataset, never straight into a quarantine table.
    millwright_data::names::validate_new_dataset_name(&req.dataset)?;
    let pattern = glob::Pattern::new(&req.pattern)
        .map_err(|e| AppError::invalid(format!("invalid file pattern {:?}: {e}", req.pattern)))?;
    if !req.folder.is_dir() {
        return Err(AppError::invalid(format!(
            "drop folder {} does not exist or is not a folder",
            req.folder.display()
        )));
    }
    for sub in [DONE_DIR, FAILED_DIR] {
        let dir = req.folder.join(sub);
        std::fs::create_dir_all(&dir)
            .map_err(|e| AppError::invalid(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut taken = taken_files(home, &req.dataset)?;
    let settle = Duration::from_millis(req.settle_ms);
    let poll = (settle / 4).clamp(Duration::from_millis(50), Duration::from_millis(500));
    let mut result = FolderResult {
        dataset: req.dataset.clone(),
        ..FolderResult::default()
    };
    emit(
        observer,
        ConnectEvent::Subscribed {
            filters: vec![req.folder.join(&req.pattern).display().to_string()],
        },
    );
    let mut seen: HashMap<PathBuf, Seen> = HashMap::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        for path in settled(&req.folder, &pattern, settle, &mut seen) {
            take(home, req, observer, &path, &mut taken, &mut result).await;
            seen.remove(&path);
        }
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(poll) => {}
        }
    }
    let lake = Lake::open(home.root())?;
    if lake.exists(&req.dataset) {
        result.latest_version = Some(lake.latest_version(&req.dataset)?);
    }
    Ok(result)
}

/// The files that match and have not changed for `settle`, sorted by name; updates what was seen.
fn settled(
    folder: &Path,
    pattern: &glob::Pattern,
    settle: Duration,
    seen: &mut HashMap<PathBuf, Seen>,
) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let now = Instant::now();
    let mut ready = Vec::new();
    let mut present = HashSet::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() || name.starts_with('.') || !pattern.matches(&name) {
            continue;
        }
        let path = entry.path();
        present.insert(path.clone());
        let (size, modified) = (meta.len(), meta.modified().ok());
        let current = seen.entry(path.clone()).or_insert(Seen {
            size,
            modified,
            since: now,
        });
        if current.size != size || current.modified != modified {
            *current = Seen {
                size,
                modified,
                since: now,
            };
        } else if now.duration_since(current.since) >= settle {
            ready.push(path);
        }
    }
    seen.retain(|path, _| present.contains(path));
    ready.sort();
    ready
}

/// Takes one settled file: skipped if stored before, else ingested; then moved out of the folder.
async fn take(
    home: &Home,
    req: &FolderRequest,
    observer: &Observer,
    path: &Path,
    taken: &mut HashSet<Identity>,
    result: &mut FolderResult,
) {
    let identity = match identify(path) {
        Ok(identity) => identity,
        Err(err) => {
            // Gone or unreadable meanwhile: looked at again on the next pass if it is still there.
            tracing::warn!(file = %path.display(), error = %err, "cannot read a dropped file");
            return;
        }
    };
    if taken.contains(&identity) {
        result.already_stored += 1;
        finish(req, path, DONE_DIR, None);
        return;
    }
    let mode = if Lake::open(home.root()).is_ok_and(|l| l.exists(&req.dataset)) {
        WriteMode::Append
    } else {
        WriteMode::Create
    };
    let request = IngestRequest {
        file: path.to_path_buf(),
        more: Vec::new(),
        dataset: req.dataset.clone(),
        mode,
        clean: req.clean.clone(),
        key: Vec::new(),
    };
    match ingest_hashed(
        home,
        &request,
        &Observer::silent(),
        Some(identity.xxh3.clone()),
    )
    .await
    {
        Ok(outcome) => {
            result.files += 1;
            result.rows += outcome.rows_written;
            taken.insert(identity);
            finish(req, path, DONE_DIR, None);
            emit(
                observer,
                ConnectEvent::Committed {
                    version: Some(outcome.version),
                    messages: 1,
                    readings: outcome.rows_written,
                    rejected: outcome.rows_quarantined,
                    duplicates: outcome.duplicates.map_or(0, |d| d.rows),
                    total_messages: result.files,
                    total_readings: result.rows,
                },
            );
        }
        Err(err) => {
            result.failed += 1;
            let reason = error_chain(&err);
            finish(req, path, FAILED_DIR, Some(&reason));
            emit(
                observer,
                ConnectEvent::CommitFailed {
                    reason: format!("{}: {reason}", path.display()),
                },
            );
        }
    }
}

/// A file as the lake remembers it: name, size, xxh3 of the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Identity {
    name: String,
    bytes: u64,
    xxh3: String,
}

fn identify(path: &Path) -> std::io::Result<Identity> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok(Identity {
        name: file_name(path),
        bytes,
        xxh3: format!("{:016x}", hasher.digest()),
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The files earlier commits of the dataset came from (those that kept a hash).
fn taken_files(home: &Home, dataset: &str) -> Result<HashSet<Identity>> {
    let lake = Lake::open(home.root())?;
    let mut taken = HashSet::new();
    if !lake.exists(dataset) {
        return Ok(taken);
    }
    for version in 0..=lake.latest_version(dataset)? {
        let Some((_, record)) = lake.commit_record(dataset, Some(version))? else {
            continue;
        };
        if let Some(source) = record.report.map(|r| r.source) {
            if let Some(xxh3) = source.xxh3 {
                taken.insert(Identity {
                    name: file_name(Path::new(&source.path)),
                    bytes: source.bytes,
                    xxh3,
                });
            }
        }
    }
    Ok(taken)
}

/// Moves a finished file to `done/` or `failed/` (a free name if one like it is there already), with
/// the reason beside a failed one. A move that fails is logged: the file stays, and being stored (or
/// failing again) it is not stored twice.
fn finish(req: &FolderRequest, path: &Path, sub: &str, reason: Option<&str>) {
    let dir = req.folder.join(sub);
    let name = file_name(path);
    let mut target = dir.join(&name);
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    if let Err(err) = std::fs::rename(path, &target) {
        tracing::warn!(file = %path.display(), error = %err, "cannot move a dropped file");
        return;
    }
    if let Some(reason) = reason {
        let note = PathBuf::from(format!("{}.reason.txt", target.display()));
        if let Err(err) = std::fs::write(&note, format!("{reason}\n")) {
            tracing::warn!(file = %note.display(), error = %err, "cannot write the reason");
        }
    }
}

fn error_chain(err: &AppError) -> String {
    std::iter::successors(Some(err as &dyn std::error::Error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

fn emit(observer: &Observer, event: ConnectEvent) {
    observer.emit(Event::Live { connector: event });
}
