//! LASSO estimation for the LEAR model: the LARS-lasso homotopy path on a
//! Gram matrix, λ selection by an information criterion along that path, and
//! a plain coordinate-descent solver used as an independent reference.
//!
//! Problem (centred data, no intercept): minimise over w
//! `(1/2n)·‖y − Xw‖² + α‖w‖₁`; the path is parametrised by
//! `α = max_j |x_jᵀ(y − Xw)| / n`, as in Efron et al. (2004) and scikit-learn.
//! This module knows nothing about prices or days; it must not read data.

use crate::linalg::{GrowingCholesky, dot};

/// A centred least-squares problem given by its sufficient statistics.
#[derive(Debug, Clone, Copy)]
pub struct GramProblem<'a> {
    /// `XᵀX`, row-major p × p (columns of X centred).
    pub gram: &'a [f64],
    /// `Xᵀy` (length p).
    pub xty: &'a [f64],
    /// `yᵀy` of the centred target.
    pub yty: f64,
    /// Number of observations n.
    pub n_samples: usize,
}

impl GramProblem<'_> {
    pub fn n_features(&self) -> usize {
        self.xty.len()
    }
}

/// One knot of the LARS-lasso path.
#[derive(Debug, Clone, Copy)]
pub struct PathKnot {
    /// Penalty α at this knot.
    pub alpha: f64,
    /// Residual sum of squares `‖y − Xw‖²`.
    pub rss: f64,
    /// Number of non-zero coefficients (the lasso degrees of freedom).
    pub df: usize,
}

