//! The measured business case: a baseline policy (the plant's current practice) against an AI policy in
//! one twin run, as measured totals (P, V), their multiplicative drivers, the source document's α
//! decomposition that recomposes them exactly, and the money — each with a paired-bootstrap 95 % CI.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::assumptions::{Assumptions, Given};
use crate::business::{BusinessInputs, CashFlow, Investment, HOURS_PER_MONTH};
use crate::error::{ImpactError, Result};
use crate::model::ImpactModel;
use crate::plan::{MeasuredTerm, Plan};
use crate::report::{Better, Estimate, Impact, Measurement, PointImpact, Uncertainty};
use crate::sensitivity::{price_rows, sorted, Outcome, SensitivityRow};
use crate::totals::{shapley_alphas, Driver, Totals, VALUE_ONLY_PATH};
use crate::twin_runs::{PolicyRuns, Prices, TwinRuns};

/// Default policies compared and bootstrap settings.
pub const DEFAULT_AI_POLICY: &str = "predictive";
pub const DEFAULT_RESAMPLES: usize = 2000;
pub const DEFAULT_BOOTSTRAP_SEED: u64 = 0x6d69_6c6c_7772_6967; // "millwrig"
/// How far each price is moved in the sensitivity analysis (± this share).
pub const DEFAULT_PRICE_RANGE: f64 = 0.25;
const CONFIDENCE: f64 = 0.95;
/// Below this share of defined resamples the interval would describe a conditioned subset; refuse instead.
const MIN_USED_SHARE: f64 = 0.9;

/// How to compare the twin's policies and what the AI system costs.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinComparison {
    /// `None`: the line file's `current_policy`.
    pub baseline_policy: Option<String>,
    pub ai_policy: String,
    pub resamples: usize,
    pub seed: u64,
    /// What the AI system costs, over the line file's `[business]` table (these win).
    pub business: BusinessInputs,
    pub price_range: f64,
}

impl Default for TwinComparison {
    fn default() -> Self {
        TwinComparison {
            baseline_policy: None,
            ai_policy: DEFAULT_AI_POLICY.to_owned(),
            resamples: DEFAULT_RESAMPLES,
            seed: DEFAULT_BOOTSTRAP_SEED,
            business: BusinessInputs::default(),
            price_range: DEFAULT_PRICE_RANGE,
        }
    }
}

/// A measured figure of both policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub unit: String,
    pub baseline: Estimate,
    pub ai: Estimate,
    /// AI / baseline; `None` when the baseline is not > 0 (a ratio of a loss means nothing).
    pub ratio: Option<Estimate>,
    /// AI − baseline.
    pub difference: Estimate,
}

/// One multiplicative driver and the α it is attributed to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriverChange {
    pub driver: Driver,
    pub unit: String,
    pub baseline: Estimate,
    pub ai: Estimate,
    pub ratio: Estimate,
    /// The source document's term: `path.term`.
    pub term: String,
    pub alpha: Estimate,
}

/// Money: the measured change in margin against the investment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessCase {
    pub investment: Investment,
    pub currency: String,
    /// Change in margin per month (planned hours per month as in the twin's window).
    pub monthly_benefit: Estimate,
    pub net_monthly: Estimate,
    pub payback: Payback,
    /// Share of resamples in which the net monthly gain is not positive.
    pub never_pays_back_share: f64,
    pub npv: Estimate,
    pub roi: Option<Estimate>,
}

/// Months until the investment is back, with its interval; `None` where it never pays back (the net
/// monthly gain is not positive), at the estimate or at a bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Payback {
    pub months: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// Which twin comparison the figures come from (lineage) and how sure they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinSource {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    pub baseline_policy: String,
    /// `line file (current_policy)` or `given`.
    pub baseline_from: String,
    pub ai_policy: String,
    /// Paired replications per policy.
    pub replications: usize,
    pub uncertainty: Uncertainty,
    /// Largest |Π (1 + Σα) − P1/P0| / (P1/P0) over the estimate and every resample: the α recompose the
    /// measured ratio (and V1/V0) to rounding.
    pub recomposition_error: f64,
}

