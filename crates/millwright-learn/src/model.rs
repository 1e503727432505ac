//! A fitted estimator of any kind, its prediction paths and its safetensors form.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};
use serde::{Deserialize, Serialize};

use crate::error::{LearnError, Result};
use crate::gbdt::Gbdt;
use crate::logistic::Logistic;
use crate::matrix::Matrix;
use crate::mlp::{Activation, Dense, Mlp};
use crate::task::Task;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Mlp,
    Logistic,
    Gbdt,
}

impl ModelKind {
    pub const ALL: [ModelKind; 3] = [ModelKind::Logistic, ModelKind::Gbdt, ModelKind::Mlp];

    pub fn name(&self) -> &'static str {
        match self {
            ModelKind::Mlp => "mlp",
            ModelKind::Logistic => "logistic",
            ModelKind::Gbdt => "gbdt",
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ModelKind {
    type Err = LearnError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "mlp" => Ok(ModelKind::Mlp),
            "logistic" => Ok(ModelKind::Logistic),
            "gbdt" => Ok(ModelKind::Gbdt),
            other => Err(LearnError::InvalidConfig(format!(
                "unknown model kind '{other}' (mlp, logistic, gbdt)"
            ))),
        }
    }
}

/// What the manifest must say to rebuild an estimator from its tensors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Architecture {
    Mlp {
        /// Layer widths from the input to the output.
        sizes: Vec<usize>,
        activation: Activation,
        target_mean: f64,
        target_std: f64,
    },
    Logistic {
        inputs: usize,
    },
    Gbdt {},
}

#[derive(Debug)]
pub enum Estimator {
    Mlp(Mlp),
    Logistic(Logistic),
    // Boxed: the booster is large and an estimator is moved around whole.
    Gbdt(Box<Gbdt>),
}

impl Estimator {
    pub fn kind(&self) -> ModelKind {
        match self {
            Estimator::Mlp(_) => ModelKind::Mlp,
            Estimator::Logistic(_) => ModelKind::Logistic,
            Estimator::Gbdt(_) => ModelKind::Gbdt,
        }
    }

