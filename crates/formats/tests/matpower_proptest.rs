//! Property tests of the MATPOWER reader: it never panics on arbitrary input,
//! and every case it writes reads back identically.

use proptest::prelude::*;
use voltex_formats::matpower::{
    CaseGenerator, GeneratorCost, MatpowerCase, parse_case, write_case,
};
use voltex_model::network::{Branch, Bus, BusKind, Network};

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e6..1e6f64,
        (-1000i32..1000).prop_map(f64::from),
        Just(0.0)
    ]
}

fn arb_case() -> impl Strategy<Value = MatpowerCase> {
    (2usize..8).prop_flat_map(|nb| {
        let buses = proptest::collection::vec((finite(), finite(), 0u32..5, 1u8..=4), nb);
        let branches = proptest::collection::vec(
            (0..nb, 1..nb, 0.001..1.0f64, 0.0..500.0f64, any::<bool>()),
            1..10,
        );
        let gens = proptest::collection::vec(
            (
                0..nb,
                0.0..100.0f64,
                0.0..0.1f64,
                0.0..50.0f64,
                proptest::option::of(0.0..10.0f64),
            ),
            1..5,
        );
        (buses, branches, gens).prop_map(move |(buses, branches, gens)| {
            let buses: Vec<Bus> = buses
                .into_iter()
                .enumerate()
                .map(|(i, (pd, qd, area, kind))| Bus {
                    id: (i as u32) * 3 + 1,
                    kind: BusKind::from_matpower_code(kind).unwrap(),
                    pd_mw: pd,
                    qd_mvar: qd,
                    gs_mw: 0.0,
                    bs_mvar: 0.5,
                    area,
                    vm_pu: 1.0,
                    va_deg: -3.25,
                    base_kv: 230.0,
                    zone: 1,
                    vmax_pu: 1.1,
                    vmin_pu: 0.9,
                })
                .collect();
            let branches = branches
                .into_iter()
                .map(|(f, d, x, rate, on)| Branch {
                    from_bus: buses[f].id,
                    to_bus: buses[(f + d) % nb].id,
                    r_pu: x / 10.0,
                    x_pu: x,
                    b_pu: 0.01,
                    rate_a_mw: rate,
                    rate_b_mw: 0.0,
                    rate_c_mw: 0.0,
                    tap_ratio: 0.0,
                    shift_deg: 0.0,
                    in_service: on,
                    angmin_deg: -30.0,
                    angmax_deg: 30.0,
                })
                .collect();
            let generators = gens
                .into_iter()
                .map(|(b, pmax, c2, c1, ramp)| CaseGenerator {
                    bus: buses[b].id,
                    pg_mw: pmax / 2.0,
                    qg: 0.0,
                    qmax: 10.0,
                    qmin: -10.0,
                    vg: 1.0,
                    mbase: 100.0,
                    in_service: true,
                    pmax_mw: pmax,
                    pmin_mw: 0.0,
                    ramp_agc: ramp,
                    ramp_10: ramp,
                    ramp_30: ramp,
                    cost: GeneratorCost::Polynomial {
                        startup: 0.0,
                        shutdown: 0.0,
                        coeffs: vec![c2, c1, 0.0],
                    },
                })
                .collect();
            MatpowerCase {
                network: Network {
                    name: "prop_case".into(),
                    base_mva: 100.0,
                    buses,
                    branches,
                    sections: vec![],
                    tie_lines: vec![],
                },
                generators,
            }
        })
    })
}

proptest! {
    #[test]
    fn parser_never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
        let _ = parse_case(&text);
    }

    #[test]
    fn parser_never_panics_on_mangled_matpower_like_text(
        body in proptest::collection::vec(prop_oneof![
            Just("mpc.bus = [".to_string()), Just("];".to_string()), Just("mpc.gen = [".to_string()),
            Just("mpc.branch = [".to_string()), Just("mpc.gencost = [".to_string()), Just("mpc.baseMVA = 100;".to_string()),
            Just("{".to_string()), Just("}".to_string()), Just("% c".to_string()), Just(";".to_string()),
            "[-0-9 .eE;,\\t]{0,40}".prop_map(|s| s),
        ], 0..30)
    ) {
        let _ = parse_case(&body.join("\n"));
    }

    #[test]
    fn written_cases_read_back_identically(case in arb_case()) {
        let text = write_case(&case);
        let back = parse_case(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, case);
    }
}
