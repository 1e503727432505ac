//! `millwright report <twin-run>` through the binary, on a stored twin result and model manifest in the
//! formats the twin and the registry write.

mod common;

use std::path::Path;
use std::process::Output;

use common::millwright;

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// A twin run with three policies, 8 replications each, stored by the twin's own writer.
fn write_twin(home: &Path, run: &str, model: Option<&str>) {
    let policies: Vec<(&str, Vec<common::Kpis>)> = ["run-to-failure", "preventive", "predictive"]
        .iter()
        .enumerate()
        .map(|(p, name)| {
            let p = p as f64;
            let reps = (0..8)
                .map(|i| {
                    let i = f64::from(i);
                    [
                        200.0 + 10.0 * p + i,
                        6.0 - p,
                        0.85 + 0.03 * p + 0.002 * i,
                        60.0 - 15.0 * p + i,
                        6.0 - 2.0 * p + (i % 2.0),
                        2.0 * p,
                    ]
                })
                .collect();
            (*name, reps)
        })
        .collect();
    common::store_twin_run(home, run, &policies, model);
}

/// Registers `failure@1` with the registry's own writer: a small logistic model trained through the binary.
fn write_manifest(home: &Path) {
    let mut csv = String::from("torque,wear,failure\n");
    for i in 0..400 {
        let (torque, wear) = (20 + i % 40, (i * 7) % 240);
        csv.push_str(&format!(
            "{torque},{wear},{}\n",
            u8::from(torque * wear > 6000)
        ));
    }
    let file = home.join("failures.csv");
    std::fs::write(&file, csv).unwrap();
    ok(&millwright(
        home,
        &[
            "train",
            "--train",
            file.to_str().unwrap(),
            "--target",
            "failure",
            "--model",
            "logistic",
            "--name",
            "failure",
        ],
    ));
}

#[test]
fn report_for_a_twin_run_carries_the_impact_object_and_every_section() {
    let home = tempfile::tempdir().unwrap();
    write_twin(home.path(), "twin-a", Some("failure@1 (logistic)"));
    write_manifest(home.path());
    let text = ok(&millwright(
        home.path(),
        &["report", "twin-a", "--resamples", "400"],
    ));
    assert!(text.contains("Productivity vs current practice"), "{text}");
    assert!(text.contains("相对现行做法的生产率"), "{text}");
    let html_path = home.path().join("reports/twin-a/report.html");
    assert!(text.contains(&html_path.display().to_string()), "{text}");
    let html = std::fs::read_to_string(&html_path).unwrap();
    for id in [
        "summary",
        "business",
        "sensitivity",
        "model-exam",
        "data-quality",
        "model",
        "policies",
        "threshold",
        "impact",
        "lineage",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    assert!(
        html.contains("failure@1") && html.contains("logistic"),
        "model section"
    );
    // Trained from a file, not a lake dataset: the data-quality section says why.
    assert!(
        html.contains("not a dataset of this home"),
        "data-quality reason"
    );

    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join("reports/twin-a/summary.json")).unwrap(),
    )
    .unwrap();
    let impact: serde_json::Value = serde_json::from_str(&ok(&millwright(
        home.path(),
        &[
            "impact",
            "--from-twin",
            "twin-a",
            "--resamples",
            "400",
            "--json",
        ],
    )))
    .unwrap();
    assert_eq!(summary["impact"], impact);
    assert_eq!(impact["twin"]["baseline_policy"], "preventive");
    let good = |p: f64| (0..8).map(|i| 200.0 + 10.0 * p + f64::from(i)).sum::<f64>();
    let ratio = impact["productivity"]["ratio"]["mean"].as_f64().unwrap();
    assert!((ratio - good(2.0) / good(1.0)).abs() < 1e-12, "{ratio}");
    assert!((impact["f_productivity"]["mean"].as_f64().unwrap() - ratio).abs() < 1e-12);
    let manifest = &common::command(home.path(), &["--json", "models", "show", "failure"])
        .output()
        .unwrap()
        .stdout;
    let manifest: serde_json::Value = serde_json::from_slice(manifest).unwrap();
    assert_eq!(
        summary["model"]["metrics"]["accuracy"],
        manifest[0]["metrics"]["accuracy"]
    );
}

#[test]
fn report_without_a_registered_model_or_baseline() {
    let home = tempfile::tempdir().unwrap();
    write_twin(home.path(), "twin-b", Some("rules"));
    let out = home.path().join("elsewhere");
    ok(&millwright(
        home.path(),
        &[
            "report",
            "twin-b",
            "--resamples",
            "200",
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("used `rules`, not a registered model"),
        "model reason"
    );

    let output = millwright(home.path(), &["report", "twin-b", "--baseline", "reactive"]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("no baseline policy `reactive`"), "{err}");
    let output = millwright(
        home.path(),
        &["report", "twin-b", "--threshold-run", "twin-b"],
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not an optimisation run"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = millwright(home.path(), &["report", "nope"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("twin run `nope` not found"));
}

#[test]
fn the_threshold_lineage_names_the_optimisation_run() {
    let home = tempfile::tempdir().unwrap();
    write_twin(home.path(), "twin-c", Some("rules"));
    let line = home.path().join("line.toml");
    ok(&millwright(
        home.path(),
        &["twin", "init", line.to_str().unwrap()],
    ));
    let search: serde_json::Value = serde_json::from_str(&ok(&millwright(
        home.path(),
        &[
            "--json",
            "twin",
            "optimize",
            line.to_str().unwrap(),
            "--policy",
            "preventive",
            "--parameter",
            "wear-limit",
            "--values",
            "100,180",
            "--replications",
            "1",
            "--horizon",
            "2d",
        ],
    )))
    .unwrap();
    let opt = search["run_id"].as_str().unwrap();
    ok(&millwright(
        home.path(),
        &[
            "report",
            "twin-c",
            "--threshold-run",
            opt,
            "--resamples",
            "100",
        ],
    ));
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.path().join("reports/twin-c/summary.json")).unwrap(),
    )
    .unwrap();
    let row = summary["lineage"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["figure"] == "Optimised threshold")
        .expect("a threshold lineage row");
    let source = row["source"].as_str().unwrap();
    assert!(
        source.contains(opt) && !source.contains("twin-c"),
        "{source}"
    );
}

#[test]
fn reports_and_twin_runs_are_listed_and_deleted_each_on_its_own() {
    let home = tempfile::tempdir().unwrap();
    write_twin(home.path(), "twin-d", Some("rules"));
    ok(&millwright(
        home.path(),
        &["report", "twin-d", "--resamples", "200"],
    ));
    let listed: serde_json::Value =
        serde_json::from_str(&ok(&millwright(home.path(), &["reports", "--json"]))).unwrap();
    assert_eq!(listed[0]["name"], "twin-d", "{listed}");
    // The report goes; the twin run stays, then goes too.
    let said = ok(&millwright(home.path(), &["reports", "delete", "twin-d"]));
    assert_eq!(said, "deleted report twin-d\n");
    assert!(!home.path().join("reports/twin-d").exists());
    assert!(ok(&millwright(home.path(), &["twin", "runs"])).contains("twin-d"));
    ok(&millwright(home.path(), &["twin", "delete", "twin-d"]));
    assert_eq!(ok(&millwright(home.path(), &["twin", "runs"])), "");
    for args in [
        ["twin", "delete", "twin-d"],
        ["reports", "delete", "twin-d"],
        ["reports", "delete", "../etc"],
    ] {
        let output = millwright(home.path(), &args);
        assert!(!output.status.success(), "{args:?}");
    }
}
