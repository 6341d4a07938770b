//! Customer and portfolio load forecasts: day-ahead (96 quarter-hours) and
//! month-ahead (daily energy). Each customer gets the method with the
//! lowest error in a back-test over the days before the forecast day
//! (docs/retail-decisions.md, "Load forecasts").
//!
//! A day-ahead forecast for day D is made on D − 1 before gate closure,
//! when D − 1 is not yet metered: it may use days up to D − 2 only.
//!
//! Must not: price anything (that is `purchase`) or read files (`demo`).
use chrono::{Datelike, NaiveDate, Weekday};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;

use crate::month::Month;

/// Quarter-hours in a day.
pub const SLOTS: usize = 96;
/// Regression fit window (days before the forecast day).
pub const FIT_DAYS: usize = 28;
/// Same-type days averaged by [`Method::SimilarDays`].
pub const SIMILAR_DAYS: usize = 4;

/// A customer's interval energy (kWh per quarter-hour), 96 a day: the
/// efficiency module's series, one type for both.
pub use crate::efficiency::IntervalSeries as LoadHistory;

/// Working day, Saturday or Sunday: the day types the methods match on.
/// (Public holidays are not modelled; docs say so.)
pub fn day_type(date: NaiveDate) -> u8 {
    match date.weekday() {
        Weekday::Sat => 1,
        Weekday::Sun => 2,
        _ => 0,
    }
}

/// The day-ahead methods a customer's forecast is chosen from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// ŷ_D = y_{D−7}: the seasonal naive forecast, also the rMAE reference.
    SameDayLastWeek,
    /// ŷ_D = mean of the last four days of D's type up to D − 2.
    SimilarDays,
    /// Per quarter-hour s, least squares on the last 28 days:
    /// y_{j,s} = β₀ + β₁ y_{j−2,s} + β₂ y_{j−7,s} + β₃ sat_j + β₄ sun_j.
    Regression,
}

impl Method {
    pub const ALL: [Method; 3] = [
        Method::SameDayLastWeek,
        Method::SimilarDays,
        Method::Regression,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::SameDayLastWeek => "same_day_last_week",
            Method::SimilarDays => "similar_days",
            Method::Regression => "regression",
        }
    }
}

/// Forecast of day `d` of `h` from days ≤ d − 2 (d − 7 for the naive
/// method); `None` without enough history.
pub fn forecast_day(h: &LoadHistory, d: usize, method: Method) -> Option<Vec<f64>> {
    match method {
        Method::SameDayLastWeek => (d >= 7).then(|| h.day(d - 7).to_vec()),
        Method::SimilarDays => similar_days(h, d),
        Method::Regression => regression(h, d),
    }
}

fn similar_days(h: &LoadHistory, d: usize) -> Option<Vec<f64>> {
    let kind = day_type(h.date(d));
    let picked: Vec<usize> = (2..=d.min(42))
        .map(|back| d - back)
        .filter(|&j| day_type(h.date(j)) == kind)
        .take(SIMILAR_DAYS)
        .collect();
    if picked.len() < 2 {
        return None;
    }
    let n = picked.len() as f64;
    Some(
        (0..SLOTS)
            .map(|s| picked.iter().map(|&j| h.day(j)[s]).sum::<f64>() / n)
            .collect(),
    )
}

const FEATURES: usize = 5;

fn features(h: &LoadHistory, j: usize, s: usize) -> [f64; FEATURES] {
    let kind = day_type(h.date(j));
    [
        1.0,
        h.day(j - 2)[s],
        h.day(j - 7)[s],
        f64::from(kind == 1),
        f64::from(kind == 2),
    ]
}

