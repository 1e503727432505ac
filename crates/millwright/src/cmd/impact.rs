//! `impact`: the productivity model, from user-given factors or from α measured in a twin run.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use millwright_impact::{
    evaluate, impact_from_twin, load_model_file, load_twin_result, render_table, Assumptions,
    Given, ImpactModel, MeasuredImpact, TwinComparison, DEFAULT_AI_POLICY, DEFAULT_BASELINE_POLICY,
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
    /// The model (standard paths plus the file's) and the assumptions: file first, command line over it.
    pub fn resolve(&self, p0: Option<f64>, v0: Option<f64>) -> Result<(ImpactModel, Assumptions)> {
        let mut model = ImpactModel::standard();
        let mut assumptions = match &self.model_file {
            Some(path) => load_model_file(path, &mut model)?,
            None => Assumptions::default(),
        };
        let mut cli = Assumptions::default();
        if let Some(p0) = p0 {
            cli.set_p0(Given::new(p0, "--p0"))?;
        }
        if let Some(v0) = v0 {
            cli.set_v0(Given::new(v0, "--v0"))?;
        }
        for spec in &self.factors {
            cli.add_factor_spec(spec)?;
        }
        for spec in &self.alphas {
            cli.add_alpha_spec(spec)?;
        }
        assumptions.overlay(cli);
        Ok((model, assumptions))
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
    let (model, assumptions) = args.given.resolve(args.p0, args.v0)?;
    let text = match &args.from_twin {
        None => {
            let result = evaluate(&model, &assumptions)?;
            if global.json {
                return print_json(&result);
            }
            render_table(&result)
        }
        Some(run_id) => {
            let result = measure(
                &global.home,
                run_id,
                &model,
                &assumptions,
                &args.comparison.comparison(),
            )?;
            if global.json {
                return print_json(&result);
            }
            render_table(&result)
        }
    };
    print!("{text}");
    Ok(())
}

/// α measured from twin run `run_id` and the model evaluated with their intervals (shared with `report`/`demo`).
pub fn measure(
    home: &Path,
    run_id: &str,
    model: &ImpactModel,
    assumptions: &Assumptions,
    comparison: &TwinComparison,
) -> Result<MeasuredImpact> {
    let result = load_twin_result(home, run_id)?;
    impact_from_twin(model, assumptions, &result, comparison)
        .with_context(|| format!("measuring α from twin run `{run_id}`"))
}
