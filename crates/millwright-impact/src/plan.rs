//! Checks the user's figures and the measured terms against the model once, then evaluates
//! f_p = 1 + Σα, f_AI = Π f_p, P1 = P0·f_AI, V1 = V0·f_AI — for the point estimate and for each resample.

use crate::assumptions::{Assumptions, Given};
use crate::error::{ImpactError, Result};
use crate::model::{ImpactModel, PathSpec, TermSpec};
use crate::report::{FactorSource, Measurement, PathResult, PointImpact, TermResult, TermSource};

/// An α measured elsewhere (from a twin run); its value is supplied at evaluation time by index.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredTerm {
    pub path: String,
    pub term: String,
    pub measurement: Measurement,
}

#[derive(Debug, Clone)]
enum TermValue {
    User(Given),
    Default,
    /// Index into the measured values passed to [`Plan::evaluate`].
    Measured(usize, Measurement),
}

#[derive(Debug, Clone)]
enum PlannedPath {
    Given(PathSpec, Given),
    Terms(PathSpec, Vec<(TermSpec, TermValue)>),
}

/// A checked model: every path resolved to a given factor or a list of α sources.
#[derive(Debug, Clone)]
pub struct Plan {
    p0: Given,
    v0: Given,
    paths: Vec<PlannedPath>,
    measured: usize,
}

impl Plan {
    /// Checks `assumptions` and `measured` against `model`: P0 and V0 present and ≥ 0, paths and terms known,
    /// factors > 0, α finite, no path with both a factor and α terms, no user value for a measured α.
    pub fn new(
        model: &ImpactModel,
        assumptions: &Assumptions,
        measured: &[MeasuredTerm],
    ) -> Result<Plan> {
        let p0 = baseline(assumptions.p0.as_ref(), "P0", "p0")?;
        let v0 = baseline(assumptions.v0.as_ref(), "V0", "v0")?;
        for (path, given) in &assumptions.factors {
            model.path(path, &given.origin)?;
            if !(given.value.is_finite() && given.value > 0.0) {
                return Err(ImpactError::FactorNotPositive {
                    path: path.clone(),
                    value: given.value,
                    origin: given.origin.clone(),
                });
            }
        }
        for ((path, term), given) in &assumptions.alphas {
            model.check_term(path, term, &given.origin)?;
            if !given.value.is_finite() {
                return Err(ImpactError::AlphaNotFinite {
                    path: path.clone(),
                    term: term.clone(),
                    value: given.value,
                    origin: given.origin.clone(),
                });
            }
        }
        for m in measured {
            model.check_term(
                &m.path,
                &m.term,
                &format!("twin run {}", m.measurement.twin_run),
            )?;
            let conflict = |what: String, origin: &str| ImpactError::ConflictsWithMeasurement {
                what,
                origin: origin.to_owned(),
                path: m.path.clone(),
                term: m.term.clone(),
                run: m.measurement.twin_run.clone(),
            };
            if let Some(given) = assumptions.factors.get(&m.path) {
                return Err(conflict(
                    format!("factor of path `{}`", m.path),
                    &given.origin,
                ));
            }
            if let Some(given) = assumptions.alphas.get(&(m.path.clone(), m.term.clone())) {
                return Err(conflict(format!("α {}.{}", m.path, m.term), &given.origin));
            }
        }

        let mut paths = Vec::with_capacity(model.paths.len());
        for spec in &model.paths {
            if let Some(factor) = assumptions.factors.get(&spec.name) {
                let alpha_terms: Vec<&str> = assumptions
                    .alphas
                    .keys()
                    .filter(|(p, _)| p == &spec.name)
                    .map(|(_, t)| t.as_str())
                    .collect();
                if !alpha_terms.is_empty() {
                    return Err(ImpactError::FactorAndAlpha {
                        path: spec.name.clone(),
                        factor_origin: factor.origin.clone(),
                        alpha_terms: alpha_terms.join(", "),
                    });
                }
                paths.push(PlannedPath::Given(spec.clone(), factor.clone()));
                continue;
            }
            let terms = spec
                .terms
                .iter()
                .map(|term| {
                    let key = (spec.name.clone(), term.name.clone());
                    let value = if let Some(i) = measured
                        .iter()
                        .position(|m| m.path == spec.name && m.term == term.name)
                    {
                        TermValue::Measured(i, measured[i].measurement.clone())
                    } else if let Some(given) = assumptions.alphas.get(&key) {
                        TermValue::User(given.clone())
                    } else {
                        TermValue::Default
                    };
                    (term.clone(), value)
                })
                .collect();
            paths.push(PlannedPath::Terms(spec.clone(), terms));
        }
        Ok(Plan {
            p0,
            v0,
            paths,
            measured: measured.len(),
        })
    }

