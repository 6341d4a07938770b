//! The seller's GA against closed-form optima, constraint satisfaction of
//! returned prices, determinism, and competition between sellers.
mod common;

use voltex_pricing::HOURS;
use voltex_pricing::choice::ChoiceModel;
use voltex_pricing::consumer::Consumer;
use voltex_pricing::ga::GaSettings;
use voltex_pricing::lower::LowerLevelSettings;
use voltex_pricing::market::{CompetitionSettings, Market, MarketSettings};
use voltex_pricing::tou::{TouPrices, TouSchedule};
use voltex_pricing::upper::{PriceScenarios, SellerRules};

fn one_user() -> Consumer {
    let mut base = [0.4; HOURS];
    let mut c = [0.2; HOURS];
    for h in 17..21 {
        base[h] = 1.0;
        c[h] = 0.5;
    }
    Consumer::device_free(0, base, c)
}

fn one_scenario() -> PriceScenarios {
    PriceScenarios {
        labels: vec!["d".into()],
        spot_per_kwh: vec![[0.6; HOURS]],
    }
}

fn ga() -> GaSettings {
    GaSettings {
        population: 24,
        generations: 60,
        stall_generations: 0,
        ..GaSettings::default()
    }
}

#[test]
fn ga_finds_the_closed_form_optimum_of_a_single_seller_single_user_case() {
    // Average-price cap not binding (p_avg ≥ p_cap). Total consumption is fixed,
    // so any price below the cap loses revenue: the optimum is every price at
    // p_cap = 1.8, with profit Σ_t (1.8 − 0.6 − 0.2)·(base_t + c_t).
    let rules = SellerRules {
        average_price_cap_per_kwh: 1.8,
        ..SellerRules::default()
    };
    let settings = MarketSettings {
        rules,
        ..MarketSettings::default()
    };
    let user = one_user();
    let market = Market::new(
        vec![user.clone()],
        TouSchedule::standard(),
        one_scenario(),
        settings,
        vec![TouPrices::flat_rate(0.9)],
    )
    .unwrap();
    let r = market.best_response(0, &ga(), 5).unwrap();
    let optimum = TouPrices::flat_rate(1.8);
    assert!(
        r.chosen.max_abs_difference(&optimum) < 1e-3,
        "{:?}",
        r.chosen
    );
    let expected = (1.8 - 0.6 - 0.2) * user.daily_consumption_kwh();
    assert!(
        (r.outcome.expected_profit - expected).abs() < 1e-3 * expected,
        "{} vs {expected}",
        r.outcome.expected_profit
    );
}

#[test]
fn ga_reaches_the_closed_form_profit_when_the_average_price_cap_binds() {
    // ω so large that nothing shifts: revenue is capped at p_avg·E, profit
    // p_avg·E − Σ_t (λ_t + τ)·(base_t + c_t) = (1.2 − 0.8)·E.
    let rules = SellerRules {
        average_price_cap_per_kwh: 1.2,
        ..SellerRules::default()
    };
    let lower = LowerLevelSettings {
        comfort_coefficient: 1e7,
        ..LowerLevelSettings::default()
    };
    let settings = MarketSettings {
        rules,
        lower,
        ..MarketSettings::default()
    };
    let user = one_user();
    let market = Market::new(
        vec![user.clone()],
        TouSchedule::standard(),
        one_scenario(),
        settings,
        vec![TouPrices::flat_rate(0.9)],
    )
    .unwrap();
    let r = market.best_response(0, &ga(), 11).unwrap();
    let expected = (1.2 - 0.6 - 0.2) * user.daily_consumption_kwh();
    assert!(r.outcome.average_price_per_kwh <= 1.2 + 1e-9);
    assert!(
        (r.outcome.expected_profit - expected).abs() < 2e-3 * expected,
        "{} vs {expected}",
        r.outcome.expected_profit
    );
}

fn competitive_market(sellers: usize, users: usize, seed: u64) -> Market {
    let settings = MarketSettings::default();
    let prices = (0..sellers)
        .map(|k| {
            settings
                .rules
                .repair_box([0.7 + 0.05 * k as f64, 1.0, 1.5 - 0.05 * k as f64])
        })
        .collect();
    Market::new(
        common::synthetic_consumers(users, seed),
        TouSchedule::standard(),
        common::synthetic_scenarios(20, seed),
        settings,
        prices,
    )
    .unwrap()
}

fn small_competition(seed: u64) -> CompetitionSettings {
    CompetitionSettings {
        ga: GaSettings {
            population: 12,
            generations: 10,
            ..GaSettings::default()
        },
        max_rounds: 2,
        seed,
        ..CompetitionSettings::default()
    }
}

#[test]
fn every_returned_price_vector_satisfies_all_constraints() {
    for seed in 0..3 {
        let mut market = competitive_market(3, 300, seed);
        let rules = market.settings().rules;
        let mut checked = 0;
        let report = market
            .run_to_equilibrium(&small_competition(seed), &mut |round| {
                for r in &round.responses {
                    for p in [&r.chosen, &r.best] {
                        assert!(rules.satisfies_box(p), "box/order violated: {p:?}");
                    }
                    assert!(
                        r.outcome.average_price_per_kwh <= rules.average_price_cap_per_kwh + 1e-9,
                        "average price {}",
                        r.outcome.average_price_per_kwh
                    );
                    checked += 1;
                }
            })
            .unwrap();
        assert_eq!(
            checked,
            report
                .rounds
                .iter()
                .map(|r| r.responses.len())
                .sum::<usize>()
        );
        for r in &report.rounds {
            for o in &r.snapshot.outcomes {
                assert!(o.average_price_per_kwh <= rules.average_price_cap_per_kwh + 1e-9);
            }
        }
    }
}

