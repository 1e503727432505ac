//! Tracked training runs: a filtered page of them, one with its files and history, two compared.

use std::path::{Path, PathBuf};

use millwright_learn::tracking::{
    RunComparison, RunFilter, RunRecord, RunStore, ScalarHistory, METRICS_FILE,
};
use serde::Serialize;

use crate::error::{io, Context, Result};
use crate::Home;

fn store(home: &Home) -> Result<RunStore> {
    RunStore::open(home.root())
        .with_context(|| format!("opening the run store of {}", home.root().display()))
}

/// A run in a list: its record, and whether it is a dead "running" run.
#[derive(Debug, Clone, Serialize)]
pub struct ListedRun {
    #[serde(flatten)]
    pub record: RunRecord,
    /// Status running, but the recording process is gone: the run will never finish.
    pub interrupted: bool,
}

/// One page of runs, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct RunPage {
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
    pub runs: Vec<ListedRun>,
    /// Where the runs are stored, for messages such as "no runs in ...".
    #[serde(skip)]
    pub root: PathBuf,
}

pub fn list(home: &Home, filter: &RunFilter, limit: u64, offset: u64) -> Result<RunPage> {
    let store = store(home)?;
    let page = store.list(filter, limit, offset)?;
    Ok(RunPage {
        total: page.total,
        offset: page.offset,
        limit,
        runs: page
            .runs
            .into_iter()
            .map(|record| ListedRun {
                interrupted: record.is_interrupted(),
                record,
            })
            .collect(),
        root: store.root().to_owned(),
    })
}

/// Marks runs left "running" by a process that is gone (a killed server or CLI) as failed with `reason`;
/// returns how many.
pub fn fail_interrupted(home: &Home, reason: &str) -> Result<usize> {
    Ok(store(home)?.fail_interrupted(reason)?.len())
}

/// Deletes a tracked run (its full id) with its files: refused while a live process records it.
pub fn delete(home: &Home, id: &str) -> Result<RunRecord> {
    Ok(store(home)?.delete(id)?)
}

/// One run with where its files are and its per-epoch history.
#[derive(Debug, Clone, Serialize)]
pub struct RunDetails {
    #[serde(flatten)]
    pub record: RunRecord,
    /// Status running, but the recording process is gone.
    pub interrupted: bool,
    pub dir: PathBuf,
    /// Artefact kinds and paths, made absolute.
    pub files: Vec<(String, PathBuf)>,
    /// TensorBoard event files of the run (`tensorboard --logdir <home>/runs`).
    pub event_files: Vec<PathBuf>,
    /// Last value of each per-epoch tag.
    pub last_epoch: serde_json::Map<String, serde_json::Value>,
    pub history: ScalarHistory,
}

/// `reference`: a run id, a unique prefix of one, or `latest`.
pub fn show(home: &Home, reference: &str) -> Result<RunDetails> {
    let store = store(home)?;
    let record = store.get(reference)?;
    let dir = store.run_dir(&record.id);
    let history = ScalarHistory::read_jsonl(&dir.join(METRICS_FILE))?;
    let files = record
        .artefacts
        .iter()
        .map(|a| (a.kind.clone(), absolute(&dir, &a.path)))
        .collect();
    let last_epoch = history
        .tags()
        .into_iter()
        .filter_map(|tag| {
            let value = history.last(&tag)?;
            Some((
                tag,
                serde_json::Number::from_f64(value).map_or(serde_json::Value::Null, Into::into),
            ))
        })
        .collect();
    Ok(RunDetails {
        interrupted: record.is_interrupted(),
        event_files: event_files(&dir)?,
        record,
        dir,
        files,
        last_epoch,
        history,
    })
}

/// The points behind a run's ROC, precision-recall and calibration plots (`{"roc": [[fpr, tpr]…], "pr":
/// [[recall, precision]…], "calibration": [[predicted, observed, rows]…]}`), for a client that draws its own
/// charts; `None` when the run kept none (not a binary model, or trained before the file was kept).
pub fn curves(details: &RunDetails) -> Result<Option<serde_json::Value>> {
    let Some((_, path)) = details
        .files
        .iter()
        .find(|(kind, _)| kind == millwright_learn::tracked::CURVES_KIND)
    else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(io("cannot read", path))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| crate::AppError::invalid(format!("{} is not curve data: {e}", path.display())))
}

/// Two runs side by side: the params that differ and how the metrics moved.
pub fn compare(home: &Home, a: &str, b: &str) -> Result<(RunRecord, RunRecord, RunComparison)> {
    let store = store(home)?;
    let ra = store.get(a)?;
    let rb = store.get(b)?;
    let history =
        |r: &RunRecord| ScalarHistory::read_jsonl(&store.run_dir(&r.id).join(METRICS_FILE));
    let cmp = RunComparison::new(&ra, &history(&ra)?, &rb, &history(&rb)?);
    Ok((ra, rb, cmp))
}

fn absolute(dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

fn event_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io("cannot list", dir))? {
        let entry = entry.map_err(io("cannot list", dir))?;
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("events.out.tfevents.")
        {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}
