//! Searches a policy parameter (preventive interval, wear limit or predictive threshold) for the
//! value that minimises cost per good part or maximises throughput, with replications at each point.

use millwright_core::Unit;
use serde::{Deserialize, Serialize};

use crate::error::TwinError;
use crate::line::Line;
use crate::policy::{Policy, ThresholdSource};
use crate::run::{compare, RunOptions, TwinResult};

/// The parameter searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Knob {
    Interval,
    WearLimit,
    Threshold,
}

impl Knob {
    pub fn parse(text: &str) -> Result<Knob, TwinError> {
        match text {
            "interval" => Ok(Knob::Interval),
            "wear-limit" => Ok(Knob::WearLimit),
            "threshold" => Ok(Knob::Threshold),
            other => Err(TwinError::UnknownParameter {
                name: other.to_owned(),
            }),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Knob::Interval => "interval",
            Knob::WearLimit => "wear-limit",
            Knob::Threshold => "threshold",
        }
    }
    fn apply(self, base: &Policy, value: f64) -> Policy {
        let mut p = base.clone();
        match self {
            // The searched value replaces what a default set: the description no longer names it.
            Knob::Interval => {
                p.interval = Some(value);
                p.preventive_default = None;
            }
            Knob::WearLimit => {
                p.wear_limit = Some(value);
                p.preventive_default = None;
            }
            Knob::Threshold => {
                if let Some(pred) = p.predictive.as_mut() {
                    pred.threshold = value;
                    pred.threshold_source = ThresholdSource::Searched;
                }
            }
        }
        p.named(format!("{}[{}={value}]", base.name, self.name()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    CostPerGoodPart,
    Throughput,
}

impl Objective {
    pub fn parse(text: &str) -> Result<Objective, TwinError> {
        match text {
            "cost-per-good-part" => Ok(Objective::CostPerGoodPart),
            "throughput" => Ok(Objective::Throughput),
            other => Err(TwinError::UnknownObjective {
                name: other.to_owned(),
            }),
        }
    }
    pub fn kpi(self) -> &'static str {
        match self {
            Objective::CostPerGoodPart => "cost_per_good_part",
            Objective::Throughput => "throughput",
        }
    }
    fn better(self, a: f64, b: f64) -> bool {
        match self {
            Objective::CostPerGoodPart => a < b,
            Objective::Throughput => a > b,
        }
    }
}

/// One evaluated parameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub value: f64,
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// The curve and optimum of a search, stored as `optimization` in the run's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Optimization {
    pub parameter: Knob,
    pub objective: Objective,
    pub points: Vec<Point>,
    pub best: Point,
    /// The policy without the searched parameter, for reference.
    pub base_policy: String,
    /// Why the best point may not be the optimum (empty in results stored before warnings existed).
    #[serde(default)]
    pub warnings: Vec<OptimizationWarning>,
}

/// A reason to distrust a search's best point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum OptimizationWarning {
    /// The best value is the lowest or highest searched: the optimum may lie beyond the range.
    BestOnEdge { value: f64, edge: Edge },
    /// The best point's 95 % CI on the objective overlaps the runner-up's: the replications do not
    /// tell the two apart.
    OverlapsRunnerUp { best: f64, runner_up: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Edge {
    Lowest,
    Highest,
}

impl OptimizationWarning {
    /// One line for people, naming the parameter and the objective.
    pub fn describe(&self, knob: Knob, objective: Objective) -> String {
        let (name, kpi) = (knob.name(), objective.kpi());
        match self {
            OptimizationWarning::BestOnEdge { value, edge } => {
                let edge = match edge {
                    Edge::Lowest => "lowest",
                    Edge::Highest => "highest",
                };
                format!(
                    "the best {name} {value} is the {edge} value searched; the optimum may lie \
                     beyond it (widen the range)"
                )
            }
            OptimizationWarning::OverlapsRunnerUp { best, runner_up } => format!(
                "the 95 % CIs of {kpi} at {name} {best} (best) and {runner_up} (runner-up) overlap; \
                 more replications are needed to tell them apart"
            ),
        }
    }
}

/// The warnings for `best` among `points` (each a finite or NaN mean).
fn warnings(points: &[Point], best: &Point, objective: Objective) -> Vec<OptimizationWarning> {
    let mut out = Vec::new();
    let values = points.iter().map(|p| p.value);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo < hi {
        let edge = if best.value == lo {
            Some(Edge::Lowest)
        } else if best.value == hi {
            Some(Edge::Highest)
        } else {
            None
        };
        if let Some(edge) = edge {
            out.push(OptimizationWarning::BestOnEdge {
                value: best.value,
                edge,
            });
        }
    }
    let others = points
        .iter()
        .filter(|p| p.mean.is_finite() && p.value != best.value);
    if let Some(runner_up) = best_of(others, objective) {
        if best.ci_low <= runner_up.ci_high && runner_up.ci_low <= best.ci_high {
            out.push(OptimizationWarning::OverlapsRunnerUp {
                best: best.value,
                runner_up: runner_up.value,
            });
        }
    }
    out
}

/// The point with the best mean (the first of equals).
fn best_of<'p>(points: impl Iterator<Item = &'p Point>, objective: Objective) -> Option<&'p Point> {
    points.fold(None, |acc, p| match acc {
        Some(b) if !objective.better(p.mean, b.mean) => Some(b),
        _ => Some(p),
    })
}

