//! The productivity impact: f_AI from figures the user gives, or α measured from a stored twin run.

use std::path::PathBuf;

use millwright_impact::{
    evaluate, impact_from_twin, load_model_file, Assumptions, Given, ImpactModel, MeasuredImpact,
    PointImpact, PolicyRuns, ReplicationKpis, TwinComparison, TwinRuns,
};
use millwright_twin::TwinResult;
use serde::Serialize;

use crate::error::{Context, Result};
use crate::Home;

/// The figures of one impact calculation. Each given figure carries where it came from (its origin is
/// shown beside it), so a front door labels them in its own terms.
#[derive(Debug, Clone, Default)]
pub struct ImpactRequest {
    pub p0: Option<Given>,
    pub v0: Option<Given>,
    /// Whole path factors, `PATH=FACTOR`.
    pub factors: Vec<String>,
    /// Single α terms, `PATH.TERM=ALPHA`.
    pub alphas: Vec<String>,
    /// A model file (TOML) adding paths and terms and assuming figures; the request's figures win.
    pub model_file: Option<PathBuf>,
    /// Measure α from this twin run instead of taking them as given.
    pub from_twin: Option<String>,
    pub comparison: TwinComparison,
}

/// Given figures give a point result; measured ones come with intervals.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ImpactOutcome {
    Given(PointImpact),
    Measured(MeasuredImpact),
}

impl ImpactRequest {
    /// The model (standard paths plus the file's) and the assumptions: file first, request over it.
    pub fn resolve(&self) -> Result<(ImpactModel, Assumptions)> {
        let mut model = ImpactModel::standard();
        let mut assumptions = match &self.model_file {
            Some(path) => load_model_file(path, &mut model)?,
            None => Assumptions::default(),
        };
        let mut given = Assumptions::default();
        if let Some(p0) = &self.p0 {
            given.set_p0(p0.clone())?;
        }
        if let Some(v0) = &self.v0 {
            given.set_v0(v0.clone())?;
        }
        for spec in &self.factors {
            given.add_factor_spec(spec)?;
        }
        for spec in &self.alphas {
            given.add_alpha_spec(spec)?;
        }
        assumptions.overlay(given);
        Ok((model, assumptions))
    }
}

pub fn impact(home: &Home, req: &ImpactRequest) -> Result<ImpactOutcome> {
    let (model, assumptions) = req.resolve()?;
    Ok(match &req.from_twin {
        None => ImpactOutcome::Given(evaluate(&model, &assumptions)?),
        Some(run_id) => ImpactOutcome::Measured(measure(
            home,
            run_id,
            &model,
            &assumptions,
            &req.comparison,
        )?),
    })
}

/// α measured from twin run `run_id` and the model evaluated with their intervals.
pub fn measure(
    home: &Home,
    run_id: &str,
    model: &ImpactModel,
    assumptions: &Assumptions,
    comparison: &TwinComparison,
) -> Result<MeasuredImpact> {
    let result = crate::twin::load_result(home, run_id)?;
    impact_from_twin(model, assumptions, &twin_runs(&result), comparison)
        .with_context(|| format!("measuring α from twin run `{run_id}`"))
}

/// The twin's stored replications as the impact model reads them.
pub fn twin_runs(result: &TwinResult) -> TwinRuns {
    TwinRuns {
        run_id: result.run_id.clone(),
        seed: Some(result.seed),
        policies: result
            .policies
            .iter()
            .map(|p| PolicyRuns {
                policy: p.policy.clone(),
                replications: p
                    .replications
                    .iter()
                    .map(|r| ReplicationKpis {
                        throughput: r.throughput,
                        scrap_rate: r.scrap_rate,
                        unplanned_downtime: r.unplanned_downtime,
                        cost_per_good_part: r.cost_per_good_part,
                    })
                    .collect(),
            })
            .collect(),
    }
}
