//! DDPG (deep deterministic policy gradient) for the aggregator: replay
//! memory of whole observation sequences, target networks with soft updates,
//! Gaussian exploration noise, periodic validation and best-checkpoint
//! selection.
//!
//! Update (Lillicrap et al. 2016) on a minibatch of transitions (s, a, r, s'):
//!   y = r + γ·Q′(s′, μ′(s′));  critic: minimise mean (Q(s, a) − y)²;
//!   actor: maximise mean Q(s, μ(s));  θ′ ← τ·θ + (1 − τ)·θ′.
//! Episodes are truncated, never terminal (the market goes on), so every
//! transition bootstraps. This module must not settle money: the environment does.

use std::path::{Path, PathBuf};

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::data::{Market, Split};
use crate::env::{
    ACTION_DIM, Action, CURRENT_FEATURES, Calibration, DecisionContext, EnvConfig, Environment,
    Observation, Policy, PreparedMarket, WINDOW_CHANNELS, run_policy,
};
use crate::error::{AgentError, Result};
use crate::nets::{
    Actor, Critic, ExtractorKind, NetConfig, ParamBlob, blend_params, collect_params,
};

/// Every hyper-parameter of training (documented in docs/agent.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub net: NetConfig,
    /// Gradient updates of actor and critic.
    pub updates: usize,
    /// Environment steps collected with random actions before learning starts.
    pub warmup_steps: usize,
    pub batch_size: usize,
    pub replay_capacity: usize,
    pub gamma: f64,
    pub tau: f64,
    pub lr_actor: f64,
    pub lr_critic: f64,
    /// Exploration noise σ (in the [−1, 1] action space), linearly decayed to `noise_std_end`.
    pub noise_std_start: f64,
    pub noise_std_end: f64,
    /// Days per training episode (random start day in the training span).
    pub episode_days: usize,
    /// Run the greedy policy on the validation span every this many updates.
    pub validate_every: usize,
    /// Refresh the acting copy of the actor every this many environment steps.
    pub sync_every: usize,
    pub seed: u64,
}

impl TrainConfig {
    /// The defaults used by `voltex agent train` and `compare`.
    pub fn new(market: Market, extractor: ExtractorKind) -> Self {
        let _ = market;
        TrainConfig {
            net: NetConfig {
                extractor,
                window: 24,
                extractor_hidden: 24,
                head_hidden: 64,
            },
            updates: 3000,
            warmup_steps: 500,
            batch_size: 64,
            replay_capacity: 100_000,
            gamma: 0.95,
            tau: 0.01,
            lr_actor: 1e-4,
            lr_critic: 1e-3,
            noise_std_start: 0.5,
            noise_std_end: 0.05,
            episode_days: 7,
            validate_every: 500,
            sync_every: 8,
            seed: 0,
        }
    }
}

/// Map the actor's output y ∈ [−1, 1]² to an environment action.
pub fn to_action(y: [f32; 2], a1_max: f64) -> Action {
    Action {
        a1_day_ahead: (y[0] as f64 + 1.0) * 0.5 * a1_max,
        a2_shift: y[1] as f64,
    }
}

/// Inverse of [`to_action`] (for storing the executed, clipped action).
pub fn from_action(a: Action, a1_max: f64) -> [f32; 2] {
    [
        (2.0 * a.a1_day_ahead / a1_max - 1.0).clamp(-1.0, 1.0) as f32,
        a.a2_shift.clamp(-1.0, 1.0) as f32,
    ]
}

/// The default compute device: flex CPU backend (a GPU one with the `cuda`/`wgpu` features).
pub fn default_device() -> Device {
    #[cfg(feature = "cuda")]
    {
        Device::cuda(0)
    }
    #[cfg(all(feature = "wgpu", not(feature = "cuda")))]
    {
        Device::wgpu(burn::tensor::DeviceKind::default())
    }
    #[cfg(not(any(feature = "cuda", feature = "wgpu")))]
    {
        Device::flex()
    }
}

