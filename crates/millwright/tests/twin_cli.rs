//! `millwright twin` through the binary: init, run/compare JSON and stored results, emit → train →
//! predictive with a registered model, optimize, and bad input that stores nothing.

mod common;

use std::path::Path;
use std::process::Output;

use common::millwright;

fn json_of(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object on stdout")
}

fn failure(output: &Output) -> String {
    assert!(!output.status.success(), "expected failure, got success");
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn stored_runs(home: &Path) -> usize {
    std::fs::read_dir(home.join("twin"))
        .map(std::iter::Iterator::count)
        .unwrap_or(0)
}

fn init(dir: &Path) -> String {
    let line = dir.join("line.toml");
    let out = millwright(&dir.join("home"), &["twin", "init", line.to_str().unwrap()]);
    assert!(out.status.success());
    line.to_str().unwrap().to_string()
}

#[test]
fn run_prints_one_object_and_stores_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let line = init(dir.path());
    let v = json_of(&millwright(
        &home,
        &[
            "--json",
            "twin",
            "run",
            &line,
            "--policy",
            "preventive",
            "--interval",
            "180min",
            "--replications",
            "3",
            "--horizon",
            "2d",
            "--warmup",
            "4h",
            "--seed",
            "7",
            "--threads",
            "1",
        ],
    ));
    assert_eq!(v["seed"], 7);
    assert_eq!(v["replications"], 3);
    assert_eq!(v["time_unit"], "min");
    assert_eq!(v["horizon"], 2880.0);
    let p = &v["policies"][0];
    assert_eq!(p["policy"], "preventive");
    for k in [
        "throughput",
        "oee",
        "availability",
        "performance",
        "quality",
        "scrap_rate",
        "cost_per_good_part",
        "unplanned_downtime",
        "mtbf",
        "mttr",
        "failures",
        "maintenance_actions",
        "wip",
    ] {
        let s = &p["kpis"][k];
        assert!(
            s["mean"].is_number() && s["ci_low"].is_number() && s["ci_high"].is_number(),
            "{k}: {s}"
        );
    }
    assert_eq!(p["replications"].as_array().unwrap().len(), 3);
    let run_dir = home.join("twin").join(v["run_id"].as_str().unwrap());
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("result.json")).unwrap()).unwrap();
    assert_eq!(stored, v);
    assert!(run_dir.join("line.toml").is_file() && run_dir.join("kpis.png").is_file());
    // Re-running init over an existing file needs --force.
    let again = millwright(&home, &["twin", "init", &line]);
    assert!(failure(&again).contains("--force"));
}

