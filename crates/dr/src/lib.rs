//! Demand response (需求响应) for an aggregator or retailer: the resources
//! it enrols and the programs they are paid under, events (made by hand or
//! from day-ahead prices) with opt-in/opt-out and dispatch allocation,
//! customer baselines (10-in-10, high X of Y, high 4 of 5 with additive
//! adjustment, calendar regression), the choice of a baseline per resource
//! by placebo back-test, and performance and settlement in exact money.
//!
//! Money is exact (`voltex_model::money`: integer fen, prices in
//! 0.01 fen/kWh, energy in Wh); baselines are rounded to whole Wh per
//! interval before any delivered energy is formed. Formulas and the
//! maths-to-code table: docs/demand-response.md.
//!
//! Must not: speak HTTP or OpenADR, touch the store, or print. The OpenADR
//! 3.1 VTN, the store tables and the HTTP API are later work.
pub mod backtest;
pub mod baseline;
pub mod demo;
mod error;
pub mod event;
/// Exact money, energy and price units, shared with the retail bills.
pub use voltex_model::money;
pub mod program;
pub mod resource;
pub mod settlement;

pub use error::{DrError, Result};
