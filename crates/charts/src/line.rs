//! Line charts: one or more panels of named series, laid out in a grid,
//! drawn with the [`crate::palette`] and written as SVG. Every chart of
//! Voltex is a [`Figure`] of [`Panel`]s; the domain crates only fill in the
//! series. Axis ranges are the one thing computed here (data extent, with a
//! margin on y); points that are not finite are skipped.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::ChartError;
use crate::palette::{self, Colour};

/// One named line of (x, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// `None`: the next colour of [`palette::SERIES`] by position in the panel.
    pub colour: Option<Colour>,
}

impl Series {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points,
            colour: None,
        }
    }

    /// A series of values at x = 0, 1, 2, …
    pub fn indexed(name: impl Into<String>, values: impl IntoIterator<Item = f64>) -> Self {
        Self::new(
            name,
            values
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i as f64, v))
                .collect(),
        )
    }

    /// Draw this series in `colour` instead of its turn in the cycle.
    pub fn coloured(mut self, colour: Colour) -> Self {
        self.colour = Some(colour);
        self
    }

    fn finite_points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }
}

/// Where a panel's legend goes. A legend is drawn only when the panel has
/// two or more series; a lone line is named by the panel's title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Legend {
    #[default]
    UpperRight,
    UpperLeft,
    LowerRight,
    LowerLeft,
    Hidden,
}

/// One chart: title, axis descriptions, series and optional fixed ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Fixed x range; `None`: the data's extent.
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range; `None`: the data's extent plus 5 % either side.
    pub y_range: Option<(f64, f64)>,
    /// Widen the automatic y range to show 0.
    pub y_with_zero: bool,
    pub legend: Legend,
}

impl Panel {
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
        series: Vec<Series>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series,
            x_range: None,
            y_range: None,
            y_with_zero: false,
            legend: Legend::default(),
        }
    }

    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    pub fn with_zero(mut self) -> Self {
        self.y_with_zero = true;
        self
    }

    pub fn legend(mut self, legend: Legend) -> Self {
        self.legend = legend;
        self
    }

    fn ranges(&self) -> Result<(Range, Range), ChartError> {
        let points = || self.series.iter().flat_map(Series::finite_points);
        if points().next().is_none() {
            return Err(ChartError::EmptyPanel {
                title: self.title.clone(),
            });
        }
        let x = self
            .x_range
            .unwrap_or_else(|| extent(points().map(|p| p.0), 0.0));
        let zero = self.y_with_zero.then_some(0.0);
        let y = self
            .y_range
            .unwrap_or_else(|| extent(points().map(|p| p.1).chain(zero), 0.05));
        Ok((x, y))
    }
}

/// An axis range (low, high).
type Range = (f64, f64);

/// Smallest and largest value, widened by `pad` × span either side; a span
/// of (nearly) zero is widened to 1.
fn extent(values: impl Iterator<Item = f64>, pad: f64) -> Range {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if hi - lo < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = pad * (hi - lo);
    (lo - pad, hi + pad)
}

/// Panels laid out row by row in `columns` columns, each `panel_size` pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub panels: Vec<Panel>,
    pub columns: usize,
    pub panel_size: (u32, u32),
}

impl Figure {
    /// One full-width chart.
    pub fn single(panel: Panel) -> Self {
        Self {
            panels: vec![panel],
            columns: 1,
            panel_size: palette::WIDE_PANEL,
        }
    }

    /// A grid of small panels, `columns` wide.
    pub fn grid(panels: Vec<Panel>, columns: usize) -> Self {
        Self {
            panels,
            columns: columns.max(1),
            panel_size: palette::GRID_PANEL,
        }
    }

    /// Full-width strips stacked one above the other.
    pub fn stack(panels: Vec<Panel>) -> Self {
        Self {
            panels,
            columns: 1,
            panel_size: palette::STRIP_PANEL,
        }
    }

    /// Size of the whole picture in pixels.
    pub fn size(&self) -> (u32, u32) {
        let columns = self.columns.max(1);
        let rows = self.panels.len().div_ceil(columns).max(1);
        (
            self.panel_size.0 * columns as u32,
            self.panel_size.1 * rows as u32,
        )
    }
}

