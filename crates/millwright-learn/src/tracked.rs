//! Training as a tracked run: every `train` starts a run in `<home>/runs`, logs each epoch (JSONL and
//! TensorBoard), the final test metrics, the plots (ROC, precision-recall, confusion matrix, calibration,
//! feature importance, loss and metric curves) and the registered model; a failed training ends the run
//! as failed with the error.

use std::path::Path;

use arrow::array::RecordBatch;

use crate::error::{LearnError, Result};
use crate::evaluate::evaluation_plots;
use crate::mlp::EpochReport;
use crate::pipeline::FeatureDeriver;
use crate::plots;
use crate::registry;
use crate::task::Task;
use crate::tracking::{DatasetRef, RunRecorder, RunSpec, RunStore};
use crate::train::{self, TrainObserver, TrainOutcome, TrainRequest};

/// Forwards epochs to the run recorder; the first logging error is kept and reported after training.
struct RunObserver {
    recorder: RunRecorder,
    task: Task,
    error: Option<LearnError>,
}

impl TrainObserver for RunObserver {
    fn on_epoch(&mut self, r: &EpochReport) {
        if self.error.is_some() {
            return;
        }
        let metric = if self.task == Task::Regression {
            "rmse/val"
        } else {
            "accuracy/val"
        };
        let mut scalars = vec![("loss/train", r.train_loss)];
        if let Some(v) = r.val_loss {
            scalars.push(("loss/val", v));
        }
        if let Some(v) = r.val_metric {
            scalars.push((metric, v));
        }
        if let Err(e) = self.recorder.log_epoch(r.epoch as u64, &scalars) {
            self.error = Some(e.into());
        }
    }

    fn run_id(&self) -> Option<String> {
        Some(self.recorder.id().as_str().to_string())
    }
}

fn request_params(req: &TrainRequest) -> serde_json::Value {
    serde_json::json!({
        "target": req.target,
        "model": req.kind.to_string(),
        "task": format!("{:?}", req.task).to_lowercase(),
        "drop": req.drop,
        "features": req.features.iter().map(|f| format!("{}={}", f.name, f.expr)).collect::<Vec<_>>(),
        "mlp": req.mlp,
        "gbdt": req.gbdt,
        "logistic": req.logistic,
        "test_fraction": req.test_fraction,
        "time_column": req.time_column,
        "cv": req.cv,
        "search": req.search,
        "balanced": req.balanced,
        "threshold": req.threshold,
        "device": req.device,
    })
}

/// [`train::train`] recorded as a run. `dataset` names the training data (lake table and version, or files).
pub fn train_tracked(
    home: &Path,
    req: &TrainRequest,
    data: &RecordBatch,
    test: Option<&RecordBatch>,
    deriver: Option<&dyn FeatureDeriver>,
    dataset: DatasetRef,
) -> Result<TrainOutcome> {
    registry::validate_name(&req.name)?;
    let store = RunStore::open(home)?;
    let spec = RunSpec::new(&req.name, req.kind.to_string(), dataset)
        .with_params(request_params(req))
        .with_seed(req.seed);
    let task = match req.task {
        train::TaskChoice::Regression => Task::Regression,
        _ => Task::Binary,
    };
    let mut observer = RunObserver {
        recorder: store.start_run(spec)?,
        task,
        error: None,
    };
    let result = train::train(home, req, data, test, deriver, &mut observer);
    let RunObserver {
        mut recorder,
        error,
        ..
    } = observer;
    let outcome = match (result, error) {
        (Ok(o), None) => o,
        (Err(e), _) | (Ok(_), Some(e)) => {
            recorder.fail(&error_chain(&e))?;
            return Err(e);
        }
    };
    match record_outcome(home, &mut recorder, &outcome) {
        Ok(()) => {
            recorder.finish()?;
            Ok(outcome)
        }
        Err(e) => {
            recorder.fail(&error_chain(&e))?;
            Err(e)
        }
    }
}

