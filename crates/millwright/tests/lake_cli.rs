//! `lake compact` and `lake vacuum` through the real binary: many small appends become few files with the
//! same rows, old versions stay readable until a vacuum past the retention, and the retention is guarded.

mod common;

use std::path::Path;

use common::{scalar as count, Home};

fn parquet_files(table: &Path) -> usize {
    std::fs::read_dir(table)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "parquet")
        })
        .count()
}

/// A dataset `t` of `appends` versions, two rows each (`id`, `v`).
fn small_appends(h: &Home, appends: usize) {
    for i in 0..appends {
        let file = h.file(
            &format!("part{i}.csv"),
            format!("id,v\n{},{i}.5\n{},{i}.25\n", 2 * i, 2 * i + 1),
        );
        let mode = if i == 0 { "create" } else { "append" };
        h.ok(&[
            "ingest",
            file.to_str().unwrap(),
            "--dataset",
            "t",
            "--mode",
            mode,
        ]);
    }
}

const SUMMARY: &str = "SELECT COUNT(*) AS n, SUM(id) AS s, SUM(v) AS sv FROM t";

#[test]
fn compact_rewrites_small_files_and_keeps_rows_and_versions() {
    let h = Home::new();
    small_appends(&h, 50);
    let table = h.home().join("lake").join("t");
    assert_eq!(parquet_files(&table), 50);
    let before = h.json(&["sql", SUMMARY]);

    let done = h.json(&["lake", "compact", "t"]);
    assert_eq!(done["files_before"], 50, "{done}");
    assert_eq!(done["files_after"], 1, "{done}");
    assert_eq!(done["version"], 50, "{done}");
    assert_eq!(done["table_rows"], 100, "{done}");
    assert!(done["bytes_after"].as_u64().unwrap() < done["bytes_before"].as_u64().unwrap());

    // Same rows, same answers; every earlier version still reads.
    assert_eq!(h.json(&["sql", SUMMARY]), before);
    assert_eq!(count(&h, "SELECT COUNT(*) FROM t VERSION AS OF 0"), 2);
    assert_eq!(count(&h, "SELECT COUNT(*) FROM t VERSION AS OF 24"), 50);
    // The compaction's record keeps what the rest reads: rows, kinds, history.
    let datasets = h.json(&["datasets"]);
    let t = datasets
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "t")
        .unwrap();
    assert_eq!(t["rows"], 100, "{datasets}");
    let schema = h.json(&["schema", "t"]);
    assert_eq!(schema["columns"][0]["kind"], "int", "{schema}");
    let history = h.json(&["history", "t"]);
    let last = history.as_array().unwrap().last().unwrap();
    assert_eq!(last["operation"], "OPTIMIZE", "{last}");
    assert_eq!(last["table_rows"], 100, "{last}");
    let quality = h.fails(&["quality", "t"]);
    assert!(quality.contains("it is a compact commit"), "{quality}");
    // An append after a compaction counts on from the record's rows.
    small_appends_after(&h);
    assert_eq!(count(&h, "SELECT COUNT(*) FROM t"), 102);
    let history = h.json(&["history", "t"]);
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["table_rows"],
        102
    );
    // Nothing left to rewrite: no new version.
    let text = h.ok(&["lake", "compact", "t__quarantine"]);
    assert!(text.contains("nothing to compact"), "{text}");
}

fn small_appends_after(h: &Home) {
    let file = h.file("late.csv", "id,v\n1000,1.0\n1001,2.0\n");
    h.ok(&[
        "ingest",
        file.to_str().unwrap(),
        "--dataset",
        "t",
        "--mode",
        "append",
    ]);
}

#[test]
fn vacuum_lists_removes_and_guards_the_retention() {
    let h = Home::new();
    small_appends(&h, 5);
    h.ok(&["lake", "compact", "t"]);
    let table = h.home().join("lake").join("t");
    assert_eq!(parquet_files(&table), 6);

    // The default retention (168h) keeps the files a compaction replaced a moment ago.
    let kept = h.json(&["lake", "vacuum", "t"]);
    assert_eq!(kept["files"], 0, "{kept}");

    let err = h.fails(&["lake", "vacuum", "t", "--retain", "30min"]);
    assert!(err.contains("under the 1h minimum"), "{err}");
    assert!(err.contains("--force"), "{err}");
    let err = h.fails(&["lake", "vacuum", "t", "--retain", "soon"]);
    assert!(err.contains("invalid age"), "{err}");

    let dry = h.ok(&[
        "lake",
        "vacuum",
        "t",
        "--retain",
        "0s",
        "--force",
        "--dry-run",
    ]);
    assert_eq!(dry.matches("would remove t/part-").count(), 5, "{dry}");
    assert!(dry.contains("nothing removed"), "{dry}");
    assert_eq!(parquet_files(&table), 6, "a dry run removes nothing");
    assert_eq!(count(&h, "SELECT COUNT(*) FROM t VERSION AS OF 2"), 6);

    let done = h.json(&["lake", "vacuum", "t", "--retain", "0s", "--force"]);
    assert_eq!(done["files"], 5, "{done}");
    assert!(done["bytes"].as_u64().unwrap() > 0, "{done}");
    assert_eq!(done["tables"][0]["readable_from"], 5, "{done}");
    assert_eq!(parquet_files(&table), 1);
    assert_eq!(count(&h, "SELECT COUNT(*) FROM t"), 10);
    assert_eq!(count(&h, "SELECT COUNT(*) FROM t VERSION AS OF 5"), 10);
    let err = h.fails(&["sql", "SELECT COUNT(*) FROM t VERSION AS OF 2"]);
    assert!(
        err.contains("version 2 is no longer readable")
            && err.contains("retention of 0s")
            && err.contains("versions from 5 on are readable"),
        "{err}"
    );
    // Rows and the next append still count right past the vacuum's commits.
    small_appends_after(&h);
    let history = h.json(&["history", "t"]);
    assert_eq!(
        history.as_array().unwrap().last().unwrap()["table_rows"],
        12
    );

    // Every table of the lake, nothing left to remove.
    let again = h.json(&["lake", "vacuum", "--retain", "0s", "--force"]);
    assert_eq!(again["files"], 0, "{again}");
}

#[test]
fn hostile_and_missing_names_are_refused() {
    let h = Home::new();
    for name in ["../etc", "a/b", "", "名前"] {
        let err = h.fails(&["lake", "compact", name]);
        assert!(err.contains("invalid dataset name"), "{name}: {err}");
        let err = h.fails(&["lake", "vacuum", name, "--retain", "2h"]);
        assert!(err.contains("invalid dataset name"), "{name}: {err}");
    }
    let err = h.fails(&["lake", "compact", "nothere"]);
    assert!(err.contains("does not exist"), "{err}");
}