/// The figure as SVG text.
pub fn render_svg(figure: &Figure) -> Result<String, ChartError> {
    if figure.panels.is_empty() {
        return Err(ChartError::NoPanels);
    }
    let ranges = figure
        .panels
        .iter()
        .map(Panel::ranges)
        .collect::<Result<Vec<_>, _>>()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, figure.size()).into_drawing_area();
        let whole = |e: &dyn std::fmt::Display| ChartError::Draw {
            title: figure.panels[0].title.clone(),
            reason: e.to_string(),
        };
        root.fill(&Colour::Paper.plotters())
            .map_err(|e| whole(&e))?;
        let columns = figure.columns.max(1);
        let rows = figure.panels.len().div_ceil(columns);
        let areas = root.split_evenly((rows, columns));
        for ((panel, (x, y)), area) in figure.panels.iter().zip(ranges).zip(&areas) {
            draw_panel(area, panel, x, y).map_err(|reason| ChartError::Draw {
                title: panel.title.clone(),
                reason,
            })?;
        }
        root.present().map_err(|e| whole(&e))?;
    }
    Ok(svg)
}

/// Render the figure and write it to `path`.
pub fn write_svg(path: &Path, figure: &Figure) -> Result<(), ChartError> {
    let svg = render_svg(figure)?;
    std::fs::write(path, svg).map_err(|source| ChartError::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn text(size: u32) -> TextStyle<'static> {
    (palette::FONT, size)
        .into_font()
        .color(&Colour::Ink.plotters())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    (x0, x1): Range,
    (y0, y1): Range,
) -> Result<(), String> {
    let ink = Colour::Ink.plotters();
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, text(palette::TITLE_SIZE))
        .margin(palette::MARGIN)
        .x_label_area_size(palette::X_LABEL_AREA)
        .y_label_area_size(palette::Y_LABEL_AREA)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    let mut mesh = chart.configure_mesh();
    mesh.axis_style(ink)
        .bold_line_style(Colour::Grid.plotters())
        .max_light_lines(0)
        .label_style(text(palette::LABEL_SIZE))
        .axis_desc_style(text(palette::LABEL_SIZE));
    if !panel.x_label.is_empty() {
        mesh.x_desc(panel.x_label.as_str());
    }
    if !panel.y_label.is_empty() {
        mesh.y_desc(panel.y_label.as_str());
    }
    mesh.draw().map_err(|e| e.to_string())?;
    for (i, s) in panel.series.iter().enumerate() {
        let colour = s
            .colour
            .unwrap_or(palette::SERIES[i % palette::SERIES.len()])
            .plotters();
        let style = colour.stroke_width(palette::LINE_WIDTH);
        chart
            .draw_series(LineSeries::new(s.finite_points(), style))
            .map_err(|e| e.to_string())?
            .label(s.name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + palette::LEGEND_SAMPLE, y)], style)
            });
    }
    let position = match panel.legend {
        _ if panel.series.len() < 2 => return Ok(()),
        Legend::Hidden => return Ok(()),
        Legend::UpperRight => SeriesLabelPosition::UpperRight,
        Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
        Legend::LowerRight => SeriesLabelPosition::LowerRight,
        Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
    };
    chart
        .configure_series_labels()
        .position(position)
        .background_style(Colour::Paper.plotters().mix(palette::LEGEND_OPACITY))
        .border_style(ink)
        .label_font(text(palette::LEGEND_SIZE))
        .draw()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::palette::foreign_colours;

    fn sample_panel(title: &str, n: usize) -> Panel {
        Panel::new(
            title,
            "hour",
            "$/MWh",
            vec![
                Series::indexed("min", (0..n).map(|i| (i as f64).sin())),
                Series::indexed("max", (0..n).map(|i| 2.0 + (i as f64).cos())),
                Series::indexed("actual", (0..n).map(|i| i as f64 * 0.1)).coloured(Colour::Ink),
            ],
        )
    }

    /// Tags open and close in order, and the document is one `<svg>` element.
    fn assert_well_formed(svg: &str) {
        let body = svg.trim();
        let body = match body.strip_prefix("<?xml") {
            Some(rest) => &rest[rest.find("?>").expect("xml declaration ends") + 2..],
            None => body,
        };
        assert!(body.trim_start().starts_with("<svg"), "starts with <svg");
        let mut open: Vec<String> = Vec::new();
        let mut rest = body;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').expect("every tag closes") + start;
            let tag = &rest[start + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(
                    open.pop().as_deref(),
                    Some(name.trim()),
                    "closing tag order"
                );
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().expect("tag name");
                open.push(name.to_string());
            }
            rest = &rest[end + 1..];
            if open.is_empty() {
                assert!(rest.trim().is_empty(), "nothing after </svg>");
            }
        }
        assert!(open.is_empty(), "unclosed tags {open:?}");
    }

    #[test]
    fn a_single_chart_renders_well_formed_svg_of_its_size() {
        let svg = render_svg(&Figure::single(sample_panel("prices", 24))).unwrap();
        assert_well_formed(&svg);
        assert!(svg.contains(r#"width="1000""#) && svg.contains(r#"height="450""#));
        assert!(svg.contains("prices") && svg.contains("$/MWh"));
    }

    #[test]
    fn every_builder_uses_only_palette_colours() {
        let figures = [
            Figure::single(sample_panel("one", 24)),
            Figure::grid(
                vec![
                    sample_panel("a", 10),
                    sample_panel("b", 10),
                    sample_panel("c", 3),
                ],
                2,
            ),
            Figure::stack(vec![
                sample_panel("top", 48).with_zero(),
                sample_panel("bottom", 48)
                    .y_range(-1.1, 1.6)
                    .legend(Legend::UpperLeft),
            ]),
        ];
        for figure in &figures {
            let svg = render_svg(figure).unwrap();
            assert_well_formed(&svg);
            assert_eq!(foreign_colours(&svg), Vec::<String>::new());
        }
    }

    #[test]
    fn series_take_palette_colours_in_turn_unless_they_name_one() {
        let svg = render_svg(&Figure::single(sample_panel("turns", 5))).unwrap();
        for colour in [Colour::Blue, Colour::Orange, Colour::Ink] {
            assert!(svg.contains(&colour.hex()), "{colour:?} drawn");
        }
        assert!(
            !svg.contains(&Colour::Green.hex()),
            "third series named its colour"
        );
    }

    #[test]
    fn a_grid_is_as_large_as_its_rows_and_columns() {
        let figure = Figure::grid(vec![sample_panel("a", 4); 5], 2);
        assert_eq!(figure.size(), (2 * 520, 3 * 360));
    }

    #[test]
    fn a_figure_without_panels_is_refused() {
        let err = render_svg(&Figure::grid(vec![], 2)).unwrap_err();
        assert!(matches!(err, ChartError::NoPanels));
    }

    #[test]
    fn a_panel_without_finite_points_is_refused_by_title() {
        let empty = Panel::new("empty one", "x", "y", vec![Series::new("s", vec![])]);
        let nan = Panel::new(
            "nan",
            "x",
            "y",
            vec![Series::new("s", vec![(0.0, f64::NAN)])],
        );
        for (panel, title) in [(empty, "empty one"), (nan, "nan")] {
            let err = render_svg(&Figure::grid(vec![sample_panel("ok", 3), panel], 2)).unwrap_err();
            assert!(matches!(&err, ChartError::EmptyPanel { title: t } if t == title));
            assert!(err.to_string().contains(title));
        }
        let none = Panel::new("no series", "x", "y", vec![]);
        assert!(render_svg(&Figure::single(none)).is_err());
    }

    #[test]
    fn points_that_are_not_finite_are_skipped() {
        let panel = Panel::new(
            "gaps",
            "x",
            "y",
            vec![Series::new(
                "s",
                vec![(0.0, 1.0), (1.0, f64::INFINITY), (2.0, 3.0)],
            )],
        );
        let svg = render_svg(&Figure::single(panel)).unwrap();
        assert!(!svg.contains("inf") && !svg.contains("NaN"));
    }

    #[test]
    fn a_flat_series_gets_a_visible_range() {
        assert_eq!(extent([2.0, 2.0].into_iter(), 0.05), (1.5, 2.5));
        let (lo, hi) = extent([0.0, 10.0].into_iter(), 0.05);
        assert!((lo + 0.5).abs() < 1e-12 && (hi - 10.5).abs() < 1e-12);
    }

    #[test]
    fn with_zero_widens_the_y_range_to_zero() {
        let panel = Panel::new("z", "x", "y", vec![Series::indexed("s", [5.0, 6.0])]).with_zero();
        let (_, (lo, _)) = panel.ranges().unwrap();
        assert!(lo < 0.0);
    }

    #[test]
    fn write_svg_writes_the_rendered_text_and_names_the_path_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chart.svg");
        let figure = Figure::single(sample_panel("file", 6));
        write_svg(&path, &figure).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            render_svg(&figure).unwrap()
        );
        let bad = dir.path().join("missing").join("chart.svg");
        let err = write_svg(&bad, &figure).unwrap_err();
        assert!(err.to_string().contains("missing"));
    }
}
