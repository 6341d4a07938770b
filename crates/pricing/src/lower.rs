//! Lower level: each consumer's best answer to its seller's hourly prices.
//!
//! Consumer i chooses its controllable consumption x_t (and battery / EV
//! schedules when it has them) to minimise
//! `Σ_t p_t·buy_t − f·Σ_t sell_t + ω·Σ_t (x_t − c_t)² / C_i`
//! subject to `Σ_t x_t = C_i`, `x_t ≥ 0`, `|x_t − c_t| ≤ 0.15·C_i` and device
//! limits, with net grid exchange `y_t = base_t + x_t − pv_t + charge_t −
//! discharge_t = buy_t − sell_t`.
//!
//! Device-free consumers have a separable convex QP with one equality and box
//! constraints, solved exactly by locating the multiplier ν of `Σ x = C`
//! among the 2T breakpoints of the piecewise-linear map ν ↦ Σ_t x_t(ν)
//! (safeguarded Newton, no sort). Consumers with devices are solved with clarabel. This module
//! decides nothing about sellers or profit.

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus, ZeroConeT,
};

use crate::consumer::Consumer;
use crate::{HOURS, PricingError};

/// The consumer-side parameters shared by all consumers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LowerLevelSettings {
    /// Comfort coefficient ω (yuan/kWh): comfort cost = ω·Σ(x_t − c_t)²/C_i.
    pub comfort_coefficient: f64,
    /// Hourly adjustment limit as a share of C_i (0.15 in the source).
    pub adjustment_limit: f64,
    /// Price the seller pays for exported energy (yuan/kWh).
    pub feed_in_per_kwh: f64,
}

impl Default for LowerLevelSettings {
    fn default() -> Self {
        Self {
            comfort_coefficient: 30.0,
            adjustment_limit: 0.15,
            feed_in_per_kwh: 0.4,
        }
    }
}

impl LowerLevelSettings {
    pub fn validate(&self) -> Result<(), PricingError> {
        if !(self.comfort_coefficient.is_finite() && self.comfort_coefficient > 0.0) {
            return Err(PricingError::ComfortCoefficientNotPositive(
                self.comfort_coefficient,
            ));
        }
        if !(self.adjustment_limit.is_finite() && self.adjustment_limit >= 0.0) {
            return Err(PricingError::BadMarket(format!(
                "adjustment_limit = {} must be finite and ≥ 0",
                self.adjustment_limit
            )));
        }
        if !self.feed_in_per_kwh.is_finite() {
            return Err(PricingError::NonFinitePrice {
                field: "feed_in_per_kwh",
                value: self.feed_in_per_kwh,
            });
        }
        Ok(())
    }
}

/// The optimal controllable schedule of a device-free consumer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftSolution {
    /// x_t (kWh).
    pub shifted_kwh: [f64; HOURS],
    /// Multiplier ν of Σx = C (yuan/kWh): the marginal value of controllable energy.
    pub multiplier_per_kwh: f64,
}

#[inline]
fn box_bounds(c: &[f64; HOURS], limit: f64) -> (f64, [f64; HOURS], [f64; HOURS]) {
    let total: f64 = c.iter().sum();
    let band = limit * total;
    let mut lo = [0.0; HOURS];
    let mut hi = [0.0; HOURS];
    for t in 0..HOURS {
        lo[t] = (c[t] - band).max(0.0);
        hi[t] = c[t] + band;
    }
    (total, lo, hi)
}

