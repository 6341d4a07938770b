//! Declarations by category, to and from CSV and E-files.
//!
//! One file holds one category (`DeclarationKind`) in a long ("tidy")
//! layout: one row per declaration, interval and segment. Intervals and
//! segments count from 1 in files (index 0 of `intervals` is interval 1).
//! The columns, in the order written (a reader accepts them in any order,
//! names compared without regard to ASCII case or surrounding blanks):
//!
//! | kind | columns |
//! | --- | --- |
//! | `energy_offer` | `session_id, member_id, unit_id, interval, segment, quantity_mw, price` |
//! | `demand_bid` | `session_id, member_id, resource_id, interval, quantity_mw, segment, segment_quantity_mw, price` |
//! | `frequency_regulation_offer` | `session_id, member_id, unit_id, interval, capacity_mw, mileage_price` |
//! | `peak_regulation_offer` | `session_id, member_id, unit_id, interval, capacity_mw, price` |
//! | `daily_extras` | `session_id, member_id, unit_id, expected_grid_connection, max_generating_capacity_mw, heat_supply_flow_t_per_h, emergency_min_mw` |
//!
//! - Rows of one declaration share `session_id`, `member_id` and the subject
//!   (`unit_id`, or `resource_id` for demand bids) and may come in any order
//!   and interleave with other declarations; declarations are returned in the
//!   order of their first row, intervals and segments sorted.
//! - Intervals run 1..=N and segments 1..=K within an interval, without gaps
//!   or repeats.
//! - An empty `interval` (with every column after it empty) is a declaration
//!   with no intervals, and must be its only row. An empty `segment` (with
//!   `quantity_mw`/`price` of an offer, or `segment_quantity_mw`/`price` of a
//!   bid, empty) is an interval with no segments, and must be its interval's
//!   only row.
//! - A demand bid's `quantity_mw` is the interval's total and is repeated on
//!   each segment row of the interval; the repeats must agree. An empty
//!   `resource_id` is a member-level bid (`resource_id: None`).
//! - Daily extras: one row per unit; `expected_grid_connection` is an RFC 3339
//!   timestamp (written in UTC, e.g. `2026-11-22T08:00:00Z`);
//!   `expected_grid_connection`, `heat_supply_flow_t_per_h` and
//!   `emergency_min_mw` may be empty (`None`).
//! - Numbers are written with Rust's shortest round-trip formatting, so they
//!   read back bit for bit; a reader accepts what `f64::from_str` accepts
//!   (`12.5`, `-3`, `1e3`) and refuses `12,5`, non-finite values and blanks
//!   where a number is required.
//!
//! CSV files (RFC 4180, UTF-8) start with a header row of the column names.
//! E-files carry a header `<! System=Voltex Version=1.0 Type=<kind>
//! Code=<encoding> !>` and one `<Declaration::<Kind> session='...'>` block per
//! session (`Kind` in CamelCase, e.g. `EnergyOffer`) whose `@` row holds the
//! same columns as the CSV layout. A reader checks `Type` if present, reads
//! every `Declaration` block (each of the expected kind, and every row's
//! `session_id` equal to the block's `session` attribute when it has one), and
//! skips blocks of other classes.
//!
//! Only structure and number syntax are checked here: whether a declaration
//! obeys the market's rules is for `voltex-market` to say. A reader returns
//! every declaration or an error naming the line — never part of a file.
//! docs/declaration-files.md describes the layouts for market members.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use voltex_model::declaration::{
    DailyExtras, DeclarationBody, DeclarationKind, DemandBidInterval, EnergyOfferInterval,
    OfferSegment, PeakRegulationInterval, RegulationInterval,
};

use crate::efile::{self, EBlock, EFile, EFileError, Encoding};

/// A declaration as imported or exported: who submitted it, for which
/// session, and what it says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclarationRecord {
    pub member_id: String,
    pub session_id: String,
    pub body: DeclarationBody,
}

