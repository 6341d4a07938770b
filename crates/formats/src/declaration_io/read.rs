//! Reading declaration files (CSV or E-file) back into records: columns
//! mapped by name, every cell parsed and checked for presence, rows grouped
//! by declaration and ordered by interval and segment, with the line of the
//! first error. Structure and number syntax only; the market judges the
//! declarations.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use voltex_model::declaration::{
    DailyExtras, DeclarationBody, DeclarationKind, DemandBidInterval, EnergyOfferInterval,
    OfferSegment, PeakRegulationInterval, RegulationInterval,
};

use super::layout::{EFILE_CLASS, Layout, efile_entity, layout};
use super::{DeclarationRecord, Error};
use crate::efile;

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
                        segments: segments(g, i + 1, rows, "quantity_mw")?,
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
                        segments: segments(g, i + 1, rows, "segment_quantity_mw")?,
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

/// The segments of interval `interval` of an offer or bid, in order, their
/// quantity read from `quantity_column` and their price from `price`.
fn segments<'a>(
    g: &Group<'a>,
    interval: usize,
    rows: Vec<&Parsed<'a>>,
    quantity_column: &str,
) -> Result<Vec<OfferSegment>, Error> {
    Ok(by_segment(g, interval, rows)?
        .into_iter()
        .map(|p| OfferSegment {
            quantity_mw: p.num(quantity_column),
            price: p.num("price"),
        })
        .collect())
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
