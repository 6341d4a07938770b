//! Performance and settlement of demand-response events in exact money.
//! Per event and resource: delivered energy against the baseline,
//! performance ratio against the dispatch, energy payment, penalty for
//! under-delivery; per customer and month: a statement with the events'
//! lines, the capacity payment and totals in fen.
//!
//! Must not: compute baselines (it is given one, with the method and the
//! expected error that the back-test found), nor round anything but money
//! and ratios, each once, half away from zero.
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use voltex_model::money::{Bp, Fen, Wh, div_round};

use voltex_model::Violations;

use crate::baseline::Method;
use crate::error::Result;
use crate::event::{Event, dispatched_wh};
use crate::program::Program;
use crate::resource::{Direction, Portfolio, Resource};

/// One resource's result in one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    pub event_id: String,
    pub resource_id: String,
    pub customer_id: String,
    pub day: NaiveDate,
    pub dispatched_kw: i64,
    /// `x × minutes / 60` kWh as Wh.
    pub dispatched_wh: Wh,
    /// Down: `Σ_{t∈W} (B_t − e_t)`; up: `Σ (e_t − B_t)`. May be negative.
    pub delivered_wh: Wh,
    /// `round(10 000 × delivered / dispatched)`; 0 when nothing was dispatched.
    pub performance: Bp,
    /// `clamp(delivered, 0, dispatched)`: energy paid for.
    pub paid_wh: Wh,
    pub energy_payment: Fen,
    /// `max(0, round(dispatched × threshold) − max(0, delivered))` when the
    /// performance is below the threshold, else 0.
    pub short_wh: Wh,
    pub penalty: Fen,
    pub baseline_method: Method,
    /// The back-test's relative RMSE of that method for this resource, %.
    pub expected_error_pct: f64,
}

/// What one resource was asked in one event, and what it is measured by.
#[derive(Debug, Clone, Copy)]
pub struct Measured<'a> {
    pub event: &'a Event,
    pub resource: &'a Resource,
    pub dispatched_kw: i64,
    /// The chosen baseline over the event's window, Wh per interval.
    pub baseline_wh: &'a [Wh],
    /// The metered load over the same intervals.
    pub actual_wh: &'a [Wh],
    pub baseline_method: Method,
    /// The back-test's relative RMSE of that method for this resource, %.
    pub expected_error_pct: f64,
}

/// Settles one resource in one event under `program` (the direction is the
/// event's). Refused when the baseline and the readings cover a different
/// number of intervals.
pub fn assess(program: &Program, m: &Measured<'_>) -> Result<Performance> {
    if m.baseline_wh.len() != m.actual_wh.len() {
        return Err(Violations::one(
            "actual_wh",
            "same_intervals_as_baseline",
            m.actual_wh.len(),
            format!("the baseline covers {} intervals", m.baseline_wh.len()),
        )
        .into());
    }
    let down: Wh = m
        .baseline_wh
        .iter()
        .zip(m.actual_wh)
        .map(|(b, e)| b - e)
        .sum();
    let delivered = match m.event.direction {
        Direction::Down => down,
        Direction::Up => -down,
    };
    let dispatched_kw = m.dispatched_kw;
    let dispatched = dispatched_wh(dispatched_kw, m.event.duration_minutes());
    let performance = if dispatched > 0 {
        Bp(div_round(delivered as i128 * 10_000, dispatched as i128) as i64)
    } else {
        Bp(0)
    };
    let paid = delivered.clamp(0, dispatched.max(0));
    let short = if dispatched > 0 && performance < program.performance_threshold {
        let floor = div_round(
            dispatched as i128 * program.performance_threshold.0 as i128,
            10_000,
        ) as i64;
        (floor - delivered.max(0)).max(0)
    } else {
        0
    };
    Ok(Performance {
        event_id: m.event.id.clone(),
        resource_id: m.resource.id.clone(),
        customer_id: m.resource.customer_id.clone(),
        day: m.event.day(),
        dispatched_kw,
        dispatched_wh: dispatched,
        delivered_wh: delivered,
        performance,
        paid_wh: paid,
        energy_payment: program.compensation.charge(paid),
        short_wh: short,
        penalty: program.penalty.charge(short),
        baseline_method: m.baseline_method,
        expected_error_pct: m.expected_error_pct,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Energy,
    Penalty,
    Capacity,
}

/// One line of a statement; `amount` is signed (a penalty is negative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    pub resource_id: String,
    pub event_id: Option<String>,
    pub kind: LineKind,
    pub energy_wh: Wh,
    pub amount: Fen,
}

/// A customer's month: energy payments, capacity payments, penalties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyStatement {
    pub customer_id: String,
    /// `YYYY-MM`.
    pub month: String,
    pub lines: Vec<StatementLine>,
    pub energy_payments: Fen,
    pub capacity_payments: Fen,
    /// Positive figure, subtracted in `total`.
    pub penalties: Fen,
    /// `energy_payments + capacity_payments − penalties`.
    pub total: Fen,
}

