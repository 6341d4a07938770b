//! Customer baselines: what a resource's load would have been in an event
//! window had there been no event, estimated from its own interval history.
//! Four methods, each a function with its formula in its doc comment:
//! [`ten_in_ten`] (CAISO style, with a capped day-of ratio adjustment),
//! [`high_x_of_y`] (day matching on the window's load), [`high_four_of_five`]
//! (PJM style, with a symmetric additive adjustment) and [`regression`]
//! (least squares on calendar features, plus temperature when given).
//!
//! Loads are energy per interval in whole Wh (`e_{d,t}`, day d, interval t
//! of the day); every baseline is rounded to whole Wh per interval, half
//! away from zero, so that delivered energy is an exact integer. Means and
//! ratios of the averaging methods are exact integer arithmetic; only the
//! regression solves in `f64` and rounds its prediction.
//!
//! Must not: know about money, events or resources (it takes a window and
//! a set of excluded days), nor choose a method (that is `backtest`).
use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use voltex_model::money::{Bp, Wh, div_round};
use voltex_model::{Violation, Violations};

use crate::error::{DrError, Result};

/// A resource's interval energy by day. Only whole days are kept: a day
/// with another number of intervals (a clock change, a gap) is refused by
/// [`LoadHistory::insert`] and so never used as a baseline day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadHistory {
    pub interval_minutes: u32,
    /// Date → `e_{d,t}` in Wh, `slots_per_day` values.
    pub days: BTreeMap<NaiveDate, Vec<Wh>>,
    /// Date → outdoor temperature per interval, °C (optional; used by the
    /// regression when every training day and the event day have it).
    pub temperature_c: BTreeMap<NaiveDate, Vec<f64>>,
}

impl LoadHistory {
    pub fn new(interval_minutes: u32) -> Self {
        LoadHistory {
            interval_minutes,
            ..Default::default()
        }
    }

    pub fn slots_per_day(&self) -> usize {
        (24 * 60 / self.interval_minutes.max(1)) as usize
    }

    /// Adds one whole day; refused unless it has `slots_per_day` values.
    pub fn insert(&mut self, day: NaiveDate, wh: Vec<Wh>) -> std::result::Result<(), Violations> {
        if wh.len() != self.slots_per_day() {
            return Err(Violations::one(
                format!("days[{day}]"),
                "whole_day",
                wh.len(),
                format!("a day has {} intervals", self.slots_per_day()),
            ));
        }
        self.days.insert(day, wh);
        Ok(())
    }

    /// Adds one whole day given as mean power per interval in W (telemetry
    /// in kW × 1000): `e_t = round(P_t × minutes / 60)` Wh.
    pub fn insert_mean_w(
        &mut self,
        day: NaiveDate,
        mean_w: &[i64],
    ) -> std::result::Result<(), Violations> {
        let m = self.interval_minutes as i128;
        let wh = mean_w
            .iter()
            .map(|w| div_round(*w as i128 * m, 60) as i64)
            .collect();
        self.insert(day, wh)
    }

    pub fn day(&self, d: NaiveDate) -> Option<&[Wh]> {
        self.days.get(&d).map(Vec::as_slice)
    }

    /// Slots per hour (4 for 15-minute data).
    fn per_hour(&self) -> usize {
        (60 / self.interval_minutes.max(1)).max(1) as usize
    }
}

/// The event's intervals within its day: `start_slot ≤ t < end_slot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start_slot: usize,
    pub end_slot: usize,
}

impl Window {
    pub fn slots(self) -> std::ops::Range<usize> {
        self.start_slot..self.end_slot
    }

    pub fn len(self) -> usize {
        self.end_slot.saturating_sub(self.start_slot)
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    fn check(self, h: &LoadHistory) -> Result<()> {
        if self.is_empty() || self.end_slot > h.slots_per_day() {
            return Err(Violations::one(
                "window",
                "inside_the_day",
                format!("{}..{}", self.start_slot, self.end_slot),
                format!(
                    "a window is a non-empty range of the day's {} intervals",
                    h.slots_per_day()
                ),
            )
            .into());
        }
        Ok(())
    }
}

/// Days that may not serve as baseline days: holidays and days with a
/// demand-response event (the resource's own or the program's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusions {
    pub holidays: BTreeSet<NaiveDate>,
    pub event_days: BTreeSet<NaiveDate>,
}

impl Exclusions {
    /// Neither a holiday nor an event day.
    pub fn ordinary(&self, d: NaiveDate) -> bool {
        !self.holidays.contains(&d) && !self.event_days.contains(&d)
    }

