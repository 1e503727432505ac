//! Training as a tracked run: every `train` starts a run in `<home>/runs`, logs each epoch (JSONL and
//! TensorBoard), the final test metrics, the plots (ROC, precision-recall, confusion matrix, calibration,
//! feature importance, loss and metric curves) and the registered model; a failed training ends the run
//! as failed with the error.

use std::path::Path;

use arrow::array::RecordBatch;

use crate::error::{LearnError, Result};
use crate::metrics;
use crate::mlp::EpochReport;
use crate::pipeline::FeatureDeriver;
use crate::plots;
use crate::registry;
use crate::task::Task;
use crate::tracking::{DatasetRef, RunRecorder, RunSpec, RunStore};
use crate::train::{self, KindChoice, TestMetrics, TrainObserver, TrainOutcome, TrainRequest};

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
        "model": match req.kind { KindChoice::Auto => "auto".to_string(), KindChoice::One(k) => k.name().to_string() },
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
    let kind = match req.kind {
        KindChoice::Auto => "auto".to_string(),
        KindChoice::One(k) => k.name().to_string(),
    };
    let spec = RunSpec::new(&req.name, kind, dataset)
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
            recorder.fail(&e.to_string())?;
            return Err(e);
        }
    };
    match record_outcome(home, &mut recorder, &outcome) {
        Ok(()) => {
            recorder.finish()?;
            Ok(outcome)
        }
        Err(e) => {
            recorder.fail(&e.to_string())?;
            Err(e)
        }
    }
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
    let m = &out.manifest;
    let model_dir = registry::models_dir(home)
        .join(&m.name)
        .join(m.version.to_string());
    recorder.attach_artefact("model", &model_dir)?;
    let dir = recorder.plots_dir()?;
    let mut files = Vec::new();
    if let TestMetrics::Binary(b) = &out.test {
        let (y, p) = (&out.test_y, &out.test_pred);
        files.push(plots::roc_curve(
            &metrics::roc_curve(y, p),
            Some(b.roc_auc),
            &dir.join("roc"),
        )?);
        let positive_rate = y.iter().filter(|&&v| v > 0.5).count() as f64 / y.len().max(1) as f64;
        files.push(plots::precision_recall_curve(
            &metrics::pr_curve(y, p),
            Some(b.pr_auc),
            positive_rate,
            &dir.join("precision_recall"),
        )?);
        let counts: Vec<Vec<u64>> = b
            .confusion_matrix
            .iter()
            .map(|row| row.iter().map(|&c| c as u64).collect())
            .collect();
        let names: Vec<&str> = m.classes.iter().map(String::as_str).collect();
        files.push(plots::confusion_matrix(
            &counts,
            &names,
            &dir.join("confusion_matrix"),
        )?);
        files.push(plots::calibration_diagram(
            &metrics::calibration_bins(y, p, 10),
            &dir.join("calibration"),
        )?);
    }
    if let TestMetrics::Multiclass(mc) = &out.test {
        let counts: Vec<Vec<u64>> = mc
            .confusion_matrix
            .iter()
            .map(|row| row.iter().map(|&c| c as u64).collect())
            .collect();
        let names: Vec<&str> = m.classes.iter().map(String::as_str).collect();
        files.push(plots::confusion_matrix(
            &counts,
            &names,
            &dir.join("confusion_matrix"),
        )?);
    }
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelKind;
    use crate::tracking::{RunFilter, RunStatus};
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
        assert_eq!(store.list(&RunFilter::default(), 10, 0).unwrap().total, 1);
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
}
