//! The one error type of voltex-charts: a figure with nothing to draw, a
//! drawing failure inside plotters, or the SVG file that cannot be written.

use std::path::PathBuf;

/// Why a chart was not drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the figure has no panels to draw")]
    NoPanels,
    #[error("panel \"{title}\" has no finite points to draw")]
    EmptyPanel { title: String },
    #[error("drawing panel \"{title}\": {reason}")]
    Draw { title: String, reason: String },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}
