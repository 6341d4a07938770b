//! MATPOWER case files (`.m`, case format version 2): the reader that turns a
//! case into a `voltex_model::network::Network` plus its generators and cost
//! curves, and a writer for the same subset.
//!
//! The reader understands the statements MATPOWER and PGLib-OPF cases use:
//! `function mpc = name`, `mpc.version = '2';`, `mpc.baseMVA = 100;` and the
//! matrices `mpc.bus`, `mpc.gen`, `mpc.branch`, `mpc.gencost` (rows separated
//! by `;` or new lines, entries by blanks or commas, `%` comments, `Inf`/`NaN`).
//! Other `mpc.*` matrices and cell arrays (`mpc.areas`, `mpc.bus_name`) are
//! read past and ignored. Errors point at the line (and column where it can).
//! This module does no solving and does not touch the file system except in
//! `parse_case_file`.
//!
//! `read` holds the reader (the statement scanner and one function per
//! matrix), `write` the writer; the case, generator and cost types and the
//! error are here. The scanner, `read::parse_case`, stays one function: it
//! is a single state machine over the lines (top level, inside a matrix,
//! inside a cell array) whose states share the line, row and column counters.

mod read;
mod write;

pub use read::{parse_case, parse_case_file};
pub use write::write_case;

use serde::{Deserialize, Serialize};
use voltex_model::network::{Network, NetworkError};

/// A parsed MATPOWER case: the network and the generators connected to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatpowerCase {
    pub network: Network,
    pub generators: Vec<CaseGenerator>,
}

/// One row of `mpc.gen` with its `mpc.gencost` row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseGenerator {
    /// Bus id the generator is connected to.
    pub bus: u32,
    /// Active output of the stored operating point, MW.
    pub pg_mw: f64,
    /// Reactive output, MVAr.
    pub qg: f64,
    /// Reactive limits, MVAr.
    pub qmax: f64,
    pub qmin: f64,
    /// Voltage set point, pu.
    pub vg: f64,
    /// Machine MVA base.
    pub mbase: f64,
    pub in_service: bool,
    pub pmax_mw: f64,
    pub pmin_mw: f64,
    /// Ramp rate for load following / AGC, MW/min (column 17), if given.
    pub ramp_agc: Option<f64>,
    /// 10-minute reserve ramp, MW (column 18), if given.
    pub ramp_10: Option<f64>,
    /// 30-minute reserve ramp, MW (column 19), if given.
    pub ramp_30: Option<f64>,
    pub cost: GeneratorCost,
}

/// A generator cost curve as MATPOWER writes it, in $/h of output in MW.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum GeneratorCost {
    /// Model 2: cost(P) = Σ c_k P^k; `coeffs` highest order first (…, c2, c1, c0).
    Polynomial {
        startup: f64,
        shutdown: f64,
        coeffs: Vec<f64>,
    },
    /// Model 1: piecewise linear through `points` (MW, $/h), MW increasing.
    PiecewiseLinear {
        startup: f64,
        shutdown: f64,
        points: Vec<(f64, f64)>,
    },
}

impl GeneratorCost {
    /// Cost in $/h at output `p_mw`.
    pub fn cost_at(&self, p_mw: f64) -> f64 {
        match self {
            GeneratorCost::Polynomial { coeffs, .. } => {
                coeffs.iter().fold(0.0, |acc, c| acc * p_mw + c)
            }
            GeneratorCost::PiecewiseLinear { points, .. } => piecewise(points, p_mw, false),
        }
    }

    /// Marginal cost in $/MWh at output `p_mw` (right derivative for piecewise curves).
    pub fn marginal_cost_at(&self, p_mw: f64) -> f64 {
        match self {
            GeneratorCost::Polynomial { coeffs, .. } => {
                let n = coeffs.len();
                let mut d = 0.0;
                for (i, c) in coeffs.iter().enumerate() {
                    let power = n - 1 - i;
                    if power >= 1 {
                        d = d * p_mw + c * power as f64;
                    }
                }
                d
            }
            GeneratorCost::PiecewiseLinear { points, .. } => piecewise(points, p_mw, true),
        }
    }
}

fn piecewise(points: &[(f64, f64)], p: f64, slope: bool) -> f64 {
    if points.len() < 2 {
        return if slope {
            0.0
        } else {
            points.first().map_or(0.0, |q| q.1)
        };
    }
    let k = points
        .windows(2)
        .position(|w| p < w[1].0)
        .unwrap_or(points.len() - 2);
    let (a, b) = (points[k], points[k + 1]);
    let s = if b.0 > a.0 {
        (b.1 - a.1) / (b.0 - a.0)
    } else {
        0.0
    };
    if slope { s } else { a.1 + s * (p - a.0) }
}

/// Why a case could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MatpowerError {
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "line {line}, column {column}: mpc.{table} row {row}: {field} = {text:?} is not a number"
    )]
    BadNumber {
        line: usize,
        column: usize,
        table: String,
        row: usize,
        field: String,
        text: String,
    },
    #[error(
        "line {line}: mpc.{table} row {row} has {found} columns, at least {expected} are required"
    )]
    RowTooShort {
        line: usize,
        table: &'static str,
        row: usize,
        expected: usize,
        found: usize,
    },
    #[error("line {line}: mpc.{table} row {row}: {field} = {value} breaks the rule: {rule}")]
    BadValue {
        line: usize,
        table: &'static str,
        row: usize,
        field: &'static str,
        value: f64,
        rule: &'static str,
    },
    #[error("the case has no mpc.{0} (required)")]
    MissingTable(&'static str),
    #[error(
        "line {line}: mpc.gencost has {found} rows but mpc.gen has {generators} (need at least as many)"
    )]
    GencostRowCount {
        line: usize,
        found: usize,
        generators: usize,
    },
    #[error("line {line}: mpc.gen row {row}: bus {bus} does not exist in mpc.bus")]
    GeneratorUnknownBus { line: usize, row: usize, bus: u32 },
    #[error("the network is inconsistent:\n{}", format_problems(.0))]
    InvalidNetwork(Vec<(Option<usize>, NetworkError)>),
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
}

fn format_problems(problems: &[(Option<usize>, NetworkError)]) -> String {
    problems
        .iter()
        .map(|(line, e)| match line {
            Some(l) => format!("  line {l}: {e}"),
            None => format!("  {e}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests;