/// Why a declaration file could not be read. Lines count from 1; `column`
/// names the column of the layout (or, for a quote, the character position).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeclarationFileError {
    #[error("the file is empty: a header row naming the columns is required ({expected})")]
    NoHeader { expected: String },
    #[error("line {line}: column {column} is missing (the {kind} columns are {expected})")]
    MissingColumn {
        line: usize,
        column: String,
        kind: DeclarationKind,
        expected: String,
    },
    #[error("line {line}: unexpected column {column:?} (the {kind} columns are {expected})")]
    UnexpectedColumn {
        line: usize,
        column: String,
        kind: DeclarationKind,
        expected: String,
    },
    #[error("line {line}: column {column} appears twice in the header")]
    DuplicateColumn { line: usize, column: String },
    #[error("line {line}: the row has {found} fields but the header has {expected}")]
    RowWidth {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("line {line}, column {column}: the quote opened here is never closed")]
    UnterminatedQuote { line: usize, column: usize },
    #[error("line {line}, column {column}: {text:?} is not a number")]
    BadNumber {
        line: usize,
        column: String,
        text: String,
    },
    #[error("line {line}, column {column}: {text:?} is not a finite number")]
    NotFinite {
        line: usize,
        column: String,
        text: String,
    },
    #[error("line {line}, column {column}: {text:?} is not a whole number from 1 up")]
    BadIndex {
        line: usize,
        column: String,
        text: String,
    },
    #[error(
        "line {line}, column {column}: {text:?} is not an RFC 3339 timestamp such as 2026-11-22T08:00:00Z"
    )]
    BadTimestamp {
        line: usize,
        column: String,
        text: String,
    },
    #[error("line {line}, column {column}: a value is required")]
    MissingValue { line: usize, column: String },
    #[error("line {line}, column {column}: {rule}")]
    Inconsistent {
        line: usize,
        column: String,
        rule: String,
    },
    #[error(
        "line {line}: interval {interval} of {declaration} is missing (intervals run from 1 without gaps)"
    )]
    MissingInterval {
        line: usize,
        declaration: String,
        interval: usize,
    },
    #[error(
        "line {line}: segment {segment} of interval {interval} of {declaration} is missing (segments run from 1 without gaps)"
    )]
    MissingSegment {
        line: usize,
        declaration: String,
        interval: usize,
        segment: usize,
    },
    #[error("line {line}: a second row for {what} of {declaration}")]
    DuplicateRow {
        line: usize,
        declaration: String,
        what: String,
    },
    #[error("the file holds {found} declarations, not {expected} (header Type={found})")]
    WrongKind {
        expected: DeclarationKind,
        found: String,
    },
    #[error("line {line}: block <{tag}> does not belong here (expected <Declaration::{expected}>)")]
    WrongBlock {
        line: usize,
        tag: String,
        expected: &'static str,
    },
    #[error(
        "line {line}, column session_id: {found:?} differs from the block's session='{attribute}'"
    )]
    SessionMismatch {
        line: usize,
        attribute: String,
        found: String,
    },
    #[error("line {line}: {message}")]
    Csv { line: usize, message: String },
    #[error(transparent)]
    EFile(#[from] EFileError),
}

type Error = DeclarationFileError;

/// What one category's file looks like.
#[derive(Debug)]
struct Layout {
    kind: DeclarationKind,
    columns: &'static [&'static str],
    /// `unit_id`, or `resource_id` (optional) for demand bids.
    subject: &'static str,
    /// Whether rows carry `interval` (all but daily extras) and `segment`.
    intervals: bool,
    segments: bool,
    /// Required when `interval` is given, empty when it is not.
    interval_numbers: &'static [&'static str],
    /// Required when `segment` is given, empty when it is not.
    segment_numbers: &'static [&'static str],
    /// Required on every row (daily extras).
    row_numbers: &'static [&'static str],
    /// Optional on every row (daily extras).
    optional_numbers: &'static [&'static str],
}

const ENERGY_OFFER: Layout = Layout {
    kind: DeclarationKind::EnergyOffer,
    columns: &[
        "session_id",
        "member_id",
        "unit_id",
        "interval",
        "segment",
        "quantity_mw",
        "price",
    ],
    subject: "unit_id",
    intervals: true,
    segments: true,
    interval_numbers: &[],
    segment_numbers: &["quantity_mw", "price"],
    row_numbers: &[],
    optional_numbers: &[],
};

const DEMAND_BID: Layout = Layout {
    kind: DeclarationKind::DemandBid,
    columns: &[
        "session_id",
        "member_id",
        "resource_id",
        "interval",
        "quantity_mw",
        "segment",
        "segment_quantity_mw",
        "price",
    ],
    subject: "resource_id",
    intervals: true,
    segments: true,
    interval_numbers: &["quantity_mw"],
    segment_numbers: &["segment_quantity_mw", "price"],
    row_numbers: &[],
    optional_numbers: &[],
};

const FREQUENCY_REGULATION_OFFER: Layout = Layout {
    kind: DeclarationKind::FrequencyRegulationOffer,
    columns: &[
        "session_id",
        "member_id",
        "unit_id",
        "interval",
        "capacity_mw",
        "mileage_price",
    ],
    subject: "unit_id",
    intervals: true,
    segments: false,
    interval_numbers: &["capacity_mw", "mileage_price"],
    segment_numbers: &[],
    row_numbers: &[],
    optional_numbers: &[],
};

const PEAK_REGULATION_OFFER: Layout = Layout {
    kind: DeclarationKind::PeakRegulationOffer,
    columns: &[
        "session_id",
        "member_id",
        "unit_id",
        "interval",
        "capacity_mw",
        "price",
    ],
    subject: "unit_id",
    intervals: true,
    segments: false,
    interval_numbers: &["capacity_mw", "price"],
    segment_numbers: &[],
    row_numbers: &[],
    optional_numbers: &[],
};

const DAILY_EXTRAS: Layout = Layout {
    kind: DeclarationKind::DailyExtras,
    columns: &[
        "session_id",
        "member_id",
        "unit_id",
        "expected_grid_connection",
        "max_generating_capacity_mw",
        "heat_supply_flow_t_per_h",
        "emergency_min_mw",
    ],
    subject: "unit_id",
    intervals: false,
    segments: false,
    interval_numbers: &[],
    segment_numbers: &[],
    row_numbers: &["max_generating_capacity_mw"],
    optional_numbers: &["heat_supply_flow_t_per_h", "emergency_min_mw"],
};

