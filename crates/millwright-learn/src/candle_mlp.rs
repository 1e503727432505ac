//! The same MLP training on candle tensors: the GPU trainer (feature `cuda`) and a cross-check of the fused
//! CPU kernel (feature `candle`). Initialisation, shuffling, the stable losses and Keras' Adam update are
//! those of `mlp.rs`, and the result is an ordinary [`Mlp`], so artefacts do not depend on the backend.

use candle_core::{DType, Device, Tensor, Var};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{LearnError, Result};
use crate::matrix::Matrix;
use crate::mlp::{Activation, Dense, EpochReport, Mlp, MlpConfig, TrainData};
use crate::task::Task;

fn err(e: candle_core::Error) -> LearnError {
    LearnError::Candle(e)
}

/// `cpu` or `cuda` (GPU 0).
pub fn device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" | "gpu" => Device::new_cuda(0).map_err(|source| LearnError::NoCudaDevice { source }),
        other => Err(LearnError::UnknownDevice {
            device: other.to_string(),
        }),
    }
}

struct Layer {
    w: Var,
    b: Var,
    m: (Tensor, Tensor),
    v: (Tensor, Tensor),
}

fn activate(act: Activation, x: &Tensor) -> candle_core::Result<Tensor> {
    match act {
        Activation::Relu => x.relu(),
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => candle_nn::ops::sigmoid(x),
        Activation::Linear => Ok(x.clone()),
    }
}

fn forward(
    layers: &[Layer],
    act: Activation,
    x: &Tensor,
    dropout: f32,
) -> candle_core::Result<Tensor> {
    let mut h = x.clone();
    for (l, layer) in layers.iter().enumerate() {
        h = h
            .matmul(layer.w.as_tensor())?
            .broadcast_add(layer.b.as_tensor())?;
        if l + 1 < layers.len() {
            h = activate(act, &h)?;
            if dropout > 0.0 {
                h = candle_nn::ops::dropout(&h, dropout)?;
            }
        }
    }
    Ok(h)
}

/// Mean per-row loss from logits `z` (rows × k), weighted by `w` (rows × 1).
fn loss(task: Task, z: &Tensor, y: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    let per_row = match task {
        // max(z, 0) − z·y + log(1 + exp(−|z|))
        Task::Binary => {
            let soft = (z.abs()?.neg()?.exp()? + 1.0)?.log()?;
            ((z.relu()? - (z * y)?)? + soft)?
        }
        // log Σ exp(z) − z[y], with y one-hot.
        Task::Multiclass { .. } => {
            let lse = z.log_sum_exp(1)?.unsqueeze(1)?;
            (lse - (z * y)?.sum_keepdim(1)?)?
        }
        Task::Regression => (z - y)?.sqr()?,
    };
    (per_row * w)?.mean_all()
}

