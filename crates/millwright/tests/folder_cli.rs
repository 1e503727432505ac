//! `connect folder://DROP` through the real binary: a file written slowly is taken once, when complete;
//! a bad file goes to failed/ with its reason; a restart does not take a file twice.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::connector::Connector;
use common::Home;

/// `millwright --json connect folder://DROP` watching for CSV files, once it says it is watching.
fn watch(home: &Home, drop: &Path) -> Connector {
    let url = format!("folder://{}", drop.display());
    let args = [
        url.as_str(),
        "--dataset",
        "line2",
        "--pattern",
        "*.csv",
        "--settle-ms",
        "800",
    ];
    Connector::start(home, &args)
}

fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn versions(h: &Home) -> usize {
    h.json(&["history", "line2"]).as_array().unwrap().len()
}

#[test]
fn a_drop_folder_takes_complete_files_once() {
    let h = Home::new();
    let folder = h.dir.path().join("drop");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("notes.md"), "not data").unwrap();
    let watcher = watch(&h, &folder);

    // Written in pieces, each pause shorter than the settle time: taken once, whole.
    let slow = folder.join("slow.csv");
    let mut file = std::fs::File::create(&slow).unwrap();
    file.write_all(b"id,v\n").unwrap();
    for piece in 0..4 {
        std::thread::sleep(Duration::from_millis(300));
        for i in 0..25 {
            writeln!(file, "{},{}.5", piece * 25 + i, i).unwrap();
        }
        file.flush().unwrap();
    }
    drop(file);
    let line = watcher.wait_for("\"event\":\"committed\"");
    assert!(line.contains("\"readings\":100"), "{line}");
    assert!(folder.join("done/slow.csv").exists());
    assert!(!slow.exists());
    assert_eq!(versions(&h), 1);
    let n = h.json(&["sql", "SELECT COUNT(*) AS n FROM line2"]);
    assert_eq!(n[0]["n"], 100, "{n}");

    // A bad file: moved to failed/ with the reason beside it; the dataset is unchanged.
    std::fs::write(folder.join("bad.csv"), "id,v\n").unwrap();
    let line = watcher.wait_for("\"event\":\"commit_failed\"");
    assert!(line.contains("bad.csv"), "{line}");
    let reason = std::fs::read_to_string(folder.join("failed/bad.csv.reason.txt")).unwrap();
    assert!(reason.contains("header but no data rows"), "{reason}");
    assert!(folder.join("failed/bad.csv").exists());
    assert_eq!(versions(&h), 1);
    assert!(
        folder.join("notes.md").exists(),
        "a file the pattern does not match stays"
    );
    let result = watcher.stop();
    assert_eq!(result["files"], 1, "{result}");
    assert_eq!(result["failed"], 1, "{result}");

    // As if the connector died between the commit and the move: the same file is back in the folder.
    std::fs::copy(folder.join("done/slow.csv"), &slow).unwrap();
    let watcher = watch(&h, &folder);
    wait_until("the stored file moving to done/", || !slow.exists());
    let result = watcher.stop();
    assert_eq!(result["already_stored"], 1, "{result}");
    assert_eq!(result["files"], 0, "{result}");
    assert!(folder.join("done/slow.csv.1").exists());
    assert_eq!(versions(&h), 1, "nothing was stored twice");
}

#[test]
fn bad_drop_folders_and_names_are_refused() {
    let h = Home::new();
    let missing = h.dir.path().join("nowhere");
    let url = format!("folder://{}", missing.display());
    let err = h.fails(&["connect", &url, "--dataset", "d"]);
    assert!(err.contains("does not exist or is not a folder"), "{err}");
    let here = format!("folder://{}", h.dir.path().display());
    for name in ["../etc", "a/b", "x__quarantine"] {
        let err = h.fails(&["connect", &here, "--dataset", name]);
        assert!(err.contains("invalid dataset name"), "{name}: {err}");
    }
    let err = h.fails(&["connect", &here, "--dataset", "d", "--pattern", "[x"]);
    assert!(err.contains("invalid file pattern"), "{err}");
    let err = h.fails(&["connect", "mqtt://localhost:1", "--dataset", "d"]);
    assert!(err.contains("needs --topics"), "{err}");
}
