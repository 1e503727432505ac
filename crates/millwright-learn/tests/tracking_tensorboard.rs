//! The TensorBoard event file of a run, read back by TensorBoard's own loader
//! (`scripts/read_tfevents.py`, `EventAccumulator`): an independent check of the format.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::Command;

use millwright_learn::tracking::{DatasetRef, RunSpec, RunStore};

/// The Python that has `tensorboard`: `MILLWRIGHT_PYTHON` (e.g. a virtualenv's python) or `python3`.
fn python() -> String {
    std::env::var("MILLWRIGHT_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn python_has_tensorboard() -> bool {
    Command::new(python())
        .args([
            "-c",
            "import tensorboard.backend.event_processing.event_accumulator",
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn tensorboard_reads_back_every_scalar() {
    if !python_has_tensorboard() {
        // CI installs tensorboard: there a missing reader is a failure, not a skip.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`{} -c \"import tensorboard\"` failed under CI=true; .ci/run must install tensorboard",
            python()
        );
        eprintln!("SKIP tensorboard_reads_back_every_scalar: `{} -c \"import tensorboard\"` failed (pip install tensorboard, or set MILLWRIGHT_PYTHON)", python());
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let store = RunStore::open(home.path()).unwrap();
    let mut run = store
        .start_run(RunSpec::new(
            "failure",
            "mlp",
            DatasetRef::lake("milling", 2),
        ))
        .unwrap();
    let epochs = 12u64;
    let value = |tag: usize, epoch: u64| 1.0 / (epoch as f64 + 1.0) + tag as f64 * 0.25;
    let tags = ["loss/train", "loss/val", "accuracy/val"];
    for epoch in 1..=epochs {
        let scalars: Vec<(&str, f64)> = tags
            .iter()
            .enumerate()
            .map(|(t, tag)| (*tag, value(t, epoch)))
            .collect();
        run.log_epoch(epoch, &scalars).unwrap();
    }
    // Zero and a diverged value must survive too.
    run.log_epoch(epochs + 1, &[("loss/train", 0.0), ("loss/val", f64::NAN)])
        .unwrap();
    let dir = run.dir().to_path_buf();
    run.finish().unwrap();

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/read_tfevents.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reader failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        read["tags"],
        serde_json::json!(["accuracy/val", "loss/train", "loss/val"])
    );
    for (t, tag) in tags.iter().enumerate() {
        let points = read["scalars"][tag].as_array().unwrap();
        let expected_len = if *tag == "accuracy/val" {
            epochs
        } else {
            epochs + 1
        };
        assert_eq!(points.len() as u64, expected_len, "{tag}");
        for (i, p) in points.iter().take(epochs as usize).enumerate() {
            let epoch = i as u64 + 1;
            assert_eq!(p[0].as_u64(), Some(epoch), "{tag} step");
            let got = p[1].as_f64().unwrap();
            // TensorBoard scalars are f32.
            assert!(
                (got - value(t, epoch)).abs() < 1e-6,
                "{tag} epoch {epoch}: {got} vs {}",
                value(t, epoch)
            );
        }
    }
    let last_train = &read["scalars"]["loss/train"][epochs as usize];
    assert_eq!(last_train, &serde_json::json!([epochs + 1, 0.0]));
    let last_val = &read["scalars"]["loss/val"][epochs as usize];
    assert_eq!(last_val, &serde_json::json!([epochs + 1, null]));
}
