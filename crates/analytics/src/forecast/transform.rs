//! Variance-stabilising transformations of prices and features.
//!
//! - [`InvariantScaler`]: the "asinh-median" transformation of Uniejewski,
//!   Weron and Ziel (2018) used by LEAR: `z = asinh((x − median)/MAD)`, with
//!   MAD scaled to be consistent with the normal standard deviation
//!   (×1.4826), fitted per column on the calibration window only.
//! - [`BoxCox`]: `(x^λ − 1)/λ` (ln x at λ = 0) after a shift that makes the
//!   training values positive; λ by maximum likelihood on a grid.
//!
//! Both invert exactly. Nothing here looks at data outside what it is fitted on.

/// Consistency constant of the MAD for the normal distribution (1/Φ⁻¹(3/4)).
pub const MAD_NORMAL_SCALE: f64 = 1.482_602_218_505_602;

/// Median of a slice (average of the two middle values for even length).
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if values.len() % 2 == 1 {
        m
    } else {
        let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lower + m)
    }
}

/// asinh-median transformation of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InvariantScaler {
    pub median: f64,
    pub mad: f64,
}

impl InvariantScaler {
    /// Fits median and normal-consistent MAD; a constant series gets MAD 1.
    pub fn fit(values: &[f64]) -> Self {
        let med = median(values);
        let dev: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
        let mut mad = median(&dev) * MAD_NORMAL_SCALE;
        if mad.is_nan() || mad <= 1e-12 {
            let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
            let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                / values.len().max(1) as f64)
                .sqrt();
            mad = if sd > 1e-12 { sd } else { 1.0 };
        }
        Self { median: med, mad }
    }

    pub fn transform(&self, x: f64) -> f64 {
        ((x - self.median) / self.mad).asinh()
    }

    pub fn inverse(&self, z: f64) -> f64 {
        z.sinh() * self.mad + self.median
    }
}

/// Box-Cox transformation with a positivity shift.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxCox {
    pub lambda: f64,
    pub shift: f64,
}

impl BoxCox {
    /// Chooses the shift (so that the smallest training value maps to 1) and
    /// λ ∈ [−2, 2] maximising the Box-Cox profile log-likelihood.
    pub fn fit(values: &[f64]) -> Self {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let shift = if min <= 0.0 { 1.0 - min } else { 0.0 };
        let shifted: Vec<f64> = values.iter().map(|v| v + shift).collect();
        let n = shifted.len() as f64;
        let log_sum: f64 = shifted.iter().map(|v| v.ln()).sum();
        let loglik = |lambda: f64| {
            let bc = Self { lambda, shift: 0.0 };
            let t: Vec<f64> = shifted.iter().map(|&v| bc.transform(v)).collect();
            let mean = t.iter().sum::<f64>() / n;
            let var = t.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            -0.5 * n * var.max(1e-300).ln() + (lambda - 1.0) * log_sum
        };
        let mut best = (f64::NEG_INFINITY, 1.0);
        for k in 0..=80 {
            let lambda = -2.0 + 0.05 * k as f64;
            let ll = loglik(lambda);
            if ll > best.0 {
                best = (ll, lambda);
            }
        }
        Self {
            lambda: best.1,
            shift,
        }
    }

    pub fn transform(&self, x: f64) -> f64 {
        let v = (x + self.shift).max(1e-12);
        if self.lambda.abs() < 1e-12 {
            v.ln()
        } else {
            (v.powf(self.lambda) - 1.0) / self.lambda
        }
    }

    pub fn inverse(&self, z: f64) -> f64 {
        let v = if self.lambda.abs() < 1e-12 {
            z.exp()
        } else {
            (z * self.lambda + 1.0).max(0.0).powf(1.0 / self.lambda)
        };
        v - self.shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn median_of_even_and_odd_lengths() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn invariant_scaler_uses_normal_consistent_mad() {
        let s = InvariantScaler::fit(&[1.0, 2.0, 3.0, 4.0, 100.0]);
        assert_eq!(s.median, 3.0);
        assert!((s.mad - 1.0 * MAD_NORMAL_SCALE).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn invariant_scaler_inverts_exactly(xs in proptest::collection::vec(-500.0f64..3000.0, 3..50), x in -1000.0f64..5000.0) {
            let s = InvariantScaler::fit(&xs);
            let back = s.inverse(s.transform(x));
            prop_assert!((back - x).abs() <= 1e-9 * (1.0 + x.abs()));
        }

        #[test]
        fn box_cox_inverts_exactly(xs in proptest::collection::vec(-50.0f64..300.0, 3..50)) {
            let bc = BoxCox::fit(&xs);
            for &x in &xs {
                let back = bc.inverse(bc.transform(x));
                prop_assert!((back - x).abs() <= 1e-7 * (1.0 + x.abs()), "{} -> {}", x, back);
            }
        }
    }
}