fn regression(h: &LoadHistory, d: usize) -> Option<Vec<f64>> {
    // training days j in [d − FIT_DAYS − 1, d − 2], each needing j − 7 ≥ 0
    if d < FIT_DAYS + 9 {
        return None;
    }
    let train: Vec<usize> = (d - FIT_DAYS - 1..=d - 2).collect();
    let mut out = Vec::with_capacity(SLOTS);
    for s in 0..SLOTS {
        let mut a = [0.0; FEATURES * FEATURES];
        let mut b = [0.0; FEATURES];
        for &j in &train {
            let x = features(h, j, s);
            let y = h.day(j)[s];
            for r in 0..FEATURES {
                b[r] += x[r] * y;
                for c in 0..FEATURES {
                    a[r * FEATURES + c] += x[r] * x[c];
                }
            }
        }
        // a small ridge keeps the system definite when a regressor is
        // constant (a customer with a flat load)
        let ridge = 1e-9 * (0..FEATURES).map(|i| a[i * FEATURES + i]).sum::<f64>() + 1e-9;
        for i in 0..FEATURES {
            a[i * FEATURES + i] += ridge;
        }
        let beta = voltex_analytics::linalg::solve_spd(&a, &b)?;
        let x = features(h, d, s);
        let y: f64 = x.iter().zip(&beta).map(|(x, b)| x * b).sum();
        out.push(y.max(0.0));
    }
    Some(out)
}

/// Error measures of forecasts against actuals over a set of days.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Accuracy {
    /// Σ|a − f| / Σ a × 100: the energy-weighted error the purchase cost
    /// follows.
    pub wape_pct: f64,
    /// Mean |a − f| / a × 100 over intervals with a > 0.
    pub mape_pct: f64,
    /// MAE / MAE of the same-day-last-week forecast (rMAE; < 1 beats it).
    pub rmae: f64,
}

/// Accumulates absolute errors to give an [`Accuracy`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorSum {
    abs: f64,
    actual: f64,
    ape: f64,
    ape_n: usize,
    naive_abs: f64,
}

impl ErrorSum {
    pub fn add(&mut self, actual: &[f64], forecast: &[f64], naive: &[f64]) {
        for ((a, f), n) in actual.iter().zip(forecast).zip(naive) {
            self.abs += (a - f).abs();
            self.actual += a;
            self.naive_abs += (a - n).abs();
            if *a > 0.0 {
                self.ape += (a - f).abs() / a;
                self.ape_n += 1;
            }
        }
    }

    pub fn merge(&mut self, o: &ErrorSum) {
        self.abs += o.abs;
        self.actual += o.actual;
        self.ape += o.ape;
        self.ape_n += o.ape_n;
        self.naive_abs += o.naive_abs;
    }

