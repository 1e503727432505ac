//! Bad input: each case fails with an error naming what and where.

use std::path::Path;
use std::sync::Arc;

use millwright_twin::*;

struct ReadsVibration;
impl FailureScorer for ReadsVibration {
    fn input_columns(&self) -> Vec<String> {
        vec!["Torque [Nm]".into(), "Vibration [mm/s]".into()]
    }
    fn score(&self, s: &[SensorSnapshot]) -> Result<Vec<f64>, String> {
        Ok(vec![0.5; s.len()])
    }
    fn describe(&self) -> String {
        "vibration@3".into()
    }
}

struct Broken;
impl FailureScorer for Broken {
    fn input_columns(&self) -> Vec<String> {
        vec!["Torque [Nm]".into()]
    }
    fn score(&self, s: &[SensorSnapshot]) -> Result<Vec<f64>, String> {
        Ok(vec![1.7; s.len()])
    }
    fn describe(&self) -> String {
        "broken@1".into()
    }
}

fn example() -> Line {
    Line::parse(EXAMPLE_LINE, Path::new("line.toml")).unwrap()
}

fn short() -> RunOptions {
    RunOptions {
        replications: 2,
        horizon: Some(500.0),
        warmup: Some(0.0),
        ..Default::default()
    }
}

#[test]
fn a_model_reading_columns_the_twin_does_not_produce_is_refused_before_running() {
    let p = Policy::predictive(Arc::new(ReadsVibration), 0.5);
    let err = compare(&example(), &[p], &short()).unwrap_err().to_string();
    assert!(
        err.contains("Vibration [mm/s]") && err.contains("vibration@3"),
        "{err}"
    );
}

#[test]
fn a_scorer_returning_a_non_probability_stops_the_run() {
    let p = Policy::predictive(Arc::new(Broken), 0.5);
    let err = compare(&example(), &[p], &short()).unwrap_err().to_string();
    assert!(err.contains("broken@1") && err.contains("1.7"), "{err}");
}

#[test]
fn zero_horizon_replications_and_bad_parameters_are_refused() {
    let l = example();
    let rtf = [Policy::run_to_failure()];
    let e = compare(
        &l,
        &rtf,
        &RunOptions {
            horizon: Some(0.0),
            ..short()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("horizon must be > 0"), "{e}");
    let e = compare(
        &l,
        &rtf,
        &RunOptions {
            replications: 0,
            ..short()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("replications"), "{e}");
    let e = compare(
        &l,
        &rtf,
        &RunOptions {
            warmup: Some(600.0),
            ..short()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("warm-up"), "{e}");
    let e = compare(&l, &[Policy::preventive(Some(-5.0), None)], &short()).unwrap_err();
    assert!(e.to_string().contains("interval must be > 0"), "{e}");
    let p = Policy::predictive(Arc::new(PhysicsScorer::default()), 1.5);
    let e = compare(&l, &[p], &short()).unwrap_err();
    assert!(e.to_string().contains("threshold"), "{e}");
}

#[test]
fn a_policy_that_maintains_needs_maintenance_durations() {
    let text = EXAMPLE_LINE.replace("maintenance = { dist = \"fixed\", value = 5 }\n", "");
    let l = Line::parse(&text, Path::new("line.toml")).unwrap();
    let e = compare(&l, &[Policy::preventive(Some(100.0), None)], &short()).unwrap_err();
    assert!(
        e.to_string().contains("\"saw\" has no `maintenance`"),
        "{e}"
    );
}

#[test]
fn unknown_fields_are_named() {
    let text = EXAMPLE_LINE.replace("scrap = 0.002", "scrapp = 0.002");
    let line_no = text.lines().position(|l| l.starts_with("scrapp")).unwrap() + 1;
    let e = Line::parse(&text, Path::new("line.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("scrapp") && e.contains(&format!("line {line_no}, column 1:")),
        "{e}"
    );
}

#[test]
fn emitting_zero_rows_is_refused() {
    let e = emit_records(&example(), 0, 1, Vec::new()).unwrap_err();
    assert!(e.to_string().contains("rows"), "{e}");
}
