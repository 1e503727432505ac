//! α measured from a twin comparison (baseline policy vs AI policy, paired replications), with confidence
//! intervals from a paired bootstrap propagated through the whole model.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::assumptions::Assumptions;
use crate::error::{ImpactError, Result};
use crate::model::ImpactModel;
use crate::plan::{MeasuredTerm, Plan};
use crate::report::{
    Better, Estimate, MeasuredImpact, Measurement, PointImpact, TwinSource, Uncertainty,
};
use crate::twin_runs::{ReplicationKpis, TwinRuns};

/// Which α a twin KPI measures and which way the KPI has to move.
#[derive(Debug, Clone, Copy)]
pub struct KpiMapping {
    pub path: &'static str,
    pub term: &'static str,
    pub kpi: &'static str,
    pub better: Better,
    read: fn(&ReplicationKpis) -> f64,
}

/// The KPI → α mapping (documented in docs/impact.md).
pub const TWIN_MAPPING: [KpiMapping; 4] = [
    KpiMapping {
        path: "smart_manufacturing",
        term: "production_efficiency",
        kpi: "throughput",
        better: Better::Higher,
        read: |r| r.throughput,
    },
    KpiMapping {
        path: "smart_manufacturing",
        term: "scrap_rate",
        kpi: "scrap_rate",
        better: Better::Lower,
        read: |r| r.scrap_rate,
    },
    KpiMapping {
        path: "digital_twin",
        term: "system_stability",
        kpi: "unplanned_downtime",
        better: Better::Lower,
        read: |r| r.unplanned_downtime,
    },
    KpiMapping {
        path: "digital_twin",
        term: "prediction_and_optimisation",
        kpi: "cost_per_good_part",
        better: Better::Lower,
        read: |r| r.cost_per_good_part,
    },
];

/// Default policies compared and bootstrap settings.
pub const DEFAULT_BASELINE_POLICY: &str = "run-to-failure";
pub const DEFAULT_AI_POLICY: &str = "predictive";
pub const DEFAULT_RESAMPLES: usize = 2000;
pub const DEFAULT_BOOTSTRAP_SEED: u64 = 0x6d69_6c6c_7772_6967; // "millwrig"
const CONFIDENCE: f64 = 0.95;
/// Below this share of defined resamples the interval would describe a conditioned subset; refuse instead.
const MIN_USED_SHARE: f64 = 0.9;

/// How to compare the twin's policies.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinComparison {
    pub baseline_policy: String,
    pub ai_policy: String,
    pub resamples: usize,
    pub seed: u64,
}

impl Default for TwinComparison {
    fn default() -> Self {
        TwinComparison {
            baseline_policy: DEFAULT_BASELINE_POLICY.to_owned(),
            ai_policy: DEFAULT_AI_POLICY.to_owned(),
            resamples: DEFAULT_RESAMPLES,
            seed: DEFAULT_BOOTSTRAP_SEED,
        }
    }
}

/// α from the means of paired KPI values over a set of replication indices; `None` when undefined
/// (baseline mean 0 and AI mean not 0).
fn alpha(pairs: &[(f64, f64)], indices: &[usize], better: Better) -> Option<f64> {
    let n = indices.len() as f64;
    let baseline = indices.iter().map(|&i| pairs[i].0).sum::<f64>() / n;
    let ai = indices.iter().map(|&i| pairs[i].1).sum::<f64>() / n;
    relative_change(baseline, ai, better)
}

fn relative_change(baseline: f64, ai: f64, better: Better) -> Option<f64> {
    if baseline == 0.0 {
        // Nothing to gain or reduce when both are zero; a change from zero has no relative size.
        return (ai == 0.0).then_some(0.0);
    }
    Some(match better {
        Better::Higher => ai / baseline - 1.0,
        Better::Lower => 1.0 - ai / baseline,
    })
}

