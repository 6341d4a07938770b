//! The retail company system (售电公司): what an electricity retailer, a
//! member of the market, does with its own end customers. Customer
//! accounts and their lifecycle, metering points, interval meter data with
//! validation and estimation, the versioned price-package catalogue, retail
//! contracts with deviation clauses, rating into invoices with lineage and
//! re-rating, in-month deviation warnings, the wholesale side (purchase
//! contracts, trading plan, purchase settlement) and profit per customer.
//!
//! Rules live here; `voltex-server` and the CLI translate. Money is exact
//! (`money`: integer fen, prices in 0.01 fen/kWh). Formulas and the
//! maths-to-code table: docs/retail.md. Tables:
//! crates/store/migrations/0010_retail.sql.
//!
//! Must not: speak HTTP, print, or hold the market operator's rules.
pub mod comparison;
pub mod contract;
pub mod customer;
pub mod decide;
pub mod demo;
pub mod efficiency;
mod error;
/// Exact money, energy and price units; written once in the model so the
/// demand-response settlement and the retail bills share them.
pub use voltex_model::money;
pub mod month;
pub mod package;
pub mod purchasing;
pub mod rating;
pub mod readings;
mod service;

pub use error::{Result, RetailError};
pub use service::{DayAhead, DeviationWarning, LeftOut, RatingRun, Retail, Viewer, series_of};
