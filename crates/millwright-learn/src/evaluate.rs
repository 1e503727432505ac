//! A registered model judged on labelled rows: its predictions, the metrics of its task, and the plots
//! that show them. Training uses the plots for the test split; `evaluate` for any labelled data.

use std::path::Path;

use arrow::array::RecordBatch;

use crate::error::Result;
use crate::metrics;
use crate::plots::{self, PlotFiles};
use crate::registry::Model;
use crate::train::{apply_labels, Labels, TestMetrics};

/// A model's predictions on labelled rows and how good they are.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The labels as the model reads them (class indices in the model's class order, or values).
    pub y: Vec<f64>,
    /// What the model predicts: one probability per row (binary), one per class and row
    /// (multi-class, row-major), or one value per row (regression).
    pub outputs: Vec<f64>,
    pub metrics: TestMetrics,
    pub rows: usize,
}

/// Predicts `batch` with `model` and scores it against the batch's target column, read with the
/// classes the model was trained with (a label it never saw is an error naming the row).
pub fn evaluate(model: &Model, batch: &RecordBatch) -> Result<Evaluation> {
    let manifest = &model.manifest;
    let labels = Labels {
        task: manifest.task,
        y: Vec::new(),
        classes: manifest.classes.clone(),
    };
    let y = apply_labels(batch, &manifest.target, &labels)?;
    let outputs = model.predict_outputs(batch)?;
    let metrics = TestMetrics::of(manifest.task, &y, &outputs, manifest.threshold);
    Ok(Evaluation {
        y,
        outputs,
        metrics,
        rows: batch.num_rows(),
    })
}

/// Writes the plots of a set of predictions into `dir` (PNG and SVG each): ROC, precision-recall,
/// confusion matrix and calibration for a binary task, the confusion matrix for a multi-class one,
/// none for regression. `classes` name the confusion matrix's rows and columns.
pub fn evaluation_plots(
    dir: &Path,
    metrics: &TestMetrics,
    y: &[f64],
    outputs: &[f64],
    classes: &[String],
) -> Result<Vec<PlotFiles>> {
    let names: Vec<&str> = classes.iter().map(String::as_str).collect();
    let mut files = Vec::new();
    match metrics {
        TestMetrics::Binary(b) => {
            let positive_rate =
                y.iter().filter(|&&v| v > 0.5).count() as f64 / y.len().max(1) as f64;
            files.push(plots::roc_curve(
                &metrics::roc_curve(y, outputs),
                Some(b.roc_auc),
                &dir.join("roc"),
            )?);
            files.push(plots::precision_recall_curve(
                &metrics::pr_curve(y, outputs),
                Some(b.pr_auc),
                positive_rate,
                &dir.join("precision_recall"),
            )?);
            let counts = b.confusion_matrix.map(|row| row.map(|c| c as u64).to_vec());
            files.push(plots::confusion_matrix(
                &counts,
                &names,
                &dir.join("confusion_matrix"),
            )?);
            files.push(plots::calibration_diagram(
                &metrics::calibration_bins(y, outputs, 10),
                &dir.join("calibration"),
            )?);
        }
        TestMetrics::Multiclass(mc) => {
            let counts: Vec<Vec<u64>> = mc
                .confusion_matrix
                .iter()
                .map(|row| row.iter().map(|&c| c as u64).collect())
                .collect();
            files.push(plots::confusion_matrix(
                &counts,
                &names,
                &dir.join("confusion_matrix"),
            )?);
        }
        TestMetrics::Regression(_) => {}
    }
    Ok(files)
}
