//! Writing a case back as MATPOWER text (version 2), numbers in shortest
//! round-trip form so that reading it gives the same case.

use super::{GeneratorCost, MatpowerCase};

/// Write a case in MATPOWER format (version 2). Numbers are written in Rust's
/// shortest round-trip form, so `parse_case(&write_case(c))` gives `c` back.
pub fn write_case(case: &MatpowerCase) -> String {
    use std::fmt::Write;
    let n = &case.network;
    let mut s = String::new();
    let fname = if n.name.is_empty() { "case" } else { &n.name };
    let _ = writeln!(s, "function mpc = {fname}");
    let _ = writeln!(s, "mpc.version = '2';");
    let _ = writeln!(s, "mpc.baseMVA = {};", num(n.base_mva));
    let _ = writeln!(
        s,
        "\n%% bus data\n%\tbus_i\ttype\tPd\tQd\tGs\tBs\tarea\tVm\tVa\tbaseKV\tzone\tVmax\tVmin"
    );
    let _ = writeln!(s, "mpc.bus = [");
    for b in &n.buses {
        let _ = writeln!(
            s,
            "\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{};",
            b.id,
            b.kind.matpower_code(),
            num(b.pd_mw),
            num(b.qd_mvar),
            num(b.gs_mw),
            num(b.bs_mvar),
            b.area,
            num(b.vm_pu),
            num(b.va_deg),
            num(b.base_kv),
            b.zone,
            num(b.vmax_pu),
            num(b.vmin_pu)
        );
    }
    let _ = writeln!(s, "];\n\n%% generator data\nmpc.gen = [");
    for g in &case.generators {
        let mut cols = vec![
            g.bus.to_string(),
            num(g.pg_mw),
            num(g.qg),
            num(g.qmax),
            num(g.qmin),
            num(g.vg),
            num(g.mbase),
            if g.in_service { "1".into() } else { "0".into() },
            num(g.pmax_mw),
            num(g.pmin_mw),
        ];
        if g.ramp_agc.is_some() || g.ramp_10.is_some() || g.ramp_30.is_some() {
            cols.extend(std::iter::repeat_n("0".to_string(), 6));
            for r in [g.ramp_agc, g.ramp_10, g.ramp_30] {
                cols.push(num(r.unwrap_or(0.0)));
            }
        }
        let _ = writeln!(s, "\t{};", cols.join("\t"));
    }
    let _ = writeln!(s, "];\n\n%% branch data\nmpc.branch = [");
    for b in &n.branches {
        let _ = writeln!(
            s,
            "\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{};",
            b.from_bus,
            b.to_bus,
            num(b.r_pu),
            num(b.x_pu),
            num(b.b_pu),
            num(b.rate_a_mw),
            num(b.rate_b_mw),
            num(b.rate_c_mw),
            num(b.tap_ratio),
            num(b.shift_deg),
            u8::from(b.in_service),
            num(b.angmin_deg),
            num(b.angmax_deg)
        );
    }
    let _ = writeln!(s, "];\n\n%% generator cost data\nmpc.gencost = [");
    for g in &case.generators {
        let row = match &g.cost {
            GeneratorCost::Polynomial {
                startup,
                shutdown,
                coeffs,
            } => {
                let mut r = vec![
                    "2".to_string(),
                    num(*startup),
                    num(*shutdown),
                    coeffs.len().to_string(),
                ];
                r.extend(coeffs.iter().map(|c| num(*c)));
                r
            }
            GeneratorCost::PiecewiseLinear {
                startup,
                shutdown,
                points,
            } => {
                let mut r = vec![
                    "1".to_string(),
                    num(*startup),
                    num(*shutdown),
                    points.len().to_string(),
                ];
                for (x, y) in points {
                    r.push(num(*x));
                    r.push(num(*y));
                }
                r
            }
        };
        let _ = writeln!(s, "\t{};", row.join("\t"));
    }
    let _ = writeln!(s, "];");
    s
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v:?}")
    }
}
