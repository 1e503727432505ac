//! Bad input: each case fails with an error naming what and where.

use std::path::Path;
use std::sync::Arc;

use millwright_core::ModelRef;
use millwright_twin::*;

struct ReadsVibration;
impl FailureScorer for ReadsVibration {
    fn input_columns(&self) -> Vec<String> {
        vec!["Torque [Nm]".into(), "Vibration [mm/s]".into()]
    }
    fn score(&self, s: &[SensorSnapshot]) -> Result<Vec<f64>, ScorerError> {
        Ok(vec![0.5; s.len()])
    }
    fn describe(&self) -> String {
        "vibration@3".into()
    }
    fn model(&self) -> Option<ModelRef> {
        Some(ModelRef::new("vibration", 3))
    }
}

struct Broken;
impl FailureScorer for Broken {
    fn input_columns(&self) -> Vec<String> {
        vec!["Torque [Nm]".into()]
    }
    fn score(&self, s: &[SensorSnapshot]) -> Result<Vec<f64>, ScorerError> {
        Ok(vec![1.7; s.len()])
    }
    fn describe(&self) -> String {
        "broken@1".into()
    }
    fn model(&self) -> Option<ModelRef> {
        Some(ModelRef::new("broken", 1))
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
    let e = emit_records(&example(), &EmitOptions::new(0, 1), Vec::new()).unwrap_err();
    assert!(e.to_string().contains("rows"), "{e}");
}

/// A scorer whose model fails, with an error of its own type.
struct Fails;

#[derive(Debug, thiserror::Error)]
#[error("the model's input batch has 2 columns, the model reads 3")]
struct BatchMismatch;

impl FailureScorer for Fails {
    fn input_columns(&self) -> Vec<String> {
        vec!["Torque [Nm]".into()]
    }
    fn score(&self, _: &[SensorSnapshot]) -> Result<Vec<f64>, ScorerError> {
        Err(ScorerError::new(BatchMismatch))
    }
    fn describe(&self) -> String {
        "failing@2 (mlp)".into()
    }
    fn model(&self) -> Option<ModelRef> {
        Some(ModelRef::new("failing", 2))
    }
}

#[test]
fn a_scorer_error_stops_the_run_and_keeps_its_source() {
    let p = Policy::predictive(Arc::new(Fails), 0.5);
    let err = compare(&example(), &[p], &short()).unwrap_err();
    let TwinError::ScoreFailed { model, source } = &err else {
        panic!("{err}")
    };
    assert_eq!(model, "failing@2 (mlp)");
    assert!(source.source.downcast_ref::<BatchMismatch>().is_some());
    assert!(err.to_string().contains("2 columns"), "{err}");
}

#[test]
fn a_line_with_more_stations_than_the_engine_indexes_is_refused() {
    let mut file = Line::parse_file(EXAMPLE_LINE, Path::new("line.toml")).unwrap();
    let station = file.stations[0].clone();
    file.stations = vec![station; MAX_STATIONS + 1];
    file.buffers = vec![1; MAX_STATIONS];
    let err = Line::build(file, "", Path::new("line.toml"), &Default::default()).unwrap_err();
    let TwinError::TooMany {
        section,
        count,
        limit,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(
        (*section, *count, *limit),
        (Section::Stations, 65_536, 65_535)
    );
    assert!(err.to_string().contains("65535"), "{err}");
}

#[test]
fn errors_speak_of_the_line_not_of_command_line_flags() {
    let no_horizon = EXAMPLE_LINE.replace("horizon = \"30d\"", "");
    let l = Line::parse(&no_horizon, Path::new("line.toml")).unwrap();
    let options = RunOptions {
        horizon: None,
        ..short()
    };
    let err = compare(&l, &[Policy::run_to_failure()], &options).unwrap_err();
    assert!(matches!(err, TwinError::NoHorizon), "{err}");
    let needs_model = policy_from_name("predictive", &PolicyParams::default(), &l).unwrap_err();
    assert!(matches!(needs_model, TwinError::PolicyNeedsModel { .. }));
    for e in [err, needs_model] {
        assert!(!e.to_string().contains("--"), "{e}");
    }
}

#[test]
fn a_line_that_never_advances_time_is_refused() {
    let text = "name = \"t\"\ntime_unit = \"min\"\n[[stations]]\nname = \"a\"\nprocess = { dist = \"fixed\", value = 0 }\n";
    let err = Line::parse(text, Path::new("line.toml")).unwrap_err();
    assert!(
        matches!(
            &err,
            TwinError::Invalid {
                section: Section::Stations,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("zero time"), "{err}");
}
