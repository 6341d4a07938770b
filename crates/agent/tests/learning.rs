//! A short DDPG run on a synthetic periodic price series learns to buy low
//! and sell high better than random; checkpoints round-trip.

use voltex_agent::baselines::RandomPolicy;
use voltex_agent::data::synthetic_periodic;
use voltex_agent::ddpg::TrainConfig;
use voltex_agent::{
    Checkpoint, EnvConfig, ExtractorKind, Market, PreparedMarket, Split, default_device,
    run_policy, train,
};

fn synthetic() -> PreparedMarket {
    let s = synthetic_periodic(Market::Isone, 120, 11);
    PreparedMarket::new(s, EnvConfig::for_market(Market::Isone), Split::Train).unwrap()
}

fn quick(ext: ExtractorKind, updates: usize) -> TrainConfig {
    let mut c = TrainConfig::new(Market::Isone, ext);
    c.updates = updates;
    c.warmup_steps = 200;
    c.batch_size = 32;
    c.validate_every = 100;
    c.net.extractor_hidden = 16;
    c.net.head_hidden = 32;
    c.lr_actor = 1e-3;
    c.noise_std_start = 0.3;
    c.seed = 5;
    c
}

#[test]
fn short_training_beats_random_on_periodic_prices() {
    let m = synthetic();
    let device = default_device();
    let out = train(
        &m,
        &quick(ExtractorKind::Dnn, 400),
        &device,
        None,
        &mut |_| {},
    )
    .unwrap();
    let test = m.span(Split::Test).unwrap();
    let mut agent = out
        .best
        .policy(&device, std::path::Path::new("mem"))
        .unwrap();
    let ep = run_policy(&m, test, &mut agent);
    let random: f64 = (0..5)
        .map(|s| run_policy(&m, test, &mut RandomPolicy::new(s)).total_profit())
        .sum::<f64>()
        / 5.0;
    let learned = ep.total_profit();
    assert!(learned > random, "learned {learned} <= random {random}");
    // Buy low, sell high: more day-ahead where RT > DA (afternoon), and the day-ahead share
    // bought in the dear half exceeds that in the cheap half.
    let (mut dear, mut cheap, mut nd, mut nc) = (0.0, 0.0, 0, 0);
    for s in &ep.steps {
        if s.rt_price_per_mwh > 40.0 {
            dear += s.action.a1_day_ahead;
            nd += 1;
        } else {
            cheap += s.action.a1_day_ahead;
            nc += 1;
        }
    }
    assert!(
        dear / nd as f64 > cheap / nc as f64,
        "a1 dear {} cheap {}",
        dear / nd as f64,
        cheap / nc as f64
    );
}

#[test]
fn checkpoint_round_trips() {
    let m = synthetic();
    let device = default_device();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.json");
    let mut cfg = quick(ExtractorKind::BiLstm, 10);
    cfg.warmup_steps = 40;
    cfg.validate_every = 10;
    let out = train(&m, &cfg, &device, Some(&path), &mut |_| {}).unwrap();
    let loaded = Checkpoint::load(&path).unwrap();
    assert_eq!(loaded.actor, out.best.actor);
    assert_eq!(loaded.train.net, out.best.train.net);
    let span = m.span(Split::Validation).unwrap();
    let mut a = out.best.policy(&device, &path).unwrap();
    let mut b = loaded.policy(&device, &path).unwrap();
    let ea = run_policy(&m, span, &mut a);
    let eb = run_policy(&m, span, &mut b);
    assert_eq!(ea.total_profit(), eb.total_profit());
    assert!((ea.total_profit() - loaded.validation_profit).abs() < 1e-6 * ea.total_profit().abs());
    // A checkpoint with a wrong shape is refused with a clear error.
    let mut broken = loaded.clone();
    broken.actor[0].shape = vec![1, 1];
    assert!(broken.policy(&device, &path).is_err());
}