    pub fn accuracy(&self) -> Accuracy {
        Accuracy {
            wape_pct: ratio(self.abs, self.actual) * 100.0,
            mape_pct: ratio(self.ape, self.ape_n as f64) * 100.0,
            rmae: ratio(self.abs, self.naive_abs),
        }
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// One customer's day-ahead forecast with the back-test that chose it.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerForecast {
    pub customer_id: String,
    pub chosen: Method,
    /// Back-test accuracy of every method that could run, in `Method` order.
    pub methods: Vec<(Method, Accuracy)>,
    /// The chosen method's forecast of each back-test day (oldest first).
    #[serde(skip)]
    pub backtest: Vec<Vec<f64>>,
    /// The chosen method's accuracy per calendar month of the back-test.
    pub by_month: Vec<(Month, Accuracy)>,
    /// The forecast of the target day (96 kWh).
    pub next_day: Vec<f64>,
}

impl CustomerForecast {
    pub fn accuracy(&self) -> Accuracy {
        self.methods
            .iter()
            .find(|(m, _)| *m == self.chosen)
            .map(|(_, a)| *a)
            .unwrap_or_default()
    }
}

/// One method's back-test: its forecast of each day and its errors by month.
type MethodRun = (Vec<Vec<f64>>, BTreeMap<Month, ErrorSum>);

/// The back-test days of a forecast of day `target` (an index of `h`, at
/// at most two past its last day: the day before the target may not be
/// metered yet, and no method reads it): the `window` days that end
/// with the last day `h` holds before the target. `None` when `h` does not
/// reach the day before the day before the target, or is too short.
pub fn backtest_days(h: &LoadHistory, target: usize, window: usize) -> Option<Range<usize>> {
    let end = target.min(h.days());
    (target <= h.days() + 1 && end >= window).then(|| end - window..end)
}

/// Index of `date` in `h`, also past its end (`None` before its start).
pub fn day_index(h: &LoadHistory, date: NaiveDate) -> Option<usize> {
    usize::try_from((date - h.start).num_days()).ok()
}

/// Forecasts day `target` of `h` after back-testing every method on the
/// `window` days before it ([`backtest_days`]; each forecast made as it
/// would have been, from days ≤ D − 2). The method with the lowest WAPE
/// wins; ties go to the simpler method. `None` when no method has enough
/// history.
pub fn forecast_customer(
    customer_id: &str,
    h: &LoadHistory,
    target: usize,
    window: usize,
) -> Option<CustomerForecast> {
    let days: Vec<usize> = backtest_days(h, target, window)?.collect();
    let mut best: Option<(Method, f64)> = None;
    let mut methods = Vec::new();
    let mut runs: BTreeMap<Method, MethodRun> = BTreeMap::new();
    for m in Method::ALL {
        let mut total = ErrorSum::default();
        let mut monthly: BTreeMap<Month, ErrorSum> = BTreeMap::new();
        let mut forecasts = Vec::with_capacity(days.len());
        let mut complete = true;
        for &d in &days {
            let (Some(f), Some(naive)) = (
                forecast_day(h, d, m),
                forecast_day(h, d, Method::SameDayLastWeek),
            ) else {
                complete = false;
                break;
            };
            total.add(h.day(d), &f, &naive);
            monthly
                .entry(Month::of(h.date(d)))
                .or_default()
                .add(h.day(d), &f, &naive);
            forecasts.push(f);
        }
        if !complete {
            continue;
        }
        let acc = total.accuracy();
        methods.push((m, acc));
        if best.is_none_or(|(_, e)| acc.wape_pct < e - 1e-12) {
            best = Some((m, acc.wape_pct));
        }
        runs.insert(m, (forecasts, monthly));
    }
    let (chosen, _) = best?;
    let next_day = forecast_day(h, target, chosen)?;
    let (backtest, monthly) = runs.remove(&chosen)?;
    Some(CustomerForecast {
        customer_id: customer_id.to_owned(),
        chosen,
        methods,
        backtest,
        by_month: monthly
            .into_iter()
            .map(|(m, e)| (m, e.accuracy()))
            .collect(),
        next_day,
    })
}

/// The portfolio's forecast: the sum of the customers' chosen forecasts.
#[derive(Debug, Clone, Serialize)]
pub struct PortfolioForecast {
    pub target: NaiveDate,
    pub window_days: usize,
    pub customers: Vec<CustomerForecast>,
    /// Σ over customers of the next-day forecast (kWh per quarter-hour).
    pub next_day: Vec<f64>,
    /// Portfolio actual and forecast of each back-test day.
    #[serde(skip)]
    pub backtest_actual: Vec<Vec<f64>>,
    #[serde(skip)]
    pub backtest_forecast: Vec<Vec<f64>>,
    /// Accuracy of the portfolio sum over the back-test.
    pub portfolio: Accuracy,
    /// Σ_i Σ_t |a_it − f_it| / Σ a × 100: the error if every customer's
    /// error were bought separately.
    pub customers_wape_pct: f64,
    /// 1 − portfolio WAPE / customers' WAPE, in %: what aggregation saves
    /// (the diversity effect).
    pub diversity_pct: f64,
    /// How many customers each method won.
    pub chosen: BTreeMap<Method, usize>,
}

/// Forecasts every customer (in parallel) and the portfolio for `target`.
/// Customers whose history does not cover the window are left out.
pub fn forecast_portfolio(
    customers: &[(&str, &LoadHistory)],
    target: NaiveDate,
    window: usize,
) -> PortfolioForecast {
    let forecasts: Vec<(&LoadHistory, CustomerForecast)> = customers
        .par_iter()
        .filter_map(|(id, h)| {
            let f = forecast_customer(id, h, day_index(h, target)?, window)?;
            Some((*h, f))
        })
        .collect();
    let mut next_day = vec![0.0; SLOTS];
    let mut actual = vec![vec![0.0; SLOTS]; window];
    let mut forecast = vec![vec![0.0; SLOTS]; window];
    let mut naive = vec![vec![0.0; SLOTS]; window];
    let mut separate = ErrorSum::default();
    let mut chosen = BTreeMap::new();
    for (h, f) in &forecasts {
        let days = day_index(h, target)
            .and_then(|t| backtest_days(h, t, window))
            .expect("a forecast customer has its back-test days");
        *chosen.entry(f.chosen).or_insert(0) += 1;
        for (s, v) in f.next_day.iter().enumerate() {
            next_day[s] += v;
        }
        for (k, d) in days.enumerate() {
            let a = h.day(d);
            let nv = h.day(d - 7);
            separate.add(a, &f.backtest[k], nv);
            for s in 0..SLOTS {
                actual[k][s] += a[s];
                forecast[k][s] += f.backtest[k][s];
                naive[k][s] += nv[s];
            }
        }
    }
    let mut whole = ErrorSum::default();
    for k in 0..window {
        whole.add(&actual[k], &forecast[k], &naive[k]);
    }
    let portfolio = whole.accuracy();
    let customers_wape_pct = separate.accuracy().wape_pct;
    PortfolioForecast {
        target,
        window_days: window,
        customers: forecasts.into_iter().map(|(_, f)| f).collect(),
        next_day,
        backtest_actual: actual,
        backtest_forecast: forecast,
        portfolio,
        customers_wape_pct,
        diversity_pct: if customers_wape_pct > 0.0 {
            (1.0 - portfolio.wape_pct / customers_wape_pct) * 100.0
        } else {
            0.0
        },
        chosen,
    }
}

/// Month-ahead daily energy (kWh) of the `days` days from index `first`:
/// each day the mean daily energy of the last four days of its type before
/// `first` (the forecast is made before the month starts).
pub fn month_ahead(h: &LoadHistory, first: usize, days: usize) -> Vec<f64> {
    (0..days)
        .map(|k| {
            let kind = day_type(h.date(first + k));
            let picked: Vec<f64> = (1..=first.min(35))
                .map(|back| first - back)
                .filter(|&j| day_type(h.date(j)) == kind)
                .take(SIMILAR_DAYS)
                .map(|j| h.day_energy(j))
                .collect();
            if picked.is_empty() {
                0.0
            } else {
                picked.iter().sum::<f64>() / picked.len() as f64
            }
        })
        .collect()
}

/// Relative error quantiles of the portfolio back-test per hour of day:
/// (low, high) such that actual ≈ forecast × (1 + q). `p` is the lower
/// tail probability (0.1 gives a P10–P90 band).
pub fn relative_error_band(actual: &[Vec<f64>], forecast: &[Vec<f64>], p: f64) -> Vec<(f64, f64)> {
    (0..SLOTS)
        .map(|s| {
            let hour = s / 4;
            let mut r: Vec<f64> = actual
                .iter()
                .zip(forecast)
                .flat_map(|(a, f)| (hour * 4..hour * 4 + 4).map(move |t| (a[t], f[t])))
                .filter(|(_, f)| *f > 0.0)
                .map(|(a, f)| a / f - 1.0)
                .collect();
            r.sort_by(f64::total_cmp);
            (quantile(&r, p), quantile(&r, 1.0 - p))
        })
        .collect()
}

/// Empirical quantile by linear interpolation of a sorted sample.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let x = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = x.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] + (sorted[j] - sorted[i]) * (x - i as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;