/// Walks the LARS-lasso path from α_max down to `alpha_min` (or to the end
/// of the path), calling `on_knot` at each knot with the coefficient vector;
/// `on_knot` returns `false` to stop early. Returns the coefficients at the
/// last point reached (exactly at `alpha_min` when the path gets there).
pub fn lars_lasso_path<F>(problem: GramProblem<'_>, alpha_min: f64, mut on_knot: F) -> Vec<f64>
where
    F: FnMut(&PathKnot, &[f64]) -> bool,
{
    let p = problem.n_features();
    let n = problem.n_samples as f64;
    let g = problem.gram;
    let mut w = vec![0.0; p];
    let mut c: Vec<f64> = problem.xty.to_vec();
    let mut active: Vec<usize> = Vec::new();
    let mut signs: Vec<f64> = Vec::new();
    let mut in_active = vec![false; p];
    let mut excluded = vec![false; p];
    for j in 0..p {
        if g[j * p + j] <= 1e-300 {
            excluded[j] = true;
        }
    }
    let mut chol = GrowingCholesky::new();
    let pick_max = |c: &[f64], in_active: &[bool], excluded: &[bool]| {
        let mut best: Option<(usize, f64)> = None;
        for j in 0..p {
            if !in_active[j] && !excluded[j] && best.is_none_or(|(_, v)| c[j].abs() > v) {
                best = Some((j, c[j].abs()));
            }
        }
        best
    };
    let Some((_, c0)) = pick_max(&c, &in_active, &excluded) else {
        return w;
    };
    let mut big_c = c0;
    let first = PathKnot {
        alpha: big_c / n,
        rss: problem.yty,
        df: 0,
    };
    if !on_knot(&first, &w) || big_c / n <= alpha_min {
        return w;
    }
    // Add the first variable(s): the one with the largest correlation.
    let add = |j: usize,
               active: &mut Vec<usize>,
               signs: &mut Vec<f64>,
               in_active: &mut Vec<bool>,
               excluded: &mut Vec<bool>,
               chol: &mut GrowingCholesky,
               c: &[f64]| {
        let cross: Vec<f64> = active.iter().map(|&k| g[j * p + k]).collect();
        if chol.try_append(&cross, g[j * p + j]) {
            active.push(j);
            signs.push(if c[j] >= 0.0 { 1.0 } else { -1.0 });
            in_active[j] = true;
        } else {
            excluded[j] = true;
        }
    };
    while active.is_empty() {
        match pick_max(&c, &in_active, &excluded) {
            Some((j, _)) => add(
                j,
                &mut active,
                &mut signs,
                &mut in_active,
                &mut excluded,
                &mut chol,
                &c,
            ),
            None => return w,
        }
    }
    let max_steps = 8 * p + 100;
    let mut a = vec![0.0; p];
    for _step in 0..max_steps {
        let z = chol.solve(&signs);
        let norm = 1.0 / dot(&signs, &z).sqrt();
        let u: Vec<f64> = z.iter().map(|v| v * norm).collect();
        for j in 0..p {
            let row = &g[j * p..(j + 1) * p];
            a[j] = active.iter().zip(&u).map(|(&k, uk)| row[k] * uk).sum();
        }
        let mut gamma = big_c / norm;
        let mut join: Option<usize> = None;
        let tiny = 1e-14 * c0.max(1e-300);
        for j in 0..p {
            if in_active[j] || excluded[j] {
                continue;
            }
            for (num, den) in [(big_c - c[j], norm - a[j]), (big_c + c[j], norm + a[j])] {
                if den.abs() > 1e-300 {
                    let cand = num / den;
                    if cand > tiny / norm && cand < gamma {
                        gamma = cand;
                        join = Some(j);
                    }
                }
            }
        }
        let mut drop: Option<usize> = None;
        for (k, &j) in active.iter().enumerate() {
            if u[k] != 0.0 {
                let cand = -w[j] / u[k];
                if cand > 0.0 && cand < gamma {
                    gamma = cand;
                    drop = Some(k);
                    join = None;
                }
            }
        }
        let mut finished = false;
        if big_c - gamma * norm <= n * alpha_min {
            gamma = ((big_c - n * alpha_min) / norm).max(0.0);
            join = None;
            drop = None;
            finished = true;
        }
        for (k, &j) in active.iter().enumerate() {
            w[j] += gamma * u[k];
        }
        for j in 0..p {
            c[j] -= gamma * a[j];
        }
        big_c -= gamma * norm;
        if let Some(k) = drop {
            let j = active.remove(k);
            signs.remove(k);
            in_active[j] = false;
            w[j] = 0.0;
            chol = GrowingCholesky::new();
            let mut kept = Vec::with_capacity(active.len());
            for &jj in &active {
                let cross: Vec<f64> = kept.iter().map(|&kk: &usize| g[jj * p + kk]).collect();
                let ok = chol.try_append(&cross, g[jj * p + jj]);
                debug_assert!(ok);
                kept.push(jj);
            }
        }
        if let Some(j) = join {
            add(
                j,
                &mut active,
                &mut signs,
                &mut in_active,
                &mut excluded,
                &mut chol,
                &c,
            );
        }
        let wc: f64 = (0..p)
            .filter(|&j| w[j] != 0.0)
            .map(|j| w[j] * (problem.xty[j] + c[j]))
            .sum();
        let rss = (problem.yty - wc).max(0.0);
        let df = w.iter().filter(|v| v.abs() > f64::EPSILON).count();
        let knot = PathKnot {
            alpha: (big_c / n).max(0.0),
            rss,
            df,
        };
        if !on_knot(&knot, &w) || finished || big_c <= 1e-12 * c0 || active.is_empty() {
            break;
        }
    }
    w
}

/// Information criterion used to choose α along the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InformationCriterion {
    /// `n·RSS/‖y‖² + 2·df` (Zou, Hastie, Tibshirani 2007, as in
    /// scikit-learn's `LassoLarsIC` before 1.1, which epftoolbox used).
    Aic,
    /// Same with `ln(n)·df`.
    Bic,
}

/// α at the knot of the LARS-lasso path that minimises the criterion.
/// Stops walking once the penalty term alone exceeds the best value found
/// (the criterion can no longer improve unless variables are dropped).
pub fn select_alpha(problem: GramProblem<'_>, criterion: InformationCriterion) -> f64 {
    select_alphas(problem, &[criterion])[0]
}

