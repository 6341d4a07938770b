//! `voltex retail decide --demo` end to end on the shipped real data, with
//! fewer customers than the command's default to stay quick.
use voltex_retail::decide::demo::{DecideConfig, customers, run};
use voltex_retail::decide::forecast::Method;

fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}

#[test]
fn the_demo_forecasts_bids_and_segments_real_customers() {
    let mut cfg = DecideConfig::new(data_dir());
    cfg.customers = 60;
    let out = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    let r = run(&cfg, out.path(), &mut |l| lines.push(l)).unwrap();
    assert_eq!(r.customers, 60);
    assert_eq!(r.forecast.customers.len(), 60);
    // the loads are measured-derived profiles with ±5 % jitter: a
    // sensible day-ahead forecast of the portfolio is within a few percent
    assert!(
        r.forecast.portfolio.wape_pct > 0.0 && r.forecast.portfolio.wape_pct < 10.0,
        "{:?}",
        r.forecast.portfolio
    );
    // aggregation cancels the independent jitter
    assert!(r.forecast.portfolio.wape_pct < r.forecast.customers_wape_pct);
    assert!(
        r.forecast.portfolio.rmae < 1.0,
        "beats last week's day: {:?}",
        r.forecast.portfolio
    );
    assert_eq!(r.forecast.chosen.values().sum::<usize>(), 60);
    assert!(
        r.forecast.customers.iter().all(
            |c| c.next_day.len() == 96 && c.next_day.iter().all(|v| v.is_finite() && *v >= 0.0)
        )
    );
    assert_eq!(r.month_ahead.next_days_kwh.len(), 30);
    assert!(
        r.month_ahead.backtest_wape_pct < 25.0,
        "{:?}",
        r.month_ahead.backtest_wape_pct
    );
    // the purchase plan: 96 curves, each non-increasing in price
    assert_eq!(r.purchase.intervals.len(), 96);
    for i in &r.purchase.intervals {
        assert!(
            i.steps
                .windows(2)
                .all(|w| w[0].price <= w[1].price && w[1].kwh <= w[0].kwh),
            "{i:?}"
        );
        assert!(i.gap_low_kwh <= i.gap_high_kwh);
    }
    assert!(r.purchase.suggested.cvar95_yuan >= r.purchase.suggested.expected_yuan);
    assert_eq!(r.backtest.days, 28);
    // segments named in both languages, every customer in one
    let seg = &r.segmentation;
    assert!((2..=6).contains(&seg.segments.len()));
    assert_eq!(seg.labels.len(), 60);
    assert_eq!(
        seg.segments
            .iter()
            .map(|s| s.customers.len())
            .sum::<usize>(),
        60
    );
    assert!(
        seg.segments
            .iter()
            .all(|s| !s.name_en.is_empty() && !s.name_zh.is_empty() && s.mean_bill.len() == 4)
    );
    for f in &r.files {
        let svg = std::fs::read_to_string(f).unwrap();
        assert!(svg.contains("<svg"), "{}", f.display());
    }
    assert!(lines.iter().any(|l| l.starts_with("forecast")), "{lines:?}");
}

#[test]
fn more_customers_than_the_roster_repeat_it_with_fresh_jitter() {
    let mut cfg = DecideConfig::new(data_dir());
    cfg.customers = 530;
    let c = customers(&cfg).unwrap();
    assert_eq!(c.len(), 530);
    assert_eq!(c[529].customer.id, "C0530");
    // C0008 and C0530 share a roster load but not their jitter
    let same_load = c
        .iter()
        .filter(|x| x.customer.name == c[529].customer.name)
        .count();
    assert!(same_load >= 2);
    let twin = c
        .iter()
        .find(|x| x.customer.name == c[529].customer.name)
        .unwrap();
    assert_ne!(twin.history.kwh[..96], c[529].history.kwh[..96]);
    assert_eq!(c[0].history.kwh.len(), 366 * 96);
    let _ = Method::ALL;
}

#[test]
fn a_forecast_day_without_enough_history_is_refused_naming_the_field() {
    let mut cfg = DecideConfig::new(data_dir());
    cfg.customers = 5;
    let out = tempfile::tempdir().unwrap();
    for day in ["2016-01-10", "2017-03-01"] {
        cfg.target = day.parse().unwrap();
        let err = run(&cfg, out.path(), &mut |_| {}).unwrap_err().to_string();
        assert!(
            err.contains("target") && err.contains("inside_the_history"),
            "{day}: {err}"
        );
    }
    assert!(
        std::fs::read_dir(out.path()).unwrap().next().is_none(),
        "nothing written"
    );
}