fn layout(kind: DeclarationKind) -> &'static Layout {
    match kind {
        DeclarationKind::EnergyOffer => &ENERGY_OFFER,
        DeclarationKind::DemandBid => &DEMAND_BID,
        DeclarationKind::FrequencyRegulationOffer => &FREQUENCY_REGULATION_OFFER,
        DeclarationKind::PeakRegulationOffer => &PEAK_REGULATION_OFFER,
        DeclarationKind::DailyExtras => &DAILY_EXTRAS,
    }
}

/// The columns of `kind`'s files, in the order they are written.
pub fn columns(kind: DeclarationKind) -> &'static [&'static str] {
    layout(kind).columns
}

/// The entity of `kind`'s E-file blocks: `<Declaration::EnergyOffer>` etc.
pub fn efile_entity(kind: DeclarationKind) -> &'static str {
    match kind {
        DeclarationKind::EnergyOffer => "EnergyOffer",
        DeclarationKind::DemandBid => "DemandBid",
        DeclarationKind::FrequencyRegulationOffer => "FrequencyRegulationOffer",
        DeclarationKind::PeakRegulationOffer => "PeakRegulationOffer",
        DeclarationKind::DailyExtras => "DailyExtras",
    }
}

/// The class of declaration blocks in E-files.
pub const EFILE_CLASS: &str = "Declaration";

// ----------------------------------------------------------------- writing

fn num(v: f64) -> String {
    format!("{v}")
}

