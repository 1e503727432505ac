//! Deleting datasets so that they can be brought back: a delete moves the table (and its quarantine
//! table) into `<home>/lake/.trash/<id>/`, where `restore` finds it until `vacuum` removes it for good.
//!
//! Layout of one entry, `<id>` being `NAME.YYYYMMDDTHHMMSSmmmZ` (the dataset and when it was deleted):
//!
//! ```text
//! lake/.trash/milling.20261201T174155123Z/table/        the Delta table as it was: every version
//! lake/.trash/milling.20261201T174155123Z/quarantine/   its quarantine table, when it had one
//! lake/.trash/milling.20261201T174155123Z/deleted.json  who deleted it, when, its latest version, size
//! ```
//!
//! Every move is a `rename` inside the lake folder (one file system), so a table is either in the lake or
//! in the trash, never half in each. Writers and deletes of one dataset meet at a lock file
//! (`lake/.locks/NAME.lock`, an advisory `flock`): an ingest holds it shared from its first look at the
//! lake to its last commit, so two ingests still run side by side, while delete, restore and vacuum take
//! it exclusively and give up at once ([`DataError::DatasetBusy`]) instead of waiting for an ingest or
//! pulling a table from under it.

use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::lake::{dir_size, Lake};
use crate::names::{validate_dataset_name, validate_new_dataset_name, QUARANTINE_SUFFIX};

/// The trash folder inside the lake.
pub const TRASH_DIR: &str = ".trash";
const LOCKS_DIR: &str = ".locks";
const ENTRY_FILE: &str = "deleted.json";
const TABLE: &str = "table";
const QUARANTINE: &str = "quarantine";
const STAMP: &str = "%Y%m%dT%H%M%S%3fZ";
/// A delete fills `.incoming-<id>` and renames it to `<id>`; a restore renames `<id>` to `.restoring-<id>`
/// and empties it.
const INCOMING: &str = ".incoming-";
const RESTORING: &str = ".restoring-";
const PURGING: &str = ".purging-";

/// A deleted dataset waiting in the trash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrashedDataset {
    /// `NAME.YYYYMMDDTHHMMSSmmmZ`: what `restore` and `vacuum` take.
    pub id: String,
    /// The dataset's name in the lake.
    pub name: String,
    pub deleted_at: DateTime<Utc>,
    /// Who deleted it (a token name over HTTP, the OS user from the command line).
    pub deleted_by: String,
    /// The table's latest version when it was deleted; every version up to it comes back with `restore`.
    pub latest_version: i64,
    /// Whether its quarantine table was moved with it.
    pub quarantine: bool,
    /// Bytes the entry holds on disk (what `vacuum` frees).
    pub size_bytes: u64,
}

/// Holds a dataset's lock while it lives (released when the file closes).
#[derive(Debug)]
pub struct DatasetLock {
    _file: File,
}

/// The lock of a dataset and of its quarantine table (one lock for both).
fn lock_file(lake: &Lake, name: &str) -> Result<File> {
    let base = name.strip_suffix(QUARANTINE_SUFFIX).unwrap_or(name);
    let dir = lake.root().join(LOCKS_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| DataError::io(&dir, e))?;
    let path = dir.join(format!("{base}.lock"));
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| DataError::io(&path, e))
}

impl Lake {
    /// The shared lock writers of `name` hold: waits while a delete, restore or vacuum of it runs.
    pub fn lock_shared(&self, name: &str) -> Result<DatasetLock> {
        validate_dataset_name(name)?;
        let file = lock_file(self, name)?;
        file.lock_shared()
            .map_err(|e| DataError::io(self.root().join(LOCKS_DIR), e))?;
        Ok(DatasetLock { _file: file })
    }

    /// The exclusive lock, or [`DataError::DatasetBusy`] when a writer holds the shared one.
    fn lock_exclusive_now(&self, name: &str) -> Result<DatasetLock> {
        let file = lock_file(self, name)?;
        match file.try_lock() {
            Ok(()) => Ok(DatasetLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(DataError::DatasetBusy {
                name: name.to_owned(),
            }),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(DataError::io(self.root().join(LOCKS_DIR), e))
            }
        }
    }

    fn trash_root(&self) -> PathBuf {
        self.root().join(TRASH_DIR)
    }

