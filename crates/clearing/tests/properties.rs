//! Properties of a 24-interval clearing on case30 (shipped) and case118
//! (shared data): power balance in every interval, flows within limits, ramp
//! limits respected, KKT stationarity and complementary slackness read from
//! the published prices, a single system price without congestion, and an
//! unaccepted offer whose price rises changes nothing.

use voltex_clearing::{
    ClearingInput, ClearingResult, ClearingSettings, FromCaseOptions, clear, load_shape,
};
use voltex_formats::datadir::{bundled_data_dir, shared_data_file};
use voltex_formats::matpower::parse_case_file;

fn day(
    path: &std::path::Path,
    settings: ClearingSettings,
    ramp_fraction: Option<f64>,
) -> ClearingInput {
    let case = parse_case_file(path).unwrap();
    let options = FromCaseOptions {
        intervals: 24,
        segments: 5,
        load_scale: load_shape::ISONE_2017_01_09.to_vec(),
        default_ramp_fraction: ramp_fraction,
        settings,
    };
    ClearingInput::from_case(&case, &options)
}

fn cases() -> Vec<std::path::PathBuf> {
    let mut v = vec![bundled_data_dir().join("cases/pglib_opf_case30_ieee.m")];
    match shared_data_file("pglib_opf/typ/pglib_opf_case118_ieee.m") {
        Some(p) => v.push(p),
        None => println!("skipped: case118 not found in the shared data folder; case30 only"),
    }
    v
}

fn check_balance_limits_ramps(input: &ClearingInput, r: &ClearingResult) {
    for (t, iv) in r.results.iter().enumerate() {
        let generation: f64 = iv.units.iter().map(|u| u.output_mw).sum();
        let served: f64 = iv.bids.iter().map(|b| b.served_mw).sum();
        let short: f64 = iv.shortfalls.iter().map(|s| s.mw).sum();
        let surplus: f64 = iv.surpluses.iter().map(|s| s.mw).sum();
        let load: f64 = (0..input.network.buses.len())
            .map(|b| input.fixed_load_mw(b, t))
            .sum();
        assert!(
            (generation + short - surplus - served - load).abs() < 1e-6 * load.max(1.0),
            "interval {}: balance off",
            t + 1
        );
        for b in &iv.branches {
            if let Some(hi) = b.max_flow_mw {
                assert!(
                    b.flow_mw <= hi + 1e-5 * hi.abs().max(1.0),
                    "interval {} branch {}: {} > {hi}",
                    t + 1,
                    b.index,
                    b.flow_mw
                );
            }
            if let Some(lo) = b.min_flow_mw {
                assert!(
                    b.flow_mw >= lo - 1e-5 * lo.abs().max(1.0),
                    "interval {} branch {}: {} < {lo}",
                    t + 1,
                    b.index,
                    b.flow_mw
                );
            }
        }
        if t > 0 {
            for (u, d) in iv.units.iter().enumerate() {
                let prev = &r.results[t - 1].units[u];
                if let Some(ru) = input.units[u].ramp_up_mw {
                    assert!(
                        d.output_mw - prev.output_mw <= ru + 1e-6,
                        "{} ramps up too fast",
                        d.unit
                    );
                }
                if let Some(rd) = input.units[u].ramp_down_mw {
                    assert!(
                        prev.output_mw - d.output_mw <= rd + 1e-6,
                        "{} ramps down too fast",
                        d.unit
                    );
                }
            }
        }
    }
}

fn check_kkt(input: &ClearingInput, r: &ClearingResult) {
    let tol = 1e-5;
    for (t, iv) in r.results.iter().enumerate() {
        // stationarity through the published marginal value (LMP + ramp duals)
        for (u, d) in iv.units.iter().enumerate() {
            if !d.on {
                continue;
            }
            for (seg, q) in input.offer(u, t).iter().zip(&d.segments_mw) {
                let width = seg.quantity_mw;
                if *q < width - 1e-7 {
                    assert!(
                        seg.price_per_mwh >= d.marginal_value_per_mwh - tol,
                        "interval {} {}: segment at {} not full though value {}",
                        t + 1,
                        d.unit,
                        seg.price_per_mwh,
                        d.marginal_value_per_mwh
                    );
                }
                if *q > 1e-7 {
                    assert!(
                        seg.price_per_mwh <= d.marginal_value_per_mwh + tol,
                        "interval {} {}: segment at {} used though value {}",
                        t + 1,
                        d.unit,
                        seg.price_per_mwh,
                        d.marginal_value_per_mwh
                    );
                }
            }
            // ramp dual complementary slackness: non-zero only when the ramp limit is reached
            if d.ramp_dual_per_mwh.abs() > 1e-6 && t > 0 {
                let step = d.output_mw - iv_prev(r, t, u);
                let ru = input.units[u].ramp_up_mw.unwrap_or(f64::INFINITY);
                let rd = input.units[u].ramp_down_mw.unwrap_or(f64::INFINITY);
                assert!(
                    (step - ru).abs() < 1e-5 || (step + rd).abs() < 1e-5,
                    "ramp dual without a binding ramp"
                );
            }
        }
        // complementary slackness and dual sign of network rows
        for b in &iv.branches {
            if b.binding {
                let at_hi = b
                    .max_flow_mw
                    .is_some_and(|hi| (b.flow_mw - hi).abs() < 1e-5 * hi.abs().max(1.0));
                let at_lo = b
                    .min_flow_mw
                    .is_some_and(|lo| (b.flow_mw - lo).abs() < 1e-5 * lo.abs().max(1.0));
                assert!(
                    at_hi || at_lo,
                    "branch {} has shadow price {} but flow {} is inside its limits",
                    b.index,
                    b.shadow_price_per_mwh,
                    b.flow_mw
                );
                // an upper limit binding has a negative row dual (cost falls when the limit rises)
                if at_hi && !at_lo {
                    assert!(b.dual_per_mwh < 0.0);
                }
                if at_lo && !at_hi {
                    assert!(b.dual_per_mwh > 0.0);
                }
            }
        }
    }
}