fn opt_num(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

/// The rows of `records` of `kind` in layout order; records of other kinds
/// are left out.
fn rows_of(kind: DeclarationKind, records: &[DeclarationRecord]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for r in records.iter().filter(|r| r.body.kind() == kind) {
        let head = |subject: &str| vec![r.session_id.clone(), r.member_id.clone(), subject.into()];
        let width = layout(kind).columns.len();
        let pad = |mut row: Vec<String>| {
            row.resize(width, String::new());
            row
        };
        match &r.body {
            DeclarationBody::EnergyOffer { unit_id, intervals } => {
                if intervals.is_empty() {
                    rows.push(pad(head(unit_id)));
                }
                for (i, iv) in intervals.iter().enumerate() {
                    let mut row = head(unit_id);
                    row.push((i + 1).to_string());
                    if iv.segments.is_empty() {
                        rows.push(pad(row.clone()));
                    }
                    for (k, s) in iv.segments.iter().enumerate() {
                        let mut row = row.clone();
                        row.extend([(k + 1).to_string(), num(s.quantity_mw), num(s.price)]);
                        rows.push(row);
                    }
                }
            }
            DeclarationBody::DemandBid {
                resource_id,
                intervals,
            } => {
                let subject = resource_id.as_deref().unwrap_or("");
                if intervals.is_empty() {
                    rows.push(pad(head(subject)));
                }
                for (i, iv) in intervals.iter().enumerate() {
                    let mut row = head(subject);
                    row.extend([(i + 1).to_string(), num(iv.quantity_mw)]);
                    if iv.segments.is_empty() {
                        rows.push(pad(row.clone()));
                    }
                    for (k, s) in iv.segments.iter().enumerate() {
                        let mut row = row.clone();
                        row.extend([(k + 1).to_string(), num(s.quantity_mw), num(s.price)]);
                        rows.push(row);
                    }
                }
            }
            DeclarationBody::FrequencyRegulationOffer { unit_id, intervals } => {
                if intervals.is_empty() {
                    rows.push(pad(head(unit_id)));
                }
                for (i, iv) in intervals.iter().enumerate() {
                    let mut row = head(unit_id);
                    row.extend([
                        (i + 1).to_string(),
                        num(iv.capacity_mw),
                        num(iv.mileage_price),
                    ]);
                    rows.push(row);
                }
            }
            DeclarationBody::PeakRegulationOffer { unit_id, intervals } => {
                if intervals.is_empty() {
                    rows.push(pad(head(unit_id)));
                }
                for (i, iv) in intervals.iter().enumerate() {
                    let mut row = head(unit_id);
                    row.extend([(i + 1).to_string(), num(iv.capacity_mw), num(iv.price)]);
                    rows.push(row);
                }
            }
            DeclarationBody::DailyExtras(x) => {
                let mut row = head(&x.unit_id);
                row.extend([
                    x.expected_grid_connection
                        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
                        .unwrap_or_default(),
                    num(x.max_generating_capacity_mw),
                    opt_num(x.heat_supply_flow_t_per_h),
                    opt_num(x.emergency_min_mw),
                ]);
                rows.push(row);
            }
        }
    }
    rows
}

/// Writes the `kind` declarations among `records` as CSV (header row
/// first, `\n` line ends); records of other kinds are left out, so one mixed
/// list can be split into one file per category. Two records with the same
/// session, member and subject would read back as one declaration.
pub fn write_csv(kind: DeclarationKind, records: &[DeclarationRecord]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail, and every row has the header's width.
    let _ = w.write_record(columns(kind));
    for row in rows_of(kind, records) {
        let _ = w.write_record(&row);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Writes the `kind` declarations among `records` as an E-file in
/// `encoding`, one block per session in order of first appearance (so
/// `read_efile` returns the declarations grouped by session). Records of
/// other kinds are left out. Characters GBK cannot encode are written as
/// `&#N;` references (see `efile::write`).
pub fn write_efile(
    kind: DeclarationKind,
    records: &[DeclarationRecord],
    encoding: Encoding,
) -> Vec<u8> {
    let mut blocks: Vec<EBlock> = Vec::new();
    for row in rows_of(kind, records) {
        let session = &row[0];
        let i = match blocks.iter().position(|b| b.attributes[0].1 == *session) {
            Some(i) => i,
            None => {
                blocks.push(EBlock {
                    class: EFILE_CLASS.into(),
                    entity: efile_entity(kind).into(),
                    attributes: vec![("session".into(), session.clone())],
                    columns: columns(kind).iter().map(|c| c.to_string()).collect(),
                    rows: Vec::new(),
                });
                blocks.len() - 1
            }
        };
        blocks[i].rows.push(row);
    }
    let file = EFile {
        header: vec![
            ("System".into(), "Voltex".into()),
            ("Version".into(), "1.0".into()),
            ("Type".into(), kind.as_str().into()),
            ("Code".into(), encoding.as_str().into()),
        ],
        blocks,
    };
    efile::write(&file, encoding)
}

// ----------------------------------------------------------------- reading

/// A row of the file with its cells in layout order.
#[derive(Debug)]
struct Row {
    line: usize,
    cells: Vec<String>,
}

/// Maps the layout's columns to their positions among `names`.
fn column_map(layout: &Layout, names: &[String], line: usize) -> Result<Vec<usize>, Error> {
    let expected = || layout.columns.join(",");
    let mut map = vec![usize::MAX; layout.columns.len()];
    for (pos, name) in names.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        let Some(i) = layout
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
        else {
            return Err(Error::UnexpectedColumn {
                line,
                column: name.to_string(),
                kind: layout.kind,
                expected: expected(),
            });
        };
        if map[i] != usize::MAX {
            return Err(Error::DuplicateColumn {
                line,
                column: layout.columns[i].to_string(),
            });
        }
        map[i] = pos;
    }
    if let Some(i) = map.iter().position(|&p| p == usize::MAX) {
        return Err(Error::MissingColumn {
            line,
            column: layout.columns[i].to_string(),
            kind: layout.kind,
            expected: expected(),
        });
    }
    Ok(map)
}

fn reorder(map: &[usize], cells: &[String]) -> Vec<String> {
    map.iter().map(|&p| cells[p].clone()).collect()
}

/// Reads `kind` declarations from CSV text (see the module doc for the
/// layout). The header row is required; errors name the line.
pub fn read_csv(kind: DeclarationKind, text: &str) -> Result<Vec<DeclarationRecord>, Error> {
    let layout = layout(kind);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_csv_quotes(text)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut map: Option<Vec<usize>> = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::Csv {
            line: e.position().map_or(0, |p| p.line() as usize),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        match &map {
            None => map = Some(column_map(layout, &cells, line)?),
            Some(m) => {
                if cells.len() != m.len() {
                    return Err(Error::RowWidth {
                        line,
                        expected: m.len(),
                        found: cells.len(),
                    });
                }
                rows.push(Row {
                    line,
                    cells: reorder(m, &cells),
                });
            }
        }
    }
    if map.is_none() {
        return Err(Error::NoHeader {
            expected: layout.columns.join(","),
        });
    }
    decode(layout, &rows)
}

/// The `csv` crate reads an unclosed quote to the end of the file; refuse
/// it instead, naming where the quote opened.
fn check_csv_quotes(text: &str) -> Result<(), Error> {
    let (mut line, mut column) = (1, 0);
    let mut field_start = true;
    let mut open: Option<(usize, usize)> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        column += 1;
        if open.is_some() {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    column += 1;
                }
                '"' => open = None,
                '\n' => (line, column) = (line + 1, 0),
                _ => {}
            }
            continue;
        }
        match c {
            '"' if field_start => {
                open = Some((line, column));
                field_start = false;
            }
            ',' | '\r' => field_start = true,
            '\n' => {
                (line, column) = (line + 1, 0);
                field_start = true;
            }
            _ => field_start = false,
        }
    }
    match open {
        Some((line, column)) => Err(Error::UnterminatedQuote { line, column }),
        None => Ok(()),
    }
}

/// Reads `kind` declarations from an E-file (UTF-8 or GBK; see the module
/// doc and `efile`).
pub fn read_efile(kind: DeclarationKind, bytes: &[u8]) -> Result<Vec<DeclarationRecord>, Error> {
    let layout = layout(kind);
    let (file, lines) = efile::parse_located(bytes)?;
    if let Some(found) = file.header_value("Type")
        && !found.trim().eq_ignore_ascii_case(kind.as_str())
    {
        return Err(Error::WrongKind {
            expected: kind,
            found: found.to_string(),
        });
    }
    let mut rows = Vec::new();
    for (block, at) in file.blocks.iter().zip(&lines) {
        if block.class != EFILE_CLASS {
            continue;
        }
        if block.entity != efile_entity(kind) {
            return Err(Error::WrongBlock {
                line: at.open,
                tag: block.tag(),
                expected: efile_entity(kind),
            });
        }
        let map = column_map(layout, &block.columns, at.columns)?;
        let session = block.attribute("session");
        for (cells, &line) in block.rows.iter().zip(&at.rows) {
            let cells = reorder(&map, cells);
            if let Some(attribute) = session
                && cells[0] != attribute
            {
                return Err(Error::SessionMismatch {
                    line,
                    attribute: attribute.to_string(),
                    found: cells[0].clone(),
                });
            }
            rows.push(Row { line, cells });
        }
    }
    decode(layout, &rows)
}

