//! What a run is about: the description given when it starts.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Result, TrackingError};

/// Everything known about a run before it trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Human name, usually the model name it trains (`failure`); need not be unique.
    pub name: String,
    /// Model kind (`mlp`, `gbdt`, `logistic`, ...), a catalog filter.
    pub model_kind: String,
    /// Hyper-parameters and options, as given; nested objects are flattened for comparison.
    pub params: serde_json::Value,
    /// Data the run trained on.
    pub dataset: DatasetRef,
    /// Build of Millwright that ran it.
    pub code_version: CodeVersion,
    /// Random seed, when the run is seeded.
    pub seed: Option<u64>,
}

impl RunSpec {
    /// A spec with empty params, no seed and this build's code version.
    pub fn new(
        name: impl Into<String>,
        model_kind: impl Into<String>,
        dataset: DatasetRef,
    ) -> RunSpec {
        RunSpec {
            name: name.into(),
            model_kind: model_kind.into(),
            params: serde_json::Value::Object(serde_json::Map::new()),
            dataset,
            code_version: CodeVersion::current(),
            seed: None,
        }
    }

    /// Sets the hyper-parameters.
    pub fn with_params(mut self, params: serde_json::Value) -> RunSpec {
        self.params = params;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> RunSpec {
        self.seed = Some(seed);
        self
    }

    /// Rejects specs the catalog could not list sensibly.
    pub(crate) fn validate(&self) -> Result<()> {
        for (what, value) in [("run name", &self.name), ("model kind", &self.model_kind)] {
            if value.trim().is_empty() {
                return Err(TrackingError::InvalidInput {
                    what,
                    reason: "must not be empty".into(),
                });
            }
            if value.chars().any(char::is_control) {
                return Err(TrackingError::InvalidInput {
                    what,
                    reason: format!("{value:?} contains control characters"),
                });
            }
        }
        if let DatasetRef::Files { files } = &self.dataset {
            if files.is_empty() {
                return Err(TrackingError::InvalidInput {
                    what: "dataset",
                    reason: "no files listed".into(),
                });
            }
        }
        Ok(())
    }
}

/// Where the training data came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum DatasetRef {
    /// A lake table at one committed version.
    Lake {
        /// Dataset name in the lake.
        name: String,
        /// Delta table version read.
        version: u64,
    },
    /// Plain files (CSV, Parquet), identified by content hash.
    Files {
        /// The files, in the order given (e.g. train then test).
        files: Vec<DatasetFile>,
    },
}

/// One input file and its content fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetFile {
    /// Path as given by the user.
    pub path: PathBuf,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl DatasetRef {
    /// A lake table at `version`.
    pub fn lake(name: impl Into<String>, version: u64) -> DatasetRef {
        DatasetRef::Lake {
            name: name.into(),
            version,
        }
    }

    /// Files, hashed now (streamed, so large files cost I/O, not memory).
    pub fn files<P: AsRef<Path>>(paths: &[P]) -> Result<DatasetRef> {
        let files = paths
            .iter()
            .map(|p| DatasetFile::fingerprint(p.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        Ok(DatasetRef::Files { files })
    }

    /// Short name shown in listings and matched by the `dataset` filter: the lake name, or the file names
    /// joined with `+` (`train.csv+test.csv`).
    pub fn label(&self) -> String {
        match self {
            DatasetRef::Lake { name, .. } => name.clone(),
            DatasetRef::Files { files } => files
                .iter()
                .map(|f| {
                    f.path.file_name().map_or_else(
                        || f.path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    )
                })
                .collect::<Vec<_>>()
                .join("+"),
        }
    }

    /// The lake version, for lake datasets.
    pub fn lake_version(&self) -> Option<u64> {
        match self {
            DatasetRef::Lake { version, .. } => Some(*version),
            DatasetRef::Files { .. } => None,
        }
    }
}

impl DatasetFile {
    /// Hashes the file at `path`.
    pub fn fingerprint(path: &Path) -> Result<DatasetFile> {
        let mut file = File::open(path).map_err(TrackingError::io("open dataset file", path))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let n = file
                .read(&mut buf)
                .map_err(TrackingError::io("read dataset file", path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            bytes += n as u64;
        }
        let sha256 = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(DatasetFile {
            path: path.to_path_buf(),
            sha256,
            bytes,
        })
    }
}

/// The Millwright build that produced a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeVersion {
    /// Crate version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// Git commit the build came from, when built inside a checkout.
    pub git_commit: Option<String>,
}

impl CodeVersion {
    /// This build's version, with the git commit when the build set `MILLWRIGHT_GIT_COMMIT` (none otherwise).
    pub fn current() -> CodeVersion {
        CodeVersion {
            version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: option_env!("MILLWRIGHT_GIT_COMMIT")
                .filter(|c| !c.is_empty())
                .map(str::to_string),
        }
    }
}

impl fmt::Display for CodeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.git_commit {
            Some(commit) => write!(f, "{}+{commit}", self.version),
            None => f.write_str(&self.version),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_fingerprint_is_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.csv");
        std::fs::write(&path, "abc").unwrap();
        let dataset = DatasetRef::files(&[&path]).unwrap();
        let DatasetRef::Files { files } = &dataset else {
            panic!("expected files")
        };
        assert_eq!(
            files[0].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(files[0].bytes, 3);
        assert_eq!(dataset.label(), "train.csv");
    }

    #[test]
    fn missing_dataset_file_names_the_path() {
        let err = DatasetRef::files(&["/nonexistent/x.csv"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/x.csv"), "{err}");
    }

    #[test]
    fn empty_name_is_rejected() {
        let spec = RunSpec::new(" ", "mlp", DatasetRef::lake("milling", 1));
        assert!(spec.validate().is_err());
    }
}
