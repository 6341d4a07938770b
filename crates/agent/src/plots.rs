//! SVG pictures of the results: cumulative profit curves and the two-day
//! strategy plot (actions against prices). Drawing only; no numbers are
//! computed here.

use std::path::Path;

use plotters::prelude::*;

use crate::env::StepRecord;
use crate::error::{AgentError, Result};

const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(60, 60, 60),
];

fn out_err(path: &Path, e: impl std::fmt::Display) -> AgentError {
    AgentError::Output {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// One line per policy: cumulative profit minus cumulative all-day-ahead profit.
pub fn excess_profit_svg(
    path: &Path,
    title: &str,
    currency: &str,
    curves: &[(String, Vec<f64>)],
) -> Result<()> {
    let root = SVGBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| out_err(path, e))?;
    let n = curves.iter().map(|c| c.1.len()).max().unwrap_or(1).max(1);
    let (lo, hi) = range(curves.iter().flat_map(|c| c.1.iter().copied()).chain([0.0]));
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..n as f64, lo..hi)
        .map_err(|e| out_err(path, e))?;
    chart
        .configure_mesh()
        .x_desc("test interval")
        .y_desc(format!("cumulative profit − all-day-ahead ({currency})"))
        .draw()
        .map_err(|e| out_err(path, e))?;
    for (i, (name, curve)) in curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(
                curve.iter().enumerate().map(|(t, v)| (t as f64, *v)),
                color.stroke_width(2),
            ))
            .map_err(|e| out_err(path, e))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| out_err(path, e))?;
    root.present().map_err(|e| out_err(path, e))
}

/// Top panel: DA and RT prices; one panel per policy: a₁ (day-ahead share of
/// D̂), a₂ (shift share of the limit) and the storage level over E_max.
pub fn strategy_svg(
    path: &Path,
    market: &str,
    currency: &str,
    policies: &[(String, Vec<StepRecord>)],
) -> Result<()> {
    let panels = 1 + policies.len();
    let root = SVGBackend::new(path, (1000, 250 * panels as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| out_err(path, e))?;
    let areas = root.split_evenly((panels, 1));
    let Some((_, first)) = policies.first() else {
        return root.present().map_err(|e| out_err(path, e));
    };
    let n = first.len().max(1) as f64;
    let has_da = first.iter().any(|s| s.da_price_per_mwh != 0.0);
    let (lo, hi) = range(first.iter().flat_map(|s| {
        [
            s.rt_price_per_mwh,
            if has_da {
                s.da_price_per_mwh
            } else {
                s.rt_price_per_mwh
            },
        ]
    }));
    let mut chart = ChartBuilder::on(&areas[0])
        .caption(
            format!("{market}: prices over the first two test days"),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..n, lo..hi)
        .map_err(|e| out_err(path, e))?;
    chart
        .configure_mesh()
        .y_desc(format!("{currency}/MWh"))
        .draw()
        .map_err(|e| out_err(path, e))?;
    let mut series: Vec<(&str, Vec<f64>)> = vec![(
        "real-time price",
        first.iter().map(|s| s.rt_price_per_mwh).collect(),
    )];
    if has_da {
        series.push((
            "day-ahead price",
            first.iter().map(|s| s.da_price_per_mwh).collect(),
        ));
    }
    for (i, (name, v)) in series.into_iter().enumerate() {
        let color = PALETTE[i];
        chart
            .draw_series(LineSeries::new(
                v.into_iter().enumerate().map(|(t, p)| (t as f64, p)),
                color.stroke_width(2),
            ))
            .map_err(|e| out_err(path, e))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| out_err(path, e))?;
    let e_max = policies
        .iter()
        .flat_map(|p| p.1.iter().map(|s| s.storage_mwh.abs()))
        .fold(1e-9, f64::max);
    for (j, (name, steps)) in policies.iter().enumerate() {
        let mut chart = ChartBuilder::on(&areas[j + 1])
            .caption(format!("{name}: actions"), ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..n, -1.1f64..1.6f64)
            .map_err(|e| out_err(path, e))?;
        chart
            .configure_mesh()
            .draw()
            .map_err(|e| out_err(path, e))?;
        let mut lines: Vec<(&str, Vec<f64>)> = vec![
            (
                "a2 shift (share of limit)",
                steps.iter().map(|s| s.action.a2_shift).collect(),
            ),
            (
                "storage / max |storage| shown",
                steps.iter().map(|s| s.storage_mwh / e_max).collect(),
            ),
        ];
        if has_da {
            lines.insert(
                0,
                (
                    "a1 day-ahead (share of D̂)",
                    steps.iter().map(|s| s.action.a1_day_ahead).collect(),
                ),
            );
        }
        for (i, (label, v)) in lines.into_iter().enumerate() {
            let color = PALETTE[(i + 2) % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    v.into_iter().enumerate().map(|(t, p)| (t as f64, p)),
                    color.stroke_width(2),
                ))
                .map_err(|e| out_err(path, e))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| out_err(path, e))?;
    }
    root.present().map_err(|e| out_err(path, e))
}
