//! The equilibrium certificate: regrets of a deliberately wrong price vector,
//! seed independence of the certified equilibrium under logit choice, and
//! the threshold rule's honest non-convergence.
mod common;

use voltex_pricing::choice::ChoiceModel;
use voltex_pricing::market::{CompetitionSettings, Market, MarketSettings};
use voltex_pricing::tou::{TouPrices, TouSchedule};

fn market(choice: ChoiceModel, prices: Vec<TouPrices>) -> Market {
    Market::new(
        common::synthetic_consumers(300, 5),
        TouSchedule::standard(),
        common::synthetic_scenarios(30, 5),
        MarketSettings {
            choice,
            ..MarketSettings::default()
        },
        prices,
    )
    .unwrap()
}

fn start(level: f64) -> Vec<TouPrices> {
    vec![
        TouPrices::new(level + 0.2, level, level - 0.2),
        TouPrices::new(level + 0.1, level + 0.05, level - 0.1),
        TouPrices::new(level + 0.3, level - 0.05, level - 0.25),
    ]
}

fn competition(seed: u64) -> CompetitionSettings {
    CompetitionSettings {
        seed,
        ..CompetitionSettings::default()
    }
}

#[test]
fn a_deliberately_non_equilibrium_price_vector_is_reported_with_its_regret() {
    let mut m = market(ChoiceModel::default(), start(1.1));
    let report = m.run_to_equilibrium(&competition(1), &mut |_| {}).unwrap();
    assert!(report.converged, "{:?}", report.certificate);
    let equilibrium = m.prices().to_vec();
    // Seller 0 leaves the equilibrium: 0.15 yuan/kWh dearer in every period.
    let mut wrong = equilibrium.clone();
    let p = wrong[0];
    wrong[0] = TouPrices::new(
        p.peak_per_kwh + 0.15,
        p.flat_per_kwh + 0.15,
        p.valley_per_kwh + 0.15,
    );
    let cert = m.certify(&wrong, &competition(2)).unwrap();
    assert!(!cert.holds());
    assert!(
        cert.regret_pct[0] > 5.0 && cert.regret[0] > 0.0,
        "regret of the deviating seller: {} yuan ({} %)",
        cert.regret[0],
        cert.regret_pct[0]
    );
    // Back at the equilibrium, an independent search (another seed) confirms it.
    let cert = m.certify(&equilibrium, &competition(3)).unwrap();
    assert!(cert.holds(), "{cert:?}");
    assert!(cert.max_regret_pct() < 0.5);
}

#[test]
fn three_seeds_reach_the_same_equilibrium_within_tolerance() {
    // Different start prices and search seeds, the same users.
    let runs = [(11, 1.0), (12, 1.15), (13, 1.3)];
    let mut equilibria = Vec::new();
    for (seed, level) in runs {
        let mut m = market(ChoiceModel::default(), start(level));
        let report = m
            .run_to_equilibrium(&competition(seed), &mut |_| {})
            .unwrap();
        assert!(report.converged, "seed {seed}: {:?}", report.certificate);
        assert!(report.certificate.max_regret_pct() < 0.5);
        equilibria.push((m.prices().to_vec(), m.snapshot().unwrap().outcomes));
    }
    // Within the tolerance: each seed's equilibrium passes the certificate
    // of another seed's search, and the equilibria agree in level. (The
    // certificate bounds each seller's regret at 0.5 % of profit; with
    // margins near 0.1 yuan/kWh that allows a few thousandths of a yuan/kWh
    // in the price level, i.e. a few % of profit, more in flat directions.)
    let mut m = market(ChoiceModel::default(), start(1.1));
    for (j, (prices, outcomes)) in equilibria.iter().enumerate() {
        let other_seed = runs[(j + 1) % runs.len()].0 + 100;
        let cert = m.certify(prices, &competition(other_seed)).unwrap();
        assert!(cert.holds(), "run {j} under seed {other_seed}: {cert:?}");
        let (first_prices, first) = &equilibria[0];
        for k in 0..3 {
            let (a, b) = (&outcomes[k], &first[k]);
            let avg = (a.average_price_per_kwh - b.average_price_per_kwh).abs();
            assert!(
                avg < 0.01,
                "seller {k}: average prices differ by {avg} yuan/kWh"
            );
            let rel = (a.expected_profit - b.expected_profit).abs() / b.expected_profit.abs();
            assert!(rel < 0.1, "seller {k}: profits differ by {rel}");
            let d = prices[k].max_abs_difference(&first_prices[k]);
            assert!(d < 0.1, "seller {k}: prices differ by {d} yuan/kWh");
        }
    }
}

#[test]
fn the_threshold_rule_honestly_reports_non_convergence() {
    let equal = TouPrices::new(1.3, 1.1, 0.9);
    let mut m = market(ChoiceModel::threshold(), vec![equal; 3]);
    let settings = CompetitionSettings {
        max_rounds: 4,
        ..competition(1)
    };
    let report = m.run_to_equilibrium(&settings, &mut |_| {}).unwrap();
    assert!(!report.converged);
    assert_eq!(report.converged, report.certificate.holds());
    assert!(report.certificate.max_regret_pct() >= 0.5);
    assert!(report.rounds.iter().all(|r| !r.certified));
}

#[test]
fn converged_means_exactly_that_every_regret_is_below_half_a_percent() {
    let mut m = market(ChoiceModel::default(), start(1.2));
    let mut seen = Vec::new();
    let report = m
        .run_to_equilibrium(&competition(4), &mut |r| {
            seen.push((r.certified, r.max_regret_pct))
        })
        .unwrap();
    for (certified, pct) in &seen {
        assert_eq!(*certified, *pct < 0.5);
    }
    assert_eq!(report.converged, report.certificate.holds());
    assert_eq!(report.certificate.regret_pct.len(), 3);
}
