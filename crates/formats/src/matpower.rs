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

use std::path::Path;

use serde::{Deserialize, Serialize};
use voltex_model::network::{Branch, Bus, BusKind, Network, NetworkError};

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

/// One matrix row with where it came from.
#[derive(Debug)]
struct Row {
    line: usize,
    values: Vec<f64>,
}

#[derive(Debug)]
struct Matrix {
    line: usize,
    rows: Vec<Row>,
}

/// Read a case file from disk.
pub fn parse_case_file(path: impl AsRef<Path>) -> Result<MatpowerCase, MatpowerError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|e| MatpowerError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    let mut case = parse_case(&text)?;
    if case.network.name.is_empty() {
        case.network.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    Ok(case)
}

/// Strip a `%` comment that is not inside a quoted string.
fn strip_comment(line: &str) -> &str {
    let mut in_quote = false;
    for (i, c) in line.char_indices() {
        match c {
            '\'' | '"' => in_quote = !in_quote,
            '%' if !in_quote => return &line[..i],
            _ => {}
        }
    }
    line
}

fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let (sign, body) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    match body.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => return Some(sign * f64::INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    if body.is_empty() || !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    body.parse::<f64>().ok().map(|v| sign * v)
}

enum Mode {
    Top,
    Matrix {
        name: String,
        matrix: Matrix,
        current: Vec<f64>,
        row_line: usize,
    },
    Cell,
}

