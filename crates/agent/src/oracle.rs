//! The perfect-foresight bound: the same market rules with every price and
//! demand of the day known, solved exactly per day as a linear program (HiGHS).
//!
//! Per day with intervals k = 0..K−1 (Δt h):
//!   minimise Σ_k Δt·[(p_DA,k − p_RT,k)·q_k + p_RT,k·f_k + κ·u_k]
//!   s.t. 0 ≤ q_k ≤ a1_max·D̂_k (q_k = 0 without a day-ahead market),
//!        −F_k ≤ f_k ≤ F_k, u_k ≥ f_k, u_k ≥ −f_k,
//!        e_k = e_{k−1} + Δt·f_k, e_{−1} = 0, −B_k ≤ e_k ≤ B_k (B_{K−1} = 0).
//! The constant Δt·(tariff − p_RT,k)·D_k is added back to obtain the profit.
//! The resulting actions are replayed through the environment, so the oracle's
//! profit is settled by exactly the same code as every other policy.
//! This module must not be used as a policy on data it was not solved for.

use highs::{HighsModelStatus, RowProblem, Sense};

use crate::data::Span;
use crate::env::{Action, DecisionContext, Policy, PreparedMarket};
use crate::error::{AgentError, Result};

/// One day of the oracle problem, in the symbols of the module doc.
#[derive(Debug, Clone, PartialEq)]
pub struct DayProblem {
    pub interval_h: f64,
    pub da_price_per_mwh: Vec<f64>,
    pub rt_price_per_mwh: Vec<f64>,
    /// D̂_k, MW.
    pub demand_forecast_mw: Vec<f64>,
    /// F_k, MW.
    pub shift_limit_mw: Vec<f64>,
    /// B_k, MWh.
    pub storage_bound_mwh: Vec<f64>,
    pub rebate_per_mwh: f64,
    pub a1_max: f64,
    pub has_day_ahead: bool,
}

/// The optimal day-ahead purchases q_k (MW) and shifts f_k (MW).
#[derive(Debug, Clone, PartialEq)]
pub struct DaySolution {
    pub q_day_ahead_mw: Vec<f64>,
    pub shift_mw: Vec<f64>,
    /// Optimal value of the LP objective (action-dependent cost), $.
    pub cost: f64,
}

/// The action-dependent cost of a day plan (the LP objective), $.
pub fn day_cost(p: &DayProblem, q: &[f64], f: &[f64]) -> f64 {
    (0..p.rt_price_per_mwh.len())
        .map(|k| {
            p.interval_h
                * ((p.da_price_per_mwh[k] - p.rt_price_per_mwh[k]) * q[k]
                    + p.rt_price_per_mwh[k] * f[k]
                    + p.rebate_per_mwh * f[k].abs())
        })
        .sum()
}

/// Solve one day exactly.
pub fn solve_day(p: &DayProblem, day_start: usize) -> Result<DaySolution> {
    let n = p.rt_price_per_mwh.len();
    let dt = p.interval_h;
    let mut pb = RowProblem::default();
    let mut q = Vec::with_capacity(n);
    let mut f = Vec::with_capacity(n);
    let mut e = Vec::with_capacity(n);
    for k in 0..n {
        let q_max = if p.has_day_ahead {
            p.a1_max * p.demand_forecast_mw[k]
        } else {
            0.0
        };
        q.push(pb.add_column(
            dt * (p.da_price_per_mwh[k] - p.rt_price_per_mwh[k]),
            0.0..=q_max,
        ));
        let lim = p.shift_limit_mw[k];
        f.push(pb.add_column(dt * p.rt_price_per_mwh[k], -lim..=lim));
        let u = pb.add_column(dt * p.rebate_per_mwh, 0.0..);
        pb.add_row(0.0.., [(u, 1.0), (f[k], -1.0)]);
        pb.add_row(0.0.., [(u, 1.0), (f[k], 1.0)]);
        let b = p.storage_bound_mwh[k];
        e.push(pb.add_column(0.0, -b..=b));
        if k == 0 {
            pb.add_row(0.0..=0.0, [(e[k], 1.0), (f[k], -dt)]);
        } else {
            pb.add_row(0.0..=0.0, [(e[k], 1.0), (e[k - 1], -1.0), (f[k], -dt)]);
        }
    }
    let mut model = pb.optimise(Sense::Minimise);
    model.make_quiet();
    model.set_option("threads", 1);
    let solved = model.solve();
    if solved.status() != HighsModelStatus::Optimal {
        return Err(AgentError::OracleNotOptimal {
            day_start,
            status: format!("{:?}", solved.status()),
        });
    }
    let x = solved.get_solution().columns().to_vec();
    // columns per step: q, f, u, e
    let q_day_ahead_mw: Vec<f64> = (0..n).map(|k| x[4 * k]).collect();
    let shift_mw: Vec<f64> = (0..n).map(|k| x[4 * k + 1]).collect();
    let cost = day_cost(p, &q_day_ahead_mw, &shift_mw);
    Ok(DaySolution {
        q_day_ahead_mw,
        shift_mw,
        cost,
    })
}