#[test]
fn emit_train_and_compare_with_the_registered_model() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let line = init(dir.path());
    let csv = dir.path().join("milling.csv");
    let out = millwright(
        &home,
        &[
            "twin",
            "emit",
            &line,
            "--rows",
            "3000",
            "--out",
            csv.to_str().unwrap(),
            "--seed",
            "2",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("UDI,Product ID,Type,Air temperature [K],Process temperature [K],Rotational speed [rpm],Torque [Nm],Tool wear [min],Machine failure,TWF,HDF,PWF,OSF,RNF\n"));
    assert_eq!(text.lines().count(), 3001);
    let trained = millwright(
        &home,
        &[
            "--json",
            "train",
            "--train",
            csv.to_str().unwrap(),
            "--target",
            "Machine failure",
            "--drop",
            "UDI,Product ID,TWF,HDF,PWF,OSF,RNF",
            "--model",
            "gbdt",
            "--name",
            "failure",
        ],
    );
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );
    let v = json_of(&millwright(
        &home,
        &[
            "--json",
            "twin",
            "compare",
            &line,
            "--policies",
            "run-to-failure,preventive,predictive",
            "--wear-limit",
            "150",
            "--model",
            "failure@latest",
            "--threshold",
            "0.4",
            "--replications",
            "3",
            "--horizon",
            "2d",
        ],
    ));
    let names: Vec<&str> = v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["run-to-failure", "preventive", "predictive"]);
    assert_eq!(
        v["policies"][2]["model"],
        serde_json::json!({"name": "failure", "version": 1})
    );
    assert!(v["policies"][2]["model_description"]
        .as_str()
        .unwrap()
        .contains("failure@1"));
    let acted = v["policies"][2]["kpis"]["maintenance_actions"]["mean"]
        .as_f64()
        .unwrap();
    assert!(acted > 0.0, "the model never triggered maintenance");
    assert_eq!(
        v["policies"][2]["threshold"],
        serde_json::json!({"value": 0.4, "source": "given"})
    );
    assert!(v["policies"][1]["threshold"].is_null());
    // Optimising the threshold stores the curve; two values put the best on an edge, which is warned of.
    let o = json_of(&millwright(
        &home,
        &[
            "--json",
            "twin",
            "optimize",
            &line,
            "--policy",
            "predictive",
            "--model",
            "failure@latest",
            "--values",
            "0.2,0.6",
            "--replications",
            "2",
            "--horizon",
            "1d",
            "--warmup",
            "2h",
        ],
    ));
    assert_eq!(o["optimization"]["points"].as_array().unwrap().len(), 2);
    let dir = home.join("twin").join(o["run_id"].as_str().unwrap());
    assert!(dir.join("optimization.png").is_file() && dir.join("optimization.svg").is_file());
    assert_eq!(o["optimization"]["warnings"][0]["kind"], "best-on-edge");
    assert_eq!(o["policies"][0]["threshold"]["source"], "searched");
    let text = millwright(
        &home,
        &[
            "twin",
            "optimize",
            &line,
            "--policy",
            "predictive",
            "--model",
            "failure@latest",
            "--values",
            "0.2,0.6",
            "--replications",
            "2",
            "--horizon",
            "1d",
            "--warmup",
            "2h",
        ],
    );
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("\nwarning: the best threshold"), "{stdout}");
    // Without --threshold the model's registered threshold is used and said.
    let own = json_of(&millwright(
        &home,
        &[
            "--json",
            "twin",
            "compare",
            &line,
            "--policies",
            "predictive",
            "--model",
            "failure@latest",
            "--replications",
            "1",
            "--horizon",
            "1d",
            "--warmup",
            "2h",
        ],
    ));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.join("models/failure/1/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        own["policies"][0]["threshold"]["value"],
        manifest["threshold"]
    );
    assert_eq!(own["policies"][0]["threshold"]["source"], "model");
}

#[test]
fn bad_input_is_named_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let line = init(dir.path());
    let example = std::fs::read_to_string(&line).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let run = |file: &str, extra: &[&str]| {
        let mut args = vec!["twin", "run", file, "--replications", "2"];
        if !extra.contains(&"--horizon") {
            args.extend_from_slice(&["--horizon", "2d"]);
        }
        args.extend_from_slice(extra);
        failure(&millwright(&home, &args))
    };
    let no_stations = write(
        "empty.toml",
        "name = \"x\"\ntime_unit = \"min\"\nstations = []\n",
    );
    assert!(run(&no_stations, &[]).contains("no stations"));
    let zero = write(
        "zero.toml",
        &example.replace("buffers = [10, 10, 10, 10]", "buffers = [10, 0, 10, 10]"),
    );
    assert!(run(&zero, &[]).contains("buffers[1]"));
    let negative = write(
        "neg.toml",
        &example.replace("buffers = [10, 10, 10, 10]", "buffers = [10, 10, -2, 10]"),
    );
    assert!(run(&negative, &[]).contains("buffers[2]"));
    let bad_dist = write(
        "dist.toml",
        &example.replace(
            "{ dist = \"exponential\", mean = 0.7 }",
            "{ dist = \"exponential\", mean = -0.7 }",
        ),
    );
    let e = run(&bad_dist, &[]);
    assert!(e.contains("deburr") && e.contains("mean"), "{e}");
    let min_max = write(
        "minmax.toml",
        &example.replace("min = 0.5, max = 0.9", "min = 0.9, max = 0.5"),
    );
    assert!(run(&min_max, &[]).contains("must not exceed max"));
    let syntax = write(
        "syntax.toml",
        &example.replace("name = \"saw\"", "name = \"saw"),
    );
    assert!(run(&syntax, &[]).contains("line 18, column"));
    assert!(run(&line, &["--horizon", "0"]).contains("horizon must be > 0"));
    let e = run(
        &line,
        &["--policy", "predictive", "--model", "nothing@latest"],
    );
    assert!(e.contains("nothing"), "{e}");
    // A model trained on a column the twin does not produce.
    let csv = write(
        "vib.csv",
        &(0..200)
            .map(|i| {
                format!(
                    "{},{},{}\n",
                    i as f64 * 0.1,
                    30 + i % 20,
                    u8::from(i % 7 == 0)
                )
            })
            .fold(
                String::from("Vibration [mm/s],Torque [Nm],label\n"),
                |a, b| a + &b,
            ),
    );
    let t = millwright(
        &home,
        &[
            "train", "--train", &csv, "--target", "label", "--model", "logistic", "--name", "vib",
        ],
    );
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));
    let e = run(&line, &["--policy", "predictive", "--model", "vib@latest"]);
    assert!(e.contains("Vibration [mm/s]"), "{e}");
    assert_eq!(stored_runs(&home), 0, "a failed run stored something");
}

