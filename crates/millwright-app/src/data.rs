//! Data use cases: ingest a file into the lake, and read what the lake holds (datasets, schema, quality
//! reports, history).

use std::path::PathBuf;

use millwright_data::clean::CleanConfig;
use millwright_data::ingest::{IngestOptions, IngestOutcome};
use millwright_data::lake::{DatasetSummary, Lake, VersionInfo, WriteMode};
use millwright_data::quality::QualityReport;
use serde::Serialize;

use crate::error::{AppError, Context, Result};
use crate::{Home, Observer};

/// Read one file, clean it and commit it to a dataset as one version.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    pub file: PathBuf,
    pub dataset: String,
    pub mode: WriteMode,
    /// Cleaning rules; `None`: the defaults (docs/cleaning.md).
    pub clean: Option<CleanConfig>,
}

pub async fn ingest(
    home: &Home,
    req: &IngestRequest,
    observer: &Observer,
) -> Result<IngestOutcome> {
    let mut options = IngestOptions::new(&req.dataset, req.mode);
    options.clean = req.clean.clone().unwrap_or_default();
    options.progress = observer.progress();
    millwright_data::ingest::ingest(home.root(), &req.file, &options)
        .await
        .with_context(|| {
            format!(
                "ingest of {} into dataset {:?} failed; the lake is unchanged",
                req.file.display(),
                req.dataset
            )
        })
}

/// Every dataset of the lake.
pub async fn datasets(home: &Home) -> Result<Vec<DatasetSummary>> {
    Ok(Lake::open(home.root())?.list().await?)
}

/// A dataset's columns at one version.
#[derive(Debug, Clone, Serialize)]
pub struct Schema {
    pub dataset: String,
    pub version: i64,
    pub columns: Vec<SchemaColumn>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemaColumn {
    pub name: String,
    /// The stored Arrow type.
    #[serde(rename = "type")]
    pub data_type: String,
    /// The kind ingest inferred (`number`, `timestamp`, `text` ...), when ingest wrote the version.
    pub kind: Option<String>,
    pub nullable: bool,
    /// Position of the column in the source file.
    pub source_position: usize,
}

pub async fn schema(home: &Home, dataset: &str, version: Option<i64>) -> Result<Schema> {
    let lake = Lake::open(home.root())?;
    let (version, stored) = lake.stored_columns(dataset, version).await?;
    let record = lake.last_record(dataset, Some(version))?.map(|(_, r)| r);
    let columns = stored
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let spec = record
                .as_ref()
                .and_then(|r| r.columns.iter().find(|s| s.name == c.name));
            SchemaColumn {
                kind: spec.map(|s| s.kind.name().to_owned()),
                source_position: spec.map_or(i, |s| s.source_position),
                name: c.name,
                data_type: c.data_type,
                nullable: c.nullable,
            }
        })
        .collect();
    Ok(Schema {
        dataset: dataset.to_owned(),
        version,
        columns,
    })
}

/// The quality report an ingest stored with its commit.
#[derive(Debug, Clone, Serialize)]
pub struct Quality {
    pub dataset: String,
    pub version: i64,
    pub report: QualityReport,
}

pub async fn quality(home: &Home, dataset: &str, version: Option<i64>) -> Result<Quality> {
    let lake = Lake::open(home.root())?;
    let Some((version, record)) = lake.commit_record(dataset, version)? else {
        return Err(AppError::invalid(format!(
            "dataset {dataset:?} version {} was not written by an ingest; it has no quality report",
            version.map_or("latest".into(), |v| v.to_string())
        )));
    };
    let Some(report) = record.report else {
        return Err(AppError::invalid(format!(
            "dataset {dataset:?} version {version} has no quality report (it is a {} commit)",
            record.kind
        )));
    };
    Ok(Quality {
        dataset: dataset.to_owned(),
        version,
        report: *report,
    })
}

pub async fn history(home: &Home, dataset: &str) -> Result<Vec<VersionInfo>> {
    Ok(Lake::open(home.root())?.history(dataset)?)
}

/// `create` for a new dataset, `overwrite` for one that exists (a use case that regenerates its data).
pub(crate) fn create_or_overwrite(home: &Home, dataset: &str) -> Result<WriteMode> {
    Ok(if Lake::open(home.root())?.exists(dataset) {
        WriteMode::Overwrite
    } else {
        WriteMode::Create
    })
}
