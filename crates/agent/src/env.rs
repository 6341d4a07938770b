//! The load aggregator's trading environment: market rules, bookkeeping and
//! the observation the agent sees.
//!
//! At step t the aggregator (1) buys `q_DA,t = a₁·D̂_t` day-ahead (ISO-NE only)
//! and (2) shifts `f_t = a₂·F_t` of its customers' load, before the real-time
//! price of t is known; the imbalance `D_t + f_t − q_DA,t` settles at the
//! real-time price. The shift is a virtual storage `e_t = e_{t−1} + f_t·Δt`
//! that must stay within bounds and be back at 0 at the end of each day.
//! This module must not learn or decide anything: policies do that, and it
//! never shows a policy any price or demand after step t (tests check it).

use chrono::{Datelike, Timelike};
use serde::{Deserialize, Serialize};

use crate::data::{Market, MarketSeries, Span, Split};
use crate::error::{AgentError, Result};

/// Number of price/demand channels in the observation window (DA, RT, demand).
pub const WINDOW_CHANNELS: usize = 3;
/// Number of "current" features: DA price of t, D̂_t, sin/cos time of day,
/// sin/cos day of week, e_{t−1}/E_max, 1 if the market has a day-ahead price.
pub const CURRENT_FEATURES: usize = 8;
/// Number of action components (a₁, a₂).
pub const ACTION_DIM: usize = 2;

/// The market rules of the aggregator (every quantity named with its unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvConfig {
    /// Observation window W, in intervals.
    pub window: usize,
    /// The customers' demand is scaled to this mean load over the training span, MW.
    pub mean_load_mw: f64,
    /// Share of D_t the aggregator may move at each step (10 %).
    pub flex_share: f64,
    /// Virtual storage bound E_max = storage_hours × flex_share × mean load, h.
    pub storage_hours: f64,
    /// Demand floor used to guarantee the daily return to zero, as a share of the
    /// mean load: storage bound at step t is min(E_max, r_t·flex_share·floor·Δt),
    /// r_t = intervals left in the day after t.
    pub return_floor_share: f64,
    /// Fixed retail tariff paid by the customers, $/MWh.
    pub tariff_per_mwh: f64,
    /// Rebate κ paid to customers per MWh moved, $/MWh.
    pub rebate_per_mwh: f64,
    /// Upper bound of a₁ (day-ahead purchase as a multiple of D̂_t).
    pub a1_max: f64,
    /// Learning rewards are clipped to ±this after scaling.
    pub learning_reward_clip: f64,
}

impl EnvConfig {
    /// The documented defaults of a market.
    pub fn for_market(market: Market) -> Self {
        EnvConfig {
            window: 24,
            mean_load_mw: 100.0,
            flex_share: 0.10,
            storage_hours: 2.0,
            return_floor_share: 0.5,
            tariff_per_mwh: match market {
                Market::Isone => 70.0,
                Market::Aemo => 120.0,
            },
            rebate_per_mwh: match market {
                Market::Isone => 2.0,
                Market::Aemo => 3.0,
            },
            a1_max: 1.5,
            learning_reward_clip: 5.0,
        }
    }

    /// E_max, MWh.
    pub fn storage_max_mwh(&self) -> f64 {
        self.storage_hours * self.flex_share * self.mean_load_mw
    }

    fn validate(&self) -> Result<()> {
        let bad = |field, value: f64, rule| {
            Err(AgentError::InvalidConfig {
                field,
                value: value.to_string(),
                rule,
            })
        };
        if self.window == 0 {
            return bad("window", 0.0, "must be at least 1 interval");
        }
        if self.mean_load_mw.is_nan() || self.mean_load_mw <= 0.0 {
            return bad("mean_load_mw", self.mean_load_mw, "must be positive");
        }
        if !(0.0..=1.0).contains(&self.flex_share) {
            return bad("flex_share", self.flex_share, "must be within [0, 1]");
        }
        if self.rebate_per_mwh.is_nan() || self.rebate_per_mwh < 0.0 {
            return bad(
                "rebate_per_mwh",
                self.rebate_per_mwh,
                "must be non-negative",
            );
        }
        if self.return_floor_share.is_nan() || self.return_floor_share <= 0.0 {
            return bad(
                "return_floor_share",
                self.return_floor_share,
                "must be positive",
            );
        }
        Ok(())
    }
}

/// Robust normalisation fitted on the training span only: (x − median) / IQR,
/// clipped to [−5, 10] (AEMO prices reach the 14 000 AUD/MWh cap).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    pub center: f64,
    pub spread: f64,
}