/// An error and its sources as one line, for the run record (the sources hold the detail).
fn error_chain(error: &LearnError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What selection chose, for the run's params: the request's `mlp`/`gbdt`/`logistic` sections are the
/// defaults asked for, not the configuration a search or a choice among kinds kept.
fn chosen_params(out: &TrainOutcome) -> serde_json::Value {
    let m = &out.manifest;
    let mut chosen = serde_json::json!({
        "kind": m.kind,
        "config": m.params["model"],
    });
    if let Some(best) = out.cv.first() {
        chosen["cv_metric"] = serde_json::json!(best.metric);
    }
    if let Some(score) = out
        .cv
        .iter()
        .find(|c| c.kind == m.kind && c.params == m.params["model"])
    {
        chosen["cv_mean"] = serde_json::json!(score.mean);
        chosen["cv_std"] = serde_json::json!(score.std);
    }
    let mut params = serde_json::json!({ "chosen": chosen });
    if !out.cv.is_empty() {
        let scores: Vec<serde_json::Value> = out
            .cv
            .iter()
            .map(|c| serde_json::json!({"kind": c.kind, "mean": c.mean, "std": c.std}))
            .collect();
        params["cv_scores"] = serde_json::Value::Array(scores);
    }
    params
}

fn record_outcome(home: &Path, recorder: &mut RunRecorder, out: &TrainOutcome) -> Result<()> {
    let mut finals = train::summary_json(out);
    if let Some(obj) = finals.as_object_mut() {
        // The catalog filters on flat names: lift the test metrics to the top level.
        if let Some(serde_json::Value::Object(test)) = obj.get("test").cloned() {
            for (k, v) in test {
                if v.is_number() {
                    obj.insert(k, v);
                }
            }
        }
        obj.remove("run");
    }
    recorder.log_final(finals)?;
    recorder.add_params(chosen_params(out))?;
    let m = &out.manifest;
    let model_dir = registry::models_dir(home)
        .join(&m.name)
        .join(m.version.to_string());
    recorder.attach_artefact("model", &model_dir)?;
    let dir = recorder.plots_dir()?;
    let mut files = evaluation_plots(&dir, &out.test, &out.test_y, &out.test_pred, &m.classes)?;
    if !out.importance.is_empty() {
        let names: Vec<&str> = out.importance.iter().map(|(n, _)| n.as_str()).collect();
        let values: Vec<f64> = out.importance.iter().map(|(_, v)| *v).collect();
        files.push(plots::feature_importance(
            &names,
            &values,
            None,
            &dir.join("feature_importance"),
        )?);
    }
    for f in &files {
        recorder.attach_plot(f)?;
    }
    if let Some(curves) = curve_data(&out.test, &out.test_y, &out.test_pred) {
        let path = dir.join(CURVES_FILE);
        let text = serde_json::to_string(&curves).expect("curves serialise");
        std::fs::write(&path, text)
            .map_err(|e| LearnError::io(format!("writing {}", path.display()), e))?;
        recorder.attach_artefact(CURVES_KIND, &path)?;
    }
    Ok(())
}

/// The file in a run's plots folder that holds the points behind its ROC, precision-recall and
/// calibration plots, for clients that draw their own charts (the dashboard); artefact kind `curves`.
pub const CURVES_FILE: &str = "curves.json";
pub const CURVES_KIND: &str = "curves";
/// Points kept per curve: enough to draw it at any screen width, small enough for a page.
const CURVE_POINTS: usize = 400;

/// `{"roc": [[fpr, tpr]…], "pr": [[recall, precision]…], "calibration": [[predicted, observed, rows]…]}`
/// of a binary model's test split; `None` for other tasks.
fn curve_data(test: &train::TestMetrics, y: &[f64], outputs: &[f64]) -> Option<serde_json::Value> {
    if !matches!(test, train::TestMetrics::Binary(_)) || y.is_empty() {
        return None;
    }
    let pairs = |points: Vec<(f64, f64)>| -> Vec<[f64; 2]> {
        thin(&points, CURVE_POINTS)
            .into_iter()
            .map(|(a, b)| [a, b])
            .collect()
    };
    let calibration: Vec<serde_json::Value> = crate::metrics::calibration_bins(y, outputs, 10)
        .into_iter()
        .map(|(p, o, n)| serde_json::json!([p, o, n]))
        .collect();
    Some(serde_json::json!({
        "roc": pairs(crate::metrics::roc_curve(y, outputs)),
        "pr": pairs(crate::metrics::pr_curve(y, outputs)),
        "calibration": calibration,
    }))
}

/// At most `max` points of a curve, evenly spaced along it, the first and the last always kept.
fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let last = points.len() - 1;
    (0..max).map(|i| points[i * last / (max - 1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelKind;
    use crate::tracking::{RunFilter, RunStatus};
    use crate::train::KindChoice;
    use arrow::array::{Float64Array, Int64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch(n: usize) -> RecordBatch {
        let x: Vec<f64> = (0..n).map(|i| (i * 37 % 100) as f64).collect();
        let y: Vec<i64> = x
            .iter()
            .enumerate()
            .map(|(i, v)| i64::from(*v > 70.0 || i % 17 == 0))
            .collect();
        let schema = Schema::new(vec![
            Field::new("x", DataType::Float64, false),
            Field::new("y", DataType::Int64, false),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Float64Array::from(x)),
                Arc::new(Int64Array::from(y)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn a_training_is_a_finished_run_with_epochs_metrics_plots_and_the_model() {
        let home = tempfile::tempdir().unwrap();
        let mut req = TrainRequest::new("failure", "y");
        req.kind = KindChoice::One(ModelKind::Mlp);
        req.mlp.epochs = 4;
        let out = train_tracked(
            home.path(),
            &req,
            &batch(300),
            None,
            None,
            DatasetRef::lake("machines", 2),
        )
        .unwrap();
        let run = out
            .manifest
            .lineage
            .run
            .clone()
            .expect("model names its run");
        let store = RunStore::open(home.path()).unwrap();
        let record = store.get(&run).unwrap();
        assert_eq!(record.status, RunStatus::Finished);
        assert_eq!(record.steps_logged, 4);
        assert_eq!(
            record.metric("accuracy"),
            train::summary_json(&out)["test"]["accuracy"].as_f64()
        );
        for plot in [
            "roc",
            "precision_recall",
            "confusion_matrix",
            "calibration",
            "feature_importance",
            "curve_loss",
        ] {
            assert!(
                record
                    .artefacts
                    .iter()
                    .any(|a| a.path.to_string_lossy().contains(plot)),
                "{plot} missing"
            );
        }
        assert!(record.artefacts.iter().any(|a| a.kind == "model"));
        let curves = record
            .artefacts
            .iter()
            .find(|a| a.kind == CURVES_KIND)
            .expect("curve data kept");
        let curves: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(store.run_dir(&record.id).join(&curves.path)).unwrap(),
        )
        .unwrap();
        assert_eq!(curves["roc"][0], serde_json::json!([0.0, 0.0]));
        assert!(curves["pr"].as_array().unwrap().len() > 2);
        assert!(!curves["calibration"].as_array().unwrap().is_empty());
        assert_eq!(store.list(&RunFilter::default(), 10, 0).unwrap().total, 1);
    }

    #[test]
    fn a_thinned_curve_keeps_its_ends_and_spacing() {
        let points: Vec<(f64, f64)> = (0..=1000).map(|i| (f64::from(i), 0.0)).collect();
        let thinned = thin(&points, 11);
        assert_eq!(thinned.len(), 11);
        assert_eq!(thinned[0].0, 0.0);
        assert_eq!(thinned[5].0, 500.0);
        assert_eq!(thinned[10].0, 1000.0);
        assert_eq!(thin(&points[..5], 11).len(), 5);
    }

    #[test]
    fn a_failed_training_is_a_failed_run_and_registers_nothing() {
        let home = tempfile::tempdir().unwrap();
        let req = TrainRequest::new("failure", "missing_target");
        let err = train_tracked(
            home.path(),
            &req,
            &batch(50),
            None,
            None,
            DatasetRef::lake("machines", 1),
        )
        .unwrap_err();
        assert!(matches!(err, LearnError::TargetMissing(..)));
        let store = RunStore::open(home.path()).unwrap();
        let page = store.list(&RunFilter::default(), 10, 0).unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(page.runs[0].status, RunStatus::Failed);
        assert!(page.runs[0]
            .error
            .as_deref()
            .unwrap()
            .contains("missing_target"));
        assert!(registry::names(home.path()).unwrap().is_empty());
    }

    /// `runs show` prints the run's params: after a search they name what was kept, with its CV score.
    #[test]
    fn a_search_run_records_the_chosen_configuration_and_the_cv_scores() {
        let home = tempfile::tempdir().unwrap();
        let mut req = TrainRequest::new("failure", "y");
        req.kind = KindChoice::One(ModelKind::Gbdt);
        req.gbdt.iterations = 20;
        req.search = 2;
        req.cv = Some(3);
        let out = train_tracked(
            home.path(),
            &req,
            &batch(300),
            None,
            None,
            DatasetRef::lake("machines", 1),
        )
        .unwrap();
        let store = RunStore::open(home.path()).unwrap();
        let record = store
            .get(out.manifest.lineage.run.as_deref().unwrap())
            .unwrap();
        let params = &record.spec.params;
        assert_eq!(params["chosen"]["kind"], "gbdt");
        assert_eq!(params["chosen"]["config"], out.manifest.params["model"]);
        let best = out.cv.iter().map(|c| c.mean).fold(f64::MIN, f64::max);
        assert_eq!(params["chosen"]["cv_mean"].as_f64(), Some(best));
        assert_eq!(params["chosen"]["cv_metric"], "pr_auc");
        assert_eq!(params["cv_scores"].as_array().unwrap().len(), 3);
        assert_eq!(params["model"], "gbdt", "what was asked for stays");
    }
}
