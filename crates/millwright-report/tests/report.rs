//! A report built from a complete fixture: files, sections, self-containment, summary consistency, and the
//! page as headless Chromium renders it.

mod support {
    pub mod chromium;
}

use std::collections::BTreeMap;
use std::path::Path;

use millwright_impact::{
    impact_from_twin, Assumptions, Estimate, Given, ImpactModel, PolicyRuns, ReplicationKpis,
    TwinComparison, TwinRuns,
};
use millwright_plot::plotters::prelude::*;
use millwright_report::{
    build, Candidate, ColumnQuality, ColumnStats, Curve, DataQuality, ImageRef, ModelSummary,
    PolicyKpis, ReportInput, Summary, ThresholdPoint, ThresholdSearch, TwinSummary, SECTIONS,
};

const POLICIES: [&str; 3] = ["run-to-failure", "preventive", "predictive"];

fn twin_json() -> serde_json::Value {
    let policies: Vec<_> = POLICIES
        .iter()
        .enumerate()
        .map(|(p, name)| {
            let reps: Vec<_> = (0..10)
                .map(|i| {
                    let i = i as f64;
                    serde_json::json!({
                        "throughput": 100.0 + 5.0 * p as f64 + i,
                        "scrap_rate": 0.04 - 0.005 * p as f64,
                        "unplanned_downtime": 60.0 - 15.0 * p as f64 + 2.0 * i,
                        "cost_per_good_part": 10.0 - 0.4 * p as f64 + 0.05 * i,
                        "oee": 0.7 + 0.05 * p as f64
                    })
                })
                .collect();
            serde_json::json!({"policy": name, "kpis": {}, "replications": reps})
        })
        .collect();
    serde_json::json!({"run_id": "twin-fixture", "seed": 11, "replications": 10, "horizon": 8760.0,
        "time_unit": "h", "line": {"name": "milling"}, "policies": policies})
}

