//! Point-forecast accuracy measures used by the EPF benchmark literature
//! (Lago et al. 2021): MAE, RMSE, sMAPE, rMAE against the seasonal naive
//! forecast, and the multivariate Diebold–Mariano test. Pure functions of the
//! series they are given; no model and no I/O here.

use crate::error::AnalyticsError;

fn check(actual: &[f64], forecast: &[f64]) -> Result<(), AnalyticsError> {
    if actual.len() != forecast.len() || actual.is_empty() {
        return Err(AnalyticsError::LengthMismatch {
            forecast: forecast.len(),
            actual: actual.len(),
        });
    }
    Ok(())
}

/// Mean absolute error.
pub fn mae(actual: &[f64], forecast: &[f64]) -> Result<f64, AnalyticsError> {
    check(actual, forecast)?;
    Ok(actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).abs())
        .sum::<f64>()
        / actual.len() as f64)
}

/// Root mean squared error.
pub fn rmse(actual: &[f64], forecast: &[f64]) -> Result<f64, AnalyticsError> {
    check(actual, forecast)?;
    Ok((actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).powi(2))
        .sum::<f64>()
        / actual.len() as f64)
        .sqrt())
}

/// Symmetric MAPE in percent, epftoolbox definition `mean(2|y−f|/(|y|+|f|))·100`
/// (a term with y = f = 0 counts as 0).
pub fn smape_pct(actual: &[f64], forecast: &[f64]) -> Result<f64, AnalyticsError> {
    check(actual, forecast)?;
    let s: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| {
            let den = a.abs() + f.abs();
            if den == 0.0 {
                0.0
            } else {
                2.0 * (a - f).abs() / den
            }
        })
        .sum();
    Ok(100.0 * s / actual.len() as f64)
}

/// The standard EPF seasonal naive forecast of day d: the same hour of day
/// d − 7 for Mondays, Saturdays and Sundays, of day d − 1 otherwise.
/// `weekday(d)` is Monday = 0. Days before 7 get `None`.
pub fn seasonal_naive(
    price: &[[f64; 24]],
    weekday: impl Fn(usize) -> usize,
    d: usize,
) -> Option<[f64; 24]> {
    if d < 7 {
        return None;
    }
    let lag = match weekday(d) {
        0 | 5 | 6 => 7,
        _ => 1,
    };
    Some(price[d - lag])
}

/// Relative MAE: MAE of the forecast divided by MAE of the naive forecast on the same hours.
pub fn rmae(actual: &[f64], forecast: &[f64], naive: &[f64]) -> Result<f64, AnalyticsError> {
    Ok(mae(actual, forecast)? / mae(actual, naive)?)
}

/// All point metrics at once.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct PointMetrics {
    pub mae: f64,
    pub rmse: f64,
    pub smape_pct: f64,
    pub rmae: f64,
}

impl PointMetrics {
    pub fn compute(
        actual: &[f64],
        forecast: &[f64],
        naive: &[f64],
    ) -> Result<Self, AnalyticsError> {
        Ok(Self {
            mae: mae(actual, forecast)?,
            rmse: rmse(actual, forecast)?,
            smape_pct: smape_pct(actual, forecast)?,
            rmae: rmae(actual, forecast, naive)?,
        })
    }
}

/// Result of a one-sided Diebold–Mariano test.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct DieboldMariano {
    /// Test statistic (positive when forecaster 2 is more accurate).
    pub statistic: f64,
    /// p-value of H0 "forecaster 2 is not more accurate than forecaster 1".
    pub p_value: f64,
}

