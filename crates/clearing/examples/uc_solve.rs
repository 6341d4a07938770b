//! The unit-commitment run without the CLI (same code as `voltex uc solve`):
//! `cargo run --release -p voltex-clearing --example uc_solve -- FILE [gap]`.

use std::time::Instant;

use voltex_clearing::uc::pglib::read_pglib_uc;
use voltex_clearing::uc::solve_uc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: uc_solve FILE [gap]");
        std::process::exit(2);
    };
    let started = Instant::now();
    let mut input = read_pglib_uc(std::path::Path::new(path)).expect("readable case");
    if let Some(g) = args.get(1) {
        input.settings.mip_gap = g.parse().expect("gap is a number");
    }
    match solve_uc(&input) {
        Ok(r) => println!(
            "{}: MILP {:.2} s, pricing {:.2} s, bound {:.2}, uplift {:.2}\nuc: objective={:.2} gap={:.6} seconds={:.3} committed_units={}",
            r.name,
            r.milp_seconds,
            r.pricing_seconds,
            r.best_bound,
            r.total_uplift,
            r.objective,
            r.mip_gap,
            started.elapsed().as_secs_f64(),
            r.committed_units
        ),
        Err(e) => println!("{path}: {e}"),
    }
}