/// The day problem of the day starting at step `day_start`.
pub fn day_problem(market: &PreparedMarket, day_start: usize) -> DayProblem {
    let k = market.series.steps_per_day();
    let steps = day_start..day_start + k;
    DayProblem {
        interval_h: market.series.interval_h(),
        da_price_per_mwh: steps.clone().map(|t| market.series.da_price(t)).collect(),
        rt_price_per_mwh: market.series.rt_price_per_mwh[steps.clone()].to_vec(),
        demand_forecast_mw: steps
            .clone()
            .map(|t| market.demand_forecast_mw(t))
            .collect(),
        shift_limit_mw: steps.clone().map(|t| market.shift_limit_mw(t)).collect(),
        storage_bound_mwh: steps.map(|t| market.storage_bound_mwh(t)).collect(),
        rebate_per_mwh: market.config.rebate_per_mwh,
        a1_max: market.config.a1_max,
        has_day_ahead: market.series.market.has_day_ahead(),
    }
}

/// The perfect-foresight plan for a span, as a policy indexed by step.
#[derive(Debug, Clone)]
pub struct OraclePolicy {
    span: Span,
    actions: Vec<Action>,
}

impl OraclePolicy {
    /// Solve every day of the span.
    pub fn solve(market: &PreparedMarket, span: Span) -> Result<Self> {
        let k = market.series.steps_per_day();
        let mut actions = Vec::with_capacity(span.len());
        for day_start in (span.start..span.end).step_by(k) {
            let p = day_problem(market, day_start);
            let sol = solve_day(&p, day_start)?;
            for j in 0..k {
                let d_hat = p.demand_forecast_mw[j];
                let lim = p.shift_limit_mw[j];
                actions.push(Action {
                    a1_day_ahead: if d_hat > 0.0 {
                        sol.q_day_ahead_mw[j] / d_hat
                    } else {
                        0.0
                    },
                    a2_shift: if lim > 0.0 {
                        sol.shift_mw[j] / lim
                    } else {
                        0.0
                    },
                });
            }
        }
        Ok(OraclePolicy { span, actions })
    }
}

impl Policy for OraclePolicy {
    fn act(&mut self, ctx: &DecisionContext<'_>) -> Action {
        assert!(
            ctx.t >= self.span.start && ctx.t < self.span.end,
            "oracle asked about step {} outside the span it was solved for",
            ctx.t
        );
        self.actions[ctx.t - self.span.start]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(has_da: bool) -> DayProblem {
        DayProblem {
            interval_h: 1.0,
            da_price_per_mwh: vec![30.0, 50.0, 45.0],
            rt_price_per_mwh: vec![20.0, 70.0, 40.0],
            demand_forecast_mw: vec![2.0, 2.0, 4.0],
            shift_limit_mw: vec![1.0, 1.0, 1.0],
            storage_bound_mwh: vec![1.5, 0.5, 0.0],
            rebate_per_mwh: 3.0,
            a1_max: 1.5,
            has_day_ahead: has_da,
        }
    }

    /// Every LP vertex lies on a 0.25 grid here (all bounds are multiples of 0.25 or 3),
    /// so exhaustive search over that grid finds the exact optimum.
    fn brute_force(p: &DayProblem) -> f64 {
        let grid = |lo: f64, hi: f64| -> Vec<f64> {
            let n = ((hi - lo) / 0.25).round() as i64;
            (0..=n).map(|i| lo + 0.25 * i as f64).collect()
        };
        let qs: Vec<Vec<f64>> = (0..3)
            .map(|k| {
                if p.has_day_ahead {
                    grid(0.0, p.a1_max * p.demand_forecast_mw[k])
                } else {
                    vec![0.0]
                }
            })
            .collect();
        let fs = grid(-1.0, 1.0);
        let mut best = f64::INFINITY;
        for &q0 in &qs[0] {
            for &q1 in &qs[1] {
                for &q2 in &qs[2] {
                    for &f0 in &fs {
                        for &f1 in &fs {
                            for &f2 in &fs {
                                let e0: f64 = f0;
                                let e1 = e0 + f1;
                                let e2 = e1 + f2;
                                let ok = e0.abs() <= 1.5 + 1e-9
                                    && e1.abs() <= 0.5 + 1e-9
                                    && e2.abs() <= 1e-9;
                                if ok {
                                    best = best.min(day_cost(p, &[q0, q1, q2], &[f0, f1, f2]));
                                }
                            }
                        }
                    }
                }
            }
        }
        best
    }

    #[test]
    fn oracle_lp_matches_brute_force_on_tiny_day() {
        for has_da in [true, false] {
            let p = tiny(has_da);
            let sol = solve_day(&p, 0).unwrap();
            let bf = brute_force(&p);
            assert!(
                (sol.cost - bf).abs() < 1e-6,
                "LP {} vs brute force {bf}",
                sol.cost
            );
        }
    }
}
