//! The next day's purchase decision (购电决策): the gap between forecast
//! demand and the medium/long-term (MLT) contracted curve with a quantile
//! band, suggested day-ahead bid curves (quantity per price step) that
//! minimise expected cost under the deviation rule the company faces, the
//! expected cost and CVaR of the purchase over price and demand scenarios,
//! the retail price ceiling above which a kWh bought is sold at a loss, and
//! a back-test of the suggestion against buying the point forecast at any
//! price (docs/retail-decisions.md, "Purchase bidding support").
//!
//! Settlement model (two-settlement, MLT as a contract for difference at
//! the day-ahead price): for quarter-hour t with MLT volume m, MLT price c,
//! day-ahead cleared quantity q at price λᴰᴬ, actual load D and real-time
//! price λᴿᵀ, the cost in yuan is
//! m (c − λᴰᴬ) + q λᴰᴬ + (D − q) λᴿᵀ + π · max(0, |D − q| − b D).
//!
//! Must not: read files, print, or decide anything a market operator rules.
use serde::Serialize;

use super::forecast::{SLOTS, quantile};
use crate::error::{Result, RetailError};

/// Day-ahead and real-time prices of one day, yuan/kWh per quarter-hour.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceDay {
    pub label: String,
    pub da: Vec<f64>,
    pub rt: Vec<f64>,
}

/// The wholesale deviation rule: deviations of actual load from the
/// day-ahead position beyond `band` × D pay `penalty` yuan/kWh on top of the
/// real-time price.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DeviationRule {
    pub band: f64,
    pub penalty_yuan_per_kwh: f64,
}

/// What the suggestion is made from.
#[derive(Debug, Clone)]
pub struct PurchaseInput<'a> {
    /// Portfolio forecast of the day, kWh per quarter-hour.
    pub forecast_kwh: &'a [f64],
    /// Demand scenarios as relative errors a/f − 1 per quarter-hour, one
    /// vector per back-test day (keeps the errors' correlation in a day).
    pub relative_errors: &'a [Vec<f64>],
    /// MLT contracted curve, kWh per quarter-hour, and its price.
    pub contracted_kwh: &'a [f64],
    pub contract_price: f64,
    /// Price history the scenarios and the real-time expectation come from.
    pub history: &'a [PriceDay],
    pub rule: DeviationRule,
    /// Price steps per quarter-hour (at most the ten a declaration takes).
    pub steps: usize,
    /// Retail energy price of the portfolio per quarter-hour (yuan/kWh).
    pub ceiling: &'a [f64],
}

/// One step of a day-ahead demand bid: buy `kwh` if the price is ≤ `price`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BidStep {
    pub price: f64,
    pub kwh: f64,
}

/// The plan for one quarter-hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalPlan {
    pub forecast_kwh: f64,
    pub contracted_kwh: f64,
    /// forecast − contracted; negative means the MLT curve over-covers.
    pub gap_kwh: f64,
    /// The gap at the lower and upper quantile of demand.
    pub gap_low_kwh: f64,
    pub gap_high_kwh: f64,
    /// Price steps, increasing price, non-increasing quantity.
    pub steps: Vec<BidStep>,
    /// Retail price ceiling (yuan/kWh).
    pub ceiling: f64,
    /// E[λᴿᵀ | λᴰᴬ] = a + b λᴰᴬ for this hour.
    pub rt_given_da: (f64, f64),
}

/// Expected cost and its tail.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct CostRisk {
    pub expected_yuan: f64,
    /// Mean of the worst 5 % of scenario costs (CVaR at 95 %).
    pub cvar95_yuan: f64,
}

/// The suggestion for the day.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub intervals: Vec<IntervalPlan>,
    /// Cost of following the bid curves, over the scenarios.
    pub suggested: CostRisk,
    /// Cost of bidding the point forecast at any price.
    pub naive: CostRisk,
    /// Price days × demand scenarios evaluated.
    pub scenarios: usize,
    /// Quarter-hours whose 90th-percentile day-ahead price is above the
    /// retail ceiling: buying there loses money.
    pub above_ceiling: usize,
    pub gap_kwh: f64,
}

