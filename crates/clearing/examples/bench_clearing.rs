//! The clearing benchmark without the CLI (same code as `voltex bench clearing`):
//! `cargo run --release -p voltex-clearing --example bench_clearing [--n-1] [case ...]`
//! (`--n-1`: the 24-interval N-1 secure run and its `n-1 sced:` line, as
//! `voltex bench clearing --n-1`).

use voltex_clearing::bench::{TABLE_HEADER, bench_case, bench_case_n1};
use voltex_formats::datadir::shared_data_file;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let n1 = args.iter().any(|a| a == "--n-1");
    args.retain(|a| a != "--n-1");
    let cases: Vec<String> = if args.is_empty() {
        ["case118", "case1354_pegase", "case2869_pegase", "case9241"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args
    };
    println!("{TABLE_HEADER}");
    for name in cases {
        let rel = match name.as_str() {
            "case9241" => "pglib_opf/matpower/case9241pegase.m".to_string(),
            "case118" => "pglib_opf/typ/pglib_opf_case118_ieee.m".to_string(),
            n if n.ends_with("__api") => format!("pglib_opf/api/pglib_opf_{n}.m"),
            n => format!("pglib_opf/typ/pglib_opf_{n}.m"),
        };
        let Some(path) = shared_data_file(&rel) else {
            println!("skipped: {rel} not found");
            continue;
        };
        if n1 {
            match bench_case_n1(&path, &name, 24, &mut |r| {
                eprintln!(
                    "round {}: {} violations, +{} rows, solve {:.0} ms",
                    r.round, r.violations, r.added_rows, r.solve_ms
                )
            }) {
                Ok(row) => println!(
                    "{}\nunserved load or over-generation {:.3} MWh\n{}",
                    row.table_row(),
                    row.shortfall_mwh,
                    row.n1_line()
                ),
                Err(e) => println!("| {name} | 24 | failed: {e} |"),
            }
            continue;
        }
        for t in [1, 24] {
            match bench_case(&path, &name, t, &mut |_| {}) {
                Ok(row) => println!("{}", row.table_row()),
                Err(e) => println!("| {name} | {t} | failed: {e} |"),
            }
        }
    }
}