/// A row with its cells checked and parsed.
#[derive(Debug)]
struct Parsed<'a> {
    line: usize,
    session: &'a str,
    member: &'a str,
    subject: &'a str,
    interval: Option<usize>,
    segment: Option<usize>,
    timestamp: Option<DateTime<Utc>>,
    /// By layout column; `None` for empty cells and non-number columns.
    numbers: Vec<Option<f64>>,
    layout: &'static Layout,
}

impl Parsed<'_> {
    fn num(&self, column: &str) -> f64 {
        self.opt(column).unwrap_or_default()
    }

    fn opt(&self, column: &str) -> Option<f64> {
        let i = self.layout.columns.iter().position(|c| *c == column)?;
        self.numbers[i]
    }
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn parse_row<'a>(layout: &'static Layout, row: &'a Row) -> Result<Parsed<'a>, Error> {
    let line = row.line;
    let col = |name: &str| layout.columns.iter().position(|c| *c == name);
    let cell = |name: &str| col(name).map_or("", |i| row.cells[i].as_str());
    let required = |name: &str| {
        let text = cell(name);
        if is_blank(text) {
            Err(Error::MissingValue {
                line,
                column: name.into(),
            })
        } else {
            Ok(text)
        }
    };
    let index = |name: &str| -> Result<Option<usize>, Error> {
        let text = cell(name).trim();
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(Error::BadIndex {
                line,
                column: name.into(),
                text: text.into(),
            }),
        }
    };
    let session = required("session_id")?;
    let member = required("member_id")?;
    let subject = if layout.kind == DeclarationKind::DemandBid {
        cell(layout.subject)
    } else {
        required(layout.subject)?
    };
    let interval = if layout.intervals {
        index("interval")?
    } else {
        None
    };
    let segment = if layout.segments {
        index("segment")?
    } else {
        None
    };
    let numeric: Vec<&str> = [
        layout.interval_numbers,
        layout.segment_numbers,
        layout.row_numbers,
        layout.optional_numbers,
    ]
    .concat();
    let mut numbers = vec![None; layout.columns.len()];
    for (i, name) in layout.columns.iter().enumerate() {
        if !numeric.contains(name) {
            continue;
        }
        let text = row.cells[i].trim();
        if text.is_empty() {
            continue;
        }
        let v: f64 = text.parse().map_err(|_| Error::BadNumber {
            line,
            column: (*name).into(),
            text: text.into(),
        })?;
        if !v.is_finite() {
            return Err(Error::NotFinite {
                line,
                column: (*name).into(),
                text: text.into(),
            });
        }
        numbers[i] = Some(v);
    }
    let timestamp = if layout.kind == DeclarationKind::DailyExtras {
        let name = "expected_grid_connection";
        let text = cell(name).trim();
        if text.is_empty() {
            None
        } else {
            let t = DateTime::parse_from_rfc3339(text).map_err(|_| Error::BadTimestamp {
                line,
                column: name.into(),
                text: text.into(),
            })?;
            Some(t.with_timezone(&Utc))
        }
    } else {
        None
    };
    let parsed = Parsed {
        line,
        session,
        member,
        subject,
        interval,
        segment,
        timestamp,
        numbers,
        layout,
    };
    check_presence(&parsed, row)?;
    Ok(parsed)
}

/// Which cells must be filled or empty given `interval` and `segment`.
fn check_presence(p: &Parsed<'_>, row: &Row) -> Result<(), Error> {
    let layout = p.layout;
    let filled = |name: &str| {
        layout
            .columns
            .iter()
            .position(|c| *c == name)
            .is_some_and(|i| !is_blank(&row.cells[i]))
    };
    let must_be_empty = |names: &[&str], why: &str| match names.iter().find(|n| filled(n)) {
        Some(n) => Err(Error::Inconsistent {
            line: p.line,
            column: (*n).into(),
            rule: format!("must be empty when {why} is empty"),
        }),
        None => Ok(()),
    };
    let must_be_filled = |names: &[&str]| match names.iter().find(|n| !filled(n)) {
        Some(n) => Err(Error::MissingValue {
            line: p.line,
            column: (*n).into(),
        }),
        None => Ok(()),
    };
    must_be_filled(layout.row_numbers)?;
    if !layout.intervals {
        return Ok(());
    }
    if p.interval.is_none() {
        let mut after: Vec<&str> = Vec::new();
        if layout.segments {
            after.push("segment");
        }
        after.extend(layout.interval_numbers);
        after.extend(layout.segment_numbers);
        return must_be_empty(&after, "interval");
    }
    must_be_filled(layout.interval_numbers)?;
    if !layout.segments {
        return Ok(());
    }
    if p.segment.is_none() {
        must_be_empty(layout.segment_numbers, "segment")
    } else {
        must_be_filled(layout.segment_numbers)
    }
}