/// Evaluates `base` with the parameter at each of `values` (common random numbers across points) and
/// returns the comparison (one policy per point, named `<policy>[<parameter>=<value>]`) with the
/// curve and the optimum in `optimization`. Progress: the simulation's stage, then stage `points`
/// with a note per point (`threshold 0.1: cost_per_good_part 3.2071`).
pub fn optimize(
    line: &Line,
    base: &Policy,
    knob: Knob,
    values: &[f64],
    objective: Objective,
    options: &RunOptions,
) -> Result<(TwinResult, Optimization), TwinError> {
    if values.is_empty() {
        return Err(TwinError::NoSearchValues);
    }
    if knob == Knob::Threshold && base.predictive.is_none() {
        return Err(TwinError::ThresholdNeedsPredictive {
            policy: base.name.clone(),
        });
    }
    let policies: Vec<Policy> = values.iter().map(|&v| knob.apply(base, v)).collect();
    let mut result = compare(line, &policies, options)?;
    let progress = &options.progress;
    progress.stage("points", Some(values.len() as u64), Unit::Points);
    let mut points = Vec::with_capacity(values.len());
    for (i, (p, &value)) in result.policies.iter().zip(values).enumerate() {
        let s = p.kpis[objective.kpi()];
        let mean = s.mean.unwrap_or(f64::NAN);
        progress.note(&format!(
            "{} {value}: {} {mean:.4}",
            knob.name(),
            objective.kpi()
        ));
        progress.advance(i as u64 + 1);
        points.push(Point {
            value,
            mean,
            ci_low: s.ci_low.unwrap_or(mean),
            ci_high: s.ci_high.unwrap_or(mean),
        });
    }
    let best = best_of(points.iter().filter(|p| p.mean.is_finite()), objective)
        .cloned()
        .ok_or(TwinError::NoFiniteObjective {
            objective: objective.kpi(),
        })?;
    let opt = Optimization {
        parameter: knob,
        objective,
        warnings: warnings(&points, &best, objective),
        points,
        best,
        base_policy: base.describe(),
    };
    result.optimization = Some(opt.clone());
    Ok((result, opt))
}

/// `n` values evenly spaced from `lo` to `hi` (both included).
pub fn grid(lo: f64, hi: f64, n: usize) -> Result<Vec<f64>, TwinError> {
    if n == 0 || !lo.is_finite() || !hi.is_finite() || lo > hi {
        return Err(TwinError::BadSearchRange { lo, hi, points: n });
    }
    if n == 1 {
        return Ok(vec![lo]);
    }
    Ok((0..n)
        .map(|i| round_sig(lo + (hi - lo) * i as f64 / (n - 1) as f64))
        .collect())
}

