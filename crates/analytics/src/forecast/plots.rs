//! SVG figures of forecasts: forecast against actual over a sample week, and
//! mean absolute error by hour of day, as voltex-charts figures. Pictures
//! only; no metrics decided here.

use std::path::Path;

use voltex_charts::palette::SERIES;
use voltex_charts::{Colour, Figure, Panel, Series};

use crate::error::AnalyticsError;

/// Line chart of several hourly series over the same hours; the first is
/// the actual and is drawn in ink, the forecasts in the palette's turn.
pub fn week_figure(title: &str, unit: &str, series: &[(&str, &[f64])]) -> Figure {
    let lines = series
        .iter()
        .enumerate()
        .map(|(k, (name, values))| {
            let line = Series::indexed(*name, values.iter().copied());
            if k == 0 {
                line.coloured(Colour::Ink)
            } else {
                line.coloured(SERIES[(k - 1) % SERIES.len()])
            }
        })
        .collect();
    Figure::single(Panel::new(title, "hour of the week", unit, lines))
}

/// Mean absolute error by hour of day for several forecasters, in the same
/// colours as their lines in [`week_figure`].
pub fn error_by_hour_figure(title: &str, unit: &str, series: &[(&str, [f64; 24])]) -> Figure {
    let lines = series
        .iter()
        .map(|(name, values)| Series::indexed(*name, values.iter().copied()))
        .collect();
    Figure::single(
        Panel::new(title, "hour of day", format!("MAE ({unit})"), lines)
            .x_range(0.0, 23.0)
            .with_zero(),
    )
}

/// Write [`week_figure`] to `path`.
pub fn plot_week(
    path: &Path,
    title: &str,
    unit: &str,
    series: &[(&str, &[f64])],
) -> Result<(), AnalyticsError> {
    Ok(voltex_charts::write_svg(
        path,
        &week_figure(title, unit, series),
    )?)
}

/// Write [`error_by_hour_figure`] to `path`.
pub fn plot_error_by_hour(
    path: &Path,
    title: &str,
    unit: &str,
    series: &[(&str, [f64; 24])],
) -> Result<(), AnalyticsError> {
    Ok(voltex_charts::write_svg(
        path,
        &error_by_hour_figure(title, unit, series),
    )?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use voltex_charts::palette::foreign_colours;
    use voltex_charts::render_svg;

    #[test]
    fn a_forecaster_has_the_same_colour_in_the_week_and_error_charts() {
        let actual = [1.0, 2.0, 3.0];
        let lear = [1.5, 2.5, 2.0];
        let week = week_figure("w", "EUR", &[("actual", &actual), ("LEAR", &lear)]);
        let hourly = error_by_hour_figure("e", "EUR", &[("LEAR", [1.0; 24])]);
        assert_eq!(week.panels[0].series[0].colour, Some(Colour::Ink));
        let hourly_svg = render_svg(&hourly).unwrap();
        assert_eq!(week.panels[0].series[1].colour, Some(SERIES[0]));
        assert!(hourly_svg.contains(&SERIES[0].hex()));
        for svg in [render_svg(&week).unwrap(), hourly_svg] {
            assert!(foreign_colours(&svg).is_empty());
        }
    }

    #[test]
    fn an_empty_week_is_a_clear_error_not_a_panic() {
        let err =
            plot_week(Path::new("unused.svg"), "empty", "EUR", &[("actual", &[])]).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        assert!(!Path::new("unused.svg").exists());
    }
}