    /// Moves dataset `name` (every version, and its quarantine table) into the trash.
    pub fn delete_dataset(&self, name: &str, actor: &str) -> Result<TrashedDataset> {
        validate_new_dataset_name(name)?;
        let _lock = self.lock_exclusive_now(name)?;
        if !self.exists(name) {
            return Err(DataError::NoSuchDataset {
                name: name.to_owned(),
                lake: self.root().to_owned(),
            });
        }
        let latest_version = self.latest_version(name)?;
        let quarantine_name = Lake::quarantine_name(name);
        let quarantine = self.exists(&quarantine_name);
        let size_bytes = dir_size(&self.table_path(name))
            + if quarantine {
                dir_size(&self.table_path(&quarantine_name))
            } else {
                0
            };
        let deleted_at = Utc::now();
        let trash = self.trash_root();
        std::fs::create_dir_all(&trash).map_err(|e| DataError::io(&trash, e))?;
        let (id, incoming) = reserve_id(&trash, &format!("{name}.{}", deleted_at.format(STAMP)))?;
        let entry = TrashedDataset {
            id,
            name: name.to_owned(),
            deleted_at,
            deleted_by: actor.to_owned(),
            latest_version,
            quarantine,
            size_bytes,
        };
        // Filled under a hidden name and renamed into place: an entry is listed (and restorable) once
        // everything is in it. A crash part way leaves the hidden folder, which `trash` finishes.
        write_entry(&incoming, &entry)?;
        // The table first: once it is in the trash the dataset is gone from the lake.
        if let Err(e) = std::fs::rename(self.table_path(name), incoming.join(TABLE)) {
            let _ = std::fs::remove_dir_all(&incoming);
            return Err(DataError::io(self.table_path(name), e));
        }
        self.finish_incoming(&incoming, &entry)?;
        Ok(entry)
    }

    /// Completes a delete whose table is in `incoming`: the quarantine table follows, then the entry is
    /// renamed into place.
    fn finish_incoming(&self, incoming: &Path, entry: &TrashedDataset) -> Result<()> {
        let quarantine_name = Lake::quarantine_name(&entry.name);
        if entry.quarantine
            && !incoming.join(QUARANTINE).exists()
            && self.table_path(&quarantine_name).exists()
        {
            let from = self.table_path(&quarantine_name);
            std::fs::rename(&from, incoming.join(QUARANTINE))
                .map_err(|e| DataError::io(&from, e))?;
        }
        let done = self.trash_root().join(&entry.id);
        std::fs::rename(incoming, &done).map_err(|e| DataError::io(&done, e))
    }