fn check(input: &PurchaseInput<'_>) -> Result<()> {
    let bad = |field: &str, reason: String| {
        Err(RetailError::invalid(field, "shape", reason.clone(), reason))
    };
    for (field, n) in [
        ("forecast_kwh", input.forecast_kwh.len()),
        ("contracted_kwh", input.contracted_kwh.len()),
        ("ceiling", input.ceiling.len()),
    ] {
        if n != SLOTS {
            return bad(
                field,
                format!("{n} values; a day has {SLOTS} quarter-hours"),
            );
        }
    }
    if input.history.len() < 2 {
        return bad("history", "at least two price days are needed".into());
    }
    if let Some(d) = input
        .history
        .iter()
        .find(|d| d.da.len() != SLOTS || d.rt.len() != SLOTS)
    {
        return bad(
            "history",
            format!("price day {} is not {SLOTS} quarter-hours", d.label),
        );
    }
    if input.relative_errors.iter().any(|r| r.len() != SLOTS) || input.relative_errors.is_empty() {
        return bad(
            "relative_errors",
            format!("one or more scenarios of {SLOTS} values are needed"),
        );
    }
    if !(1..=10).contains(&input.steps) {
        return bad("steps", format!("{} steps; a bid has 1 to 10", input.steps));
    }
    if !(0.0..1.0).contains(&input.rule.band) || input.rule.penalty_yuan_per_kwh < 0.0 {
        return bad(
            "rule",
            "band is in [0, 1) and the penalty is not negative".into(),
        );
    }
    Ok(())
}

/// Least squares λᴿᵀ = a + b λᴰᴬ over the history for one hour of day.
fn rt_given_da(history: &[PriceDay], hour: usize) -> (f64, f64) {
    let pts: Vec<(f64, f64)> = history
        .iter()
        .map(|d| {
            (
                d.da[hour * 4],
                d.rt[hour * 4..hour * 4 + 4].iter().sum::<f64>() / 4.0,
            )
        })
        .collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let b = if sxx > 1e-12 { sxy / sxx } else { 0.0 };
    (my - b * mx, b)
}

fn penalty(d: f64, q: f64, rule: &DeviationRule) -> f64 {
    rule.penalty_yuan_per_kwh * ((d - q).abs() - rule.band * d).max(0.0)
}

/// The quantity that minimises expected cost at day-ahead price `s`:
/// s q + (a + b s)(E[D] − q) + π E[max(0, |D − q| − b_dev D)], a convex
/// piecewise-linear function of q whose minimum lies on a breakpoint.
fn best_quantity(s: f64, ab: (f64, f64), demand: &[f64], rule: &DeviationRule) -> f64 {
    let mean = demand.iter().sum::<f64>() / demand.len() as f64;
    let rt = ab.0 + ab.1 * s;
    let mut candidates: Vec<f64> = vec![0.0, mean];
    for d in demand {
        candidates.extend([d * (1.0 - rule.band), *d, d * (1.0 + rule.band)]);
    }
    let cost = |q: f64| {
        s * q
            + rt * (mean - q)
            + demand.iter().map(|d| penalty(*d, q, rule)).sum::<f64>() / demand.len() as f64
    };
    candidates
        .into_iter()
        .filter(|q| *q >= 0.0)
        .map(|q| (q, cost(q)))
        // ties go to the quantity nearest the mean demand
        .min_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then((a.0 - mean).abs().total_cmp(&(b.0 - mean).abs()))
        })
        .map(|(q, _)| q)
        .unwrap_or(mean)
}

/// The quantity a bid curve clears at day-ahead price `price`.
pub fn cleared(steps: &[BidStep], price: f64) -> f64 {
    steps
        .iter()
        .find(|s| price <= s.price)
        .or(steps.last())
        .map_or(0.0, |s| s.kwh)
}

/// Cost in yuan of one day (see the module formula).
pub fn day_cost(
    q: &[f64],
    load: &[f64],
    contracted: &[f64],
    contract_price: f64,
    day: &PriceDay,
    rule: &DeviationRule,
) -> f64 {
    (0..SLOTS)
        .map(|t| {
            contracted[t] * (contract_price - day.da[t])
                + q[t] * day.da[t]
                + (load[t] - q[t]) * day.rt[t]
                + penalty(load[t], q[t], rule)
        })
        .sum()
}

