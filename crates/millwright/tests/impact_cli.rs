//! `millwright impact` through the binary: the worked example, JSON shape, --from-twin intervals, bad input.

mod common;

use std::path::Path;
use std::process::Output;

use common::millwright;

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr_of_failure(output: &Output) -> String {
    assert!(!output.status.success(), "expected failure, got success");
    String::from_utf8(output.stderr.clone()).unwrap()
}

const WORKED_EXAMPLE: [&str; 11] = [
    "impact",
    "--p0",
    "10",
    "--v0",
    "5",
    "--factor",
    "smart_manufacturing=1.2",
    "--factor",
    "smart_services=1.3",
    "--factor",
    "digital_twin=1.4",
];

fn close(value: &serde_json::Value, expected: f64) -> bool {
    (value.as_f64().unwrap() - expected).abs() < 1e-9
}

#[test]
fn worked_example_prints_the_correct_figures() {
    let home = tempfile::tempdir().unwrap();
    let text = stdout(&millwright(home.path(), &WORKED_EXAMPLE));
    // The source document prints 21.6 and 9.36: arithmetic slips.
    for expected in [
        "f_AI   = 2.184",
        "P1     = 21.84",
        "V1     = 10.92",
        "+118.4 %",
        "smart_manufacturing",
        "f = 1.2",
        "digital_twin",
        "f = 1.4",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains("21.6 ") && !text.contains("9.36"), "{text}");
}

#[test]
fn worked_example_as_json() {
    let home = tempfile::tempdir().unwrap();
    let mut args = WORKED_EXAMPLE.to_vec();
    args.push("--json");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&millwright(home.path(), &args))).unwrap();
    assert!(close(&json["f_ai"], 2.184), "{json}");
    assert!(
        close(&json["p0"], 10.0) && close(&json["p1"], 21.84),
        "{json}"
    );
    assert!(
        close(&json["v0"], 5.0) && close(&json["v1"], 10.92),
        "{json}"
    );
    assert!(close(&json["uplift"], 1.184), "{json}");
    let paths = json["paths"].as_array().unwrap();
    let factors: Vec<(&str, f64)> = paths
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["factor"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        factors,
        [
            ("smart_manufacturing", 1.2),
            ("smart_services", 1.3),
            ("digital_twin", 1.4)
        ]
    );
    assert!(paths.iter().all(|p| p["terms"].is_array()));
}

#[test]
fn alpha_terms_and_a_model_file_with_a_user_path() {
    let home = tempfile::tempdir().unwrap();
    let model = home.path().join("impact.toml");
    std::fs::write(
        &model,
        "v0 = 5\n[[path]]\nname = \"energy_management\"\nterms = [\"energy_intensity\"]\n\
         [alpha]\nenergy_management.energy_intensity = 0.1\n",
    )
    .unwrap();
    let output = millwright(
        home.path(),
        &[
            "impact",
            "--json",
            "--p0",
            "10",
            "--model",
            model.to_str().unwrap(),
            "--alpha",
            "smart_manufacturing.production_efficiency=0.15",
            "--alpha",
            "smart_manufacturing.scrap_rate=0.05",
        ],
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    // (1 + 0.15 + 0.05) · 1 · 1 · (1 + 0.1)
    assert!(close(&json["f_ai"], 1.2 * 1.1), "{json}");
    assert!(
        close(&json["p1"], 13.2) && close(&json["v1"], 6.6),
        "{json}"
    );
    let paths = json["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 4);
    assert_eq!(paths[3]["name"], "energy_management");
    assert_eq!(paths[3]["terms"][0]["source"], "user");
    assert!(close(&paths[0]["terms"][0]["alpha"], 0.15));
}

#[test]
fn bad_input_is_refused_with_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["impact", "--p0", "-10", "--v0", "5"], "P0 must be a finite number ≥ 0, got -10 (--p0)"),
        (&["impact", "--p0", "10", "--v0", "-5"], "V0 must be a finite number ≥ 0, got -5 (--v0)"),
        (&["impact", "--p0", "10"], "V0 is missing"),
        (
            &["impact", "--p0", "10", "--v0", "5", "--factor", "digital_twin=0"],
            "factor of path `digital_twin` must be a finite number > 0, got 0",
        ),
        (
            &["impact", "--p0", "10", "--v0", "5", "--factor", "digital_twin=-1.4"],
            "factor of path `digital_twin` must be a finite number > 0, got -1.4",
        ),
        (
            &["impact", "--p0", "10", "--v0", "5", "--factor", "smart_factory=1.2"],
            "unknown path `smart_factory` (--factor smart_factory=1.2); known paths: smart_manufacturing, smart_services, digital_twin",
        ),
        (
            &["impact", "--p0", "10", "--v0", "5", "--factor", "digital_twin"],
            "`digital_twin` (--factor digital_twin): expected PATH=FACTOR",
        ),
    ];
    for (args, expected) in cases {
        let err = stderr_of_failure(&millwright(home.path(), args));
        assert!(
            err.contains(expected),
            "{args:?}: expected {expected:?} in {err}"
        );
    }
}

