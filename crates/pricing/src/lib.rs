//! voltex-pricing: the retailer's time-of-use pricing decision tool.
//!
//! Sellers choose (p_peak, p_flat, p_valley); consumers answer by shifting
//! controllable load (lower level, `lower`); each seller anticipates that
//! answer and maximises expected profit minus β·CVaR over real spot-price
//! scenarios with a genetic algorithm (upper level, `upper` + `ga`); several
//! sellers compete for consumers who switch when it saves them more than a
//! threshold (`market`). Users are built from real household data classified
//! by fuzzy C-means (`classify`, `population`). The model, its symbols and its
//! interpretations are written down in docs/pricing.md.
//!
//! This crate does no network I/O and holds no platform state; the only files
//! it touches are the data it is pointed at and the experiment outputs.

// Numerical code indexes hours and sellers the way the formulas in
// docs/pricing.md do; iterator rewrites would hide the symbols.
#![allow(clippy::needless_range_loop)]

pub mod choice;
pub mod classify;
pub mod consumer;
pub mod data;
mod error;
pub mod experiments;
pub mod ga;
pub mod lower;
pub mod market;
pub mod population;
pub mod shapes;
pub mod tou;
pub mod upper;

pub use error::PricingError;

/// Hours in the pricing day.
pub const HOURS: usize = 24;
