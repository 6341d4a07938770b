//! Writing declaration records as CSV or E-files: one row per
//! declaration, interval and segment in layout order, numbers in shortest
//! round-trip form; E-files get one block per session.

use chrono::SecondsFormat;
use voltex_model::declaration::{DeclarationBody, DeclarationKind, OfferSegment};

use super::DeclarationRecord;
use super::layout::{EFILE_CLASS, columns, efile_entity, layout};
use crate::efile::{self, EBlock, EFile, Encoding};

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
    let width = layout(kind).columns.len();
    for r in records.iter().filter(|r| r.body.kind() == kind) {
        let head = |subject: &str| vec![r.session_id.clone(), r.member_id.clone(), subject.into()];
        match &r.body {
            DeclarationBody::EnergyOffer { unit_id, intervals } => push_intervals(
                &mut rows,
                head(unit_id),
                width,
                intervals.iter().map(|iv| (vec![], Some(&iv.segments[..]))),
            ),
            DeclarationBody::DemandBid {
                resource_id,
                intervals,
            } => push_intervals(
                &mut rows,
                head(resource_id.as_deref().unwrap_or("")),
                width,
                intervals
                    .iter()
                    .map(|iv| (vec![num(iv.quantity_mw)], Some(&iv.segments[..]))),
            ),
            DeclarationBody::FrequencyRegulationOffer { unit_id, intervals } => push_intervals(
                &mut rows,
                head(unit_id),
                width,
                intervals
                    .iter()
                    .map(|iv| (vec![num(iv.capacity_mw), num(iv.mileage_price)], None)),
            ),
            DeclarationBody::PeakRegulationOffer { unit_id, intervals } => push_intervals(
                &mut rows,
                head(unit_id),
                width,
                intervals
                    .iter()
                    .map(|iv| (vec![num(iv.capacity_mw), num(iv.price)], None)),
            ),
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

/// Appends the rows of one declaration's intervals, each given as the cells
/// after its number and, for kinds with segments, its segments: one row per
/// segment (`segment`, `quantity`, `price` after the interval's cells), or
/// the interval's row alone, padded to `width`, when it has none. No
/// intervals at all is one padded row holding only `head`.
fn push_intervals<'a>(
    rows: &mut Vec<Vec<String>>,
    head: Vec<String>,
    width: usize,
    intervals: impl ExactSizeIterator<Item = (Vec<String>, Option<&'a [OfferSegment]>)>,
) {
    let pad = |mut row: Vec<String>| {
        row.resize(width, String::new());
        row
    };
    if intervals.len() == 0 {
        rows.push(pad(head.clone()));
    }
    for (i, (cells, segments)) in intervals.enumerate() {
        let mut row = head.clone();
        row.push((i + 1).to_string());
        row.extend(cells);
        match segments {
            None => rows.push(row),
            Some([]) => rows.push(pad(row)),
            Some(segments) => {
                for (k, s) in segments.iter().enumerate() {
                    let mut row = row.clone();
                    row.extend([(k + 1).to_string(), num(s.quantity_mw), num(s.price)]);
                    rows.push(row);
                }
            }
        }
    }
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