    /// Predictions, `task.outputs()` per row: P(positive), class probabilities, or values.
    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        match self {
            Estimator::Mlp(m) => m.predict(x),
            Estimator::Logistic(m) => m.predict(x),
            Estimator::Gbdt(m) => m.predict(x),
        }
    }

    /// One row's predictions into `out` (`task.outputs()` values), equal to [`Estimator::predict`]'s for
    /// that row, without building a matrix.
    pub fn predict_row(&self, x: &[f64], out: &mut [f64]) {
        match self {
            Estimator::Mlp(m) => m.predict_row(x, out),
            Estimator::Logistic(m) => out[0] = m.predict_row(x),
            Estimator::Gbdt(m) => out[0] = m.predict_row(x),
        }
    }

    pub fn architecture(&self) -> Architecture {
        match self {
            Estimator::Mlp(m) => {
                let mut sizes = vec![m.n_inputs()];
                sizes.extend(m.layers.iter().map(|l| l.n_out));
                Architecture::Mlp {
                    sizes,
                    activation: m.activation,
                    target_mean: m.target_mean,
                    target_std: m.target_std,
                }
            }
            Estimator::Logistic(m) => Architecture::Logistic {
                inputs: m.coef.len(),
            },
            Estimator::Gbdt(_) => Architecture::Gbdt {},
        }
    }

    /// The safetensors file bytes. MLP kernels keep Keras' `n_in × n_out` layout; the GBDT is stored as its
    /// JSON dump in a u8 tensor, so every kind has one weights format.
    pub fn to_safetensors(&self) -> Result<Vec<u8>> {
        let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        match self {
            Estimator::Mlp(m) => {
                for (i, l) in m.layers.iter().enumerate() {
                    owned.push((
                        format!("dense_{i}.kernel"),
                        Dtype::F32,
                        vec![l.n_in, l.n_out],
                        f32_bytes(&l.w),
                    ));
                    owned.push((
                        format!("dense_{i}.bias"),
                        Dtype::F32,
                        vec![l.n_out],
                        f32_bytes(&l.b),
                    ));
                }
            }
            Estimator::Logistic(m) => {
                owned.push((
                    "coef".into(),
                    Dtype::F64,
                    vec![m.coef.len()],
                    f64_bytes(&m.coef),
                ));
                owned.push((
                    "intercept".into(),
                    Dtype::F64,
                    vec![1],
                    f64_bytes(&[m.intercept]),
                ));
            }
            Estimator::Gbdt(m) => {
                let json = m.to_json()?.into_bytes();
                owned.push(("booster_json".into(), Dtype::U8, vec![json.len()], json));
            }
        }
        let views: Vec<(String, TensorView<'_>)> = owned
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes).map(|v| (name.clone(), v))
            })
            .collect::<std::result::Result<_, _>>()
            .map_err(LearnError::EncodeWeights)?;
        safetensors::serialize(views, None).map_err(LearnError::EncodeWeights)
    }

    pub fn from_safetensors(
        bytes: &[u8],
        arch: &Architecture,
        task: Task,
        path: &std::path::Path,
    ) -> Result<Estimator> {
        let bad = |reason: String| LearnError::Weights {
            path: path.to_path_buf(),
            reason,
            source: None,
        };
        let st =
            safetensors::SafeTensors::deserialize(bytes).map_err(|source| LearnError::Weights {
                path: path.to_path_buf(),
                reason: "not a safetensors file".into(),
                source: Some(source),
            })?;
        let tensors: HashMap<String, TensorView<'_>> = st.tensors().into_iter().collect();
        let get = |name: &str, dtype: Dtype, shape: &[usize]| -> Result<&TensorView<'_>> {
            let t = tensors
                .get(name)
                .ok_or_else(|| bad(format!("tensor '{name}' is missing")))?;
            if t.dtype() != dtype || (!shape.is_empty() && t.shape() != shape) {
                return Err(bad(format!(
                    "tensor '{name}' is {:?} {:?}, expected {dtype:?} {shape:?}",
                    t.dtype(),
                    t.shape()
                )));
            }
            Ok(t)
        };
        match arch {
            Architecture::Mlp {
                sizes,
                activation,
                target_mean,
                target_std,
            } => {
                if sizes.len() < 2 || *sizes.last().expect("len ≥ 2") != task.outputs() {
                    return Err(bad(format!(
                        "layer sizes {sizes:?} do not fit a {} head",
                        task.name()
                    )));
                }
                let mut layers = Vec::new();
                for (i, w) in sizes.windows(2).enumerate() {
                    let kernel = get(&format!("dense_{i}.kernel"), Dtype::F32, &[w[0], w[1]])?;
                    let bias = get(&format!("dense_{i}.bias"), Dtype::F32, &[w[1]])?;
                    layers.push(Dense {
                        n_in: w[0],
                        n_out: w[1],
                        w: f32_from(kernel.data()),
                        b: f32_from(bias.data()),
                    });
                }
                Ok(Estimator::Mlp(Mlp {
                    activation: *activation,
                    layers,
                    task,
                    target_mean: *target_mean,
                    target_std: *target_std,
                }))
            }
            Architecture::Logistic { inputs } => {
                let coef = f64_from(get("coef", Dtype::F64, &[*inputs])?.data());
                let intercept = f64_from(get("intercept", Dtype::F64, &[1])?.data())[0];
                Ok(Estimator::Logistic(Logistic { coef, intercept }))
            }
            Architecture::Gbdt {} => {
                let json = get("booster_json", Dtype::U8, &[])?.data();
                let text = std::str::from_utf8(json)
                    .map_err(|e| bad(format!("booster JSON is not UTF-8: {e}")))?;
                let booster = Gbdt::from_json(text, task).map_err(|e| bad(e.to_string()))?;
                Ok(Estimator::Gbdt(Box::new(booster)))
            }
        }
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f32_from(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn f64_from(b: &[u8]) -> Vec<f64> {
    b.chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("chunks of 8")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_kind_round_trips_through_safetensors() {
        let x = Matrix::new(4, 2, vec![0.0, 1.0, 1.0, 0.0, 0.5, 0.5, -1.0, 2.0]);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mlp = Estimator::Mlp(Mlp::init(2, &[3], Activation::Relu, Task::Binary, &mut rng));
        let lr = Estimator::Logistic(Logistic {
            coef: vec![0.5, -0.25],
            intercept: 0.1,
        });
        let y = [0.0, 1.0, 0.0, 1.0];
        let cfg = crate::gbdt::GbdtConfig {
            iterations: 3,
            ..Default::default()
        };
        let gb = Estimator::Gbdt(Box::new(
            Gbdt::fit(&x, &y, None, Task::Binary, &cfg, 0).unwrap(),
        ));
        for est in [mlp, lr, gb] {
            let bytes = est.to_safetensors().unwrap();
            let back = Estimator::from_safetensors(
                &bytes,
                &est.architecture(),
                Task::Binary,
                "w".as_ref(),
            )
            .unwrap();
            assert_eq!(back.predict(&x), est.predict(&x), "{:?}", est.kind());
        }
    }

    #[test]
    fn truncated_weights_are_a_clear_error() {
        let lr = Estimator::Logistic(Logistic {
            coef: vec![0.5],
            intercept: 0.1,
        });
        let bytes = lr.to_safetensors().unwrap();
        let err = Estimator::from_safetensors(
            &bytes[..bytes.len() - 3],
            &lr.architecture(),
            Task::Binary,
            "w.st".as_ref(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("w.st"), "{err}");
    }
}
