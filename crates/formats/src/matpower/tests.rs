//! Tests of the MATPOWER reader and writer on small hand-written cases.

use super::*;
use voltex_model::network::BusKind;

const TINY: &str = "function mpc = tiny
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
\t1\t3\t0\t0\t0\t0\t1\t1\t0\t230\t1\t1.1\t0.9;
\t2\t1\t50\t10\t0\t0\t1\t1\t0\t230\t1\t1.1\t0.9; % load bus
];
mpc.gen = [1 0 0 10 -10 1 100 1 80 5];
mpc.branch = [
\t1, 2, 0.01, 0.1, 0, 60, 0, 0, 0, 0, 1, -30, 30
];
mpc.bus_name = {
\t'one';
\t'two';
};
mpc.gencost = [
\t2\t0\t0\t3\t0.01\t20\t0;
];
";

#[test]
fn reads_a_minimal_case_with_comments_commas_and_cell_arrays() {
    let c = parse_case(TINY).unwrap();
    assert_eq!(c.network.name, "tiny");
    assert_eq!(c.network.buses.len(), 2);
    assert_eq!(c.network.buses[0].kind, BusKind::Reference);
    assert_eq!(c.network.branches[0].rate_a_mw, 60.0);
    assert_eq!(c.generators[0].pmax_mw, 80.0);
    assert_eq!(c.generators[0].ramp_agc, None);
    assert_eq!(
        c.generators[0].cost,
        GeneratorCost::Polynomial {
            startup: 0.0,
            shutdown: 0.0,
            coeffs: vec![0.01, 20.0, 0.0]
        }
    );
    assert!((c.generators[0].cost.marginal_cost_at(10.0) - 20.2).abs() < 1e-12);
}

#[test]
fn bad_number_points_at_line_and_column() {
    let text = TINY.replace("0.01, 0.1", "0.01, 0.x1");
    match parse_case(&text).unwrap_err() {
        MatpowerError::BadNumber {
            line,
            column,
            table,
            ..
        } => {
            assert_eq!(line, 10);
            assert_eq!(column, 14);
            assert_eq!(table, "branch");
        }
        e => panic!("unexpected {e}"),
    }
}

#[test]
fn unknown_bus_in_branch_is_reported_with_its_line() {
    let text = TINY.replace("\t1, 2, 0.01", "\t1, 7, 0.01");
    let err = parse_case(&text).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("line 10: branch 0 (1->7): to bus 7 does not exist"),
        "{msg}"
    );
}

#[test]
fn unclosed_matrix_is_a_syntax_error() {
    let text = TINY.replace("];\nmpc.bus_name", "\nmpc.bus_name");
    assert!(matches!(
        parse_case(&text),
        Err(MatpowerError::Syntax { .. }) | Err(MatpowerError::BadNumber { .. })
    ));
}

#[test]
fn missing_gen_table_is_named() {
    let text = TINY.replace("mpc.gen = [1 0 0 10 -10 1 100 1 80 5];", "");
    assert_eq!(
        parse_case(&text).unwrap_err(),
        MatpowerError::MissingTable("gen")
    );
}

#[test]
fn written_case_reads_back_identically() {
    let c = parse_case(TINY).unwrap();
    assert_eq!(parse_case(&write_case(&c)).unwrap(), c);
}

#[test]
fn piecewise_cost_evaluates_between_points() {
    let c = GeneratorCost::PiecewiseLinear {
        startup: 0.0,
        shutdown: 0.0,
        points: vec![(0.0, 0.0), (10.0, 100.0), (20.0, 300.0)],
    };
    assert_eq!(c.cost_at(15.0), 200.0);
    assert_eq!(c.marginal_cost_at(15.0), 20.0);
    assert_eq!(c.marginal_cost_at(5.0), 10.0);
}
