//! Appends through the real binary: rows that repeat stored ones (warned, or skipped with `--key`) and
//! several files (a glob, a folder, a list) ingested as one commit.

mod common;

use common::{scalar as count, Home};

fn ingest(h: &Home, file: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["ingest", file, "--dataset", "t"];
    args.extend_from_slice(extra);
    h.json(&args)
}

#[test]
fn the_same_file_appended_twice_is_warned_about() {
    let h = Home::new();
    let a = h.file("a.csv", "id,name,v\n1,a,1.5\n2,b,2.5\n3,c,3.5\n");
    let a = a.to_str().unwrap();
    let first = ingest(&h, a, &[]);
    assert!(first.get("duplicates").is_none(), "{first}");
    // Text output: the count and an example row.
    let text = h.ok(&["ingest", a, "--dataset", "t", "--mode", "append"]);
    assert!(
        text.contains("warning: 3 of the rows appended repeat rows already stored in t; e.g. id=1, name=a, v=1.5"),
        "{text}"
    );
    assert_eq!(count(&h, "SELECT COUNT(*) FROM t"), 6, "stored anyway");
    // A file with one new row and one old one: one repeat counted.
    let b = h.file("b.csv", "id,name,v\n3,c,3.5\n4,d,4.5\n");
    let out = ingest(&h, b.to_str().unwrap(), &["--mode", "append"]);
    assert_eq!(out["duplicates"]["rows"], 1, "{out}");
    assert_eq!(out["duplicates"]["skipped"], false, "{out}");
    assert_eq!(out["rows_written"], 2, "{out}");
}

#[test]
fn with_a_key_repeated_rows_are_skipped_and_recorded() {
    let h = Home::new();
    let a = h.file("a.csv", "id,name,v\n1,a,1.5\n2,b,2.5\n3,c,3.5\n");
    ingest(&h, a.to_str().unwrap(), &[]);
    // Same ids, other values: the key decides, not the whole row.
    let b = h.file("b.csv", "id,name,v\n3,c,9.5\n4,d,4.5\n5,e,5.5\n");
    let out = ingest(
        &h,
        b.to_str().unwrap(),
        &["--mode", "append", "--key", "id"],
    );
    assert_eq!(out["duplicates"]["rows"], 1, "{out}");
    assert_eq!(out["duplicates"]["skipped"], true, "{out}");
    assert_eq!(out["duplicates"]["example"], "id=3", "{out}");
    assert_eq!(out["rows_written"], 2, "{out}");
    assert_eq!(count(&h, "SELECT COUNT(*) FROM t"), 5);
    assert_eq!(count(&h, "SELECT COUNT(DISTINCT id) FROM t"), 5);
    assert_eq!(count(&h, "SELECT COUNT(*) FROM t WHERE v = 9.5"), 0);
    // The commit record keeps the count, and the row count of the table is right.
    let history = h.json(&["history", "t"]);
    assert_eq!(history[1]["table_rows"], 5, "{history}");
    assert_eq!(history[1]["rows_written"], 2, "{history}");
    let log = std::fs::read_to_string(h.home().join("lake/t/_delta_log/00000000000000000001.json"))
        .unwrap();
    let info: serde_json::Value = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|a| a.get("commitInfo").is_some())
        .unwrap();
    let record = &info["commitInfo"]["millwright"];
    assert_eq!(
        record["duplicates"]["key"],
        serde_json::json!(["id"]),
        "{record}"
    );
    assert_eq!(record["duplicates"]["rows"], 1, "{record}");
    assert_eq!(record["report"]["rows_written"], 2, "{record}");

    // Everything already stored under a two-column key: an error, nothing written.
    let err = h.fails(&[
        "ingest",
        b.to_str().unwrap(),
        "--dataset",
        "t",
        "--mode",
        "append",
        "--key",
        "id,name",
    ]);
    assert!(
        err.contains("all 3 new rows have a key (id,name) already stored"),
        "{err}"
    );
    let err = h.fails(&[
        "ingest",
        b.to_str().unwrap(),
        "--dataset",
        "t",
        "--mode",
        "append",
        "--key",
        "nope",
    ]);
    assert!(
        err.contains("key column \"nope\" is not in the table"),
        "{err}"
    );
    assert_eq!(h.json(&["history", "t"]).as_array().unwrap().len(), 2);
}

