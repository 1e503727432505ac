//! `runs`, `runs show`, `runs compare` through the real binary, on runs recorded with the tracking
//! library (the `train` tests cover a training recording its run).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod common;

use std::path::Path;
use std::process::Command;

use common::millwright;

use millwright_learn::tracking::{DatasetRef, RunSpec, RunStore};

fn ok(home: &Path, args: &[&str]) -> String {
    let out = millwright(home, args);
    assert!(
        out.status.success(),
        "millwright {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(home: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&ok(home, &all)).unwrap()
}

/// Records `n` finished runs alternating mlp/gbdt, plus one failed run; returns the ids in start order.
fn record_runs(home: &Path, n: usize) -> Vec<String> {
    let store = RunStore::open(home).unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let kind = if i % 2 == 0 { "mlp" } else { "gbdt" };
        let spec = RunSpec::new("failure", kind, DatasetRef::lake("milling", 1))
            .with_params(serde_json::json!({"epochs": 10 + i, "batch_size": 32}))
            .with_seed(42);
        let mut run = store.start_run(spec).unwrap();
        for epoch in 1..=3 {
            run.log_epoch(
                epoch,
                &[
                    ("loss/train", 0.5 / epoch as f64),
                    ("accuracy/val", 0.9 + i as f64 / 100.0),
                ],
            )
            .unwrap();
        }
        run.log_final(serde_json::json!({"accuracy": 0.9 + i as f64 / 100.0, "roc_auc": 0.95}))
            .unwrap();
        ids.push(run.finish().unwrap().id.to_string());
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let run = store
        .start_run(RunSpec::new(
            "broken",
            "logistic",
            DatasetRef::lake("milling", 1),
        ))
        .unwrap();
    ids.push(
        run.fail("target column \"label\" missing")
            .unwrap()
            .id
            .to_string(),
    );
    ids
}

#[test]
fn list_filters_and_pages() {
    let dir = tempfile::tempdir().unwrap();
    let ids = record_runs(dir.path(), 5);
    let all = json(dir.path(), &["runs"]);
    assert_eq!(all["total"], 6);
    assert_eq!(all["runs"][0]["id"], ids[5].as_str(), "newest first");
    let page = json(dir.path(), &["runs", "--limit", "2", "--offset", "2"]);
    let got: Vec<&str> = page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[3].as_str(), ids[2].as_str()]);
    let mlp = json(
        dir.path(),
        &["runs", "--model", "mlp", "--status", "finished"],
    );
    assert_eq!(mlp["total"], 3);
    let failed = json(dir.path(), &["runs", "--status", "failed"]);
    assert_eq!(
        failed["runs"][0]["error"],
        "target column \"label\" missing"
    );
    let text = ok(dir.path(), &["runs", "--limit", "2"]);
    assert!(
        text.contains(&ids[5]) && text.contains("runs 1–2 of 6") && text.contains("--offset 2"),
        "{text}"
    );
}

#[test]
fn show_and_compare() {
    let dir = tempfile::tempdir().unwrap();
    let ids = record_runs(dir.path(), 2);
    let shown = json(dir.path(), &["runs", "show", &ids[0]]);
    assert_eq!(shown["status"], "finished");
    assert_eq!(shown["spec"]["params"]["epochs"], 10);
    assert_eq!(shown["history"]["points"].as_array().unwrap().len(), 3);
    assert!((shown["last_epoch"]["loss/train"].as_f64().unwrap() - 0.5 / 3.0).abs() < 1e-12);
    let files = shown["files"].as_array().unwrap();
    assert!(files
        .iter()
        .any(|f| f[0] == "plot" && f[1].as_str().unwrap().ends_with("plots/curve_loss.png")));
    for f in files {
        assert!(Path::new(f[1].as_str().unwrap()).exists(), "{f} missing");
    }
    assert_eq!(shown["event_files"].as_array().unwrap().len(), 1);
    let text = ok(dir.path(), &["runs", "show", "latest"]);
    assert!(
        text.contains("status:       failed") && text.contains("label"),
        "{text}"
    );

    let cmp = json(dir.path(), &["runs", "compare", &ids[0], &ids[1]]);
    let changed: Vec<&str> = cmp["params"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["same"] == false)
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["model_kind", "params.epochs"]);
    let acc = cmp["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["key"] == "accuracy")
        .unwrap();
    assert!((acc["delta"].as_f64().unwrap() - 0.01).abs() < 1e-9);
    let text = ok(dir.path(), &["runs", "compare", &ids[0], &ids[1]]);
    assert!(
        text.contains("params.epochs") && text.contains("Δ +0.0100"),
        "{text}"
    );
}

#[test]
fn bad_references_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    record_runs(dir.path(), 1);
    let out = millwright(dir.path(), &["runs", "show", "../etc"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid run id \"../etc\""));
    let out = millwright(dir.path(), &["runs", "show", "19990101T000000000Z-000000"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no run"));
    let out = millwright(dir.path(), &["runs", "--status", "done"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("running, finished, failed"));
}

#[test]
fn a_run_whose_process_died_shows_as_interrupted() {
    if !Path::new("/proc/self").exists() {
        eprintln!(
            "SKIP: no /proc here, so a dead recording process cannot be told from a live one"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = RunStore::open(dir.path()).unwrap();
    let run = store
        .start_run(RunSpec::new(
            "failure",
            "mlp",
            DatasetRef::lake("milling", 1),
        ))
        .unwrap();
    let id = run.id().to_string();
    let run_dir = store.run_dir(run.id());
    // A killed process never finishes its run: skip the recorder's drop, then give the record the id of
    // a process that has exited and re-index, as after a crash.
    std::mem::forget(run);
    let mut child = Command::new("true").spawn().unwrap();
    child.wait().unwrap();
    let path = run_dir.join("run.json");
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    record["pid"] = child.id().into();
    std::fs::write(&path, serde_json::to_string(&record).unwrap()).unwrap();
    drop(store);
    let mut store = RunStore::open(dir.path()).unwrap();
    assert_eq!(store.rebuild_catalog().unwrap(), 1);

    let listed = json(dir.path(), &["runs"]);
    assert_eq!(listed["runs"][0]["status"], "running");
    assert_eq!(listed["runs"][0]["interrupted"], true);
    assert!(ok(dir.path(), &["runs"]).contains("interrupted"));
    let text = ok(dir.path(), &["runs", "show", &id]);
    assert!(text.contains("is gone: interrupted"), "{text}");
}