fn batch_tensors(
    windows: &[f32],
    currents: &[f32],
    b: usize,
    w: usize,
    device: &Device,
) -> (Tensor<3>, Tensor<2>) {
    (
        Tensor::from_data(
            TensorData::new(windows.to_vec(), [b, w, WINDOW_CHANNELS]),
            device,
        ),
        Tensor::from_data(
            TensorData::new(currents.to_vec(), [b, CURRENT_FEATURES]),
            device,
        ),
    )
}

/// The trained actor as a policy (greedy unless noise is set).
pub struct ActorPolicy {
    actor: Actor,
    device: Device,
    window: usize,
    a1_max: f64,
    noise: Option<(ChaCha8Rng, f64)>,
}

impl std::fmt::Debug for ActorPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorPolicy")
            .field("window", &self.window)
            .finish()
    }
}

impl ActorPolicy {
    pub fn new(actor: Actor, device: Device, window: usize, a1_max: f64) -> Self {
        ActorPolicy {
            actor,
            device,
            window,
            a1_max,
            noise: None,
        }
    }

    /// The raw network output y ∈ [−1, 1]² for one observation.
    pub fn output(&self, obs: &Observation) -> [f32; 2] {
        let (w, c) = batch_tensors(&obs.window, &obs.current, 1, self.window, &self.device);
        let y = self
            .actor
            .forward(w, c)
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("actor output");
        [y[0], y[1]]
    }
}

impl Policy for ActorPolicy {
    fn act(&mut self, ctx: &DecisionContext<'_>) -> Action {
        let mut y = self.output(&ctx.observation);
        if let Some((rng, std)) = &mut self.noise
            && *std > 0.0
        {
            let n = Normal::new(0.0, *std).expect("positive std");
            for v in &mut y {
                *v = (*v as f64 + n.sample(rng)).clamp(-1.0, 1.0) as f32;
            }
        }
        to_action(y, self.a1_max)
    }
}

/// Fixed-size ring buffer of transitions; each stores its whole observation
/// sequences (window of s and s′), not indices into the data.
#[derive(Debug)]
pub struct ReplayMemory {
    capacity: usize,
    window_len: usize,
    len: usize,
    next: usize,
    window: Vec<f32>,
    current: Vec<f32>,
    action: Vec<f32>,
    reward: Vec<f32>,
    next_window: Vec<f32>,
    next_current: Vec<f32>,
}

/// A sampled minibatch, flattened row-major.
#[derive(Debug, Default)]
pub struct Batch {
    pub size: usize,
    pub window: Vec<f32>,
    pub current: Vec<f32>,
    pub action: Vec<f32>,
    pub reward: Vec<f32>,
    pub next_window: Vec<f32>,
    pub next_current: Vec<f32>,
}

impl ReplayMemory {
    pub fn new(capacity: usize, window_len: usize) -> Self {
        let ws = window_len * WINDOW_CHANNELS;
        ReplayMemory {
            capacity,
            window_len,
            len: 0,
            next: 0,
            window: vec![0.0; capacity * ws],
            current: vec![0.0; capacity * CURRENT_FEATURES],
            action: vec![0.0; capacity * ACTION_DIM],
            reward: vec![0.0; capacity],
            next_window: vec![0.0; capacity * ws],
            next_current: vec![0.0; capacity * CURRENT_FEATURES],
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn push(&mut self, s: &Observation, a: [f32; 2], r: f32, s_next: &Observation) {
        let ws = self.window_len * WINDOW_CHANNELS;
        let i = self.next;
        self.window[i * ws..(i + 1) * ws].copy_from_slice(&s.window);
        self.next_window[i * ws..(i + 1) * ws].copy_from_slice(&s_next.window);
        self.current[i * CURRENT_FEATURES..(i + 1) * CURRENT_FEATURES].copy_from_slice(&s.current);
        self.next_current[i * CURRENT_FEATURES..(i + 1) * CURRENT_FEATURES]
            .copy_from_slice(&s_next.current);
        self.action[i * ACTION_DIM..(i + 1) * ACTION_DIM].copy_from_slice(&a);
        self.reward[i] = r;
        self.next = (self.next + 1) % self.capacity;
        self.len = (self.len + 1).min(self.capacity);
    }

    pub fn sample(&self, size: usize, rng: &mut impl Rng) -> Batch {
        let ws = self.window_len * WINDOW_CHANNELS;
        let mut b = Batch {
            size,
            ..Batch::default()
        };
        for _ in 0..size {
            let i = rng.random_range(0..self.len);
            b.window
                .extend_from_slice(&self.window[i * ws..(i + 1) * ws]);
            b.next_window
                .extend_from_slice(&self.next_window[i * ws..(i + 1) * ws]);
            b.current
                .extend_from_slice(&self.current[i * CURRENT_FEATURES..(i + 1) * CURRENT_FEATURES]);
            b.next_current.extend_from_slice(
                &self.next_current[i * CURRENT_FEATURES..(i + 1) * CURRENT_FEATURES],
            );
            b.action
                .extend_from_slice(&self.action[i * ACTION_DIM..(i + 1) * ACTION_DIM]);
            b.reward.push(self.reward[i]);
        }
        b
    }
}

/// Actor, critic, their targets and optimisers.
pub struct DdpgLearner {
    cfg: TrainConfig,
    device: Device,
    inner: Device,
    actor: Actor,
    critic: Critic,
    actor_target: Actor,
    critic_target: Critic,
    opt_actor: ModuleOptimizer,
    opt_critic: ModuleOptimizer,
}

impl std::fmt::Debug for DdpgLearner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DdpgLearner")
            .field("cfg", &self.cfg)
            .finish()
    }
}