/// Parse the text of a MATPOWER case (format version 2).
pub fn parse_case(text: &str) -> Result<MatpowerCase, MatpowerError> {
    let mut name = String::new();
    let mut base_mva: Option<f64> = None;
    let mut tables: std::collections::HashMap<String, Matrix> = std::collections::HashMap::new();
    let mut mode = Mode::Top;

    for (line_index, raw) in text.lines().enumerate() {
        let line_no = line_index + 1;
        let line = strip_comment(raw);
        let mut rest: &str = line;
        let mut offset = 0usize; // byte offset of `rest` in `line`
        loop {
            match &mut mode {
                Mode::Cell => {
                    if let Some(pos) = rest.find('}') {
                        rest = &rest[pos + 1..];
                        offset += pos + 1;
                        mode = Mode::Top;
                        continue;
                    }
                    break;
                }
                Mode::Matrix {
                    name: table,
                    matrix,
                    current,
                    row_line,
                } => {
                    // Scan tokens until `]`, `;` or end of line.
                    let bytes = rest.as_bytes();
                    let mut i = 0;
                    let mut closed = false;
                    while i < bytes.len() {
                        let c = bytes[i] as char;
                        if c.is_whitespace() || c == ',' {
                            i += 1;
                            continue;
                        }
                        if c == ';' {
                            if !current.is_empty() {
                                matrix.rows.push(Row {
                                    line: *row_line,
                                    values: std::mem::take(current),
                                });
                            }
                            i += 1;
                            continue;
                        }
                        if c == ']' {
                            if !current.is_empty() {
                                matrix.rows.push(Row {
                                    line: *row_line,
                                    values: std::mem::take(current),
                                });
                            }
                            i += 1;
                            closed = true;
                            break;
                        }
                        if rest[i..].starts_with("...") {
                            // continuation: the row goes on next line
                            i = bytes.len();
                            break;
                        }
                        let start = i;
                        while i < bytes.len() {
                            let d = bytes[i] as char;
                            if d.is_whitespace() || d == ',' || d == ';' || d == ']' {
                                break;
                            }
                            i += 1;
                        }
                        let token = &rest[start..i];
                        let column = offset + start + 1;
                        let Some(v) = parse_number(token) else {
                            return Err(MatpowerError::BadNumber {
                                line: line_no,
                                column,
                                table: table.clone(),
                                row: matrix.rows.len() + 1,
                                field: format!("column {}", current.len() + 1),
                                text: token.to_string(),
                            });
                        };
                        if current.is_empty() {
                            *row_line = line_no;
                        }
                        current.push(v);
                    }
                    if closed {
                        let after = &rest[i..];
                        offset += i;
                        let table = std::mem::take(table);
                        let matrix = std::mem::replace(
                            matrix,
                            Matrix {
                                line: 0,
                                rows: vec![],
                            },
                        );
                        tables.insert(table, matrix);
                        mode = Mode::Top;
                        let trimmed = after.trim_start();
                        offset += after.len() - trimmed.len();
                        rest = trimmed.strip_prefix(';').unwrap_or(trimmed);
                        if rest.len() < trimmed.len() {
                            offset += 1;
                        }
                        continue;
                    }
                    // end of line ends a row (unless continued with ...)
                    let continued = rest.contains("...");
                    if !continued && !current.is_empty() {
                        matrix.rows.push(Row {
                            line: *row_line,
                            values: std::mem::take(current),
                        });
                    }
                    break;
                }
                Mode::Top => {
                    let trimmed = rest.trim_start();
                    offset += rest.len() - trimmed.len();
                    let stmt = trimmed.trim_end();
                    if stmt.is_empty() || stmt == ";" {
                        break;
                    }
                    if let Some(after) = stmt.strip_prefix("function") {
                        if let Some(eq) = after.find('=') {
                            name = after[eq + 1..]
                                .trim()
                                .trim_end_matches(';')
                                .trim()
                                .to_string();
                        } else {
                            name = after.trim().to_string();
                        }
                        break;
                    }
                    if matches!(stmt, "end" | "end;" | "return" | "return;") {
                        break;
                    }
                    let Some(body) = stmt.strip_prefix("mpc.") else {
                        return Err(MatpowerError::Syntax {
                            line: line_no,
                            column: offset + 1,
                            message: format!(
                                "expected `mpc.<field> = ...`, found {:?}",
                                truncate(stmt)
                            ),
                        });
                    };
                    let Some(eq) = body.find('=') else {
                        return Err(MatpowerError::Syntax {
                            line: line_no,
                            column: offset + 5,
                            message: "expected `=` after the field name".into(),
                        });
                    };
                    let field = body[..eq].trim();
                    if field.is_empty()
                        || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(MatpowerError::Syntax {
                            line: line_no,
                            column: offset + 5,
                            message: format!(
                                "unsupported assignment target mpc.{:?}",
                                truncate(field)
                            ),
                        });
                    }
                    let value_raw = &body[eq + 1..];
                    let value = value_raw.trim_start();
                    let value_offset = offset + 4 + eq + 1 + (value_raw.len() - value.len());
                    if let Some(after) = value.strip_prefix('[') {
                        mode = Mode::Matrix {
                            name: field.to_string(),
                            matrix: Matrix {
                                line: line_no,
                                rows: vec![],
                            },
                            current: vec![],
                            row_line: line_no,
                        };
                        rest = after;
                        offset = value_offset + 1;
                        continue;
                    }
                    if let Some(after) = value.strip_prefix('{') {
                        mode = Mode::Cell;
                        rest = after;
                        offset = value_offset + 1;
                        continue;
                    }
                    if value.starts_with('\'') || value.starts_with('"') {
                        break; // strings such as mpc.version are accepted as given
                    }
                    let number_text = value.trim_end().trim_end_matches(';');
                    let Some(v) = parse_number(number_text) else {
                        return Err(MatpowerError::Syntax {
                            line: line_no,
                            column: value_offset + 1,
                            message: format!(
                                "mpc.{field}: {:?} is not a number",
                                truncate(number_text)
                            ),
                        });
                    };
                    if field == "baseMVA" {
                        base_mva = Some(v);
                    }
                    break;
                }
            }
        }
    }
    if let Mode::Matrix {
        name: table,
        matrix,
        ..
    } = &mode
    {
        return Err(MatpowerError::Syntax {
            line: matrix.line,
            column: 1,
            message: format!("mpc.{table} opens `[` but the file ends before `]`"),
        });
    }
    if matches!(mode, Mode::Cell) {
        return Err(MatpowerError::Syntax {
            line: text.lines().count(),
            column: 1,
            message: "a cell array `{` is never closed".into(),
        });
    }

    let base_mva = base_mva.ok_or(MatpowerError::MissingTable("baseMVA"))?;
    let bus_m = tables
        .remove("bus")
        .ok_or(MatpowerError::MissingTable("bus"))?;
    let gen_m = tables
        .remove("gen")
        .ok_or(MatpowerError::MissingTable("gen"))?;
    let branch_m = tables
        .remove("branch")
        .ok_or(MatpowerError::MissingTable("branch"))?;
    let gencost_m = tables.remove("gencost");

    let buses = read_buses(&bus_m)?;
    let branches = read_branches(&branch_m)?;
    let bus_ids: std::collections::HashSet<u32> = buses.iter().map(|b| b.id).collect();
    let generators = read_generators(&gen_m, gencost_m.as_ref(), &bus_ids)?;

    let network = Network {
        name,
        base_mva,
        buses,
        branches,
        sections: vec![],
        tie_lines: vec![],
    };
    if let Err(errors) = network.validate() {
        let located = errors
            .into_iter()
            .map(|e| {
                let line = match &e {
                    NetworkError::UnknownBus { index, .. }
                    | NetworkError::SelfLoop { index, .. }
                    | NetworkError::BranchNotFinite { index, .. }
                    | NetworkError::NonPositiveReactance { index, .. }
                    | NetworkError::NegativeRating { index, .. }
                    | NetworkError::NegativeTapRatio { index, .. }
                    | NetworkError::AngleRangeInverted { index, .. } => {
                        branch_m.rows.get(*index).map(|r| r.line)
                    }
                    NetworkError::DuplicateBusId { again, .. } => {
                        bus_m.rows.get(*again).map(|r| r.line)
                    }
                    _ => None,
                };
                (line, e)
            })
            .collect();
        return Err(MatpowerError::InvalidNetwork(located));
    }
    Ok(MatpowerCase {
        network,
        generators,
    })
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn need(
    row: &Row,
    table: &'static str,
    index: usize,
    expected: usize,
) -> Result<(), MatpowerError> {
    if row.values.len() < expected {
        return Err(MatpowerError::RowTooShort {
            line: row.line,
            table,
            row: index + 1,
            expected,
            found: row.values.len(),
        });
    }
    Ok(())
}