    /// Finishes what a delete or restore killed part way left in the trash (hidden folders): a delete
    /// whose table had moved is completed, one whose table had not is undone; a restore is completed,
    /// or, when a new dataset took the name meanwhile, put back in the trash. Folders whose dataset is
    /// locked (a delete or restore running now) are left alone.
    fn recover(&self) -> Result<()> {
        let trash = self.trash_root();
        let Ok(entries) = std::fs::read_dir(&trash) else {
            return Ok(());
        };
        for dir in entries.filter_map(std::result::Result::ok) {
            let file_name = dir.file_name().to_string_lossy().into_owned();
            let (restoring, id) = if let Some(id) = file_name.strip_prefix(INCOMING) {
                (false, id.to_owned())
            } else if let Some(id) = file_name.strip_prefix(RESTORING) {
                (true, id.to_owned())
            } else {
                if file_name.starts_with(PURGING) {
                    // A vacuum killed while removing: finish it (another one may be at it too).
                    let _ = std::fs::remove_dir_all(dir.path());
                }
                continue;
            };
            let path = dir.path();
            let entry = match read_entry(&path.join(ENTRY_FILE)) {
                Ok(entry) => entry,
                // A delete killed before it wrote the entry file: its table had not moved.
                Err(_) if !restoring && !path.join(TABLE).exists() => {
                    std::fs::remove_dir_all(&path).map_err(|e| DataError::io(&path, e))?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if entry.id != id {
                continue;
            }
            let Ok(_lock) = self.lock_exclusive_now(&entry.name) else {
                continue;
            };
            if !restoring {
                if path.join(TABLE).exists() {
                    self.finish_incoming(&path, &entry)?;
                } else {
                    std::fs::remove_dir_all(&path).map_err(|e| DataError::io(&path, e))?;
                }
                continue;
            }
            let quarantine_name = Lake::quarantine_name(&entry.name);
            let taken = |part: &str, table: &str| {
                path.join(part).exists() && self.table_path(table).exists()
            };
            if taken(TABLE, &entry.name) || taken(QUARANTINE, &quarantine_name) {
                // A dataset of the name was made after the restore stopped: the entry goes back.
                let back = trash.join(&entry.id);
                std::fs::rename(&path, &back).map_err(|e| DataError::io(&back, e))?;
            } else {
                self.finish_restore(&path, &entry)?;
            }
        }
        Ok(())
    }

    /// Moves the tables of a restore (`dir`, the entry under its hidden name) back into the lake and
    /// removes the entry.
    fn finish_restore(&self, dir: &Path, entry: &TrashedDataset) -> Result<()> {
        let quarantine_name = Lake::quarantine_name(&entry.name);
        for (part, table) in [(TABLE, &entry.name), (QUARANTINE, &quarantine_name)] {
            let from = dir.join(part);
            if from.exists() {
                std::fs::rename(&from, self.table_path(table))
                    .map_err(|e| DataError::io(&from, e))?;
            }
        }
        std::fs::remove_dir_all(dir).map_err(|e| DataError::io(dir, e))
    }

    /// The deleted datasets, newest first.
    pub fn trash(&self) -> Result<Vec<TrashedDataset>> {
        if let Err(e) = self.recover() {
            tracing::warn!(error = %e, "cannot finish an interrupted delete or restore in the trash");
        }
        let trash = self.trash_root();
        let entries = match std::fs::read_dir(&trash) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(DataError::io(&trash, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| DataError::io(&trash, e))?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with('.') {
                continue;
            }
            out.push(read_entry(&entry.path().join(ENTRY_FILE))?);
        }
        out.sort_by(|a: &TrashedDataset, b| b.deleted_at.cmp(&a.deleted_at).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    /// The entries `reference` names: a trash id, or a dataset name (all its entries, newest first).
    fn trash_matching(&self, reference: &str) -> Result<Vec<TrashedDataset>> {
        match reference.split_once('.') {
            Some((name, stamp)) => {
                let ok = validate_dataset_name(name).is_ok()
                    && !stamp.is_empty()
                    && stamp.bytes().all(|b| b.is_ascii_alphanumeric());
                if !ok {
                    return Err(DataError::InvalidTrashId {
                        id: reference.to_owned(),
                    });
                }
            }
            None => validate_dataset_name(reference)?,
        }
        let found: Vec<_> = self
            .trash()?
            .into_iter()
            .filter(|t| t.id == reference || t.name == reference)
            .collect();
        if found.is_empty() {
            return Err(DataError::NoSuchTrashEntry {
                id: reference.to_owned(),
                trash: self.trash_root(),
            });
        }
        Ok(found)
    }

    /// Puts a deleted dataset back under its name, every version as it was. `reference` is a trash id or
    /// a dataset name (its most recently deleted copy). Refused while a dataset of that name exists.
    pub fn restore_dataset(&self, reference: &str) -> Result<TrashedDataset> {
        let entry = self.trash_matching(reference)?.remove(0);
        let _lock = self.lock_exclusive_now(&entry.name)?;
        let quarantine_name = Lake::quarantine_name(&entry.name);
        for taken in [&entry.name, &quarantine_name] {
            if self.table_path(taken).exists() {
                return Err(DataError::DatasetExists {
                    name: taken.clone(),
                });
            }
        }
        let entry_dir = self.trash_root().join(&entry.id);
        // Renamed to a hidden name first: the entry is no longer offered, and a restore killed part
        // way is finished by `trash`.
        let restoring = self.trash_root().join(format!("{RESTORING}{}", entry.id));
        std::fs::rename(&entry_dir, &restoring).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                // A vacuum or another restore took it between the listing and here.
                DataError::NoSuchTrashEntry {
                    id: entry.id.clone(),
                    trash: self.trash_root(),
                }
            } else {
                DataError::io(&entry_dir, e)
            }
        })?;
        self.finish_restore(&restoring, &entry)?;
        Ok(entry)
    }

    /// Removes trash entries for good: the one `reference` names (a trash id, or every entry of a
    /// dataset name), or all of them; with `older_than`, only those deleted longer ago than that.
    /// Returns what was removed.
    pub fn vacuum(
        &self,
        reference: Option<&str>,
        older_than: Option<chrono::Duration>,
    ) -> Result<Vec<TrashedDataset>> {
        let candidates = match reference {
            Some(r) => self.trash_matching(r)?,
            None => self.trash()?,
        };
        let now = Utc::now();
        let mut purged = Vec::new();
        for entry in candidates {
            if older_than.is_some_and(|age| now - entry.deleted_at < age) {
                continue;
            }
            let _lock = self.lock_exclusive_now(&entry.name)?;
            let dir = self.trash_root().join(&entry.id);
            let doomed = self.trash_root().join(format!("{PURGING}{}", entry.id));
            match std::fs::rename(&dir, &doomed) {
                Ok(()) => {}
                // Restored or vacuumed by someone else meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(DataError::io(&dir, e)),
            }
            std::fs::remove_dir_all(&doomed).map_err(|e| DataError::io(&doomed, e))?;
            purged.push(entry);
        }
        Ok(purged)
    }
}

fn read_entry(path: &Path) -> Result<TrashedDataset> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    serde_json::from_str(&text).map_err(|source| DataError::TrashEntry {
        path: path.to_owned(),
        source,
    })
}