/// [`select_alpha`] for several criteria along one walk of the path.
pub fn select_alphas(problem: GramProblem<'_>, criteria: &[InformationCriterion]) -> Vec<f64> {
    let n = problem.n_samples as f64;
    let ks: Vec<f64> = criteria
        .iter()
        .map(|c| match c {
            InformationCriterion::Aic => 2.0,
            InformationCriterion::Bic => n.ln(),
        })
        .collect();
    let scale = n / (problem.yty + f64::EPSILON);
    let mut best = vec![(f64::INFINITY, 0.0); criteria.len()];
    lars_lasso_path(problem, 0.0, |knot, _| {
        let mut go_on = false;
        for (b, k) in best.iter_mut().zip(&ks) {
            let value = scale * knot.rss + k * knot.df as f64;
            if value < b.0 {
                *b = (value, knot.alpha);
            }
            go_on |= k * knot.df as f64 <= b.0 + 4.0 * k;
        }
        go_on
    });
    best.into_iter().map(|b| b.1).collect()
}

/// λ by an information criterion exactly as epftoolbox obtained it when the
/// window has no more observations than inputs (n ≤ p): scikit-learn up to
/// 0.23.1, `LassoLarsIC(criterion, normalize=True, precompute='auto')`.
///
/// What that version did, and what this function reproduces (our own
/// implementation of the behaviour, described in docs/forecasting.md):
/// - With `precompute='auto'` and n ≤ p the LARS path runs on the explicit
///   design, and the design array is the one `LassoLarsIC` later uses for the
///   residuals. The path keeps its active variables in the leading slots of
///   that array by swapping columns in place (and shifting them on a lasso
///   drop); scikit-learn ≤ 0.23.1 did not copy the array in this case
///   (scikit-learn issue #17789, fixed in 0.23.2). The criterion at every knot
///   is then computed with the coefficients in the original column order but
///   the columns in the final swapped order: `RSS_k = ‖y − X_perm β_k‖²`.
///   For the early knots this is usually the residual of a wrong model, so the
///   criterion prefers very sparse models (often α_max itself).
/// - The path itself follows that implementation: the next variable is the
///   first slot with the largest |correlation| (no other tie rule); steps use
///   the float32 `tiny` guard in the denominators; a variable whose Cholesky
///   pivot is below 1e-7 is "dropped for good" (its correlation entry zeroed,
///   columns left swapped); the walk stops when α ≤ float32 ε, when α grows
///   between knots, after `max_iter` steps, or when every column is active.
/// - The criterion is `n·mean(R²)/(var(y)+ε) + K·df`, df = #{|β_j| > f64 ε}; first minimum.
///
/// `columns` are the centred, unit-norm columns (each of length n), `y` the
/// centred target. Returns one α per criterion.
pub fn select_alphas_sklearn_023(
    columns: &[Vec<f64>],
    y: &[f64],
    criteria: &[InformationCriterion],
    max_iter: usize,
) -> Vec<f64> {
    let path = legacy_lars_path(columns, y, max_iter);
    let n = y.len();
    let nf = n as f64;
    let y_mean = y.iter().sum::<f64>() / nf;
    let var_y = y.iter().map(|v| (v - y_mean).powi(2)).sum::<f64>() / nf;
    let mut best = vec![(f64::INFINITY, 0.0); criteria.len()];
    let mut r = vec![0.0; n];
    for (alpha, coef) in path.alphas.iter().zip(&path.coefs) {
        r.copy_from_slice(y);
        let mut df = 0usize;
        for (slot, &b) in coef.iter().enumerate() {
            if b != 0.0 {
                let col = &columns[path.final_slots[slot]];
                for (ri, xi) in r.iter_mut().zip(col) {
                    *ri -= b * xi;
                }
            }
            if b.abs() > f64::EPSILON {
                df += 1;
            }
        }
        let mse = dot(&r, &r) / nf;
        for (b, c) in best.iter_mut().zip(criteria) {
            let k = match c {
                InformationCriterion::Aic => 2.0,
                InformationCriterion::Bic => nf.ln(),
            };
            let value = nf * mse / (var_y + f64::EPSILON) + k * df as f64;
            if value < b.0 {
                *b = (value, *alpha);
            }
        }
    }
    best.into_iter().map(|b| b.1).collect()
}

/// Knots of the legacy (scikit-learn ≤ 0.23.1, explicit-design) LARS-lasso
/// path and the final column order of its working array.
#[derive(Debug, Clone)]
pub struct LegacyPath {
    /// α at each knot.
    pub alphas: Vec<f64>,
    /// Coefficients at each knot, in the original column order.
    pub coefs: Vec<Vec<f64>>,
    /// `final_slots[s]` = original column found in slot s of the working
    /// array when the walk ended.
    pub final_slots: Vec<usize>,
}

