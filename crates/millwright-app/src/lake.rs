//! Lake maintenance use cases: `lake compact` (small files into large ones, one commit) and `lake vacuum`
//! (remove the files no version within the retention needs).

use millwright_data::lake::Lake;
use millwright_data::maintenance::{Compacted, VacuumOptions, Vacuumed, DEFAULT_TARGET_BYTES};
use serde::Serialize;

use crate::error::{Context, Result};
use crate::Home;

/// Rewrites a dataset's small files into files of about `target_bytes` (default 128 MiB) as one commit.
pub async fn compact(home: &Home, dataset: &str, target_bytes: Option<u64>) -> Result<Compacted> {
    let lake = Lake::open(home.root())?;
    lake.compact(dataset, target_bytes.unwrap_or(DEFAULT_TARGET_BYTES))
        .await
        .with_context(|| {
            format!("compaction of dataset {dataset:?} failed; the table is unchanged")
        })
}

/// Which tables a vacuum visits and how long removed files are kept.
#[derive(Debug, Clone)]
pub struct LakeVacuumRequest {
    /// One table; `None`: every table of the lake, quarantine tables included.
    pub dataset: Option<String>,
    /// `168h`, `7d`, `90min`: files replaced longer ago than this are removed.
    pub retain: String,
    pub dry_run: bool,
    pub force: bool,
}

/// What a vacuum removed (or would remove), table by table.
#[derive(Debug, Clone, Serialize)]
pub struct LakeVacuumed {
    pub dry_run: bool,
    pub tables: Vec<Vacuumed>,
    pub files: u64,
    pub bytes: u64,
}

pub async fn vacuum(home: &Home, req: &LakeVacuumRequest) -> Result<LakeVacuumed> {
    let retain = crate::data::parse_age(&req.retain)?
        .to_std()
        .map_err(|_| crate::AppError::invalid(format!("invalid retention {:?}", req.retain)))?;
    let options = VacuumOptions {
        retain,
        dry_run: req.dry_run,
        force: req.force,
    };
    let lake = Lake::open(home.root())?;
    let names = match &req.dataset {
        Some(name) => vec![name.clone()],
        None => lake.dataset_names()?,
    };
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        tables.push(lake.vacuum_table(&name, options).await?);
    }
    Ok(LakeVacuumed {
        dry_run: req.dry_run,
        files: tables.iter().map(|t| t.files.len() as u64).sum(),
        bytes: tables.iter().map(|t| t.bytes).sum(),
        tables,
    })
}