fn write_entry(dir: &Path, entry: &TrashedDataset) -> Result<()> {
    let path = dir.join(ENTRY_FILE);
    let tmp = dir.join(format!(".{ENTRY_FILE}.tmp"));
    let json = serde_json::to_vec_pretty(entry).expect("a trash entry serialises");
    std::fs::write(&tmp, json).map_err(|e| DataError::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| DataError::io(&path, e))
}

/// A trash id not taken yet, `base` or `base2`, `base3` … (two deletes of one name within a millisecond),
/// and its hidden folder, made here: creating the folder is what reserves the id, also against another
/// process deleting at the same moment.
fn reserve_id(trash: &Path, base: &str) -> Result<(String, PathBuf)> {
    for n in 1..=u32::MAX {
        let id = if n == 1 {
            base.to_owned()
        } else {
            format!("{base}{n}")
        };
        if trash.join(&id).exists() {
            continue;
        }
        let incoming = trash.join(format!("{INCOMING}{id}"));
        match std::fs::create_dir(&incoming) {
            Ok(()) => return Ok((id, incoming)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(DataError::io(&incoming, e)),
        }
    }
    let taken = std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        "every trash id of this millisecond is taken",
    );
    Err(DataError::io(trash.join(base), taken))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletes_in_one_millisecond_get_distinct_ids() {
        let trash = tempfile::tempdir().unwrap();
        let (a, a_dir) = reserve_id(trash.path(), "milling.20261201T101010000Z").unwrap();
        // The first is still being filled (its hidden folder exists): the second takes the next id.
        let (b, _) = reserve_id(trash.path(), "milling.20261201T101010000Z").unwrap();
        assert_eq!(a, "milling.20261201T101010000Z");
        assert_eq!(b, "milling.20261201T101010000Z2");
        // Once the first is in place under its id, that id stays taken.
        std::fs::rename(&a_dir, trash.path().join(&a)).unwrap();
        let (c, _) = reserve_id(trash.path(), "milling.20261201T101010000Z").unwrap();
        assert_eq!(c, "milling.20261201T101010000Z3");
    }

    fn table(lake: &Lake, name: &str, versions: u32) {
        let log = lake.table_path(name).join("_delta_log");
        std::fs::create_dir_all(&log).unwrap();
        for v in 0..versions {
            std::fs::write(log.join(format!("{v:020}.json")), "{}\n").unwrap();
        }
        std::fs::write(lake.table_path(name).join("part-0.parquet"), b"PAR1").unwrap();
    }

    #[test]
    fn a_deleted_dataset_comes_back_with_every_version_until_vacuumed() {
        let home = tempfile::tempdir().unwrap();
        let lake = Lake::open(home.path()).unwrap();
        table(&lake, "milling", 3);
        table(&lake, "milling__quarantine", 1);
        let entry = lake.delete_dataset("milling", "alice").unwrap();
        assert!(entry.id.starts_with("milling."), "{}", entry.id);
        assert_eq!(entry.latest_version, 2);
        assert!(entry.quarantine);
        assert!(!lake.exists("milling") && !lake.exists("milling__quarantine"));
        assert!(
            lake.dataset_names().unwrap().is_empty(),
            "the trash is not a dataset"
        );
        assert_eq!(lake.trash().unwrap(), vec![entry.clone()]);

        // A new dataset of the same name blocks a restore; once it is gone the old one comes back whole.
        table(&lake, "milling", 1);
        assert!(matches!(
            lake.restore_dataset("milling"),
            Err(DataError::DatasetExists { .. })
        ));
        let second = lake.delete_dataset("milling", "bob").unwrap();
        assert_eq!(lake.trash().unwrap().len(), 2);
        let back = lake.restore_dataset(&entry.id).unwrap();
        assert_eq!(back, entry);
        assert_eq!(lake.latest_version("milling").unwrap(), 2);
        assert!(lake.exists("milling__quarantine"));
        assert_eq!(lake.trash().unwrap(), vec![second.clone()]);

        // Vacuum: only entries older than asked, then for good.
        let young = lake.vacuum(None, Some(chrono::Duration::days(1))).unwrap();
        assert!(young.is_empty());
        assert_eq!(lake.vacuum(Some("milling"), None).unwrap(), vec![second]);
        assert!(lake.trash().unwrap().is_empty());
        assert_eq!(
            std::fs::read_dir(lake.root().join(TRASH_DIR))
                .unwrap()
                .count(),
            0,
            "vacuum leaves nothing behind"
        );
        assert!(matches!(
            lake.restore_dataset("milling"),
            Err(DataError::NoSuchTrashEntry { .. })
        ));
    }

    #[test]
    fn a_delete_or_restore_killed_part_way_is_finished_by_the_next_look_at_the_trash() {
        let home = tempfile::tempdir().unwrap();
        let lake = Lake::open(home.path()).unwrap();
        let trash = lake.root().join(TRASH_DIR);
        let entry = |name: &str, id: &str, quarantine: bool| TrashedDataset {
            id: id.to_owned(),
            name: name.to_owned(),
            deleted_at: Utc::now(),
            deleted_by: "x".into(),
            latest_version: 0,
            quarantine,
            size_bytes: 1,
        };
        // A delete killed after the table moved, before the quarantine table did: completed.
        table(&lake, "a", 1);
        table(&lake, "a__quarantine", 1);
        let a = entry("a", "a.20261201T000000000Z", true);
        let incoming = trash.join(format!("{INCOMING}{}", a.id));
        std::fs::create_dir_all(&incoming).unwrap();
        write_entry(&incoming, &a).unwrap();
        std::fs::rename(lake.table_path("a"), incoming.join(TABLE)).unwrap();
        // A delete killed before its table moved: undone, the dataset stays.
        table(&lake, "b", 1);
        let b = entry("b", "b.20261201T000000000Z", false);
        let incoming = trash.join(format!("{INCOMING}{}", b.id));
        std::fs::create_dir_all(&incoming).unwrap();
        write_entry(&incoming, &b).unwrap();
        // A restore killed after its table moved back, before the quarantine table did: completed.
        table(&lake, "c__quarantine", 1);
        let c = entry("c", "c.20261201T000000000Z", true);
        let restoring = trash.join(format!("{RESTORING}{}", c.id));
        std::fs::create_dir_all(&restoring).unwrap();
        write_entry(&restoring, &c).unwrap();
        std::fs::rename(lake.table_path("c__quarantine"), restoring.join(QUARANTINE)).unwrap();
        table(&lake, "c", 1);
        // A restore killed before anything moved, its name taken since: back in the trash.
        let d = entry("d", "d.20261201T000000000Z", false);
        let restoring = trash.join(format!("{RESTORING}{}", d.id));
        std::fs::create_dir_all(restoring.join(TABLE).join("_delta_log")).unwrap();
        write_entry(&restoring, &d).unwrap();
        table(&lake, "d", 1);
        // A vacuum killed while removing: finished.
        std::fs::create_dir_all(trash.join(format!("{PURGING}e.1")).join(TABLE)).unwrap();

        let listed: Vec<String> = lake.trash().unwrap().into_iter().map(|t| t.id).collect();
        assert_eq!(listed, [d.id.clone(), a.id.clone()]);
        assert!(!lake.exists("a") && !lake.exists("a__quarantine"));
        assert!(lake.exists("b"));
        assert!(lake.exists("c") && lake.exists("c__quarantine"));
        let left: Vec<String> = std::fs::read_dir(&trash)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        lake.restore_dataset(&a.id).unwrap();
        assert!(lake.exists("a") && lake.exists("a__quarantine"));
    }

    #[test]
    fn a_dataset_being_written_is_not_deleted_and_names_are_checked() {
        let home = tempfile::tempdir().unwrap();
        let lake = Lake::open(home.path()).unwrap();
        table(&lake, "parts", 1);
        {
            let _writer = lake.lock_shared("parts__quarantine").unwrap();
            assert!(matches!(
                lake.delete_dataset("parts", "x"),
                Err(DataError::DatasetBusy { .. })
            ));
        }
        assert!(lake.exists("parts"), "a refused delete changes nothing");
        for bad in ["../parts", "parts__quarantine", "a/b", ""] {
            assert!(lake.delete_dataset(bad, "x").is_err(), "{bad}");
        }
        for bad in ["../x.1", "x./", "x.1/2", "..", "a.b.c"] {
            assert!(
                matches!(
                    lake.restore_dataset(bad),
                    Err(DataError::InvalidTrashId { .. } | DataError::InvalidName { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            lake.delete_dataset("nothing", "x"),
            Err(DataError::NoSuchDataset { .. })
        ));
        lake.delete_dataset("parts", "x").unwrap();
    }
}
