//! The run store: start → log → finish, the catalog's listing, filters and pages over thousands of runs,
//! id resolution, failure paths and recovery of the catalog from the run folders.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::time::Instant;

use millwright_learn::tracking::{
    DatasetRef, RunComparison, RunFilter, RunStatus, RunStore, TrackingError,
};

fn spec(name: &str, kind: &str) -> millwright_learn::tracking::RunSpec {
    millwright_learn::tracking::RunSpec::new(name, kind, DatasetRef::lake("milling", 3))
        .with_params(serde_json::json!({"epochs": 3, "batch_size": 32, "layers": [32, 16]}))
        .with_seed(42)
}

#[test]
fn a_run_is_stored_with_history_metrics_artefacts_and_plots() {
    let home = tempfile::tempdir().unwrap();
    let store = RunStore::open(home.path()).unwrap();
    let mut run = store.start_run(spec("failure", "mlp")).unwrap();
    let id = run.id().clone();
    assert_eq!(store.get(id.as_str()).unwrap().status, RunStatus::Running);
    for epoch in 1..=3 {
        let e = epoch as f64;
        run.log_epoch(
            epoch,
            &[
                ("loss/train", 1.0 / e),
                ("loss/val", 1.2 / e),
                ("accuracy/val", 0.9 + e / 100.0),
            ],
        )
        .unwrap();
    }
    run.log_final(serde_json::json!({"accuracy": 0.977, "roc_auc": 0.97}))
        .unwrap();
    run.log_final(serde_json::json!({"f1": 0.64})).unwrap();
    run.attach_artefact("model", &home.path().join("models/failure/1"))
        .unwrap();
    let record = run.finish().unwrap();

    assert_eq!(record.status, RunStatus::Finished);
    assert!(record.duration_s.unwrap() >= 0.0);
    assert_eq!(record.metric("accuracy"), Some(0.977));
    assert_eq!(record.metric("f1"), Some(0.64));
    assert_eq!(record.steps_logged, 3);
    let stored = store.get(id.as_str()).unwrap();
    assert_eq!(stored, record);
    let dir = store.run_dir(&id);
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(on_disk["status"], "finished");
    assert_eq!(on_disk["spec"]["params"]["batch_size"], 32);
    assert_eq!(
        on_disk["spec"]["dataset"],
        serde_json::json!({"source": "lake", "name": "milling", "version": 3})
    );
    // History, event file, and one curve plot per metric (PNG + SVG), listed as artefacts.
    let history =
        millwright_learn::tracking::ScalarHistory::read_jsonl(&dir.join("metrics.jsonl")).unwrap();
    assert_eq!(history.series("loss/val").len(), 3);
    assert!((history.last("loss/train").unwrap() - 1.0 / 3.0).abs() < 1e-12);
    let events: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(std::result::Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("events.out.tfevents.")
        })
        .collect();
    assert_eq!(events.len(), 1);
    let plots: Vec<String> = record
        .artefacts
        .iter()
        .filter(|a| a.kind == "plot")
        .map(|a| a.path.display().to_string())
        .collect();
    for expected in [
        "plots/curve_loss.png",
        "plots/curve_loss.svg",
        "plots/curve_accuracy.png",
        "plots/curve_accuracy.svg",
    ] {
        assert!(
            plots.contains(&expected.to_string()),
            "{expected} missing from {plots:?}"
        );
        assert!(
            dir.join(expected).metadata().unwrap().len() > 1000,
            "{expected} too small"
        );
    }
    assert!(record
        .artefacts
        .iter()
        .any(|a| a.kind == "model" && a.path.is_absolute()));
}

#[test]
fn failed_and_abandoned_runs_are_marked_failed() {
    let home = tempfile::tempdir().unwrap();
    let store = RunStore::open(home.path()).unwrap();
    let run = store.start_run(spec("failure", "mlp")).unwrap();
    let failed = run.fail("target column \"label\" missing").unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("target column \"label\" missing")
    );

    let id = {
        let run = store.start_run(spec("failure", "mlp")).unwrap();
        run.id().clone()
        // dropped here without finish(): a panic or an early return in the training code
    };
    let abandoned = store.get(id.as_str()).unwrap();
    assert_eq!(abandoned.status, RunStatus::Failed);
    assert!(abandoned.error.unwrap().contains("without finish"));
}

