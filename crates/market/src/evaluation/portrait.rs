//! Member portraits and monthly statistics, from stored runs and
//! statements (docs/market-evaluation.md, "Statistics and portraits").
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use voltex_analytics::market_power::Step;
use voltex_analytics::market_power::conduct::mean_price;
use voltex_analytics::market_power::statistics::PriceDistribution;
use voltex_model::{GeneratingUnit, TradingDay};

use super::DayStatistics;
use super::compute::{is_marginal, steps};
use crate::dispatch::ClearingRun;

/// A member's settled amounts for the day (¥; + received, − paid).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SettlementTotals {
    pub day_ahead: f64,
    pub real_time: f64,
    pub total: f64,
}

/// One member on one day, as the market monitor sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberPortrait {
    pub member_id: String,
    pub trading_day: TradingDay,
    pub units: Vec<String>,
    pub registered_capacity_mw: f64,
    /// Share of all registered generating capacity.
    pub capacity_share: f64,
    pub energy_mwh: f64,
    /// Share of the day's generation.
    pub energy_share: f64,
    /// Quantity-weighted mean offer price per interval (`None`: nothing offered).
    pub mean_offer_price: Vec<Option<f64>>,
    /// MW offered per interval (pmin included).
    pub offered_mw: Vec<f64>,
    /// LMP at the member's first unit's bus, per interval.
    pub lmp: Vec<f64>,
    /// Intervals in which one of its units was marginal.
    pub intervals_marginal: usize,
    pub share_marginal: f64,
    pub alerts: usize,
    pub settlement: Option<SettlementTotals>,
}

/// The portrait of `member` from the day's run.
pub(crate) fn portrait(
    run: &ClearingRun,
    member: &str,
    units: &[GeneratingUnit],
    owners: &HashMap<String, String>,
    alerts: usize,
    settlement: Option<SettlementTotals>,
) -> MemberPortrait {
    let input = &run.input;
    let n = input.intervals;
    let hours = input.interval_minutes / 60.0;
    let mine: Vec<usize> = input
        .units
        .iter()
        .enumerate()
        .filter(|(_, u)| owners.get(&u.id).map(String::as_str) == Some(member))
        .map(|(i, _)| i)
        .collect();
    let registered: f64 = units
        .iter()
        .filter(|u| u.member_id == member)
        .map(|u| u.pmax_mw)
        .sum();
    let all_registered: f64 = units.iter().map(|u| u.pmax_mw).sum();
    let (mut energy, mut all_energy) = (0.0, 0.0);
    let mut mean_offer = Vec::with_capacity(n);
    let mut offered = Vec::with_capacity(n);
    let mut marginal = 0usize;
    for t in 0..n {
        let r = &run.result.results[t];
        all_energy += r.units.iter().map(|u| u.output_mw).sum::<f64>() * hours;
        energy += mine.iter().map(|u| r.units[*u].output_mw).sum::<f64>() * hours;
        let on: Vec<usize> = mine
            .iter()
            .copied()
            .filter(|u| input.unit_on(*u, t))
            .collect();
        let all: Vec<Step> = on.iter().flat_map(|u| steps(input.offer(*u, t))).collect();
        mean_offer.push(mean_price(&all));
        offered.push(
            on.iter()
                .map(|u| {
                    input.units[*u].pmin_mw
                        + input
                            .offer(*u, t)
                            .iter()
                            .map(|s| s.quantity_mw)
                            .sum::<f64>()
                })
                .sum(),
        );
        if mine.iter().any(|u| is_marginal(run, *u, t)) {
            marginal += 1;
        }
    }
    let index = input.network.bus_index();
    let lmp = match mine.first() {
        Some(u) => {
            let b = index[&input.units[*u].bus];
            run.result
                .results
                .iter()
                .map(|r| r.lmp[b].lmp_per_mwh)
                .collect()
        }
        None => vec![],
    };
    MemberPortrait {
        member_id: member.to_owned(),
        trading_day: run.trading_day,
        units: mine.iter().map(|u| input.units[*u].id.clone()).collect(),
        registered_capacity_mw: registered,
        capacity_share: if all_registered > 0.0 {
            registered / all_registered
        } else {
            0.0
        },
        energy_mwh: energy,
        energy_share: if all_energy > 0.0 {
            energy / all_energy
        } else {
            0.0
        },
        mean_offer_price: mean_offer,
        offered_mw: offered,
        lmp,
        intervals_marginal: marginal,
        share_marginal: if n > 0 {
            marginal as f64 / n as f64
        } else {
            0.0
        },
        alerts,
        settlement,
    }
}

/// A month's cleared days and their totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthStatistics {
    pub year: i32,
    pub month: u32,
    pub days: Vec<(TradingDay, DayStatistics)>,
    pub generation_mwh: f64,
    pub served_mwh: f64,
    pub congestion_rent: f64,
    pub uplift: f64,
    /// Load-weighted mean over the days (weights: served energy).
    pub mean_price_per_mwh: f64,
    /// The lowest and highest daily percentiles: the month's envelope.
    pub prices_envelope: (PriceDistribution, PriceDistribution),
}

pub(crate) fn month(
    year: i32,
    month: u32,
    days: Vec<(TradingDay, DayStatistics)>,
) -> MonthStatistics {
    let sum = |f: &dyn Fn(&DayStatistics) -> f64| days.iter().map(|(_, d)| f(d)).sum::<f64>();
    let served = sum(&|d| d.served_mwh);
    let mean = if served > 0.0 {
        sum(&|d| d.prices.weighted_mean * d.served_mwh) / served
    } else {
        0.0
    };
    let pick = |better: fn(f64, f64) -> f64| {
        let mut it = days.iter().map(|(_, d)| d.prices);
        let first = it.next().unwrap_or_default();
        it.fold(first, |a, b| PriceDistribution {
            min: better(a.min, b.min),
            p5: better(a.p5, b.p5),
            p25: better(a.p25, b.p25),
            p50: better(a.p50, b.p50),
            p75: better(a.p75, b.p75),
            p95: better(a.p95, b.p95),
            max: better(a.max, b.max),
            weighted_mean: better(a.weighted_mean, b.weighted_mean),
        })
    };
    MonthStatistics {
        year,
        month,
        generation_mwh: sum(&|d| d.generation_mwh),
        served_mwh: served,
        congestion_rent: sum(&|d| d.congestion_rent),
        uplift: sum(&|d| d.uplift),
        mean_price_per_mwh: mean,
        prices_envelope: (pick(f64::min), pick(f64::max)),
        days,
    }
}
