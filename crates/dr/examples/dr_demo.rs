//! Runs the demand-response demo as the CLI will and prints its summary
//! line and the back-test table that docs/demand-response.md quotes:
//! `cargo run --release -p voltex-dr --example dr_demo -- [data_dir] [out_dir]`.
use std::path::PathBuf;
use voltex_dr::demo::{DemoConfig, backtest_table, run, summary_line};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let data = args
        .next()
        .map_or_else(|| PathBuf::from("data"), PathBuf::from);
    let mut cfg = DemoConfig::new(data);
    cfg.out_dir = Some(
        args.next()
            .map_or_else(|| PathBuf::from("out"), PathBuf::from),
    );
    let t = std::time::Instant::now();
    let s = run(cfg)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "event {} {}–{}: target {} kW, allocated {} kW, shortfall {} kW; {} opted in, {} refused",
        s.event_day,
        s.event_start.format("%H:%M"),
        s.event_end.format("%H:%M"),
        s.allocation.target_kw,
        s.allocation.allocated_kw,
        s.allocation.shortfall_kw,
        s.opted_in,
        s.refused.len()
    );
    for r in &s.refused {
        println!("  refused: {r}");
    }
    println!(
        "dispatched {} kWh, delivered {} kWh; energy {} + capacity {} − penalties {} yuan",
        voltex_dr::money::kwh_string(s.dispatched_wh),
        voltex_dr::money::kwh_string(s.delivered_wh),
        s.energy_payments,
        s.capacity_payments,
        s.penalties
    );
    print!("{}", backtest_table(&s));
    if let Some(p) = &s.svg {
        println!("chart: {}", p.display());
    }
    println!("run: {secs:.2} s");
    println!("{}", summary_line(&s));
    Ok(())
}