/// Exact solution of min Σ p_t x_t + ω Σ (x_t − c_t)²/C s.t. Σx = C, lo ≤ x ≤ hi.
///
/// KKT: x_t(ν) = clamp(c_t + (ν − p_t)·C/(2ω), lo_t, hi_t); Σ_t x_t(ν) is
/// non-decreasing and piecewise linear with breakpoints where a coordinate
/// meets a bound. The root ν is found by safeguarded Newton steps on that
/// function: each step solves the linear equation of the current free set
/// (exact once ν is in the root's segment), and a bracket [a, b] with
/// excess(a) ≤ 0 ≤ excess(b) replaces any step that would leave it by a
/// bisection, so it terminates on every input (typically 2–5 passes over the
/// 24 hours, no sort). Inputs must be finite, c ≥ 0, ω > 0 (checked by callers).
pub fn solve_shift_exact(
    prices: &[f64; HOURS],
    c: &[f64; HOURS],
    omega: f64,
    limit: f64,
) -> ShiftSolution {
    let (total, lo, hi) = box_bounds(c, limit);
    if total <= 0.0 || limit == 0.0 {
        return ShiftSolution {
            shifted_kwh: *c,
            multiplier_per_kwh: 0.0,
        };
    }
    let k = total / (2.0 * omega);
    // Bracket: below every lower breakpoint all x_t sit at lo (Σ ≤ C), above
    // every upper breakpoint all sit at hi (Σ ≥ C).
    let (mut a, mut b) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut mean_price = 0.0;
    for t in 0..HOURS {
        a = a.min(prices[t] + (lo[t] - c[t]) / k);
        b = b.max(prices[t] + (hi[t] - c[t]) / k);
        mean_price += prices[t];
    }
    // With every hour free, Σ x(ν) = C at the mean price.
    let mut nu = (mean_price / HOURS as f64).clamp(a, b);
    let tolerance = 1e-14 * total;
    for _ in 0..200 {
        let mut sum = 0.0;
        let mut free = 0usize;
        for t in 0..HOURS {
            let v = c[t] + k * (nu - prices[t]);
            if v <= lo[t] {
                sum += lo[t];
            } else if v >= hi[t] {
                sum += hi[t];
            } else {
                sum += v;
                free += 1;
            }
        }
        let excess = sum - total;
        if excess.abs() <= tolerance {
            break;
        }
        if excess < 0.0 {
            a = nu;
        } else {
            b = nu;
        }
        if b - a <= 1e-15 * (1.0 + nu.abs()) {
            break;
        }
        let newton = if free > 0 {
            nu - excess / (k * free as f64)
        } else {
            f64::NAN
        };
        nu = if newton > a && newton < b {
            newton
        } else {
            0.5 * (a + b)
        };
    }
    let mut x = [0.0; HOURS];
    for t in 0..HOURS {
        x[t] = (c[t] + k * (nu - prices[t])).clamp(lo[t], hi[t]);
    }
    ShiftSolution {
        shifted_kwh: x,
        multiplier_per_kwh: nu,
    }
}

/// Largest KKT residual (primal feasibility, stationarity with sign-correct
/// bound multipliers, complementarity) of a device-free solution.
pub fn kkt_residual(
    prices: &[f64; HOURS],
    c: &[f64; HOURS],
    omega: f64,
    limit: f64,
    sol: &ShiftSolution,
) -> f64 {
    let (total, lo, hi) = box_bounds(c, limit);
    if total <= 0.0 {
        return sol.shifted_kwh.iter().map(|v| v.abs()).fold(0.0, f64::max);
    }
    let x = &sol.shifted_kwh;
    let active_tol = 1e-9 * (1.0 + total);
    let mut worst = (x.iter().sum::<f64>() - total).abs();
    for t in 0..HOURS {
        worst = worst.max(lo[t] - x[t]).max(x[t] - hi[t]);
        let s = prices[t] + 2.0 * omega / total * (x[t] - c[t]) - sol.multiplier_per_kwh;
        let mu_lo = if x[t] - lo[t] <= active_tol {
            s.max(0.0)
        } else {
            0.0
        };
        let mu_hi = if hi[t] - x[t] <= active_tol {
            (-s).max(0.0)
        } else {
            0.0
        };
        worst = worst.max((s - mu_lo + mu_hi).abs());
        worst = worst
            .max(mu_lo * (x[t] - lo[t]).abs())
            .max(mu_hi * (hi[t] - x[t]).abs());
    }
    worst
}

