//! Evaluation metrics: classification (per class, macro, ROC-AUC, PR-AUC, log-loss, Brier, confusion
//! matrix), regression (RMSE, MAE, R²), and choosing the decision threshold on validation data.

use serde::{Deserialize, Serialize};

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// Binary metrics at a threshold. `precision`/`recall`/`f1` are those of the positive class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryMetrics {
    pub threshold: f64,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub macro_f1: f64,
    pub per_class: [ClassScores; 2],
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub log_loss: f64,
    pub brier: f64,
    /// `[[tn, fp], [fn, tp]]`: rows are the true class, columns the predicted class.
    pub confusion_matrix: [[usize; 2]; 2],
    pub rows: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn class_scores(tp: usize, fp: usize, fn_: usize) -> ClassScores {
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    ClassScores {
        precision,
        recall,
        f1: f1(precision, recall),
        support: tp + fn_,
    }
}

/// Metrics of probabilities `prob` (of the positive class) against 0/1 labels; positive when `prob > threshold`
/// (the rule Keras' binary accuracy uses at 0.5).
pub fn binary(y: &[f64], prob: &[f64], threshold: f64) -> BinaryMetrics {
    let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
    let (mut ll, mut brier) = (0.0, 0.0);
    for (&t, &p) in y.iter().zip(prob) {
        let positive = t > 0.5;
        match (positive, p > threshold) {
            (true, true) => tp += 1,
            (true, false) => fn_ += 1,
            (false, true) => fp += 1,
            (false, false) => tn += 1,
        }
        let pc = p.clamp(1e-15, 1.0 - 1e-15);
        ll -= if positive { pc.ln() } else { (1.0 - pc).ln() };
        let target = if positive { 1.0 } else { 0.0 };
        brier += (p - target).powi(2);
    }
    let n = y.len();
    let pos = class_scores(tp, fp, fn_);
    let neg = class_scores(tn, fn_, fp);
    BinaryMetrics {
        threshold,
        accuracy: ratio(tp + tn, n),
        precision: pos.precision,
        recall: pos.recall,
        f1: pos.f1,
        macro_f1: (pos.f1 + neg.f1) / 2.0,
        per_class: [neg, pos],
        roc_auc: roc_auc(y, prob),
        pr_auc: average_precision(y, prob),
        log_loss: ll / n.max(1) as f64,
        brier: brier / n.max(1) as f64,
        confusion_matrix: [[tn, fp], [fn_, tp]],
        rows: n,
    }
}

/// Indices sorted by descending score (ties keep input order).
fn by_score_desc(prob: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..prob.len()).collect();
    idx.sort_by(|&a, &b| prob[b].total_cmp(&prob[a]));
    idx
}

/// ROC curve points `(false positive rate, true positive rate)`, one per distinct score.
pub fn roc_curve(y: &[f64], prob: &[f64]) -> Vec<(f64, f64)> {
    let idx = by_score_desc(prob);
    let pos = y.iter().filter(|&&v| v > 0.5).count();
    let neg = y.len() - pos;
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut points = vec![(0.0, 0.0)];
    for (k, &i) in idx.iter().enumerate() {
        if y[i] > 0.5 {
            tp += 1;
        } else {
            fp += 1;
        }
        if k + 1 == idx.len() || prob[idx[k + 1]] != prob[i] {
            points.push((ratio(fp, neg), ratio(tp, pos)));
        }
    }
    points
}

/// Area under the ROC curve (trapezoids over distinct scores, so ties count half as in sklearn).
pub fn roc_auc(y: &[f64], prob: &[f64]) -> f64 {
    let pts = roc_curve(y, prob);
    pts.windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum()
}

/// Precision-recall points `(recall, precision)`, one per distinct score.
pub fn pr_curve(y: &[f64], prob: &[f64]) -> Vec<(f64, f64)> {
    let idx = by_score_desc(prob);
    let pos = y.iter().filter(|&&v| v > 0.5).count();
    let (mut tp, mut seen) = (0usize, 0usize);
    let mut points = Vec::new();
    for (k, &i) in idx.iter().enumerate() {
        seen += 1;
        if y[i] > 0.5 {
            tp += 1;
        }
        if k + 1 == idx.len() || prob[idx[k + 1]] != prob[i] {
            points.push((ratio(tp, pos), ratio(tp, seen)));
        }
    }
    points
}

