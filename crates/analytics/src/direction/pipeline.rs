//! Input preprocessing for the direction classifier, fitted on training rows
//! only: median imputation of missing values, quantile clipping of outliers,
//! Box-Cox per input (skipped for 0/1 dummies), standardisation and PCA.
//! It transforms rows; it never sees labels.

use crate::forecast::transform::BoxCox;
use crate::linalg::symmetric_eigen;

/// Fitted preprocessing chain.
#[derive(Debug, Clone)]
pub struct Preprocessor {
    medians: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    box_cox: Vec<Option<BoxCox>>,
    means: Vec<f64>,
    sds: Vec<f64>,
    /// Principal axes (unit vectors in standardised input space).
    pub components: Vec<Vec<f64>>,
    /// Share of variance explained by the kept components.
    pub explained: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

impl Preprocessor {
    pub fn fit(rows: &[&[f64]], explained_variance: f64, max_components: usize) -> Self {
        let n = rows.len();
        let p = rows.first().map_or(0, |r| r.len());
        let mut medians = vec![0.0; p];
        let mut lower = vec![0.0; p];
        let mut upper = vec![0.0; p];
        let mut box_cox = vec![None; p];
        let mut columns: Vec<Vec<f64>> = Vec::with_capacity(p);
        for j in 0..p {
            let mut present: Vec<f64> = rows
                .iter()
                .map(|r| r[j])
                .filter(|v| v.is_finite())
                .collect();
            present.sort_by(f64::total_cmp);
            let (med, lo, hi) = if present.is_empty() {
                (0.0, 0.0, 0.0)
            } else {
                (
                    quantile(&present, 0.5),
                    quantile(&present, 0.005),
                    quantile(&present, 0.995),
                )
            };
            medians[j] = med;
            lower[j] = lo;
            upper[j] = hi;
            let col: Vec<f64> = rows
                .iter()
                .map(|r| Self::clean(r[j], med, lo, hi))
                .collect();
            let is_dummy = col.iter().all(|v| *v == 0.0 || *v == 1.0);
            let col = if is_dummy {
                col
            } else {
                let bc = BoxCox::fit(&col);
                box_cox[j] = Some(bc);
                col.iter().map(|v| bc.transform(*v)).collect()
            };
            columns.push(col);
        }
        let means: Vec<f64> = columns
            .iter()
            .map(|c| c.iter().sum::<f64>() / n as f64)
            .collect();
        let sds: Vec<f64> = columns
            .iter()
            .zip(&means)
            .map(|(c, m)| {
                let sd = (c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64).sqrt();
                if sd > 1e-12 { sd } else { 1.0 }
            })
            .collect();
        for (j, c) in columns.iter_mut().enumerate() {
            c.iter_mut().for_each(|v| *v = (*v - means[j]) / sds[j]);
        }
        let mut cov = crate::linalg::gram_of_columns(&columns);
        cov.iter_mut().for_each(|v| *v /= n as f64);
        let (values, vectors) = symmetric_eigen(&cov, p);
        let total: f64 = values.iter().map(|v| v.max(0.0)).sum::<f64>().max(1e-300);
        let mut kept = 0.0;
        let mut components = Vec::new();
        for (v, vec) in values.iter().zip(vectors) {
            if kept / total >= explained_variance || components.len() >= max_components {
                break;
            }
            kept += v.max(0.0);
            components.push(vec);
        }
        Self {
            medians,
            lower,
            upper,
            box_cox,
            means,
            sds,
            components,
            explained: kept / total,
        }
    }

    fn clean(v: f64, median: f64, lo: f64, hi: f64) -> f64 {
        if v.is_finite() {
            v.clamp(lo, hi)
        } else {
            median
        }
    }

    /// Principal-component scores of one row.
    pub fn transform(&self, row: &[f64]) -> Vec<f64> {
        let z: Vec<f64> = row
            .iter()
            .enumerate()
            .map(|(j, &v)| {
                let c = Self::clean(v, self.medians[j], self.lower[j], self.upper[j]);
                let t = self.box_cox[j].map_or(c, |bc| bc.transform(c));
                (t - self.means[j]) / self.sds[j]
            })
            .collect();
        self.components
            .iter()
            .map(|pc| crate::linalg::dot(pc, &z))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pca_finds_the_dominant_direction_and_imputes_missing() {
        let rows: Vec<Vec<f64>> = (0..200)
            .map(|i| {
                let t = (i as f64 * 0.37).sin() * 10.0 + 50.0;
                vec![
                    t,
                    2.0 * t + 1.0 + 0.01 * ((i * 13) % 7) as f64,
                    5.0 + 0.001 * (i % 3) as f64,
                ]
            })
            .collect();
        let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let pre = Preprocessor::fit(&refs, 0.6, 10);
        assert_eq!(pre.components.len(), 1, "two collinear inputs dominate");
        let scores = pre.transform(&[f64::NAN, 101.0, 5.0]);
        assert!(scores.iter().all(|v| v.is_finite()));
    }
}
