//! Duration distributions of a line file and their samplers.

use rand::Rng;
use rand_distr::{Distribution, Exp1, LogNormal, StandardNormal, Triangular, Weibull};
use serde::{Deserialize, Serialize};

/// A lake column an empirical distribution draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LakeColumn {
    pub dataset: String,
    pub column: String,
    pub version: Option<i64>,
}

impl std::fmt::Display for LakeColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:?}", self.dataset, self.column)?;
        if let Some(v) = self.version {
            write!(f, " version {v}")?;
        }
        Ok(())
    }
}

/// A distribution parameter that cannot be drawn from, with the parameter and value named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DistError {
    pub message: String,
}

/// A non-negative random duration in base time units, as written in the line file,
/// e.g. `{ dist = "exponential", mean = 1.2 }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum DistSpec {
    Fixed {
        value: f64,
    },
    Exponential {
        mean: f64,
    },
    /// Normal, redrawn while negative (durations cannot be negative).
    Normal {
        mean: f64,
        sd: f64,
    },
    /// Lognormal given by the mean and standard deviation of the duration itself (not of its log).
    Lognormal {
        mean: f64,
        sd: f64,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Weibull {
        shape: f64,
        scale: f64,
    },
    /// Draws uniformly from observed values (e.g. repair times from the maintenance log): listed in
    /// `values`, or read from a lake column (`dataset`, `column`, optional `version`) by the binary
    /// before the line is built; each draw multiplied by `scale` (default 1).
    Empirical {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        values: Vec<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dataset: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        version: Option<i64>,
        /// Multiplies every observation; kept apart from `values` so that it applies to lake values
        /// filled in after the file is read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scale: Option<f64>,
    },
}

impl DistSpec {
    /// An empirical distribution over listed values.
    pub fn empirical(values: Vec<f64>) -> DistSpec {
        DistSpec::Empirical {
            values,
            dataset: None,
            column: None,
            version: None,
            scale: None,
        }
    }

    /// The same distribution with every time `k` times as long (means, SDs, bounds and scales; a
    /// Weibull keeps its shape; empirical draws are multiplied through `scale`).
    pub fn scaled(&self, k: f64) -> DistSpec {
        match self.clone() {
            DistSpec::Fixed { value } => DistSpec::Fixed { value: value * k },
            DistSpec::Exponential { mean } => DistSpec::Exponential { mean: mean * k },
            DistSpec::Normal { mean, sd } => DistSpec::Normal {
                mean: mean * k,
                sd: sd * k,
            },
            DistSpec::Lognormal { mean, sd } => DistSpec::Lognormal {
                mean: mean * k,
                sd: sd * k,
            },
            DistSpec::Triangular { min, mode, max } => DistSpec::Triangular {
                min: min * k,
                mode: mode * k,
                max: max * k,
            },
            DistSpec::Uniform { min, max } => DistSpec::Uniform {
                min: min * k,
                max: max * k,
            },
            DistSpec::Weibull { shape, scale } => DistSpec::Weibull {
                shape,
                scale: scale * k,
            },
            DistSpec::Empirical {
                values,
                dataset,
                column,
                version,
                scale,
            } => DistSpec::Empirical {
                values,
                dataset,
                column,
                version,
                scale: Some(scale.unwrap_or(1.0) * k),
            },
        }
    }

    /// The lake column an empirical distribution reads, if any.
    pub fn lake_column(&self) -> Option<LakeColumn> {
        match self {
            DistSpec::Empirical {
                dataset: Some(dataset),
                column: Some(column),
                version,
                ..
            } => Some(LakeColumn {
                dataset: dataset.clone(),
                column: column.clone(),
                version: *version,
            }),
            _ => None,
        }
    }
    /// Checks the parameters; the message names the parameter and its value.
    /// Checks the parameters: finite, non-negative, positive where a mean or scale is meant, ordered.
    pub fn validate(&self) -> Result<(), DistError> {
        self.check().map_err(|message| DistError { message })
    }

