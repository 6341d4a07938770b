//! The one error type of voltex-pricing. Each variant names the field or
//! element at fault and the rule it broke; nothing here decides anything.

use std::path::PathBuf;

/// What went wrong in pricing.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("comfort coefficient ω = {0} yuan/kWh must be finite and > 0")]
    ComfortCoefficientNotPositive(f64),
    #[error("consumer {consumer}: {field}[{hour}] = {value} kWh must be finite and ≥ 0")]
    NegativeOrNonFiniteEnergy {
        consumer: usize,
        field: &'static str,
        hour: usize,
        value: f64,
    },
    #[error("price {field} = {value} yuan/kWh is not finite")]
    NonFinitePrice { field: &'static str, value: f64 },
    #[error("seller rules: {0}")]
    BadSellerRules(String),
    #[error("genetic algorithm settings: {0}")]
    BadGaSettings(String),
    #[error("consumer {consumer}: the device QP was not solved (clarabel status {status})")]
    QpNotSolved { consumer: usize, status: String },
    #[error("consumer {consumer}: device {device}: {rule}")]
    BadDevice {
        consumer: usize,
        device: &'static str,
        rule: String,
    },
    #[error("no price scenarios were given (the seller's profit needs at least one)")]
    NoScenarios,
    #[error("choice model: {0}")]
    BadChoice(String),
    #[error("market: {0}")]
    BadMarket(String),
    #[error("data file {path}: {reason}")]
    Data { path: PathBuf, reason: String },
    #[error("data file {path}, line {line}: {reason}")]
    DataLine {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("load classification failed: {0}")]
    Classification(#[from] voltex_analytics::fcm::FcmError),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("chart: {0}")]
    Chart(#[from] voltex_charts::ChartError),
}
