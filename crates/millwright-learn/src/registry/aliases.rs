//! Aliases such as `production` and `staging`: a name for one version of a model, moved by promote and
//! roll back, with every move kept in an append-only history.
//!
//! `<home>/models/<name>/aliases.json` holds the current aliases and the history. A change takes the
//! model's lock file (`.aliases.lock`, an advisory `flock`), reads the file, writes the new content into a
//! temporary file beside it and renames it into place: readers never see a torn file, and two writers (two
//! processes, or two threads) take turns, so neither loses the other's change.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{models_dir, resolve, validate_name, versions};
use crate::error::{LearnError, Result};

/// The alias file format this build writes and the newest it reads.
pub const ALIASES_VERSION: u32 = 1;
const ALIASES: &str = "aliases.json";
const LOCK: &str = ".aliases.lock";

/// Alias names: lowercase letters, digits, `-` and `_`, at most 64; not a number and not `latest`
/// (those already mean a version).
pub fn validate_alias(alias: &str) -> Result<()> {
    let ok = !alias.is_empty()
        && alias.len() <= 64
        && alias != "latest"
        && !alias.bytes().all(|b| b.is_ascii_digit())
        && alias
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(LearnError::InvalidAlias(alias.to_string()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AliasAction {
    Promote,
    Rollback,
}

/// One move of an alias: who moved it, when, from which version (none: the alias was new) to which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasChange {
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    pub alias: String,
    pub action: AliasAction,
    pub from: Option<u32>,
    pub to: u32,
}

/// The content of `aliases.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aliases {
    pub format_version: u32,
    /// Alias → version.
    pub aliases: BTreeMap<String, u32>,
    /// Every change, oldest first; entries are only ever appended.
    pub history: Vec<AliasChange>,
}

impl Aliases {
    /// The version `alias` points at.
    pub fn get(&self, alias: &str) -> Option<u32> {
        self.aliases.get(alias).copied()
    }

    /// The aliases pointing at `version`, sorted.
    pub fn of_version(&self, version: u32) -> Vec<String> {
        self.aliases
            .iter()
            .filter(|(_, &v)| v == version)
            .map(|(a, _)| a.clone())
            .collect()
    }

    /// Where a roll back of `alias` goes: each promote pushes the version it replaced, each roll back
    /// pops one, so rolling back twice after three promotes lands on the first version.
    pub fn rollback_target(&self, alias: &str) -> Option<Option<u32>> {
        let mut stack: Vec<Option<u32>> = Vec::new();
        for c in self.history.iter().filter(|c| c.alias == alias) {
            match c.action {
                AliasAction::Promote => stack.push(c.from),
                AliasAction::Rollback => {
                    stack.pop();
                }
            }
        }
        stack.pop()
    }
}

/// The result of a promote: the change, and whether anything changed (promoting an alias to the version
/// it already names records nothing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AliasUpdate {
    pub name: String,
    #[serde(flatten)]
    pub change: AliasChange,
    pub changed: bool,
}

pub fn aliases_path(home: &Path, name: &str) -> PathBuf {
    models_dir(home).join(name).join(ALIASES)
}

/// The aliases of `name` (none yet: empty).
pub fn aliases(home: &Path, name: &str) -> Result<Aliases> {
    validate_name(name)?;
    read_aliases(&aliases_path(home, name))
}

/// Reads an alias file; a missing file is an empty one.
pub fn read_aliases(path: &Path) -> Result<Aliases> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Aliases {
                format_version: ALIASES_VERSION,
                ..Aliases::default()
            })
        }
        Err(e) => return Err(LearnError::io(format!("reading {}", path.display()), e)),
    };
    super::parse_versioned(&text, ALIASES_VERSION, "an alias file").map_err(|fault| {
        let (reason, source) = match fault {
            super::VersionedFault::Future(found) => (
                format!("format version {found}; this millwright reads up to {ALIASES_VERSION} (upgrade millwright)"),
                None,
            ),
            super::VersionedFault::Corrupt(reason, source) => (reason, source),
        };
        LearnError::CorruptAliases {
            path: path.to_path_buf(),
            reason,
            source,
        }
    })
}

/// Holds the model's alias lock while it lives (released when the file closes).
pub(super) struct Locked {
    _file: File,
}

pub(super) fn lock(home: &Path, name: &str) -> Result<Locked> {
    let path = models_dir(home).join(name).join(LOCK);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| LearnError::io(format!("opening {}", path.display()), e))?;
    file.lock()
        .map_err(|e| LearnError::io(format!("locking {}", path.display()), e))?;
    Ok(Locked { _file: file })
}