/// Losses of one update.
#[derive(Debug, Clone, Copy, Default)]
pub struct UpdateStats {
    pub critic_loss: f64,
    pub actor_q: f64,
}

impl DdpgLearner {
    pub fn new(cfg: TrainConfig, device: &Device) -> Self {
        device.seed(cfg.seed);
        let ad = device.clone().autodiff();
        let inner = device.clone().without_autodiff();
        let actor = Actor::new(&cfg.net, &ad);
        let critic = Critic::new(&cfg.net, &ad);
        let actor_target = actor.valid();
        let critic_target = critic.valid();
        DdpgLearner {
            opt_actor: AdamConfig::new().init(),
            opt_critic: AdamConfig::new().init(),
            cfg,
            device: ad,
            inner,
            actor,
            critic,
            actor_target,
            critic_target,
        }
    }

    /// A greedy copy of the current actor.
    pub fn policy(&self, a1_max: f64) -> ActorPolicy {
        ActorPolicy::new(
            self.actor.valid(),
            self.inner.clone(),
            self.cfg.net.window,
            a1_max,
        )
    }

    pub fn actor_params(&self) -> Vec<ParamBlob> {
        collect_params(&self.actor)
    }

    /// One critic and one actor step on a minibatch, then soft target updates.
    pub fn update(&mut self, batch: &Batch) -> UpdateStats {
        let b = batch.size;
        let w = self.cfg.net.window;
        // Targets on the plain device: y = r + γ Q′(s′, μ′(s′)).
        let (nw, nc) = batch_tensors(&batch.next_window, &batch.next_current, b, w, &self.inner);
        let next_a = self.actor_target.forward(nw.clone(), nc.clone());
        let q_next = self.critic_target.forward(nw, nc, next_a);
        let r = Tensor::<2>::from_data(TensorData::new(batch.reward.clone(), [b, 1]), &self.inner);
        let y = r.add(q_next.mul_scalar(self.cfg.gamma));
        let y = Tensor::<2>::from_data(y.into_data(), &self.device);

        let (sw, sc) = batch_tensors(&batch.window, &batch.current, b, w, &self.device);
        let a = Tensor::<2>::from_data(
            TensorData::new(batch.action.clone(), [b, ACTION_DIM]),
            &self.device,
        );
        let q = self.critic.forward(sw.clone(), sc.clone(), a);
        let critic_loss = q.sub(y).square().mean();
        let critic_loss_value = critic_loss.clone().into_scalar::<f32>() as f64;
        let grads = critic_loss.backward();
        let grads = GradientsParams::from_grads(grads, &self.critic);
        self.critic = self
            .opt_critic
            .step(self.cfg.lr_critic, self.critic.clone(), grads);

        let a_pi = self.actor.forward(sw.clone(), sc.clone());
        let q_pi = self.critic.forward(sw, sc, a_pi).mean();
        let actor_q = q_pi.clone().into_scalar::<f32>() as f64;
        let grads = q_pi.neg().backward();
        let grads = GradientsParams::from_grads(grads, &self.actor);
        self.actor = self
            .opt_actor
            .step(self.cfg.lr_actor, self.actor.clone(), grads);

        let tau = self.cfg.tau as f32;
        self.actor_target =
            blend_params(self.actor_target.clone(), &collect_params(&self.actor), tau)
                .expect("target actor has the actor's shape");
        self.critic_target = blend_params(
            self.critic_target.clone(),
            &collect_params(&self.critic),
            tau,
        )
        .expect("target critic has the critic's shape");
        UpdateStats {
            critic_loss: critic_loss_value,
            actor_q,
        }
    }
}