fn replication(throughput: f64, scrap: f64, downtime: f64, cost: f64) -> common::Kpis {
    [throughput, scrap, downtime, cost]
}

fn write_twin_run(home: &Path, run: &str, policies: &[(&str, Vec<common::Kpis>)]) {
    common::store_twin_run(home, run, policies, None);
}

#[test]
fn from_twin_measures_alpha_with_intervals() {
    let home = tempfile::tempdir().unwrap();
    let baseline: Vec<_> = (0..6)
        .map(|i| replication(100.0 + i as f64, 0.04, 60.0 + 3.0 * i as f64, 10.0))
        .collect();
    let predictive: Vec<_> = (0..6)
        .map(|i| replication(108.0 + 2.0 * i as f64, 0.03, 30.0 + i as f64, 9.0))
        .collect();
    write_twin_run(
        home.path(),
        "twin-cli",
        &[("run-to-failure", baseline), ("predictive", predictive)],
    );
    let args = [
        "impact",
        "--from-twin",
        "twin-cli",
        "--p0",
        "10",
        "--v0",
        "5",
        "--json",
    ];
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&millwright(home.path(), &args))).unwrap();
    for figure in ["f_ai", "p0", "p1", "v0", "v1", "uplift"] {
        let e = &json[figure];
        let (mean, lo, hi) = (
            e["mean"].as_f64().unwrap(),
            e["ci_low"].as_f64().unwrap(),
            e["ci_high"].as_f64().unwrap(),
        );
        assert!(lo <= mean && mean <= hi, "{figure}: {e}");
    }
    // Means: throughput 102.5 → 113, scrap 0.04 → 0.03, downtime 67.5 → 32.5, cost 10 → 9.
    let f_manufacturing = 1.0 + (113.0 / 102.5 - 1.0) + 0.25;
    let f_twin = 1.0 + (1.0 - 32.5 / 67.5) + 0.1;
    let f_ai = f_manufacturing * f_twin;
    assert!(close(&json["f_ai"]["mean"], f_ai), "{}", json["f_ai"]);
    assert!(close(&json["p1"]["mean"], 10.0 * f_ai));
    assert!(close(&json["v1"]["mean"], 5.0 * f_ai));
    assert!(json["f_ai"]["ci_low"].as_f64().unwrap() < json["f_ai"]["ci_high"].as_f64().unwrap());
    let term = &json["paths"][0]["terms"][0];
    assert_eq!(term["source"], "measured");
    assert_eq!(term["measurement"]["kpi"], "throughput");
    assert_eq!(json["paths"][0]["terms"][2]["source"], "user");
    assert_eq!(json["twin"]["run_id"], "twin-cli");

    let text = stdout(&millwright(home.path(), &args[..7]));
    assert!(text.contains("measured: throughput 102.5 → 113"), "{text}");
    assert!(text.contains("95 % CI"), "{text}");
}

#[test]
fn from_twin_without_a_baseline_or_run_is_refused() {
    let home = tempfile::tempdir().unwrap();
    write_twin_run(
        home.path(),
        "only-ai",
        &[("predictive", vec![replication(1.0, 0.0, 1.0, 1.0)])],
    );
    let base = ["--p0", "10", "--v0", "5"];
    let run = |id: &str| {
        let mut args = vec!["impact", "--from-twin", id];
        args.extend(base);
        stderr_of_failure(&millwright(home.path(), &args))
    };
    let err = run("only-ai");
    assert!(
        err.contains(
            "twin run `only-ai` has no baseline policy `run-to-failure`; its policies: predictive"
        ),
        "{err}"
    );
    let err = run("missing");
    assert!(err.contains("twin run `missing` not found"), "{err}");
    let err = run("../etc");
    assert!(err.contains("twin run id \"../etc\" is not valid"), "{err}");
}