fn integer(
    row: &Row,
    table: &'static str,
    index: usize,
    col: usize,
    field: &'static str,
) -> Result<u32, MatpowerError> {
    let v = row.values[col];
    if v.fract() != 0.0 || !(0.0..=u32::MAX as f64).contains(&v) {
        return Err(MatpowerError::BadValue {
            line: row.line,
            table,
            row: index + 1,
            field,
            value: v,
            rule: "must be a non-negative integer",
        });
    }
    Ok(v as u32)
}

fn read_buses(m: &Matrix) -> Result<Vec<Bus>, MatpowerError> {
    let mut out = Vec::with_capacity(m.rows.len());
    for (i, row) in m.rows.iter().enumerate() {
        need(row, "bus", i, 13)?;
        let v = &row.values;
        let code = integer(row, "bus", i, 1, "type")?;
        let kind = u8::try_from(code)
            .ok()
            .and_then(BusKind::from_matpower_code)
            .ok_or(MatpowerError::BadValue {
                line: row.line,
                table: "bus",
                row: i + 1,
                field: "type",
                value: v[1],
                rule: "bus type must be 1 (PQ), 2 (PV), 3 (reference) or 4 (isolated)",
            })?;
        out.push(Bus {
            id: integer(row, "bus", i, 0, "bus_i")?,
            kind,
            pd_mw: v[2],
            qd_mvar: v[3],
            gs_mw: v[4],
            bs_mvar: v[5],
            area: integer(row, "bus", i, 6, "area")?,
            vm_pu: v[7],
            va_deg: v[8],
            base_kv: v[9],
            zone: integer(row, "bus", i, 10, "zone")?,
            vmax_pu: v[11],
            vmin_pu: v[12],
        });
    }
    Ok(out)
}

