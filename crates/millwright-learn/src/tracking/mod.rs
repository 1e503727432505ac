//! Experiment tracking: every training is a *run* with its parameters, dataset, code version, per-epoch
//! scalars, final metrics, duration and status.
//!
//! A run lives in `<home>/runs/<run-id>/` (run.json, metrics.jsonl, a TensorBoard event file, plots) and is
//! indexed in the SQLite catalog `<home>/runs/catalog.db`, which lists, filters and paginates thousands of runs.
//!
//! ```no_run
//! use millwright_learn::tracking::{DatasetRef, RunFilter, RunSpec, RunStore};
//! # fn main() -> Result<(), millwright_learn::tracking::TrackingError> {
//! let store = RunStore::open(std::path::Path::new("./millwright-home"))?;
//! let spec = RunSpec::new("failure", "mlp", DatasetRef::lake("milling", 3))
//!     .with_params(serde_json::json!({"epochs": 100, "batch_size": 32}))
//!     .with_seed(42);
//! let mut run = store.start_run(spec)?; // folder + run.json + catalog row, status running
//! for epoch in 1..=100 {
//!     // metrics.jsonl + TensorBoard event file; tags `<metric>/<split>`
//!     run.log_epoch(epoch, &[("loss/train", 0.1), ("loss/val", 0.12), ("accuracy/val", 0.97)])?;
//! }
//! run.log_final(serde_json::json!({"accuracy": 0.977, "roc_auc": 0.973}))?;
//! let roc = millwright_learn::plots::roc_curve(&[(0.0, 0.0), (1.0, 1.0)], Some(0.5), &run.plots_dir()?.join("roc"))?;
//! run.attach_plot(&roc)?;
//! run.attach_artefact("model", std::path::Path::new("./millwright-home/models/failure/1"))?;
//! let record = run.finish()?; // draws the per-epoch curves, status finished, duration
//! // On an error: `run.fail(&err.to_string())?`; a recorder dropped unfinished marks the run failed.
//! let page = store.list(&RunFilter::default(), 20, 0)?;
//! # Ok(()) }
//! ```

mod catalog;
mod compare;
mod error;
mod history;
mod recorder;
mod run_id;
mod spec;
mod tfevents;

pub use catalog::{RunFilter, RunPage, RunRecord, RunStatus, RunStore, CATALOG_FILE};
pub use compare::{FieldDiff, RunComparison};
pub use error::TrackingError;
pub use history::{ScalarHistory, ScalarPoint};
pub use recorder::{Artefact, RunRecorder, METRICS_FILE, PLOTS_DIR};
pub use run_id::RunId;
pub use spec::{CodeVersion, DatasetFile, DatasetRef, RunSpec};

/// Result of tracking operations.
pub type Result<T, E = TrackingError> = std::result::Result<T, E>;
