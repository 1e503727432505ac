//! Stored twin runs: `<home>/twin/<run-id>/` holds `result.json` (the [`TwinResult`]), `line.toml` (the
//! line file as given), `model.json` (the policies' models) and the plots. The twin writes these files,
//! so it owns their paths and reads them back for every other crate.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use millwright_core::ModelRef;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};

use crate::error::TwinError;
use crate::line::Line;
use crate::run::TwinResult;

/// A run being deleted: `.deleting-<pid>-<run id>`, renamed away before its removal.
const DELETING_PREFIX: &str = ".deleting-";

/// The result file of a run folder.
pub const RESULT_FILE: &str = "result.json";

/// `<home>/twin/<run-id>/`, after checking that the id is a plain name (not empty, no path separators,
/// not `.` or `..`).
pub fn run_dir(home: &Path, run_id: &str) -> Result<PathBuf, TwinError> {
    let reason = if run_id.is_empty() {
        Some("it is empty")
    } else if run_id == "." || run_id.contains("..") || run_id.contains(['/', '\\']) {
        Some("a run id is a plain name, without path separators or `..`")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(TwinError::InvalidRunId {
            id: run_id.to_owned(),
            reason,
        }),
        None => Ok(home.join("twin").join(run_id)),
    }
}

/// `model.json`: which model each policy used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelsFile {
    pub line_sha256: String,
    pub policies: Vec<PolicyModel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyModel {
    pub policy: String,
    pub description: String,
    pub model: Option<ModelRef>,
    pub model_description: Option<String>,
}

/// Stores a result atomically under `<home>/twin/<run-id>/`: result.json, line.toml, model.json and
/// the plots. Writes into a hidden temporary folder and renames it, so a failure or a crash leaves
/// nothing half-written.
pub fn store_result(home: &Path, line: &Line, result: &TwinResult) -> Result<PathBuf, TwinError> {
    let dir = run_dir(home, &result.run_id)?;
    if dir.exists() {
        return Err(TwinError::RunExists { path: dir });
    }
    let twin = home.join("twin");
    std::fs::create_dir_all(&twin).map_err(|e| TwinError::io(&twin, e))?;
    let tmp = twin.join(format!(".{}.tmp", result.run_id));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| TwinError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| TwinError::io(&tmp, e))?;
    let written = write_run(&tmp, line, result)
        .and_then(|()| std::fs::rename(&tmp, &dir).map_err(|e| TwinError::io(&dir, e)));
    if written.is_err() {
        // Best effort: the error being returned matters more than a leftover hidden folder.
        let _ = std::fs::remove_dir_all(&tmp);
    }
    written.map(|()| dir)
}

fn write_run(dir: &Path, line: &Line, result: &TwinResult) -> Result<(), TwinError> {
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(|e| TwinError::io(&p, e))
    };
    let models = ModelsFile {
        line_sha256: line.source_sha256.clone(),
        policies: result
            .policies
            .iter()
            .map(|p| PolicyModel {
                policy: p.policy.clone(),
                description: p.description.clone(),
                model: p.model.clone(),
                model_description: p.model_description.clone(),
            })
            .collect(),
    };
    write(RESULT_FILE, &pretty_json("twin result", result)?)?;
    write("line.toml", line.source.as_bytes())?;
    write("model.json", &pretty_json("model list", &models)?)?;
    crate::plot::plot_result(result, dir)
}

fn pretty_json<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, TwinError> {
    serde_json::to_vec_pretty(value).map_err(|source| TwinError::Serialise { what, source })
}

/// Reads the stored result of run `run_id`.
pub fn load_result(home: &Path, run_id: &str) -> Result<TwinResult, TwinError> {
    let path = run_dir(home, run_id)?.join(RESULT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(TwinError::RunMissing {
                id: run_id.to_owned(),
                path,
            })
        }
        Err(e) => return Err(TwinError::io(&path, e)),
    };
    parse(&text, &path)
}