    /// Evaluates the model with `measured` supplying the measured α (in the order given to [`Plan::new`]).
    /// Fails when α make a path's factor ≤ 0.
    pub fn evaluate(&self, measured: &[f64]) -> Result<PointImpact> {
        assert_eq!(measured.len(), self.measured, "one value per measured term");
        let mut paths = Vec::with_capacity(self.paths.len());
        let mut f_ai = 1.0;
        for planned in &self.paths {
            let path = match planned {
                PlannedPath::Given(spec, given) => PathResult {
                    name: spec.name.clone(),
                    label: spec.label.clone(),
                    factor: given.value,
                    alpha_sum: given.value - 1.0,
                    factor_source: FactorSource::Given,
                    factor_origin: Some(given.origin.clone()),
                    terms: Vec::new(),
                },
                PlannedPath::Terms(spec, terms) => {
                    let terms: Vec<TermResult<f64>> = terms
                        .iter()
                        .map(|(term, value)| term_result(term, value, measured))
                        .collect();
                    let alpha_sum: f64 = terms.iter().map(|t| t.alpha).sum();
                    let factor = 1.0 + alpha_sum;
                    // Written so that NaN also fails.
                    if factor.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                        return Err(ImpactError::AlphaMakesFactorNotPositive {
                            path: spec.name.clone(),
                            factor,
                            terms: terms
                                .iter()
                                .filter(|t| t.alpha != 0.0)
                                .map(|t| format!("{} = {} ({})", t.name, t.alpha, t.origin))
                                .collect::<Vec<_>>()
                                .join(", "),
                        });
                    }
                    PathResult {
                        name: spec.name.clone(),
                        label: spec.label.clone(),
                        factor,
                        alpha_sum,
                        factor_source: FactorSource::Terms,
                        factor_origin: None,
                        terms,
                    }
                }
            };
            f_ai *= path.factor;
            paths.push(path);
        }
        Ok(PointImpact {
            f_ai,
            p0: self.p0.value,
            p1: self.p0.value * f_ai,
            v0: self.v0.value,
            v1: self.v0.value * f_ai,
            uplift: f_ai - 1.0,
            paths,
        })
    }
}

fn term_result(term: &TermSpec, value: &TermValue, measured: &[f64]) -> TermResult<f64> {
    let (alpha, source, origin, measurement) = match value {
        TermValue::User(given) => (given.value, TermSource::User, given.origin.clone(), None),
        TermValue::Default => (0.0, TermSource::User, "default".to_owned(), None),
        TermValue::Measured(i, m) => (
            measured[*i],
            TermSource::Measured,
            format!("twin run {}: {}", m.twin_run, m.kpi),
            Some(m.clone()),
        ),
    };
    TermResult {
        name: term.name.clone(),
        label: term.label.clone(),
        alpha,
        source,
        origin,
        measurement,
    }
}

fn baseline(given: Option<&Given>, what: &'static str, flag: &'static str) -> Result<Given> {
    let given = given.ok_or(ImpactError::MissingBaseline { what, flag })?;
    if !(given.value.is_finite() && given.value >= 0.0) {
        return Err(ImpactError::InvalidBaseline {
            what,
            value: given.value,
            origin: given.origin.clone(),
        });
    }
    Ok(given.clone())
}

