//! LEAR: the LASSO-estimated autoregressive day-ahead price model of Lago,
//! Marcjasz, De Schutter and Weron (2021), one linear model per hour of the
//! day, recalibrated every day on a rolling calibration window.
//!
//! Inputs for target day d and hour h (247 in all): prices of days d−1, d−2,
//! d−3, d−7 (all 24 hours); each of the two exogenous day-ahead forecasts for
//! day d, d−1 and d−7 (all hours); seven day-of-week dummies. Prices and
//! inputs are transformed with the asinh-median scaler fitted on the window;
//! λ is chosen by AIC along the LARS-lasso path (for windows with n ≤ p the
//! way scikit-learn ≤ 0.23.1 computed it, see [`SelectionPath`]); the LASSO at
//! that λ is then solved exactly (LARS homotopy). This module must not read prices of day d
//! or later when forecasting day d (only the exogenous forecasts of day d).

use rayon::prelude::*;

use super::data::DayAheadDataset;
use super::lasso::{
    GramProblem, InformationCriterion, lars_lasso_path, lasso_cd_gram, select_alphas,
    select_alphas_sklearn_023,
};
use super::transform::InvariantScaler;
use crate::error::AnalyticsError;
use crate::linalg::{dot, gram_of_columns};

/// Number of LEAR inputs: 96 price lags + 2 × 72 exogenous + 7 dummies.
pub const N_FEATURES: usize = 96 + 2 * 72 + 7;
/// Non-dummy inputs (the ones the asinh-median scaler transforms).
pub const N_SCALED_FEATURES: usize = N_FEATURES - 7;
/// Price lags (days) used as inputs.
pub const PRICE_LAGS: [usize; 4] = [1, 2, 3, 7];

/// How the α chosen on the LARS path is applied to the final LASSO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PenaltyScale {
    /// As epftoolbox with the scikit-learn of its time: the AIC path is computed
    /// on unit-norm columns (`LassoLarsIC(normalize=True)`) and the chosen α is
    /// reused for the LASSO on the asinh-scaled, un-normalised design
    /// (`Lasso(alpha)`), i.e. a weaker penalty than the AIC optimum.
    Epftoolbox,
    /// The LASSO solution at the AIC knot itself (the same design throughout).
    Consistent,
}

/// LEAR settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LearConfig {
    /// Calibration windows in days (the training set of a window w has w − 7 days).
    pub calibration_windows_days: Vec<usize>,
    /// One ensemble member per window and criterion (the path is walked once).
    pub criteria: Vec<InformationCriterion>,
    pub penalty_scale: PenaltyScale,
    pub final_solver: FinalSolver,
    /// How the information-criterion path is walked when the window has no
    /// more observations than inputs.
    pub selection_path: SelectionPath,
}

/// The LARS path on which α is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectionPath {
    /// The exact LARS-lasso path with true residuals, for every window.
    Exact,
    /// For windows with n ≤ p (56 and 84 days: 49/77 observations, 247
    /// inputs) the path and criterion of scikit-learn ≤ 0.23.1, which produced
    /// the published epftoolbox forecasts: its explicit-design LARS swaps the
    /// columns of the array later used for the residuals, so the criterion is
    /// evaluated on permuted columns
    /// ([`select_alphas_sklearn_023`](super::lasso::select_alphas_sklearn_023)).
    /// Windows with n > p use the exact path (scikit-learn used the Gram
    /// matrix there and was not affected).
    Sklearn023,
}

/// How the LASSO at the chosen α is solved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FinalSolver {
    /// Exact solution by the LARS homotopy.
    ExactPath,
    /// scikit-learn-style coordinate descent from zero (tolerance, sweep cap).
    CoordinateDescent { tol: f64, max_sweeps: usize },
}

impl LearConfig {
    /// The benchmark's LEAR ensemble: windows 56, 84, 1092 and 1456 days.
    pub fn benchmark() -> Self {
        Self {
            calibration_windows_days: vec![56, 84, 1092, 1456],
            criteria: vec![InformationCriterion::Aic],
            penalty_scale: PenaltyScale::Epftoolbox,
            final_solver: FinalSolver::ExactPath,
            selection_path: SelectionPath::Sklearn023,
        }
    }

    /// The stronger model: eight windows (56 … 1456 days), each with λ by
    /// AIC and by BIC, sixteen members averaged.
    pub fn wide() -> Self {
        Self {
            calibration_windows_days: vec![56, 84, 112, 182, 364, 728, 1092, 1456],
            criteria: vec![InformationCriterion::Aic, InformationCriterion::Bic],
            // our own model: true residuals on every window
            selection_path: SelectionPath::Exact,
            ..Self::benchmark()
        }
    }