/// Lower Cholesky factor with scikit-learn's pivot rule
/// (`max(sqrt(|c − v|), ε)`, no rejection).
struct LegacyCholesky {
    rows: Vec<Vec<f64>>,
}

impl LegacyCholesky {
    /// Forward substitution `L w = b`.
    fn forward(&self, b: &[f64]) -> Vec<f64> {
        let mut w = vec![0.0; b.len()];
        for i in 0..b.len() {
            w[i] = (b[i] - dot(&self.rows[i][..i], &w[..i])) / self.rows[i][i];
        }
        w
    }

    /// Solves `L Lᵀ x = b`, optionally with `jitter` added to the diagonal.
    fn solve(&self, b: &[f64], jitter: f64) -> Vec<f64> {
        let k = b.len();
        let d = |i: usize| self.rows[i][i] + jitter;
        let mut w = vec![0.0; k];
        for i in 0..k {
            w[i] = (b[i] - dot(&self.rows[i][..i], &w[..i])) / d(i);
        }
        let mut x = vec![0.0; k];
        for i in (0..k).rev() {
            let mut s = w[i];
            for (j, xj) in x.iter().enumerate().skip(i + 1) {
                s -= self.rows[j][i] * xj;
            }
            x[i] = s / d(i);
        }
        x
    }

    /// Removes variable `k` (row and column) and restores the triangular
    /// form with Givens rotations.
    fn delete(&mut self, k: usize) {
        self.rows.remove(k);
        let m = self.rows.len();
        for j in k..m {
            let (a, b) = (self.rows[j][j], self.rows[j][j + 1]);
            let r = a.hypot(b);
            let (c, s) = if r == 0.0 { (1.0, 0.0) } else { (a / r, b / r) };
            for row in self.rows.iter_mut().skip(j) {
                let (u, v) = (row[j], row[j + 1]);
                row[j] = c * u + s * v;
                row[j + 1] = -s * u + c * v;
            }
        }
        for (j, row) in self.rows.iter_mut().enumerate() {
            row.truncate(j + 1);
        }
    }
}

/// Smallest strictly positive value (`f64::MAX` when there is none).
fn min_positive(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(f64::MAX, |m, v| if v > 0.0 && v < m { v } else { m })
}

