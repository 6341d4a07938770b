//! Small dense linear algebra for the forecasting and classification models:
//! Gram matrices, Cholesky factorisation with row appends, triangular solves
//! and a symmetric eigen-decomposition (cyclic Jacobi) for PCA.
//!
//! Matrices are row-major `Vec<f64>` with explicit dimensions. This module
//! holds no model logic and must not grow into a general matrix library: the
//! problems here have at most a few hundred columns.

/// Dot product of two equally long slices (four accumulators so the compiler
/// vectorises it).
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; 4];
    let chunks = a.len() / 4;
    for i in 0..chunks {
        let k = 4 * i;
        acc[0] += a[k] * b[k];
        acc[1] += a[k + 1] * b[k + 1];
        acc[2] += a[k + 2] * b[k + 2];
        acc[3] += a[k + 3] * b[k + 3];
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for k in 4 * chunks..a.len() {
        s += a[k] * b[k];
    }
    s
}

/// Gram matrix `XᵀX` (p × p, row-major) of a design stored column by column
/// (`columns[j]` is column j, each of length n).
pub fn gram_of_columns(columns: &[Vec<f64>]) -> Vec<f64> {
    let p = columns.len();
    let mut g = vec![0.0; p * p];
    for i in 0..p {
        for j in i..p {
            let v = dot(&columns[i], &columns[j]);
            g[i * p + j] = v;
            g[j * p + i] = v;
        }
    }
    g
}

/// Lower-triangular Cholesky factor that grows one row at a time
/// (the active set of LARS), stored densely as `size × size` rows.
#[derive(Debug, Clone, Default)]
pub struct GrowingCholesky {
    rows: Vec<Vec<f64>>,
}

impl GrowingCholesky {
    pub fn new() -> Self {
        Self { rows: Vec::new() }
    }

    pub fn size(&self) -> usize {
        self.rows.len()
    }

    /// Appends a variable whose Gram column restricted to the current set is
    /// `cross` and whose own squared norm is `diagonal`. Returns `false` (and
    /// leaves the factor unchanged) when the new column is numerically
    /// dependent on the current ones.
    pub fn try_append(&mut self, cross: &[f64], diagonal: f64) -> bool {
        let k = self.rows.len();
        debug_assert_eq!(cross.len(), k);
        let mut row = vec![0.0; k + 1];
        for i in 0..k {
            let s = cross[i] - dot(&self.rows[i][..i], &row[..i]);
            row[i] = s / self.rows[i][i];
        }
        let d2 = diagonal - dot(&row[..k], &row[..k]);
        if d2.is_nan() || d2 <= 1e-14 * diagonal.abs().max(1e-300) {
            return false;
        }
        row[k] = d2.sqrt();
        self.rows.push(row);
        true
    }

    /// Solves `L Lᵀ x = b`.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let k = self.rows.len();
        let mut y = vec![0.0; k];
        for i in 0..k {
            y[i] = (b[i] - dot(&self.rows[i][..i], &y[..i])) / self.rows[i][i];
        }
        let mut x = vec![0.0; k];
        for i in (0..k).rev() {
            let mut s = y[i];
            for (row, xj) in self.rows.iter().zip(&x).skip(i + 1) {
                s -= row[i] * xj;
            }
            x[i] = s / self.rows[i][i];
        }
        x
    }
}

/// Solves the symmetric positive definite system `A x = b` (A row-major n × n)
/// by Cholesky; `None` when A is not positive definite.
pub fn solve_spd(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let mut chol = GrowingCholesky::new();
    for i in 0..n {
        let cross: Vec<f64> = (0..i).map(|j| a[i * n + j]).collect();
        if !chol.try_append(&cross, a[i * n + i]) {
            return None;
        }
    }
    Some(chol.solve(b))
}

/// Eigen-decomposition of a symmetric matrix (row-major n × n) by cyclic
/// Jacobi rotations. Returns eigenvalues in decreasing order and the matching
/// unit eigenvectors (`vectors[k]` belongs to `values[k]`).
pub fn symmetric_eigen(matrix: &[f64], n: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut a = matrix.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = a.iter().map(|x| x * x).sum::<f64>().max(1e-300);
    for _sweep in 0..100 {
        let mut off = 0.0;
        for i in 0..n {
            for j in i + 1..n {
                off += a[i * n + j] * a[i * n + j];
            }
        }
        if off <= 1e-26 * total {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() <= 1e-300 {
                    continue;
                }
                let app = a[p * n + p];
                let aqq = a[q * n + q];
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let akp = a[k * n + p];
                    let akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = a[p * n + k];
                    let aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j * n + j].total_cmp(&a[i * n + i]));
    let values = order.iter().map(|&i| a[i * n + i]).collect();
    let vectors = order
        .iter()
        .map(|&i| (0..n).map(|k| v[k * n + i]).collect())
        .collect();
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solve_recovers_solution() {
        let a = [4.0, 2.0, 0.6, 2.0, 5.0, 1.0, 0.6, 1.0, 3.0];
        let x_true = [1.0, -2.0, 0.5];
        let b: Vec<f64> = (0..3).map(|i| dot(&a[i * 3..i * 3 + 3], &x_true)).collect();
        let x = solve_spd(&a, &b).unwrap();
        for (xi, ti) in x.iter().zip(x_true) {
            assert!((xi - ti).abs() < 1e-12);
        }
    }

    #[test]
    fn cholesky_rejects_dependent_column() {
        let mut chol = GrowingCholesky::new();
        assert!(chol.try_append(&[], 2.0));
        // second column equal to the first: Gram [[2,2],[2,2]]
        assert!(!chol.try_append(&[2.0], 2.0));
        assert_eq!(chol.size(), 1);
    }

    #[test]
    fn jacobi_eigen_reconstructs_matrix() {
        let a = [2.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 4.0];
        let (vals, vecs) = symmetric_eigen(&a, 3);
        assert!(vals[0] >= vals[1] && vals[1] >= vals[2]);
        for i in 0..3 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| vals[k] * vecs[k][i] * vecs[k][j]).sum();
                assert!((r - a[i * 3 + j]).abs() < 1e-10);
            }
        }
        assert!((vals.iter().sum::<f64>() - 9.0).abs() < 1e-10);
    }
}