    /// Names of the ensemble members in output order (`LEAR 56`, `LEAR 56 BIC`, ...).
    pub fn member_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for w in &self.calibration_windows_days {
            for c in &self.criteria {
                names.push(match c {
                    InformationCriterion::Aic => format!("LEAR {w}"),
                    InformationCriterion::Bic => format!("LEAR {w} BIC"),
                });
            }
        }
        names
    }

    /// Longest window (the history a forecast needs).
    pub fn longest_window(&self) -> usize {
        self.calibration_windows_days
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
    }
}

/// Raw (untransformed) LEAR inputs of target day `t`. Reads prices of days
/// t−1..t−7 and exogenous forecasts of days t, t−1, t−7 only.
pub fn raw_features(ds: &DayAheadDataset, t: usize) -> [f64; N_FEATURES] {
    debug_assert!(t >= 7);
    // Same column order as epftoolbox (it matters for the coordinate-descent
    // sweep order): prices hour-major, then per hour the exogenous lags.
    let mut x = [0.0; N_FEATURES];
    let mut k = 0;
    for h in 0..24 {
        for lag in PRICE_LAGS {
            x[k] = ds.price_per_mwh[t - lag][h];
            k += 1;
        }
    }
    for h in 0..24 {
        for lag in [1usize, 7] {
            for ex in &ds.exogenous {
                x[k] = ex[t - lag][h];
                k += 1;
            }
        }
        for ex in &ds.exogenous {
            x[k] = ex[t][h];
            k += 1;
        }
    }
    x[k + ds.weekday(t)] = 1.0;
    x
}

/// Forecasts of one day by every member of the configuration
/// (`result[member][hour]`, members ordered as [`LearConfig::member_names`]),
/// using only data available before day `d`.
pub fn forecast_day(
    ds: &DayAheadDataset,
    d: usize,
    config: &LearConfig,
) -> Result<Vec<[f64; 24]>, AnalyticsError> {
    let needed = config.longest_window();
    if d < needed || d >= ds.n_days() {
        return Err(AnalyticsError::NotEnoughHistory {
            what: format!("LEAR forecast of day {d}"),
            needed,
            available: d.min(ds.n_days()),
        });
    }
    let test_raw = raw_features(ds, d);
    let rows: Vec<Vec<f64>> = (d + 7 - needed..d)
        .map(|t| raw_features(ds, t).to_vec())
        .collect();
    let mut out = Vec::with_capacity(config.calibration_windows_days.len());
    for &window in &config.calibration_windows_days {
        if window < 14 {
            return Err(AnalyticsError::InvalidArgument(format!(
                "calibration window {window} days: must be at least 14"
            )));
        }
        let first = d - window + 7;
        let targets: Vec<[f64; 24]> = (first..d).map(|t| ds.price_per_mwh[t]).collect();
        out.extend(fit_and_forecast_members(
            &rows[rows.len() - (d - first)..],
            &targets,
            &test_raw,
            7,
            config,
        ));
    }
    Ok(out)
}

/// Calibrates 24 hourly LASSO models on (`rows`, `targets`) and forecasts
/// the test row. The last `n_dummies` inputs are 0/1 dummies and are not
/// transformed; all other inputs and the targets get the asinh-median
/// transformation fitted on `rows`/`targets`.
pub fn fit_and_forecast(
    rows: &[Vec<f64>],
    targets: &[[f64; 24]],
    test_raw: &[f64],
    n_dummies: usize,
    config: &LearConfig,
) -> [f64; 24] {
    fit_and_forecast_members(rows, targets, test_raw, n_dummies, config)[0]
}