/// Average precision, Σ (Rₙ − Rₙ₋₁)·Pₙ (sklearn's `average_precision_score`).
pub fn average_precision(y: &[f64], prob: &[f64]) -> f64 {
    let mut prev_recall = 0.0;
    let mut ap = 0.0;
    for (r, p) in pr_curve(y, prob) {
        ap += (r - prev_recall) * p;
        prev_recall = r;
    }
    ap
}

/// Costs of the two kinds of error for choosing a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostMatrix {
    /// Cost of a missed failure (false negative).
    pub missed: f64,
    /// Cost of a false alarm (false positive).
    pub false_alarm: f64,
}

/// How the decision threshold is picked on validation data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum ThresholdRule {
    /// 0.5, as the reference.
    Fixed { value: f64 },
    /// The threshold with the highest F1 of the positive class.
    MaxF1,
    /// The threshold with the lowest total cost.
    MinCost(CostMatrix),
}

/// Chooses the threshold over the distinct scores (midpoints between neighbours, so `prob > t` is stable).
pub fn choose_threshold(y: &[f64], prob: &[f64], rule: ThresholdRule) -> f64 {
    let candidates = || {
        let idx = by_score_desc(prob);
        let pos = y.iter().filter(|&&v| v > 0.5).count();
        let mut out = Vec::new();
        let (mut tp, mut fp) = (0usize, 0usize);
        for (k, &i) in idx.iter().enumerate() {
            if y[i] > 0.5 {
                tp += 1;
            } else {
                fp += 1;
            }
            let next = idx.get(k + 1).map(|&j| prob[j]);
            if next != Some(prob[i]) {
                // Predict positive for every score ≥ prob[i]: threshold just below it.
                let t = match next {
                    Some(n) => (prob[i] + n) / 2.0,
                    None => prob[i] / 2.0,
                };
                out.push((t, tp, fp, pos - tp));
            }
        }
        out
    };
    match rule {
        ThresholdRule::Fixed { value } => value,
        ThresholdRule::MaxF1 => {
            let mut best = (0.5, -1.0);
            for (t, tp, fp, fn_) in candidates() {
                let score = f1(ratio(tp, tp + fp), ratio(tp, tp + fn_));
                if score > best.1 {
                    best = (t, score);
                }
            }
            best.0
        }
        ThresholdRule::MinCost(c) => {
            let pos = y.iter().filter(|&&v| v > 0.5).count();
            // Start from "never alarm": every failure missed.
            let mut best = (1.0, c.missed * pos as f64);
            for (t, _tp, fp, fn_) in candidates() {
                let cost = c.missed * fn_ as f64 + c.false_alarm * fp as f64;
                if cost < best.1 {
                    best = (t, cost);
                }
            }
            best.0
        }
    }
}

/// Multi-class metrics from class probabilities (`k` per row) and class indices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MulticlassMetrics {
    pub accuracy: f64,
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassScores>,
    pub log_loss: f64,
    pub confusion_matrix: Vec<Vec<usize>>,
    pub rows: usize,
}

