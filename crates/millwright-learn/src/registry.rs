//! The model registry: `<home>/models/<name>/<version>/manifest.json + weights.safetensors`.
//!
//! A version is written into a temporary folder beside it and renamed into place, so a crash leaves either
//! no version or a complete one, and an existing version is never overwritten.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{LearnError, Result};
use crate::matrix::Matrix;
use crate::model::{Architecture, Estimator, ModelKind};
use crate::pipeline::{FeatureDeriver, InputColumn, Pipeline, RawValue, RowEncoder};
use crate::task::Task;

/// The manifest format this build writes and the newest it reads.
pub const MANIFEST_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
const WEIGHTS: &str = "weights.safetensors";

/// Where a model came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// Lake table name or the input file paths.
    pub dataset: String,
    pub lake_version: Option<i64>,
    pub run: Option<String>,
    pub code_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub name: String,
    pub version: u32,
    pub kind: ModelKind,
    pub task: Task,
    pub created: String,
    pub target: String,
    /// Class labels as they appear in the target column; binary models predict P(`classes[1]`).
    pub classes: Vec<String>,
    pub threshold: f64,
    pub threshold_rule: crate::metrics::ThresholdRule,
    pub pipeline: Pipeline,
    pub architecture: Architecture,
    /// Hyper-parameters the model was trained with.
    pub params: serde_json::Value,
    /// Test-split metrics by name.
    /// Test-split metrics, the same figures `train` printed.
    pub metrics: crate::train::TestMetrics,
    pub lineage: Lineage,
    pub weights_sha256: String,
}

/// A loaded model ready to score batches in-process.
pub struct Model {
    pub manifest: Manifest,
    estimator: Estimator,
    deriver: Option<Arc<dyn FeatureDeriver>>,
    /// The pipeline for single rows; `None` with derived features.
    rows: Option<RowEncoder>,
    dir: PathBuf,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Model({}@{} {})",
            self.manifest.name, self.manifest.version, self.manifest.kind
        )
    }
}

/// Names users give become folder names: letters, digits, `-`, `_`, `.` (not leading), nothing else.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(LearnError::InvalidName(name.to_string()))
    }
}

mod aliases;
mod resolver;

pub use aliases::{
    aliases, aliases_path, promote, read_aliases, rollback, validate_alias, AliasAction,
    AliasChange, AliasUpdate, Aliases, ALIASES_VERSION,
};
pub use resolver::Resolver;

/// Which version a spec names: the newest, a number, or an alias.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selector {
    Latest,
    Version(u32),
    Alias(String),
}

/// `name@3`, `name@latest`, `name@production` (an alias) or `name` (latest).
pub fn parse_spec(spec: &str) -> Result<(String, Selector)> {
    let invalid = || LearnError::InvalidSpec(spec.to_string());
    let (name, selector) = match spec.split_once('@') {
        None => (spec, Selector::Latest),
        Some((n, "latest")) => (n, Selector::Latest),
        Some((n, v)) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => (
            n,
            Selector::Version(v.parse::<u32>().map_err(|_| invalid())?),
        ),
        Some((n, a)) => {
            validate_alias(a).map_err(|_| invalid())?;
            (n, Selector::Alias(a.to_owned()))
        }
    };
    validate_name(name).map_err(|_| invalid())?;
    Ok((name.to_string(), selector))
}

pub fn models_dir(home: &Path) -> PathBuf {
    home.join("models")
}

/// Versions present for `name`, ascending (complete versions only: folders with a manifest).
pub fn versions(home: &Path, name: &str) -> Result<Vec<u32>> {
    let dir = models_dir(home).join(name);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LearnError::io(format!("reading {}", dir.display()), e)),
    };
    let mut out: Vec<u32> = entries
        .filter_map(std::result::Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .filter(|v| dir.join(v.to_string()).join(MANIFEST).is_file())
        .collect();
    out.sort_unstable();
    Ok(out)
}

/// Model names in the registry, sorted.
pub fn names(home: &Path) -> Result<Vec<String>> {
    let dir = models_dir(home);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LearnError::io(format!("reading {}", dir.display()), e)),
    };
    let mut out: Vec<String> = entries
        .filter_map(std::result::Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| validate_name(n).is_ok())
        .collect();
    out.sort();
    Ok(out)
}

/// Resolves a spec to `(name, version)` and the version folder.
pub fn resolve(home: &Path, spec: &str) -> Result<(String, u32, PathBuf)> {
    let (name, selector) = parse_spec(spec)?;
    let available = versions(home, &name)?;
    let version = pick(home, &name, &selector, &available, || {
        aliases(home, &name).map(Box::new)
    })?;
    let dir = models_dir(home).join(&name).join(version.to_string());
    Ok((name, version, dir))
}

