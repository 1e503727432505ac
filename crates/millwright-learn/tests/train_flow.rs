//! End to end through the library: train → registry → load → predict, and the bad inputs of issue 3.

mod common;

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use millwright_learn::error::LearnError;
use millwright_learn::mlp::MlpConfig;
use millwright_learn::model::ModelKind;
use millwright_learn::registry::{self, Model};
use millwright_learn::train::{self, KindChoice, NoObserver, TaskChoice, TrainRequest};
use rand::{Rng, SeedableRng};

/// Machines of three types; failures when torque·wear is high (about 10 % of rows).
fn machines(n: usize, seed: u64) -> RecordBatch {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let (mut id, mut kind, mut torque, mut wear, mut label) =
        (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..n {
        let t: f64 = rng.random_range(20.0..60.0);
        let w: f64 = rng.random_range(0.0..250.0);
        id.push(i as i64);
        kind.push(["L", "M", "H"][i % 3]);
        torque.push(t);
        wear.push(w);
        label.push(i64::from(t * w > 9_000.0 || rng.random::<f64>() < 0.01));
    }
    batch(vec![
        ("id", Arc::new(Int64Array::from(id)) as ArrayRef),
        ("type", Arc::new(StringArray::from(kind))),
        ("torque", Arc::new(Float64Array::from(torque))),
        ("wear", Arc::new(Float64Array::from(wear))),
        ("failure", Arc::new(Int64Array::from(label))),
    ])
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(
        cols.iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect()).unwrap()
}

fn request(kind: ModelKind) -> TrainRequest {
    let mut req = TrainRequest::new("failure", "failure");
    req.kind = KindChoice::One(kind);
    req.drop = vec!["id".into()];
    req.mlp = MlpConfig {
        epochs: 15,
        ..MlpConfig::default()
    };
    req
}

#[test]
fn every_kind_trains_registers_and_predicts_the_same_after_loading() {
    let home = tempfile::tempdir().unwrap();
    let data = machines(1200, 1);
    for (i, kind) in [ModelKind::Logistic, ModelKind::Gbdt, ModelKind::Mlp]
        .into_iter()
        .enumerate()
    {
        let out = train::train(
            home.path(),
            &request(kind),
            &data,
            None,
            None,
            &mut NoObserver,
        )
        .unwrap();
        assert_eq!(out.manifest.version, i as u32 + 1);
        assert_eq!(out.test_rows, 240);
        let train::TestMetrics::Binary(m) = &out.test else {
            panic!("binary task")
        };
        assert!(m.roc_auc > 0.85, "{kind}: ROC-AUC {}", m.roc_auc);
        assert_eq!(m.confusion_matrix.iter().flatten().sum::<usize>(), 240);
        let model = Model::load(home.path(), &format!("failure@{}", i + 1)).unwrap();
        assert_eq!(model.manifest.kind, kind);
        let names: Vec<&str> = model
            .input_columns()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, vec!["type", "torque", "wear"]);
        // The loaded model reproduces the in-process test predictions on the same rows.
        let p = model.predict_batch(&data).unwrap();
        assert_eq!(p.len(), 1200);
        assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
        let json = train::summary_json(&out);
        for key in [
            "accuracy",
            "precision",
            "recall",
            "f1",
            "roc_auc",
            "pr_auc",
            "log_loss",
            "confusion_matrix",
        ] {
            assert!(json["test"].get(key).is_some(), "--json lacks test.{key}");
        }
        assert_eq!(json["model"], format!("failure@{}", i + 1));
    }
    assert_eq!(
        registry::list(home.path(), Some("failure")).unwrap().len(),
        3
    );
}

#[test]
fn auto_with_search_and_cv_keeps_the_best_and_a_max_f1_threshold() {
    let home = tempfile::tempdir().unwrap();
    let mut req = request(ModelKind::Mlp);
    req.kind = KindChoice::Auto;
    req.cv = Some(3);
    req.search = 3;
    req.mlp.epochs = 5;
    let out = train::train(
        home.path(),
        &req,
        &machines(900, 2),
        None,
        None,
        &mut NoObserver,
    )
    .unwrap();
    assert_eq!(out.cv.len(), 6, "3 defaults + 3 trials");
    assert!(out.cv.windows(2).all(|w| w[0].mean >= w[1].mean));
    assert_eq!(out.manifest.kind, out.cv[0].kind);
    assert!(out.manifest.threshold != 0.5);
    assert_eq!(out.cv[0].folds.len(), 3);
}

