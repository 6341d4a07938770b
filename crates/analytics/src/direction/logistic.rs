//! Binary logistic regression with an L2 penalty, trained by full-batch
//! gradient descent (the formulation of the price-direction source):
//! minimise `J(w, b) = −(1/n) Σ [y log σ(z) + (1−y) log(1−σ(z))] + (λ/2)‖w‖²`,
//! `z = wᵀx + b`; the intercept b is not penalised. No data handling here.

/// Logistic sigmoid, stable for large |z|.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Penalised mean log-loss and its gradient (`grad[..p]` for w, `grad[p]` for b).
pub fn log_loss_and_gradient(
    x: &[Vec<f64>],
    y: &[bool],
    weights: &[f64],
    bias: f64,
    l2: f64,
) -> (f64, Vec<f64>) {
    let n = x.len() as f64;
    let p = weights.len();
    let mut grad = vec![0.0; p + 1];
    let mut loss = 0.0;
    for (xi, &yi) in x.iter().zip(y) {
        let z = bias + crate::linalg::dot(weights, xi);
        let target = if yi { 1.0 } else { 0.0 };
        // log(1 + e^z) − y z, computed stably
        loss += if z > 0.0 {
            z + (-z).exp().ln_1p()
        } else {
            z.exp().ln_1p()
        } - target * z;
        let r = sigmoid(z) - target;
        for j in 0..p {
            grad[j] += r * xi[j];
        }
        grad[p] += r;
    }
    loss /= n;
    grad.iter_mut().for_each(|g| *g /= n);
    loss += 0.5 * l2 * weights.iter().map(|w| w * w).sum::<f64>();
    for j in 0..p {
        grad[j] += l2 * weights[j];
    }
    (loss, grad)
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegression {
    pub weights: Vec<f64>,
    pub bias: f64,
    /// Loss after each iteration (the learning curve).
    pub loss_history: Vec<f64>,
}

impl LogisticRegression {
    /// Gradient descent with a fixed learning rate from zero weights.
    pub fn fit(x: &[Vec<f64>], y: &[bool], l2: f64, learning_rate: f64, iterations: usize) -> Self {
        let p = x.first().map_or(0, Vec::len);
        let mut w = vec![0.0; p];
        let mut b = 0.0;
        let mut history = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let (loss, g) = log_loss_and_gradient(x, y, &w, b, l2);
            history.push(loss);
            for j in 0..p {
                w[j] -= learning_rate * g[j];
            }
            b -= learning_rate * g[p];
        }
        Self {
            weights: w,
            bias: b,
            loss_history: history,
        }
    }

    pub fn predict_proba(&self, x: &[f64]) -> f64 {
        sigmoid(self.bias + crate::linalg::dot(&self.weights, x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<Vec<f64>>, Vec<bool>) {
        let x: Vec<Vec<f64>> = (0..40)
            .map(|i| vec![(i as f64 - 20.0) / 10.0, ((i * 7) % 5) as f64 - 2.0])
            .collect();
        let y: Vec<bool> = x
            .iter()
            .enumerate()
            .map(|(i, v)| v[0] + 0.3 * v[1] > 0.0 || i % 9 == 0)
            .collect();
        (x, y)
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (x, y) = toy();
        let w = vec![0.3, -0.7];
        let b = 0.2;
        let l2 = 0.05;
        let (_, g) = log_loss_and_gradient(&x, &y, &w, b, l2);
        let h = 1e-6;
        for j in 0..3 {
            let (mut wp, mut wm, mut bp, mut bm) = (w.clone(), w.clone(), b, b);
            if j < 2 {
                wp[j] += h;
                wm[j] -= h;
            } else {
                bp += h;
                bm -= h;
            }
            let fd = (log_loss_and_gradient(&x, &y, &wp, bp, l2).0
                - log_loss_and_gradient(&x, &y, &wm, bm, l2).0)
                / (2.0 * h);
            assert!((fd - g[j]).abs() < 1e-7, "component {j}: {fd} vs {}", g[j]);
        }
    }

    #[test]
    fn gradient_descent_decreases_loss_and_separates() {
        let (x, y) = toy();
        let m = LogisticRegression::fit(&x, &y, 1e-3, 0.5, 300);
        assert!(m.loss_history.windows(2).all(|w| w[1] <= w[0] + 1e-12));
        let correct = x
            .iter()
            .zip(&y)
            .filter(|(xi, yi)| (m.predict_proba(xi) > 0.5) == **yi)
            .count();
        assert!(correct >= 34, "{correct}/40");
    }
}