/// [`fit_and_forecast`] for every criterion of the configuration (one
/// forecast per criterion, same order).
pub fn fit_and_forecast_members(
    rows: &[Vec<f64>],
    targets: &[[f64; 24]],
    test_raw: &[f64],
    n_dummies: usize,
    config: &LearConfig,
) -> Vec<[f64; 24]> {
    let n = rows.len();
    let p = test_raw.len();
    let n_scaled = p - n_dummies;
    let mut columns: Vec<Vec<f64>> = Vec::with_capacity(p);
    let mut test = vec![0.0; p];
    for j in 0..p {
        let mut col: Vec<f64> = rows.iter().map(|r| r[j]).collect();
        if j < n_scaled {
            let scaler = InvariantScaler::fit(&col);
            col.iter_mut().for_each(|v| *v = scaler.transform(*v));
            test[j] = scaler.transform(test_raw[j]);
        } else {
            test[j] = test_raw[j];
        }
        let mean = col.iter().sum::<f64>() / n as f64;
        col.iter_mut().for_each(|v| *v -= mean);
        test[j] -= mean;
        columns.push(col);
    }
    let gram = gram_of_columns(&columns);
    let norms: Vec<f64> = (0..p).map(|j| gram[j * p + j].sqrt()).collect();
    let safe = |s: f64| if s > 1e-12 { s } else { 1.0 };
    let mut gram_unit = gram.clone();
    for i in 0..p {
        for j in 0..p {
            gram_unit[i * p + j] /= safe(norms[i]) * safe(norms[j]);
        }
    }
    // scikit-learn's `precompute='auto'` walks the explicit design when n ≤ p
    let unit_columns: Option<Vec<Vec<f64>>> =
        (config.selection_path == SelectionPath::Sklearn023 && n <= p).then(|| {
            columns
                .iter()
                .zip(&norms)
                .map(|(c, s)| c.iter().map(|v| v / safe(*s)).collect())
                .collect()
        });
    let mut forecast = vec![[0.0; 24]; config.criteria.len()];
    for h in 0..24 {
        let raw_y: Vec<f64> = targets.iter().map(|t| t[h]).collect();
        let y_scaler = InvariantScaler::fit(&raw_y);
        let mut y: Vec<f64> = raw_y.iter().map(|v| y_scaler.transform(*v)).collect();
        let y_mean = y.iter().sum::<f64>() / n as f64;
        y.iter_mut().for_each(|v| *v -= y_mean);
        let yty = dot(&y, &y);
        let xty: Vec<f64> = columns.iter().map(|c| dot(c, &y)).collect();
        let xty_unit: Vec<f64> = xty.iter().zip(&norms).map(|(q, s)| q / safe(*s)).collect();
        let unit = GramProblem {
            gram: &gram_unit,
            xty: &xty_unit,
            yty,
            n_samples: n,
        };
        let alphas = match &unit_columns {
            Some(cols) => select_alphas_sklearn_023(cols, &y, &config.criteria, 2500),
            None => select_alphas(unit, &config.criteria),
        };
        for (member, alpha) in alphas.into_iter().enumerate() {
            let w: Vec<f64> = match config.penalty_scale {
                PenaltyScale::Epftoolbox => {
                    let raw = GramProblem {
                        gram: &gram,
                        xty: &xty,
                        yty,
                        n_samples: n,
                    };
                    match config.final_solver {
                        FinalSolver::ExactPath => lars_lasso_path(raw, alpha, |_, _| true),
                        FinalSolver::CoordinateDescent { tol, max_sweeps } => {
                            lasso_cd_gram(raw, alpha, tol, max_sweeps)
                        }
                    }
                }
                PenaltyScale::Consistent => {
                    let w_unit = lars_lasso_path(unit, alpha, |_, _| true);
                    w_unit
                        .iter()
                        .zip(&norms)
                        .map(|(w, s)| w / safe(*s))
                        .collect()
                }
            };
            forecast[member][h] = y_scaler.inverse(y_mean + dot(&w, &test));
        }
    }
    forecast
}

/// Day-by-day forecasts of a test span with daily recalibration.
#[derive(Debug, Clone)]
pub struct RollingForecast {
    /// Index of the first forecast day in the dataset.
    pub first_day: usize,
    /// Member names (`LEAR 56`, `LEAR 56 BIC`, ...).
    pub members: Vec<String>,
    /// `per_member[k][day][hour]`.
    pub per_member: Vec<Vec<[f64; 24]>>,
    /// Arithmetic mean of the members.
    pub ensemble: Vec<[f64; 24]>,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
}

/// Forecasts days `first_day .. first_day + n_days` (in parallel across days;
/// each day recalibrates every window). `on_day_done` is called once per day.
pub fn rolling_forecast(
    ds: &DayAheadDataset,
    first_day: usize,
    n_days: usize,
    config: &LearConfig,
    on_day_done: &(dyn Fn() + Sync),
) -> Result<RollingForecast, AnalyticsError> {
    if first_day + n_days > ds.n_days() {
        return Err(AnalyticsError::InvalidArgument(format!(
            "forecast span {}..{} goes past the last day of the data ({})",
            first_day,
            first_day + n_days,
            ds.n_days()
        )));
    }
    let start = std::time::Instant::now();
    let days: Vec<Vec<[f64; 24]>> = (first_day..first_day + n_days)
        .into_par_iter()
        .map(|d| {
            let f = forecast_day(ds, d, config);
            on_day_done();
            f
        })
        .collect::<Result<_, _>>()?;
    let members = config.member_names();
    let k = members.len();
    let per_member: Vec<Vec<[f64; 24]>> = (0..k)
        .map(|w| days.iter().map(|day| day[w]).collect())
        .collect();
    let ensemble = days
        .iter()
        .map(|day| {
            let mut m = [0.0; 24];
            for f in day {
                for h in 0..24 {
                    m[h] += f[h] / k as f64;
                }
            }
            m
        })
        .collect();
    Ok(RollingForecast {
        first_day,
        members,
        per_member,
        ensemble,
        seconds: start.elapsed().as_secs_f64(),
    })
}
