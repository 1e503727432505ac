//! `millwright demo --quick` end to end through the binary: summary.json must be internally consistent and
//! the report must render in headless Chromium.

#[path = "../../millwright-report/tests/support/chromium.rs"]
mod chromium;

use std::process::Command;

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn demo_quick_writes_a_consistent_summary_and_a_report_that_renders() {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_millwright"))
        .arg("--home")
        .arg(home.path())
        .args(["demo", "--quick", "--json"])
        .env_remove("MILLWRIGHT_HOME")
        .output()
        .expect("run millwright demo");
    assert!(
        output.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let html = home.path().join("reports/demo/report.html");
    let summary_path = home.path().join("reports/demo/summary.json");
    assert_eq!(printed["html"], html.display().to_string());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary_path).unwrap()).unwrap();

    // The headline is measured against the line's current practice, and the α recompose it exactly.
    let impact = &summary["impact"];
    assert_eq!(impact["twin"]["baseline_policy"], "preventive");
    assert_eq!(
        impact["twin"]["baseline_from"],
        "line file (current_policy)"
    );
    assert_eq!(printed["baseline"], "preventive");
    assert!(num(&impact["twin"]["recomposition_error"]) < 1e-9);
    let p_ratio = num(&impact["productivity"]["ratio"]["mean"]);
    assert!((num(&impact["f_productivity"]["mean"]) - p_ratio).abs() < 1e-9);
    let formula = &impact["formula"];
    let product: f64 = formula["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| num(&p["factor"]["mean"]))
        .product();
    assert!((num(&formula["f_ai"]["mean"]) - product).abs() < 1e-9);
    for figure in [
        &impact["productivity"]["ratio"],
        &impact["value"]["difference"],
        &impact["business"]["npv"],
    ] {
        assert!(
            num(&figure["ci_low"]) <= num(&figure["mean"])
                && num(&figure["mean"]) <= num(&figure["ci_high"])
        );
    }
    let run = summary["twin"]["run_id"].as_str().unwrap();
    assert_eq!(impact["twin"]["run_id"], run);
    let drivers = impact["drivers"].as_array().unwrap();
    assert!(drivers.len() >= 3, "{drivers:?}");
    // Price rows and the three simulated rows (failure rates, maintenance, recall).
    let rows = impact["sensitivity"].as_array().unwrap();
    let simulated = rows.iter().filter(|r| r["kind"] == "simulated").count();
    assert_eq!(simulated, 3, "{rows:?}");
    // The model's exam: offline at the threshold the twin used, and inside the twin.
    let exam = &summary["model_exam"];
    assert!(num(&exam["twin"]["recall"]["trials"]) > 0.0, "{exam}");
    assert!(exam["offline"]["recall"]["value"].is_number(), "{exam}");
    // Like for like: the model scored in shadow on run-to-failure's fresh streams, with its lead time.
    assert_eq!(exam["shadow"]["policy"], "run-to-failure", "{exam}");
    assert!(
        num(&exam["shadow"]["rates"]["recall"]["trials"]) > 0.0,
        "{exam}"
    );
    assert!(num(&exam["shadow"]["warned"]["trials"]) > 0.0, "{exam}");

    // The chosen model's metrics are those of the registered model's own manifest and of its candidate row.
    let model = &summary["model"];
    let manifest_path = home.path().join(format!(
        "models/{}/{}/manifest.json",
        model["name"].as_str().unwrap(),
        model["version"]
    ));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(manifest_path).unwrap()).unwrap();
    for key in ["accuracy", "precision", "recall", "roc_auc", "pr_auc"] {
        assert_eq!(model["metrics"][key], manifest["metrics"][key], "{key}");
    }
    // Candidates are compared by cross-validation on the training rows, never by the test split: the chosen
    // one has the best CV score, and only it is registered, once, as a tracked run.
    let candidates = model["candidates"].as_array().unwrap();
    assert!(candidates.len() >= 2, "{candidates:?}");
    let cv = |c: &serde_json::Value| num(&c["metrics"]["cv pr_auc mean"]);
    let chosen: Vec<&serde_json::Value> =
        candidates.iter().filter(|c| c["chosen"] == true).collect();
    assert_eq!(chosen.len(), 1);
    assert!(candidates.iter().all(|c| cv(c) <= cv(chosen[0])));
    let json = |args: &[&str]| -> serde_json::Value {
        let out = Command::new(env!("CARGO_BIN_EXE_millwright"))
            .arg("--home")
            .arg(home.path())
            .arg("--json")
            .args(args)
            .env_remove("MILLWRIGHT_HOME")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let models = json(&["models"]);
    let names: Vec<&str> = models
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["failure"], "the demo registers one model");
    let runs = json(&["runs"]);
    assert_eq!(runs["total"], 1, "the demo's training is a tracked run");
    assert_eq!(
        summary["twin"]["model"],
        format!("{}@{}", model["name"].as_str().unwrap(), model["version"])
    );
    assert!(summary["data_quality"]["rows_written"].as_u64().unwrap() > 0);
    assert_eq!(summary["data_quality"]["dataset"], model["dataset"]);
    assert!(
        summary["twin"]["threshold"]["points"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
    let policies: Vec<&str> = summary["twin"]["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert_eq!(policies, ["run-to-failure", "preventive", "predictive"]);

    if chromium::chromium().is_none() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let check = chromium::open(&html, work.path());
    assert!(check.errors.is_empty(), "page errors: {:?}", check.errors);
    assert!(check.console.is_empty(), "console: {:?}", check.console);
    assert_eq!(
        check.sections,
        [
            "summary",
            "business",
            "sensitivity",
            "model-exam",
            "data-quality",
            "model",
            "policies",
            "threshold",
            "impact",
            "lineage"
        ]
    );
    assert!(check.images.len() >= 10, "{} images", check.images.len());
    for image in &check.images {
        assert!(
            !image.alt.is_empty()
                && image.w > 0
                && image.h > 0
                && image.box_w > 0.0
                && image.box_h > 0.0,
            "image not rendered: {image:?}"
        );
    }
}