/// Rows of one declaration, in file order.
#[derive(Debug)]
struct Group<'a> {
    rows: Vec<Parsed<'a>>,
}

impl Group<'_> {
    fn first(&self) -> &Parsed<'_> {
        &self.rows[0]
    }

    /// `session:kind:subject`, as `DeclarationBody::key` writes it.
    fn name(&self) -> String {
        let p = self.first();
        let subject = if p.subject.trim().is_empty() {
            p.member
        } else {
            p.subject
        };
        format!("{}:{}:{}", p.session, p.layout.kind, subject)
    }
}

fn decode(layout: &'static Layout, rows: &[Row]) -> Result<Vec<DeclarationRecord>, Error> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut index: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for row in rows {
        let p = parse_row(layout, row)?;
        let subject = if layout.kind == DeclarationKind::DemandBid {
            p.subject.trim()
        } else {
            p.subject
        };
        let key = (p.session, p.member, subject);
        match index.get(&key) {
            Some(&g) => groups[g].rows.push(p),
            None => {
                index.insert(key, groups.len());
                groups.push(Group { rows: vec![p] });
            }
        }
    }
    groups.iter().map(|g| decode_group(layout, g)).collect()
}

fn decode_group(layout: &Layout, g: &Group<'_>) -> Result<DeclarationRecord, Error> {
    let first = g.first();
    let subject = first.subject.to_string();
    let body = match layout.kind {
        DeclarationKind::EnergyOffer => DeclarationBody::EnergyOffer {
            unit_id: subject,
            intervals: by_interval(g)?
                .into_iter()
                .enumerate()
                .map(|(i, rows)| {
                    Ok(EnergyOfferInterval {
                        segments: by_segment(g, i + 1, rows)?
                            .into_iter()
                            .map(|p| OfferSegment {
                                quantity_mw: p.num("quantity_mw"),
                                price: p.num("price"),
                            })
                            .collect(),
                    })
                })
                .collect::<Result<_, Error>>()?,
        },
        DeclarationKind::DemandBid => DeclarationBody::DemandBid {
            resource_id: (!is_blank(&subject)).then_some(subject),
            intervals: by_interval(g)?
                .into_iter()
                .enumerate()
                .map(|(i, rows)| {
                    let quantity_mw = rows[0].num("quantity_mw");
                    if let Some(other) = rows.iter().find(|p| p.num("quantity_mw") != quantity_mw) {
                        return Err(Error::Inconsistent {
                            line: other.line,
                            column: "quantity_mw".into(),
                            rule: format!(
                                "differs from the quantity_mw of interval {} on line {}",
                                i + 1,
                                rows[0].line
                            ),
                        });
                    }
                    Ok(DemandBidInterval {
                        quantity_mw,
                        segments: by_segment(g, i + 1, rows)?
                            .into_iter()
                            .map(|p| OfferSegment {
                                quantity_mw: p.num("segment_quantity_mw"),
                                price: p.num("price"),
                            })
                            .collect(),
                    })
                })
                .collect::<Result<_, Error>>()?,
        },
        DeclarationKind::FrequencyRegulationOffer => DeclarationBody::FrequencyRegulationOffer {
            unit_id: subject,
            intervals: single_rows(g)?
                .into_iter()
                .map(|p| RegulationInterval {
                    capacity_mw: p.num("capacity_mw"),
                    mileage_price: p.num("mileage_price"),
                })
                .collect(),
        },
        DeclarationKind::PeakRegulationOffer => DeclarationBody::PeakRegulationOffer {
            unit_id: subject,
            intervals: single_rows(g)?
                .into_iter()
                .map(|p| PeakRegulationInterval {
                    capacity_mw: p.num("capacity_mw"),
                    price: p.num("price"),
                })
                .collect(),
        },
        DeclarationKind::DailyExtras => {
            if let Some(second) = g.rows.get(1) {
                return Err(Error::DuplicateRow {
                    line: second.line,
                    declaration: g.name(),
                    what: format!("unit {}", first.subject),
                });
            }
            DeclarationBody::DailyExtras(DailyExtras {
                unit_id: subject,
                expected_grid_connection: first.timestamp,
                max_generating_capacity_mw: first.num("max_generating_capacity_mw"),
                heat_supply_flow_t_per_h: first.opt("heat_supply_flow_t_per_h"),
                emergency_min_mw: first.opt("emergency_min_mw"),
            })
        }
    };
    Ok(DeclarationRecord {
        member_id: first.member.to_string(),
        session_id: first.session.to_string(),
        body,
    })
}

