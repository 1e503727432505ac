//! The model's exam: recall and precision at the alarm threshold on the test split of its training data,
//! beside what it achieved per part inside the twin, each with a Wilson 95 % interval.

use millwright_learn::metrics::BinaryMetrics;
use millwright_report::{Rate, Rates};
use millwright_twin::{AlarmKpis, PolicyResult};

/// Recall and precision from a binary confusion matrix `[[tn, fp], [fn, tp]]`; `None` without positives
/// or without alarms.
pub fn offline_rates(metrics: &BinaryMetrics) -> Option<Rates> {
    let [[_, fp], [fn_, tp]] = metrics.confusion_matrix.map(|row| row.map(|n| n as u64));
    Some(Rates {
        recall: Rate::wilson(tp, tp + fn_)?,
        precision: Rate::wilson(tp, tp + fp)?,
    })
}

/// The AI policy's alarm counts pooled over its replications; `None` when it has none (no model, or
/// no failing part and no alarm).
pub fn twin_rates(policy: &PolicyResult) -> Option<Rates> {
    let mut total = AlarmKpis::default();
    for r in &policy.replications {
        let a = r.alarms?;
        total.scored_parts += a.scored_parts;
        total.alarms += a.alarms;
        total.true_alarms += a.true_alarms;
        total.missed_failures += a.missed_failures;
    }
    Some(Rates {
        recall: Rate::wilson(total.true_alarms, total.true_alarms + total.missed_failures)?,
        precision: Rate::wilson(total.true_alarms, total.alarms)?,
    })
}
