//! Recording one run while it trains: per-epoch scalars (to `metrics.jsonl` and a TensorBoard event file),
//! final metrics, artefacts, and how it ended.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::catalog::{upsert, write_record_file, RunRecord, RunStatus};
use super::history::{ScalarHistory, ScalarPoint};
use super::tfevents::EventFileWriter;
use super::{Result, TrackingError};
use crate::plots::{self, PlotFiles};

/// File name of the per-epoch scalar log inside a run folder.
pub const METRICS_FILE: &str = "metrics.jsonl";
/// Sub-folder of a run folder holding its plots.
pub const PLOTS_DIR: &str = "plots";

/// A file a run produced or registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artefact {
    /// What it is: `model`, `plot`, `predictions`, ... (free text, shown by `runs show`).
    pub kind: String,
    /// Relative to the run folder when inside it, otherwise as given (e.g. `<home>/models/failure/3`).
    pub path: PathBuf,
}

/// Records one run. Made by [`super::RunStore::start_run`]; end it with [`RunRecorder::finish`] or
/// [`RunRecorder::fail`]. A recorder dropped without either (a panic, an early `?` return) marks the run
/// failed, so no run stays "running" because its training code bailed out.
///
/// Tag convention for [`RunRecorder::log_epoch`]: `<metric>/<split>` — `loss/train`, `loss/val`,
/// `accuracy/val`. TensorBoard groups tags by the part before `/`, and the curve plots draw one chart per
/// metric with one line per split.
#[derive(Debug)]
pub struct RunRecorder {
    dir: PathBuf,
    catalog_path: PathBuf,
    conn: Connection,
    record: RunRecord,
    clock: Instant,
    metrics_file: Option<File>,
    events: Option<EventFileWriter>,
    ended: bool,
}

impl RunRecorder {
    pub(crate) fn new(
        dir: PathBuf,
        catalog_path: PathBuf,
        conn: Connection,
        record: RunRecord,
    ) -> RunRecorder {
        RunRecorder {
            dir,
            catalog_path,
            conn,
            record,
            clock: Instant::now(),
            metrics_file: None,
            events: None,
            ended: false,
        }
    }

    /// The run's id (as text: `record().id.as_str()`).
    pub fn id(&self) -> &super::RunId {
        &self.record.id
    }

    /// The run folder, `<home>/runs/<id>/`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The record as it stands (status running until the run ends).
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// `<run>/plots/`, created on first use. Write the run's plots here with the [`crate::plots`] functions
    /// (e.g. `plots::roc_curve(&points, auc, &recorder.plots_dir()?.join("roc"))`) and register them with
    /// [`RunRecorder::attach_plot`].
    pub fn plots_dir(&self) -> Result<PathBuf> {
        let dir = self.dir.join(PLOTS_DIR);
        std::fs::create_dir_all(&dir).map_err(TrackingError::io("create plot folder", &dir))?;
        Ok(dir)
    }

