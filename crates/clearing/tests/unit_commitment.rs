//! Unit commitment: the MILP's optimum equals a brute-force enumeration of
//! every commitment schedule on a small instance with minimum up/down times,
//! initial conditions, start-up categories and no-load costs; the pricing LP
//! reproduces the MILP's cost and its prices support the dispatch; PGLib-UC
//! RTS-GMLC solves to the 0.01 % gap; bad input and infeasible instances are
//! refused naming the field or the constraint set.

use voltex_clearing::ClearingError;
use voltex_clearing::uc::pglib::{parse_pglib_uc, read_pglib_uc};
use voltex_clearing::uc::{CostPoint, StartupTier, ThermalUnit, UcInput, UcSettings, solve_uc};
use voltex_formats::datadir::shared_data_file;

fn unit(
    name: &str,
    pmin: f64,
    pmax: f64,
    curve: &[(f64, f64)],
    up: usize,
    down: usize,
) -> ThermalUnit {
    ThermalUnit {
        name: name.into(),
        must_run: false,
        pmin_mw: pmin,
        pmax_mw: pmax,
        ramp_up_mw: pmax,
        ramp_down_mw: pmax,
        startup_ramp_mw: pmax,
        shutdown_ramp_mw: pmax,
        min_up_h: up,
        min_down_h: down,
        initial_output_mw: 0.0,
        initially_on: false,
        initial_up_h: 0,
        initial_down_h: 1,
        startup: vec![StartupTier {
            lag_h: down,
            cost: 0.0,
        }],
        cost_curve: curve
            .iter()
            .map(|&(mw, cost_per_h)| CostPoint { mw, cost_per_h })
            .collect(),
    }
}

/// Three units over six hours: a cheap base unit on at t0 (must stay on two
/// more hours), a mid unit with hot/cold start-up costs, an expensive
/// peaker with a large no-load cost.
fn small_instance() -> UcInput {
    let mut base = unit(
        "base",
        50.0,
        150.0,
        &[(50.0, 1000.0), (100.0, 2000.0), (150.0, 3250.0)],
        4,
        2,
    );
    base.initially_on = true;
    base.initial_up_h = 2;
    base.initial_down_h = 0;
    base.initial_output_mw = 120.0;
    base.startup = vec![StartupTier {
        lag_h: 2,
        cost: 800.0,
    }];
    let mut mid = unit(
        "mid",
        20.0,
        100.0,
        &[(20.0, 600.0), (60.0, 1600.0), (100.0, 2800.0)],
        2,
        2,
    );
    mid.initial_down_h = 1; // off one hour: must stay off one more
    mid.startup = vec![
        StartupTier {
            lag_h: 2,
            cost: 300.0,
        },
        StartupTier {
            lag_h: 4,
            cost: 900.0,
        },
    ];
    let mut peak = unit("peak", 10.0, 60.0, &[(10.0, 900.0), (60.0, 3400.0)], 1, 1);
    peak.initial_down_h = 10;
    peak.startup = vec![StartupTier {
        lag_h: 1,
        cost: 150.0,
    }];
    UcInput {
        name: "small".into(),
        periods: 6,
        demand_mw: vec![130.0, 170.0, 240.0, 260.0, 150.0, 60.0],
        reserve_mw: vec![],
        thermal: vec![base, mid, peak],
        renewable: vec![],
        settings: UcSettings {
            mip_gap: 0.0,
            ..UcSettings::default()
        },
    }
}

/// Cheapest dispatch of the on units for demand d (convex curves: fill
/// the cheapest slopes first); None when d is outside [Σ pmin, Σ pmax].
fn dispatch_cost(units: &[&ThermalUnit], d: f64) -> Option<f64> {
    let pmin: f64 = units.iter().map(|u| u.pmin_mw).sum();
    let pmax: f64 = units.iter().map(|u| u.pmax_mw).sum();
    if d < pmin - 1e-9 || d > pmax + 1e-9 {
        return None;
    }
    let mut cost: f64 = units.iter().map(|u| u.cost_curve[0].cost_per_h).sum();
    let mut segs: Vec<(f64, f64)> = units
        .iter()
        .flat_map(|u| {
            u.cost_curve.windows(2).map(|w| {
                (
                    (w[1].cost_per_h - w[0].cost_per_h) / (w[1].mw - w[0].mw),
                    w[1].mw - w[0].mw,
                )
            })
        })
        .collect();
    segs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut left = d - pmin;
    for (slope, width) in segs {
        let take = left.min(width);
        cost += slope * take;
        left -= take;
    }
    Some(cost)
}

