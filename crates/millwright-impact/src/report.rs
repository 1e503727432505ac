//! The result of the model, generic over the figure type: plain `f64` for user-given inputs,
//! [`Estimate`] (point and 95 % CI) when α are measured from a twin run.

use serde::{Deserialize, Serialize};

/// A point estimate with its confidence interval. `mean` is the estimate from all replications;
/// `ci_low`/`ci_high` are bootstrap percentiles.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

impl Estimate {
    /// A figure known without uncertainty (user-given): its interval is the point.
    pub fn exact(value: f64) -> Self {
        Estimate {
            mean: value,
            ci_low: value,
            ci_high: value,
        }
    }
}

/// Whether α was measured or stated by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TermSource {
    Measured,
    User,
}

/// How a path's factor was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FactorSource {
    /// f_p = 1 + Σ α of its terms.
    Terms,
    /// f_p given directly (`--factor`, `[factor]`); its terms are not broken down.
    Given,
}

/// Which way a KPI has to move for AI to help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// α = mean(AI) / mean(baseline) − 1 (relative gain).
    Higher,
    /// α = 1 − mean(AI) / mean(baseline) (relative reduction).
    Lower,
}

/// What a measured α was computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub twin_run: String,
    pub kpi: String,
    pub better: Better,
    /// Mean of the KPI over the baseline policy's replications.
    pub baseline_mean: f64,
    /// Mean of the KPI over the AI policy's replications.
    pub ai_mean: f64,
}

/// One α term in the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermResult<F> {
    pub name: String,
    pub label: String,
    pub alpha: F,
    pub source: TermSource,
    /// Where the value came from: a flag, a model-file key, `default`, or the twin run and KPI.
    pub origin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurement: Option<Measurement>,
}

/// One path in the result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathResult<F> {
    pub name: String,
    pub label: String,
    /// f_p.
    pub factor: F,
    /// f_p − 1: the path's total α.
    pub alpha_sum: F,
    pub factor_source: FactorSource,
    /// Where a directly given factor came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor_origin: Option<String>,
    /// The α terms; empty when the factor was given directly.
    pub terms: Vec<TermResult<F>>,
}

/// How the confidence intervals were obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Uncertainty {
    pub method: String,
    pub confidence: f64,
    pub resamples: usize,
    /// Resamples that gave a defined result (the CI is computed over these).
    pub resamples_used: usize,
    pub seed: u64,
}

/// The productivity impact: f_AI = Π f_p, P1 = P0·f_AI, V1 = V0·f_AI, uplift = f_AI − 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Impact<F> {
    pub f_ai: F,
    pub p0: F,
    pub p1: F,
    pub v0: F,
    pub v1: F,
    /// f_AI − 1, as a fraction (1.184 means +118.4 %).
    pub uplift: F,
    pub paths: Vec<PathResult<F>>,
}

/// A point result, from user-given figures or from one bootstrap resample.
pub type PointImpact = Impact<f64>;

impl PointImpact {
    /// Every figure of this result as an exact estimate (CI = point), to set beside measured results.
    pub fn to_estimates(&self) -> Impact<Estimate> {
        self.map(|_, v| Estimate::exact(v))
    }

    /// Rebuilds the result with each figure replaced by `f(locator, value)`; the locator picks the same figure
    /// out of another result of the same plan (the bootstrap uses it to gather one figure across resamples).
    pub(crate) fn map<G>(&self, mut f: impl FnMut(Locator, f64) -> G) -> Impact<G> {
        Impact {
            f_ai: f(Locator::FAi, self.f_ai),
            p0: f(Locator::P0, self.p0),
            p1: f(Locator::P1, self.p1),
            v0: f(Locator::V0, self.v0),
            v1: f(Locator::V1, self.v1),
            uplift: f(Locator::Uplift, self.uplift),
            paths: self
                .paths
                .iter()
                .enumerate()
                .map(|(p, path)| PathResult {
                    name: path.name.clone(),
                    label: path.label.clone(),
                    factor: f(Locator::Factor(p), path.factor),
                    alpha_sum: f(Locator::AlphaSum(p), path.alpha_sum),
                    factor_source: path.factor_source,
                    factor_origin: path.factor_origin.clone(),
                    terms: path
                        .terms
                        .iter()
                        .enumerate()
                        .map(|(t, term)| TermResult {
                            name: term.name.clone(),
                            label: term.label.clone(),
                            alpha: f(Locator::Alpha(p, t), term.alpha),
                            source: term.source,
                            origin: term.origin.clone(),
                            measurement: term.measurement.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The figure a locator points at.
    pub(crate) fn get(&self, at: Locator) -> f64 {
        match at {
            Locator::FAi => self.f_ai,
            Locator::P0 => self.p0,
            Locator::P1 => self.p1,
            Locator::V0 => self.v0,
            Locator::V1 => self.v1,
            Locator::Uplift => self.uplift,
            Locator::Factor(p) => self.paths[p].factor,
            Locator::AlphaSum(p) => self.paths[p].alpha_sum,
            Locator::Alpha(p, t) => self.paths[p].terms[t].alpha,
        }
    }
}

/// Addresses one figure inside an [`Impact`] (path and term by index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locator {
    FAi,
    P0,
    P1,
    V0,
    V1,
    Uplift,
    Factor(usize),
    AlphaSum(usize),
    Alpha(usize, usize),
}
