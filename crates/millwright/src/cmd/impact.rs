//! `impact`: the productivity model, from user-given factors or from α measured in a twin run.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use millwright_app::impact::{self, ImpactOutcome, ImpactRequest};
use millwright_impact::{
    render_table, Given, TwinComparison, DEFAULT_AI_POLICY, DEFAULT_BASELINE_POLICY,
    DEFAULT_BOOTSTRAP_SEED, DEFAULT_RESAMPLES,
};

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// Productivity before AI (P0), any unit; P1 = P0·f_AI comes out in the same unit.
    #[arg(long, allow_negative_numbers = true)]
    pub p0: Option<f64>,
    /// Value before AI (V0), any unit; V1 = V0·f_AI.
    #[arg(long, allow_negative_numbers = true)]
    pub v0: Option<f64>,
    #[command(flatten)]
    pub given: GivenArgs,
    /// Measure α from this twin run (`<home>/twin/<run-id>/result.json`), with 95 % confidence intervals.
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
    ) -> ImpactRequest {
        ImpactRequest {
            p0: p0.map(|v| Given::new(v, "--p0")),
            v0: v0.map(|v| Given::new(v, "--v0")),
            factors: self.factors.clone(),
            alphas: self.alphas.clone(),
            model_file: self.model_file.clone(),
            from_twin: None,
            comparison: comparison.comparison(),
        }
    }
}

/// Which twin policies to compare and how to bootstrap the intervals.
#[derive(Debug, Clone, Args)]
pub struct ComparisonArgs {
    /// The twin policy without AI.
    #[arg(long, default_value = DEFAULT_BASELINE_POLICY)]
    pub baseline: String,
    /// The twin policy with AI.
    #[arg(long, default_value = DEFAULT_AI_POLICY)]
    pub ai_policy: String,
    /// Bootstrap resamples for the confidence intervals.
    #[arg(long, default_value_t = DEFAULT_RESAMPLES)]
    pub resamples: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = DEFAULT_BOOTSTRAP_SEED)]
    pub bootstrap_seed: u64,
}

impl ComparisonArgs {
    pub fn comparison(&self) -> TwinComparison {
        TwinComparison {
            baseline_policy: self.baseline.clone(),
            ai_policy: self.ai_policy.clone(),
            resamples: self.resamples,
            seed: self.bootstrap_seed,
        }
    }
}

pub fn impact(global: &Global, args: ImpactArgs) -> Result<()> {
    let mut request = args.given.request(args.p0, args.v0, &args.comparison);
    request.from_twin = args.from_twin;
    let outcome = impact::impact(&global.home(), &request)?;
    if global.json {
        return print_json(&outcome);
    }
    match &outcome {
        ImpactOutcome::Given(r) => print!("{}", render_table(r)),
        ImpactOutcome::Measured(r) => print!("{}", render_table(r)),
    }
    Ok(())
}
