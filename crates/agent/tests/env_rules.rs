//! The environment's bookkeeping: settlement, storage bounds, daily return,
//! clipping, and the absence of look-ahead.

use proptest::prelude::*;
use voltex_agent::baselines::{PreviousDayRule, RandomPolicy};
use voltex_agent::data::{load_bundled, synthetic_periodic};
use voltex_agent::ddpg::{DdpgLearner, TrainConfig};
use voltex_agent::{
    Action, EnvConfig, Environment, ExtractorKind, Market, Policy, PreparedMarket, Split,
    run_policy,
};

fn bundled(market: Market) -> PreparedMarket {
    let s = load_bundled(market).expect("shipped extract loads");
    PreparedMarket::new(s, EnvConfig::for_market(market), Split::All).unwrap()
}

#[test]
fn reward_equals_settlement_formula() {
    for market in [Market::Isone, Market::Aemo] {
        let m = bundled(market);
        let span = m.span(Split::All).unwrap();
        let ep = run_policy(&m, span, &mut RandomPolicy::new(7));
        let dt = m.series.interval_h();
        let c = &m.config;
        for s in &ep.steps {
            let d = m.series.demand_mw[s.t];
            let p_rt = m.series.rt_price_per_mwh[s.t];
            let p_da = m.series.da_price(s.t);
            let q = s.action.a1_day_ahead * m.demand_forecast_mw(s.t);
            let expected = dt
                * (c.tariff_per_mwh * d
                    - p_da * q
                    - p_rt * (d + s.shift_mw - q)
                    - c.rebate_per_mwh * s.shift_mw.abs());
            assert!(
                (s.profit - expected).abs() < 1e-6 * expected.abs().max(1.0),
                "step {}: {} vs {expected}",
                s.t,
                s.profit
            );
            assert!((s.q_day_ahead_mw - q).abs() < 1e-9);
            let shaping = m.calibration.price.center * s.shift_mw * dt;
            let expected_learning = ((s.profit - dt * (c.tariff_per_mwh - p_rt) * d + shaping)
                * m.calibration.reward_scale)
                .clamp(-c.learning_reward_clip, c.learning_reward_clip);
            assert!((s.learning_reward - expected_learning).abs() < 1e-9);
        }
    }
}

#[test]
fn demand_is_scaled_to_hundred_mw_mean_on_the_fitting_span() {
    let m = bundled(Market::Aemo);
    let span = m.span(Split::All).unwrap();
    let d = &m.series.demand_mw[span.start..span.end];
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    assert!((mean - 100.0).abs() < 1e-6, "{mean}");
}

#[test]
fn aemo_has_no_day_ahead_purchase() {
    let m = bundled(Market::Aemo);
    let span = m.span(Split::All).unwrap();
    let env = Environment::new(&m, span);
    let a = env.clip(Action {
        a1_day_ahead: 1.2,
        a2_shift: 0.3,
    });
    assert_eq!(a.a1_day_ahead, 0.0);
    assert_eq!(a.a2_shift, 0.3);
}

#[test]
fn clipping_keeps_actions_in_their_ranges() {
    let m = bundled(Market::Isone);
    let span = m.span(Split::All).unwrap();
    let env = Environment::new(&m, span);
    let a = env.clip(Action {
        a1_day_ahead: 7.0,
        a2_shift: -3.0,
    });
    assert_eq!(a.a1_day_ahead, 1.5);
    assert_eq!(a.a2_shift, -1.0);
    let a = env.clip(Action {
        a1_day_ahead: -1.0,
        a2_shift: f64::NAN,
    });
    assert_eq!(a.a1_day_ahead, 0.0);
    assert_eq!(a.a2_shift, 0.0);
}

