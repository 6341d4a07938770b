//! The retail demo's month on the bundled data: at least 200 customers,
//! every one billed, the corrected meters re-rated and nothing else, the
//! re-import of a file a no-op, the refused file refused, and the company's
//! profit equal to revenue minus the reconciled purchase cost.
use std::path::Path;
use voltex_retail::demo::{DemoConfig, run};
use voltex_store::Store;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_month_bills_every_customer_and_rerates_the_corrected_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite_dir(dir.path()).await.unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let mut cfg = DemoConfig::new(data);
    cfg.customers = 200;
    let started = std::time::Instant::now();
    let mut lines = Vec::new();
    let s = run(store, &cfg, &mut |l| lines.push(l)).await.unwrap();
    eprintln!(
        "demo with 200 customers: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for l in &lines {
        eprintln!("  {l}");
    }
    assert_eq!(s.customers, 200);
    assert_eq!(s.invoices, 200);
    assert_eq!(s.rerated, 3);
    assert_eq!(s.reimport_changed, 0);
    assert_eq!(s.refused_file_violations, 2);
    assert!(s.first_import.estimated > 0, "the gaps were estimated");
    assert_eq!(s.correction.changed, 3 * 96);
    assert_eq!(s.profit.profit, s.profit.revenue - s.settlement.total_cost);
    assert_eq!(
        s.settlement.contract_cost + s.settlement.spot_cost,
        s.settlement.total_cost
    );
    assert!(s.example_explain.contains("supersedes v1"));
    // the demo is reproducible: the same seed gives the same month
    let dir2 = tempfile::tempdir().unwrap();
    let store2 = Store::open_sqlite_dir(dir2.path()).await.unwrap();
    let again = run(store2, &cfg, &mut |_| {}).await.unwrap();
    assert_eq!(again.profit.profit, s.profit.profit);
    assert_eq!(again.deviation_warnings, s.deviation_warnings);
}
