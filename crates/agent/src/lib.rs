//! voltex-agent: a load aggregator that trades day-ahead and real-time energy
//! for its price-responsive customers and shifts part of their load.
//!
//! - [`data`]: ISO-NE and AEMO price/demand series and their splits;
//! - [`env`]: the market rules, settlement and observation (no look-ahead);
//! - [`nets`], [`ddpg`]: DDPG with DNN/RNN/LSTM/BiLSTM feature extractors (burn);
//! - [`baselines`], [`oracle`]: rule baselines and the perfect-foresight LP bound;
//! - [`compare`], [`plots`], [`bench`]: the study, its report and its speed figures.
//!
//! This crate depends on no platform crate except `voltex-formats` (to find
//! the shared data); it performs no network I/O. See docs/agent.md.

pub mod baselines;
pub mod bench;
pub mod compare;
pub mod data;
pub mod ddpg;
pub mod env;
pub mod error;
pub mod nets;
pub mod oracle;
pub mod plots;

pub use data::{Market, MarketSeries, Span, Split};
pub use ddpg::{Checkpoint, TrainConfig, TrainOutcome, TrainProgress, default_device, train};
pub use env::{Action, EnvConfig, Environment, Policy, PreparedMarket, run_policy};
pub use error::{AgentError, Result};
pub use nets::ExtractorKind;
