//! The productivity impact: f_AI from figures the user gives, or the business case measured from a stored
//! twin run (the AI policy against the plant's current practice).

use std::path::PathBuf;

use millwright_impact::{
    evaluate, impact_from_twin, load_model_file, Assumptions, Given, ImpactModel, MeasuredImpact,
    PointImpact, PolicyRuns, Prices, ReplicationKpis, TwinComparison, TwinRuns,
};
use millwright_report::Headline;
use millwright_twin::{Costs, Line, LineFile, TwinResult};
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
    /// Measure the impact from this twin run instead of taking factors as given.
    pub from_twin: Option<String>,
    pub comparison: TwinComparison,
}

/// Given figures give a point result; measured ones come with intervals.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ImpactOutcome {
    Given(PointImpact),
    Measured(Box<MeasuredImpact>),
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
        Some(run_id) => ImpactOutcome::Measured(Box::new(measure(
            home,
            run_id,
            &model,
            &assumptions,
            &req.comparison,
        )?)),
    })
}

/// The business case measured from twin run `run_id`, with its intervals.
pub fn measure(
    home: &Home,
    run_id: &str,
    model: &ImpactModel,
    assumptions: &Assumptions,
    comparison: &TwinComparison,
) -> Result<MeasuredImpact> {
    let result = crate::twin::load_result(home, run_id)?;
    measure_result(home, &result, model, assumptions, comparison)
}

/// The business case of a twin result already in hand (its line file is read from beside it).
fn measure_result(
    home: &Home,
    result: &TwinResult,
    model: &ImpactModel,
    assumptions: &Assumptions,
    comparison: &TwinComparison,
) -> Result<MeasuredImpact> {
    let line = stored_line(home, &result.run_id)?;
    measure_with_line(result, &line, model, assumptions, comparison)
}

/// The business case of a twin result and the line it was simulated with, both in hand.
pub(crate) fn measure_with_line(
    result: &TwinResult,
    line: &LineFile,
    model: &ImpactModel,
    assumptions: &Assumptions,
    comparison: &TwinComparison,
) -> Result<MeasuredImpact> {
    impact_from_twin(model, assumptions, &twin_runs(result, line), comparison)
        .with_context(|| format!("measuring the impact from twin run `{}`", result.run_id))
}

/// What a comparison shows against the plant's current practice: the headline and the whole measurement.
#[derive(Debug, Clone, Serialize)]
pub struct CurrentPracticeCase {
    pub headline: Vec<Headline>,
    pub impact: MeasuredImpact,
}

/// The business case of a fresh comparison, when it simulated both the line's current practice and the
/// AI policy (`predictive`); the costs come from the line file's `[business]` table.
pub fn against_current_practice(
    home: &Home,
    result: &TwinResult,
) -> Result<Option<CurrentPracticeCase>> {
    let comparison = TwinComparison::default();
    let has = |name: &str| result.policies.iter().any(|p| p.policy == name);
    let Some(current) = result.line.current_policy.as_deref() else {
        return Ok(None);
    };
    if current == comparison.ai_policy || !has(current) || !has(&comparison.ai_policy) {
        return Ok(None);
    }
    let impact = measure_result(
        home,
        result,
        &ImpactModel::standard(),
        &Assumptions::default(),
        &comparison,
    )?;
    Ok(Some(CurrentPracticeCase {
        headline: millwright_report::headline_of(&impact),
        impact,
    }))
}

/// The stored comparisons that measure the AI policy against the line's current practice (what
/// [`against_current_practice`] measures), newest first: their line file names a `current_policy` other
/// than the AI policy, and the run simulated both.
pub fn business_case_runs(home: &Home) -> Result<Vec<millwright_twin::RunSummary>> {
    let ai = TwinComparison::default().ai_policy;
    Ok(crate::twin::runs(home)?
        .into_iter()
        .filter(|run| !run.optimization && run.policies.contains(&ai))
        .filter(|run| {
            stored_line(home, &run.run_id)
                .ok()
                .and_then(|line| line.current_policy)
                .is_some_and(|current| current != ai && run.policies.contains(&current))
        })
        .collect())
}

/// The line file a twin run was simulated with (stored beside its result).
pub fn stored_line(home: &Home, run_id: &str) -> Result<LineFile> {
    let path = millwright_twin::run_dir(home.root(), run_id)?.join("line.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(crate::error::io("reading the twin run's line file", &path))?;
    Ok(Line::parse_file(&text, &path)?)
}

/// The line's `[costs]` as the impact model's prices.
pub fn prices(costs: &Costs) -> Prices {
    Prices {
        part_value: costs.part_value,
        operating_per_hour: costs.operating_per_hour,
        downtime_per_hour: costs.downtime_per_hour,
        corrective_repair: costs.corrective_repair,
        preventive_maintenance: costs.preventive_maintenance,
        scrap: costs.scrap,
    }
}

/// The twin's stored replications as the impact model reads them: times in hours, counts as numbers.
pub fn twin_runs(result: &TwinResult, line: &LineFile) -> TwinRuns {
    let hours = |units: f64| units / line.time_unit.units_per_hour();
    let window = result.horizon - result.warmup;
    TwinRuns {
        run_id: result.run_id.clone(),
        seed: Some(result.seed),
        current_policy: result.line.current_policy.clone(),
        prices: prices(&line.costs),
        business: line.business.clone().unwrap_or_default(),
        policies: result
            .policies
            .iter()
            .map(|p| PolicyRuns {
                policy: p.policy.clone(),
                replications: p
                    .replications
                    .iter()
                    .map(|r| ReplicationKpis {
                        window_hours: hours(window),
                        planned_hours: hours((window - r.planned_stop_time).max(0.0)),
                        good_parts: r.good_parts as f64,
                        scrapped_parts: r.scrapped_parts as f64,
                        availability: r.availability,
                        downtime_hours: hours(r.unplanned_downtime),
                        failures: r.failures as f64,
                        maintenance_actions: r.maintenance_actions as f64,
                    })
                    .collect(),
            })
            .collect(),
    }
}