/// A chart stored with a run: `kpis.svg`, `gantt-predictive.png`, `optimization.svg` …
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlotFile {
    pub file: String,
    /// `image/svg+xml` or `image/png`.
    pub media_type: &'static str,
}

fn plot_media_type(file: &str) -> Option<&'static str> {
    match Path::new(file).extension()?.to_str()? {
        "svg" => Some("image/svg+xml"),
        "png" => Some("image/png"),
        _ => None,
    }
}

/// The charts of run `run_id` (the SVG and PNG files [`store_result`] wrote beside its result), by name.
pub fn list_plots(home: &Path, run_id: &str) -> Result<Vec<PlotFile>, TwinError> {
    let dir = run_dir(home, run_id)?;
    // A hidden folder is a run being deleted.
    if run_id.starts_with('.') || !dir.join(RESULT_FILE).is_file() {
        return Err(TwinError::RunMissing {
            id: run_id.to_owned(),
            path: dir.join(RESULT_FILE),
        });
    }
    let entries = std::fs::read_dir(&dir).map_err(|e| TwinError::io(&dir, e))?;
    let mut plots = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| TwinError::io(&dir, e))?;
        let Ok(file) = entry.file_name().into_string() else {
            continue;
        };
        if file.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        if let Some(media_type) = plot_media_type(&file) {
            plots.push(PlotFile { file, media_type });
        }
    }
    plots.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(plots)
}

/// The path and media type of chart `file` of run `run_id`: only a name [`list_plots`] lists, so a
/// request cannot reach another file of the folder, or outside it.
pub fn plot_path(
    home: &Path,
    run_id: &str,
    file: &str,
) -> Result<(PathBuf, &'static str), TwinError> {
    let plots = list_plots(home, run_id)?;
    match plots.iter().find(|p| p.file == file) {
        Some(plot) => Ok((run_dir(home, run_id)?.join(&plot.file), plot.media_type)),
        None => Err(TwinError::PlotMissing {
            id: run_id.to_owned(),
            file: file.to_owned(),
            available: plots
                .iter()
                .map(|p| p.file.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Parses stored JSON; a fault names the file and its JSON path (`policies[1].kpis.oee.mean`).
fn parse<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, TwinError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| TwinError::ResultMalformed {
        path: path.to_path_buf(),
        at: e.path().to_string(),
        source: e.into_inner(),
    })
}

/// What a list of runs shows of each.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub line: String,
    pub policies: Vec<String>,
    pub replications: usize,
    pub horizon: f64,
    pub time_unit: String,
    /// An optimisation run (its policies are the points of a search).
    pub optimization: bool,
}

/// The fields of `result.json` a summary needs; the rest is skipped unread.
#[derive(Deserialize)]
struct Head {
    run_id: String,
    replications: usize,
    horizon: f64,
    time_unit: String,
    line: HeadLine,
    policies: Vec<HeadPolicy>,
    #[serde(default)]
    optimization: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct HeadLine {
    name: String,
}

/// Deletes stored run `run_id` for good: the folder is renamed to a hidden name in one step (listings
/// skip it; a reader sees the whole run or none), then removed. A run whose result no longer parses can
/// be deleted too.
pub fn delete_result(home: &Path, run_id: &str) -> Result<(), TwinError> {
    if run_id.starts_with('.') {
        return Err(TwinError::InvalidRunId {
            id: run_id.to_owned(),
            reason: "names starting with `.` are unfinished writes, not runs",
        });
    }
    let dir = run_dir(home, run_id)?;
    let result = dir.join(RESULT_FILE);
    if !result.is_file() {
        return Err(TwinError::RunMissing {
            id: run_id.to_owned(),
            path: result,
        });
    }
    let doomed = home
        .join("twin")
        .join(format!("{DELETING_PREFIX}{}-{run_id}", std::process::id()));
    std::fs::rename(&dir, &doomed).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            TwinError::RunMissing {
                id: run_id.to_owned(),
                path: result.clone(),
            }
        } else {
            TwinError::io(&dir, e)
        }
    })?;
    std::fs::remove_dir_all(&doomed).map_err(|e| TwinError::io(&doomed, e))
}