    /// Logs the scalars of one epoch (`[("loss/train", 0.12), ("loss/val", 0.15), ("accuracy/val", 0.97)]`):
    /// appends a line to `metrics.jsonl` and an event to the TensorBoard file, both flushed so a live
    /// `tensorboard --logdir <home>/runs` and a crash see every completed epoch. NaN/inf are kept (null in
    /// JSON, NaN in TensorBoard).
    pub fn log_epoch(&mut self, epoch: u64, scalars: &[(&str, f64)]) -> Result<()> {
        for (tag, _) in scalars {
            if tag.trim().is_empty() || tag.chars().any(char::is_control) {
                return Err(TrackingError::InvalidInput {
                    what: "scalar tag",
                    reason: format!(
                        "{tag:?} at epoch {epoch} is empty or holds control characters"
                    ),
                });
            }
        }
        let wall_time = Utc::now().timestamp_micros() as f64 / 1e6;
        let point = ScalarPoint {
            step: epoch,
            wall_time,
            scalars: scalars
                .iter()
                .map(|(tag, value)| ((*tag).to_string(), *value))
                .collect(),
        };
        let mut line = serde_json::to_string(&point).map_err(|source| TrackingError::Json {
            context: format!("serialise epoch {epoch}"),
            source,
        })?;
        line.push('\n');
        let metrics_path = self.dir.join(METRICS_FILE);
        if self.metrics_file.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&metrics_path)
                .map_err(TrackingError::io("open", &metrics_path))?;
            self.metrics_file = Some(file);
        }
        if let Some(file) = self.metrics_file.as_mut() {
            file.write_all(line.as_bytes())
                .map_err(TrackingError::io("append to", &metrics_path))?;
        }
        if self.events.is_none() {
            let writer = EventFileWriter::create(&self.dir, wall_time)
                .map_err(TrackingError::io("create event file in", &self.dir))?;
            self.events = Some(writer);
        }
        if let Some(events) = self.events.as_mut() {
            events
                .write_scalars(wall_time, epoch, scalars)
                .map_err(|e| TrackingError::Io {
                    action: "append to",
                    path: events.path().to_path_buf(),
                    source: e,
                })?;
        }
        self.record.steps_logged += 1;
        Ok(())
    }

    /// Records final metrics (a JSON object such as `{"accuracy": 0.977, "roc_auc": 0.973}`); keys merge
    /// with earlier calls, later values win. Stored at once in `run.json` and the catalog.
    pub fn log_final(&mut self, metrics: serde_json::Value) -> Result<()> {
        let serde_json::Value::Object(new) = metrics else {
            return Err(TrackingError::InvalidInput {
                what: "final metrics",
                reason: format!("expected a JSON object, got {metrics}"),
            });
        };
        let serde_json::Value::Object(existing) = &mut self.record.final_metrics else {
            unreachable!("final_metrics is always an object: set so at start and only merged into")
        };
        existing.extend(new);
        self.persist()
    }

    /// Adds keys to the run's params (a JSON object, e.g. what a search chose); later values win. Stored
    /// at once in `run.json` and the catalog, so `runs show` and `runs compare` see them.
    pub fn add_params(&mut self, params: serde_json::Value) -> Result<()> {
        let serde_json::Value::Object(new) = params else {
            return Err(TrackingError::InvalidInput {
                what: "params",
                reason: format!("expected a JSON object, got {params}"),
            });
        };
        match &mut self.record.spec.params {
            serde_json::Value::Object(existing) => existing.extend(new),
            other => *other = serde_json::Value::Object(new),
        }
        self.persist()
    }

    /// Registers a file the run produced (`kind` = `model`, `predictions`, ...). Paths inside the run folder
    /// are stored relative to it.
    pub fn attach_artefact(&mut self, kind: &str, path: &Path) -> Result<()> {
        if kind.trim().is_empty() {
            return Err(TrackingError::InvalidInput {
                what: "artefact kind",
                reason: "must not be empty".into(),
            });
        }
        let path = path
            .strip_prefix(&self.dir)
            .map_or_else(|_| path.to_path_buf(), Path::to_path_buf);
        let artefact = Artefact {
            kind: kind.to_string(),
            path,
        };
        if !self.record.artefacts.contains(&artefact) {
            self.record.artefacts.push(artefact);
        }
        self.persist()
    }

    /// Registers both files of a plot (kind `plot`).
    pub fn attach_plot(&mut self, files: &PlotFiles) -> Result<()> {
        self.attach_artefact("plot", &files.png)?;
        self.attach_artefact("plot", &files.svg)
    }

    /// The scalars logged so far, read back from `metrics.jsonl`.
    pub fn history(&self) -> Result<ScalarHistory> {
        ScalarHistory::read_jsonl(&self.dir.join(METRICS_FILE))
    }

    /// Draws one curve chart per metric logged with [`RunRecorder::log_epoch`] (`plots/curve_<metric>`,
    /// one line per split) and attaches them. [`RunRecorder::finish`] calls this; calling it earlier just
    /// redraws.
    pub fn write_curve_plots(&mut self) -> Result<Vec<PlotFiles>> {
        let history = self.history()?;
        if history.points.is_empty() {
            return Ok(Vec::new());
        }
        // metric → [(split, points)], from tags `<metric>/<split>` (a tag without `/` is its own metric).
        let mut groups: BTreeMap<String, Vec<SplitSeries>> = BTreeMap::new();
        for tag in history.tags() {
            let (metric, split) = tag.split_once('/').unwrap_or((tag.as_str(), tag.as_str()));
            let points = history
                .series(&tag)
                .into_iter()
                .map(|(step, v)| (step as f64, v))
                .collect();
            groups
                .entry(metric.to_string())
                .or_default()
                .push((split.to_string(), points));
        }
        let dir = self.plots_dir()?;
        let mut written = Vec::new();
        for (metric, series) in groups {
            let series_refs: Vec<(&str, &[(f64, f64)])> = series
                .iter()
                .map(|(s, p)| (s.as_str(), p.as_slice()))
                .collect();
            let stem = dir.join(format!("curve_{}", file_safe(&metric)));
            let files =
                plots::metric_curves(&format!("{metric} per epoch"), &metric, &series_refs, &stem)?;
            self.attach_plot(&files)?;
            written.push(files);
        }
        Ok(written)
    }

    /// Ends the run as finished: draws the curve plots, stores duration and status in `run.json` and the
    /// catalog, and returns the final record.
    pub fn finish(mut self) -> Result<RunRecord> {
        self.write_curve_plots()?;
        self.end(RunStatus::Finished, None)
    }

    /// Ends the run as failed with `message` (the error that stopped it). Curves logged so far are plotted.
    pub fn fail(mut self, message: &str) -> Result<RunRecord> {
        // The failure is what matters; a plot problem on top of it must not hide it.
        let _ = self.write_curve_plots();
        self.end(RunStatus::Failed, Some(message.to_string()))
    }

    fn end(&mut self, status: RunStatus, error: Option<String>) -> Result<RunRecord> {
        self.ended = true;
        self.record.status = status;
        self.record.error = error;
        self.record.finished_at = Some(Utc::now());
        self.record.duration_s = Some(self.clock.elapsed().as_secs_f64());
        self.persist()?;
        Ok(self.record.clone())
    }

    /// Writes `run.json` (atomically) then the catalog row.
    fn persist(&mut self) -> Result<()> {
        write_record_file(&self.dir, &self.record)?;
        upsert(&self.conn, &self.catalog_path, &self.record)
    }
}

impl Drop for RunRecorder {
    fn drop(&mut self) {
        if !self.ended {
            // Nothing to report errors to from a destructor; the run stays "running" if this fails.
            let _ = self.end(
                RunStatus::Failed,
                Some("the run ended without finish() or fail(): the training panicked or returned early".into()),
            );
        }
    }
}

/// One split's `(epoch, value)` points of a metric, e.g. `("val", [...])`.
type SplitSeries = (String, Vec<(f64, f64)>);

/// A metric name as a file-name part: anything but ASCII letters, digits, `-` and `_` becomes `_`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