/// The measured impact of AI against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredImpact {
    pub twin: TwinSource,
    /// Good parts per planned hour.
    pub productivity: Change,
    /// Margin (revenue − cost) per planned hour.
    pub value: Change,
    pub drivers: Vec<DriverChange>,
    /// Π of the paths that act on productivity = P1/P0 (with user-given α, times theirs).
    pub f_productivity: Estimate,
    /// Π of all paths = V1/V0; `None` when the baseline margin is not > 0.
    pub f_value: Option<Estimate>,
    /// The source document's model as written: one f_AI over all paths for both P and V (a
    /// simplification: P1 = P0·f_AI then also counts the margin's change).
    pub formula: Impact<Estimate>,
    pub business: Option<BusinessCase>,
    /// The headline with one input moved at a time; rows sorted by how far they move the monthly benefit.
    pub sensitivity: Vec<SensitivityRow>,
    /// The outcome the sensitivity rows are set against.
    pub outcome: Outcome,
}

/// The point figures of one evaluation (all replications, or one resample).
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub base: Totals,
    pub ai: Totals,
    pub alphas: Vec<f64>,
    pub formula: PointImpact,
    pub f_productivity: f64,
    pub f_value: Option<f64>,
    pub monthly_benefit: f64,
    pub cash: Option<CashFlow>,
    pub recomposition_error: f64,
}

/// What is measured and how it is evaluated, checked once.
pub(crate) struct Setup<'a> {
    pub plan: Plan,
    pub drivers: Vec<Driver>,
    pub base: &'a PolicyRuns,
    pub ai: &'a PolicyRuns,
    pub prices: Prices,
    pub investment: Option<Investment>,
    pub currency: String,
}

impl Setup<'_> {
    /// Evaluates the model on replication `indices` (with the setup's prices); `None` where a ratio is
    /// undefined (a zero baseline) or α make a path factor ≤ 0.
    pub fn sample(&self, indices: &[usize], prices: &Prices) -> Option<Sample> {
        let base = Totals::pooled(&self.base.replications, indices, prices);
        let ai = Totals::pooled(&self.ai.replications, indices, prices);
        let ratios: Vec<f64> = self
            .drivers
            .iter()
            .map(|d| d.of(&ai) / d.of(&base))
            .collect();
        if ratios.iter().any(|r| !r.is_finite() || *r <= 0.0) {
            return None;
        }
        let alphas = attribute(&self.drivers, &ratios);
        let mut formula = self.plan.evaluate(&alphas).ok()?;
        set_levels(&mut formula, &base);
        let f_productivity = productivity_factor(&formula);
        let f_value = (base.value > 0.0).then_some(formula.f_ai);
        let measured_p = ai.productivity / base.productivity;
        let recomposed = measured_factor(&self.drivers, &alphas, false);
        let monthly_benefit = (ai.value - base.value) * base.planned_share * HOURS_PER_MONTH;
        Some(Sample {
            recomposition_error: ((recomposed - measured_p) / measured_p).abs(),
            cash: self.investment.map(|i| i.evaluate(monthly_benefit)),
            base,
            ai,
            alphas,
            formula,
            f_productivity,
            f_value,
            monthly_benefit,
        })
    }
}

/// α per measured driver: each path's drivers share its ratio by Shapley values.
fn attribute(drivers: &[Driver], ratios: &[f64]) -> Vec<f64> {
    let mut alphas = vec![0.0; drivers.len()];
    let mut paths: Vec<&str> = drivers.iter().map(|d| d.term().0).collect();
    paths.dedup();
    for path in paths {
        let members: Vec<usize> = (0..drivers.len())
            .filter(|&i| drivers[i].term().0 == path)
            .collect();
        let shares = shapley_alphas(&members.iter().map(|&i| ratios[i]).collect::<Vec<_>>());
        for (&i, share) in members.iter().zip(shares) {
            alphas[i] = share;
        }
    }
    alphas
}

/// Π over the measured paths of (1 + Σ measured α): productivity paths only, or all.
fn measured_factor(drivers: &[Driver], alphas: &[f64], with_value: bool) -> f64 {
    let mut paths: Vec<&str> = drivers.iter().map(|d| d.term().0).collect();
    paths.dedup();
    paths
        .into_iter()
        .filter(|p| with_value || *p != VALUE_ONLY_PATH)
        .map(|p| {
            1.0 + drivers
                .iter()
                .zip(alphas)
                .filter(|(d, _)| d.term().0 == p)
                .map(|(_, a)| a)
                .sum::<f64>()
        })
        .product()
}

