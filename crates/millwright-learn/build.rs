//! Embeds the git commit of the checkout (if any) as MILLWRIGHT_GIT_COMMIT for run tracking.
//! Never fails: outside a git checkout, or without git, the variable is simply empty.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MILLWRIGHT_GIT_COMMIT");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = std::env::var("MILLWRIGHT_GIT_COMMIT")
        .ok()
        .or_else(|| git_commit(&manifest_dir))
        .unwrap_or_default();
    println!("cargo:rustc-env=MILLWRIGHT_GIT_COMMIT={commit}");
}

fn git_commit(manifest_dir: &Path) -> Option<String> {
    let git_dir = manifest_dir
        .ancestors()
        .map(|d| d.join(".git"))
        .find(|d| d.is_dir())?;
    // Rebuild when HEAD moves (checkout or commit); only existing paths, since a missing one reruns every build.
    let head = git_dir.join("HEAD");
    println!("cargo:rerun-if-changed={}", head.display());
    if let Ok(text) = std::fs::read_to_string(&head) {
        if let Some(reference) = text.trim().strip_prefix("ref: ") {
            let ref_file = git_dir.join(reference);
            if ref_file.exists() {
                println!("cargo:rerun-if-changed={}", ref_file.display());
            }
        }
    }
    let output = Command::new("git")
        .arg("rev-parse")
        .arg("--short=12")
        .arg("HEAD")
        .current_dir(manifest_dir)
        .output()
        .ok()?;
    let commit = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !commit.is_empty()).then_some(commit)
}
