//! L2-regularised logistic regression fitted by Newton's method (IRLS).
//!
//! Hand-written because the problem is tiny (tens of standardised features): a d×d Newton system
//! solved by Cholesky converges in a handful of iterations, exactly, with no linear-algebra dependency.

use serde::{Deserialize, Serialize};

use crate::error::{LearnError, Result};
use crate::matrix::Matrix;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticConfig {
    /// L2 penalty λ on the coefficients (not the intercept): loss = Σ wᵢ·ℓᵢ / Σ wᵢ + λ/2·‖β‖².
    pub l2: f64,
    pub max_iter: usize,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        LogisticConfig {
            l2: 1e-4,
            max_iter: 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Logistic {
    pub coef: Vec<f64>,
    pub intercept: f64,
}

fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Solves `a·x = b` for symmetric positive definite `a` (n×n row-major) in place of `b`.
fn cholesky_solve(a: &mut [f64], b: &mut [f64], n: usize) -> bool {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    true
}

impl Logistic {
    pub fn fit(
        x: &Matrix,
        y: &[f64],
        weights: Option<&[f64]>,
        cfg: &LogisticConfig,
    ) -> Result<Logistic> {
        if x.rows == 0 {
            return Err(LearnError::EmptyInput);
        }
        let d = x.cols + 1; // last parameter is the intercept
        let total_w: f64 = weights.map_or(x.rows as f64, |w| w.iter().sum());
        let mut beta = vec![0.0; d];
        let mut prev_loss = f64::INFINITY;
        for _ in 0..cfg.max_iter {
            let mut grad = vec![0.0; d];
            let mut hess = vec![0.0; d * d];
            let mut loss = 0.0;
            let mut xi = vec![1.0; d];
            for r in 0..x.rows {
                xi[..x.cols].copy_from_slice(x.row(r));
                let z: f64 = xi.iter().zip(&beta).map(|(a, b)| a * b).sum();
                let p = sigmoid(z);
                let w = weights.map_or(1.0, |w| w[r]) / total_w;
                loss += w * (z.max(0.0) - z * y[r] + (-z.abs()).exp().ln_1p());
                let g = w * (p - y[r]);
                let h = w * (p * (1.0 - p)).max(1e-12);
                for i in 0..d {
                    grad[i] += g * xi[i];
                    let hi = h * xi[i];
                    for j in 0..=i {
                        hess[i * d + j] += hi * xi[j];
                    }
                }
            }
            for i in 0..d {
                for j in 0..i {
                    hess[j * d + i] = hess[i * d + j];
                }
            }
            for i in 0..x.cols {
                loss += 0.5 * cfg.l2 * beta[i] * beta[i];
                grad[i] += cfg.l2 * beta[i];
                hess[i * d + i] += cfg.l2;
            }
            // A tiny ridge keeps separable data solvable.
            for i in 0..d {
                hess[i * d + i] += 1e-10;
            }
            let mut step = grad;
            if !cholesky_solve(&mut hess, &mut step, d) {
                return Err(LearnError::Diverged(
                    "logistic regression: singular Newton system".into(),
                ));
            }
            for (b, s) in beta.iter_mut().zip(&step) {
                *b -= s;
            }
            if (prev_loss - loss).abs() < 1e-12 {
                break;
            }
            prev_loss = loss;
        }
        if beta.iter().any(|b| !b.is_finite()) {
            return Err(LearnError::Diverged(
                "logistic regression coefficients are not finite".into(),
            ));
        }
        let intercept = beta.pop().expect("d ≥ 1");
        Ok(Logistic {
            coef: beta,
            intercept,
        })
    }

    pub fn predict_row(&self, row: &[f64]) -> f64 {
        sigmoid(self.intercept + row.iter().zip(&self.coef).map(|(a, b)| a * b).sum::<f64>())
    }

    pub fn predict(&self, x: &Matrix) -> Vec<f64> {
        (0..x.rows).map(|r| self.predict_row(x.row(r))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_known_coefficients() {
        // Labels drawn from p = σ(2·x0 − x1 + 0.5) with a fixed generator.
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 20_000;
        let mut data = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let (a, b): (f64, f64) = (rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0));
            data.extend([a, b]);
            y.push(f64::from(u8::from(
                rng.random::<f64>() < sigmoid(2.0 * a - b + 0.5),
            )));
        }
        let x = Matrix::new(n, 2, data);
        let m = Logistic::fit(
            &x,
            &y,
            None,
            &LogisticConfig {
                l2: 0.0,
                max_iter: 50,
            },
        )
        .unwrap();
        assert!(
            (m.coef[0] - 2.0).abs() < 0.1 && (m.coef[1] + 1.0).abs() < 0.1,
            "{m:?}"
        );
        assert!((m.intercept - 0.5).abs() < 0.1, "{m:?}");
    }

    #[test]
    fn separable_data_stays_finite_with_l2() {
        let x = Matrix::new(4, 1, vec![-2.0, -1.0, 1.0, 2.0]);
        let m = Logistic::fit(&x, &[0.0, 0.0, 1.0, 1.0], None, &LogisticConfig::default()).unwrap();
        assert!(m.coef[0].is_finite() && m.coef[0] > 1.0);
        assert!(m.predict_row(&[2.0]) > 0.9);
    }
}