#[derive(Deserialize)]
struct HeadPolicy {
    policy: String,
}

/// The stored runs, newest first (by when their result was written). Folders starting with `.`
/// (unfinished writes) are skipped; a run folder without a readable result is an error naming it.
pub fn list_results(home: &Path) -> Result<Vec<RunSummary>, TwinError> {
    let twin = home.join("twin");
    // A delete killed between renaming a run away and removing it left its folder: finish it.
    millwright_core::remove_abandoned(&twin, &[DELETING_PREFIX]);
    let entries = match std::fs::read_dir(&twin) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(TwinError::io(&twin, e)),
    };
    let mut runs: Vec<(SystemTime, RunSummary)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| TwinError::io(&twin, e))?;
        let name = entry.file_name();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir || name.to_string_lossy().starts_with('.') {
            continue;
        }
        runs.push(summary_of(&entry.path().join(RESULT_FILE))?);
    }
    runs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.run_id.cmp(&a.1.run_id)));
    Ok(runs.into_iter().map(|(_, summary)| summary).collect())
}

fn summary_of(path: &Path) -> Result<(SystemTime, RunSummary), TwinError> {
    let text = std::fs::read_to_string(path).map_err(|e| TwinError::io(path, e))?;
    let written = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| TwinError::io(path, e))?;
    let head: Head = parse(&text, path)?;
    Ok((
        written,
        RunSummary {
            run_id: head.run_id,
            line: head.line.name,
            policies: head.policies.into_iter().map(|p| p.policy).collect(),
            replications: head.replications,
            horizon: head.horizon,
            time_unit: head.time_unit,
            optimization: head.optimization.is_some(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_plain_names() {
        for bad in ["", ".", "..", "a/b", "../x", "a\\b", "x..y"] {
            let err = run_dir(Path::new("/h"), bad).unwrap_err();
            assert!(matches!(err, TwinError::InvalidRunId { .. }), "{bad}");
        }
        assert_eq!(
            run_dir(Path::new("/h"), "twin-1").unwrap(),
            Path::new("/h/twin/twin-1")
        );
    }

    #[test]
    fn a_missing_or_malformed_result_names_the_run_and_the_fault() {
        let home = tempfile::tempdir().unwrap();
        let err = load_result(home.path(), "twin-nope").unwrap_err();
        assert!(matches!(err, TwinError::RunMissing { .. }), "{err}");
        assert!(err.to_string().contains("twin-nope"), "{err}");
        let dir = home.path().join("twin/twin-bad");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(RESULT_FILE),
            r#"{"run_id": "twin-bad", "seed": "seven"}"#,
        )
        .unwrap();
        let err = load_result(home.path(), "twin-bad").unwrap_err();
        let TwinError::ResultMalformed { path, at, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(
            (path.as_path(), at.as_str()),
            (dir.join(RESULT_FILE).as_path(), "seed")
        );
        assert!(list_results(home.path()).is_err());
        assert_eq!(list_results(&home.path().join("none")).unwrap(), []);
        // A run that no longer reads can still be deleted, and then it is gone from the list.
        delete_result(home.path(), "twin-bad").unwrap();
        assert_eq!(list_results(home.path()).unwrap(), []);
        // A delete killed between its rename and its removal: the next listing removes what it left.
        let abandoned = home.path().join("twin/.deleting-4999999-twin-old");
        std::fs::create_dir_all(&abandoned).unwrap();
        std::fs::write(abandoned.join(RESULT_FILE), "{}").unwrap();
        assert_eq!(list_results(home.path()).unwrap(), []);
        assert!(!abandoned.exists(), "a dead delete's folder is still there");
        assert!(matches!(
            delete_result(home.path(), "twin-bad"),
            Err(TwinError::RunMissing { .. })
        ));
        for bad in ["..", "../x", ".twin-1.tmp", "a/b"] {
            assert!(
                matches!(
                    delete_result(home.path(), bad),
                    Err(TwinError::InvalidRunId { .. })
                ),
                "{bad}"
            );
        }
    }
}
