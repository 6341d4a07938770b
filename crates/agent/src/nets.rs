//! Actor and critic networks of the DDPG agent and their feature extractors.
//!
//! The extractor reads the observation window `[batch, W, 3]` and is one of:
//! DNN (an MLP layer over the flattened window), RNN (Elman, tanh), LSTM or
//! BiLSTM (burn's modules; the BiLSTM feature is the forward direction's last
//! output joined with the backward direction's first output). Actor and
//! critic each own an extractor. Recurrent extractors are unrolled over the
//! whole window and trained by back-propagation through time. This module
//! holds no training logic and does not know the market rules.

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::nn::{BiLstm, BiLstmConfig, Linear, LinearConfig, Lstm, LstmConfig, Rnn, RnnConfig};
use burn::prelude::*;
use burn::tensor::activation::{relu, tanh};
use serde::{Deserialize, Serialize};

use crate::env::{ACTION_DIM, CURRENT_FEATURES, WINDOW_CHANNELS};

/// Which feature extractor reads the observation window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExtractorKind {
    Dnn,
    Rnn,
    Lstm,
    BiLstm,
}

impl ExtractorKind {
    pub const ALL: [ExtractorKind; 4] = [
        ExtractorKind::Dnn,
        ExtractorKind::Rnn,
        ExtractorKind::Lstm,
        ExtractorKind::BiLstm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ExtractorKind::Dnn => "dnn",
            ExtractorKind::Rnn => "rnn",
            ExtractorKind::Lstm => "lstm",
            ExtractorKind::BiLstm => "bilstm",
        }
    }

    /// Display label, e.g. `BiLSTM-DDPG`.
    pub fn label(self) -> &'static str {
        match self {
            ExtractorKind::Dnn => "DNN-DDPG",
            ExtractorKind::Rnn => "RNN-DDPG",
            ExtractorKind::Lstm => "LSTM-DDPG",
            ExtractorKind::BiLstm => "BiLSTM-DDPG",
        }
    }
}

impl std::str::FromStr for ExtractorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "dnn" | "mlp" => Ok(ExtractorKind::Dnn),
            "rnn" => Ok(ExtractorKind::Rnn),
            "lstm" => Ok(ExtractorKind::Lstm),
            "bilstm" => Ok(ExtractorKind::BiLstm),
            other => Err(format!(
                "unknown extractor `{other}` (expected dnn, rnn, lstm or bilstm)"
            )),
        }
    }
}

/// Sizes of the networks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    pub extractor: ExtractorKind,
    /// Window length W (intervals).
    pub window: usize,
    /// Hidden units of the extractor (per direction for BiLSTM).
    pub extractor_hidden: usize,
    /// Units of each of the two dense head layers.
    pub head_hidden: usize,
}

impl NetConfig {
    /// Width of the extractor's output feature.
    pub fn feature_dim(&self) -> usize {
        match self.extractor {
            ExtractorKind::BiLstm => 2 * self.extractor_hidden,
            _ => self.extractor_hidden,
        }
    }
}

/// The window feature extractor (exactly one field is `Some`).
#[derive(Module, Debug)]
pub struct Extractor {
    dnn: Option<Linear>,
    rnn: Option<Rnn>,
    lstm: Option<Lstm>,
    bilstm: Option<BiLstm>,
}

impl Extractor {
    pub fn new(cfg: &NetConfig, device: &Device) -> Self {
        let h = cfg.extractor_hidden;
        let c = WINDOW_CHANNELS;
        let mut e = Extractor {
            dnn: None,
            rnn: None,
            lstm: None,
            bilstm: None,
        };
        match cfg.extractor {
            ExtractorKind::Dnn => e.dnn = Some(LinearConfig::new(cfg.window * c, h).init(device)),
            ExtractorKind::Rnn => {
                e.rnn = Some(
                    RnnConfig::new(c, h, true)
                        .with_batch_first(true)
                        .init(device),
                )
            }
            ExtractorKind::Lstm => {
                e.lstm = Some(
                    LstmConfig::new(c, h, true)
                        .with_batch_first(true)
                        .init(device),
                )
            }
            ExtractorKind::BiLstm => {
                e.bilstm = Some(
                    BiLstmConfig::new(c, h, true)
                        .with_batch_first(true)
                        .init(device),
                )
            }
        }
        e
    }

    /// `[batch, W, 3]` → `[batch, feature_dim]`.
    pub fn forward(&self, window: Tensor<3>) -> Tensor<2> {
        let [b, w, c] = window.dims();
        if let Some(l) = &self.dnn {
            return relu(l.forward(window.reshape([b, w * c])));
        }
        if let Some(r) = &self.rnn {
            let (out, _) = r.forward(window, None);
            let h = out.dims()[2];
            return out.narrow(1, w - 1, 1).reshape([b, h]);
        }
        if let Some(l) = &self.lstm {
            let (_, state) = l.forward(window, None);
            return state.hidden;
        }
        if let Some(l) = &self.bilstm {
            let (out, _) = l.forward(window, None);
            let h2 = out.dims()[2];
            let h = h2 / 2;
            let fwd = out.clone().narrow(1, w - 1, 1).narrow(2, 0, h);
            let bwd = out.narrow(1, 0, 1).narrow(2, h, h);
            return Tensor::cat(vec![fwd, bwd], 2).reshape([b, h2]);
        }
        unreachable!("extractor has no layer")
    }
}