/// The LARS-lasso walk of scikit-learn ≤ 0.23.1 on an explicit design (see
/// [`select_alphas_sklearn_023`]). `columns` centred with unit norm, `y`
/// centred; the walk runs to α = 0 (`alpha_min = 0`).
pub fn legacy_lars_path(columns: &[Vec<f64>], y: &[f64], max_iter: usize) -> LegacyPath {
    const TINY32: f64 = f32::MIN_POSITIVE as f64;
    const EQ_TOL: f64 = f32::EPSILON as f64;
    let p = columns.len();
    let nf = y.len() as f64;
    let mut slots: Vec<usize> = (0..p).collect();
    // correlations, indexed by slot; meaningful for slots ≥ n_active
    let mut cov: Vec<f64> = columns.iter().map(|c| dot(c, y)).collect();
    let mut alphas: Vec<f64> = Vec::new();
    let mut coefs: Vec<Vec<f64>> = vec![vec![0.0; p]];
    let mut active: Vec<usize> = Vec::new();
    let mut signs: Vec<f64> = Vec::new();
    let mut n_active = 0usize;
    let mut n_iter = 0usize;
    let mut drop = false;
    let mut chol = LegacyCholesky { rows: Vec::new() };
    loop {
        let (c_slot, c_signed) = (n_active..p).fold((n_active, 0.0f64), |(bs, bv), s| {
            if cov[s].abs() > bv.abs() {
                (s, cov[s])
            } else {
                (bs, bv)
            }
        });
        let big_c = c_signed.abs();
        let alpha = big_c / nf;
        if alphas.len() == n_iter {
            alphas.push(alpha);
        } else {
            alphas[n_iter] = alpha;
        }
        if alpha <= EQ_TOL || n_iter >= max_iter || n_active >= p {
            break;
        }
        if !drop {
            let m = n_active;
            cov.swap(c_slot, m);
            slots.swap(c_slot, m);
            let x_new = &columns[slots[m]];
            let c = dot(x_new, x_new);
            let cross: Vec<f64> = (0..m).map(|i| dot(x_new, &columns[slots[i]])).collect();
            let w = chol.forward(&cross);
            let v = dot(&w, &w);
            let diag = (c - v).abs().sqrt().max(f64::EPSILON);
            if diag < 1e-7 {
                // "drop for good": zero its correlation, put the correlation
                // entries back, leave the columns swapped
                cov[m] = 0.0;
                cov.swap(c_slot, m);
                continue;
            }
            let mut row = w;
            row.push(diag);
            chol.rows.push(row);
            let sign = if c_signed > 0.0 {
                1.0
            } else if c_signed < 0.0 {
                -1.0
            } else {
                0.0
            };
            signs.truncate(n_active);
            signs.push(sign);
            active.push(slots[m]);
            n_active += 1;
        }
        if n_iter > 0 && alphas[n_iter - 1] < alpha {
            break; // α grew: no longer well controlled
        }
        let s_act = &signs[..n_active];
        let mut ls = chol.solve(s_act, 0.0);
        let mut aa = 1.0 / dot(&ls, s_act).sqrt();
        // ill-conditioned factor: add a growing multiple of ε to its diagonal
        let (mut i, mut jitter) = (0, 0.0);
        while !aa.is_finite() {
            jitter += 2f64.powi(i) * f64::EPSILON;
            ls = chol.solve(s_act, jitter);
            aa = 1.0 / dot(&ls, s_act).max(f64::EPSILON).sqrt();
            i += 1;
        }
        ls.iter_mut().for_each(|v| *v *= aa);
        let n = y.len();
        let mut eq_dir = vec![0.0; n];
        for (k, lk) in ls.iter().enumerate() {
            for (e, x) in eq_dir.iter_mut().zip(&columns[slots[k]]) {
                *e += lk * x;
            }
        }
        let corr: Vec<f64> = (n_active..p)
            .map(|s| dot(&columns[slots[s]], &eq_dir))
            .collect();
        let inactive = || (n_active..p).zip(&corr);
        let g1 = min_positive(inactive().map(|(s, a)| (big_c - cov[s]) / (aa - a + TINY32)));
        let g2 = min_positive(inactive().map(|(s, a)| (big_c + cov[s]) / (aa + a + TINY32)));
        let mut gamma = g1.min(g2).min(big_c / aa);
        let prev = coefs[n_iter].clone();
        let z: Vec<f64> = active
            .iter()
            .zip(&ls)
            .map(|(&j, l)| -prev[j] / (l + TINY32))
            .collect();
        let z_pos = min_positive(z.iter().copied());
        let mut drop_idx: Vec<usize> = Vec::new();
        drop = false;
        if z_pos < gamma {
            drop_idx = (0..z.len()).filter(|&k| z[k] == z_pos).rev().collect();
            for &k in &drop_idx {
                signs[k] = -signs[k];
            }
            gamma = z_pos;
            drop = true;
        }
        n_iter += 1;
        let mut coef = vec![0.0; p];
        for (&j, l) in active.iter().zip(&ls) {
            coef[j] = prev[j] + gamma * l;
        }
        for (s, a) in (n_active..p).zip(&corr) {
            cov[s] -= gamma * a;
        }
        if drop {
            for &k in &drop_idx {
                chol.delete(k);
            }
            // (scikit-learn decrements once even when two coefficients hit
            // zero at the same step; that never happens on real data and
            // would leave its factor inconsistent, so we count them all)
            n_active -= drop_idx.len();
            for &k in &drop_idx {
                active.remove(k);
            }
            for &k in &drop_idx {
                for i in k..n_active {
                    slots.swap(i, i + 1);
                }
            }
            let mut resid = y.to_vec();
            for (i, &j) in active.iter().enumerate().take(n_active) {
                for (r, x) in resid.iter_mut().zip(&columns[slots[i]]) {
                    *r -= coef[j] * x;
                }
            }
            cov[n_active] = dot(&columns[slots[n_active]], &resid);
            for &k in &drop_idx {
                signs.remove(k);
            }
        }
        coefs.push(coef);
    }
    coefs.truncate(alphas.len());
    LegacyPath {
        alphas,
        coefs,
        final_slots: slots,
    }
}