/// The version `selector` names among the complete versions `available`; `table` gives the aliases.
fn pick<A: std::ops::Deref<Target = Aliases>>(
    home: &Path,
    name: &str,
    selector: &Selector,
    available: &[u32],
    table: impl FnOnce() -> Result<A>,
) -> Result<u32> {
    if available.is_empty() {
        return Err(LearnError::ModelNotFound(name.to_owned(), models_dir(home)));
    }
    let version = match selector {
        Selector::Latest => return Ok(*available.last().expect("non-empty")),
        Selector::Version(v) => *v,
        Selector::Alias(alias) => {
            let table = table()?;
            table.get(alias).ok_or_else(|| LearnError::AliasNotFound {
                name: name.to_owned(),
                alias: alias.clone(),
                available: table.aliases.keys().cloned().collect::<Vec<_>>().join(", "),
            })?
        }
    };
    existing(name, version, available)
}

/// `version` when it is one of `available`, else the error naming the versions there are.
pub(crate) fn existing(name: &str, version: u32, available: &[u32]) -> Result<u32> {
    if available.contains(&version) {
        return Ok(version);
    }
    Err(LearnError::VersionNotFound {
        name: name.to_owned(),
        version,
        available: available
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// The manifest of a registered version (`name@3`, `name@latest`), with the version folder it is in.
pub fn manifest(home: &Path, spec: &str) -> Result<(Manifest, PathBuf)> {
    let (_, _, dir) = resolve(home, spec)?;
    Ok((read_manifest(&dir.join(MANIFEST))?, dir))
}

/// Reads and checks a manifest.
pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LearnError::io(format!("reading {}", path.display()), e))?;
    parse_versioned(&text, MANIFEST_VERSION, "a model manifest").map_err(|fault| match fault {
        VersionedFault::Future(found) => LearnError::FutureManifest {
            path: path.to_path_buf(),
            found,
            supported: MANIFEST_VERSION,
        },
        VersionedFault::Corrupt(reason, source) => LearnError::CorruptManifest {
            path: path.to_path_buf(),
            reason,
            source,
        },
    })
}

/// Why a versioned JSON file (a manifest, an alias file) cannot be read.
pub(crate) enum VersionedFault {
    /// Written by a newer millwright: its `format_version`.
    Future(u32),
    /// Not JSON, no `format_version`, or not of the expected shape.
    Corrupt(String, Option<serde_json::Error>),
}

/// Parses a JSON file that carries a `format_version`, refusing versions above `supported` before
/// looking at the rest (a newer file may have a shape this version cannot read).
pub(crate) fn parse_versioned<T: serde::de::DeserializeOwned>(
    text: &str,
    supported: u32,
    shape: &str,
) -> std::result::Result<T, VersionedFault> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| VersionedFault::Corrupt("not JSON".to_owned(), Some(e)))?;
    let found = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| VersionedFault::Corrupt("no format_version".to_owned(), None))?;
    if found > u64::from(supported) {
        return Err(VersionedFault::Future(
            u32::try_from(found).unwrap_or(u32::MAX),
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| VersionedFault::Corrupt(format!("not {shape}"), Some(e)))
}

/// Stores a new version of `manifest.name`; fills in `version` and `weights_sha256` and returns the manifest.
pub fn save(home: &Path, mut manifest: Manifest, estimator: &Estimator) -> Result<Manifest> {
    validate_name(&manifest.name)?;
    let dir = models_dir(home).join(&manifest.name);
    std::fs::create_dir_all(&dir)
        .map_err(|e| LearnError::io(format!("creating {}", dir.display()), e))?;
    let weights = estimator.to_safetensors()?;
    manifest.weights_sha256 = format!("{:x}", Sha256::digest(&weights));
    manifest.format_version = MANIFEST_VERSION;
    remove_stale_staging(&dir);
    // The staging folder carries this process's id, so a later save can tell a killed writer's leftovers
    // from a live writer's work in progress.
    let staged = tempfile::Builder::new()
        .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
        .tempdir_in(&dir)
        .map_err(|e| LearnError::io(format!("creating a staging folder in {}", dir.display()), e))?
        .keep();
    let placed = place_staged(home, &mut manifest, &weights, &staged, &dir);
    if placed.is_err() {
        std::fs::remove_dir_all(&staged).ok();
    }
    placed.map(|()| manifest)
}

/// Staging folders (`.staging-<pid>-…`) start with this.
const STAGING_PREFIX: &str = ".staging-";

/// Writes the weights and the manifest into `staged` and renames it to the next free version number.
/// Another writer (a server job, a second CLI) may take that number first: the rename then fails
/// (rename never replaces a non-empty folder) and the next number is tried.
fn place_staged(
    home: &Path,
    manifest: &mut Manifest,
    weights: &[u8],
    staged: &Path,
    dir: &Path,
) -> Result<()> {
    std::fs::write(staged.join(WEIGHTS), weights)
        .map_err(|e| LearnError::io(format!("writing {}", staged.join(WEIGHTS).display()), e))?;
    let mut next = versions(home, &manifest.name)?.last().map_or(1, |v| v + 1);
    for _ in 0..100 {
        let target = dir.join(next.to_string());
        // The folder before the tombstone: a delete writes the tombstone before it moves the folder
        // away, so a number is seen as taken by one of the two at every moment.
        if target.exists() || tombstone(dir, next).exists() {
            next += 1;
            continue;
        }
        manifest.version = next;
        let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        std::fs::write(staged.join(MANIFEST), json).map_err(|e| {
            LearnError::io(format!("writing {}", staged.join(MANIFEST).display()), e)
        })?;
        match std::fs::rename(staged, &target) {
            Ok(()) => return Ok(()),
            Err(_) if target.exists() => next += 1,
            Err(e) => {
                return Err(LearnError::io(
                    format!("moving the model into {}", target.display()),
                    e,
                ))
            }
        }
    }
    Err(LearnError::NoFreeVersion {
        name: manifest.name.clone(),
    })
}

/// A deleted version, as its tombstone (`<home>/models/<name>/.deleted-<version>.json`) keeps it: the
/// number is never given to a new version (a cache keyed by name and version stays right), and who
/// deleted what stays on record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletedVersion {
    pub name: String,
    pub version: u32,
    /// RFC 3339, UTC.
    pub deleted_at: String,
    pub deleted_by: String,
    /// The manifest the version had.
    pub manifest: Manifest,
}