#[test]
fn runs_are_deterministic_by_seed() {
    let run = |seed| {
        let mut m = competitive_market(2, 400, 1);
        let r = m
            .run_to_equilibrium(&small_competition(seed), &mut |_| {})
            .unwrap();
        (
            m.prices().to_vec(),
            m.assignment().to_vec(),
            r.rounds
                .iter()
                .map(|x| x.max_price_move)
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(run(3), run(3));
}

fn market_with_equal_prices(users: usize, choice: ChoiceModel) -> Market {
    let equal = TouPrices::new(1.2, 1.0, 0.8);
    Market::new(
        common::synthetic_consumers(users, 2),
        TouSchedule::standard(),
        common::synthetic_scenarios(20, 2),
        MarketSettings {
            choice,
            ..MarketSettings::default()
        },
        vec![equal, equal],
    )
    .unwrap()
}

#[test]
fn under_the_threshold_rule_a_seller_pricing_above_its_rivals_loses_customers() {
    let mut market = market_with_equal_prices(400, ChoiceModel::threshold());
    let before = market.customers();
    assert_eq!(before, vec![200.0, 200.0]);
    // Seller 0 raises every price by 10 %: more than the 2 % switching threshold.
    market
        .apply_prices(0, TouPrices::new(1.32, 1.1, 0.88))
        .unwrap();
    let after = market.customers();
    assert!(after[0] < before[0], "customers {before:?} -> {after:?}");
    assert_eq!(after[0] + after[1], 400.0);
    // A 1 % rise stays inside the threshold: nobody moves.
    let mut market = market_with_equal_prices(400, ChoiceModel::threshold());
    market
        .apply_prices(0, TouPrices::new(1.212, 1.01, 0.808))
        .unwrap();
    assert_eq!(market.customers(), vec![200.0, 200.0]);
    // And the seller's GA sees the loss: its candidate above the rival sells to nobody.
    let market = market_with_equal_prices(400, ChoiceModel::threshold());
    let book = market
        .book_for_candidate(0, &TouPrices::new(1.5, 1.3, 1.0))
        .unwrap();
    assert_eq!(book.customers, 0.0);
}

#[test]
fn under_logit_choice_a_dearer_seller_keeps_a_smaller_but_positive_expected_share() {
    let mut market = market_with_equal_prices(400, ChoiceModel::default());
    let before = market.customers();
    assert!((before[0] - 200.0).abs() < 1e-9, "{before:?}");
    // 1 % dearer: some customers leave (no threshold to hide behind).
    market
        .apply_prices(0, TouPrices::new(1.212, 1.01, 0.808))
        .unwrap();
    let slightly = market.customers();
    assert!(slightly[0] < before[0] - 1.0, "{slightly:?}");
    // 10 % dearer: many more leave, yet the expected share stays positive.
    market
        .apply_prices(0, TouPrices::new(1.32, 1.1, 0.88))
        .unwrap();
    let after = market.customers();
    assert!(after[0] < slightly[0] && after[0] > 0.0, "{after:?}");
    assert!((after[0] + after[1] - 400.0).abs() < 1e-9);
    // The seller's view of a candidate agrees with posting it.
    let book = market
        .book_for_candidate(0, &TouPrices::new(1.32, 1.1, 0.88))
        .unwrap();
    assert!((book.customers - after[0]).abs() < 1e-9);
}

#[test]
fn risk_aversion_never_raises_cvar_of_the_chosen_prices() {
    let eval = |beta: f64| {
        let rules = SellerRules {
            risk_aversion: beta,
            ..SellerRules::default()
        };
        let settings = MarketSettings {
            rules,
            lower: LowerLevelSettings {
                comfort_coefficient: 0.2,
                ..LowerLevelSettings::default()
            },
            ..MarketSettings::default()
        };
        let market = Market::new(
            common::synthetic_consumers(100, 4),
            TouSchedule::standard(),
            common::synthetic_scenarios(40, 4),
            settings,
            vec![TouPrices::flat_rate(1.0)],
        )
        .unwrap();
        market.best_response(0, &ga(), 2).unwrap().outcome
    };
    let neutral = eval(0.0);
    let averse = eval(5.0);
    // GA tolerance: 0.1 % of the magnitude.
    assert!(
        averse.cvar_loss <= neutral.cvar_loss + 1e-3 * neutral.cvar_loss.abs().max(1.0),
        "{} > {}",
        averse.cvar_loss,
        neutral.cvar_loss
    );
    assert!(
        averse.expected_profit <= neutral.expected_profit + 1e-3 * neutral.expected_profit.abs()
    );
}

#[test]
fn harmonic_steps_move_at_most_a_one_over_r_share_towards_the_best_response() {
    let mut market = competitive_market(3, 200, 7);
    let settings = CompetitionSettings {
        max_rounds: 3,
        step: voltex_pricing::market::PriceStep::Harmonic,
        ..small_competition(7)
    };
    let report = market.run_to_equilibrium(&settings, &mut |_| {}).unwrap();
    for r in report.rounds.iter().skip(1) {
        for resp in &r.responses {
            // Without the damping the move could be anything in the price box;
            // with it, it is at most 1/r of the distance to the GA's best.
            let full = resp.best.max_abs_difference(&resp.previous);
            let moved = resp.chosen.max_abs_difference(&resp.previous);
            assert!(
                moved <= full / r.round as f64 + 0.02,
                "round {}: moved {moved}, full {full}",
                r.round
            );
        }
        assert!(r.max_regret.is_finite());
    }
}
