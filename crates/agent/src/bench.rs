//! Speed figures for `voltex bench agent`: environment steps per second and
//! DDPG updates per second for each extractor. Measurement only; it changes
//! no model and writes no file.

use std::time::Instant;

use burn::prelude::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::baselines::{PreviousDayRule, RandomPolicy};
use crate::data::Split;
use crate::ddpg::{DdpgLearner, ReplayMemory, TrainConfig, from_action};
use crate::env::{Environment, Policy, PreparedMarket, run_policy};
use crate::error::Result;
use crate::nets::ExtractorKind;

/// One extractor's training speed.
#[derive(Debug, Clone)]
pub struct UpdateSpeed {
    pub extractor: ExtractorKind,
    pub updates_per_s: f64,
    /// Greedy actor decisions (batch 1) per second.
    pub actions_per_s: f64,
}

/// The benchmark's figures.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub env_steps_per_s: f64,
    pub env_steps_measured: usize,
    pub updates: Vec<UpdateSpeed>,
    pub batch_size: usize,
    pub updates_measured: usize,
}

/// Time the environment (previous-day rule over the training span) and
/// `updates` DDPG updates per extractor.
pub fn run(
    market: &PreparedMarket,
    extractors: &[ExtractorKind],
    updates: usize,
    device: &Device,
    progress: &mut dyn FnMut(&str),
) -> Result<BenchReport> {
    let span = market.span(Split::Train)?;
    progress("environment");
    let started = Instant::now();
    let mut steps = 0;
    while started.elapsed().as_secs_f64() < 2.0 {
        steps += run_policy(market, span, &mut PreviousDayRule).steps.len();
    }
    let env_steps_per_s = steps as f64 / started.elapsed().as_secs_f64();

    let mut out = Vec::new();
    let mut batch_size = 0;
    for &ext in extractors {
        progress(ext.label());
        let mut cfg = TrainConfig::new(market.series.market, ext);
        cfg.net.window = market.config.window;
        batch_size = cfg.batch_size;
        let mut replay = ReplayMemory::new(4096, cfg.net.window);
        let mut random = RandomPolicy::new(1);
        let mut env = Environment::new(market, span);
        while replay.len() < 2048 && !env.done() {
            let ctx = env.context();
            let a = random.act(&ctx);
            let s = ctx.observation;
            let rec = env.step(a);
            let s_next = market.observe(rec.t + 1, env.storage_mwh());
            replay.push(
                &s,
                from_action(rec.action, market.config.a1_max),
                rec.learning_reward as f32,
                &s_next,
            );
        }
        let mut learner = DdpgLearner::new(cfg.clone(), device);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        // warm-up (allocation, first-call costs)
        for _ in 0..3 {
            let b = replay.sample(cfg.batch_size, &mut rng);
            learner.update(&b);
        }
        let t0 = Instant::now();
        for _ in 0..updates {
            let b = replay.sample(cfg.batch_size, &mut rng);
            learner.update(&b);
        }
        let updates_per_s = updates as f64 / t0.elapsed().as_secs_f64();
        let pol = learner.policy(market.config.a1_max);
        let obs = market.observe(span.start, 0.0);
        let t1 = Instant::now();
        let n_act = 500;
        for _ in 0..n_act {
            std::hint::black_box(pol.output(&obs));
        }
        let actions_per_s = n_act as f64 / t1.elapsed().as_secs_f64();
        out.push(UpdateSpeed {
            extractor: ext,
            updates_per_s,
            actions_per_s,
        });
    }
    Ok(BenchReport {
        env_steps_per_s,
        env_steps_measured: steps,
        updates: out,
        batch_size,
        updates_measured: updates,
    })
}