fn productivity_factor(formula: &PointImpact) -> f64 {
    formula
        .paths
        .iter()
        .filter(|p| p.name != VALUE_ONLY_PATH)
        .map(|p| p.factor)
        .product()
}

/// The source formula's levels: P0, V0 measured for the baseline; P1 = P0·f_AI, V1 = V0·f_AI.
fn set_levels(formula: &mut PointImpact, base: &Totals) {
    formula.p0 = base.productivity;
    formula.v0 = base.value;
    formula.p1 = base.productivity * formula.f_ai;
    formula.v1 = base.value * formula.f_ai;
}

/// Measures the AI policy against the baseline in twin run `twin` with 95 % CIs.
///
/// Point figures use all replications; each of `resamples` bootstrap resamples draws replication indices
/// with replacement (the same indices for both policies, keeping the common-random-number pairing) and
/// recomputes every figure; the CI is the 2.5th–97.5th percentile over the resamples.
pub fn impact_from_twin(
    model: &ImpactModel,
    assumptions: &Assumptions,
    twin: &TwinRuns,
    comparison: &TwinComparison,
) -> Result<MeasuredImpact> {
    let (baseline_policy, baseline_from) = baseline_of(twin, comparison)?;
    let setup = setup(model, assumptions, twin, comparison, &baseline_policy)?;
    let n = setup.base.replications.len();
    let all: Vec<usize> = (0..n).collect();
    let point = point_of(&setup, twin, &all)?;
    let samples = bootstrap(&setup, n, comparison)?;
    let figures = Figures {
        point: &point,
        samples: &samples,
    };
    let recomposition_error = samples
        .iter()
        .map(|s| s.recomposition_error)
        .fold(point.recomposition_error, f64::max);
    Ok(MeasuredImpact {
        twin: TwinSource {
            run_id: twin.run_id.clone(),
            seed: twin.seed,
            baseline_policy,
            baseline_from,
            ai_policy: setup.ai.policy.clone(),
            replications: n,
            uncertainty: Uncertainty {
                method: "paired bootstrap over replications, percentile interval".to_owned(),
                confidence: CONFIDENCE,
                resamples: comparison.resamples,
                resamples_used: samples.len(),
                seed: comparison.seed,
            },
            recomposition_error,
        },
        productivity: figures.change("good parts per planned hour", |t| t.productivity),
        value: figures.change(
            &format!("{} margin per planned hour", setup.currency),
            |t| t.value,
        ),
        drivers: figures.drivers(&setup.drivers, &setup.currency),
        f_productivity: figures.estimate(|s| s.f_productivity),
        f_value: point
            .f_value
            .map(|_| figures.estimate(|s| s.f_value.unwrap_or(f64::NAN))),
        formula: point.formula.map(|at, mean| {
            Estimate::from_samples(mean, samples.iter().map(|s| s.formula.get(at)))
        }),
        business: setup
            .investment
            .map(|i| figures.business(i, &setup.currency)),
        sensitivity: sorted(price_rows(&setup, &all, comparison.price_range)?),
        outcome: Outcome::of(&point),
    })
}

/// The estimate from all replications, without intervals.
pub(crate) fn point_sample(
    model: &ImpactModel,
    assumptions: &Assumptions,
    twin: &TwinRuns,
    comparison: &TwinComparison,
) -> Result<Sample> {
    let (baseline_policy, _) = baseline_of(twin, comparison)?;
    let setup = setup(model, assumptions, twin, comparison, &baseline_policy)?;
    let all: Vec<usize> = (0..setup.base.replications.len()).collect();
    point_of(&setup, twin, &all)
}

fn point_of(setup: &Setup, twin: &TwinRuns, all: &[usize]) -> Result<Sample> {
    setup
        .sample(all, &setup.prices)
        .ok_or_else(|| ImpactError::ZeroBaselineKpi {
            run: twin.run_id.clone(),
            policy: setup.base.policy.clone(),
        })
}