fn risk(mut costs: Vec<f64>) -> CostRisk {
    costs.sort_by(|a, b| b.total_cmp(a));
    let tail = (costs.len() as f64 * 0.05).ceil().max(1.0) as usize;
    CostRisk {
        expected_yuan: costs.iter().sum::<f64>() / costs.len() as f64,
        cvar95_yuan: costs[..tail].iter().sum::<f64>() / tail as f64,
    }
}

/// Builds the day's bid curves and evaluates them against the naive bid.
pub fn suggest(input: &PurchaseInput<'_>) -> Result<Suggestion> {
    check(input)?;
    let rule = input.rule;
    let mut intervals = Vec::with_capacity(SLOTS);
    let mut above_ceiling = 0;
    let fits: Vec<(f64, f64)> = (0..24).map(|h| rt_given_da(input.history, h)).collect();
    for t in 0..SLOTS {
        let f = input.forecast_kwh[t];
        let demand: Vec<f64> = input
            .relative_errors
            .iter()
            .map(|r| (f * (1.0 + r[t])).max(0.0))
            .collect();
        let mut sorted = demand.clone();
        sorted.sort_by(f64::total_cmp);
        let mut prices: Vec<f64> = input.history.iter().map(|d| d.da[t]).collect();
        prices.sort_by(f64::total_cmp);
        if quantile(&prices, 0.9) > input.ceiling[t] {
            above_ceiling += 1;
        }
        let ab = fits[t / 4];
        let mut steps: Vec<BidStep> = (0..input.steps)
            .map(|k| {
                let price = quantile(&prices, (k as f64 + 0.5) / input.steps as f64);
                BidStep {
                    price,
                    kwh: best_quantity(price, ab, &demand, &rule),
                }
            })
            .collect();
        // a demand bid never asks for more at a higher price
        for k in 1..steps.len() {
            steps[k].kwh = steps[k].kwh.min(steps[k - 1].kwh);
        }
        let c = input.contracted_kwh[t];
        intervals.push(IntervalPlan {
            forecast_kwh: f,
            contracted_kwh: c,
            gap_kwh: f - c,
            gap_low_kwh: quantile(&sorted, 0.1) - c,
            gap_high_kwh: quantile(&sorted, 0.9) - c,
            steps,
            ceiling: input.ceiling[t],
            rt_given_da: ab,
        });
    }
    let mut suggested = Vec::new();
    let mut naive = Vec::new();
    for day in input.history {
        let q: Vec<f64> = (0..SLOTS)
            .map(|t| cleared(&intervals[t].steps, day.da[t]))
            .collect();
        for r in input.relative_errors {
            let load: Vec<f64> = (0..SLOTS)
                .map(|t| (input.forecast_kwh[t] * (1.0 + r[t])).max(0.0))
                .collect();
            suggested.push(day_cost(
                &q,
                &load,
                input.contracted_kwh,
                input.contract_price,
                day,
                &rule,
            ));
            naive.push(day_cost(
                input.forecast_kwh,
                &load,
                input.contracted_kwh,
                input.contract_price,
                day,
                &rule,
            ));
        }
    }
    Ok(Suggestion {
        scenarios: suggested.len(),
        suggested: risk(suggested),
        naive: risk(naive),
        above_ceiling,
        gap_kwh: intervals.iter().map(|i| i.gap_kwh).sum(),
        intervals,
    })
}

/// One day of the back-test: what was forecast, what happened.
#[derive(Debug, Clone)]
pub struct BacktestDay {
    pub forecast_kwh: Vec<f64>,
    pub actual_kwh: Vec<f64>,
    /// Index into the price history of the prices this day met.
    pub prices: usize,
}

/// Realised cost of the suggestion against the naive bid.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct BacktestResult {
    pub days: usize,
    pub suggested_yuan: f64,
    pub naive_yuan: f64,
    /// (naive − suggested) / naive × 100.
    pub saving_pct: f64,
}

