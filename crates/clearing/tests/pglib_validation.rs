//! Validation of the engine against published DC-OPF results: single
//! interval, polynomial cost mode, PGLib-OPF v23.07 typ cases, objective
//! within 1e-4 relative of the DC column of BASELINE.md (PowerModels
//! DCPPowerModel + Ipopt). The three small cases are shipped in data/cases;
//! the larger ones come from the shared data folder (skipped without it;
//! case1354/2383/2869 run in the benchmark-sized test below, still seconds).

use voltex_clearing::{ClearingInput, ClearingSettings, CostMode, FromCaseOptions, clear};
use voltex_formats::datadir::{bundled_data_dir, shared_data_file};
use voltex_formats::matpower::parse_case_file;

fn polynomial_single_interval(path: &std::path::Path) -> ClearingInput {
    let case = parse_case_file(path).unwrap();
    let settings = ClearingSettings {
        cost_mode: CostMode::Polynomial,
        ..ClearingSettings::default()
    };
    ClearingInput::from_case(
        &case,
        &FromCaseOptions {
            intervals: 1,
            settings,
            ..FromCaseOptions::default()
        },
    )
}

fn assert_matches_baseline(input: &ClearingInput, baseline: f64) {
    let r = clear(input).unwrap();
    let rel = (r.objective - baseline).abs() / baseline;
    println!(
        "{}: objective {:.4}, baseline {baseline:.4e}, rel. diff {rel:.2e}, rounds {}",
        input.network.name,
        r.objective,
        r.stats.rounds.len()
    );
    assert!(
        rel < 1e-4,
        "{}: objective {} vs baseline {baseline} (rel {rel:e})",
        input.network.name,
        r.objective
    );
    assert!(r.results[0].shortfalls.is_empty());
}

#[test]
fn shipped_small_cases_match_pglib_dc_baseline() {
    for (name, baseline) in [
        ("pglib_opf_case5_pjm", 1.7480e4),
        ("pglib_opf_case14_ieee", 2.0515e3),
        ("pglib_opf_case30_ieee", 7.4728e3),
    ] {
        let input = polynomial_single_interval(&bundled_data_dir().join(format!("cases/{name}.m")));
        assert_matches_baseline(&input, baseline);
    }
}

#[test]
fn shared_typ_cases_match_pglib_dc_baseline() {
    let cases = [
        ("pglib_opf_case118_ieee", 9.3101e4),
        ("pglib_opf_case300_ieee", 5.1785e5),
        ("pglib_opf_case1354_pegase", 1.2182e6),
        ("pglib_opf_case2383wp_k", 1.8041e6),
        ("pglib_opf_case2869_pegase", 2.3864e6),
    ];
    for (name, baseline) in cases {
        let Some(path) = shared_data_file(format!("pglib_opf/typ/{name}.m")) else {
            println!("skipped: pglib_opf/typ/{name}.m not found in the shared data folder");
            continue;
        };
        assert_matches_baseline(&polynomial_single_interval(&path), baseline);
    }
}
