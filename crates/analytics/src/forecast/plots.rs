//! SVG figures of forecasts: forecast against actual over a sample week, and
//! mean absolute error by hour of day. Pictures only; no metrics decided here.

use std::path::Path;

use plotters::prelude::*;

use crate::error::AnalyticsError;

const COLORS: [RGBColor; 5] = [
    RGBColor(0, 0, 0),
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];

fn draw_err(path: &Path, e: impl std::fmt::Display) -> AnalyticsError {
    AnalyticsError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Line chart of several hourly series over the same hours (first = actual).
pub fn plot_week(
    path: &Path,
    title: &str,
    unit: &str,
    series: &[(&str, &[f64])],
) -> Result<(), AnalyticsError> {
    let n = series.first().map_or(0, |s| s.1.len());
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.1.iter())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let pad = 0.05 * (hi - lo).max(1.0);
    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_err(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n as f64, (lo - pad)..(hi + pad))
        .map_err(|e| draw_err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("hour of the week")
        .y_desc(unit)
        .draw()
        .map_err(|e| draw_err(path, e))?;
    for (k, (name, values)) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                values.iter().enumerate().map(|(i, v)| (i as f64, *v)),
                color.stroke_width(2),
            ))
            .map_err(|e| draw_err(path, e))?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| draw_err(path, e))?;
    root.present().map_err(|e| draw_err(path, e))
}

/// Mean absolute error by hour of day for several forecasters.
pub fn plot_error_by_hour(
    path: &Path,
    title: &str,
    unit: &str,
    series: &[(&str, [f64; 24])],
) -> Result<(), AnalyticsError> {
    let hi = series
        .iter()
        .flat_map(|s| s.1.iter())
        .fold(0.0f64, |a, v| a.max(*v));
    let root = SVGBackend::new(path, (800, 400)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_err(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..23f64, 0f64..hi * 1.1)
        .map_err(|e| draw_err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("hour of day")
        .y_desc(format!("MAE ({unit})"))
        .draw()
        .map_err(|e| draw_err(path, e))?;
    for (k, (name, values)) in series.iter().enumerate() {
        let color = COLORS[(k + 1) % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                values.iter().enumerate().map(|(h, v)| (h as f64, *v)),
                color.stroke_width(2),
            ))
            .map_err(|e| draw_err(path, e))?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| draw_err(path, e))?;
    root.present().map_err(|e| draw_err(path, e))
}

/// MAE by hour of day of daily forecasts.
pub fn mae_by_hour(actual: &[[f64; 24]], forecast: &[[f64; 24]]) -> [f64; 24] {
    let n = actual.len().max(1) as f64;
    std::array::from_fn(|h| {
        actual
            .iter()
            .zip(forecast)
            .map(|(a, f)| (a[h] - f[h]).abs())
            .sum::<f64>()
            / n
    })
}
