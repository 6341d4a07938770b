//! The Voltex chart palette: every colour, font, size and margin a chart may
//! use, each defined once here. Series colours follow the Tableau-10 order
//! (colour-blind friendly, distinct in print); text, axes and frames are
//! [`Colour::Ink`] on [`Colour::Paper`], grid lines [`Colour::Grid`].
//!
//! Only constants live here; drawing is in [`crate::line`].

use plotters::style::RGBColor;

/// A named colour of the palette. Charts take colours only from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Colour {
    Blue,
    Orange,
    Green,
    Red,
    Purple,
    Brown,
    Pink,
    Grey,
    Olive,
    Cyan,
    /// Text, axes, frames, and a reference line (e.g. the actual values).
    Ink,
    /// The background.
    Paper,
    /// Grid lines.
    Grid,
}

impl Colour {
    /// Every colour of the palette.
    pub const ALL: [Colour; 13] = [
        Colour::Blue,
        Colour::Orange,
        Colour::Green,
        Colour::Red,
        Colour::Purple,
        Colour::Brown,
        Colour::Pink,
        Colour::Grey,
        Colour::Olive,
        Colour::Cyan,
        Colour::Ink,
        Colour::Paper,
        Colour::Grid,
    ];

    /// Red, green and blue components.
    pub const fn rgb(self) -> (u8, u8, u8) {
        match self {
            Colour::Blue => (31, 119, 180),
            Colour::Orange => (255, 127, 14),
            Colour::Green => (44, 160, 44),
            Colour::Red => (214, 39, 40),
            Colour::Purple => (148, 103, 189),
            Colour::Brown => (140, 86, 75),
            Colour::Pink => (227, 119, 194),
            Colour::Grey => (127, 127, 127),
            Colour::Olive => (188, 189, 34),
            Colour::Cyan => (23, 190, 207),
            Colour::Ink => (34, 34, 34),
            Colour::Paper => (255, 255, 255),
            Colour::Grid => (221, 221, 221),
        }
    }

    /// `#RRGGBB`, upper case, as the SVG backend writes it.
    pub fn hex(self) -> String {
        let (r, g, b) = self.rgb();
        format!("#{r:02X}{g:02X}{b:02X}")
    }

    pub(crate) fn plotters(self) -> RGBColor {
        let (r, g, b) = self.rgb();
        RGBColor(r, g, b)
    }
}

/// The colours series take in turn when they name none.
pub const SERIES: [Colour; 10] = [
    Colour::Blue,
    Colour::Orange,
    Colour::Green,
    Colour::Red,
    Colour::Purple,
    Colour::Brown,
    Colour::Pink,
    Colour::Grey,
    Colour::Olive,
    Colour::Cyan,
];

/// The font family of every text.
pub const FONT: &str = "sans-serif";
/// Panel titles (pt).
pub const TITLE_SIZE: u32 = 18;
/// Axis descriptions and tick labels (pt).
pub const LABEL_SIZE: u32 = 13;
/// Legend entries (pt).
pub const LEGEND_SIZE: u32 = 12;

/// Width of a series line (px).
pub const LINE_WIDTH: u32 = 2;
/// Length of the line sample drawn in the legend (px).
pub const LEGEND_SAMPLE: i32 = 20;
/// Opacity of the legend's background.
pub const LEGEND_OPACITY: f64 = 0.85;

/// Space around each panel (px).
pub const MARGIN: u32 = 12;
/// Height of the area under the plot for x labels (px).
pub const X_LABEL_AREA: u32 = 40;
/// Width of the area left of the plot for y labels (px).
pub const Y_LABEL_AREA: u32 = 70;

/// A full-width single chart (px).
pub const WIDE_PANEL: (u32, u32) = (1000, 450);
/// One cell of a grid of panels (px).
pub const GRID_PANEL: (u32, u32) = (520, 360);
/// One strip of a stack of panels sharing the x axis (px).
pub const STRIP_PANEL: (u32, u32) = (1000, 260);

/// Every `#RRGGBB` colour written in `svg` that is not in the palette.
pub fn foreign_colours(svg: &str) -> Vec<String> {
    let palette: Vec<String> = Colour::ALL.iter().map(|c| c.hex()).collect();
    let mut found: Vec<String> = Vec::new();
    let bytes = svg.as_bytes();
    for (i, _) in svg.match_indices('#') {
        let Some(code) = bytes.get(i + 1..i + 7) else {
            continue;
        };
        if !code.iter().all(u8::is_ascii_hexdigit) {
            continue;
        }
        let hex = format!("#{}", String::from_utf8_lossy(code).to_ascii_uppercase());
        if !palette.contains(&hex) && !found.contains(&hex) {
            found.push(hex);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_colours_are_distinct() {
        let hexes: Vec<String> = Colour::ALL.iter().map(|c| c.hex()).collect();
        for (i, h) in hexes.iter().enumerate() {
            assert!(!hexes[i + 1..].contains(h), "{h} twice in the palette");
        }
    }

    #[test]
    fn series_colours_are_not_the_background_or_grid() {
        assert!(!SERIES.contains(&Colour::Paper));
        assert!(!SERIES.contains(&Colour::Grid));
    }

    #[test]
    fn foreign_colours_finds_only_colours_outside_the_palette() {
        let svg = r##"<rect fill="#FFFFFF"/><path stroke="#1f77b4"/><path stroke="#0000FF"/>"##;
        assert_eq!(foreign_colours(svg), vec!["#0000FF".to_string()]);
    }
}
