//! Sensitivity rows that need the twin to run again: the line's failure rates, the maintenance duration
//! and the model's recall, each at a low and a high setting, measured as the impact step measures the
//! main comparison (prices are varied by the impact crate itself, from the counts).

use std::collections::HashMap;
use std::path::Path;

use millwright_impact::{
    outcome, Assumptions, ImpactModel, Outcome, SensitivityRow, Setting, TwinComparison,
};
use millwright_twin::{
    compare, policy_from_name, Line, LineFile, Policy, PolicyParams, RunOptions,
};

use crate::error::Result;
use crate::impact::twin_runs;

/// The comparison to vary: the line, the policies' parameters, and how the impact is measured.
pub struct Variation<'a> {
    pub line: &'a Line,
    pub params: &'a PolicyParams,
    pub baseline: &'a str,
    pub ai: &'a str,
    pub options: &'a RunOptions,
    pub model: &'a ImpactModel,
    pub assumptions: &'a Assumptions,
    pub comparison: &'a TwinComparison,
}

/// Failure rates ×0.75 and ×1.25, maintenance duration ×0.5 and ×1.5, recall at 60 % and 80 % of
/// what the model achieved. CPU-bound: call from a blocking thread.
pub fn simulated_rows(v: &Variation) -> Result<Vec<SensitivityRow>> {
    let scaled = |scale: fn(&mut LineFile, f64), k: f64| -> Result<Outcome> {
        let mut file = v.line.file.clone();
        scale(&mut file, k);
        v.measure(&rebuilt(v.line, file)?, v.params)
    };
    let rates = |k| scaled(LineFile::scale_failure_rates, k);
    let maintenance = |k| scaled(LineFile::scale_maintenance_duration, k);
    let recall = |k: f64| -> Result<Outcome> {
        let params = PolicyParams {
            recall_scale: Some(k),
            ..v.params.clone()
        };
        v.measure(v.line, &params)
    };
    Ok(vec![
        row(
            "failure rates",
            ("×0.75", rates(0.75)?),
            ("×1.25", rates(1.25)?),
        ),
        row(
            "maintenance duration",
            ("×0.5", maintenance(0.5)?),
            ("×1.5", maintenance(1.5)?),
        ),
        row(
            "model recall",
            ("60 % of measured", recall(0.6)?),
            ("80 % of measured", recall(0.8)?),
        ),
    ])
}

impl Variation<'_> {
    fn measure(&self, line: &Line, params: &PolicyParams) -> Result<Outcome> {
        // The variants measure outcomes only: no model is examined in shadow there.
        let policies = [self.baseline, self.ai]
            .iter()
            .map(|name| policy_from_name(name, params, line).map(Policy::without_shadow))
            .collect::<Result<Vec<_>, _>>()?;
        let result = compare(line, &policies, self.options)?;
        let runs = twin_runs(&result, &line.file);
        Ok(outcome(
            self.model,
            self.assumptions,
            &runs,
            self.comparison,
        )?)
    }
}

/// The line validated again after a change of its file (the source text stays for lineage).
fn rebuilt(line: &Line, file: LineFile) -> Result<Line> {
    Ok(Line::build(
        file,
        &line.source,
        Path::new("sensitivity variant"),
        &HashMap::new(),
    )?)
}

fn row(input: &str, low: (&str, Outcome), high: (&str, Outcome)) -> SensitivityRow {
    let setting = |(text, outcome): (&str, Outcome)| Setting {
        setting: text.to_owned(),
        outcome,
    };
    SensitivityRow {
        input: input.to_owned(),
        kind: "simulated".to_owned(),
        low: setting(low),
        high: setting(high),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use millwright_twin::{PhysicsScorer, EXAMPLE_LINE};

    fn setup() -> (Line, PolicyParams, RunOptions) {
        let line = Line::parse(EXAMPLE_LINE, Path::new("line.toml")).unwrap();
        let params = PolicyParams {
            interval: None,
            wear_limit: None,
            threshold: None,
            scorer: Some(Arc::new(PhysicsScorer::default())),
            recall_scale: None,
        };
        let options = RunOptions {
            replications: 2,
            horizon: Some(1440.0),
            warmup: Some(120.0),
            seed: 11,
            ..RunOptions::default()
        };
        (line, params, options)
    }

    #[test]
    fn a_variant_that_changes_nothing_reproduces_the_comparison_and_rows_move_the_result() {
        let (line, params, options) = setup();
        let (model, assumptions) = (ImpactModel::standard(), Assumptions::default());
        let comparison = TwinComparison {
            resamples: 50,
            ..TwinComparison::default()
        };
        let v = Variation {
            line: &line,
            params: &params,
            baseline: "preventive",
            ai: "predictive",
            options: &options,
            model: &model,
            assumptions: &assumptions,
            comparison: &comparison,
        };
        let base = v.measure(&line, &params).unwrap();
        let mut file = line.file.clone();
        file.scale_failure_rates(1.0);
        let same = v.measure(&rebuilt(&line, file).unwrap(), &params).unwrap();
        assert_eq!(
            base, same,
            "common random numbers: an unchanged line gives the same outcome"
        );
        let rows = simulated_rows(&v).unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.kind == "simulated"));
        let recall = rows.iter().find(|r| r.input == "model recall").unwrap();
        assert_ne!(
            recall.low.outcome, base,
            "acting on fewer alarms changes the result"
        );
    }
}
