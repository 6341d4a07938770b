//! The error type of the forecasting and classification modules of
//! voltex-analytics. Messages name the file, field or element and the rule
//! that was broken. Nothing here performs I/O.

use std::path::PathBuf;

/// What went wrong in price/load forecasting or price-direction classification.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}, line {line}: {message}")]
    BadRow {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {rows} hourly rows is not a whole number of 24-hour days")]
    PartialDay { path: PathBuf, rows: usize },
    #[error("{what}: needs at least {needed} days of history, the data has {available}")]
    NotEnoughHistory {
        what: String,
        needed: usize,
        available: usize,
    },
    #[error("forecast and actual series differ in length ({forecast} vs {actual} values)")]
    LengthMismatch { forecast: usize, actual: usize },
    #[error("unknown market `{0}` (expected one of NP, PJM, BE, FR, DE)")]
    UnknownMarket(String),
    #[error("shared data file {0} not found (set VOLTEX_DATA_DIR or pass --data)")]
    DataNotFound(String),
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("{0}")]
    InvalidArgument(String),
    #[error("chart: {0}")]
    Chart(#[from] voltex_charts::ChartError),
}
