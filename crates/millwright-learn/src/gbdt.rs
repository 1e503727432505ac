//! Gradient-boosted trees through `forust-ml` (pure Rust, histogram GBDT in the XGBoost style), trained
//! by forust and evaluated through flattened copies of its trees (`crate::forest`).

use forust_ml::gradientbooster::{GradientBooster, ImportanceMethod};
use forust_ml::objective::ObjectiveType;
use serde::{Deserialize, Serialize};

use crate::error::{LearnError, Result};
use crate::forest::{Forest, Ranked};
use crate::matrix::Matrix;
use crate::task::Task;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbdtConfig {
    pub iterations: usize,
    pub learning_rate: f32,
    pub max_depth: usize,
    pub min_leaf_weight: f32,
    pub l2: f32,
    pub subsample: f32,
    pub colsample: f64,
}

impl Default for GbdtConfig {
    fn default() -> Self {
        GbdtConfig {
            iterations: 300,
            learning_rate: 0.1,
            max_depth: 6,
            min_leaf_weight: 1.0,
            l2: 1.0,
            subsample: 1.0,
            colsample: 1.0,
        }
    }
}

pub struct Gbdt {
    // Private: the forests are built from it once and must stay its copies.
    booster: GradientBooster,
    forest: Forest,
    ranked: Option<Ranked>,
    pub task: Task,
}

impl std::fmt::Debug for Gbdt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gbdt({})", self.task.name())
    }
}

