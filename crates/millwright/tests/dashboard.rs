//! The dashboard in a real browser: runs the Playwright tests in `tests/e2e` (pytest) against this
//! build's binary, driving the system Chromium. Skipped with a printed reason when Chromium or Python's
//! playwright is missing; under CI=true (where .ci/run installs both) that is a failure.

// A skip is said on stderr, as the other tests that need an installed tool do.
#![allow(clippy::print_stderr)]

use std::path::Path;
use std::process::Command;

fn missing(what: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{what} is missing under CI=true (.ci/run installs it)"
    );
    eprintln!("skipped: {what} is missing (.ci/run installs it)");
}

#[test]
fn dashboard_pages_work_in_a_real_browser() {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(chromium) = chromium else {
        return missing("Chromium");
    };
    let has_playwright = Command::new("python3")
        .args(["-c", "import playwright, pytest"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_playwright {
        return missing("Python's playwright and pytest");
    }
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e");
    let status = Command::new("python3")
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(&e2e)
        .env("MILLWRIGHT_BIN", env!("CARGO_BIN_EXE_millwright"))
        .env("MILLWRIGHT_E2E_OUT", &out)
        .env("CHROMIUM", chromium)
        .status()
        .expect("python3 runs");
    assert!(
        status.success(),
        "the browser tests failed (screenshots in {})",
        out.display()
    );
    eprintln!("screenshots: {}", out.display());
}