/// Saved trained actor with everything needed to act on new data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub format_version: u32,
    pub market: Market,
    pub env: EnvConfig,
    pub calibration: Calibration,
    pub train: TrainConfig,
    /// Updates done when this actor was the best on validation.
    pub updates_done: usize,
    /// Validation profit of this actor, $.
    pub validation_profit: f64,
    pub actor: Vec<ParamBlob>,
}

impl Checkpoint {
    pub const FORMAT_VERSION: u32 = 1;

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|source| AgentError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let json = serde_json::to_vec(self).map_err(|e| AgentError::Output {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        std::fs::write(path, json).map_err(|source| AgentError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| AgentError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let ck: Checkpoint =
            serde_json::from_slice(&bytes).map_err(|e| AgentError::BadCheckpoint {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if ck.format_version != Self::FORMAT_VERSION {
            return Err(AgentError::BadCheckpoint {
                path: path.to_path_buf(),
                reason: format!(
                    "format version {} (this build reads {})",
                    ck.format_version,
                    Self::FORMAT_VERSION
                ),
            });
        }
        Ok(ck)
    }

    /// Rebuild the greedy actor.
    pub fn policy(&self, device: &Device, path_for_errors: &Path) -> Result<ActorPolicy> {
        let inner = device.clone().without_autodiff();
        let actor = Actor::new(&self.train.net, &inner);
        let actor =
            blend_params(actor, &self.actor, 1.0).map_err(|reason| AgentError::BadCheckpoint {
                path: path_for_errors.to_path_buf(),
                reason,
            })?;
        Ok(ActorPolicy::new(
            actor,
            inner,
            self.train.net.window,
            self.env.a1_max,
        ))
    }
}

/// Progress of a training run, reported to the caller (the CLI draws a bar).
#[derive(Debug, Clone, Copy)]
pub struct TrainProgress {
    pub updates_done: usize,
    pub updates_total: usize,
    pub env_steps: usize,
    pub last_critic_loss: f64,
    /// Set when a validation run just finished.
    pub validation_profit: Option<f64>,
    pub best_validation_profit: f64,
}

/// Result of [`train`].
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    pub best: Checkpoint,
    /// (updates done, validation profit $) for every validation run.
    pub validation_curve: Vec<(usize, f64)>,
    pub env_steps: usize,
    pub seconds: f64,
    pub checkpoint_path: Option<PathBuf>,
}

/// Train a DDPG agent on the training span, validate periodically on the
/// validation span and keep (and save, if `checkpoint_path` is given) the
/// actor with the best validation profit.
pub fn train(
    market: &PreparedMarket,
    cfg: &TrainConfig,
    device: &Device,
    checkpoint_path: Option<&Path>,
    progress: &mut dyn FnMut(&TrainProgress),
) -> Result<TrainOutcome> {
    if cfg.net.window != market.config.window {
        return Err(AgentError::InvalidConfig {
            field: "net.window",
            value: cfg.net.window.to_string(),
            rule: "must equal the environment's observation window",
        });
    }
    if cfg.batch_size == 0 || cfg.updates == 0 || cfg.validate_every == 0 {
        return Err(AgentError::InvalidConfig {
            field: "batch_size/updates/validate_every",
            value: format!("{}/{}/{}", cfg.batch_size, cfg.updates, cfg.validate_every),
            rule: "must be positive",
        });
    }
    let started = std::time::Instant::now();
    let train_span = market.span(Split::Train)?;
    let val_span = market.span(Split::Validation)?;
    let k = market.series.steps_per_day();
    let a1_max = market.config.a1_max;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut learner = DdpgLearner::new(cfg.clone(), device);
    let mut replay = ReplayMemory::new(cfg.replay_capacity, cfg.net.window);
    let mut acting = learner.policy(a1_max);
    let mut updates = 0usize;
    let mut env_steps = 0usize;
    let mut best: Option<Checkpoint> = None;
    let mut curve = Vec::new();
    let days = train_span.len() / k;
    let noise = |u: usize| {
        let frac = (u as f64 / cfg.updates as f64).min(1.0);
        cfg.noise_std_start + (cfg.noise_std_end - cfg.noise_std_start) * frac
    };
    let mut validate =
        |learner: &DdpgLearner, updates: usize, best: &mut Option<Checkpoint>| -> Result<f64> {
            let mut pol = learner.policy(a1_max);
            let profit = run_policy(market, val_span, &mut pol).total_profit();
            curve.push((updates, profit));
            if best.as_ref().is_none_or(|b| profit > b.validation_profit) {
                let ck = Checkpoint {
                    format_version: Checkpoint::FORMAT_VERSION,
                    market: market.series.market,
                    env: market.config.clone(),
                    calibration: market.calibration.clone(),
                    train: cfg.clone(),
                    updates_done: updates,
                    validation_profit: profit,
                    actor: learner.actor_params(),
                };
                if let Some(p) = checkpoint_path {
                    ck.save(p)?;
                }
                *best = Some(ck);
            }
            Ok(profit)
        };

    while updates < cfg.updates {
        let day = rng.random_range(0..days);
        let start = train_span.start + day * k;
        let end = (start + cfg.episode_days * k).min(train_span.end);
        let mut env = Environment::new(market, crate::data::Span { start, end });
        while !env.done() && updates < cfg.updates {
            let ctx = env.context();
            let action = if replay.len() < cfg.warmup_steps {
                Action {
                    a1_day_ahead: rng.random_range(0.0..a1_max),
                    a2_shift: rng.random_range(-1.0..1.0),
                }
            } else {
                let mut y = acting.output(&ctx.observation);
                let n = Normal::new(0.0, noise(updates).max(1e-9)).expect("positive std");
                for v in &mut y {
                    *v = (*v as f64 + n.sample(&mut rng)).clamp(-1.0, 1.0) as f32;
                }
                to_action(y, a1_max)
            };
            let s = ctx.observation;
            let rec = env.step(action);
            env_steps += 1;
            if rec.t + 1 < market.series.len() {
                let s_next = market.observe(rec.t + 1, env.storage_mwh());
                replay.push(
                    &s,
                    from_action(rec.action, a1_max),
                    rec.learning_reward as f32,
                    &s_next,
                );
            }
            if replay.len() >= cfg.warmup_steps.max(cfg.batch_size) {
                let batch = replay.sample(cfg.batch_size, &mut rng);
                let last_loss = learner.update(&batch).critic_loss;
                updates += 1;
                if env_steps.is_multiple_of(cfg.sync_every) {
                    acting = learner.policy(a1_max);
                }
                let mut validation_profit = None;
                if updates.is_multiple_of(cfg.validate_every) || updates == cfg.updates {
                    validation_profit = Some(validate(&learner, updates, &mut best)?);
                }
                progress(&TrainProgress {
                    updates_done: updates,
                    updates_total: cfg.updates,
                    env_steps,
                    last_critic_loss: last_loss,
                    validation_profit,
                    best_validation_profit: best.as_ref().map_or(f64::NAN, |b| b.validation_profit),
                });
            }
        }
    }
    let best = best.expect("at least one validation ran");
    Ok(TrainOutcome {
        best,
        validation_curve: curve,
        env_steps,
        seconds: started.elapsed().as_secs_f64(),
        checkpoint_path: checkpoint_path.map(Path::to_path_buf),
    })
}