impl Scaler {
    pub fn fit(values: &[f64]) -> Self {
        let mut v: Vec<f64> = values.to_vec();
        v.sort_by(|a, b| a.total_cmp(b));
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        let spread = (q(0.75) - q(0.25)).max(1e-6);
        Scaler {
            center: q(0.5),
            spread,
        }
    }

    pub fn apply(&self, x: f64) -> f32 {
        ((x - self.center) / self.spread).clamp(-5.0, 10.0) as f32
    }
}

/// Everything fitted on the training span that an agent needs to act on any
/// data of the same market: demand scaling, normalisation, reward scaling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub market: Market,
    /// Raw demand × this = the aggregator's customers' demand, MW.
    pub demand_factor: f64,
    pub price: Scaler,
    pub demand: Scaler,
    /// Learning reward = (profit − all-real-time profit + p_ref·f·Δt) × this, 1/$
    /// (p_ref = `price.center`, the training median price).
    pub reward_scale: f64,
}

impl Calibration {
    /// Fit on the given (training) span.
    pub fn fit(series: &MarketSeries, span: Span, cfg: &EnvConfig) -> Self {
        let raw = &series.demand_mw[span.start..span.end];
        let mean = raw.iter().sum::<f64>() / raw.len() as f64;
        let demand_factor = cfg.mean_load_mw / mean;
        let mut prices: Vec<f64> = series.rt_price_per_mwh[span.start..span.end].to_vec();
        if let Some(da) = &series.da_price_per_mwh {
            prices.extend_from_slice(&da[span.start..span.end]);
        }
        let price = Scaler::fit(&prices);
        let scaled: Vec<f64> = raw.iter().map(|d| d * demand_factor).collect();
        let demand = Scaler::fit(&scaled);
        // One unit of learning reward ≈ moving the whole mean load by one price IQR for one interval.
        let reward_scale = 1.0 / (cfg.mean_load_mw * price.spread * series.interval_h());
        Calibration {
            market: series.market,
            demand_factor,
            price,
            demand,
            reward_scale,
        }
    }
}

/// A market series ready for the aggregator: demand scaled, calibration fitted.
#[derive(Debug, Clone)]
pub struct PreparedMarket {
    pub series: MarketSeries,
    pub config: EnvConfig,
    pub calibration: Calibration,
}

impl PreparedMarket {
    /// Scale demand with a fresh calibration fitted on `fit_split`.
    pub fn new(series: MarketSeries, config: EnvConfig, fit_split: Split) -> Result<Self> {
        config.validate()?;
        let span = series.span(fit_split)?;
        let calibration = Calibration::fit(&series, span, &config);
        Ok(Self::with_calibration(series, config, calibration))
    }

    /// Reuse a calibration (e.g. the one stored in a checkpoint).
    pub fn with_calibration(
        mut series: MarketSeries,
        config: EnvConfig,
        calibration: Calibration,
    ) -> Self {
        for d in &mut series.demand_mw {
            *d *= calibration.demand_factor;
        }
        PreparedMarket {
            series,
            config,
            calibration,
        }
    }

    pub fn span(&self, split: Split) -> Result<Span> {
        self.series.span(split)
    }

    /// D̂_t: the customers' demand in the same interval of the previous day, MW.
    pub fn demand_forecast_mw(&self, t: usize) -> f64 {
        let k = self.series.steps_per_day();
        if t >= k {
            self.series.demand_mw[t - k]
        } else {
            self.series.demand_mw[t]
        }
    }

    /// Per-step limit of the shift F_t = flex_share · max(D_t, floor), MW.
    pub fn shift_limit_mw(&self, t: usize) -> f64 {
        let floor = self.config.return_floor_share * self.config.mean_load_mw;
        self.config.flex_share * self.series.demand_mw[t].max(floor)
    }

    /// Storage bound after step t, MWh: min(E_max, r_t · flex_share · floor · Δt).
    pub fn storage_bound_mwh(&self, t: usize) -> f64 {
        let k = self.series.steps_per_day();
        let remaining = (k - 1 - t % k) as f64;
        let floor = self.config.return_floor_share * self.config.mean_load_mw;
        let per_step = self.config.flex_share * floor * self.series.interval_h();
        self.config.storage_max_mwh().min(remaining * per_step)
    }