#[test]
fn seeded_training_is_reproducible() {
    let home = tempfile::tempdir().unwrap();
    let data = machines(600, 3);
    let a = train::train(
        home.path(),
        &request(ModelKind::Mlp),
        &data,
        None,
        None,
        &mut NoObserver,
    )
    .unwrap();
    let b = train::train(
        home.path(),
        &request(ModelKind::Mlp),
        &data,
        None,
        None,
        &mut NoObserver,
    )
    .unwrap();
    assert_eq!(a.test_pred, b.test_pred);
}

#[test]
fn balanced_weights_raise_recall_on_rare_failures() {
    let home = tempfile::tempdir().unwrap();
    let data = machines(1500, 4);
    let plain = train::train(
        home.path(),
        &request(ModelKind::Logistic),
        &data,
        None,
        None,
        &mut NoObserver,
    )
    .unwrap();
    let mut req = request(ModelKind::Logistic);
    req.balanced = true;
    let weighted = train::train(home.path(), &req, &data, None, None, &mut NoObserver).unwrap();
    let recall = |o: &train::TrainOutcome| match &o.test {
        train::TestMetrics::Binary(m) => m.recall,
        _ => unreachable!(),
    };
    assert!(
        recall(&weighted) > recall(&plain),
        "{} vs {}",
        recall(&weighted),
        recall(&plain)
    );
}

#[test]
fn multiclass_and_regression_heads_train() {
    let home = tempfile::tempdir().unwrap();
    let data = machines(600, 5);
    let mut req = request(ModelKind::Mlp);
    req.target = "type".into();
    req.task = TaskChoice::Multiclass;
    req.drop = vec!["id".into(), "failure".into()];
    req.name = "kind".into();
    let out = train::train(home.path(), &req, &data, None, None, &mut NoObserver).unwrap();
    assert!(matches!(out.test, train::TestMetrics::Multiclass(_)));
    // A quantity driven by torque (the `id` column replaced by it as the target).
    let torque = data
        .column(2)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .clone();
    let load: Vec<f64> = torque.values().iter().map(|t| 3.0 * t + 1.0).collect();
    let with_load = replace(&data, "id", Arc::new(Float64Array::from(load)));
    for kind in [ModelKind::Gbdt, ModelKind::Mlp] {
        let mut req = request(kind);
        req.target = "id".into();
        req.drop = vec![];
        req.task = TaskChoice::Regression;
        req.name = "load".into();
        let out = train::train(home.path(), &req, &with_load, None, None, &mut NoObserver).unwrap();
        let train::TestMetrics::Regression(r) = out.test else {
            panic!()
        };
        assert!(r.r2 > 0.9, "{kind}: {r:?}");
    }
}

