//! The PJM 5-bus case (PGLib case5_pjm, F. Li and R. Bo 2010) with its
//! linear costs. Brighton (bus 5, 600 MW at 10 $/MWh) is the cheapest unit,
//! but its power reaches the 1000 MW of load at buses 2–4 over the 240 MW
//! line 4–5, which congests (flow 240 MW from 5 to 4). Brighton is backed
//! off (466.5 MW) and Solitude (bus 3, 30 $/MWh) runs instead, so prices
//! separate: with two marginal units (Brighton at bus 5, Solitude at bus 3)
//! every other bus's LMP is the combination of 10 and 30 $/MWh that serves
//! one more MW there without loading line 4–5 further. The results are the
//! published ones of Li and Bo: 16.98, 26.38, 30.00, 39.94, 10.00 $/MWh.

use voltex_clearing::{
    ClearingInput, ClearingResult, ClearingSettings, CostMode, FromCaseOptions, clear,
};
use voltex_formats::datadir::bundled_data_dir;
use voltex_formats::matpower::parse_case_file;

fn pjm5(mode: CostMode) -> (ClearingInput, ClearingResult) {
    let case = parse_case_file(bundled_data_dir().join("cases/pglib_opf_case5_pjm.m")).unwrap();
    let settings = ClearingSettings {
        cost_mode: mode,
        ..ClearingSettings::default()
    };
    let input = ClearingInput::from_case(
        &case,
        &FromCaseOptions {
            intervals: 1,
            settings,
            ..FromCaseOptions::default()
        },
    );
    let r = clear(&input).unwrap();
    (input, r)
}

#[test]
fn pjm5_prices_separate_because_lines_congest() {
    let (input, r) = pjm5(CostMode::Steps);
    let iv = &r.results[0];
    for p in &iv.lmp {
        println!(
            "bus {}: LMP {:.4} = energy {:.4} + congestion {:.4}",
            p.bus, p.lmp_per_mwh, p.energy_per_mwh, p.congestion_per_mwh
        );
    }
    for u in &iv.units {
        println!("{} at bus {}: {:.3} MW", u.unit, u.bus, u.output_mw);
    }
    for b in iv.branches.iter().filter(|b| b.binding) {
        println!(
            "binding {}-{}: flow {:.3}, shadow {:.4}",
            b.from_bus, b.to_bus, b.flow_mw, b.shadow_price_per_mwh
        );
    }
    // congestion: exactly the 240 MW line 4-5 binds, flowing from bus 5 to bus 4
    let binding: Vec<(u32, u32)> = iv
        .branches
        .iter()
        .filter(|b| b.binding)
        .map(|b| (b.from_bus, b.to_bus))
        .collect();
    assert_eq!(binding, vec![(4, 5)]);
    let line45 = iv.branches.iter().find(|b| b.binding).unwrap();
    assert!((line45.flow_mw + 240.0).abs() < 1e-6);
    // the published LMPs of the PJM 5-bus example (Li and Bo 2010), to the cent
    let lmp_of = |bus: u32| iv.lmp.iter().find(|p| p.bus == bus).unwrap().lmp_per_mwh;
    for (bus, published) in [(1, 16.98), (2, 26.38), (3, 30.00), (4, 39.94), (5, 10.00)] {
        assert!(
            (lmp_of(bus) - published).abs() < 0.005,
            "bus {bus}: {} vs published {published}",
            lmp_of(bus)
        );
    }
    // prices separate: spread of more than 10 $/MWh across the buses
    let lmp = |bus: u32| iv.lmp.iter().find(|p| p.bus == bus).unwrap().lmp_per_mwh;
    let (min, max) = iv.lmp.iter().fold((f64::MAX, f64::MIN), |(a, b), p| {
        (a.min(p.lmp_per_mwh), b.max(p.lmp_per_mwh))
    });
    assert!(max - min > 10.0, "prices do not separate: {min}..{max}");
    // every price is explained by a marginal unit: a unit strictly between its limits
    // sets the LMP of its bus to its offer price (linear costs: one price per unit)
    for (u, d) in iv.units.iter().enumerate() {
        let unit = &input.units[u];
        let price = input.offer(u, 0)[0].price_per_mwh;
        if d.output_mw > unit.pmin_mw + 1e-6 && d.output_mw < unit.pmax_mw - 1e-6 {
            assert!(
                (lmp(d.bus) - price).abs() < 1e-6,
                "{} is marginal at {price} but LMP is {}",
                d.unit,
                lmp(d.bus)
            );
        } else if d.output_mw >= unit.pmax_mw - 1e-6 {
            assert!(
                lmp(d.bus) >= price - 1e-6,
                "{} at pmax but LMP {} below its price {price}",
                d.unit,
                lmp(d.bus)
            );
        } else {
            assert!(
                lmp(d.bus) <= price + 1e-6,
                "{} at pmin but LMP {} above its price {price}",
                d.unit,
                lmp(d.bus)
            );
        }
    }
    // decomposition: energy is the reference-bus price (bus 4 is the reference), loss is 0
    for p in &iv.lmp {
        assert!(
            (p.energy_per_mwh + p.congestion_per_mwh + p.loss_per_mwh - p.lmp_per_mwh).abs() < 1e-9
        );
        assert_eq!(p.loss_per_mwh, 0.0);
        assert!((p.energy_per_mwh - lmp(4)).abs() < 1e-9);
    }
    // congestion rent: what loads pay minus what generators earn equals Σ shadow price × flow limit
    let paid: f64 = input
        .network
        .buses
        .iter()
        .map(|b| lmp(b.id) * input.fixed_load_mw(input.network.bus_index()[&b.id], 0))
        .sum();
    let earned: f64 = iv.units.iter().map(|u| lmp(u.bus) * u.output_mw).sum();
    let rent: f64 = iv
        .branches
        .iter()
        .filter(|b| b.binding)
        .map(|b| b.shadow_price_per_mwh * b.flow_mw.abs())
        .sum();
    assert!(
        (paid - earned - rent).abs() < 1e-4 * paid,
        "paid {paid} earned {earned} rent {rent}"
    );
}