/// Replays `days` out of sample: each day's curves are built without that
/// day's prices and without its own forecast error, then settled at the
/// prices and load that happened.
pub fn backtest(days: &[BacktestDay], input: &PurchaseInput<'_>) -> Result<BacktestResult> {
    let mut out = BacktestResult {
        days: days.len(),
        ..Default::default()
    };
    for (k, day) in days.iter().enumerate() {
        let history: Vec<PriceDay> = input
            .history
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != day.prices)
            .map(|(_, d)| d.clone())
            .collect();
        let errors: Vec<Vec<f64>> = days
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, d)| {
                d.actual_kwh
                    .iter()
                    .zip(&d.forecast_kwh)
                    .map(|(a, f)| if *f > 0.0 { a / f - 1.0 } else { 0.0 })
                    .collect()
            })
            .collect();
        let plan = suggest(&PurchaseInput {
            forecast_kwh: &day.forecast_kwh,
            relative_errors: &errors,
            history: &history,
            ..input.clone()
        })?;
        let prices = input.history.get(day.prices).ok_or_else(|| {
            RetailError::invalid(
                "prices",
                "in_history",
                day.prices,
                "a back-test day names a price day of the history",
            )
        })?;
        let q: Vec<f64> = (0..SLOTS)
            .map(|t| cleared(&plan.intervals[t].steps, prices.da[t]))
            .collect();
        out.suggested_yuan += day_cost(
            &q,
            &day.actual_kwh,
            input.contracted_kwh,
            input.contract_price,
            prices,
            &input.rule,
        );
        out.naive_yuan += day_cost(
            &day.forecast_kwh,
            &day.actual_kwh,
            input.contracted_kwh,
            input.contract_price,
            prices,
            &input.rule,
        );
    }
    if out.naive_yuan.abs() > 0.0 {
        out.saving_pct = (out.naive_yuan - out.suggested_yuan) / out.naive_yuan * 100.0;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat_day(label: &str, da: f64, rt: f64) -> PriceDay {
        PriceDay {
            label: label.into(),
            da: vec![da; SLOTS],
            rt: vec![rt; SLOTS],
        }
    }

    fn input<'a>(
        forecast: &'a [f64],
        errors: &'a [Vec<f64>],
        contracted: &'a [f64],
        history: &'a [PriceDay],
        ceiling: &'a [f64],
        rule: DeviationRule,
    ) -> PurchaseInput<'a> {
        PurchaseInput {
            forecast_kwh: forecast,
            relative_errors: errors,
            contracted_kwh: contracted,
            contract_price: 0.38,
            history,
            rule,
            steps: 4,
            ceiling,
        }
    }

    #[test]
    fn day_cost_matches_the_settlement_formula_by_hand() {
        let rule = DeviationRule {
            band: 0.1,
            penalty_yuan_per_kwh: 0.05,
        };
        let day = flat_day("d", 0.30, 0.40);
        let mut q = vec![0.0; SLOTS];
        let mut load = vec![0.0; SLOTS];
        let mut m = vec![0.0; SLOTS];
        q[0] = 80.0;
        load[0] = 100.0;
        m[0] = 50.0;
        // 50(0.38−0.30) + 80·0.30 + 20·0.40 + 0.05·(20 − 10) = 4 + 24 + 8 + 0.5
        let c = day_cost(&q, &load, &m, 0.38, &day, &rule);
        assert!((c - 36.5).abs() < 1e-9, "{c}");
    }

    #[test]
    fn with_certain_demand_and_a_penalty_the_curve_buys_the_demand_at_every_price() {
        let rule = DeviationRule {
            band: 0.0,
            penalty_yuan_per_kwh: 1.0,
        };
        let forecast = vec![100.0; SLOTS];
        let errors = vec![vec![0.0; SLOTS]];
        let zero = vec![0.0; SLOTS];
        let history: Vec<PriceDay> = (0..10)
            .map(|k| flat_day("d", 0.2 + 0.02 * k as f64, 0.3))
            .collect();
        let ceiling = vec![0.6; SLOTS];
        let s = suggest(&input(&forecast, &errors, &zero, &history, &ceiling, rule)).unwrap();
        for step in &s.intervals[40].steps {
            assert!((step.kwh - 100.0).abs() < 1e-9, "{step:?}");
        }
        assert!((s.suggested.expected_yuan - s.naive.expected_yuan).abs() < 1e-6);
        assert_eq!(s.above_ceiling, 0);
    }

    #[test]
    fn dear_day_ahead_hours_are_left_to_real_time_when_deviation_is_free() {
        // real time costs 0.30 whatever the day-ahead price: above that,
        // buy the least; below, buy the most the scenarios allow
        let rule = DeviationRule {
            band: 0.2,
            penalty_yuan_per_kwh: 0.0,
        };
        let forecast = vec![100.0; SLOTS];
        let errors = vec![vec![-0.1; SLOTS], vec![0.1; SLOTS]];
        let zero = vec![0.0; SLOTS];
        let history: Vec<PriceDay> = (0..20)
            .map(|k| flat_day("d", 0.1 + 0.02 * k as f64, 0.30))
            .collect();
        let ceiling = vec![0.6; SLOTS];
        let s = suggest(&input(&forecast, &errors, &zero, &history, &ceiling, rule)).unwrap();
        let steps = &s.intervals[0].steps;
        assert!(steps.first().unwrap().price < 0.30 && steps.last().unwrap().price > 0.30);
        assert!(steps.first().unwrap().kwh > 100.0);
        assert_eq!(steps.last().unwrap().kwh, 0.0);
        assert!(steps.windows(2).all(|w| w[1].kwh <= w[0].kwh));
        assert!(s.suggested.expected_yuan < s.naive.expected_yuan);
        assert!(s.suggested.cvar95_yuan >= s.suggested.expected_yuan);
    }

    #[test]
    fn the_ceiling_counts_hours_where_buying_loses_money() {
        let rule = DeviationRule {
            band: 0.1,
            penalty_yuan_per_kwh: 0.05,
        };
        let forecast = vec![10.0; SLOTS];
        let errors = vec![vec![0.0; SLOTS]];
        let zero = vec![0.0; SLOTS];
        let history = vec![flat_day("a", 0.5, 0.5), flat_day("b", 0.9, 0.9)];
        let mut ceiling = vec![1.0; SLOTS];
        for c in &mut ceiling[..8] {
            *c = 0.6;
        }
        let s = suggest(&input(&forecast, &errors, &zero, &history, &ceiling, rule)).unwrap();
        assert_eq!(s.above_ceiling, 8);
    }

    #[test]
    fn bad_shapes_are_refused_naming_the_field() {
        let rule = DeviationRule {
            band: 0.1,
            penalty_yuan_per_kwh: 0.05,
        };
        let short = vec![1.0; 24];
        let full = vec![1.0; SLOTS];
        let errors = vec![vec![0.0; SLOTS]];
        let history = vec![flat_day("a", 0.5, 0.5), flat_day("b", 0.4, 0.4)];
        let err = suggest(&input(&short, &errors, &full, &history, &full, rule)).unwrap_err();
        assert!(err.to_string().contains("forecast_kwh"), "{err}");
        let err = suggest(&input(&full, &errors, &full, &history[..1], &full, rule)).unwrap_err();
        assert!(err.to_string().contains("history"), "{err}");
    }

    #[test]
    fn backtest_settles_each_day_at_prices_its_curve_never_saw() {
        let rule = DeviationRule {
            band: 0.2,
            penalty_yuan_per_kwh: 0.0,
        };
        let zero = vec![0.0; SLOTS];
        let history: Vec<PriceDay> = (0..12)
            .map(|k| flat_day("d", 0.1 + 0.04 * k as f64, 0.30))
            .collect();
        let ceiling = vec![0.6; SLOTS];
        let days: Vec<BacktestDay> = (0..6)
            .map(|k| BacktestDay {
                forecast_kwh: vec![100.0; SLOTS],
                actual_kwh: vec![if k % 2 == 0 { 95.0 } else { 105.0 }; SLOTS],
                prices: k * 2,
            })
            .collect();
        let errors = vec![vec![0.0; SLOTS]];
        let r = backtest(
            &days,
            &input(&zero, &errors, &zero, &history, &ceiling, rule),
        )
        .unwrap();
        assert_eq!(r.days, 6);
        // buying cheap day-ahead hours beyond the forecast and leaving dear
        // ones to a real-time price of 0.30 beats buying the forecast
        assert!(r.suggested_yuan < r.naive_yuan, "{r:?}");
        assert!(r.saving_pct > 0.0);
    }
}
