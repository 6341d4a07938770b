//! Voltex analytics: load classification (fuzzy C-means), price and load
//! forecasting, price-direction classification.
pub mod fcm;
