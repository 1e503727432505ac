//! Resolving specs many times a second (a server scoring requests): `failure@production` is looked up
//! again on every call, so a promote takes effect on the next one, but the model folder is listed and the
//! alias file read only when they changed.
//!
//! "Changed" is a `stat`: the folder's or file's modification time, size and (on Unix) inode and change
//! time. Every alias write renames a new file into place and every new version renames a folder into the
//! model's folder, so each changes these. File system clocks are coarse (a few milliseconds), so a change
//! in the same tick as an earlier read would keep the same time: as git does with its index, content read
//! within [`SETTLE`] of its modification time is not trusted and is read again on the next call.
//!
//! A server answering tens of thousands of requests a second does not `stat` on each: a name checked
//! less than [`RECHECK`] ago is answered from memory, so a change made by another process (a CLI
//! promote) shows within a millisecond. Changes made through this process call [`Resolver::forget`] and
//! show at once.

use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use millwright_core::ModelRef;

use super::{aliases, aliases_path, models_dir, parse_spec, pick, versions, Aliases};
use crate::error::{LearnError, Result};

/// How old a modification must be before its content is cached.
pub const SETTLE: Duration = Duration::from_secs(1);

/// How long a checked name is answered from memory without looking at the file system again.
pub const RECHECK: Duration = Duration::from_millis(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: SystemTime,
    len: u64,
    inode: u64,
    changed_ns: i128,
}

fn stamp(path: &Path) -> Result<Option<Stamp>> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(LearnError::io(format!("reading {}", path.display()), e)),
    };
    let modified = meta
        .modified()
        .map_err(|e| LearnError::io(format!("reading the time of {}", path.display()), e))?;
    #[cfg(unix)]
    let (inode, changed_ns) = {
        use std::os::unix::fs::MetadataExt;
        (
            meta.ino(),
            i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        )
    };
    #[cfg(not(unix))]
    let (inode, changed_ns) = (0, 0);
    Ok(Some(Stamp {
        modified,
        len: meta.len(),
        inode,
        changed_ns,
    }))
}

struct Cached<T> {
    stamp: Stamp,
    /// Read long enough after the modification that a later change shows in the stamp.
    settled: bool,
    /// When the stamp was last compared with the file system.
    checked: Instant,
    value: Arc<T>,
}

type Slots<T> = Mutex<HashMap<String, Cached<T>>>;

/// The value for `name` read from `path`: cached while `path`'s stamp is unchanged. A missing path is
/// read every time and not cached (so unknown names do not fill the cache).
fn cached<T>(
    slots: &Slots<T>,
    name: &str,
    path: &Path,
    read: impl FnOnce() -> Result<T>,
) -> Result<Arc<T>> {
    if let Some(c) = slots
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
    {
        if c.checked.elapsed() < RECHECK {
            return Ok(c.value.clone());
        }
    }
    let Some(now) = stamp(path)? else {
        slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        return read().map(Arc::new);
    };
    if let Some(c) = slots
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(name)
    {
        if c.settled && c.stamp == now {
            c.checked = Instant::now();
            return Ok(c.value.clone());
        }
    }
    // The stamp is taken before reading: a change during the read gives a newer stamp next time.
    let value = Arc::new(read()?);
    let settled = SystemTime::now()
        .duration_since(now.modified)
        .is_ok_and(|age| age > SETTLE);
    slots.lock().unwrap_or_else(PoisonError::into_inner).insert(
        name.to_owned(),
        Cached {
            stamp: now,
            settled,
            checked: Instant::now(),
            value: value.clone(),
        },
    );
    Ok(value)
}

/// Resolves specs (`failure`, `failure@3`, `failure@latest`, `failure@production`) to the version they
/// name now, answering from memory while the registry is unchanged. Thread-safe; share one per home.
pub struct Resolver {
    home: PathBuf,
    versions: Slots<Vec<u32>>,
    aliases: Slots<Aliases>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Resolver({})", self.home.display())
    }
}