    fn monday() -> NaiveDate {
        NaiveDate::from_ymd_opt(2016, 1, 4).unwrap()
    }

    /// Weekdays 10 kWh a quarter-hour in slots 32..72 else 2; weekends 3 all day.
    fn office(days: usize) -> LoadHistory {
        let start = monday();
        let mut kwh = Vec::new();
        for d in 0..days {
            let weekend = day_type(start + Days::new(d as u64)) != 0;
            for s in 0..SLOTS {
                kwh.push(if weekend {
                    3.0
                } else if (32..72).contains(&s) {
                    10.0
                } else {
                    2.0
                });
            }
        }
        LoadHistory { start, kwh }
    }

    #[test]
    fn every_method_is_exact_on_a_load_that_repeats_each_week() {
        let h = office(70);
        for m in Method::ALL {
            let f = forecast_day(&h, 60, m).expect("enough history");
            for (a, f) in h.day(60).iter().zip(&f) {
                assert!((a - f).abs() < 1e-6, "{m:?}: {a} vs {f}");
            }
        }
    }

    #[test]
    fn the_forecast_of_day_d_never_reads_day_d_minus_one() {
        let mut h = office(70);
        let before = forecast_day(&h, 60, Method::Regression).unwrap();
        let before_sim = forecast_day(&h, 60, Method::SimilarDays).unwrap();
        for v in &mut h.kwh[59 * SLOTS..61 * SLOTS] {
            *v = 1e6;
        }
        assert_eq!(forecast_day(&h, 60, Method::Regression).unwrap(), before);
        assert_eq!(
            forecast_day(&h, 60, Method::SimilarDays).unwrap(),
            before_sim
        );
    }

