//! The business case: what the measured change in value is worth per month, against the investment and
//! the running cost of the AI system — payback, net present value and return on investment.

use serde::{Deserialize, Serialize};

pub use millwright_core::{BusinessInputs, Months, PerMonth, DEFAULT_CURRENCY};

use crate::error::{ImpactError, Result};

/// Mean hours in a month (365.25 days / 12).
pub const HOURS_PER_MONTH: f64 = 365.25 * 24.0 / 12.0;
/// The discount rate when none is given: a common hurdle rate for plant investments.
pub const DEFAULT_DISCOUNT_RATE: f64 = 0.08;
/// The horizon when none is given.
pub const DEFAULT_HORIZON_MONTHS: u32 = 36;

/// What the AI system costs and over how long it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Investment {
    /// One-off cost at month 0 (sensors, software, integration, training).
    pub investment: f64,
    /// Cost per month of running it (licences, data engineering, model upkeep).
    pub running_cost_per_month: f64,
    pub horizon_months: u32,
    /// Annual discount rate for the net present value.
    pub discount_rate: f64,
}

impl Investment {
    pub fn new(
        investment: f64,
        running_cost_per_month: f64,
        horizon_months: u32,
        discount_rate: f64,
    ) -> Result<Investment> {
        let check = |what: &'static str, value: f64| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(ImpactError::InvalidInvestment { what, value })
            }
        };
        check("investment", investment)?;
        check("running cost", running_cost_per_month)?;
        check("discount rate", discount_rate)?;
        if horizon_months == 0 {
            return Err(ImpactError::InvalidInvestment {
                what: "horizon",
                value: 0.0,
            });
        }
        Ok(Investment {
            investment,
            running_cost_per_month,
            horizon_months,
            discount_rate,
        })
    }

    /// The business case when either cost is given: the other counts as 0. `None` when neither is.
    pub fn from_costs(
        investment: Option<f64>,
        running_cost_per_month: Option<f64>,
        horizon_months: u32,
        discount_rate: f64,
    ) -> Result<Option<Investment>> {
        if investment.is_none() && running_cost_per_month.is_none() {
            return Ok(None);
        }
        Investment::new(
            investment.unwrap_or(0.0),
            running_cost_per_month.unwrap_or(0.0),
            horizon_months,
            discount_rate,
        )
        .map(Some)
    }

    /// The business case of `inputs` when either cost is given (horizon 3 years and an 8 % discount
    /// rate unless given); `None` when neither is.
    pub fn from_inputs(inputs: &BusinessInputs) -> Result<Option<Investment>> {
        Investment::from_costs(
            inputs.investment,
            inputs.running_cost.map(|r| r.0),
            inputs.horizon.map_or(DEFAULT_HORIZON_MONTHS, |h| h.0),
            inputs.discount_rate.unwrap_or(DEFAULT_DISCOUNT_RATE),
        )
    }

    /// The cash flows for a measured gain of `monthly_benefit` (change in margin per month).
    pub fn evaluate(&self, monthly_benefit: f64) -> CashFlow {
        let net = monthly_benefit - self.running_cost_per_month;
        let monthly_rate = (1.0 + self.discount_rate).powf(1.0 / 12.0);
        let discounted: f64 = (1..=self.horizon_months)
            .map(|m| net / monthly_rate.powi(m as i32))
            .sum();
        let total = net * f64::from(self.horizon_months) - self.investment;
        CashFlow {
            monthly_benefit,
            net_monthly: net,
            payback_months: (net > 0.0).then(|| self.investment / net),
            npv: discounted - self.investment,
            roi: (self.investment > 0.0).then(|| total / self.investment),
        }
    }
}

/// The cash flows of one evaluation (the point estimate or one bootstrap resample).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CashFlow {
    /// Change in margin per month of planned production.
    pub monthly_benefit: f64,
    /// The benefit less the running cost.
    pub net_monthly: f64,
    /// Investment / net monthly gain; `None` when the net gain is not positive (it never pays back).
    pub payback_months: Option<f64>,
    pub npv: f64,
    /// Undiscounted (gain over the horizon − investment) / investment; `None` without an investment.
    pub roi: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_over_the_line_file_and_defaults_under_both() {
        let line = BusinessInputs {
            investment: Some(50_000.0),
            running_cost: Some(PerMonth(1_000.0)),
            currency: Some("CNY".to_owned()),
            ..BusinessInputs::default()
        };
        let flags = BusinessInputs {
            investment: Some(80_000.0),
            horizon: Some(Months(24)),
            ..BusinessInputs::default()
        };
        let both = flags.over(&line);
        assert_eq!(
            Investment::from_inputs(&both).unwrap(),
            Some(Investment::new(80_000.0, 1_000.0, 24, DEFAULT_DISCOUNT_RATE).unwrap())
        );
        assert_eq!(both.currency(), "CNY");
        assert_eq!(
            Investment::from_inputs(&BusinessInputs::default()).unwrap(),
            None
        );
        assert_eq!(BusinessInputs::default().currency(), DEFAULT_CURRENCY);
        let negative = BusinessInputs {
            investment: Some(-1.0),
            ..BusinessInputs::default()
        };
        assert!(Investment::from_inputs(&negative).is_err());
    }

    #[test]
    fn payback_npv_and_roi_follow_their_definitions() {
        let plan = Investment::new(120_000.0, 2_000.0, 36, 0.0).unwrap();
        let cash = plan.evaluate(12_000.0);
        assert_eq!(cash.net_monthly, 10_000.0);
        assert_eq!(cash.payback_months, Some(12.0));
        assert!((cash.npv - (360_000.0 - 120_000.0)).abs() < 1e-6);
        assert!((cash.roi.unwrap() - 2.0).abs() < 1e-12);
        // Discounting lowers the NPV; 12 months at 12 %/year discount by (1.12)^(m/12).
        let discounted = Investment::new(0.0, 0.0, 12, 0.12).unwrap().evaluate(100.0);
        let expected: f64 = (1..=12)
            .map(|m| 100.0 / 1.12f64.powf(m as f64 / 12.0))
            .sum();
        assert!((discounted.npv - expected).abs() < 1e-9);
        assert_eq!(discounted.roi, None);
        // A gain below the running cost never pays back.
        assert_eq!(plan.evaluate(1_500.0).payback_months, None);
        assert!(Investment::new(-1.0, 0.0, 12, 0.08).is_err());
        assert!(Investment::new(1.0, 0.0, 0, 0.08).is_err());
        assert!(Investment::new(1.0, f64::NAN, 12, 0.08).is_err());
    }
}