/// Writes the alias file as a whole: a temporary file beside it, flushed, renamed over it.
fn write_aliases(path: &Path, aliases: &Aliases) -> Result<()> {
    let dir = path
        .parent()
        .expect("an alias file is inside its model folder");
    let mut tmp = tempfile::Builder::new()
        .prefix(".aliases-")
        .tempfile_in(dir)
        .map_err(|e| {
            LearnError::io(format!("creating a temporary file in {}", dir.display()), e)
        })?;
    let json = serde_json::to_vec_pretty(aliases).expect("aliases serialise");
    tmp.write_all(&json)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| LearnError::io(format!("writing {}", tmp.path().display()), e))?;
    tmp.persist(path)
        .map_err(|e| LearnError::io(format!("replacing {}", path.display()), e.error))?;
    Ok(())
}

/// Changes one alias under the lock: `decide` sees the current file and returns the target version.
fn update(
    home: &Path,
    name: &str,
    alias: &str,
    actor: &str,
    action: AliasAction,
    decide: impl FnOnce(&Aliases) -> Result<u32>,
) -> Result<AliasUpdate> {
    validate_alias(alias)?;
    let _lock = lock(home, name)?;
    let path = aliases_path(home, name);
    let mut current = read_aliases(&path)?;
    let to = decide(&current)?;
    let from = current.get(alias);
    let change = AliasChange {
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        actor: if actor.trim().is_empty() {
            "unknown".to_owned()
        } else {
            actor.trim().to_owned()
        },
        alias: alias.to_owned(),
        action,
        from,
        to,
    };
    if from == Some(to) && action == AliasAction::Promote {
        return Ok(AliasUpdate {
            name: name.to_owned(),
            change,
            changed: false,
        });
    }
    current.format_version = ALIASES_VERSION;
    current.aliases.insert(alias.to_owned(), to);
    current.history.push(change.clone());
    write_aliases(&path, &current)?;
    Ok(AliasUpdate {
        name: name.to_owned(),
        change,
        changed: true,
    })
}

/// Points `alias` at the version `spec` names (`failure@3`, `failure@latest`, `failure@staging`).
pub fn promote(home: &Path, spec: &str, alias: &str, actor: &str) -> Result<AliasUpdate> {
    let (name, version, _) = resolve(home, spec)?;
    update(home, &name, alias, actor, AliasAction::Promote, |_| {
        // The version may not vanish between resolving and locking, but check under the lock anyway.
        super::existing(&name, version, &versions(home, &name)?)
    })
}

/// Moves `alias` back to the version it named before its last promote (that was not rolled back).
pub fn rollback(home: &Path, name: &str, alias: &str, actor: &str) -> Result<AliasUpdate> {
    validate_name(name)?;
    if versions(home, name)?.is_empty() {
        return Err(LearnError::ModelNotFound(name.to_owned(), models_dir(home)));
    }
    update(home, name, alias, actor, AliasAction::Rollback, |current| {
        if current.get(alias).is_none() {
            return Err(LearnError::AliasNotFound {
                name: name.to_owned(),
                alias: alias.to_owned(),
                available: current
                    .aliases
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        match current.rollback_target(alias) {
            // The version before may have been deleted since (a delete is refused only while an alias
            // points at the version, not while the history names it).
            Some(Some(v)) => super::existing(name, v, &versions(home, name)?),
            _ => Err(LearnError::NothingToRollBack {
                name: name.to_owned(),
                alias: alias.to_owned(),
            }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_names_are_checked() {
        for good in ["production", "staging", "canary-2", "a_b", "v2", "2a"] {
            validate_alias(good).unwrap();
        }
        for bad in [
            "",
            "latest",
            "3",
            "007",
            "Production",
            "prod/../x",
            "..",
            "a.b",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(
                matches!(validate_alias(bad), Err(LearnError::InvalidAlias(_))),
                "{bad}"
            );
        }
    }

    fn change(alias: &str, action: AliasAction, from: Option<u32>, to: u32) -> AliasChange {
        AliasChange {
            at: String::new(),
            actor: "t".into(),
            alias: alias.into(),
            action,
            from,
            to,
        }
    }

    #[test]
    fn rolling_back_walks_the_promotes_backwards() {
        use AliasAction::{Promote, Rollback};
        let mut a = Aliases::default();
        assert_eq!(a.rollback_target("p"), None);
        a.history.push(change("p", Promote, None, 1));
        assert_eq!(a.rollback_target("p"), Some(None));
        a.history.push(change("p", Promote, Some(1), 2));
        a.history.push(change("s", Promote, None, 9));
        a.history.push(change("p", Promote, Some(2), 3));
        assert_eq!(a.rollback_target("p"), Some(Some(2)));
        a.history.push(change("p", Rollback, Some(3), 2));
        assert_eq!(a.rollback_target("p"), Some(Some(1)));
        a.history.push(change("p", Rollback, Some(2), 1));
        assert_eq!(a.rollback_target("p"), Some(None));
        assert_eq!(a.rollback_target("s"), Some(None));
    }
}
