//! Folders a killed process left behind. Writers and deletes work under hidden names that carry their
//! process id (`.staging-<pid>-…`, `.deleting-<pid>-…`) and rename in one step, so a crash leaves such a
//! folder and nothing half-written in place; whoever next looks at the parent folder removes the ones
//! whose process is gone.

use std::path::Path;

/// Removes the folders in `dir` named `<prefix><pid>-…` (for each of `prefixes`) whose process `pid` is no
/// longer alive. Decidable where the process table is readable (Linux `/proc`); elsewhere, and for this
/// process's own folders, nothing is removed. Returns how many were removed; failures to remove are left
/// for the next look (another process may be removing the same folder).
pub fn remove_abandoned(dir: &Path, prefixes: &[&str]) -> usize {
    if !Path::new("/proc/self").exists() {
        return 0;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.filter_map(std::result::Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| prefixes.iter().find_map(|p| n.strip_prefix(p)))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
        if !alive && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_of_dead_processes_go() {
        let dir = tempfile::tempdir().unwrap();
        // pid 4999999 is above Linux's pid_max (4194304): never alive.
        let dead = dir.path().join(".deleting-4999999-run-7");
        let mine = dir
            .path()
            .join(format!(".deleting-{}-run-8", std::process::id()));
        let other_prefix = dir.path().join(".staging-4999999-x");
        let plain = dir.path().join("run-9");
        for d in [&dead, &mine, &other_prefix, &plain] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("f"), b"x").unwrap();
        }
        assert_eq!(remove_abandoned(dir.path(), &[".deleting-"]), 1);
        assert!(!dead.exists() && mine.exists() && other_prefix.exists() && plain.exists());
        assert_eq!(
            remove_abandoned(dir.path(), &[".deleting-", ".staging-"]),
            1
        );
        assert!(!other_prefix.exists());
    }
}