fn tombstone(dir: &Path, version: u32) -> PathBuf {
    dir.join(format!(".deleted-{version}.json"))
}

/// Deletes version `version` of model `name` for good: refused while an alias points at it
/// ([`LearnError::VersionAliased`] naming the aliases). Runs under the alias lock, so a promote to the
/// version cannot slip in between the check and the delete; the folder is renamed away in one step, so a
/// reader sees the whole version or none, and its number is not reused.
pub fn delete_version(
    home: &Path,
    name: &str,
    version: u32,
    actor: &str,
) -> Result<DeletedVersion> {
    validate_name(name)?;
    let available = versions(home, name)?;
    if available.is_empty() {
        return Err(LearnError::ModelNotFound(name.to_owned(), models_dir(home)));
    }
    let _lock = aliases::lock(home, name)?;
    existing(name, version, &versions(home, name)?)?;
    let pointing = aliases(home, name)?.of_version(version);
    if !pointing.is_empty() {
        return Err(LearnError::VersionAliased {
            name: name.to_owned(),
            version,
            aliases: pointing
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let dir = models_dir(home).join(name);
    let folder = dir.join(version.to_string());
    let deleted = DeletedVersion {
        name: name.to_owned(),
        version,
        deleted_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        deleted_by: if actor.trim().is_empty() {
            "unknown".to_owned()
        } else {
            actor.trim().to_owned()
        },
        manifest: read_manifest(&folder.join(MANIFEST))?,
    };
    let stone = tombstone(&dir, version);
    let staged = dir.join(format!(".deleted-{version}.json.tmp"));
    let json = serde_json::to_vec_pretty(&deleted).expect("a tombstone serialises");
    std::fs::write(&staged, json)
        .and_then(|()| std::fs::rename(&staged, &stone))
        .map_err(|e| LearnError::io(format!("writing {}", stone.display()), e))?;
    let doomed = dir.join(format!("{DELETING_PREFIX}{}-{version}", std::process::id()));
    std::fs::rename(&folder, &doomed)
        .map_err(|e| LearnError::io(format!("moving {} away", folder.display()), e))?;
    std::fs::remove_dir_all(&doomed)
        .map_err(|e| LearnError::io(format!("removing {}", doomed.display()), e))?;
    Ok(deleted)
}

/// Folders of a delete in progress (`.deleting-<pid>-<version>`), renamed away before their removal.
const DELETING_PREFIX: &str = ".deleting-";

/// Removes staging folders (and folders of deletes) in `dir` whose writer is gone (killed in the middle
/// of a save or a delete).
fn remove_stale_staging(dir: &Path) {
    millwright_core::remove_abandoned(dir, &[STAGING_PREFIX, DELETING_PREFIX]);
}

impl Model {
    /// Loads `name@version`, `name@latest` or `name` from `<home>/models`.
    pub fn load(home: &Path, spec: &str) -> Result<Model> {
        let (_, _, dir) = resolve(home, spec)?;
        Model::load_dir(&dir)
    }

    pub fn load_dir(dir: &Path) -> Result<Model> {
        let manifest = read_manifest(&dir.join(MANIFEST))?;
        let path = dir.join(WEIGHTS);
        let bytes = std::fs::read(&path)
            .map_err(|e| LearnError::io(format!("reading {}", path.display()), e))?;
        let digest = format!("{:x}", Sha256::digest(&bytes));
        if digest != manifest.weights_sha256 {
            return Err(LearnError::Weights {
                path,
                reason: "checksum does not match the manifest (file changed or corrupted)".into(),
                source: None,
            });
        }
        let estimator =
            Estimator::from_safetensors(&bytes, &manifest.architecture, manifest.task, &path)?;
        Ok(Model {
            rows: manifest.pipeline.row_encoder(),
            manifest,
            estimator,
            deriver: None,
            dir: dir.to_path_buf(),
        })
    }

    /// Supplies the SQL engine for models with derived features.
    pub fn with_deriver(mut self, deriver: Arc<dyn FeatureDeriver>) -> Model {
        self.deriver = Some(deriver);
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn spec(&self) -> String {
        format!("{}@{}", self.manifest.name, self.manifest.version)
    }

    /// The raw columns `predict_batch` needs (name and kind); other columns are ignored.
    pub fn input_columns(&self) -> &[InputColumn] {
        self.manifest.pipeline.input_columns()
    }

    pub fn threshold(&self) -> f64 {
        self.manifest.threshold
    }

    pub fn estimator(&self) -> &Estimator {
        &self.estimator
    }

    /// The feature matrix for a batch (schema checked).
    pub fn features(&self, batch: &RecordBatch) -> Result<Matrix> {
        self.manifest
            .pipeline
            .transform(batch, self.deriver.as_deref())
    }

    /// Binary: P(positive class) per row; regression: the value; multi-class: the probability of the most
    /// likely class (use [`Model::predict_outputs`] for every class).
    pub fn predict_batch(&self, batch: &RecordBatch) -> Result<Vec<f64>> {
        let out = self.predict_outputs(batch)?;
        let k = self.manifest.task.outputs();
        if k == 1 {
            return Ok(out);
        }
        Ok(out
            .chunks(k)
            .map(|c| c.iter().copied().fold(0.0, f64::max))
            .collect())
    }

    /// Whether [`Model::predict_row`] can score this model (it cannot compute derived features).
    pub fn predicts_rows(&self) -> bool {
        self.rows.is_some()
    }

    /// One row of raw values in [`Model::input_columns`] order, scored without an arrow batch: what
    /// [`Model::predict_batch`] gives for that row as a one-row batch of float and text columns.
    pub fn predict_row(&self, values: &[RawValue<'_>]) -> Result<f64> {
        let rows = self
            .rows
            .as_ref()
            .ok_or_else(|| LearnError::RowNeedsBatch {
                features: self.derived_names(),
            })?;
        // Stack buffers for the usual sizes: the twin calls this once per part.
        const STACK: usize = 64;
        let (width, k) = (rows.width(), self.manifest.task.outputs());
        let (mut x, mut out) = ([0.0; STACK], [0.0; STACK]);
        let mut heap;
        let (x, out) = if width <= STACK && k <= STACK {
            (&mut x[..width], &mut out[..k])
        } else {
            heap = (vec![0.0; width], vec![0.0; k]);
            (&mut heap.0[..], &mut heap.1[..])
        };
        rows.encode(values, x)?;
        self.estimator.predict_row(x, out);
        // As predict_batch: the value itself, or the most likely class's probability.
        Ok(match out {
            [one] => *one,
            _ => out.iter().copied().fold(0.0, f64::max),
        })
    }

    fn derived_names(&self) -> String {
        let derived = &self.manifest.pipeline.derived;
        derived
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `task.outputs()` values per row.
    pub fn predict_outputs(&self, batch: &RecordBatch) -> Result<Vec<f64>> {
        let x = self.features(batch)?;
        Ok(self.estimator.predict(&x))
    }

    /// The predicted class label (classification) for each row of raw outputs.
    pub fn decide(&self, outputs: &[f64]) -> Vec<String> {
        let classes = &self.manifest.classes;
        match self.manifest.task {
            Task::Binary => outputs
                .iter()
                .map(|&p| classes[usize::from(p > self.manifest.threshold)].clone())
                .collect(),
            Task::Multiclass { classes: k } => outputs
                .chunks(k)
                .map(|c| {
                    classes[c
                        .iter()
                        .enumerate()
                        .fold(0, |b, (i, &v)| if v > c[b] { i } else { b })]
                    .clone()
                })
                .collect(),
            Task::Regression => outputs
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
        }
    }
}

/// One line of the registry listing.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSummary {
    pub name: String,
    pub version: u32,
    pub kind: ModelKind,
    pub task: String,
    pub created: String,
    pub target: String,
    pub threshold: f64,
    pub dataset: String,
    pub run: Option<String>,
    pub metrics: serde_json::Value,
    /// The aliases naming this version (`production`, ...).
    pub aliases: Vec<String>,
}

impl From<&Manifest> for VersionSummary {
    fn from(m: &Manifest) -> Self {
        VersionSummary {
            name: m.name.clone(),
            version: m.version,
            kind: m.kind,
            task: m.task.name().into(),
            created: m.created.clone(),
            target: m.target.clone(),
            threshold: m.threshold,
            dataset: m.lineage.dataset.clone(),
            run: m.lineage.run.clone(),
            metrics: m.metrics.to_json(),
            aliases: Vec::new(),
        }
    }
}

/// Every version of every model (or of `name`), oldest first. Unreadable manifests are reported, not skipped.
pub fn list(home: &Path, name: Option<&str>) -> Result<Vec<VersionSummary>> {
    let names = match name {
        Some(n) => {
            validate_name(n)?;
            if versions(home, n)?.is_empty() {
                return Err(LearnError::ModelNotFound(n.to_string(), models_dir(home)));
            }
            vec![n.to_string()]
        }
        None => names(home)?,
    };
    let mut out = Vec::new();
    for n in names {
        let table = aliases(home, &n)?;
        for v in versions(home, &n)? {
            let m = match read_manifest(
                &models_dir(home).join(&n).join(v.to_string()).join(MANIFEST),
            ) {
                Ok(m) => m,
                // Deleted between the listing and the read.
                Err(LearnError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    continue
                }
                Err(e) => return Err(e),
            };
            let mut summary = VersionSummary::from(&m);
            summary.aliases = table.of_version(v);
            out.push(summary);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logistic::Logistic;
    use crate::metrics::ThresholdRule;
    use crate::pipeline::PipelineSpec;
    use arrow::array::{Float64Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("y", DataType::Int64, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0])),
                Arc::new(Int64Array::from(vec![0, 0, 1, 1])),
            ],
        )
        .unwrap()
    }

    fn manifest(pipeline: Pipeline, est: &Estimator) -> Manifest {
        Manifest {
            format_version: MANIFEST_VERSION,
            name: "failure".into(),
            version: 0,
            kind: est.kind(),
            task: Task::Binary,
            created: "2026-11-28T00:00:00Z".into(),
            target: "y".into(),
            classes: vec!["0".into(), "1".into()],
            threshold: 0.5,
            threshold_rule: ThresholdRule::Fixed { value: 0.5 },
            pipeline,
            architecture: est.architecture(),
            params: serde_json::json!({}),
            metrics: crate::train::TestMetrics::of(Task::Binary, &[0.0, 1.0], &[0.2, 0.9], 0.5),
            lineage: Lineage::default(),
            weights_sha256: String::new(),
        }
    }

    fn saved(home: &Path) -> Manifest {
        saved_after(home, || {})
    }

    /// Saves a model, calling `ready` just before the save itself.
    fn saved_after(home: &Path, ready: impl FnOnce()) -> Manifest {
        let spec = PipelineSpec {
            target: "y".into(),
            ..Default::default()
        };
        let (p, _) = Pipeline::fit(&spec, &batch(), None).unwrap();
        let est = Estimator::Logistic(Logistic {
            coef: vec![3.0],
            intercept: 0.0,
        });
        let manifest = manifest(p, &est);
        ready();
        save(home, manifest, &est).unwrap()
    }

    #[test]
    fn versions_increase_and_load_by_spec() {
        let home = tempfile::tempdir().unwrap();
        assert_eq!(saved(home.path()).version, 1);
        assert_eq!(saved(home.path()).version, 2);
        let m = Model::load(home.path(), "failure@latest").unwrap();
        assert_eq!(m.spec(), "failure@2");
        assert_eq!(
            Model::load(home.path(), "failure@1").unwrap().spec(),
            "failure@1"
        );
        assert_eq!(m.input_columns()[0].name, "x");
        let p = m.predict_batch(&batch()).unwrap();
        assert!(p[0] < 0.5 && p[3] > 0.5);
        assert_eq!(m.decide(&p), vec!["0", "0", "1", "1"]);
        assert_eq!(list(home.path(), None).unwrap().len(), 2);
        assert!(matches!(
            Model::load(home.path(), "failure@7"),
            Err(LearnError::VersionNotFound { .. })
        ));
        assert!(matches!(
            Model::load(home.path(), "other"),
            Err(LearnError::ModelNotFound(..))
        ));
        assert!(matches!(
            parse_spec("../x@1"),
            Err(LearnError::InvalidSpec(_))
        ));
    }

    #[test]
    fn a_deleted_version_is_gone_its_number_kept_and_an_aliased_one_refused() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        for _ in 0..3 {
            saved(h);
        }
        promote(h, "failure@2", "production", "alice").unwrap();
        promote(h, "failure@2", "staging", "alice").unwrap();
        let refused = delete_version(h, "failure", 2, "bob").unwrap_err();
        assert!(
            matches!(&refused, LearnError::VersionAliased { aliases, .. } if aliases == "'production', 'staging'"),
            "{refused}"
        );
        assert_eq!(versions(h, "failure").unwrap(), vec![1, 2, 3]);
        let gone = delete_version(h, "failure", 3, "bob").unwrap();
        assert_eq!((gone.version, gone.deleted_by.as_str()), (3, "bob"));
        assert_eq!(gone.manifest.version, 3);
        assert_eq!(versions(h, "failure").unwrap(), vec![1, 2]);
        assert!(matches!(
            Model::load(h, "failure@3"),
            Err(LearnError::VersionNotFound { .. })
        ));
        assert_eq!(list(h, Some("failure")).unwrap().len(), 2);
        // The next save does not take the deleted number.
        assert_eq!(saved(h).version, 4);
        assert!(matches!(
            delete_version(h, "failure", 3, "bob"),
            Err(LearnError::VersionNotFound { .. })
        ));
        assert!(matches!(
            delete_version(h, "../x", 1, "bob"),
            Err(LearnError::InvalidName(_))
        ));
        assert!(matches!(
            delete_version(h, "nothing", 1, "bob"),
            Err(LearnError::ModelNotFound(..))
        ));
        // A roll back does not land on a deleted version.
        promote(h, "failure@1", "staging", "alice").unwrap();
        promote(h, "failure@4", "production", "alice").unwrap();
        delete_version(h, "failure", 2, "bob").unwrap();
        assert!(matches!(
            rollback(h, "failure", "production", "alice"),
            Err(LearnError::VersionNotFound { version: 2, .. })
        ));
        assert_eq!(resolve(h, "failure@production").unwrap().1, 4);
        // No folder of the deletes is left but the tombstones.
        let left: Vec<String> = std::fs::read_dir(models_dir(h).join("failure"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".deleting") || n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn specs_name_a_version_the_newest_or_an_alias() {
        assert_eq!(
            parse_spec("failure").unwrap(),
            ("failure".into(), Selector::Latest)
        );
        assert_eq!(
            parse_spec("failure@latest").unwrap(),
            ("failure".into(), Selector::Latest)
        );
        assert_eq!(
            parse_spec("failure@3").unwrap(),
            ("failure".into(), Selector::Version(3))
        );
        assert_eq!(
            parse_spec("failure@production").unwrap(),
            ("failure".into(), Selector::Alias("production".into()))
        );
        for hostile in [
            "../x",
            "../x@production",
            "failure@production/../../etc",
            "failure@../1",
            "failure@",
            "failure@99999999999",
            "failure@Prod",
            "/etc/passwd@1",
            "a/b",
            "",
            "@1",
        ] {
            assert!(
                matches!(parse_spec(hostile), Err(LearnError::InvalidSpec(_))),
                "{hostile}"
            );
        }
    }

    #[test]
    fn promote_resolve_and_roll_back_with_a_history() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        for _ in 0..3 {
            saved(h);
        }
        assert!(matches!(
            resolve(h, "failure@production"),
            Err(LearnError::AliasNotFound { .. })
        ));
        let up = promote(h, "failure@1", "production", "alice").unwrap();
        assert!(up.changed);
        assert_eq!((up.change.from, up.change.to), (None, 1));
        assert_eq!(resolve(h, "failure@production").unwrap().1, 1);
        promote(h, "failure@2", "production", "bob").unwrap();
        promote(h, "failure@latest", "staging", "ci").unwrap();
        // An alias can name the version to promote.
        let up = promote(h, "failure@staging", "production", "bob").unwrap();
        assert_eq!((up.change.from, up.change.to), (Some(2), 3));
        assert_eq!(
            Model::load(h, "failure@production").unwrap().spec(),
            "failure@3"
        );
        // Promoting to the version it already names changes and records nothing.
        assert!(
            !promote(h, "failure@3", "production", "bob")
                .unwrap()
                .changed
        );
        let listed = list(h, Some("failure")).unwrap();
        assert_eq!(listed[2].aliases, vec!["production", "staging"]);
        assert!(listed[0].aliases.is_empty());

        let back = rollback(h, "failure", "production", "carol").unwrap();
        assert_eq!((back.change.from, back.change.to), (Some(3), 2));
        assert_eq!(resolve(h, "failure@production").unwrap().1, 2);
        assert_eq!(
            rollback(h, "failure", "production", "carol")
                .unwrap()
                .change
                .to,
            1
        );
        assert!(matches!(
            rollback(h, "failure", "production", "carol"),
            Err(LearnError::NothingToRollBack { .. })
        ));
        assert!(matches!(
            rollback(h, "failure", "canary", "carol"),
            Err(LearnError::AliasNotFound { .. })
        ));
        assert!(matches!(
            promote(h, "failure@9", "production", "x"),
            Err(LearnError::VersionNotFound { .. })
        ));
        assert!(matches!(
            promote(h, "failure@1", "latest", "x"),
            Err(LearnError::InvalidAlias(_))
        ));
        assert!(matches!(
            rollback(h, "../failure", "production", "x"),
            Err(LearnError::InvalidName(_))
        ));

        let table = aliases(h, "failure").unwrap();
        let moves: Vec<_> = table
            .history
            .iter()
            .map(|c| (c.actor.as_str(), c.alias.as_str(), c.action, c.from, c.to))
            .collect();
        use AliasAction::{Promote, Rollback};
        assert_eq!(
            moves,
            vec![
                ("alice", "production", Promote, None, 1),
                ("bob", "production", Promote, Some(1), 2),
                ("ci", "staging", Promote, None, 3),
                ("bob", "production", Promote, Some(2), 3),
                ("carol", "production", Rollback, Some(3), 2),
                ("carol", "production", Rollback, Some(2), 1),
            ]
        );
        assert!(table.history.iter().all(|c| c.at.ends_with('Z')));
        // A torn or foreign file is refused, not read as empty.
        std::fs::write(aliases_path(h, "failure"), "{\"format_version\": 1, \"alia").unwrap();
        assert!(matches!(
            resolve(h, "failure@production"),
            Err(LearnError::CorruptAliases { .. })
        ));
    }

    #[test]
    fn concurrent_promotes_take_turns_and_lose_nothing() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        for _ in 0..4 {
            saved(h);
        }
        const THREADS: u32 = 8;
        const EACH: u32 = 10;
        std::thread::scope(|s| {
            for t in 0..THREADS {
                s.spawn(move || {
                    for i in 0..EACH {
                        let v = (t + i) % 4 + 1;
                        promote(h, &format!("failure@{v}"), "production", &format!("t{t}"))
                            .unwrap();
                        // Readers never see a torn file.
                        resolve(h, "failure@production").unwrap();
                    }
                });
            }
        });
        let table = aliases(h, "failure").unwrap();
        // Each recorded move starts where the one before ended: no change was lost or interleaved.
        let mut at = None;
        for c in &table.history {
            assert_eq!(c.from, at, "{c:?}");
            assert_ne!(c.from, Some(c.to));
            at = Some(c.to);
        }
        assert_eq!(table.get("production"), at);
        assert!(table.history.len() as u32 <= THREADS * EACH);
        assert!(table.history.len() > 1);
        // Only the lock file and the aliases file are left, no temporary files.
        let mut extra: Vec<String> = std::fs::read_dir(h.join("models/failure"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.parse::<u32>().is_err())
            .collect();
        extra.sort();
        assert_eq!(extra, vec![".aliases.lock", "aliases.json"]);
    }

    #[test]
    fn the_resolver_follows_promotes_and_new_versions() {
        let home = tempfile::tempdir().unwrap();
        let h = home.path();
        let r = Resolver::new(h);
        // Changes made outside the resolver show once RECHECK has passed.
        let settle = || std::thread::sleep(resolver::RECHECK);
        assert!(matches!(
            r.resolve("failure"),
            Err(LearnError::ModelNotFound(..))
        ));
        saved(h);
        settle();
        assert_eq!(r.resolve("failure").unwrap().to_string(), "failure@1");
        saved(h);
        settle();
        assert_eq!(r.resolve("failure@latest").unwrap().version, 2);
        promote(h, "failure@1", "production", "t").unwrap();
        settle();
        assert_eq!(r.resolve("failure@production").unwrap().version, 1);
        promote(h, "failure@2", "production", "t").unwrap();
        settle();
        assert_eq!(r.resolve("failure@production").unwrap().version, 2);
        assert!(matches!(
            r.resolve("failure@7"),
            Err(LearnError::VersionNotFound { .. })
        ));
        assert!(matches!(
            r.resolve("failure@production/../../etc"),
            Err(LearnError::InvalidSpec(_))
        ));
        for spec in ["failure", "failure@1", "failure@production"] {
            assert_eq!(
                r.resolve(spec).unwrap().version,
                resolve(h, spec).unwrap().1,
                "{spec}"
            );
        }
    }

    #[test]
    fn concurrent_saves_of_one_name_get_distinct_versions() {
        let home = tempfile::tempdir().unwrap();
        // Rounds of 8 writers let go at once: each round races for the same next number.
        let mut got: Vec<u32> = Vec::new();
        for _ in 0..5 {
            let start = Arc::new(std::sync::Barrier::new(8));
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let home = home.path().to_owned();
                    let start = start.clone();
                    std::thread::spawn(move || {
                        saved_after(&home, || {
                            start.wait();
                        })
                        .version
                    })
                })
                .collect();
            got.extend(threads.into_iter().map(|t| t.join().unwrap()));
        }
        got.sort_unstable();
        assert_eq!(got, (1..=40).collect::<Vec<_>>());
        assert_eq!(versions(home.path(), "failure").unwrap(), got);
        assert_eq!(list(home.path(), None).unwrap().len(), 40);
        // No staging folder is left behind.
        let left: Vec<_> = std::fs::read_dir(home.path().join("models/failure"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with('.'))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn a_killed_writers_staging_folder_is_never_listed_and_goes_at_the_next_save() {
        let home = tempfile::tempdir().unwrap();
        saved(home.path());
        let dir = home.path().join("models/failure");
        // A writer killed in the middle of a save: a dead pid (above the kernel's pid_max) and a
        // version-looking folder without a manifest; and a live writer's folder (this process).
        let dead = dir.join(format!("{STAGING_PREFIX}4999999-abc"));
        std::fs::create_dir(&dead).unwrap();
        std::fs::write(dead.join(WEIGHTS), b"half").unwrap();
        let live = dir.join(format!("{STAGING_PREFIX}{}-xyz", std::process::id()));
        std::fs::create_dir(&live).unwrap();
        // And a delete killed between moving a version away and removing it.
        let deleting = dir.join(format!("{DELETING_PREFIX}4999999-7"));
        std::fs::create_dir(&deleting).unwrap();
        std::fs::create_dir(dir.join("2")).unwrap();
        std::fs::write(dir.join("2").join(WEIGHTS), b"half").unwrap();
        assert_eq!(versions(home.path(), "failure").unwrap(), vec![1]);
        assert_eq!(names(home.path()).unwrap(), vec!["failure".to_string()]);
        assert_eq!(list(home.path(), None).unwrap().len(), 1);
        assert_eq!(
            saved(home.path()).version,
            3,
            "the torn 2 is skipped, not overwritten"
        );
        assert!(
            !dead.exists(),
            "the dead writer's staging folder is still there"
        );
        assert!(live.exists(), "a live writer's staging folder was removed");
        assert!(!deleting.exists(), "a dead delete's folder is still there");
    }

    #[test]
    fn the_manifest_reads_back_as_written_with_typed_metrics() {
        let home = tempfile::tempdir().unwrap();
        let written = saved(home.path());
        let (read, dir) = super::manifest(home.path(), &format!("{}@1", written.name)).unwrap();
        assert_eq!(read, written);
        assert!(dir.ends_with(format!("{}/1", written.name)));
        assert!(matches!(read.metrics, crate::train::TestMetrics::Binary(_)));
    }

    #[test]
    fn corrupted_and_future_manifests_are_refused() {
        let home = tempfile::tempdir().unwrap();
        saved(home.path());
        let path = home.path().join("models/failure/1/manifest.json");
        let good = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        let err = Model::load(home.path(), "failure@1").unwrap_err();
        assert!(matches!(err, LearnError::CorruptManifest { .. }), "{err}");
        std::fs::write(
            &path,
            good.replace("\"format_version\": 1", "\"format_version\": 99"),
        )
        .unwrap();
        let err = Model::load(home.path(), "failure@1").unwrap_err();
        assert!(
            matches!(err, LearnError::FutureManifest { found: 99, .. }),
            "{err}"
        );
        // Saving a new version leaves the broken one untouched.
        std::fs::write(&path, &good[..10]).unwrap();
        assert_eq!(saved(home.path()).version, 2);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), good[..10]);
    }

    /// `n` rows: a text column with a category training never saw (`Z`), floats and a 0/1 label.
    fn mixed(n: usize, seed: u64) -> RecordBatch {
        use arrow::array::StringArray;
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let kinds = ["L", "M", "H", "Z"];
        let kind: Vec<&str> = (0..n)
            .map(|i| kinds[i % if seed == 0 { 3 } else { 4 }])
            .collect();
        let a: Vec<f64> = (0..n).map(|_| rng.random_range(290.0..310.0)).collect();
        let b: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..250.0)).collect();
        let y: Vec<i64> = (0..n)
            .map(|i| {
                i64::from((a[i] - 300.0) * b[i] / 100.0 + f64::from(u8::from(kind[i] == "H")) > 5.0)
            })
            .collect();
        let schema = Arc::new(Schema::new(vec![
            Field::new("kind", DataType::Utf8, false),
            Field::new("a", DataType::Float64, false),
            Field::new("b", DataType::Float64, false),
            Field::new("y", DataType::Int64, false),
        ]));
        let columns: Vec<arrow::array::ArrayRef> = vec![
            Arc::new(StringArray::from(kind)),
            Arc::new(Float64Array::from(a)),
            Arc::new(Float64Array::from(b)),
            Arc::new(Int64Array::from(y)),
        ];
        RecordBatch::try_new(schema, columns).unwrap()
    }

    fn row_of(batch: &RecordBatch, r: usize) -> Vec<RawValue<'_>> {
        use arrow::array::{Array, StringArray};
        let kind = batch
            .column(0)
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap();
        let number = |c: usize| {
            let col = batch
                .column(c)
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap();
            RawValue::Number(col.value(r))
        };
        let text = if kind.is_null(r) {
            RawValue::Null
        } else {
            RawValue::Text(kind.value(r))
        };
        vec![text, number(1), number(2)]
    }

    #[test]
    fn the_row_path_scores_every_kind_as_the_batch_path() {
        use crate::train::{train, KindChoice, NoObserver, TrainRequest};
        let home = tempfile::tempdir().unwrap();
        for kind in [ModelKind::Logistic, ModelKind::Gbdt, ModelKind::Mlp] {
            let mut req = TrainRequest::new(kind.name(), "y");
            req.kind = KindChoice::One(kind);
            req.mlp.epochs = 3;
            req.gbdt.iterations = 60;
            train(
                home.path(),
                &req,
                &mixed(600, 0),
                None,
                None,
                &mut NoObserver,
            )
            .unwrap();
            let m = Model::load(home.path(), kind.name()).unwrap();
            assert!(m.predicts_rows());
            let fresh = mixed(2000, 1);
            let batch = m
                .predict_batch(&fresh.project(&[0, 1, 2]).unwrap())
                .unwrap();
            for (r, b) in batch.iter().enumerate() {
                let one = m.predict_row(&row_of(&fresh, r)).unwrap();
                assert!((one - b).abs() <= 1e-12, "{kind} row {r}: {one} vs {b}");
            }
        }
    }

    #[test]
    fn the_row_path_refuses_rows_the_batch_path_refuses() {
        let home = tempfile::tempdir().unwrap();
        saved(home.path());
        let m = Model::load(home.path(), "failure").unwrap();
        assert_eq!(m.predict_row(&[RawValue::Number(4.0)]).unwrap(), {
            m.predict_batch(&batch().slice(3, 1)).unwrap()[0]
        });
        let err = m.predict_row(&[RawValue::Number(f64::NAN)]).unwrap_err();
        assert!(matches!(err, LearnError::NonFinite { row: 0, .. }), "{err}");
        let err = m.predict_row(&[RawValue::Text("4")]).unwrap_err();
        assert!(matches!(err, LearnError::MistypedColumn { .. }), "{err}");
        let err = m.predict_row(&[]).unwrap_err();
        assert!(
            matches!(
                err,
                LearnError::RowWidth {
                    expected: 1,
                    found: 0
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn tampered_weights_are_refused() {
        let home = tempfile::tempdir().unwrap();
        saved(home.path());
        let path = home.path().join("models/failure/1/weights.safetensors");
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        assert!(matches!(
            Model::load(home.path(), "failure"),
            Err(LearnError::Weights { .. })
        ));
    }
}