#[test]
fn empirical_distributions_read_lake_columns() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let line = init(dir.path());
    let csv = dir.path().join("repairs.csv");
    let rows: String = (0..60).map(|i| format!("{}\n", 15 + i % 11)).collect();
    std::fs::write(&csv, format!("minutes\n{rows}")).unwrap();
    let ingest = millwright(
        &home,
        &["ingest", csv.to_str().unwrap(), "--dataset", "repairs"],
    );
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    let text = std::fs::read_to_string(&line).unwrap().replace(
        "repair = { dist = \"exponential\", mean = 20 }",
        "repair = { dist = \"empirical\", dataset = \"repairs\", column = \"minutes\" }",
    );
    let lake_line = dir.path().join("lake.toml");
    std::fs::write(&lake_line, &text).unwrap();
    let lake_line = lake_line.to_str().unwrap();
    let v = json_of(&millwright(
        &home,
        &[
            "--json",
            "twin",
            "run",
            lake_line,
            "--replications",
            "2",
            "--horizon",
            "2d",
        ],
    ));
    let inputs = v["line"]["lake_inputs"][0].as_str().unwrap();
    assert!(
        inputs.contains("deburr") && inputs.contains("repairs"),
        "{inputs}"
    );
    let missing = text.replace("column = \"minutes\"", "column = \"hours\"");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, missing).unwrap();
    let e = failure(&millwright(
        &home,
        &["twin", "run", bad.to_str().unwrap(), "--horizon", "2d"],
    ));
    assert!(e.contains("hours"), "{e}");
}

#[test]
fn a_comparison_with_current_practice_prints_its_business_case() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let line = init(dir.path());
    let compare = |policies: &str| {
        let out = millwright(
            &home,
            &[
                "twin",
                "compare",
                &line,
                "--policies",
                policies,
                "--model",
                "rules",
                "--replications",
                "2",
                "--horizon",
                "2d",
            ],
        );
        assert!(out.status.success(), "{}", failure(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // The example line declares preventive as current practice and a [business] table.
    let text = compare("preventive,predictive");
    for expected in [
        "Productivity vs current practice / 相对现行做法的生产率",
        "(predictive vs preventive, the plant's current practice)",
        "Payback / 投资回收期",
        "investment 120,000 EUR",
        "millwright impact --from-twin twin-",
    ] {
        assert!(text.contains(expected), "{expected:?} missing in\n{text}");
    }
    // Without current practice in the run there is nothing to compare with.
    let text = compare("run-to-failure,predictive");
    assert!(!text.contains("Payback"), "{text}");
}