/// The replications of the fixture as the impact model takes them.
fn runs_of(twin: &serde_json::Value) -> TwinRuns {
    let kpi = |r: &serde_json::Value, k: &str| r[k].as_f64().unwrap();
    TwinRuns {
        run_id: twin["run_id"].as_str().unwrap().to_owned(),
        seed: twin["seed"].as_u64(),
        policies: twin["policies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| PolicyRuns {
                policy: p["policy"].as_str().unwrap().to_owned(),
                replications: p["replications"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| ReplicationKpis {
                        throughput: kpi(r, "throughput"),
                        scrap_rate: kpi(r, "scrap_rate"),
                        unplanned_downtime: kpi(r, "unplanned_downtime"),
                        cost_per_good_part: kpi(r, "cost_per_good_part"),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn kpis_of(twin: &serde_json::Value, policy: usize) -> BTreeMap<String, Estimate> {
    let reps = twin["policies"][policy]["replications"].as_array().unwrap();
    let mut out = BTreeMap::new();
    for kpi in [
        "throughput",
        "scrap_rate",
        "unplanned_downtime",
        "cost_per_good_part",
        "oee",
    ] {
        let values: Vec<f64> = reps.iter().map(|r| r[kpi].as_f64().unwrap()).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let spread = values.iter().map(|v| (v - mean).abs()).fold(0.0, f64::max) / 3.0;
        out.insert(
            kpi.to_owned(),
            Estimate {
                mean,
                ci_low: mean - spread,
                ci_high: mean + spread,
            },
        );
    }
    out
}

/// A PNG "training plot" as the learn side would write one.
fn write_png(path: &Path) {
    let root = BitMapBackend::new(path, (320, 200)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    root.draw(&Rectangle::new([(20, 20), (300, 180)], BLUE.filled()))
        .unwrap();
    root.present().unwrap();
}

fn stats(missing: u64, mean: f64) -> ColumnStats {
    ColumnStats {
        count: 1000 - missing,
        missing,
        distinct: 900,
        min: Some(serde_json::json!(295.3)),
        max: Some(serde_json::json!(304.5)),
        mean: Some(mean),
        std: Some(2.0),
    }
}

pub fn fixture(dir: &Path) -> ReportInput {
    let json = twin_json();
    let twin = runs_of(&json);
    let mut assumptions = Assumptions::default();
    assumptions.set_p0(Given::new(100.0, "--p0")).unwrap();
    assumptions.set_v0(Given::new(100.0, "--v0")).unwrap();
    let impact = impact_from_twin(
        &ImpactModel::standard(),
        &assumptions,
        &twin,
        &TwinComparison {
            resamples: 300,
            ..TwinComparison::default()
        },
    )
    .unwrap();
    let png = dir.join("loss.png");
    write_png(&png);
    let metrics: BTreeMap<String, f64> = [("accuracy", 0.97), ("recall", 0.81), ("roc_auc", 0.96)]
        .map(|(k, v)| (k.to_owned(), v))
        .into();
    ReportInput {
        title: "Millwright report <fixture>".into(),
        generated_at: "2026-11-28T17:00:00Z".into(),
        millwright_version: "0.1.0".into(),
        data_quality: Some(DataQuality {
            dataset: "ai4i".into(),
            lake_version: Some(1),
            ingest_id: "ing-1".into(),
            source: None,
            rows_read: 1010,
            rows_written: 1000,
            rows_quarantined: 10,
            quarantined_by_reason: [
                ("out of bounds".to_owned(), 7),
                ("unparsable".to_owned(), 3),
            ]
            .into(),
            duplicates_removed: 2,
            columns: vec![ColumnQuality {
                name: "Air temperature [K]".into(),
                kind: "float".into(),
                before: stats(12, 300.1),
                after: stats(0, 300.0),
                actions: serde_json::json!({"missing_rule": "median", "filled": 12, "dropped_missing": 0}),
            }],
            constant_columns: vec![],
            empty_columns: vec![],
        }),
        model: Some(ModelSummary {
            name: "failure".into(),
            version: 2,
            kind: "gbdt".into(),
            target: "Machine failure".into(),
            run_id: Some("run-7".into()),
            dataset: "ai4i".into(),
            lake_version: Some(1),
            threshold: 0.3,
            threshold_rule: "max f1".into(),
            metrics: metrics.clone(),
            confusion_matrix: Some([[1900, 30], [12, 58]]),
            curves: vec![Curve {
                title: "ROC".into(),
                x_label: "false positive rate".into(),
                y_label: "true positive rate".into(),
                note: "AUC 0.96".into(),
                points: vec![(0.0, 0.0), (0.05, 0.7), (0.2, 0.9), (1.0, 1.0)],
                diagonal: true,
            }],
            images: vec![ImageRef {
                title: "training loss".into(),
                path: png,
            }],
            candidates: vec![
                Candidate {
                    name: "failure-mlp".into(),
                    kind: "mlp".into(),
                    metrics: metrics.clone(),
                    chosen: false,
                },
                Candidate {
                    name: "failure@2".into(),
                    kind: "gbdt".into(),
                    metrics,
                    chosen: true,
                },
            ],
        }),
        twin: TwinSummary {
            run_id: "twin-fixture".into(),
            seed: Some(11),
            replications: 10,
            horizon: 8760.0,
            time_unit: "h".into(),
            line: "milling".into(),
            model: Some("failure@2".into()),
            baseline_policy: "run-to-failure".into(),
            ai_policy: "predictive".into(),
            policies: (0..3)
                .map(|p| PolicyKpis {
                    policy: POLICIES[p].into(),
                    kpis: kpis_of(&json, p),
                })
                .collect(),
            threshold: Some(ThresholdSearch {
                run_id: "twin-threshold".into(),
                best: 0.3,
                objective: "cost_per_good_part".into(),
                minimise: true,
                points: (1..=9)
                    .map(|i| {
                        let t = i as f64 / 10.0;
                        let v = 9.0 + (t - 0.3).powi(2);
                        ThresholdPoint {
                            threshold: t,
                            value: Estimate {
                                mean: v,
                                ci_low: v - 0.1,
                                ci_high: v + 0.1,
                            },
                        }
                    })
                    .collect(),
            }),
            images: vec![],
        },
        impact,
        unavailable: BTreeMap::new(),
        notes: vec![],
    }
}

#[test]
fn report_is_one_self_contained_file_with_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture(dir.path());
    let (files, summary) = build(input.clone(), &dir.path().join("out")).unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap();
    for (id, heading) in SECTIONS {
        assert!(
            html.contains(&format!("<section id=\"{id}\">")),
            "section {id}"
        );
        assert!(html.contains(heading), "{heading}");
    }
    // Self-contained: no reference to any other file or host, no script.
    for forbidden in ["http://", "https://", "src=\"file", "<script", "<link"] {
        assert!(!html.contains(forbidden), "report contains {forbidden:?}");
    }
    assert!(html.contains("&lt;fixture&gt;"), "title must be escaped");
    // 1 quarantine chart + ROC + loss PNG + 5 KPI charts + threshold + 2 impact charts.
    assert_eq!(html.matches("<img src=\"data:image/").count(), 11);
    assert!(html.contains("data:image/png;base64,"));

    // summary.json carries the same numbers as the page and as `impact --from-twin --json`. Both sides go
    // through the same text → JSON parse (serde_json's default float parsing may differ in the last bit).
    let text = std::fs::read_to_string(&files.summary).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let reparse = |v: serde_json::Value| -> serde_json::Value {
        serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap()
    };
    assert_eq!(json, reparse(serde_json::to_value(&summary).unwrap()));
    assert_eq!(
        json["impact"],
        reparse(serde_json::to_value(&input.impact).unwrap())
    );
    let read: Summary = serde_json::from_str(&text).unwrap();
    let f_ai: f64 = read
        .input
        .impact
        .paths
        .iter()
        .map(|p| p.factor.mean)
        .product();
    assert!((read.input.impact.f_ai.mean - f_ai).abs() < 1e-12);
    assert!((read.input.impact.p1.mean - read.input.impact.p0.mean * f_ai).abs() < 1e-9);
    assert_eq!(read.headline[0].value, read.input.impact.uplift);
    let keys: Vec<&str> = read.headline.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "productivity_uplift",
            "unplanned_downtime_reduction",
            "cost_per_good_part_reduction"
        ]
    );
    let figures: Vec<&str> = read.lineage.iter().map(|l| l.figure.as_str()).collect();
    assert_eq!(
        figures,
        [
            "Data quality",
            "Model metrics, curves and confusion matrix",
            "Policy comparison",
            "Optimised threshold",
            "Productivity impact"
        ]
    );
    assert!(
        read.lineage[1].source.contains("failure@2") && read.lineage[1].source.contains("run-7")
    );
    assert!(read.lineage[4].source.contains("twin run twin-fixture"));
    assert!(html.contains(&millwright_impact::format_number(
        read.input.impact.f_ai.mean
    )));
}

#[test]
fn missing_sections_say_why_and_a_bad_image_names_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = fixture(dir.path());
    input.data_quality = None;
    input.twin.threshold = None;
    input.unavailable.insert(
        "data-quality".into(),
        "no quality report for dataset `x`".into(),
    );
    let (files, _) = build(input.clone(), &dir.path().join("out")).unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap();
    assert!(html.contains("Not available: no quality report for dataset `x`."));
    assert!(html.contains("model's own decision threshold, 0.3"));

    input.model.as_mut().unwrap().images[0].path = dir.path().join("gone.png");
    let err = build(input, &dir.path().join("out2"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("gone.png"), "{err}");
}

#[test]
fn report_renders_in_headless_chromium() {
    if support::chromium::chromium().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = build(fixture(dir.path()), &dir.path().join("out")).unwrap();
    let check = support::chromium::open(&files.html, dir.path());
    assert!(check.errors.is_empty(), "page errors: {:?}", check.errors);
    assert!(
        check.console.is_empty(),
        "console messages: {:?}",
        check.console
    );
    let expected: Vec<&str> = SECTIONS.iter().map(|(id, _)| *id).collect();
    assert_eq!(check.sections, expected);
    assert_eq!(check.images.len(), 11);
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

/// The probe itself must be able to fail: an image from the network is blocked and reported.
#[test]
fn chromium_probe_catches_a_network_image() {
    if support::chromium::chromium().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = build(fixture(dir.path()), &dir.path().join("out")).unwrap();
    let html = std::fs::read_to_string(&files.html).unwrap().replacen(
        "</body>",
        "<img alt=\"remote\" src=\"https://example.invalid/x.png\"></body>",
        1,
    );
    std::fs::write(&files.html, html).unwrap();
    let check = support::chromium::open(&files.html, dir.path());
    assert!(!check.errors.is_empty(), "a blocked image must be reported");
    let remote = check.images.iter().find(|i| i.alt == "remote").unwrap();
    assert_eq!(remote.w, 0);
}
