//! voltex-charts: the one look of every SVG chart Voltex draws (clearing
//! prices, pricing experiments, agent studies, forecasts; later the portal).
//! [`palette`] holds the named colours, fonts, sizes and margins; [`line`]
//! draws panels of named series into one SVG. Domain crates build a
//! [`Figure`] from their data and call [`write_svg`] or [`render_svg`].
//!
//! This crate decides how a chart looks, never what its numbers mean: it
//! computes nothing but axis ranges, and knows no market, price or model.
//! See docs/charts.md.

mod error;
pub mod line;
pub mod palette;

pub use error::ChartError;
pub use line::{Figure, Legend, Panel, Series, render_svg, write_svg};
pub use palette::Colour;