    /// An ordinary Monday to Friday.
    pub fn eligible_weekday(&self, d: NaiveDate) -> bool {
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && self.ordinary(d)
    }
}

/// The day-of adjustment window and cap: the `hours` hours ending
/// `gap_hours` before the event's start, ratio capped at `1 ± cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOfAdjustment {
    pub hours: u32,
    pub gap_hours: u32,
    /// Cap on the ratio's distance from 1, in basis points (2 000 = ±20 %).
    pub cap: Bp,
}

impl Default for DayOfAdjustment {
    fn default() -> Self {
        DayOfAdjustment {
            hours: 4,
            gap_hours: 1,
            cap: Bp(2_000),
        }
    }
}

impl DayOfAdjustment {
    /// The adjustment intervals for an event starting at `window.start_slot`
    /// (clipped at midnight; empty when the event starts too early).
    pub fn slots(&self, h: &LoadHistory, window: Window) -> std::ops::Range<usize> {
        let ph = h.per_hour();
        let end = window
            .start_slot
            .saturating_sub(self.gap_hours as usize * ph);
        let start = end.saturating_sub(self.hours as usize * ph);
        start..end
    }
}

/// The parameters of every method; the defaults are the ones the docs cite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineConfig {
    /// Days averaged by the 10-in-10 (10).
    pub ten_in_ten_days: usize,
    /// How far back eligible days are looked for, calendar days (60).
    pub lookback_days: i64,
    pub adjustment: DayOfAdjustment,
    /// The X and Y of high X of Y (5 of 10).
    pub high_x: usize,
    pub high_y: usize,
    /// Ordinary days (any weekday) the regression is fitted on (30).
    pub regression_days: usize,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            ten_in_ten_days: 10,
            lookback_days: 60,
            adjustment: DayOfAdjustment::default(),
            high_x: 5,
            high_y: 10,
            regression_days: 30,
        }
    }
}

/// A baseline method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// CAISO-style 10-in-10 with capped day-of ratio adjustment.
    TenInTen,
    /// High X of Y (X and Y from the config), no adjustment.
    HighXOfY,
    /// PJM-style high 4 of 5 weekdays with symmetric additive adjustment.
    HighFourOfFive,
    /// Least squares on calendar (and temperature) features.
    Regression,
}

impl Method {
    /// Every method, in the stable order used in reports.
    pub const ALL: [Method; 4] = [
        Method::TenInTen,
        Method::HighXOfY,
        Method::HighFourOfFive,
        Method::Regression,
    ];

    /// The short name used in summaries (`10in10`, `high5of10`, …).
    pub fn name(self, cfg: &BaselineConfig) -> String {
        match self {
            Method::TenInTen => format!("{}in{}", cfg.ten_in_ten_days, cfg.ten_in_ten_days),
            Method::HighXOfY => format!("high{}of{}", cfg.high_x, cfg.high_y),
            Method::HighFourOfFive => "high4of5".into(),
            Method::Regression => "regression".into(),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name(&BaselineConfig::default()))
    }
}

/// How the unadjusted baseline was moved toward the day's own load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Adjustment {
    /// None: the method has none, the window before the event is empty,
    /// or the day's own readings are not there (a day-ahead estimate).
    None,
    /// Multiplied by this ratio (after the cap), basis points.
    Ratio { ratio: Bp, capped: bool },
    /// This many Wh added to every interval.
    Additive { wh: Wh },
}

/// A baseline for one day: `wh[t]` for every interval of the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub method: Method,
    pub day: NaiveDate,
    pub wh: Vec<Wh>,
    /// The history days it was built from, most recent first.
    pub days_used: Vec<NaiveDate>,
    pub adjustment: Adjustment,
}

impl Baseline {
    /// `Σ_{t∈W} wh[t]`.
    pub fn window_wh(&self, w: Window) -> Wh {
        self.wh[w.slots()].iter().sum()
    }
}

/// Up to `n` days before `day` (most recent first) within `lookback_days`
/// that have readings and pass `keep`.
pub fn eligible_days(
    h: &LoadHistory,
    day: NaiveDate,
    lookback_days: i64,
    n: usize,
    keep: impl Fn(NaiveDate) -> bool,
) -> Vec<NaiveDate> {
    let earliest = day - chrono::Duration::days(lookback_days);
    h.days
        .range(earliest..day)
        .rev()
        .map(|(d, _)| *d)
        .filter(|d| keep(*d))
        .take(n)
        .collect()
}