fn read_branches(m: &Matrix) -> Result<Vec<Branch>, MatpowerError> {
    let mut out = Vec::with_capacity(m.rows.len());
    for (i, row) in m.rows.iter().enumerate() {
        need(row, "branch", i, 11)?;
        let v = &row.values;
        let status = integer(row, "branch", i, 10, "status")?;
        out.push(Branch {
            from_bus: integer(row, "branch", i, 0, "fbus")?,
            to_bus: integer(row, "branch", i, 1, "tbus")?,
            r_pu: v[2],
            x_pu: v[3],
            b_pu: v[4],
            rate_a_mw: v[5],
            rate_b_mw: v[6],
            rate_c_mw: v[7],
            tap_ratio: v[8],
            shift_deg: v[9],
            in_service: status != 0,
            angmin_deg: v.get(11).copied().unwrap_or(-360.0),
            angmax_deg: v.get(12).copied().unwrap_or(360.0),
        });
    }
    Ok(out)
}

fn read_generators(
    m: &Matrix,
    gencost: Option<&Matrix>,
    bus_ids: &std::collections::HashSet<u32>,
) -> Result<Vec<CaseGenerator>, MatpowerError> {
    if let Some(gc) = gencost
        && gc.rows.len() < m.rows.len()
    {
        return Err(MatpowerError::GencostRowCount {
            line: gc.line,
            found: gc.rows.len(),
            generators: m.rows.len(),
        });
    }
    let mut out = Vec::with_capacity(m.rows.len());
    for (i, row) in m.rows.iter().enumerate() {
        need(row, "gen", i, 10)?;
        let v = &row.values;
        let bus = integer(row, "gen", i, 0, "bus")?;
        if !bus_ids.contains(&bus) {
            return Err(MatpowerError::GeneratorUnknownBus {
                line: row.line,
                row: i + 1,
                bus,
            });
        }
        let status = v[7];
        let cost = match gencost {
            Some(gc) => read_cost(&gc.rows[i], i)?,
            None => GeneratorCost::Polynomial {
                startup: 0.0,
                shutdown: 0.0,
                coeffs: vec![],
            },
        };
        out.push(CaseGenerator {
            bus,
            pg_mw: v[1],
            qg: v[2],
            qmax: v[3],
            qmin: v[4],
            vg: v[5],
            mbase: v[6],
            in_service: status > 0.0,
            pmax_mw: v[8],
            pmin_mw: v[9],
            ramp_agc: v.get(16).copied(),
            ramp_10: v.get(17).copied(),
            ramp_30: v.get(18).copied(),
            cost,
        });
    }
    Ok(out)
}

fn read_cost(row: &Row, i: usize) -> Result<GeneratorCost, MatpowerError> {
    need(row, "gencost", i, 4)?;
    let v = &row.values;
    let n = integer(row, "gencost", i, 3, "n")? as usize;
    let model = if v[0] == 2.0 {
        2
    } else if v[0] == 1.0 {
        1
    } else {
        0
    };
    match model {
        2 => {
            need(row, "gencost", i, 4 + n)?;
            Ok(GeneratorCost::Polynomial {
                startup: v[1],
                shutdown: v[2],
                coeffs: v[4..4 + n].to_vec(),
            })
        }
        1 => {
            need(row, "gencost", i, 4 + 2 * n)?;
            let points: Vec<(f64, f64)> = v[4..4 + 2 * n].chunks(2).map(|c| (c[0], c[1])).collect();
            if points.windows(2).any(|w| w[1].0 < w[0].0) {
                return Err(MatpowerError::BadValue {
                    line: row.line,
                    table: "gencost",
                    row: i + 1,
                    field: "x",
                    value: v[4],
                    rule: "piecewise-linear cost points must have increasing MW",
                });
            }
            Ok(GeneratorCost::PiecewiseLinear {
                startup: v[1],
                shutdown: v[2],
                points,
            })
        }
        _ => Err(MatpowerError::BadValue {
            line: row.line,
            table: "gencost",
            row: i + 1,
            field: "model",
            value: v[0],
            rule: "cost model must be 1 (piecewise linear) or 2 (polynomial)",
        }),
    }
}

