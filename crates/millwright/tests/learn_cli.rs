//! `train`, `evaluate`, `predict`, `models` through the real binary: CSV files, lake tables, derived
//! features, `--json` names, and the bad inputs of issue 3.

mod common;

use std::path::Path;

use common::Home;

/// AI4I-like rows: id, timestamp, type, torque, speed, wear, label (failure when power or wear·torque is high).
fn machines_csv(n: usize, seed: u64) -> String {
    let mut s =
        String::from("id,timestamp,type,torque_nm,rotational_speed_rpm,tool_wear_min,label\n");
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for i in 0..n {
        let torque = 20.0 + 50.0 * next();
        let speed = 1200.0 + 1000.0 * next();
        let wear = (240.0 * next()).floor();
        let power = torque * speed * 2.0 * std::f64::consts::PI / 60.0;
        let label = u8::from(power > 9000.0 || wear * torque > 11_000.0);
        let kind = ["L", "M", "H"][i % 3];
        s.push_str(&format!(
            "{i},2026-01-01T00:{:02}:{:02}Z,{kind},{torque:.1},{speed:.0},{wear},{label}\n",
            (i / 60) % 60,
            i % 60
        ));
    }
    s
}

fn metric(v: &serde_json::Value, name: &str) -> f64 {
    v["test"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("test.{name} missing in {v}"))
}