fn need(
    method: Method,
    cfg: &BaselineConfig,
    day: NaiveDate,
    needed: usize,
    found: usize,
) -> Result<()> {
    if found < needed {
        return Err(DrError::InsufficientHistory {
            method: method.name(cfg),
            day,
            needed,
            found,
        });
    }
    Ok(())
}

/// `round(Σ_{d∈D} e_{d,t} / |D|)` for every t.
fn mean_profile(h: &LoadHistory, days: &[NaiveDate]) -> Vec<Wh> {
    let n = days.len().max(1) as i128;
    (0..h.slots_per_day())
        .map(|t| {
            let s: i128 = days.iter().map(|d| h.days[d][t] as i128).sum();
            div_round(s, n) as i64
        })
        .collect()
}

fn window_energy(h: &LoadHistory, d: NaiveDate, w: Window) -> i128 {
    h.days[&d][w.slots()].iter().map(|x| *x as i128).sum()
}

/// The `x` of `days` with the highest window energy (ties: the more recent),
/// most recent first.
fn highest(h: &LoadHistory, days: &[NaiveDate], w: Window, x: usize) -> Vec<NaiveDate> {
    let mut ranked: Vec<NaiveDate> = days.to_vec();
    ranked.sort_by(|a, b| {
        window_energy(h, *b, w)
            .cmp(&window_energy(h, *a, w))
            .then(b.cmp(a))
    });
    ranked.truncate(x);
    ranked.sort_by(|a, b| b.cmp(a));
    ranked
}

/// CAISO-style 10-in-10, Wh per interval.
///
/// `D` = the 10 most recent weekdays before the event day (within the
/// lookback) that are not holidays nor event days. Unadjusted
/// `B_t = (1/|D|) Σ_{d∈D} e_{d,t}` [Wh]. Day-of adjustment over the
/// adjustment intervals `A` (the 4 h ending 1 h before the start):
/// `r = Σ_{t∈A} e_{0,t} / Σ_{t∈A} B_t` [–], capped to `[1 − c, 1 + c]`
/// (c = 20 %), and `B'_t = round(B_t × r)` [Wh] for every t. Without the
/// day's own readings, or with `A` empty or `Σ B = 0`, `r = 1`.
pub fn ten_in_ten(
    h: &LoadHistory,
    day: NaiveDate,
    window: Window,
    excl: &Exclusions,
    cfg: &BaselineConfig,
) -> Result<Baseline> {
    window.check(h)?;
    let n = cfg.ten_in_ten_days;
    let days = eligible_days(h, day, cfg.lookback_days, n, |d| excl.eligible_weekday(d));
    need(Method::TenInTen, cfg, day, n, days.len())?;
    let mut wh = mean_profile(h, &days);
    let adjustment = ratio_adjust(h, day, window, &cfg.adjustment, &mut wh);
    Ok(Baseline {
        method: Method::TenInTen,
        day,
        wh,
        days_used: days,
        adjustment,
    })
}

fn ratio_adjust(
    h: &LoadHistory,
    day: NaiveDate,
    window: Window,
    adj: &DayOfAdjustment,
    wh: &mut [Wh],
) -> Adjustment {
    let slots = adj.slots(h, window);
    let Some(actual) = h.day(day) else {
        return Adjustment::None;
    };
    if slots.is_empty() {
        return Adjustment::None;
    }
    let a: i128 = actual[slots.clone()].iter().map(|x| *x as i128).sum();
    let b: i128 = wh[slots].iter().map(|x| *x as i128).sum();
    if b <= 0 {
        return Adjustment::None;
    }
    let hi = 10_000 + adj.cap.0 as i128;
    let lo = (10_000 - adj.cap.0 as i128).max(0);
    // compare a/b with hi/10 000 without division
    let (num, den, capped) = if a * 10_000 > b * hi {
        (hi, 10_000, true)
    } else if a * 10_000 < b * lo {
        (lo, 10_000, true)
    } else {
        (a, b, false)
    };
    for x in wh.iter_mut() {
        *x = div_round(*x as i128 * num, den) as i64;
    }
    Adjustment::Ratio {
        ratio: Bp(div_round(num * 10_000, den) as i64),
        capped,
    }
}