/// The group's rows by interval, intervals 1..=N without gaps; empty for a
/// declaration written as one row with an empty interval.
fn by_interval<'g, 'a>(g: &'g Group<'a>) -> Result<Vec<Vec<&'g Parsed<'a>>>, Error> {
    if let Some(p) = g.rows.iter().find(|p| p.interval.is_none()) {
        if g.rows.len() > 1 {
            return Err(Error::Inconsistent {
                line: p.line,
                column: "interval".into(),
                rule: format!(
                    "an empty interval stands for a declaration without intervals and must be the only row of {}",
                    g.name()
                ),
            });
        }
        return Ok(Vec::new());
    }
    let mut map: BTreeMap<usize, Vec<&Parsed<'_>>> = BTreeMap::new();
    for p in &g.rows {
        map.entry(p.interval.unwrap_or_default())
            .or_default()
            .push(p);
    }
    let mut out = Vec::with_capacity(map.len());
    for (expected, (interval, rows)) in (1..).zip(map) {
        if interval != expected {
            return Err(Error::MissingInterval {
                line: rows[0].line,
                declaration: g.name(),
                interval: expected,
            });
        }
        out.push(rows);
    }
    Ok(out)
}

/// One row per interval (regulation offers).
fn single_rows<'g, 'a>(g: &'g Group<'a>) -> Result<Vec<&'g Parsed<'a>>, Error> {
    by_interval(g)?
        .into_iter()
        .enumerate()
        .map(|(i, rows)| match rows.get(1) {
            Some(second) => Err(Error::DuplicateRow {
                line: second.line,
                declaration: g.name(),
                what: format!("interval {}", i + 1),
            }),
            None => Ok(rows[0]),
        })
        .collect()
}

