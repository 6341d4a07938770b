//! The perfect-foresight LP is an upper bound for every baseline on real data.

use voltex_agent::baselines::{AllDayAhead, AllRealTime, PreviousDayRule, RandomPolicy};
use voltex_agent::data::load_bundled;
use voltex_agent::oracle::OraclePolicy;
use voltex_agent::{
    EnvConfig, Market, MarketSeries, Policy, PreparedMarket, Span, Split, run_policy,
};

fn check_bound(m: &PreparedMarket, span: Span) {
    let mut oracle = OraclePolicy::solve(m, span).unwrap();
    let ep = run_policy(m, span, &mut oracle);
    let oracle_profit = ep.total_profit();
    // The oracle's LP actions are feasible: replaying them changes nothing.
    let k = m.series.steps_per_day();
    for s in &ep.steps {
        if (s.t + 1) % k == 0 {
            assert_eq!(s.storage_mwh, 0.0);
        }
    }
    let policies: Vec<(&str, Box<dyn Policy>)> = vec![
        ("all-DA", Box::new(AllDayAhead) as Box<dyn Policy>),
        ("all-RT", Box::new(AllRealTime) as Box<dyn Policy>),
        ("rule", Box::new(PreviousDayRule) as Box<dyn Policy>),
        ("random", Box::new(RandomPolicy::new(3)) as Box<dyn Policy>),
    ];
    for (name, mut p) in policies {
        let profit = run_policy(m, span, p.as_mut()).total_profit();
        assert!(
            profit <= oracle_profit + 1e-6 * oracle_profit.abs(),
            "{name} earns {profit} > oracle {oracle_profit}"
        );
    }
    // Day by day too: the oracle is optimal for each day separately.
    let mut rule = run_policy(m, span, &mut PreviousDayRule).steps.into_iter();
    for day in ep.steps.chunks(k) {
        let o: f64 = day.iter().map(|s| s.profit).sum();
        let r: f64 = rule.by_ref().take(k).map(|s| s.profit).sum();
        assert!(
            r <= o + 1e-6 * o.abs().max(1.0),
            "day at {}: rule {r} > oracle {o}",
            day[0].t
        );
    }
}

#[test]
fn oracle_bounds_every_baseline_on_shipped_real_data() {
    for market in [Market::Isone, Market::Aemo] {
        let s = load_bundled(market).unwrap();
        let m = PreparedMarket::new(s, EnvConfig::for_market(market), Split::All).unwrap();
        check_bound(&m, m.span(Split::All).unwrap());
    }
}

#[test]
fn oracle_bounds_every_baseline_on_the_shared_test_spans() {
    for market in [Market::Isone, Market::Aemo] {
        let s = match MarketSeries::load_shared(market) {
            Ok(s) => s,
            Err(e) => {
                println!("skipped: shared data not found ({e})");
                return;
            }
        };
        let m = PreparedMarket::new(s, EnvConfig::for_market(market), Split::Train).unwrap();
        check_bound(&m, m.span(Split::Test).unwrap());
    }
}
