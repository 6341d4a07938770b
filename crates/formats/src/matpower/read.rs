//! Reading MATPOWER case text: comments, numbers (`Inf`, `NaN`), the
//! `mpc.*` statements and matrices, then one reader per matrix (`bus`,
//! `branch`, `gen` with `gencost`) and the network's own validation, every
//! error with its line. Only `parse_case_file` touches the file system.

use std::path::Path;

use voltex_model::network::{Branch, Bus, BusKind, Network, NetworkError};

use super::{CaseGenerator, GeneratorCost, MatpowerCase, MatpowerError};

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
                        // Bytes, not chars: a UTF-8 continuation byte such
                        // as 0xA0 must not pass for whitespace and cut a
                        // character in two.
                        let c = bytes[i] as char;
                        if bytes[i].is_ascii_whitespace() || c == ',' {
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
                            let d = bytes[i];
                            if d.is_ascii_whitespace() || matches!(d, b',' | b';' | b']') {
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
