//! Price curves of a clearing result as SVG (plotters, SVG backend only):
//! per interval the minimum, mean and maximum LMP over all buses and the
//! energy price of the first island. Writes one file; computes nothing new.

use std::path::Path;

use plotters::prelude::*;

use crate::error::ClearingError;
use crate::result::ClearingResult;

/// Write `lmp.svg`-style price curves of `result` to `path`.
pub fn write_price_svg(result: &ClearingResult, path: &Path) -> Result<(), ClearingError> {
    let werr = |e: String| ClearingError::Write {
        path: path.display().to_string(),
        message: e,
    };
    let n = result.results.len();
    let mut series: [Vec<(f64, f64)>; 4] = Default::default();
    for r in &result.results {
        let x = r.interval as f64;
        let lmps = r.lmp.iter().map(|p| p.lmp_per_mwh);
        let min = lmps.clone().fold(f64::INFINITY, f64::min);
        let max = lmps.clone().fold(f64::NEG_INFINITY, f64::max);
        let mean = lmps.sum::<f64>() / r.lmp.len().max(1) as f64;
        series[0].push((x, min));
        series[1].push((x, mean));
        series[2].push((x, max));
        series[3].push((x, r.energy_price_per_mwh.first().copied().unwrap_or(0.0)));
    }
    let lo = series
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(f64::INFINITY, f64::min);
    let hi = series
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.1).max(1.0);
    let root = SVGBackend::new(path, (900, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| werr(e.to_string()))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("LMP by interval — {}", result.case_name),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5..(n as f64 + 0.5), (lo - pad)..(hi + pad))
        .map_err(|e| werr(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("interval")
        .y_desc("$/MWh")
        .draw()
        .map_err(|e| werr(e.to_string()))?;
    let styles = [
        ("min LMP", BLUE),
        ("mean LMP", BLACK),
        ("max LMP", RED),
        ("energy price", GREEN),
    ];
    for (data, (label, color)) in series.iter().zip(styles) {
        chart
            .draw_series(LineSeries::new(data.iter().copied(), color.stroke_width(2)))
            .map_err(|e| werr(e.to_string()))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| werr(e.to_string()))?;
    root.present().map_err(|e| werr(e.to_string()))?;
    Ok(())
}
