//! Stored runs read back: what `store_result` writes, `load_result` returns whole and `list_results`
//! lists, newest first.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use millwright_twin::*;

fn example() -> Line {
    Line::parse(EXAMPLE_LINE, Path::new("line.toml")).unwrap()
}

fn options() -> RunOptions {
    RunOptions {
        replications: 2,
        horizon: Some(1_000.0),
        warmup: Some(50.0),
        ..Default::default()
    }
}

#[test]
fn a_stored_result_reads_back_equal_and_is_listed() {
    let line = example();
    let home = tempfile::tempdir().unwrap();
    let policies = [
        Policy::run_to_failure(),
        Policy::predictive(Arc::new(PhysicsScorer::default()), 0.4),
    ];
    let compared = compare(&line, &policies, &options()).unwrap();
    let dir = store_result(home.path(), &line, &compared).unwrap();
    assert_eq!(dir, run_dir(home.path(), &compared.run_id).unwrap());
    assert_eq!(
        load_result(home.path(), &compared.run_id).unwrap(),
        compared
    );

    let base = Policy::preventive(None, None);
    let (searched, _) = optimize(
        &line,
        &base,
        Knob::WearLimit,
        &[100.0, 200.0],
        Objective::CostPerGoodPart,
        &options(),
    )
    .unwrap();
    let dir = store_result(home.path(), &line, &searched).unwrap();
    assert!(dir.join("optimization.svg").is_file());
    assert_eq!(
        load_result(home.path(), &searched.run_id).unwrap(),
        searched
    );
    // Make the comparison clearly the older run, whatever the file system's clock resolution.
    let older = SystemTime::now() - Duration::from_secs(60);
    let result = run_dir(home.path(), &compared.run_id)
        .unwrap()
        .join("result.json");
    std::fs::File::options()
        .write(true)
        .open(result)
        .unwrap()
        .set_modified(older)
        .unwrap();
    // An unfinished write is not a run.
    std::fs::create_dir_all(home.path().join("twin/.twin-x.tmp")).unwrap();

    let listed = list_results(home.path()).unwrap();
    let ids: Vec<&str> = listed.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, [searched.run_id.as_str(), compared.run_id.as_str()]);
    assert_eq!(
        listed[1],
        RunSummary {
            run_id: compared.run_id.clone(),
            line: "milling-line".into(),
            policies: vec!["run-to-failure".into(), "predictive".into()],
            replications: 2,
            horizon: 1_000.0,
            time_unit: "min".into(),
            optimization: false,
        }
    );
    assert!(listed[0].optimization);
}

#[test]
fn the_optimisation_is_stored_typed_under_its_old_field_names() {
    let line = example();
    let (result, opt) = optimize(
        &line,
        &Policy::preventive(None, None),
        Knob::WearLimit,
        &[120.0],
        Objective::Throughput,
        &options(),
    )
    .unwrap();
    assert_eq!(result.optimization.as_ref(), Some(&opt));
    let v = serde_json::to_value(&result).unwrap();
    let o = &v["optimization"];
    assert_eq!(o["parameter"], "wear-limit");
    assert_eq!(o["objective"], "throughput");
    assert_eq!(o["points"][0]["value"], 120.0);
    for key in ["mean", "ci_low", "ci_high"] {
        assert!(o["best"][key].is_number(), "{key}");
    }
    assert!(o["base_policy"].is_string());
    let compared = compare(&line, &[Policy::run_to_failure()], &options()).unwrap();
    assert!(serde_json::to_value(&compared)
        .unwrap()
        .get("optimization")
        .is_none());
}