fn baseline_of(twin: &TwinRuns, comparison: &TwinComparison) -> Result<(String, String)> {
    match (&comparison.baseline_policy, &twin.current_policy) {
        (Some(given), _) => Ok((given.clone(), "given".to_owned())),
        (None, Some(current)) => Ok((current.clone(), "line file (current_policy)".to_owned())),
        (None, None) => Err(ImpactError::NoBaseline {
            run: twin.run_id.clone(),
        }),
    }
}

fn setup<'a>(
    model: &ImpactModel,
    assumptions: &Assumptions,
    twin: &'a TwinRuns,
    comparison: &TwinComparison,
    baseline_policy: &str,
) -> Result<Setup<'a>> {
    if comparison.resamples == 0 {
        return Err(ImpactError::NoResamples(0));
    }
    if baseline_policy == comparison.ai_policy {
        return Err(ImpactError::SamePolicy {
            policy: comparison.ai_policy.clone(),
        });
    }
    for (given, what) in [(&assumptions.p0, "P0"), (&assumptions.v0, "V0")] {
        if let Some(given) = given {
            return Err(ImpactError::LevelWithTwin {
                what,
                origin: given.origin.clone(),
            });
        }
    }
    twin.check_prices()?;
    let base = twin.policy(baseline_policy, "baseline")?;
    let ai = twin.policy(&comparison.ai_policy, "AI")?;
    check_pairs(twin, base, ai)?;
    let all: Vec<usize> = (0..base.replications.len()).collect();
    let base_totals = Totals::pooled(&base.replications, &all, &twin.prices);
    let ai_totals = Totals::pooled(&ai.replications, &all, &twin.prices);
    // Without a positive baseline margin the value ratio (and its α) is undefined: measure P only.
    let drivers: Vec<Driver> = Driver::ALL
        .into_iter()
        .filter(|d| *d != Driver::MarginPerGoodPart || base_totals.value > 0.0)
        .collect();
    let measured: Vec<MeasuredTerm> = drivers
        .iter()
        .map(|d| measured_term(*d, &twin.run_id, &base_totals, &ai_totals))
        .collect();
    let business = comparison.business.over(&twin.business);
    let mut index = assumptions.clone();
    index.p0 = Some(Given::new(1.0, "index"));
    index.v0 = Some(Given::new(1.0, "index"));
    Ok(Setup {
        plan: Plan::new(model, &index, &measured)?,
        drivers,
        base,
        ai,
        prices: twin.prices,
        investment: Investment::from_inputs(&business)?,
        currency: business.currency().to_owned(),
    })
}

fn check_pairs(twin: &TwinRuns, base: &PolicyRuns, ai: &PolicyRuns) -> Result<()> {
    for policy in [base, ai] {
        if policy.replications.is_empty() {
            return Err(ImpactError::NoReplications {
                run: twin.run_id.clone(),
                policy: policy.policy.clone(),
            });
        }
    }
    if base.replications.len() != ai.replications.len() {
        return Err(ImpactError::UnpairedReplications {
            run: twin.run_id.clone(),
            baseline: base.policy.clone(),
            baseline_count: base.replications.len(),
            ai: ai.policy.clone(),
            ai_count: ai.replications.len(),
        });
    }
    Ok(())
}

fn measured_term(driver: Driver, run: &str, base: &Totals, ai: &Totals) -> MeasuredTerm {
    let (path, term) = driver.term();
    MeasuredTerm {
        path: path.to_owned(),
        term: term.to_owned(),
        measurement: Measurement {
            twin_run: run.to_owned(),
            kpi: driver.name().to_owned(),
            better: Better::Higher,
            baseline_mean: driver.of(base),
            ai_mean: driver.of(ai),
        },
    }
}