/// High X of Y day matching, Wh per interval.
///
/// `Y` = the Y most recent eligible weekdays (as for 10-in-10); `D` = the X
/// of them with the highest window energy `Σ_{t∈W} e_{d,t}` [Wh] (ties: the
/// more recent). `B_t = round((1/X) Σ_{d∈D} e_{d,t})` [Wh]. No adjustment.
pub fn high_x_of_y(
    h: &LoadHistory,
    day: NaiveDate,
    window: Window,
    excl: &Exclusions,
    cfg: &BaselineConfig,
) -> Result<Baseline> {
    window.check(h)?;
    let y = cfg.high_y.max(cfg.high_x);
    let pool = eligible_days(h, day, cfg.lookback_days, y, |d| excl.eligible_weekday(d));
    need(Method::HighXOfY, cfg, day, y, pool.len())?;
    let days = highest(h, &pool, window, cfg.high_x.max(1));
    Ok(Baseline {
        method: Method::HighXOfY,
        day,
        wh: mean_profile(h, &days),
        days_used: days,
        adjustment: Adjustment::None,
    })
}

/// PJM-style high 4 of 5 weekdays with a symmetric additive adjustment,
/// Wh per interval.
///
/// `D` = the 4 of the 5 most recent eligible weekdays with the highest
/// window energy; `B_t = round((1/4) Σ_{d∈D} e_{d,t})` [Wh]. Adjustment
/// over the intervals `A` (as for 10-in-10):
/// `Δ = round((1/|A|) Σ_{t∈A} (e_{0,t} − B_t))` [Wh per interval], up or
/// down, and `B'_t = max(0, B_t + Δ)` [Wh] (a load baseline is not
/// negative). Without the day's readings or with `A` empty, `Δ = 0`.
pub fn high_four_of_five(
    h: &LoadHistory,
    day: NaiveDate,
    window: Window,
    excl: &Exclusions,
    cfg: &BaselineConfig,
) -> Result<Baseline> {
    window.check(h)?;
    let pool = eligible_days(h, day, cfg.lookback_days, 5, |d| excl.eligible_weekday(d));
    need(Method::HighFourOfFive, cfg, day, 5, pool.len())?;
    let days = highest(h, &pool, window, 4);
    let mut wh = mean_profile(h, &days);
    let slots = cfg.adjustment.slots(h, window);
    let adjustment = match h.day(day) {
        Some(actual) if !slots.is_empty() => {
            let diff: i128 = slots
                .clone()
                .map(|t| actual[t] as i128 - wh[t] as i128)
                .sum();
            let delta = div_round(diff, slots.len() as i128) as i64;
            for x in wh.iter_mut() {
                *x = (*x + delta).max(0);
            }
            Adjustment::Additive { wh: delta }
        }
        _ => Adjustment::None,
    };
    Ok(Baseline {
        method: Method::HighFourOfFive,
        day,
        wh,
        days_used: days,
        adjustment,
    })
}

/// Regression on calendar features, Wh per interval.
///
/// Fitted on the `regression_days` most recent ordinary days (any weekday;
/// no holidays, no event days) by least squares:
/// `e_{d,t} ≈ α_t + β_{w(d)} + γ θ_{d,t}` [Wh], with `α_t` one per
/// interval of the day, `β_w` one per weekday (Monday = 0, the reference),
/// and `γ` [Wh/°C] on the temperature `θ` [°C] only when every training
/// day and the event day have temperatures (SimBench and the AER data have
/// none, so the demo's regression is calendar only). Solved through the
/// normal equations with a tiny ridge (10⁻⁹ × the mean diagonal) so that a
/// weekday absent from the training days gets `β = 0` instead of a
/// singular system. `B_t = max(0, round(α_t + β_{w(0)} + γ θ_{0,t}))`.
pub fn regression(
    h: &LoadHistory,
    day: NaiveDate,
    window: Window,
    excl: &Exclusions,
    cfg: &BaselineConfig,
) -> Result<Baseline> {
    window.check(h)?;
    let n = cfg.regression_days;
    let days = eligible_days(h, day, cfg.lookback_days, n, |d| excl.ordinary(d));
    need(Method::Regression, cfg, day, n.clamp(1, 10), days.len())?;
    let spd = h.slots_per_day();
    let temp_of = |d: &NaiveDate| {
        h.temperature_c
            .get(d)
            .filter(|v| v.len() == spd && v.iter().all(|x| x.is_finite()))
    };
    let with_temp = days.iter().all(|d| temp_of(d).is_some()) && temp_of(&day).is_some();
    let p = spd + 6 + usize::from(with_temp);
    // normal equations from sparse rows: each row has a 1 at t, a 1 at the
    // weekday dummy (not Monday), and θ
    let mut xtx = vec![0.0f64; p * p];
    let mut xty = vec![0.0f64; p];
    let row = |d: &NaiveDate, t: usize| {
        let mut r: Vec<(usize, f64)> = vec![(t, 1.0)];
        let w = d.weekday().num_days_from_monday() as usize;
        if w > 0 {
            r.push((spd + w - 1, 1.0));
        }
        if with_temp {
            r.push((spd + 6, temp_of(d).expect("checked")[t]));
        }
        r
    };
    for d in &days {
        let e = &h.days[d];
        for (t, y) in e.iter().enumerate() {
            let r = row(d, t);
            for &(i, xi) in &r {
                xty[i] += xi * *y as f64;
                for &(j, xj) in &r {
                    xtx[i * p + j] += xi * xj;
                }
            }
        }
    }
    let mean_diag = (0..p).map(|i| xtx[i * p + i]).sum::<f64>() / p as f64;
    let ridge = 1e-9 * mean_diag.max(1.0);
    for i in 0..p {
        xtx[i * p + i] += ridge;
    }
    let coef = solve(xtx, xty, p);
    let wh = (0..spd)
        .map(|t| {
            let y: f64 = row(&day, t).iter().map(|&(i, x)| coef[i] * x).sum();
            if y.is_finite() {
                y.round().max(0.0) as i64
            } else {
                0
            }
        })
        .collect();
    Ok(Baseline {
        method: Method::Regression,
        day,
        wh,
        days_used: days,
        adjustment: Adjustment::None,
    })
}