    fn check(&self) -> Result<(), String> {
        let finite_nonneg = |name: &str, v: f64| {
            if !v.is_finite() || v < 0.0 {
                Err(format!("{name} must be a finite number >= 0, got {v}"))
            } else {
                Ok(())
            }
        };
        let positive = |name: &str, v: f64| {
            if !v.is_finite() || v <= 0.0 {
                Err(format!("{name} must be a finite number > 0, got {v}"))
            } else {
                Ok(())
            }
        };
        match self {
            DistSpec::Fixed { value } => finite_nonneg("value", *value),
            DistSpec::Exponential { mean } => positive("mean", *mean),
            DistSpec::Normal { mean, sd } => {
                positive("mean", *mean)?;
                finite_nonneg("sd", *sd)
            }
            DistSpec::Lognormal { mean, sd } => {
                positive("mean", *mean)?;
                finite_nonneg("sd", *sd)
            }
            DistSpec::Triangular { min, mode, max } => {
                finite_nonneg("min", *min)?;
                finite_nonneg("mode", *mode)?;
                finite_nonneg("max", *max)?;
                if min > max {
                    return Err(format!("min ({min}) must not exceed max ({max})"));
                }
                if mode < min || mode > max {
                    return Err(format!(
                        "mode ({mode}) must lie in [min, max] = [{min}, {max}]"
                    ));
                }
                Ok(())
            }
            DistSpec::Uniform { min, max } => {
                finite_nonneg("min", *min)?;
                finite_nonneg("max", *max)?;
                if min > max {
                    return Err(format!("min ({min}) must not exceed max ({max})"));
                }
                Ok(())
            }
            DistSpec::Weibull { shape, scale } => {
                positive("shape", *shape)?;
                positive("scale", *scale)
            }
            DistSpec::Empirical {
                values,
                dataset,
                scale,
                ..
            } => {
                if let Some(k) = scale {
                    positive("scale", *k)?;
                }
                if values.is_empty() {
                    return Err(match dataset {
                        Some(d) => format!("lake column of dataset {d:?} gave no values"),
                        None => {
                            "values must list at least one observation (or give dataset and column)"
                                .into()
                        }
                    });
                }
                for (i, v) in values.iter().enumerate() {
                    finite_nonneg(&format!("values[{i}]"), *v)?;
                }
                Ok(())
            }
        }
    }

    /// Expected value (the normal's untruncated mean).
    pub fn mean(&self) -> f64 {
        match self {
            DistSpec::Fixed { value } => *value,
            DistSpec::Exponential { mean }
            | DistSpec::Normal { mean, .. }
            | DistSpec::Lognormal { mean, .. } => *mean,
            DistSpec::Triangular { min, mode, max } => (min + mode + max) / 3.0,
            DistSpec::Uniform { min, max } => (min + max) / 2.0,
            DistSpec::Weibull { shape, scale } => {
                scale * statrs::function::gamma::gamma(1.0 + 1.0 / shape)
            }
            DistSpec::Empirical { values, scale, .. } => {
                scale.unwrap_or(1.0) * values.iter().sum::<f64>() / values.len().max(1) as f64
            }
        }
    }

    /// Builds the sampler; call after `validate`.
    pub fn sampler(&self) -> Sampler {
        match self {
            DistSpec::Fixed { value } => Sampler::Fixed(*value),
            DistSpec::Exponential { mean } => Sampler::Exponential(*mean),
            DistSpec::Normal { mean, sd } => Sampler::Normal(*mean, *sd),
            DistSpec::Lognormal { mean, sd } => {
                let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
                let mu = mean.ln() - sigma2 / 2.0;
                Sampler::Lognormal(LogNormal::new(mu, sigma2.sqrt()).expect("validated"))
            }
            DistSpec::Triangular { min, mode, max } => {
                if min == max {
                    Sampler::Fixed(*min)
                } else {
                    Sampler::Triangular(Triangular::new(*min, *max, *mode).expect("validated"))
                }
            }
            DistSpec::Uniform { min, max } => Sampler::Uniform(*min, *max),
            DistSpec::Weibull { shape, scale } => {
                Sampler::Weibull(Weibull::new(*scale, *shape).expect("validated"))
            }
            DistSpec::Empirical { values, scale, .. } => match scale {
                Some(k) => Sampler::Empirical(values.iter().map(|v| v * k).collect()),
                None => Sampler::Empirical(values.clone()),
            },
        }
    }
}