/// Multivariate DM test on daily vectors (Ziel & Weron 2018, as in
/// epftoolbox): loss differential of day t is `‖e1_t‖ₖ/24 − ‖e2_t‖ₖ/24`
/// with k = 1 (absolute) or 2 (squared errors); statistic `mean(Δ)/sqrt(var(Δ)/N)`,
/// p-value `1 − Φ(DM)`.
pub fn diebold_mariano(
    actual: &[[f64; 24]],
    forecast_1: &[[f64; 24]],
    forecast_2: &[[f64; 24]],
    norm: u8,
) -> Result<DieboldMariano, AnalyticsError> {
    if actual.len() != forecast_1.len() || actual.len() != forecast_2.len() || actual.len() < 2 {
        return Err(AnalyticsError::LengthMismatch {
            forecast: forecast_1.len().min(forecast_2.len()),
            actual: actual.len(),
        });
    }
    let loss = |e: f64| if norm == 2 { e * e } else { e.abs() };
    let diffs: Vec<f64> = (0..actual.len())
        .map(|t| {
            (0..24)
                .map(|h| {
                    loss(actual[t][h] - forecast_1[t][h]) - loss(actual[t][h] - forecast_2[t][h])
                })
                .sum::<f64>()
                / 24.0
        })
        .collect();
    let n = diffs.len() as f64;
    let mean = diffs.iter().sum::<f64>() / n;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n;
    let statistic = mean / (var / n).sqrt();
    Ok(DieboldMariano {
        statistic,
        p_value: 1.0 - normal_cdf(statistic),
    })
}

/// Standard normal CDF via the complementary error function.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

/// Complementary error function (W. J. Cody's rational Chebyshev
/// approximations, relative error below 1e-15 in double precision is not
/// claimed; absolute error < 1.2e-7 from the Numerical Recipes form).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_match_hand_computed_values() {
        let y = [10.0, 20.0, -5.0, 0.0];
        let f = [12.0, 18.0, -5.0, 1.0];
        // |e| = 2, 2, 0, 1 -> MAE 1.25; e² = 4,4,0,1 -> RMSE sqrt(2.25)=1.5
        assert!((mae(&y, &f).unwrap() - 1.25).abs() < 1e-12);
        assert!((rmse(&y, &f).unwrap() - 1.5).abs() < 1e-12);
        // sMAPE terms: 4/22, 4/38, 0, 2/1 -> mean*100
        let expected = 100.0 * (4.0 / 22.0 + 4.0 / 38.0 + 0.0 + 2.0) / 4.0;
        assert!((smape_pct(&y, &f).unwrap() - expected).abs() < 1e-12);
        let naive = [10.0, 10.0, 0.0, 0.0]; // |e| = 0, 10, 5, 0 -> 3.75
        assert!((rmae(&y, &f, &naive).unwrap() - 1.25 / 3.75).abs() < 1e-12);
    }

    #[test]
    fn mismatched_lengths_are_rejected() {
        assert!(mae(&[1.0], &[1.0, 2.0]).is_err());
    }

    #[test]
    fn normal_cdf_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_963_985) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655_254).abs() < 1e-6);
    }

    #[test]
    fn dm_test_prefers_the_better_forecaster() {
        let actual: Vec<[f64; 24]> = (0..50).map(|t| [t as f64; 24]).collect();
        let bad: Vec<[f64; 24]> = (0..50)
            .map(|t| [t as f64 + 2.0 + (t % 3) as f64; 24])
            .collect();
        let good: Vec<[f64; 24]> = (0..50)
            .map(|t| [t as f64 + 0.5 * (t % 2) as f64; 24])
            .collect();
        let dm = diebold_mariano(&actual, &bad, &good, 1).unwrap();
        assert!(dm.statistic > 0.0 && dm.p_value < 0.01, "{dm:?}");
        let dm_rev = diebold_mariano(&actual, &good, &bad, 1).unwrap();
        assert!(dm_rev.p_value > 0.99);
    }

    #[test]
    fn seasonal_naive_uses_week_lag_on_monday_and_weekend() {
        let price: Vec<[f64; 24]> = (0..14).map(|d| [d as f64; 24]).collect();
        // weekday(d) = d % 7 with day 0 a Monday
        assert_eq!(seasonal_naive(&price, |d| d % 7, 7).unwrap()[0], 0.0); // Monday -> d-7
        assert_eq!(seasonal_naive(&price, |d| d % 7, 8).unwrap()[0], 7.0); // Tuesday -> d-1
        assert_eq!(seasonal_naive(&price, |d| d % 7, 12).unwrap()[0], 5.0); // Saturday -> d-7
        assert!(seasonal_naive(&price, |d| d % 7, 3).is_none());
    }
}
