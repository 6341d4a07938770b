//! Voltex analytics: load classification (fuzzy C-means), price and load
//! forecasting, price-direction classification, market-power indices and
//! screens (`market_power`).
pub mod direction;
pub mod error;
pub mod fcm;
pub mod forecast;
pub mod linalg;
pub mod market_power;

pub use error::AnalyticsError;