/// Coordinate-descent LASSO on explicit centred columns (reference solver):
/// minimises `(1/2n)‖y − Xw‖² + α‖w‖₁` until the largest coefficient change
/// in a sweep is below `tol`.
pub fn lasso_coordinate_descent(
    columns: &[Vec<f64>],
    y: &[f64],
    alpha: f64,
    tol: f64,
    max_sweeps: usize,
) -> Vec<f64> {
    let p = columns.len();
    let n = y.len() as f64;
    let mut w = vec![0.0; p];
    let mut r = y.to_vec();
    let norms: Vec<f64> = columns.iter().map(|c| dot(c, c) / n).collect();
    for _ in 0..max_sweeps {
        let mut max_change: f64 = 0.0;
        for j in 0..p {
            if norms[j] <= 0.0 {
                continue;
            }
            let rho = dot(&columns[j], &r) / n + norms[j] * w[j];
            let new = soft_threshold(rho, alpha) / norms[j];
            let delta = new - w[j];
            if delta != 0.0 {
                for (ri, xi) in r.iter_mut().zip(&columns[j]) {
                    *ri -= delta * xi;
                }
                w[j] = new;
                max_change = max_change.max(delta.abs());
            }
        }
        if max_change < tol {
            break;
        }
    }
    w
}

/// Cyclic coordinate descent on the Gram form, started from zero, with the
/// stopping rule of scikit-learn's `Lasso` (the solver epftoolbox calls):
/// after a sweep whose largest coefficient change relative to the largest
/// coefficient is below `tol`, stop if the duality gap is below `tol·‖y‖²`;
/// give up after `max_sweeps`. With few observations and a small α the cap
/// binds and the result is the (more shrunk) iterate, which is what the
/// published LEAR forecasts contain.
pub fn lasso_cd_gram(
    problem: GramProblem<'_>,
    alpha: f64,
    tol: f64,
    max_sweeps: usize,
) -> Vec<f64> {
    let p = problem.n_features();
    let g = problem.gram;
    let q = problem.xty;
    let a = alpha * problem.n_samples as f64;
    let gap_tol = tol * problem.yty;
    let mut w = vec![0.0; p];
    let mut gw = vec![0.0; p];
    for sweep in 0..max_sweeps {
        let mut w_max: f64 = 0.0;
        let mut dw_max: f64 = 0.0;
        for j in 0..p {
            let gjj = g[j * p + j];
            if gjj <= 0.0 {
                continue;
            }
            let old = w[j];
            let tmp = q[j] - gw[j] + gjj * old;
            let new = soft_threshold(tmp, a) / gjj;
            if new != old {
                let delta = new - old;
                let row = &g[j * p..(j + 1) * p];
                for (gk, rk) in gw.iter_mut().zip(row) {
                    *gk += delta * rk;
                }
                w[j] = new;
            }
            dw_max = dw_max.max((new - old).abs());
            w_max = w_max.max(new.abs());
        }
        if w_max == 0.0 || dw_max / w_max < tol || sweep + 1 == max_sweeps {
            let wq = dot(&w, q);
            let wgw = dot(&w, &gw);
            let r_norm2 = (problem.yty - 2.0 * wq + wgw).max(0.0);
            let dual_norm = q
                .iter()
                .zip(&gw)
                .fold(0.0f64, |m, (qi, gi)| m.max((qi - gi).abs()));
            let (konst, mut gap) = if dual_norm > a {
                let k = a / dual_norm;
                (k, 0.5 * (r_norm2 + r_norm2 * k * k))
            } else {
                (1.0, r_norm2)
            };
            let l1: f64 = w.iter().map(|v| v.abs()).sum();
            gap += a * l1 - konst * (problem.yty - wq);
            if gap < gap_tol {
                break;
            }
        }
    }
    w
}

