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

fn summary(values: &[f64]) -> serde_json::Value {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let half = 2.0 * sd / n.sqrt();
    serde_json::json!({"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": values.len()})
}

/// A twin run with three policies, 8 replications each, in the layout of `millwright twin compare`; the
/// predictive policy's scorer is `model` (a registered `{"name", "version"}` or null) described as
/// `description`.
fn write_twin(home: &Path, run: &str, model: serde_json::Value, description: &str) {
    let policies: Vec<serde_json::Value> = ["run-to-failure", "preventive", "predictive"]
        .iter()
        .enumerate()
        .map(|(p, name)| {
            let p = p as f64;
            let reps: Vec<serde_json::Value> = (0..8)
                .map(|i| {
                    let i = i as f64;
                    serde_json::json!({
                        "throughput": 20.0 + p + 0.2 * i, "oee": 0.7 + 0.05 * p, "availability": 0.8 + 0.05 * p,
                        "scrap_rate": 0.03 - 0.005 * p, "cost_per_good_part": 5.0 - 0.3 * p + 0.05 * i,
                        "unplanned_downtime": 300.0 - 80.0 * p + 10.0 * i
                    })
                })
                .collect();
            let column = |k: &str| -> Vec<f64> { reps.iter().map(|r| r[k].as_f64().unwrap()).collect() };
            let kpis: serde_json::Map<String, serde_json::Value> =
                ["throughput", "oee", "availability", "scrap_rate", "cost_per_good_part", "unplanned_downtime"]
                    .iter()
                    .map(|k| (k.to_string(), summary(&column(k))))
                    .collect();
            serde_json::json!({
                "policy": name, "description": name,
                "model": if *name == "predictive" { model.clone() } else { serde_json::Value::Null },
                "model_description": if *name == "predictive" { Some(description) } else { None },
                "kpis": kpis, "replications": reps, "throughput_series": [], "gantt": [], "gantt_states": []
            })
        })
        .collect();
    let models: Vec<serde_json::Value> = [model].into_iter().filter(|m| !m.is_null()).collect();
    let result = serde_json::json!({
        "run_id": run, "seed": 3, "replications": 8, "horizon": 43200.0, "warmup": 600.0, "time_unit": "min",
        "line": {"name": "milling-line", "stations": ["mill"], "buffers": [], "sha256": "x"},
        "models": models, "policies": policies
    });
    let dir = home.join("twin").join(run);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("result.json"), result.to_string()).unwrap();
}

fn write_manifest(home: &Path) {
    let dir = home.join("models").join("failure").join("1");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = serde_json::json!({
        "format_version": 1, "name": "failure", "version": 1, "kind": "gbdt", "task": "binary",
        "created": "2026-11-28T17:00:00Z", "target": "Machine failure", "classes": ["0", "1"],
        "threshold": 0.35, "threshold_rule": "max-f1", "pipeline": {}, "architecture": {}, "params": {},
        "metrics": {"threshold": 0.35, "accuracy": 0.981, "precision": 0.8, "recall": 0.7, "f1": 0.75,
                    "roc_auc": 0.97, "pr_auc": 0.8, "confusion_matrix": [[1920, 12], [20, 48]], "rows": 2000},
        "lineage": {"dataset": "milling", "lake_version": 0, "run": "run-x", "code_version": "test"},
        "weights_sha256": ""
    });
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
}

#[test]
fn report_for_a_twin_run_carries_the_impact_object_and_every_section() {
    let home = tempfile::tempdir().unwrap();
    write_twin(
        home.path(),
        "twin-a",
        serde_json::json!({"name": "failure", "version": 1}),
        "failure@1 (gbdt)",
    );
    write_manifest(home.path());
    let text = ok(&millwright(
        home.path(),
        &["report", "twin-a", "--resamples", "400"],
    ));
    assert!(text.contains("Productivity uplift"), "{text}");
    let html_path = home.path().join("reports/twin-a/report.html");
    assert!(text.contains(&html_path.display().to_string()), "{text}");
    let html = std::fs::read_to_string(&html_path).unwrap();
    for id in [
        "summary",
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
        html.contains("failure@1") && html.contains("1920"),
        "model section"
    );
    // No lake in this home: the data-quality section says why.
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
            "--p0",
            "100",
            "--v0",
            "100",
            "--resamples",
            "400",
            "--json",
        ],
    )))
    .unwrap();
    assert_eq!(summary["impact"], impact);
    let f_ai: f64 = impact["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["factor"]["mean"].as_f64().unwrap())
        .product();
    assert!((impact["f_ai"]["mean"].as_f64().unwrap() - f_ai).abs() < 1e-12);
    assert_eq!(summary["model"]["metrics"]["accuracy"], 0.981);
}

#[test]
fn report_without_a_registered_model_or_baseline() {
    let home = tempfile::tempdir().unwrap();
    write_twin(home.path(), "twin-b", serde_json::Value::Null, "rules");
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