/// A ready-to-draw distribution (the hot path of the engine).
#[derive(Debug, Clone)]
pub enum Sampler {
    Fixed(f64),
    Exponential(f64),
    Normal(f64, f64),
    Lognormal(LogNormal<f64>),
    Triangular(Triangular<f64>),
    Uniform(f64, f64),
    Weibull(Weibull<f64>),
    Empirical(Vec<f64>),
}

impl Sampler {
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Sampler::Fixed(v) => *v,
            Sampler::Exponential(mean) => {
                let e: f64 = Exp1.sample(rng);
                mean * e
            }
            Sampler::Normal(mean, sd) => loop {
                let z: f64 = StandardNormal.sample(rng);
                let x = mean + sd * z;
                if x >= 0.0 {
                    break x;
                }
            },
            Sampler::Lognormal(d) => d.sample(rng),
            Sampler::Triangular(d) => d.sample(rng),
            Sampler::Uniform(a, b) => a + (b - a) * rng.random::<f64>(),
            Sampler::Weibull(d) => d.sample(rng),
            Sampler::Empirical(values) => values[rng.random_range(0..values.len())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn sample_mean(spec: &DistSpec, n: usize) -> f64 {
        let s = spec.sampler();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        (0..n).map(|_| s.sample(&mut rng)).sum::<f64>() / n as f64
    }

    /// One distribution of each family but `fixed`, with a known mean.
    fn one_of_each() -> Vec<DistSpec> {
        vec![
            DistSpec::Exponential { mean: 2.0 },
            DistSpec::Lognormal { mean: 3.0, sd: 1.0 },
            DistSpec::Triangular {
                min: 1.0,
                mode: 2.0,
                max: 6.0,
            },
            DistSpec::Uniform { min: 1.0, max: 3.0 },
            DistSpec::Weibull {
                shape: 2.0,
                scale: 10.0,
            },
            DistSpec::empirical(vec![1.0, 2.0, 6.0]),
            DistSpec::Normal { mean: 5.0, sd: 1.0 },
        ]
    }

    #[test]
    fn sample_means_match_the_stated_means() {
        for spec in &one_of_each() {
            spec.validate().unwrap();
            let m = sample_mean(spec, 200_000);
            assert!(
                (m - spec.mean()).abs() < 0.02 * spec.mean(),
                "{spec:?}: {m}"
            );
        }
    }

    #[test]
    fn invalid_parameters_are_named() {
        let e = DistSpec::Exponential { mean: -1.0 }
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("mean") && e.contains("-1"), "{e}");
        let e = DistSpec::Uniform { min: 5.0, max: 1.0 }
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("min (5)"), "{e}");
        let e = DistSpec::Triangular {
            min: 1.0,
            mode: 9.0,
            max: 3.0,
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.contains("mode"), "{e}");
        assert!(DistSpec::empirical(vec![]).validate().is_err());
    }

    #[test]
    fn scaled_distributions_have_scaled_means_and_keep_their_shape() {
        let mut specs = one_of_each();
        specs.push(DistSpec::Fixed { value: 2.0 });
        for spec in &specs {
            let double = spec.scaled(2.0);
            double.validate().unwrap();
            assert!(
                (double.mean() - 2.0 * spec.mean()).abs() < 1e-9,
                "{double:?}"
            );
            let m = sample_mean(&double, 200_000);
            assert!((m / double.mean() - 1.0).abs() < 0.02, "{double:?}: {m}");
        }
        let weibull = specs
            .iter()
            .find(|d| matches!(d, DistSpec::Weibull { .. }))
            .unwrap();
        let DistSpec::Weibull { shape, .. } = weibull.scaled(3.0) else {
            panic!()
        };
        assert_eq!(shape, 2.0);
        // Lake values filled in later are scaled too.
        let lake = DistSpec::Empirical {
            values: vec![],
            dataset: Some("repairs".into()),
            column: Some("minutes".into()),
            version: None,
            scale: None,
        }
        .scaled(1.5);
        let DistSpec::Empirical { scale, .. } = &lake else {
            panic!()
        };
        assert_eq!(*scale, Some(1.5));
        assert!(DistSpec::Empirical {
            values: vec![1.0],
            dataset: None,
            column: None,
            version: None,
            scale: Some(-1.0),
        }
        .validate()
        .is_err());
    }
}