/// Deterministic policy μ(s): extractor → two ReLU layers → tanh, two outputs
/// in [−1, 1] (a₁ is mapped to [0, a1_max] by [`to_action`](crate::ddpg::to_action)).
#[derive(Module, Debug)]
pub struct Actor {
    extractor: Extractor,
    l1: Linear,
    l2: Linear,
    out: Linear,
}

impl Actor {
    pub fn new(cfg: &NetConfig, device: &Device) -> Self {
        Actor {
            extractor: Extractor::new(cfg, device),
            l1: LinearConfig::new(cfg.feature_dim() + CURRENT_FEATURES, cfg.head_hidden)
                .init(device),
            l2: LinearConfig::new(cfg.head_hidden, cfg.head_hidden).init(device),
            out: LinearConfig::new(cfg.head_hidden, ACTION_DIM).init(device),
        }
    }

    /// `([b, W, 3], [b, CURRENT_FEATURES])` → `[b, 2]` in [−1, 1].
    pub fn forward(&self, window: Tensor<3>, current: Tensor<2>) -> Tensor<2> {
        let x = Tensor::cat(vec![self.extractor.forward(window), current], 1);
        let x = relu(self.l1.forward(x));
        let x = relu(self.l2.forward(x));
        tanh(self.out.forward(x))
    }
}

/// Action-value Q(s, a): extractor → [feature, current, action] → two ReLU layers → scalar.
#[derive(Module, Debug)]
pub struct Critic {
    extractor: Extractor,
    l1: Linear,
    l2: Linear,
    out: Linear,
}

impl Critic {
    pub fn new(cfg: &NetConfig, device: &Device) -> Self {
        Critic {
            extractor: Extractor::new(cfg, device),
            l1: LinearConfig::new(
                cfg.feature_dim() + CURRENT_FEATURES + ACTION_DIM,
                cfg.head_hidden,
            )
            .init(device),
            l2: LinearConfig::new(cfg.head_hidden, cfg.head_hidden).init(device),
            out: LinearConfig::new(cfg.head_hidden, 1).init(device),
        }
    }

    /// `[b, 1]` action values.
    pub fn forward(&self, window: Tensor<3>, current: Tensor<2>, action: Tensor<2>) -> Tensor<2> {
        let x = Tensor::cat(vec![self.extractor.forward(window), current, action], 1);
        let x = relu(self.l1.forward(x));
        let x = relu(self.l2.forward(x));
        self.out.forward(x)
    }
}

/// One parameter tensor, flattened (for checkpoints and soft updates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamBlob {
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

struct Collect(Vec<ParamBlob>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let values = t
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .expect("float parameter data");
        self.0.push(ParamBlob { shape, values });
    }
}

/// All float parameters of a module, in visiting order.
pub fn collect_params<M: Module>(module: &M) -> Vec<ParamBlob> {
    let mut c = Collect(Vec::new());
    module.visit(&mut c);
    c.0
}

struct Blend<'a> {
    blobs: &'a [ParamBlob],
    idx: usize,
    /// Weight of the blob (1 = replace, τ = soft update).
    weight: f32,
    error: Option<String>,
}

impl ModuleMapper for Blend<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let i = self.idx;
        self.idx += 1;
        let Some(blob) = self.blobs.get(i) else {
            self.error.get_or_insert(format!("parameter {i} missing"));
            return param;
        };
        let w = self.weight;
        let blob_shape = blob.shape.clone();
        let values = blob.values.clone();
        let mut mismatch = None;
        let param = param.map(|t| {
            if t.dims().as_slice() != blob_shape.as_slice() {
                mismatch = Some(format!(
                    "parameter {i} has shape {:?}, the stored one {:?}",
                    t.dims(),
                    blob_shape
                ));
                return t;
            }
            let device = t.device();
            let stored =
                Tensor::<D>::from_data(TensorData::new(values, blob_shape.clone()), &device);
            if w >= 1.0 {
                stored
            } else {
                t.mul_scalar(1.0 - w).add(stored.mul_scalar(w))
            }
        });
        if let Some(m) = mismatch {
            self.error.get_or_insert(m);
        }
        param
    }
}

/// θ ← w·blobs + (1 − w)·θ for every float parameter, in visiting order.
/// `w = 1` loads, `w = τ` is the DDPG soft target update.
pub fn blend_params<M: Module>(module: M, blobs: &[ParamBlob], weight: f32) -> Result<M, String> {
    let mut b = Blend {
        blobs,
        idx: 0,
        weight,
        error: None,
    };
    let m = module.map(&mut b);
    if let Some(e) = b.error {
        return Err(e);
    }
    if b.idx != blobs.len() {
        return Err(format!(
            "{} parameters stored, the network has {}",
            blobs.len(),
            b.idx
        ));
    }
    Ok(m)
}