/// Resamples replication indices; resamples where a figure is undefined are left out (and counted),
/// refusing when too many are.
fn bootstrap(setup: &Setup, n: usize, comparison: &TwinComparison) -> Result<Vec<Sample>> {
    let mut rng = ChaCha8Rng::seed_from_u64(comparison.seed);
    let mut indices = vec![0usize; n];
    let mut samples = Vec::with_capacity(comparison.resamples);
    for _ in 0..comparison.resamples {
        for slot in &mut indices {
            *slot = rng.random_range(0..n);
        }
        if let Some(sample) = setup.sample(&indices, &setup.prices) {
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

/// The point sample and the resamples, turned into estimates figure by figure.
struct Figures<'a> {
    point: &'a Sample,
    samples: &'a [Sample],
}

impl Figures<'_> {
    fn estimate(&self, figure: impl Fn(&Sample) -> f64) -> Estimate {
        Estimate::from_samples(figure(self.point), self.samples.iter().map(&figure))
    }

    fn change(&self, unit: &str, figure: impl Fn(&Totals) -> f64 + Copy) -> Change {
        let has_ratio = figure(&self.point.base) > 0.0;
        Change {
            unit: unit.to_owned(),
            baseline: self.estimate(|s| figure(&s.base)),
            ai: self.estimate(|s| figure(&s.ai)),
            ratio: has_ratio.then(|| self.estimate(|s| figure(&s.ai) / figure(&s.base))),
            difference: self.estimate(|s| figure(&s.ai) - figure(&s.base)),
        }
    }

    fn drivers(&self, drivers: &[Driver], currency: &str) -> Vec<DriverChange> {
        drivers
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                let (path, term) = d.term();
                DriverChange {
                    driver: d,
                    unit: d.unit(currency),
                    baseline: self.estimate(|s| d.of(&s.base)),
                    ai: self.estimate(|s| d.of(&s.ai)),
                    ratio: self.estimate(|s| d.of(&s.ai) / d.of(&s.base)),
                    term: format!("{path}.{term}"),
                    alpha: self.estimate(|s| s.alphas[i]),
                }
            })
            .collect()
    }

    fn business(&self, investment: Investment, currency: &str) -> BusinessCase {
        let cash = |s: &Sample| {
            s.cash
                .expect("every sample has cash flows with an investment")
        };
        let paybacks: Vec<f64> = self
            .samples
            .iter()
            .map(|s| cash(s).payback_months.unwrap_or(f64::INFINITY))
            .collect();
        let never = paybacks.iter().filter(|p| p.is_infinite()).count();
        let payback = Estimate::from_samples(
            cash(self.point).payback_months.unwrap_or(f64::INFINITY),
            paybacks.iter().copied(),
        );
        BusinessCase {
            investment,
            currency: currency.to_owned(),
            monthly_benefit: self.estimate(|s| s.monthly_benefit),
            net_monthly: self.estimate(|s| cash(s).net_monthly),
            payback: Payback {
                months: finite(payback.mean),
                ci_low: finite(payback.ci_low),
                ci_high: finite(payback.ci_high),
            },
            never_pays_back_share: never as f64 / self.samples.len().max(1) as f64,
            npv: self.estimate(|s| cash(s).npv),
            roi: cash(self.point)
                .roi
                .map(|_| self.estimate(|s| cash(s).roi.unwrap_or(f64::NAN))),
        }
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl Estimate {
    /// `mean` with the central 95 % of `values` (percentiles, NaN left out) as its interval.
    pub fn from_samples(mean: f64, values: impl Iterator<Item = f64>) -> Estimate {
        let mut values: Vec<f64> = values.filter(|v| !v.is_nan()).collect();
        if values.is_empty() {
            return Estimate::exact(mean);
        }
        values.sort_by(f64::total_cmp);
        let tail = (1.0 - CONFIDENCE) / 2.0;
        Estimate {
            mean,
            ci_low: percentile(&values, tail),
            ci_high: percentile(&values, 1.0 - tail),
        }
    }
}

/// Percentile with linear interpolation between order statistics (Hyndman–Fan type 7, as numpy's default).
/// Hand-written: a few lines, where a statistics crate would be a dependency for one function.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    if sorted[hi].is_infinite() || sorted[lo].is_infinite() {
        return if h - lo as f64 == 0.0 {
            sorted[lo]
        } else {
            sorted[hi]
        };
    }
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 0.5), 3.0);
        assert_eq!(percentile(&v, 0.025), 1.1);
        assert_eq!(percentile(&v, 1.0), 5.0);
        assert_eq!(percentile(&[7.0], 0.975), 7.0);
        assert_eq!(percentile(&[1.0, f64::INFINITY], 0.975), f64::INFINITY);
    }
}