    /// Observation at step t given the storage level e_{t−1}. Reads only
    /// prices and demand of steps < t, the DA price of t and D̂_t.
    pub fn observe(&self, t: usize, storage_mwh: f64) -> Observation {
        let w = self.config.window;
        let cal = &self.calibration;
        let has_da = self.series.da_price_per_mwh.is_some();
        let mut window = Vec::with_capacity(w * WINDOW_CHANNELS);
        for s in (t as isize - w as isize)..(t as isize) {
            let s = s.max(0) as usize;
            window.push(if has_da {
                cal.price.apply(self.series.da_price(s))
            } else {
                0.0
            });
            window.push(cal.price.apply(self.series.rt_price_per_mwh[s]));
            window.push(cal.demand.apply(self.series.demand_mw[s]));
        }
        let when = self.series.interval_start[t];
        let tod = (when.hour() as f64 * 60.0 + when.minute() as f64) / 1440.0;
        let dow = when.weekday().num_days_from_monday() as f64 / 7.0;
        let tau = std::f64::consts::TAU;
        let current = vec![
            if has_da {
                cal.price.apply(self.series.da_price(t))
            } else {
                0.0
            },
            cal.demand.apply(self.demand_forecast_mw(t)),
            (tau * tod).sin() as f32,
            (tau * tod).cos() as f32,
            (tau * dow).sin() as f32,
            (tau * dow).cos() as f32,
            (storage_mwh / self.config.storage_max_mwh().max(1e-9)) as f32,
            if has_da { 1.0 } else { 0.0 },
        ];
        Observation { window, current }
    }
}

/// What a policy sees: the last W intervals (time-major, channels DA, RT,
/// demand, normalised) and the current features.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub window: Vec<f32>,
    pub current: Vec<f32>,
}

/// Raw action: a₁ ∈ [0, a1_max] (day-ahead purchase / D̂), a₂ ∈ [−1, 1] (shift / F_t).
/// Out-of-range values are clipped by the environment.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Action {
    pub a1_day_ahead: f64,
    pub a2_shift: f64,
}

/// Everything a policy may use at step t: the observation and the public
/// history before t (plus the DA price of t where there is one).
#[derive(Debug)]
pub struct DecisionContext<'a> {
    /// Absolute step index in the series.
    pub t: usize,
    /// Step index within the day.
    pub step_in_day: usize,
    pub steps_per_day: usize,
    pub observation: Observation,
    /// Real-time prices of steps `0..t`, $/MWh.
    pub past_rt_price_per_mwh: &'a [f64],
    /// D̂_t, MW.
    pub demand_forecast_mw: f64,
    /// Storage level e_{t−1}, MWh.
    pub storage_mwh: f64,
    pub has_day_ahead: bool,
}

/// A decision rule. Implemented by the DDPG actor and the baselines.
pub trait Policy {
    fn act(&mut self, ctx: &DecisionContext<'_>) -> Action;
}

/// The settled outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub t: usize,
    /// Action after clipping.
    pub action: Action,
    pub demand_mw: f64,
    pub demand_forecast_mw: f64,
    pub q_day_ahead_mw: f64,
    pub shift_mw: f64,
    pub storage_mwh: f64,
    pub da_price_per_mwh: f64,
    pub rt_price_per_mwh: f64,
    /// Profit of the step, $ (the reward of the issue, unscaled).
    pub profit: f64,
    /// Profit of buying everything in real time without shifting, $.
    pub all_real_time_profit: f64,
    /// Scaled, clipped learning reward.
    pub learning_reward: f64,
}

/// Steps the aggregator through a span; it owns nothing but its position and
/// storage level.
#[derive(Debug)]
pub struct Environment<'a> {
    market: &'a PreparedMarket,
    span: Span,
    t: usize,
    storage_mwh: f64,
}

impl<'a> Environment<'a> {
    /// Start at the first step of `span` (which must begin at a day boundary).
    pub fn new(market: &'a PreparedMarket, span: Span) -> Self {
        Environment {
            market,
            span,
            t: span.start,
            storage_mwh: 0.0,
        }
    }

    pub fn market(&self) -> &PreparedMarket {
        self.market
    }

    pub fn t(&self) -> usize {
        self.t
    }

    pub fn storage_mwh(&self) -> f64 {
        self.storage_mwh
    }

    pub fn done(&self) -> bool {
        self.t >= self.span.end
    }