fn iv_prev(r: &ClearingResult, t: usize, u: usize) -> f64 {
    r.results[t - 1].units[u].output_mw
}

#[test]
fn day_ahead_balances_respects_limits_ramps_and_kkt() {
    for path in cases() {
        let input = day(&path, ClearingSettings::default(), Some(0.15));
        let r = clear(&input).unwrap();
        println!(
            "{}: objective {:.2}, rounds {}, binding {:?}",
            input.network.name,
            r.objective,
            r.stats.rounds.len(),
            r.summary()
        );
        assert!(r.results.iter().all(|i| i.shortfalls.is_empty()));
        check_balance_limits_ramps(&input, &r);
        check_kkt(&input, &r);
    }
}

#[test]
fn without_binding_branches_all_lmps_equal_the_system_marginal_offer() {
    for path in cases() {
        let settings = ClearingSettings {
            enforce_branch_limits: false,
            ..ClearingSettings::default()
        };
        let input = day(&path, settings, None);
        let r = clear(&input).unwrap();
        for (t, iv) in r.results.iter().enumerate() {
            let price = iv.lmp[0].lmp_per_mwh;
            assert!(
                iv.lmp.iter().all(|p| (p.lmp_per_mwh - price).abs() < 1e-7),
                "interval {}: prices differ",
                t + 1
            );
            // the system marginal offer: the price of a partly accepted segment, or, when
            // every segment is full or empty, a price between the dearest accepted and the
            // cheapest rejected segment
            let (mut accepted_max, mut rejected_min, mut partial) = (f64::MIN, f64::MAX, None);
            for (u, d) in iv.units.iter().enumerate() {
                for (seg, q) in input.offer(u, t).iter().zip(&d.segments_mw) {
                    if *q > 1e-7 {
                        accepted_max = accepted_max.max(seg.price_per_mwh);
                    }
                    if *q < seg.quantity_mw - 1e-7 {
                        rejected_min = rejected_min.min(seg.price_per_mwh);
                    }
                    if *q > 1e-7 && *q < seg.quantity_mw - 1e-7 {
                        partial = Some(seg.price_per_mwh);
                    }
                }
            }
            match partial {
                Some(p) => assert!(
                    (price - p).abs() < 1e-7,
                    "interval {}: LMP {price} vs marginal offer {p}",
                    t + 1
                ),
                None => assert!(price >= accepted_max - 1e-7 && price <= rejected_min + 1e-7),
            }
        }
    }
}

#[test]
fn raising_an_unaccepted_offer_changes_nothing() {
    for path in cases() {
        let mut input = day(&path, ClearingSettings::default(), Some(0.15));
        // a peaking unit offered far above any price of the day, so that a candidate always exists
        let mut peaker = input.units[0].clone();
        peaker.id = "peaker".into();
        peaker.pmin_mw = 0.0;
        peaker.pmax_mw = 50.0;
        peaker.quadratic_cost = None;
        peaker.offer = vec![voltex_clearing::OfferSegment {
            quantity_mw: 50.0,
            price_per_mwh: 900.0,
        }];
        input.units.push(peaker);
        let before = clear(&input).unwrap();
        // a unit with no accepted segment in any interval, whose offers are above every LMP at its bus
        let candidate = (0..input.units.len()).find(|&u| {
            before.results.iter().enumerate().all(|(t, iv)| {
                let d = &iv.units[u];
                let lmp = iv.lmp.iter().find(|p| p.bus == d.bus).unwrap().lmp_per_mwh;
                d.segments_mw.iter().all(|q| *q < 1e-9)
                    && input
                        .offer(u, t)
                        .first()
                        .is_some_and(|s| s.price_per_mwh > lmp + 1e-6)
            })
        });
        let Some(u) = candidate else {
            println!(
                "{}: every unit is used at some hour; nothing to test",
                input.network.name
            );
            continue;
        };
        for s in &mut input.units[u].offer {
            s.price_per_mwh += 25.0;
        }
        let after = clear(&input).unwrap();
        assert!((after.objective - before.objective).abs() < 1e-7 * before.objective.abs());
        for (a, b) in after.results.iter().zip(&before.results) {
            for (x, y) in a.lmp.iter().zip(&b.lmp) {
                assert!((x.lmp_per_mwh - y.lmp_per_mwh).abs() < 1e-6);
            }
            for (x, y) in a.units.iter().zip(&b.units) {
                assert!((x.output_mw - y.output_mw).abs() < 1e-6);
            }
        }
    }
}
