//! Decision support for the retail company (售电公司辅助决策), on its own
//! customers' interval data: load forecasts per customer and for the
//! portfolio (`forecast`), the next day's purchase gap and suggested
//! day-ahead bid curves with their cost risk (`purchase`), customer
//! segments by load shape with the package that suits each (`segments`),
//! and `voltex retail decide --demo` on the shipped real data (`demo`).
//! Formulas, validation and measured figures: docs/retail-decisions.md.
//!
//! These are estimates for people deciding, so they are `f64` (kWh, yuan);
//! the one place a bill is simulated (`segments::simulate_bills`) goes
//! through `rating::rate` and stays exact.
//!
//! Must not: write to the store, print, or hold a market operator's rule.
pub mod demo;
pub mod forecast;
pub mod history;
pub mod purchase;
pub mod report;
pub mod segments;

pub use forecast::{LoadHistory, SLOTS};
