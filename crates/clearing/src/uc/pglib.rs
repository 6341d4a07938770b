//! Reading PGLib-UC instances (JSON, or gzip-compressed JSON ending in
//! `.gz`) into a [`UcInput`]. Field names follow PGLib-UC's MODEL.tex:
//! `time_periods, demand, reserves, thermal_generators{...},
//! renewable_generators{...}`. Units are kept in the file's (sorted) key
//! order so runs are reproducible.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::{CostPoint, RenewableUnit, StartupTier, ThermalUnit, UcInput, UcSettings};
use crate::error::ClearingError;

#[derive(Deserialize)]
struct File {
    time_periods: usize,
    demand: Vec<f64>,
    #[serde(default)]
    reserves: Vec<f64>,
    thermal_generators: BTreeMap<String, Thermal>,
    #[serde(default)]
    renewable_generators: BTreeMap<String, Renewable>,
}

#[derive(Deserialize)]
struct Thermal {
    #[serde(default)]
    must_run: u8,
    power_output_minimum: f64,
    power_output_maximum: f64,
    ramp_up_limit: f64,
    ramp_down_limit: f64,
    ramp_startup_limit: f64,
    ramp_shutdown_limit: f64,
    time_up_minimum: usize,
    time_down_minimum: usize,
    power_output_t0: f64,
    unit_on_t0: u8,
    time_up_t0: usize,
    time_down_t0: usize,
    startup: Vec<Startup>,
    piecewise_production: Vec<Piece>,
}

#[derive(Deserialize)]
struct Startup {
    lag: usize,
    cost: f64,
}

#[derive(Deserialize)]
struct Piece {
    mw: f64,
    cost: f64,
}

#[derive(Deserialize)]
struct Renewable {
    power_output_minimum: Vec<f64>,
    power_output_maximum: Vec<f64>,
}

/// Parse PGLib-UC JSON text; `name` labels the instance.
pub fn parse_pglib_uc(text: &str, name: &str) -> Result<UcInput, ClearingError> {
    let f: File = serde_json::from_str(text).map_err(|e| ClearingError::UcFile {
        path: name.to_string(),
        message: e.to_string(),
    })?;
    let thermal = f
        .thermal_generators
        .into_iter()
        .map(|(name, g)| ThermalUnit {
            name,
            must_run: g.must_run != 0,
            pmin_mw: g.power_output_minimum,
            pmax_mw: g.power_output_maximum,
            ramp_up_mw: g.ramp_up_limit,
            ramp_down_mw: g.ramp_down_limit,
            startup_ramp_mw: g.ramp_startup_limit,
            shutdown_ramp_mw: g.ramp_shutdown_limit,
            min_up_h: g.time_up_minimum,
            min_down_h: g.time_down_minimum,
            initial_output_mw: g.power_output_t0,
            initially_on: g.unit_on_t0 != 0,
            initial_up_h: g.time_up_t0,
            initial_down_h: g.time_down_t0,
            startup: g
                .startup
                .into_iter()
                .map(|s| StartupTier {
                    lag_h: s.lag,
                    cost: s.cost,
                })
                .collect(),
            cost_curve: g
                .piecewise_production
                .into_iter()
                .map(|p| CostPoint {
                    mw: p.mw,
                    cost_per_h: p.cost,
                })
                .collect(),
        })
        .collect();
    let renewable = f
        .renewable_generators
        .into_iter()
        .map(|(name, w)| RenewableUnit {
            name,
            pmin_mw: w.power_output_minimum,
            pmax_mw: w.power_output_maximum,
        })
        .collect();
    Ok(UcInput {
        name: name.to_string(),
        periods: f.time_periods,
        demand_mw: f.demand,
        reserve_mw: f.reserves,
        thermal,
        renewable,
        settings: UcSettings::default(),
    })
}

/// Read a PGLib-UC file (`.json` or `.json.gz`); the instance is named
/// after the file.
pub fn read_pglib_uc(path: &Path) -> Result<UcInput, ClearingError> {
    let fail = |message: String| ClearingError::UcFile {
        path: path.display().to_string(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let text = if path.extension().is_some_and(|e| e == "gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .map_err(|e| fail(format!("gzip: {e}")))?;
        s
    } else {
        String::from_utf8(bytes).map_err(|e| fail(e.to_string()))?
    };
    let name = path
        .file_name()
        .map(|n| {
            n.to_string_lossy()
                .trim_end_matches(".gz")
                .trim_end_matches(".json")
                .to_string()
        })
        .unwrap_or_default();
    parse_pglib_uc(&text, &name).map_err(|e| match e {
        ClearingError::UcFile { message, .. } => fail(message),
        other => other,
    })
}