/// The forust error of `context` (fitting, saving, loading).
fn err(context: &'static str) -> impl FnOnce(forust_ml::errors::ForustError) -> LearnError {
    move |source| LearnError::Gbdt { context, source }
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl Gbdt {
    pub fn fit(
        x: &Matrix,
        y: &[f64],
        weights: Option<&[f64]>,
        task: Task,
        cfg: &GbdtConfig,
        seed: u64,
    ) -> Result<Gbdt> {
        let objective = match task {
            Task::Binary => ObjectiveType::LogLoss,
            Task::Regression => ObjectiveType::SquaredLoss,
            Task::Multiclass { .. } => {
                return Err(LearnError::KindUnsupportedForTask {
                    kind: crate::model::ModelKind::Gbdt,
                    task: task.name(),
                    supported: "mlp".into(),
                })
            }
        };
        let mut booster = GradientBooster::default()
            .set_objective_type(objective)
            .set_iterations(cfg.iterations)
            .set_learning_rate(cfg.learning_rate)
            .set_max_depth(cfg.max_depth)
            .set_min_leaf_weight(cfg.min_leaf_weight)
            .set_l2(cfg.l2)
            .set_subsample(cfg.subsample)
            .set_colsample_bytree(cfg.colsample)
            .set_seed(seed)
            .set_parallel(false);
        let cols = x.to_column_major();
        let data = forust_ml::data::Matrix::new(&cols, x.rows, x.cols);
        let ones;
        let w = match weights {
            Some(w) => w,
            None => {
                ones = vec![1.0; x.rows];
                &ones
            }
        };
        booster.fit(&data, y, w, None).map_err(err("fitting"))?;
        Gbdt::new(booster, task)
    }

    fn new(booster: GradientBooster, task: Task) -> Result<Gbdt> {
        let forest = Forest::new(&booster)?;
        Ok(Gbdt {
            ranked: Ranked::new(&booster),
            booster,
            forest,
            task,
        })
    }

    /// Probabilities (binary) or values (regression).
    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        (0..x.rows).map(|r| self.predict_row(x.row(r))).collect()
    }

    /// One row's probability (binary) or value (regression), with no allocation.
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        let ranked = self.ranked.as_ref().and_then(|r| r.raw(row));
        let raw = ranked.unwrap_or_else(|| self.forest.raw(row));
        match self.task {
            Task::Binary => sigmoid(raw),
            _ => raw,
        }
    }

    /// Total gain per feature index, normalised to sum to 1.
    pub fn importance(&self, n_features: usize) -> Vec<f64> {
        let map = self
            .booster
            .calculate_feature_importance(ImportanceMethod::TotalGain, true);
        (0..n_features)
            .map(|i| map.get(&i).copied().unwrap_or(0.0) as f64)
            .collect()
    }

    pub fn to_json(&self) -> Result<String> {
        self.booster.json_dump().map_err(err("saving the trees"))
    }

    pub fn from_json(json: &str, task: Task) -> Result<Gbdt> {
        let booster = GradientBooster::from_json(json).map_err(err("loading the trees"))?;
        Gbdt::new(booster, task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_a_threshold_rule_and_round_trips_json() {
        let n = 400;
        let data: Vec<f64> = (0..n * 2)
            .map(|i| ((i * 37) % 101) as f64 / 100.0)
            .collect();
        let x = Matrix::new(n, 2, data);
        let y: Vec<f64> = (0..n)
            .map(|r| f64::from(u8::from(x.row(r)[0] > 0.6)))
            .collect();
        let cfg = GbdtConfig {
            iterations: 30,
            ..Default::default()
        };
        let m = Gbdt::fit(&x, &y, None, Task::Binary, &cfg, 0).unwrap();
        let p = m.predict(&x);
        let acc = p
            .iter()
            .zip(&y)
            .filter(|(p, y)| (**p > 0.5) == (**y > 0.5))
            .count() as f64
            / n as f64;
        assert!(acc > 0.98, "{acc}");
        let back = Gbdt::from_json(&m.to_json().unwrap(), Task::Binary).unwrap();
        assert_eq!(back.predict(&x), p);
        let imp = m.importance(2);
        assert!(imp[0] > imp[1]);
    }

    /// forust's own prediction, the reference the flat forest must reproduce.
    fn forust_predict(m: &Gbdt, x: &Matrix) -> Vec<f64> {
        let cols = x.to_column_major();
        let data = forust_ml::data::Matrix::new(&cols, x.rows, x.cols);
        let raw = m.booster.predict(&data, false);
        match m.task {
            Task::Binary => raw.into_iter().map(sigmoid).collect(),
            _ => raw,
        }
    }

    /// Rows of 5 features from a fixed generator; every 17th cell is NaN (forust's missing value).
    fn rows(n: usize, seed: u64) -> Matrix {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let data = (0..n * 5)
            .map(|i| {
                if i % 17 == 3 {
                    f64::NAN
                } else {
                    rng.random_range(-3.0..3.0)
                }
            })
            .collect();
        Matrix::new(n, 5, data)
    }

    #[test]
    fn the_flat_forest_predicts_exactly_what_forust_predicts() {
        let x = rows(3000, 1);
        let signal = |r: &[f64]| r[0] * r[1].max(0.0) + 0.5 * r[2].sin() - 0.3 * r[4];
        let y_reg: Vec<f64> = (0..x.rows)
            .map(|r| signal(x.row(r)).max(-9.0))
            .map(|v| if v.is_nan() { 1.0 } else { v })
            .collect();
        let y_bin: Vec<f64> = y_reg
            .iter()
            .map(|&v| f64::from(u8::from(v > 0.4)))
            .collect();
        let cfg = GbdtConfig {
            iterations: 120,
            ..Default::default()
        };
        let fresh = rows(5000, 2);
        for (task, y) in [(Task::Binary, &y_bin), (Task::Regression, &y_reg)] {
            let m = Gbdt::fit(&x, y, None, task, &cfg, 3).unwrap();
            // Rows without NaN take the ranked form, the others the general one: both are checked.
            let ranked = m.ranked.as_ref().unwrap();
            let clean = (0..fresh.rows).filter(|&r| ranked.raw(fresh.row(r)).is_some());
            assert!(clean.count() > fresh.rows / 2);
            for data in [&x, &fresh] {
                let ours = m.predict(data);
                let reference = forust_predict(&m, data);
                for (r, (a, b)) in ours.iter().zip(&reference).enumerate() {
                    assert!((a - b).abs() <= 1e-12, "{task:?} row {r}: {a} vs {b}");
                    assert_eq!(a.to_bits(), b.to_bits(), "{task:?} row {r}");
                }
            }
        }
    }

    #[test]
    fn a_tree_linking_backwards_is_refused() {
        let x = rows(200, 4);
        let y: Vec<f64> = (0..x.rows)
            .map(|r| f64::from(u8::from(x.row(r)[0] > 0.0)))
            .collect();
        let cfg = GbdtConfig {
            iterations: 2,
            ..Default::default()
        };
        let mut m = Gbdt::fit(&x, &y, None, Task::Binary, &cfg, 0).unwrap();
        let split = m.booster.trees[1].nodes.iter().position(|n| !n.is_leaf);
        m.booster.trees[1].nodes[split.unwrap()].left_child = 0;
        let err = Forest::new(&m.booster).unwrap_err();
        assert!(matches!(err, LearnError::GbdtTree { tree: 1, .. }), "{err}");
    }
}
