//! The home folder every use case works in (`--home`, `MILLWRIGHT_HOME`).

use std::path::{Path, PathBuf};

use crate::error::{AppError, Result};

/// One Millwright home: lake, models, runs, twin results and reports below one folder. Each stage crate
/// owns the paths of what it writes there; this type only holds the root.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    pub fn new(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the folder if it is missing.
    pub fn ensure(&self) -> Result<()> {
        std::fs::create_dir_all(&self.root).map_err(|source| AppError::Io {
            what: "creating the home folder",
            path: self.root.clone(),
            source,
        })
    }

    /// Reports go to `<home>/reports/<name>/` unless the caller names a folder.
    pub fn report_dir(&self, name: &str) -> PathBuf {
        self.root.join("reports").join(name)
    }

    /// Scratch files of one process (`<home>/tmp`), created on demand.
    pub fn tmp_dir(&self) -> Result<PathBuf> {
        let dir = self.root.join("tmp");
        std::fs::create_dir_all(&dir).map_err(|source| AppError::Io {
            what: "creating the scratch folder",
            path: dir.clone(),
            source,
        })?;
        Ok(dir)
    }
}