pub fn multiclass(y: &[f64], probs: &[f64], k: usize) -> MulticlassMetrics {
    let mut cm = vec![vec![0usize; k]; k];
    let mut ll = 0.0;
    for (r, &t) in y.iter().enumerate() {
        let p = &probs[r * k..(r + 1) * k];
        let pred = p
            .iter()
            .enumerate()
            .fold(0, |b, (i, &v)| if v > p[b] { i } else { b });
        let truth = t as usize;
        cm[truth][pred] += 1;
        ll -= p[truth].clamp(1e-15, 1.0).ln();
    }
    let per_class: Vec<ClassScores> = (0..k)
        .map(|c| {
            let tp = cm[c][c];
            let fp = (0..k).filter(|&r| r != c).map(|r| cm[r][c]).sum();
            let fn_ = (0..k).filter(|&p| p != c).map(|p| cm[c][p]).sum();
            class_scores(tp, fp, fn_)
        })
        .collect();
    let n = y.len();
    let mean = |f: fn(&ClassScores) -> f64| per_class.iter().map(f).sum::<f64>() / k as f64;
    MulticlassMetrics {
        accuracy: ratio((0..k).map(|c| cm[c][c]).sum(), n),
        macro_precision: mean(|c| c.precision),
        macro_recall: mean(|c| c.recall),
        macro_f1: mean(|c| c.f1),
        per_class,
        log_loss: ll / n.max(1) as f64,
        confusion_matrix: cm,
        rows: n,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    pub rmse: f64,
    pub mae: f64,
    pub r2: f64,
    pub rows: usize,
}

pub fn regression(y: &[f64], pred: &[f64]) -> RegressionMetrics {
    let n = y.len().max(1) as f64;
    let mean = y.iter().sum::<f64>() / n;
    let sse: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    let sst: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    RegressionMetrics {
        rmse: (sse / n).sqrt(),
        mae: y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum::<f64>() / n,
        r2: if sst > 0.0 { 1.0 - sse / sst } else { 0.0 },
        rows: y.len(),
    }
}

/// Calibration bins: `(mean predicted probability, observed positive rate, rows)` per non-empty bin.
pub fn calibration_bins(y: &[f64], prob: &[f64], bins: usize) -> Vec<(f64, f64, usize)> {
    let mut acc = vec![(0.0, 0.0, 0usize); bins];
    for (&t, &p) in y.iter().zip(prob) {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        acc[b].0 += p;
        acc[b].1 += t;
        acc[b].2 += 1;
    }
    acc.into_iter()
        .filter(|a| a.2 > 0)
        .map(|(p, t, n)| (p / n as f64, t / n as f64, n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_counts_and_rates() {
        let y = [0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
        let p = [0.1, 0.6, 0.7, 0.4, 0.9, 0.2];
        let m = binary(&y, &p, 0.5);
        assert_eq!(m.confusion_matrix, [[2, 1], [1, 2]]);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert!((m.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-12);
        // sklearn: roc_auc_score = 8/9, average_precision_score = 0.9166…
        assert!((m.roc_auc - 8.0 / 9.0).abs() < 1e-12, "{}", m.roc_auc);
        assert!(
            (m.pr_auc - (1.0 / 3.0 + 1.0 / 3.0 + 1.0 / 3.0 * 0.75)).abs() < 1e-12,
            "{}",
            m.pr_auc
        );
        let ll =
            -(0.9f64.ln() + 0.4f64.ln() + 0.7f64.ln() + 0.4f64.ln() + 0.9f64.ln() + 0.8f64.ln())
                / 6.0;
        assert!((m.log_loss - ll).abs() < 1e-12);
    }

    #[test]
    fn tied_scores_count_half() {
        let m = roc_auc(&[0.0, 1.0], &[0.5, 0.5]);
        assert!((m - 0.5).abs() < 1e-12);
    }

    #[test]
    fn max_f1_and_cost_thresholds() {
        let y = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0];
        let p = [0.05, 0.1, 0.2, 0.3, 0.35, 0.32, 0.9];
        let t = choose_threshold(&y, &p, ThresholdRule::MaxF1);
        let m = binary(&y, &p, t);
        assert!(m.f1 > binary(&y, &p, 0.5).f1);
        assert!(t < 0.3 && t > 0.2, "{t}");
        // Missing a failure is very costly: alarm on everything above the lowest failure score.
        let c = choose_threshold(
            &y,
            &p,
            ThresholdRule::MinCost(CostMatrix {
                missed: 100.0,
                false_alarm: 1.0,
            }),
        );
        assert_eq!(binary(&y, &p, c).confusion_matrix[1][0], 0);
        // False alarms very costly: alarm only on the sure one.
        let c = choose_threshold(
            &y,
            &p,
            ThresholdRule::MinCost(CostMatrix {
                missed: 1.0,
                false_alarm: 100.0,
            }),
        );
        assert_eq!(binary(&y, &p, c).confusion_matrix[0][1], 0);
    }

    #[test]
    fn multiclass_and_regression() {
        let y = [0.0, 1.0, 2.0, 2.0];
        let probs = [0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7, 0.6, 0.2, 0.2];
        let m = multiclass(&y, &probs, 3);
        assert_eq!(m.confusion_matrix[2], vec![1, 0, 1]);
        assert!((m.accuracy - 0.75).abs() < 1e-12);
        let r = regression(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]);
        assert!((r.mae - 1.0 / 3.0).abs() < 1e-12);
        assert!((r.rmse - (1.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((r.r2 - 0.5).abs() < 1e-12);
    }
}