/// 12 significant digits: a grid point is 0.45, not the 0.44999999999999996 its arithmetic gives, so it
/// reads as written in policy names, plots and the command line.
fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(11 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_points_read_as_written() {
        let points = grid(0.05, 0.95, 10).unwrap();
        assert_eq!(points[4].to_string(), "0.45");
        assert_eq!(points[9], 0.95);
        assert!(
            points.iter().all(|p| p.to_string().len() <= 5),
            "{points:?}"
        );
    }
    use crate::line::EXAMPLE_LINE;
    use millwright_core::{Progress, ProgressHandle};
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Notes(Mutex<Vec<String>>);
    impl Progress for Notes {
        fn stage(&self, name: &str, _: Option<u64>, _: Unit) {
            self.0.lock().unwrap().push(format!("stage {name}"));
        }
        fn note(&self, text: &str) {
            self.0.lock().unwrap().push(text.to_owned());
        }
    }

    fn point(value: f64, mean: f64, half_width: f64) -> Point {
        Point {
            value,
            mean,
            ci_low: mean - half_width,
            ci_high: mean + half_width,
        }
    }

    #[test]
    fn a_best_value_on_the_edge_of_the_range_is_warned_of() {
        let cost = Objective::CostPerGoodPart;
        let curve = [
            point(1.0, 3.0, 0.1),
            point(2.0, 2.0, 0.1),
            point(3.0, 1.0, 0.1),
        ];
        let w = warnings(&curve, &curve[2], cost);
        let high = OptimizationWarning::BestOnEdge {
            value: 3.0,
            edge: Edge::Highest,
        };
        assert_eq!(w, std::slice::from_ref(&high));
        // Throughput maximised: the best is the lowest value here.
        let w = warnings(&curve, &curve[0], Objective::Throughput);
        assert!(matches!(
            w[..],
            [OptimizationWarning::BestOnEdge {
                edge: Edge::Lowest,
                ..
            }]
        ));
        // Interior optimum, CIs apart: nothing to warn of. Unsorted values are no edge.
        let valley = [
            point(3.0, 2.0, 0.1),
            point(1.0, 3.0, 0.1),
            point(2.0, 1.0, 0.1),
        ];
        assert!(warnings(&valley, &valley[2], cost).is_empty());
        let text = high.describe(Knob::Threshold, cost);
        assert!(
            text.contains("threshold 3 is the highest value searched"),
            "{text}"
        );
    }

    #[test]
    fn a_best_value_whose_ci_overlaps_the_runner_ups_is_warned_of() {
        let cost = Objective::CostPerGoodPart;
        // The runner-up is the second best mean (2.2 at 4), not the neighbour.
        let curve = [
            point(1.0, 3.0, 0.5),
            point(2.0, 2.0, 0.15),
            point(3.0, 2.6, 0.5),
            point(4.0, 2.2, 0.1),
            point(5.0, 4.0, 0.1),
        ];
        let overlap = OptimizationWarning::OverlapsRunnerUp {
            best: 2.0,
            runner_up: 4.0,
        };
        assert_eq!(
            warnings(&curve, &curve[1], cost),
            std::slice::from_ref(&overlap)
        );
        let text = overlap.describe(Knob::WearLimit, cost);
        assert!(
            text.contains("cost_per_good_part at wear-limit 2 (best) and 4"),
            "{text}"
        );
        let mut apart = curve.clone();
        apart[3].ci_low = 2.16;
        assert!(warnings(&apart, &apart[1], cost).is_empty());
        // A NaN runner-up is no runner-up.
        let lonely = [
            point(1.0, f64::NAN, 0.0),
            point(2.0, 1.0, 5.0),
            point(3.0, 2.0, 9.0),
        ];
        assert_eq!(warnings(&lonely[..2], &lonely[1], cost).len(), 1);
        // Warnings are stored, and results stored before them still load.
        let opt = Optimization {
            parameter: Knob::WearLimit,
            objective: cost,
            points: curve.to_vec(),
            best: curve[1].clone(),
            base_policy: "preventive".into(),
            warnings: vec![overlap],
        };
        let mut json = serde_json::to_value(&opt).unwrap();
        assert_eq!(json["warnings"][0]["kind"], "overlaps-runner-up");
        json.as_object_mut().unwrap().remove("warnings");
        let old: Optimization = serde_json::from_value(json).unwrap();
        assert!(old.warnings.is_empty());
    }

    #[test]
    fn finds_a_wear_limit_and_names_points_by_value() {
        let line = Line::parse(EXAMPLE_LINE, Path::new("l.toml")).unwrap();
        let notes = Arc::new(Notes::default());
        let options = RunOptions {
            replications: 2,
            horizon: Some(4000.0),
            warmup: Some(200.0),
            progress: ProgressHandle::new(notes.clone()),
            ..Default::default()
        };
        let base = Policy::preventive(None, None);
        let values = grid(40.0, 240.0, 3).unwrap();
        let (result, opt) = optimize(
            &line,
            &base,
            Knob::WearLimit,
            &values,
            Objective::CostPerGoodPart,
            &options,
        )
        .unwrap();
        assert_eq!(result.policies.len(), 3);
        assert_eq!(result.policies[0].policy, "preventive[wear-limit=40]");
        let min = opt.points.iter().map(|p| p.mean).fold(f64::MAX, f64::min);
        assert_eq!(opt.best.mean, min);
        assert_eq!(result.optimization, Some(opt.clone()));
        let notes = notes.0.lock().unwrap();
        assert_eq!(notes[..2], ["stage simulating", "stage points"]);
        assert_eq!(notes.len(), 2 + 3);
        let first = format!(
            "wear-limit 40: cost_per_good_part {:.4}",
            opt.points[0].mean
        );
        assert_eq!(notes[2], first);
        assert!(grid(5.0, 1.0, 3).is_err());
    }
}