/// A consumer's optimal answer to hourly prices.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerResponse {
    /// x_t (kWh).
    pub shifted_kwh: [f64; HOURS],
    /// Net grid exchange y_t (kWh; purchases positive, sales negative).
    pub grid_kwh: [f64; HOURS],
    pub purchases_kwh: [f64; HOURS],
    pub sales_kwh: [f64; HOURS],
    pub battery_charge_kwh: [f64; HOURS],
    pub battery_discharge_kwh: [f64; HOURS],
    pub ev_charge_kwh: [f64; HOURS],
    pub ev_discharge_kwh: [f64; HOURS],
    /// Σ p_t·buy_t − f·Σ sell_t (yuan).
    pub energy_cost: f64,
    /// ω·Σ(x_t − c_t)²/C (yuan).
    pub comfort_cost: f64,
    /// Multiplier of Σx = C (yuan/kWh).
    pub multiplier_per_kwh: f64,
    /// S_i = 1 − ½·Σ|x_t − c_t|/C − ½·unserved share.
    pub satisfaction: f64,
}

impl ConsumerResponse {
    /// Energy plus comfort cost (yuan): the lower-level objective.
    pub fn total_cost(&self) -> f64 {
        self.energy_cost + self.comfort_cost
    }
}

/// Comfort cost ω·Σ(x_t − c_t)²/C.
pub fn comfort_cost(x: &[f64; HOURS], c: &[f64; HOURS], omega: f64) -> f64 {
    let total: f64 = c.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    omega * x.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / total
}

/// Satisfaction index S = 1 − ½·Σ|x_t − c_t|/C − ½·(unserved energy share),
/// unserved share = max(0, C − Σx)/C (zero whenever Σx = C holds).
pub fn satisfaction(x: &[f64; HOURS], c: &[f64; HOURS]) -> f64 {
    let total: f64 = c.iter().sum();
    if total <= 0.0 {
        return 1.0;
    }
    let moved: f64 = x.iter().zip(c).map(|(a, b)| (a - b).abs()).sum();
    let unserved = ((total - x.iter().sum::<f64>()) / total).max(0.0);
    1.0 - 0.5 * moved / total - 0.5 * unserved
}

/// Cost and hourly purchases of a device-free consumer (the hot path of the
/// seller's fitness: no allocation, no validation).
#[inline]
pub fn device_free_answer(
    consumer: &Consumer,
    prices: &[f64; HOURS],
    settings: &LowerLevelSettings,
) -> (f64, [f64; HOURS], ShiftSolution) {
    let sol = solve_shift_exact(
        prices,
        &consumer.controllable_kwh,
        settings.comfort_coefficient,
        settings.adjustment_limit,
    );
    let mut purchases = [0.0; HOURS];
    let mut energy = 0.0;
    for t in 0..HOURS {
        purchases[t] = consumer.base_kwh[t] + sol.shifted_kwh[t];
        energy += prices[t] * purchases[t];
    }
    let cost = energy
        + comfort_cost(
            &sol.shifted_kwh,
            &consumer.controllable_kwh,
            settings.comfort_coefficient,
        );
    (cost, purchases, sol)
}

/// The optimal answer of any consumer: exact solver when device-free,
/// clarabel otherwise.
pub fn respond(
    consumer: &Consumer,
    prices: &[f64; HOURS],
    settings: &LowerLevelSettings,
) -> Result<ConsumerResponse, PricingError> {
    if consumer.is_device_free() {
        let (_, purchases, sol) = device_free_answer(consumer, prices, settings);
        let energy_cost = prices.iter().zip(&purchases).map(|(p, b)| p * b).sum();
        return Ok(ConsumerResponse {
            shifted_kwh: sol.shifted_kwh,
            grid_kwh: purchases,
            purchases_kwh: purchases,
            sales_kwh: [0.0; HOURS],
            battery_charge_kwh: [0.0; HOURS],
            battery_discharge_kwh: [0.0; HOURS],
            ev_charge_kwh: [0.0; HOURS],
            ev_discharge_kwh: [0.0; HOURS],
            energy_cost,
            comfort_cost: comfort_cost(
                &sol.shifted_kwh,
                &consumer.controllable_kwh,
                settings.comfort_coefficient,
            ),
            multiplier_per_kwh: sol.multiplier_per_kwh,
            satisfaction: satisfaction(&sol.shifted_kwh, &consumer.controllable_kwh),
        });
    }
    respond_with_qp(consumer, prices, settings)
}