impl Resolver {
    pub fn new(home: &Path) -> Resolver {
        Resolver {
            home: home.to_path_buf(),
            versions: Mutex::default(),
            aliases: Mutex::default(),
        }
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Drops what is remembered of `name`: the next call reads its versions and aliases again. Called
    /// after this process changed them (a promote), so the change shows at the very next call.
    pub fn forget(&self, name: &str) {
        self.versions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
        self.aliases
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name);
    }

    /// The version `spec` names now; the same answer as [`super::resolve`].
    pub fn resolve(&self, spec: &str) -> Result<ModelRef> {
        let (name, selector) = parse_spec(spec)?;
        let dir = models_dir(&self.home).join(&name);
        let available = cached(&self.versions, &name, &dir, || versions(&self.home, &name))?;
        let version = pick(&self.home, &name, &selector, &available, || {
            cached(
                &self.aliases,
                &name,
                &aliases_path(&self.home, &name),
                || aliases(&self.home, &name),
            )
        })?;
        Ok(ModelRef::new(name, version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_read_again_only_after_a_change() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let slots: Slots<String> = Mutex::default();
        let reads = AtomicUsize::new(0);
        let read = || {
            reads.fetch_add(1, Ordering::Relaxed);
            Ok(std::fs::read_to_string(&path).unwrap_or_default())
        };
        // Missing: read every time, never cached.
        assert_eq!(*cached(&slots, "n", &path, read).unwrap(), "");
        assert!(slots.lock().unwrap().is_empty());
        // Just written: fresh content is not trusted yet, so it is read on each call.
        std::fs::write(&path, "a").unwrap();
        assert_eq!(*cached(&slots, "n", &path, read).unwrap(), "a");
        assert!(!slots.lock().unwrap()["n"].settled);
        std::fs::write(&path, "b").unwrap();
        std::thread::sleep(RECHECK);
        assert_eq!(*cached(&slots, "n", &path, read).unwrap(), "b");
        // Old enough: read once, then answered from memory.
        let old = SystemTime::now() - Duration::from_secs(10);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        std::thread::sleep(RECHECK);
        let before = reads.load(Ordering::Relaxed);
        for _ in 0..3 {
            assert_eq!(*cached(&slots, "n", &path, read).unwrap(), "b");
        }
        assert_eq!(reads.load(Ordering::Relaxed), before + 1);
        // A rename over it (how alias files are written) is seen at once, even with the old time.
        let tmp = dir.path().join("t");
        std::fs::write(&tmp, "c").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&tmp)
            .unwrap()
            .set_modified(old)
            .unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        std::thread::sleep(RECHECK);
        assert_eq!(*cached(&slots, "n", &path, read).unwrap(), "c");
        // Removed: forgotten.
        std::fs::remove_file(&path).unwrap();
        std::thread::sleep(RECHECK);
        assert_eq!(*cached(&slots, "n", &path, read).unwrap(), "");
        assert!(slots.lock().unwrap().is_empty());
    }

    #[test]
    fn a_name_checked_just_now_is_answered_from_memory_until_forgotten() {
        let home = tempfile::tempdir().unwrap();
        let resolver = Resolver::new(home.path());
        let slots: Slots<String> = Mutex::default();
        let path = home.path().join("f");
        std::fs::write(&path, "a").unwrap();
        assert_eq!(
            *cached(&slots, "n", &path, || Ok("a".to_owned())).unwrap(),
            "a"
        );
        // Within RECHECK no stat and no read: a change made meanwhile is not seen yet...
        std::fs::write(&path, "b").unwrap();
        let read = || -> Result<String> { panic!("read within RECHECK") };
        assert_eq!(*cached(&slots, "n", &path, read).unwrap(), "a");
        // ...and is after RECHECK.
        std::thread::sleep(RECHECK);
        assert_eq!(
            *cached(&slots, "n", &path, || Ok("b".to_owned())).unwrap(),
            "b"
        );
        // `forget` drops both slots of a name.
        resolver.versions.lock().unwrap().insert(
            "m".to_owned(),
            Cached {
                stamp: stamp(&path).unwrap().unwrap(),
                settled: true,
                checked: Instant::now(),
                value: Arc::new(vec![1]),
            },
        );
        resolver.forget("m");
        assert!(resolver.versions.lock().unwrap().is_empty());
    }
}
