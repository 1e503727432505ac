//! What the result depends on: the headline figures with one input moved at a time (a tornado chart).
//!
//! Prices are varied here, from the replications' counts, without simulating again; inputs of the
//! simulation (failure rates, maintenance duration, the model's recall) are varied by the application
//! layer, which simulates the changed line and adds rows with [`outcome`].

use serde::{Deserialize, Serialize};

use crate::assumptions::Assumptions;
use crate::error::{ImpactError, Result};
use crate::measure::{Sample, Setup, TwinComparison};
use crate::model::ImpactModel;
use crate::twin_runs::{Price, TwinRuns};

/// The headline figures of one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// P1/P0.
    pub productivity_ratio: f64,
    /// V1/V0; `None` when the baseline margin is not > 0.
    pub value_ratio: Option<f64>,
    /// Change in margin per month.
    pub monthly_benefit: f64,
    /// With an investment: its NPV over the horizon.
    pub npv: Option<f64>,
    /// With an investment: months to pay it back; `None` when it never does (or without investment).
    pub payback_months: Option<f64>,
}

impl Outcome {
    pub(crate) fn of(sample: &Sample) -> Outcome {
        Outcome {
            productivity_ratio: sample.ai.productivity / sample.base.productivity,
            value_ratio: (sample.base.value > 0.0).then(|| sample.ai.value / sample.base.value),
            monthly_benefit: sample.monthly_benefit,
            npv: sample.cash.map(|c| c.npv),
            payback_months: sample.cash.and_then(|c| c.payback_months),
        }
    }
}

/// One input at a low and a high setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensitivityRow {
    /// What was varied, e.g. `price: downtime_per_hour` or `model recall`.
    pub input: String,
    /// `price` (recomputed from the counts) or `simulated` (the twin ran again).
    pub kind: String,
    pub low: Setting,
    pub high: Setting,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// The input's setting, e.g. `−25 %` or `60 % of measured`.
    pub setting: String,
    pub outcome: Outcome,
}

impl SensitivityRow {
    /// How far the row moves the monthly benefit (the tornado's bar length).
    pub fn swing(&self) -> f64 {
        (self.high.outcome.monthly_benefit - self.low.outcome.monthly_benefit).abs()
    }
}

/// Each price at −range and +range.
pub(crate) fn price_rows(setup: &Setup, all: &[usize], range: f64) -> Result<Vec<SensitivityRow>> {
    if !(range.is_finite() && range > 0.0 && range < 1.0) {
        return Err(ImpactError::InvalidInvestment {
            what: "price range",
            value: range,
        });
    }
    let at = |price: Price, k: f64| {
        setup
            .sample(all, &setup.prices.scaled(price, k))
            .map(|s| Outcome::of(&s))
    };
    let percent = |k: f64| format!("{:+.0} %", (k - 1.0) * 100.0);
    let mut rows = Vec::new();
    for price in Price::ALL {
        let (lo, hi) = (1.0 - range, 1.0 + range);
        // A price that moves a ratio's baseline to zero leaves that row out rather than failing.
        if let (Some(low), Some(high)) = (at(price, lo), at(price, hi)) {
            rows.push(SensitivityRow {
                input: format!("price: {}", price.key()),
                kind: "price".to_owned(),
                low: Setting {
                    setting: percent(lo),
                    outcome: low,
                },
                high: Setting {
                    setting: percent(hi),
                    outcome: high,
                },
            });
        }
    }
    Ok(rows)
}

/// The point outcome of `twin` (no intervals): for inputs varied by simulating again.
pub fn outcome(
    model: &ImpactModel,
    assumptions: &Assumptions,
    twin: &TwinRuns,
    comparison: &TwinComparison,
) -> Result<Outcome> {
    let point = crate::measure::point_sample(model, assumptions, twin, comparison)?;
    Ok(Outcome::of(&point))
}

/// Rows by swing, largest first (the tornado's order).
pub fn sorted(mut rows: Vec<SensitivityRow>) -> Vec<SensitivityRow> {
    rows.sort_by(|a, b| b.swing().total_cmp(&a.swing()));
    rows
}