    #[test]
    fn backtest_picks_the_method_that_follows_a_trend_the_others_lag() {
        // a load growing 1 % a day: the regression on y_{D−2} tracks it,
        // last week's day lags by 7 days of growth
        let start = monday();
        let kwh: Vec<f64> = (0..80)
            .flat_map(|d| (0..SLOTS).map(move |s| (5.0 + (s % 7) as f64) * 1.01f64.powi(d)))
            .collect();
        let h = LoadHistory { start, kwh };
        let f = forecast_customer("C1", &h, 75, 14).unwrap();
        assert_eq!(f.chosen, Method::Regression);
        let naive = f
            .methods
            .iter()
            .find(|(m, _)| *m == Method::SameDayLastWeek)
            .unwrap()
            .1;
        assert!((naive.rmae - 1.0).abs() < 1e-9);
        assert!(f.accuracy().rmae < 0.5, "{:?}", f.accuracy());
        assert_eq!(f.backtest.len(), 14);
    }

    #[test]
    fn a_short_history_gives_no_forecast_rather_than_a_guess() {
        let h = office(10);
        assert!(forecast_customer("C1", &h, 9, 5).is_none());
        assert!(forecast_day(&h, 5, Method::SameDayLastWeek).is_none());
    }

    #[test]
    fn a_day_before_the_target_not_yet_metered_changes_no_forecast_only_the_backtest_days() {
        let full = office(70);
        let mut short = full.clone();
        short.kwh.truncate(69 * SLOTS); // day 69 (the day before 70) unread
        let a = forecast_customer("C1", &full, 70, 14).unwrap();
        let b = forecast_customer("C1", &short, 70, 14).unwrap();
        assert_eq!(a.next_day, b.next_day);
        assert_eq!(backtest_days(&full, 70, 14), Some(56..70));
        assert_eq!(backtest_days(&short, 70, 14), Some(55..69));
        // two unread days is one too many: the forecast would read D − 2
        short.kwh.truncate(68 * SLOTS);
        assert!(forecast_customer("C1", &short, 70, 14).is_none());
        let target = full.date(70);
        assert_eq!(day_index(&short, target), Some(70));
    }

    #[test]
    fn portfolio_error_is_below_the_sum_of_anticorrelated_customer_errors() {
        // A = 4 + e, B = 4 − e with e unpredictable noise: each customer is
        // badly forecast, their sum is 8 and forecast almost exactly
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let noise: Vec<f64> = (0..70 * SLOTS)
            .map(|_| rng.random_range(-2.0..2.0))
            .collect();
        let start = monday();
        let a = LoadHistory {
            start,
            kwh: noise.iter().map(|e| 4.0 + e).collect(),
        };
        let b = LoadHistory {
            start,
            kwh: noise.iter().map(|e| 4.0 - e).collect(),
        };
        let customers = vec![("A", &a), ("B", &b)];
        let p = forecast_portfolio(&customers, start + Days::new(63), 14);
        assert_eq!(p.customers.len(), 2);
        assert!(p.customers_wape_pct > 10.0, "{}", p.customers_wape_pct);
        assert!(
            p.portfolio.wape_pct < 0.1 * p.customers_wape_pct,
            "{:?}",
            p.portfolio
        );
        assert!(p.diversity_pct > 90.0, "{}", p.diversity_pct);
    }

    #[test]
    fn month_ahead_repeats_the_mean_of_each_day_type() {
        let h = office(70);
        let m = month_ahead(&h, 35, 7);
        let weekday = 40.0 * 10.0 + 56.0 * 2.0;
        assert_eq!(
            m,
            vec![weekday, weekday, weekday, weekday, weekday, 288.0, 288.0]
        );
    }

    #[test]
    fn quantiles_interpolate_and_the_band_brackets_the_errors() {
        assert_eq!(quantile(&[0.0, 10.0], 0.25), 2.5);
        let a = vec![vec![11.0; SLOTS], vec![9.0; SLOTS]];
        let f = vec![vec![10.0; SLOTS]; 2];
        let band = relative_error_band(&a, &f, 0.0);
        assert!((band[0].0 + 0.1).abs() < 1e-12 && (band[0].1 - 0.1).abs() < 1e-12);
    }
}