/// Column layout of the device QP.
struct Layout {
    x: usize,
    buy: usize,
    sell: usize,
    battery: Option<usize>,
    ev: Option<usize>,
    n: usize,
}

impl Layout {
    fn new(consumer: &Consumer) -> Self {
        let mut n = 3 * HOURS;
        let battery = consumer.battery.map(|_| {
            let at = n;
            n += 3 * HOURS;
            at
        });
        let ev = consumer.ev.as_ref().map(|_| {
            let at = n;
            n += 3 * HOURS;
            at
        });
        Self {
            x: 0,
            buy: HOURS,
            sell: 2 * HOURS,
            battery,
            ev,
            n,
        }
    }
}

#[derive(Default)]
struct Rows {
    i: Vec<usize>,
    j: Vec<usize>,
    v: Vec<f64>,
    b: Vec<f64>,
}

impl Rows {
    fn push(&mut self, coefficients: &[(usize, f64)], rhs: f64) {
        let row = self.b.len();
        for &(col, val) in coefficients {
            self.i.push(row);
            self.j.push(col);
            self.v.push(val);
        }
        self.b.push(rhs);
    }
    /// State of charge of a device whose charge, discharge and state-of-charge
    /// columns start at `at`, `at + HOURS` and `at + 2·HOURS`, periodic over
    /// the day: soc_t − soc_{t−1} − η·charge_t + discharge_t/η = rhs(t).
    fn push_storage_balance(&mut self, at: usize, efficiency: f64, rhs: impl Fn(usize) -> f64) {
        for t in 0..HOURS {
            let prev = (t + HOURS - 1) % HOURS;
            self.push(
                &[
                    (at + 2 * HOURS + t, 1.0),
                    (at + 2 * HOURS + prev, -1.0),
                    (at + t, -efficiency),
                    (at + HOURS + t, 1.0 / efficiency),
                ],
                rhs(t),
            );
        }
    }
    /// col ≤ upper  and  −col ≤ −lower.
    fn bounds(&mut self, col: usize, lower: f64, upper: f64) {
        self.push(&[(col, 1.0)], upper);
        self.push(&[(col, -1.0)], -lower);
    }
}