#[test]
fn thousands_of_runs_list_filter_and_page_quickly() {
    const RUNS: usize = 5_000;
    // This test measures the catalog, not the disk: on ext4 mounted with `discard` (as here) creating and
    // unlinking 5 000 run folders alone takes ~45 s, so use RAM-backed /dev/shm where there is one.
    let shm = std::path::Path::new("/dev/shm");
    let home = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .unwrap();
    let store = RunStore::open(home.path()).unwrap();
    let kinds = ["mlp", "gbdt", "logistic", "auto"];
    let started = Instant::now();
    for i in 0..RUNS {
        let mut run = store
            .start_run(spec(&format!("model{}", i % 10), kinds[i % 4]))
            .unwrap();
        run.log_final(serde_json::json!({"accuracy": i as f64 / RUNS as f64}))
            .unwrap();
        if i % 5 == 0 {
            run.fail("diverged").unwrap();
        } else {
            run.finish().unwrap();
        }
    }
    eprintln!("recorded {RUNS} runs in {:.2?}", started.elapsed());

    let started = Instant::now();
    let mut seen = std::collections::HashSet::new();
    let mut offset = 0;
    let mut previous_start = None;
    loop {
        let page = store.list(&RunFilter::default(), 250, offset).unwrap();
        assert_eq!(page.total, RUNS as u64);
        if page.runs.is_empty() {
            break;
        }
        for run in &page.runs {
            assert!(seen.insert(run.id.clone()), "{} listed twice", run.id);
            // Newest first.
            let start = run.started_at.timestamp_micros();
            if let Some(prev) = previous_start {
                assert!(
                    start <= prev,
                    "{} listed after a run started earlier",
                    run.id
                );
            }
            previous_start = Some(start);
        }
        offset += page.runs.len() as u64;
    }
    assert_eq!(seen.len(), RUNS);
    let filter = RunFilter {
        status: Some(RunStatus::Failed),
        model_kind: Some("mlp".into()),
        ..Default::default()
    };
    let page = store.list(&filter, 10, 0).unwrap();
    // i % 5 == 0 and i % 4 == 0: every 20th run.
    assert_eq!(page.total, (RUNS / 20) as u64);
    assert!(page
        .runs
        .iter()
        .all(|r| r.status == RunStatus::Failed && r.spec.model_kind == "mlp"));
    let by_name = store
        .list(
            &RunFilter {
                name: Some("model3".into()),
                ..Default::default()
            },
            5,
            495,
        )
        .unwrap();
    assert_eq!(by_name.total, (RUNS / 10) as u64);
    assert_eq!(by_name.runs.len(), 5);
    let elapsed = started.elapsed();
    eprintln!("paged through {RUNS} runs and filtered in {elapsed:.2?}");
    assert!(elapsed.as_secs_f64() < 5.0, "listing took {elapsed:?}");
}

#[test]
fn runs_resolve_by_prefix_and_latest_and_reject_bad_ids() {
    let home = tempfile::tempdir().unwrap();
    let store = RunStore::open(home.path()).unwrap();
    let first = store.start_run(spec("a", "mlp")).unwrap().finish().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(3));
    let second = store
        .start_run(spec("b", "gbdt"))
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(store.resolve("latest").unwrap(), second.id);
    assert_eq!(store.resolve(&second.id.as_str()[..24]).unwrap(), second.id);
    assert!(matches!(
        store.resolve("2026").unwrap_err(),
        TrackingError::AmbiguousRun { .. } | TrackingError::UnknownRun(_)
    ));
    let year = &first.id.as_str()[..4];
    if first.id.as_str()[..4] == second.id.as_str()[..4] {
        assert!(matches!(
            store.resolve(year).unwrap_err(),
            TrackingError::AmbiguousRun { .. }
        ));
    }
    assert!(matches!(
        store.get("../../etc/passwd").unwrap_err(),
        TrackingError::InvalidRunId(_)
    ));
    assert!(matches!(
        store.get("19990101T000000000Z-000000").unwrap_err(),
        TrackingError::UnknownRun(_)
    ));
}

#[test]
fn the_catalog_is_rebuilt_from_run_folders() {
    let home = tempfile::tempdir().unwrap();
    let ids: Vec<_> = {
        let store = RunStore::open(home.path()).unwrap();
        (0..3)
            .map(|_| {
                store
                    .start_run(spec("failure", "mlp"))
                    .unwrap()
                    .finish()
                    .unwrap()
                    .id
            })
            .collect()
    };
    for file in ["catalog.db", "catalog.db-wal", "catalog.db-shm"] {
        let _ = std::fs::remove_file(home.path().join("runs").join(file));
    }
    // A folder whose run.json was never written (a crash during start) is not indexed.
    std::fs::create_dir(home.path().join("runs/20261128T000000000Z-abcdef")).unwrap();
    let mut store = RunStore::open(home.path()).unwrap();
    assert_eq!(store.list(&RunFilter::default(), 10, 0).unwrap().total, 0);
    assert_eq!(store.rebuild_catalog().unwrap(), 3);
    let listed: Vec<_> = store
        .list(&RunFilter::default(), 10, 0)
        .unwrap()
        .runs
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed.len(), 3);
    assert!(ids.iter().all(|id| listed.contains(id)));
}