/// `sign(x)·max(|x| − t, 0)`.
pub fn soft_threshold(x: f64, t: f64) -> f64 {
    if x > t {
        x - t
    } else if x < -t {
        x + t
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::gram_of_columns;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random_problem(n: usize, p: usize, seed: u64) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut cols: Vec<Vec<f64>> = (0..p)
            .map(|_| (0..n).map(|_| rng.random_range(-1.0..1.0)).collect())
            .collect();
        // correlated pair
        if p > 2 {
            let c0 = cols[0].clone();
            for (v, b) in cols[1].iter_mut().zip(&c0) {
                *v = 0.7 * *v + 0.7 * b;
            }
        }
        let mut y: Vec<f64> = (0..n)
            .map(|i| 2.0 * cols[0][i] - 1.5 * cols[p - 1][i] + 0.3 * rng.random_range(-1.0..1.0))
            .collect();
        for c in cols.iter_mut().chain(std::iter::once(&mut y)) {
            let m = c.iter().sum::<f64>() / n as f64;
            c.iter_mut().for_each(|v| *v -= m);
        }
        (cols, y)
    }

    #[test]
    fn lars_matches_coordinate_descent_and_kkt() {
        for (n, p, seed) in [(60, 8, 1), (30, 50, 2), (200, 20, 3)] {
            let (cols, y) = random_problem(n, p, seed);
            let g = gram_of_columns(&cols);
            let xty: Vec<f64> = cols.iter().map(|c| dot(c, &y)).collect();
            let problem = GramProblem {
                gram: &g,
                xty: &xty,
                yty: dot(&y, &y),
                n_samples: n,
            };
            let alpha_max = xty.iter().fold(0.0f64, |m, v| m.max(v.abs())) / n as f64;
            for frac in [0.5, 0.1, 0.02] {
                let alpha = frac * alpha_max;
                let w_lars = lars_lasso_path(problem, alpha, |_, _| true);
                let w_cd = lasso_coordinate_descent(&cols, &y, alpha, 1e-13, 200_000);
                for (a, b) in w_lars.iter().zip(&w_cd) {
                    assert!((a - b).abs() < 1e-6, "n={n} p={p} frac={frac}: {a} vs {b}");
                }
                // KKT: x_jᵀr/n = α·sign(w_j) on the support, |x_jᵀr/n| ≤ α elsewhere
                let r: Vec<f64> = (0..n)
                    .map(|i| y[i] - (0..p).map(|j| cols[j][i] * w_lars[j]).sum::<f64>())
                    .collect();
                for j in 0..p {
                    let grad = dot(&cols[j], &r) / n as f64;
                    if w_lars[j] != 0.0 {
                        assert!((grad - alpha * w_lars[j].signum()).abs() < 1e-8 * alpha_max);
                    } else {
                        assert!(grad.abs() <= alpha * (1.0 + 1e-8));
                    }
                }
            }
        }
    }

    #[test]
    fn lasso_matches_closed_form_for_orthogonal_design() {
        // X = sqrt(n)·I-like orthogonal columns: w_j = soft(x_jᵀy/n, α)/(‖x_j‖²/n)
        let n = 4;
        let cols = vec![vec![1.0, -1.0, 1.0, -1.0], vec![1.0, 1.0, -1.0, -1.0]];
        let y = vec![3.0, -1.0, 1.0, -3.0];
        let g = gram_of_columns(&cols);
        let xty: Vec<f64> = cols.iter().map(|c| dot(c, &y)).collect();
        let problem = GramProblem {
            gram: &g,
            xty: &xty,
            yty: dot(&y, &y),
            n_samples: n,
        };
        let alpha = 0.5;
        let w = lars_lasso_path(problem, alpha, |_, _| true);
        for j in 0..2 {
            let expected = soft_threshold(xty[j] / n as f64, alpha);
            assert!((w[j] - expected).abs() < 1e-12, "{} vs {}", w[j], expected);
        }
    }

    #[test]
    fn path_rss_matches_direct_residuals() {
        let (cols, y) = random_problem(80, 12, 7);
        let g = gram_of_columns(&cols);
        let xty: Vec<f64> = cols.iter().map(|c| dot(c, &y)).collect();
        let problem = GramProblem {
            gram: &g,
            xty: &xty,
            yty: dot(&y, &y),
            n_samples: 80,
        };
        let mut knots = 0;
        lars_lasso_path(problem, 0.0, |knot, w| {
            let rss: f64 = (0..80)
                .map(|i| {
                    let r = y[i] - (0..12).map(|j| cols[j][i] * w[j]).sum::<f64>();
                    r * r
                })
                .sum();
            assert!(
                (rss - knot.rss).abs() < 1e-8 * problem.yty,
                "{rss} vs {}",
                knot.rss
            );
            knots += 1;
            true
        });
        assert!(knots >= 12);
        let alpha = select_alpha(problem, InformationCriterion::Aic);
        assert!(alpha > 0.0);
    }
    /// A small n < p problem (n = 12, p = 30):
    /// `x_ij = sin(0.7(i+1)(j+1) + 0.3j) + 0.1 cos(i² + j)`,
    /// `y_i = x_i0 − 2x_i3 + 0.5 sin i`, columns centred and scaled to unit
    /// norm, y centred. Expected numbers from an oracle outside this project:
    /// scikit-learn 0.23.1's `_lars_path_solver` run (Python 3.11, numpy
    /// 1.26) with `Gram='auto'`, `method='lasso'`, `max_iter=2500`, and the
    /// 0.23.1 `LassoLarsIC` criterion on the array it returned swapped.
    fn legacy_case() -> (Vec<Vec<f64>>, Vec<f64>) {
        let (n, p) = (12usize, 30usize);
        let x = |i: usize, j: usize| {
            let (fi, fj) = (i as f64, j as f64);
            (0.7 * (fi + 1.0) * (fj + 1.0) + 0.3 * fj).sin() + 0.1 * ((i * i + j) as f64).cos()
        };
        let mut cols: Vec<Vec<f64>> = (0..p).map(|j| (0..n).map(|i| x(i, j)).collect()).collect();
        let mut y: Vec<f64> = (0..n)
            .map(|i| x(i, 0) - 2.0 * x(i, 3) + 0.5 * (i as f64).sin())
            .collect();
        for c in cols.iter_mut() {
            let m = c.iter().sum::<f64>() / n as f64;
            c.iter_mut().for_each(|v| *v -= m);
            let s = dot(c, c).sqrt();
            c.iter_mut().for_each(|v| *v /= s);
        }
        let m = y.iter().sum::<f64>() / n as f64;
        y.iter_mut().for_each(|v| *v -= m);
        (cols, y)
    }

    #[test]
    fn legacy_path_matches_scikit_learn_0_23_on_n_below_p() {
        let (cols, y) = legacy_case();
        let path = legacy_lars_path(&cols, &y, 2500);
        assert_eq!(path.alphas.len(), 16);
        let expected = [
            0.3973149735125184,
            0.2463338778591779,
            0.14136443022064174,
            0.0652269996205143,
            0.03777617061567082,
            0.029592794946636743,
        ];
        for (a, e) in path.alphas.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{a} vs {e}");
        }
        let final_slots = [
            0, 7, 12, 24, 17, 1, 14, 22, 2, 8, 21, 11, 6, 13, 3, 15, 16, 9, 18, 19, 20, 5, 10, 23,
            4, 25, 26, 27, 28, 29,
        ];
        assert_eq!(path.final_slots, final_slots);
        // The criterion on the swapped columns picks α_max (the empty model)
        // for AIC and BIC ...
        let crit = [InformationCriterion::Aic, InformationCriterion::Bic];
        let alphas = select_alphas_sklearn_023(&cols, &y, &crit, 2500);
        assert!((alphas[0] - 0.3973149735125184).abs() < 1e-12);
        assert!((alphas[1] - 0.3973149735125184).abs() < 1e-12);
        // ... whereas the true residuals give the third knot.
        let g = gram_of_columns(&cols);
        let xty: Vec<f64> = cols.iter().map(|c| dot(c, &y)).collect();
        let problem = GramProblem {
            gram: &g,
            xty: &xty,
            yty: dot(&y, &y),
            n_samples: 12,
        };
        let exact = select_alpha(problem, InformationCriterion::Aic);
        assert!((exact - 0.14136443022064174).abs() < 1e-12, "{exact}");
    }
}