    /// The context of the current step.
    pub fn context(&self) -> DecisionContext<'a> {
        let m = self.market;
        let k = m.series.steps_per_day();
        DecisionContext {
            t: self.t,
            step_in_day: self.t % k,
            steps_per_day: k,
            observation: m.observe(self.t, self.storage_mwh),
            past_rt_price_per_mwh: &m.series.rt_price_per_mwh[..self.t],
            demand_forecast_mw: m.demand_forecast_mw(self.t),
            storage_mwh: self.storage_mwh,
            has_day_ahead: m.series.market.has_day_ahead(),
        }
    }

    /// Clip an action to the rules at the current step: a₁ to [0, a1_max] (0
    /// without a day-ahead market), a₂ so that |f_t| ≤ F_t and
    /// |e_t| ≤ storage bound (which forces the return to 0 by the day's end).
    pub fn clip(&self, action: Action) -> Action {
        let m = self.market;
        let t = self.t;
        let a1 = if m.series.market.has_day_ahead() {
            if action.a1_day_ahead.is_finite() {
                action.a1_day_ahead.clamp(0.0, m.config.a1_max)
            } else {
                0.0
            }
        } else {
            0.0
        };
        let limit = m.shift_limit_mw(t);
        let dt = m.series.interval_h();
        let bound = m.storage_bound_mwh(t);
        let a2 = if action.a2_shift.is_finite() {
            action.a2_shift.clamp(-1.0, 1.0)
        } else {
            0.0
        };
        let mut f = a2 * limit;
        let lo = ((-bound - self.storage_mwh) / dt).max(-limit);
        let hi = ((bound - self.storage_mwh) / dt).min(limit);
        f = f.clamp(lo.min(hi), hi.max(lo));
        let a2 = if limit > 0.0 { f / limit } else { 0.0 };
        Action {
            a1_day_ahead: a1,
            a2_shift: a2,
        }
    }

    /// Apply an action, settle the step and move to the next one.
    pub fn step(&mut self, action: Action) -> StepRecord {
        assert!(!self.done(), "step past the end of the span");
        let m = self.market;
        let t = self.t;
        let k = m.series.steps_per_day();
        let action = self.clip(action);
        let dt = m.series.interval_h();
        let d = m.series.demand_mw[t];
        let d_hat = m.demand_forecast_mw(t);
        let q = action.a1_day_ahead * d_hat;
        let f = action.a2_shift * m.shift_limit_mw(t);
        let p_da = m.series.da_price(t);
        let p_rt = m.series.rt_price_per_mwh[t];
        let tariff = m.config.tariff_per_mwh;
        let kappa = m.config.rebate_per_mwh;
        let profit = dt * (tariff * d - p_da * q - p_rt * (d + f - q) - kappa * f.abs());
        let all_rt = dt * (tariff * d - p_rt * d);
        // Potential-based shaping Φ = p_ref·e: the energy held in the virtual storage is
        // valued at the training median price, so moving load is judged by p_RT − p_ref
        // at once instead of by a discounted refund hours later. Σ over a day is 0 (e
        // starts and ends at 0), so a day's total learning reward is unchanged.
        let shaping = m.calibration.price.center * f * dt;
        let learning_reward = ((profit - all_rt + shaping) * m.calibration.reward_scale).clamp(
            -m.config.learning_reward_clip,
            m.config.learning_reward_clip,
        );
        let mut storage = self.storage_mwh + f * dt;
        if t % k == k - 1 {
            // The bound is 0 at the last step; remove rounding residue.
            debug_assert!(storage.abs() < 1e-6, "storage {storage} not back to 0");
            storage = 0.0;
        }
        self.storage_mwh = storage;
        self.t += 1;
        StepRecord {
            t,
            action,
            demand_mw: d,
            demand_forecast_mw: d_hat,
            q_day_ahead_mw: q,
            shift_mw: f,
            storage_mwh: storage,
            da_price_per_mwh: p_da,
            rt_price_per_mwh: p_rt,
            profit,
            all_real_time_profit: all_rt,
            learning_reward,
        }
    }
}

/// The outcome of running a policy over a span.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Episode {
    pub steps: Vec<StepRecord>,
}

impl Episode {
    pub fn total_profit(&self) -> f64 {
        self.steps.iter().map(|s| s.profit).sum()
    }

    pub fn cumulative_profit(&self) -> Vec<f64> {
        self.steps
            .iter()
            .scan(0.0, |acc, s| {
                *acc += s.profit;
                Some(*acc)
            })
            .collect()
    }
}

/// Run a policy greedily over a span.
pub fn run_policy(market: &PreparedMarket, span: Span, policy: &mut dyn Policy) -> Episode {
    let mut env = Environment::new(market, span);
    let mut steps = Vec::with_capacity(span.len());
    while !env.done() {
        let ctx = env.context();
        let action = policy.act(&ctx);
        steps.push(env.step(action));
    }
    Episode { steps }
}