/// Three daily exports with a repeated row each (quarantined by the default duplicate rule): one pattern, one version, every row, each quarantined row
/// named by its file.
#[test]
fn a_glob_a_folder_or_a_list_of_files_is_one_commit() {
    let h = Home::new();
    let exports = h.dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    for day in 1..=3 {
        std::fs::write(
            exports.join(format!("2026-01-0{day}.csv")),
            format!("time,v\n2026-01-0{day}T00:00:00Z,{day}.5\n2026-01-0{day}T01:00:00Z,{day}.25\n2026-01-0{day}T00:00:00Z,{day}.5\n"),
        )
        .unwrap();
    }
    std::fs::write(exports.join("README.md"), "not data").unwrap();
    let pattern = format!("{}/2026-*.csv", exports.display());
    let out = h.json(&["ingest", &pattern, "--dataset", "line2"]);
    assert_eq!(out["version"], 0, "{out}");
    assert_eq!(out["rows_written"], 6, "{out}");
    assert_eq!(out["rows_quarantined"], 3, "{out}");
    let files = h.json(&[
        "sql",
        "SELECT source_file, line FROM line2__quarantine ORDER BY source_file",
    ]);
    let named: Vec<String> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source_file"].as_str().unwrap().to_string())
        .collect();
    for (day, file) in named.iter().enumerate() {
        assert!(
            file.ends_with(&format!("2026-01-0{}.csv", day + 1)),
            "{files}"
        );
    }
    assert!(files[0]["line"] == 4, "{files}");
    assert_eq!(h.json(&["history", "line2"]).as_array().unwrap().len(), 1);

    // The folder (README.md is not data) and a shell-expanded list: same rows, one version each.
    let out = h.json(&["ingest", exports.to_str().unwrap(), "--dataset", "byfolder"]);
    assert_eq!(out["rows_written"], 6, "{out}");
    let list: Vec<String> = (1..=3)
        .map(|d| {
            exports
                .join(format!("2026-01-0{d}.csv"))
                .display()
                .to_string()
        })
        .collect();
    let mut args = vec!["ingest"];
    args.extend(list.iter().map(String::as_str));
    args.extend(["--dataset", "bylist"]);
    let out = h.json(&args);
    assert_eq!(out["rows_written"], 6, "{out}");
    assert_eq!(
        count(
            &h,
            "SELECT COUNT(*) FROM bylist WHERE time >= TIMESTAMP '2026-01-03T00:00:00Z'"
        ),
        2
    );
}

#[test]
fn files_that_differ_or_match_nothing_are_refused_and_nothing_is_written() {
    let h = Home::new();
    let dir = h.dir.path().join("mixed");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.csv"), "id,v\n1,1.5\n").unwrap();
    std::fs::write(dir.join("b.csv"), "id,v\n2,2.5\n").unwrap();
    std::fs::write(dir.join("c.csv"), "id,w\n3,3.5\n").unwrap();
    std::fs::write(dir.join("d.csv"), "id,v\n4,four\n").unwrap();
    let err = h.fails(&["ingest", dir.to_str().unwrap(), "--dataset", "m"]);
    assert!(
        err.contains("c.csv: its columns differ from the first file's")
            && err.contains("it has no column \"v\""),
        "{err}"
    );
    let a = dir.join("a.csv");
    let d = dir.join("d.csv");
    let err = h.fails(&[
        "ingest",
        a.to_str().unwrap(),
        d.to_str().unwrap(),
        "--dataset",
        "m",
    ]);
    assert!(
        err.contains("d.csv") && err.contains("column \"v\" holds"),
        "{err}"
    );
    assert!(
        !h.home().join("lake/m/_delta_log").exists(),
        "nothing written"
    );

    let pattern = format!("{}/2027-*.csv", dir.display());
    let err = h.fails(&["ingest", &pattern, "--dataset", "m"]);
    assert!(err.contains("no file matches the pattern"), "{err}");
    let err = h.fails(&["ingest", "[", "--dataset", "m"]);
    assert!(err.contains("invalid file pattern"), "{err}");
    for name in ["../etc", "a/b", "x__quarantine"] {
        let err = h.fails(&["ingest", a.to_str().unwrap(), "--dataset", name]);
        assert!(err.contains("invalid dataset name"), "{name}: {err}");
    }
}

/// A time key: the table scan filters on the new rows' time range, and still finds the repeat.
#[test]
fn a_time_key_skips_the_overlap_of_two_exports() {
    let h = Home::new();
    let a = h.file(
        "a.csv",
        "time,v\n2026-01-01T00:00:00Z,1\n2026-01-01T01:00:00Z,2\n2026-01-01T02:00:00Z,3\n",
    );
    ingest(&h, a.to_str().unwrap(), &[]);
    let b = h.file(
        "b.csv",
        "time,v\n2026-01-01T02:00:00Z,3\n2026-01-01T03:00:00Z,4\n",
    );
    let out = ingest(
        &h,
        b.to_str().unwrap(),
        &["--mode", "append", "--key", "time"],
    );
    assert_eq!(out["duplicates"]["rows"], 1, "{out}");
    assert_eq!(out["rows_written"], 1, "{out}");
    // Later rows only: nothing repeats, nothing is reported.
    let c = h.file("c.csv", "time,v\n2026-01-02T00:00:00Z,5\n");
    let out = ingest(&h, c.to_str().unwrap(), &["--mode", "append"]);
    assert_eq!(out["duplicates"]["rows"], 0, "{out}");
    assert_eq!(count(&h, "SELECT COUNT(*) FROM t"), 5);
}