/// Percentile with linear interpolation between order statistics (Hyndman–Fan type 7, as numpy's default).
/// Hand-written: a few lines, where a statistics crate would be a dependency for one function.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Measures α from a twin comparison and evaluates the model with 95 % CIs.
///
/// Point figures use all replications; each of `resamples` bootstrap resamples draws replication indices with
/// replacement (the same indices for both policies, keeping the common-random-number pairing), recomputes every
/// α and the whole model, and the CI is the 2.5th–97.5th percentile of each figure over the resamples.
pub fn impact_from_twin(
    model: &ImpactModel,
    assumptions: &Assumptions,
    twin: &TwinRuns,
    comparison: &TwinComparison,
) -> Result<MeasuredImpact> {
    if comparison.resamples == 0 {
        return Err(ImpactError::NoResamples(0));
    }
    if comparison.baseline_policy == comparison.ai_policy {
        return Err(ImpactError::SamePolicy {
            policy: comparison.baseline_policy.clone(),
        });
    }
    let baseline = twin.policy(&comparison.baseline_policy, "baseline")?;
    let ai = twin.policy(&comparison.ai_policy, "AI")?;
    for policy in [baseline, ai] {
        if policy.replications.is_empty() {
            return Err(ImpactError::NoReplications {
                run: twin.run_id.clone(),
                policy: policy.policy.clone(),
            });
        }
    }
    if baseline.replications.len() != ai.replications.len() {
        return Err(ImpactError::UnpairedReplications {
            run: twin.run_id.clone(),
            baseline: baseline.policy.clone(),
            baseline_count: baseline.replications.len(),
            ai: ai.policy.clone(),
            ai_count: ai.replications.len(),
        });
    }
    let n = baseline.replications.len();

    // Paired KPI values per mapping, checked once.
    let mut pairs: Vec<Vec<(f64, f64)>> = Vec::with_capacity(TWIN_MAPPING.len());
    for mapping in &TWIN_MAPPING {
        let mut column = Vec::with_capacity(n);
        for (i, (b, a)) in baseline
            .replications
            .iter()
            .zip(&ai.replications)
            .enumerate()
        {
            let b_value = checked_kpi(twin, &baseline.policy, i, mapping, b)?;
            let a_value = checked_kpi(twin, &ai.policy, i, mapping, a)?;
            column.push((b_value, a_value));
        }
        pairs.push(column);
    }

    let all: Vec<usize> = (0..n).collect();
    let mut measured = Vec::with_capacity(TWIN_MAPPING.len());
    let mut point_alphas = Vec::with_capacity(TWIN_MAPPING.len());
    for (mapping, column) in TWIN_MAPPING.iter().zip(&pairs) {
        let baseline_mean = column.iter().map(|p| p.0).sum::<f64>() / n as f64;
        let ai_mean = column.iter().map(|p| p.1).sum::<f64>() / n as f64;
        let value =
            alpha(column, &all, mapping.better).ok_or_else(|| ImpactError::ZeroBaselineKpi {
                run: twin.run_id.clone(),
                policy: baseline.policy.clone(),
                kpi: mapping.kpi,
                ai_mean,
            })?;
        point_alphas.push(value);
        measured.push(MeasuredTerm {
            path: mapping.path.to_owned(),
            term: mapping.term.to_owned(),
            measurement: Measurement {
                twin_run: twin.run_id.clone(),
                kpi: mapping.kpi.to_owned(),
                better: mapping.better,
                baseline_mean,
                ai_mean,
            },
        });
    }

    let plan = Plan::new(model, assumptions, &measured)?;
    let point = plan.evaluate(&point_alphas)?;
    let samples = bootstrap(&plan, &pairs, n, comparison)?;

    let mut result = point.map(|at, mean| {
        let mut values: Vec<f64> = samples.iter().map(|s| s.get(at)).collect();
        values.sort_by(f64::total_cmp);
        let tail = (1.0 - CONFIDENCE) / 2.0;
        Estimate {
            mean,
            ci_low: percentile(&values, tail),
            ci_high: percentile(&values, 1.0 - tail),
        }
    });
    result.twin = Some(TwinSource {
        run_id: twin.run_id.clone(),
        seed: twin.seed,
        baseline_policy: baseline.policy.clone(),
        ai_policy: ai.policy.clone(),
        replications: n,
        uncertainty: Uncertainty {
            method: "paired bootstrap over replications, percentile interval".to_owned(),
            confidence: CONFIDENCE,
            resamples: comparison.resamples,
            resamples_used: samples.len(),
            seed: comparison.seed,
        },
    });
    Ok(result)
}

/// Evaluates the plan on `comparison.resamples` resamples of replication indices; resamples where an α or a
/// path factor is undefined are left out (and counted), refusing when too many are.
fn bootstrap(
    plan: &Plan,
    pairs: &[Vec<(f64, f64)>],
    n: usize,
    comparison: &TwinComparison,
) -> Result<Vec<PointImpact>> {
    let mut rng = ChaCha8Rng::seed_from_u64(comparison.seed);
    let mut indices = vec![0usize; n];
    let mut alphas = vec![0.0; TWIN_MAPPING.len()];
    let mut samples = Vec::with_capacity(comparison.resamples);
    'resample: for _ in 0..comparison.resamples {
        for slot in &mut indices {
            *slot = rng.random_range(0..n);
        }
        for ((slot, mapping), column) in alphas.iter_mut().zip(&TWIN_MAPPING).zip(pairs) {
            match alpha(column, &indices, mapping.better) {
                Some(value) => *slot = value,
                None => continue 'resample,
            }
        }
        if let Ok(sample) = plan.evaluate(&alphas) {
            samples.push(sample);
        }
    }
    if (samples.len() as f64) < MIN_USED_SHARE * comparison.resamples as f64 {
        return Err(ImpactError::TooFewValidResamples {
            used: samples.len(),
            total: comparison.resamples,
        });
    }
    Ok(samples)
}

fn checked_kpi(
    twin: &TwinRuns,
    policy: &str,
    replication: usize,
    mapping: &KpiMapping,
    kpis: &ReplicationKpis,
) -> Result<f64> {
    let value = (mapping.read)(kpis);
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ImpactError::InvalidKpi {
            run: twin.run_id.clone(),
            policy: policy.to_owned(),
            replication,
            kpi: mapping.kpi,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_change_follows_the_direction() {
        assert_eq!(
            relative_change(100.0, 110.0, Better::Higher),
            Some(0.10000000000000009)
        );
        assert_eq!(relative_change(0.04, 0.03, Better::Lower), Some(0.25));
        assert_eq!(relative_change(0.0, 0.0, Better::Lower), Some(0.0));
        assert_eq!(relative_change(0.0, 1.0, Better::Lower), None);
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.025), 1.1);
        assert_eq!(percentile(&v, 1.0), 5.0);
        assert_eq!(percentile(&[7.0], 0.975), 7.0);
    }
}