/// Solve a consumer with PV / battery / EV as a QP with clarabel.
///
/// Variables per hour: x, buy, sell, and for each device charge, discharge and
/// state of charge at the end of the hour (kWh; one-hour steps so kW = kWh).
/// State of charge is periodic over the day (end of hour 23 = start of hour 0).
pub fn respond_with_qp(
    consumer: &Consumer,
    prices: &[f64; HOURS],
    settings: &LowerLevelSettings,
) -> Result<ConsumerResponse, PricingError> {
    consumer.validate()?;
    settings.validate()?;
    let layout = Layout::new(consumer);
    let c = &consumer.controllable_kwh;
    let (total, lo, hi) = box_bounds(c, settings.adjustment_limit);
    let omega = settings.comfort_coefficient;
    let mut q = vec![0.0; layout.n];
    let (mut pi, mut pj, mut pv) = (Vec::new(), Vec::new(), Vec::new());
    for t in 0..HOURS {
        if total > 0.0 {
            pi.push(layout.x + t);
            pj.push(layout.x + t);
            pv.push(2.0 * omega / total);
            q[layout.x + t] = -2.0 * omega * c[t] / total;
        }
        q[layout.buy + t] = prices[t];
        q[layout.sell + t] = -settings.feed_in_per_kwh;
    }
    // A tiny throughput cost keeps storage from cycling when it is indifferent.
    const THROUGHPUT_COST_PER_KWH: f64 = 1e-4;
    for at in [layout.battery, layout.ev].into_iter().flatten() {
        for t in 0..HOURS {
            q[at + t] = THROUGHPUT_COST_PER_KWH;
            q[at + HOURS + t] = THROUGHPUT_COST_PER_KWH;
        }
    }
    let p_matrix = CscMatrix::new_from_triplets(layout.n, layout.n, pi, pj, pv);

    let mut eq = Rows::default();
    eq.push(
        &(0..HOURS).map(|t| (layout.x + t, 1.0)).collect::<Vec<_>>(),
        total,
    );
    for t in 0..HOURS {
        // buy − sell − x − charge + discharge = base − pv
        let mut row = vec![
            (layout.buy + t, 1.0),
            (layout.sell + t, -1.0),
            (layout.x + t, -1.0),
        ];
        for at in [layout.battery, layout.ev].into_iter().flatten() {
            row.push((at + t, -1.0));
            row.push((at + HOURS + t, 1.0));
        }
        eq.push(&row, consumer.base_kwh[t] - consumer.pv_kwh[t]);
    }
    if let (Some(at), Some(b)) = (layout.battery, consumer.battery) {
        eq.push_storage_balance(at, b.efficiency, |_| 0.0);
    }
    if let (Some(at), Some(ev)) = (layout.ev, consumer.ev.as_ref()) {
        eq.push_storage_balance(at, ev.efficiency, |t| -ev.driving_kwh[t]);
    }
    let mut ineq = Rows::default();
    for t in 0..HOURS {
        ineq.bounds(layout.x + t, lo[t], hi[t]);
        ineq.push(&[(layout.buy + t, -1.0)], 0.0);
        ineq.push(&[(layout.sell + t, -1.0)], 0.0);
    }
    if let (Some(at), Some(b)) = (layout.battery, consumer.battery) {
        for t in 0..HOURS {
            ineq.bounds(at + t, 0.0, b.power_kw);
            ineq.bounds(at + HOURS + t, 0.0, b.power_kw);
            ineq.bounds(at + 2 * HOURS + t, b.min_soc_kwh, b.capacity_kwh);
        }
    }
    if let (Some(at), Some(ev)) = (layout.ev, consumer.ev.as_ref()) {
        for t in 0..HOURS {
            let power = if ev.at_home[t] { ev.power_kw } else { 0.0 };
            ineq.bounds(at + t, 0.0, power);
            ineq.bounds(at + HOURS + t, 0.0, power);
            ineq.bounds(
                at + 2 * HOURS + t,
                ev.min_soc_fraction * ev.capacity_kwh,
                ev.capacity_kwh,
            );
        }
    }
    let n_eq = eq.b.len();
    let n_ineq = ineq.b.len();
    let mut ai = eq.i;
    let mut aj = eq.j;
    let mut av = eq.v;
    let mut b = eq.b;
    ai.extend(ineq.i.iter().map(|r| r + n_eq));
    aj.extend(ineq.j);
    av.extend(ineq.v);
    b.extend(ineq.b);
    let a_matrix = CscMatrix::new_from_triplets(n_eq + n_ineq, layout.n, ai, aj, av);
    let cones = [ZeroConeT(n_eq), NonnegativeConeT(n_ineq)];
    let qp_settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .tol_gap_abs(1e-12)
        .tol_gap_rel(1e-12)
        .tol_feas(1e-12)
        .tol_ktratio(1e-10)
        .max_iter(200)
        .build()
        .map_err(|e| PricingError::QpNotSolved {
            consumer: consumer.id,
            status: format!("settings: {e:?}"),
        })?;
    let mut solver = DefaultSolver::new(&p_matrix, &q, &a_matrix, &b, &cones, qp_settings)
        .map_err(|e| PricingError::QpNotSolved {
            consumer: consumer.id,
            status: format!("setup: {e:?}"),
        })?;
    solver.solve();
    let status = solver.solution.status;
    if !matches!(status, SolverStatus::Solved | SolverStatus::AlmostSolved) {
        return Err(PricingError::QpNotSolved {
            consumer: consumer.id,
            status: format!("{status:?}"),
        });
    }
    let z = &solver.solution.x;
    let read = |at: usize| -> [f64; HOURS] {
        let mut out = [0.0; HOURS];
        out.copy_from_slice(&z[at..at + HOURS]);
        out
    };
    let x = read(layout.x);
    let mut buy = read(layout.buy);
    let mut sell = read(layout.sell);
    let zero = [0.0; HOURS];
    let (bc, bd) = layout
        .battery
        .map(|at| (read(at), read(at + HOURS)))
        .unwrap_or((zero, zero));
    let (ec, ed) = layout
        .ev
        .map(|at| (read(at), read(at + HOURS)))
        .unwrap_or((zero, zero));
    let mut grid = [0.0; HOURS];
    for t in 0..HOURS {
        // Report the exchange implied by the balance, split without simultaneous buy and sell.
        grid[t] = consumer.base_kwh[t] + x[t] - consumer.pv_kwh[t] + bc[t] - bd[t] + ec[t] - ed[t];
        buy[t] = grid[t].max(0.0);
        sell[t] = (-grid[t]).max(0.0);
    }
    let energy_cost = (0..HOURS)
        .map(|t| prices[t] * buy[t] - settings.feed_in_per_kwh * sell[t])
        .sum();
    Ok(ConsumerResponse {
        shifted_kwh: x,
        grid_kwh: grid,
        purchases_kwh: buy,
        sales_kwh: sell,
        battery_charge_kwh: bc,
        battery_discharge_kwh: bd,
        ev_charge_kwh: ec,
        ev_discharge_kwh: ed,
        energy_cost,
        comfort_cost: comfort_cost(&x, c, omega),
        multiplier_per_kwh: -solver.solution.z[0],
        satisfaction: satisfaction(&x, c),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat_c(v: f64) -> [f64; HOURS] {
        [v; HOURS]
    }

    #[test]
    fn equal_prices_leave_the_preferred_schedule_unchanged() {
        let c = flat_c(0.5);
        let sol = solve_shift_exact(&[1.0; HOURS], &c, 1.0, 0.15);
        for t in 0..HOURS {
            assert!((sol.shifted_kwh[t] - c[t]).abs() < 1e-12);
        }
        assert!((sol.multiplier_per_kwh - 1.0).abs() < 1e-12);
    }

    #[test]
    fn small_comfort_weight_makes_the_fifteen_percent_limit_bind() {
        let mut p = [1.0; HOURS];
        p[0] = 0.5; // one cheap hour
        let c = flat_c(1.0); // C = 24, band = 3.6
        let sol = solve_shift_exact(&p, &c, 0.01, 0.15);
        assert!(
            (sol.shifted_kwh[0] - 4.6).abs() < 1e-9,
            "x0 = {}",
            sol.shifted_kwh[0]
        );
        assert!(kkt_residual(&p, &c, 0.01, 0.15, &sol) < 1e-9);
        assert!((sol.shifted_kwh.iter().sum::<f64>() - 24.0).abs() < 1e-9);
    }

    #[test]
    fn satisfaction_is_one_without_shifting_and_drops_with_it() {
        let c = flat_c(1.0);
        assert_eq!(satisfaction(&c, &c), 1.0);
        let mut x = c;
        x[0] += 1.2;
        x[1] -= 1.2;
        assert!((satisfaction(&x, &c) - (1.0 - 0.5 * 2.4 / 24.0)).abs() < 1e-12);
    }
}