/// Start-up cost of a start after `off` hours off, or None if too early.
fn startup_cost(u: &ThermalUnit, off: usize) -> Option<f64> {
    u.startup
        .iter()
        .rev()
        .find(|s| off >= s.lag_h)
        .map(|s| s.cost)
}

/// Feasibility of one unit's schedule against min up/down and initial conditions;
/// its start-up cost.
fn schedule_cost(u: &ThermalUnit, on: &[bool]) -> Option<f64> {
    let nt = on.len();
    let mut cost = 0.0;
    let mut prev = u.initially_on;
    // hours on / off so far, counted across the horizon start
    let (mut up, mut down) = (u.initial_up_h, u.initial_down_h);
    for &now in on.iter().take(nt) {
        if now && !prev {
            if down < u.min_down_h {
                return None;
            }
            cost += startup_cost(u, down)?;
            up = 0;
        }
        if !now && prev && up < u.min_up_h {
            return None;
        }
        if now {
            up += 1;
            down = 0;
        } else {
            down += 1;
        }
        prev = now;
    }
    Some(cost)
}

fn brute_force(input: &UcInput) -> f64 {
    let nt = input.periods;
    let ng = input.thermal.len();
    let mut best = f64::INFINITY;
    for mask in 0u32..(1 << (nt * ng)) {
        let on = |g: usize, t: usize| mask >> (g * nt + t) & 1 == 1;
        let mut total = 0.0;
        let mut ok = true;
        for (g, u) in input.thermal.iter().enumerate() {
            let sched: Vec<bool> = (0..nt).map(|t| on(g, t)).collect();
            match schedule_cost(u, &sched) {
                Some(c) => total += c,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        for t in 0..nt {
            let units: Vec<&ThermalUnit> = (0..ng)
                .filter(|&g| on(g, t))
                .map(|g| &input.thermal[g])
                .collect();
            match dispatch_cost(&units, input.demand_mw[t]) {
                Some(c) => total += c,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok && total < best {
            best = total;
        }
    }
    best
}

#[test]
fn milp_optimum_equals_brute_force_enumeration_of_all_schedules() {
    let input = small_instance();
    let reference = brute_force(&input);
    let r = solve_uc(&input).unwrap();
    println!(
        "MILP {} vs enumeration {reference}, committed {:?}",
        r.objective,
        r.units.iter().map(|u| &u.on).collect::<Vec<_>>()
    );
    assert!(reference.is_finite());
    assert!(
        (r.objective - reference).abs() < 1e-6 * reference,
        "{} vs {reference}",
        r.objective
    );
    // the initial conditions hold: base stays on two more hours, mid off in hour 1
    assert!(r.units[0].on[0] && r.units[0].on[1]);
    assert!(!r.units[1].on[0]);
    // the pricing LP keeps the MILP's cost and its dispatch meets demand
    assert!((r.pricing_objective - r.objective).abs() < 1e-6 * r.objective);
    for t in 0..input.periods {
        let out: f64 = r.units.iter().map(|u| u.output_mw[t]).sum();
        assert!((out - input.demand_mw[t]).abs() < 1e-6);
    }
}

#[test]
fn prices_support_the_dispatch_and_uplift_covers_the_shortfall_of_revenue() {
    let input = small_instance();
    let r = solve_uc(&input).unwrap();
    for (g, u) in r.units.iter().enumerate() {
        let unit = &input.thermal[g];
        for t in 0..input.periods {
            if !u.on[t] {
                continue;
            }
            // a unit strictly inside its range is marginal: its curve's slope
            // at that output brackets the price
            let p = u.output_mw[t];
            let slopes: Vec<(f64, f64, f64)> = unit
                .cost_curve
                .windows(2)
                .map(|w| {
                    (
                        w[0].mw,
                        w[1].mw,
                        (w[1].cost_per_h - w[0].cost_per_h) / (w[1].mw - w[0].mw),
                    )
                })
                .collect();
            let price = r.energy_price_per_mwh[t];
            for &(a, b, s) in &slopes {
                if p > a + 1e-6 && p < b - 1e-6 {
                    assert!(
                        (price - s).abs() < 1e-6,
                        "unit {} hour {}: price {price}, slope {s}",
                        u.name,
                        t + 1
                    );
                }
            }
        }
        let cost = u.production_cost + u.startup_cost;
        assert!((u.uplift - (cost - u.revenue).max(0.0)).abs() < 1e-9);
    }
    assert!((r.total_uplift - r.units.iter().map(|u| u.uplift).sum::<f64>()).abs() < 1e-9);
}

#[test]
fn pmin_above_pmax_is_refused_naming_the_unit_and_field() {
    let mut input = small_instance();
    input.thermal[1].pmin_mw = 120.0;
    match solve_uc(&input) {
        Err(e @ ClearingError::InvalidInput(_)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("thermal_generators.mid: power_output_minimum 120 exceeds power_output_maximum 100"),
                "{msg}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn demand_beyond_capacity_is_infeasible_naming_the_demand_rows() {
    let mut input = small_instance();
    input.demand_mw[3] = 400.0; // capacity is 310 MW
    match solve_uc(&input) {
        Err(e @ ClearingError::UcInfeasible(_)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("demand (UCDemand) period 4: 90.000 MW short"),
                "{msg}"
            );
        }
        other => panic!("expected infeasibility, got {other:?}"),
    }
}

#[test]
fn reads_pglib_uc_json_fields() {
    let text = r#"{"time_periods": 2, "demand": [10.0, 12.0], "reserves": [1.0, 1.0],
      "thermal_generators": {"g1": {"must_run": 0, "power_output_minimum": 2.0, "power_output_maximum": 20.0,
        "ramp_up_limit": 10.0, "ramp_down_limit": 10.0, "ramp_startup_limit": 5.0, "ramp_shutdown_limit": 5.0,
        "time_up_minimum": 1, "time_down_minimum": 1, "power_output_t0": 8.0, "unit_on_t0": 1,
        "time_down_t0": 0, "time_up_t0": 3, "startup": [{"lag": 1, "cost": 5.0}],
        "piecewise_production": [{"mw": 2.0, "cost": 10.0}, {"mw": 20.0, "cost": 190.0}], "name": "g1"}},
      "renewable_generators": {}}"#;
    let input = parse_pglib_uc(text, "tiny").unwrap();
    assert_eq!(input.periods, 2);
    let g = &input.thermal[0];
    assert!(g.initially_on && g.initial_up_h == 3 && g.startup_ramp_mw == 5.0);
    let r = solve_uc(&input).unwrap();
    // one unit, on throughout: 10 + 10·(8) + 10 + 10·(10) $, price = slope 10 $/MWh
    assert!(
        (r.objective - (10.0 + 80.0 + 10.0 + 100.0)).abs() < 1e-6,
        "{}",
        r.objective
    );
    assert!(
        r.energy_price_per_mwh
            .iter()
            .all(|p| (p - 10.0).abs() < 1e-6)
    );
}

fn truncate(input: &mut UcInput, periods: usize) {
    input.periods = periods;
    input.demand_mw.truncate(periods);
    input.reserve_mw.truncate(periods);
    for w in &mut input.renewable {
        w.pmin_mw.truncate(periods);
        w.pmax_mw.truncate(periods);
    }
}

#[test]
fn rts_gmlc_day_solves_to_the_documented_gap() {
    let Some(path) = shared_data_file("unit_commitment/pglib_uc/rts_gmlc/2020-01-27.json") else {
        eprintln!("skipped: PGLib-UC RTS-GMLC not in the shared data (set VOLTEX_DATA_DIR)");
        return;
    };
    // the first 12 hours keep the test fast in a debug build; the whole
    // 48-hour days are in `voltex bench uc` / docs/clearing.md
    let mut input = read_pglib_uc(&path).unwrap();
    truncate(&mut input, 12);
    let r = solve_uc(&input).unwrap();
    println!(
        "{}: objective {} bound {} gap {} in {:.1} s, {} committed, uplift {}",
        r.name,
        r.objective,
        r.best_bound,
        r.mip_gap,
        r.milp_seconds,
        r.committed_units,
        r.total_uplift
    );
    assert_eq!(r.status, "optimal");
    assert!(r.mip_gap <= 1e-4 + 1e-12);
    assert!(r.best_bound <= r.objective + 1e-6);
    for t in 0..input.periods {
        let thermal: f64 = r.units.iter().map(|u| u.output_mw[t]).sum();
        let renewable: f64 = r.renewable_mw.iter().map(|w| w.1[t]).sum();
        assert!((thermal + renewable - input.demand_mw[t]).abs() < 1e-5 * input.demand_mw[t]);
        let reserve: f64 = r.units.iter().map(|u| u.reserve_mw[t]).sum();
        assert!(reserve >= input.reserve_mw[t] - 1e-5);
    }
}
