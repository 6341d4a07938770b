//! Voltex analytics: load classification (fuzzy C-means), price and load
//! forecasting, price-direction classification.
pub mod direction;
pub mod error;
pub mod fcm;
pub mod forecast;
pub mod linalg;

pub use error::AnalyticsError;
