//! The one error type of `voltex-agent`.
//!
//! Every variant names what went wrong and where (file, column, row, date or
//! parameter) so that a user can fix the input. This module holds no logic.

use std::path::PathBuf;

/// Everything that can go wrong while loading market data, simulating the
/// aggregator, solving the oracle or training and storing an agent.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: CSV error: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{path}: missing column `{column}` (the layout must match the shared {market} file)")]
    MissingColumn {
        path: PathBuf,
        column: String,
        market: &'static str,
    },
    #[error("{path}, row {row}: field `{column}` = {value:?} is not a valid {expected}")]
    BadField {
        path: PathBuf,
        row: usize,
        column: String,
        value: String,
        expected: &'static str,
    },
    #[error("{path}: day {date} has {found} intervals, a complete day has {expected}")]
    IncompleteDay {
        path: PathBuf,
        date: String,
        found: usize,
        expected: usize,
    },
    #[error(
        "{path}: intervals are not consecutive at {at} (every interval must follow the previous one)"
    )]
    GapInSeries { path: PathBuf, at: String },
    #[error("{path}: no rows for zone `{zone}`")]
    NoRowsForZone { path: PathBuf, zone: String },
    #[error("the {split} span {from}..={to} has no complete day with a previous day in the data")]
    EmptySpan {
        split: String,
        from: String,
        to: String,
    },
    #[error(
        "shared data file `{0}` not found (set VOLTEX_DATA_DIR or keep ../shared/data beside the project)"
    )]
    SharedDataMissing(String),
    #[error("invalid configuration: {field} = {value} ({rule})")]
    InvalidConfig {
        field: &'static str,
        value: String,
        rule: &'static str,
    },
    #[error("oracle LP for day starting at step {day_start} ended with status {status}")]
    OracleNotOptimal { day_start: usize, status: String },
    #[error("checkpoint {path}: {reason}")]
    BadCheckpoint { path: PathBuf, reason: String },
    #[error("cannot write {path}: {reason}")]
    Output { path: PathBuf, reason: String },
    #[error("chart: {0}")]
    Chart(#[from] voltex_charts::ChartError),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, AgentError>;
