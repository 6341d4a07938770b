//! Choosing a resource's baseline method by placebo back-test: ordinary
//! weekdays before the event, on which nothing was asked of the resource,
//! are treated as if they were event days with the same window; every
//! method estimates the window from the history before that day, and is
//! scored against what the resource actually used. The method with the
//! lowest relative RMSE wins (ties, to 10⁻⁹: the smaller |bias|, then the
//! order of [`Method::ALL`]); its error is the expected error to report
//! with every performance figure built on it.
//!
//! Statistics here are `f64` (they describe errors, they are never money).
//!
//! Must not: settle anything, nor change the history it is given.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use voltex_model::money::Wh;

use crate::baseline::{self, BaselineConfig, Exclusions, LoadHistory, Method, Window};
use crate::error::{DrError, Result};

/// One method's placebo score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodScore {
    pub method: Method,
    /// Placebo days scored (the same days for every method).
    pub placebo_days: usize,
    /// Mean over placebo days of `Σ_{t∈W} (B_t − e_t)`, Wh per event
    /// (positive: the baseline overstates, so delivery would be overpaid).
    pub bias_wh: f64,
    /// `Σ_{d,t} (B − e) / Σ_{d,t} e`, %.
    pub bias_pct: f64,
    /// `sqrt(mean_{d,t} (B − e)²) / mean_{d,t} e`, % (relative RMSE per
    /// interval over the window).
    pub rrmse_pct: f64,
    /// `Σ_{d} |Σ_t B − Σ_t e| / Σ_{d,t} e`, %: the window-energy error
    /// (what a settlement sees), weighted by energy.
    pub energy_error_pct: f64,
}

/// The back-test of one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    /// In the order of the methods asked for.
    pub scores: Vec<MethodScore>,
    pub chosen: Method,
    /// The chosen method's relative RMSE, %: the expected error of a
    /// delivered-energy figure built on it.
    pub expected_error_pct: f64,
    /// The chosen method's bias, %.
    pub expected_bias_pct: f64,
    /// Placebo days dropped because some method had too little history.
    pub skipped_days: usize,
}

impl Backtest {
    pub fn score(&self, m: Method) -> Option<&MethodScore> {
        self.scores.iter().find(|s| s.method == m)
    }
}

/// Back-tests `methods` on up to `placebo_days` ordinary weekdays before
/// `event_day` (most recent first; event days and holidays in `excl` are
/// never placebos), each with `window`. A placebo day on which any method
/// has too little history is skipped, so every method is scored on the
/// same days. Errors when no day can be scored.
pub fn backtest(
    h: &LoadHistory,
    event_day: NaiveDate,
    window: Window,
    excl: &Exclusions,
    cfg: &BaselineConfig,
    methods: &[Method],
    placebo_days: usize,
) -> Result<Backtest> {
    let candidates = baseline::eligible_days(h, event_day, cfg.lookback_days, placebo_days, |d| {
        excl.eligible_weekday(d)
    });
    // per method: (Σ err, Σ err², Σ |window err|) and shared Σ e, n
    let mut sums = vec![(0.0f64, 0.0f64, 0.0f64); methods.len()];
    let (mut actual_sum, mut n, mut used, mut skipped) = (0.0f64, 0usize, 0usize, 0usize);
    for d in &candidates {
        let got: Result<Vec<Vec<Wh>>> = methods
            .iter()
            .map(|m| baseline::compute(*m, h, *d, window, excl, cfg).map(|b| b.wh))
            .collect();
        let bases = match got {
            Ok(b) => b,
            Err(DrError::InsufficientHistory { .. }) => {
                skipped += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        let actual = &h.days[d][window.slots()];
        used += 1;
        n += actual.len();
        actual_sum += actual.iter().map(|x| *x as f64).sum::<f64>();
        for (s, b) in sums.iter_mut().zip(&bases) {
            let mut day_err = 0.0;
            for (bt, et) in b[window.slots()].iter().zip(actual) {
                let e = (*bt - *et) as f64;
                s.0 += e;
                s.1 += e * e;
                day_err += e;
            }
            s.2 += day_err.abs();
        }
    }
    if used == 0 {
        return Err(DrError::InsufficientHistory {
            method: "placebo back-test".into(),
            day: event_day,
            needed: 1,
            found: 0,
        });
    }
    let denom = actual_sum.max(1.0);
    let mean = (actual_sum / n as f64).max(1e-9);
    let scores: Vec<MethodScore> = methods
        .iter()
        .zip(&sums)
        .map(|(m, s)| MethodScore {
            method: *m,
            placebo_days: used,
            bias_wh: s.0 / used as f64,
            bias_pct: 100.0 * s.0 / denom,
            rrmse_pct: 100.0 * (s.1 / n as f64).sqrt() / mean,
            energy_error_pct: 100.0 * s.2 / denom,
        })
        .collect();
    let best = scores
        .iter()
        .min_by(|a, b| {
            let d = a.rrmse_pct - b.rrmse_pct;
            if d.abs() > 1e-9 {
                a.rrmse_pct.total_cmp(&b.rrmse_pct)
            } else {
                a.bias_pct.abs().total_cmp(&b.bias_pct.abs())
            }
        })
        .expect("at least one method")
        .clone();
    Ok(Backtest {
        chosen: best.method,
        expected_error_pct: best.rrmse_pct,
        expected_bias_pct: best.bias_pct,
        scores,
        skipped_days: skipped,
    })
}