/// Trains on `device`; the same contract as [`crate::mlp::train`].
pub fn train(
    data: &TrainData<'_>,
    task: Task,
    cfg: &MlpConfig,
    seed: u64,
    device: &Device,
    validation: Option<(&Matrix, &[f64])>,
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<(Mlp, Vec<EpochReport>)> {
    cfg.validate()?;
    if cfg.patience.is_some() {
        return Err(LearnError::EarlyStoppingOnDevice {
            device: if device.is_cpu() { "cpu" } else { "cuda" }.into(),
        });
    }
    let n = data.x.rows;
    if n == 0 {
        return Err(LearnError::EmptyInput);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let init = Mlp::init(data.x.cols, &cfg.hidden, cfg.activation, task, &mut rng);
    let mut y = data.y.to_vec();
    let (mut target_mean, mut target_std) = (0.0, 1.0);
    if task == Task::Regression {
        target_mean = y.iter().sum::<f64>() / n as f64;
        let std = (y.iter().map(|v| (v - target_mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        target_std = if std > 0.0 { std } else { 1.0 };
        y.iter_mut()
            .for_each(|v| *v = (*v - target_mean) / target_std);
    }
    let k = task.outputs();
    let targets: Vec<f32> = match task {
        Task::Multiclass { classes } => {
            let mut t = vec![0f32; n * classes];
            for (r, &c) in y.iter().enumerate() {
                t[r * classes + c as usize] = 1.0;
            }
            t
        }
        _ => y.iter().map(|&v| v as f32).collect(),
    };
    let x_all = Tensor::from_vec(data.x.to_f32(), (n, data.x.cols), device).map_err(err)?;
    let y_all = Tensor::from_vec(targets, (n, k), device).map_err(err)?;
    let w_all = Tensor::from_vec(
        data.weights
            .map_or(vec![1f32; n], |w| w.iter().map(|&v| v as f32).collect()),
        (n, 1),
        device,
    )
    .map_err(err)?;
    let mut layers = Vec::new();
    for l in &init.layers {
        let w = Var::from_tensor(
            &Tensor::from_vec(l.w.clone(), (l.n_in, l.n_out), device).map_err(err)?,
        )
        .map_err(err)?;
        let b =
            Var::from_tensor(&Tensor::from_vec(l.b.clone(), (1, l.n_out), device).map_err(err)?)
                .map_err(err)?;
        let zw = Tensor::zeros((l.n_in, l.n_out), DType::F32, device).map_err(err)?;
        let zb = Tensor::zeros((1, l.n_out), DType::F32, device).map_err(err)?;
        layers.push(Layer {
            w,
            b,
            m: (zw.clone(), zb.clone()),
            v: (zw, zb),
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut history = Vec::with_capacity(cfg.epochs);
    let mut step = 0i32;
    for epoch in 1..=cfg.epochs {
        order.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        for chunk in order.chunks(cfg.batch_size) {
            step += 1;
            let idx = Tensor::from_vec(
                chunk.iter().map(|&i| i as u32).collect::<Vec<_>>(),
                chunk.len(),
                device,
            )
            .map_err(err)?;
            let xb = x_all.index_select(&idx, 0).map_err(err)?;
            let yb = y_all.index_select(&idx, 0).map_err(err)?;
            let wb = w_all.index_select(&idx, 0).map_err(err)?;
            let z = forward(&layers, cfg.activation, &xb, cfg.dropout).map_err(err)?;
            let mut total = loss(task, &z, &yb, &wb).map_err(err)?;
            if cfg.l2 > 0.0 {
                for layer in &layers {
                    let penalty = layer
                        .w
                        .as_tensor()
                        .sqr()
                        .map_err(err)?
                        .sum_all()
                        .map_err(err)?;
                    total = (total + (penalty * cfg.l2 as f64).map_err(err)?).map_err(err)?;
                }
            }
            let value = total.to_scalar::<f32>().map_err(err)? as f64;
            if !value.is_finite() {
                return Err(LearnError::Diverged(format!(
                    "loss became {value} at epoch {epoch}"
                )));
            }
            loss_sum += value * chunk.len() as f64;
            let grads = total.backward().map_err(err)?;
            // Keras' Adam: α_t = lr·√(1−β2^t)/(1−β1^t); θ −= α_t·m/(√v + ε).
            let (b1, b2) = (cfg.beta1 as f64, cfg.beta2 as f64);
            let alpha =
                cfg.learning_rate as f64 * (1.0 - b2.powi(step)).sqrt() / (1.0 - b1.powi(step));
            for layer in &mut layers {
                for (var, m, v) in [
                    (&layer.w, &mut layer.m.0, &mut layer.v.0),
                    (&layer.b, &mut layer.m.1, &mut layer.v.1),
                ] {
                    let g = grads
                        .get(var.as_tensor())
                        .ok_or_else(|| LearnError::Diverged("no gradient".into()))?;
                    *m =
                        ((&*m * b1).map_err(err)? + (g * (1.0 - b1)).map_err(err)?).map_err(err)?;
                    *v = ((&*v * b2).map_err(err)?
                        + (g.sqr().map_err(err)? * (1.0 - b2)).map_err(err)?)
                    .map_err(err)?;
                    let denom = (v.sqrt().map_err(err)? + cfg.epsilon as f64).map_err(err)?;
                    let update = ((&*m / denom).map_err(err)? * alpha).map_err(err)?;
                    var.set(&(var.as_tensor() - update).map_err(err)?)
                        .map_err(err)?;
                }
            }
        }
        let net = to_mlp(&layers, cfg.activation, task, target_mean, target_std)?;
        let mut report = EpochReport {
            epoch,
            train_loss: loss_sum / n as f64,
            val_loss: None,
            val_metric: None,
        };
        if let Some((vx, vy)) = validation {
            let (l, m) = crate::mlp::validation_figures(&net, vx, vy);
            report.val_loss = Some(l);
            report.val_metric = Some(m);
        }
        on_epoch(&report);
        history.push(report);
    }
    Ok((
        to_mlp(&layers, cfg.activation, task, target_mean, target_std)?,
        history,
    ))
}

fn to_mlp(
    layers: &[Layer],
    activation: Activation,
    task: Task,
    target_mean: f64,
    target_std: f64,
) -> Result<Mlp> {
    let mut out = Vec::new();
    for l in layers {
        let (n_in, n_out) = l.w.as_tensor().dims2().map_err(err)?;
        let w =
            l.w.as_tensor()
                .flatten_all()
                .map_err(err)?
                .to_vec1::<f32>()
                .map_err(err)?;
        let b =
            l.b.as_tensor()
                .flatten_all()
                .map_err(err)?
                .to_vec1::<f32>()
                .map_err(err)?;
        out.push(Dense { n_in, n_out, w, b });
    }
    Ok(Mlp {
        activation,
        layers: out,
        task,
        target_mean,
        target_std,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    fn data(n: usize) -> (Matrix, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let (a, b): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
            x.extend([a, b]);
            y.push(f64::from(u8::from(a * b > 0.0)));
        }
        (Matrix::new(n, 2, x), y)
    }

    #[test]
    fn candle_and_the_fused_kernel_train_the_same_network() {
        let (x, y) = data(256);
        let cfg = MlpConfig {
            epochs: 3,
            ..MlpConfig::default()
        };
        let d = TrainData {
            x: &x,
            y: &y,
            weights: None,
        };
        let (fused, fh) = crate::mlp::train(&d, Task::Binary, &cfg, 3, None, &mut |_| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        let (cand, ch) = train(&d, Task::Binary, &cfg, 3, &Device::Cpu, None, &mut |_| {}).unwrap();
        for (a, b) in fused.layers.iter().zip(&cand.layers) {
            for (p, q) in a.w.iter().zip(&b.w) {
                assert!((p - q).abs() < 1e-4, "{p} vs {q}");
            }
        }
        for (a, b) in fh.iter().zip(&ch) {
            assert!(
                (a.train_loss - b.train_loss).abs() < 1e-5,
                "{} vs {}",
                a.train_loss,
                b.train_loss
            );
        }
    }
}
