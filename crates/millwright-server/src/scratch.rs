//! The server's scratch files in `<home>/tmp` (uploads, cleaning configs, line files of a request). Each
//! name carries the id of the server process that made it, `upload-<pid>-<random>.csv`: a server killed
//! with SIGKILL cannot remove its own, and the next server to start removes the files of processes that
//! are gone, never those of a live server sharing the home.

use std::path::Path;

use tempfile::NamedTempFile;

use crate::error::ApiError;

/// The kinds of scratch file, the first part of their names.
const KINDS: [&str; 3] = ["upload", "clean", "line"];

/// A new scratch file `<kind>-<pid>-<random><suffix>` in `dir`, removed when dropped.
pub(crate) fn file(dir: &Path, kind: &str, suffix: &str) -> Result<NamedTempFile, ApiError> {
    debug_assert!(KINDS.contains(&kind), "unknown scratch kind {kind}");
    tempfile::Builder::new()
        .prefix(&format!("{kind}-{}-", std::process::id()))
        .suffix(suffix)
        .tempfile_in(dir)
        .map_err(|e| ApiError::internal(format!("cannot create a scratch file: {e}")))
}

/// An uploaded file kept under its own name (what the quality report and the quarantine then show) in
/// a scratch folder `upload-<pid>-<random>/`, removed with the folder when dropped.
pub(crate) struct Upload {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl Upload {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A scratch folder for an upload named `original` (the client's file name: its last path part, without
/// control characters, ending in `.<format>`; `upload.<format>` when there is none).
pub(crate) fn upload(dir: &Path, original: Option<&str>, format: &str) -> Result<Upload, ApiError> {
    let folder = tempfile::Builder::new()
        .prefix(&format!("upload-{}-", std::process::id()))
        .tempdir_in(dir)
        .map_err(|e| ApiError::internal(format!("cannot create a scratch folder: {e}")))?;
    let path = folder.path().join(upload_name(original, format));
    Ok(Upload { _dir: folder, path })
}

fn upload_name(original: Option<&str>, format: &str) -> String {
    let base: String = original
        .and_then(|n| n.rsplit(['/', '\\']).next())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let base = base.trim();
    if base.is_empty() || base.trim_matches('.').is_empty() {
        return format!("upload.{format}");
    }
    let suffix = format!(".{format}");
    if base.to_ascii_lowercase().ends_with(&suffix) {
        base.to_owned()
    } else {
        format!("{base}{suffix}")
    }
}

/// The process id in a scratch file's name, when it is one of ours.
fn owner(name: &str) -> Option<u32> {
    let (kind, rest) = name.split_once('-')?;
    if !KINDS.contains(&kind) {
        return None;
    }
    rest.split_once('-')?.0.parse().ok()
}

/// Removes the scratch files in `<home>/tmp` whose server process is gone; returns how many.
pub fn remove_dead(home: &millwright_app::Home) -> Result<usize, millwright_app::AppError> {
    let dir = home.root().join("tmp");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(source) => {
            return Err(millwright_app::AppError::Io {
                what: "reading the scratch folder",
                path: dir,
                source,
            })
        }
    };
    let mut removed = 0;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner) else {
            continue;
        };
        if pid == std::process::id() || crate::store::process_alive(pid) != Some(false) {
            continue;
        }
        let path = entry.path();
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match gone {
            Ok(()) => removed += 1,
            // Another server starting at the same moment removed it first.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(file = %entry.path().display(), error = %e, "cannot remove a stale scratch file");
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_keeps_the_last_part_of_its_name() {
        assert_eq!(
            super::upload_name(Some("机床 2026.csv"), "csv"),
            "机床 2026.csv"
        );
        assert_eq!(
            super::upload_name(Some("../../etc/passwd"), "csv"),
            "passwd.csv"
        );
        assert_eq!(
            super::upload_name(Some("C:\\exports\\a.CSV"), "csv"),
            "a.CSV"
        );
        assert_eq!(super::upload_name(Some("data.txt"), "csv"), "data.txt.csv");
        assert_eq!(super::upload_name(Some(".."), "parquet"), "upload.parquet");
        assert_eq!(super::upload_name(Some("a\nb.csv"), "csv"), "ab.csv");
        assert_eq!(super::upload_name(None, "jsonl"), "upload.jsonl");
    }

    #[test]
    fn only_the_files_of_gone_processes_are_removed() {
        if crate::store::process_alive(1).is_none() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let home = millwright_app::Home::new(dir.path());
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let ours = file(&tmp, "upload", ".csv").unwrap();
        let mine = format!("upload-{}-", std::process::id());
        assert!(ours
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&mine));
        // pid 1 is always alive; 4999999 is above the kernel's pid_max, never alive.
        for name in [
            "upload-1-abc.csv",
            "upload-4999999-abc.csv",
            "clean-4999999-x.toml",
            "line-4999999-y.toml",
            "report-4999999-z.html",
            "upload-notapid-w.csv",
        ] {
            std::fs::write(tmp.join(name), "x").unwrap();
        }
        assert_eq!(remove_dead(&home).unwrap(), 3);
        let mut left: Vec<String> = std::fs::read_dir(&tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with(&mine))
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "report-4999999-z.html",
                "upload-1-abc.csv",
                "upload-notapid-w.csv"
            ]
        );
        assert!(ours.path().is_file(), "this live process's upload went");
    }
}
