//! Data use cases: ingest a file into the lake, and read what the lake holds (datasets, schema, quality
//! reports, history).

use std::path::PathBuf;

use millwright_data::clean::CleanConfig;
use millwright_data::ingest::{IngestOptions, IngestOutcome};
use millwright_data::lake::{DatasetSummary, Lake, VersionInfo, WriteMode};
use millwright_data::quality::QualityReport;
use millwright_data::trash::TrashedDataset;
use serde::Serialize;

use crate::error::{AppError, Context, Result};
use crate::{Home, Observer};

/// Read one file (or several: a folder, a glob pattern, a list), clean it and commit it to a dataset as
/// one version.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    /// A file, a folder (every file in it with a known extension) or a pattern (`exports/2026-*.csv`).
    pub file: PathBuf,
    /// More files, folders or patterns (a list the shell expanded), read after `file`.
    pub more: Vec<PathBuf>,
    pub dataset: String,
    pub mode: WriteMode,
    /// Cleaning rules; `None`: the defaults (docs/cleaning.md).
    pub clean: Option<CleanConfig>,
    /// On append: skip rows whose values in these columns are already stored; empty: rows repeating a
    /// stored row whole are reported (and stored).
    pub key: Vec<String>,
}

pub async fn ingest(
    home: &Home,
    req: &IngestRequest,
    observer: &Observer,
) -> Result<IngestOutcome> {
    ingest_hashed(home, req, observer, None).await
}

/// [`ingest`], the file's hash kept in the commit's report (the drop folder's memory of what it took).
pub(crate) async fn ingest_hashed(
    home: &Home,
    req: &IngestRequest,
    observer: &Observer,
    xxh3: Option<String>,
) -> Result<IngestOutcome> {
    let mut options = IngestOptions::new(&req.dataset, req.mode);
    options.source_xxh3 = xxh3;
    options.clean = req.clean.clone().unwrap_or_default();
    options.progress = observer.progress();
    options.key = req.key.clone();
    let failed = || {
        let more = match req.more.len() {
            0 => String::new(),
            n => format!(" (and {n} more)"),
        };
        format!(
            "ingest of {}{more} into dataset {:?} failed; the lake is unchanged",
            req.file.display(),
            req.dataset
        )
    };
    let files = input_files(std::iter::once(&req.file).chain(&req.more)).with_context(failed)?;
    millwright_data::ingest::ingest_files(home.root(), &files, &options)
        .await
        .with_context(failed)
}

/// Every file the inputs name, in order: a pattern's matches and a folder's files (those with an
/// extension ingest reads) sorted by name, a plain path as it is (its errors come from reading it).
fn input_files<'a>(inputs: impl Iterator<Item = &'a PathBuf>) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        let text = input.to_string_lossy();
        let mut found: Vec<PathBuf> = if text.contains(['*', '?', '[']) {
            let invalid = |e: glob::PatternError| {
                AppError::invalid(format!("invalid file pattern {text:?}: {e}"))
            };
            glob::glob(&text)
                .map_err(invalid)?
                .filter_map(std::result::Result::ok)
                .filter(|p| p.is_file())
                .collect()
        } else if input.is_dir() {
            folder_files(input)?
        } else {
            files.push(input.clone());
            continue;
        };
        if found.is_empty() {
            let what = if input.is_dir() {
                "the folder holds no file to ingest"
            } else {
                "no file matches the pattern"
            };
            return Err(AppError::invalid(format!(
                "{text}: {what} (expected files ending in {})",
                millwright_data::error::INPUT_EXTENSIONS
            )));
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

/// The files of a folder that ingest reads (by extension), not its subfolders.
fn folder_files(folder: &std::path::Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(folder)
        .map_err(|e| AppError::invalid(format!("cannot list {}: {e}", folder.display())))?;
    Ok(entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && millwright_data::source::Format::detect(p).is_ok())
        .collect())
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

/// Deletes a dataset: every version (and its quarantine table) moves to the lake's trash, where
/// [`restore_dataset`] finds it until [`vacuum`] removes it. Refused while an ingest writes the dataset.
pub fn delete_dataset(home: &Home, name: &str, actor: &str) -> Result<TrashedDataset> {
    Ok(Lake::open(home.root())?.delete_dataset(name, actor)?)
}

/// The deleted datasets waiting in the trash, newest first.
pub fn trash(home: &Home) -> Result<Vec<TrashedDataset>> {
    Ok(Lake::open(home.root())?.trash()?)
}

/// Brings a deleted dataset back with every version: `reference` is a trash id
/// (`milling.20261201T174155123Z`) or a dataset name (its most recently deleted copy).
pub fn restore_dataset(home: &Home, reference: &str) -> Result<TrashedDataset> {
    Ok(Lake::open(home.root())?.restore_dataset(reference)?)
}

/// Which trash entries a vacuum removes for good.
#[derive(Debug, Clone, Default)]
pub struct VacuumRequest {
    /// A trash id or a dataset name (all its entries); `None`: every entry.
    pub reference: Option<String>,
    /// Only entries deleted longer ago than this (`30d`, `12h`, `90min`, `45s`).
    pub older_than: Option<String>,
}

/// What a vacuum removed.
#[derive(Debug, Clone, Serialize)]
pub struct Vacuumed {
    pub purged: Vec<TrashedDataset>,
    pub freed_bytes: u64,
}

pub fn vacuum(home: &Home, req: &VacuumRequest) -> Result<Vacuumed> {
    let older_than = req.older_than.as_deref().map(parse_age).transpose()?;
    let purged = Lake::open(home.root())?.vacuum(req.reference.as_deref(), older_than)?;
    Ok(Vacuumed {
        freed_bytes: purged.iter().map(|p| p.size_bytes).sum(),
        purged,
    })
}

/// `30d`, `12h`, `90min`, `45s` as a duration.
pub(crate) fn parse_age(text: &str) -> Result<chrono::Duration> {
    let invalid = || {
        AppError::invalid(format!(
            "invalid age {text:?}: a whole number with d, h, min or s (e.g. 30d)"
        ))
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(invalid)?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.parse().map_err(|_| invalid())?;
    let seconds = match unit {
        "d" => n.checked_mul(86_400),
        "h" => n.checked_mul(3_600),
        "min" => n.checked_mul(60),
        "s" => Some(n),
        _ => None,
    }
    .ok_or_else(invalid)?;
    chrono::Duration::try_seconds(seconds).ok_or_else(invalid)
}

/// `create` for a new dataset, `overwrite` for one that exists (a use case that regenerates its data).
pub(crate) fn create_or_overwrite(home: &Home, dataset: &str) -> Result<WriteMode> {
    Ok(if Lake::open(home.root())?.exists(dataset) {
        WriteMode::Overwrite
    } else {
        WriteMode::Create
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_durations() {
        assert_eq!(parse_age("30d").unwrap(), chrono::Duration::days(30));
        assert_eq!(parse_age("12h").unwrap(), chrono::Duration::hours(12));
        assert_eq!(parse_age("90min").unwrap(), chrono::Duration::minutes(90));
        assert_eq!(parse_age("0s").unwrap(), chrono::Duration::zero());
        for bad in ["", "d", "7", "7w", "-1d", "1.5d", "99999999999999999d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}
