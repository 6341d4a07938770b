//! The demo on the shipped data: 20 resources, one event, a sensible
//! summary (something delivered and paid, every refusal explained, the
//! chart written).
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
    eprintln!(
        "event {} {}–{}, opted in {}, refused {:?}",
        s.event_day, s.event_start, s.event_end, s.opted_in, s.refused
    );
    eprintln!("allocation {:?}", s.allocation);
    eprintln!("{}", backtest_table(&s));
    for (id, b) in &s.backtests {
        eprintln!(
            "{id}: {} rrmse {:.2} % bias {:+.2} % skipped {}",
            b.chosen, b.expected_error_pct, b.expected_bias_pct, b.skipped_days
        );
    }
    for p in &s.performances {
        eprintln!(
            "{} kw {} dispatched {} delivered {} perf {:?} pay {} pen {}",
            p.resource_id,
            p.dispatched_kw,
            p.dispatched_wh,
            p.delivered_wh,
            p.performance,
            p.energy_payment,
            p.penalty
        );
    }
    assert_eq!(s.resources, 20);
    assert_eq!(s.events, 1);
    assert!(s.delivered_wh > 0);
    assert!(s.payments.0 > 0);
    assert_eq!(s.opted_in + s.refused.len(), 20);
    assert!(!s.refused.is_empty(), "the demo shows refusals");
    assert_eq!(
        s.allocation.allocated_kw + s.allocation.shortfall_kw,
        s.allocation.target_kw
    );
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