#[test]
fn pjm5_step_and_polynomial_modes_agree_for_linear_costs() {
    let (_, steps) = pjm5(CostMode::Steps);
    let (_, poly) = pjm5(CostMode::Polynomial);
    assert!((steps.objective - poly.objective).abs() < 1e-6 * poly.objective);
    for (a, b) in steps.results[0].lmp.iter().zip(&poly.results[0].lmp) {
        assert!((a.lmp_per_mwh - b.lmp_per_mwh).abs() < 1e-6);
    }
}

#[test]
fn without_line_limits_one_price_everywhere() {
    let case = parse_case_file(bundled_data_dir().join("cases/pglib_opf_case5_pjm.m")).unwrap();
    let settings = ClearingSettings {
        enforce_branch_limits: false,
        ..ClearingSettings::default()
    };
    let input = ClearingInput::from_case(
        &case,
        &FromCaseOptions {
            intervals: 1,
            settings,
            ..FromCaseOptions::default()
        },
    );
    let r = clear(&input).unwrap();
    let first = r.results[0].lmp[0].lmp_per_mwh;
    assert!(
        r.results[0]
            .lmp
            .iter()
            .all(|p| (p.lmp_per_mwh - first).abs() < 1e-9 && p.congestion_per_mwh.abs() < 1e-9)
    );
    // 1000 MW of load: Brighton (600 MW at 10) and Alta (40 at 14) and Park City (170 at 15) run,
    // Solitude (520 at 30) is marginal
    assert!((first - 30.0).abs() < 1e-9, "copper-plate price {first}");
}

#[test]
fn section_limit_binds_and_prices_like_a_line() {
    use voltex_model::network::Section;
    let case = parse_case_file(bundled_data_dir().join("cases/pglib_opf_case5_pjm.m")).unwrap();
    let mut input = ClearingInput::from_case(&case, &FromCaseOptions::default());
    // the corridor from Brighton: lines 1-5 (index 2) and 4-5 (index 5), both directed into bus 5
    input.network.sections.push(Section {
        name: "brighton-export".into(),
        members: vec![(2, 1), (5, 1)],
        limit_mw: 400.0,
    });
    let r = clear(&input).unwrap();
    let iv = &r.results[0];
    let sec = &iv.sections[0];
    println!(
        "section flow {} shadow {}",
        sec.flow_mw, sec.shadow_price_per_mwh
    );
    assert!(sec.binding && sec.shadow_price_per_mwh > 0.0);
    assert!((sec.flow_mw.abs() - 400.0).abs() < 1e-6);
    let brighton = iv.units.iter().find(|u| u.bus == 5).unwrap().output_mw;
    assert!(
        (brighton - 400.0).abs() < 1e-6,
        "Brighton can export only 400 MW: {brighton}"
    );
    // the B-theta cross-check models sections independently and must agree
    let cc = voltex_clearing::crosscheck::cross_check(&input).unwrap();
    assert!((cc.objective - r.objective).abs() < 1e-6 * r.objective);
    for (p, q) in iv.lmp.iter().zip(&cc.lmp[0]) {
        assert!((p.lmp_per_mwh - q).abs() < 1e-6 * p.lmp_per_mwh.abs().max(1.0));
    }
}
