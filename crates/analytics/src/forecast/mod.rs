//! Day-ahead price and load forecasting.
//!
//! - [`data`]: the epftoolbox dataset and forecast-file layouts.
//! - [`transform`]: asinh-median and Box-Cox transformations.
//! - [`lasso`]: LARS-lasso path, information-criterion λ, coordinate descent.
//! - [`lear`]: the LEAR model and its rolling daily recalibration.
//! - [`metrics`]: MAE, RMSE, sMAPE, rMAE, Diebold–Mariano.
//! - [`load`]: hourly day-ahead load forecasting for retailers.
//! - [`plots`]: SVG figures of forecasts and errors.
//!
//! Forecasting reads data and produces numbers; it never changes market state.

pub mod data;
pub mod lasso;
pub mod lear;
pub mod metrics;
pub mod transform;

pub use data::{DayAheadDataset, ForecastTable, Market, TEST_DAYS};
pub use lear::{
    FinalSolver, LearConfig, PenaltyScale, RollingForecast, SelectionPath, rolling_forecast,
};
pub mod load;
pub mod plots;