#[test]
fn shift_is_clipped_at_the_storage_bound() {
    let m = bundled(Market::Isone);
    let span = m.span(Split::All).unwrap();
    let mut env = Environment::new(&m, span);
    // Always charge: storage must stop at E_max = 20 MWh and then fall to 0 at the day's end.
    let e_max = m.config.storage_max_mwh();
    let mut peak: f64 = 0.0;
    for _ in 0..24 {
        let r = env.step(Action {
            a1_day_ahead: 1.0,
            a2_shift: 1.0,
        });
        peak = peak.max(r.storage_mwh);
        assert!(r.storage_mwh <= e_max + 1e-9);
        assert!(r.shift_mw.abs() <= 0.1 * r.demand_mw.max(50.0) + 1e-9);
    }
    assert!((peak - e_max).abs() < 1e-9, "peak {peak}");
    assert_eq!(env.storage_mwh(), 0.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn storage_stays_bounded_and_returns_to_zero_each_day(
        actions in proptest::collection::vec((-3.0f64..3.0, -2.0f64..2.0), 96),
        aemo in any::<bool>(),
    ) {
        let market = if aemo { Market::Aemo } else { Market::Isone };
        let m = bundled(market);
        let span = m.span(Split::All).unwrap();
        let mut env = Environment::new(&m, span);
        let k = m.series.steps_per_day();
        let dt = m.series.interval_h();
        let mut prev = 0.0;
        for (i, (a1, a2)) in actions.into_iter().enumerate() {
            let r = env.step(Action { a1_day_ahead: a1, a2_shift: a2 });
            prop_assert!(r.storage_mwh.abs() <= m.storage_bound_mwh(r.t) + 1e-9);
            prop_assert!(r.storage_mwh.abs() <= m.config.storage_max_mwh() + 1e-9);
            prop_assert!(r.shift_mw.abs() <= m.shift_limit_mw(r.t) + 1e-9);
            prop_assert!((r.storage_mwh - (prev + r.shift_mw * dt)).abs() < 1e-6);
            prop_assert!((0.0..=1.5).contains(&r.action.a1_day_ahead));
            if (i + 1) % k == 0 {
                prop_assert_eq!(r.storage_mwh, 0.0);
            }
            prev = r.storage_mwh;
        }
    }
}

/// Two copies of a market that differ only in prices strictly after step t.
fn perturbed_after(m: &PreparedMarket, t: usize) -> PreparedMarket {
    let mut p = m.clone();
    for s in t + 1..p.series.len() {
        p.series.rt_price_per_mwh[s] = 500.0 - p.series.rt_price_per_mwh[s] * 3.0;
        if let Some(da) = &mut p.series.da_price_per_mwh {
            da[s] += 77.0;
        }
        p.series.demand_mw[s] *= 1.3;
    }
    // The price at t itself is real-time and unknown at decision time: change it too.
    p.series.rt_price_per_mwh[t] += 123.0;
    p
}

fn decisions_up_to(
    m: &PreparedMarket,
    t: usize,
    policy: &mut dyn Policy,
) -> (Vec<Action>, Vec<Vec<f32>>) {
    let span = m.span(Split::All).unwrap();
    let mut env = Environment::new(m, span);
    let mut acts = vec![];
    let mut obs = vec![];
    while env.t() <= t {
        let ctx = env.context();
        let a = policy.act(&ctx);
        obs.push(
            [
                ctx.observation.window.clone(),
                ctx.observation.current.clone(),
            ]
            .concat(),
        );
        acts.push(env.clip(a));
        env.step(a);
    }
    (acts, obs)
}

#[test]
fn changing_prices_after_t_leaves_action_and_observation_at_t_unchanged() {
    for market in [Market::Isone, Market::Aemo] {
        let m = bundled(market);
        let k = m.series.steps_per_day();
        let device = voltex_agent::default_device();
        let mut cfg = TrainConfig::new(market, ExtractorKind::BiLstm);
        cfg.net.extractor_hidden = 8;
        cfg.net.head_hidden = 16;
        let learner = DdpgLearner::new(cfg, &device);
        for t in [k + 3, 2 * k + k / 2, 3 * k - 1] {
            let p = perturbed_after(&m, t);
            let (a_rule, o_rule) = decisions_up_to(&m, t, &mut PreviousDayRule);
            let (b_rule, q_rule) = decisions_up_to(&p, t, &mut PreviousDayRule);
            assert_eq!(a_rule, b_rule);
            assert_eq!(o_rule, q_rule);
            let (a_net, o_net) = decisions_up_to(&m, t, &mut learner.policy(1.5));
            let (b_net, q_net) = decisions_up_to(&p, t, &mut learner.policy(1.5));
            assert_eq!(a_net, b_net);
            assert_eq!(o_net, q_net);
        }
    }
}

#[test]
fn synthetic_series_has_the_study_splits() {
    let s = synthetic_periodic(Market::Isone, 120, 1);
    let m = PreparedMarket::new(s, EnvConfig::for_market(Market::Isone), Split::Train).unwrap();
    assert_eq!(m.span(Split::Validation).unwrap().len(), 15 * 24);
    assert_eq!(m.span(Split::Test).unwrap().len(), 15 * 24);
    assert_eq!(m.span(Split::Train).unwrap().len(), 89 * 24);
}