#[test]
fn a_catalog_from_a_newer_millwright_is_refused() {
    let home = tempfile::tempdir().unwrap();
    drop(RunStore::open(home.path()).unwrap());
    let conn = rusqlite::Connection::open(home.path().join("runs/catalog.db")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = RunStore::open(home.path()).unwrap_err();
    assert!(
        matches!(err, TrackingError::FutureSchema { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade millwright"));
}

#[test]
fn bad_input_is_rejected_with_its_name() {
    let home = tempfile::tempdir().unwrap();
    let store = RunStore::open(home.path()).unwrap();
    let err = store.start_run(spec("", "mlp")).unwrap_err().to_string();
    assert!(err.contains("run name"), "{err}");
    let mut run = store.start_run(spec("x", "mlp")).unwrap();
    let err = run.log_epoch(1, &[("", 1.0)]).unwrap_err().to_string();
    assert!(
        err.contains("scalar tag") && err.contains("epoch 1"),
        "{err}"
    );
    let err = run
        .log_final(serde_json::json!([1, 2]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("final metrics"), "{err}");
    assert!("done"
        .parse::<RunStatus>()
        .unwrap_err()
        .to_string()
        .contains("running, finished, failed"));
    run.finish().unwrap();
}

#[test]
fn two_runs_compare_params_and_metrics() {
    let home = tempfile::tempdir().unwrap();
    let store = RunStore::open(home.path()).unwrap();
    let mut a = store.start_run(spec("failure", "mlp")).unwrap();
    a.log_epoch(1, &[("loss/val", 0.5)]).unwrap();
    a.log_final(serde_json::json!({"accuracy": 0.95})).unwrap();
    let a = a.finish().unwrap();
    let spec_b = spec("failure", "mlp")
        .with_params(serde_json::json!({"epochs": 5, "batch_size": 32, "layers": [64, 16]}));
    let mut b = store.start_run(spec_b).unwrap();
    b.log_epoch(1, &[("loss/val", 0.4)]).unwrap();
    b.log_final(serde_json::json!({"accuracy": 0.97})).unwrap();
    let b = b.finish().unwrap();
    let history = |id: &millwright_learn::tracking::RunId| {
        millwright_learn::tracking::ScalarHistory::read_jsonl(
            &store.run_dir(id).join("metrics.jsonl"),
        )
        .unwrap()
    };
    let cmp = RunComparison::new(&a, &history(&a.id), &b, &history(&b.id));
    let changed: Vec<&str> = cmp.changed_params().map(|d| d.key.as_str()).collect();
    assert_eq!(changed, ["params.epochs", "params.layers.0"]);
    let acc = cmp.metrics.iter().find(|d| d.key == "accuracy").unwrap();
    assert!((acc.delta.unwrap() - 0.02).abs() < 1e-12);
    let loss = cmp.last_epoch.iter().find(|d| d.key == "loss/val").unwrap();
    assert!((loss.delta.unwrap() + 0.1).abs() < 1e-12);
}

#[test]
fn concurrent_runs_from_several_threads_are_all_recorded() {
    fn assert_send<T: Send>() {}
    // Training may move its recorder to a worker thread.
    assert_send::<millwright_learn::tracking::RunRecorder>();
    let home = tempfile::tempdir().unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let home = home.path().to_path_buf();
            std::thread::spawn(move || {
                // One store per thread, as separate processes would have.
                let store = RunStore::open(&home).unwrap();
                for i in 0..10 {
                    let mut run = store.start_run(spec(&format!("t{t}"), "mlp")).unwrap();
                    run.log_final(serde_json::json!({"accuracy": i as f64 / 10.0}))
                        .unwrap();
                    run.finish().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let store = RunStore::open(home.path()).unwrap();
    let finished = RunFilter {
        status: Some(RunStatus::Finished),
        ..Default::default()
    };
    assert_eq!(store.list(&finished, 100, 0).unwrap().total, 40);
    let t2 = RunFilter {
        name: Some("t2".into()),
        ..Default::default()
    };
    assert_eq!(store.list(&t2, 100, 0).unwrap().total, 10);
}

#[test]
fn a_running_run_whose_process_died_is_told_apart() {
    let home = tempfile::tempdir().unwrap();
    let store = RunStore::open(home.path()).unwrap();
    let run = store.start_run(spec("failure", "mlp")).unwrap();
    let id = run.id().clone();
    // Live: this process holds it.
    assert!(!store.get(id.as_str()).unwrap().is_interrupted());
    // Simulate a process that was killed mid-run: its record names a pid that no longer exists.
    let mut record = store.get(id.as_str()).unwrap();
    let child = std::process::Command::new("true")
        .spawn()
        .and_then(|mut c| c.wait().map(|_| c.id()));
    let Ok(dead_pid) = child else {
        eprintln!("SKIP: cannot spawn `true` to get a finished process id");
        return;
    };
    record.pid = Some(dead_pid);
    if std::path::Path::new("/proc/self").exists() {
        assert!(record.is_interrupted());
    }
    record.status = RunStatus::Finished;
    assert!(
        !record.is_interrupted(),
        "only running runs can be interrupted"
    );
    run.finish().unwrap();
}

#[test]
fn runs_of_dead_processes_are_marked_failed_and_live_ones_are_left_running() {
    if !std::path::Path::new("/proc/self").exists() {
        eprintln!("SKIP: no /proc to tell a dead process from a live one");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(home.path()).unwrap();
    let live = store.start_run(spec("failure", "mlp")).unwrap();
    let killed = store.start_run(spec("failure", "gbdt")).unwrap();
    let killed_id = killed.id().clone();
    // A process killed mid-run never gets to drop its recorder; its run.json names its pid.
    std::mem::forget(killed);
    let file = home
        .path()
        .join("runs")
        .join(killed_id.as_str())
        .join("run.json");
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    record["pid"] = serde_json::json!(4_999_999); // above the kernel's pid_max: never alive
    std::fs::write(&file, record.to_string()).unwrap();
    store.rebuild_catalog().unwrap();
    let running = RunFilter {
        status: Some(RunStatus::Running),
        ..RunFilter::default()
    };
    assert_eq!(store.list(&running, 10, 0).unwrap().total, 2);

    let marked = store.fail_interrupted("the process stopped").unwrap();
    assert_eq!(marked, vec![killed_id.clone()]);
    let failed = store.get(killed_id.as_str()).unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("the process stopped (process 4999999 is gone)")
    );
    // run.json says the same as the catalog (a rebuild keeps it failed).
    store.rebuild_catalog().unwrap();
    assert_eq!(
        store.get(killed_id.as_str()).unwrap().status,
        RunStatus::Failed
    );
    assert_eq!(store.list(&running, 10, 0).unwrap().total, 1);
    assert!(store.fail_interrupted("again").unwrap().is_empty());
    live.finish().unwrap();
}

#[test]
fn a_finished_run_is_deleted_whole_and_a_live_one_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let mut store = RunStore::open(home.path()).unwrap();
    let live = store.start_run(spec("failure", "mlp")).unwrap();
    let live_id = live.id().clone();
    let err = store.delete(live_id.as_str()).unwrap_err();
    assert!(matches!(err, TrackingError::RunActive { .. }), "{err}");
    assert!(
        store.run_dir(&live_id).is_dir(),
        "a refused delete changes nothing"
    );
    live.finish().unwrap();
    let done = store
        .start_run(spec("other", "gbdt"))
        .unwrap()
        .finish()
        .unwrap();
    let prefix = &done.id.as_str()[..12];
    assert!(matches!(
        store.delete(prefix),
        Err(TrackingError::InvalidRunId(_))
    ));
    let deleted = store.delete(done.id.as_str()).unwrap();
    assert_eq!(deleted.id, done.id);
    assert!(!store.run_dir(&done.id).exists());
    assert!(matches!(
        store.get(done.id.as_str()),
        Err(TrackingError::UnknownRun(_))
    ));
    assert!(matches!(
        store.delete(done.id.as_str()),
        Err(TrackingError::UnknownRun(_))
    ));
    // Nothing of the delete is left for a rebuild of the catalog to bring back.
    assert_eq!(store.rebuild_catalog().unwrap(), 1);
    assert_eq!(store.list(&RunFilter::default(), 10, 0).unwrap().total, 1);
    store.delete(live_id.as_str()).unwrap();
    assert_eq!(
        std::fs::read_dir(store.root())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_dir())
            .count(),
        0
    );
}