/// Gaussian elimination with partial pivoting on the (symmetric positive
/// definite after the ridge) `p × p` system; a zero pivot gives 0.
fn solve(mut a: Vec<f64>, mut b: Vec<f64>, p: usize) -> Vec<f64> {
    for k in 0..p {
        let piv = (k..p)
            .max_by(|&i, &j| a[i * p + k].abs().total_cmp(&a[j * p + k].abs()))
            .expect("k < p");
        if a[piv * p + k].abs() < 1e-300 {
            continue;
        }
        if piv != k {
            for j in 0..p {
                a.swap(k * p + j, piv * p + j);
            }
            b.swap(k, piv);
        }
        for i in k + 1..p {
            let f = a[i * p + k] / a[k * p + k];
            if f == 0.0 {
                continue;
            }
            for j in k..p {
                a[i * p + j] -= f * a[k * p + j];
            }
            b[i] -= f * b[k];
        }
    }
    let mut x = vec![0.0; p];
    for k in (0..p).rev() {
        let s: f64 = (k + 1..p).map(|j| a[k * p + j] * x[j]).sum();
        let d = a[k * p + k];
        x[k] = if d.abs() < 1e-300 {
            0.0
        } else {
            (b[k] - s) / d
        };
    }
    x
}

/// The baseline of `method` (dispatch to the functions above).
pub fn compute(
    method: Method,
    h: &LoadHistory,
    day: NaiveDate,
    window: Window,
    excl: &Exclusions,
    cfg: &BaselineConfig,
) -> Result<Baseline> {
    match method {
        Method::TenInTen => ten_in_ten(h, day, window, excl, cfg),
        Method::HighXOfY => high_x_of_y(h, day, window, excl, cfg),
        Method::HighFourOfFive => high_four_of_five(h, day, window, excl, cfg),
        Method::Regression => regression(h, day, window, excl, cfg),
    }
}

/// Checks a config: positive counts, X ≤ Y, cap within 0–100 %.
pub fn validate_config(cfg: &BaselineConfig) -> std::result::Result<(), Violations> {
    let mut v = Vec::new();
    if cfg.ten_in_ten_days == 0 {
        v.push(Violation::new(
            "ten_in_ten_days",
            "positive",
            0,
            "average at least one day",
        ));
    }
    if cfg.high_x == 0 || cfg.high_x > cfg.high_y {
        v.push(Violation::new(
            "high_x",
            "between_1_and_high_y",
            cfg.high_x,
            "X of Y picks at least one and at most Y days",
        ));
    }
    if !(0..=10_000).contains(&cfg.adjustment.cap.0) {
        v.push(Violation::new(
            "adjustment.cap",
            "between_0_and_10000_bp",
            cfg.adjustment.cap.0,
            "the cap is a share, 0–100 %",
        ));
    }
    if cfg.lookback_days <= 0 {
        v.push(Violation::new(
            "lookback_days",
            "positive",
            cfg.lookback_days,
            "look back at least a day",
        ));
    }
    if v.is_empty() { Ok(()) } else { Err(v.into()) }
}
