//! The clearing benchmark without the CLI (same code as `voltex bench clearing`):
//! `cargo run --release -p voltex-clearing --example bench_clearing [case ...]`.

use voltex_clearing::bench::{TABLE_HEADER, bench_case};
use voltex_formats::datadir::shared_data_file;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
        for t in [1, 24] {
            match bench_case(&path, &name, t, &mut |_| {}) {
                Ok(row) => println!("{}", row.table_row()),
                Err(e) => println!("| {name} | {t} | failed: {e} |"),
            }
        }
    }
}
