//! The model's exam: recall and precision at the alarm threshold on the test split of its training data,
//! beside what it achieved per part inside the twin, each with a Wilson 95 % interval.

use millwright_learn::metrics::BinaryMetrics;
use millwright_report::{Rate, Rates};
use millwright_twin::{AlarmKpis, PolicyResult};

/// z of a two-sided 95 % interval.
const Z: f64 = 1.959_963_984_540_054;

/// `hits` of `trials` with its Wilson score interval (well-behaved for rare events, unlike the normal
/// approximation); without trials, 0 with the whole of [0, 1]. Hand-written: one formula, where a
/// statistics crate would be a dependency for it.
pub fn wilson(hits: u64, trials: u64) -> Rate {
    if trials == 0 {
        return Rate {
            value: 0.0,
            ci_low: 0.0,
            ci_high: 1.0,
            hits,
            trials,
        };
    }
    let n = trials as f64;
    let p = hits as f64 / n;
    let z2 = Z * Z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    Rate {
        value: p,
        ci_low: (centre - half).max(0.0),
        ci_high: (centre + half).min(1.0),
        hits,
        trials,
    }
}

/// Recall and precision from a binary confusion matrix `[[tn, fp], [fn, tp]]`.
pub fn offline_rates(metrics: &BinaryMetrics) -> Rates {
    let [[_, fp], [fn_, tp]] = metrics.confusion_matrix.map(|row| row.map(|n| n as u64));
    Rates {
        recall: wilson(tp, tp + fn_),
        precision: wilson(tp, tp + fp),
    }
}

/// The AI policy's alarm counts pooled over its replications; `None` when it scored no parts.
pub fn twin_rates(policy: &PolicyResult) -> Option<Rates> {
    let mut total = AlarmKpis::default();
    for r in &policy.replications {
        let a = r.alarms?;
        total.scored_parts += a.scored_parts;
        total.alarms += a.alarms;
        total.true_alarms += a.true_alarms;
        total.missed_failures += a.missed_failures;
    }
    (total.scored_parts > 0).then(|| Rates {
        recall: wilson(total.true_alarms, total.true_alarms + total.missed_failures),
        precision: wilson(total.true_alarms, total.alarms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_the_textbook_values() {
        // 8 of 10: Wilson 95 % interval [0.4902, 0.9433] (e.g. statsmodels proportion_confint, method="wilson").
        let r = wilson(8, 10);
        assert!((r.ci_low - 0.490_16).abs() < 1e-4, "{r:?}");
        assert!((r.ci_high - 0.943_32).abs() < 1e-4, "{r:?}");
        let none = wilson(0, 50);
        assert_eq!((none.value, none.ci_low), (0.0, 0.0));
        assert!(none.ci_high > 0.05 && none.ci_high < 0.08, "{none:?}");
        let empty = wilson(0, 0);
        assert_eq!((empty.value, empty.ci_low, empty.ci_high), (0.0, 0.0, 1.0));
    }
}
