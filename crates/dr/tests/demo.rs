//! The demo on the shipped data: 20 resources, one event, a sensible
//! summary (something delivered and paid, every refusal explained, the
//! money adding up, the chart written).
use std::path::PathBuf;
use voltex_dr::demo::{DemoConfig, backtest_table, run, summary_line};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

#[test]
fn demo_runs_on_the_shipped_data_and_delivers_energy() {
    let out = std::env::temp_dir().join(format!("voltex-dr-demo-{}", std::process::id()));
    let mut cfg = DemoConfig::new(data_dir());
    cfg.out_dir = Some(out.clone());
    let t = std::time::Instant::now();
    let s = run(cfg).unwrap();
    eprintln!("{} ({:.1} s)", summary_line(&s), t.elapsed().as_secs_f64());
    eprintln!("{}", backtest_table(&s));
    assert_eq!(s.resources, 20);
    assert_eq!(s.events, 1);
    assert!(s.delivered_wh > 0);
    // each resource curtails at most 110 % of its dispatch; the baselines'
    // errors may add to that, but not double it
    assert!(s.delivered_wh < 2 * s.dispatched_wh, "{}", s.delivered_wh);
    assert_eq!(s.performances.len(), s.allocation.dispatched_kw.len());
    assert!(
        s.performances
            .iter()
            .all(|p| p.expected_error_pct.is_finite())
    );
    assert!(s.payments.0 > 0);
    assert_eq!(
        s.payments,
        s.energy_payments + s.capacity_payments - s.penalties
    );
    assert_eq!(s.statements.len(), 20, "one statement per customer");
    assert_eq!(s.opted_in + s.refused.len(), 20);
    assert!(!s.refused.is_empty(), "the demo shows refusals");
    assert_eq!(
        s.allocation.allocated_kw + s.allocation.shortfall_kw,
        s.allocation.target_kw
    );
    assert_eq!(s.backtests.len(), 20);
    assert!(!s.baseline_methods.is_empty());
    let line = summary_line(&s);
    assert!(
        line.starts_with("dr demo: resources=20 events=1 baseline_methods="),
        "{line}"
    );
    let svg = std::fs::read_to_string(s.svg.as_ref().unwrap()).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("baseline"));
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn summary_line_has_the_cli_format() {
    let mut cfg = DemoConfig::new(data_dir());
    cfg.commercial = 3;
    cfg.households = 1;
    let s = run(cfg).unwrap();
    let line = summary_line(&s);
    let fields: Vec<&str> = line.split(' ').collect();
    assert_eq!(fields[0..2], ["dr", "demo:"]);
    assert_eq!(fields[2], "resources=4");
    let mwh = fields[5].strip_prefix("delivered_mwh=").unwrap();
    assert_eq!(mwh.split('.').nth(1).map(str::len), Some(3), "{line}");
    let yuan = fields[6].strip_prefix("payments_yuan=").unwrap();
    assert_eq!(yuan.split('.').nth(1).map(str::len), Some(2), "{line}");
    assert!(s.svg.is_none(), "no chart without an output folder");
}
