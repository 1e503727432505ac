//! The model's exam: recall and precision at the alarm threshold on the test split of its training data,
//! beside what it achieved per part inside the twin (in shadow, like for like, and acting), each with a
//! Wilson 95 % interval.

use millwright_learn::metrics::BinaryMetrics;
use millwright_report::{Rate, Rates, ShadowExam};
use millwright_twin::{AlarmKpis, PolicyResult, TwinResult};

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
    rates(&pooled(policy)?)
}

/// The model's exam in shadow: on run-to-failure's streams when the run has them scored (the conditions
/// its training year was recorded under), else on the first other policy that scored it in shadow.
/// `units_per_hour` converts the lead time from the line's time unit.
pub fn shadow_exam(stored: &TwinResult, units_per_hour: f64) -> Option<ShadowExam> {
    let in_shadow = |p: &&PolicyResult| p.replications.first()?.alarms.map(|a| a.shadow);
    let shadowed: Vec<&PolicyResult> = stored
        .policies
        .iter()
        .filter(|p| in_shadow(p) == Some(true))
        .collect();
    let policy = shadowed
        .iter()
        .find(|p| p.policy == "run-to-failure")
        .or(shadowed.first())?;
    let total = pooled(policy)?;
    let failures: u64 = policy.replications.iter().map(|r| r.failures).sum();
    Some(ShadowExam {
        policy: policy.policy.clone(),
        rates: rates(&total)?,
        warned: Rate::wilson(total.warned_failures, failures),
        mean_lead_time_hours: total.mean_lead_time().map(|t| t / units_per_hour),
    })
}

fn rates(total: &AlarmKpis) -> Option<Rates> {
    Some(Rates {
        recall: Rate::wilson(total.true_alarms, total.true_alarms + total.missed_failures)?,
        precision: Rate::wilson(total.true_alarms, total.alarms)?,
    })
}

/// A policy's alarm counts summed over its replications; `None` when one has none.
fn pooled(policy: &PolicyResult) -> Option<AlarmKpis> {
    let mut total = AlarmKpis::default();
    for r in &policy.replications {
        let a = r.alarms?;
        total.scored_parts += a.scored_parts;
        total.alarms += a.alarms;
        total.true_alarms += a.true_alarms;
        total.missed_failures += a.missed_failures;
        total.warned_failures += a.warned_failures;
        total.lead_time_total += a.lead_time_total;
        total.shadow = a.shadow;
    }
    Some(total)
}