fn replace(b: &RecordBatch, name: &str, array: ArrayRef) -> RecordBatch {
    let i = b.schema().index_of(name).unwrap();
    let mut cols = b.columns().to_vec();
    cols[i] = array.clone();
    let mut fields: Vec<Field> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields[i] = Field::new(name, array.data_type().clone(), true);
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

#[test]
fn bad_training_inputs_are_clear_errors_and_write_nothing() {
    let home = tempfile::tempdir().unwrap();
    let data = machines(300, 6);
    let run = |req: &TrainRequest, b: &RecordBatch| {
        train::train(home.path(), req, b, None, None, &mut NoObserver)
    };
    let mut req = request(ModelKind::Logistic);
    req.target = "Machine failure".into();
    let err = run(&req, &data).unwrap_err();
    assert!(
        matches!(err, LearnError::TargetMissing(..)) && err.to_string().contains("torque"),
        "{err}"
    );
    let constant = replace(&data, "failure", Arc::new(Int64Array::from(vec![0; 300])));
    assert!(matches!(
        run(&request(ModelKind::Mlp), &constant),
        Err(LearnError::TargetConstant { .. })
    ));
    let three = replace(
        &data,
        "failure",
        Arc::new(Int64Array::from(
            (0..300).map(|i| i % 3).collect::<Vec<i64>>(),
        )),
    );
    let err = run(&request(ModelKind::Mlp), &three).unwrap_err();
    assert!(
        matches!(err, LearnError::TargetNotBinary { count: 3, .. }),
        "{err}"
    );
    let mut torque: Vec<f64> = (0..300).map(|i| i as f64).collect();
    torque[17] = f64::NAN;
    let nan = replace(
        &data,
        "torque",
        Arc::new(Float64Array::from(torque.clone())),
    );
    let err = run(&request(ModelKind::Gbdt), &nan).unwrap_err();
    assert!(err.to_string().contains("'torque'"), "{err}");
    torque[17] = f64::INFINITY;
    let inf = replace(&data, "torque", Arc::new(Float64Array::from(torque)));
    assert!(matches!(
        run(&request(ModelKind::Gbdt), &inf),
        Err(LearnError::NonFinite { .. })
    ));
    // Two failures and five folds: some fold has all rows of one class.
    let rare = replace(
        &data,
        "failure",
        Arc::new(Int64Array::from(
            (0..300).map(|i| i64::from(i < 3)).collect::<Vec<_>>(),
        )),
    );
    let mut req = request(ModelKind::Logistic);
    req.cv = Some(5);
    req.test_fraction = 0.34;
    let err = run(&req, &rare).unwrap_err();
    assert!(matches!(err, LearnError::DegenerateFold { .. }), "{err}");
    assert!(
        registry::names(home.path()).unwrap().is_empty()
            || registry::versions(home.path(), "failure")
                .unwrap()
                .is_empty()
    );
}

#[test]
fn bad_prediction_inputs_name_the_column() {
    let home = tempfile::tempdir().unwrap();
    let data = machines(300, 7);
    train::train(
        home.path(),
        &request(ModelKind::Logistic),
        &data,
        None,
        None,
        &mut NoObserver,
    )
    .unwrap();
    let model = Model::load(home.path(), "failure@latest").unwrap();
    let keep = |names: &[&str]| {
        let idx: Vec<usize> = names
            .iter()
            .map(|n| data.schema().index_of(n).unwrap())
            .collect();
        data.project(&idx).unwrap()
    };
    // Missing, and renamed (the old name is gone).
    let err = model.predict_batch(&keep(&["type", "torque"])).unwrap_err();
    assert!(
        matches!(&err, LearnError::MissingColumn { column, .. } if column == "wear"),
        "{err}"
    );
    let renamed = batch(vec![
        ("type", data.column(1).clone()),
        ("Torque [Nm]", data.column(2).clone()),
        ("wear", data.column(3).clone()),
    ]);
    assert!(model
        .predict_batch(&renamed)
        .unwrap_err()
        .to_string()
        .contains("'torque'"));
    // Mistyped.
    let text = replace(
        &keep(&["type", "torque", "wear"]),
        "wear",
        Arc::new(StringArray::from(vec!["old"; 300])),
    );
    let err = model.predict_batch(&text).unwrap_err();
    assert!(
        matches!(&err, LearnError::MistypedColumn { column, .. } if column == "wear"),
        "{err}"
    );
    // Extra columns are ignored; integer input for a float column is accepted.
    let extra = keep(&["id", "type", "torque", "wear", "failure"]);
    assert_eq!(
        model.predict_batch(&extra).unwrap(),
        model
            .predict_batch(&keep(&["type", "torque", "wear"]))
            .unwrap()
    );
    let ints = replace(&extra, "wear", Arc::new(Int64Array::from(vec![100; 300])));
    assert_eq!(
        ints.schema().field_with_name("wear").unwrap().data_type(),
        &DataType::Int64
    );
    model.predict_batch(&ints).unwrap();
    // Empty.
    assert!(matches!(
        model.predict_batch(&extra.slice(0, 0)),
        Err(LearnError::EmptyInput)
    ));
}

#[test]
fn ai4i_reference_mlp_few_epochs_and_gbdt() {
    let Some(dir) = common::ai4i_dir() else {
        return;
    };
    let train_batch = common::read_csv(&dir.join("ai4i_train.csv"));
    let test_batch = common::read_csv(&dir.join("ai4i_test.csv"));
    let home = tempfile::tempdir().unwrap();
    let mut req = TrainRequest::new("ai4i", "label");
    req.kind = KindChoice::One(ModelKind::Gbdt);
    let out = train::train(
        home.path(),
        &req,
        &train_batch,
        Some(&test_batch),
        None,
        &mut NoObserver,
    )
    .unwrap();
    assert_eq!((out.train_rows, out.test_rows), (8000, 2000));
    let train::TestMetrics::Binary(m) = &out.test else {
        panic!()
    };
    assert!(m.accuracy > 0.98 && m.roc_auc > 0.95, "{m:?}");
    req.kind = KindChoice::One(ModelKind::Mlp);
    req.mlp.epochs = 3;
    let out = train::train(
        home.path(),
        &req,
        &train_batch,
        Some(&test_batch),
        None,
        &mut NoObserver,
    )
    .unwrap();
    assert_eq!(out.history.len(), 3);
    assert!(out.history.iter().all(|h| h.val_loss.is_some()));
    let train::TestMetrics::Binary(m) = &out.test else {
        panic!()
    };
    assert!(m.accuracy >= 0.966, "at least the majority baseline: {m:?}");
}

#[test]
fn time_ordered_split_tests_on_the_latest_rows() {
    let home = tempfile::tempdir().unwrap();
    let data = machines(500, 8);
    let mut req = request(ModelKind::Logistic);
    req.drop = vec![];
    req.time_column = Some("id".into());
    req.test_fraction = 0.2;
    let out = train::train(home.path(), &req, &data, None, None, &mut NoObserver).unwrap();
    assert_eq!((out.train_rows, out.test_rows), (400, 100));
    // The time column is not a feature, and the test labels are those of the last 100 rows.
    let model = Model::load(home.path(), "failure").unwrap();
    assert!(model.input_columns().iter().all(|c| c.name != "id"));
    let labels = data
        .column(4)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    let last: Vec<f64> = (400..500).map(|i| labels.value(i) as f64).collect();
    assert_eq!(out.test_y, last);
}

#[test]
fn kind_choices_parse_and_show() {
    let among: KindChoice = "mlp,gbdt".parse().unwrap();
    assert_eq!(
        among,
        KindChoice::Among(vec![ModelKind::Mlp, ModelKind::Gbdt])
    );
    assert_eq!(among.to_string(), "mlp,gbdt");
    assert_eq!(
        "gbdt".parse::<KindChoice>().unwrap(),
        KindChoice::One(ModelKind::Gbdt)
    );
    assert_eq!("Auto".parse::<KindChoice>().unwrap(), KindChoice::Auto);
    assert!("mlp,forest".parse::<KindChoice>().is_err());
    // A kind named for a task it cannot learn is refused before any training.
    let err = KindChoice::Among(vec![ModelKind::Mlp, ModelKind::Logistic])
        .kinds(millwright_learn::task::Task::Regression)
        .unwrap_err();
    assert!(
        matches!(
            err,
            LearnError::KindUnsupportedForTask {
                kind: ModelKind::Logistic,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn among_listed_kinds_keeps_the_best_by_cv() {
    let home = tempfile::tempdir().unwrap();
    let mut req = request(ModelKind::Mlp);
    req.kind = KindChoice::Among(vec![ModelKind::Mlp, ModelKind::Gbdt]);
    req.cv = Some(3);
    req.mlp.epochs = 5;
    req.gbdt.iterations = 30;
    let out = train::train(
        home.path(),
        &req,
        &machines(600, 3),
        None,
        None,
        &mut NoObserver,
    )
    .unwrap();
    let mut kinds: Vec<ModelKind> = out.cv.iter().map(|c| c.kind).collect();
    kinds.sort_by_key(millwright_learn::model::ModelKind::name);
    assert_eq!(kinds, [ModelKind::Gbdt, ModelKind::Mlp]);
    let best = out.cv.iter().map(|c| c.mean).fold(f64::MIN, f64::max);
    let chosen = out
        .cv
        .iter()
        .find(|c| c.kind == out.manifest.kind && c.params == out.manifest.params["model"])
        .expect("the chosen model was cross-validated");
    assert_eq!(chosen.mean, best);
    assert!(out.manifest.threshold != 0.5, "max F1, as auto");
}

#[test]
fn an_empty_training_split_is_an_error_not_a_panic() {
    let home = tempfile::tempdir().unwrap();
    let data = machines(3, 9);
    let mut req = request(ModelKind::Gbdt);
    req.target = "torque".into();
    req.task = TaskChoice::Regression;
    req.test_fraction = 0.9;
    let err = train::train(home.path(), &req, &data, None, None, &mut NoObserver).unwrap_err();
    assert!(
        matches!(
            err,
            LearnError::EmptySplit {
                side: "training",
                rows: 3,
                ..
            }
        ),
        "{err}"
    );
    let empty = data.slice(0, 0);
    assert!(matches!(
        train::fit_labels(&empty, "torque", TaskChoice::Regression),
        Err(LearnError::EmptyInput)
    ));
}

/// Cross-validation reports folds with a note per fold; the final MLP fit reports epochs.
#[test]
fn training_reports_cross_validation_and_fit_progress() {
    use millwright_core::{Progress, ProgressHandle, Unit};
    use std::sync::Mutex;
    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);
    impl Progress for Log {
        fn stage(&self, name: &str, total: Option<u64>, unit: Unit) {
            let line = format!("stage {name} {total:?} {}", unit.name());
            self.0.lock().unwrap().push(line);
        }
        fn advance(&self, done: u64) {
            self.0.lock().unwrap().push(format!("advance {done}"));
        }
        fn note(&self, text: &str) {
            self.0.lock().unwrap().push(format!("note {text}"));
        }
    }
    let home = tempfile::tempdir().unwrap();
    let log = Arc::new(Log::default());
    let mut req = request(ModelKind::Mlp);
    req.cv = Some(2);
    req.search = 1;
    req.mlp.epochs = 3;
    req.progress = ProgressHandle::new(log.clone());
    train::train(
        home.path(),
        &req,
        &machines(300, 4),
        None,
        None,
        &mut NoObserver,
    )
    .unwrap();
    let lines = log.0.lock().unwrap().clone();
    let at = |line: &str| {
        lines
            .iter()
            .position(|l| l == line)
            .unwrap_or_else(|| panic!("{line}: {lines:?}"))
    };
    let cv = at("stage cross-validation Some(4) folds");
    let fit = at("stage fit mlp Some(3) epochs");
    assert!(cv < fit);
    assert!(
        lines[cv..fit].contains(&"advance 4".to_string()),
        "{lines:?}"
    );
    assert!(lines[cv + 2].starts_with("note mlp pr_auc "), "{lines:?}");
    assert_eq!(
        lines[fit + 1..]
            .iter()
            .filter(|l| l.starts_with("advance"))
            .count(),
        3
    );
    assert!(lines[fit + 2].starts_with("note loss ") && lines[fit + 2].contains(" val_loss "));
}

#[test]
fn a_registered_model_is_evaluated_and_plotted_on_labelled_rows() {
    use millwright_learn::evaluate::{evaluate, evaluation_plots};
    let home = tempfile::tempdir().unwrap();
    let data = machines(400, 10);
    let out = train::train(
        home.path(),
        &request(ModelKind::Gbdt),
        &data,
        None,
        None,
        &mut NoObserver,
    )
    .unwrap();
    let model = Model::load(home.path(), "failure").unwrap();
    let evaluation = evaluate(&model, &data).unwrap();
    assert_eq!(
        (
            evaluation.rows,
            evaluation.y.len(),
            evaluation.outputs.len()
        ),
        (400, 400, 400)
    );
    let train::TestMetrics::Binary(m) = &evaluation.metrics else {
        panic!("a binary model")
    };
    assert_eq!(m.confusion_matrix.iter().flatten().sum::<usize>(), 400);
    let dir = home.path().join("plots");
    std::fs::create_dir_all(&dir).unwrap();
    let files = evaluation_plots(
        &dir,
        &evaluation.metrics,
        &evaluation.y,
        &evaluation.outputs,
        &model.manifest.classes,
    )
    .unwrap();
    assert_eq!(files.len(), 4);
    assert!(files.iter().all(|f| f.svg.exists() && f.png.exists()));
    // On the test rows it gives the metrics training reported.
    let test = evaluation_plots(
        &dir,
        &out.test,
        &out.test_y,
        &out.test_pred,
        &model.manifest.classes,
    );
    assert_eq!(test.unwrap().len(), 4);
}

/// A deriver's error reaches the caller whole, naming the feature.
#[test]
fn a_failing_deriver_keeps_its_error_as_the_source() {
    use millwright_learn::pipeline::{DeriveError, DerivedFeature, FeatureDeriver};
    struct Broken;
    impl FeatureDeriver for Broken {
        fn derive(
            &self,
            _: &RecordBatch,
            features: &[(String, String)],
        ) -> Result<RecordBatch, DeriveError> {
            Err(DeriveError {
                feature: features[0].0.clone(),
                source: Box::new(std::io::Error::other("the engine broke")),
            })
        }
    }
    let home = tempfile::tempdir().unwrap();
    let mut req = request(ModelKind::Logistic);
    req.features = vec![DerivedFeature::parse("load = torque * wear").unwrap()];
    let err = train::train(
        home.path(),
        &req,
        &machines(100, 11),
        None,
        Some(&Broken),
        &mut NoObserver,
    )
    .unwrap_err();
    assert!(
        matches!(&err, LearnError::Derive { feature, .. } if feature == "load"),
        "{err}"
    );
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(source.to_string(), "the engine broke");
    let mut req = request(ModelKind::Logistic);
    req.drop = vec!["serial".into()];
    let err = train::train(
        home.path(),
        &req,
        &machines(100, 11),
        None,
        None,
        &mut NoObserver,
    )
    .unwrap_err();
    assert!(
        matches!(&err, LearnError::DropColumnMissing { column, .. } if column == "serial"),
        "{err}"
    );
}