#[test]
fn train_predict_evaluate_models_on_files() {
    let h = Home::new();
    let train = h.file("train.csv", machines_csv(800, 1));
    let test = h.file("test.csv", machines_csv(300, 2));
    let (train, test) = (train.to_str().unwrap(), test.to_str().unwrap());
    // The reference program, human output.
    let text = h.ok(&[
        "train",
        "--train",
        train,
        "--test",
        test,
        "--target",
        "label",
        "--drop",
        "id,timestamp",
        "--epochs",
        "20",
    ]);
    assert!(
        text.lines().any(|l| l.starts_with("test accuracy: 0.")),
        "{text}"
    );
    assert!(text.contains("model: model@1"), "{text}");
    // --json with the names scripts rely on.
    let v = h.json(&[
        "train", "--train", train, "--test", test, "--target", "label", "--drop", "id", "--model",
        "gbdt", "--name", "failure",
    ]);
    assert_eq!(v["model"], "failure@1");
    assert_eq!(v["kind"], "gbdt");
    // Every training is a tracked run: its folder holds run.json, the metrics log and the plots.
    let run = v["run"].as_str().expect("run id");
    let run_dir = h.home().join("runs").join(run);
    assert!(run_dir.join("run.json").is_file(), "{}", run_dir.display());
    assert!(run_dir.join("plots/roc.svg").is_file() && run_dir.join("plots/roc.png").is_file());
    assert!(v.get("run").is_some() && v["threshold"].as_f64().is_some());
    for name in [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "pr_auc",
        "log_loss",
    ] {
        assert!(
            (0.0..=1.0).contains(&metric(&v, name)) || name == "log_loss",
            "{name}"
        );
    }
    assert!(metric(&v, "roc_auc") > 0.9, "{v}");
    assert_eq!(v["test"]["confusion_matrix"].as_array().unwrap().len(), 2);
    assert!(
        v["dropped"].to_string().contains("timestamp"),
        "time column dropped automatically: {v}"
    );

    // predict adds probability and predicted columns.
    let out = h.dir.path().join("scored.csv");
    h.ok(&[
        "predict",
        "failure@1",
        "--input",
        test,
        "--output",
        out.to_str().unwrap(),
    ]);
    let scored = std::fs::read_to_string(&out).unwrap();
    let header = scored.lines().next().unwrap();
    assert!(header.ends_with("label,probability,predicted"), "{header}");
    assert_eq!(scored.lines().count(), 301);
    // Written like any other file (0666 less the umask), not with a temporary file's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_ne!(mode & 0o044, 0, "group/other cannot read: {mode:o}");
    }
    // evaluate on labelled rows gives the same figures as the training report.
    let plots = h.dir.path().join("eval-plots");
    let e = h.json(&[
        "evaluate",
        "failure@latest",
        "--input",
        test,
        "--plots",
        plots.to_str().unwrap(),
    ]);
    assert!(plots.join("roc.png").is_file() && plots.join("calibration.svg").is_file());
    assert_eq!(e["metrics"]["accuracy"], v["test"]["accuracy"]);
    // Registry listing.
    let list = h.json(&["models"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let shown = h.ok(&["models", "show", "failure"]);
    assert!(
        shown.contains("failure") && shown.contains("gbdt"),
        "{shown}"
    );
}

#[test]
fn aliases_promote_roll_back_and_printed_predictions() {
    let h = Home::new();
    let train = h.file("train.csv", machines_csv(600, 5));
    let test = h.file("test.csv", machines_csv(40, 6));
    let (train, test) = (train.to_str().unwrap(), test.to_str().unwrap());
    for kind in ["logistic", "gbdt"] {
        h.ok(&[
            "train",
            "--train",
            train,
            "--target",
            "label",
            "--drop",
            "id,timestamp",
            "--model",
            kind,
            "--name",
            "failure",
        ]);
    }
    let up = h.json(&["models", "promote", "failure@1", "--alias", "production"]);
    assert_eq!(
        (up["alias"].clone(), up["to"].clone()),
        ("production".into(), 1.into())
    );
    assert!(up["from"].is_null() && up["changed"] == true, "{up}");
    assert!(!up["actor"].as_str().unwrap().is_empty());
    let text = h.ok(&["models", "promote", "failure@latest", "--alias", "staging"]);
    assert!(text.contains("staging: (new) -> failure@2"), "{text}");
    // Listings show the aliases.
    let list = h.json(&["models", "show", "failure"]);
    assert_eq!(list[0]["aliases"], serde_json::json!(["production"]));
    assert_eq!(list[1]["aliases"], serde_json::json!(["staging"]));
    assert!(h.ok(&["models"]).contains("production"));

    // Printed predictions by alias, the same for CSV and JSON lines.
    let p = h.json(&["predict", "failure@production", "--input", test]);
    assert_eq!(
        (p["model"].clone(), p["version"].clone()),
        ("failure".into(), 1.into())
    );
    let rows = p["predictions"].as_array().unwrap();
    assert_eq!(rows.len(), 40);
    assert!(rows
        .iter()
        .all(|r| r["score"].is_f64() && r["decision"].is_string()));
    let csv = std::fs::read_to_string(test).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let jsonl: String = lines
        .map(|l| {
            let obj: serde_json::Map<String, serde_json::Value> = header
                .iter()
                .zip(l.split(','))
                .map(|(k, v)| {
                    let value = v
                        .parse::<f64>()
                        .map_or_else(|_| serde_json::json!(v), |x| serde_json::json!(x));
                    ((*k).to_owned(), value)
                })
                .collect();
            format!("{}\n", serde_json::Value::Object(obj))
        })
        .collect();
    let jsonl = h.file("rows.jsonl", jsonl);
    let q = h.json(&[
        "predict",
        "failure@production",
        "--input",
        jsonl.to_str().unwrap(),
    ]);
    assert_eq!(q["predictions"], p["predictions"]);
    let printed = h.ok(&["predict", "failure@production", "--input", test]);
    assert!(
        printed.starts_with("model failure@1 (binary, threshold"),
        "{printed}"
    );
    assert_eq!(printed.lines().count(), 42, "{printed}");

    // Promote, then the alias names the new version; roll back returns it.
    h.ok(&[
        "models",
        "promote",
        "failure@staging",
        "--alias",
        "production",
    ]);
    let p2 = h.json(&["predict", "failure@production", "--input", test]);
    assert_eq!(p2["version"], 2);
    assert_ne!(p2["predictions"], p["predictions"]);
    let back = h.json(&["models", "rollback", "failure", "--alias", "production"]);
    assert_eq!(
        (back["from"].clone(), back["to"].clone()),
        (2.into(), 1.into())
    );
    let table = h.json(&["models", "aliases", "failure"]);
    assert_eq!(
        table["aliases"],
        serde_json::json!({"production": 1, "staging": 2})
    );
    let actions: Vec<&str> = table["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["promote", "promote", "promote", "rollback"]);
    let shown = h.ok(&["models", "aliases", "failure"]);
    assert!(
        shown.contains("rollback") && shown.contains("production"),
        "{shown}"
    );

    // Refusals name what is wrong.
    let err = h.fails(&["models", "rollback", "failure", "--alias", "staging"]);
    assert!(err.contains("no earlier version"), "{err}");
    let err = h.fails(&["predict", "failure@production/../../etc", "--input", test]);
    assert!(err.contains("invalid model reference"), "{err}");
    let err = h.fails(&["models", "promote", "failure@1", "--alias", "latest"]);
    assert!(err.contains("invalid alias"), "{err}");
    let bad = h.file("bad.csv", csv.replace("torque_nm", "torque"));
    let err = h.fails(&["predict", "failure@1", "--input", bad.to_str().unwrap()]);
    assert!(err.contains("missing column 'torque_nm'"), "{err}");

    // A version an alias serves is not deleted; one no alias names is, for good, and its run too.
    let err = h.fails(&["models", "delete", "failure@1"]);
    assert!(err.contains("alias 'production' points at"), "{err}");
    let err = h.fails(&["models", "delete", "failure@latest"]);
    assert!(err.contains("by its number"), "{err}");
    h.ok(&["models", "promote", "failure@1", "--alias", "staging"]);
    let deleted = h.json(&["models", "delete", "failure@2"]);
    assert_eq!(deleted["version"], 2, "{deleted}");
    assert_eq!(
        h.json(&["models", "show", "failure"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let err = h.fails(&["predict", "failure@2", "--input", test]);
    assert!(err.contains("no version 2"), "{err}");
    let runs = h.json(&["runs"]);
    let newest = runs["runs"][0]["id"].as_str().unwrap().to_owned();
    let said = h.ok(&["runs", "delete", &newest]);
    assert!(said.starts_with(&format!("deleted run {newest}")), "{said}");
    assert_eq!(h.json(&["runs"])["total"], 1);
    let err = h.fails(&["runs", "delete", &newest[..8]]);
    assert!(err.contains("invalid run id"), "{err}");
}

#[test]
fn auto_with_derived_sql_features() {
    let h = Home::new();
    let train = h.file("train.csv", machines_csv(900, 3));
    let v = h.json(&[
        "train",
        "--train",
        train.to_str().unwrap(),
        "--target",
        "label",
        "--drop",
        "id",
        "--model",
        "auto",
        "--cv",
        "3",
        "--epochs",
        "5",
        "--feature",
        "power=torque_nm * rotational_speed_rpm * 2 * pi() / 60",
        "--feature",
        "wear_torque=tool_wear_min * torque_nm",
    ]);
    assert_eq!(v["cv"].as_array().unwrap().len(), 3);
    assert!(v["features"].to_string().contains("power"), "{v}");
    assert!(metric(&v, "roc_auc") > 0.95, "{v}");
    // Prediction recomputes the derived features from the raw columns.
    let input = h.file("new.csv", machines_csv(50, 4));
    let out = h.dir.path().join("scored.parquet");
    h.ok(&[
        "predict",
        "model",
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(std::fs::metadata(&out).unwrap().len() > 0);
}

#[test]
fn train_from_a_lake_dataset_records_its_version() {
    let h = Home::new();
    let csv = h.file("machines.csv", machines_csv(600, 5));
    h.ok(&["ingest", csv.to_str().unwrap(), "--dataset", "milling"]);
    let v = h.json(&[
        "train",
        "--dataset",
        "milling",
        "--target",
        "label",
        "--drop",
        "id",
        "--model",
        "logistic",
    ]);
    assert_eq!(v["model"], "milling@1");
    assert_eq!(v["test_rows"], 120);
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(h.home().join("models/milling/1/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["lineage"]["dataset"], "milling");
    assert!(manifest["lineage"]["lake_version"].as_i64().is_some());
    let e = h.json(&["evaluate", "milling@1", "--dataset", "milling"]);
    assert_eq!(e["rows"], 600);
}

fn versions(home: &Path) -> usize {
    std::fs::read_dir(home.join("models/failure")).map_or(0, std::iter::Iterator::count)
}

#[test]
fn bad_inputs_are_clear_errors_and_leave_the_registry_alone() {
    let h = Home::new();
    let train = h.file("train.csv", machines_csv(300, 6));
    let t = train.to_str().unwrap();
    let err = h.fails(&[
        "train",
        "--train",
        t,
        "--target",
        "Machine failure",
        "--name",
        "failure",
    ]);
    assert!(
        err.contains("'Machine failure'") && err.contains("torque_nm"),
        "{err}"
    );
    let constant = h.file("constant.csv", "a,label\n1,0\n2,0\n3,0\n");
    let err = h.fails(&[
        "train",
        "--train",
        constant.to_str().unwrap(),
        "--target",
        "label",
        "--name",
        "failure",
    ]);
    assert!(err.contains("constant"), "{err}");
    let three = h.file("three.csv", "a,label\n1,0\n2,1\n3,2\n4,0\n5,1\n6,2\n");
    let err = h.fails(&[
        "train",
        "--train",
        three.to_str().unwrap(),
        "--target",
        "label",
        "--name",
        "failure",
    ]);
    assert!(err.contains("3 distinct values"), "{err}");
    let err = h.fails(&[
        "train", "--train", t, "--target", "label", "--model", "forest",
    ]);
    assert!(err.contains("forest"), "{err}");
    // No GPU trainer in a CPU build (or no GPU): said plainly, nothing registered.
    let err = h.fails(&[
        "train", "--train", t, "--target", "label", "--device", "cuda", "--name", "failure",
    ]);
    assert!(
        err.contains("needs the candle trainer, which this build does not include"),
        "{err}"
    );
    assert_eq!(versions(&h.home()), 0);

    h.ok(&[
        "train", "--train", t, "--target", "label", "--drop", "id", "--model", "logistic",
        "--name", "failure",
    ]);
    let out = h.dir.path().join("o.csv");
    let o = out.to_str().unwrap();
    let missing = h.file("missing.csv", "type,torque_nm,tool_wear_min\nL,40,100\n");
    let err = h.fails(&[
        "predict",
        "failure",
        "--input",
        missing.to_str().unwrap(),
        "--output",
        o,
    ]);
    assert!(err.contains("'rotational_speed_rpm'"), "{err}");
    let mistyped = h.file(
        "mistyped.csv",
        "type,torque_nm,rotational_speed_rpm,tool_wear_min\nL,40,fast,100\nM,41,slow,10\n",
    );
    let err = h.fails(&[
        "predict",
        "failure",
        "--input",
        mistyped.to_str().unwrap(),
        "--output",
        o,
    ]);
    assert!(err.contains("'rotational_speed_rpm'"), "{err}");
    let empty = h.file(
        "empty.csv",
        "type,torque_nm,rotational_speed_rpm,tool_wear_min\n",
    );
    let err = h.fails(&[
        "predict",
        "failure",
        "--input",
        empty.to_str().unwrap(),
        "--output",
        o,
    ]);
    assert!(err.contains("no rows") || err.contains("empty"), "{err}");
    assert!(!out.exists(), "a failed predict writes no output");
    // A corrupted manifest is refused by name, and a new training does not touch it.
    let manifest = h.home().join("models/failure/1/manifest.json");
    std::fs::write(&manifest, "{ not json").unwrap();
    let err = h.fails(&["predict", "failure@1", "--input", t, "--output", o]);
    assert!(
        err.contains("manifest") && err.contains("corrupted"),
        "{err}"
    );
    let future = h.fails(&["models", "show", "failure"]);
    assert!(future.contains("manifest"), "{future}");
    h.ok(&[
        "train", "--train", t, "--target", "label", "--drop", "id", "--model", "logistic",
        "--name", "failure",
    ]);
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), "{ not json");
    let err = h.fails(&["predict", "failure@9", "--input", t, "--output", o]);
    assert!(err.contains("no version 9"), "{err}");
}