/// Write a case in MATPOWER format (version 2). Numbers are written in Rust's
/// shortest round-trip form, so `parse_case(&write_case(c))` gives `c` back.
pub fn write_case(case: &MatpowerCase) -> String {
    use std::fmt::Write;
    let n = &case.network;
    let mut s = String::new();
    let fname = if n.name.is_empty() { "case" } else { &n.name };
    let _ = writeln!(s, "function mpc = {fname}");
    let _ = writeln!(s, "mpc.version = '2';");
    let _ = writeln!(s, "mpc.baseMVA = {};", num(n.base_mva));
    let _ = writeln!(
        s,
        "\n%% bus data\n%\tbus_i\ttype\tPd\tQd\tGs\tBs\tarea\tVm\tVa\tbaseKV\tzone\tVmax\tVmin"
    );
    let _ = writeln!(s, "mpc.bus = [");
    for b in &n.buses {
        let _ = writeln!(
            s,
            "\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{};",
            b.id,
            b.kind.matpower_code(),
            num(b.pd_mw),
            num(b.qd_mvar),
            num(b.gs_mw),
            num(b.bs_mvar),
            b.area,
            num(b.vm_pu),
            num(b.va_deg),
            num(b.base_kv),
            b.zone,
            num(b.vmax_pu),
            num(b.vmin_pu)
        );
    }
    let _ = writeln!(s, "];\n\n%% generator data\nmpc.gen = [");
    for g in &case.generators {
        let mut cols = vec![
            g.bus.to_string(),
            num(g.pg_mw),
            num(g.qg),
            num(g.qmax),
            num(g.qmin),
            num(g.vg),
            num(g.mbase),
            if g.in_service { "1".into() } else { "0".into() },
            num(g.pmax_mw),
            num(g.pmin_mw),
        ];
        if g.ramp_agc.is_some() || g.ramp_10.is_some() || g.ramp_30.is_some() {
            cols.extend(std::iter::repeat_n("0".to_string(), 6));
            for r in [g.ramp_agc, g.ramp_10, g.ramp_30] {
                cols.push(num(r.unwrap_or(0.0)));
            }
        }
        let _ = writeln!(s, "\t{};", cols.join("\t"));
    }
    let _ = writeln!(s, "];\n\n%% branch data\nmpc.branch = [");
    for b in &n.branches {
        let _ = writeln!(
            s,
            "\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{};",
            b.from_bus,
            b.to_bus,
            num(b.r_pu),
            num(b.x_pu),
            num(b.b_pu),
            num(b.rate_a_mw),
            num(b.rate_b_mw),
            num(b.rate_c_mw),
            num(b.tap_ratio),
            num(b.shift_deg),
            u8::from(b.in_service),
            num(b.angmin_deg),
            num(b.angmax_deg)
        );
    }
    let _ = writeln!(s, "];\n\n%% generator cost data\nmpc.gencost = [");
    for g in &case.generators {
        let row = match &g.cost {
            GeneratorCost::Polynomial {
                startup,
                shutdown,
                coeffs,
            } => {
                let mut r = vec![
                    "2".to_string(),
                    num(*startup),
                    num(*shutdown),
                    coeffs.len().to_string(),
                ];
                r.extend(coeffs.iter().map(|c| num(*c)));
                r
            }
            GeneratorCost::PiecewiseLinear {
                startup,
                shutdown,
                points,
            } => {
                let mut r = vec![
                    "1".to_string(),
                    num(*startup),
                    num(*shutdown),
                    points.len().to_string(),
                ];
                for (x, y) in points {
                    r.push(num(*x));
                    r.push(num(*y));
                }
                r
            }
        };
        let _ = writeln!(s, "\t{};", row.join("\t"));
    }
    let _ = writeln!(s, "];");
    s
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = "function mpc = tiny
mpc.version = '2';
mpc.baseMVA = 100;
mpc.bus = [
\t1\t3\t0\t0\t0\t0\t1\t1\t0\t230\t1\t1.1\t0.9;
\t2\t1\t50\t10\t0\t0\t1\t1\t0\t230\t1\t1.1\t0.9; % load bus
];
mpc.gen = [1 0 0 10 -10 1 100 1 80 5];
mpc.branch = [
\t1, 2, 0.01, 0.1, 0, 60, 0, 0, 0, 0, 1, -30, 30
];
mpc.bus_name = {
\t'one';
\t'two';
};
mpc.gencost = [
\t2\t0\t0\t3\t0.01\t20\t0;
];
";

    #[test]
    fn reads_a_minimal_case_with_comments_commas_and_cell_arrays() {
        let c = parse_case(TINY).unwrap();
        assert_eq!(c.network.name, "tiny");
        assert_eq!(c.network.buses.len(), 2);
        assert_eq!(c.network.buses[0].kind, BusKind::Reference);
        assert_eq!(c.network.branches[0].rate_a_mw, 60.0);
        assert_eq!(c.generators[0].pmax_mw, 80.0);
        assert_eq!(c.generators[0].ramp_agc, None);
        assert_eq!(
            c.generators[0].cost,
            GeneratorCost::Polynomial {
                startup: 0.0,
                shutdown: 0.0,
                coeffs: vec![0.01, 20.0, 0.0]
            }
        );
        assert!((c.generators[0].cost.marginal_cost_at(10.0) - 20.2).abs() < 1e-12);
    }

    #[test]
    fn bad_number_points_at_line_and_column() {
        let text = TINY.replace("0.01, 0.1", "0.01, 0.x1");
        match parse_case(&text).unwrap_err() {
            MatpowerError::BadNumber {
                line,
                column,
                table,
                ..
            } => {
                assert_eq!(line, 10);
                assert_eq!(column, 14);
                assert_eq!(table, "branch");
            }
            e => panic!("unexpected {e}"),
        }
    }

    #[test]
    fn unknown_bus_in_branch_is_reported_with_its_line() {
        let text = TINY.replace("\t1, 2, 0.01", "\t1, 7, 0.01");
        let err = parse_case(&text).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("line 10: branch 0 (1->7): to bus 7 does not exist"),
            "{msg}"
        );
    }

    #[test]
    fn unclosed_matrix_is_a_syntax_error() {
        let text = TINY.replace("];\nmpc.bus_name", "\nmpc.bus_name");
        assert!(matches!(
            parse_case(&text),
            Err(MatpowerError::Syntax { .. }) | Err(MatpowerError::BadNumber { .. })
        ));
    }

    #[test]
    fn missing_gen_table_is_named() {
        let text = TINY.replace("mpc.gen = [1 0 0 10 -10 1 100 1 80 5];", "");
        assert_eq!(
            parse_case(&text).unwrap_err(),
            MatpowerError::MissingTable("gen")
        );
    }

    #[test]
    fn written_case_reads_back_identically() {
        let c = parse_case(TINY).unwrap();
        assert_eq!(parse_case(&write_case(&c)).unwrap(), c);
    }

    #[test]
    fn piecewise_cost_evaluates_between_points() {
        let c = GeneratorCost::PiecewiseLinear {
            startup: 0.0,
            shutdown: 0.0,
            points: vec![(0.0, 0.0), (10.0, 100.0), (20.0, 300.0)],
        };
        assert_eq!(c.cost_at(15.0), 200.0);
        assert_eq!(c.marginal_cost_at(15.0), 20.0);
        assert_eq!(c.marginal_cost_at(5.0), 10.0);
    }
}