/// An interval's rows by segment, 1..=K without gaps or repeats; empty for an
/// interval written as one row with an empty segment.
fn by_segment<'g, 'a>(
    g: &Group<'a>,
    interval: usize,
    rows: Vec<&'g Parsed<'a>>,
) -> Result<Vec<&'g Parsed<'a>>, Error> {
    if let Some(p) = rows.iter().find(|p| p.segment.is_none()) {
        if rows.len() > 1 {
            return Err(Error::Inconsistent {
                line: p.line,
                column: "segment".into(),
                rule: format!(
                    "an empty segment stands for interval {interval} without segments and must be its only row"
                ),
            });
        }
        return Ok(Vec::new());
    }
    let mut map: BTreeMap<usize, Vec<&Parsed<'_>>> = BTreeMap::new();
    for p in rows {
        map.entry(p.segment.unwrap_or_default())
            .or_default()
            .push(p);
    }
    let mut out = Vec::with_capacity(map.len());
    for (expected, (segment, rows)) in (1..).zip(map) {
        if let Some(second) = rows.get(1) {
            return Err(Error::DuplicateRow {
                line: second.line,
                declaration: g.name(),
                what: format!("interval {interval}, segment {segment}"),
            });
        }
        if segment != expected {
            return Err(Error::MissingSegment {
                line: rows[0].line,
                declaration: g.name(),
                interval,
                segment: expected,
            });
        }
        out.push(rows[0]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(member: &str, unit: &str, intervals: Vec<Vec<(f64, f64)>>) -> DeclarationRecord {
        DeclarationRecord {
            member_id: member.into(),
            session_id: "DA-2026-11-22".into(),
            body: DeclarationBody::EnergyOffer {
                unit_id: unit.into(),
                intervals: intervals
                    .into_iter()
                    .map(|segs| EnergyOfferInterval {
                        segments: segs
                            .into_iter()
                            .map(|(quantity_mw, price)| OfferSegment { quantity_mw, price })
                            .collect(),
                    })
                    .collect(),
            },
        }
    }

    const OFFERS: &str = "\
session_id,member_id,unit_id,interval,segment,quantity_mw,price
DA,gen1,u1,2,1,50,310
DA,gen1,u1,1,2,30,320.5
DA,gen1,u1,1,1,50,300
";

    #[test]
    fn energy_offer_csv_is_written_one_row_per_interval_and_segment() {
        let r = offer(
            "gen1",
            "u1",
            vec![vec![(50.0, 300.0), (30.0, 320.5)], vec![]],
        );
        assert_eq!(
            write_csv(DeclarationKind::EnergyOffer, &[r]),
            "session_id,member_id,unit_id,interval,segment,quantity_mw,price\n\
             DA-2026-11-22,gen1,u1,1,1,50,300\n\
             DA-2026-11-22,gen1,u1,1,2,30,320.5\n\
             DA-2026-11-22,gen1,u1,2,,,\n"
        );
    }

    #[test]
    fn rows_in_any_order_are_sorted_by_interval_and_segment() {
        let got = read_csv(DeclarationKind::EnergyOffer, OFFERS).unwrap();
        let mut want = offer(
            "gen1",
            "u1",
            vec![vec![(50.0, 300.0), (30.0, 320.5)], vec![(50.0, 310.0)]],
        );
        want.session_id = "DA".into();
        assert_eq!(got, [want]);
    }

    #[test]
    fn columns_may_come_in_any_order_and_case() {
        let text = "PRICE, quantity_mw ,segment,interval,unit_id,member_id,session_id\n300,50,1,1,u1,gen1,DA\n";
        let got = read_csv(DeclarationKind::EnergyOffer, text).unwrap();
        assert_eq!(got[0].body.interval_len(), 1);
    }

    #[test]
    fn bad_number_names_line_column_and_text() {
        let text = OFFERS.replace("320.5", "\"12,5\"");
        let e = read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"line 3, column price: "12,5" is not a number"#
        );
    }

    #[test]
    fn non_finite_numbers_are_refused() {
        let text = OFFERS.replace("310", "inf");
        assert!(matches!(
            read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
            Error::NotFinite { line: 2, .. }
        ));
    }

    #[test]
    fn missing_and_unexpected_columns_are_named() {
        let text = OFFERS.replace(",price", "");
        assert!(matches!(
            read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
            Error::MissingColumn { line: 1, ref column, .. } if column == "price"
        ));
        let text = OFFERS.replace(",price", ",prize");
        assert!(matches!(
            read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
            Error::UnexpectedColumn { line: 1, ref column, .. } if column == "prize"
        ));
        assert!(matches!(
            read_csv(DeclarationKind::EnergyOffer, "").unwrap_err(),
            Error::NoHeader { .. }
        ));
    }

    #[test]
    fn gap_in_intervals_names_the_missing_interval_and_the_line_after_it() {
        let text = OFFERS.replace("DA,gen1,u1,2,1", "DA,gen1,u1,3,1");
        assert_eq!(
            read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
            Error::MissingInterval {
                line: 2,
                declaration: "DA:energy_offer:u1".into(),
                interval: 2
            }
        );
    }

    #[test]
    fn gap_and_repeat_in_segments_are_refused() {
        let text = OFFERS.replace("1,2,30", "1,3,30");
        assert!(matches!(
            read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
            Error::MissingSegment {
                line: 3,
                interval: 1,
                segment: 2,
                ..
            }
        ));
        let text = OFFERS.replace("1,2,30", "1,1,30");
        assert!(matches!(
            read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
            Error::DuplicateRow { line: 4, .. }
        ));
    }

    #[test]
    fn row_width_and_unterminated_quote_name_the_line() {
        let text = OFFERS.replace("DA,gen1,u1,1,2,30,320.5", "DA,gen1,u1,1,2,30");
        assert_eq!(
            read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
            Error::RowWidth {
                line: 3,
                expected: 7,
                found: 6
            }
        );
        let text = OFFERS.replace("DA,gen1,u1,1,2", "DA,\"gen1,u1,1,2");
        assert_eq!(
            read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
            Error::UnterminatedQuote { line: 3, column: 4 }
        );
    }

    #[test]
    fn empty_segment_beside_other_segments_is_inconsistent() {
        let text = OFFERS.replace("DA,gen1,u1,1,2,30,320.5", "DA,gen1,u1,1,,,");
        assert!(matches!(
            read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
            Error::Inconsistent { line: 3, ref column, .. } if column == "segment"
        ));
        let text = OFFERS.replace("DA,gen1,u1,1,2,30,320.5", "DA,gen1,u1,1,,30,");
        assert!(matches!(
            read_csv(DeclarationKind::EnergyOffer, &text).unwrap_err(),
            Error::Inconsistent { line: 3, ref column, .. } if column == "quantity_mw"
        ));
    }

    #[test]
    fn demand_bid_quantity_must_agree_across_segment_rows() {
        let text = "session_id,member_id,resource_id,interval,quantity_mw,segment,segment_quantity_mw,price\n\
                    DA,ret1,,1,10,1,6,400\n\
                    DA,ret1,,1,11,2,4,300\n";
        assert!(matches!(
            read_csv(DeclarationKind::DemandBid, text).unwrap_err(),
            Error::Inconsistent { line: 3, ref column, .. } if column == "quantity_mw"
        ));
    }

    #[test]
    fn efile_declares_kind_and_encoding_and_groups_sessions_into_blocks() {
        let mut b = offer("华能", "u1", vec![vec![(1.0, 2.0)]]);
        b.session_id = "DA-2026-11-23".into();
        let records = [offer("华能", "u1", vec![vec![(1.0, 2.0)]]), b];
        let bytes = write_efile(DeclarationKind::EnergyOffer, &records, Encoding::Gbk);
        let file = efile::parse(&bytes).unwrap();
        assert_eq!(file.header_value("Type"), Some("energy_offer"));
        assert_eq!(file.header_value("Code"), Some("GBK"));
        assert_eq!(file.blocks.len(), 2);
        assert_eq!(file.blocks[1].tag(), "Declaration::EnergyOffer");
        assert_eq!(file.blocks[1].attribute("session"), Some("DA-2026-11-23"));
        assert_eq!(
            read_efile(DeclarationKind::EnergyOffer, &bytes).unwrap(),
            records
        );
    }

    #[test]
    fn efile_of_another_kind_is_refused() {
        let bytes = write_efile(DeclarationKind::EnergyOffer, &[], Encoding::Utf8);
        assert!(matches!(
            read_efile(DeclarationKind::DemandBid, &bytes).unwrap_err(),
            Error::WrongKind { .. }
        ));
    }

    #[test]
    fn efile_row_whose_session_differs_from_its_block_is_refused() {
        let text = "<! Type=energy_offer !>\n<Declaration::EnergyOffer session=DA>\n\
                    @ session_id member_id unit_id interval segment quantity_mw price\n\
                    # DB gen1 u1 1 1 10 20\n</Declaration::EnergyOffer>\n";
        assert!(matches!(
            read_efile(DeclarationKind::EnergyOffer, text.as_bytes()).unwrap_err(),
            Error::SessionMismatch { line: 4, .. }
        ));
    }
}
