//! Load shapes: one factor per interval that scales the case's bus loads.
//! The default 24-hour shape is ISO-NE's demand on 2017-01-09 normalised to
//! its peak (data/load_shapes/PROVENANCE.md); users give their own as a JSON
//! array. This module only reads and checks shapes.

use std::path::Path;

use crate::error::ClearingError;

/// The shipped default: ISO-NE system demand, 2017-01-09, hour ending 1..24, / daily peak.
pub const ISONE_2017_01_09: [f64; 24] = [
    0.698442, 0.685844, 0.683542, 0.689969, 0.713023, 0.772555, 0.874302, 0.92936, 0.934474,
    0.931377, 0.926759, 0.919391, 0.910612, 0.907067, 0.90099, 0.904844, 0.943127, 1.0, 0.998073,
    0.976975, 0.942638, 0.885019, 0.816585, 0.75605,
];

/// Parse a JSON array of non-negative finite factors.
pub fn parse_load_shape(text: &str) -> Result<Vec<f64>, ClearingError> {
    let v: Vec<f64> = serde_json::from_str(text)
        .map_err(|e| ClearingError::LoadShape(format!("expected a JSON array of numbers: {e}")))?;
    if v.is_empty() {
        return Err(ClearingError::LoadShape("the array is empty".into()));
    }
    if let Some((i, f)) = v
        .iter()
        .enumerate()
        .find(|(_, f)| !f.is_finite() || **f < 0.0)
    {
        return Err(ClearingError::LoadShape(format!(
            "factor {i} is {f}; factors must be finite and non-negative"
        )));
    }
    Ok(v)
}

/// Read a load-shape file.
pub fn read_load_shape(path: &Path) -> Result<Vec<f64>, ClearingError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ClearingError::LoadShape(format!("cannot read {}: {e}", path.display())))?;
    parse_load_shape(&text)
        .map_err(|e| ClearingError::LoadShape(format!("{}: {e}", path.display())))
}

/// The factors for `intervals` intervals from a (typically 24-value) shape:
/// equal lengths are used as they are; otherwise each interval takes the
/// factor of the shape entry covering its midpoint (e.g. 96 quarter hours
/// from 24 hours).
pub fn resample(shape: &[f64], intervals: usize) -> Vec<f64> {
    if shape.len() == intervals || shape.is_empty() {
        return shape.to_vec();
    }
    (0..intervals)
        .map(|t| {
            let mid = (t as f64 + 0.5) / intervals as f64;
            let k = ((mid * shape.len() as f64) as usize).min(shape.len() - 1);
            shape[k]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_file_equals_the_built_in_shape() {
        let path =
            voltex_formats::datadir::bundled_data_dir().join("load_shapes/isone_2017-01-09.json");
        assert_eq!(read_load_shape(&path).unwrap(), ISONE_2017_01_09.to_vec());
    }

    #[test]
    fn rejects_negative_factor_naming_it() {
        let e = parse_load_shape("[1.0, -0.5]").unwrap_err().to_string();
        assert!(e.contains("factor 1 is -0.5"), "{e}");
    }

    #[test]
    fn resamples_hours_to_quarter_hours() {
        let q = resample(&ISONE_2017_01_09, 96);
        assert_eq!(q.len(), 96);
        assert_eq!(q[0], ISONE_2017_01_09[0]);
        assert_eq!(q[95], ISONE_2017_01_09[23]);
        assert_eq!(q[4 * 17 + 2], 1.0);
    }
}