/// Evaluates user-given figures only: the common case `millwright impact --p0 … --factor …`.
pub fn evaluate(model: &ImpactModel, assumptions: &Assumptions) -> Result<PointImpact> {
    Plan::new(model, assumptions, &[])?.evaluate(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worked_example() -> Assumptions {
        let mut a = Assumptions::default();
        a.set_p0(Given::new(10.0, "--p0")).unwrap();
        a.set_v0(Given::new(5.0, "--v0")).unwrap();
        a.add_factor_spec("smart_manufacturing=1.2").unwrap();
        a.add_factor_spec("smart_services=1.3").unwrap();
        a.add_factor_spec("digital_twin=1.4").unwrap();
        a
    }

    /// The design document's worked example. The source document prints P1 = 21.6 and V1 = 9.36:
    /// arithmetic slips (10 × 2.184 = 21.84, 5 × 2.184 = 10.92).
    #[test]
    fn worked_example_gives_the_correct_figures() {
        let r = evaluate(&ImpactModel::standard(), &worked_example()).unwrap();
        assert!((r.f_ai - 2.184).abs() < 1e-12, "{}", r.f_ai);
        assert!((r.p1 - 21.84).abs() < 1e-12, "{}", r.p1);
        assert!((r.v1 - 10.92).abs() < 1e-12, "{}", r.v1);
        assert!((r.uplift - 1.184).abs() < 1e-12, "{}", r.uplift);
        assert!((r.p1 - 21.6).abs() > 0.2 && (r.v1 - 9.36).abs() > 1.0);
        let factors: Vec<f64> = r.paths.iter().map(|p| p.factor).collect();
        assert_eq!(factors, [1.2, 1.3, 1.4]);
        assert!(r
            .paths
            .iter()
            .all(|p| p.factor_source == FactorSource::Given));
    }

    #[test]
    fn alpha_terms_sum_into_the_path_factor() {
        let mut a = Assumptions::default();
        a.set_p0(Given::new(100.0, "--p0")).unwrap();
        a.set_v0(Given::new(0.0, "--v0")).unwrap();
        a.add_alpha_spec("smart_manufacturing.production_efficiency=0.1")
            .unwrap();
        a.add_alpha_spec("smart_manufacturing.scrap_rate=0.05")
            .unwrap();
        a.add_alpha_spec("digital_twin.system_stability=0.2")
            .unwrap();
        let r = evaluate(&ImpactModel::standard(), &a).unwrap();
        assert!((r.paths[0].factor - 1.15).abs() < 1e-12);
        assert_eq!(r.paths[1].factor, 1.0);
        assert!((r.paths[2].factor - 1.2).abs() < 1e-12);
        assert!((r.f_ai - 1.15 * 1.2).abs() < 1e-12);
        assert!((r.p1 - 138.0).abs() < 1e-9);
        assert_eq!(r.v1, 0.0);
        let term = &r.paths[0].terms[2];
        assert_eq!(
            (term.alpha, term.source, term.origin.as_str()),
            (0.0, TermSource::User, "default")
        );
    }

    #[test]
    fn negative_baselines_are_rejected() {
        for (p0, v0, what) in [(-1.0, 5.0, "P0"), (10.0, -0.5, "V0"), (f64::NAN, 5.0, "P0")] {
            let mut a = worked_example();
            a.p0 = Some(Given::new(p0, "--p0"));
            a.v0 = Some(Given::new(v0, "--v0"));
            let err = evaluate(&ImpactModel::standard(), &a)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("{what} must be a finite number ≥ 0")),
                "{err}"
            );
        }
        let mut a = worked_example();
        a.v0 = None;
        let err = evaluate(&ImpactModel::standard(), &a)
            .unwrap_err()
            .to_string();
        assert!(err.contains("V0 is missing"), "{err}");
    }

    #[test]
    fn factors_not_above_zero_are_rejected() {
        for bad in ["0", "-1.2", "inf"] {
            let mut a = worked_example();
            a.factors.remove("digital_twin");
            a.add_factor_spec(&format!("digital_twin={bad}")).unwrap();
            let err = evaluate(&ImpactModel::standard(), &a)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("factor of path `digital_twin` must be a finite number > 0"),
                "{err}"
            );
        }
    }

    #[test]
    fn alpha_making_a_factor_not_positive_is_rejected() {
        let mut a = worked_example();
        a.factors.remove("smart_manufacturing");
        a.add_alpha_spec("smart_manufacturing.production_efficiency=-0.7")
            .unwrap();
        a.add_alpha_spec("smart_manufacturing.scrap_rate=-0.3")
            .unwrap();
        let err = evaluate(&ImpactModel::standard(), &a)
            .unwrap_err()
            .to_string();
        assert!(err.contains("path `smart_manufacturing`"), "{err}");
        assert!(err.contains("production_efficiency = -0.7"), "{err}");
    }

    #[test]
    fn unknown_paths_and_terms_are_rejected() {
        let mut a = worked_example();
        a.add_factor_spec("smart_factory=1.1").unwrap();
        let err = evaluate(&ImpactModel::standard(), &a)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown path `smart_factory` (--factor smart_factory=1.1)"),
            "{err}"
        );

        let mut a = worked_example();
        a.add_alpha_spec("smart_services.uptime=0.1").unwrap();
        let err = evaluate(&ImpactModel::standard(), &a)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown term `uptime` of path `smart_services`"),
            "{err}"
        );
    }

    #[test]
    fn factor_and_alpha_on_one_path_is_rejected() {
        let mut a = worked_example();
        a.add_alpha_spec("digital_twin.system_flexibility=0.1")
            .unwrap();
        let err = evaluate(&ImpactModel::standard(), &a)
            .unwrap_err()
            .to_string();
        assert!(err.contains("path `digital_twin` has a factor"), "{err}");
        assert!(err.contains("system_flexibility"), "{err}");
    }
}
