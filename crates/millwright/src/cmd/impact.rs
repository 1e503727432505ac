//! `impact`: the productivity model, from user-given factors or from α measured in a twin run.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use millwright_app::impact::{self, ImpactOutcome, ImpactRequest};
use millwright_impact::{
    render_measured, render_table, BusinessInputs, Given, Months, PerMonth, TwinComparison,
    DEFAULT_AI_POLICY, DEFAULT_BOOTSTRAP_SEED, DEFAULT_PRICE_RANGE, DEFAULT_RESAMPLES,
};

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// Productivity before AI (P0), any unit, for given factors; a twin run measures its own.
    #[arg(long, allow_negative_numbers = true)]
    pub p0: Option<f64>,
    /// Value before AI (V0), any unit, for given factors; a twin run measures its own.
    #[arg(long, allow_negative_numbers = true)]
    pub v0: Option<f64>,
    #[command(flatten)]
    pub given: GivenArgs,
    /// Measure the impact from this twin run: the AI policy against the baseline, with 95 % CIs.
    #[arg(long, value_name = "TWIN_RUN_ID")]
    pub from_twin: Option<String>,
    #[command(flatten)]
    pub comparison: ComparisonArgs,
}

/// Figures the user states instead of measuring.
#[derive(Debug, Clone, Args)]
pub struct GivenArgs {
    /// A whole path factor f_p, `PATH=FACTOR` (repeatable), e.g. `digital_twin=1.4`.
    #[arg(
        long = "factor",
        value_name = "PATH=FACTOR",
        allow_hyphen_values = true
    )]
    pub factors: Vec<String>,
    /// One α term, `PATH.TERM=ALPHA` (repeatable), e.g. `smart_manufacturing.scrap_rate=0.05`.
    #[arg(
        long = "alpha",
        value_name = "PATH.TERM=ALPHA",
        allow_hyphen_values = true
    )]
    pub alphas: Vec<String>,
    /// Model file (TOML) adding paths and terms and assuming figures; see docs/impact.md.
    /// The command line wins over it.
    #[arg(long = "model", value_name = "FILE")]
    pub model_file: Option<PathBuf>,
}

impl GivenArgs {
    /// The request's given figures, each labelled with the flag it came from.
    pub fn request(
        &self,
        p0: Option<f64>,
        v0: Option<f64>,
        comparison: &ComparisonArgs,
    ) -> Result<ImpactRequest> {
        Ok(ImpactRequest {
            p0: p0.map(|v| Given::new(v, "--p0")),
            v0: v0.map(|v| Given::new(v, "--v0")),
            factors: self.factors.clone(),
            alphas: self.alphas.clone(),
            model_file: self.model_file.clone(),
            from_twin: None,
            comparison: comparison.comparison()?,
        })
    }
}

/// Which twin policies to compare, how to bootstrap the intervals, and what the AI system costs.
#[derive(Debug, Clone, Args)]
pub struct ComparisonArgs {
    /// The policy without AI; default: the line file's `current_policy` (the plant's current practice).
    #[arg(long)]
    pub baseline: Option<String>,
    /// The twin policy with AI.
    #[arg(long, default_value = DEFAULT_AI_POLICY)]
    pub ai_policy: String,
    /// Bootstrap resamples for the confidence intervals.
    #[arg(long, default_value_t = DEFAULT_RESAMPLES)]
    pub resamples: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = DEFAULT_BOOTSTRAP_SEED)]
    pub bootstrap_seed: u64,
    #[command(flatten)]
    pub business: BusinessArgs,
    /// How far each price is moved in the sensitivity analysis (± this share).
    #[arg(long, default_value_t = DEFAULT_PRICE_RANGE)]
    pub price_range: f64,
}

impl ComparisonArgs {
    pub fn comparison(&self) -> Result<TwinComparison> {
        Ok(TwinComparison {
            baseline_policy: self.baseline.clone(),
            ai_policy: self.ai_policy.clone(),
            resamples: self.resamples,
            seed: self.bootstrap_seed,
            business: self.business.inputs(),
            price_range: self.price_range,
        })
    }
}

/// What the AI system costs; each figure the line file's `[business]` table does not give is optional.
#[derive(Debug, Clone, Args)]
pub struct BusinessArgs {
    /// One-off cost of the AI system (sensors, software, integration), in the line's currency
    /// (default: the line file's `[business] investment`).
    #[arg(long)]
    pub investment: Option<f64>,
    /// Cost of running it, `AMOUNT/month` (or `/year`, `/week`); 0 when only an investment is given.
    #[arg(long, value_name = "AMOUNT/PERIOD")]
    pub running_cost: Option<PerMonth>,
    /// Horizon of the business case: `3y`, `36mo` (default: the line file's, else 3y).
    #[arg(long, value_name = "DURATION")]
    pub horizon: Option<Months>,
    /// Annual discount rate of the net present value (default: the line file's, else 0.08).
    #[arg(long)]
    pub discount_rate: Option<f64>,
    /// Currency the line file's costs are in, a label (default: the line file's, else EUR).
    #[arg(long)]
    pub currency: Option<String>,
}

impl BusinessArgs {
    pub fn inputs(&self) -> BusinessInputs {
        BusinessInputs {
            investment: self.investment,
            running_cost: self.running_cost,
            horizon: self.horizon,
            discount_rate: self.discount_rate,
            currency: self.currency.clone(),
        }
    }
}

pub fn impact(global: &Global, args: ImpactArgs) -> Result<()> {
    let mut request = args.given.request(args.p0, args.v0, &args.comparison)?;
    request.from_twin = args.from_twin;
    let outcome = impact::impact(&global.home(), &request)?;
    if global.json {
        return print_json(&outcome);
    }
    match &outcome {
        ImpactOutcome::Given(r) => print!("{}", render_table(r)),
        ImpactOutcome::Measured(r) => print!("{}", render_measured(r)),
    }
    Ok(())
}