/// The statements of `year`-`month` for every customer with a resource in
/// `portfolio` enrolled in `program`: one capacity line per resource
/// (`capacity_kw × capacity_fen_per_kw_month`), and per performance of
/// that month an energy line and, when charged, a penalty line.
pub fn monthly_statements(
    year: i32,
    month: u32,
    portfolio: &Portfolio,
    program: &Program,
    performances: &[Performance],
) -> Vec<MonthlyStatement> {
    let mut by_customer: BTreeMap<&str, Vec<StatementLine>> = BTreeMap::new();
    for r in &portfolio.resources {
        by_customer
            .entry(r.customer_id.as_str())
            .or_default()
            .push(StatementLine {
                resource_id: r.id.clone(),
                event_id: None,
                kind: LineKind::Capacity,
                energy_wh: 0,
                amount: Fen(r.capacity_kw * program.capacity_fen_per_kw_month.0),
            });
    }
    for p in performances
        .iter()
        .filter(|p| p.day.year() == year && p.day.month() == month)
    {
        let lines = by_customer.entry(p.customer_id.as_str()).or_default();
        lines.push(StatementLine {
            resource_id: p.resource_id.clone(),
            event_id: Some(p.event_id.clone()),
            kind: LineKind::Energy,
            energy_wh: p.paid_wh,
            amount: p.energy_payment,
        });
        if p.penalty.0 != 0 {
            lines.push(StatementLine {
                resource_id: p.resource_id.clone(),
                event_id: Some(p.event_id.clone()),
                kind: LineKind::Penalty,
                energy_wh: p.short_wh,
                amount: Fen(-p.penalty.0),
            });
        }
    }
    by_customer
        .into_iter()
        .map(|(c, lines)| {
            let sum = |k: LineKind| {
                lines
                    .iter()
                    .filter(|l| l.kind == k)
                    .map(|l| l.amount)
                    .sum::<Fen>()
            };
            let energy = sum(LineKind::Energy);
            let capacity = sum(LineKind::Capacity);
            let penalties = Fen(-sum(LineKind::Penalty).0);
            MonthlyStatement {
                customer_id: c.into(),
                month: format!("{year:04}-{month:02}"),
                total: energy + capacity - penalties,
                energy_payments: energy,
                capacity_payments: capacity,
                penalties,
                lines,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::example as program;
    use crate::resource::example as resource;
    use chrono::NaiveDateTime;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    /// A one-hour event on 2026-07-15 (four 15-minute intervals).
    fn event(prog: &Program) -> Event {
        Event::new(
            "E1",
            prog,
            t("2026-07-15 14:00"),
            t("2026-07-15 15:00"),
            t("2026-07-14 08:00"),
            t("2026-07-14 12:00"),
            100,
        )
        .unwrap()
    }

    fn settle(prog: &Program, e: &Event, r: &Resource, kw: i64, b: &[Wh], a: &[Wh]) -> Performance {
        assess(
            prog,
            &Measured {
                event: e,
                resource: r,
                dispatched_kw: kw,
                baseline_wh: b,
                actual_wh: a,
                baseline_method: Method::TenInTen,
                expected_error_pct: 3.0,
            },
        )
        .unwrap()
    }

    #[test]
    fn full_delivery_is_paid_up_to_the_dispatch_without_penalty() {
        // 100 kW for 60 min = 100 000 Wh dispatched; baseline − actual =
        // 4 × 30 000 = 120 000 Wh delivered, paid 100 kWh × 3.0000 yuan
        let prog = program();
        let p = settle(
            &prog,
            &event(&prog),
            &resource("R1", 100),
            100,
            &[50_000; 4],
            &[20_000; 4],
        );
        assert_eq!(p.dispatched_wh, 100_000);
        assert_eq!(p.delivered_wh, 120_000);
        assert_eq!(p.performance, Bp(12_000));
        assert_eq!(p.paid_wh, 100_000);
        assert_eq!(p.energy_payment, Fen(30_000));
        assert_eq!((p.short_wh, p.penalty), (0, Fen(0)));
        assert_eq!(
            (p.baseline_method, p.expected_error_pct),
            (Method::TenInTen, 3.0)
        );
    }

    #[test]
    fn under_delivery_below_the_threshold_is_penalised_per_kwh_short() {
        // delivered 4 × 12 345 = 49 380 Wh of 100 000: 49.38 % < 80 %;
        // paid 49.38 kWh × 3.0000 = 148.14 yuan; short = 80 000 − 49 380 =
        // 30 620 Wh × 1.0000 yuan = 30.62 yuan
        let prog = program();
        let (e, r) = (event(&prog), resource("R1", 100));
        let p = settle(&prog, &e, &r, 100, &[50_000; 4], &[37_655; 4]);
        assert_eq!(p.delivered_wh, 49_380);
        assert_eq!(p.performance, Bp(4_938));
        assert_eq!(p.energy_payment, Fen(14_814));
        assert_eq!(p.short_wh, 30_620);
        assert_eq!(p.penalty, Fen(3_062));
        // load that rose instead is paid nothing, short the whole 80 %
        let p = settle(&prog, &e, &r, 100, &[50_000; 4], &[51_000; 4]);
        assert_eq!((p.delivered_wh, p.paid_wh, p.short_wh), (-4_000, 0, 80_000));
    }

    #[test]
    fn valley_filling_counts_load_above_the_baseline() {
        let mut prog = program();
        prog.kind = crate::program::ProgramKind::ValleyFilling;
        let e = Event::new(
            "V1",
            &prog,
            t("2026-07-15 03:00"),
            t("2026-07-15 03:30"),
            t("2026-07-14 08:00"),
            t("2026-07-14 12:00"),
            10,
        )
        .unwrap();
        let p = settle(
            &prog,
            &e,
            &resource("R1", 10),
            10,
            &[1_000, 1_000],
            &[3_500, 3_600],
        );
        assert_eq!(p.dispatched_wh, 5_000);
        assert_eq!(p.delivered_wh, 5_100);
        assert_eq!(p.paid_wh, 5_000);
    }

    #[test]
    fn readings_that_do_not_match_the_baseline_are_refused() {
        let prog = program();
        let err = assess(
            &prog,
            &Measured {
                event: &event(&prog),
                resource: &resource("R1", 10),
                dispatched_kw: 10,
                baseline_wh: &[1, 2, 3, 4],
                actual_wh: &[1, 2, 3],
                baseline_method: Method::Regression,
                expected_error_pct: 1.0,
            },
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("same_intervals_as_baseline"),
            "{err}"
        );
    }

    #[test]
    fn statement_totals_are_exact_in_fen() {
        let prog = program();
        let e = event(&prog);
        let r1 = resource("R1", 100);
        let mut r2 = resource("R2", 37);
        r2.customer_id = r1.customer_id.clone();
        let portfolio = Portfolio {
            owner_id: "AGG".into(),
            resources: vec![r1.clone(), r2.clone()],
        };
        let a = settle(&prog, &e, &r1, 100, &[50_000; 4], &[20_000; 4]);
        let b = settle(&prog, &e, &r2, 37, &[10_000; 4], &[6_667; 4]);
        // R2: dispatched 37 000 Wh, delivered 13 332 Wh (36.03 %),
        // paid 13.332 kWh × 3 = 39.996 -> 40.00 yuan, short 29 600 − 13 332
        // = 16 268 Wh × 1 = 16.268 -> 16.27 yuan
        assert_eq!(b.energy_payment, Fen(4_000));
        assert_eq!(b.penalty, Fen(1_627));
        let other_month = Performance {
            day: NaiveDate::from_ymd_opt(2026, 8, 3).unwrap(),
            ..a.clone()
        };
        let s = monthly_statements(2026, 7, &portfolio, &prog, &[a, b, other_month]);
        assert_eq!(s.len(), 1);
        let s = &s[0];
        // capacity: (100 + 37) kW × 5.00 yuan = 685.00 yuan
        assert_eq!(s.capacity_payments, Fen(68_500));
        assert_eq!(s.energy_payments, Fen(30_000 + 4_000));
        assert_eq!(s.penalties, Fen(1_627));
        assert_eq!(s.total, Fen(68_500 + 34_000 - 1_627));
        assert_eq!(s.lines.len(), 5);
        assert_eq!(s.total.to_string(), "1008.73");
    }
}
